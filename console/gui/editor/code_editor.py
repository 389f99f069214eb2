"""The script editor: line numbers, highlighting, diagnostics marked in the
margin and underlined, the current line and matching brackets shown, the
editing keys (indent, outdent, auto-indent, toggle comment) and, through
`AssistUi`, completion, signature help and hover docs."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QFontDatabase,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QToolTip, QWidget

from console.gui import theme
from console.gui.editor import editing
from console.gui.editor.assist_client import AssistProcess, AssistUnavailable
from console.gui.editor.assist_ui import LANE, AssistUi
from console.gui.editor.diagnostics import Diagnostic, check_source
from console.gui.editor.highlight import ScriptHighlighter
from console.gui.operations import Op, Operations

_OPENERS = ("(", "[", "{")
#: Typing one of these asks for the call's parameters; `)` puts them away.
_SIGNATURE_KEYS = ("(", ",")


class _LineNumbers(QWidget):
    def __init__(self, editor: CodeEditor) -> None:
        super().__init__(editor)
        self._editor = editor
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        return QSize(self._editor.margin_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._editor.paint_margin(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        # A click in the margin sets or clears a breakpoint on that line (F5 debugs).
        block = self._editor.cursorForPosition(event.position().toPoint()).block()
        self._editor.toggle_breakpoint(block.blockNumber() + 1)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        block = self._editor.cursorForPosition(pos).block()
        messages = [
            d.message for d in self._editor.diagnostics if d.line == block.blockNumber() + 1
        ]
        if messages:
            QToolTip.showText(event.globalPosition().toPoint(), "\n".join(messages), self)
        else:
            QToolTip.hideText()


class CodeEditor(QPlainTextEdit):
    """A Python editor with a line-number margin and diagnostics."""

    diagnostics_changed = Signal(list)
    modified_changed = Signal(bool)

    def __init__(
        self,
        tasks: Operations,
        parent: QWidget | None = None,
        setting_names: Callable[[], list[str]] | None = None,
        helper: AssistProcess | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("editor")
        #: The pane's keys (find, go to line…): True when it took the key.
        self.command_key: Callable[[QKeyEvent], bool] = lambda _event: False
        self.assist = AssistUi(self, tasks, setting_names, helper)
        self._diagnostic_selections: list[QTextEdit.ExtraSelection] = []
        self.viewport().setMouseTracking(True)
        self._tasks = tasks
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(10)
        self.setFont(font)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 4)
        self.diagnostics: list[Diagnostic] = []
        #: Lines (from 1) where the debugger stops; set by clicking the margin.
        self.breakpoints: set[int] = set()
        #: The line the debugger is stopped at, marked until it moves on.
        self.debug_line: int | None = None
        self._margin = _LineNumbers(self)
        self._highlighter = ScriptHighlighter(self.document())
        self.language = "python"
        self._check_timer = QTimer(self, singleShot=True, interval=300)
        self._check_timer.timeout.connect(self._check)
        self._generation = 0
        self.blockCountChanged.connect(lambda _n: self._update_margin_width())
        self.updateRequest.connect(self._on_update_request)
        self.textChanged.connect(self._check_timer.start)
        self.document().modificationChanged.connect(self.modified_changed.emit)
        self.cursorPositionChanged.connect(self._show_selections)
        self._update_margin_width()
        self._show_selections()

    # -- content ---------------------------------------------------------

    def set_script(self, text: str, language: str = "python") -> None:
        """Load a saved script: not modified, checked at once."""
        self.language = language
        self.assist.language = language
        self._highlighter.set_language(language)
        self.setPlainText(text)
        self.document().setModified(False)
        self.breakpoints.clear()
        self.debug_line = None
        self.assist.warm_up()
        self._check()

    def is_modified(self) -> bool:
        return self.document().isModified()

    def mark_saved(self) -> None:
        self.document().setModified(False)

    def comment_marker(self) -> str:
        return "//" if self.language == "javascript" else "#"

    def event(self, event: QEvent) -> bool:
        # Escape closes the completion popup or the signature before the
        # window's own Escape (back) sees it.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
            and (self.assist.popup_visible() or self.assist.signature.isVisible())
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, assist = event.key(), self.assist
        if assist.popup_visible():
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab):
                assist.accept_current()
                return
            if key == Qt.Key.Key_Escape:
                assist.popup.hide()
                return
            if key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
                self._move_in_popup(key)
                return
        if key == Qt.Key.Key_Escape and assist.signature.isVisible():
            assist.hide_signature()
            return
        if self.command_key(event):
            return
        if key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):  # Tab indents here: Ctrl+Tab leaves the editor, as in Qt's text fields
            QWidget.focusNextPrevChild(self, key == Qt.Key.Key_Tab)  # not the editor's refusal
            return
        cursor = self.textCursor()
        multiline = cursor.hasSelection() and "\u2029" in cursor.selectedText()
        if key == Qt.Key.Key_Tab and not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            if multiline:
                editing.indent(cursor)
                self.setTextCursor(cursor)
            else:
                self.insertPlainText(" " * (4 - cursor.positionInBlock() % 4))
            return
        if key == Qt.Key.Key_Backtab:
            editing.outdent(cursor)
            self.setTextCursor(cursor)
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._new_line(event)
            return
        super().keyPressEvent(event)
        typed = event.text()
        if typed == ".":
            assist.complete()
        elif assist.popup_visible():
            assist.filter_popup()
        elif typed in ("'", '"') and self.textCursor().block().text().rstrip(typed).endswith(
            ("app_settings[", "appSettings[")
        ):
            assist.complete()
        if typed in _SIGNATURE_KEYS:
            assist.show_signature()
        elif typed == ")" or key == Qt.Key.Key_Escape:
            assist.hide_signature()

    def _move_in_popup(self, key: int) -> None:
        popup = self.assist.popup
        rows = popup.model().rowCount()
        step = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1, Qt.Key.Key_PageUp: -8}.get(key, 8)  # type: ignore[call-overload]
        row = max(0, min(rows - 1, popup.currentIndex().row() + step))
        popup.setCurrentIndex(popup.model().index(row, 0))

    def _new_line(self, event: QKeyEvent) -> None:
        """Keep the line's indent; one more after `:` or an open bracket."""
        line = self.textCursor().block().text()[: self.textCursor().positionInBlock()]
        indent = line[: len(line) - len(line.lstrip())]
        ends = line.rstrip()
        if ends.endswith(_OPENERS) or (self.language == "python" and ends.endswith(":")):
            indent += editing.INDENT
        super().keyPressEvent(event)
        self.insertPlainText(indent)

    def toggle_comment(self) -> None:
        cursor = self.textCursor()
        editing.toggle_comment(cursor, self.comment_marker())
        self.setTextCursor(cursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        if not event.buttons():
            self.assist.hovered(event.position().toPoint())

    # -- what is shown over the text -------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):  # a new theme
            self._show_selections()

    def _show_selections(self) -> None:
        """The current line, the bracket pair at the cursor and the
        diagnostics' underlines, as one set of extra selections."""
        line = QTextEdit.ExtraSelection()
        line.format.setBackground(theme.current().colour("current_line"))
        line.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        line.cursor = self.textCursor()
        line.cursor.clearSelection()
        selections = [line]
        if self.debug_line is not None:
            stopped = QTextEdit.ExtraSelection()
            stopped.format.setBackground(theme.current().colour("stopped_line"))
            stopped.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            stopped.cursor = QTextCursor(self.document().findBlockByNumber(self.debug_line - 1))
            selections.append(stopped)
        pair = editing.matching_bracket(self.document(), self.textCursor().position())
        if pair is not None:
            for at in pair:
                mark = QTextEdit.ExtraSelection()
                mark.format.setBackground(theme.current().colour("bracket"))
                mark.cursor = QTextCursor(self.document())
                mark.cursor.setPosition(at)
                mark.cursor.setPosition(at + 1, QTextCursor.MoveMode.KeepAnchor)
                selections.append(mark)
        self.setExtraSelections(selections + self._diagnostic_selections)

    # -- diagnostics -----------------------------------------------------

    def _check(self) -> None:
        self._generation += 1
        generation, source, language = self._generation, self.toPlainText(), self.language

        def current() -> bool:
            return generation == self._generation

        def done(found: list[Diagnostic]) -> None:
            if current():  # drop a stale check
                self.show_diagnostics(found)

        helper = self.assist.helper

        def work(_progress: object) -> list[Diagnostic]:
            # In the helper process: pyflakes here would take the GIL from
            # the GUI thread (200-350 ms stalls measured on 2,000 lines).
            try:
                return helper.check(source, language)
            except AssistUnavailable:
                return check_source(source, language)  # no helper: slower, never silent

        self._tasks.run(Op(work, done, wanted=current), lane=LANE)

    def show_diagnostics(self, found: list[Diagnostic]) -> None:
        self.diagnostics = found
        selections = []
        for d in found:
            block = self.document().findBlockByNumber(d.line - 1)
            if not block.isValid():
                continue
            selection = QTextEdit.ExtraSelection()
            underline = QTextCharFormat()
            underline.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            underline.setUnderlineColor(theme.current().colour("error" if d.error else "warning"))
            underline.setToolTip(d.message)
            selection.format = underline
            cursor = QTextCursor(block)
            start = min(d.column, max(0, block.length() - 2))
            cursor.setPosition(block.position() + start)
            cursor.movePosition(
                QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor
            )
            if not cursor.hasSelection():
                cursor.movePosition(
                    QTextCursor.MoveOperation.StartOfBlock, QTextCursor.MoveMode.KeepAnchor
                )
            selection.cursor = cursor
            selections.append(selection)
        self._diagnostic_selections = selections
        self._show_selections()
        self._margin.update()
        self.diagnostics_changed.emit(found)

    # -- the debugger's marks ---------------------------------------------

    def toggle_breakpoint(self, line: int) -> None:
        if 1 <= line <= self.blockCount():
            self.breakpoints ^= {line}
            self._margin.update()

    def show_debug_line(self, line: int) -> None:
        """Mark the line the debugger stopped at (0: it runs again) and show it."""
        self.debug_line = line or None
        if self.debug_line is not None:
            block = self.document().findBlockByNumber(self.debug_line - 1)
            if block.isValid():
                cursor = QTextCursor(block)
                self.setTextCursor(cursor)
                self.centerCursor()
        self._show_selections()
        self._margin.update()

    # -- the margin ------------------------------------------------------

    def margin_width(self) -> int:
        digits = len(str(max(1, self.blockCount())))
        return 18 + self.fontMetrics().horizontalAdvance("9") * max(3, digits)

    def _update_margin_width(self) -> None:
        self.setViewportMargins(self.margin_width(), 0, 0, 0)

    def _on_update_request(self, rect: QRect, dy: int) -> None:
        if dy:
            self._margin.scroll(0, dy)
        else:
            self._margin.update(0, rect.y(), self._margin.width(), rect.height())

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        rect = self.contentsRect()
        self._margin.setGeometry(QRect(rect.left(), rect.top(), self.margin_width(), rect.height()))

    def paint_margin(self, event: QPaintEvent) -> None:
        painter = QPainter(self._margin)
        palette = theme.current()
        painter.fillRect(event.rect(), palette.colour("gutter"))
        marks: dict[int, bool] = {}
        for d in self.diagnostics:
            marks[d.line] = marks.get(d.line, False) or d.error
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        while block.isValid() and top <= event.rect().bottom():
            number = block.blockNumber() + 1
            if block.isVisible():
                if number in self.breakpoints:
                    painter.setBrush(palette.colour("error"))
                    painter.setPen(palette.colour("on_accent"))
                    painter.drawEllipse(2, top + height // 2 - 6, 12, 12)
                elif number in marks:
                    painter.setBrush(palette.colour("error" if marks[number] else "warning"))
                    painter.setPen(Qt.PenStyle.NoPen)
                    painter.drawEllipse(4, top + height // 2 - 4, 8, 8)
                painter.setPen(palette.colour("gutter_text"))
                painter.drawText(
                    0,
                    top,
                    self._margin.width() - 4,
                    height,
                    Qt.AlignmentFlag.AlignRight,
                    str(number),
                )
            top += round(self.blockBoundingRect(block).height())
            block = block.next()
        painter.end()
