"""Mobile Console: a desktop management console for a local mobile backend."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # `console.__version__` is the installed distribution's version, read only
    # when asked for: importlib.metadata costs every command 20 ms otherwise.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("mobile-console")
        except PackageNotFoundError:
            return "unknown (not installed)"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
