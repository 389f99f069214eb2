"""A job's History tab: its runs, newest first, and the selected run's log,
recorded HTTP, rows and script (what changed since it ran); Undo run puts
back what the selected run wrote (`jobs.undo`), Debug this run replays it
under the debugger."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.core.formatting import cell_text, duration_text
from console.core.jobs.job_store import Job
from console.core.jobs.runs import Run
from console.core.jobs.undo import UndoResult, undo_run
from console.core.jobs.versions import ScriptVersion, diff_text
from console.core.tables.written_by import rows_written_by
from console.gui.pages import Context
from console.gui.record_model import Column, RecordModel
from console.gui.run_http import RunHttpView
from console.gui.shell import small_caps_tabs
from console.gui.widgets import log_model, table_view


class HistoryTab(QSplitter):
    """The runs of one job above, the selected run's log below."""

    #: "Debug this run": the run, and whether it has a recording to replay.
    debug_requested = Signal(int, bool)
    #: Replay this run: its recorded HTTP answers, as a dry run.
    replay_requested = Signal(int)

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.ctx = ctx
        self.runs = RecordModel[Run](
            [
                Column("Trigger", lambda r: r.trigger),
                Column("Attempt", lambda r: f"{r.attempt} of {r.attempts}"),
                Column("Worker", lambda r: r.owner),
                Column("Started", lambda r: r.started_at, kind="date"),
                Column("Duration", lambda r: duration_text(r.duration_s), kind="number"),
                Column("Status", lambda r: r.status, status=True),
                Column("Rows written", lambda r: r.rows_written, kind="number"),
                Column("Error", lambda r: r.error or "", fill=True),
            ],
            key=lambda r: r.id,
        )
        top = QWidget(self)
        self.undo_button = QPushButton("Undo run", top)
        self.undo_button.setToolTip(
            "Delete the rows the selected run inserted and put back the rows it updated or "
            "deleted; rows changed since are left alone (an undo can be undone too)"
        )
        self.undo_button.clicked.connect(self._on_undo_clicked)
        self.debug_button = QPushButton("Debug this run", top)
        self.debug_button.setToolTip(
            "Replay this run offline under the debugger; it stops where the script raised"
        )
        self.debug_button.setEnabled(False)
        self.debug_button.clicked.connect(self._debug_selected)
        self.replay_button = QPushButton("Replay", top)
        self.replay_button.setToolTip(
            "Run the current script with every HTTP request answered from this run's "
            "recording, offline, as a dry run: nothing is written"
        )
        self.replay_button.setEnabled(False)
        self.replay_button.clicked.connect(self._replay_selected)
        self.undo_message = QLabel(top)
        self.undo_message.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(self.undo_button)
        bar.addWidget(self.replay_button)
        bar.addWidget(self.debug_button)
        bar.addWidget(self.undo_message, 1)
        self.runs_view = table_view(top, self.runs)
        column = QVBoxLayout(top)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(bar)
        column.addWidget(self.runs_view, 1)
        self.run_log = log_model()
        self.run_tabs = QTabWidget(self)
        small_caps_tabs(self.run_tabs)  # as the job's own tabs above
        self.run_log_view = table_view(self.run_tabs, self.run_log)
        self.http_view = RunHttpView(self.run_tabs)
        self.run_tabs.addTab(self.run_log_view, "Log")
        self.run_tabs.addTab(self.http_view, "HTTP")
        self.run_rows = RecordModel[tuple[str, dict[str, Any]]](
            [
                Column("Table", lambda r: r[0]),
                Column("Id", lambda r: r[1].get("id"), kind="number"),
                Column("Row", lambda r: _row_text(r[1]), fill=True),
            ]
        )
        self.run_rows_view = table_view(self.run_tabs, self.run_rows)
        self.run_rows_view.setToolTip(
            "The rows this run wrote last (their __runId), at most 1,000; "
            "`table rows NAME --run ID` lists them all"
        )
        self.run_tabs.addTab(self.run_rows_view, "Rows")
        self.script_diff = QPlainTextEdit(self.run_tabs)
        self.script_diff.setReadOnly(True)
        self.script_diff.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.script_diff.setToolTip(
            "The script version this run ran, and what changed since in the current script"
        )
        self.run_tabs.addTab(self.script_diff, "Script")
        self.addWidget(top)
        self.addWidget(self.run_tabs)
        self.runs_view.selectionModel().currentRowChanged.connect(self._on_run_selected)
        self._log_shown_for: tuple[int, str] | None = None  # the run, as its log was read
        self.wanted_run: int | None = None  # a run to select once the runs are read
        self._job: Job | None = None

    def show_runs_of(self, job: Job) -> None:
        """Read the job's latest runs off the GUI thread, then show them."""
        self._job = job
        runs = self.ctx.services.runs
        self.ctx.tasks.latest("job-runs", lambda: runs.runs(job.id, limit=200), self._on_runs)

    def clear(self) -> None:
        """A new job is shown: no run's log until its runs are read."""
        self.run_log.set_records([])
        self.http_view.show_exchanges([])

    def _on_runs(self, records: list[Run]) -> None:
        self.runs.set_records(records)
        current = self.runs_view.currentIndex()
        wanted = [i for i, r in enumerate(records) if r.id == self.wanted_run]
        if wanted:
            self.wanted_run = None
            self.runs_view.setCurrentIndex(self.runs.index(wanted[0], 0))
        elif records and not current.isValid():
            self.runs_view.setCurrentIndex(self.runs.index(0, 0))  # the newest run's log
        elif current.isValid():
            run = self.runs.record(current.row())
            if (run.id, run.status) != self._log_shown_for:
                self._show_run_log(run)  # the shown run has moved on (finished, say)

    def _on_run_selected(self, current: Any, _previous: Any) -> None:
        if current.isValid():
            self._show_run_log(self.runs.record(current.row()))

    def _debug_selected(self) -> None:
        current = self.runs_view.currentIndex()
        if current.isValid():
            run = self.runs.record(current.row())
            self.debug_requested.emit(run.id, bool(self.http_view.model.records()))

    def _replay_selected(self) -> None:
        current = self.runs_view.currentIndex()
        if current.isValid():
            self.replay_requested.emit(self.runs.record(current.row()).id)

    def _show_run_log(self, run: Run) -> None:
        self._log_shown_for = (run.id, run.status)
        self.replay_button.setEnabled(run.status != "running")
        self.debug_button.setEnabled(run.status in ("failed", "timed out"))
        runs = self.ctx.services.runs
        self.ctx.tasks.latest(
            "run-log", lambda: runs.entries(run_id=run.id, limit=None), self.run_log.set_records
        )
        recordings = self.ctx.services.recordings

        def exchanges() -> list[dict[str, Any]]:
            recording = recordings.get(run.id)
            return recording.exchanges if recording else []

        self.ctx.tasks.latest("run-http", exchanges, self.http_view.show_exchanges)
        tables = self.ctx.services.tables
        self.ctx.tasks.latest(
            "run-rows", lambda: rows_written_by(tables, run.id), self.run_rows.set_records
        )
        jobs = self.ctx.services.jobs
        self.ctx.tasks.latest(
            "run-script",
            lambda: jobs.version_ran(run.job_name, run.started_at, run.script_version),
            self._show_script,
            lambda e: self.script_diff.setPlainText(str(e)),
        )

    def _show_script(self, versions: tuple[ScriptVersion, ScriptVersion]) -> None:
        used, current = versions
        changes = diff_text(used, current)
        if not changes:
            self.script_diff.setPlainText(
                f"This run ran version {used.version}, the current script."
            )
            return
        self.script_diff.setPlainText(
            f"This run ran version {used.version}; the current script is version "
            f"{current.version}. What changed since:\n\n{changes}"
        )

    def _on_undo_clicked(self) -> None:
        current = self.runs_view.currentIndex()
        if not current.isValid():
            self.undo_message.setText("Select a run to undo.")
            return
        run = self.runs.record(current.row())
        services = self.ctx.services
        self.undo_message.setText(f"Undoing run {run.id}…")
        self.ctx.tasks.submit(
            lambda: undo_run(services.runs, services.tables, run.id, services.runner.owner),
            self._on_undone,
            lambda e: self.undo_message.setText(str(e)),
        )

    def _on_undone(self, result: UndoResult) -> None:
        self.undo_message.setText(undone_text(result))
        if self._job is not None:
            self.show_runs_of(self._job)


#: Rows left alone an undo's message names; the rest it counts.
NAMED_CONFLICTS = 5


def undone_text(result: UndoResult) -> str:
    """What an undo did, in one line: its counts, and the rows changed since
    that it left alone (the first few by name, and how to undo them anyway)."""
    said = f"Undid run {result.undone}: {result.deleted} deleted, {result.restored} restored"
    conflicts = result.conflicts
    if not conflicts:
        return said
    named = ", ".join(f"{c['table']} {c['id']}" for c in conflicts[:NAMED_CONFLICTS])
    more = len(conflicts) - NAMED_CONFLICTS
    return (
        f"{said}; {len(conflicts)} changed since, left alone: {named}"
        + (f" and {more} more" if more > 0 else "")
        + f"; “mobile-console run undo {result.undone} --force” undoes them too"
    )


def _row_text(row: dict[str, Any]) -> str:
    """A row's own values, for one line (system columns left out)."""
    return ", ".join(f"{k}={cell_text(v)}" for k, v in row.items() if k != "id" and k[:2] != "__")
