"""The Debug pane and History's Replay in a real X window (Xvfb, Qt's xcb
platform), as a user sees them: the time-travel window tests run again on a
real display, with real mouse clicks and key presses."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need

pytestmark = pytest.mark.desktop
ROOT = Path(__file__).parents[2]


def test_the_debug_pane_and_replay_under_a_real_display(tmp_path: Path) -> None:
    missing = [t for t in ("xvfb-run", "xauth") if shutil.which(t) is None]
    need(not missing, f"missing {', '.join(missing)} (make test installs them)")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="xcb", XDG_RUNTIME_DIR=str(tmp_path))
    process = subprocess.Popen(
        [
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 1400x900x24",
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/gui/test_time_travel.py",
            "-k",
            "debug or margin or replay or platform",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=ROOT,
        start_new_session=True,  # a run that hangs goes with all it started
    )
    try:
        out, _ = process.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
        pytest.fail(f"the window tests did not end: {out[-3000:]}")
    assert process.returncode == 0, out[-3000:]
    assert " passed" in out and "deselected" in out, out[-3000:]
