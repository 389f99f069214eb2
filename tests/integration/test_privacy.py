"""Private by default: the home 0700, the database and its WAL files 0600
from their first byte, whatever the umask; a looser home gets a warning
that says how to fix it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from console.app import open_services
from console.core.tables.api import open_table
from console.demo.memory_keyring import MemoryKeyring


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_home_and_its_database_are_private(tmp_path: Path) -> None:
    home = tmp_path / "new-home"
    previous = os.umask(0)  # the most permissive umask: the modes must not depend on it
    try:
        services = open_services(home, keyring_backend=MemoryKeyring())
        services.tables.create("Notes")
        open_table(services.tables, "Notes").insert({"text": "private"})
        assert mode(home) == 0o700
        for name in ("console.db", "console.db-wal", "console.db-shm"):
            assert mode(home / name) == 0o600, name
        assert services.warnings == []
        services.close()
    finally:
        os.umask(previous)


def test_a_looser_home_gets_a_warning_with_the_fix(tmp_path: Path) -> None:
    home = tmp_path / "old-home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    done = subprocess.run(
        [sys.executable, "-m", "console", "--home", str(home), "table", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    (line,) = done.stderr.splitlines()
    assert "other users of this machine can read" in line and f"chmod 700 {home}" in line
