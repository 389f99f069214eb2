"""The database goes away during a run (a PostgreSQL of the test's own, stopped
and started again; a home on a 2 MB file system that fills up): one line,
no run left `running`, nothing of its log lost."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import need

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class Postgres:
    """A throwaway PostgreSQL server this test may stop and start."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="console-pg-"))
        shutil.chown(self.dir, "postgres")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._as_postgres(
            "initdb", "-D", f"{self.dir}/data", "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C.UTF-8",
        )  # fmt: skip
        self.start()
        self._as_postgres("createdb", "-h", "127.0.0.1", "-p", str(self.port), "console")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/console"

    def _as_postgres(self, tool: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / tool), *args],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self._as_postgres(
            "pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-w", "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", f"{self.dir}/data", "-w", "-m", "fast", "stop")

    def remove(self) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D",
             f"{self.dir}/data", "-w", "-m", "immediate", "stop"],
            capture_output=True,
        )  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[Postgres]:
    need((PG_BIN / "initdb").exists(), "PostgreSQL 15 is not installed")
    server = Postgres()
    yield server
    server.remove()


def cli(home: Path, *words: str, db: str | None = None, **options: object) -> Any:
    base = [sys.executable, "-m", "console", "--home", str(home)]
    if db:
        base += ["--db", db]
    return subprocess.run([*base, *words], capture_output=True, text=True, timeout=120, **options)


def wait_for_file(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


def test_postgres_stopped_during_a_run_keeps_its_log_in_the_spool(
    own_postgres: Postgres, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    ready, go = tmp_path / "ready", tmp_path / "go"
    script = tmp_path / "outage.py"
    script.write_text(
        "def outage():\n"
        "    import os, time\n"
        "    console.log('before the outage')\n"
        f"    open({str(ready)!r}, 'w').close()\n"
        f"    while not os.path.exists({str(go)!r}):\n"
        "        time.sleep(0.05)\n"
        "    for i in range(3):\n"
        "        console.log(f'during the outage {i}')\n"
    )
    db = own_postgres.url
    made = cli(home, "job", "create", "outage", "--every", "1", "--unit", "none",
               "--script", str(script), db=db)  # fmt: skip
    assert made.returncode == 0, made.stderr
    run = subprocess.Popen(
        [sys.executable, "-m", "console", "--home", str(home), "--db", db, "job", "run", "outage"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_file(ready)
        own_postgres.stop()
        go.touch()
        out, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
        own_postgres.start()
    assert run.returncode == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "log is kept in" in err and "during the outage 2" in out
    spool = home / "log-spool.jsonl"
    assert stat.S_IMODE(spool.stat().st_mode) == 0o600

    # The database is back: the next command stores the spool; nothing lost.
    shown = cli(home, "logs", "--job", "outage", db=db)
    assert shown.returncode == 0, shown.stderr
    for line in ("before the outage", "during the outage 0", "during the outage 2"):
        assert line in shown.stdout
    assert spool.stat().st_size == 0
    status = cli(home, "job", "show", "outage", db=db)
    assert "succeeded" in status.stdout
    again = cli(home, "job", "run", "outage", db=db, input="")  # no lease held
    assert again.returncode in (0, 1), again.stderr  # it waits for a go file only once
    assert "running already" not in again.stderr


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:  # mounting needs root (or CAP_SYS_ADMIN): not every CI has it
        pytest.skip(f"cannot mount a 2 MB tmpfs: {done.stderr!r}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry run"])
def test_a_full_disk_during_a_run_fails_it_with_one_line(small_disk: Path, dry_run: bool) -> None:
    home = small_disk / "home"
    script = small_disk.parent / "fill.py"
    script.write_text(
        "def fill():\n"
        "    t = tables.get_table('Big')\n"
        "    for i in range(10_000):\n"
        "        t.insert_many([{'s': 'x' * 1000} for _ in range(100)])\n"
        "        print('batch', i, 'y' * 500)\n"
    )
    assert cli(home, "table", "create", "Big").returncode == 0
    made = cli(home, "job", "create", "fill", "--every", "1", "--unit", "none",
               "--script", str(script))  # fmt: skip
    assert made.returncode == 0, made.stderr
    run = cli(home, "job", "run", "fill", *(["--dry-run"] if dry_run else []))
    assert run.returncode in (1, 2), run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) <= 1
    assert "full" in (run.stdout + run.stderr)
    shown = cli(home, "job", "show", "fill")
    assert shown.returncode == 0
    assert " running " not in shown.stdout and "failed" in shown.stdout
    if dry_run:  # rolled back whole: the table is as it was
        rows = cli(home, "table", "rows", "Big", "--json")
        assert rows.returncode == 0 and json.loads(rows.stdout) == [], rows.stderr
    again = cli(home, "job", "run", "fill")
    assert "running already" not in again.stderr


def test_postgres_restarted_under_two_workers_loses_and_doubles_nothing(
    own_postgres: Postgres, tmp_path: Path
) -> None:
    """Two workers run six jobs that write; PostgreSQL goes down while every
    run is between its two writes, and the runs log meanwhile. Each tick ran
    once, no run is left `running`, the workers go on, and the log written
    during the outage is stored once the database is back."""
    from console.app import open_services
    from console.core.tables.api import open_table
    from console.demo.memory_keyring import MemoryKeyring
    from tests.integration.test_workers import make_due, wait_for

    db, home = own_postgres.url, tmp_path / "home"
    go, back = tmp_path / "go", tmp_path / "back"
    services = open_services(home, db, keyring_backend=MemoryKeyring())
    names = [f"writer{i}" for i in range(6)]
    try:
        services.tables.create("Writes")
        for name in names:
            make_due(
                services,
                name,
                f"import os, time\ndef {name}():\n"
                f"    writes = tables.get_table('Writes')\n"
                f"    writes.insert({{'job': '{name}', 'step': 1}})\n"
                f"    open({str(tmp_path / name)!r}, 'w').close()\n"
                f"    while not os.path.exists({str(go)!r}):\n"
                "        time.sleep(0.05)\n"
                f"    print('{name} during the outage')\n"
                f"    while not os.path.exists({str(back)!r}):\n"
                "        time.sleep(0.05)\n"
                f"    writes.insert({{'job': '{name}', 'step': 2}})\n",
            )
        command = [sys.executable, "-m", "console", "--home", str(home), "--db", db, "worker"]
        workers = [
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(2)
        ]
        said: list[list[str]] = [[], []]
        for worker, lines in zip(workers, said, strict=True):
            assert worker.stdout is not None
            threading.Thread(
                target=lambda f=worker.stdout, to=lines: to.extend(f), daemon=True
            ).start()

        def runs_of_ours() -> list[Any]:  # the module's server holds other tests' runs
            return [r for r in services.runs.runs(limit=100) if r.job_name in names]

        def all_said(words: str) -> bool:
            return all(any(words in line for line in lines) for lines in said)

        try:
            for name in names:
                wait_for_file(tmp_path / name)
            # both at work before it goes (a loaded machine may start one late)
            wait_for(lambda: all_said("scheduler started"), message=lambda: said)
            own_postgres.stop()
            go.touch()  # the runs log while it is away
            wait_for(lambda: all_said("database unavailable"), message=lambda: said)
            own_postgres.start()
            back.touch()
            wait_for(
                lambda: (
                    len(runs_of_ours()) == len(names)
                    and all(r.status != "running" for r in runs_of_ours())
                ),
                message=runs_of_ours,
            )
            wait_for(lambda: all_said("database back after"), message=lambda: said)
            assert all(w.poll() is None for w in workers)  # both still at work
        finally:
            for w in workers:
                w.send_signal(signal.SIGTERM)
            for w in workers:
                w.wait(30)
        outputs = ["".join(lines) for lines in said]
        runs = runs_of_ours()
        assert sorted(r.job_name for r in runs) == names  # each tick once
        assert {r.status for r in runs} == {"succeeded"}, [(r.status, r.error) for r in runs]
        rows = open_table(services.tables, "Writes").read()
        assert sorted((r["job"], r["step"]) for r in rows) == sorted(
            (n, s) for n in names for s in (1, 2)
        )
        for run in runs:  # the lines written while the database was away are stored
            logged = [e.message for e in services.runs.entries(run_id=run.id)]
            assert f"{run.job_name} during the outage" in logged
        assert not any("Traceback" in out for out in outputs), outputs
        for out in outputs:  # each worker said so once, in one line
            assert out.count("database unavailable") == 1, out
    finally:
        services.close()


def test_a_database_made_unreadable_under_a_worker_fails_the_run_in_one_line(
    tmp_path: Path,
) -> None:
    """console.db chmod 000 under a running worker (the worker run as root
    without the capability that ignores file modes): the run that opens it
    (`iter()` streams over the run's own connection; its other operations
    go through the worker's, open already) then fails with one line saying
    so, the worker goes on, and once the file is readable again the next run
    writes."""
    from console.app import open_services
    from console.core.tables.api import open_table
    from console.demo.memory_keyring import MemoryKeyring
    from tests.integration.test_workers import make_due, wait_for

    need(shutil.which("setpriv") is not None, "setpriv (util-linux) is missing")
    home, ready, go = tmp_path / "home", tmp_path / "ready", tmp_path / "go"
    services = open_services(home, keyring_backend=MemoryKeyring())
    services.tables.create("Writes")
    make_due(
        services,
        "writer",
        "import os, time\ndef writer():\n"
        f"    open({str(ready)!r}, 'w').close()\n"
        f"    while not os.path.exists({str(go)!r}):\n"
        "        time.sleep(0.05)\n"
        "    for _row in tables.get_table('Writes').iter(): pass\n"
        "    tables.get_table('Writes').insert({'n': 1})\n",
    )
    worker = subprocess.Popen(
        ["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
         sys.executable, "-m", "console", "--home", str(home), "worker"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )  # fmt: skip
    database = home / "console.db"
    try:
        wait_for_file(ready)
        database.chmod(0)
        go.touch()
        wait_for(lambda: [r.status for r in services.runs.runs()] == ["failed"])
        database.chmod(0o600)
        failed = services.runs.runs()[0]
        assert failed.error == (
            "the console's database: the database file cannot be opened (it or its folder "
            "is missing, or not readable and writable by this user) (line 6)"
        )
        ran = cli(home, "job", "run", "writer")  # the file is back: a run writes
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert worker.poll() is None  # the worker went on
    finally:
        database.chmod(0o600)
        worker.terminate()
        out = worker.communicate(timeout=30)[0]
        services.close()
    assert "Traceback" not in out
    assert "writer failed: the console's database: the database file cannot be opened" in out
    with_rows = open_services(home, keyring_backend=MemoryKeyring())
    try:
        assert [r["n"] for r in open_table(with_rows.tables, "Writes").read()] == [1]
        assert sorted(r.status for r in with_rows.runs.runs()) == ["failed", "succeeded"]
    finally:
        with_rows.close()
