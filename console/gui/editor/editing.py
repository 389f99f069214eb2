"""The editing keys' work on a document: toggle comment, indent and outdent
of the selected lines, the bracket matching the one at the cursor."""

from __future__ import annotations

from PySide6.QtGui import QTextCursor, QTextDocument

INDENT = "    "
_PAIRS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {v: k for k, v in _PAIRS.items()}


def _selected_blocks(cursor: QTextCursor) -> tuple[int, int]:
    doc = cursor.document()
    start = doc.findBlock(cursor.selectionStart()).blockNumber()
    end_block = doc.findBlock(cursor.selectionEnd())
    end = end_block.blockNumber()
    # A selection ending at a line's start does not take that line.
    if end > start and cursor.selectionEnd() == end_block.position():
        end -= 1
    return start, end


def _edit_lines(cursor: QTextCursor, change: object) -> None:
    """Apply `change(text) -> text` to each selected line, as one undo step,
    and keep those lines selected."""
    doc = cursor.document()
    first, last = _selected_blocks(cursor)
    had_selection = cursor.hasSelection()
    column = cursor.positionInBlock()
    edit = QTextCursor(doc)
    edit.beginEditBlock()
    for number in range(first, last + 1):
        block = doc.findBlockByNumber(number)
        line = QTextCursor(block)
        line.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
        new = change(block.text())  # type: ignore[operator]
        if new != block.text():
            line.insertText(new)
    edit.endEditBlock()
    if had_selection or first != last:
        cursor.setPosition(doc.findBlockByNumber(first).position())
        end = doc.findBlockByNumber(last)
        cursor.setPosition(end.position() + end.length() - 1, QTextCursor.MoveMode.KeepAnchor)
    else:
        block = doc.findBlockByNumber(first)
        cursor.setPosition(block.position() + min(column, block.length() - 1))


def toggle_comment(cursor: QTextCursor, marker: str) -> None:
    """Comment the selected lines out with `marker`, or back in when all are."""
    doc = cursor.document()
    first, last = _selected_blocks(cursor)
    lines = [doc.findBlockByNumber(n).text() for n in range(first, last + 1)]
    filled = [line for line in lines if line.strip()]
    commenting = not all(line.lstrip().startswith(marker) for line in filled)
    depth = min((len(t) - len(t.lstrip()) for t in filled), default=0)

    def change(text: str) -> str:
        if not text.strip():
            return text
        if commenting:
            return f"{text[:depth]}{marker} {text[depth:]}"
        at = text.index(marker)
        after = text[at + len(marker) :]
        return text[:at] + (after[1:] if after.startswith(" ") else after)

    _edit_lines(cursor, change)


def indent(cursor: QTextCursor) -> None:
    _edit_lines(cursor, lambda text: INDENT + text if text.strip() else text)


def outdent(cursor: QTextCursor) -> None:
    def change(text: str) -> str:
        spaces = len(text) - len(text.lstrip(" "))
        return text[min(spaces, len(INDENT)) :]

    _edit_lines(cursor, change)


def matching_bracket(doc: QTextDocument, position: int) -> tuple[int, int] | None:
    """The bracket at (or just before) `position` and its match, as two
    positions; None when there is no bracket there or it is unmatched."""
    text = doc.toPlainText()
    for at in (position, position - 1):
        if 0 <= at < len(text) and (text[at] in _PAIRS or text[at] in _CLOSERS):
            break
    else:
        return None
    char = text[at]
    if char in _PAIRS:
        want, step, end = _PAIRS[char], 1, len(text)
    else:
        want, step, end = _CLOSERS[char], -1, -1
    depth = 0
    for i in range(at, end, step):
        if text[i] == char:
            depth += 1
        elif text[i] == want:
            depth -= 1
            if depth == 0:
                return at, i
    return None
