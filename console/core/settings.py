"""The console's own settings, each declared once with its type, default and
help; validation, the CLI, and the Configure page derive from `SETTINGS`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from console.core import schema
from console.core.errors import ConsoleError, NotFoundError
from console.core.store import Store

TIER_LIMITS: dict[str, int | None] = {"free": 1, "standard": 10, "unlimited": None}


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

    def check(self, value: Any) -> Any:
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
)
SPECS = {s.key: s for s in SETTINGS}


class Settings:
    """Reads and writes the console settings of one database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: str) -> Any:
        spec = self._spec(key)
        with self.store.read() as conn:
            raw = conn.execute(
                sa.select(schema.settings.c.value).where(schema.settings.c.key == key)
            ).scalar()
        return spec.default if raw is None else json.loads(raw)

    def all(self) -> dict[str, Any]:
        with self.store.read() as conn:
            rows = conn.execute(sa.select(schema.settings.c.key, schema.settings.c.value)).all()
        stored = {key: value for key, value in rows}
        return {
            s.key: json.loads(stored[s.key]) if s.key in stored else s.default for s in SETTINGS
        }

    def set(self, key: str, value: Any, *, guard: Callable[[Any, Any], None] | None = None) -> Any:
        """Store a checked value; `guard(conn, value)` may refuse it inside the
        same transaction (the tier limit checks the enabled jobs there)."""
        value = self._spec(key).check(value)
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
