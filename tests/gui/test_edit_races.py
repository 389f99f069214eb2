"""Two windows and another console editing one job: the Save that comes
second, based on what its window read before, is told and saves nothing;
a second Save replaces theirs on purpose, and theirs is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from console.app import open_services
from console.demo.memory_keyring import MemoryKeyring
from console.gui import create_window
from console.gui.main_window import MainWindow
from console.gui.pages.scheduler import SchedulerPage

SCRIPT = "def shared():\n    pass\n"


def open_shared(window: MainWindow) -> SchedulerPage:
    window.show_page("Scheduler")
    page = window.pages["Scheduler"]
    assert isinstance(page, SchedulerPage)
    assert window.services is not None
    page.open_job(window.services.jobs.get("shared"))
    return page


def type_at_end(page: SchedulerPage, qtbot: Any, text: str) -> None:
    editor = page.job_view.script.editor
    editor.moveCursor(QTextCursor.MoveOperation.End)
    editor.setFocus()
    qtbot.keyClicks(editor, text)


def save(window: MainWindow) -> None:
    window.command_bar.actions_by_name["Save"].trigger()


def test_the_second_save_of_a_stale_job_is_told_and_saves_nothing(
    window: MainWindow, qtbot: Any, home: Path
) -> None:
    assert window.services is not None
    jobs = window.services.jobs
    jobs.create("shared", interval=1, unit="hour", script=SCRIPT)
    other = create_window(home)
    qtbot.addWidget(other)
    other.show()
    mine, theirs = open_shared(window), open_shared(other)

    type_at_end(theirs, qtbot, "    print('theirs')")
    save(other)
    qtbot.waitUntil(lambda: "theirs" in jobs.get("shared").script, timeout=10000)
    cli = open_services(home, keyring_backend=MemoryKeyring())  # a CLI, say, meanwhile
    try:
        cli.jobs.configure("shared", timeout_s=90)
    finally:
        cli.close()

    type_at_end(mine, qtbot, "    print('mine')")
    save(window)
    error = mine.job_view.config_error
    qtbot.waitUntil(lambda: "changed elsewhere" in error.text(), timeout=10000)
    assert "script" in error.text() and "timeout" in error.text()
    stored = jobs.get("shared")
    assert "theirs" in stored.script and "mine" not in stored.script
    assert stored.timeout_s == 90
    assert "print('mine')" in mine.job_view.script.editor.toPlainText()  # kept to save again

    qtbot.waitUntil(lambda: mine.job_view.base is not None and mine.job_view.base.timeout_s == 90)
    save(window)
    qtbot.waitUntil(lambda: "mine" in jobs.get("shared").script, timeout=10000)
    assert any("theirs" in v.script for v in jobs.versions("shared"))
    other.close()


def test_a_save_of_a_job_nobody_else_changed_goes_through(window: MainWindow, qtbot: Any) -> None:
    assert window.services is not None
    jobs = window.services.jobs
    jobs.create("shared", interval=1, unit="hour", script=SCRIPT)
    page = open_shared(window)
    jobs.enable("shared")  # not a field the window saves: no conflict
    type_at_end(page, qtbot, "    print('once')")
    save(window)
    qtbot.waitUntil(lambda: "once" in jobs.get("shared").script, timeout=10000)
    qtbot.keyClick(page.job_view.script.editor, Qt.Key.Key_Return)  # auto-indented
    qtbot.keyClicks(page.job_view.script.editor, "print('twice')")
    save(window)
    qtbot.waitUntil(lambda: "twice" in jobs.get("shared").script, timeout=10000)
    assert page.job_view.config_error.text() == ""
