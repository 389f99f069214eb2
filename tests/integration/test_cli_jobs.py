"""The job, logs and tier commands as a user types them."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import main
from tests.conftest import RunCli


def cli(home: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_job_run_in_a_real_process_exits_0_or_1(run_cli: RunCli, tmp_path: Path) -> None:
    run = run_cli
    assert run("table", "create", "Hello").returncode == 0
    assert (
        run(
            "job", "create", "hello", "--every", "1", "--unit", "hour", "--template", "hello"
        ).returncode
        == 0
    )
    ok = run("job", "run", "hello")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Hello has 1 rows" in ok.stdout and "Run succeeded" in ok.stdout
    bad = tmp_path / "bad.py"
    bad.write_text("def hello():\n    raise ValueError('kaboom 42')\n")
    assert run("job", "script", "hello", "--set", str(bad)).returncode == 0
    failed = run("job", "run", "hello")
    assert failed.returncode == 1
    assert "Run failed: ValueError: kaboom 42 (line 2)" in failed.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["job", "create", "1bad", "--every", "1", "--unit", "hour"],
        ["job", "create", "ok", "--every", "0", "--unit", "hour"],
        ["job", "create", "ok", "--every", "x", "--unit", "hour"],
        ["job", "create", "ok", "--every", "1", "--unit", "week"],
        ["job", "create", "ok", "--every", "1", "--unit", "hour", "--timeout", "3601"],
        ["job", "create", "ok", "--every", "1", "--unit", "hour", "--start", "tomorrow"],
        ["job", "create", "ok", "--every", "1", "--unit", "hour", "--template", "nope"],
        ["job", "create", "ok", "--every", "1"],
        ["job", "create", "ok", "--every", "1", "--unit", "hour", "--retries", "11"],
        ["job", "create", "ok", "--every", "1", "--unit", "hour", "--retries", "-1"],
        ["job", "create", "ok", "--every", "1", "--unit", "hour", "--retries", "two"],
        ["job", "create", "ok", "--every", "1", "--unit", "hour", "--retry-delay", "0"],
        ["job", "create", "ok", "--every", "1", "--unit", "hour", "--retry-delay", "0.5"],
        ["job", "create", "Existing", "--every", "1", "--unit", "hour"],
        ["job", "run", "missing"],
        ["job", "enable", "missing"],
        ["logs", "--job", "missing"],
        ["tier", "gold"],
    ],
)
def test_bad_job_input_exits_2_with_one_line(
    home: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        cli(home, "job", "create", "existing", "--every", "1", "--unit", "hour", capsys=capsys)[0]
        == 0
    )
    code, out, err = cli(home, *args, capsys=capsys)
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1, err
    out = cli(home, "job", "list", "--json", capsys=capsys)[1]
    assert [j["name"] for j in json.loads(out)] == ["existing"]


def test_a_script_with_a_syntax_error_is_refused_and_the_old_kept(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(home, "job", "create", "tidy", "--every", "1", "--unit", "day", capsys=capsys)
    before = cli(home, "job", "script", "tidy", capsys=capsys)[1]
    broken = tmp_path / "broken.py"
    broken.write_text("def tidy():\n    x = (\n")
    code, _, err = cli(home, "job", "script", "tidy", "--set", str(broken), capsys=capsys)
    assert code == 2 and "syntax error on line 2" in err
    assert cli(home, "job", "script", "tidy", capsys=capsys)[1] == before
    huge = tmp_path / "huge.py"
    huge.write_text("x = 1\n" * 200_000)
    assert cli(home, "job", "script", "tidy", "--set", str(huge), capsys=capsys)[0] == 2


def test_show_lists_runs_and_logs_filter_by_job(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(home, "job", "create", "quiet", "--every", "1", "--unit", "hour", capsys=capsys)
    cli(home, "job", "create", "other", "--every", "1", "--unit", "hour", capsys=capsys)
    assert cli(home, "job", "run", "quiet", capsys=capsys)[0] == 0
    out = cli(home, "job", "show", "quiet", "--json", capsys=capsys)[1]
    shown = json.loads(out)
    assert shown["enabled"] is False and shown["last_run"] is not None
    assert [r["status"] for r in shown["runs"]] == ["succeeded"]
    assert cli(home, "job", "run", "other", capsys=capsys)[0] == 0
    entries = json.loads(cli(home, "logs", "--job", "quiet", "--json", capsys=capsys)[1])
    assert {e["job"] for e in entries} == {"quiet"}
    assert "empty scheduled job" in entries[1]["message"]


def test_tier_limits_enabling(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a", "b"):
        cli(home, "job", "create", name, "--every", "1", "--unit", "hour", capsys=capsys)
    assert cli(home, "tier", "free", capsys=capsys)[0] == 0
    assert cli(home, "job", "enable", "a", capsys=capsys)[0] == 0
    code, _, err = cli(home, "job", "enable", "b", capsys=capsys)
    assert code == 2 and "free tier allows 1 enabled job" in err and "a" in err
    assert cli(home, "tier", "standard", capsys=capsys)[0] == 0
    assert cli(home, "job", "enable", "b", capsys=capsys)[0] == 0
    code, _, err = cli(home, "tier", "free", capsys=capsys)
    assert code == 2 and "2 are enabled" in err
    assert cli(home, "tier", capsys=capsys)[1].startswith("standard")
    assert cli(home, "job", "disable", "b", capsys=capsys)[0] == 0
    jobs = json.loads(cli(home, "job", "list", "--json", capsys=capsys)[1])
    assert [(j["name"], j["enabled"]) for j in jobs] == [("a", True), ("b", False)]


def processes_marked(marker: str) -> list[int]:
    """Processes whose environment holds `marker` (what they inherited from us)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass  # gone, or not ours to read
    return found


def test_a_job_run_collects_its_garbage_as_ever(
    home: Path, tmp_path: Path, run_cli: RunCli, capsys: pytest.CaptureFixture[str]
) -> None:
    """`job run` loads its modules with the cyclic collector paused, and
    forks its script host from itself: the job's script still has it on, and
    so has a program that runs a command in its own process."""
    script = tmp_path / "cycles.py"
    script.write_text("import gc\ndef cycles():\n    print('collecting', gc.isenabled())\n")
    create = ["job", "create", "cycles", "--every", "1", "--unit", "none", "--script", str(script)]
    assert cli(home, *create, capsys=capsys)[0] == 0 and gc.isenabled()
    ran = run_cli("job", "run", "cycles")
    assert ran.returncode == 0 and "collecting True" in ran.stdout, ran.stdout + ran.stderr


@pytest.mark.parametrize(
    "args",
    [["job", "run", "nope"], ["job", "run", "--help"], ["job", "run"], ["job", "run", "ok"]],
)
def test_job_run_leaves_no_script_host_behind(home: Path, args: list[str], unique: str) -> None:
    main(["--home", str(home), "job", "create", "ok", "--every", "1", "--unit", "none"])
    marker = f"MOBILE_CONSOLE_TEST_MARK={unique}"
    subprocess.run(
        [sys.executable, "-m", "console", "--home", str(home), *args],
        capture_output=True,
        timeout=60,
        env={**os.environ, "MOBILE_CONSOLE_TEST_MARK": unique},
    )
    assert processes_marked(marker) == []


def test_retries_are_kept_and_shown(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["job", "create", "flaky", "--every", "1", "--unit", "hour"]
    assert cli(home, *args, "--retries", "3", "--retry-delay", "30", capsys=capsys)[0] == 0
    shown = json.loads(cli(home, "job", "show", "flaky", "--json", capsys=capsys)[1])
    assert (shown["retries"], shown["retry_delay"]) == (3, 30)
    assert (
        "retries:      3, first after 30 s" in cli(home, "job", "show", "flaky", capsys=capsys)[1]
    )


def test_a_start_without_offset_is_wall_time_in_the_jobs_zone(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = cli(home, "job", "create", "ny", "--every", "1", "--unit", "day",
               "--start", "2027-03-10T09:00", "--timezone", "America/New_York",
               capsys=capsys)  # fmt: skip
    assert made[0] == 0, made[2]
    shown = json.loads(cli(home, "job", "show", "ny", "--json", capsys=capsys)[1])
    assert shown["start"] == "2027-03-10T14:00:00+00:00"  # 09:00 EST, whatever the machine's zone
    text = cli(home, "job", "show", "ny", capsys=capsys)[1]
    assert "2027-03-10 09:00:00 in America/New_York" in text  # the time the user gave, shown


def test_a_start_in_the_spring_forward_gap_is_refused_with_one_line(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(home, "job", "create", "gap", "--every", "1", "--unit", "day",
                         "--start", "2027-03-14T02:30", "--timezone", "America/New_York",
                         capsys=capsys)  # fmt: skip
    assert code == 2 and err.count("\n") == 1
    assert "does not exist in America/New_York" in err
    assert "gap" not in cli(home, "job", "list", capsys=capsys)[1]
    # the repeated hour in autumn is no gap: the first 01:30 (EDT) is taken
    code, _, err = cli(home, "job", "create", "fold", "--every", "1", "--unit", "day",
                       "--start", "2027-11-07T01:30", "--timezone", "America/New_York",
                       capsys=capsys)  # fmt: skip
    assert code == 0, err
    shown = json.loads(cli(home, "job", "show", "fold", "--json", capsys=capsys)[1])
    assert shown["start"] == "2027-11-07T05:30:00+00:00"


def test_job_run_piped_into_head_still_runs_the_job_to_its_end(
    home: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    script = tmp_path / "chatty.py"
    script.write_text(  # far more than a pipe holds, then the write that matters
        "def chatty():\n"
        "    for i in range(20000):\n"
        "        print('line', i)\n"
        "    tables.get_table('Done', create=True).insert({'ok': True})\n"
    )
    made = run_cli("job", "create", "chatty", "--every", "1", "--unit", "none",
                   "--script", str(script))  # fmt: skip
    assert made.returncode == 0, made.stderr
    with subprocess.Popen(
        [sys.executable, "-m", "console", "--home", str(home), "job", "run", "chatty"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "MOBILE_CONSOLE_HOME": str(home)},
    ) as piped:  # `| head -2`
        assert piped.stdout is not None and piped.stderr is not None
        first = [piped.stdout.readline() for _ in range(2)]
        piped.stdout.close()
        err = piped.stderr.read()
        code = piped.wait(60)
    assert b"Run started" in first[0]
    assert code == 0, err
    assert err == b""
    shown = json.loads(run_cli("job", "show", "chatty", "--json").stdout)
    assert shown["runs"][0]["status"] == "succeeded"
    assert json.loads(run_cli("table", "rows", "Done", "--json").stdout)[0]["ok"] is True
