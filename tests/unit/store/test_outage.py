"""An outage as a worker tells it: one line when the database goes, a
doubling wait between attempts, one line when it is back."""

from __future__ import annotations

import sqlalchemy as sa

from console.core.store.outage import FIRST_WAIT_S, LONGEST_WAIT_S, Outage, is_unavailable


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _gone() -> sa.exc.OperationalError:
    return sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused\nDETAIL: x"))


def test_one_line_when_it_goes_and_one_when_it_is_back() -> None:
    said: list[str] = []
    clock = _Clock()
    outage = Outage(said.append, clock)
    waits = [outage.failed(_gone()) for _ in range(8)]
    assert waits[0] == FIRST_WAIT_S and waits[1] == 2 * FIRST_WAIT_S
    assert waits[-1] == LONGEST_WAIT_S and max(waits) == LONGEST_WAIT_S
    assert outage.down and len(said) == 1
    assert said[0].startswith("database unavailable (connection refused); retrying with backoff")
    clock.now += 42
    outage.ok()
    outage.ok()  # already back: nothing more to say
    assert said[1:] == ["database back after 42 s; resuming"] and not outage.down


def test_a_new_outage_starts_again_from_the_first_wait() -> None:
    outage = Outage(lambda _line: None, _Clock())
    for _ in range(5):
        outage.failed(_gone())
    outage.ok()
    assert outage.failed(_gone()) == FIRST_WAIT_S


def test_only_a_database_out_of_reach_counts_as_an_outage() -> None:
    assert is_unavailable(_gone())
    assert is_unavailable(sa.exc.InterfaceError("SELECT 1", {}, Exception("closed")))
    assert not is_unavailable(sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_unavailable(ValueError("a mistake in what was asked"))
