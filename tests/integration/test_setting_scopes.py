"""`setting set KEY [VALUE] [--secret] [--jobs A,B]`: a setting scoped to
jobs is seen by those jobs' scripts only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.cli import main
from tests.conftest import RunCli


def cli(capsys: pytest.CaptureFixture[str], home: Path, *words: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), *words])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_scoped_setting_is_seen_only_by_its_jobs(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("reader", "other"):
        script = tmp_path / f"{name}.py"
        script.write_text(
            f"def {name}():\n"
            "    console.log('sees', config.app_settings.get('ONLY_READER', 'nothing'))\n"
            "    console.log('and', config.app_settings.get('EVERYONE', 'nothing'))\n"
        )
        assert cli(capsys, home, "job", "create", name, "--every", "1", "--unit", "none",
                   "--script", str(script))[0] == 0  # fmt: skip
    code, out, _ = cli(
        capsys, home, "setting", "set", "ONLY_READER", "for-reader", "--jobs", "reader"
    )
    assert code == 0 and "only reader see it" in out
    assert cli(capsys, home, "setting", "set", "EVERYONE", "shared")[0] == 0

    code, out, _ = cli(capsys, home, "job", "run", "reader")
    assert code == 0 and "sees for-reader" in out and "and shared" in out
    code, out, _ = cli(capsys, home, "job", "run", "other")
    assert code == 0 and "sees nothing" in out and "and shared" in out

    code, out, _ = cli(capsys, home, "setting", "list", "--json")
    assert '"jobs": [\n      "reader"\n    ]' in out


def test_a_scope_naming_no_job_is_refused(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = cli(capsys, home, "setting", "set", "X", "v", "--jobs", "nosuchjob")
    assert code == 2 and err.strip() == "mobile-console: no job named 'nosuchjob'"
    assert cli(capsys, home, "setting", "list", "--json")[1].strip() == "[]"


def test_a_value_piped_from_a_windows_file_loses_its_crlf(run_cli: RunCli) -> None:
    assert run_cli("setting", "set", "QUERY", stdin="#mobileservices\r\n").returncode == 0
    listed = json.loads(run_cli("setting", "list", "--json").stdout)
    assert [row["value"] for row in listed if row["name"] == "QUERY"] == ["#mobileservices"]


def test_a_deleted_jobs_scope_does_not_pass_to_a_new_job_of_its_name(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "a1.py"
    script.write_text(
        "def a1():\n    console.log('sees', config.app_settings.get('SCOPED', 'nothing'))\n"
    )
    create = ("job", "create", "a1", "--every", "1", "--unit", "none", "--script", str(script))
    assert cli(capsys, home, *create)[0] == 0
    assert cli(capsys, home, "job", "create", "b2", "--every", "1", "--unit", "none")[0] == 0
    assert cli(capsys, home, "setting", "set", "SCOPED", "for-a1", "--jobs", "a1")[0] == 0
    assert cli(capsys, home, "setting", "set", "SHARED", "ab", "--jobs", "a1,b2")[0] == 0
    assert cli(capsys, home, "job", "run", "a1")[1].count("sees for-a1") == 1

    assert cli(capsys, home, "job", "delete", "a1")[0] == 0
    assert cli(capsys, home, *create)[0] == 0  # another job, by the same name
    code, out, _ = cli(capsys, home, "job", "run", "a1")
    assert code == 0 and "sees nothing" in out and "for-a1" not in out

    listed = json.loads(cli(capsys, home, "setting", "list", "--json")[1])
    assert {row["name"]: row["jobs"] for row in listed} == {"SCOPED": [], "SHARED": ["b2"]}
    code, out, _ = cli(capsys, home, "setting", "list")
    assert "none (its jobs were deleted)" in out
