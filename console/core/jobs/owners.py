"""Who runs a job: the owner names of consoles and workers, and whether one
on this machine is still alive."""

from __future__ import annotations

import os
import re
import socket
import uuid

# host:pid:token (a console), or host:pid (a worker's default name)
_LOCAL = re.compile(r"(?P<host>[^:]+):(?P<pid>\d+)(?::[0-9a-f]{6})?")


def new_owner() -> str:
    """A name for this console or worker process, unique on the database."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def gone(owner: str) -> bool:
    """True when `owner` names a process on this machine that has ended; a
    lease it holds need not wait to lapse. False when it cannot be told
    (another machine, another name format). A worker's name says nothing
    for sure (`--name` is free text): ask `process_gone` with the host and
    pid it registered."""
    match = _LOCAL.fullmatch(owner)
    if match is None:
        return False
    return process_gone(match["host"], int(match["pid"]))


def process_gone(host: str, pid: int) -> bool:
    """True when process `pid` of this machine (`host`) has ended; False
    when it is alive, or on another machine, where it cannot be told."""
    if host != socket.gethostname() or pid == os.getpid():
        return False
    # psutil, not os.kill(pid, 0): on Windows that call ends the process.
    import psutil

    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False  # alive, another user's
