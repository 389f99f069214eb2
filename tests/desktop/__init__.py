"""Tests in a desktop session of their own: Xvfb, and as each asks a D-Bus
session, a tray, a notification server or the accessibility bus."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def desktop_env(tmp_path: Path, *dropped: str, **extra: str) -> dict[str, str]:
    """This process's environment without the display (and `dropped`), with
    the session's runtime folder in `tmp_path` and `extra` on top."""
    gone = {"DISPLAY", "WAYLAND_DISPLAY", *dropped}
    env = {k: v for k, v in os.environ.items() if k not in gone}
    env.update(XDG_RUNTIME_DIR=str(tmp_path), **extra)
    return env


def run_on_xvfb(
    command: list[str], env: dict[str, str], what: str, *, screen: str, timeout: float = 90
) -> str:
    """Run `command` on a fresh Xvfb screen (`WIDTHxHEIGHTxDEPTH`), in a
    process group of its own so that one that hangs goes with all it
    started; its output (standard error after it), or the test fails saying
    `what` did not end or did not succeed."""
    process = subprocess.Popen(
        ["xvfb-run", "-a", "-s", f"-screen 0 {screen}", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"{what} did not end: {out[-3000:]}\n{err[-3000:]}")
    assert process.returncode == 0, f"{out[-3000:]}\n{err[-3000:]}"
    return out
