"""The process tree below a process, read from /proc."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from console.core.running import process_tree


@pytest.mark.skipif(not process_tree.supported(), reason="Linux only")
def test_descendants_include_grandchildren_in_other_sessions() -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "g = subprocess.Popen(['sleep', '30'], start_new_session=True)\n"
            "print(g.pid, flush=True)\n"
            "time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        grandchild = int(child.stdout.readline())
        found = process_tree.descendants(os.getpid())
        assert child.pid in found and grandchild in found
        assert found.index(child.pid) < found.index(grandchild)  # parents first
        # The children lists and the whole-machine scan (where the kernel
        # keeps no such lists) find the same tree.
        walked = process_tree._walk_children(os.getpid())
        scanned = process_tree._scan_descendants(os.getpid())
        assert walked is not None and {child.pid, grandchild} <= set(walked)
        assert {child.pid, grandchild} <= set(scanned)
    finally:
        os.kill(grandchild, 9)
        child.kill()
        child.wait()


def test_the_expected_parent_comes_from_the_environment_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(process_tree.PARENT_ENV, "4242")
    assert process_tree.expected_parent() == 4242
    assert process_tree.PARENT_ENV not in os.environ  # the script does not see it


SUBREAPER = """
import os, signal, subprocess, time
from console.core.running import process_tree
assert process_tree.become_subreaper()
host = os.fork()
if host == 0:  # a run's host, still going: kept
    time.sleep(30)
    os._exit(0)
r, w = os.pipe()
left = os.fork()
if left == 0:  # a host that ends and leaves a child in a new session behind
    child = subprocess.Popen(["sleep", "30"], start_new_session=True)
    os.write(w, str(child.pid).encode())
    os._exit(0)
os.waitpid(left, 0)
orphan = int(os.read(r, 100))
assert orphan in process_tree._children()  # it came to this process
process_tree.end_orphans({host})
os.waitpid(orphan, 0)  # it ended (SIGKILL)
print("host alive:", os.waitpid(host, os.WNOHANG) == (0, 0), flush=True)
os.kill(host, signal.SIGKILL)
"""


@pytest.mark.skipif(not process_tree.supported(), reason="Linux only")
def test_a_subreaper_ends_what_an_ended_run_left_and_keeps_live_hosts() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SUBREAPER], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "host alive: True"
