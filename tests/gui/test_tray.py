"""The tray's state and the notifications' wording and coalescing, offscreen
(no tray, no notification server here: tests/desktop has the real ones)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.app import open_services
from console.core.jobs.runs import Run
from console.core.scheduling.alerts import FAILED, RECOVERED, Alert
from console.gui.main_window import MainWindow, Opened
from console.gui.notifications import Notifier


def run(run_id: int, status: str, error: str | None = None) -> Run:
    at = datetime(2026, 3, 1, 10, run_id, tzinfo=UTC)
    return Run(run_id, 1, "broken", "schedule", status, "me", at, at, error, 0)


def test_the_icon_shows_running_paused_and_a_failure_not_yet_looked_at(
    window: MainWindow, qtbot: Any
) -> None:
    tray, scheduler = window.tray, window.scheduler
    assert tray is not None and scheduler is not None
    assert tray.state == "running"
    window.hide()  # in the tray, say
    for listener in scheduler.alert_listeners:  # as the scheduler's run thread does
        listener(Alert(FAILED, run(1, "failed", "RuntimeError: Twitter blinked\nmore")))
    qtbot.waitUntil(lambda: tray.state == "failed")
    assert tray.icon.toolTip() == "Mobile Console: failed: broken"
    tray.open()  # looked at
    assert window.isVisible() and tray.state == "running"
    tray.toggle_pause()
    assert (tray.state, scheduler.paused, tray.pause_action.text()) == ("paused", True, "Resume")
    tray.toggle_pause()
    assert (tray.state, scheduler.paused) == ("running", False)


def test_failures_are_coalesced_per_job_until_it_recovers(qtbot: Any) -> None:
    notifier = Notifier(None)
    error = "RuntimeError: Twitter blinked (line 2)\nTraceback…"
    for run_id in (1, 2, 3):
        notifier.alert(Alert(FAILED, run(run_id, "failed", error)))
    notifier.alert(Alert(RECOVERED, run(4, "succeeded")))
    notifier.alert(Alert(FAILED, run(5, "timed out", "timed out after 300 s")))
    since = datetime(2026, 3, 1, 10, 1, tzinfo=UTC).astimezone()
    assert notifier.sent == [
        ("broken failed", "RuntimeError: Twitter blinked (line 2)"),
        (f"broken failed (2 times since {since:%H:%M})", "RuntimeError: Twitter blinked (line 2)"),
        (f"broken failed (3 times since {since:%H:%M})", "RuntimeError: Twitter blinked (line 2)"),
        ("broken succeeded again", "after 3 failed runs"),
        ("broken failed", "timed out after 300 s"),
    ]
    notifier.close()


def test_minimized_without_a_tray_shows_the_window(qtbot: Any, home: Path) -> None:
    services = open_services(home)
    services.jobs.create("tick")
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_in_background(lambda: Opened(services, services.close))
    window.open_minimized()
    qtbot.waitUntil(lambda: window.attached and window.isVisible(), timeout=10_000)


def test_the_configure_page_sets_the_tray_and_refuses_a_bad_hook(
    window: MainWindow, qtbot: Any
) -> None:
    from PySide6.QtWidgets import QCheckBox, QLineEdit

    from console.gui.pages.configure import ConfigurePage

    assert window.services is not None
    window.show_page("Configure")
    page = window.pages["Configure"]
    assert isinstance(page, ConfigurePage)
    tray, hook = page.editors["tray"], page.editors["failure_webhook"]
    assert isinstance(tray, QCheckBox) and isinstance(hook, QLineEdit)
    qtbot.waitUntil(lambda: tray.isChecked() and hook.placeholderText() == "not set")
    assert hook.echoMode() == QLineEdit.EchoMode.Password  # a credential
    tray.setChecked(False)
    window.command_bar.actions_by_name["Save"].trigger()
    qtbot.waitUntil(lambda: window.services.settings.get("tray") is False, timeout=5000)
    hook.setText("ftp://hooks.example.com/x")
    window.command_bar.actions_by_name["Save"].trigger()
    qtbot.waitUntil(lambda: "http:// or https://" in page.console_error.text(), timeout=5000)
    assert not window.services.settings.is_set("failure_webhook")
