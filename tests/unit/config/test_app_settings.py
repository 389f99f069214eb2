"""App settings and secrets, on an in-memory keyring."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.app import Services, open_services
from console.core.config.masking import MASK
from console.core.errors import ConsoleError, SecretsUnavailableError
from console.demo.memory_keyring import MemoryKeyring


def test_a_secret_too_short_to_mask_is_refused_with_the_reason(services: Services) -> None:
    with pytest.raises(ConsoleError, match="at least 6: a shorter one cannot be masked"):
        services.app_settings.set("PIN", "abc", secret=True)
    assert services.app_settings.list() == []


def test_plain_settings_live_in_the_database(services: Services) -> None:
    services.app_settings.set("TWITTER_QUERY", "#python")
    (view,) = services.app_settings.list()
    assert (view.name, view.shown, view.is_secret) == ("TWITTER_QUERY", "#python", False)
    assert services.app_settings.resolve().app_settings == {"TWITTER_QUERY": "#python"}


def test_secret_values_live_only_in_the_keyring(
    services: Services, memory_keyring: MemoryKeyring
) -> None:
    services.app_settings.set("TOKEN", "tok-123456", secret=True)
    (view,) = services.app_settings.list()
    assert (view.value, view.shown, view.is_secret) == (None, MASK, True)
    assert list(memory_keyring.values.values()) == ["tok-123456"]
    assert b"tok-123456" not in (services.home / "console.db").read_bytes()
    resolved = services.app_settings.resolve()
    assert resolved.app_settings["TOKEN"] == "tok-123456"
    assert resolved.secret_values == ["tok-123456"]
    services.app_settings.delete("TOKEN")
    assert memory_keyring.values == {}
    assert services.app_settings.list() == []


def test_turning_a_secret_into_a_plain_setting_forgets_the_secret(
    services: Services, memory_keyring: MemoryKeyring
) -> None:
    services.app_settings.set("X", "secret-one", secret=True)
    services.app_settings.set("X", "plain")
    assert memory_keyring.values == {}
    assert services.app_settings.list()[0].shown == "plain"


def test_identity_is_kept_in_the_keyring(services: Services, memory_keyring: MemoryKeyring) -> None:
    services.app_settings.set_identity("ckey-abc", "csecret-xyz")
    assert services.app_settings.identity_is_set()
    assert sorted(memory_keyring.values.values()) == ["ckey-abc", "csecret-xyz"]
    assert services.app_settings.resolve().identity == {
        "twitter_consumer_key": "ckey-abc",
        "twitter_consumer_secret": "csecret-xyz",
    }
    with pytest.raises(ConsoleError, match="identity twitter"):
        services.app_settings.set("twitter_consumer_key", "x")


def test_each_home_has_its_own_keyring_namespace(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    first = open_services(tmp_path / "a", keyring_backend=backend)
    second = open_services(tmp_path / "b", keyring_backend=backend)
    first.app_settings.set("TOKEN", "first-value", secret=True)
    second.app_settings.set("TOKEN", "second-value", secret=True)
    assert first.app_settings.resolve().app_settings["TOKEN"] == "first-value"
    assert second.app_settings.resolve().app_settings["TOKEN"] == "second-value"


@pytest.mark.parametrize("name", ["", "1x", "a b", "x" * 200, "bad$"])
def test_bad_setting_names_are_refused(services: Services, name: str) -> None:
    with pytest.raises(ConsoleError):
        services.app_settings.set(name, "v")
    assert services.app_settings.list() == []


def test_without_a_keyring_secrets_are_refused_and_nothing_is_written(home: Path) -> None:
    from keyring.backends.fail import Keyring as FailKeyring

    services = open_services(home, keyring_backend=FailKeyring())
    with pytest.raises(SecretsUnavailableError, match="PYTHON_KEYRING_BACKEND"):
        services.app_settings.set("TOKEN", "never-stored", secret=True)
    with pytest.raises(SecretsUnavailableError):
        services.app_settings.set_identity("k-123456", "s-123456")
    assert services.app_settings.list() == []
    assert services.app_settings.list("identity") == []
    services.app_settings.set("PLAIN", "fine")  # plain settings need no keyring
    assert [v.name for v in services.app_settings.list()] == ["PLAIN"]


def test_a_job_needing_an_unreadable_secret_fails_with_the_reason(
    home: Path, memory_keyring: MemoryKeyring
) -> None:
    from keyring.backends.fail import Keyring as FailKeyring

    with_keyring = open_services(home, keyring_backend=memory_keyring)
    with_keyring.app_settings.set("TOKEN", "tok-abcdef", secret=True)
    with_keyring.jobs.create(
        "needs", script="def needs():\n    console.log(config.app_settings['TOKEN'])\n"
    )
    without = open_services(home, keyring_backend=FailKeyring())
    run = without.runner.run("needs")
    assert run.status == "failed"
    assert run.error is not None and "no usable keyring" in run.error
    assert "PYTHON_KEYRING_BACKEND" in run.error


def test_scripts_read_config_and_every_leak_is_masked(services: Services) -> None:
    services.app_settings.set("TOKEN", "tok-9f8e7d6c", secret=True)
    services.app_settings.set("TWITTER_QUERY", "#python")
    services.app_settings.set_identity("ckey-13579", "csecret-24680")
    script = (
        "from urllib.parse import quote\n"
        "def leaky():\n"
        "    token = config.app_settings['TOKEN']\n"
        "    print('token is', token)\n"
        "    console.error('url', 'https://x/?t=' + quote(token + '/+', safe=''))\n"
        "    console.log('key', config.twitter_consumer_key, config.twitter_consumer_secret)\n"
        "    console.log('query', config.app_settings.get('TWITTER_QUERY'))\n"
        "    console.log('missing', config.app_settings.get('NOPE', 'default'))\n"
        "    raise RuntimeError('bad token ' + token)\n"
    )
    services.jobs.create("leaky", script=script)
    run = services.runner.run("leaky")
    log = "\n".join(e.message for e in services.runs.entries(run_id=run.id))
    for secret in ("tok-9f8e7d6c", "ckey-13579", "csecret-24680", "tok-9f8e7d6c%2F%2B"):
        assert secret not in log
        assert secret not in (run.error or "")
    assert f"token is {MASK}" in log
    assert "query #python" in log and "missing default" in log
    assert run.error == f"RuntimeError: bad token {MASK} (line 9)"


def test_a_secret_a_job_prints_in_hex_reaches_neither_the_log_nor_the_database(
    services: Services, home: Path
) -> None:
    services.app_settings.set("TOKEN", "tok-9f8e7d6c", secret=True)
    python = (
        "def hexed():\n"
        "    token = config.app_settings['TOKEN']\n"
        "    print('hex', token.encode().hex(), 'HEX', token.encode().hex().upper())\n"
    )
    javascript = (
        "function jshex() {\n"
        "  var t = require('mobileservice-config').appSettings.TOKEN, h = '';\n"
        "  for (var i = 0; i < t.length; i++) h += t.charCodeAt(i).toString(16);\n"
        "  console.log('charCodeAt hex', h);\n"
        "}\n"
    )
    services.jobs.create("hexed", script=python)
    services.jobs.create("jshex", script=javascript, language="javascript")
    for name in ("hexed", "jshex"):
        run = services.runner.run(name)
        assert run.status == "succeeded", run.error
        log = "\n".join(e.message for e in services.runs.entries(run_id=run.id))
        assert MASK in log
    hexed = b"tok-9f8e7d6c".hex()
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert hexed.encode() not in data and hexed.upper().encode() not in data, path
