"""Secrets end to end with the real OS keyring (Secret Service under the
D-Bus session that make test starts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.app import open_services
from console.core.running.log_writer import LogLine
from tests.conftest import RunCli, need

pytestmark = pytest.mark.keyring


@pytest.fixture(autouse=True)
def _real_keyring() -> None:
    need(bool(os.environ.get("MOBILE_CONSOLE_TEST_KEYRING")), "no Secret Service session")
    import keyring

    backend = keyring.get_keyring()
    need(type(backend).__module__.endswith("SecretService"), f"keyring is {backend!r}")


def all_bytes_under(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_identity_and_secret_settings_round_trip_and_never_leak(
    home: Path, run_cli: RunCli
) -> None:
    cli = run_cli
    key, secret, token = "ck-real-5e1f", "cs-real-7a2b", "at-real-9c3d"
    assert cli("identity", "twitter", stdin=f"{key}\n{secret}\n").returncode == 0
    made = cli("setting", "set", "TWITTER_ACCESS_TOKEN", "--secret", stdin=token + "\n")
    assert made.returncode == 0, made.stderr
    listing = cli("setting", "list", "--json")
    assert token not in listing.stdout and "••••••" in listing.stdout
    script = home.parent / "leak.py"
    script.write_text(
        "def leak():\n"
        "    print(config.twitter_consumer_key, config.twitter_consumer_secret)\n"
        "    print(config.app_settings['TWITTER_ACCESS_TOKEN'])\n"
        "    raise ValueError(config.app_settings['TWITTER_ACCESS_TOKEN'])\n"
    )
    assert (
        cli(
            "job", "create", "leak", "--every", "1", "--unit", "hour", "--script", str(script)
        ).returncode
        == 0
    )
    run = cli("job", "run", "leak")
    assert run.returncode == 1
    logs = cli("logs", "--json")
    shown = run.stdout + run.stderr + logs.stdout + listing.stdout
    everything = all_bytes_under(home)
    for value in (key, secret, token):
        assert value not in shown
        assert value.encode() not in everything
    # The values are really there, in the keyring, for the script to use.
    services = open_services(home)
    assert services.app_settings.resolve().app_settings["TWITTER_ACCESS_TOKEN"] == token


def test_a_secret_on_the_command_line_is_refused(home: Path, run_cli: RunCli) -> None:
    cli = run_cli
    result = cli("setting", "set", "TOKEN", "visible-value", "--secret")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert cli("setting", "list", "--json").stdout.strip() == "[]"


def test_a_secret_of_many_lines_is_kept_whole_and_a_line_too_many_is_refused(
    home: Path, run_cli: RunCli
) -> None:
    cli = run_cli
    pem = "-----BEGIN KEY-----\nMIIB0123\nABCD4567\n-----END KEY-----"
    assert cli("setting", "set", "SIGNING_KEY", "--secret", stdin=pem + "\n").returncode == 0
    services = open_services(home)
    assert services.app_settings.resolve().app_settings["SIGNING_KEY"] == pem
    services.close()
    three = cli("identity", "twitter", stdin="k-123456\ns-123456\nextra\n")
    assert three.returncode == 2 and len(three.stderr.strip().splitlines()) == 1
    assert "expected 2 non-empty line(s)" in three.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "console", "--home", str(home), "setting", "set", "BIN", "--secret"],
        input=b"abcdefg\xff\n",
        capture_output=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert bad.stderr == b"mobile-console: stdin is not UTF-8 text; nothing was stored\n"
    assert [s["name"] for s in json.loads(cli("setting", "list", "--json").stdout)] == [
        "SIGNING_KEY"
    ]


def test_no_keyring_is_refused_plainly_and_writes_nothing(home: Path, run_cli: RunCli) -> None:
    cli = run_cli
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = cli("setting", "set", "TOKEN", "--secret", stdin="nowhere-123\n", env=env)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "no usable keyring" in line and "PYTHON_KEYRING_BACKEND" in line
    assert "Secret Service" in line
    identity = cli("identity", "twitter", stdin="k-123456\ns-123456\n", env=env)
    assert identity.returncode == 2
    assert cli("setting", "list", "--json").stdout.strip() == "[]"
    assert b"nowhere-123" not in all_bytes_under(home)


def test_the_childs_command_line_and_environment_hold_no_secret(home: Path) -> None:
    services = open_services(home)
    token = "proc-secret-4d5e6f"
    services.app_settings.set("TOKEN", token, secret=True)
    services.jobs.create(
        "peek",
        script=(
            "import os, time\n"
            "def peek():\n"
            "    console.log('pid', os.getpid(), len(config.app_settings['TOKEN']))\n"
            "    time.sleep(3)\n"
        ),
    )
    seen: dict[str, bytes] = {}

    def on_line(line: LogLine) -> None:
        if line.message.startswith("pid "):
            pid = line.message.split()[1]
            seen["cmdline"] = Path(f"/proc/{pid}/cmdline").read_bytes()
            seen["environ"] = Path(f"/proc/{pid}/environ").read_bytes()

    run = services.runner.run("peek", on_line=on_line)
    assert run.status == "succeeded"
    assert b"script_host" in seen["cmdline"]  # we did look at the child
    assert token.encode() not in seen["cmdline"]
    assert token.encode() not in seen["environ"]


def test_two_homes_keep_separate_secrets(tmp_path: Path) -> None:
    first, second = open_services(tmp_path / "one"), open_services(tmp_path / "two")
    first.app_settings.set("TOKEN", "one-value-1", secret=True)
    second.app_settings.set("TOKEN", "two-value-2", secret=True)
    assert first.app_settings.resolve().app_settings["TOKEN"] == "one-value-1"
    assert second.app_settings.resolve().app_settings["TOKEN"] == "two-value-2"
    first.app_settings.delete("TOKEN")
    assert second.app_settings.resolve().app_settings["TOKEN"] == "two-value-2"
