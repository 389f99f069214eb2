"""The bars under the script editor: find and replace (match case, whole
word, regular expression) and go to line."""

from __future__ import annotations

import re

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QKeyEvent, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)


class FindBar(QWidget):
    """Find (and, opened for it, replace) in an editor."""

    closed = Signal()

    def __init__(self, editor: QPlainTextEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findbar")
        self._editor = editor
        self.find_text = QLineEdit(self, placeholderText="Find")
        self.replace_text = QLineEdit(self, placeholderText="Replace with")
        self.match_case = QCheckBox("Match case", self)
        self.whole_word = QCheckBox("Whole word", self)
        self.regex = QCheckBox("Regular expression", self)
        self.status = QLabel(self)
        self.replace_button = QPushButton("Replace", self)
        self.replace_all_button = QPushButton("Replace all", self)
        previous, following = QPushButton("Previous", self), QPushButton("Next", self)
        layout = QGridLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.find_text, 0, 0)
        layout.addWidget(previous, 0, 1)
        layout.addWidget(following, 0, 2)
        options = QHBoxLayout()
        for box in (self.match_case, self.whole_word, self.regex):
            options.addWidget(box)
        options.addWidget(self.status, 1)
        layout.addLayout(options, 0, 3)
        layout.addWidget(self.replace_text, 1, 0)
        layout.addWidget(self.replace_button, 1, 1)
        layout.addWidget(self.replace_all_button, 1, 2)
        previous.clicked.connect(lambda: self.find_next(backward=True))
        following.clicked.connect(lambda: self.find_next())
        self.replace_button.clicked.connect(self.replace)
        self.replace_all_button.clicked.connect(self.replace_all)
        self.find_text.returnPressed.connect(self.find_next)
        self.replace_text.returnPressed.connect(self.replace)
        self.find_text.textChanged.connect(lambda _t: self._find_from_selection_start())
        self.hide()

    def open(self, replacing: bool) -> None:
        """Show the bar, with the editor's selection as the text to find."""
        selected = self._editor.textCursor().selectedText()
        if selected and "\u2029" not in selected:
            self.find_text.setText(selected)
        for widget in (self.replace_text, self.replace_button, self.replace_all_button):
            widget.setVisible(replacing)
        self.show()
        self.find_text.setFocus()
        self.find_text.selectAll()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.hide()
            self._editor.setFocus()
            self.closed.emit()
            return
        super().keyPressEvent(event)

    # -- finding ---------------------------------------------------------

    def _flags(self, backward: bool = False) -> QTextDocument.FindFlag:
        flags = QTextDocument.FindFlag(0)
        if self.match_case.isChecked():
            flags |= QTextDocument.FindFlag.FindCaseSensitively
        if self.whole_word.isChecked():
            flags |= QTextDocument.FindFlag.FindWholeWords
        if backward:
            flags |= QTextDocument.FindFlag.FindBackward
        return flags

    def _pattern(self) -> str | QRegularExpression:
        text = self.find_text.text()
        if not self.regex.isChecked():
            return text
        expression = QRegularExpression(text)
        if not self.match_case.isChecked():
            expression.setPatternOptions(QRegularExpression.PatternOption.CaseInsensitiveOption)
        return expression

    def _search(self, start: QTextCursor, backward: bool) -> QTextCursor:
        pattern = self._pattern()
        if isinstance(pattern, QRegularExpression) and not pattern.isValid():
            self.status.setText(f"not a regular expression: {pattern.errorString()}")
            return QTextCursor()
        doc = self._editor.document()
        found = doc.find(pattern, start, self._flags(backward))
        if found.isNull():  # wrap around
            edge = QTextCursor(doc)
            if backward:
                edge.movePosition(QTextCursor.MoveOperation.End)
            found = doc.find(pattern, edge, self._flags(backward))
        return found

    def find_next(self, backward: bool = False) -> bool:
        """Select the next (previous) match; False, said in the bar, if none."""
        if not self.find_text.text():
            return False
        found = self._search(self._editor.textCursor(), backward)
        if found.isNull():
            if not self.status.text().startswith("not a regular"):
                self.status.setText("not found")
            return False
        self.status.setText("")
        self._editor.setTextCursor(found)
        return True

    def _find_from_selection_start(self) -> None:
        cursor = self._editor.textCursor()
        cursor.setPosition(cursor.selectionStart())
        self._editor.setTextCursor(cursor)
        self.find_next()

    def _replacement(self, matched: str) -> str:
        if not self.regex.isChecked():
            return self.replace_text.text()
        flags = 0 if self.match_case.isChecked() else re.IGNORECASE
        # Qt's \1 and Python's \1 agree; Python's re does the substitution.
        return re.sub(
            self.find_text.text(), self.replace_text.text(), matched, count=1, flags=flags
        )

    def replace(self) -> None:
        """Replace the selected match, then find the next one."""
        cursor = self._editor.textCursor()
        if cursor.hasSelection():
            probe = QTextCursor(self._editor.document())
            probe.setPosition(cursor.selectionStart())
            found = self._editor.document().find(self._pattern(), probe, self._flags())
            same = (found.selectionStart(), found.selectionEnd())
            if not found.isNull() and same == (cursor.selectionStart(), cursor.selectionEnd()):
                cursor.insertText(self._replacement(cursor.selectedText()))
                self._editor.setTextCursor(cursor)
        self.find_next()

    def replace_all(self) -> int:
        """Replace every match as one undo step; how many."""
        doc = self._editor.document()
        pattern = self._pattern()
        edit = QTextCursor(doc)
        edit.beginEditBlock()
        count, at = 0, QTextCursor(doc)
        while True:
            found = doc.find(pattern, at, self._flags())
            if found.isNull() or (count and found.selectionEnd() == found.selectionStart()):
                break
            found.insertText(self._replacement(found.selectedText()))
            at, count = found, count + 1
        edit.endEditBlock()
        self.status.setText(f"{count} replaced")
        return count


class GotoBar(QWidget):
    """Go to line N (Ctrl+G): type a number, press Enter."""

    def __init__(self, editor: QPlainTextEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gotobar")
        self._editor = editor
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self.label = QLabel("Go to line:", self)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText("line number")
        layout.addWidget(self.label)
        layout.addWidget(self.line, 1)
        self.line.returnPressed.connect(self._on_return)
        self.hide()

    def open(self) -> None:
        count = self._editor.blockCount()
        self.label.setText(f"Go to line (1–{count}):")
        self.line.clear()
        self.show()
        self.line.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.hide()
            self._editor.setFocus()
            return
        super().keyPressEvent(event)

    def _on_return(self) -> None:
        text = self.line.text().strip()
        if not text.isdigit():
            self.label.setText("Go to line (a number):")
            return
        go_to_line(self._editor, int(text))
        self.hide()


def go_to_line(editor: QPlainTextEdit, number: int) -> None:
    """Put the cursor at the start of line `number` (clamped), in view."""
    doc = editor.document()
    block = doc.findBlockByNumber(max(0, min(number, doc.blockCount()) - 1))
    cursor = QTextCursor(block)
    editor.setTextCursor(cursor)
    editor.centerCursor()
    editor.setFocus()
