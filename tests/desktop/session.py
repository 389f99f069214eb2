"""Drives the real window in a desktop session of its own: Xvfb, a D-Bus
session, and (as the scenario asks) a real tray host (trayer) and a real
notification server (dunst). Run by tests/desktop/test_tray.py as
`xvfb-run -a dbus-run-session -- python -m tests.desktop.session SCENARIO HOME`;
prints what it saw as one JSON line, then leaves the way the user would.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from console.app import open_services
from console.core.store import schema
from console.gui import create_window
from console.gui.main_window import MainWindow
from console.gui.pages.scheduler import SchedulerPage

FAILS = "def broken():\n    raise RuntimeError('Twitter blinked')\n"
TICKS = "def tick():\n    print('tick ran')\n"
seen: dict[str, Any] = {}


def wait_until(condition: Callable[[], object], what: str, timeout_s: float = 30) -> None:
    """Let Qt run until `condition` holds (no fixed sleeps: every 50 ms, look)."""
    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        QTimer.singleShot(50, loop.quit)
        loop.exec()


def start(*command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def dunst_ready() -> bool:
    """dunst owns the notification service (asked so as not to activate another)."""
    answer = subprocess.run(
        [
            "dbus-send",
            "--print-reply=literal",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.Notifications",
        ],
        capture_output=True,
        text=True,
    )
    return "true" in answer.stdout


def dunst_count(which: str) -> int:
    out = subprocess.run(["dunstctl", "count", which], capture_output=True, text=True).stdout
    return int(out.strip())


def wm_close(window_id: int) -> None:
    """Close a window as a window manager does (WM_DELETE_WINDOW), so Qt
    sees the user's close, not one from code."""
    x11 = ctypes.CDLL("libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSendEvent.argtypes = [
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_int,
        ctypes.c_long,
        ctypes.c_void_p,
    ]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]

    class ClientMessage(ctypes.Structure):
        _fields_ = [
            ("type", ctypes.c_int),
            ("serial", ctypes.c_ulong),
            ("send_event", ctypes.c_int),
            ("display", ctypes.c_void_p),
            ("window", ctypes.c_ulong),
            ("message_type", ctypes.c_ulong),
            ("format", ctypes.c_int),
            ("data", ctypes.c_long * 5),
        ]

    class Event(ctypes.Union):
        _fields_ = [("xclient", ClientMessage), ("pad", ctypes.c_long * 24)]

    display = x11.XOpenDisplay(None)
    event = Event()
    event.xclient.type = 33  # ClientMessage
    event.xclient.window = window_id
    event.xclient.message_type = x11.XInternAtom(display, b"WM_PROTOCOLS", 0)
    event.xclient.format = 32
    event.xclient.data[0] = x11.XInternAtom(display, b"WM_DELETE_WINDOW", 0)
    x11.XSendEvent(display, window_id, 0, 0, ctypes.byref(event))
    x11.XFlush(display)
    x11.XCloseDisplay(display)


def prepare(home: Path) -> None:
    """Two enabled jobs, due tomorrow: the session makes them due when it wants."""
    services = open_services(home)
    tomorrow = services.jobs.clock() + timedelta(days=1)
    for name, script in (("tick", TICKS), ("broken", FAILS)):
        services.jobs.create(name, unit="hour", start_at=tomorrow, script=script)
        services.jobs.enable(name)
    services.close()


def make_due(window: MainWindow, name: str) -> None:
    """The job's next run time arrives (as a clock would bring it)."""
    services, scheduler = window.services, window.scheduler
    assert services is not None and scheduler is not None
    with services.store.write() as conn:
        conn.execute(
            schema.jobs.update()
            .where(schema.jobs.c.name == name)
            .values(next_run_at=services.jobs.clock())
        )
    scheduler.wake()


def runs_of(window: MainWindow, name: str) -> list[tuple[int, str]]:
    services = window.services
    assert services is not None
    job = services.jobs.get(name)
    return [(r.id, r.status) for r in services.runs.runs(job.id) if r.status != "running"]


def open_window(home: Path) -> MainWindow:
    window = create_window(home)
    window.show()
    wait_until(lambda: window.tray is not None, "the window to open")
    assert window.scheduler is not None
    wait_until(lambda: window.scheduler.scheduled_count() == 2, "the scheduler to see the jobs")
    return window


def with_tray(home: Path) -> None:
    trayer = start("trayer", "--edge", "top", "--SetDockType", "false")
    dunst = start("dunst")
    try:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        wait_until(dunst_ready, "dunst")
        window = open_window(home)
        tray = window.tray
        assert tray is not None
        wait_until(tray.available, "trayer's system tray")
        wait_until(lambda: tray.icon.isVisible(), "the tray icon")

        wm_close(int(window.winId()))
        wait_until(lambda: not window.isVisible(), "the window to hide to the tray")
        seen["notice"] = tray.last_notice
        seen["scheduler_running_when_hidden"] = bool(window.scheduler and window.scheduler.running)

        make_due(window, "tick")
        wait_until(lambda: runs_of(window, "tick"), "the scheduled run of tick")
        seen["tick"] = [status for _, status in runs_of(window, "tick")]

        tray.menu.aboutToShow.emit()  # the user opens the menu: Run Once ▸ tick
        wait_until(lambda: tray.run_menu.actions(), "the jobs in Run Once")
        seen["run_once_menu"] = [a.text() for a in tray.run_menu.actions()]
        next(a for a in tray.run_menu.actions() if a.text() == "tick").trigger()
        wait_until(lambda: len(runs_of(window, "tick")) == 2, "Run Once from the tray")
        assert window.services is not None
        seen["tick_triggers"] = [r.trigger for r in window.services.runs.runs()][:1]

        tray.pause_action.trigger()  # paused: a due run waits
        seen["paused"] = (tray.state, tray.pause_action.text())
        make_due(window, "tick")
        tray.pause_action.trigger()  # resumed: it runs
        seen["resumed"] = tray.pause_action.text()
        wait_until(lambda: len(runs_of(window, "tick")) == 3, "the run after Resume")

        for failures in (1, 2):  # fails twice: one notification, updated
            make_due(window, "broken")
            wait_until(lambda n=failures: len(runs_of(window, "broken")) == n, "broken to fail")
            wait_until(lambda n=failures: len(tray.notifier.sent) == n, "the notification")
        # Run Once ▸ broken from the tray: its failure joins the same notification.
        next(a for a in tray.run_menu.actions() if a.text() == "broken").trigger()
        wait_until(lambda: len(tray.notifier.sent) == 3, "the Run Once failure's notification")
        seen["sent"] = tray.notifier.sent
        seen["via"] = tray.notifier.via
        seen["icon_state"] = tray.state
        seen["dunst"] = {w: dunst_count(w) for w in ("displayed", "waiting", "history")}

        subprocess.run(["dunstctl", "action", "0"], check=True)  # the user clicks it
        page = window.pages["Scheduler"]
        assert isinstance(page, SchedulerPage)
        newest = runs_of(window, "broken")[0][0]

        def log_open() -> bool:
            view = page.job_view
            current = view.runs_view.currentIndex()
            return (
                window.isVisible()
                and view.job is not None
                and view.job.name == "broken"
                and current.isValid()
                and view.runs.record(current.row()).id == newest
                and any("Twitter blinked" in e.message for e in view.run_log.records())
            )

        wait_until(log_open, "the click to open the run's log")
        seen["opened"] = {"job": "broken", "run": newest, "tab": page.job_view.tabs.tabText(2)}
        seen["icon_state_after_open"] = tray.state

        wm_close(int(window.winId()))  # back to the tray, then Quit from its menu
        wait_until(lambda: not window.isVisible(), "the window to hide again")
        print(json.dumps(seen), flush=True)
        QTimer.singleShot(0, tray.quit_action.trigger)
        app.exec()
    finally:
        for process in (trayer, dunst):
            process.terminate()
            process.wait(10)


def tray_turned_off(home: Path) -> None:
    """A tray is there, but the `tray` setting is off: closing asks."""
    services = open_services(home)
    services.settings.set("tray", False)
    services.close()
    trayer = start("trayer", "--edge", "top", "--SetDockType", "false")
    try:
        loop = QEventLoop()
        while not QSystemTrayIcon.isSystemTrayAvailable():  # trayer starting
            QTimer.singleShot(50, loop.quit)
            loop.exec()
        without_tray(home)
    finally:
        trayer.terminate()
        trayer.wait(10)


def without_tray(home: Path) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    window = open_window(home)
    tray = window.tray
    assert tray is not None
    wait_until(lambda: tray.jobs, "the tray's first look at the jobs and settings")
    seen["tray_available"] = tray.available()
    seen["icon_visible"] = tray.icon.isVisible()
    answers = ["Keep open", "Quit"]

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.objectName() == "ask-quit":
            seen.setdefault("asked", []).append(box.text())
            choice = answers.pop(0)
            next(b for b in box.buttons() if b.text() == choice).click()
        if answers:
            QTimer.singleShot(50, answer)

    QTimer.singleShot(50, answer)
    wm_close(int(window.winId()))
    wait_until(lambda: len(seen.get("asked", [])) == 1, "the question")
    wait_until(lambda: True, "a turn of the loop")
    seen["visible_after_keep_open"] = window.isVisible()
    QTimer.singleShot(0, lambda: wm_close(int(window.winId())))
    app.exec()  # ends when the window closes: the second answer is Quit
    print(json.dumps(seen), flush=True)


def minimized(home: Path) -> None:
    """`mobile-console --minimized` (the same launch): straight into the tray;
    SIGTERM ends it there."""
    from console.gui.launch import launch
    from console.gui.main_window import MainWindow

    trayer = start("trayer", "--edge", "top", "--SetDockType", "false")
    try:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        loop = QEventLoop()
        while not QSystemTrayIcon.isSystemTrayAvailable():  # trayer starting
            QTimer.singleShot(50, loop.quit)
            loop.exec()

        def look() -> None:
            windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow)]
            tray = windows[0].tray if windows else None
            if tray is None or not tray.icon.isVisible():
                QTimer.singleShot(50, look)
                return
            seen["window_visible"] = windows[0].isVisible()
            # Never shown: Qt has not even made its native window.
            seen["window_created"] = windows[0].testAttribute(Qt.WidgetAttribute.WA_WState_Created)
            seen["icon_visible"] = tray.icon.isVisible()
            print(json.dumps(seen), flush=True)
            os.kill(os.getpid(), signal.SIGTERM)  # logging out, say: ends it from the tray too

        QTimer.singleShot(0, look)
        seen["exit_status"] = launch(str(home), None, minimized=True)
    finally:
        trayer.terminate()
        trayer.wait(10)


def main() -> None:
    scenario, home = sys.argv[1], Path(sys.argv[2])
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    prepare(home)
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Mobile Console")
    scenarios = {
        "tray": with_tray,
        "no-tray": without_tray,
        "tray-off": tray_turned_off,
        "minimized": minimized,
    }
    scenarios[scenario](home)
    print(
        json.dumps(
            {
                "ended": True,
                **({"exit_status": seen["exit_status"]} if "exit_status" in seen else {}),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
