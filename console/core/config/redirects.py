"""URL-prefix redirects for jobs' HTTP requests (the only writer of the
`redirects` table).

A script written for a real service (the tutorial hard-codes
`https://api.twitter.com`) runs unchanged against another server: every
request a job makes, Python `requests` or JavaScript `request`, has its URL
rewritten by the longest matching prefix before it is signed and sent, so an
OAuth signature matches the server that answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa

from console.core.clock import Clock, utcnow
from console.core.errors import ConsoleError, NotFoundError
from console.core.store import schema
from console.core.store.database import Store

MAX_URL = 2000


@dataclass(frozen=True)
class Redirect:
    from_prefix: str
    to_prefix: str
    created_at: datetime


def check_url(url: object, what: str) -> str:
    """`url` if it is an absolute http(s) URL, else a ConsoleError."""
    text = str(url).strip() if url is not None else ""
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ConsoleError(f"{what} must be an http:// or https:// URL, not {text!r}")
    if len(text) > MAX_URL:
        raise ConsoleError(f"{what} is {len(text):,} characters; at most {MAX_URL:,}")
    return text


class RedirectStore:
    """The console's redirects: add, list, delete."""

    def __init__(self, store: Store, clock: Clock = utcnow) -> None:
        self.store = store
        self.clock = clock

    def add(self, source: str, target: str) -> Redirect:
        """Add (or replace) the redirect from `source`."""
        source = check_url(source, "FROM")
        target = check_url(target, "TO")
        now = self.clock()
        with self.store.write() as conn:
            table = schema.redirects
            conn.execute(table.delete().where(table.c.from_prefix == source))
            conn.execute(
                table.insert().values(from_prefix=source, to_prefix=target, created_at=now)
            )
        return Redirect(source, target, now)

    def all(self) -> list[Redirect]:
        with self.store.read() as conn:
            rows = conn.execute(
                sa.select(schema.redirects).order_by(schema.redirects.c.from_prefix)
            ).all()
        return [Redirect(r.from_prefix, r.to_prefix, r.created_at) for r in rows]

    def pairs(self) -> list[tuple[str, str]]:  # see running/http_redirects.py
        """(FROM, TO) pairs, what a run's script host is given."""
        return [(r.from_prefix, r.to_prefix) for r in self.all()]

    def delete(self, source: str) -> None:
        source = str(source).strip()
        with self.store.write() as conn:
            table = schema.redirects
            gone = conn.execute(table.delete().where(table.c.from_prefix == source)).rowcount
        if not gone:
            raise NotFoundError(f"no redirect from {source!r}")
