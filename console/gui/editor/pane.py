"""The Script tab's pane: the editor, its find / replace and go-to-line bars,
and the Problems list beneath (a click goes to the line)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from console.gui import theme
from console.gui.editor.assist_client import AssistProcess
from console.gui.editor.code_editor import CodeEditor
from console.gui.editor.diagnostics import Diagnostic
from console.gui.editor.find_bar import FindBar, GotoBar, go_to_line
from console.gui.editor.keys import Command, command_for, key_map
from console.gui.operations import Operations

_LINE = Qt.ItemDataRole.UserRole
_ERROR = Qt.ItemDataRole.UserRole + 1  # an error, or only a warning


class ScriptPane(QWidget):
    """The editor, its bars, and its diagnostics as a Problems list."""

    def __init__(
        self,
        tasks: Operations,
        parent: QWidget | None = None,
        setting_names: Callable[[], list[str]] | None = None,
        helper: AssistProcess | None = None,
    ) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.editor = CodeEditor(tasks, self, setting_names, helper)
        self.find_bar = FindBar(self.editor, self)
        self.goto_bar = GotoBar(self.editor, self)
        self.problems_title = QLabel("Problems", self)
        self.problems_title.setObjectName("problemstitle")
        self.problems = QListWidget(self)
        self.problems.setObjectName("problems")
        self.problems.setMaximumHeight(110)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.find_bar)
        layout.addWidget(self.goto_bar)
        layout.addWidget(self.problems_title)
        layout.addWidget(self.problems)
        self.problems_title.hide()
        self.problems.hide()
        self._keys = key_map()
        self.editor.command_key = self._on_command_key
        for field in (self.find_bar.find_text, self.find_bar.replace_text, self.goto_bar.line):
            field.installEventFilter(self)
        self.editor.diagnostics_changed.connect(self._on_diagnostics)
        self.problems.itemClicked.connect(self._on_problem_clicked)
        self.problems.itemActivated.connect(self._on_problem_clicked)

    def start_helper(self) -> None:
        """Start the editor's helper process (jedi) now, ahead of a script."""
        self.editor.assist.warm_up()

    def shutdown(self) -> None:
        """The window is closing: end the editor's helper process."""
        self.editor.assist.close()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The bars' fields take the editor's keys too (F3 in the find field),
        # and Escape before the window's own Escape (back) does.
        if isinstance(event, QKeyEvent):
            if event.type() == QEvent.Type.ShortcutOverride and (
                event.key() == Qt.Key.Key_Escape or command_for(event, self._keys)
            ):
                event.accept()
                return True
            if event.type() == QEvent.Type.KeyPress:
                if event.key() == Qt.Key.Key_Escape:
                    self.find_bar.hide()
                    self.goto_bar.hide()
                    self.editor.setFocus()
                    return True
                return self._on_command_key(event)
        return super().eventFilter(watched, event)

    def _on_command_key(self, event: QKeyEvent) -> bool:
        command = command_for(event, self._keys)
        if command is None:
            return False
        if command is Command.FIND:
            self.goto_bar.hide()
            self.find_bar.open(replacing=False)
        elif command is Command.REPLACE:
            self.goto_bar.hide()
            self.find_bar.open(replacing=True)
        elif command in (Command.FIND_NEXT, Command.FIND_PREVIOUS):
            if not self.find_bar.find_text.text():
                self.find_bar.open(replacing=False)
            else:
                self.find_bar.find_next(backward=command is Command.FIND_PREVIOUS)
        elif command is Command.GOTO_LINE:
            self.find_bar.hide()
            self.goto_bar.open()
        elif command is Command.TOGGLE_COMMENT:
            self.editor.toggle_comment()
        elif command is Command.COMPLETE:
            self.editor.setFocus()
            self.editor.assist.complete()
        return True

    def _on_diagnostics(self, found: list[Diagnostic]) -> None:
        self.problems.clear()
        for d in found:
            item = QListWidgetItem(f"line {d.line}: {d.message}")
            item.setData(_LINE, d.line)
            item.setData(_ERROR, d.error)
            self.problems.addItem(item)
        self._colour_problems()
        # As tall as its lines, up to five: one problem is one line, not a box.
        rows = min(5, max(1, len(found)))
        self.problems.setMaximumHeight(rows * self.problems.sizeHintForRow(0) + 6)
        self.problems_title.setText(f"Problems ({len(found)})")
        self.problems_title.setVisible(bool(found))
        self.problems.setVisible(bool(found))

    def _colour_problems(self) -> None:
        palette = theme.current()
        for row in range(self.problems.count()):
            item = self.problems.item(row)
            item.setForeground(palette.colour("error" if item.data(_ERROR) else "warning"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:  # the theme switched
            self._colour_problems()
        super().changeEvent(event)

    def _on_problem_clicked(self, item: QListWidgetItem) -> None:
        go_to_line(self.editor, int(item.data(_LINE)))
