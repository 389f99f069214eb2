"""The main window: navigation on the left, the page in the middle, the
command bar along the bottom, the scheduler's state in the status bar."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, QSettings, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from console.app import Services
from console.core.settings import TIER_LIMITS
from console.gui.pages import Context, Page
from console.gui.pages.configure import ConfigurePage
from console.gui.pages.dashboard import DashboardPage
from console.gui.pages.data import DataPage
from console.gui.pages.logs import LogsPage
from console.gui.pages.scheduler import SchedulerPage
from console.gui.shell import CommandBar, NavBar, PageHeader, icon
from console.gui.tasks import TaskRunner

REFRESH_MS = 3000


class MainWindow(QMainWindow):
    """The console window over one set of services."""

    def __init__(
        self,
        services: Services,
        *,
        keyring_note: str | None = None,
        on_close: Callable[[], None] | None = None,
        run_scheduler: bool = True,
    ) -> None:
        super().__init__()
        self.services = services
        self._on_close = on_close
        self.setWindowTitle(f"Mobile Console — {services.home}")
        self.setWindowIcon(icon("app"))
        self.tasks = TaskRunner(self)
        self.scheduler = services.scheduler() if run_scheduler else None
        self.ctx = Context(services, self.tasks, self.scheduler, self.notify, keyring_note)

        self.nav = NavBar(self)
        self.header = PageHeader(self)
        self.command_bar = CommandBar(self)
        self.stack = QStackedWidget(self)
        self.pages: dict[str, Page] = {}
        for page in (
            DashboardPage(self.ctx, self),
            DataPage(self.ctx, self),
            SchedulerPage(self.ctx, self),
            ConfigurePage(self.ctx, self),
            LogsPage(self.ctx, self),
        ):
            self.pages[page.name] = page
            self.stack.addWidget(page)
            page.commands_changed.connect(self._update_commands)
            page.header_changed.connect(self._update_header)

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
        QShortcut(QKeySequence("F5"), self, lambda: self.current_page().refresh())
        self.tasks.task_failed.connect(self.notify)
        self._timer = QTimer(self, interval=REFRESH_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

        settings = self._qsettings()
        geometry = settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        last = str(settings.value("page", "Scheduler"))
        self.show_page(last if last in self.pages else "Scheduler")
        if self.scheduler is not None:
            self.scheduler.start()
        self._tick()

    @staticmethod
    def _qsettings() -> QSettings:
        return QSettings("mobile-console", "window")

    # -- pages -----------------------------------------------------------------

    def current_page(self) -> Page:
        page = self.stack.currentWidget()
        assert isinstance(page, Page)
        return page

    def show_page(self, name: str) -> None:
        current = self.stack.currentWidget()
        if isinstance(current, Page) and current.name != name and not current.can_leave():
            self.nav.select(current.name)
            return
        page = self.pages[name]
        back = getattr(page, "show_list", None)
        if current is page and callable(back):
            back()  # clicking the page's name again returns to its list, as in the portal
        self.stack.setCurrentWidget(page)
        self.nav.select(name)
        page.refresh()
        self._update_header()
        self._update_commands()

    def _back(self) -> None:
        back = getattr(self.current_page(), "show_list", None)
        if callable(back) and self.current_page().can_leave():
            back()

    def _update_header(self) -> None:
        page = self.current_page()
        self.header.set(page.crumbs(), page.title())

    def _update_commands(self) -> None:
        self.command_bar.show_commands(self.current_page().available())

    def _on_command(self, command: str) -> None:
        page = self.current_page()
        if page.available().get(command):
            page.trigger(command)

    def notify(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    # -- status and refresh ----------------------------------------------------

    def _tick(self) -> None:
        self.current_page().refresh()
        services, scheduler, note = self.services, self.scheduler, self.ctx.keyring_note

        def read() -> str:
            with services.store.read() as conn:
                enabled = len(services.jobs.enabled_names(conn))
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

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.current_page().can_leave():
            event.ignore()
            return
        settings = self._qsettings()
        settings.setValue("geometry", self.saveGeometry())
        settings.setValue("page", self.current_page().name)
        self._timer.stop()
        scheduler_page = self.pages["Scheduler"]
        assert isinstance(scheduler_page, SchedulerPage)
        scheduler_page.control.shutdown()
        if self.scheduler is not None:
            self.scheduler.stop(grace_s=3.0)
        data_page = self.pages["Data"]
        assert isinstance(data_page, DataPage)
        data_page.shutdown()
        self.tasks.shutdown()
        if self._on_close is not None:
            self._on_close()
        super().closeEvent(event)
