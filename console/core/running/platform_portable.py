"""The portable side of `runner_platform`, for macOS and Windows (and Linux
when `MOBILE_CONSOLE_RUNNER=portable`): no prctl, no subreaper, no fork
server, no /proc. psutil finds and ends the tree and watches its memory.

In the host, a watchdog thread, every `POLL_S`:

- checks that the supervisor that started it is still there (its pid and
  its creation time, so that a reused pid does not pass), and ends the run's
  tree and the host when it is not;
- records every descendant it sees (pid and creation time), so that one
  whose parent has gone (a double fork) is still ended with the run;
- sums the resident memory of the tree and ends the run over its limit.

What it cannot promise (tests/integration/test_portable_runner.py says so):
a process that double-forks and is gone from its parent within one poll is
never seen; its resident memory may overshoot the limit for one poll.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from console.core.running import process_tree
from console.core.running.platform_windows import (
    CREATE_NEW_PROCESS_GROUP,
    CREATE_SUSPENDED,
    JobObject,
)

Report = Callable[[dict[str, Any]], None]

#: How often the watchdog looks: the tree ends within 1 s of its supervisor.
POLL_S = 0.2
#: Rounds of killing before giving up on a tree that keeps forking.
MAX_ROUNDS = 200
WINDOWS = sys.platform == "win32"
#: The status of a reaped-later process (psutil.STATUS_ZOMBIE), ignored.
_ZOMBIE = "zombie"


class PortablePlatform:
    name = "portable"
    can_fork_server = False

    def __init__(self) -> None:
        self._parent: tuple[int, float] | None = None
        self._report: Report | None = None
        self._limit: int | None = None
        self._known: dict[int, float] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._jobs: dict[int, JobObject] = {}

    def popen_options(self) -> dict[str, Any]:
        if WINDOWS:  # held in a Job Object before it runs (`started`)
            return {"creationflags": CREATE_NEW_PROCESS_GROUP | CREATE_SUSPENDED}
        return {"start_new_session": True}

    # -- in the host ------------------------------------------------------------

    def wait_for_payload(self) -> None:
        import psutil

        if self._thread is not None:
            return
        pid = process_tree.expected_parent()
        if pid is not None:
            try:
                created = psutil.Process(pid).create_time()
            except psutil.Error:
                os._exit(0)  # gone before we looked
            if created > psutil.Process().create_time():
                os._exit(0)  # a newer process holds its pid: it is gone
            self._parent = (pid, created)
        self._thread = threading.Thread(target=self._watch, name="watchdog", daemon=True)
        self._thread.start()

    def contain(self, report: Report) -> None:
        self._report = report
        if not WINDOWS and threading.current_thread() is threading.main_thread():
            # A timeout or a cancel: the tree ends, then the host as asked.
            signal.signal(signal.SIGTERM, self._on_term)

    def limit_memory(self, limit: int, *, engine_started: bool) -> None:
        self._limit = limit

    def finish(self) -> None:
        import psutil

        limit, report = self._limit, self._report
        if limit is not None and report is not None and _peak_rss(psutil) > limit:
            report({"t": "done", "ok": False, "kind": "memory"})  # the last word wins
        self.end_known_tree()

    def _on_term(self, signum: int, _frame: object) -> None:
        self.end_known_tree()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    def _watch(self) -> None:
        import psutil

        me = psutil.Process()
        while True:
            if self._parent is not None and not _alive(psutil, *self._parent):
                self.end_known_tree()
                os._exit(1)
            if self._report is not None:
                tree = self._scan(me)
                limit = self._limit
                if limit is not None and _rss(psutil, [me, *tree]) > limit:
                    self._report({"t": "done", "ok": False, "kind": "memory"})
                    self.end_known_tree()
                    os._exit(1)
            time.sleep(POLL_S)

    def _scan(self, me: Any) -> list[Any]:
        import psutil

        try:
            tree = list(me.children(recursive=True))
        except psutil.Error:
            return []
        with self._lock:
            for p in tree:
                try:
                    self._known.setdefault(p.pid, p.create_time())
                except psutil.Error:
                    pass
        return tree

    def end_known_tree(self) -> None:
        """Kill every descendant of this host, and every one seen before,
        until none is left."""
        import psutil

        me = psutil.Process()
        for _ in range(MAX_ROUNDS):
            found = self._scan(me)
            with self._lock:
                known = list(self._known.items())
            for pid, created in known:
                try:
                    p = psutil.Process(pid)
                    if p.create_time() == created:
                        found.append(p)
                    else:
                        raise psutil.NoSuchProcess(pid)
                except psutil.Error:
                    with self._lock:
                        self._known.pop(pid, None)
            live = [p for p in found if _running(psutil, p)]
            if not live:
                return
            # The deepest first: a killed parent may let the script's main
            # thread end the host before this thread is done.
            for p in reversed(live):
                try:
                    p.kill()
                except psutil.Error:
                    pass
            _reap_children()

    # -- in the supervisor ------------------------------------------------------

    def started(self, proc: subprocess.Popen[bytes]) -> None:
        if not WINDOWS:
            return
        import psutil

        job = JobObject()
        handle = int(getattr(proc, "_handle", 0))  # Popen's own process handle
        job.hold(handle, [t.id for t in psutil.Process(proc.pid).threads()])
        with self._lock:
            self._jobs[proc.pid] = job

    def given(self, proc: subprocess.Popen[bytes], memory_bytes: int) -> None:
        job = self._jobs.get(proc.pid)
        if job is not None:
            job.limit_memory(memory_bytes)

    def _end_job(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            job = self._jobs.pop(proc.pid, None)
        if job is not None:
            job.terminate()
            job.close()

    def signal_tree(self, proc: subprocess.Popen[bytes], sig: int) -> None:
        if not WINDOWS and sig != signal.SIGKILL:
            try:
                os.killpg(proc.pid, sig)  # the host's handler ends the tree
            except (ProcessLookupError, PermissionError):
                pass
            return
        self._end_job(proc)
        kill_tree(proc.pid)

    def end(self, proc: subprocess.Popen[bytes], grace_s: float, *, ending: bool) -> None:
        if ending:
            try:
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        if proc.poll() is None and not WINDOWS:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        self._end_job(proc)
        kill_tree(proc.pid)
        proc.wait()


def kill_tree(root: int) -> None:
    """From the supervisor: kill `root`'s descendants (found while it lives),
    `root` and, on POSIX, its process group."""
    import psutil

    for _ in range(MAX_ROUNDS):
        try:
            top = psutil.Process(root)
            found = [top, *top.children(recursive=True)]
        except psutil.Error:
            found = []
        live = [p for p in found if _running(psutil, p)]
        for p in live:
            try:
                p.kill()
            except psutil.Error:
                pass
        if not WINDOWS:
            try:
                os.killpg(root, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if not live:
            return
        time.sleep(0.01)


def _alive(psutil: Any, pid: int, created: float) -> bool:
    """Whether the supervisor that started this host is still there."""
    if not WINDOWS and os.getppid() != pid:
        return False  # re-parented: it has gone
    try:
        p = psutil.Process(pid)
        return bool(p.create_time() == created and p.status() != _ZOMBIE)
    except psutil.Error:
        return False


def _running(psutil: Any, p: Any) -> bool:
    try:
        return bool(p.is_running() and p.status() != _ZOMBIE)
    except psutil.Error:
        return False


def _rss(psutil: Any, procs: list[Any]) -> int:
    total = 0
    for p in procs:
        try:
            total += int(p.memory_info().rss)
        except psutil.Error:
            pass
    return total


def _peak_rss(psutil: Any) -> int:
    """This process's peak resident memory, in bytes."""
    if WINDOWS:
        return int(getattr(psutil.Process().memory_info(), "peak_wset", 0))
    import resource

    peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak if sys.platform == "darwin" else peak * 1024  # bytes there, KiB here


def _reap_children() -> None:
    """Reap what has ended (POSIX), so that killed children leave no zombie."""
    if WINDOWS:
        return
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
