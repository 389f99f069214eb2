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
from console.core.tables.api import open_table
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
    assert services.runner._forks is not None
    forks = services.runner._forks.server()
    pids = pids_of_runs(services, 3)
    assert len(set(pids)) == 3 and forks.proc.pid not in pids and os.getpid() not in pids


def test_a_killed_fork_server_is_replaced_and_runs_go_on(services: Services) -> None:
    assert services.runner._forks is not None
    forks = services.runner._forks.server()
    forks.proc.kill()
    forks.proc.wait()
    assert pids_of_runs(services, 2)
    assert services.runner._forks.server() is not forks


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
tables.get_table("Probes", create=True).insert_many([{"n": 1}] * ROWS)
print("driver loaded after:", "psycopg" in sys.modules)
"""


def test_a_run_on_postgresql_loads_its_driver_only_to_connect_itself(
    home: Path, pg_url: str
) -> None:
    """A run that writes through its supervisor loads no psycopg (80 ms of
    CPU a run); a job whose runs connect themselves finds it loaded by the
    server, once the first of them has."""
    opened = open_services(home, pg_url, keyring_backend=MemoryKeyring())
    try:
        opened.runner.use_fork_server()
        make_job(opened, "probe", DRIVER_LOADED.replace("ROWS", "1"))
        make_job(opened, "bulk", DRIVER_LOADED.replace("ROWS", "2001"))
        runs = [opened.runner.run(name) for name in ("probe", "bulk", "bulk")]
        assert [run.status for run in runs] == ["succeeded"] * 3, [r.error for r in runs]
        logs = [log_of(opened, run.id)[1:3] for run in runs]
        assert logs == [
            ["driver loaded before the run: False", "driver loaded after: False"],
            ["driver loaded before the run: False", "driver loaded after: True"],
            ["driver loaded before the run: True", "driver loaded after: True"],
        ]
    finally:
        opened.close()


def test_runs_load_the_table_layer_only_for_a_job_that_uses_its_own_connection(
    services: Services,
) -> None:
    """A run's table operations go through its supervisor, so its host has
    no SQLAlchemy to load; a job whose runs insert past the link's bounds
    forks its next runs from a server that has loaded it ahead."""
    services.tables.create("Small")
    services.tables.create("Big")
    make_job(
        services,
        "small",
        "import sys\ntables.get_table('Small').insert({'n': 1})\n"
        "print('sqlalchemy' in sys.modules)",
    )
    make_job(
        services,
        "big",
        "import sys\nprint('sqlalchemy' in sys.modules)\n"
        "tables.get_table('Big').insert_many([{'n': i} for i in range(2001)])",
    )
    runs = [services.runner.run(name) for name in ("small", "big", "big", "small")]
    assert [r.status for r in runs] == ["succeeded"] * 4
    assert [log_of(services, r.id)[1] for r in runs] == ["False", "False", "True", "False"]
    assert open_table(services.tables, "Big").count() == 4002
    assert open_table(services.tables, "Small").count() == 2
