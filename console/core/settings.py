"""The console's own settings, each declared once with its type, default and
help; validation, the CLI, and the Configure page derive from `SETTINGS`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from console.core import schema
from console.core.errors import ConsoleError, NotFoundError
from console.core.store import Store

if TYPE_CHECKING:
    from console.core.secrets import Keyring

TIER_LIMITS: dict[str, int | None] = {"free": 1, "standard": 10, "unlimited": None}
_TRUE, _FALSE = ("true", "on", "yes", "1"), ("false", "off", "no", "0")


def check_http_url(key: str, value: str) -> str:
    """An http(s) URL with a host, or "" (none)."""
    value = value.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        # The value may be a credential: never echoed.
        raise ConsoleError(f"{key} must be an http:// or https:// URL with a host")
    return value


@dataclass(frozen=True)
class SettingSpec:
    """One console setting."""

    key: str
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    #: Kept in the OS keyring, never in the database or a log.
    secret: bool = False
    #: "url": an http(s) URL (or empty, for none).
    format: str | None = None

    def check(self, value: Any) -> Any:
        if self.type is bool:
            if isinstance(value, bool):
                return value
            word = str(value).strip().lower()
            if word not in _TRUE + _FALSE:
                raise ConsoleError(f"{self.key} must be true or false, not {value!r}")
            return word in _TRUE
        if self.format == "url":
            return check_http_url(self.key, str(value))
        if self.type is int:
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise ConsoleError(f"{self.key} must be a whole number, not {value!r}") from None
            if self.minimum is not None and value < self.minimum:
                raise ConsoleError(f"{self.key} must be at least {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                raise ConsoleError(f"{self.key} must be at most {self.maximum}")
        elif self.type is str:
            value = str(value).strip().lower() if self.choices else str(value)
            if self.choices and value not in self.choices:
                raise ConsoleError(f"{self.key} must be one of {', '.join(self.choices)}")
        return value


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "tier",
        str,
        "unlimited",
        "How many jobs may be enabled at once: free 1, standard 10, unlimited.",
        choices=tuple(TIER_LIMITS),
    ),
    SettingSpec(
        "log_retention_days",
        int,
        30,
        "Log entries and runs older than this many days are removed.",
        minimum=1,
        maximum=3650,
    ),
    SettingSpec(
        "run_log_max_lines",
        int,
        10_000,
        "Lines kept of one run's log; the rest are counted and dropped.",
        minimum=100,
        maximum=1_000_000,
    ),
    SettingSpec(
        "run_log_max_bytes",
        int,
        1_000_000,
        "Bytes kept of one run's log; the rest are counted and dropped.",
        minimum=10_000,
        maximum=100_000_000,
    ),
    SettingSpec(
        "failure_webhook",
        str,
        "",
        "A URL that gets a JSON POST when a scheduled run fails and when its job recovers "
        "(a secret: Slack and Teams hook URLs are credentials).",
        secret=True,
        format="url",
    ),
    SettingSpec(
        "tray",
        bool,
        True,
        "Closing the window keeps the enabled jobs running from the system tray.",
    ),
)
SPECS = {s.key: s for s in SETTINGS}


class Settings:
    """Reads and writes the console settings of one database."""

    def __init__(self, store: Store, keyring: Keyring | None = None) -> None:
        self.store = store
        self.keyring = keyring

    def get(self, key: str) -> Any:
        spec = self._spec(key)
        if spec.secret:
            return self._secret(key) if self.is_set(key) else spec.default
        with self.store.read() as conn:
            raw = conn.execute(
                sa.select(schema.settings.c.value).where(schema.settings.c.key == key)
            ).scalar()
        return spec.default if raw is None else json.loads(raw)

    def all(self) -> dict[str, Any]:
        """Every setting's value; a secret one masked when set, else its
        default (so this never needs the keyring; `get` reads it)."""
        from console.core.secrets import MASK

        with self.store.read() as conn:
            rows = conn.execute(sa.select(schema.settings.c.key, schema.settings.c.value)).all()
        stored = {key: value for key, value in rows}
        return {
            s.key: (MASK if s.secret else json.loads(stored[s.key]))
            if s.key in stored
            else s.default
            for s in SETTINGS
        }

    def is_set(self, key: str) -> bool:
        """Whether a value is stored (for a secret: without asking the keyring)."""
        self._spec(key)
        with self.store.read() as conn:
            return (
                conn.execute(
                    sa.select(schema.settings.c.value).where(schema.settings.c.key == key)
                ).scalar()
                is not None
            )

    def _secret(self, key: str) -> Any:
        if self.keyring is None:
            raise ConsoleError(f"{key} is kept in the OS keyring, and none is open")
        return self.keyring.get(f"console:{key}") or ""

    def _set_secret(self, key: str, value: Any) -> Any:
        if self.keyring is None:
            raise ConsoleError(f"{key} is kept in the OS keyring, and none is open")
        name = f"console:{key}"
        if value:
            self.keyring.set(name, value)  # first: a refusing keyring changes nothing
            with self.store.write() as conn:
                self.put(conn, key, None)  # only *that* it is set; the value is not here
        else:
            with self.store.write() as conn:
                conn.execute(schema.settings.delete().where(schema.settings.c.key == key))
            self.keyring.delete(name)
        return value

    def set(self, key: str, value: Any, *, guard: Callable[[Any, Any], None] | None = None) -> Any:
        """Store a checked value; `guard(conn, value)` may refuse it inside the
        same transaction (the tier limit checks the enabled jobs there)."""
        spec = self._spec(key)
        value = spec.check(value)
        if spec.secret:
            return self._set_secret(key, value)
        with self.store.write() as conn:
            if guard is not None:
                guard(conn, value)
            self.put(conn, key, value)
        return value

    @staticmethod
    def put(conn: sa.Connection, key: str, value: Any) -> None:
        raw = json.dumps(value)
        updated = conn.execute(
            schema.settings.update().where(schema.settings.c.key == key).values(value=raw)
        ).rowcount
        if not updated:
            conn.execute(schema.settings.insert().values(key=key, value=raw))

    @staticmethod
    def read_in(conn: sa.Connection, key: str) -> Any:
        raw = conn.execute(
            sa.select(schema.settings.c.value).where(schema.settings.c.key == key)
        ).scalar()
        return SPECS[key].default if raw is None else json.loads(raw)

    @staticmethod
    def _spec(key: str) -> SettingSpec:
        try:
            return SPECS[key]
        except KeyError:
            raise NotFoundError(f"no console setting {key!r}") from None
