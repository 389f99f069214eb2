"""A fork server for script hosts: one process that has done the script
host's imports once, and forks a fresh child for every run.

A new interpreter costs about 0.3 s of CPU before a script's first line
(SQLAlchemy, requests); a fork of one that has already imported them costs
a few milliseconds. A worker running hundreds of jobs a minute needs the
second. Each run still gets a process of its own, in its own process group:
the runner kills it on timeout or cancel, its memory limit is set in it, and
whatever it does (exception, `os._exit`, segfault) ends only it.

The server is single-threaded and holds no database connection, so forking
it is safe: it connects to the runs' database once when it starts (so each
run skips SQLAlchemy's first-connect queries and one-time compiling), then
closes that connection before its first fork. It speaks over a Unix
socketpair (SOCK_SEQPACKET): the runner sends the three pipe ends of a run
(stdin, stdout, stderr) as SCM_RIGHTS; the server answers with the child's
pid, and later with its exit status (`Popen.returncode`'s convention).
When the runner's process goes away the socket closes and the server ends
every process below it (it is its runs' child subreaper, `process_tree`),
then itself.

Standard library only at import (the server imports the script host's
preloads itself).
"""

from __future__ import annotations

import collections
import contextlib
import gc
import os
import queue
import select
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import IO, NoReturn

from console.core.running import process_tree
from console.core.running.host_process import HostProcess

SPAWN_TIMEOUT_S = 10.0
#: How long the server gives its one connection ahead (`_prepare_engine`)
#: before it serves without it.
PREPARE_TIMEOUT_S = 3.0


def available() -> bool:
    """Linux only: fork after imports is unsafe on macOS, absent on Windows."""
    from console.core.running.runner_platform import chosen_name

    return chosen_name() == "linux" and hasattr(socket, "SOCK_SEQPACKET")


def server_command(fd: int, preload: str = "tables") -> list[str]:
    """`preload`: what the server loads for its hosts (`script_host.preload`)."""
    flags = [f"--fd={fd}", f"--preload={preload}"]
    if getattr(sys, "frozen", False):
        return [sys.executable, "__fork-server__", *flags]
    return [sys.executable, "-m", "console.core.running.fork_server", *flags]


# -- the server process ---------------------------------------------------------


def serve(fd: int, preload_what: str = "tables", db_url: str = "") -> NoReturn:
    """The server's main loop; never returns. `db_url`: the database its
    runs write to, connected to once here (`prepare_engine`) when the hosts
    load the table layer; a "linked" server's runs write through their
    supervisor and load it only to use a connection of their own."""
    from console.core.running.script_host import preload, preload_kind

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner decides when it ends
    supervisor = os.getppid()  # each host's run goes on with it if this server dies
    # Requests, and the table layer or what a linked run needs instead
    # (every fork costs the more, the more is loaded: about 6 ms of CPU a
    # run with SQLAlchemy and psycopg, 3 without), but not V8 (preload
    # "all"): V8 starts threads, which a fork does not carry over, and
    # reserves address space that RLIMIT_AS would count against every run.
    preload(preload_what)
    import resource  # noqa: F401  (the host's memory limit)

    import requests  # noqa: F401
    import requests_oauthlib  # noqa: F401

    import console.core.running.http_redirects  # noqa: F401
    from console.core.running import http_recording, process_tree, runner_platform

    http_recording.adapters()  # each run's recording adapter is one of these

    runner_platform.current()  # the host's platform module, loaded once here
    process_tree.preload()
    # What a run leaves behind when its host ends comes here, and is ended:
    # each host then needs no guardian process of its own (a second fork, 3
    # to 5 ms of CPU a run).
    reaps = process_tree.become_subreaper()
    if db_url and preload_kind(preload_what) == "tables":
        _prepare_engine(db_url)
    # What is loaded now is never collected: a child's collector then leaves
    # those pages alone, so they stay shared with the server instead of being
    # copied into every run.
    gc.collect()
    gc.freeze()
    sock = socket.socket(fileno=fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the selector through the pipe
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    children: set[int] = set()

    def reap() -> None:
        reaped = False
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            reaped = True
            if pid in children:  # else something a run left behind
                children.discard(pid)
                with contextlib.suppress(OSError):
                    sock.send(b"X%d %d" % (pid, os.waitstatus_to_exitcode(status)))
        if reaped and reaps:  # what ended runs left behind ends with them
            process_tree.end_orphans(children)

    while True:
        for key, _ in selector.select():
            if key.fileobj is not sock:
                with contextlib.suppress(OSError):
                    os.read(wake_r, 4096)
                reap()
                continue
            try:
                message, fds, _flags, _addr = socket.recv_fds(sock, 16, 3)
            except OSError:
                message, fds = b"", []
            if not message:  # the runner is gone: nothing of its runs outlives it
                if reaps:  # every run's whole tree is below this process
                    process_tree.end_tree(os.getpid())
                    os._exit(0)
                # SIGTERM to each host, as a cancel does: its guardian ends the
                # run's whole tree (a SIGKILL to the group would kill the
                # guardian first and hand what escaped the group to PID 1).
                for pid in children:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGTERM)
                os._exit(0)
            pid = os.fork()
            if pid == 0:
                selector.close()
                for own in (sock.fileno(), wake_r, wake_w):
                    os.close(own)
                process_tree.parent_reaps = reaps
                _become_host(fds, supervisor)
            for passed in fds:
                os.close(passed)
            children.add(pid)
            sock.send(b"P%d" % pid)
        reap()


def _prepare_engine(db_url: str) -> None:
    """Connect once, then hold no connection: each forked run opens its own
    on an engine that has read the server's version and settings already
    (SQLAlchemy's first connect, about 10 ms of CPU a run on PostgreSQL).
    A database that cannot be reached now is left to each run."""
    from console.core.store.database import prepare_engine
    from console.core.tables.known import warm_up

    def give_up(_signum: int, _frame: object) -> None:
        raise TimeoutError  # a server that does not answer: runs wait for no one

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.setitimer(signal.ITIMER_REAL, PREPARE_TIMEOUT_S)
    try:
        prepare_engine(db_url, warm_up)
    except Exception:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _become_host(fds: list[int], supervisor: int) -> NoReturn:
    """In the forked child: a script host of its own, as if just started."""
    try:
        os.setsid()  # its own process group, ended as a whole
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        from console.core.running.process_tree import PARENT_ENV, SUPERVISOR_ENV
        from console.core.running.script_host import run_and_exit

        # It watches the fork server, its parent, which ends with the runner;
        # should the server die alone, the runner's process itself.
        os.environ[PARENT_ENV] = str(os.getppid())
        os.environ[SUPERVISOR_ENV] = str(supervisor)

        run_and_exit()
    except BaseException:
        os._exit(70)


def serve_and_exit(args: list[str]) -> NoReturn:
    from console.core.running.script_host import preload_flag

    fd = next(int(a.split("=", 1)[1]) for a in args if a.startswith("--fd="))
    # The database's URL comes on standard input: never on a command line,
    # which any user of the machine can read.
    db_url = sys.stdin.read().strip()
    serve(fd, preload_flag(args) or "tables", db_url)


# -- the runner's side ----------------------------------------------------------


class ForkedProc:
    """A forked script host, as the runner sees a `subprocess.Popen`: pid,
    pipes, poll, wait, returncode (the server reports the exit)."""

    def __init__(self, pid: int, stdin: IO[bytes], stdout: IO[bytes], stderr: IO[bytes]) -> None:
        self.pid, self.stdin, self.stdout, self.stderr = pid, stdin, stdout, stderr
        self.returncode: int | None = None
        #: Its end was seen without its exit status (its fork server died).
        self.status_lost = False
        self._ended = threading.Event()

    def _exited(self, code: int) -> None:
        self.returncode = code
        self._ended.set()

    def outlive_server(self) -> bool:
        """The fork server died: wait for the host's end here (its exit
        status is lost with the server: `status_lost`). False where that
        cannot be done (no pidfd, or the host has gone already)."""
        try:
            watched = os.pidfd_open(self.pid)
        except (OSError, AttributeError):
            return False

        def watch() -> None:
            select.select([watched], [], [])
            os.close(watched)
            self.status_lost = True
            self._exited(-signal.SIGKILL)

        threading.Thread(target=watch, name="host watch", daemon=True).start()
        return True

    def poll(self) -> int | None:
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired("script host", timeout or 0)
        assert self.returncode is not None
        return self.returncode


class ForkedHost(HostProcess):
    """A `HostProcess` whose process came from the fork server."""

    def __init__(self, proc: ForkedProc) -> None:  # no super().__init__: nothing to start
        self._adopt(proc)  # duck-typed: the runner uses pid, the pipes, poll, wait, returncode


class ForkServer:
    """The runner's handle on its fork server."""

    def __init__(self, preload: str = "tables", db_url: str = "") -> None:
        """`preload`: what the server loads for its hosts
        (`script_host.preload`); `db_url`: the database the runs write to,
        which a server preloading "tables" connects to once ahead of them."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen(
            server_command(theirs.fileno(), preload),
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.PIPE,
            start_new_session=True,  # a Ctrl+C in the terminal is the runner's to handle
        )
        theirs.close()
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.write(db_url.encode())
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        self._sock = ours
        self._spawn_lock = threading.Lock()
        self._lock = threading.Lock()
        # One per request sent, answered in order: the server forks in the
        # order it reads, so many runs can wait for their pid at once.
        self._waiting: collections.deque[queue.Queue[int]] = collections.deque()
        self._line_lock = threading.Lock()  # the line's own, never held across I/O
        self._answered = time.monotonic()  # when the server last answered a spawn
        self._running: dict[int, ForkedProc] = {}
        self._early: dict[int, int] = {}  # exits reported before the spawn returned
        self._closed = False
        self._server_gone = False  # the reader has seen the server's end (under _lock)
        self._reader = threading.Thread(target=self._read, name="fork-server", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return not self._closed and self.proc.poll() is None

    def spawn(self) -> ForkedHost:
        """A fresh script host, forked; OSError if the server is gone."""
        fds = [*os.pipe(), *os.pipe(), *os.pipe()]  # in_r, in_w, out_r, out_w, err_r, err_w
        in_r, in_w, out_r, out_w, err_r, err_w = fds
        answer: queue.Queue[int] = queue.Queue(maxsize=1)
        try:
            with self._spawn_lock:  # the request and its place in line, together
                if not self.alive:
                    raise OSError("the fork server has stopped")
                with self._line_lock:
                    self._waiting.append(answer)
                try:
                    socket.send_fds(self._sock, [b"F"], [in_r, out_w, err_w])
                except BaseException:
                    with self._line_lock:
                        self._waiting.remove(answer)
                    raise
            pid = self._await(answer, time.monotonic())
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        for fd in (in_r, out_w, err_w):
            os.close(fd)
        # The run's pipes live as long as the run; the runner closes them.
        pipes = (open(in_w, "wb"), open(out_r, "rb"), open(err_r, "rb"))  # noqa: SIM115
        proc = ForkedProc(pid, *pipes)
        with self._lock:
            early = self._early.pop(pid, None)
            if early is None and self._server_gone:  # it died between the pid and now
                early = -signal.SIGKILL
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
            if early is None:
                self._running[pid] = proc
        if early is not None:
            proc._exited(early)
        return ForkedHost(proc)

    def _await(self, answer: queue.Queue[int], sent: float) -> int:
        """The pid for a request sent at `sent`. Requests queued behind many
        others wait their turn; only a server that answers nobody for
        SPAWN_TIMEOUT_S is given up (a late answer would go to the wrong
        spawn), or one that has died."""
        while True:
            try:
                return answer.get(timeout=0.5)
            except queue.Empty:
                pass
            if self._closed:
                raise OSError("the fork server has stopped")
            if time.monotonic() - max(sent, self._answered) > SPAWN_TIMEOUT_S:
                self._closed = True
                raise OSError("the fork server does not answer")

    def _read(self) -> None:
        while True:
            try:
                message = self._sock.recv(64)
            except OSError:
                message = b""
            if not message:
                break
            if message[:1] == b"P":
                self._answered = time.monotonic()
                with self._line_lock:
                    answer = self._waiting.popleft() if self._waiting else None
                if answer is not None:
                    answer.put(int(message[1:]))
            elif message[:1] == b"X":
                pid, code = map(int, message[1:].split())
                with self._lock:
                    proc = self._running.pop(pid, None)
                    if proc is None:
                        self._early[pid] = code
                if proc is not None:
                    proc._exited(code)
        # The server died (a script killed it, say): each run goes on, and
        # this process watches its host's end (`outlive_server`); where it
        # cannot, the host is ended now with all below it (killed alone, it
        # would hand that to PID 1).
        self._closed = True
        with self._lock:
            orphans, self._running = list(self._running.values()), {}
            self._server_gone = True
        for proc in orphans:
            if proc.outlive_server():
                continue
            process_tree.end_branch(proc.pid)
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc._exited(-signal.SIGKILL)

    def close(self) -> None:
        """End the server (and any child it still has)."""
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class ForkServers:
    """A runner's fork servers: a light one (`light`: with a table link,
    only what a linked run needs) for every run, and, started when first
    needed, one with the table layer (`heavy`) for the jobs whose runs used
    a connection of their own (a big `insert_many`, `iter()` in an order
    other than by id): from the light server each such run would load
    SQLAlchemy itself, 0.2 to 0.3 s of CPU every time. A server that has
    died is replaced at the next spawn."""

    def __init__(self, light: str, heavy: str, db_url: str) -> None:
        self._light, self._heavy, self._db_url = light, heavy, db_url
        self._servers: dict[str, ForkServer] = {}
        self._lock = threading.Lock()
        #: The jobs whose runs are forked from the heavy server.
        self.direct: set[int] = set()

    def server(self, job_id: int | None = None) -> ForkServer:
        """The server for a run of `job_id`, started if it is not running."""
        preload = self._heavy if job_id in self.direct else self._light
        with self._lock:
            server = self._servers.get(preload)
            if server is None or not server.alive:
                if server is not None:
                    server.close()
                server = self._servers[preload] = ForkServer(preload, self._db_url)
            return server

    def spawn(self, job_id: int | None = None) -> ForkedHost:
        """A fresh script host for a run of `job_id`; OSError if its server
        cannot fork one."""
        return self.server(job_id).spawn()

    def close(self) -> None:
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.close()


if __name__ == "__main__":
    serve_and_exit(sys.argv[1:])
