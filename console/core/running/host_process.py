"""A script host child process: started in its own process group, given
its run's payload on standard input, ended as a whole.

Standard library only, so the command line can start one before it loads
its own core (see `console/cli/program.py`, `job run`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, NoReturn

from console.core.running.process_tree import PARENT_ENV
from console.core.running.runner_platform import KILL, current


def child_command(*, preload: str | None = None) -> list[str]:
    """How to start the script host: the bundle's own executable when frozen.
    A host with a preload loads what scripts use before it waits for its
    payload: "tables" the table layer (SQLAlchemy), "all" requests too."""
    flags = [f"--preload={preload}"] if preload else []
    if getattr(sys, "frozen", False):
        return [sys.executable, "__script-host__", *flags]
    return [sys.executable, "-m", "console.core.running.script_host", *flags]


class HostProcess:
    """One script host and the pipes it speaks on."""

    def __init__(self, *, preload: str | None = None) -> None:
        self.proc = subprocess.Popen(
            child_command(preload=preload),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
            # So that it can tell its console's death from the end of one of
            # its threads (see process_tree).
            env={**os.environ, PARENT_ENV: str(os.getpid())},
            **current().popen_options(),  # its own process group, ended as a whole
        )
        current().started(self.proc)
        self.given_run = False
        self._discarded = False

    def send(self, payload: dict[str, Any]) -> HostProcess:
        """Give it its run: the payload, secrets included, on its stdin."""
        assert self.proc.stdin is not None
        self.given_run = True
        if payload.get("memory_bytes"):
            current().given(self.proc, int(payload["memory_bytes"]))
        try:
            self.proc.stdin.write(json.dumps(payload).encode("utf-8"))
            self.proc.stdin.close()
        except BrokenPipeError:
            pass  # it died at once; its exit status says how
        return self

    def discard(self) -> None:
        """End a host that was never given a run (once; a run's host is the
        runner's to end)."""
        if self.given_run or self._discarded:
            return
        self._discarded = True
        self.signal_group(KILL)
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()

    def end(self, grace_s: float = 2.0, *, ending: bool = False) -> None:
        """End the run's whole tree (`runner_platform`). `ending`: the script
        is done and the host is ending the tree on its own; give it
        `grace_s` to do so first."""
        current().end(self.proc, grace_s, ending=ending)

    def signal_group(self, sig: int) -> None:
        """SIGTERM asks the run to stop; SIGKILL ends its tree now."""
        current().signal_tree(self.proc, sig)


def exit_without_teardown(code: int) -> NoReturn:
    """Flush the standard streams and end the process at once: the
    interpreter's teardown (unloading SQLAlchemy, requests and the rest)
    takes 40-80 ms and does nothing once the work is done and reported. A
    stream that cannot be flushed (a closed pipe) turns success into 1."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            code = code or 1
    os._exit(code)
