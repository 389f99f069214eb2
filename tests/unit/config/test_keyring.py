"""The keyring: one service name per console database, and a plain refusal,
with the fix, when no keyring can keep a secret."""

from __future__ import annotations

import pytest
from keyring.backends import fail

from console.core.config.keyring import FIX_HINT, Keyring
from console.core.errors import SecretsUnavailableError
from console.demo.memory_keyring import MemoryKeyring


def test_secrets_are_kept_under_the_databases_own_service_name() -> None:
    backend = MemoryKeyring()
    first, second = Keyring(lambda: "db-1", backend), Keyring(lambda: "db-2", backend)
    first.set("TOKEN", "one-secret")
    second.set("TOKEN", "two-secret")
    assert first.get("TOKEN") == "one-secret" and second.get("TOKEN") == "two-secret"
    assert backend.values[("mobile-console/db-1", "TOKEN")] == "one-secret"
    assert first.problem() is None


def test_deleting_a_secret_that_is_not_there_is_no_error() -> None:
    keyring = Keyring(lambda: "db", MemoryKeyring())
    keyring.delete("NEVER_SET")
    keyring.set("TOKEN", "tok-123456")
    keyring.delete("TOKEN")
    assert keyring.get("TOKEN") is None


def test_no_usable_keyring_is_refused_with_the_fix() -> None:
    keyring = Keyring(lambda: "db", fail.Keyring())  # type: ignore[no-untyped-call]
    problem = keyring.problem()
    assert problem is not None and problem.startswith("no usable keyring") and FIX_HINT in problem
    with pytest.raises(SecretsUnavailableError, match="cannot store a secret: no usable keyring"):
        keyring.set("TOKEN", "tok-123456")
    with pytest.raises(SecretsUnavailableError, match="cannot read a secret"):
        keyring.get("TOKEN")


class _Locked(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("the collection is locked")


def test_a_keyring_that_fails_says_what_it_said_and_the_fix() -> None:
    keyring = Keyring(lambda: "db", _Locked())
    with pytest.raises(SecretsUnavailableError) as raised:
        keyring.get("TOKEN")
    assert "RuntimeError: the collection is locked" in str(raised.value)
    assert FIX_HINT in str(raised.value)


def test_a_keyring_backend_that_cannot_load_is_refused_with_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import keyring.core

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "no_such_module.Keyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # detect again, from the env
    keyring_ = Keyring(lambda: "db")
    problem = keyring_.problem()
    assert problem is not None and problem.startswith("no usable keyring")
    assert "loading the chosen one failed" in problem
    assert "No module named 'no_such_module'" in problem
    with pytest.raises(SecretsUnavailableError, match="no usable keyring"):
        keyring_.set("TOKEN", "tok-123456")
