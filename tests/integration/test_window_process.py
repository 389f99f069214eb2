"""The installed command's window, as a process: SIGTERM or Ctrl+C closes it
the way its close button does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def start_window(command: list[str], home: Path, config: Path) -> subprocess.Popen[str]:
    """The window as a process (offscreen), once it has opened its database."""
    window = subprocess.Popen(
        [*command, "--home", str(home)],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(config)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (home / "console.db").exists() and window.poll() is None:
        assert time.monotonic() < deadline, "the window never opened its database"
        time.sleep(0.05)
    return window


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_closes_the_window_cleanly(home: Path, tmp_path: Path, sig: int) -> None:
    config = tmp_path / "config"
    window = start_window([sys.executable, "-m", "console"], home, config)
    window.send_signal(sig)
    _out, err = window.communicate(timeout=20)
    assert window.returncode == 0, err
    assert "Traceback" not in err
    assert "page=" in (config / "mobile-console" / "window.conf").read_text()


@pytest.mark.parametrize(
    ("option", "words"), [("--db", "not a database URL"), ("--db", "no database driver")]
)
def test_a_console_that_cannot_open_exits_2_with_one_line(
    home: Path, tmp_path: Path, option: str, words: str
) -> None:
    value = "nonsense" if words.startswith("not") else "nosuchdb+driver://x/y"
    done = subprocess.run(
        [sys.executable, "-m", "console", "--home", str(home), option, value],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    # Ours is one line; Qt's offscreen plugin may add its own warning (it does
    # not under a real display).
    ours = [line for line in done.stderr.splitlines() if line.startswith("mobile-console:")]
    assert len(ours) == 1 and words in ours[0]
