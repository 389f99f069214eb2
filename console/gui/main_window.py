"""The main window: navigation on the left, the page in the middle, the
command bar along the bottom, the scheduler's state in the status bar.

The frame needs nothing of the core, so the program paints it at once and
opens the database (and loads SQLAlchemy and the pages) on a worker thread;
`attach` then wires the pages to the services. `create_window` attaches
before it returns.

Over 500 lines, kept whole: opening in the background, the pages, the
commands, the status bar and closing all move the same window's state.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QPaintEvent, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.gui import theme
from console.gui.operations import Operations
from console.gui.shell import PAGES, CommandBar, NavBar, PageHeader, icon

if TYPE_CHECKING:
    from console.app import Services
    from console.core.scheduling.scheduler import ConsoleScheduler
    from console.core.store.changes import Change
    from console.gui.change_watch import ChangeWatch
    from console.gui.pages import Context, Page
    from console.gui.tray import TrayKeeper

#: Changes that the status bar shows (the enabled jobs, the tier, the next run).
STATUS_TOPICS = frozenset({"jobs", "settings", "external"})


@dataclass
class Opened:
    """What opening a console in the background gives the window."""

    services: Services
    on_close: Callable[[], None] | None = None
    keyring_note: str | None = None
    message: str | None = None  # for the status bar, once open


class MainWindow(QMainWindow):
    """The console window over one set of services."""

    opening_failed = Signal(str)
    #: The scheduler's notices (database gone or back, runs waiting for a
    #: dry run), from its thread; shown in the status bar.
    scheduler_notice = Signal(str)

    def __init__(
        self,
        services: Services | None = None,
        *,
        keyring_note: str | None = None,
        on_close: Callable[[], None] | None = None,
        run_scheduler: bool = True,
    ) -> None:
        super().__init__()
        self.services: Services | None = None
        self.scheduler: ConsoleScheduler | None = None
        self.ctx: Context | None = None
        self.pages: dict[str, Page] = {}
        self._on_close: Callable[[], None] | None = None
        self._run_scheduler = run_scheduler
        self._terminating = False
        self._theme = "system"  # the `theme` setting, once read
        #: The signal that closed the window (SIGTERM, SIGHUP, SIGINT), if one did.
        self.stopped_by: str | None = None
        self._opening: list[Opened] = []  # filled by the worker that opens the console
        self._start_opening: Callable[[], None] | None = None
        self.tray: TrayKeeper | None = None  # with a scheduler: closing keeps it running
        self._minimized = False
        self.setWindowTitle("Mobile Console")
        self.setWindowIcon(icon("app"))
        #: Every worker of the window: the one way off the GUI thread.
        self.tasks = Operations(self)
        self.changes: ChangeWatch | None = None

        self.nav = NavBar(self)
        self.header = PageHeader(self)
        self.command_bar = CommandBar(self)
        self.stack = QStackedWidget(self)
        self.opening = QLabel("Opening the console…", self)
        self.opening.setObjectName("opening")
        self.opening.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.opening.setWordWrap(True)
        self.stack.addWidget(self.opening)

        content = QWidget(self)
        content.setObjectName("content")
        column = QVBoxLayout(content)
        column.setContentsMargins(28, 16, 28, 12)
        column.addWidget(self.header)
        column.addWidget(self.stack, 1)
        middle = QWidget(self)
        row = QHBoxLayout(middle)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.nav)
        row.addWidget(content, 1)
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(middle, 1)
        outer.addWidget(self.command_bar)
        self.setCentralWidget(central)
        self.scheduler_state = QLabel(self)
        self.statusBar().addPermanentWidget(self.scheduler_state)

        self.nav.page_chosen.connect(self.show_page)
        self.command_bar.triggered.connect(self._on_command)
        QShortcut(QKeySequence("Escape"), self, self._back)
        QShortcut(QKeySequence("F5"), self, self._refresh_current)
        self.tasks.failed.connect(self.notify)

        settings = self._qsettings()
        geometry = settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        last = str(settings.value("page", "Scheduler"))
        self._first_page = last if last in PAGES else "Scheduler"
        self.nav.select(self._first_page)
        self.header.set([self._first_page], self._first_page.lower())
        self.command_bar.show_commands({})
        if services is not None:
            self.attach(services, keyring_note=keyring_note, on_close=on_close)

    @staticmethod
    def _qsettings() -> QSettings:
        return QSettings("mobile-console", "window")

    # -- opening -----------------------------------------------------------------

    def open_in_background(self, opener: Callable[[], Opened]) -> None:
        """Open the console on a worker thread (the database, SQLAlchemy, the
        pages' modules), then attach on the GUI thread; a failure is shown in
        the window."""

        def work() -> Opened:
            opened = opener()
            self._opening.append(opened)  # so a window closed meanwhile still closes it
            import console.gui.pages.configure
            import console.gui.pages.dashboard
            import console.gui.pages.data
            import console.gui.pages.logs
            import console.gui.pages.scheduler  # noqa: F401  (loaded here, not on the GUI thread)

            return opened

        def done(opened: Opened) -> None:
            self._opening.clear()
            self.attach(opened.services, keyring_note=opened.keyring_note, on_close=opened.on_close)
            if opened.message:
                self.notify(opened.message)

        def failed(error: Exception) -> None:
            self.header.set([], "cannot open the console")
            self.opening.setObjectName("fielderror")  # red, as every refusal
            self.opening.style().polish(self.opening)
            self.opening.setText(str(error))
            self.notify(str(error))
            self.opening_failed.emit(str(error))

        # Started once the frame is on screen: the loading thread would
        # otherwise hold the interpreter while the first paint waits.
        def start() -> None:
            self.tasks.submit(work, done, failed)

        self._start_opening = start
        if self.isVisible():
            QTimer.singleShot(0, self._begin_opening)

    def open_minimized(self) -> None:
        """`--minimized`: open without showing the window; into the tray once
        open (or the window after all, where there is no tray)."""
        self._minimized = True
        QTimer.singleShot(0, self._begin_opening)

    def _begin_opening(self) -> None:
        start, self._start_opening = self._start_opening, None
        if start is not None:
            start()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._start_opening is not None:
            QTimer.singleShot(0, self._begin_opening)

    def attach(
        self,
        services: Services,
        *,
        keyring_note: str | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        """Wire the window to `services`: the pages, the scheduler, the status."""
        from console.gui.pages import Context
        from console.gui.pages.configure import ConfigurePage
        from console.gui.pages.dashboard import DashboardPage
        from console.gui.pages.data import DataPage
        from console.gui.pages.logs import LogsPage
        from console.gui.pages.scheduler import SchedulerPage

        self.services = services
        self._on_close = on_close
        self.setWindowTitle(f"Mobile Console — {services.home}")
        self.scheduler = services.scheduler() if self._run_scheduler else None
        if self.scheduler is not None:
            self.scheduler_notice.connect(self.notify)
            self.scheduler.notices.listeners.append(self.scheduler_notice.emit)
        self.ctx = Context(services, self.tasks, self.scheduler, self.notify, keyring_note)
        data, dashboard = DataPage(self.ctx, self), DashboardPage(self.ctx, self)
        for page in (
            dashboard,
            data,
            SchedulerPage(self.ctx, self),
            ConfigurePage(self.ctx, self),
            LogsPage(self.ctx, self),
        ):
            self.pages[page.name] = page
            self.stack.addWidget(page)
            page.commands_changed.connect(self._update_commands)
            page.header_changed.connect(self._update_header)
        data.table_view.grid.run_requested.connect(self.open_run)
        dashboard.run_opened.connect(self.open_run)
        self.command_bar.tab_after(self.stack)
        self.show_page(self._first_page)
        self.tasks.submit(services.runner.keep_warm, finish_on_close=False)  # Run Once at once
        if not self._minimized:
            for shown in self.pages.values():
                shown.warm_up()
        from console.gui.change_watch import ChangeWatch

        self.changes = ChangeWatch(services.store, self.tasks, self)
        self.changes.changed.connect(self._on_changes)
        if self.scheduler is not None:
            self.scheduler.start()
            from console.gui.tray import TrayKeeper

            self.tray = TrayKeeper(self, self.scheduler, parent=self)
            self.tray.refresh()  # then on changes of the jobs or the `tray` setting
            if self._minimized:
                self.tray.start_hidden()
        self._update_status()
        self._read_theme()
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_scheme_changed)
        self._mention_drafts(services)

    def _mention_drafts(self, services: Services) -> None:
        from console.core.jobs.drafts import Drafts

        for warning in services.warnings:
            self.notify(warning)
        kept = Drafts(services.home).names()
        if kept:
            self.notify(
                f"Unsaved script{'s' * (len(kept) > 1)} of {', '.join(kept)} "
                "kept when the window was last ended: open the job to get it back"
            )

    @property
    def attached(self) -> bool:
        return self.services is not None

    # -- pages -----------------------------------------------------------------

    def current_page(self) -> Page:
        page = self.stack.currentWidget()
        assert page in self.pages.values(), "the window is still opening"
        return page  # type: ignore[return-value]

    def show_page(self, name: str) -> None:
        if not self.attached:
            self._first_page = name  # shown once the console is open
            self.nav.select(name)
            self.header.set([name], name.lower())
            return
        current = self.stack.currentWidget()
        page = self.pages[name]
        leaving = current is not page and current in self.pages.values()
        if leaving and not self.current_page().can_leave():
            self.nav.select(self.current_page().name)
            return
        if leaving:
            self.current_page().leave()
        back = getattr(page, "show_list", None)
        if current is page and callable(back):
            back()  # clicking the page's name again returns to its list, as in the portal
        self.stack.setCurrentWidget(page)
        self.nav.select(name)
        page.refresh()
        self._update_header()
        self._update_commands()

    def _back(self) -> None:
        if not self.attached:
            return
        back = getattr(self.current_page(), "show_list", None)
        if callable(back) and self.current_page().can_leave():
            back()

    def _refresh_current(self) -> None:
        if self.attached:
            self.current_page().refresh()

    def _update_header(self) -> None:
        page = self.current_page()
        self.header.set(page.crumbs(), page.title())

    def _update_commands(self) -> None:
        self.command_bar.show_commands(self.current_page().available())
        self.command_bar.tab_after(self.stack)

    def _on_command(self, command: str) -> None:
        if not self.attached:
            return
        page = self.current_page()
        if page.available().get(command):
            page.trigger(command)

    def open_run(self, run_id: int) -> None:
        """Scheduler › the run's job › History, with the run selected (a Data
        row's context menu: the run that wrote it)."""
        from sqlalchemy.exc import NoResultFound

        from console.core.errors import ConsoleError
        from console.core.jobs.job_store import Job
        from console.gui.pages.scheduler import SchedulerPage

        services = self.services
        page = self.pages.get("Scheduler")
        if services is None or not isinstance(page, SchedulerPage):
            return

        def job_of_run() -> Job:
            try:
                return services.jobs.get(services.runs.get(run_id).job_name)
            except NoResultFound:
                raise ConsoleError(
                    f"run {run_id} is no longer in History (pruned with the log, "
                    "or its job was deleted)"
                ) from None

        self.show_page("Scheduler")
        self.tasks.submit(
            job_of_run, lambda job: page.show_run(job, run_id), lambda e: self.notify(str(e))
        )

    def notify(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    # -- status and change events ----------------------------------------------

    def _on_changes(self, changes: frozenset[Change]) -> None:
        """Redraw only what changed: the page shown, and the status bar."""
        self.current_page().on_changes(changes)
        if any(c.topic in STATUS_TOPICS for c in changes):
            self._update_status()
            self._read_theme()
            if self.tray is not None:
                self.tray.refresh()  # the `tray` setting, the jobs

    def _read_theme(self) -> None:
        services = self.services
        assert services is not None
        self.tasks.latest("theme", lambda: str(services.settings.get("theme")), self._on_theme)

    def _on_theme(self, choice: str) -> None:
        """The `theme` setting, painted at once: no restart."""
        self._theme = choice
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply(app, choice)

    def _on_scheme_changed(self) -> None:
        if self._theme == "system":  # the desktop went light or dark
            self._on_theme(self._theme)

    def _update_status(self) -> None:
        from console.core.config.settings import TIER_LIMITS

        services, scheduler = self.services, self.scheduler
        assert services is not None and self.ctx is not None
        note = self.ctx.keyring_note
        if scheduler is not None and scheduler.fatal is not None:
            # The database went away or is corrupt: say it, read nothing more.
            self.scheduler_state.setText(f"Scheduler stopped: {scheduler.fatal}")
            return

        def read() -> str:
            enabled = len(services.jobs.enabled())
            total = len(services.jobs.all())
            tier = services.settings.get("tier")
            limit = TIER_LIMITS[tier]
            parts = [
                "Scheduler running" if scheduler and scheduler.running else "Scheduler stopped",
                f"{enabled} of {total} jobs enabled ({tier.title()} tier"
                + (f", limit {limit})" if limit else ")"),
            ]
            upcoming = scheduler.next_due() if scheduler else None
            if upcoming:
                parts.append(f"next: {upcoming[0]} at {upcoming[1].astimezone():%H:%M:%S}")
            keyring = note or services.keyring.problem()
            parts.append(
                "keyring: unavailable"
                if keyring
                else f"keyring: {type(services.keyring.backend()).__name__}"
            )
            return " · ".join(parts)

        self.tasks.latest("status", read, self.scheduler_state.setText)

    # -- closing -----------------------------------------------------------------

    def terminate(self, by: str | None = None) -> None:
        """Ended by the system (SIGTERM: a logout, a shutdown): keep unsaved
        script text as a draft, dismiss any question on screen, ask nothing,
        and close within seconds; running jobs are cancelled, not waited for."""
        self._terminating = True
        self.stopped_by = by or self.stopped_by
        if self.attached:
            from console.gui.pages.scheduler import SchedulerPage

            page = self.pages["Scheduler"]
            assert isinstance(page, SchedulerPage)
            try:
                page.job_view.keep_draft()
            except OSError as e:  # a full disk: say so where it may still be seen
                print(f"mobile-console: could not keep the unsaved script: {e}", file=sys.stderr)
            page.job_view.script.editor.mark_saved()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            for widget in app.topLevelWidgets():
                if isinstance(widget, QDialog) and widget.isVisible():
                    widget.reject()
        QTimer.singleShot(0, self.close)  # once the dialogs' own loops have returned

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._terminating and self.tray is not None and self.tray.keeps_running(event):
            return  # hidden to the tray, or kept open
        if self.attached and not self._terminating and not self.current_page().can_leave():
            event.ignore()
            return
        settings = self._qsettings()
        settings.setValue("geometry", self.saveGeometry())
        settings.setValue("page", self.current_page().name if self.attached else self._first_page)
        if self.changes is not None:
            self.changes.shutdown()
        why = (
            f"the console was stopped by {self.stopped_by}"
            if self.stopped_by
            else "the console was stopped"
            if self._terminating
            else "the console was closed"
        )
        scheduler_page = self.pages.get("Scheduler")
        if scheduler_page is not None:
            scheduler_page.stop_runs(why)  # interrupted, not cancelled: nobody chose Cancel
        for page in self.pages.values():
            page.shutdown()
        if self.scheduler is not None:
            self.scheduler.stop(grace_s=0.0 if self._terminating else 3.0, why=why)
        if self.tray is not None:
            self.tray.shutdown()
        # Cancels what runs (a Run Once is recorded as cancelled), finishes
        # saves and an open still going, joins every worker.
        self.tasks.shutdown(timeout=3.0 if self._terminating else 10.0)
        for opened in self._opening:  # opened, never attached: close it all the same
            if opened.on_close is not None:
                opened.on_close()
        self._opening.clear()
        if self._on_close is not None:
            self._on_close()
        super().closeEvent(event)
