"""Run Once from the window: the runner on a thread of its own, the log
streamed back line by line by signal, Cancel at any time."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from console.core.errors import ConsoleError
from console.core.runner import Runner


class RunControl(QObject):
    run_started = Signal(object)  # Run
    line_received = Signal(object)  # LogLine
    run_finished = Signal(object)  # Run
    run_refused = Signal(str)

    def __init__(self, runner: Runner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._threads: dict[str, tuple[threading.Thread, threading.Event]] = {}

    def is_running(self, name: str) -> bool:
        return name.lower() in self._threads

    def start(self, name: str) -> None:
        if self.is_running(name):
            return
        cancel = threading.Event()

        def work() -> None:
            outcome: tuple[Any, Any]
            try:
                run = self._runner.run(
                    name,
                    on_line=self.line_received.emit,
                    on_started=self.run_started.emit,
                    cancel=cancel,
                )
            except ConsoleError as e:
                outcome = (self.run_refused, str(e))
            except Exception as e:  # reported, never raised into Qt
                outcome = (self.run_refused, f"{type(e).__name__}: {e}")
            else:
                outcome = (self.run_finished, run)
            # No longer running before anyone hears that it ended.
            self._threads.pop(name.lower(), None)
            outcome[0].emit(outcome[1])

        thread = threading.Thread(target=work, name=f"run-once-{name}", daemon=True)
        self._threads[name.lower()] = (thread, cancel)
        thread.start()

    def cancel(self, name: str) -> None:
        entry = self._threads.get(name.lower())
        if entry:
            entry[1].set()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel every run still going and wait for it to be recorded."""
        entries = list(self._threads.values())
        for _, cancel in entries:
            cancel.set()
        for thread, _ in entries:
            thread.join(timeout)
