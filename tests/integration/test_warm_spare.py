"""A warm spare: the window and the worker keep one script host started
ahead. Runs through it behave exactly as runs through a new host."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from console.app import Services
from console.core.running import runner_platform
from tests.integration.test_runner import log_of, make_job


@pytest.fixture
def warm(services: Services) -> Iterator[Services]:
    services.runner.keep_warm()
    yield services
    services.runner.close()


def pid_of(services: Services, run_id: int) -> int:
    """The script host that ran it: on Linux the parent of the process
    running the script (its guardian, see process_tree); with the portable
    runner the script's own process."""
    line = next(m for m in log_of(services, run_id) if m.startswith("pid "))
    return int(line.split()[1 if runner_platform.chosen_name() == "linux" else 2])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_run_takes_the_spare_and_another_waits(warm: Services) -> None:
    warm.tables.create("Notes")
    make_job(
        warm,
        "note",
        "import os\nconsole.log('pid', os.getppid(), os.getpid())\n"
        "tables.get_table('Notes').insert({'n': 1})",
    )
    spare = warm.runner.spare_pid
    assert spare is not None
    run = warm.runner.run("note")
    assert run.status == "succeeded" and run.rows_written == 1
    assert pid_of(warm, run.id) == spare
    assert warm.runner.spare_pid not in (None, spare)  # the next one is waiting
    assert not alive(spare)  # the used host ended with its run


def test_a_spare_that_died_is_replaced_without_failing_the_run(warm: Services) -> None:
    make_job(warm, "note", "import os\nconsole.log('pid', os.getppid(), os.getpid())")
    spare = warm.runner.spare_pid
    assert spare is not None
    os.kill(spare, signal.SIGKILL)
    while alive(spare) and not os.waitpid(spare, os.WNOHANG)[0]:
        time.sleep(0.01)
    run = warm.runner.run("note")
    assert run.status == "succeeded"
    assert pid_of(warm, run.id) != spare


@pytest.mark.parametrize(
    ("body", "options", "status", "error"),
    [
        ("import time\nwhile True: time.sleep(0.05)", {"timeout_s": 1}, "timed out", "after 1 s"),
        ("x = bytearray(400 * 1024 * 1024)", {"memory_mb": 256}, "failed", "out of memory"),
        ("import ctypes\nctypes.string_at(0)", {}, "failed", "SIGSEGV"),
    ],
)
def test_limits_and_crashes_hold_for_a_spare(
    warm: Services, body: str, options: dict[str, int], status: str, error: str
) -> None:
    make_job(warm, "bad", body, **options)
    run = warm.runner.run("bad")
    assert run.status == status
    assert error in (run.error or "")


def test_closing_ends_the_spare(services: Services) -> None:
    services.runner.keep_warm()
    spare = services.runner.spare_pid
    assert spare is not None and alive(spare)
    services.runner.close()
    assert services.runner.spare_pid is None
    assert not alive(spare)
