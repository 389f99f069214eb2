"""`iter()` by id, a batch at a time, over a list standing for a table: each
batch starts after the last id seen, the first skips `offset`, and the
limit, the hidden id and a bad batch size hold."""

from __future__ import annotations

from typing import Any

import pytest

from console.core.errors import ConsoleError
from console.core.tables.id_batches import by_id, check_batch

IDS = [3, 5, 8, 13, 21, 34, 55]


def reader(asked: list[tuple[int, int, Any]]) -> Any:
    def read(size: int, offset: int, after: Any) -> list[dict[str, Any]]:
        asked.append((size, offset, after))
        past = [i for i in IDS if after is None or i > after]
        return [{"id": i, "n": i * 10} for i in past[offset : offset + size]]

    return read


def test_batches_go_on_after_the_last_id_seen() -> None:
    asked: list[tuple[int, int, Any]] = []
    rows = list(by_id(reader(asked), 3, None, 0, False))
    assert [r["id"] for r in rows] == IDS
    assert asked == [(3, 0, None), (3, 0, 8), (3, 0, 34)]  # the last batch was short


def test_the_offset_is_the_first_batchs_and_the_limit_counts_rows() -> None:
    asked: list[tuple[int, int, Any]] = []
    rows = list(by_id(reader(asked), 2, 3, 1, True))
    assert rows == [{"n": 50}, {"n": 80}, {"n": 130}]  # ids hidden, as not selected
    assert asked == [(2, 1, None), (1, 0, 8)]


def test_an_empty_table_is_one_read() -> None:
    asked: list[tuple[int, int, Any]] = []
    assert list(by_id(reader(asked), 4, None, 10, False)) == []
    assert asked == [(4, 10, None)]


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "10"])
def test_a_batch_is_a_whole_number_of_rows(bad: object) -> None:
    with pytest.raises(ConsoleError, match="iter\\(\\) needs a batch of at least 1 row"):
        check_batch(bad)
