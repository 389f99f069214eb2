"""The Linux side of `runner_platform`: the host in a process group of its
own, a guardian that is a child subreaper and dies with its supervisor
(`process_tree`), RLIMIT_AS, and the fork server (`fork_server`).

Standard library only at import: the host imports it before anything else.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from typing import Any

from console.core.running import process_tree

Report = Callable[[dict[str, Any]], None]


class LinuxPlatform:
    name = "linux"
    can_fork_server = True

    def __init__(self) -> None:
        self._parent: int | None = None
        self._parent_read = False

    def _expected_parent(self) -> int | None:
        if not self._parent_read:  # read once: it leaves the environment then
            self._parent, self._parent_read = process_tree.expected_parent(), True
        return self._parent

    def popen_options(self) -> dict[str, Any]:
        return {"start_new_session": True}  # its own process group, ended as a whole

    def wait_for_payload(self) -> None:
        process_tree.watch_parent_while_waiting(self._expected_parent())

    def contain(self, report: Report) -> None:
        if process_tree.parent_reaps:  # its fork server ends what the run leaves
            supervisor = process_tree.expected_parent(process_tree.SUPERVISOR_ENV)
            process_tree.own_tree(self._expected_parent(), supervisor)
            return
        # A guardian ends the run's whole process tree with the run.
        process_tree.split_guardian(self._expected_parent())

    def limit_memory(self, limit: int, *, engine_started: bool) -> None:
        """V8 reserves about a terabyte of address space when it starts, so a
        host that has started it cannot use RLIMIT_AS; it bounds its writable
        memory (RLIMIT_DATA) instead, counted from what it holds now."""
        import resource

        if not engine_started:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            return
        in_use = 0
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmData:"):
                    in_use = int(line.split()[1]) * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (in_use + limit, in_use + limit))

    def finish(self) -> None:
        if process_tree.server_gone:  # nobody else ends what the run leaves
            process_tree.end_tree(os.getpid())
        # else the guardian, or the fork server, ends the tree when this exits

    def started(self, proc: subprocess.Popen[bytes]) -> None:
        pass

    def given(self, proc: subprocess.Popen[bytes], memory_bytes: int) -> None:
        pass  # the host sets its own RLIMIT_AS

    def signal_tree(self, proc: subprocess.Popen[bytes], sig: int) -> None:
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def end(self, proc: subprocess.Popen[bytes], grace_s: float, *, ending: bool) -> None:
        """The host's guardian ends every process the script started
        (SIGTERM), then anything left of the group goes (SIGKILL). Killing
        the guardian first would hand what escaped the group to PID 1.
        `ending`: the guardian is ending the tree on its own; give it
        `grace_s` to do so first."""
        if ending:
            try:
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        self.signal_tree(proc, signal.SIGKILL)
        proc.wait()
