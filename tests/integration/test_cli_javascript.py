"""JavaScript jobs and redirects from the command line, as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_cli_jobs import cli


def test_a_js_file_makes_a_javascript_job_shown_with_its_language(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "hello.js"
    script.write_text("function hello() {\n  console.log('hello %s', 'from JavaScript');\n}\n")
    code, out, err = cli(
        home,
        "job",
        "create",
        "hello",
        "--every",
        "1",
        "--unit",
        "hour",
        "--script",
        str(script),
        capsys=capsys,
    )
    assert code == 0, err
    code, out, _ = cli(home, "job", "show", "hello", "--json", capsys=capsys)
    assert json.loads(out)["language"] == "javascript"
    code, out, _ = cli(home, "job", "list", "--json", capsys=capsys)
    assert [j["language"] for j in json.loads(out)] == ["javascript"]
    code, out, _ = cli(home, "job", "run", "hello", capsys=capsys)
    assert code == 0 and "hello from JavaScript" in out

    code, _, _ = cli(
        home,
        "job",
        "create",
        "tpl",
        "--every",
        "1",
        "--unit",
        "hour",
        "--template",
        "getUpdates-js",
        capsys=capsys,
    )
    assert code == 0
    code, out, _ = cli(home, "job", "show", "tpl", "--json", capsys=capsys)
    assert json.loads(out)["language"] == "javascript"
    code, out, _ = cli(home, "job", "script", "tpl", capsys=capsys)
    assert "function tpl() {" in out


def test_a_js_file_that_does_not_compile_is_refused_and_nothing_changes(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.js"
    bad.write_text("function bad() {\n  var x = ;\n}\n")
    code, _, err = cli(
        home,
        "job",
        "create",
        "bad",
        "--every",
        "1",
        "--unit",
        "hour",
        "--script",
        str(bad),
        capsys=capsys,
    )
    assert code == 2
    assert err.strip().splitlines() == [
        "mobile-console: syntax error on line 2: SyntaxError: Unexpected token ';'"
    ]
    code, out, _ = cli(home, "job", "list", "--json", capsys=capsys)
    assert json.loads(out) == []

    good = tmp_path / "good.js"
    good.write_text("function good() {}\n")
    assert (
        cli(
            home,
            "job",
            "create",
            "good",
            "--every",
            "1",
            "--unit",
            "hour",
            "--script",
            str(good),
            capsys=capsys,
        )[0]
        == 0
    )
    code, _, err = cli(home, "job", "script", "good", "--set", str(bad), capsys=capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "line 2" in err
    code, out, _ = cli(home, "job", "script", "good", capsys=capsys)
    assert out == "function good() {}\n"


def test_redirects_are_added_listed_and_deleted(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(home, "redirect", "add", "api.twitter.com", "http://x/", capsys=capsys)
    assert code == 2 and err.count("\n") == 1 and "FROM must be an http" in err
    code, _, err = cli(home, "redirect", "add", "https://a/", "file:///etc", capsys=capsys)
    assert code == 2 and "TO must be an http" in err
    code, out, _ = cli(home, "redirect", "list", "--json", capsys=capsys)
    assert json.loads(out) == []
    code, _, _ = cli(
        home,
        "redirect",
        "add",
        "https://api.twitter.com/",
        "http://127.0.0.1:8080/",
        capsys=capsys,
    )
    assert code == 0
    code, out, _ = cli(home, "redirect", "list", "--json", capsys=capsys)
    assert json.loads(out) == [{"from": "https://api.twitter.com/", "to": "http://127.0.0.1:8080/"}]
    code, _, err = cli(home, "redirect", "delete", "https://nothing/", capsys=capsys)
    assert code == 2 and "no redirect" in err
    assert cli(home, "redirect", "delete", "https://api.twitter.com/", capsys=capsys)[0] == 0
    code, out, _ = cli(home, "redirect", "list", "--json", capsys=capsys)
    assert json.loads(out) == []
