"""The Scheduler page: the job list and each job's Configure, Script and
History tabs, with Run Once streaming its log live.

Over 500 lines, kept whole: the page's commands (Run Once, Enable, Save,
Debug) act on the job view's Configure form and editor together; the
History tab (`job_history`), the editor (`editor/`) and the debugger
(`debug_pane`) live apart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QLabel,
    QMessageBox,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.core.config.settings import JOB_MEMORY, JOB_TIMEOUT
from console.core.errors import ConflictError, ConsoleError
from console.core.formatting import local_time
from console.core.jobs.drafts import Drafts
from console.core.jobs.job_store import MAX_INTERVAL, UNITS, Job, check_script
from console.core.jobs.retry_policy import MAX_DELAY_S, MAX_RETRIES, MIN_DELAY_S
from console.core.jobs.runs import Run
from console.core.running.dry_run import DryRunDiff
from console.core.running.log_writer import LogLine
from console.gui.charts import JobDurations
from console.gui.debug_pane import DebugPane, debug_on_f5
from console.gui.dialogs import CreateJobDialog, to_utc
from console.gui.dry_run_pane import DryRunPane
from console.gui.editor.pane import ScriptPane
from console.gui.pages import Context, Page
from console.gui.pages.job_history import HistoryTab
from console.gui.record_model import Column, RecordModel
from console.gui.run_control import RunControl
from console.gui.shell import small_caps_tabs, status_html
from console.gui.sparkline import SparklineDelegate, sparkline_words
from console.gui.widgets import error_label, log_model, name_form_fields, table_view


class JobView(QWidget):
    """One job: status line and the Configure, Script and History tabs."""

    def __init__(self, page: SchedulerPage) -> None:
        super().__init__(page)
        self.page = page
        self.job: Job | None = None
        #: The job as this window last read or wrote it: what a Save is based
        #: on, so that a change made elsewhere since is told, not overwritten.
        self.base: Job | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.status = QLabel(self)
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.tabs = QTabWidget(self)
        small_caps_tabs(self.tabs)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)

        # Configure
        configure = QWidget(self)
        form = QFormLayout(configure)
        self.interval = QSpinBox(configure)
        self.interval.setRange(1, MAX_INTERVAL)
        self.unit = QComboBox(configure)
        self.unit.addItems(list(UNITS))
        self.start = QDateTimeEdit(configure)
        self.start.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        self.start.setCalendarPopup(True)
        self.timeout = QSpinBox(configure)
        self.timeout.setRange(JOB_TIMEOUT.minimum or 1, JOB_TIMEOUT.maximum or 1)
        self.timeout.setSuffix(" s")
        self.memory = QSpinBox(configure)
        self.memory.setRange(JOB_MEMORY.minimum or 1, JOB_MEMORY.maximum or 1)
        self.memory.setSuffix(" MB")
        self.retries = QSpinBox(configure)
        self.retries.setRange(0, MAX_RETRIES)
        self.retries.setToolTip("Retry a failed or timed-out scheduled run up to this many times")
        self.retry_delay = QSpinBox(configure)
        self.retry_delay.setRange(MIN_DELAY_S, MAX_DELAY_S)
        self.retry_delay.setSuffix(" s")
        self.retry_delay.setToolTip(
            "Wait before the first retry; each next one waits twice as long"
        )
        self.enabled = QLabel(configure)
        # Days and months count in the job's own zone, stored with it.
        self.timezone = QLabel(configure)
        self.config_error = error_label(configure)
        form.addRow("Interval", self.interval)
        form.addRow("Unit", self.unit)
        form.addRow("Start", self.start)
        form.addRow("Time zone", self.timezone)
        form.addRow("Timeout", self.timeout)
        form.addRow("Memory limit", self.memory)
        form.addRow("Retries", self.retries)
        form.addRow("Retry delay", self.retry_delay)
        form.addRow("Status", self.enabled)
        form.addRow("", self.config_error)
        name_form_fields(form)
        self.tabs.addTab(configure, "Configure")

        # Script, with the live log of the latest run beneath
        script = QSplitter(Qt.Orientation.Vertical, self)
        app_settings = page.ctx.services.app_settings
        # Completion offers the app settings' names (read on a worker, never values).
        self.script = ScriptPane(
            page.ctx.tasks, script, lambda: [s.name for s in app_settings.list()]
        )
        self.live_log = log_model()
        self.live_view = table_view(script, self.live_log)
        self.live_view.placeholder = "Run Once (Ctrl+R) shows the run's log here as it runs"
        script.addWidget(self.script)
        script.addWidget(self.live_view)
        self.debugger = DebugPane(page.ctx.services, page.ctx.tasks, script)
        self.debugger.hide()
        script.addWidget(self.debugger)
        script.setSizes([400, 160, 240])
        self.tabs.addTab(script, "Script")
        debug_on_f5(self.script.editor, lambda: self.debug())  # the window's F5 refreshes
        self.debugger.current_line.connect(self.script.editor.show_debug_line)

        # History: the runs, and the selected run's log
        self.history = HistoryTab(page.ctx, self)
        self.runs, self.runs_view = self.history.runs, self.history.runs_view
        self.run_log = self.history.run_log
        self.tabs.addTab(self.history, "History")
        for view, name in (
            (self.history.runs_view, "Runs"),
            (self.history.run_log_view, "Run log"),
            (self.history.run_rows_view, "Rows the run wrote"),
            (self.history.run_tabs, "Run"),
            (self.script.editor, "Script"),
            (self.live_view, "Live log"),
            (self.tabs, "Job"),
        ):
            view.setAccessibleName(name)
        self.durations = JobDurations(self.runs, self.runs_view, page.ctx.services.runs.clock)
        self.history.insertWidget(0, self.durations)  # above the runs, in History's splitter
        self.history.setSizes([170, 280, 230])
        self.history.debug_requested.connect(self.debug_run)
        self.history.replay_requested.connect(self.replay_run)

        # Dry run: what the latest dry run would have written
        self.dry_run = DryRunPane(self)
        self.tabs.addTab(self.dry_run, "Dry run")

        self.script.editor.modified_changed.connect(lambda _m: page.header_changed.emit())
        for widget in (self.interval, self.timeout, self.memory, self.retries, self.retry_delay):
            widget.valueChanged.connect(lambda _v: page.commands_changed.emit())

    def debug(self, replay: int | None = None) -> None:
        """Run the saved job under the debugger, at the editor's breakpoints."""
        if self.job is None:
            return
        self.debugger.show()
        breakpoints = sorted(self.script.editor.breakpoints)
        self.debugger.start(self.job, breakpoints, replay=replay)

    def replay_run(self, run_id: int) -> None:
        """History › Replay: the current script against the run's recorded
        HTTP, offline, as a dry run; its diff shows in the Dry run tab."""
        if self.job is not None:
            self.page.start_run(self.job, dry_run=True, replay=run_id)

    def debug_run(self, run_id: int, recorded: bool) -> None:
        """History's "Debug this run": replay it, offline, to where it raised."""
        self.tabs.setCurrentIndex(1)
        self.debug(run_id if recorded else None)

    def show_job(self, job: Job, reload_script: bool = True) -> None:
        first = self.job is None or self.job.id != job.id
        self.job = job
        if first or reload_script:
            self.base = job
            self.interval.setValue(job.interval)
            self.unit.setCurrentText(job.unit)
            self.start.setDateTime(QDateTime.fromSecsSinceEpoch(int(job.start_at.timestamp())))
            self.timeout.setValue(job.timeout_s)
            self.memory.setValue(job.memory_mb)
            self.retries.setValue(job.retries)
            self.retry_delay.setValue(job.retry_delay_s)
            self.timezone.setText(job.zone_text)
            self.script.editor.set_script(job.script, job.language)
            self.config_error.clear()
            self._offer_draft(job)
        if first:
            self.live_log.set_records([])
            self.history.clear()
        self.update_status()
        self.load_runs()

    def _offer_draft(self, job: Job) -> None:
        """Unsaved text kept when the window was last ended by the system:
        back in the editor, unsaved, with a notice."""
        drafts = Drafts(self.page.ctx.services.home)
        kept = drafts.get(job.name)
        if kept is None:
            return
        text, when = kept
        drafts.drop(job.name)  # in the editor now; closing asks about it again
        if text == job.script:
            return
        editor = self.script.editor
        editor.setPlainText(text)
        editor.document().setModified(True)
        self.page.ctx.notify(
            f"Restored the unsaved script of {job.name}, kept when the window was ended at "
            f"{when.astimezone():%Y-%m-%d %H:%M}: Save to keep it"
        )

    def keep_draft(self) -> str | None:
        """Keep the editor's unsaved text as a draft; the job's name if any."""
        if self.job is None or not self.script.editor.is_modified():
            return None
        Drafts(self.page.ctx.services.home).keep(self.job.name, self.script.editor.toPlainText())
        return self.job.name

    def update_status(self) -> None:
        job = self.job
        if job is None:
            return
        word = "Enabled" if job.enabled else "Disabled"
        parts = [status_html(word), job.schedule_text]
        if job.enabled and job.next_run_at:
            parts.append(f"next {local_time(job.next_run_at, '%H:%M')}")
        if self.page.control.is_running(job.name):
            parts.append(status_html("running"))
        self.status.setText(" · ".join(parts))
        self.enabled.setText(self.status.text())

    def load_runs(self) -> None:
        if self.job is not None:
            self.history.show_runs_of(self.job)

    @property
    def wanted_run(self) -> int | None:
        return self.history.wanted_run

    @wanted_run.setter
    def wanted_run(self, run_id: int | None) -> None:
        self.history.wanted_run = run_id

    def start_at(self) -> datetime:
        return to_utc(self.start)


class SchedulerPage(Page):
    name = "Scheduler"
    topics = frozenset({"jobs", "runs", "logs"})

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.control = RunControl(ctx.services.runner, ctx.tasks, self)
        self.control.line_received.connect(self._on_line)
        self.control.run_finished.connect(self._on_run_finished)
        self.control.run_started.connect(lambda _run: self._after_change())
        self.control.run_refused.connect(self._on_refused)
        self.control.dry_run_finished.connect(self._on_dry_run_finished)
        self.jobs = RecordModel[Job](
            [
                Column("Name", lambda j: j.name, fill=True),
                Column("Status", lambda j: "Enabled" if j.enabled else "Disabled", status=True),
                Column("Interval", lambda j: j.schedule_text),
                Column("Last run", lambda j: j.last_run_at, kind="date", empty="never"),
                Column("Next run", lambda j: j.next_run_at, kind="date", empty="not scheduled"),
                Column(
                    "Last 20 runs",
                    lambda j: self.recent.get(j.id, []),
                    kind="chart",
                    spoken=sparkline_words,
                ),
            ],
            key=lambda j: j.id,
        )
        self.recent: dict[int, list[Run]] = {}  # each job's last runs, for its sparkline
        self.stack = QStackedWidget(self)
        self.list = table_view(self, self.jobs)
        self.list.setAccessibleName("Jobs")
        self.list.setItemDelegateForColumn(5, SparklineDelegate(self.list))
        self.list.activated.connect(lambda index: self.open_job(self.jobs.record(index.row())))
        self.list.selectionModel().selectionChanged.connect(lambda *_: self.commands_changed.emit())
        self.job_view = JobView(self)
        self.stack.addWidget(self.list)
        self.stack.addWidget(self.job_view)
        self.message = error_label(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.message)

    # -- header and commands -------------------------------------------------

    def crumbs(self) -> list[str]:
        job = self.job_view.job
        return ["Scheduler"] + ([job.name] if job is not None and self.in_job() else [])

    def title(self) -> str:
        if self.in_job():
            assert self.job_view.job is not None
            marker = " •" if self.job_view.script.editor.is_modified() else ""
            return self.job_view.job.name + marker
        return "scheduler"

    def in_job(self) -> bool:
        return self.stack.currentWidget() is self.job_view and self.job_view.job is not None

    def selected(self) -> Job | None:
        if self.in_job():
            return self.job_view.job
        rows = self.list.selectionModel().selectedRows()
        return self.jobs.record(rows[0].row()) if rows else None

    def available(self) -> dict[str, bool]:
        job = self.selected()
        running = job is not None and self.control.is_running(job.name)
        commands = {
            "Create": True,
            "Run Once": job is not None and not running,
            "Dry Run": job is not None and not running,
            "Enable": job is not None and not job.enabled and job.unit != "none",
            "Disable": job is not None and job.enabled,
            "Delete": job is not None and not running,
        }
        if running:
            commands["Cancel"] = True
        if self.in_job():
            commands["Save"] = True
        return commands

    def trigger(self, command: str) -> None:
        self.message.clear()
        job = self.selected()
        if command == "Create":
            self.create_job()
        elif job is None:
            return
        elif command == "Run Once":
            self.run_once(job)
        elif command == "Dry Run":
            self.run_once(job, dry_run=True)
        elif command == "Cancel":
            self.control.cancel(job.name)
        elif command in ("Enable", "Disable", "Delete"):
            self._job_command(command, job.name)
        elif command == "Save":
            self.save()

    def stop_runs(self, why: str) -> None:
        self.control.shutdown(why)

    def shutdown(self) -> None:
        self.control.shutdown()
        self.job_view.script.shutdown()

    # -- actions ------------------------------------------------------------

    def warm_up(self) -> None:
        # The editor's helper process (jedi) warms up now, as the runner's
        # spare host does: completion is quick in the first script opened.
        self.job_view.script.start_helper()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.job_view.script.start_helper()  # a console opened in the tray: now

    def refresh(self) -> None:
        services = self.ctx.services

        def read() -> tuple[list[Job], dict[int, list[Run]]]:  # on a worker
            return services.jobs.all(), services.runs.recent_by_job(20)

        self.ctx.tasks.latest("jobs", read, self._on_read)
        if self.in_job():
            self.job_view.load_runs()

    def _on_read(self, read: tuple[list[Job], dict[int, list[Run]]]) -> None:
        self.recent = read[1]
        self._on_jobs(read[0])

    def _on_jobs(self, jobs: list[Job]) -> None:
        self.jobs.set_records(jobs)
        if self.in_job():
            current = self.job_view.job
            # A read that began before a change can arrive after it: never
            # navigate on it (our own Delete goes back to the list itself).
            fresh = next((j for j in jobs if current and j.id == current.id), None)
            if fresh is not None:
                self.job_view.job = fresh
                self.job_view.update_status()
        self.commands_changed.emit()

    def open_job(self, job: Job) -> None:
        self.job_view.show_job(job)
        self.stack.setCurrentWidget(self.job_view)
        self.job_view.tabs.setCurrentIndex(1)
        self.header_changed.emit()
        self.commands_changed.emit()

    def show_run(self, job: Job, run_id: int) -> None:
        """The job's History tab with one run and its log (a notification's click)."""
        self.job_view.wanted_run = run_id
        self.open_job(job)
        self.job_view.tabs.setCurrentIndex(2)

    def show_list(self) -> None:
        self.stack.setCurrentWidget(self.list)
        self.header_changed.emit()
        self.commands_changed.emit()

    def can_leave(self) -> bool:
        if not self.in_job() or not self.job_view.script.editor.is_modified():
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved script",
            "The script has unsaved changes. Save them?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        if answer == QMessageBox.StandardButton.Discard:
            self.job_view.script.editor.mark_saved()
            return True
        return False

    def create_job(self, dialog: CreateJobDialog | None = None) -> None:
        """The Create dialog; the job is written off the GUI thread, and a
        refusal reopens the dialog with the message beside the name."""
        if dialog is None:
            dialog = CreateJobDialog({j.name for j in self.jobs.records()}, self)
        if not dialog.exec():
            return
        jobs = self.ctx.services.jobs
        name, interval, unit = (
            dialog.name.text(),
            dialog.interval.value(),
            dialog.unit.currentText(),
        )
        start_at, template = dialog.start_at(), dialog.template.currentData()
        language = None if template else dialog.language.currentData()

        def created(job: Job) -> None:
            self.ctx.notify(f"created job {job.name} (disabled)")
            self._after_change()
            self.open_job(job)

        def refused(error: Exception) -> None:
            dialog.show_error(str(error))
            self.create_job(dialog)

        self.ctx.tasks.submit(
            lambda: jobs.create(
                name,
                interval=interval,
                unit=unit,
                start_at=start_at,
                template=template,
                language=language,
            ),
            created,
            refused,
        )

    def save(self, then: Callable[[], None] | None = None) -> bool:
        """Save the open job's settings and script. A script that does not
        compile is refused at once with its line, and nothing is saved; the
        write itself runs off the GUI thread, and `then` once it is stored."""
        view = self.job_view
        job = view.job
        if job is None:
            return False
        editor = view.script.editor
        script = editor.toPlainText() if editor.is_modified() else None
        try:
            # JavaScript is checked by its engine in `write`, off the GUI thread.
            if script is not None and job.language == "python":
                check_script(script)
        except ConsoleError as e:
            self._on_save_failed(e)
            return False
        jobs, name = self.ctx.services.jobs, job.name
        settings: dict[str, Any] = {
            "interval": view.interval.value(),
            "unit": view.unit.currentText(),
            "start_at": view.start_at(),
            "timeout_s": view.timeout.value(),
            "memory_mb": view.memory.value(),
            "retries": view.retries.value(),
            "retry_delay_s": view.retry_delay.value(),
        }

        def write() -> Job:
            # Based on the job as this window last read or wrote it (read
            # here: a Save before the last one's answer came): a field another
            # window or the CLI changed since is refused, not overwritten.
            base = view.base if view.base is not None and view.base.id == job.id else job
            stored = jobs.configure(name, **settings, script=script, base=base)
            view.base = stored
            return stored

        def saved(stored: Job) -> None:
            if script is None or editor.toPlainText() == script:
                editor.mark_saved()  # unless the user typed on while it was written
            if view.job is not None and view.job.name == stored.name:
                view.show_job(stored, reload_script=False)
            self.ctx.notify(f"saved {stored.name}")
            self._after_change()
            if then is not None:
                then()

        self.ctx.tasks.submit(write, saved, self._on_save_failed)
        return True

    def _on_save_failed(self, error: Exception) -> None:
        self.message.setText(str(error))
        self.job_view.config_error.setText(str(error))
        view = self.job_view
        if isinstance(error, ConflictError) and view.job is not None:
            # The next Save replaces theirs, as the message says: it is based
            # on the job as it is now, the user's text and fields kept.
            jobs, name = self.ctx.services.jobs, view.job.name

            def now_based(now: Job) -> None:
                view.show_job(now, reload_script=False)
                view.base = now

            self.ctx.tasks.submit(lambda: jobs.get(name), now_based)

    def run_once(self, job: Job, dry_run: bool = False) -> None:
        if self.in_job() and self.job_view.script.editor.is_modified():
            # Run Once saves first; a script that does not compile does not run.
            self.save(then=lambda: self.start_run(job, dry_run))
            return
        self.start_run(job, dry_run)

    def start_run(self, job: Job, dry_run: bool = False, replay: int | None = None) -> None:
        if not self.in_job():
            self.open_job(job)
        self.job_view.live_log.set_records([])
        self.control.start(job.name, dry_run=dry_run, replay=replay)
        self.commands_changed.emit()

    def _on_dry_run_finished(self, run: Run, diff: DryRunDiff) -> None:
        self.job_view.dry_run.show_diff(run.id, run.status, diff)
        self.job_view.tabs.setCurrentWidget(self.job_view.dry_run)
        self.commands_changed.emit()  # and the window puts its new grids before them in Tab

    def _on_line(self, line: LogLine) -> None:
        self.job_view.live_log.append(line)
        self.job_view.live_view.scrollToBottom()

    def _on_run_finished(self, run: Run) -> None:
        self.ctx.notify(f"{run.job_name}: {run.status}" + (f" ({run.error})" if run.error else ""))
        self._after_change()

    def _on_refused(self, message: str) -> None:
        self.message.setText(message)
        self._after_change()

    def _job_command(self, command: str, name: str) -> None:
        jobs = self.ctx.services.jobs
        if command == "Enable":
            self._change(lambda: jobs.enable(name), f"enabled {name}")
        elif command == "Disable":
            self._change(lambda: jobs.disable(name), f"disabled {name}")
        elif self.confirm("Delete job", f"Delete the job {name} and its history?"):
            self._change(lambda: jobs.delete(name), f"deleted {name}", back=True)

    def _change(self, action: Any, done: str, back: bool = False) -> None:
        def finished(_result: Any) -> None:
            self.ctx.notify(done)
            if back:
                self.show_list()
            self._after_change()

        self.ctx.tasks.submit(action, finished, lambda e: self.message.setText(str(e)))

    def _after_change(self) -> None:
        if self.ctx.scheduler is not None:
            self.ctx.scheduler.wake()
        self.refresh()
        self.job_view.load_runs()
        self.commands_changed.emit()
