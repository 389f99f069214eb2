"""Background work for the window: one small, typed path.

`TaskRunner.submit(fn, on_done)` runs `fn` on a worker thread of its own
pool and calls `on_done(result)` back on the GUI thread by signal; errors go
to `on_error` (default: the window's `task_failed` signal). No widget is ever
touched from a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

T = TypeVar("T")


class _Task(QRunnable):
    def __init__(self, runner: TaskRunner, fn: Callable[[], Any], done: Any, error: Any) -> None:
        super().__init__()
        self._runner, self._fn, self._done, self._error = runner, fn, done, error

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as e:  # reported on the GUI thread
            from console.core.faults import FAULTS, as_console_error

            if isinstance(e, FAULTS):  # the database or the disk: one line, as the CLI says it
                e = as_console_error(e)
            self._runner._finished.emit(self._error, e, True)
        else:
            self._runner._finished.emit(self._done, result, False)
        finally:
            self._runner._leave()


class TaskRunner(QObject):
    """A worker pool whose results come back to the GUI thread by signal."""

    _finished = Signal(object, object, bool)
    task_failed = Signal(str)
    busy_changed = Signal(int)

    def __init__(self, parent: QObject | None = None, threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._pending = 0
        self._lock = threading.Lock()
        self._closed = False
        self._serials: dict[str, int] = {}
        self._finished.connect(self._on_finished)

    @property
    def pending(self) -> int:
        return self._pending

    def submit(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        if self._closed:
            return
        with self._lock:
            self._pending += 1
        self.busy_changed.emit(self._pending)
        self._pool.start(_Task(self, fn, on_done, on_error))

    def latest(
        self,
        key: str,
        fn: Callable[[], T],
        on_done: Callable[[T], None],
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        """Like `submit`, but only the newest submission under `key` is
        delivered: a refresh that began earlier never overwrites a later one."""
        self._serials[key] = serial = self._serials.get(key, 0) + 1

        def deliver(result: T) -> None:
            if self._serials.get(key) == serial:
                on_done(result)

        self.submit(fn, deliver, on_error)

    def _leave(self) -> None:
        with self._lock:
            self._pending -= 1

    def _on_finished(self, callback: Any, value: Any, failed: bool) -> None:
        self.busy_changed.emit(self._pending)
        if self._closed:
            return
        try:
            if failed:
                if callback is not None:
                    callback(value)
                else:
                    from console.core.errors import ConsoleError

                    shown = value if isinstance(value, ConsoleError) else None
                    self.task_failed.emit(str(shown or f"{type(value).__name__}: {value}"))
            elif callback is not None:
                callback(value)
        except RuntimeError as e:
            if "already deleted" not in str(e):  # the widget that asked has closed
                raise

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Finish what was submitted (a queued save is the user's work, never
        dropped), accept nothing new, deliver no more results."""
        self._closed = True
        self._pool.waitForDone(timeout_ms)
