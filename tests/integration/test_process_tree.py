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
from typing import Any

import pytest

from console.app import Services, open_services
from console.core.running.runner_platform import RUNNER_ENV
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


def listed_runs(kind: str, home: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    """`run list --json`, as a user looks."""
    shown = subprocess.run(
        [*command(kind, home)[:5], "run", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    runs: list[dict[str, Any]] = json.loads(shown.stdout)
    return runs


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
        "    time.sleep(2)\n"
    )


#: The guardian and the fork server are the Linux runner's: under the
#: portable one a script's parent is its supervisor (the tests above).
LINUX_RUNNER = pytest.mark.skipif(
    os.environ.get(RUNNER_ENV) == "portable", reason="no guardian, no fork server"
)


@LINUX_RUNNER
@pytest.mark.parametrize("kind", ["cli", "worker"])
def test_a_script_that_kills_the_keeper_of_its_tree_leaves_nothing_behind(
    kind: str, tmp_path: Path, supervisors: list[subprocess.Popen[bytes]]
) -> None:
    """What the run started ends with it all the same: `job run` takes what
    the killed guardian held (the run fails: its host dies with its
    guardian); a worker's run goes on without its fork server, and ends
    what it started at its end."""
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
    if kind == "cli":
        runs = listed_runs(kind, home, env)
        assert [(r["status"], "SIGKILL" in r["error"]) for r in runs] == [("failed", True)], runs
    else:  # its host outlived the server: the run ends as its script did
        wait_for(
            lambda: [r["status"] for r in listed_runs(kind, home, env)] == ["succeeded"],
            "the run to be recorded as succeeded",
            30,
        )


def due(services: Services, *names: str) -> None:
    """Enabled, and due now."""
    for name in names:
        services.jobs.enable(name)
    with services.store.write() as conn:
        conn.execute(
            schema.jobs.update()
            .where(schema.jobs.c.name.in_(names))
            .values(next_run_at=services.jobs.clock() - timedelta(seconds=1))
        )


@LINUX_RUNNER
def test_the_other_runs_of_a_worker_go_on_when_a_script_kills_its_fork_server(
    tmp_path: Path, supervisors: list[subprocess.Popen[bytes]]
) -> None:
    """One run kills the fork server both were forked from: the other run
    goes on to its end and is recorded as it ended; then, the worker
    killed, the run that was left goes with it, all below it too."""
    home = tmp_path / "home"
    home.mkdir()
    ready, pids = tmp_path / "ready", tmp_path / "pids"
    services = open_services(home, keyring_backend=MemoryKeyring())
    scripts = {
        "steady": "def steady():\n    import os, time\n"
        f"    open({str(ready)!r}, 'w').write(str(os.getpid()))\n"
        "    time.sleep(3)\n    print('steady to the end')\n",
        "killer": "def killer():\n    import os, time\n"
        f"    while not os.path.exists({str(ready)!r}):\n"
        "        time.sleep(0.05)\n    os.kill(os.getppid(), 9)\n",
        "lasting": escaping_script("lasting", pids),
    }
    try:
        for name, script in scripts.items():
            services.jobs.create(
                name,
                interval=1,
                unit="day",
                script=script,
                start_at=services.jobs.clock() - timedelta(hours=1),
                timeout_s=100,
            )
        due(services, "steady", "killer")
        worker = subprocess.Popen(
            [*command("worker", home), "--max-runs", "8"],
            env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        supervisors.append(worker)

        def status(name: str) -> str | None:
            runs = services.runs.runs(services.jobs.get(name).id)
            return runs[0].status if runs else None

        wait_for(lambda: status("steady") not in (None, "running"), "the steady run to end", 60)
        steady = services.runs.runs(services.jobs.get("steady").id)[0]
        assert steady.status == "succeeded", steady
        told = [e.message for e in services.runs.entries(run_id=steady.id, limit=None)]
        assert "steady to the end" in told
        wait_for(lambda: status("killer") == "succeeded", "the killer's run to end", 30)

        # A run forked from the server that replaced it, then the fork server
        # killed again (as the killer did), then the worker: nothing is left.
        due(services, "lasting")
        wait_for(pids.exists, "the lasting run to start its child", 60)
        tree = [int(p) for p in pids.read_text().split()]
        host = tree[0]
        server = int(Path(f"/proc/{host}/stat").read_text().rsplit(")", 1)[1].split()[1])
        os.kill(server, signal.SIGKILL)
        time.sleep(1)
        assert all(alive(pid) for pid in tree)  # its run goes on without its server
        worker.kill()
        for pid in tree:
            wait_for(lambda pid=pid: not alive(pid), f"{pid} to end with its worker", 15)
    finally:
        services.close()
