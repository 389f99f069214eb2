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
