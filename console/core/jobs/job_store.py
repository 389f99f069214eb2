"""Scheduled jobs, as in the portal: a name, a schedule, a script.

New jobs are created disabled; enabling one goes through the tier limit. This
module is the only writer of the `jobs` table: the scheduler claims a tick and
the runner marks a start through `JobStore`.

Over 500 lines: the job's record and every check of its fields (schedule,
limits, retries, time zone, script) in one place; its script versions are
`versions`, reached through three small methods here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import sqlalchemy as sa

from console.core.clock import Clock, utcnow
from console.core.config.app_settings import AppSettings
from console.core.config.settings import JOB_MEMORY, JOB_TIMEOUT, TIER_LIMITS, Settings
from console.core.errors import ConflictError, ConsoleError, NotFoundError
from console.core.jobs import timing
from console.core.jobs import versions as script_versions
from console.core.jobs.retry_policy import DEFAULT_DELAY_S, check_retries, check_retry_delay
from console.core.jobs.runs import RunLog
from console.core.names import check_identifier
from console.core.resources import resource
from console.core.store import schema
from console.core.store.changes import Change
from console.core.store.database import Store

UNITS = ("minute", "hour", "day", "month", "none")
DEFAULT_TIMEOUT_S: int = JOB_TIMEOUT.default
DEFAULT_MEMORY_MB: int = JOB_MEMORY.default
LANGUAGES = ("python", "javascript")
#: A template's file suffix says its language.
SUFFIXES = {".py": "python", ".js": "javascript"}
MAX_SCRIPT_BYTES = 1_000_000
MAX_INTERVAL = 1_000_000


@dataclass(frozen=True)
class Job:
    id: int
    name: str
    interval: int
    unit: str
    start_at: datetime
    enabled: bool
    script: str
    timeout_s: int
    memory_mb: int
    created_at: datetime
    updated_at: datetime
    last_run_at: datetime | None
    next_run_at: datetime | None
    retries: int = 0
    retry_delay_s: int = DEFAULT_DELAY_S
    #: The IANA zone its days and months count in; None: this machine's.
    timezone: str | None = None
    language: str = "python"

    @property
    def zone(self) -> tzinfo:
        return timing.zone(self.timezone)

    @property
    def zone_text(self) -> str:
        return self.timezone or "this machine's"

    def next_fire(self, after: datetime) -> datetime | None:
        """Its first run time after `after`, in its own zone."""
        return timing.next_fire(self.start_at, self.interval, self.unit, after, self.zone)

    @property
    def schedule_text(self) -> str:
        if self.unit == "none":
            return "on demand"
        unit = self.unit if self.interval == 1 else self.unit + "s"
        return f"every {self.interval} {unit}"


def placeholder_script(name: str, language: str = "python") -> str:
    """A new job's script: an empty function named after the job, as in the portal."""
    if language == "javascript":
        return (
            f"function {name}() {{\n"
            f'    console.warn("You are running an empty scheduled job. '
            f"Update the script for job '{name}' or disable the job.\");\n"
            "}\n"
        )
    return (
        f"def {name}():\n"
        f'    console.warn("You are running an empty scheduled job. '
        f"Update the script for job '{name}' or disable the job.\")\n"
    )


def _templates() -> dict[str, str]:
    """Template name -> file name; `getUpdates-js` is `getUpdates-js.js`."""
    folder = resource("templates")
    return {p.stem: p.name for p in folder.iterdir() if p.suffix in SUFFIXES}


def template_names() -> list[str]:
    return sorted(_templates())


def template_language(name: str) -> str:
    """The language a template is written in (its file's suffix says)."""
    file = _templates().get(name, ".py")
    return SUFFIXES[file[file.rfind(".") :]]


def language_of_file(path: str) -> str:
    """The language a script file's extension picks: `.js` JavaScript, else Python."""
    return "javascript" if path.lower().endswith((".js", ".mjs", ".cjs")) else "python"


def load_template(name: str, job_name: str | None = None) -> str:
    """A template's script; its entry function renamed after `job_name`.
    A template's entry function is its name without `-js`."""
    files = _templates()
    if name not in files:
        raise ConsoleError(
            f"no template {name!r}; templates: {', '.join(template_names()) or 'none'}"
        )
    text = resource("templates", files[name]).read_text("utf-8")
    entry = name.removesuffix("-js")
    if job_name and job_name != entry:
        keyword = "function" if template_language(name) == "javascript" else "def"
        text = re.sub(
            rf"^{keyword} {re.escape(entry)}\(", f"{keyword} {job_name}(", text, flags=re.M
        )
    return text


def check_language(language: object) -> str:
    if language not in LANGUAGES:
        raise ConsoleError(f"the language must be python or javascript, not {language!r}")
    return str(language)


def check_script(script: object, language: str = "python") -> str:
    """The script if it compiles (Python, or JavaScript by the engine's own
    compile step) and is at most 1 MB."""
    if not isinstance(script, str):
        raise ConsoleError("a script must be text")
    size = len(script.encode("utf-8", "surrogatepass"))
    if size > MAX_SCRIPT_BYTES:
        raise ConsoleError(f"the script is {size:,} bytes; at most {MAX_SCRIPT_BYTES:,}")
    if language == "javascript":
        from console.core.jobs.js_syntax import javascript_syntax_error

        problem = javascript_syntax_error(script)
        if problem is not None:
            raise ConsoleError(f"syntax error on line {problem.line}: {problem.message}")
        return script
    try:
        compile(script, "<script>", "exec", dont_inherit=True)
    except SyntaxError as e:
        raise ConsoleError(f"syntax error on line {e.lineno}: {e.msg}") from None
    except ValueError as e:  # e.g. a NUL byte in the source
        raise ConsoleError(f"the script cannot be compiled: {e}") from None
    return script


def _check_int(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            raise ConsoleError(f"{what} must be a whole number, not {value!r}") from None
    if not low <= value <= high:
        raise ConsoleError(f"{what} must be from {low:,} to {high:,}, not {value:,}")
    return value


#: The longest interval of each unit: about a century (a calendar cannot
#: count further without leaving the years a date can hold).
MAX_INTERVAL_OF = {"minute": MAX_INTERVAL, "hour": 876_000, "day": 36_500, "month": 1_200}
#: Start times a schedule can count from and show in any time zone.
EARLIEST_START = datetime(1970, 1, 2, tzinfo=UTC)
LATEST_START = datetime(9000, 1, 1, tzinfo=UTC)


def check_schedule(interval: object, unit: object) -> tuple[int, str]:
    if unit not in UNITS:
        raise ConsoleError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    limit = MAX_INTERVAL_OF.get(str(unit), MAX_INTERVAL)
    return _check_int(interval, f"the interval (in {unit}s)", 1, limit), str(unit)


def check_start(start_at: datetime | None) -> datetime | None:
    """A start time within the years a schedule can count and show."""
    if start_at is not None and not EARLIEST_START <= start_at <= LATEST_START:
        raise ConsoleError(
            f"the start time {start_at.isoformat()} is out of range: give one from "
            f"{EARLIEST_START:%Y} to {LATEST_START:%Y}"
        )
    return start_at


class JobStore:
    """The jobs of one database."""

    def __init__(self, store: Store, settings: Settings, clock: Clock = utcnow) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock

    def create(
        self,
        name: str,
        *,
        interval: object = 1,
        unit: object = "hour",
        start_at: datetime | None = None,
        timeout_s: object = DEFAULT_TIMEOUT_S,
        memory_mb: object = DEFAULT_MEMORY_MB,
        script: str | None = None,
        template: str | None = None,
        retries: object = 0,
        retry_delay_s: object = DEFAULT_DELAY_S,
        timezone: str | None = None,
        language: str | None = None,
    ) -> Job:
        """A new, disabled job; its days and months count in `timezone`
        (default this machine's zone, stored with the job). Its language is
        `language`, else its template's, else Python."""
        check_identifier(name, "job")
        zone_name = timing.local_zone_name() if timezone is None else check_zone_name(timezone)
        interval, unit = check_schedule(interval, unit)
        check_start(start_at)
        timeout = JOB_TIMEOUT.check(timeout_s, "the timeout (seconds)")
        memory = JOB_MEMORY.check(memory_mb, "the memory limit (MB)")
        retry_count, retry_delay = check_retries(retries), check_retry_delay(retry_delay_s)
        if script is not None and template is not None:
            raise ConsoleError("give a script or a template, not both")
        if template is not None:
            script = load_template(template, name)
            language = language or template_language(template)
        language = check_language(language or "python")
        text = check_script(
            placeholder_script(name, language) if script is None else script, language
        )
        now = self.clock()
        with self.store.write() as conn:
            clash = conn.execute(
                sa.select(schema.jobs.c.name).where(schema.jobs.c.name_key == name.lower())
            ).scalar()
            if clash is not None:
                raise ConsoleError(f"a job named {clash!r} already exists")
            job_id = conn.execute(
                schema.jobs.insert()
                .values(
                    name=name,
                    name_key=name.lower(),
                    interval=interval,
                    unit=unit,
                    start_at=start_at or now,
                    enabled=False,
                    script=text,
                    timeout_s=timeout,
                    memory_mb=memory,
                    retries=retry_count,
                    retry_delay_s=retry_delay,
                    language=language,
                    created_at=now,
                    updated_at=now,
                    timezone=zone_name,
                )
                .returning(schema.jobs.c.id)
            ).scalar_one()
            RunLog.add_lease_in(conn, job_id)
            self.store.announce(conn, Change("jobs", name))
        return self.get(name)

    def get(self, name: str) -> Job:
        with self.store.read() as conn:
            return self.get_in(conn, name)

    @staticmethod
    def get_in(conn: sa.Connection, name: str) -> Job:
        row = conn.execute(
            sa.select(schema.jobs).where(schema.jobs.c.name_key == str(name).lower())
        ).one_or_none()
        if row is None:
            raise NotFoundError(f"no job named {name!r}")
        return _job(row._mapping)

    def get_by_id(self, job_id: int) -> Job | None:
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(schema.jobs).where(schema.jobs.c.id == job_id)
            ).one_or_none()
        return None if row is None else _job(row._mapping)

    def all(self) -> list[Job]:
        with self.store.read() as conn:
            rows = conn.execute(sa.select(schema.jobs).order_by(schema.jobs.c.name_key)).all()
        return [_job(r._mapping) for r in rows]

    def set_script(self, name: str, script: str, *, base: Job | None = None) -> Job:
        """Save a script; one that does not compile (in the job's language) is
        refused and the old kept. `base`: the job as the editor opened it; a
        script changed elsewhere since is a ConflictError, and nothing saved."""
        check_script(script, self.get(name).language)
        return self._change(name, base, script=script)

    def configure(
        self,
        name: str,
        *,
        interval: object | None = None,
        unit: object | None = None,
        start_at: datetime | None = None,
        timeout_s: object | None = None,
        memory_mb: object | None = None,
        retries: object | None = None,
        retry_delay_s: object | None = None,
        timezone: str | None = None,
        script: str | None = None,
        base: Job | None = None,
    ) -> Job:
        """Change the job's schedule, limits and (the window's Save) script,
        in one write; `base` as in `set_script`."""
        job = self.get(name)
        values: dict[str, Any] = {}
        if script is not None:
            values["script"] = check_script(script, job.language)
        if interval is not None or unit is not None:
            values["interval"], values["unit"] = check_schedule(
                job.interval if interval is None else interval, unit or job.unit
            )
        if start_at is not None:
            values["start_at"] = check_start(start_at)
        if timeout_s is not None:
            values["timeout_s"] = JOB_TIMEOUT.check(timeout_s, "the timeout (seconds)")
        if memory_mb is not None:
            values["memory_mb"] = JOB_MEMORY.check(memory_mb, "the memory limit (MB)")
        if retries is not None:
            values["retries"] = check_retries(retries)
        if retry_delay_s is not None:
            values["retry_delay_s"] = check_retry_delay(retry_delay_s)
        if timezone is not None:
            values["timezone"] = check_zone_name(timezone)
        return self._change(name, base, **values)

    def delete(self, name: str) -> None:
        """Delete a job, its runs and its log; refused while it runs."""
        job = self.get(name)
        with self.store.write() as conn:
            holder = RunLog.live_holder_in(conn, job.id, self.clock())
            if holder is not None:
                raise ConsoleError(
                    f"{job.name} is running ({holder}); cancel the run or wait for it "
                    "to end, then delete the job"
                )
            RunLog.forget_job_in(conn, job.name)
            AppSettings.forget_job_in(conn, job.name)
            conn.execute(schema.jobs.delete().where(schema.jobs.c.id == job.id))
            self.store.announce(conn, Change("jobs", job.name), Change("runs", job.name))

    def enable(self, name: str) -> Job:
        """Enable a job within the tier's limit of enabled jobs."""
        with self.store.write() as conn:
            job = self.get_in(conn, name)
            if job.unit == "none":
                raise ConsoleError(f"{job.name} runs on demand only (unit none); use Run Once")
            if not job.enabled:
                tier = Settings.read_in(conn, "tier")
                enabled = self.enabled_names(conn)
                limit = TIER_LIMITS[tier]
                if limit is not None and len(enabled) >= limit:
                    raise ConsoleError(
                        f"the {tier} tier allows {limit} enabled job{'s' * (limit != 1)}; "
                        f"enabled now: {', '.join(enabled)}. Disable one or raise the tier"
                    )
            if job.enabled:
                # Nothing to write: writing back the next run read above
                # could undo a claim committed since, and run its tick twice.
                return job
            now = self.clock()
            conn.execute(
                schema.jobs.update()
                .where(schema.jobs.c.id == job.id)
                .values(enabled=True, updated_at=now, next_run_at=job.next_fire(now))
            )
            self.store.announce(conn, Change("jobs", job.name))
        return self.get(name)

    def disable(self, name: str) -> Job:
        return self._change(name, enabled=False, next_run_at=None)

    def enabled(self) -> list[str]:
        """The names of the enabled jobs."""
        with self.store.read() as conn:
            return self.enabled_names(conn)

    @staticmethod
    def enabled_names(conn: sa.Connection) -> list[str]:
        return list(
            conn.execute(
                sa.select(schema.jobs.c.name)
                .where(schema.jobs.c.enabled.is_(True))
                .order_by(schema.jobs.c.name_key)
            ).scalars()
        )

    def set_tier(self, tier: object) -> str:
        """Change the tier; refused when more jobs are enabled than it allows."""

        def guard(conn: sa.Connection, value: Any) -> None:
            limit = TIER_LIMITS[value]
            enabled = self.enabled_names(conn)
            if limit is not None and len(enabled) > limit:
                raise ConsoleError(
                    f"the {value} tier allows {limit} enabled job{'s' * (limit != 1)}, "
                    f"but {len(enabled)} are enabled ({', '.join(enabled)}); disable some first"
                )

        return str(self.settings.set("tier", tier, guard=guard))

    def _change(self, name: str, base: Job | None = None, **values: Any) -> Job:
        with self.store.write() as conn:
            job = self.get_in(conn, name)
            if base is not None:
                _refuse_lost_updates(job, base, values)
            now = self.clock()
            values["updated_at"] = now
            merged = Job(**{**job.__dict__, **values})
            schedule_changed = any(
                k in values for k in ("interval", "unit", "start_at", "timezone")
            )
            if job.enabled and schedule_changed:
                if merged.unit == "none":
                    values["enabled"] = False
                    values["next_run_at"] = None
                else:
                    values["next_run_at"] = merged.next_fire(now)
            if "script" in values and values["script"] != job.script:  # a Save keeps the old
                script_versions.keep(
                    conn, job.id, job.script, job.updated_at, values["script"], now
                )
            conn.execute(schema.jobs.update().where(schema.jobs.c.id == job.id).values(**values))
            self.store.announce(conn, Change("jobs", job.name))
            return self.get_in(conn, name)

    def versions(self, name: str) -> list[script_versions.ScriptVersion]:
        """Every saved script of the job, oldest first."""
        with self.store.read() as conn:
            job = self.get_in(conn, name)
            return script_versions.all_versions(conn, job.id, job.script, job.updated_at)

    def version_ran(
        self, name: str, at: datetime, recorded: int | None = None
    ) -> tuple[script_versions.ScriptVersion, script_versions.ScriptVersion]:
        """The script version a run of the job ran (`recorded` on the run;
        for a run from before that, the newest saved by its start `at`),
        and the current one."""
        kept = self.versions(name)
        used = next((v for v in kept if v.version == recorded), None)
        return used or script_versions.ran_at(kept, at), kept[-1]

    def script_version(self, name: str, n: int) -> script_versions.ScriptVersion:
        with self.store.read() as conn:
            job = self.get_in(conn, name)
            return script_versions.one(conn, job.id, job.name, job.script, job.updated_at, n)

    def mark_started_in(self, conn: sa.Connection, job_id: int, at: datetime) -> None:
        """Record a run's start as the job's last run, in the caller's
        transaction (the runner's, which records the run too)."""
        conn.execute(schema.jobs.update().where(schema.jobs.c.id == job_id).values(last_run_at=at))
        self.store.announce(conn, Change("jobs"))

    @staticmethod
    def lock_in(conn: sa.Connection, job_ids: Collection[int]) -> list[Job]:
        """The jobs, locked for this transaction; on PostgreSQL a job another
        instance is claiming at this moment is left out, not waited for
        (SQLite's write lock serialises claims anyway)."""
        rows = conn.execute(
            sa.select(schema.jobs)
            .where(schema.jobs.c.id.in_(list(job_ids)))
            .with_for_update(skip_locked=True)
        ).all()
        return [_job(row._mapping) for row in rows]

    @staticmethod
    def advance_in(
        conn: sa.Connection, moves: Sequence[tuple[int, datetime, datetime | None, datetime | None]]
    ) -> None:
        """Move each job (id, due, following, started) on from its due tick to
        the following one, inside the caller's claim; `started`: the run it
        starts now (its last run), None for a tick skipped."""
        jobs = schema.jobs
        for started in (True, False):
            params = [
                {"i": i, "d": due, "f": following, "s": at}
                for i, due, following, at in moves
                if (at is not None) == started
            ]
            if not params:
                continue
            values: dict[str, Any] = {"next_run_at": sa.bindparam("f")}
            if started:
                values["last_run_at"] = sa.bindparam("s")
            moved = conn.execute(
                jobs.update()
                .where(jobs.c.id == sa.bindparam("i"), jobs.c.next_run_at == sa.bindparam("d"))
                .values(values),
                params,
            ).rowcount
            if conn.dialect.supports_sane_multi_rowcount and moved != len(params):
                # The rows were locked and read as due: only a database that
                # let another claim through could get here. Win nothing.
                raise ClaimConflictError(f"{len(params) - moved} of the ticks moved meanwhile")


class ClaimConflictError(RuntimeError):
    """A claim found a tick moved on under its lock; it is rolled back."""


def check_zone_name(name: object) -> str:
    """`name` if it is an IANA time zone name, else a ConsoleError."""
    return str(timing.check_zone(name).key)


def _job(row: Any) -> Job:
    return Job(**{f: row[f] for f in Job.__dataclass_fields__})


def _refuse_lost_updates(stored: Job, base: Job, values: dict[str, Any]) -> None:
    """A field someone else changed since `base` was read, to a value other
    than the one being saved: a ConflictError naming them, nothing saved."""
    theirs = [
        key.replace("_", " ")
        for key, value in values.items()
        if getattr(stored, key) != getattr(base, key) and getattr(stored, key) != value
    ]
    if theirs:
        raise ConflictError(
            f"{stored.name} was changed elsewhere since you opened it ({', '.join(theirs)}); "
            "yours is not saved: Save again to replace theirs (a script replaced is kept "
            "in the job's versions), or reopen the job to see theirs"
        )
