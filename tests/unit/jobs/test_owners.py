"""Owners of leases: a console on this machine that has ended is known gone."""

from __future__ import annotations

import socket
import subprocess
import sys

from console.core.jobs.owners import gone, new_owner


def test_a_live_owner_is_not_gone_and_an_ended_one_is() -> None:
    assert not gone(new_owner())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert gone(f"{socket.gethostname()}:{child.pid}:abcdef")


def test_an_owner_on_another_machine_or_of_another_form_is_never_called_gone() -> None:
    assert not gone("elsewhere.example:1:abcdef")
    assert not gone("worker-7")
