"""Console settings: one declaration, checked values, secrets in the keyring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from console.app import Services, open_services
from console.core.config.masking import MASK
from console.core.config.settings import JOB_MEMORY, SETTINGS, SPECS, spec
from console.core.errors import ConsoleError, NotFoundError
from console.demo.memory_keyring import MemoryKeyring


def test_every_setting_declares_type_default_help_and_a_valid_default() -> None:
    for s in SETTINGS:
        assert s.help.endswith(".") and "\n" not in s.help and len(s.help) < 160
        assert s.check(s.default) == s.default
        if s.type is int:
            assert s.minimum is not None and s.maximum is not None


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("tier", " Standard ", "standard"),
        ("log_retention_days", "7", 7),
        ("failure_webhook", "https://hooks.example/x", "https://hooks.example/x"),
        ("failure_webhook", "", ""),
    ],
)
def test_check_converts_what_users_type(key: str, value: Any, expected: Any) -> None:
    assert spec(key).check(value) == expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("tier", "gold"),
        ("log_retention_days", 0),
        ("log_retention_days", "1.5"),
        ("log_retention_days", True),
        ("failure_webhook", "ftp://hooks.example/x"),
        ("failure_webhook", "hooks.example/x"),
    ],
)
def test_check_refuses_bad_values(key: str, value: Any) -> None:
    with pytest.raises(ConsoleError):
        SPECS[key].check(value)


def test_job_memory_limit_is_declared_once_with_its_bounds() -> None:
    with pytest.raises(ConsoleError, match="at least 64"):
        JOB_MEMORY.check(63, "the memory limit (MB)")
    assert JOB_MEMORY.check("65536") == 65536


def test_a_set_value_is_read_back_and_a_refused_one_changes_nothing(services: Services) -> None:
    services.settings.set("run_log_max_lines", 500)
    with pytest.raises(ConsoleError):
        services.settings.set("run_log_max_lines", 5)
    assert services.settings.get("run_log_max_lines") == 500
    with pytest.raises(NotFoundError):
        services.settings.get("nope")


def test_a_secret_setting_lives_in_the_keyring_and_shows_masked(
    services: Services, memory_keyring: MemoryKeyring
) -> None:
    assert services.settings.all()["failure_webhook"] == ""
    url = "https://hooks.example/hook?token=abcdef"
    services.set_setting("failure_webhook", url)
    assert services.settings.get("failure_webhook") == url
    assert services.settings.all()["failure_webhook"] == MASK
    assert url in memory_keyring.values.values()
    with services.store.read() as conn:
        dumped = "".join(str(r) for r in conn.exec_driver_sql("SELECT * FROM settings"))
    assert "abcdef" not in dumped
    services.set_setting("failure_webhook", "")
    assert memory_keyring.values == {} and services.settings.get("failure_webhook") == ""


def test_install_id_is_made_once_per_database(home: Path) -> None:
    first = open_services(home, keyring_backend=MemoryKeyring())
    second = open_services(home, keyring_backend=MemoryKeyring())
    try:
        assert first.keyring.service() == second.keyring.service()
        assert first.settings.install_id() not in {"", None}
    finally:
        first.close()
        second.close()
