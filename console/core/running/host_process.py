"""A script host child process: started in its own process group, given
its run's payload on standard input, ended as a whole.

Standard library only, so the command line can start one before it loads
its own core (see `console/cli/program.py`, `job run`). On Linux `job run`
forks its host from itself instead (`fork_host`), after its imports: one
interpreter loading SQLAlchemy instead of two.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn, cast

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
        self._adopt(self.proc)

    def _adopt(self, proc: Any) -> None:
        """Be the host of `proc`, not yet given a run."""
        self.proc = cast("subprocess.Popen[bytes]", proc)
        self.given_run = False
        self._discarded = False

    @classmethod
    def wrapping(cls, proc: Any) -> HostProcess:
        """A host whose process was started some other way (`fork_host`, the
        fork server): `proc` needs pid, the pipes, poll, wait, send_signal
        and returncode, as the runner uses them."""
        host = cls.__new__(cls)  # no __init__: nothing to start
        host._adopt(proc)
        return host

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


class ForkedChild:
    """A host forked by this process (`fork_host`), as the runner sees a
    `subprocess.Popen`: reaped with `waitpid` on its own pid."""

    def __init__(self, pid: int, stdin: Any, stdout: Any, stderr: Any) -> None:
        self.pid, self.stdin, self.stdout, self.stderr = pid, stdin, stdout, stderr
        self.returncode: int | None = None
        self._lock = threading.Lock()

    def _reap(self, flags: int) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, flags)
            except ChildProcessError:  # reaped elsewhere: its status is lost
                pid, status = self.pid, 0
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self) -> int | None:
        if not self._lock.acquire(blocking=False):
            return None  # another thread is waiting for it
        try:
            return self._reap(os.WNOHANG)
        finally:
            self._lock.release()

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None:
            with self._lock:
                code = self._reap(0)
            assert code is not None
            return code
        deadline = time.monotonic() + timeout
        delay = 0.0005
        while (code := self.poll()) is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired("script host", timeout)
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.05)
        return code

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass


def can_fork_host() -> bool:
    """Whether `fork_host` can be used here: Linux's runner (fork after
    imports is unsafe on macOS, absent on Windows)."""
    from console.core.running.runner_platform import chosen_name

    return chosen_name() == "linux" and hasattr(os, "fork")


def fork_host(host_main: Callable[[], NoReturn]) -> HostProcess:
    """A script host forked from this process, as if just started with
    `HostProcess()`: its own session, its pipes on 0, 1 and 2, nothing else
    open, and this process as the supervisor whose death ends its tree. For
    a process that has loaded what the host needs (`script_host.preload`)
    and has, when it forks, no thread but its main one and no database
    connection open (SQLite's locks and a pool's connections do not survive
    a fork). `host_main` is what the child runs: `script_host.run_and_exit`."""
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    ready_r, ready_w = os.pipe()  # closed by the child once it leads its own group
    parent = os.getpid()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()  # else the child would write it again
        except (OSError, ValueError):
            pass
    pid = os.fork()
    if pid == 0:
        _become_host(host_main, parent, (in_r, out_w, err_w))
    for fd in (in_r, out_w, err_w, ready_w):
        os.close(fd)
    # Until then a signal to its group (a cancel, `discard`) would miss it.
    while os.read(ready_r, 1):
        pass
    os.close(ready_r)
    # The run's pipes live as long as the run; the runner closes them.
    pipes = (open(in_w, "wb"), open(out_r, "rb"), open(err_r, "rb"))  # noqa: SIM115
    return HostProcess.wrapping(ForkedChild(pid, *pipes))


def _become_host(
    host_main: Callable[[], NoReturn], parent: int, fds: tuple[int, int, int]
) -> NoReturn:
    """In the forked child: a script host of its own."""
    try:
        os.setsid()  # its own process group, ended as a whole
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        # As `close_fds`: the parent's ends too, and `ready`, which tells it
        # that this process leads its own group now.
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        signal.signal(signal.SIGINT, signal.default_int_handler)
        # Standard streams of its own over its pipes, as a new interpreter's
        # (the parent's may be anything: a test's capture, read-ahead input).
        streams = (
            open(0, encoding="utf-8", closefd=False),  # noqa: SIM115
            open(1, "w", encoding="utf-8", closefd=False),  # noqa: SIM115
            open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False),  # noqa: SIM115
        )
        for name, stream in zip(("stdin", "stdout", "stderr"), streams, strict=True):
            setattr(sys, name, stream)
            setattr(sys, f"__{name}__", stream)
        os.environ[PARENT_ENV] = str(parent)  # so that its tree ends with this supervisor
        host_main()
    except BaseException:
        os._exit(70)


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
