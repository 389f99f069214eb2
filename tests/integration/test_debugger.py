"""`job debug`: the job's own child process under debugpy, which any DAP
client (here one written in the test) attaches to on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from console.app import Services
from tests.conftest import RunCli
from tests.fakes.dap_client import DapClient, stop_at_line

SCRIPT = """def counter():
    total = 0
    for n in range(5):
        total += n
    words = "total is " + str(total)
    print(words)
    tables.get_table("Counts", create=True).insert({"total": total})
"""
BREAK_LINE = 5  # words = ...


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def debug(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "console", "--home", str(home), "job", "debug", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MOBILE_CONSOLE_HOME": str(home)},
    )


def test_a_dap_client_stops_at_a_breakpoint_reads_a_local_and_continues(
    services: Services, home: Path
) -> None:
    services.jobs.create("counter", interval=1, unit="hour", script=SCRIPT)
    port = free_port()
    proc = debug(home, "counter", "--listen", f"127.0.0.1:{port}", "--wait")
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().rstrip("\n")
        assert first.startswith(f"listening on 127.0.0.1:{port}, script "), first
        path = first.split(", script ", 1)[1]
        assert Path(path).read_text() == SCRIPT

        client, thread, names = stop_at_line(port, path, BREAK_LINE)
        assert names["total"] == "10"
        client.request("continue", threadId=thread)
        out, err = proc.communicate(timeout=60)
        client.close()
        assert proc.returncode == 0, out + err
        assert "total is 10" in out and "Run succeeded" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize(
    ("listen", "said"),
    [
        ("0.0.0.0:5678", "loopback only"),
        ("192.168.1.1:5678", "loopback only"),
        ("nonsense", "give HOST:PORT"),
    ],
)
def test_debug_refuses_an_address_off_loopback(
    services: Services, run_cli: RunCli, listen: str, said: str
) -> None:
    services.jobs.create("counter", interval=1, unit="hour", script=SCRIPT)
    refused = run_cli("job", "debug", "counter", "--listen", listen)
    assert refused.returncode == 2 and said in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert services.runs.runs(services.jobs.get("counter").id) == []


def test_debug_refuses_a_port_in_use_and_a_javascript_job(
    services: Services, run_cli: RunCli
) -> None:
    services.jobs.create("counter", interval=1, unit="hour", script=SCRIPT)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = run_cli("job", "debug", "counter", "--listen", f"127.0.0.1:{port}")
    assert refused.returncode == 2 and "the port is in use" in refused.stderr
    services.jobs.create(
        "js", interval=1, unit="hour", script="function js() {}\n", language="javascript"
    )
    refused = run_cli("job", "debug", "js", "--listen", f"127.0.0.1:{free_port()}")
    assert refused.returncode == 2
    assert refused.stderr.strip().endswith(
        "js is a JavaScript job: debugging is for Python jobs for now"
    )


def test_the_timeout_holds_while_paused_and_a_running_job_cannot_be_debugged(
    services: Services, home: Path, run_cli: RunCli
) -> None:
    services.jobs.create("counter", interval=1, unit="hour", script=SCRIPT, timeout_s=1)
    port = free_port()
    proc = debug(home, "counter", "--listen", f"127.0.0.1:{port}", "--wait")
    try:
        assert proc.stdout is not None
        path = proc.stdout.readline().rstrip("\n").split(", script ", 1)[1]
        client = DapClient("127.0.0.1", port)
        client.request("initialize", adapterID="test", linesStartAt1=True)
        attach = client.send("attach", justMyCode=False)
        client.event("initialized")
        client.request("setBreakpoints", source={"path": path}, breakpoints=[{"line": 5}])
        client.request("configurationDone")
        client.response(attach)
        stopped = client.event("stopped")

        # Paused: a second run of the job is refused, and the 1 s timeout waits.
        again = run_cli("job", "debug", "counter", "--listen", f"127.0.0.1:{free_port()}")
        assert again.returncode == 2 and "counter is running already" in again.stderr
        assert proc.poll() is None

        client.request("continue", threadId=stopped["body"]["threadId"])
        out, err = proc.communicate(timeout=60)
        client.close()
        assert proc.returncode == 0 and "Run succeeded" in out, out + err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


FAILING = """def helper(items):
    limit = len(items)
    return items[limit]

def failing():
    items = [1, 2, 3]
    console.log("about to fail")
    return helper(items)
"""


def test_post_mortem_stops_at_the_raising_line_with_its_locals(
    services: Services, home: Path
) -> None:
    services.jobs.create("failing", interval=1, unit="hour", script=FAILING)
    assert services.runner.run("failing").status == "failed"
    port = free_port()
    proc = debug(home, "failing", "--listen", f"127.0.0.1:{port}", "--wait")
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        client = DapClient("127.0.0.1", port)
        client.request("initialize", adapterID="test", linesStartAt1=True)
        attach = client.send("attach", justMyCode=True)
        client.event("initialized")
        client.request("setExceptionBreakpoints", filters=["userUnhandled"])
        client.request("configurationDone")
        client.response(attach)
        stopped = client.event("stopped")
        assert stopped["body"]["reason"] == "exception"
        thread = stopped["body"]["threadId"]
        frames = client.request("stackTrace", threadId=thread)["stackFrames"]
        assert (frames[0]["name"], frames[0]["line"]) == ("helper", 3)
        scopes = client.request("scopes", frameId=frames[0]["id"])["scopes"]
        local = next(s for s in scopes if s["name"].lower().startswith("local"))
        values = client.request("variables", variablesReference=local["variablesReference"])
        assert {v["name"]: v["value"] for v in values["variables"]}["limit"] == "3"
        client.request("continue", threadId=thread)
        out, err = proc.communicate(timeout=60)
        client.close()
        assert proc.returncode == 1 and "IndexError" in out, out + err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
