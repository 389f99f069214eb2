"""How values read in the CLI's tables, JSON and CSV."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from console.core.formatting import (
    cell_text,
    csv_value,
    duration_text,
    json_text,
    local_time,
    text_table,
)

WHEN = datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC)


def test_cells_read_as_people_expect() -> None:
    assert [cell_text(v) for v in (None, True, False, 12, "a")] == ["", "true", "false", "12", "a"]
    assert cell_text(WHEN) == WHEN.astimezone().isoformat(sep=" ", timespec="seconds")
    assert local_time(None) == "" and local_time(WHEN, "%S") == "05"
    assert duration_text(None) == "" and duration_text(1.25) == "1.2 s"


def test_a_text_table_aligns_columns_and_cuts_long_cells() -> None:
    table = text_table(["NAME", "NOTE"], [("a", "x" * 80), ("long name", "two\nlines")])
    head, first, second = table.splitlines()
    assert head.index("NOTE") == first.index("x") == second.index("two")
    assert first.endswith("…") and len(first.split("  ", 1)[1].strip()) == 60
    assert second.endswith("two\\nlines")  # one row stays one line


def test_json_and_csv_keep_times_exact_with_their_offset() -> None:
    assert json.loads(json_text({"at": WHEN, "n": "é"})) == {
        "at": "2026-03-01T10:00:05+00:00",
        "n": "é",
    }
    assert "é" in json_text("é")  # not \\u00e9
    assert csv_value(WHEN) == "2026-03-01T10:00:05+00:00" and csv_value(None) == ""
    assert csv_value(2**63 - 1) == 2**63 - 1


def test_binary_values_show_their_size_to_people_and_base64_to_programs() -> None:
    assert cell_text(b"\x00\x01\x02") == "<3 bytes>"
    assert json.loads(json_text(b"\x00\x01\x02")) == "AAEC"
    assert csv_value(b"\x00\x01\x02") == "AAEC"
