"""The Windows Job Object, with kernel32 faked (it cannot run here): the
calls in the order Microsoft's documentation asks, the limits it sets."""

from __future__ import annotations

import ctypes
from typing import Any

import pytest

from console.core.running import platform_windows as win
from console.core.running.platform_windows import JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObject


class FakeKernel32:
    """Records each call; `fail` names one that returns 0 (FALSE)."""

    def __init__(self, fail: str = "") -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.limits: list[tuple[int, int]] = []
        self.fail = fail

    def _ret(self, name: str, value: int) -> int:
        return 0 if name == self.fail else value

    def CreateJobObjectW(self, attributes: Any, name: Any) -> int:
        self.calls.append(("CreateJobObjectW", attributes, name))
        return self._ret("CreateJobObjectW", 100)

    def SetInformationJobObject(self, job: int, kind: int, info: Any, size: int) -> int:
        data = ctypes.cast(info, ctypes.POINTER(JOBOBJECT_EXTENDED_LIMIT_INFORMATION)).contents
        self.calls.append(("SetInformationJobObject", job, kind, size))
        self.limits.append((data.BasicLimitInformation.LimitFlags, data.JobMemoryLimit))
        return self._ret("SetInformationJobObject", 1)

    def AssignProcessToJobObject(self, job: int, process: int) -> int:
        self.calls.append(("AssignProcessToJobObject", job, process))
        return self._ret("AssignProcessToJobObject", 1)

    def OpenThread(self, access: int, inherit: int, thread_id: int) -> int:
        self.calls.append(("OpenThread", access, inherit, thread_id))
        return self._ret("OpenThread", 1000 + thread_id)

    def ResumeThread(self, thread: int) -> int:
        self.calls.append(("ResumeThread", thread))
        return win.RESUME_FAILED if self.fail == "ResumeThread" else 1

    def TerminateJobObject(self, job: int, exit_code: int) -> int:
        self.calls.append(("TerminateJobObject", job, exit_code))
        return 1

    def CloseHandle(self, handle: int) -> int:
        self.calls.append(("CloseHandle", handle))
        return 1


def names(api: FakeKernel32) -> list[str]:
    return [c[0] for c in api.calls]


def test_the_structure_has_the_documented_x64_size() -> None:
    if ctypes.sizeof(ctypes.c_void_p) != 8:
        pytest.skip("the documented size is for 64-bit Windows")
    assert ctypes.sizeof(JOBOBJECT_EXTENDED_LIMIT_INFORMATION) == 144


def test_a_job_kills_on_close_and_is_not_inherited() -> None:
    api = FakeKernel32()
    JobObject(api)
    assert api.calls[0] == ("CreateJobObjectW", None, None)  # no inheritable handle
    kind, size = api.calls[1][2:]
    assert (kind, size) == (9, ctypes.sizeof(JOBOBJECT_EXTENDED_LIMIT_INFORMATION))
    assert api.limits == [(win.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, 0)]


def test_the_memory_limit_is_for_the_whole_job_and_keeps_kill_on_close() -> None:
    api = FakeKernel32()
    JobObject(api).limit_memory(256 * 1024 * 1024)
    flags, memory = api.limits[-1]
    assert flags == win.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | win.JOB_OBJECT_LIMIT_JOB_MEMORY
    assert memory == 256 * 1024 * 1024
    assert not flags & win.JOB_OBJECT_LIMIT_PROCESS_MEMORY  # the tree, not each process


def test_a_suspended_host_is_held_before_its_threads_resume() -> None:
    api = FakeKernel32()
    JobObject(api).hold(7, [11, 12])
    assert api.calls[2:] == [
        ("AssignProcessToJobObject", 100, 7),
        ("OpenThread", win.THREAD_SUSPEND_RESUME, 0, 11),
        ("ResumeThread", 1011),
        ("CloseHandle", 1011),
        ("OpenThread", win.THREAD_SUSPEND_RESUME, 0, 12),
        ("ResumeThread", 1012),
        ("CloseHandle", 1012),
    ]


def test_a_host_that_cannot_be_held_is_never_resumed() -> None:
    api = FakeKernel32(fail="AssignProcessToJobObject")
    job = JobObject(api)
    with pytest.raises(OSError, match="AssignProcessToJobObject"):
        job.hold(7, [11])
    assert "ResumeThread" not in names(api)


def test_a_failed_resume_is_an_error_and_its_handle_is_closed() -> None:
    api = FakeKernel32(fail="ResumeThread")
    with pytest.raises(OSError, match="ResumeThread"):
        JobObject(api).hold(7, [11])
    assert api.calls[-1] == ("CloseHandle", 1011)


def test_ending_terminates_the_job_then_closes_it_once() -> None:
    api = FakeKernel32()
    job = JobObject(api)
    job.terminate()
    job.close()
    job.close()
    assert names(api)[-2:] == ["TerminateJobObject", "CloseHandle"]
    assert api.calls[-2:] == [("TerminateJobObject", 100, 1), ("CloseHandle", 100)]


def test_a_job_that_cannot_be_created_is_an_error() -> None:
    with pytest.raises(OSError, match="CreateJobObjectW"):
        JobObject(FakeKernel32(fail="CreateJobObjectW"))
