"""Run Once from the window: the runner as an operation on a lane of its
own per job, the log streamed back line by line as progress, Cancel at any
time (closing the window interrupts it, and waits for the run to be recorded)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from console.core.errors import ConsoleError
from console.core.jobs.runs import Run
from console.core.running.dry_run import DryRunDiff
from console.core.running.runner import Runner
from console.core.store.cancel import Cancel
from console.gui.operations import Op, Operations, Progress


class RunControl(QObject):
    run_started = Signal(object)  # Run
    line_received = Signal(object)  # LogLine
    run_finished = Signal(object)  # Run
    run_refused = Signal(str)
    dry_run_finished = Signal(object, object)  # Run, DryRunDiff

    def __init__(self, runner: Runner, ops: Operations, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._ops = ops
        self._running: dict[str, Cancel] = {}

    def is_running(self, name: str) -> bool:
        return name.lower() in self._running

    def start(self, name: str, dry_run: bool = False, replay: int | None = None) -> None:
        """Run Once, or with `dry_run` a Dry Run (its diff heard on
        `dry_run_finished`); `replay`: a past run whose recorded HTTP answers
        every request."""
        key = name.lower()
        if key in self._running:
            return
        # The user's Cancel ends the run, which is then recorded and shown as
        # finished (cancelled); closing the window interrupts it (`shutdown`).
        stop = self._running[key] = Cancel()
        runner = self._runner

        def work(progress: Progress) -> Run | _DryRun:
            with progress.cancel.interrupts(stop.set):
                run = runner.run(
                    name,
                    on_line=progress.report,
                    on_started=lambda run: progress.report(_Started(run)),
                    cancel=stop,
                    dry_run=dry_run,
                    replay=replay,
                )
            return _DryRun(run, runner.diff(run.id)) if dry_run else run

        def progressed(value: Any) -> None:
            if isinstance(value, _Started):
                self.run_started.emit(value.run)
            else:
                self.line_received.emit(value)

        def finished(result: Run | _DryRun) -> None:
            self._running.pop(key, None)  # no longer running before anyone hears it ended
            if isinstance(result, _DryRun):
                self.run_finished.emit(result.run)
                self.dry_run_finished.emit(result.run, result.diff)
            else:
                self.run_finished.emit(result)

        def refused(error: Exception) -> None:
            self._running.pop(key, None)
            known = isinstance(error, ConsoleError)
            self.run_refused.emit(str(error) if known else f"{type(error).__name__}: {error}")

        def cancelled() -> None:
            self._running.pop(key, None)

        self._ops.run(Op(work, finished, refused, progressed, cancelled), lane=f"run-once-{key}")

    def cancel(self, name: str) -> None:
        stop = self._running.get(name.lower())
        if stop is not None:
            stop.set()

    def shutdown(self, why: str = "the console was closed") -> None:
        """End every run still going as interrupted (`why`: what stopped the
        console; only the user's Cancel gives "cancelled"); the window's
        operations wait for each to be recorded."""
        for stop in list(self._running.values()):
            if not stop.is_set():
                stop.interrupt(why)


class _DryRun:
    def __init__(self, run: Run, diff: DryRunDiff) -> None:
        self.run = run
        self.diff = diff


class _Started:
    def __init__(self, run: Run) -> None:
        self.run = run
