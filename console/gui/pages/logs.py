"""The Logs page: every log entry, filtered by level, job and text, updated
live, with the selected entry in full below."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from console.core.formatting import local_time
from console.core.jobs.runs import LEVELS, LogEntry
from console.gui.pages import Context, Page
from console.gui.record_model import Column, RecordModel
from console.gui.widgets import table_view

SHOWN = 2000


class LogsPage(Page):
    name = "Logs"
    topics = frozenset({"logs"})

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.level = QComboBox(self)
        self.level.addItem("All levels", None)
        for level in LEVELS:
            self.level.addItem(level, level)
        self.job = QComboBox(self)
        self.job.addItem("All jobs", None)
        self.text = QLineEdit(self)
        self.text.setPlaceholderText("Search messages")
        self.level.setAccessibleName("Level")
        self.job.setAccessibleName("Job")
        self.text.setAccessibleName("Search messages")
        bar = QHBoxLayout()
        for widget in (self.level, self.job, self.text):
            bar.addWidget(widget)
        self.entries = RecordModel[LogEntry](
            [
                Column("Time", lambda e: e.at, kind="date"),
                Column("Level", lambda e: e.level, status=True),
                Column("Source", lambda e: e.job_name or "console"),
                Column("Message", lambda e: e.message, fill=True),
            ],
            key=lambda e: e.id,
        )
        split = QSplitter(Qt.Orientation.Vertical, self)
        self.view = table_view(split, self.entries)
        self.detail = QPlainTextEdit(split)
        self.detail.setReadOnly(True)
        self.detail.setPlaceholderText("Select an entry to read it here in full")
        self.view.setAccessibleName("Log entries")
        self.detail.setAccessibleName("The entry in full")
        split.addWidget(self.view)
        split.addWidget(self.detail)
        split.setSizes([500, 120])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        self.view.selectionModel().currentRowChanged.connect(self._on_selected)
        self.level.currentIndexChanged.connect(lambda _i: self.refresh())
        self.job.currentIndexChanged.connect(lambda _i: self.refresh())
        self.text.textChanged.connect(lambda _t: self.refresh())

    def title(self) -> str:
        return "logs"

    def refresh(self) -> None:
        services = self.ctx.services
        level, job, text = self.level.currentData(), self.job.currentData(), self.text.text()

        def read() -> tuple[list[LogEntry], list[str]]:
            entries = services.runs.entries(
                level=level, job_name=job, text=text or None, limit=SHOWN, newest_first=True
            )
            return entries, [j.name for j in services.jobs.all()]

        self.ctx.tasks.latest("logs", read, self._on_read)

    def _on_read(self, result: tuple[list[LogEntry], list[str]]) -> None:
        entries, jobs = result
        self.entries.set_records(entries)
        known = {self.job.itemData(i) for i in range(1, self.job.count())}
        if set(jobs) != known:
            current = self.job.currentData()
            self.job.blockSignals(True)
            while self.job.count() > 1:
                self.job.removeItem(1)
            for name in jobs:
                self.job.addItem(name, name)
            index = self.job.findData(current)
            self.job.setCurrentIndex(max(0, index))
            self.job.blockSignals(False)

    def _on_selected(self, current: Any, _previous: Any) -> None:
        if current.isValid():
            e = self.entries.record(current.row())
            self.detail.setPlainText(
                f"{local_time(e.at)}  {e.level}  {e.job_name or 'console'}"
                + (f"  run {e.run_id}" if e.run_id else "")
                + f"\n\n{e.message}"
            )
