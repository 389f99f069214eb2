"""The tray and desktop notifications in a real desktop session: Xvfb, a
D-Bus session, Debian's trayer as the system tray and dunst as the
notification server. Each test runs tests/desktop/session.py in a session
of its own (it needs no display here, and works under CI=true)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import need
from tests.desktop import desktop_env, run_on_xvfb

pytestmark = pytest.mark.desktop
TOOLS = ("xvfb-run", "xauth", "dbus-run-session", "dbus-send", "trayer", "dunst", "dunstctl")


def session(scenario: str, tmp_path: Path) -> list[dict[str, Any]]:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    need(not missing, f"missing {', '.join(missing)} (make test installs them)")
    home = tmp_path / "home"
    home.mkdir()
    env = desktop_env(
        tmp_path,
        "DBUS_SESSION_BUS_ADDRESS",
        XDG_CONFIG_HOME=str(tmp_path / "config"),  # the first-close notice, dunst's config
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    command = ["dbus-run-session", "--", sys.executable, "-m", "tests.desktop.session"]
    # Generous: this asserts that the console ends, not how fast.
    out = run_on_xvfb([*command, scenario, str(home)], env, "the console", screen="1280x800x24")
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_closed_to_the_tray_it_runs_jobs_notifies_once_and_quits(tmp_path: Path) -> None:
    seen, ended = session("tray", tmp_path)
    assert seen["notice"] == (
        "Mobile Console keeps running your 2 enabled jobs; Quit from the tray menu"
    )
    assert seen["scheduler_running_when_hidden"]
    assert seen["tick"] == ["succeeded"]  # a scheduled run while the window was hidden
    assert seen["run_once_menu"] == ["broken", "tick"]
    assert seen["tick_triggers"] == ["run once"]  # Run Once ▸ tick, from the tray
    assert seen["paused"] == ["paused", "Resume"]
    assert seen["resumed"] == "Pause scheduler"
    # Three failures (two scheduled, one Run Once from the tray), one
    # notification: sent once, then updated in place.
    assert seen["via"] == "desktop"
    blinked = "RuntimeError: Twitter blinked (line 2)"
    assert [body for _, body in seen["sent"]] == [blinked] * 3
    assert seen["sent"][0][0] == "broken failed"
    assert seen["sent"][1][0].startswith("broken failed (2 times since ")
    assert seen["sent"][2][0].startswith("broken failed (3 times since ")
    assert seen["dunst"] == {"displayed": 1, "waiting": 0, "history": 0}
    assert seen["icon_state"] == "failed"
    # Its click opened the run's log; the failure is no longer unseen.
    assert seen["opened"]["tab"] == "History"
    assert seen["icon_state_after_open"] == "running"
    assert ended == {"ended": True}  # Quit from the tray menu ended the process


@pytest.mark.parametrize(("scenario", "tray"), [("no-tray", False), ("tray-off", True)])
def test_without_a_tray_closing_asks_to_quit_or_keep_the_window(
    tmp_path: Path, scenario: str, tray: bool
) -> None:
    seen, ended = session(scenario, tmp_path)
    assert (seen["tray_available"], seen["icon_visible"]) == (tray, False)
    assert (
        seen["asked"]
        == ["Quitting stops your 2 enabled jobs: they run only while Mobile Console runs."] * 2
    )
    assert seen["visible_after_keep_open"] is True
    assert ended == {"ended": True}


def test_minimized_opens_straight_into_the_tray_and_sigterm_ends_it(tmp_path: Path) -> None:
    seen, ended = session("minimized", tmp_path)
    assert seen == {"window_visible": False, "window_created": False, "icon_visible": True}
    assert ended == {"ended": True, "exit_status": 0}
