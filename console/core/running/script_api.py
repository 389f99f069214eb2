"""The globals a job script sees: `tables`, `config`, `console` (a contract;
see DESIGN.md). They live in the run's child process."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.core.tables.api import Table
    from console.core.tables.catalogue import TableStore

Emit = Callable[[dict[str, Any]], None]
#: The console masks secrets in a line and then cuts it to 8,000 characters;
#: this cut, well beyond that, only bounds what crosses the pipe.
MAX_MESSAGE = 64_000


class MissingSettingError(KeyError):
    """An app setting the script asked for that is not there (or unreadable)."""

    def __str__(self) -> str:
        return str(self.args[0])


class ScriptConsole:
    """`console.log/info/warn/error`: lines in the run's log."""

    def __init__(self, emit: Emit) -> None:
        self._emit = emit

    def _write(self, level: str, parts: tuple[object, ...]) -> None:
        message = " ".join(str(p) for p in parts)
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + f"… ({len(message) - MAX_MESSAGE:,} more characters)"
        self._emit({"t": "log", "level": level, "msg": message})

    def log(self, *parts: object) -> None:
        self._write("information", parts)

    info = log

    def warn(self, *parts: object) -> None:
        self._write("warning", parts)

    warning = warn

    def error(self, *parts: object) -> None:
        self._write("error", parts)


class AppSettingsView(Mapping[str, str]):
    """`config.app_settings`: read-only; a secret the keyring could not give
    raises with the keyring's reason."""

    def __init__(self, values: dict[str, str], unavailable: dict[str, str]) -> None:
        self._values = values
        self._unavailable = unavailable

    def __getitem__(self, name: str) -> str:
        if name in self._values:
            return self._values[name]
        if name in self._unavailable:
            raise MissingSettingError(
                f"app setting {name} is unavailable: {self._unavailable[name]}"
            )
        raise MissingSettingError(
            f"no app setting {name!r}: add it on the Configure page or with "
            f"`mobile-console setting set {name}`"
        )

    def get(self, name: str, default: Any = None) -> Any:
        if name in self._unavailable:
            return self[name]  # a secret that exists but cannot be read is an error
        return self._values.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._values or name in self._unavailable

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"<app settings: {', '.join(sorted(self)) or 'none'}>"


class ScriptConfig:
    """`config`: the app settings and the Twitter identity."""

    def __init__(self, payload: dict[str, Any]) -> None:
        identity: dict[str, str] = payload.get("identity", {})
        unavailable: dict[str, str] = payload.get("unavailable", {})
        self.app_settings = AppSettingsView(payload.get("app_settings", {}), unavailable)
        self._identity = AppSettingsView(identity, unavailable)

    def _identity_value(self, name: str, label: str) -> str:
        try:
            return self._identity[name]
        except MissingSettingError:
            if name in self._identity:
                raise
            raise MissingSettingError(
                f"the {label} is not set: fill Configure › Identity or run "
                "`mobile-console identity twitter`"
            ) from None

    @property
    def twitter_consumer_key(self) -> str:
        return self._identity_value("twitter_consumer_key", "Twitter consumer key")

    @property
    def twitter_consumer_secret(self) -> str:
        return self._identity_value("twitter_consumer_secret", "Twitter consumer secret")

    def __repr__(self) -> str:
        return "<config: app_settings, twitter_consumer_key, twitter_consumer_secret>"


class ScriptTables:
    """`tables.get_table(name, create=False)`: opens the database on first
    use, so a job that never touches a table starts fast; with `create`, a
    table that does not exist yet is made."""

    def __init__(
        self,
        db_url: str,
        emit: Emit,
        *,
        dry_run: bool = False,
        run_id: int | None = None,
        known: dict[str, list[list[Any]]] | None = None,
    ) -> None:
        """`known`: the tables' columns as the supervisor read them when the
        run started (`TableStore.trust`): a write does not read them first."""
        self._db_url = db_url
        self._run_id = run_id
        self._known = known
        self._emit = emit
        self._tables: TableStore | None = None
        #: A dry run: every write in one transaction, rolled back at `close`.
        self.dry_run = dry_run
        self._held: AbstractContextManager[Any] | None = None

    def get_table(self, name: str, create: bool = False) -> Table:
        if self._tables is None:
            from console.core.store.database import Store
            from console.core.tables.catalogue import TableStore

            self._tables = TableStore(Store(self._db_url, migrate=False), run_id=self._run_id)
            if self._known:
                self._tables.trust(self._known)
            if self.dry_run:
                self._held = self._tables.store.hold()
                self._held.__enter__()

        from console.core.tables.api import open_table

        return open_table(
            self._tables, name, on_write=lambda n: self._emit({"t": "rows", "n": n}), create=create
        )

    getTable = get_table  # the portal's spelling

    def close(self) -> None:
        """End the run's use of the database; a dry run rolls it all back
        and sends what it wrote (`dry_run.HeldDiff`)."""
        if self._tables is None:
            return
        try:
            if self._held is not None:
                from console.core.running.dry_run import HeldDiff

                diff = HeldDiff()
                try:
                    diff.take(self._tables.store, self._tables.run_id)
                finally:
                    self._held.__exit__(None, None, None)
                diff.send(self._tables.store, self._emit)
        finally:
            self._tables.store.dispose()
