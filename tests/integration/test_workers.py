"""`mobile-console worker` processes on one database: each tick once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from console.app import Services, open_services
from console.core.store import schema
from console.core.tables.api import open_table
from console.demo.memory_keyring import MemoryKeyring


@pytest.fixture
def console(db_url: str, home: Path) -> Iterator[Services]:
    services = open_services(home, db_url, keyring_backend=MemoryKeyring())
    yield services
    services.close()


@pytest.fixture
def start_worker(db_url: str, home: Path) -> Iterator[Callable[[], subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "console", "--home", str(home), "--db", db_url, "worker"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def make_due(services: Services, name: str, script: str, timeout_s: int = 60) -> None:
    services.jobs.create(
        name,
        interval=1,
        unit="day",
        script=script,
        start_at=services.jobs.clock() - timedelta(hours=1),
        timeout_s=timeout_s,
    )
    services.jobs.enable(name)
    with services.store.write() as conn:
        conn.execute(
            schema.jobs.update()
            .where(schema.jobs.c.name == name)
            .values(next_run_at=services.jobs.clock())
        )


def runs_of(services: Services) -> list[tuple[str, str, str | None]]:
    return [(r.job_name, r.status, r.error) for r in services.runs.runs(limit=1000)]


def wait_for(
    condition: Callable[[], bool], seconds: float = 60, message: Callable[[], object] = str
) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting; {message()}"
        time.sleep(0.1)


def test_two_workers_run_each_due_tick_exactly_once(
    console: Services, start_worker: Callable[[], subprocess.Popen[str]]
) -> None:
    console.tables.create("Ticks")
    names = [f"job{i}" for i in range(12)]
    for name in names:
        make_due(
            console,
            name,
            f"import time\ndef {name}():\n"
            f"    tables.get_table('Ticks').insert({{'job': '{name}'}})\n    time.sleep(0.3)\n",
        )
    workers = [start_worker(), start_worker()]
    wait_for(
        lambda: sum(s == "succeeded" for _, s, _ in runs_of(console)) >= 12,
        message=lambda: (runs_of(console), [w.pid for w in workers]),
    )
    for proc in workers:
        proc.send_signal(signal.SIGTERM)
    for proc in workers:
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0, out
        assert "stopped" in out
    # Both have stopped (letting any run finish): a doubled run would be in by now.
    assert sorted(n for n, _, _ in runs_of(console)) == sorted(names)
    assert sorted(r["job"] for r in open_table(console.tables, "Ticks").read()) == sorted(names)


def test_a_killed_workers_lease_expires_and_another_takes_the_next_tick(
    console: Services, start_worker: Callable[[], subprocess.Popen[str]]
) -> None:
    make_due(console, "long", "import time\ndef long():\n    time.sleep(3)\n")
    first = start_worker()
    wait_for(lambda: runs_of(console)[:1] == [("long", "running", None)])
    first.kill()
    first.wait()
    job = console.jobs.get("long")
    with console.store.write() as conn:  # thirty seconds pass: the lease lapses, a tick is due
        now = console.jobs.clock()
        conn.execute(
            schema.leases.update()
            .where(schema.leases.c.job_id == job.id)
            .values(expires_at=now - timedelta(seconds=1))
        )
        conn.execute(schema.jobs.update().where(schema.jobs.c.id == job.id).values(next_run_at=now))
    second = start_worker()
    wait_for(lambda: any(s == "succeeded" for _, s, _ in runs_of(console)))
    runs = runs_of(console)
    assert len(runs) == 2
    assert runs[0][1] == "succeeded"
    assert runs[1][1] == "interrupted" and "stopped before it ended" in (runs[1][2] or "")
    # by the worker's name (host:pid by default), and when it was last heard from
    assert f"{socket.gethostname()}:{first.pid}, which ran it" in (runs[1][2] or "")
    assert "last heard from" in (runs[1][2] or "")
    second.send_signal(signal.SIGTERM)
    second.communicate(timeout=10)


def test_sigterm_ends_a_busy_worker_within_ten_seconds(
    console: Services, start_worker: Callable[[], subprocess.Popen[str]]
) -> None:
    make_due(console, "endless", "import time\ndef endless():\n    time.sleep(600)\n", 900)
    worker = start_worker()
    wait_for(lambda: runs_of(console)[:1] == [("endless", "running", None)])
    started = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    out, _ = worker.communicate(timeout=12)
    assert time.monotonic() - started < 10, out
    assert worker.returncode == 0
    # Not cancelled by anyone: interrupted, and the run says by what.
    _, status, error = runs_of(console)[0]
    assert status == "interrupted"
    name = f"{socket.gethostname()}:{worker.pid}"
    assert error == f"interrupted: the worker {name} was stopped by SIGTERM before the run ended"
    run = console.runs.runs(limit=1)[0]
    last = console.runs.entries(run_id=run.id)[-1]
    assert last.message == f"Run {error}"
    with console.store.read() as conn:
        holder = conn.execute(sa.select(schema.leases.c.owner)).scalar()
    assert holder is None


def test_a_worker_whose_output_is_gone_still_runs_the_jobs(
    console: Services, db_url: str, home: Path
) -> None:
    """`worker | head -1`, a log collector that died: its stdout is a pipe
    nobody reads. Before, the scheduler thread died with BrokenPipeError and
    the worker ran nothing, silently."""
    console.tables.create("Ticks")
    make_due(console, "tick", "def tick():\n    tables.get_table('Ticks').insert({'n': 1})\n")
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to stdout now fails with EPIPE
    with subprocess.Popen(
        [sys.executable, "-m", "console", "--home", str(home), "--db", db_url, "worker"],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    ) as worker:
        os.close(write_end)
        try:
            wait_for(
                lambda: ("tick", "succeeded", None) in runs_of(console) or worker.poll() is not None
            )
            assert worker.poll() is None, worker.communicate()[1]
        finally:
            worker.send_signal(signal.SIGTERM)
            _, err = worker.communicate(timeout=20)
    assert worker.returncode == 0, err
    assert "Traceback" not in err
    assert open_table(console.tables, "Ticks").count() == 1


CONSOLE = [sys.executable, "-m", "console"]
ALPHA = ["--name", "alpha", "--max-runs", "2"]


def cli(home: Path, db_url: str, *words: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", "--home", str(home), "--db", db_url, *words],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )


def test_workers_are_listed_by_name_with_what_they_run_and_names_stay_unique(
    console: Services, db_url: str, home: Path
) -> None:
    make_due(console, "long", "import time\ndef long():\n    time.sleep(600)\n", 900)
    worker = subprocess.Popen(
        [*CONSOLE, "--home", str(home), "--db", db_url, "worker", *ALPHA],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: runs_of(console)[:1] == [("long", "running", None)])
        twin = cli(home, db_url, "worker", "--name", "alpha")
        assert twin.returncode == 2
        assert twin.stderr.count("\n") == 1 and "named 'alpha' is running already" in twin.stderr
        listed = json.loads(cli(home, db_url, "workers", "--json").stdout)
        assert [(w["name"], w["state"], w["runs_in_flight"], w["running"]) for w in listed] == [
            ("alpha", "live", 1, ["long"])
        ]
        table = cli(home, db_url, "workers").stdout
        assert "alpha" in table and "1 (max 2)" in table
        shown = json.loads(cli(home, db_url, "job", "show", "long", "--json").stdout)
        assert shown["runs"][0]["worker"] == "alpha"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=15)
    listed = json.loads(cli(home, db_url, "workers", "--json").stdout)
    assert [(w["name"], w["state"], w["runs_in_flight"]) for w in listed] == [
        ("alpha", "stopped", 0)
    ]


def test_a_worker_refuses_a_database_of_a_newer_schema(
    console: Services, db_url: str, home: Path
) -> None:
    with console.store.write() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    done = cli(home, db_url, "worker")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "newer Mobile Console" in done.stderr
    assert done.stdout == ""


def test_max_runs_caps_a_workers_runs_and_leaves_the_rest_due(
    console: Services, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    for name in ("a", "b", "c"):
        make_due(
            console,
            name,
            f"import os, time\ndef {name}():\n"
            f"    while not os.path.exists({str(gate)!r}):\n        time.sleep(0.02)\n",
        )
    sched = console.scheduler(max_runs=2)
    try:
        sched.step()
        wait_for(lambda: len([r for r in runs_of(console) if r[1] == "running"]) == 2)
        assert len(sched.active_runs()) == 2
        [waiting] = {"a", "b", "c"} - set(sched.active_runs())
        next_run = console.jobs.get(waiting).next_run_at
        assert next_run is not None and next_run <= console.jobs.clock()  # left due for others
        gate.touch()
        wait_for(lambda: not sched.active_runs())
        sched.step()
        wait_for(lambda: sorted(s for _, s, _ in runs_of(console)) == ["succeeded"] * 3)
    finally:
        sched.stop()


def test_a_killed_worker_with_a_name_of_its_own_frees_its_job_at_once(
    console: Services, db_url: str, home: Path
) -> None:
    """A worker named freely (`--name`) and killed on this machine: the next
    worker sees from the pid it registered that it is gone, and takes the
    job's next tick at once instead of waiting out its 30 s lease."""
    make_due(console, "long", "import time\ndef long():\n    time.sleep(600)\n", 900)
    first = subprocess.Popen(
        [*CONSOLE, "--home", str(home), "--db", db_url, "worker", "--name", "night-shift"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: runs_of(console)[:1] == [("long", "running", None)])
    first.kill()
    first.wait()
    listed = json.loads(cli(home, db_url, "workers", "--json").stdout)
    assert [(w["name"], w["state"]) for w in listed] == [("night-shift", "lost")]
    job = console.jobs.get("long")
    with console.store.write() as conn:  # its next tick is due now; its lease is still live
        conn.execute(
            schema.jobs.update()
            .where(schema.jobs.c.id == job.id)
            .values(next_run_at=console.jobs.clock())
        )
    second = subprocess.Popen(
        [*CONSOLE, "--home", str(home), "--db", db_url, "worker", "--name", "day-shift"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: len(runs_of(console)) == 2, seconds=15)  # well within the 30 s lease
        newest, killed = runs_of(console)[:2]
        assert newest[:2] == ("long", "running")
        assert killed[1] == "interrupted"
        assert "night-shift, which ran it, stopped before it ended" in (killed[2] or "")
    finally:
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=15)


# Liveness by name is the same on both databases; the test waits out a
# worker's sleep (about 19 s), so it runs on SQLite only.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_live_worker_named_like_a_dead_process_keeps_its_run(
    console: Services, db_url: str, home: Path, start_worker: Callable[[], subprocess.Popen[str]]
) -> None:
    """`--name` is free text: a live worker named `thishost:<a pid that has
    ended>` is alive all the same, and nobody takes its run or its lease."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    lookalike = f"{socket.gethostname()}:{dead.pid}"
    make_due(console, "slow", "import time\ndef slow():\n    time.sleep(4)\n")
    first = subprocess.Popen(
        [*CONSOLE, "--home", str(home), "--db", db_url, "worker", "--name", lookalike],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: runs_of(console)[:1] == [("slow", "running", None)])
        job = console.jobs.get("slow")
        with console.store.write() as conn:
            conn.execute(
                schema.jobs.update()
                .where(schema.jobs.c.id == job.id)
                .values(next_run_at=console.jobs.clock())
            )
        second = start_worker()
        wait_for(lambda: len(runs_of(console)) == 2 and runs_of(console)[0][1] == "succeeded")
        newest, older = runs_of(console)[:2]
        assert older[1] == "succeeded"  # never interrupted by the second worker
        assert newest[1] == "succeeded"  # the tick ran once the first run let go
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=15)
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=15)


def test_a_stopped_worker_whose_run_was_taken_for_abandoned_ends_it_when_it_goes_on(
    console: Services, db_url: str, home: Path, tmp_path: Path
) -> None:
    """A worker paused (SIGSTOP: Ctrl+Z, a suspended machine) past its lease:
    another console takes its run for abandoned, and may run the job again.
    When the worker goes on, its next heartbeat finds the run taken: it ends
    the script at once (the job must not run twice at a time), and leaves
    the record as the other console wrote it, with a line that says so."""
    pid_file = tmp_path / "script.pid"
    make_due(
        console,
        "long",
        f"import os, time\ndef long():\n    open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "    time.sleep(600)\n",
        900,
    )
    worker = subprocess.Popen(
        [*CONSOLE, "--home", str(home), "--db", db_url, "worker", "--name", "paused"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: pid_file.exists() and pid_file.read_text().isdigit())
        script = int(pid_file.read_text())
        worker.send_signal(signal.SIGSTOP)
        # A minute later, by another console's clock: the lease has lapsed.
        later = open_services(
            home,
            db_url,
            clock=lambda: console.jobs.clock() + timedelta(minutes=1),
            keyring_backend=MemoryKeyring(),
        )
        try:
            assert later.runs.interrupt_abandoned() == 1
        finally:
            later.close()
        (taken,) = runs_of(console)
        worker.send_signal(signal.SIGCONT)
        run_id = console.runs.runs()[0].id

        def told() -> list[str]:
            return [e.message for e in console.runs.entries(run_id=run_id, limit=None)]

        wait_for(lambda: any("ended already" in m for m in told()), 30, told)
        wait_for(lambda: not os.path.exists(f"/proc/{script}"), 10)
        assert runs_of(console) == [taken]  # the record stands as the other console wrote it
        assert taken[1] == "interrupted" and "paused, which ran it" in (taken[2] or "")
        assert any("another console took the run for abandoned" in m for m in told())
    finally:
        worker.send_signal(signal.SIGCONT)
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=15)
    assert worker.returncode == 0
