"""What every benchmark shares: medians, fresh homes, child processes."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    name: str
    ours: float
    baseline: float | None
    unit: str
    goal: str
    met: bool

    @property
    def ratio(self) -> str:
        return "" if not self.baseline else f"{self.ours / self.baseline:.2f}x"


def median_time(action: Callable[[], object], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def python(code: str, *, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run `code` in a fresh Python; its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=True,
    )
    return done.stdout


def fresh_home() -> Path:
    return Path(tempfile.mkdtemp(prefix="mobile-console-bench-"))


def wait_in_qt(app: Any, condition: Callable[[], object], limit: float) -> bool:
    """Run Qt's events until `condition` holds (True) or `limit` seconds pass
    (False), taking a millisecond's breath between looks."""
    end = time.perf_counter() + limit
    while not condition():
        app.processEvents()
        time.sleep(0.001)
        if time.perf_counter() > end:
            return False
    return True
