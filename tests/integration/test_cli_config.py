"""`mobile-console config`, every console setting from its declaration, as a
user types it; the secret one through the real Secret Service."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from console.core.config.masking import MASK
from console.core.config.settings import SETTINGS
from tests.conftest import RunCli, need


def test_config_lists_every_declared_setting_with_its_default(run_cli: RunCli) -> None:
    listed = run_cli("config", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["key"]: row for row in json.loads(listed.stdout)}
    assert list(rows) == [s.key for s in SETTINGS]
    assert rows["log_retention_days"]["value"] == 30
    assert rows["failure_webhook"]["secret"] is True
    text = run_cli("config").stdout
    assert all(s.key in text for s in SETTINGS)


def test_config_sets_a_setting_and_shows_it(run_cli: RunCli) -> None:
    made = run_cli("config", "log_retention_days", "7")
    assert made.returncode == 0, made.stderr
    assert run_cli("config", "log_retention_days").stdout.strip() == "7"
    shown = json.loads(run_cli("config", "run_log_max_lines", "--json").stdout)
    assert (shown["value"], shown["default"]) == (10_000, 10_000)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("log_retention_days", "0"), "at least 1"),
        (("log_retention_days", "many"), "whole number"),
        (("run_log_max_bytes", "999999999999"), "at most"),
        (("tier", "gold"), "one of free, standard, unlimited"),
        (("no_such_setting", "1"), "no console setting"),
        (("failure_webhook", "https://hooks.example/t0k3n"), "read from stdin"),
    ],
)
def test_a_bad_value_exits_2_with_one_line_and_changes_nothing(
    run_cli: RunCli, args: tuple[str, ...], says: str
) -> None:
    before = run_cli("config", "--json").stdout
    refused = run_cli("config", *args)
    assert refused.returncode == 2
    assert says in refused.stderr and refused.stderr.count("\n") == 1
    assert "t0k3n" not in refused.stderr
    assert run_cli("config", "--json").stdout == before


def test_tier_through_config_keeps_the_enabled_job_limit(run_cli: RunCli) -> None:
    for name in ("a", "b"):
        assert run_cli("job", "create", name, "--every", "1", "--unit", "hour").returncode == 0
        assert run_cli("job", "enable", name).returncode == 0
    refused = run_cli("config", "tier", "free")
    assert refused.returncode == 2 and "disable some first" in refused.stderr
    assert run_cli("tier").stdout.startswith("unlimited")  # the alias sees the same setting
    assert run_cli("tier", "standard").returncode == 0
    assert run_cli("config", "tier").stdout.strip() == "standard"


@pytest.mark.keyring
def test_a_secret_setting_goes_to_the_keyring_from_stdin_and_shows_masked(
    run_cli: RunCli, home: Path
) -> None:
    need(bool(os.environ.get("MOBILE_CONSOLE_TEST_KEYRING")), "no Secret Service session")
    url = "https://hooks.example/run-failed?token=s3cr3t-5e1f"
    bad = run_cli("config", "failure_webhook", stdin="ftp://hooks.example/x\n")
    assert bad.returncode == 2 and "http" in bad.stderr
    made = run_cli("config", "failure_webhook", stdin=url + "\n")
    assert made.returncode == 0, made.stderr
    assert "s3cr3t" not in made.stdout
    assert run_cli("config", "failure_webhook").stdout.strip() == MASK
    assert "s3cr3t" not in run_cli("config", "--json").stdout
    assert b"s3cr3t" not in b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())

    from console.app import open_services

    services = open_services(home)
    try:
        assert services.settings.get("failure_webhook") == url  # what the hook will read
    finally:
        services.close()
    assert run_cli("config", "failure_webhook", "").returncode == 0  # cleared
    assert run_cli("config", "failure_webhook").stdout.strip() == ""


@pytest.mark.keyring
@pytest.mark.parametrize("bad", ["http://[::1/hook", "https://hooks.example:99999/x"])
def test_a_malformed_hook_url_from_stdin_is_one_line_and_changes_nothing(
    run_cli: RunCli, bad: str
) -> None:
    need(bool(os.environ.get("MOBILE_CONSOLE_TEST_KEYRING")), "no Secret Service session")
    refused = run_cli("config", "failure_webhook", stdin=bad + "\n")
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "http" in refused.stderr
    assert "Traceback" not in refused.stderr and bad not in refused.stderr
    assert run_cli("config", "failure_webhook").stdout.strip() == ""


@pytest.mark.keyring
def test_a_hook_url_piped_from_a_windows_file_loses_its_crlf(run_cli: RunCli, home: Path) -> None:
    need(bool(os.environ.get("MOBILE_CONSOLE_TEST_KEYRING")), "no Secret Service session")
    url = "https://hooks.example/run-failed?token=crlf-5e1f"
    assert run_cli("config", "failure_webhook", stdin=url + "\r\n").returncode == 0

    from console.app import open_services

    services = open_services(home)
    try:
        assert services.settings.get("failure_webhook") == url
    finally:
        services.close()
