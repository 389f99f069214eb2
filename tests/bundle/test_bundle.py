"""The one-folder bundle behaves like the installed console: its CLI, a job
run in its own child process (importing what the bundle ships), and the
window. Slow (it builds the bundle); run it alone with `-m bundle`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.fakes.dap_client import stop_at_line
from tests.integration.test_debugger import BREAK_LINE, SCRIPT, free_port
from tests.integration.test_window_process import start_window

pytestmark = [pytest.mark.bundle, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
SIZE_TARGET_MB = 250  # 150 before the JavaScript engine (V8, about 85 MB)
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("PyInstaller")
    out = tmp_path_factory.mktemp("bundle")
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level=WARN",
            "--distpath",
            str(out / "dist"),
            "--workpath",
            str(out / "build"),
            str(ROOT / "build_spec" / "mobile-console.spec"),
        ],
        capture_output=True,
        text=True,
        cwd=out,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    return out / "dist" / "mobile-console"


def run(
    bundle: Path, args: Sequence[str], home: Path, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bundle / "mobile-console"), "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,  # type: ignore[call-overload]
    )


def test_the_bundle_stays_small_and_carries_its_icon(bundle: Path) -> None:
    files = [f for f in bundle.rglob("*") if f.is_file() and not f.is_symlink()]
    size = sum(f.stat().st_size for f in files) / 2**20
    assert size < SIZE_TARGET_MB, f"bundle is {size:.0f} MB"
    assert list(bundle.rglob("resources/icons/app.svg"))
    assert list(bundle.rglob("resources/mobile-console.desktop"))
    assert list(bundle.rglob("resources/icons/hicolor/scalable/apps/mobile-console.svg"))
    assert not list(bundle.rglob("*WebEngine*"))
    assert not list(bundle.rglob("libgtk*"))


def test_the_bundle_puts_itself_in_the_menu_and_knows_its_version(
    bundle: Path, home: Path, tmp_path: Path
) -> None:
    from tests.integration.test_desktop_files import validate

    version = run(bundle, ["--version"], home)
    assert version.returncode == 0, version.stderr
    assert version.stdout.split() == ["mobile-console", VERSION]

    data = tmp_path / "data"
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    installed = run(bundle, ["desktop-entry", "install"], home, env=env)
    assert installed.returncode == 0, installed.stderr
    entry = validate(data / "applications" / "mobile-console.desktop")
    assert entry["Exec"] == str(bundle / "mobile-console")
    assert (data / "icons" / "hicolor" / "256x256" / "apps" / f"{entry['Icon']}.png").is_file()
    assert run(bundle, ["desktop-entry", "uninstall"], home, env=env).returncode == 0
    assert not [p for p in data.rglob("*") if p.is_file()]


def test_the_cli_tables_and_a_job_run_from_the_bundle(bundle: Path, home: Path) -> None:
    help_text = run(bundle, ["--help"], home)
    assert help_text.returncode == 0
    assert "table" in help_text.stdout and "worker" in help_text.stdout

    assert run(bundle, ["table", "create", "Notes"], home).returncode == 0
    script = home / "note.py"
    script.write_text(
        "import requests_oauthlib\n"
        "def note():\n"
        "    row = tables.get_table('Notes').insert({'text': 'from the bundle', 'n': 2**60 + 1})\n"
        "    print('stored', row['id'], requests_oauthlib.OAuth1.__name__)\n"
    )
    created = run(
        bundle,
        ["job", "create", "note", "--every", "1", "--unit", "none", "--script", str(script)],
        home,
    )
    assert created.returncode == 0, created.stderr

    ran = run(bundle, ["job", "run", "note"], home)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "stored 1 OAuth1" in ran.stdout

    rows = json.loads(run(bundle, ["table", "rows", "Notes", "--json"], home).stdout)
    assert [(r["text"], r["n"]) for r in rows] == [("from the bundle", 2**60 + 1)]

    js = home / "jsnote.js"
    js.write_text(
        "var notes = tables.getTable('Notes');\n"
        "function jsnote() {\n"
        "  notes.insert({text: 'from JavaScript', n: 3}, {success: function (row) {\n"
        "    console.log('stored %d with %s', row.id, typeof require('request').get);\n"
        "  }});\n"
        "}\n"
    )
    created = run(
        bundle,
        ["job", "create", "jsnote", "--every", "1", "--unit", "none", "--script", str(js)],
        home,
    )
    assert created.returncode == 0, created.stderr
    ran = run(bundle, ["job", "run", "jsnote"], home)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "stored 2 with function" in ran.stdout

    bad = run(bundle, ["table", "create", "1bad"], home)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_a_dap_client_debugs_a_job_run_by_the_bundle(bundle: Path, home: Path) -> None:
    """debugpy (its vendored pydevd is data the spec collects) in the
    bundle's own script host: a breakpoint stops, a local reads, the run ends."""
    script = home / "counter.py"
    script.write_text(SCRIPT)
    created = run(
        bundle,
        ["job", "create", "counter", "--every", "1", "--unit", "none", "--script", str(script)],
        home,
    )
    assert created.returncode == 0, created.stderr
    port = free_port()
    listen = ["job", "debug", "counter", "--listen", f"127.0.0.1:{port}", "--wait"]
    proc = subprocess.Popen(
        [str(bundle / "mobile-console"), "--home", str(home), *listen],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().rstrip("\n")
        assert first.startswith(f"listening on 127.0.0.1:{port}, script "), first
        client, thread, names = stop_at_line(port, first.split(", script ", 1)[1], BREAK_LINE)
        assert names["total"] == "10"
        client.request("continue", threadId=thread)
        out, err = proc.communicate(timeout=60)
        client.close()
        assert proc.returncode == 0 and "total is 10" in out, out + err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_the_editors_helper_completes_from_the_bundle(bundle: Path) -> None:
    """The editor's completion helper, the bundle's own executable with
    `__script-assist__`: the script API from its stub, and the standard
    library through jedi and the typeshed stubs the bundle keeps."""
    from console.gui.editor.assist import Request
    from console.gui.editor.assist_client import AssistProcess

    helper = AssistProcess([str(bundle / "mobile-console"), "__script-assist__"])
    try:
        api = helper.complete(Request("tables.get_table('x').wh", 1, 24))
        assert [c.name for c in api.items] == ["where"]
        stdlib = helper.complete(Request("import json\njson.dump", 2, 9))
        assert {"dump", "dumps"} <= {c.name for c in stdlib.items}
    finally:
        helper.close()


def test_postgresql_through_the_bundle(bundle: Path, home: Path, pg_url: str) -> None:
    db = ["--db", pg_url]
    assert run(bundle, [*db, "table", "create", "Shared"], home).returncode == 0
    listing = run(bundle, [*db, "table", "list", "--json"], home)
    assert listing.returncode == 0, listing.stderr
    assert [t["name"] for t in json.loads(listing.stdout)] == ["Shared"]


def test_the_window_opens_and_closes_cleanly(bundle: Path, home: Path, tmp_path: Path) -> None:
    config = tmp_path / "config"
    window = start_window([str(bundle / "mobile-console")], home, config)
    time.sleep(1.0)  # painted and wired, scheduler and warm spare started
    assert window.poll() is None, window.communicate()[1]
    window.send_signal(signal.SIGTERM)
    _out, err = window.communicate(timeout=20)
    assert window.returncode == 0, err
    # Closing saved the window's place: the close path ran, not a kill.
    assert "page=" in (config / "mobile-console" / "window.conf").read_text()
