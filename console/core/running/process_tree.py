"""A run's whole process tree ends with the run, whatever happens to the
console that supervises it.

The script host splits in two once it has its payload: a small guardian
(this module) and the worker that runs the script. The guardian

- asks the kernel to signal it when its parent dies (`PR_SET_PDEATHSIG`), and
  checks that its parent is still the console that started it: the signal
  is lost if the parent died before the request, and Linux also sends it when
  merely the parent's *thread* that started it ends, so the parent's id is
  what decides;
- is a child subreaper (`PR_SET_CHILD_SUBREAPER`): whatever the script starts,
  even in a new session or process group, is re-parented to it rather than to
  PID 1 when its own parent goes, so it can still be found;
- ends every descendant (SIGKILL, repeated until none is left) when the
  worker ends, when told to stop (SIGTERM: a timeout or a cancel), and when
  its console goes.

A host forked by a fork server needs no guardian: the server is the child
subreaper of its hosts (`become_subreaper`) and each host one of its own
(`own_tree`), so what a run leaves behind stays below its host while it
runs and comes to the server when the host ends, which ends it
(`end_orphans`). One fork a run instead of two: 3 to 5 ms of CPU
(docs/benchmarks.md). When the server goes (a script killed it, say)
while its supervisor lives, each host's run goes on, the host watching the
supervisor instead and ending its own tree at its end (`outlive_server`);
when the supervisor goes too, each host ends its own tree.

Standard library only: the host imports it before anything else. On systems
without `prctl` (not Linux) the host runs as before, with the process group
as the only bound.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any, NoReturn

PARENT_ENV = "MOBILE_CONSOLE_HOST_PARENT"
#: A forked host's supervisor (the worker, the window), its fork server's parent.
SUPERVISOR_ENV = "MOBILE_CONSOLE_HOST_SUPERVISOR"
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
#: The guardian's death signal: catchable, so that it can check whose death
#: it was (a thread of the console, or the console) and end the tree.
PARENT_GONE_SIGNAL = signal.SIGHUP
#: How often the guardian looks at its parent, in case the signal was lost.
POLL_S = 0.5


_libc: Any = None
#: Set in a host forked by a fork server that is a child subreaper itself
#: (`become_subreaper`): the host needs no guardian (`own_tree`).
parent_reaps = False
#: Set in such a host once its fork server has gone and its run goes on
#: (`outlive_server`): nobody ends what it leaves, so it ends that itself.
server_gone = False


def preload() -> None:
    """Load ctypes and libc ahead: a fork server does, so that each run it
    forks does not (about 2 ms of CPU a run)."""
    global _libc
    if _libc is None and sys.platform.startswith("linux"):
        import ctypes  # here: the command line imports this module before it needs it

        try:
            _libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            _libc = False


def _prctl(option: int, value: int) -> bool:
    preload()
    if not _libc:
        return False
    try:
        return int(_libc.prctl(option, value, 0, 0, 0)) == 0
    except AttributeError:
        return False


def supported() -> bool:
    """Whether the tree can be kept (Linux: prctl and /proc)."""
    return sys.platform.startswith("linux") and os.path.isdir("/proc/self")


def expected_parent(name: str = PARENT_ENV) -> int | None:
    """The console that started this host (passed in its environment);
    with `SUPERVISOR_ENV`, the supervisor of a forked host's server."""
    raw = os.environ.pop(name, "")
    return int(raw) if raw.isdigit() else None


def die_with_parent(parent: int | None, sig: int = PARENT_GONE_SIGNAL) -> None:
    """Be signalled when the parent dies; exit at once if it already has."""
    if parent is None:
        return
    _prctl(PR_SET_PDEATHSIG, int(sig))
    if os.getppid() != parent:  # it died before the request: nobody would tell us
        os._exit(0)


def watch_parent_while_waiting(parent: int | None) -> None:
    """For a host still waiting for its payload: the death signal ends it
    only when the console itself is gone (not one of its threads)."""
    if parent is None or not supported():
        return

    def on_signal(_signum: int, _frame: object) -> None:
        if os.getppid() != parent:
            os._exit(0)

    signal.signal(PARENT_GONE_SIGNAL, on_signal)
    die_with_parent(parent)


def descendants(root: int) -> list[int]:
    """Every live process below `root`, from /proc (parents before children)."""
    found = _walk_children(root)
    return found if found is not None else _scan_descendants(root)


def _walk_children(root: int) -> list[int] | None:
    """`descendants` from each process's own list of children: a handful of
    reads for a run's tree, where a scan reads every process of the machine
    (hundreds of runs ending at once made that most of their cost). None
    where the kernel keeps no such list."""
    found: list[int] = []
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue  # it ended while we looked
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    kids = [int(k) for k in f.read().split()]
            except FileNotFoundError:
                if pid == root and not found and os.path.exists(f"/proc/{pid}/task/{tid}"):
                    return None  # no children lists in this kernel
                continue
            except OSError:
                continue
            found.extend(kids)
            todo.extend(kids)
    return found


def _scan_descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # it ended while we looked
        # Field 4 is the parent; the name in field 2 may hold spaces and ")".
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def end_tree(root: int) -> None:
    """SIGKILL every descendant of `root` (this process, a subreaper) until
    none is left, reaping them."""
    for _ in range(1000):  # a fork bomb converges: a killed process forks no more
        if root == os.getpid() and not _reap_all():
            return  # no child left: as a subreaper, nothing below it either
        found = descendants(root)
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        _reap_all()
        if not found:
            return


def _reap_all() -> bool:
    """Reap every child that has ended; True if some child is still alive."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def become_subreaper() -> bool:
    """Make this process (a fork server, `job run`) the child subreaper of
    every run it starts: what a run leaves behind when its host (or the
    host's guardian) ends comes to it, to be ended (`end_orphans`,
    `end_tree`), not to PID 1. False where that cannot be done."""
    return supported() and _prctl(PR_SET_CHILD_SUBREAPER, 1)


def end_branch(root: int) -> None:
    """SIGKILL `root`, a run's host that this process did not fork (its fork
    server is gone), and everything below it: what is below first, while
    `root`, a subreaper, still holds what they leave behind."""
    for _ in range(100):  # a fork bomb converges: a killed process forks no more
        below = [pid for pid in descendants(root) if _running(pid)]
        for pid in below:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if not below:
            break
    try:
        os.kill(root, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _running(pid: int) -> bool:
    """Alive and not a zombie (which its parent, `root`, has yet to reap)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] != b"Z"


def end_orphans(hosts: set[int]) -> None:
    """In a fork server that is a subreaper: SIGKILL every child that is not
    one of its live `hosts`, and all below it. Such a child was left by a
    run whose host has ended (a live host is a subreaper too: what its run
    leaves while it lives stays below it). Waits for none of them: each
    end comes as a SIGCHLD, and the server reaps it and calls this again
    for whatever came to it meanwhile."""
    for orphan in _children():
        if orphan in hosts:
            continue
        for pid in [orphan, *descendants(orphan)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _children() -> list[int]:
    """This process's own children (it has one thread), from /proc."""
    me = os.getpid()
    try:
        with open(f"/proc/{me}/task/{me}/children", "rb") as f:
            return [int(k) for k in f.read().split()]
    except FileNotFoundError:  # no children lists in this kernel
        below = set(_scan_descendants(me))
        return [pid for pid in below if _parent_of(pid) == me]
    except OSError:
        return []


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[1]) if len(fields) > 1 else None


def own_tree(parent: int | None, supervisor: int | None = None) -> None:
    """For a host forked by a fork server that reaps (`parent_reaps`), in
    place of a guardian: be a child subreaper, so that what the script
    starts stays below this process while it runs (and goes to the server,
    which ends it, once this process has ended). When the server goes, the
    run goes on while `supervisor` lives (`outlive_server`); without it,
    end that tree and exit."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    if parent is None:
        return

    def on_signal(_signum: int, _frame: object) -> None:
        if os.getppid() == parent or server_gone:
            return
        if supervisor is None or not outlive_server(supervisor):
            end_tree(os.getpid())  # the server is gone, and so is the run
            os._exit(1)

    signal.signal(PARENT_GONE_SIGNAL, on_signal)
    die_with_parent(parent)


def outlive_server(supervisor: int) -> bool:
    """In a host whose fork server is gone: go on with the run while the
    `supervisor` lives (a thread waits for its end, then ends this tree and
    this process), and end what the run leaves behind at its end
    (`server_gone`). False when the supervisor is gone too, or cannot be
    watched (no pidfd)."""
    global server_gone
    try:
        watched = os.pidfd_open(supervisor)
    except (OSError, AttributeError):
        return False
    import select
    import threading

    def watch() -> None:
        select.select([watched], [], [])
        end_tree(os.getpid())
        os._exit(1)

    server_gone = True
    threading.Thread(target=watch, name="supervisor watch", daemon=True).start()
    return True


def _exit_like(status: int) -> NoReturn:
    """End this process as the worker ended: same code, or same signal."""
    if os.WIFSIGNALED(status):
        _die_by(os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _die_by(sig: int) -> NoReturn:
    """End this process by `sig`, so its parent sees the same exit status."""
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])  # delivered here
    os._exit(128 + sig)  # a signal whose default is to be ignored


def split_guardian(parent: int | None) -> None:
    """Fork: the caller goes on in the child (the worker, which runs the
    script and dies with the guardian); this process stays as the guardian
    and never returns. Does nothing where the tree cannot be kept."""
    if parent is None or not supported() or not _prctl(PR_SET_CHILD_SUBREAPER, 1):
        return
    watched = [signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, PARENT_GONE_SIGNAL]
    signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    guardian = os.getpid()
    worker = os.fork()
    if worker == 0:
        signal.signal(PARENT_GONE_SIGNAL, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, watched)
        die_with_parent(guardian, signal.SIGKILL)
        return
    _guard(guardian, worker, parent)


def _guard(guardian: int, worker: int, parent: int) -> NoReturn:
    # The guardian holds no pipe of the run: the console sees the end of the
    # output when the worker and whatever it started are gone.
    for fd in [int(n) for n in os.listdir("/proc/self/fd")]:
        try:
            os.close(fd)
        except OSError:
            pass
    die_with_parent(parent)
    while True:
        info = signal.sigtimedwait(
            [signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, PARENT_GONE_SIGNAL], POLL_S
        )
        if os.getppid() != parent:  # the console is gone: so is the run
            end_tree(guardian)
            os._exit(1)
        if info is None or info.si_signo == PARENT_GONE_SIGNAL:
            continue  # a thread of the console ended, not the console
        if info.si_signo in (signal.SIGTERM, signal.SIGINT):  # a timeout or a cancel
            end_tree(guardian)
            _die_by(info.si_signo)
        status = _worker_status(worker)
        if status is not None:
            end_tree(guardian)  # what the script started ends with it
            _exit_like(status)


def _worker_status(worker: int) -> int | None:
    """Reap what has ended; the worker's wait status if it was among them."""
    found = None
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return found
        if pid == 0:
            return found
        if pid == worker:
            found = status
