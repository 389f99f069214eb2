"""The rows a run wrote, found by their `__runId` across every user table."""

from __future__ import annotations

from console.app import Services
from console.core.tables.api import open_table
from console.core.tables.written_by import rows_written_by

SCRIPT = """def writer():
    tables.get_table("Beta", create=True).insert_many([{"n": 1}, {"n": 2}])
    tables.get_table("Alpha", create=True).insert({"word": "first"})
"""


def test_the_rows_a_run_wrote_table_by_table(services: Services) -> None:
    services.jobs.create("writer", script=SCRIPT)
    first = services.runner.run("writer")
    second = services.runner.run("writer")
    assert first.status == second.status == "succeeded"
    open_table(services.tables, "Beta").insert({"n": 3})  # a person's row: no run
    found = rows_written_by(services.tables, second.id)
    assert [(t, r.get("n"), r.get("word")) for t, r in found] == [
        ("Alpha", None, "first"),
        ("Beta", 1, None),
        ("Beta", 2, None),
    ]
    assert all(r["__runId"] == second.id for _t, r in found)
    assert len(rows_written_by(services.tables, second.id, limit=2)) == 2
    assert rows_written_by(services.tables, 9999) == []
