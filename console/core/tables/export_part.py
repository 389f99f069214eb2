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
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import deque
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
    """The helper process writing some of an export's chunks to `part`.

    The chunks of the id range, in the view's order, are shared: the
    export's thread takes them from the front (`next_chunk`), the helper
    from the back, so whichever gets more of the cores writes more of
    them; the helper's are at the end of the file, appended in order."""

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
        self._in = self.proc.stdin
        self._in.write(json.dumps(order).encode("utf-8") + b"\n")
        self._in.flush()
        self._out = self.proc.stdout.fileno()  # read by os.read only: no read-ahead
        self._pending = b""
        self._lock = threading.Lock()
        self._chunks: deque[tuple[int, int, int]] = deque()
        self._theirs: list[tuple[int, int]] = []  # (chunk, bytes), in the order written
        self._done = 0  # how many of those it said it finished
        self._reports: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._ended = False
        self._reader: threading.Thread | None = None

    def started(self) -> bool:
        """Wait until its read transaction has begun (False: it ended)."""
        while b"\n" not in self._pending:
            chunk = os.read(self._out, 1 << 16)
            if not chunk:
                return False
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return line == b"ready"

    def share(self, chunks: list[tuple[int, int]]) -> None:
        """Share these chunks (`(after, stop)` each, in the view's order)
        with it: it takes the last one now, the next from the back when done."""
        self._chunks.extend((i, after, stop) for i, (after, stop) in enumerate(chunks))
        self._give()
        self._reader = threading.Thread(target=self._read, name="export-helper", daemon=True)
        self._reader.start()

    def next_chunk(self) -> tuple[int, int] | None:
        """The export's own next chunk, from the front; None when none is left."""
        with self._lock:
            if not self._chunks:
                return None
            _i, after, stop = self._chunks.popleft()
        return after, stop

    def _give(self) -> None:
        with self._lock:
            chunk = self._chunks.pop() if self._chunks else None
        try:
            if chunk is None:
                self._in.close()  # no more: it ends
                return
            self._theirs.append((chunk[0], 0))
            self._in.write(b"%d %d\n" % chunk[1:])
            self._in.flush()
        except OSError:  # it has ended (killed): nothing more to give
            pass

    def _read(self) -> None:
        """Its reports, on a thread of ours: rows written, chunks done."""
        pending = self._pending
        while True:
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if line.startswith(b"done "):
                    self._theirs[-1] = (self._theirs[-1][0], int(line[5:]))
                    self._done += 1
                    self._give()
                else:
                    self._reports.put(int(line))
            try:
                chunk = os.read(self._out, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                break
            pending += chunk
        self._reports.put(None)

    def rows(self) -> int:
        """The rows it reported since the last call (without waiting)."""
        rows = 0
        while not self._ended:
            try:
                report = self._reports.get_nowait()
            except queue.Empty:
                break
            if report is None:
                self._ended = True
            else:
                rows += report
        return rows

    def more_rows(self) -> int | None:
        """Wait for its next report; None once it has ended."""
        if self._ended:
            return None
        report = self._reports.get()
        self._ended = report is None
        return report

    def finish(self) -> None:
        """Its end, once all its reports are read: raise what made it fail."""
        status = self.proc.wait()
        if self._reader is not None:
            self._reader.join()
        if status != 0 or self._done != len(self._theirs):  # even if reaped by another
            assert self.proc.stderr is not None
            said = self.proc.stderr.read().decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"the export's helper failed: {said[-1] if said else status}")

    def append_to(self, f: BinaryIO) -> None:
        """Its chunks at the end of `f`, in the view's order (inside the
        kernel where it can)."""
        offsets, at = {}, 0
        for chunk, size in self._theirs:
            offsets[chunk] = (at, size)
            at += size
        with self.part.open("rb") as src:
            for chunk in sorted(offsets):
                at, left = offsets[chunk]
                try:
                    while left > 0:
                        n = os.copy_file_range(src.fileno(), f.fileno(), left, at)
                        if n == 0:
                            break
                        left, at = left - n, at + n
                except (AttributeError, OSError):  # no such call here: reads and writes
                    src.seek(at)
                    while left > 0 and (piece := src.read(min(left, 1 << 20))):
                        f.write(piece)
                        left -= len(piece)

    def kill(self) -> None:
        """End it at once (a cancel, a failure): safe from any thread."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()

    def close(self) -> None:
        self.kill()
        self.proc.wait()
        if self._reader is not None:
            self._reader.join()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
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
    commands = sys.stdin.buffer
    order = json.loads(commands.readline())
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
        while command := commands.readline():  # "after stop" per chunk; none: the end
            after, params["stop"] = (int(v) for v in command.split())
            start = f.tell()
            write_batches(
                run, after, order["batch"], order["batch_bytes"], sqlite3.DataError, f, wrote
            )
            out.write(b"done %d\n" % (f.tell() - start))
            out.flush()
    db.execute("COMMIT")


if __name__ == "__main__":
    main()
