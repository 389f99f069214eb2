"""A run's whole process tree ends with the run, however its supervisor (the
command line's `job run`, a worker, the window) goes: SIGTERM, SIGHUP or
SIGKILL. The script starts a child in a new session, which leaves the run's
process group; both must be gone from /proc."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from console.app import open_services
from console.core.store import schema
from console.demo.memory_keyring import MemoryKeyring

SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGKILL)


def escaping_script(name: str, pids: Path) -> str:
    """A job that starts `sleep` in a new session, writes both process ids,
    and sleeps past any test."""
    return (
        f"def {name}():\n"
        "    import os, subprocess, time\n"
        "    child = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
        f"    with open({str(pids)!r} + '.tmp', 'w') as f:\n"
        "        f.write(f'{os.getpid()} {child.pid}')\n"
        f"    os.replace({str(pids)!r} + '.tmp', {str(pids)!r})\n"
        "    time.sleep(120)\n"
    )


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it is not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] != b"Z"


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def prepare(home: Path, name: str, *, due: bool) -> Path:
    pids = home / "pids"
    with_services = open_services(home, keyring_backend=MemoryKeyring())
    try:
        jobs = with_services.jobs
        jobs.create(
            name,
            interval=1,
            unit="day",
            script=escaping_script(name, pids),
            start_at=jobs.clock() - timedelta(hours=1),
            timeout_s=100,
        )
        if due:
            jobs.enable(name)
            with with_services.store.write() as conn:
                conn.execute(
                    schema.jobs.update()
                    .where(schema.jobs.c.name == name)
                    .values(next_run_at=jobs.clock() - timedelta(seconds=1))
                )
    finally:
        with_services.close()
    return pids


@pytest.fixture
def supervisors(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def command(kind: str, home: Path) -> list[str]:
    base = [sys.executable, "-m", "console", "--home", str(home)]
    return {
        "cli": [*base, "job", "run", "escape"],
        "worker": [*base, "worker"],
        "window": base,
    }[kind]


@pytest.mark.parametrize("kind", ["cli", "worker", "window"])
def test_nothing_of_a_run_outlives_its_supervisor(
    kind: str, tmp_path: Path, supervisors: list[subprocess.Popen[bytes]]
) -> None:
    # One supervisor per signal, at once: three homes, the same job.
    homes = {sig: tmp_path / sig.name for sig in SIGNALS}
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    files = {}
    for sig, home in homes.items():
        home.mkdir()
        files[sig] = prepare(home, "escape", due=kind != "cli")
        supervisors.append(
            subprocess.Popen(
                command(kind, home),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # the test's own signals reach only it
            )
        )
    for pids in files.values():
        wait_for(pids.exists, "the job to start its child", 60)
    trees = {sig: [int(p) for p in files[sig].read_text().split()] for sig in SIGNALS}
    assert all(alive(pid) for tree in trees.values() for pid in tree)

    for sig, proc in zip(SIGNALS, supervisors, strict=True):
        proc.send_signal(sig)
    for sig, tree in trees.items():
        for pid in tree:
            wait_for(lambda pid=pid: not alive(pid), f"{pid} to end after {sig.name}")
    for sig, proc in zip(SIGNALS, supervisors, strict=True):
        code = proc.wait(timeout=30)
        if kind == "cli" and sig != signal.SIGKILL:
            assert code == 128 + sig.value, sig.name  # as shells expect of a stopped command

    # No run stays "running": the next console to look says what became of it
    # (a look at the runs themselves too), and the job runs again at once (no
    # lease to wait out).
    listed = subprocess.run(
        [*command(kind, homes[signal.SIGKILL])[:5], "run", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert [r["status"] for r in json.loads(listed.stdout)] == ["interrupted"], listed.stdout
    for sig, home in homes.items():
        shown = subprocess.run(
            [*command(kind, home)[:5], "job", "show", "escape", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        (run,) = json.loads(shown.stdout)["runs"]
        if sig == signal.SIGKILL:
            assert run["status"] == "interrupted", run
            assert "stopped before it ended" in run["error"]
        else:  # stopped, not cancelled by its user: the run says by what
            assert run["status"] == "interrupted", run
            assert sig.name in run["error"], run
    again = subprocess.run(
        [*command(kind, homes[signal.SIGKILL])[:5], "job", "script", "escape", "--set", "-"],
        input="def escape():\n    pass\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
    rerun = subprocess.run(
        [*command(kind, homes[signal.SIGKILL])[:5], "job", "run", "escape"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rerun.returncode == 0, rerun.stderr


def parent_killing_script(name: str, pids: Path) -> str:
    """A job that leaves a daemon (double fork, new session) and a child in a
    new session, writes their ids, then kills its own parent: the process
    that keeps the run's tree (`job run`'s guardian, a worker's fork server)."""
    return (
        f"def {name}():\n"
        "    import os, subprocess, time\n"
        "    r, w = os.pipe()\n"
        "    first = os.fork()\n"
        "    if first == 0:\n"
        "        os.setsid()\n"
        "        daemon = os.fork()\n"
        "        if daemon == 0:\n"
        "            os.execvp('sleep', ['sleep', '300'])\n"
        "        os.write(w, str(daemon).encode())\n"
        "        os._exit(0)\n"
        "    os.waitpid(first, 0)\n"
        "    daemon = int(os.read(r, 32))\n"
        "    child = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
        f"    with open({str(pids)!r} + '.tmp', 'w') as f:\n"
        "        f.write(f'{daemon} {child.pid}')\n"
        f"    os.replace({str(pids)!r} + '.tmp', {str(pids)!r})\n"
        "    os.kill(os.getppid(), 9)\n"
        "    time.sleep(120)\n"
    )


@pytest.mark.parametrize("kind", ["cli", "worker"])
def test_a_script_that_kills_the_keeper_of_its_tree_leaves_nothing_behind(
    kind: str, tmp_path: Path, supervisors: list[subprocess.Popen[bytes]]
) -> None:
    """The run fails, and what it started ends with it all the same: the
    supervisor (`job run`, the worker) takes what the killed guardian or
    fork server held."""
    home = tmp_path / "home"
    home.mkdir()
    pids = prepare(home, "escape", due=kind == "worker")
    services = open_services(home, keyring_backend=MemoryKeyring())
    try:
        services.jobs.set_script("escape", parent_killing_script("escape", pids))
    finally:
        services.close()
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    supervisor = subprocess.Popen(
        command(kind, home), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    supervisors.append(supervisor)
    wait_for(pids.exists, "the job to start its daemon and child", 60)
    left = [int(p) for p in pids.read_text().split()]
    if kind == "cli":
        assert supervisor.wait(timeout=60) == 1  # the run failed
    for pid in left:
        wait_for(lambda pid=pid: not alive(pid), f"{pid} to end with its run", 15)
    shown = subprocess.run(
        [*command(kind, home)[:5], "run", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    (run,) = json.loads(shown.stdout)
    assert run["status"] == "failed" and "SIGKILL" in run["error"], run
