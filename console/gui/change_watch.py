"""Change events for the window: this process's writes and other processes'.

`ChangeWatch` subscribes to the services' change feed and hands the window
what changed, on the GUI thread, gathered for a moment so a burst of writes
(a job's log lines) makes one redraw. Another process's writes reach it too:
on PostgreSQL through a `Listener` thread (LISTEN/NOTIFY, no polling); on
SQLite through `PRAGMA data_version`, read on the watch's own lane of the
window's operations (microseconds; it never counts or re-reads a table).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from console.core.store.changes import Change, ChangeFeed, DataVersion, Listener
from console.core.store.database import Store
from console.gui.operations import Op, Operations

GATHER_MS = 200
DATA_VERSION_MS = 250


class ChangeWatch(QObject):
    """Says what changed, on the GUI thread, a few times a second at most."""

    #: A frozenset of `Change`s: everything changed since the last emission.
    changed = Signal(object)
    _heard = Signal(object)

    def __init__(self, store: Store, ops: Operations, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ops = ops
        self._feed: ChangeFeed = store.changes
        self._pending: set[Change] = set()
        self._gather = QTimer(self, singleShot=True, interval=GATHER_MS)
        self._gather.timeout.connect(self._on_gathered)
        self._heard.connect(self._on_heard)
        self._unsubscribe = self._feed.subscribe(self._heard.emit)
        self._listener: Listener | None = None
        self._data_version: DataVersion | None = None
        self._checking = False
        self._poll: QTimer | None = None
        if store.dialect == "postgresql":
            self._listener = Listener(store.engine, self._feed)
            self._listener.start()
        elif store.dialect == "sqlite":
            self._data_version = DataVersion(store.engine)
            self._poll = QTimer(self, interval=DATA_VERSION_MS)
            self._poll.timeout.connect(self._check_data_version)
            self._poll.start()
            self._check_data_version()  # the first read sets the baseline

    def wait_listening(self, timeout: float = 10.0) -> bool:
        """PostgreSQL: block until LISTEN is in place (tests; nothing missed after)."""
        return self._listener is None or self._listener.listening.wait(timeout)

    def _check_data_version(self) -> None:
        watch = self._data_version
        if watch is None or self._checking:
            return
        self._checking = True

        def moved(yes: bool) -> None:
            self._checking = False
            if yes:
                self._on_heard(Change("external"))

        def again() -> None:
            self._checking = False  # a locked or vanished file: try at the next tick

        self._ops.run(
            Op(lambda _p: watch.moved(), moved, lambda _e: again(), cancelled=again),
            lane="data-version",
        )

    def _on_heard(self, change: Change) -> None:
        self._pending.add(change)
        if not self._gather.isActive():
            self._gather.start()

    def _on_gathered(self) -> None:
        changes, self._pending = frozenset(self._pending), set()
        if changes:
            self.changed.emit(changes)

    def shutdown(self) -> None:
        """Stop listening (the window's operations are joined after this)."""
        self._unsubscribe()
        self._gather.stop()
        if self._poll is not None:
            self._poll.stop()
        if self._listener is not None:
            self._listener.stop()
        if self._data_version is not None:
            watch = self._data_version
            self._data_version = None
            # closed on the lane's thread, where it was opened
            self._ops.run(Op(lambda _p: watch.close(), finish_on_close=True), lane="data-version")
