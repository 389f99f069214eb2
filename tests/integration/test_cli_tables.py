"""The table commands as a user types them, in a real process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.cli import main
from console.core.tables.api import open_table
from tests.conftest import RunCli


def test_create_list_and_rows_through_the_installed_command(run_cli: RunCli) -> None:
    created = run_cli("table", "create", "Updates")
    assert created.returncode == 0, created.stderr
    listing = run_cli("table", "list", "--json")
    assert json.loads(listing.stdout)[0]["name"] == "Updates"
    rows = run_cli("table", "rows", "Updates", "--json")
    assert json.loads(rows.stdout) == []


@pytest.mark.parametrize(
    "name",
    [
        "Updates; DROP TABLE x",
        "__secret",
        "",
        "1abc",
        "a b",
        "x" * 65,
        "updates",
        "jobs",
        "x'); DROP TABLE user_tables; --",
    ],
)
def test_bad_names_exit_2_with_one_line_and_change_nothing(
    home: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--home", str(home), "table", "create", "Updates"]) == 0
    capsys.readouterr()
    assert main(["--home", str(home), "table", "create", name]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert main(["--home", str(home), "table", "list", "--json"]) == 0
    assert [t["name"] for t in json.loads(capsys.readouterr().out)] == ["Updates"]


def test_rows_order_and_limit(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from console.app import open_services

    services = open_services(home)
    services.tables.create("Updates")
    open_table(services.tables, "Updates").insert_many(
        [{"twitterId": 2**63 - 1 - i, "text": f"t{i}"} for i in range(5)]
    )
    services.close()
    args = ["--home", str(home), "table", "rows", "Updates", "--json"]
    assert main([*args, "--order-by", "twitterId", "--desc", "--limit", "2"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["twitterId"] for r in rows] == [2**63 - 1, 2**63 - 2]  # exact 64-bit ids
    assert main([*args, "--order-by", "nope"]) == 2
    assert "no column 'nope'" in capsys.readouterr().err
    assert main([*args, "--limit", "-1"]) == 2
    assert main(["--home", str(home), "table", "rows", "Updates", "--order-by", "text"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].split()[:3] == ["id", "twitterId", "text"]
    assert text[1].split()[2] == "t0"


def test_unknown_table_exits_2(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--home", str(home), "table", "rows", "Nope"]) == 2
    assert capsys.readouterr().err.strip() == "mobile-console: no table named 'Nope'"


def test_db_option_and_env_choose_the_database(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "elsewhere.db"
    assert main(["--home", str(home), "--db", f"sqlite:///{other}", "table", "create", "A"]) == 0
    assert other.exists()
    assert not (home / "console.db").exists()
