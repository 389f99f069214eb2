"""Unsaved script text kept when the window is ended by the system (a
logout, a shutdown: SIGTERM), offered back on the next open.

One file per job in `drafts/` in the home, 0600 in a 0700 folder: a script
may hold what its author would not show other users of the machine.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path


class Drafts:
    """The kept drafts of one home."""

    def __init__(self, home: Path) -> None:
        self.folder = home / "drafts"

    def _path(self, job_name: str) -> Path:
        return self.folder / f"{job_name.lower()}.py"

    def keep(self, job_name: str, text: str) -> Path:
        """Write the draft, private from its first byte."""
        self.folder.mkdir(mode=0o700, exist_ok=True)
        path = self._path(job_name)
        partial = path.with_suffix(".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
        return path

    def get(self, job_name: str) -> tuple[str, datetime] | None:
        """The draft of a job and when it was kept, if there is one."""
        path = self._path(job_name)
        try:
            text = path.read_text("utf-8")
            kept = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except (OSError, UnicodeDecodeError):
            return None
        return text, kept

    def names(self) -> list[str]:
        """The jobs (lower-case names) with a draft."""
        try:
            return sorted(p.stem for p in self.folder.glob("*.py"))
        except OSError:
            return []

    def drop(self, job_name: str) -> None:
        self._path(job_name).unlink(missing_ok=True)
