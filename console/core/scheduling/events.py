"""What the scheduler says: its events (a worker prints them) and, among
them, the notices a window shows (the database gone or back, runs waiting
for a dry run), each through a callback that never raises into it."""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


def never_raising(on_event: Callable[[str], None]) -> Callable[[str], None]:
    """`on_event`, whose failure (a closed terminal, say) is logged, never
    the scheduler's or a run's."""

    def say(message: str) -> None:
        try:
            on_event(message)
        except Exception:
            log.exception("could not report: %s", message)

    return say


class Notices:
    """The scheduler's notices: said as events, and told to each listener."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say
        #: Called with each notice (the window's status bar), on the scheduler's thread.
        self.listeners: list[Callable[[str], None]] = []

    def __call__(self, message: str) -> None:
        self._say(message)
        for listener in list(self.listeners):
            never_raising(listener)(message)


def held_notice(holder: str | None) -> str:
    """Said when this console's dry run of `holder` starts holding SQLite's
    write lock (None: when it stops): scheduled runs wait, late, not failed."""
    if holder is None:
        return "the dry run ended; scheduled runs go on"
    return (
        f"waiting: the dry run of {holder} holds the database; scheduled runs due "
        "meanwhile start when it ends"
    )
