"""Windows: a run's host and everything it starts in a Job Object that ends
them all when its last handle closes (the supervisor's, when the supervisor
ends or dies) and bounds their memory together. Used by `platform_portable`
on Windows, beside its watchdog.

Written against Microsoft's documentation and unit-tested with the calls
faked (tests/unit/running/test_platform_windows.py); it has not run on
Windows yet.

- CreateJobObjectW(NULL, NULL): a handle that children do not inherit, so
  only the supervisor holds it and kill-on-close means "when it goes".
- SetInformationJobObject(JobObjectExtendedLimitInformation,
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION): JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
  and JOB_OBJECT_LIMIT_JOB_MEMORY with JobMemoryLimit (the committed memory
  of all its processes together; JOB_OBJECT_LIMIT_PROCESS_MEMORY would bound
  each alone). No JOB_OBJECT_LIMIT_BREAKAWAY_OK or SILENT_BREAKAWAY_OK: a
  child asking for CREATE_BREAKAWAY_FROM_JOB is refused.
- The host starts with CREATE_SUSPENDED, is assigned to the job
  (AssignProcessToJobObject), and only then are its threads resumed
  (OpenThread, ResumeThread): it cannot start anything before it is held.
- TerminateJobObject ends the tree on timeout or Cancel; CloseHandle last.

What it cannot hold: processes started on the run's behalf by another
process (a service, the Task Scheduler, WMI's Win32_Process.Create).

Standard library only at import (ctypes.windll is looked up when used).
"""

from __future__ import annotations

import ctypes
from ctypes import c_int64, c_size_t, c_uint32, c_uint64
from typing import Any, Protocol

CREATE_SUSPENDED = 0x00000004
CREATE_NEW_PROCESS_GROUP = 0x00000200
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9  # JobObjectExtendedLimitInformation
JOB_OBJECT_LIMIT_PROCESS_MEMORY = 0x00000100
JOB_OBJECT_LIMIT_JOB_MEMORY = 0x00000200
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
THREAD_SUSPEND_RESUME = 0x0002
RESUME_FAILED = 0xFFFFFFFF  # (DWORD)-1


class IO_COUNTERS(ctypes.Structure):
    _fields_ = [
        ("ReadOperationCount", c_uint64),
        ("WriteOperationCount", c_uint64),
        ("OtherOperationCount", c_uint64),
        ("ReadTransferCount", c_uint64),
        ("WriteTransferCount", c_uint64),
        ("OtherTransferCount", c_uint64),
    ]


class JOBOBJECT_BASIC_LIMIT_INFORMATION(ctypes.Structure):
    _fields_ = [
        ("PerProcessUserTimeLimit", c_int64),  # LARGE_INTEGER
        ("PerJobUserTimeLimit", c_int64),
        ("LimitFlags", c_uint32),  # DWORD
        ("MinimumWorkingSetSize", c_size_t),  # SIZE_T
        ("MaximumWorkingSetSize", c_size_t),
        ("ActiveProcessLimit", c_uint32),
        ("Affinity", c_size_t),  # ULONG_PTR
        ("PriorityClass", c_uint32),
        ("SchedulingClass", c_uint32),
    ]


class JOBOBJECT_EXTENDED_LIMIT_INFORMATION(ctypes.Structure):
    _fields_ = [
        ("BasicLimitInformation", JOBOBJECT_BASIC_LIMIT_INFORMATION),
        ("IoInfo", IO_COUNTERS),
        ("ProcessMemoryLimit", c_size_t),
        ("JobMemoryLimit", c_size_t),
        ("PeakProcessMemoryUsed", c_size_t),
        ("PeakJobMemoryUsed", c_size_t),
    ]


class Kernel32(Protocol):
    """The calls used, as kernel32 exports them (faked in tests)."""

    def CreateJobObjectW(self, attributes: Any, name: Any) -> int: ...
    def SetInformationJobObject(self, job: int, kind: int, info: Any, size: int) -> int: ...
    def AssignProcessToJobObject(self, job: int, process: int) -> int: ...
    def OpenThread(self, access: int, inherit: int, thread_id: int) -> int: ...
    def ResumeThread(self, thread: int) -> int: ...
    def TerminateJobObject(self, job: int, exit_code: int) -> int: ...
    def CloseHandle(self, handle: int) -> int: ...


def kernel32() -> Kernel32:
    """The real one (Windows only)."""
    lib: Any = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    return lib  # type: ignore[no-any-return]


def _check(ok: int, what: str) -> int:
    if not ok:
        error = getattr(ctypes, "get_last_error", lambda: 0)()
        raise OSError(f"{what} failed (Windows error {error})")
    return ok


class JobObject:
    """One run's Job Object: kill-on-close, and a memory limit if given."""

    def __init__(self, api: Kernel32 | None = None) -> None:
        self._api = api or kernel32()
        self.handle = _check(self._api.CreateJobObjectW(None, None), "CreateJobObjectW")
        self._set_limits(None)

    def _set_limits(self, memory_bytes: int | None) -> None:
        info = JOBOBJECT_EXTENDED_LIMIT_INFORMATION()
        flags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        if memory_bytes is not None:
            flags |= JOB_OBJECT_LIMIT_JOB_MEMORY
            info.JobMemoryLimit = memory_bytes
        info.BasicLimitInformation.LimitFlags = flags
        _check(
            self._api.SetInformationJobObject(
                self.handle,
                JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
                ctypes.byref(info),
                ctypes.sizeof(info),
            ),
            "SetInformationJobObject",
        )

    def limit_memory(self, memory_bytes: int) -> None:
        """Bound what all its processes commit, together."""
        self._set_limits(memory_bytes)

    def hold(self, process_handle: int, thread_ids: list[int]) -> None:
        """Put a process started with CREATE_SUSPENDED in the job, then let
        it run (in this order: it starts nothing outside the job)."""
        _check(
            self._api.AssignProcessToJobObject(self.handle, process_handle),
            "AssignProcessToJobObject",
        )
        for tid in thread_ids:
            thread = _check(self._api.OpenThread(THREAD_SUSPEND_RESUME, 0, tid), "OpenThread")
            try:
                if self._api.ResumeThread(thread) == RESUME_FAILED:
                    _check(0, "ResumeThread")
            finally:
                self._api.CloseHandle(thread)

    def terminate(self, exit_code: int = 1) -> None:
        """End every process in the job now (a timeout or a cancel)."""
        self._api.TerminateJobObject(self.handle, exit_code)

    def close(self) -> None:
        """Close the handle: with kill-on-close, what is left in the job ends."""
        if self.handle:
            self._api.CloseHandle(self.handle)
            self.handle = 0
