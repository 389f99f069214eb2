"""The system tray: the console keeps running the enabled jobs when its
window is closed, and says when they fail.

With enabled jobs and a system tray, closing the window (its close button,
the window manager) hides it to the tray; the scheduler keeps running. The
first time, a notice says so. The tray menu has Open, Run Once ▸ (the jobs),
Pause scheduler / Resume, and Quit; the icon shows the state: running,
paused, or a failure not yet looked at. The `tray` setting turns it off.
Where there is no tray (or it is off), closing with enabled jobs asks
whether to quit or keep the window open.

Only a close the user asked for is intercepted: closes from code (a signal,
`closeAllWindows`, tests) end the console as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, QRectF, QSettings, Signal
from PySide6.QtGui import QCloseEvent, QColor, QIcon, QPainter
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox, QSystemTrayIcon, QWidget

from console.core.jobs.retry_policy import RETRIED
from console.core.scheduling.alerts import FAILED, Alert
from console.gui import theme
from console.gui.notifications import Notifier
from console.gui.shell import icon

if TYPE_CHECKING:
    from console.app import Services
    from console.core.jobs.job_store import Job
    from console.core.jobs.runs import Run
    from console.core.scheduling.scheduler import ConsoleScheduler
    from console.gui.operations import Operations
    from console.gui.pages import Page

NOTICE_KEY = "tray_notice_shown"


class TrayWindow(Protocol):
    """What the tray asks of the main window: its services, its pages and its
    visibility (the window owns the tray, so the tray names no window class)."""

    services: Services | None
    tasks: Operations
    pages: dict[str, Page]

    def notify(self, text: str) -> None: ...
    def show_page(self, name: str) -> None: ...
    def open_run(self, run_id: int) -> None: ...
    def isVisible(self) -> bool: ...
    def isActiveWindow(self) -> bool: ...
    def show(self) -> None: ...
    def showNormal(self) -> None: ...
    def hide(self) -> None: ...
    def raise_(self) -> None: ...
    def activateWindow(self) -> None: ...
    def close(self) -> bool: ...


#: The palette's status word for each tray state.
STATE_WORDS = {"running": "Enabled", "paused": "Disabled", "failed": "failed"}


def notice_text(enabled: int) -> str:
    jobs = f"{enabled} enabled job{'s' * (enabled != 1)}"
    return f"Mobile Console keeps running your {jobs}; Quit from the tray menu"


def state_icon(state: str, size: int = 64) -> QIcon:
    """The app icon with a dot in the state's colour at its corner."""
    pixmap = icon("app").pixmap(size, size)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(theme.current().colour("on_accent"))
    painter.setBrush(QColor(theme.current().status(STATE_WORDS[state])))
    dot = size * 0.42
    painter.drawEllipse(QRectF(size - dot - 1, size - dot - 1, dot, dot))
    painter.end()
    return QIcon(pixmap)


class TrayKeeper(QObject):
    """The tray icon, its menu, and what closing the window means."""

    state_changed = Signal(str)  # running, paused or failed
    _alerted = Signal(object)  # an Alert, from a run's thread to the GUI thread

    def __init__(self, window: TrayWindow, scheduler: ConsoleScheduler, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent  # the window as a widget: dialogs sit over it
        self.window, self.scheduler = window, scheduler
        self.quitting = False
        self.enabled_setting = True  # the `tray` setting, read off the GUI thread
        self.jobs: list[Job] = []  # for Run Once ▸, read off the GUI thread
        self.unseen_failures: set[str] = set()
        self.last_notice: str | None = None
        self._holding_app = False
        self._shown_state = "running"
        self.icon = QSystemTrayIcon(state_icon("running"), self)
        self.icon.setToolTip("Mobile Console")
        self.icon.activated.connect(self._on_activated)
        self.menu = QMenu()
        self.open_action = self.menu.addAction("Open", self.open)
        self.run_menu = self.menu.addMenu("Run Once")
        self.menu.addSeparator()
        self.pause_action = self.menu.addAction("Pause scheduler", self.toggle_pause)
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction("Quit", self.quit)
        self.menu.aboutToShow.connect(self.refresh)
        self.icon.setContextMenu(self.menu)
        self._notifier: Notifier | None = None  # made at the first alert: it opens D-Bus
        self._alerted.connect(self._on_alert)
        self._listener = self._alerted.emit
        scheduler.alert_listeners.append(self._listener)
        self._watch_run_once()
        self.refresh()

    @property
    def notifier(self) -> Notifier:
        if self._notifier is None:
            self._notifier = Notifier(self.icon, self)
            self._notifier.clicked.connect(self.show_run)
        return self._notifier

    # -- state -------------------------------------------------------------------

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    @property
    def in_use(self) -> bool:
        return self.enabled_setting and self.available()

    @property
    def state(self) -> str:
        if self.unseen_failures:
            return "failed"
        return "paused" if self.scheduler.paused else "running"

    def refresh(self) -> None:
        """Read the jobs and the `tray` setting off the GUI thread, then show."""
        services = self.window.services
        if services is None:
            return

        def read() -> tuple[list[Job], bool]:
            return services.jobs.all(), bool(services.settings.get("tray"))

        self.window.tasks.latest("tray", read, self._on_read)

    def _on_read(self, read: tuple[list[Job], bool]) -> None:
        jobs, self.enabled_setting = read
        names = [job.name for job in jobs]
        if names != [job.name for job in self.jobs] or not self.run_menu.actions():
            self.run_menu.clear()  # only when the jobs changed: the menu may be open
            for name in names:
                action = self.run_menu.addAction(name)
                action.triggered.connect(lambda _checked=False, name=name: self.run_once(name))
        self.jobs = jobs
        self.run_menu.setEnabled(bool(jobs))
        self._show_state()

    def _show_state(self) -> None:
        state = self.state
        if state != self._shown_state:
            self._shown_state = state
            self.icon.setIcon(state_icon(state))
        self.pause_action.setText("Resume" if self.scheduler.paused else "Pause scheduler")
        words = {"running": "scheduler running", "paused": "scheduler paused"}
        tip = words.get(state) or "failed: " + ", ".join(sorted(self.unseen_failures))
        self.icon.setToolTip(f"Mobile Console: {tip}")
        self.icon.setVisible(self.in_use)
        self.state_changed.emit(state)

    # -- closing -----------------------------------------------------------------

    def keeps_running(self, event: QCloseEvent) -> bool:
        """Whether closing the window leaves the console running (hidden to
        the tray, or kept open when the user says so); the event is then ignored."""
        enabled = self.scheduler.scheduled_count()
        if self.quitting or not event.spontaneous() or enabled == 0:
            return False
        event.ignore()
        if self.in_use:
            self.hide_to_tray(enabled)
            return True
        if self.ask_quit(enabled):
            self.quitting = True
            event.accept()
            return False
        return True

    def ask_quit(self, enabled: int) -> bool:
        """No tray to keep to: quit (the jobs stop) or keep the window open?"""
        box = QMessageBox(self._parent)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Quit Mobile Console?")
        jobs = f"{enabled} enabled job{'s' * (enabled != 1)}"
        box.setText(f"Quitting stops your {jobs}: they run only while Mobile Console runs.")
        box.setInformativeText("There is no system tray to keep running in.")
        quit_button = box.addButton("Quit", QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton("Keep open", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setObjectName("ask-quit")
        box.exec()
        return box.clickedButton() is quit_button

    def hide_to_tray(self, enabled: int | None = None) -> None:
        # The tray's menus and balloons are windows too: their closing must
        # not end the app. `shutdown` gives the app its end back.
        QApplication.setQuitOnLastWindowClosed(False)
        self._holding_app = True
        self.icon.setVisible(True)
        self.window.hide()
        settings = QSettings("mobile-console", "window")
        if not settings.value(NOTICE_KEY, False, type=bool):
            settings.setValue(NOTICE_KEY, True)
            count = self.scheduler.scheduled_count() if enabled is None else enabled
            self.last_notice = notice_text(count)
            self.icon.showMessage(
                "Mobile Console", self.last_notice, QSystemTrayIcon.MessageIcon.Information, 10_000
            )

    # -- the menu ----------------------------------------------------------------

    def open(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
        self.unseen_failures.clear()  # looked at
        self._show_state()

    def run_once(self, name: str) -> None:
        from console.gui.pages.scheduler import SchedulerPage

        page = self.window.pages.get("Scheduler")
        if isinstance(page, SchedulerPage):
            page.control.start(name)

    def _watch_run_once(self) -> None:
        from console.gui.pages.scheduler import SchedulerPage

        page = self.window.pages.get("Scheduler")
        if isinstance(page, SchedulerPage):
            page.control.run_finished.connect(self._on_run_once_finished)

    def _on_run_once_finished(self, run: Run) -> None:
        # Run Once from the tray, the window hidden: its failure is said as
        # a scheduled one's is (the window shows it otherwise).
        if not self.window.isVisible() and run.status in RETRIED:
            self._on_alert(Alert(FAILED, run))

    def toggle_pause(self) -> None:
        if self.scheduler.paused:
            self.scheduler.resume()
        else:
            self.scheduler.pause()
        self._show_state()
        self.window.notify("scheduler paused" if self.scheduler.paused else "scheduler resumed")

    def quit(self) -> None:
        """End everything: the window closes as its close button does when
        nothing keeps it (the scheduler stopped, runs ended), then the app."""
        self.quitting = True
        self.window.close()  # its shutdown ends the app (see `shutdown`)

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.open()

    # -- failures ----------------------------------------------------------------

    def _on_alert(self, alert: Alert) -> None:
        job = alert.run.job_name
        if alert.kind == FAILED:
            if not self.window.isVisible() or not self.window.isActiveWindow():
                self.unseen_failures.add(job)
        else:
            self.unseen_failures.discard(job)
        self.notifier.alert(alert)
        self._show_state()

    def show_run(self, job_name: str, run_id: int) -> None:
        """Open the window on a run's log (a notification was clicked)."""
        if self.window.services is None:
            return
        self.open()
        self.window.open_run(run_id)

    def start_hidden(self) -> None:
        """`--minimized`: straight into the tray, or the window where there is none."""
        if self.in_use:
            self.hide_to_tray()
        else:
            self.window.show()

    def shutdown(self) -> None:
        if self._listener in self.scheduler.alert_listeners:
            self.scheduler.alert_listeners.remove(self._listener)
        if self._notifier is not None:
            self._notifier.close()
        self.icon.hide()
        if self._holding_app:
            # Closed while hidden (Quit, SIGTERM's closeAllWindows): no last
            # window closes now, so end the app here.
            self._holding_app = False
            QApplication.setQuitOnLastWindowClosed(True)
            QApplication.quit()
