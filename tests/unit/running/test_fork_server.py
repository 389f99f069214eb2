"""The runner's side of the fork server, against a stand-in server.

The stand-in speaks the same socket protocol (P<pid>, then X<pid> <code>) but
forks nothing; tests/integration/test_fork_server.py runs the real one.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.core.running import fork_server
from console.core.running.fork_server import ForkedHost, ForkedProc, ForkServer, ForkServers

# Pids beyond any the kernel hands out, so that ending an "orphan" touches nothing.
FAKE_PID = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1000

STAND_IN = f"""
import os, socket, sys
mode = sys.argv[1]
sock = socket.socket(fileno=int(sys.argv[2].split("=", 1)[1]))
n = 0
while True:
    message, fds, _, _ = socket.recv_fds(sock, 16, 3)
    if not message:
        break
    for fd in fds:
        os.close(fd)
    n += 1
    if mode == "silent":
        continue
    sock.send(b"P%d" % ({FAKE_PID} + n))
    if mode == "exits":
        sock.send(b"X%d %d" % ({FAKE_PID} + n, n))
    if mode == "dies":
        sys.exit(0)
"""


def stand_in(monkeypatch: pytest.MonkeyPatch, mode: str) -> ForkServer:
    monkeypatch.setattr(
        fork_server,
        "server_command",
        lambda fd, preload="": [sys.executable, "-c", STAND_IN, mode, f"--fd={fd}", preload],
    )
    return ForkServer()


@pytest.fixture
def closing() -> Iterator[list[ForkServer]]:
    servers: list[ForkServer] = []
    yield servers
    for server in servers:
        server.close()


def test_server_command_runs_the_module_or_the_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    assert fork_server.server_command(7, "tables:postgresql+psycopg") == [
        sys.executable,
        "-m",
        "console.core.running.fork_server",
        "--fd=7",
        "--preload=tables:postgresql+psycopg",
    ]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert fork_server.server_command(7, "linked") == [
        sys.executable,
        "__fork-server__",
        "--fd=7",
        "--preload=linked",
    ]


def test_available_only_on_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not fork_server.available()
    monkeypatch.setattr(sys, "platform", "linux")
    assert fork_server.available()


def test_a_forked_proc_reports_its_exit_as_popen_does() -> None:
    proc = ForkedProc(FAKE_PID, None, None, None)  # type: ignore[arg-type]
    assert proc.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(timeout=0)
    proc._exited(-signal.SIGTERM)
    assert proc.poll() == -signal.SIGTERM
    assert proc.wait(timeout=0) == -signal.SIGTERM


def test_a_forked_host_is_not_yet_given_a_run() -> None:
    proc = ForkedProc(FAKE_PID, None, None, None)  # type: ignore[arg-type]
    host = ForkedHost(proc)
    assert host.proc.pid == FAKE_PID
    assert not host.given_run


def test_each_spawn_gets_its_own_pid_and_exit_code(
    monkeypatch: pytest.MonkeyPatch, closing: list[ForkServer]
) -> None:
    server = stand_in(monkeypatch, "exits")
    closing.append(server)
    first, second = server.spawn(), server.spawn()
    assert (first.proc.pid, second.proc.pid) == (FAKE_PID + 1, FAKE_PID + 2)
    # The exit can come before spawn() has returned: it is kept for the run.
    assert first.proc.wait(timeout=10) == 1
    assert second.proc.wait(timeout=10) == 2
    for host in (first, second):
        for pipe in (host.proc.stdin, host.proc.stdout, host.proc.stderr):
            assert pipe is not None
            pipe.close()


def test_runs_of_a_server_that_dies_end_as_killed(
    monkeypatch: pytest.MonkeyPatch, closing: list[ForkServer]
) -> None:
    server = stand_in(monkeypatch, "dies")
    closing.append(server)
    host = server.spawn()
    assert host.proc.wait(timeout=10) == -signal.SIGKILL
    assert not server.alive
    with pytest.raises(OSError, match="the fork server has stopped"):
        server.spawn()
    for pipe in (host.proc.stdin, host.proc.stdout, host.proc.stderr):
        assert pipe is not None
        pipe.close()


def test_a_server_that_dies_before_the_spawn_returns_still_ends_the_run(
    monkeypatch: pytest.MonkeyPatch, closing: list[ForkServer]
) -> None:
    """The server's pid answer and its end can both be read before `spawn`
    has put the run on its books: the run still ends, as killed."""
    server = stand_in(monkeypatch, "dies")
    closing.append(server)
    answered = server._await

    def after_the_reader_is_done(answer: Any, sent: float) -> int:
        pid = answered(answer, sent)
        server._reader.join(timeout=10)
        return pid

    monkeypatch.setattr(server, "_await", after_the_reader_is_done)
    host = server.spawn()
    assert host.proc.wait(timeout=10) == -signal.SIGKILL
    for pipe in (host.proc.stdin, host.proc.stdout, host.proc.stderr):
        assert pipe is not None
        pipe.close()


def test_a_server_that_never_answers_is_given_up(
    monkeypatch: pytest.MonkeyPatch, closing: list[ForkServer]
) -> None:
    monkeypatch.setattr(fork_server, "SPAWN_TIMEOUT_S", 0.0)
    server = stand_in(monkeypatch, "silent")
    closing.append(server)
    with pytest.raises(OSError, match="the fork server does not answer"):
        server.spawn()
    assert not server.alive


def test_a_closed_server_spawns_nothing(
    monkeypatch: pytest.MonkeyPatch, closing: list[ForkServer]
) -> None:
    server = stand_in(monkeypatch, "exits")
    server.close()
    assert not server.alive
    with pytest.raises(OSError, match="the fork server has stopped"):
        server.spawn()


def test_a_job_that_used_its_own_connection_forks_from_the_table_layers_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every run forks from the light server until its job is known to use
    a connection of its own; a server that died is replaced at the next spawn."""
    stand_in(monkeypatch, "exits").close()
    servers = ForkServers("linked", "tables:sqlite", "")
    try:
        light = servers.server()
        assert light.proc.args[-1] == "linked"  # type: ignore[index]
        assert servers.server(5) is light and servers.spawn(5).proc.pid > FAKE_PID
        servers.direct.add(5)
        heavy = servers.server(5)
        assert heavy is not light and heavy.proc.args[-1] == "tables:sqlite"  # type: ignore[index]
        assert servers.server(6) is light and servers.server(5) is heavy
        light.proc.kill()
        light.proc.wait()
        assert servers.server(6) is not light and servers.server(6).alive
    finally:
        servers.close()
    assert not heavy.alive
