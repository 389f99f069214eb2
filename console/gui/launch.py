"""Opening the console window from the command line."""

from __future__ import annotations

from console.core.errors import ConsoleError


def launch(home: str | None, db_url: str | None, *, demo: bool = False) -> int:
    raise ConsoleError("the console window is not part of this build yet; use the CLI commands")
