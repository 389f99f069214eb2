"""A worker while its PostgreSQL stops and starts again: one line, retries
with backoff, then resumes; the tick due meanwhile runs once, late."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from datetime import timedelta
from glob import glob
from pathlib import Path

import pytest

from console.app import open_services
from console.core.store import schema
from console.demo.memory_keyring import MemoryKeyring
from tests.conftest import need


class Postgres:
    """A throwaway server of our own, to stop and start at will."""

    def __init__(self) -> None:
        bins = sorted(glob("/usr/lib/postgresql/*/bin"))
        need(
            bool(bins) and os.geteuid() == 0 and shutil.which("runuser") is not None,
            "needs PostgreSQL's binaries and root (to run them as postgres)",
        )
        self.bin = bins[-1]
        self.dir = Path(tempfile.mkdtemp(prefix="console-pg-"))
        shutil.chown(self.dir, "postgres")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._as_postgres(
            "initdb", "-D", f"{self.dir}/data", "-U", "postgres", "-A", "trust", "-E", "UTF8"
        )
        self.start()
        self._as_postgres("createdb", "-h", "127.0.0.1", "-p", str(self.port), "console")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/console"

    def _as_postgres(self, program: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", f"{self.bin}/{program}", *args],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        data, log = f"{self.dir}/data", f"{self.dir}/log"
        self._as_postgres("pg_ctl", "-D", data, "-l", log, "-w", "-o", options, "start")

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", f"{self.dir}/data", "-w", "-m", "fast", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # stopped already
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    server = Postgres()
    yield server
    server.remove()


class Output:
    """A process's output lines, read as they come; wait for one by content."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        assert proc.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        with self._changed:
            found = self._changed.wait_for(lambda: any(text in x for x in self.lines), timeout)
        assert found, f"no {text!r} in {self.lines}"


@pytest.mark.postgres
def test_a_worker_rides_out_its_database_stopping_and_starting(
    postgres: Postgres, home: Path
) -> None:
    console = open_services(home, postgres.url, keyring_backend=MemoryKeyring())
    script = "def {0}():\n    print('{0} ran')\n"
    for name in ("before", "during"):
        console.jobs.create(name, interval=1, unit="day", script=script.format(name))
        console.jobs.enable(name)
    now = console.jobs.clock()
    due_during = now + timedelta(seconds=12)
    with console.store.write() as conn:  # "before" is due now, "during" while the server is down
        for name, due in (("before", now), ("during", due_during)):
            conn.execute(
                schema.jobs.update().where(schema.jobs.c.name == name).values(next_run_at=due)
            )
    console.close()
    worker = subprocess.Popen(
        [sys.executable, "-m", "console", "--home", str(home), "--db", postgres.url, "worker"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )
    output = Output(worker)
    try:
        output.wait_for("before succeeded")
        postgres.stop()
        output.wait_for("database unavailable")  # at the "during" tick
        postgres.start()
        output.wait_for("database back")
        output.wait_for("during succeeded")
    finally:
        worker.terminate()
        worker.wait(30)
    console = open_services(home, postgres.url, keyring_backend=MemoryKeyring())
    try:
        runs = [(r.job_name, r.status, r.due_at) for r in console.runs.runs()]
        assert sorted(runs) == [
            ("before", "succeeded", now),
            ("during", "succeeded", due_during),
        ]
        next_run = console.jobs.get("during").next_run_at
        assert next_run is not None and next_run > due_during + timedelta(hours=23)
    finally:
        console.close()
    said = output.lines
    assert sum("database unavailable" in line for line in said) == 1, said
    assert sum("database back" in line for line in said) == 1, said
    assert not [line for line in said if "Traceback" in line], said
