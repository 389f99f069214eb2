"""The operating system's keyring, through the `keyring` package: where
secret values live, and the one plain message when none is usable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from console.core.errors import SecretsUnavailableError

FIX_HINT = (
    "unlock a Secret Service such as gnome-keyring or KWallet, "
    "or choose a backend with PYTHON_KEYRING_BACKEND"
)


class Keyring:
    """The OS keyring, through the `keyring` package, under one service name
    per console database so two homes never share secrets (`install_id`
    gives the database's id: `Settings.install_id`)."""

    def __init__(self, install_id: Callable[[], str], backend: Any | None = None) -> None:
        self._install_id = install_id
        self._backend = backend
        self._load_error: str | None = None
        self._service: str | None = None

    def backend(self) -> Any:
        if self._backend is None:
            import keyring
            from keyring.backends import fail

            try:
                self._backend = keyring.get_keyring()
            except Exception as e:  # PYTHON_KEYRING_BACKEND names one that cannot load
                self._load_error = f"{type(e).__name__}: {e}"
                self._backend = fail.Keyring()  # type: ignore[no-untyped-call]
        return self._backend

    @property
    def backend_name(self) -> str:
        backend = self.backend()
        return f"{type(backend).__module__}.{type(backend).__qualname__}"

    def problem(self) -> str | None:
        """Why no secret can be kept, or None when the keyring is usable."""
        from keyring.backends import chainer, fail

        backend = self.backend()
        if isinstance(backend, fail.Keyring) or (
            isinstance(backend, chainer.ChainerBackend) and not backend.backends
        ):
            why = f"; loading the chosen one failed: {self._load_error}" if self._load_error else ""
            return f"no usable keyring (backend {self.backend_name}{why}): {FIX_HINT}"
        return None

    def service(self) -> str:
        if self._service is None:
            self._service = f"mobile-console/{self._install_id()}"
        return self._service

    def set(self, name: str, value: str) -> None:
        self._call("store", lambda b: b.set_password(self.service(), name, value))

    def get(self, name: str) -> str | None:
        return self._call("read", lambda b: b.get_password(self.service(), name))  # type: ignore[no-any-return]

    def delete(self, name: str) -> None:
        from keyring.errors import PasswordDeleteError

        try:
            self._call("delete", lambda b: b.delete_password(self.service(), name))
        except SecretsUnavailableError as e:
            if not isinstance(e.__cause__, PasswordDeleteError):
                raise

    def _call(self, verb: str, action: Any) -> Any:
        problem = self.problem()
        if problem:
            raise SecretsUnavailableError(f"cannot {verb} a secret: {problem}")
        from keyring.errors import PasswordDeleteError

        try:
            return action(self.backend())
        except PasswordDeleteError as e:
            raise SecretsUnavailableError(str(e)) from e
        except Exception as e:  # D-Bus, a locked collection, a dismissed prompt…
            raise SecretsUnavailableError(
                f"cannot {verb} a secret: the keyring ({self.backend_name}) said "
                f"{type(e).__name__}: {e}; {FIX_HINT}"
            ) from None
