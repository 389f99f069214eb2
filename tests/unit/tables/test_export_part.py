"""The helper process of a big export ends with the export's thread: a
window killed mid-export leaves no helper behind."""

from __future__ import annotations

import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from console.core.tables.export_part import Helper

#: A helper that never finishes its first batch.
ENDLESS = (
    "SELECT NULL, NULL, (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) "
    "SELECT count(*) FROM c)"
)

WINDOW = """
import os, signal, sys, json
from pathlib import Path
from console.core.tables.export_part import Helper
db, part, sql = json.loads(sys.argv[1])
task = {"sql": sql, "params": {}, "batch": 10, "batch_bytes": 1000, "busy_ms": 100}
helper = Helper(db, Path(part), task)
assert helper.started()
helper.share([(0, 1)])
print(helper.proc.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_window_leaves_no_helper_behind(tmp_path: Path) -> None:
    db = tmp_path / "console.db"
    sqlite3.connect(db).close()
    window = subprocess.run(
        [sys.executable, "-c", WINDOW, json.dumps([str(db), str(tmp_path / "part"), ENDLESS])],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert window.returncode == -signal.SIGKILL
    pid = int(window.stdout)
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return  # already gone
    try:  # readable once the helper has ended
        assert select.select([handle], [], [], 30)[0] == [handle]
    finally:
        os.close(handle)


def test_the_chunks_no_one_else_takes_are_written_by_the_helper_and_appended_in_order(
    tmp_path: Path,
) -> None:
    db = tmp_path / "console.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)")
        conn.executemany("INSERT INTO t (s) VALUES (?)", [(f"r{i}",) for i in range(1, 26)])
    sql = (
        "SELECT CAST(group_concat(line, char(13, 10)) AS BLOB), max(id), count(*) FROM "
        "(SELECT s AS line, id FROM t WHERE id > :last AND id <= :stop ORDER BY id LIMIT :size)"
    )
    task = {"sql": sql, "params": {}, "batch": 4, "batch_bytes": 1000, "busy_ms": 100}
    helper = Helper(str(db), tmp_path / "part", task)
    assert helper.started()
    helper.share([(0, 5), (5, 12), (12, 1 << 62)])  # it takes the last one first
    assert helper.next_chunk() == (0, 5)  # ours, the first
    rows = 0
    while (more := helper.more_rows()) is not None:
        rows += more
    helper.finish()
    assert rows == 20
    out = tmp_path / "out"
    with out.open("wb") as f:
        helper.append_to(f)
    assert out.read_bytes() == b"".join(b"r%d\r\n" % i for i in range(6, 26))
    helper.close()
    assert not (tmp_path / "part").exists()


def test_a_helper_that_fails_says_why(tmp_path: Path) -> None:
    db = tmp_path / "console.db"
    sqlite3.connect(db).close()
    task = {"sql": "SELECT * FROM gone", "params": {}, "batch": 4, "batch_bytes": 1000}
    helper = Helper(str(db), tmp_path / "part", dict(task, busy_ms=100))
    assert helper.started()
    helper.share([(0, 1)])
    while helper.more_rows() is not None:
        pass
    with pytest.raises(RuntimeError, match="no such table: gone"):
        helper.finish()
    helper.close()
