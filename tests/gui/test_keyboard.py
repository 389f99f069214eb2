"""The window from the keyboard alone: Tab reaches every command of each
page, and every control shows where the focus is, in light and dark."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from console.gui.main_window import MainWindow
from console.gui.pages.data import DataPage
from console.gui.pages.scheduler import SchedulerPage
from console.gui.shell import PAGES
from console.gui.theme import apply

WRITER = """def keys():
    tables.get_table('Notes', create=True).insert({'text': 'hi there', 'n': 3})
"""


def _describe(widget: QWidget) -> str:
    return f"{type(widget).__name__}({widget.objectName() or widget.accessibleName()!r})"


def tab_round(qtbot: Any, start: QWidget) -> list[tuple[QWidget, bool]]:
    """Tab from `start` until the focus is back on it: each control it
    stopped on, and whether it looked different with the focus than without."""
    start.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(start.hasFocus, timeout=2000)
    stops: list[tuple[QWidget, bool]] = []
    widget = start
    for _ in range(120):
        focused = widget.grab().toImage()
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
        after = QApplication.focusWidget()
        assert after is not None and after is not widget, f"Tab stuck on {_describe(widget)}"
        stops.append((widget, widget.grab().toImage() != focused))
        widget = after
        if widget is start:
            return stops
    raise AssertionError(f"Tab never came back to {_describe(start)}")


def test_tab_reaches_every_command_and_the_focus_shows_on_every_control(
    window: MainWindow, qtbot: Any
) -> None:
    services = window.services
    assert services is not None
    job = services.jobs.create("keys", interval=1, unit="hour", script=WRITER)
    assert services.runner.run("keys").status == "succeeded"
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    window.activateWindow()  # offscreen too: the focus goes to the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    data = window.pages["Data"]
    scheduler = window.pages["Scheduler"]
    assert isinstance(data, DataPage) and isinstance(scheduler, SchedulerPage)
    for theme in ("light", "dark"):
        apply(app, theme)
        for name in PAGES:
            window.show_page(name)
            page = window.pages[name]
            if page is scheduler:
                qtbot.waitUntil(lambda: scheduler.jobs.rowCount() == 1, timeout=5000)
                scheduler.list.selectRow(0)
            if page is data:
                qtbot.waitUntil(lambda: data.tables.rowCount() == 1, timeout=5000)
                data.list.selectRow(0)
            stops = tab_round(qtbot, window.nav.buttons[name])
            reached = {w for w, _ in stops}
            commands = [c for c, ok in page.available().items() if ok]
            missing = [c for c in commands if window.command_bar.buttons[c] not in reached]
            assert missing == [], f"{name}: Tab never reaches {missing}"
            if page is scheduler:  # in the order they are laid out: the list, then commands
                order = [w for w, _ in stops]
                assert order.index(scheduler.list) < order.index(
                    window.command_bar.buttons["Create"]
                )
            unseen = [_describe(w) for w, shown in stops if not shown]
            assert unseen == [], f"{name} ({theme}): no visible focus on {unseen}"
    # In the navigation bar the arrow keys move from page to page.
    window.show_page("Dashboard")
    window.nav.buttons["Dashboard"].setFocus()
    qtbot.keyClick(window.nav.buttons["Dashboard"], Qt.Key.Key_Down)
    assert window.current_page() is data and window.nav.buttons["Data"].hasFocus()
    # Enter on a job in the list opens it, as a double click does.
    window.show_page("Scheduler")
    scheduler.list.setFocus()
    scheduler.list.setCurrentIndex(scheduler.jobs.index(0, 0))
    qtbot.keyClick(scheduler.list, Qt.Key.Key_Return)
    assert scheduler.in_job() and scheduler.job_view.job is not None
    assert scheduler.job_view.job.id == job.id
    # The script editor takes Tab (it indents); Ctrl+Tab leaves it.
    view = scheduler.job_view
    view.tabs.setCurrentWidget(view.script)
    script_tab = view.tabs.currentIndex()
    editor = view.script.editor
    editor.setFocus()
    qtbot.keyClick(editor, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert not editor.hasFocus() and view.tabs.currentIndex() == script_tab
