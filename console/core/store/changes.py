"""What a write changed, told to whoever listens: the window redraws from
these instead of re-reading on a timer.

Every write in the core announces a `Change` through the `ChangeFeed` its
`Store` was built with (`Store.announce`); listeners hear it after the
transaction commits, on the writer's thread. Another process's writes are
noticed cheaply: on PostgreSQL the same announcement is a `NOTIFY` sent with
the transaction and heard by a `Listener` thread (no polling); on SQLite,
`DataVersion` reads `PRAGMA data_version` (microseconds, no table scan),
which moves whenever another connection commits.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

#: What a change can be about; `external` is "another process wrote, we do
#: not know what" (SQLite's data_version says only that).
TOPICS = ("jobs", "runs", "logs", "tables", "columns", "rows", "settings", "workers", "external")
CHANNEL = "mobile_console_changes"


@dataclass(frozen=True)
class Change:
    """One thing a write changed: a topic and, where it has one, a name
    (the job, table or setting); `rows` counts rows added to a table."""

    topic: str
    name: str = ""
    rows: int = 0

    def encode(self, origin: str) -> str:
        return json.dumps({"o": origin, "t": self.topic, "n": self.name, "r": self.rows})

    @staticmethod
    def decode(payload: str) -> tuple[str, Change]:
        data = json.loads(payload)
        return str(data["o"]), Change(str(data["t"]), str(data["n"]), int(data["r"]))


Listener_ = Callable[[Change], None]


class ChangeFeed:
    """The publisher: subscribe to hear every change, from any thread."""

    def __init__(self) -> None:
        #: Tells our own NOTIFYs from another process's.
        self.origin = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._listeners: list[Listener_] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener_) -> Callable[[], None]:
        """Hear every change (on the writer's thread); returns the unsubscribe."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, *changes: Change) -> None:
        if not changes:
            return
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            for change in changes:
                listener(change)


class DataVersion:
    """SQLite's `PRAGMA data_version` on a connection of its own: `moved()`
    is True when another connection (process) committed since the last call.
    Use it from one thread."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._connection: Any = None
        self._version: int | None = None

    def moved(self) -> bool:
        if self._connection is None:
            raw = self._engine.raw_connection()
            raw.detach()  # ours for good: data_version is per connection
            self._connection = raw
        cursor = self._connection.cursor()
        try:
            cursor.execute("PRAGMA data_version")
            version = int(cursor.fetchone()[0])
        finally:
            cursor.close()
        moved = self._version is not None and version != self._version
        self._version = version
        return moved

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class Listener(threading.Thread):
    """PostgreSQL: LISTENs on a connection of its own and publishes other
    processes' changes into `feed` as they are notified. No polling: it
    blocks on the socket, waking once a second only to see if it should stop."""

    def __init__(self, engine: sa.Engine, feed: ChangeFeed) -> None:
        super().__init__(name="change-listener", daemon=True)
        self._engine = engine
        self._feed = feed
        self._stopping = threading.Event()
        self.listening = threading.Event()

    def run(self) -> None:
        raw = self._engine.raw_connection()
        raw.detach()
        connection: Any = raw.dbapi_connection
        try:
            connection.rollback()
            connection.autocommit = True
            connection.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            while not self._stopping.is_set():
                for notify in connection.notifies(timeout=1.0):
                    origin, change = Change.decode(notify.payload)
                    if origin != self._feed.origin:
                        self._feed.publish(change)
                    if self._stopping.is_set():
                        break
        except Exception:  # a lost server: the window still works, only deaf to others
            self.listening.set()
        finally:
            raw.close()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=5)


def notify_statement(
    changes: Sequence[Change], origin: str
) -> tuple[sa.Executable, dict[str, str]]:
    """PostgreSQL: the NOTIFYs that tell other processes (sent on commit),
    one a change, in their order, in one statement (one round trip): the
    statement (built once for each number of changes) and its parameters."""
    return _notices(len(changes)), {f"notice{i}": c.encode(origin) for i, c in enumerate(changes)}


@functools.cache
def _notices(count: int) -> sa.Executable:
    notices = (sa.bindparam(f"notice{i}", type_=sa.Text()) for i in range(count))
    return sa.select(*(sa.func.pg_notify(CHANNEL, notice) for notice in notices))
