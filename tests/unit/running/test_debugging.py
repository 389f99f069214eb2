"""Where a debugged run may listen, and how its pauses are told apart."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from console.core.errors import ConsoleError
from console.core.running.debugging import is_paused, listen_address, script_path


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "[::1]"])
def test_loopback_addresses_are_taken(host: str) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host.strip("[]"), 0))
        port = s.getsockname()[1]
    assert listen_address(f"{host}:{port}") == (host.strip("[]"), port)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("0.0.0.0:5678", "loopback only"),
        ("10.1.2.3:5678", "loopback only"),
        ("example.com:5678", "loopback only"),
        ("127.0.0.1", "give HOST:PORT"),
        ("127.0.0.1:0", "give HOST:PORT"),
        ("127.0.0.1:70000", "give HOST:PORT"),
    ],
)
def test_other_addresses_are_refused_with_why(text: str, said: str) -> None:
    with pytest.raises(ConsoleError, match=said):
        listen_address(text)


def test_a_port_in_use_is_refused() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ConsoleError, match="the port is in use"):
            listen_address(f"127.0.0.1:{taken.getsockname()[1]}")


def test_the_script_file_is_private_and_named_after_the_job() -> None:
    path = Path(script_path("getUpdates"))
    assert path.name == "getUpdates.py" and not path.exists()
    assert path.parent.stat().st_mode & 0o077 == 0


def test_a_stack_waiting_in_the_debugger_is_paused() -> None:
    def do_wait_suspend() -> bool:
        return is_paused(sys._getframe())

    assert do_wait_suspend()
    assert not is_paused(sys._getframe())
