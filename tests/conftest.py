"""Fixtures shared by every test: fresh homes, both databases, the keyring."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

# Qt aborts without a display; tests draw offscreen.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The window keeps its place in QSettings, which Qt locates once per process:
# point it (and every child process) at a throwaway folder, not the user's.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="console-test-config-")
atexit.register(shutil.rmtree, os.environ["XDG_CONFIG_HOME"], True)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_URL = os.environ.get("MOBILE_CONSOLE_TEST_PG")
# Under pytest-xdist each worker gets a database of its own on the same server
# (the fixtures below drop and recreate its schema for every test).
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def need(condition: bool, reason: str) -> None:
    """Skip when a real service is missing, except in CI, where it must be there."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's real console home or database."""
    monkeypatch.setenv("MOBILE_CONSOLE_HOME", str(tmp_path / "default-home"))
    monkeypatch.delenv("MOBILE_CONSOLE_DB", raising=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir(mode=0o700)  # as the console makes one (a looser one gets a warning)
    return path


def _own_database(url: str, worker: str) -> str:
    """The URL of this xdist worker's database, made on first use."""
    import sqlalchemy as sa

    base = sa.make_url(url)
    name = f"{base.database}_{worker}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if not found:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


if PG_URL and XDIST_WORKER:
    PG_URL = _own_database(PG_URL, XDIST_WORKER)
    os.environ["MOBILE_CONSOLE_TEST_PG"] = PG_URL


def _fresh_postgres_schema() -> None:
    import sqlalchemy as sa

    assert PG_URL
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The PostgreSQL that make test starts, with an empty schema."""
    need(bool(PG_URL), "no PostgreSQL server (make test starts one)")
    assert PG_URL
    _fresh_postgres_schema()
    yield PG_URL


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, home: Path) -> Iterator[str]:
    """A fresh database: a SQLite file in the home, or the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{home / 'console.db'}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def memory_keyring() -> object:
    from console.demo.memory_keyring import MemoryKeyring

    return MemoryKeyring()


@pytest.fixture
def services(home: Path, memory_keyring: object) -> Iterator[object]:
    """A console on a fresh SQLite home, with an in-memory keyring."""
    from console.app import open_services

    opened = open_services(home, keyring_backend=memory_keyring)
    yield opened
    opened.close()


class RunCli(Protocol):
    def __call__(
        self, *args: str, stdin: str = "", env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]: ...


@pytest.fixture
def run_cli(home: Path) -> RunCli:
    """`mobile-console --home HOME ARGS…` as a user types it: a real process,
    `stdin` piped in, the test's environment plus `env`."""

    def run(
        *args: str, stdin: str = "", env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "console", "--home", str(home), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "MOBILE_CONSOLE_HOME": str(home), **(env or {})},
        )

    return run


#: Test files that need Linux itself: prctl, /proc, RLIMIT_AS, the fork
#: server, `setsid`, desktop-file-validate, the Secret Service, Xvfb. Marked
#: `linux_only`; CI runs `-m "not linux_only"` on macOS and Windows.
LINUX_ONLY = {
    "tests/unit/running/test_process_tree.py",
    "tests/unit/running/test_fork_server.py",
    "tests/unit/running/test_platform_linux.py",
    "tests/unit/running/test_platform_portable.py",
    "tests/unit/running/test_script_host.py",
    "tests/integration/test_process_tree.py",
    "tests/integration/test_fork_server.py",
    "tests/integration/test_window_terminate.py",
    "tests/integration/test_portable_runner.py",
    "tests/integration/test_installed.py",
    "tests/integration/test_desktop_files.py",
    "tests/integration/test_secrets_keyring.py",
}
ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if path.is_relative_to(ROOT) and (
            path.relative_to(ROOT).as_posix() in LINUX_ONLY
            or path.relative_to(ROOT).parts[:2] == ("tests", "desktop")
        ):
            item.add_marker(pytest.mark.linux_only)
