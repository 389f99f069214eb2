"""The one way off the GUI thread: operations.

In the shape of Anki's `QueryOp`/`CollectionOp`: an `Op` is work for a
worker thread plus what to do with its outcome. `Operations.run(op)` runs the
work on a worker of the window's pool (or, given a `lane`, on that lane's one
thread, in order); the work may report progress and should notice a cancel
(`Progress.cancel`, which also interrupts a query in flight); success,
failure, progress and cancellation are delivered on the GUI thread by
signal. A lane's op may say whether it is still `wanted` just before it
runs: the grid's page requests for pages scrolled past are dropped there.

The window owns the one `Operations`: `shutdown()` cancels what is running
(except work marked `finish_on_close`, such as a save), joins every thread
and delivers nothing afterwards.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Qt, Signal

from console.core.store.cancel import Cancel

T = TypeVar("T")


class Progress:
    """What an operation's work gets: the cancel flag and a way to report."""

    def __init__(self, cancel: Cancel, report: Callable[[Any], None]) -> None:
        self.cancel = cancel
        self._report = report

    def report(self, value: Any) -> None:
        """Send `value` to the op's `progress` callback, on the GUI thread."""
        self._report(value)

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def check(self) -> None:
        """Raise `Cancelled` once the op is cancelled (between steps of work)."""
        self.cancel.check()


@dataclass
class Op(Generic[T]):
    """Work for a worker, and what the GUI does with how it went."""

    work: Callable[[Progress], T]
    success: Callable[[T], None] | None = None
    failure: Callable[[Exception], None] | None = None
    progress: Callable[[Any], None] | None = None
    cancelled: Callable[[], None] | None = None
    #: Asked on the worker just before the work starts; False drops it
    #: (delivered as cancelled). Must be cheap and thread-safe.
    wanted: Callable[[], bool] | None = None
    #: The user's work (a save): closing the window waits for it.
    finish_on_close: bool = False


class Handle:
    """A running or queued op: cancel it, see whether it has ended."""

    def __init__(self, op: Op[Any]) -> None:
        self.op = op
        self.cancel_flag = Cancel()
        self.finished = threading.Event()

    def cancel(self) -> None:
        self.cancel_flag.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_flag.is_set()


class _Worker(threading.Thread):
    def __init__(
        self, name: str, jobs: queue.SimpleQueue[Handle | None], ops: Operations, pooled: bool
    ) -> None:
        super().__init__(name=name, daemon=True)  # daemon only as a last resort: we join
        self._jobs = jobs
        self._ops = ops
        self._pooled = pooled

    def run(self) -> None:
        spawned_for_work = True  # started for the op just queued: not idle yet
        while True:
            if self._pooled and not spawned_for_work:
                self._ops._now_idle()
            spawned_for_work = False
            handle = self._jobs.get()
            if handle is None:
                return
            self._ops._execute(handle)


class Operations(QObject):
    """The window's workers: a pool, and ordered lanes by name."""

    #: A failure of an op with no `failure` callback, as one line.
    failed = Signal(str)
    _delivered = Signal(object)

    def __init__(self, parent: QObject | None = None, threads: int = 4) -> None:
        super().__init__(parent)
        self._threads = threads
        self._pool: queue.SimpleQueue[Handle | None] = queue.SimpleQueue()
        self._pool_workers: list[_Worker] = []
        self._idle = 0
        self._lanes: dict[str, tuple[queue.SimpleQueue[Handle | None], _Worker]] = {}
        self._live: set[Handle] = set()
        self._lock = threading.Lock()
        self._closing = False
        self._closed = False
        self._serials: dict[str, int] = {}
        self._names = itertools.count(1)
        self._delivered.connect(self._on_delivered, Qt.ConnectionType.QueuedConnection)

    # -- running -------------------------------------------------------------

    def run(self, op: Op[T], lane: str | None = None) -> Handle:
        """Queue `op` on the pool, or in order on `lane`; returns its handle."""
        handle = Handle(op)
        with self._lock:
            if self._closing:
                handle.cancel()
                handle.finished.set()
                return handle
            self._live.add(handle)
            if lane is None:
                if self._idle > 0:
                    self._idle -= 1  # that worker is spoken for
                elif len(self._pool_workers) < self._threads:
                    worker = _Worker(f"op-{next(self._names)}", self._pool, self, pooled=True)
                    self._pool_workers.append(worker)
                    worker.start()
                self._pool.put(handle)
            else:
                if lane not in self._lanes:
                    jobs: queue.SimpleQueue[Handle | None] = queue.SimpleQueue()
                    worker = _Worker(f"lane-{lane}", jobs, self, pooled=False)
                    self._lanes[lane] = (jobs, worker)
                    worker.start()
                self._lanes[lane][0].put(handle)
        return handle

    def submit(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
        *,
        finish_on_close: bool = True,
    ) -> Handle:
        """Run `fn()` on the pool; `on_done(result)` or `on_error(e)` on the
        GUI thread. Finished before the window closes, unless told otherwise."""
        return self.run(
            Op(
                lambda _progress: fn(),
                on_done,
                on_error,
                finish_on_close=finish_on_close,
            )
        )

    def latest(
        self,
        key: str,
        fn: Callable[[], T],
        on_done: Callable[[T], None],
        on_error: Callable[[Exception], None] | None = None,
    ) -> Handle:
        """Like `submit`, for reads: only the newest submission under `key`
        runs (an older one still queued is dropped) and is delivered."""
        self._serials[key] = serial = self._serials.get(key, 0) + 1

        def current() -> bool:
            return self._serials.get(key) == serial

        def deliver(result: T) -> None:
            if current():
                on_done(result)

        return self.run(Op(lambda _progress: fn(), deliver, on_error, wanted=current))

    # -- on the worker --------------------------------------------------------

    def _execute(self, handle: Handle) -> None:
        op = handle.op
        try:
            if handle.cancelled or (op.wanted is not None and not op.wanted()):
                self._post(op.cancelled)
                return
            progress = Progress(handle.cancel_flag, lambda value: self._post(op.progress, value))
            try:
                result = op.work(progress)
            except Exception as e:
                if handle.cancel_flag.is_set():  # an interrupted query raises: a cancel
                    self._post(op.cancelled)
                    return
                from console.core.store.faults import FAULTS, as_console_error

                if isinstance(e, FAULTS):  # the database or the disk: one line, as the CLI says it
                    e = as_console_error(e)
                if op.failure is not None:
                    self._post(op.failure, e)
                else:
                    self._post(self.failed.emit, _one_line(e))
            else:
                if handle.cancel_flag.is_set():
                    self._post(op.cancelled)
                else:
                    self._post(op.success, result)
        finally:
            handle.finished.set()
            with self._lock:
                self._live.discard(handle)

    def _post(self, callback: Callable[..., None] | None, *args: Any) -> None:
        if callback is None:
            return
        with self._lock:
            if self._closed:
                return
            self._delivered.emit(lambda: callback(*args))

    def _now_idle(self) -> None:
        with self._lock:
            self._idle += 1

    # -- on the GUI thread ------------------------------------------------------

    def _on_delivered(self, call: Callable[[], None]) -> None:
        if self._closed:
            return
        try:
            call()
        except RuntimeError as e:
            if "already deleted" not in str(e):  # the widget that asked has closed
                raise

    @property
    def busy(self) -> int:
        """Ops queued or running."""
        with self._lock:
            return len(self._live)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel what runs (saves finish), join every worker; nothing is
        delivered from now on."""
        with self._lock:
            self._closing = True
            self._closed = True
            live = list(self._live)
            workers = list(self._pool_workers)
            lanes = list(self._lanes.values())
        for handle in live:
            if not handle.op.finish_on_close:
                handle.cancel()
        for _ in workers:
            self._pool.put(None)
        for jobs, _worker in lanes:
            jobs.put(None)
        for worker in [*workers, *(w for _, w in lanes)]:
            worker.join(timeout)


def _one_line(error: Exception) -> str:
    from console.core.errors import ConsoleError

    return str(error) if isinstance(error, ConsoleError) else f"{type(error).__name__}: {error}"
