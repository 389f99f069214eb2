"""The editor's side of completion, signature help and hover docs: asks the
editor's helper process (`AssistProcess`, jedi outside the window's
process) from the editor's own worker lane through the window's operations
(a keystroke never waits) and shows the newest answer; an answer overtaken
by a newer question, or by the cursor moving away, is dropped."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QPoint, QStringListModel, Qt, QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QAbstractItemView, QCompleter, QLabel, QPlainTextEdit, QToolTip

from console.gui.editor.assist import Completions, Request
from console.gui.editor.assist_client import AssistProcess
from console.gui.operations import Op, Operations

T = TypeVar("T")
#: One lane for every editor: one question at a time to its helper, in order.
LANE = "script-assist"


class AssistUi(QObject):
    """Completion popup, signature line and hover tooltip for one editor."""

    def __init__(
        self,
        editor: QPlainTextEdit,
        tasks: Operations,
        setting_names: Callable[[], list[str]] | None = None,
        helper: AssistProcess | None = None,
    ) -> None:
        super().__init__(editor)
        self._editor = editor
        self._tasks = tasks
        #: The helper process that answers (jedi, the diagnostics); given
        #: one, its giver ends it.
        self.helper = helper or AssistProcess()
        if helper is None:  # ours: ended with the editor, whatever deletes it
            editor.destroyed.connect(self.helper.close)
        self._setting_names = setting_names
        # Read on the lane only: once per script opened.
        self._names: tuple[str, ...] | None = None
        self._serials: dict[str, int] = {}
        self.language = "python"
        self.completer = QCompleter(self)
        self.completer.setModel(QStringListModel(self))
        self.completer.setWidget(editor)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setMaxVisibleItems(12)
        self.completer.activated[str].connect(self._on_completion_chosen)  # type: ignore[index]
        popup = self.completer.popup()
        assert popup is not None
        #: The completion list.
        self.popup: QAbstractItemView = popup
        popup.setObjectName("completions")
        self.signature = QLabel(editor.viewport())
        self.signature.setObjectName("signature")
        self.signature.setTextFormat(Qt.TextFormat.RichText)
        # Its colours, and the completion list's, come from the theme (theme.qss).
        self.signature.hide()
        self._anchor: tuple[int, int] = (-1, -1)  # where the completed word starts
        self._hover_at = QPoint()
        self._hover_timer = QTimer(self, singleShot=True, interval=400)
        self._hover_timer.timeout.connect(self._on_hover_due)

    # -- asking the lane -------------------------------------------------

    def _ask(self, kind: str, work: Callable[[Request], T], done: Callable[[T], None]) -> None:
        cursor = self._editor.textCursor()
        request = Request(
            self._editor.toPlainText(),
            cursor.blockNumber() + 1,
            cursor.positionInBlock(),
            self.language,
        )
        self._ask_at(kind, request, work, done)

    def _ask_at(
        self, kind: str, request: Request, work: Callable[[Request], T], done: Callable[[T], None]
    ) -> None:
        self._serials[kind] = serial = self._serials.get(kind, 0) + 1

        def current() -> bool:
            return self._serials.get(kind) == serial

        def deliver(result: T) -> None:
            if current():  # a newer question has been asked: drop this answer
                done(result)

        def run(_progress: Any) -> T:
            return work(self._with_names(request))

        self._tasks.run(Op(run, deliver, self._on_failed, wanted=current), lane=LANE)

    def _with_names(self, request: Request) -> Request:
        """The request with the console's app setting names."""
        if self._names is None:
            self._names = tuple(self._setting_names()) if self._setting_names else ()
        return Request(request.source, request.line, request.column, request.language, self._names)

    def _on_failed(self, error: Exception) -> None:
        pass  # no completion is no loss: the user types on

    def warm_up(self) -> None:
        """Start the helper now, when a script is opened or the Scheduler
        page shows (it loads jedi and the stub on its own), so the first
        completion the user asks for is quick."""
        self._tasks.run(Op(self._start_helper, failure=self._on_failed), lane=LANE)

    def _start_helper(self, _progress: Any) -> None:
        self._names = None  # a script opened: the settings may have changed
        self.helper.start()

    def close(self) -> None:
        """End the helper: the window is closing."""
        self.helper.close()

    # -- completion ------------------------------------------------------

    def complete(self) -> None:
        """Ask for completions at the cursor (after `.`, or Ctrl+Space)."""
        cursor = self._editor.textCursor()
        self._anchor = (cursor.blockNumber(), cursor.positionInBlock())
        self._ask("complete", self.helper.complete, self._on_completions)

    def _on_completions(self, found: Completions) -> None:
        cursor = self._editor.textCursor()
        line, column = self._anchor
        start = column - len(found.prefix)
        if cursor.blockNumber() != line or cursor.positionInBlock() < start:
            return  # the cursor has left the word asked about
        typed = cursor.block().text()[start : cursor.positionInBlock()]
        if not typed.replace("_", "a").isalnum() and typed:
            return
        names = list(dict.fromkeys(c.name for c in found.items))
        model = self.completer.model()
        assert isinstance(model, QStringListModel)
        model.setStringList(names)
        self.completer.setCompletionPrefix(typed)
        if not names or self.completer.completionCount() == 0:
            self.popup.hide()
            return
        self._show_popup()

    def _show_popup(self) -> None:
        rect = self._editor.cursorRect()
        popup = self.popup
        bar = popup.verticalScrollBar()
        rect.setWidth(popup.sizeHintForColumn(0) + (bar.sizeHint().width() if bar else 0))
        self.completer.complete(rect)
        popup.setCurrentIndex(self.completer.completionModel().index(0, 0))

    def popup_visible(self) -> bool:
        return self.popup.isVisible()

    def filter_popup(self) -> None:
        """After a keystroke with the popup open: narrow it to the word typed."""
        cursor = self._editor.textCursor()
        before = cursor.block().text()[: cursor.positionInBlock()]
        word = re.search(r"\w*$", before).group(0)  # type: ignore[union-attr]
        if cursor.blockNumber() != self._anchor[0] or (before and not word and before[-1] != "."):
            self.popup.hide()
            return
        self.completer.setCompletionPrefix(word)
        if self.completer.completionCount() == 0:
            self.popup.hide()
        else:
            self.popup.setCurrentIndex(self.completer.completionModel().index(0, 0))

    def accept_current(self) -> None:
        """Enter or Tab with the popup open: take the highlighted name."""
        index = self.popup.currentIndex()
        text = index.data() if index.isValid() else self.completer.currentCompletion()
        self.popup.hide()
        if text:
            self._on_completion_chosen(str(text))

    def _on_completion_chosen(self, text: str) -> None:
        cursor = self._editor.textCursor()
        typed = len(self.completer.completionPrefix())
        cursor.movePosition(
            QTextCursor.MoveOperation.Left,
            QTextCursor.MoveMode.KeepAnchor,
            min(typed, cursor.positionInBlock()),
        )
        cursor.insertText(text)
        self._editor.setTextCursor(cursor)

    # -- signature help --------------------------------------------------

    def show_signature(self) -> None:
        """Ask for the parameters of the call being typed."""
        self._ask("signature", self.helper.signature, self._on_signature)

    def _on_signature(self, text: str) -> None:
        if not text:
            self.signature.hide()
            return
        self.signature.setText(text)
        self.signature.adjustSize()
        rect = self._editor.cursorRect()
        y = rect.top() - self.signature.height() - 2
        self.signature.move(max(0, rect.left() - 20), y if y >= 0 else rect.bottom() + 2)
        self.signature.show()
        self.signature.raise_()

    def hide_signature(self) -> None:
        self.signature.hide()

    # -- hover -----------------------------------------------------------

    def hovered(self, at: QPoint) -> None:
        """The mouse rests at `at` (viewport coordinates): docs soon."""
        self._hover_at = at
        self._hover_timer.start()

    def _on_hover_due(self) -> None:
        cursor = self._editor.cursorForPosition(self._hover_at)
        request = Request(
            self._editor.toPlainText(),
            cursor.blockNumber() + 1,
            cursor.positionInBlock(),
            self.language,
        )
        at = self._editor.viewport().mapToGlobal(self._hover_at)
        self._ask_at("hover", request, self.helper.hover, lambda doc: self._on_hover(doc, at))

    def _on_hover(self, doc: str, at: QPoint) -> None:
        if doc:
            shown = doc if len(doc) < 1500 else doc[:1500] + "…"
            QToolTip.showText(at, shown, self._editor.viewport())
        else:
            QToolTip.hideText()
