"""A run under a debugger: debugpy (the Debug Adapter Protocol) in the
job's own script host, listening on loopback only.

The parent checks the address (`listen_address`), names the file the
debugger sees the script as (`script_path`) and passes both in the payload's
`"debug"` field; the child (`start`, called by `script_host`) writes the
script there, imports debugpy (only then, only in that child), listens, and
says so on its pipe. While the script is paused the child says so too
(`PauseWatch`), so the parent holds the run's timeout; the memory limit
still holds.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from console.core.errors import ConsoleError

#: Names a client may give for the loopback interface.
LOOPBACK_NAMES = {"localhost"}


def listen_address(text: str) -> tuple[str, int]:
    """`HOST:PORT` on loopback with a free port, or ConsoleError saying why not."""
    host, sep, port_text = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConsoleError(f"--listen {text!r}: give HOST:PORT, such as 127.0.0.1:5678")
    if host.lower() not in LOOPBACK_NAMES:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ConsoleError(
                f"--listen {text}: the debugger listens on loopback only (127.0.0.1 or ::1); "
                "anyone who reaches it can run code as you"
            )
    port = int(port_text)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.bind((host, port))
    except OSError as e:
        raise ConsoleError(f"--listen {text}: the port is in use ({e.strerror})") from None
    finally:
        probe.close()
    return host, port


def script_path(job_name: str) -> str:
    """A new private file name the debugger sees the job's script as."""
    folder = tempfile.mkdtemp(prefix="mobile-console-debug-")
    return str(Path(folder) / f"{job_name}.py")


def is_paused(frame: Any) -> bool:
    """Whether a thread's stack (its innermost `frame`) waits in the debugger."""
    while frame is not None:
        if frame.f_code.co_name == "do_wait_suspend":
            return True
        frame = frame.f_back
    return False


class PauseWatch(threading.Thread):
    """Tells `report` when the main thread pauses in the debugger and when
    it goes on (polled: debugpy has no public hook for its stops)."""

    def __init__(self, report: Callable[[bool], None], interval_s: float = 0.1) -> None:
        super().__init__(name="pause-watch", daemon=True)
        self._report, self._interval = report, interval_s
        self._main = threading.main_thread().ident
        # pydevd's own mark for its helper threads: a stop pauses every other
        # thread, and this one must go on to tell of the pause.
        self.pydev_do_not_trace = self.is_pydev_daemon_thread = True

    def run(self) -> None:
        paused = False
        while True:
            time.sleep(self._interval)
            frame = sys._current_frames().get(self._main or 0)
            now = is_paused(frame)
            if now != paused:
                paused = now
                self._report(paused)


def start(debug: dict[str, Any], script: str, send: Callable[[dict[str, Any]], None]) -> str:
    """In the script host: write the script where the debugger sees it,
    listen, tell the parent, and wait for a client if asked. Returns the
    file name to compile the script as."""
    path = str(debug["script"])
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        out.write(script)
    # The script is a file the debugger reads as it is: no need to check it
    # against a frozen standard library (debugpy warns of that otherwise).
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    # Only the script is the user's code (pydevd reads this at import): the
    # script host is not, so "Just My Code" steps over it and an exception
    # leaving the script stops where the script raised it (post-mortem).
    os.environ["IDE_PROJECT_ROOTS"] = os.path.dirname(path)
    import debugpy

    host, port = str(debug["host"]), int(debug["port"])
    debugpy.listen((host, port), in_process_debug_adapter=True)
    send({"t": "debug", "listening": f"{host}:{port}", "script": path})
    if debug.get("wait"):
        send({"t": "paused", "paused": True})  # waiting for a client holds the timeout too
        debugpy.wait_for_client()
        send({"t": "paused", "paused": False})
    PauseWatch(lambda paused: send({"t": "paused", "paused": paused})).start()
    return path
