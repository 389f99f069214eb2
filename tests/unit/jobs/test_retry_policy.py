"""A job's retry policy: its bounds, said in one line, and the doubling wait."""

from __future__ import annotations

from datetime import timedelta

import pytest

from console.core.errors import ConsoleError
from console.core.jobs.retry_policy import (
    MAX_DELAY_S,
    RETRIED,
    backoff,
    check_retries,
    check_retry_delay,
    format_wait,
    retries_left,
)


def test_backoff_doubles() -> None:
    assert [backoff(30, k).total_seconds() for k in (1, 2, 3, 4)] == [30, 60, 120, 240]


@pytest.mark.parametrize(("given", "kept"), [(0, 0), ("3", 3), (" 10 ", 10)])
def test_retries_from_0_to_10_are_taken_as_whole_numbers(given: object, kept: int) -> None:
    assert check_retries(given) == kept


@pytest.mark.parametrize(
    ("given", "words"),
    [(11, "from 0 to 10, not 11"), (-1, "from 0 to 10"), ("x", "whole number"), (True, "whole")],
)
def test_bad_retries_are_refused_in_one_line(given: object, words: str) -> None:
    with pytest.raises(ConsoleError, match=words):
        check_retries(given)


def test_the_retry_delay_is_from_a_second_to_a_day() -> None:
    assert check_retry_delay("60") == 60
    with pytest.raises(ConsoleError, match="from 1 to 86,400 seconds, not 0"):
        check_retry_delay(0)
    with pytest.raises(ConsoleError, match="not 86401"):
        check_retry_delay(MAX_DELAY_S + 1)


def test_waits_and_counts_read_as_people_say_them() -> None:
    assert format_wait(timedelta(seconds=90)) == "90 s"
    assert format_wait(timedelta(minutes=5)) == "5 min"
    assert format_wait(timedelta(hours=3)) == "3.0 h"
    assert retries_left(1) == "1 remaining retry" and retries_left(2) == "2 remaining retries"


def test_only_failures_and_timeouts_earn_a_retry() -> None:
    assert {"failed", "timed out"} == RETRIED  # a user's cancel or an interruption never does
