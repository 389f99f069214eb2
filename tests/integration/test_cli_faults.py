"""Every fault is one line: bad homes, damaged or foreign databases, numbers
out of range, reserved names, locks, a database file that disappears, a job
deleted while it runs. Each gives exit 2 and one line on stderr, no
traceback, and nothing changed."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from console.cli import main
from console.core.errors import ConsoleError
from console.core.store.database import Store
from console.core.tables.catalogue import TableStore
from tests.conftest import RunCli


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("mobile-console: "), err
    assert "Traceback" not in err
    return lines[0]


def run_cli(capsys: pytest.CaptureFixture[str], *words: str) -> tuple[int, str]:
    code = main(list(words))
    return code, capsys.readouterr().err


@pytest.fixture
def console_home(home: Path) -> Path:
    assert main(["--home", str(home), "table", "create", "Notes"]) == 0
    return home


def _home_is_a_file(tmp_path: Path) -> list[str]:
    (tmp_path / "afile").write_text("x")
    return ["--home", str(tmp_path / "afile"), "table", "list"]


def _random_bytes(tmp_path: Path) -> list[str]:
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "console.db").write_bytes(os.urandom(20_000))
    return ["--home", str(tmp_path / "h"), "table", "list"]


def _empty_alembic_version(tmp_path: Path) -> list[str]:
    assert main(["--home", str(tmp_path / "h"), "table", "list"]) == 0
    with sqlite3.connect(tmp_path / "h" / "console.db") as db:
        db.execute("DELETE FROM alembic_version")
    return ["--home", str(tmp_path / "h"), "table", "list"]


def _foreign_sqlite(tmp_path: Path) -> list[str]:
    (tmp_path / "h").mkdir()
    with sqlite3.connect(tmp_path / "h" / "console.db") as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    return ["--home", str(tmp_path / "h"), "table", "list"]


def _truncated(tmp_path: Path) -> list[str]:
    assert main(["--home", str(tmp_path / "h"), "table", "create", "Notes"]) == 0
    db = tmp_path / "h" / "console.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with open(db, "r+b") as f:
        f.truncate(4096)
    return ["--home", str(tmp_path / "h"), "table", "rows", "Notes"]


def _db_under_a_file(tmp_path: Path) -> list[str]:
    (tmp_path / "passwd").write_text("root:x:0:0\n")
    return [
        "--home",
        str(tmp_path / "h"),
        "--db",
        f"sqlite:///{tmp_path}/passwd/x.db",
        "table",
        "list",
    ]


def _in(tmp_path: Path, *words: str) -> list[str]:
    return ["--home", str(tmp_path / "h"), *words]


CASES: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "home is a file": (_home_is_a_file, "is a file, not a folder"),
    "random bytes as console.db": (_random_bytes, "not a database"),
    "empty alembic_version": (_empty_alembic_version, "alembic_version is empty"),
    "foreign SQLite database": (_foreign_sqlite, "not a Mobile Console database"),
    "truncated console.db": (_truncated, "database"),
    "--db under a file": (_db_under_a_file, "is a file"),
    "PostgreSQL port not a number": (
        lambda t: _in(t, "--db", "postgresql+psycopg://u@localhost:abc/db", "table", "list"),
        "port is not a number",
    ),
    "--limit 99999999999999999999": (
        lambda t: _in(t, "table", "rows", "Notes", "--limit", "99999999999999999999"),
        "is above",
    ),
    "--start 9999-12-31T23:59:59-05:00": (
        lambda t: _in(
            t,
            "job",
            "create",
            "j",
            "--every",
            "1",
            "--unit",
            "day",
            "--start",
            "9999-12-31T23:59:59-05:00",
        ),
        "out of range",
    ),
    "--start in year 1": (
        lambda t: _in(
            t,
            "job",
            "create",
            "j",
            "--every",
            "1",
            "--unit",
            "day",
            "--start",
            "0001-01-01T00:00:00+00:00",
        ),
        "out of range",
    ),
    "--start in year 1, New York time": (
        lambda t: _in(
            t,
            "job",
            "create",
            "j",
            "--every",
            "1",
            "--unit",
            "day",
            "--start",
            "0001-01-01T00:00:00",
        ),
        "out of range",
    ),
    "--every 100000 --unit month": (
        lambda t: _in(t, "job", "create", "j", "--every", "100000", "--unit", "month"),
        "1,200",
    ),
    "table sqlite_foo": (lambda t: _in(t, "table", "create", "sqlite_foo"), "reserved"),
    "table ix_log_entries_run": (
        lambda t: _in(t, "table", "create", "ix_log_entries_run"),
        "reserved",
    ),
    "table jobs_pkey": (lambda t: _in(t, "table", "create", "jobs_pkey"), "reserved"),
    "--script /dev/zero": (
        lambda t: _in(
            t, "job", "create", "j", "--every", "1", "--unit", "none", "--script", "/dev/zero"
        ),
        "larger than a script may be",
    ),
}


@pytest.fixture
def new_york() -> Iterator[None]:
    """Local time is New York's (west of UTC: year 1 there is before UTC's year 1)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


OWN_SETUP = {_home_is_a_file, _random_bytes, _empty_alembic_version, _foreign_sqlite, _truncated}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_input_is_one_line_and_exit_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    make, words = CASES[case]
    if "New York" in case:
        request.getfixturevalue("new_york")
    if make not in OWN_SETUP:  # a console with a table, to show nothing changes
        assert main(_in(tmp_path, "table", "create", "Notes")) == 0
    argv = make(tmp_path)
    capsys.readouterr()
    before = _snapshot(tmp_path)
    code, err = run_cli(capsys, *argv)
    assert code == 2
    assert words in one_line(err)
    assert _snapshot(tmp_path) == before  # nothing changed, nothing taken over


def _snapshot(root: Path) -> dict[str, object]:
    """The files under `root`; a database as its contents (a checkpoint may
    move its bytes without changing anything)."""
    found: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.endswith(("-wal", "-shm")):
            continue
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                found[str(path)] = list(db.iterdump())
        except sqlite3.DatabaseError:
            found[str(path)] = path.read_bytes()
    return found


def test_a_missing_folder_under_a_read_only_home(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mount = tmp_path / "ro"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:  # mounting needs root (or CAP_SYS_ADMIN): not every CI has it
        pytest.skip(f"cannot mount a read-only tmpfs: {done.stderr!r}")
    try:
        code, err = run_cli(capsys, "--home", str(mount / "missing"), "table", "list")
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
    assert code == 2
    assert "Read-only file system" in one_line(err)


def cli(home: Path, *words: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", "--home", str(home), *words],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_a_lock_held_past_the_busy_timeout_is_one_line(console_home: Path) -> None:
    holder = sqlite3.connect(console_home / "console.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        done = cli(console_home, "table", "create", "More", MOBILE_CONSOLE_BUSY_TIMEOUT_MS="300")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 2
    assert "locked by another process" in one_line(done.stderr)
    assert "More" not in cli(console_home, "table", "list").stdout


@pytest.fixture
def worker(console_home: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "console", "--home", str(console_home), "worker"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # it has opened the database once it says so
        if "scheduler started" in line or " on " in line:
            break
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_a_database_deleted_under_a_worker_stops_it(
    console_home: Path, worker: subprocess.Popen[str]
) -> None:
    for suffix in ("", "-wal", "-shm"):
        (console_home / f"console.db{suffix}").unlink(missing_ok=True)
    _out, err = worker.communicate(timeout=30)
    assert worker.returncode == 2
    assert "was deleted while this console had it open" in err
    assert "Traceback" not in err
    assert not (console_home / "console.db").exists()  # no second, empty database


def test_deleting_a_running_job_is_refused_until_it_ends(console_home: Path) -> None:
    started = console_home / "started"
    script = console_home.parent / "slow.py"
    script.write_text(
        "def slow():\n"
        "    import os, time\n"
        f"    open({str(started)!r}, 'w').close()\n"
        f"    while os.path.exists({str(started)!r}):\n"
        "        time.sleep(0.05)\n"
    )
    made = cli(
        console_home,
        "job",
        "create",
        "slow",
        "--every",
        "1",
        "--unit",
        "none",
        "--script",
        str(script),
    )
    assert made.returncode == 0, made.stderr
    run = subprocess.Popen(
        [sys.executable, "-m", "console", "--home", str(console_home), "job", "run", "slow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline and run.poll() is None
        time.sleep(0.05)
    refused = cli(console_home, "job", "delete", "slow")
    started.unlink()  # the run may end now
    _out, err = run.communicate(timeout=60)
    assert refused.returncode == 2
    assert "is running" in one_line(refused.stderr)
    assert run.returncode == 0, err  # the run was not broken by the attempt
    assert cli(console_home, "job", "delete", "slow").returncode == 0


def test_concurrent_creates_of_one_table_on_postgresql(pg_url: str) -> None:
    """Eight consoles (each its own engine and connection) create one table at
    the same moment: one succeeds, seven are told it exists."""
    stores = [Store(pg_url) for _ in range(8)]
    start = threading.Barrier(len(stores))
    outcomes: list[str] = []

    def create(store: Store) -> None:
        start.wait()
        try:
            TableStore(store).create("Race")
            outcomes.append("created")
        except ConsoleError as e:
            outcomes.append(str(e))

    threads = [threading.Thread(target=create, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for store in stores:
        store.dispose()
    assert sorted(outcomes) == ["a table named 'Race' already exists"] * 7 + ["created"]


@pytest.mark.parametrize("flag", ["--home", "--db"])
def test_an_empty_home_or_database_is_refused_not_taken_for_the_default(
    flag: str, tmp_path: Path
) -> None:
    """`--home "$DIR"` with DIR unset must not write into the user's real data."""
    fake_user = tmp_path / "user"
    done = subprocess.run(
        [sys.executable, "-m", "console", flag, "", "table", "create", "Zz"],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(fake_user), "XDG_DATA_HOME": str(fake_user / "data")},
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        done.stderr
        == f"mobile-console: {flag} is empty; give it a value, or leave it out for the default\n"
    )
    assert not fake_user.exists()


@pytest.mark.parametrize(
    "content", [b"x", b"hello, world\n", b"SQLite format 2\x00" + b"\x00" * 100]
)
def test_a_file_that_is_not_a_database_is_left_as_it_is(content: bytes, tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_bytes(content)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "console",
            "--home",
            str(tmp_path / "home"),
            "--db",
            f"sqlite:///{other}",
            "table",
            "list",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "is not a database SQLite made" in done.stderr
    assert other.read_bytes() == content


def test_an_empty_script_is_refused_and_the_old_one_kept(run_cli: RunCli) -> None:
    assert run_cli("job", "create", "keep", "--every", "1", "--unit", "hour").returncode == 0
    before = run_cli("job", "script", "keep").stdout
    emptied = run_cli("job", "script", "keep", "--set", "-", stdin="")
    assert emptied.returncode == 2
    assert emptied.stderr == "mobile-console: stdin holds no script; nothing was changed\n"
    assert run_cli("job", "script", "keep").stdout == before and before.strip()


@pytest.mark.parametrize("words", [("job", "run", "quick"), ("job", "list")])
def test_a_misspelt_runner_word_is_one_line_and_runs_nothing(
    console_home: Path, words: tuple[str, ...]
) -> None:
    assert (
        cli(console_home, "job", "create", "quick", "--every", "1", "--unit", "hour").returncode
        == 0
    )
    done = cli(console_home, *words, MOBILE_CONSOLE_RUNNER="protable")
    assert done.returncode == 2
    assert done.stdout == ""
    assert one_line(done.stderr).startswith("mobile-console: MOBILE_CONSOLE_RUNNER='protable'")
    runs = cli(console_home, "run", "list", "--json")
    assert json.loads(runs.stdout) == []  # no run was started with it
