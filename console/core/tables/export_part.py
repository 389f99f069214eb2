"""The second half of a big SQLite export, written by a helper process.

An export in the order of the ids (`export.py`) spends its time in SQLite
spelling the lines, on one core. Two threads of one process do not help
(SQLite's one allocator mutex: each row cost 1.4-2x the CPU), two processes
do: the export's thread writes the first half of the id range in the view's
order, a helper process (this file run as a script: the standard library
only, no SQLAlchemy, no console) the second half, to a part file beside the
export's; the export's thread then appends that part (`copy_file_range`,
inside the kernel). The bytes are those one reader writes: the same
statement, the same batches.

The helper reads the same snapshot: it tells when its read transaction has
begun, and the export checks that nothing was committed between the start
of its own transaction and then (`PRAGMA data_version` on a third
connection); otherwise it writes the whole range itself. The helper dies
with the thread that started it (`PR_SET_PDEATHSIG`: a killed window leaves
no helper behind), is killed at once by a Cancel, and reports its rows as
it writes them (one line per batch on its stdout) for the progress bar.

Standard library only: run as a script by the helper, imported by `export.py`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

#: A batch's result: the lines joined (None for none), the last id, the count.
Batch = tuple[bytes | None, int | None, int]
PR_SET_PDEATHSIG = 1


def write_batches(
    run: Callable[[int, int], Batch],
    start: int,
    batch: int,
    batch_bytes: int,
    too_big: type[Exception] | tuple[type[Exception], ...],
    f: BinaryIO,
    wrote: Callable[[int], None],
) -> None:
    """`run(last, size)` batch after batch, each starting after the last id
    of the one before, written to `f` with their line ends. The first batch
    is small; each next one as many rows as weigh about `batch_bytes`, up to
    `batch`; one that passes SQLite's longest string is retried with an
    eighth of the rows."""
    last, size = start, min(batch, 1000)
    while True:
        try:
            lines, after, count = run(last, size)
        except too_big:  # longer than SQLite's longest string: fewer rows
            if size == 1:
                raise
            size = max(1, size // 8)
            continue
        if not count or lines is None or after is None:
            return
        f.write(lines)
        f.write(b"\r\n")
        wrote(count)
        if count < size:
            return
        last = after
        size = max(1, min(batch, size * batch_bytes // max(1, len(lines))))


# -- in the export's thread ------------------------------------------------------


class Helper:
    """The helper process writing one half of an export to `part`."""

    def __init__(self, database: str, part: Path, task: dict[str, Any]) -> None:
        self.part = part
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        order = dict(task, database=database, part=str(part), parent=os.getpid())
        self.proc.stdin.write(json.dumps(order).encode("utf-8") + b"\n")
        self.proc.stdin.close()
        self._out = self.proc.stdout
        self._pending = b""

    def started(self) -> bool:
        """Wait until its read transaction has begun (False: it ended)."""
        while b"\n" not in self._pending:  # its stdout read by os.read only: no read-ahead
            os.set_blocking(self._out.fileno(), True)
            chunk = os.read(self._out.fileno(), 1 << 16)
            if not chunk:
                return False
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return line == b"ready"

    def rows(self, wait: bool) -> int | None:
        """The rows it reported since the last call; with `wait`, block for
        at least one report. None once it has ended (all read)."""
        if b"\n" not in self._pending:
            fd = self._out.fileno()
            os.set_blocking(fd, wait)
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                return 0
            if not chunk:
                return None
            self._pending += chunk
        *done, self._pending = self._pending.split(b"\n")
        return sum(int(n) for n in done)

    def finish(self) -> None:
        """Its end, once its stdout is closed: raise what made it fail."""
        status = self.proc.wait()
        if status != 0:
            assert self.proc.stderr is not None
            said = self.proc.stderr.read().decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"the export's helper failed: {said[-1] if said else status}")

    def append_to(self, f: BinaryIO) -> None:
        """Its part at the end of `f` (inside the kernel where it can)."""
        with self.part.open("rb") as src:
            left = os.fstat(src.fileno()).st_size
            try:
                while left > 0:
                    n = os.copy_file_range(src.fileno(), f.fileno(), left)
                    if n == 0:
                        break
                    left -= n
            except (AttributeError, OSError):  # no such call here: by reads and writes
                src.seek(os.fstat(src.fileno()).st_size - left)
                while chunk := src.read(1 << 20):
                    f.write(chunk)

    def kill(self) -> None:
        """End it at once (a cancel, a failure): safe from any thread."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()

    def close(self) -> None:
        self.kill()
        self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        self.part.unlink(missing_ok=True)


# -- in the helper process -------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    """Killed when the thread that started us ends (or the whole process)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # gone before the request: nobody would tell us
        os._exit(1)


def main() -> None:
    order = json.loads(sys.stdin.buffer.readline())
    _die_with_parent(order["parent"])
    out = sys.stdout.buffer
    db = sqlite3.connect(order["database"], isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA busy_timeout={int(order['busy_ms'])}")
    db.execute("BEGIN")
    db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot begins
    out.write(b"ready\n")
    out.flush()
    params = dict(order["params"])

    def run(last: int, size: int) -> Batch:
        params["last"], params["size"] = last, size
        lines, after, count = db.execute(order["sql"], params).fetchone()
        return lines, after, count

    def wrote(rows: int) -> None:
        out.write(b"%d\n" % rows)
        out.flush()

    with open(order["part"], "wb", buffering=0) as f:
        write_batches(
            run, order["start"], order["batch"], order["batch_bytes"], sqlite3.DataError, f, wrote
        )
    db.execute("COMMIT")


if __name__ == "__main__":
    main()
