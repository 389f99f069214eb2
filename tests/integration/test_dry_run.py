"""`job run NAME --dry-run [--json]` as a user types it: every write path of
the script API, in Python and JavaScript, on SQLite and PostgreSQL, leaves
the database's user tables exactly as they were, and the diff says what the
run would have written."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from console.core.store.schema import CONSOLE_TABLES
from tests.conftest import RunCli

PYTHON_JOB = """
def every_write():
    t = tables.get_table("Stock")
    t.insert({"name": "pear", "qty": 1})
    t.insert_many([{"name": "fig", "qty": 2}, {"name": "fig", "qty": 3}])
    t.update({"id": 1, "qty": 100, "colour": "red"})
    t.upsert({"name": "apple", "qty": 7}, key="name")
    t.upsert({"name": "kiwi", "qty": 8}, key="name")
    t.delete(2)
    t.delete_many([3])
    t.delete_duplicates("name")
    t.where(name="pear").update(qty=0)
    t.where(qty__gt=1000).delete()
    t.where(name="kiwi").move_to(tables.get_table("Archive", create=True))
    import requests
    try:
        requests.post(config.app_settings.get("url", "http://127.0.0.1:9/"), data="x")
    except Exception as e:
        print(e)
    print("rows now", t.count())
"""

JS_JOB = """
function every_write() {
  var t = tables.getTable("Stock");
  t.insert({name: "pear", qty: 1});
  t.update({id: 1, qty: 100, colour: "red"});
  t.del(2);
  t.del(3, {success: function () { console.log("deleted 3"); }});
}
"""


def checksum(url: str) -> str:
    """The user tables' names, columns and rows, as one digest."""
    engine = sa.create_engine(url)
    digest = hashlib.sha256()
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            for name in sorted(inspector.get_table_names()):
                if name.lower() in CONSOLE_TABLES:
                    continue
                columns = sorted(c["name"] for c in inspector.get_columns(name))
                digest.update(repr((name, columns)).encode())
                table = sa.Table(name, sa.MetaData(), autoload_with=conn)
                for row in conn.execute(sa.select(table).order_by(table.c.id)):
                    digest.update(repr(sorted(row._mapping.items())).encode())
    finally:
        engine.dispose()
    return digest.hexdigest()


@pytest.fixture
def cli(run_cli: RunCli, db_url: str) -> RunCli:
    def run(*args: str, stdin: str = "", env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return run_cli("--db", db_url, *args, stdin=stdin, env=env)

    return run  # type: ignore[return-value]


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that notes the method of every request."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            seen.append(self.command)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_GET = do_POST = _answer

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", seen
    server.shutdown()
    thread.join()
    server.server_close()


def _stock(cli: RunCli, tmp_path: Path) -> None:
    assert cli("table", "create", "Stock").returncode == 0
    seed = tmp_path / "seed.py"
    seed.write_text(
        "def seed():\n"
        "    tables.get_table('Stock').insert_many(\n"
        "        [{'name': n, 'qty': q} for n, q in"
        " [('apple', 5), ('plum', 6), ('plum', 9), ('apple', 2000), ('cherry', 4)]])\n"
    )
    done = cli("job", "create", "seed", "--every", "1", "--unit", "hour", "--script", str(seed))
    assert done.returncode == 0, done.stderr
    ran = cli("job", "run", "seed")
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_every_python_write_path_is_rolled_back(
    cli: RunCli, db_url: str, tmp_path: Path, receiver: tuple[str, list[str]]
) -> None:
    url, seen = receiver
    _stock(cli, tmp_path)
    script = tmp_path / "job.py"
    script.write_text(PYTHON_JOB)
    made = cli(
        "job", "create", "every_write", "--every", "1", "--unit", "hour", "--script", str(script)
    )
    assert made.returncode == 0, made.stderr
    assert cli("setting", "set", "url", url).returncode == 0
    before = checksum(db_url)

    done = cli("job", "run", "every_write", "--dry-run", "--json")

    assert done.returncode == 0, done.stdout + done.stderr
    assert checksum(db_url) == before
    assert seen == []  # the POST never left
    assert f"not sent: POST {url} in a dry run" in done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded"
    stock, archive = result["tables"]["Stock"], result["tables"]["Archive"]
    # pear, fig, fig and kiwi in; the second fig a duplicate, kiwi moved away
    assert sorted(r["name"] for r in stock["rows"]["inserted"]) == ["fig", "pear"]
    assert stock["inserted"] == 2
    # apple 1 by update, then by upsert: one row updated
    assert stock["updated"] == 1 and stock["columns_added"] == ["colour"]
    updated = {r["id"]: r for r in stock["rows"]["updated"]}
    assert updated[1]["before"]["qty"] == 5 and updated[1]["after"]["qty"] == 7
    assert "qty" in updated[1]["changed"] and "colour" in updated[1]["changed"]
    # plum 2 and 3 deleted by id, apple 2000 as a duplicate
    assert stock["deleted"] == 3 and {r["id"] for r in stock["rows"]["deleted"]} == {2, 3, 4}
    assert archive["inserted"] == 1 and archive["rows"]["inserted"][0]["name"] == "kiwi"
    runs = cli("job", "show", "every_write", "--json")
    assert json.loads(runs.stdout)["runs"][0]["trigger"] == "dry run"


def test_every_javascript_write_path_is_rolled_back(
    cli: RunCli, db_url: str, tmp_path: Path
) -> None:
    _stock(cli, tmp_path)
    script = tmp_path / "every_write.js"
    script.write_text(JS_JOB)
    made = cli(
        "job", "create", "every_write", "--every", "1", "--unit", "hour", "--script", str(script)
    )
    assert made.returncode == 0, made.stderr
    before = checksum(db_url)

    done = cli("job", "run", "every_write", "--dry-run")

    assert done.returncode == 0, done.stdout + done.stderr
    assert checksum(db_url) == before
    assert (
        "Stock: 1 inserted, 1 updated, 2 deleted, columns added: colour (rolled back)"
        in done.stdout
    )
    assert "deleted 3" in done.stdout


def test_a_normal_run_after_a_dry_run_writes(cli: RunCli, db_url: str, tmp_path: Path) -> None:
    _stock(cli, tmp_path)
    script = tmp_path / "job.py"
    script.write_text("def add():\n    tables.get_table('Stock').insert({'name': 'x'})\n")
    assert (
        cli(
            "job", "create", "add", "--every", "1", "--unit", "hour", "--script", str(script)
        ).returncode
        == 0
    )
    before = checksum(db_url)
    assert cli("job", "run", "add", "--dry-run").returncode == 0
    assert checksum(db_url) == before
    assert cli("job", "run", "add").returncode == 0
    assert checksum(db_url) != before


def test_json_without_dry_run_is_refused(cli: RunCli, tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text("def add():\n    pass\n")
    assert (
        cli(
            "job", "create", "add", "--every", "1", "--unit", "hour", "--script", str(script)
        ).returncode
        == 0
    )
    done = cli("job", "run", "add", "--json")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1


def test_the_diff_writes_values_as_table_rows_does(cli: RunCli, tmp_path: Path) -> None:
    """Times with their offset, binary as base64, floats exact: the same
    text a user sees in `table rows --json`, for every kind of diff row."""
    assert cli("table", "create", "Kinds").returncode == 0
    seed = tmp_path / "seed.py"
    seed.write_text(
        "from datetime import datetime, UTC\n"
        "def seed():\n"
        "    t = tables.get_table('Kinds')\n"
        "    for n in range(3):\n"
        "        t.insert({'n': n, 'at': datetime(2020, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),"
        " 'raw': bytes([0, 255, n]), 'f': 0.1 + 0.2 + n})\n"
    )
    change = tmp_path / "change.py"
    change.write_text(
        "from datetime import datetime, UTC\n"
        "def change():\n"
        "    t = tables.get_table('Kinds')\n"
        "    t.update({'id': 1, 'n': 10})\n"
        "    t.delete(2)\n"
        "    t.insert({'n': 3, 'at': datetime(2021, 1, 1, tzinfo=UTC), 'raw': b'\\x01',"
        " 'f': 2.0 ** 60})\n"
    )
    for name, script in (("seed", seed), ("change", change)):
        made = cli("job", "create", name, "--every", "1", "--unit", "hour", "--script", str(script))
        assert made.returncode == 0, made.stderr
    assert cli("job", "run", "seed").returncode == 0
    stored = {r["id"]: r for r in json.loads(cli("table", "rows", "Kinds", "--json").stdout)}
    done = cli("job", "run", "change", "--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["tables"]["Kinds"]["rows"]
    user = ("n", "at", "raw", "f")
    (deleted,) = rows["deleted"]
    assert {k: deleted[k] for k in user} == {k: stored[2][k] for k in user}
    (updated,) = rows["updated"]
    assert {k: updated["before"][k] for k in user} == {k: stored[1][k] for k in user}
    (inserted,) = rows["inserted"]
    assert {k: inserted[k] for k in user} == {
        "n": 3, "at": "2021-01-01T00:00:00+00:00", "raw": "AQ==", "f": 2.0**60
    }  # fmt: skip
    assert isinstance(inserted["f"], float)
    assert cli("run", "list", "--json").returncode == 0
