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
task = {"sql": sql, "params": {}, "start": 0, "batch": 10, "batch_bytes": 1000, "busy_ms": 100}
helper = Helper(db, Path(part), task)
assert helper.started()
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


def test_a_helper_writes_its_batches_and_reports_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "console.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)")
        conn.executemany("INSERT INTO t (s) VALUES (?)", [(f"r{i}",) for i in range(25)])
    sql = (
        "SELECT CAST(group_concat(line, char(13, 10)) AS BLOB), max(id), count(*) FROM "
        "(SELECT s AS line, id FROM t WHERE id > :last AND id <= :stop ORDER BY id LIMIT :size)"
    )
    task = {"sql": sql, "params": {"stop": 1 << 62}, "start": 5, "batch": 4}
    helper = Helper(str(db), tmp_path / "part", dict(task, batch_bytes=1000, busy_ms=100))
    assert helper.started()
    rows = 0
    while (more := helper.rows(wait=True)) is not None:
        rows += more
    helper.finish()
    assert rows == 20
    assert (tmp_path / "part").read_bytes() == b"".join(b"r%d\r\n" % i for i in range(5, 25))
    helper.close()
    assert not (tmp_path / "part").exists()
