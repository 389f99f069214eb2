"""The Dashboard: run durations over time and runs per hour (the last day or
week), recent runs, each job's successes and failures over the last day, the
tables with their row counts, and the workers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.core.formatting import duration_text
from console.core.jobs.runs import Run
from console.core.scheduling.workers import WORKER_TTL, WorkerInfo
from console.core.store.changes import Change
from console.gui.charts import RunsPerHour, RunTimeline, Span
from console.gui.pages import Context, Page
from console.gui.record_model import Column, RecordModel
from console.gui.table_counts import TableCount, TableCounts
from console.gui.widgets import table_view


@dataclass(frozen=True)
class JobDay:
    name: str
    succeeded: int
    failed: int


@dataclass(frozen=True)
class Summary:
    runs: list[Run]
    per_job: list[JobDay]
    workers: list[WorkerInfo]
    #: Every run of the charts' span, oldest first, and the span.
    charted: list[Run]
    span: Span


class DashboardPage(Page):
    name = "Dashboard"
    topics = frozenset({"runs", "tables", "rows", "workers"})
    #: A run's dot was clicked: open its log (the run's id).
    run_opened = Signal(int)

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.recent = RecordModel[Run](
            [
                Column("Job", lambda r: r.job_name, fill=True),
                Column("Trigger", lambda r: r.trigger),
                Column("Started", lambda r: r.started_at, kind="date"),
                Column("Duration", lambda r: duration_text(r.duration_s), kind="number"),
                Column("Status", lambda r: r.status, status=True),
            ],
            key=lambda r: (r.id, r.status),
        )
        self.per_job = RecordModel[JobDay](
            [
                Column("Job", lambda j: j.name, fill=True),
                Column("Succeeded", lambda j: j.succeeded, kind="number"),
                Column("Failed", lambda j: j.failed, kind="number"),
            ]
        )
        self.tables = RecordModel[TableCount](
            [
                Column("Table", lambda t: t.info.name, fill=True),
                Column("Rows", lambda t: t.shown, kind="number"),
            ]
        )
        self.counts = TableCounts(ctx.services.tables, ctx.tasks, self.tables.set_records)
        self.workers = RecordModel[WorkerInfo](
            [
                Column("Worker", lambda w: w.name),
                Column("State", lambda w: w.state.capitalize(), status=True),
                Column("Host", lambda w: w.host),
                Column("Started", lambda w: w.started_at, kind="date"),
                Column("Last heartbeat", lambda w: w.heartbeat_at, kind="date"),
                Column("Runs in flight", lambda w: w.runs_in_flight, kind="number"),
                Column("Running", lambda w: ", ".join(w.running), fill=True),
            ],
            key=lambda w: (w.name, w.state, w.heartbeat_at, w.running),
        )
        self.timeline = RunTimeline(self)
        self.timeline.run_clicked.connect(lambda r: self.run_opened.emit(r.id))
        self.per_hour = RunsPerHour(self)
        self.hours = 24
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._span_bar())
        self.recent_view = table_view(self, self.recent)  # after the span bar: Tab's order
        # Enter (or a double click) on a recent run opens its log, as a click on its dot does.
        self.recent_view.activated.connect(
            lambda index: self.run_opened.emit(self.recent.record(index.row()).id)
        )
        workers = table_view(self, self.workers)
        workers.placeholder = "No workers running: mobile-console worker starts one"
        for row, stretch in (
            (
                [("Run durations", self.timeline, 3), ("Runs per hour", self.per_hour, 2)],
                4,
            ),
            (
                [
                    ("Recent runs", self.recent_view, 3),
                    ("Last 24 hours", table_view(self, self.per_job), 2),
                ],
                3,
            ),
            (
                [
                    ("Tables", table_view(self, self.tables), 1),
                    ("Workers", workers, 2),
                ],
                2,
            ),
        ):
            line = QHBoxLayout()
            for title, widget, share in row:
                box = QGroupBox(title, self)
                QVBoxLayout(box).addWidget(widget)
                line.addWidget(box, share)
            layout.addLayout(line, stretch)
        # A worker that dies says nothing: read again when the first live
        # worker's heartbeat would lapse, unless a heartbeat came first.
        self._lapse = QTimer(self)
        self._lapse.setSingleShot(True)
        self._lapse.timeout.connect(self._read_workers)

    def _span_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Charts show", self))
        self.span_buttons = QButtonGroup(self)
        for hours, text in ((24, "24 hours"), (24 * 7, "7 days")):
            button = QPushButton(text, self)
            button.setCheckable(True)
            button.setChecked(hours == 24)
            button.setAccessibleName(f"Charts: the last {text}")
            self.span_buttons.addButton(button, hours)
            bar.addWidget(button)
        self.span_buttons.idClicked.connect(self._on_span)
        bar.addStretch(1)
        return bar

    def _on_span(self, hours: int) -> None:
        self.hours = hours
        self.refresh()

    def title(self) -> str:
        return "dashboard"

    def refresh(self) -> None:
        self.ctx.tasks.latest("dashboard", self._read_summary, self._on_read)
        self.counts.refresh()

    def _read_summary(self) -> Summary:  # on a worker
        services = self.ctx.services
        now = services.runs.clock()
        span = Span(now, self.hours)
        charted = services.runs.runs_since(min(span.start, now - timedelta(days=1)))
        since = now - timedelta(days=1)
        day = [r for r in charted if r.started_at >= since]
        names = sorted({r.job_name for r in day})
        per_job = [
            JobDay(
                n,
                sum(r.job_name == n and r.status == "succeeded" for r in day),
                sum(
                    r.job_name == n and r.status in ("failed", "timed out", "interrupted")
                    for r in day
                ),
            )
            for n in names
        ]
        charted = [r for r in charted if r.started_at >= span.start]
        return Summary(services.runs.runs(limit=30), per_job, services.workers.all(), charted, span)

    def on_changes(self, changes: frozenset[Change]) -> None:
        topics = {c.topic for c in changes}
        if topics & {"runs", "external"}:
            self.ctx.tasks.latest("dashboard", self._read_summary, self._on_read)
        elif "workers" in topics:  # a heartbeat: the Workers box alone
            self._read_workers()
        if topics & {"tables", "rows", "columns", "external"}:
            self.counts.refresh()

    def leave(self) -> None:
        self.counts.cancel()  # shown again, the page counts again

    def shutdown(self) -> None:
        self.counts.cancel()
        self._lapse.stop()

    def _read_workers(self) -> None:
        if not self.isVisible():
            return  # shown again, the page reads everything anyway
        self.ctx.tasks.latest("dashboard-workers", self.ctx.services.workers.all, self._on_workers)

    def _on_workers(self, workers: list[WorkerInfo]) -> None:
        self.workers.set_records(workers)
        lapses = [w.heartbeat_at + WORKER_TTL for w in workers if w.state == "live"]
        if lapses:
            wait = (min(lapses) - self.ctx.services.runs.clock()).total_seconds()
            self._lapse.start(max(1000, int(wait * 1000) + 500))
        else:
            self._lapse.stop()

    def _on_read(self, summary: Summary) -> None:
        self.recent.set_records(summary.runs[:30])
        self.per_job.set_records(summary.per_job)
        self._on_workers(summary.workers)
        self.timeline.set_runs(summary.charted, summary.span)
        self.per_hour.set_runs(summary.charted, summary.span)
