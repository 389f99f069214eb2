"""The editor's keys: the platform's standard keys where Qt has one (Find,
Replace, Find next / previous), and the common ones where it has none."""

from __future__ import annotations

import sys
from enum import Enum

from PySide6.QtGui import QKeyEvent, QKeySequence

_GOTO = QKeySequence("Ctrl+G")


class Command(Enum):
    FIND = "find"
    REPLACE = "replace"
    FIND_NEXT = "find next"
    FIND_PREVIOUS = "find previous"
    GOTO_LINE = "go to line"
    TOGGLE_COMMENT = "toggle comment"
    COMPLETE = "complete"


def _standard(key: QKeySequence.StandardKey, *extra: str) -> list[QKeySequence]:
    # GNOME and macOS bind Find next to Ctrl+G, which here is Go to line.
    found = [k for k in QKeySequence.keyBindings(key) if k != _GOTO]
    return found + [QKeySequence(e) for e in extra if QKeySequence(e) not in found]


def key_map() -> dict[Command, list[QKeySequence]]:
    """Every command's keys on this platform."""
    replace = _standard(QKeySequence.StandardKey.Replace) or [QKeySequence("Ctrl+H")]
    return {
        Command.FIND: _standard(QKeySequence.StandardKey.Find),
        Command.REPLACE: replace,
        Command.FIND_NEXT: _standard(QKeySequence.StandardKey.FindNext, "F3"),
        Command.FIND_PREVIOUS: _standard(QKeySequence.StandardKey.FindPrevious, "Shift+F3"),
        Command.GOTO_LINE: [_GOTO],
        Command.TOGGLE_COMMENT: [QKeySequence("Ctrl+/")],
        # Ctrl+Space everywhere: on macOS the Control key is Qt's Meta (its
        # Ctrl is Command, and Command+Space is Spotlight).
        Command.COMPLETE: [
            QKeySequence("Meta+Space" if sys.platform == "darwin" else "Ctrl+Space")
        ],
    }


def command_for(event: QKeyEvent, keys: dict[Command, list[QKeySequence]]) -> Command | None:
    pressed = QKeySequence(event.keyCombination())
    for command, sequences in keys.items():
        if pressed in sequences:
            return command
    return None
