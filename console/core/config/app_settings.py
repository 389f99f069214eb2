"""App settings and secrets: plain values in the database, secret values only
in the operating system's keyring, masked wherever they could show.

The database records which settings are secret, never their values. With no
usable keyring, storing or reading a secret is refused with the reason and
the fix; there is no plaintext fallback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from console.core.config.keyring import Keyring
from console.core.config.masking import MASK, check_secret_value
from console.core.errors import ConsoleError, NotFoundError, SecretsUnavailableError
from console.core.names import check_setting_name
from console.core.store import schema
from console.core.store.changes import Change
from console.core.store.database import Store

IDENTITY = {
    "twitter_consumer_key": "Twitter consumer key",
    "twitter_consumer_secret": "Twitter consumer secret",
}


@dataclass
class ResolvedConfig:
    """What a run's script sees as `config`, resolved by the parent."""

    app_settings: dict[str, str] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)
    #: name -> why a secret could not be read (no keyring…)
    unavailable: dict[str, str] = field(default_factory=dict)

    #: the values of the secret app settings (to mask in the run's log)
    secret_app_values: list[str] = field(default_factory=list)

    @property
    def secret_values(self) -> list[str]:
        return [*self.identity.values(), *self.secret_app_values]

    def payload(self) -> dict[str, Any]:
        return {
            "app_settings": self.app_settings,
            "identity": self.identity,
            "unavailable": self.unavailable,
            "secret_values": self.secret_values,
        }


@dataclass(frozen=True)
class SettingView:
    name: str
    value: str | None
    is_secret: bool
    kind: str
    #: The jobs that see it (lower case); empty: every job, or none when `scoped`
    #: (the jobs it was given to were deleted).
    jobs: tuple[str, ...] = ()
    scoped: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "jobs", tuple(j for j in self.jobs if j))

    @property
    def shown(self) -> str:
        return MASK if self.is_secret else (self.value or "")


class AppSettings:
    """The app settings scripts read as `config.app_settings`, and the
    identity they read as `config.twitter_consumer_key/secret`."""

    def __init__(self, store: Store, keyring: Keyring) -> None:
        self.store = store
        self.keyring = keyring

    def set(
        self, name: str, value: str, *, secret: bool = False, jobs: Sequence[str] | None = None
    ) -> None:
        """Set an app setting; `jobs`: only those jobs see it (None: every job)."""
        check_setting_name(name)
        scope = self._scope(jobs)
        if name in IDENTITY:
            raise ConsoleError(f"{name} is the {IDENTITY[name]}: set it with `identity twitter`")
        if not isinstance(value, str):
            raise ConsoleError("a setting's value must be text")
        if secret:
            check_secret_value(name, value)
            self.keyring.set(name, value)  # refused before anything is written
        with self.store.write() as conn:
            before = self._row(conn, name, "app")
            self._put(conn, name, None if secret else value, secret, "app", scope)
            self.store.announce(conn, Change("settings", name))
        if not secret and before is not None and before.is_secret:
            self._forget_secret(name)

    def _scope(self, jobs: Sequence[str] | None) -> str | None:
        """The stored form of a scope: known job names, lower case."""
        if jobs is None:
            return None
        names = [j.strip() for j in jobs if j.strip()]
        if not names:
            raise ConsoleError("--jobs needs at least one job name (leave it out for every job)")
        with self.store.read() as conn:
            known = set(conn.execute(sa.select(schema.jobs.c.name_key)).scalars())
        missing = [n for n in names if n.lower() not in known]
        if missing:
            raise ConsoleError(f"no job named {', '.join(map(repr, missing))}")
        return ",".join(sorted({n.lower() for n in names}))

    def delete(self, name: str) -> None:
        with self.store.write() as conn:
            row = self._row(conn, name, "app")
            if row is None:
                raise NotFoundError(f"no app setting named {name!r}")
            if row.is_secret:
                self.keyring.delete(row.name)
            conn.execute(schema.app_settings.delete().where(schema.app_settings.c.name == row.name))
            self.store.announce(conn, Change("settings", row.name))

    def list(self, kind: str = "app") -> list[SettingView]:
        with self.store.read() as conn:
            rows = conn.execute(
                sa.select(schema.app_settings)
                .where(schema.app_settings.c.kind == kind)
                .order_by(schema.app_settings.c.name)
            ).all()
        return [
            SettingView(
                r.name,
                r.value,
                r.is_secret,
                r.kind,
                tuple((r.jobs or "").split(",")),
                r.jobs is not None,
            )
            for r in rows
        ]

    @staticmethod
    def forget_job_in(conn: sa.Connection, job_name: str) -> None:
        """Inside a job's deleting transaction: the job leaves every scope it
        was in, so that a new job of its name sees none of what it saw. A
        scope left empty is seen by no job."""
        table, key = schema.app_settings, job_name.lower()
        for name, scope in conn.execute(
            sa.select(table.c.name, table.c.jobs).where(table.c.jobs.is_not(None))
        ).all():
            names = scope.split(",")
            if key in names:
                kept = ",".join(n for n in names if n != key)
                conn.execute(table.update().where(table.c.name == name).values(jobs=kept))

    def set_identity(self, consumer_key: str, consumer_secret: str) -> None:
        """Store Twitter's consumer key and secret, both in the keyring."""
        for name, value in (
            ("twitter_consumer_key", consumer_key),
            ("twitter_consumer_secret", consumer_secret),
        ):
            if not value.strip():
                raise ConsoleError(f"the {IDENTITY[name]} is empty")
            check_secret_value(f"the {IDENTITY[name]}", value.strip())
        self.keyring.set("twitter_consumer_key", consumer_key.strip())
        self.keyring.set("twitter_consumer_secret", consumer_secret.strip())
        with self.store.write() as conn:
            for name in IDENTITY:
                self._put(conn, name, None, True, "identity")
            self.store.announce(conn, Change("settings", "identity"))

    def identity_is_set(self) -> bool:
        return {v.name for v in self.list("identity")} == set(IDENTITY)

    def resolve(self, job_name: str | None = None) -> ResolvedConfig:
        """Every setting's value, secrets read from the keyring; a secret that
        cannot be read is listed with the reason, for the script to report.
        For `job_name`, the settings scoped to other jobs are left out of what
        the script sees (and still masked in its log)."""
        return self.resolver()(job_name)

    def resolver(self) -> Callable[[str | None], ResolvedConfig]:
        """`resolve` for any number of jobs from one read of the settings and
        one keyring lookup per secret: the scheduler starts the runs of one
        instant with it."""
        with self.store.read() as conn:
            rows = conn.execute(sa.select(schema.app_settings)).all()
        secrets: dict[str, str | SecretsUnavailableError | None] = {}

        def secret(name: str) -> str | SecretsUnavailableError | None:
            if name not in secrets:
                try:
                    secrets[name] = self.keyring.get(name)
                except SecretsUnavailableError as e:
                    secrets[name] = e
            return secrets[name]

        def resolve(job_name: str | None) -> ResolvedConfig:
            resolved = ResolvedConfig()
            for row in rows:
                hidden = (
                    job_name is not None
                    and row.jobs is not None
                    and job_name.lower() not in row.jobs.split(",")
                )
                value = secret(row.name) if row.is_secret else None
                if hidden:
                    # masked all the same, should it reach the log another way
                    if isinstance(value, str) and value:
                        resolved.secret_app_values.append(value)
                    continue
                target = resolved.identity if row.kind == "identity" else resolved.app_settings
                if not row.is_secret:
                    target[row.name] = row.value or ""
                elif isinstance(value, SecretsUnavailableError):
                    resolved.unavailable[row.name] = str(value)
                elif value is None:
                    resolved.unavailable[row.name] = (
                        f"the keyring ({self.keyring.backend_name}) holds no value for "
                        f"{row.name}; set it again"
                    )
                else:
                    target[row.name] = value
                    if row.kind == "app":
                        resolved.secret_app_values.append(value)
            return resolved

        return resolve

    def _forget_secret(self, name: str) -> None:
        try:
            self.keyring.delete(name)
        except SecretsUnavailableError:
            pass  # nothing can be there when there is no keyring

    @staticmethod
    def _row(conn: sa.Connection, name: str, kind: str) -> Any:
        return conn.execute(
            sa.select(schema.app_settings).where(
                schema.app_settings.c.name == name, schema.app_settings.c.kind == kind
            )
        ).one_or_none()

    @staticmethod
    def _put(
        conn: sa.Connection,
        name: str,
        value: str | None,
        secret: bool,
        kind: str,
        jobs: str | None = None,
    ) -> None:
        table = schema.app_settings
        values = {"value": value, "is_secret": secret, "kind": kind, "jobs": jobs}
        updated = conn.execute(table.update().where(table.c.name == name).values(**values)).rowcount
        if not updated:
            conn.execute(table.insert().values(name=name, **values))
