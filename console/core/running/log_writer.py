"""A run's log on its way from the script to the database: each line
masked, cut to `MAX_LINE`, capped per run, stored in batches (or kept in the
spool while the database is away), and passed on live to whoever watches.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from console.core.clock import Clock
from console.core.config.masking import Masker
from console.core.jobs.runs import Run, RunLog
from console.core.store import faults
from console.core.store.spool import Spool

FLUSH_S = 0.2
#: A run's first lines wait this long from its start: a short run's whole
#: log is then stored with its end, in one transaction instead of two (a
#: fifth of a worker's CPU in a burst of short runs went to those flushes).
FIRST_FLUSH_S = 1.0
FLUSH_LINES = 500
MAX_LINE = 8_000
#: How a run's own cut of a long line ends it (`script_api.ScriptConsole`).
_CUT = re.compile(r"… \(([\d,]+) more characters\)$")


@dataclass(frozen=True)
class LogLine:
    """One line of a run's log as it streams."""

    at: datetime
    level: str
    message: str


LineCallback = Callable[[LogLine], None]


class LogWriter:
    """Masks, caps and stores a run's log lines, and passes them on live."""

    def __init__(
        self,
        runs: RunLog,
        run: Run,
        masker: Masker,
        on_line: LineCallback | None,
        max_lines: int,
        max_bytes: int,
        clock: Clock,
        spool: Spool | None = None,
    ) -> None:
        self._runs, self._run, self._mask, self._on_line = runs, run, masker, on_line
        self._spool = spool
        #: Why the database could not take the log, once it could not.
        self.spooled: str | None = None
        self._max_lines, self._max_bytes, self._clock = max_lines, max_bytes, clock
        self._pending: list[tuple[datetime, str, str]] = []
        self._next_flush = time.monotonic() + FIRST_FLUSH_S
        self.kept_lines = self.kept_bytes = self.dropped_lines = self.dropped_bytes = 0

    def add(self, level: str, message: str, *, always: bool = False) -> None:
        if always or not self._full(message):
            self._keep(level, self._mask(message), always)

    def add_many(self, lines: list[tuple[str, str]]) -> None:
        """Lines of the script's (level, message), masked as one batch: a
        flood's lines off one read of the pipe cost one search for secrets."""
        room = self._max_lines - self.kept_lines
        wanted: list[tuple[str, str]] = []
        for level, message in lines:
            if len(wanted) >= room:  # the line cap, reached within this batch
                self.dropped_lines += 1
                self.dropped_bytes += len(message)
            elif not self._full(message):
                wanted.append((level, message))
        masked = self._mask.mask_lines([message for _, message in wanted])
        for (level, _), message in zip(wanted, masked, strict=True):
            self._keep(level, message, False)

    def _full(self, message: str) -> bool:
        """Full: count the line, spend nothing on masking it."""
        if self.kept_lines < self._max_lines and self.kept_bytes < self._max_bytes:
            return False
        self.dropped_lines += 1
        self.dropped_bytes += len(message)
        return True

    def _keep(self, level: str, message: str, always: bool) -> None:
        # Masked first, then cut: a secret across the cut is masked whole.
        if len(message) > MAX_LINE:
            more = len(message) - MAX_LINE
            cut = _CUT.search(message, MAX_LINE)  # cut in the run already: what it cut counts
            if cut:
                more = cut.start() - MAX_LINE + int(cut.group(1).replace(",", ""))
            message = message[:MAX_LINE] + f"… ({more:,} more characters)"
        size = len(message.encode("utf-8", "replace"))
        if not always and self.kept_bytes + size > self._max_bytes:
            self.dropped_lines += 1
            self.dropped_bytes += size
            return
        if not always:  # the runner's own start and end lines are not the script's
            self.kept_lines += 1
            self.kept_bytes += size
        line = LogLine(self._clock(), level, message)
        self._pending.append((line.at, level, message))
        if self._on_line is not None:
            self._on_line(line)
        if len(self._pending) >= FLUSH_LINES:
            self.flush()

    def take(self) -> list[tuple[datetime, str, str]]:
        """The lines not stored yet, for the caller to store (`put_back` if it cannot)."""
        pending, self._pending = self._pending, []
        return pending

    def put_back(self, lines: list[tuple[datetime, str, str]]) -> None:
        self._pending[:0] = lines

    def flush_if_due(self) -> None:
        if self._pending and time.monotonic() >= self._next_flush:
            self.flush()

    def flush(self) -> str | None:
        """Store the pending lines, or spool them; returns why they were
        spooled (None: stored)."""
        pending, self._pending = self._pending, []
        self._next_flush = time.monotonic() + FLUSH_S
        try:
            if self.spooled is not None and self._spool is not None:
                self._spool.replay(self._runs.store)  # the database may be back
            self._runs.append(self._run.id, self._run.job_name, pending)
            self.spooled = None  # all stored now
        except (SQLAlchemyError, OSError) as e:
            if self._spool is None:
                raise
            self.spooled = faults.describe(e)
            try:
                self._spool.add_lines(self._run.id, self._run.job_name, pending)
            except OSError:  # the home's disk too: keep them (at most the log cap) and retry
                self._pending[:0] = pending
        return self.spooled

    def note_dropped(self) -> None:
        if self.dropped_lines:
            self.add(
                "warning",
                f"{self.dropped_lines:,} more lines ({self.dropped_bytes / 1024:,.0f} KB) were "
                f"dropped: one run keeps at most {self._max_lines:,} lines or "
                f"{self._max_bytes / 1_000_000:g} MB of log",
                always=True,
            )
