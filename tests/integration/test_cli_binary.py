"""Binary columns through `table rows`: base64 in --json, a size for people."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from console.app import open_services
from console.core.tables.api import open_table
from tests.conftest import RunCli


def test_table_rows_show_binary_values(home: Path, run_cli: RunCli) -> None:
    services = open_services(home)
    services.tables.create("Blobs")
    data = bytes(range(256)) * 8
    open_table(services.tables, "Blobs").insert({"name": "b", "data": data})
    services.close()

    as_json = run_cli("table", "rows", "Blobs", "--json")
    assert as_json.returncode == 0, as_json.stderr
    (row,) = json.loads(as_json.stdout)
    assert base64.b64decode(row["data"]) == data
    for_people = run_cli("table", "rows", "Blobs")
    assert "<2,048 bytes>" in for_people.stdout
