"""The Linux runner: a host's process group ends as a whole, and its
memory limit is the kernel's (RLIMIT_AS)."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil

from console.core.running.platform_linux import LinuxPlatform


def test_ending_a_host_ends_its_process_group() -> None:
    linux = LinuxPlatform()
    proc = subprocess.Popen(["sh", "-c", "sleep 300 & sleep 300"], **linux.popen_options())
    deadline = time.monotonic() + 30
    while not psutil.Process(proc.pid).children():
        assert time.monotonic() < deadline, "the shell started nothing"
        time.sleep(0.02)
    children = psutil.Process(proc.pid).children()
    linux.end(proc, 0.5, ending=False)
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert proc.returncode is not None and not alive


def test_a_host_over_its_memory_limit_gets_a_memory_error() -> None:
    code = (
        "from console.core.running.platform_linux import LinuxPlatform\n"
        "LinuxPlatform().limit_memory(300 * 1024 ** 2, engine_started=False)\n"
        "try:\n"
        "    bytearray(1024 ** 3)\n"
        "except MemoryError:\n"
        "    print('MemoryError')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "MemoryError"
