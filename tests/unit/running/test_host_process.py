"""A script host child: its payload on stdin, JSON lines back, ended whole."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from console.core.running.host_process import HostProcess, child_command


def payload(home: Path, script: str) -> dict[str, object]:
    """A run of job "hi" with `script`, on the home's SQLite file."""
    return {
        "job": "hi",
        "script": script,
        "db_url": f"sqlite:///{home / 'console.db'}",
        "memory_bytes": 1024 * 1024 * 1024,
        "app_settings": {},
        "identity": {},
        "unavailable": {},
        "secret_values": [],
    }


def test_a_host_runs_its_payload_and_reports_json_lines(home: Path) -> None:
    host = HostProcess()
    host.send(payload(home, "def hi():\n    console.log('hello', 42)\n    print('printed')\n"))
    assert host.proc.stdout is not None
    out = host.proc.stdout.read().decode()  # until the host closes it, at its end
    host.proc.wait(timeout=60)
    host.proc.stdout.close()
    if host.proc.stderr is not None:
        host.proc.stderr.close()
    messages = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    logged = [(m["level"], m["msg"]) for m in messages if m["t"] == "log"]
    assert ("information", "hello 42") in logged and ("information", "printed") in logged
    assert messages[-1] == {"t": "done", "ok": True}
    assert host.proc.returncode == 0


def test_a_host_never_given_a_run_is_ended_and_reaped() -> None:
    host = HostProcess(preload="tables")
    host.discard()
    assert host.proc.returncode is not None  # waited for: no zombie left
    host.discard()  # a second discard is harmless


def test_the_host_command_runs_the_script_host_module() -> None:
    assert child_command(preload="all")[-2:] == [
        "console.core.running.script_host",
        "--preload=all",
    ]


def test_leaving_without_teardown_keeps_the_exit_code_and_what_was_printed() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from console.core.running.host_process import exit_without_teardown\n"
            "print('said before leaving')\nexit_without_teardown(3)\n",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (3, "said before leaving\n")


FORKED = """
import json, os, sys
from console.core.running.host_process import fork_host
from console.core.running.script_host import preload, run_and_exit

preload("tables")
host = fork_host(run_and_exit)
host.send(json.loads(sys.argv[1]))
out = host.proc.stdout.read().decode()
print(json.dumps({"out": out, "code": host.proc.wait(timeout=60)}))
spare = fork_host(run_and_exit)
spare.discard()
print(json.dumps({"discarded": spare.proc.returncode}))
"""


def test_a_host_forked_from_its_supervisor_runs_its_payload_and_is_reaped(home: Path) -> None:
    forked = payload(home, "def hi():\n    console.log('forked', 7)\n    print('printed')\n")
    done = subprocess.run(
        [sys.executable, "-c", FORKED, json.dumps(forked)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    ran, discarded = (json.loads(line) for line in done.stdout.splitlines())
    messages = [json.loads(line) for line in ran["out"].splitlines() if line.startswith("{")]
    logged = [(m["level"], m["msg"]) for m in messages if m["t"] == "log"]
    assert ("information", "forked 7") in logged and ("information", "printed") in logged
    assert messages[-1] == {"t": "done", "ok": True}
    assert ran["code"] == 0
    assert discarded["discarded"] is not None  # never given a run: ended and reaped
