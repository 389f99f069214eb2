"""An in-memory keyring backend: where the demo keeps its made-up credentials
when the machine has no usable keyring (this process's memory, never a file),
and the fast unit tests' keyring (the integration tests use the real Secret
Service)."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    @properties.classproperty
    def priority(cls) -> float:
        # Every backend subclass registers with keyring's discovery; this one
        # must only ever be passed explicitly, never chosen by keyring.
        raise RuntimeError("an in-memory backend, passed explicitly")

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.values.pop((service, username), None) is None:
            raise PasswordDeleteError(f"no secret {username}")
