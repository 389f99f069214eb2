"""Every outcome of a run, with a real child process."""

from __future__ import annotations

import os
import select
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from console.app import Services
from console.core.errors import ConsoleError
from console.core.running.log_writer import LogLine
from console.core.store.database import sqlite_file
from console.core.tables.api import open_table


def make_job(services: Services, name: str, body: str, **options: object) -> None:
    script = f"def {name}():\n" + "".join(f"    {line}\n" for line in body.splitlines())
    services.jobs.create(name, interval=1, unit="hour", script=script, **options)  # type: ignore[arg-type]


def log_of(services: Services, run_id: int) -> list[str]:
    return [e.message for e in services.runs.entries(run_id=run_id)]


def test_a_succeeding_run_streams_its_log_and_records_rows(services: Services) -> None:
    services.tables.create("Hello")
    make_job(
        services,
        "hello",
        'print("from print")\n'
        'console.warn("careful")\n'
        'tables.get_table("Hello").insert_many([{"n": 1}, {"n": 2}])\n'
        'tables.get_table("Hello").insert({"n": 3})',
    )
    seen: list[LogLine] = []
    run = services.runner.run("hello", on_line=seen.append)
    assert run.status == "succeeded"
    assert run.rows_written == 3
    assert run.ended_at is not None and run.trigger == "run once"
    assert [(line.level, line.message) for line in seen[1:3]] == [
        ("information", "from print"),
        ("warning", "careful"),
    ]
    assert seen[-1].message.startswith("Run succeeded in")
    assert log_of(services, run.id) == [line.message for line in seen]
    assert open_table(services.tables, "Hello").count() == 3
    assert services.jobs.get("hello").last_run_at == run.started_at


def test_an_exception_fails_the_run_with_the_scripts_line(services: Services) -> None:
    make_job(services, "boom", "x = 42\nraise ValueError(f'kaboom {x}')")
    run = services.runner.run("boom")
    assert run.status == "failed"
    assert run.error == "ValueError: kaboom 42 (line 3)"
    assert log_of(services, run.id)[-1] == "Run failed: ValueError: kaboom 42 (line 3)"


def test_a_timeout_ends_the_run(services: Services) -> None:
    make_job(services, "slow", "import time\nwhile True: time.sleep(0.05)", timeout_s=1)
    started = time.monotonic()
    run = services.runner.run("slow")
    assert run.status == "timed out"
    assert run.error == "timed out after 1 s"
    assert time.monotonic() - started < 10


def test_the_timeout_ends_a_run_while_its_log_waits_for_the_database(
    services: Services,
) -> None:
    """Its supervisor's log flush waits for SQLite's write lock, held here
    as a run's own long write holds it: the timeout still ends the run then,
    not once the lock is let go (30 s later)."""
    make_job(services, "stuck", "import os, time\nprint(os.getpid())\ntime.sleep(600)", timeout_s=1)
    database = sqlite_file(services.store.url)
    assert database is not None
    locker = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    ended_while_locked: list[bool] = []

    def hold_until_it_ends(pid: int) -> None:
        handle = os.pidfd_open(pid)  # readable once the process has ended
        try:
            ended_while_locked.append(bool(select.select([handle], [], [], 20)[0]))
        finally:
            os.close(handle)
            locker.rollback()

    def on_line(line: LogLine) -> None:
        if line.message.isdigit() and not ended_while_locked:
            locker.execute("BEGIN IMMEDIATE")  # the next flush of the log waits for it
            threading.Thread(target=hold_until_it_ends, args=(int(line.message),)).start()

    run = services.runner.run("stuck", on_line=on_line)
    locker.close()
    assert ended_while_locked == [True]
    assert (run.status, run.error) == ("timed out", "timed out after 1 s")


def test_a_script_ignoring_sigterm_is_killed(services: Services) -> None:
    make_job(
        services,
        "stubborn",
        "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: pass",
        timeout_s=1,
    )
    services.runner.grace_s = 0.5
    assert services.runner.run("stubborn").status == "timed out"


def test_running_out_of_memory_fails_the_run(services: Services) -> None:
    make_job(services, "hungry", "data = bytearray(2 * 1024 ** 3)", memory_mb=256)
    run = services.runner.run("hungry")
    assert (run.status, run.error) == ("failed", "ran out of memory (limit 256 MiB)")


def test_a_segfault_fails_only_that_run(services: Services) -> None:
    make_job(services, "crash", "import ctypes\nctypes.string_at(0)")
    run = services.runner.run("crash")
    assert (run.status, run.error) == ("failed", "crashed: killed by SIGSEGV")


def test_os_exit_is_reported_with_its_code(services: Services) -> None:
    make_job(services, "quitter", "import os\nos._exit(3)")
    run = services.runner.run("quitter")
    assert (run.status, run.error) == ("failed", "exited early with code 3")


def test_cancel_ends_the_run(services: Services) -> None:
    make_job(services, "endless", "while True: pass")
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    run = services.runner.run("endless", cancel=cancel)
    assert run.status == "cancelled"


def test_a_chatty_script_has_its_log_capped(services: Services) -> None:
    services.settings.set("run_log_max_lines", 100)
    make_job(services, "chatty", "for i in range(5000): print('line', i)")
    run = services.runner.run("chatty")
    assert run.status == "succeeded"
    log = log_of(services, run.id)
    assert len(log) == 103  # 100 kept, the cap notice, the start and end lines
    assert "4,900 more lines" in log[-2]


def test_writes_to_fd_1_do_not_break_the_protocol(services: Services) -> None:
    make_job(
        services, "raw", "import os\nos.write(1, b'{not json\\n')\nos.write(2, b'to stderr\\n')"
    )
    run = services.runner.run("raw")
    assert run.status == "succeeded"
    assert {"{not json", "to stderr"} <= set(log_of(services, run.id))


def test_failing_runs_never_lose_earlier_rows(services: Services) -> None:
    services.tables.create("Things")
    make_job(
        services, "good", 'tables.get_table("Things").insert_many([{"n": i} for i in range(50)])'
    )
    assert services.runner.run("good").status == "succeeded"
    failing = {
        "half": 'tables.get_table("Things").insert_many([{"n": 1}, {"n": "x"}])',
        "diesmid": (
            "import os\nt = tables.get_table('Things')\n"
            "t.insert_many([{'n': 99}] * 10)\nos._exit(1)"
        ),
        "segv": "import ctypes\ntables.get_table('Things').count()\nctypes.string_at(0)",
    }
    for name, body in failing.items():
        make_job(services, name, body)
        assert services.runner.run(name).status == "failed"
    rows = open_table(services.tables, "Things").read()
    assert sorted(r["n"] for r in rows if r["n"] < 50) == list(range(50))
    assert sum(1 for r in rows if r["n"] == 99) == 10  # committed before it died


def test_run_once_leaves_the_enabled_state_and_refuses_overlap(
    services: Services, tmp_path: Path
) -> None:
    go = tmp_path / "go"  # the run ends once the test has tried the second one
    make_job(
        services,
        "waits",
        f"import os, time\nwhile not os.path.exists({str(go)!r}): time.sleep(0.01)",
    )
    services.jobs.enable("waits")
    started = threading.Event()
    outcome: list[str] = []
    worker = threading.Thread(
        target=lambda: outcome.append(
            services.runner.run("waits", on_started=lambda _run: started.set()).status
        )
    )
    worker.start()
    assert started.wait(60)
    with pytest.raises(ConsoleError, match="running already"):
        services.runner.run("waits")
    go.touch()
    worker.join()
    assert outcome == ["succeeded"]
    assert services.jobs.get("waits").enabled


def test_a_script_without_its_function_fails_clearly(services: Services) -> None:
    services.jobs.create("lonely", script="x = 1\n")
    assert (
        services.runner.run("lonely").error == "NameError: the script defines no function lonely()"
    )


def test_a_flood_without_newlines_costs_the_log_cap_not_its_size(services: Services) -> None:
    import resource

    make_job(
        services,
        "flood",
        "import os\nchunk = b'x' * 65536\nfor _ in range(3200):\n    os.write(2, chunk)\n"
        "sys_out = os.write(1, chunk * 16)\nconsole.log('done')",
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run = services.runner.run("flood")  # 200 MB on stderr, 1 MB on stdout, no newline
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert run.status == "succeeded", run.error
    assert grown_mb < 40, f"the supervisor grew {grown_mb:.0f} MB"
    lines = log_of(services, run.id)
    assert "done" in lines
    assert all(len(line) < 9_000 for line in lines)


def test_a_secret_across_the_line_cut_is_masked_whole(services: Services) -> None:
    services.app_settings.set("TOKEN", "straddling-secret-value", secret=True)
    make_job(
        services,
        "straddle",
        "token = config.app_settings['TOKEN']\n"
        "console.log('x' * 7990 + token)\n"
        "print('y' * 7995 + token)",
    )
    run = services.runner.run("straddle")
    assert run.status == "succeeded", run.error
    logged = "\n".join(log_of(services, run.id))
    assert "straddl" not in logged and "xxxxx" in logged and "yyyyy" in logged


@pytest.mark.parametrize("value", ["float('nan')", "float('inf')", "-float('inf')"])
def test_nan_and_infinity_are_refused_with_a_clear_error(services: Services, value: str) -> None:
    services.tables.create("Numbers")
    make_job(services, "numbers", f"tables.get_table('Numbers').insert({{'x': {value}}})")
    run = services.runner.run("numbers")
    assert run.status == "failed"
    assert "NaN and infinity are not numbers a table holds" in (run.error or "")
    assert open_table(services.tables, "Numbers").count() == 0


def test_a_job_named_console_keeps_the_console_global(services: Services) -> None:
    services.jobs.create("console", unit="none")  # the portal's placeholder calls console.warn
    run = services.runner.run("console")
    assert run.status == "succeeded", run.error
    assert any("empty scheduled job" in line for line in log_of(services, run.id))


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] != b"Z"


@pytest.mark.parametrize("ending", ["the run ends", "a timeout", "a cancel"])
def test_a_child_in_a_new_session_ends_with_the_run(services: Services, ending: str) -> None:
    body = (
        "import subprocess, time\n"
        "child = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
        "console.log('child', child.pid)\n"
    ) + ("" if ending == "the run ends" else "time.sleep(60)\n")
    make_job(services, "escape", body, timeout_s=1 if ending == "a timeout" else 60)
    cancel = threading.Event()
    if ending == "a cancel":

        def on_line(line: LogLine) -> None:
            if line.message.startswith("child "):
                cancel.set()
    else:
        on_line = None  # type: ignore[assignment]
    run = services.runner.run("escape", cancel=cancel, on_line=on_line)
    expected = {"the run ends": "succeeded", "a timeout": "timed out", "a cancel": "cancelled"}
    assert run.status == expected[ending]
    pid = int(next(m for m in log_of(services, run.id) if m.startswith("child ")).split()[1])
    deadline = time.monotonic() + 10
    while _alive(pid):  # its guardian has ended it; the kernel may take a moment to say so
        assert time.monotonic() < deadline, f"the child {pid} outlived the run"
        time.sleep(0.02)


def test_a_secret_printed_as_hex_or_in_pieces_is_not_in_the_log_or_database(
    services: Services, home: Path
) -> None:
    secret = "Tk9-live-4f7Qz81mWbX2"
    services.app_settings.set("TOKEN", secret, secret=True)
    make_job(
        services,
        "leak",
        "s = config.app_settings['TOKEN']\n"
        "print('hex', s.encode().hex())\n"
        "print('HEX', s.encode().hex().upper())\n"
        "print('half', s[:10])\n"
        "print('half', s[10:])\n"
        "print('rev', s[::-1])\n"
        "print('up', s.upper())\n"
        "print('dashed', '-'.join(s))\n"
        "print('done')",
    )
    run = services.runner.run("leak")
    assert run.status == "succeeded", run.error
    logged = "\n".join(log_of(services, run.id))
    assert "done" in logged
    hexed = secret.encode().hex()
    for written in (hexed, hexed.upper(), secret[:10], secret[10:], secret[::-1], secret.upper()):
        assert written not in logged
    assert "-".join(secret[:8]) not in logged
    stored = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert hexed.encode() not in stored and hexed.upper().encode() not in stored
    assert secret[10:].encode() not in stored and secret[::-1].encode() not in stored
