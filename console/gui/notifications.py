"""Desktop notifications of failures and recoveries, coalesced per job.

Through the freedesktop notification service on the session bus
(org.freedesktop.Notifications) where there is one, else the tray icon's
balloon. Each names the job and the first line of its error; clicking one
opens that run's log. A job that keeps failing does not flood the desktop:
its failures update the one notification still shown (a dismissed one stays
dismissed) until the job succeeds again, which is said once too.

The D-Bus calls go through jeepney (pure Python, already the keyring's
Secret Service client), not QtDBus: Notify's signature is (susssasa{sv}i),
and PySide6 6.11 sends a Python int as an int32 with no way to ask for a
uint32 (no typed QVariant or QDBusArgument.add from Python). Measured with
dunst: "Type of message (sisssasa{sv}i) does not match expected type".
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QSystemTrayIcon

from console.core.scheduling.alerts import FAILED, Alert

log = logging.getLogger(__name__)

APP_NAME = "Mobile Console"
SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
CALL_TIMEOUT_S = 3.0


@dataclass
class _Streak:
    """What the desktop was told of one job's current failures."""

    kind: str
    run_id: int
    count: int
    since: datetime
    notification_id: int = 0  # 0: none shown (or the user closed it)
    dismissed: bool = False


class _Bus:
    """org.freedesktop.Notifications over a jeepney connection of our own;
    its signals (clicks, closes) arrive on jeepney's receiver thread and are
    passed to `deliver`."""

    def __init__(self, deliver: Any) -> None:
        from jeepney import DBusAddress, MatchRule, new_method_call
        from jeepney.bus_messages import message_bus
        from jeepney.io.threading import DBusRouter, open_dbus_connection

        self._new_call = new_method_call
        self._address = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
        self._router = DBusRouter(open_dbus_connection(bus="SESSION"))
        try:
            # Only a server already running: starting one by D-Bus activation
            # can take seconds, and fails where there is no desktop.
            owned = self._router.send_and_get_reply(
                message_bus.NameHasOwner(SERVICE), timeout=CALL_TIMEOUT_S
            )
            if not owned.body or not owned.body[0]:
                raise OSError(f"no {SERVICE} on the session bus")
            reply = self._router.send_and_get_reply(
                new_method_call(self._address, "GetServerInformation"), timeout=CALL_TIMEOUT_S
            )
            if reply.header.message_type.name != "method_return":
                raise OSError(f"no notification service: {reply.body}")
            self.server = str(reply.body[0])
            rule = MatchRule(type="signal", interface=SERVICE, path=PATH)
            self._signals: queue.Queue[Any] = queue.Queue()
            self._filter = self._router.filter(rule, queue=self._signals)
            self._router.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT_S)
        except BaseException:
            self._router.close()
            raise
        self._deliver = deliver
        self._thread = threading.Thread(target=self._listen, name="notifications", daemon=True)
        self._thread.start()

    def notify(self, replaces: int, summary: str, body: str, urgency: int) -> int:
        hints = {"urgency": ("y", urgency), "desktop-entry": ("s", "mobile-console")}
        reply = self._router.send_and_get_reply(
            self._new_call(
                self._address,
                "Notify",
                "susssasa{sv}i",
                (
                    APP_NAME,
                    replaces,
                    "mobile-console",
                    summary,
                    body,
                    ["default", "Open the log"],
                    hints,
                    -1,
                ),
            ),
            timeout=CALL_TIMEOUT_S,
        )
        if reply.header.message_type.name != "method_return":
            raise OSError(f"the notification service refused: {reply.body}")
        return int(reply.body[0])

    def _listen(self) -> None:
        while True:
            message = self._signals.get()
            if message is None:
                return
            member = message.header.fields.get(3)  # HeaderFields.member
            self._deliver(str(member), message.body)

    def close(self) -> None:
        self._signals.put(None)
        self._thread.join(5)
        self._filter.close()
        self._router.close()


class Notifier(QObject):
    """Tells the desktop of failures and recoveries; `clicked` carries the
    job and run whose log to open."""

    clicked = Signal(str, int)  # job name, run id
    _signal_received = Signal(str, object)  # from jeepney's thread to the GUI thread

    def __init__(self, tray: QSystemTrayIcon | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tray = tray
        self._streaks: dict[str, _Streak] = {}
        self._balloon_for: tuple[str, int] | None = None
        self._bus: _Bus | None = None
        self.problem: str | None = None
        try:
            self._bus = _Bus(self._signal_received.emit)
        except Exception as e:  # no session bus, no service: the balloon instead
            self.problem = f"{type(e).__name__}: {e}"
            log.info("no desktop notification service (%s); using the tray's balloon", e)
        self._signal_received.connect(self._on_signal_received)
        if tray is not None:
            tray.messageClicked.connect(self._on_balloon_clicked)
        #: (summary, body) of every notification sent, for the status bar and tests
        self.sent: list[tuple[str, str]] = []

    @property
    def via(self) -> str:
        return "desktop" if self._bus is not None else ("tray" if self.tray else "none")

    def alert(self, alert: Alert) -> None:
        run, job = alert.run, alert.run.job_name
        streak = self._streaks.get(job)
        if alert.kind == FAILED:
            if streak is not None and streak.kind == FAILED:
                streak.count += 1
                streak.run_id = run.id
                if streak.dismissed:
                    return  # the user has seen this streak; no new popup each tick
            else:
                streak = self._streaks[job] = _Streak(FAILED, run.id, 1, run.started_at)
            times = f" ({streak.count} times since {streak.since.astimezone():%H:%M})"
            summary = f"{job} failed" + (times if streak.count > 1 else "")
            body = alert.error_line or run.status
            urgency = 2
        else:
            previous = streak.count if streak is not None and streak.kind == FAILED else 0
            replaces = streak.notification_id if streak and not streak.dismissed else 0
            streak = self._streaks[job] = _Streak(alert.kind, run.id, 1, run.started_at, replaces)
            summary = f"{job} succeeded again"
            body = f"after {previous} failed run{'s' * (previous != 1)}" if previous else ""
            urgency = 1
        self._show(job, streak, summary, body, urgency)

    def _show(self, job: str, streak: _Streak, summary: str, body: str, urgency: int) -> None:
        self.sent.append((summary, body))
        if self._bus is not None:
            try:
                streak.notification_id = self._bus.notify(
                    streak.notification_id, summary, body, urgency
                )
                return
            except Exception as e:  # the service went away: the balloon from now on
                log.warning("desktop notification failed: %s", e)
                self._bus.close()
                self._bus = None
        if self.tray is not None and self.tray.isVisible():
            self._balloon_for = (job, streak.run_id)
            icon = (
                QSystemTrayIcon.MessageIcon.Critical
                if urgency == 2
                else QSystemTrayIcon.MessageIcon.Information
            )
            self.tray.showMessage(summary, body, icon, 10_000)

    def _on_signal_received(self, member: str, body: Any) -> None:
        notification_id = int(body[0])
        for job, streak in self._streaks.items():
            if streak.notification_id != notification_id:
                continue
            if member == "ActionInvoked":
                self.clicked.emit(job, streak.run_id)
            elif member == "NotificationClosed":
                streak.notification_id = 0
                streak.dismissed = True

    def _on_balloon_clicked(self) -> None:
        if self._balloon_for is not None:
            self.clicked.emit(*self._balloon_for)

    def close(self) -> None:
        if self._bus is not None:
            self._bus.close()
            self._bus = None
