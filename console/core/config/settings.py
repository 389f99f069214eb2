"""The console's own settings, each declared once in `SETTINGS` with its type,
default, bounds or choices, one line of help and whether it is secret.

`SettingSpec.check` validates, `mobile-console config` and the Configure page
list and edit exactly these, and the README's settings table is generated from
them (tests/unit/test_docs.py fails when the two disagree). This module is the
only writer of the `settings` table. A secret setting's value lives only in
the OS keyring; the table then records only that it is set.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from console.core.config.masking import MASK
from console.core.errors import ConsoleError, NotFoundError
from console.core.store import schema
from console.core.store.changes import Change
from console.core.store.database import Store

if TYPE_CHECKING:
    from console.core.config.keyring import Keyring

TIER_LIMITS: dict[str, int | None] = {"free": 1, "standard": 10, "unlimited": None}
#: The settings row naming this database in the keyring's service name; set
#: once, by `install_id`, never by a user.
INSTALL_ID = "install_id"
#: A secret console setting's name in the keyring; app setting names cannot
#: hold ':', so the two never meet.
KEYRING_PREFIX = "console:"
_TRUE, _FALSE = ("true", "on", "yes", "1"), ("false", "off", "no", "0")


def check_http_url(key: str, value: str) -> str:
    """An http(s) URL with a host, or "" (none)."""
    value = value.strip()
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        # `.port` raises on a port that is not a number or out of range.
        good = (
            parts.scheme.lower() in ("http", "https")
            and bool(parts.hostname)
            and (parts.port is None or parts.port > 0)
        )
    except ValueError:  # an unclosed "[" of an IPv6 host, a port like ":99999"
        good = False
    if not good or any(c.isspace() or not c.isprintable() for c in value):
        # The value may be a credential: never echoed.
        raise ConsoleError(f"{key} must be an http:// or https:// URL with a host")
    return value


@dataclass(frozen=True)
class SettingSpec:
    """One setting: a console setting in `SETTINGS`, or a per-job limit."""

    key: str
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    #: Kept in the OS keyring, shown masked, read from stdin by the CLI.
    secret: bool = False
    #: "url": an http(s) URL (or empty, for none).
    format: str | None = None

    def check(self, value: Any, what: str | None = None) -> Any:
        """`value` converted to the setting's type, or a ConsoleError saying
        why it cannot be (`what` names it in the message; default the key)."""
        what = what or self.key
        if self.type is bool:
            if isinstance(value, bool):
                return value
            word = str(value).strip().lower()
            if word not in _TRUE + _FALSE:
                raise ConsoleError(f"{what} must be true or false, not {value!r}")
            return word in _TRUE
        if self.format == "url":
            return check_http_url(what, str(value))
        if self.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                try:
                    value = int(str(value).strip())
                except ValueError:
                    raise ConsoleError(f"{what} must be a whole number, not {value!r}") from None
            if self.minimum is not None and value < self.minimum:
                raise ConsoleError(f"{what} must be at least {self.minimum:,}, not {value:,}")
            if self.maximum is not None and value > self.maximum:
                raise ConsoleError(f"{what} must be at most {self.maximum:,}, not {value:,}")
        elif self.type is str:
            value = str(value).strip().lower() if self.choices else str(value).strip()
            if self.choices and value not in self.choices:
                raise ConsoleError(f"{what} must be one of {', '.join(self.choices)}")
        return value

    @property
    def kind_text(self) -> str:
        """What values it takes, in words (the README table, `config --json`)."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.type is bool:
            return "true or false"
        if self.type is int:
            return f"whole number, {self.minimum:,}–{self.maximum:,}"
        if self.format == "url":
            return "http(s) URL, or empty for none"
        return "text"


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
    SettingSpec(
        "theme",
        str,
        "system",
        "The window's colours: light, dark, or system (the desktop's light or dark scheme).",
        choices=("system", "light", "dark"),
    ),
    SettingSpec(
        "record_http",
        bool,
        True,
        "Record the HTTP each run's script makes (masked), for `run http` and replays.",
    ),
    SettingSpec(
        "record_http_run_bytes",
        int,
        10_000_000,
        "Bytes of bodies recorded per run; past it, bodies are kept as digests.",
        minimum=0,
        maximum=1_000_000_000,
    ),
    SettingSpec(
        "record_http_body_bytes",
        int,
        256_000,
        "Bytes of one recorded body; a longer one is kept as a digest.",
        minimum=0,
        maximum=300_000,
    ),
)
SPECS = {s.key: s for s in SETTINGS}

#: A job's limits, declared once: the CLI, the job dialogs and the runner read them.
JOB_TIMEOUT = SettingSpec(
    "timeout_s", int, 300, "Seconds a run may take before it is ended.", minimum=1, maximum=3600
)
JOB_MEMORY = SettingSpec(
    "memory_mb", int, 1024, "Memory (MB) a run may use.", minimum=64, maximum=65536
)


def spec(key: str) -> SettingSpec:
    """The declaration of console setting `key`, or NotFoundError."""
    try:
        return SPECS[key]
    except KeyError:
        raise NotFoundError(f"no console setting {key!r}; settings: {', '.join(SPECS)}") from None


class Settings:
    """Reads and writes the console settings of one database; secret ones
    through `keyring` (without one, reading a secret setting gives its
    default and storing one is refused)."""

    def __init__(self, store: Store, keyring: Keyring | None = None) -> None:
        self.store = store
        self.keyring = keyring

    def get(self, key: str) -> Any:
        """A setting's value; a secret one read from the keyring."""
        declared = spec(key)
        if declared.secret:
            if self.keyring is None or not self.is_set(key):
                return declared.default
            value = self.keyring.get(KEYRING_PREFIX + key)
            return declared.default if value is None else value
        with self.store.read() as conn:
            return self.read_in(conn, key)

    def is_set(self, key: str) -> bool:
        """Whether the database holds a value (or, for a secret, its marker)."""
        with self.store.read() as conn:
            return self._raw(conn, spec(key).key) is not None

    def all(self) -> dict[str, Any]:
        """Every setting's value; a secret one as `MASK` when set, else its
        default (so this never needs the keyring)."""
        with self.store.read() as conn:
            rows = conn.execute(sa.select(schema.settings.c.key, schema.settings.c.value)).all()
        stored = {key: value for key, value in rows}
        values: dict[str, Any] = {}
        for s in SETTINGS:
            if s.key not in stored:
                values[s.key] = s.default
            elif s.secret:
                values[s.key] = MASK
            else:
                values[s.key] = json.loads(stored[s.key])
        return values

    def set(self, key: str, value: Any, *, guard: Callable[[Any, Any], None] | None = None) -> Any:
        """Store a checked value; `guard(conn, value)` may refuse it inside the
        same transaction (the tier limit checks the enabled jobs there). A
        secret goes to the keyring first, so a refusal there changes nothing;
        an empty secret clears it."""
        declared = spec(key)
        value = declared.check(value)
        if declared.secret:
            return self._set_secret(declared, value)
        with self.store.write() as conn:
            if guard is not None:
                guard(conn, value)
            self._put(conn, key, json.dumps(value))
            self.store.announce(conn, Change("settings", key))
        return value

    def _set_secret(self, declared: SettingSpec, value: str) -> str:
        if self.keyring is None:
            raise ConsoleError(f"{declared.key} is kept in the keyring, and there is none here")
        name = KEYRING_PREFIX + declared.key
        if value:
            self.keyring.set(name, value)
            with self.store.write() as conn:
                self._put(conn, declared.key, json.dumps(None))
                self.store.announce(conn, Change("settings", declared.key))
        else:
            self.keyring.delete(name)
            with self.store.write() as conn:
                conn.execute(schema.settings.delete().where(schema.settings.c.key == declared.key))
                self.store.announce(conn, Change("settings", declared.key))
        return value

    def install_id(self) -> str:
        """This database's id, made on first use: it names the keyring's
        service, so two homes never share secrets."""
        with self.store.read() as conn:
            found = self._raw(conn, INSTALL_ID)
        if found:
            return found
        try:
            with self.store.write() as conn:
                found = self._raw(conn, INSTALL_ID)
                if found:
                    return found
                new = uuid.uuid4().hex
                conn.execute(schema.settings.insert().values(key=INSTALL_ID, value=new))
                return new
        except IntegrityError:  # another console created it first
            with self.store.read() as conn:
                return str(self._raw(conn, INSTALL_ID))

    @staticmethod
    def read_in(conn: sa.Connection, key: str) -> Any:
        """A plain setting's value inside a caller's transaction."""
        raw = Settings._raw(conn, key)
        return SPECS[key].default if raw is None else json.loads(raw)

    @staticmethod
    def _raw(conn: sa.Connection, key: str) -> str | None:
        return conn.execute(
            sa.select(schema.settings.c.value).where(schema.settings.c.key == key)
        ).scalar()

    @staticmethod
    def _put(conn: sa.Connection, key: str, raw: str) -> None:
        updated = conn.execute(
            schema.settings.update().where(schema.settings.c.key == key).values(value=raw)
        ).rowcount
        if not updated:
            conn.execute(schema.settings.insert().values(key=key, value=raw))


def readme_table() -> str:
    """The README's settings table, generated from `SETTINGS` (print it with
    `python -m console.core.config.settings`; tests/unit/test_docs.py checks it)."""
    lines = ["| Setting | Default | Values | What it does |", "|---|---|---|---|"]
    for s in SETTINGS:
        shown = str(s.default).lower() if isinstance(s.default, bool) else str(s.default)
        default = "(none)" if s.default == "" else f"`{shown}`"
        secret = " Secret: kept in the OS keyring, shown masked." if s.secret else ""
        lines.append(f"| `{s.key}` | {default} | {s.kind_text} | {s.help}{secret} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(readme_table())
