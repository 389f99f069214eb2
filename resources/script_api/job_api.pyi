"""The job script API: the globals a job script sees, typed.

One declaration: the editor completes and documents Python scripts from it,
derives JavaScript completion and signature help from its `JavaScript:`
lines (a method's: its JavaScript name and parameters), and flags names
that are not in it. An `_AppSettingName` is one of this console's app
settings: the editor offers their names (never their values).
"""

from collections.abc import Iterable, Iterator
from typing import Any

_AppSettingName = str

class Query:
    """A read over a table: chainable and immutable; every method returns a
    new query. Conditions run in SQL."""

    def where(self, **conditions: Any) -> Query:
        """Rows matching every condition: `col=value`, or `col__lt`, `col__le`,
        `col__gt`, `col__ge`, `col__ne`, `col__in`, `col__contains`,
        `col__startswith`, `col__isnull` `= value`.
        JavaScript: where(filter)"""
    def order_by(self, col: str) -> Query:
        """Sorted by `col`, ascending.
        JavaScript: orderBy(column)"""
    def order_by_descending(self, col: str) -> Query:
        """Sorted by `col`, descending.
        JavaScript: orderByDescending(column)"""
    def take(self, n: int) -> Query:
        """At most `n` rows.
        JavaScript: take(n)"""
    def skip(self, n: int) -> Query:
        """Skip the first `n` rows.
        JavaScript: skip(n)"""
    def select(self, *cols: str) -> Query:
        """Only these columns.
        JavaScript: select(columns)"""
    def read(self) -> list[dict[str, Any]]:
        """Every matching row.
        JavaScript: read({success, error})"""
    def count(self) -> int:
        """How many rows match."""
    def first(self) -> dict[str, Any] | None:
        """The first matching row, or None."""
    def iter(self, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """The matching rows in batches of `batch`: constant memory."""
    def delete(self) -> int:
        """Delete the matching rows in one transaction; how many."""
    def update(self, **values: Any) -> int:
        """Set `values` on the matching rows in one transaction; how many."""

class Table(Query):
    """A user table: system columns `id`, `__createdAt`, `__updatedAt`,
    `__version`; a new property in an insert adds its column."""

    def insert(self, row: dict[str, Any]) -> dict[str, Any]:
        """Insert `row`; the stored row, with its `id`.
        JavaScript: insert(item, {success, error})"""
    def insert_many(self, rows: Iterable[dict[str, Any]]) -> int:
        """Insert `rows` in one transaction; how many."""
    def update(self, row: dict[str, Any]) -> dict[str, Any]:  # type: ignore[override]
        """Update the row with `row["id"]`; checks `__version` when given.
        JavaScript: update(item, {success, error})"""
    def delete(self, row_id: int) -> None:  # type: ignore[override]
        """Delete the row with this id.
        JavaScript: del(idOrItem, {success, error})"""
    def upsert(self, row: dict[str, Any], key: str = "col") -> dict[str, Any]:
        """Insert `row`, or update the row whose `key` column matches."""

class Tables:
    """The database's user tables."""

    def get_table(self, name: str, create: bool = False) -> Table:
        """The table `name`; with `create`, made when it does not exist yet.
        JavaScript: getTable(name)"""

class AppSettings:
    """The console's app settings, read-only; secrets come from the keyring."""

    def __getitem__(self, name: _AppSettingName) -> str:
        """The setting's value; KeyError naming it when it is not set."""
    def get(self, name: _AppSettingName, default: Any = None) -> Any:
        """The setting's value, or `default`."""
    def __contains__(self, name: object) -> bool: ...

class Config:
    """The app settings and the Twitter identity.
    JavaScript: require('mobileservice-config')"""

    app_settings: AppSettings
    """`config.app_settings["NAME"]`: the app settings.
    JavaScript: appSettings"""
    twitter_consumer_key: str
    """Configure › Identity: the Twitter consumer key.
    JavaScript: twitterConsumerKey"""
    twitter_consumer_secret: str
    """Configure › Identity: the Twitter consumer secret.
    JavaScript: twitterConsumerSecret"""

class Console:
    """Lines in the run's log (secrets masked)."""

    def log(self, *parts: object) -> None:
        """An information line.
        JavaScript: log(...values)"""
    def info(self, *parts: object) -> None:
        """An information line.
        JavaScript: info(...values)"""
    def warn(self, *parts: object) -> None:
        """A warning line.
        JavaScript: warn(...values)"""
    def error(self, *parts: object) -> None:
        """An error line.
        JavaScript: error(...values)"""

class Request:
    """JavaScript only: `require('request')`, with `oauth`; every request
    first passes the console's URL-prefix redirects.
    JavaScript: request"""

    def get(self, options: Any, callback: Any) -> None:
        """A GET request; `callback(error, response, body)`.
        JavaScript: get(options, callback)"""
    def post(self, options: Any, callback: Any) -> None:
        """A POST request; `callback(error, response, body)`.
        JavaScript: post(options, callback)"""

tables: Tables
"""The user tables: `tables.get_table("Updates")`.
JavaScript: tables"""
config: Config
"""The app settings and the Twitter identity."""
console: Console
"""The run's log: `console.log/info/warn/error`.
JavaScript: console"""

def print(*values: object, sep: str = " ", end: str = "\n") -> None:
    """Goes to the run's log as information."""
