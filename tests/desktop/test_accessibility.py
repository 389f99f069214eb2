"""The window as a screen reader drives it on Linux: through AT-SPI, from
another process. tests/desktop/accessibility.py runs in a session of its own
(Xvfb, a D-Bus session, the accessibility bus and its registry started by
D-Bus activation, as on a desktop) and reports what it found and pressed."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import need
from tests.desktop import desktop_env, run_on_xvfb

pytestmark = pytest.mark.desktop
TOOLS = ("xvfb-run", "xauth", "dbus-run-session")
BUS_LAUNCHER = Path("/usr/libexec/at-spi-bus-launcher")  # Debian's at-spi2-core


def test_each_pages_actions_are_found_by_name_and_run_once_pressed_through_atspi(
    tmp_path: Path,
) -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    missing += [] if BUS_LAUNCHER.exists() else ["at-spi2-core"]
    need(not missing, f"missing {', '.join(missing)} (make test installs them)")
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    env = desktop_env(
        tmp_path,
        "DBUS_SESSION_BUS_ADDRESS",
        "AT_SPI_BUS",
        HOME=str(tmp_path),  # the bus launcher keeps its socket under ~/.cache
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    out = run_on_xvfb(
        ["dbus-run-session", "--", sys.executable, "-m", "tests.desktop.accessibility", str(home)],
        env,
        "the walk",
        screen="1280x800x24",
    )
    [seen] = [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    assert seen["frame"] == ["frame", f"Mobile Console — {home}"]
    pages = seen["pages"]
    # Each page, opened by pressing its button in the tree, shows its
    # commands and controls by name, and no control that takes the focus is
    # left without one.
    assert {p: v["unnamed"] for p, v in pages.items()} == {p: [] for p in pages}
    commands = {p: set(v["buttons"]) for p, v in pages.items()}
    assert {"Create", "Run Once", "Dry Run", "Delete"} <= commands["Scheduler"]
    assert {"Create", "Delete"} <= commands["Data"]
    assert {"Save", "Set", "Add"} <= commands["Configure"]
    names = {p: set(v["names"]) for p, v in pages.items()}
    assert {"Run durations over time", "Runs per hour by outcome", "Recent runs"} <= names[
        "Dashboard"
    ]
    assert {"Tables", "Jobs"} & names["Data"] == {"Tables"}
    assert {"Jobs", "tick", "not scheduled", "no runs yet"} <= names["Scheduler"]
    assert {"Setting name", "Setting value", "Redirect from", "Theme"} <= names["Configure"]
    # On Linux a combo box is named by its value (its label is a relation).
    assert {"All levels", "All jobs", "Search messages", "Log entries"} <= names["Logs"]
    # The job's row selected through the Table interface, Run Once pressed
    # through the Action interface: the run happened, as the window says.
    assert seen["row_selected"] is True
    assert seen["after_run_once"] == "tick: succeeded"
