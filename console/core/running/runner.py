"""Running a job: one child process per run, never the caller's process.

The runner takes the job's lease, records the run, starts the script host in
its own process group, sends it the payload (secrets included) on standard
input, and streams its log back: masked, capped, stored in batches and
handed to a live callback. A timeout or a cancel ends the whole group
(SIGTERM, then SIGKILL after a grace period); whatever the child does, only
that run fails.

Over 500 lines: one run's whole life (lease, child, supervision of its
pipes, timeout and cancel, its end stored or spooled) reads in one place,
with what it hears from the child (log lines, rows, HTTP exchanges, the
debugger's state, a dry run's diff).
"""

from __future__ import annotations

import json
import os
import selectors
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from console.core.clock import Clock, utcnow
from console.core.config.app_settings import AppSettings, ResolvedConfig
from console.core.config.masking import Masker
from console.core.config.redirects import RedirectStore
from console.core.config.settings import Settings
from console.core.errors import ConsoleError, DatabaseUnavailableError
from console.core.jobs.job_store import Job, JobStore
from console.core.jobs.owners import new_owner
from console.core.jobs.recordings import (
    Collector,
    Recording,
    RecordingStore,
    http_payload,
    replay_notes,
)
from console.core.jobs.runs import Run, RunLog
from console.core.running import fork_server, table_link
from console.core.running.bounded_lines import BoundedLines
from console.core.running.dry_run import DryRunDiff
from console.core.running.fork_server import ForkServers
from console.core.running.host_process import HostProcess
from console.core.running.log_writer import LineCallback, LogWriter
from console.core.running.run_outcome import format_seconds, outcome
from console.core.running.run_stopper import RunStopper
from console.core.running.table_link import TableLink
from console.core.store import faults
from console.core.store.cancel import Cancel
from console.core.store.spool import Spool
from console.core.tables.catalogue import Known
from console.core.tables.known import read_known

HEARTBEAT_S = 5.0
#: Bytes held of one line of a job's output before it is cut (see BoundedLines).
RAW_LINE = 64 * 1024
PROTOCOL_LINE = 1024 * 1024
#: The trigger History shows for a dry run.
DRY_RUN_TRIGGER = "dry run"
#: Why a run stops when its console finds, at a heartbeat, that another has
#: taken it for abandoned (this one was stopped, or cut off, for too long).
TAKEN = "another console took the run for abandoned while this one was not heard from"


class RunSpooledError(DatabaseUnavailableError):
    """A run ended, but the database could not record it: its log and its end
    are in the spool, stored when the database is back."""


@dataclass(frozen=True)
class RunInputs:
    """What a run is given besides its job, read at one moment: the limits,
    the app settings (secrets from the keyring) and the redirects. The
    scheduler reads them once for all the runs due at one instant, so a run
    starts without waiting on the database."""

    limits: dict[str, Any]
    config: Callable[[str | None], ResolvedConfig]
    redirects: list[tuple[str, str]]
    #: The tables' columns, so a run writes without reading them (`TableStore.trust`).
    tables: Known | None = None


class Runner:
    """Runs jobs in child processes and records every run."""

    def __init__(
        self,
        db_url: str,
        jobs: JobStore,
        runs: RunLog,
        app_settings: AppSettings,
        settings: Settings,
        *,
        owner: str | None = None,
        clock: Clock = utcnow,
        grace_s: float = 2.0,
        spool: Spool | None = None,
        redirects: RedirectStore | None = None,
        recordings: RecordingStore | None = None,
    ) -> None:
        self.db_url = db_url
        self.spool = spool
        self.jobs, self.runs, self.app_settings, self.settings = jobs, runs, app_settings, settings
        self.owner = owner or new_owner()
        self.clock = clock
        self.grace_s = grace_s
        self.redirects = redirects
        self.recordings = recordings
        self._keep_warm = False
        self._spare: HostProcess | None = None
        self._spare_lock = threading.Lock()
        self._forks: ForkServers | None = None
        self._link: TableLink | None = None
        self._diffs: dict[int, DryRunDiff] = {}
        #: The job whose dry run holds SQLite's write lock now (the scheduler waits).
        self.holding: str | None = None
        #: The database's driver, which hosts load before their run does.
        self._driver = make_url(db_url).drivername

    # -- a warm spare --------------------------------------------------------

    def keep_warm(self) -> None:
        """Keep one script host started ahead, past its imports (SQLAlchemy,
        requests), waiting for its payload: a run then starts in milliseconds
        instead of a few hundred. For the window and the worker, which run
        many jobs; `close` ends it."""
        self._keep_warm = True
        self._replace_spare()

    @property
    def spare_pid(self) -> int | None:
        """The waiting script host's process id, if one waits."""
        spare = self._spare
        return None if spare is None else spare.proc.pid

    def _replace_spare(self) -> None:
        with self._spare_lock:
            if self._keep_warm and self._spare is None:
                self._spare = HostProcess(preload=f"all:{self._driver}")

    def use_fork_server(self) -> None:
        """Fork every run's script host from one server that has done its
        imports (`fork_server`): milliseconds of CPU a run instead of about
        0.3 s, for a worker with many jobs. Where fork is not available, a
        warm spare instead. `close` ends it."""
        if not fork_server.available():
            self.keep_warm()
            return
        with self._spare_lock:
            if self._forks is None:
                # With a table link a run needs no SQLAlchemy (whose pages
                # would make every fork cost twice the CPU), unless it uses a
                # connection of its own: its job's runs then fork from a
                # server that has loaded the table layer.
                heavy = f"tables:{self._driver}"
                light = "linked" if table_link.available() else heavy
                self._forks = ForkServers(light, heavy, self.db_url)
                self._forks.server()  # started now, ready for the first run

    def _child(self, job_id: int | None = None) -> HostProcess:
        """A forked host for a run of `job_id`, or the spare if one is alive
        (and a new spare behind it), else a new host."""
        forks = self._forks
        if forks is not None:
            try:
                return forks.spawn(job_id)  # a server that died is replaced
            except OSError:
                pass  # a fresh interpreter instead, this once
        with self._spare_lock:
            spare, self._spare = self._spare, None
        if spare is not None and spare.proc.poll() is not None:
            spare.discard()  # it died waiting; never mind, start afresh
            spare = None
        child = spare or HostProcess()
        self._replace_spare()
        return child

    def adopt(self, host: HostProcess) -> None:
        """Use `host`, started ahead by the caller, for the next run."""
        with self._spare_lock:
            spare, self._spare = self._spare, host
        if spare is not None:
            spare.discard()

    def close(self) -> None:
        """End the spare, if any; runs in progress are the caller's to wait for."""
        with self._spare_lock:
            self._keep_warm = False
            spare, self._spare = self._spare, None
            forks, self._forks = self._forks, None
            link, self._link = self._link, None
        if spare is not None:
            spare.discard()
        if forks is not None:
            forks.close()
        if link is not None:
            link.close()

    def _table_link(self) -> TableLink | None:
        """The socket through which this runner does its runs' table
        operations (`table_link`), made at the first run; None where there
        are no Unix sockets (each run then connects itself)."""
        if not table_link.available():
            return None
        with self._spare_lock:
            if self._link is None:
                self._link = TableLink(self.runs.store)
            return self._link

    # -- running -------------------------------------------------------------

    def inputs(self) -> RunInputs:
        """The settings, app settings and redirects as they are now."""
        return RunInputs(
            self.settings.all(),
            self.app_settings.resolver(),
            self.redirects.pairs() if self.redirects else [],
            self._known_tables(),
        )

    def _known_tables(self) -> Known | None:
        try:
            return read_known(self.runs.store)
        except SQLAlchemyError:
            return None  # each run reads the tables it opens

    def run(
        self,
        name: str,
        *,
        trigger: str = "run once",
        on_line: LineCallback | None = None,
        cancel: threading.Event | None = None,
        on_started: Callable[[Run], None] | None = None,
        lease_held: bool = False,
        note: str | None = None,
        attempt: int = 1,
        attempts: int | None = None,
        run: Run | None = None,
        job: Job | None = None,
        inputs: RunInputs | None = None,
        replay: int | None = None,
        debug: dict[str, Any] | None = None,
        on_debug: Callable[[dict[str, Any]], None] | None = None,
        dry_run: bool = False,
    ) -> Run:
        """Run the job now and wait for it; returns the finished run.

        `dry_run`: every table write of the run is rolled back at its end and
        HTTP other than GET/HEAD is not sent (`dry_run`); the run is kept in
        History with the trigger "dry run", and what it would have written
        is `diff(run.id)` (once).

        A scheduled run is attempt 1 of 1 + the job's retries; `attempt` and
        `attempts` number a retry. Refused (ConsoleError) while another run
        of the job holds its lease. `run`: already recorded, with the lease
        taken (and pointing at it), by the scheduler's claim, which read
        `job` too; `inputs`: read for it ahead (`inputs()`). `replay`: a
        past run of this job whose HTTP recording answers every request
        (ConsoleError when it has none). `debug`: run under debugpy
        (`running/debugging.py`), its timeout held while it is paused;
        `on_debug` hears where it listens.
        """
        if job is None or run is None:
            job = self.jobs.get(name)
        recording = None
        if replay is not None:
            if self.recordings is None:
                raise ConsoleError("this console keeps no HTTP recordings to replay")
            recording = self.recordings.for_replay(replay, job.id, job.name)
        if dry_run:
            trigger = DRY_RUN_TRIGGER
        if attempts is None:
            attempts = job.retries + 1 if trigger == "schedule" else 1
        lease_held = lease_held or run is not None
        if run is None:  # the lease, the run and the job's last run: one transaction
            with self.runs.store.write() as conn:
                run = self.runs.begin_in(
                    conn,
                    job,
                    trigger,
                    self.owner,
                    take_lease=not lease_held,
                    attempt=attempt,
                    attempts=attempts,
                )
                if run is not None:
                    self.jobs.mark_started_in(conn, job.id, run.started_at)
            if run is None:
                raise ConsoleError(
                    f"{job.name} is running already; wait for it to finish or cancel it"
                )
        ended: Run | None = None
        try:
            try:
                if on_started is not None:
                    on_started(run)
                extra = {"replay": recording, "debug": debug, "on_debug": on_debug}
                ended = self._run(job, run, on_line, cancel or Cancel(), note, inputs, extra)
                return ended
            except RunSpooledError:
                raise  # its end is in the spool already
            except BaseException as e:
                # Never leave a run "running" behind, whatever went wrong here.
                self._finish(run, "failed", f"the console failed: {type(e).__name__}", 0)
                raise
        finally:
            if ended is None:  # else its end released the lease
                self._release(job)

    def diff(self, run_id: int) -> DryRunDiff:
        """What the dry run `run_id` of this runner would have written (taken
        once: the runner keeps no diff past this)."""
        return self._diffs.pop(run_id, DryRunDiff())

    def replay_spool(self) -> int:
        """Store runs' logs that were spooled while the database was away."""
        return 0 if self.spool is None else self.spool.replay(self.runs.store)

    def _finish(self, run: Run, status: str, error: str | None, rows: int) -> str | None:
        """Record the run's end; when the database cannot take it, keep it in
        the spool and return why."""
        try:
            self.runs.finish(run.id, status, error, rows)
            return None
        except (SQLAlchemyError, OSError) as e:
            if self.spool is None:
                raise
            try:
                self.spool.add_finish(
                    run.id, run.job_id, self.owner, status, error, rows, self.clock()
                )
            except OSError as spool_error:
                raise DatabaseUnavailableError(
                    f"the run of {run.job_name} {status}, but neither the database "
                    f"({faults.describe(e)}) nor the spool ({faults.describe(spool_error)}) "
                    "could record it"
                ) from None
            return faults.describe(e)

    def _run(
        self,
        job: Job,
        run: Run,
        on_line: LineCallback | None,
        cancel: threading.Event,
        note: str | None,
        inputs: RunInputs | None,
        extra: dict[str, Any] | None = None,
    ) -> Run:
        extra = extra or {}
        recording: Recording | None = extra.get("replay")
        config: ResolvedConfig
        try:  # only the settings it may see
            config = (inputs.config if inputs else self.app_settings.resolve)(job.name)
        except Exception as e:  # the database is gone, say: fail the run, not the caller
            config = ResolvedConfig(unavailable={"*": str(e)})
        limits = inputs.limits if inputs else self.settings.all()
        writer = LogWriter(
            self.runs,
            run,
            Masker(config.secret_values),
            on_line,
            limits["run_log_max_lines"],
            limits["run_log_max_bytes"],
            self.clock,
            self.spool,
        )
        attempt = f", attempt {run.attempt} of {run.attempts}" if run.attempts > 1 else ""
        writer.add("information", f"Run started ({run.trigger}{attempt})", always=True)
        if note:
            writer.add("warning", note, always=True)
        for i, line in enumerate(replay_notes(recording) if recording else []):
            writer.add("warning" if i else "information", line, always=True)
        started = time.monotonic()
        payload = {
            "job": job.name,
            "run_id": run.id,
            "script": job.script,
            "db_url": self.db_url,
            "memory_bytes": job.memory_mb * 1024 * 1024,
            "language": job.language,
            "timeout_s": job.timeout_s,
            **config.payload(),
            **http_payload(limits, recording),
            "debug": extra.get("debug"),
        }
        collector = Collector(int(limits.get("record_http_run_bytes", 0)))
        diff: DryRunDiff | None = None
        if run.trigger == DRY_RUN_TRIGGER:
            payload["dry_run"] = True
            diff = self._diffs[run.id] = DryRunDiff()
        status, error, rows = "failed", None, 0
        try:
            if inputs is not None:
                payload["redirects"], payload["tables"] = inputs.redirects, inputs.tables
            else:
                payload["redirects"] = self.redirects.pairs() if self.redirects else []
                payload["tables"] = self._known_tables()
            # A dry run holds its one transaction in the child, as before.
            link = self._table_link() if diff is None else None
            offered = link.offer(run.id, payload["tables"]) if link else None
            payload["table_link"] = offered
            try:
                child = self._child(job.id).send(payload)
                # Stopped, it writes nothing more: an operation under way stops too.
                stop = (lambda: link.stop(offered)) if link and offered else (lambda: None)
                status, error, rows = self._supervise(
                    child, job, run, writer, cancel, collector, extra.get("on_debug"), diff, stop
                )
            finally:
                if link is not None and offered is not None:
                    link.finish(offered)  # an operation under way ends before the run does
        except Exception as e:
            error = f"could not run the job: {type(e).__name__}: {e}"
        elapsed = format_seconds(time.monotonic() - started)
        final = {
            "succeeded": ("information", f"Run succeeded in {elapsed}"),
            "cancelled": ("warning", "Run cancelled"),
            "interrupted": ("warning", f"Run {error}"),
            "timed out": ("error", f"Run {error}"),
        }.get(status, ("error", f"Run failed: {error}"))
        writer.note_dropped()
        writer.add(*final, always=True)
        masked_error = Masker(config.secret_values)(error) if error else None
        if writer.spooled is None:  # the usual case: the end in one transaction
            lines = writer.take()
            try:
                ended = self.runs.end(run, status, masked_error, rows, lines, self.owner)
                self._keep_recording(run, collector)
                return ended
            except (SQLAlchemyError, OSError) as e:
                if self.spool is None:
                    raise
                writer.spooled = faults.describe(e)  # the spool takes the end instead
                writer.put_back(lines)
        spooled = writer.flush()
        unstored = self._finish(run, status, masked_error, rows) or spooled
        if unstored is not None:
            assert self.spool is not None
            raise RunSpooledError(
                f"the run of {job.name} {status}, but {unstored}; its log is kept in "
                f"{self.spool.path} and is stored when the database is back"
            )
        self._release(job)  # the database is back: let go of the job now
        self._keep_recording(run, collector)
        return self.runs.get(run.id)

    def _keep_recording(self, run: Run, collector: Collector) -> None:
        if self.recordings is None or not collector.exchanges:
            return
        try:
            self.recordings.save(run.id, collector.exchanges)
        except (SQLAlchemyError, OSError):
            pass  # the run and its log are stored; only its HTTP recording is lost

    def _release(self, job: Job) -> None:
        try:
            self.runs.release(job.id, self.owner)
        except SQLAlchemyError:
            pass  # the lease lapses on its own; the spool's replay frees it sooner

    def _supervise(
        self,
        child: HostProcess,
        job: Job,
        run: Run,
        writer: LogWriter,
        cancel: threading.Event,
        collector: Collector,
        on_debug: Callable[[dict[str, Any]], None] | None = None,
        diff: DryRunDiff | None = None,
        on_stop: Callable[[], None] = lambda: None,
    ) -> tuple[str, str | None, int]:
        """`on_stop`: called as the run is stopped (timed out, cancelled)."""
        proc = child.proc
        assert proc.stdout is not None and proc.stderr is not None
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ, "protocol")
        selector.register(proc.stderr, selectors.EVENT_READ, "raw")
        # A JSON line of the protocol holds one message of at most 64 K
        # characters (script_api); a raw line is whatever the script wrote.
        readers = {"protocol": BoundedLines(PROTOCOL_LINE), "raw": BoundedLines(RAW_LINE)}
        done: dict[str, Any] | None = None
        rows = 0
        # Stopped on time even while this loop waits on the database.
        stopper = RunStopper(child.signal_group, job.timeout_s, self.grace_s, cancel, on_stop)
        next_heartbeat = time.monotonic() + HEARTBEAT_S
        exited_at: float | None = None
        # A dry run on SQLite holds the write lock until it ends: writing its
        # log or heartbeat meanwhile would only wait on it (the log is kept
        # in memory, within its caps, and stored at the end).
        hold_writes = diff is not None and self.runs.store.dialect == "sqlite"
        if hold_writes:
            self.holding = job.name

        logged: list[tuple[str, str]] = []  # the log lines of one read, masked as a batch

        def handle(kind: str, raw_line: bytes) -> None:
            nonlocal done, rows
            text = raw_line.decode("utf-8", "replace").rstrip("\r")
            if kind == "raw":
                if text.strip():
                    logged.append(("warning", text))
                return
            try:
                message = json.loads(text)
            except ValueError:
                logged.append(("warning", text))
                return
            if message.get("t") == "log":
                logged.append(
                    (str(message.get("level", "information")), str(message.get("msg", "")))
                )
            elif message.get("t") == "rows":
                rows += int(message.get("n", 0))
            elif message.get("t") == "http" and isinstance(message.get("x"), dict):
                collector.add(message["x"])
            elif message.get("t") == "debug" and on_debug is not None:
                on_debug(message)
            elif message.get("t") == "paused":  # the timeout holds while it is paused
                stopper.pause(bool(message.get("paused")))
            elif message.get("t") == "done":
                done = message
            elif message.get("t") == "direct" and self._forks is not None:
                self._forks.direct.add(job.id)  # its next runs load the table layer ahead
            elif diff is not None:
                diff.take(message)

        selector_map = selector.get_map()
        try:
            while selector_map:
                now = time.monotonic()
                if now >= next_heartbeat and not hold_writes:
                    next_heartbeat = now + HEARTBEAT_S
                    try:
                        if not self.runs.heartbeat(job.id, self.owner, run.id, rows):
                            stopper.interrupt(TAKEN)  # another may run the job now: not twice
                    except SQLAlchemyError:
                        pass  # the run goes on; its log goes to the spool meanwhile
                if exited_at is None and proc.poll() is not None:
                    exited_at = now
                if exited_at is not None and now - exited_at > 1.0:
                    break  # something it started still holds the pipes
                for key, _ in selector.select(timeout=0.1):
                    data = os.read(key.fd, 65536)
                    kind = key.data
                    lines = readers[kind].feed(data) if data else readers[kind].end()
                    if not data:
                        selector.unregister(key.fileobj)
                    for line in lines:
                        handle(kind, line)
                    writer.add_many(logged)
                    logged.clear()
                if not hold_writes:
                    writer.flush_if_due()
        finally:
            if hold_writes:
                self.holding = None
            ended = not selector_map or exited_at is not None  # the pipes closed, or it exited
            selector.close()
            stopper.end()
            child.end(self.grace_s, ending=ended)  # nothing of the run outlives it
            proc.stdout.close()
            proc.stderr.close()
        status, error = outcome(job, proc.returncode, done, stopper.stopped_for)
        if done is None and stopper.stopped_for is None and getattr(proc, "status_lost", False):
            error = "ended without a word after its fork server, which held its status, died"
        return status, error, rows
