"""The script editor pane: line numbers, Python or JavaScript highlighting
(Pygments), syntax errors (and, for Python, pyflakes warnings) marked in the
margin and underlined, and a modified marker. The checks run off the GUI
thread; JavaScript's come from the engine's own compile step."""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass

from pygments.lexers import JavascriptLexer, PythonLexer
from pygments.token import Comment, Keyword, Name, Number, Operator, String, _TokenType
from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QPainter,
    QPaintEvent,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTextEdit, QToolTip, QVBoxLayout, QWidget

from console.gui.operations import Operations

#: The script API's globals: known to the checker, never "undefined".
SCRIPT_GLOBALS = ("tables", "config", "console")


@dataclass(frozen=True)
class Diagnostic:
    line: int
    column: int
    message: str
    error: bool


def check_source(source: str, language: str = "python") -> list[Diagnostic]:
    """Syntax errors, else pyflakes' warnings, for a job script. JavaScript:
    the engine's syntax error (V8's, as a run would see it)."""
    if language == "javascript":
        from console.core.jobs.js_syntax import javascript_syntax_error

        problem = javascript_syntax_error(source)
        if problem is None:
            return []
        return [Diagnostic(problem.line, 0, f"syntax error: {problem.message}", True)]
    try:
        tree = ast.parse(source, filename="<script>")
    except SyntaxError as e:
        return [Diagnostic(e.lineno or 1, (e.offset or 1) - 1, f"syntax error: {e.msg}", True)]
    from pyflakes.checker import Checker

    checker = Checker(tree, filename="<script>", builtins=[*dir(builtins), *SCRIPT_GLOBALS])
    found = [
        Diagnostic(m.lineno, getattr(m, "col", 0), m.message % m.message_args, False)
        for m in checker.messages
    ]
    return sorted(found, key=lambda d: (d.line, d.column))


def _styles() -> list[tuple[_TokenType, QTextCharFormat]]:
    def fmt(colour: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
        f = QTextCharFormat()
        f.setForeground(QColor(colour))
        if bold:
            f.setFontWeight(QFont.Weight.Bold)
        f.setFontItalic(italic)
        return f

    return [
        (Comment, fmt("#6a737d", italic=True)),
        (Keyword, fmt("#0033b3", bold=True)),
        (String, fmt("#067d17")),
        (Number, fmt("#1750eb")),
        (Name.Function, fmt("#00627a")),
        (Name.Class, fmt("#00627a", bold=True)),
        (Name.Builtin, fmt("#0033b3")),
        (Name.Decorator, fmt("#9e880d")),
        (Operator.Word, fmt("#0033b3", bold=True)),
    ]


class ScriptHighlighter(QSyntaxHighlighter):
    """Pygments' Python or JavaScript lexer, applied block by block."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._lexer: PythonLexer | JavascriptLexer = PythonLexer(stripnl=False, ensurenl=False)
        self._styles = _styles()
        self.language = "python"

    def set_language(self, language: str) -> None:
        if language == self.language:
            return
        self.language = language
        lexer = JavascriptLexer if language == "javascript" else PythonLexer
        self._lexer = lexer(stripnl=False, ensurenl=False)
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        if self.language == "javascript":
            self._highlight_javascript(text)
            return
        # A line inside a triple-quoted string keeps the string colour.
        inside = self.previousBlockState() == 1
        if inside:
            end = min((i for i in (text.find('"""'), text.find("'''")) if i >= 0), default=-1)
            string_format = self._styles[2][1]
            if end < 0:
                self.setFormat(0, len(text), string_format)
                self.setCurrentBlockState(1)
                return
            self.setFormat(0, end + 3, string_format)
            self.setCurrentBlockState(0)
            return
        self.setCurrentBlockState(0)
        for start, token, value in self._lexer.get_tokens_unprocessed(text):
            for kind, style in self._styles:
                if token in kind:
                    self.setFormat(start, len(value), style)
                    break
        if (text.count('"""') + text.count("'''")) % 2 == 1:
            self.setCurrentBlockState(1)

    def _highlight_javascript(self, text: str) -> None:
        # A line inside a /* block comment */ keeps the comment colour.
        comment = self._styles[0][1]
        offset = 0
        if self.previousBlockState() == 1:
            end = text.find("*/")
            if end < 0:
                self.setFormat(0, len(text), comment)
                self.setCurrentBlockState(1)
                return
            offset = end + 2
            self.setFormat(0, offset, comment)
        self.setCurrentBlockState(0)
        rest = text[offset:]
        for start, token, value in self._lexer.get_tokens_unprocessed(rest):
            for kind, style in self._styles:
                if token in kind:
                    self.setFormat(offset + start, len(value), style)
                    break
        opened = rest.rfind("/*")
        if opened >= 0 and rest.find("*/", opened + 2) < 0 and "//" not in rest[:opened]:
            self.setFormat(offset + opened, len(rest) - opened, comment)
            self.setCurrentBlockState(1)


class _LineNumbers(QWidget):
    def __init__(self, editor: CodeEditor) -> None:
        super().__init__(editor)
        self._editor = editor
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        return QSize(self._editor.margin_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._editor.paint_margin(event)

    def mouseMoveEvent(self, event: object) -> None:
        pos = event.position().toPoint()  # type: ignore[attr-defined]
        block = self._editor.cursorForPosition(pos).block()
        messages = [
            d.message for d in self._editor.diagnostics if d.line == block.blockNumber() + 1
        ]
        if messages:
            QToolTip.showText(event.globalPosition().toPoint(), "\n".join(messages), self)  # type: ignore[attr-defined]
        else:
            QToolTip.hideText()


class CodeEditor(QPlainTextEdit):
    """A Python editor with a line-number margin and diagnostics."""

    diagnostics_changed = Signal(list)
    modified_changed = Signal(bool)

    def __init__(self, tasks: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("editor")
        self._tasks = tasks
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(10)
        self.setFont(font)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 4)
        self.diagnostics: list[Diagnostic] = []
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
        self._update_margin_width()

    # -- content ---------------------------------------------------------

    def set_script(self, text: str, language: str = "python") -> None:
        """Load a saved script: not modified, checked at once."""
        self.language = language
        self._highlighter.set_language(language)
        self.setPlainText(text)
        self.document().setModified(False)
        self._check()

    def is_modified(self) -> bool:
        return self.document().isModified()

    def mark_saved(self) -> None:
        self.document().setModified(False)

    def keyPressEvent(self, event: object) -> None:
        key = event.key()  # type: ignore[attr-defined]
        if key == Qt.Key.Key_Tab:
            self.insertPlainText("    ")
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            line = self.textCursor().block().text()
            indent = line[: len(line) - len(line.lstrip())]
            if line.rstrip().endswith(":" if self.language == "python" else ("{", "(", "[")):
                indent += "    "
            super().keyPressEvent(event)  # type: ignore[arg-type]
            self.insertPlainText(indent)
            return
        super().keyPressEvent(event)  # type: ignore[arg-type]

    # -- diagnostics -----------------------------------------------------

    def _check(self) -> None:
        self._generation += 1
        generation, source, language = self._generation, self.toPlainText(), self.language

        def done(found: list[Diagnostic]) -> None:
            if generation == self._generation:  # drop a stale check
                self.show_diagnostics(found)

        self._tasks.submit(lambda: check_source(source, language), done, finish_on_close=False)

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
            underline.setUnderlineColor(QColor("#c42b1c" if d.error else "#d18f00"))
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
        self.setExtraSelections(selections)
        self._margin.update()
        self.diagnostics_changed.emit(found)

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
        painter.fillRect(event.rect(), QColor("#f5f5f5"))
        marks: dict[int, bool] = {}
        for d in self.diagnostics:
            marks[d.line] = marks.get(d.line, False) or d.error
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        while block.isValid() and top <= event.rect().bottom():
            number = block.blockNumber() + 1
            if block.isVisible():
                if number in marks:
                    painter.setBrush(QColor("#c42b1c" if marks[number] else "#d18f00"))
                    painter.setPen(Qt.PenStyle.NoPen)
                    painter.drawEllipse(4, top + height // 2 - 4, 8, 8)
                painter.setPen(QColor("#999999"))
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


class ScriptPane(QWidget):
    """The editor and, beneath it, its diagnostics in words."""

    def __init__(self, tasks: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.editor = CodeEditor(tasks, self)
        self.problems = QLabel(self)
        self.problems.setObjectName("fielderror")
        self.problems.setWordWrap(True)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.problems)
        self.editor.diagnostics_changed.connect(self._on_diagnostics)

    def _on_diagnostics(self, found: list[Diagnostic]) -> None:
        self.problems.setText(
            "\n".join(f"line {d.line}: {d.message}" for d in found[:5])
            + (f"\n… {len(found) - 5} more" if len(found) > 5 else "")
        )
