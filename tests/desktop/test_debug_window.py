"""The Debug pane and History's Replay in a real X window (Xvfb, Qt's xcb
platform), as a user sees them: the time-travel window tests run again on a
real display, with real mouse clicks and key presses."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import need
from tests.desktop import desktop_env, run_on_xvfb

pytestmark = pytest.mark.desktop


def test_the_debug_pane_and_replay_under_a_real_display(tmp_path: Path) -> None:
    missing = [t for t in ("xvfb-run", "xauth") if shutil.which(t) is None]
    need(not missing, f"missing {', '.join(missing)} (make test installs them)")
    env = desktop_env(tmp_path, QT_QPA_PLATFORM="xcb")
    out = run_on_xvfb(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
            *("tests/gui/test_time_travel.py", "-k", "debug or margin or replay or platform"),
        ],
        env,
        "the window tests",
        screen="1400x900x24",
        timeout=240,
    )
    assert " passed" in out and "deselected" in out, out[-3000:]
