"""`run list | show | undo` and `table rows --run` as a user types them, on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunCli


@pytest.fixture
def cli(run_cli: RunCli, db_url: str) -> RunCli:
    def run(*args: str, stdin: str = "", env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return run_cli("--db", db_url, *args, stdin=stdin, env=env)

    return run  # type: ignore[return-value]


def _job(cli: RunCli, tmp_path: Path, name: str, body: str) -> None:
    script = tmp_path / f"{name}.py"
    script.write_text(f"def {name}():\n    t = tables.get_table('Stock')\n{body}")
    made = cli("job", "create", name, "--every", "1", "--unit", "hour", "--script", str(script))
    assert made.returncode == 0, made.stderr
    ran = cli("job", "run", name)
    assert ran.returncode == 0, ran.stdout + ran.stderr


def _rows(cli: RunCli, *args: str) -> list[dict[str, object]]:
    done = cli("table", "rows", "Stock", "--json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_undo_a_run_from_the_command_line(cli: RunCli, tmp_path: Path) -> None:
    assert cli("table", "create", "Stock").returncode == 0
    _job(cli, tmp_path, "seed", "    t.insert_many([{'n': 1}, {'n': 2}, {'n': 3}])\n")
    before = _rows(cli)
    _job(
        cli,
        tmp_path,
        "change",
        "    t.insert({'n': 4})\n    t.update({'id': 1, 'n': 10})\n    t.delete(2)\n",
    )
    runs = json.loads(cli("run", "list", "--job", "change", "--json").stdout)
    (change,) = runs
    written = _rows(cli, "--run", str(change["id"]))
    assert sorted(r["n"] for r in written) == [4, 10]
    later = tmp_path / "later.py"
    later.write_text("def change():\n    pass\n")
    assert cli("job", "script", "change", "--set", str(later)).returncode == 0
    shown = json.loads(cli("run", "show", str(change["id"]), "--json").stdout)
    assert shown["id"] == change["id"] and shown["trigger"] == "run once"
    assert shown["script_version"] == 1  # the script it ran, not the one saved since

    undone = cli("run", "undo", str(change["id"]), "--json")

    assert undone.returncode == 0, undone.stderr
    result = json.loads(undone.stdout)
    assert result == {"run": change["id"], "deleted": 1, "restored": 2, "conflicts": []}
    strip = ("__updatedAt", "__version", "__runId")
    assert [{k: v for k, v in r.items() if k not in strip} for r in _rows(cli)] == [
        {k: v for k, v in r.items() if k not in strip} for r in before
    ]


def test_bad_input_is_one_line_and_exit_2(cli: RunCli, tmp_path: Path) -> None:
    assert cli("table", "create", "Stock").returncode == 0
    _job(cli, tmp_path, "seed", "    t.insert({'n': 1})\n")
    assert cli("job", "run", "seed", "--dry-run").returncode == 0
    runs = json.loads(cli("run", "list", "--json").stdout)
    dry = next(r for r in runs if r["trigger"] == "dry run")
    for args in (
        ["run", "undo", "999"],
        ["run", "undo", str(dry["id"])],
        ["run", "undo", "x"],
        ["run", "show", "999"],
        ["table", "rows", "Stock", "--run", "999"],
        ["table", "rows", "Stock", "--run", "-1"],
        ["job", "enable", "seed", "--dry-run"],
    ):
        done = cli(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, (args, done.stderr)
    assert len(_rows(cli)) == 1
    assert json.loads(cli("job", "show", "seed", "--json").stdout)["enabled"] is False


def test_a_javascript_run_is_undone_too(cli: RunCli, tmp_path: Path) -> None:
    assert cli("table", "create", "Stock").returncode == 0
    _job(cli, tmp_path, "seed", "    t.insert_many([{'n': 1}, {'n': 2}])\n")
    script = tmp_path / "change.js"
    script.write_text(
        "function change() {\n  var t = tables.getTable('Stock');\n"
        "  t.insert({n: 3});\n  t.update({id: 1, n: 10});\n  t.del(2);\n}\n"
    )
    made = cli("job", "create", "change", "--every", "1", "--unit", "hour", "--script", str(script))
    assert made.returncode == 0, made.stderr
    assert cli("job", "run", "change").returncode == 0
    (run,) = json.loads(cli("run", "list", "--job", "change", "--json").stdout)
    assert sorted(r["n"] for r in _rows(cli, "--run", str(run["id"]))) == [3, 10]

    result = json.loads(cli("run", "undo", str(run["id"]), "--json").stdout)

    assert (result["deleted"], result["restored"]) == (1, 2)
    assert [r["n"] for r in _rows(cli)] == [1, 2]
