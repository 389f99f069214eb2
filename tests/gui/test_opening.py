"""The program's window paints before the console is open, then attaches;
a console that cannot be opened says why in the window."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from console.app import open_services
from console.gui.main_window import MainWindow, Opened


class SlowOpener:
    """Opens the console at `home` once released, and records its closing."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.started, self.release = threading.Event(), threading.Event()
        self.closed: list[bool] = []

    def __call__(self) -> Opened:
        self.started.set()
        self.release.wait(10)  # the database is slow to open
        services = open_services(self.home)
        return Opened(services, lambda: (self.closed.append(True), services.close()))


def test_the_frame_shows_first_then_the_pages(qtbot: Any, home: Path) -> None:
    opener = SlowOpener(home)
    release, closed = opener.release, opener.closed
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_in_background(opener)
    window.show()
    assert not window.attached and "Opening" in window.opening.text()
    window.nav.buttons["Data"].click()  # chosen while opening: shown once open
    window.command_bar.actions_by_name["Create"].trigger()  # nothing to do yet, no crash
    release.set()
    qtbot.waitUntil(lambda: window.attached, timeout=10000)
    assert window.current_page().name == "Data"
    assert set(window.pages) == {"Dashboard", "Data", "Scheduler", "Configure", "Logs"}
    window.close()
    assert closed == [True]


def test_a_database_that_cannot_be_opened_is_explained_in_the_window(
    qtbot: Any, home: Path
) -> None:
    services = open_services(home)
    with services.store.write() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    services.close()

    window = MainWindow()
    qtbot.addWidget(window)
    window.open_in_background(lambda: Opened(open_services(home)))
    window.show()
    qtbot.waitUntil(lambda: "newer Mobile Console" in window.opening.text(), timeout=10000)
    assert not window.attached
    assert window.header.title.text() == "cannot open the console"


def test_closing_while_opening_still_closes_the_console(qtbot: Any, home: Path) -> None:
    opener = SlowOpener(home)
    started, release, closed = opener.started, opener.release, opener.closed
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_in_background(opener)
    window.show()
    qtbot.waitUntil(started.is_set, timeout=10000)  # it starts once the frame is painted
    threading.Timer(0.2, release.set).start()
    window.close()  # waits for the open, then closes what it opened
    assert closed == [True]
    assert not window.attached
