"""Times typed by users: ISO 8601, local when no offset is given."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from console.core.clock import parse_iso, utcnow


def test_an_offset_or_z_is_kept_exactly() -> None:
    assert parse_iso("2026-03-01T10:00:00Z") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert parse_iso(" 2026-03-01T12:00:00+02:00 ") == datetime(2026, 3, 1, 10, tzinfo=UTC)


def test_no_offset_means_this_machines_local_time() -> None:
    naive = datetime(2026, 7, 1, 9, 30)
    assert parse_iso("2026-07-01 09:30") == naive.astimezone().astimezone(UTC)


def test_nonsense_is_a_value_error_and_now_is_aware_utc() -> None:
    with pytest.raises(ValueError):
        parse_iso("next tuesday")
    assert utcnow().tzinfo is UTC
