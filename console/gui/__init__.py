"""The console window (PySide6), a thin layer over `console.core`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.gui.main_window import MainWindow


def create_window(home: str | Path | None = None, db_url: str | None = None) -> MainWindow:
    """The main window, wired to its services, for an existing QApplication
    (tests and embedding). Closing it stops its scheduler and closes the
    database."""
    from console.app import open_services
    from console.gui.launch import apply_theme
    from console.gui.main_window import MainWindow

    apply_theme()
    services = open_services(home, db_url)
    return MainWindow(services, on_close=services.close)
