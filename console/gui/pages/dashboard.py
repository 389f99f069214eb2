"""The Dashboard: recent runs, each job's successes and failures over the
last day, run durations as a chart, and the tables with their row counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QGridLayout, QGroupBox, QVBoxLayout, QWidget

from console.core.formatting import duration_text
from console.core.jobs.runs import Run
from console.core.scheduling.workers import WORKER_TTL, WorkerInfo
from console.core.store.changes import Change
from console.gui import theme
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


class DurationChart(QWidget):
    """Bars of recent run durations, coloured by outcome."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs: list[Run] = []
        self.setMinimumHeight(140)

    def set_runs(self, runs: list[Run]) -> None:
        self.runs = [r for r in runs if r.duration_s is not None][-60:]
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = theme.current()
        painter.fillRect(self.rect(), palette.colour("window"))
        if not self.runs:
            painter.setPen(palette.colour("faint"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no finished runs yet")
            return
        longest = max(r.duration_s or 0 for r in self.runs) or 1.0
        width = self.width() / len(self.runs)
        height = self.height() - 20
        for i, run in enumerate(self.runs):
            bar = max(2.0, (run.duration_s or 0) / longest * height)
            painter.fillRect(
                QRectF(i * width + 1, height - bar + 10, max(1.0, width - 2), bar),
                QColor(palette.status(run.status) or palette.faint),
            )
        painter.setPen(palette.colour("muted"))
        painter.drawText(4, 12, f"longest {longest:.1f} s")
        painter.end()


class DashboardPage(Page):
    name = "Dashboard"
    topics = frozenset({"runs", "tables", "rows", "workers"})

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
        self.chart = DurationChart(self)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for (title, widget), (row, col) in zip(
            [
                ("Recent runs", table_view(self, self.recent)),
                ("Last 24 hours", table_view(self, self.per_job)),
                ("Run durations", self.chart),
                ("Tables", table_view(self, self.tables)),
            ],
            [(0, 0), (0, 1), (1, 0), (1, 1)],
            strict=True,
        ):
            box = QGroupBox(title, self)
            QVBoxLayout(box).addWidget(widget)
            grid.addWidget(box, row, col)
        box = QGroupBox("Workers", self)
        QVBoxLayout(box).addWidget(table_view(self, self.workers))
        grid.addWidget(box, 2, 0, 1, 2)
        # A worker that dies says nothing: read again when the first live
        # worker's heartbeat would lapse, unless a heartbeat came first.
        self._lapse = QTimer(self)
        self._lapse.setSingleShot(True)
        self._lapse.timeout.connect(self._read_workers)

    def title(self) -> str:
        return "dashboard"

    def refresh(self) -> None:
        self.ctx.tasks.latest("dashboard", self._read_summary, self._on_read)
        self.counts.refresh()

    def _read_summary(self) -> Summary:  # on a worker
        services = self.ctx.services
        since = services.runs.clock() - timedelta(days=1)
        day = services.runs.runs_since(since)
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
        return Summary(services.runs.runs(limit=100), per_job, services.workers.all())

    def on_changes(self, changes: frozenset[Change]) -> None:
        topics = {c.topic for c in changes}
        if topics & {"runs", "external"}:
            self.ctx.tasks.latest("dashboard", self._read_summary, self._on_read)
        elif "workers" in topics:  # a heartbeat: the Workers box alone
            self._read_workers()
        if topics & {"tables", "rows", "columns", "external"}:
            self.counts.refresh()

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
        self.chart.set_runs(list(reversed(summary.runs)))
