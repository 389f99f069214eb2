"""Opening the console window from the command line."""

from __future__ import annotations

import os
import sys

from console.core.errors import ConsoleError
from console.core.paths import resources_dir


def apply_theme() -> None:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if isinstance(app, QApplication) and not app.property("mobile_console_themed"):
        app.setStyleSheet((resources_dir() / "theme.qss").read_text("utf-8"))
        app.setProperty("mobile_console_themed", True)


def check_display() -> None:
    """Qt aborts the process without a display; say so plainly instead."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    ):
        raise ConsoleError(
            "no display to open the window on: run it in a desktop session, or set "
            "QT_QPA_PLATFORM=offscreen (the CLI commands need no display)"
        )


def launch(home: str | None, db_url: str | None, *, demo: bool = False) -> int:
    check_display()
    from PySide6.QtWidgets import QApplication

    from console.gui.main_window import MainWindow
    from console.gui.shell import icon

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Mobile Console")
    app.setDesktopFileName("mobile-console")
    app.setWindowIcon(icon("app"))
    apply_theme()
    if demo:
        from console.demo import start_demo

        started = start_demo(home, db_url)
        window = MainWindow(
            started.services, keyring_note=started.keyring_note, on_close=started.close
        )
        window.notify(
            f"demo home: {started.services.home} · Twitter stand-in at {started.standin.search_url}"
        )
    else:
        from console.app import open_services

        services = open_services(home, db_url)
        window = MainWindow(services, on_close=services.close)
    window.show()
    return int(app.exec())
