"""The dry run's HTTP rule and the parent's gathering of its diff."""

from __future__ import annotations

import pytest

from console.core.running.dry_run import DryRunDiff, http_allowed


@pytest.mark.parametrize(
    ("method", "sent"),
    [
        ("GET", True),
        ("head", True),
        ("POST", False),
        ("PUT", False),
        ("DELETE", False),
        ("PATCH", False),
    ],
)
def test_only_reads_go_out(method: str, sent: bool) -> None:
    assert http_allowed(method, "http://example.test/") is sent


def test_messages_make_a_per_table_diff() -> None:
    diff = DryRunDiff()
    assert diff.take(
        {
            "t": "diff",
            "table": "T",
            "inserted": 3,
            "updated": 1,
            "deleted": 0,
            "columns_added": ["c"],
        }
    )
    assert diff.take({"t": "diff_rows", "table": "T", "kind": "inserted", "rows": [{"id": 1}]})
    assert diff.take({"t": "diff_rows", "table": "T", "kind": "inserted", "rows": [{"id": 2}]})
    assert not diff.take({"t": "log", "msg": "x"})
    result = diff.as_json()["T"]
    assert result["inserted"] == 3 and result["columns_added"] == ["c"]
    assert result["rows"]["inserted"] == [{"id": 1}, {"id": 2}]
    assert diff.tables["T"].summary("T") == (
        "T: 3 inserted, 1 updated, 0 deleted, columns added: c (rolled back)"
    )
