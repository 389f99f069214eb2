"""Runs through the fork server: every outcome of the runner's own tests,
each run still a process of its own; a dead server is replaced; a worker
that dies takes its runs' processes with it."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.app import Services, open_services
from console.core.running import fork_server
from console.demo.memory_keyring import MemoryKeyring
from tests.integration.test_runner import (
    log_of,
    make_job,
    test_a_chatty_script_has_its_log_capped,
    test_a_child_in_a_new_session_ends_with_the_run,
    test_a_script_ignoring_sigterm_is_killed,
    test_a_script_without_its_function_fails_clearly,
    test_a_segfault_fails_only_that_run,
    test_a_succeeding_run_streams_its_log_and_records_rows,
    test_a_timeout_ends_the_run,
    test_an_exception_fails_the_run_with_the_scripts_line,
    test_cancel_ends_the_run,
    test_os_exit_is_reported_with_its_code,
    test_running_out_of_memory_fails_the_run,
    test_writes_to_fd_1_do_not_break_the_protocol,
)

__all__ = [  # the runner's tests, run here again on forked hosts
    "test_a_chatty_script_has_its_log_capped",
    "test_a_child_in_a_new_session_ends_with_the_run",
    "test_a_script_ignoring_sigterm_is_killed",
    "test_a_script_without_its_function_fails_clearly",
    "test_a_segfault_fails_only_that_run",
    "test_a_succeeding_run_streams_its_log_and_records_rows",
    "test_a_timeout_ends_the_run",
    "test_an_exception_fails_the_run_with_the_scripts_line",
    "test_cancel_ends_the_run",
    "test_os_exit_is_reported_with_its_code",
    "test_running_out_of_memory_fails_the_run",
    "test_writes_to_fd_1_do_not_break_the_protocol",
]

pytestmark = pytest.mark.skipif(not fork_server.available(), reason="Linux only")


@pytest.fixture
def services(home: Path) -> Iterator[Services]:
    opened = open_services(home, keyring_backend=MemoryKeyring())
    opened.runner.use_fork_server()
    yield opened
    opened.close()


def pids_of_runs(services: Services, count: int) -> list[int]:
    make_job(services, "who", "import os\nprint(os.getpid(), os.getpgid(0))")
    found = []
    for _ in range(count):
        run = services.runner.run("who")
        assert run.status == "succeeded"
        _pid, group = map(int, log_of(services, run.id)[1].split())
        assert group != os.getpgid(0)  # a process group of its own, ended as a whole
        found.append(group)
    return found


def test_every_run_is_a_process_of_its_own_forked_from_the_server(services: Services) -> None:
    forks = services.runner._forks
    assert forks is not None
    pids = pids_of_runs(services, 3)
    assert len(set(pids)) == 3 and forks.proc.pid not in pids and os.getpid() not in pids


def test_a_killed_fork_server_is_replaced_and_runs_go_on(services: Services) -> None:
    forks = services.runner._forks
    assert forks is not None
    forks.proc.kill()
    forks.proc.wait()
    assert pids_of_runs(services, 2)
    assert services.runner._forks is not forks and services.runner._forks is not None


def test_a_runner_that_dies_takes_its_runs_with_it(home: Path) -> None:
    """SIGKILL of a worker: its fork server sees the socket close and ends
    the runs it forked, instead of leaving them running unsupervised."""
    code = (
        "import sys\n"
        "from console.app import open_services\n"
        "from console.demo.memory_keyring import MemoryKeyring\n"
        "s = open_services(sys.argv[1], keyring_backend=MemoryKeyring())\n"
        "s.runner.use_fork_server()\n"
        "s.jobs.create('hang', script='import os, time\\ndef hang():\\n"
        "    print(os.getpid(), flush=True)\\n    time.sleep(600)\\n')\n"
        "s.runner.run('hang', on_line=lambda l: print(l.message, flush=True))\n"
    )
    runner = subprocess.Popen(
        [sys.executable, "-c", code, str(home)], stdout=subprocess.PIPE, text=True
    )
    assert runner.stdout is not None
    lines = iter(runner.stdout.readline, "")
    next(lines)  # Run started
    child = int(next(lines))
    runner.kill()
    runner.wait()
    runner.stdout.close()
    try:
        handle = os.pidfd_open(child)  # readable once it has ended
    except ProcessLookupError:
        return  # ended already
    try:
        ended, _, _ = select.select([handle], [], [], 30)
    finally:
        os.close(handle)
    assert ended, f"run process {child} outlived its worker"


DRIVER_LOADED = """import sys
print("driver loaded before the run:", "psycopg" in sys.modules)
tables.get_table("Probes", create=True).insert({"n": 1})
"""


def test_a_run_on_postgresql_finds_its_driver_loaded_by_the_server(home: Path, pg_url: str) -> None:
    """A run need not import psycopg itself (80 ms of CPU a run): the server
    loaded the database's driver once, before forking."""
    opened = open_services(home, pg_url, keyring_backend=MemoryKeyring())
    try:
        opened.runner.use_fork_server()
        make_job(opened, "probe", DRIVER_LOADED)
        run = opened.runner.run("probe")
        assert run.status == "succeeded", run.error
        assert "driver loaded before the run: True" in log_of(opened, run.id)
    finally:
        opened.close()
