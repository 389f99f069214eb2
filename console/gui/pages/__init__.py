"""The window's pages: Dashboard, Data, Scheduler, Configure, Logs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMessageBox, QWidget

if TYPE_CHECKING:  # the window paints before the core (and SQLAlchemy) is loaded
    from console.app import Services
    from console.core.scheduling.scheduler import ConsoleScheduler
    from console.core.store.changes import Change
    from console.gui.operations import Operations


@dataclass
class Context:
    """What every page gets from the window, through its constructor."""

    services: Services
    tasks: Operations  # the one way off the GUI thread
    scheduler: ConsoleScheduler | None
    notify: Callable[[str], None]
    keyring_note: str | None = None


class Page(QWidget):
    """A page of the window: its header, its commands, its refresh."""

    commands_changed = Signal()
    header_changed = Signal()
    name = ""
    #: The change topics (console.core.store.changes.TOPICS) this page shows.
    topics: frozenset[str] = frozenset()

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx

    def crumbs(self) -> list[str]:
        return [self.name]

    def title(self) -> str:
        return self.name.lower()

    def available(self) -> dict[str, bool]:
        """Commands this page offers now, and whether each can run."""
        return {}

    def trigger(self, command: str) -> None:
        """Run a command from the command bar."""

    def refresh(self) -> None:
        """Read again from the database (off the GUI thread)."""

    def on_changes(self, changes: frozenset[Change]) -> None:
        """What changed while the page is shown; by default it reads again if
        any of it is its topic (or another process wrote, what we cannot tell)."""
        if any(c.topic in self.topics or c.topic == "external" for c in changes):
            self.refresh()

    def leave(self) -> None:
        """Another page is shown instead: stop reads only this page would show
        (a table's full count at 100M rows is a core busy for many seconds)."""

    def warm_up(self) -> None:
        """The window has opened, on screen: start what the page will soon
        need and takes a while to start."""

    def shutdown(self) -> None:
        """The window is closing: stop what the page has going."""

    def stop_runs(self, why: str) -> None:
        """The window is closing: end the runs the page started, as
        interrupted (`why`: what stopped the console)."""

    def can_leave(self) -> bool:
        """False to keep the user here (e.g. unsaved changes they chose to keep)."""
        return True

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes
