"""`iter()` in the order of ids, a batch at a time: each batch starts after
the last id seen (never OFFSET), in a short read of its own. Shared by the
table API (`Query.iter`) and a linked run (`LinkedQuery.iter`), each with
its own way to read a batch. Standard library only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from console.core.errors import ConsoleError

#: `read(size, offset, after)`: at most `size` rows past `offset` (the first
#: batch's only) and after the id `after` (None at first), in the order of ids.
ReadBatch = Callable[[int, int, Any], list[dict[str, Any]]]


def check_batch(batch: object) -> int:
    """`iter()`'s batch size, or a ConsoleError."""
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise ConsoleError(f"iter() needs a batch of at least 1 row, not {batch!r}")
    return batch


def by_id(
    read: ReadBatch, batch: int, limit: int | None, offset: int, hide_id: bool
) -> Iterator[dict[str, Any]]:
    """The rows `read` gives, `batch` at a time, until `limit` rows (None: no
    limit) or the end; each row's id left out when `hide_id` (a query that
    selects columns without it reads it all the same, to go on after it)."""
    remaining, after = limit, None
    while remaining is None or remaining > 0:
        size = batch if remaining is None else min(batch, remaining)
        rows = read(size, offset, after)
        if not rows:
            return
        after, offset = rows[-1]["id"], 0
        if remaining is not None:
            remaining -= len(rows)
        for row in rows:
            if hide_id:
                del row["id"]
            yield row
        if len(rows) < size:
            return
