"""The runner and reliability suites, again with the portable runner
(`MOBILE_CONSOLE_RUNNER=portable`: psutil and a watchdog thread, no prctl,
no subreaper, no fork server, no /proc), as macOS and Windows would run them:
timeouts, memory limits, output floods, SIGKILL/SIGTERM/SIGHUP of the
command line, the worker and the window with their trees ended, `setsid`
grandchildren, the warm spare.

What the portable runner cannot promise is stated in
tests/unit/running/test_platform_portable.py (a grandchild that double-forks
out of the tree before the watchdog's next look) and in the README.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.core.running.runner_platform import RUNNER_ENV

ROOT = Path(__file__).resolve().parents[2]
SUITES = [
    "tests/integration/test_runner.py",
    "tests/integration/test_process_tree.py",
    "tests/integration/test_window_terminate.py",
    "tests/integration/test_warm_spare.py",
    # not test_fork_server.py: the fork server is Linux-only (it skips)
]


@pytest.mark.skipif(os.environ.get(RUNNER_ENV) == "portable", reason="this is that pass")
@pytest.mark.timeout(600)  # a suite of its own
def test_the_runner_suites_pass_with_the_portable_runner() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *SUITES],
        cwd=ROOT,
        env={**os.environ, RUNNER_ENV: "portable"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
