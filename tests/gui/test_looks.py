"""How the window looks and reads: one alignment rule for every table, a theme
that switches with no restart, charts, and screenshots. (The accessibility
tree is walked from outside, over AT-SPI: tests/desktop/test_accessibility.py.)"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QComboBox, QTableView

from console.core.resources import resource
from console.gui import theme
from console.gui.columns import VALUE_ROLE
from console.gui.main_window import MainWindow
from console.gui.pages.configure import ConfigurePage
from console.gui.pages.dashboard import DashboardPage
from console.gui.pages.data import DataPage
from console.gui.pages.scheduler import SchedulerPage
from console.gui.screenshot import DIAGNOSTIC, THEMES, shoot, shots
from console.gui.theme import DARK, LIGHT

ALIGN = Qt.ItemDataRole.TextAlignmentRole
#: A colour written out: "#c42b1c", "#999", Qt.GlobalColor.darkRed.
COLOUR = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b|GlobalColor\.")
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
#: A number as the tables show one: a count, a size, a duration ("1.2 s").
NUMBER = re.compile(r"^≈?\s?-?[\d,.]+\s?(s|ms|KB|MB|bytes)?$")

WRITER = """def looks():
    tables.get_table('Notes', create=True).insert({'text': 'hi there', 'n': 3, 'x': 2.5})
    print('wrote one note')
"""


def _models(window: MainWindow) -> dict[int, tuple[str, QAbstractItemModel]]:
    found: dict[int, tuple[str, QAbstractItemModel]] = {}
    for view in window.findChildren(QTableView):
        model = view.model()
        if model is not None:
            found[id(model)] = (type(model).__name__, model)
    return found


def test_every_tables_headers_sit_like_their_values(window: MainWindow, qtbot: Any) -> None:
    """Numbers right, text and dates left, and each header like its column's values."""
    services = window.services
    assert services is not None
    job = services.jobs.create("looks", interval=1, unit="hour", script=WRITER)
    assert services.runner.run("looks").status == "succeeded"
    services.workers.register("alpha")
    for name in ("Logs", "Configure", "Dashboard"):
        window.show_page(name)
    data = window.pages["Data"]
    assert isinstance(data, DataPage)
    window.show_page("Data")
    qtbot.waitUntil(lambda: data.tables.rowCount() == 1, timeout=5000)
    data.open_table("Notes")
    window.show_page("Scheduler")
    scheduler = window.pages["Scheduler"]
    assert isinstance(scheduler, SchedulerPage)
    scheduler.open_job(job)
    history = scheduler.job_view.history
    scheduler.job_view.tabs.setCurrentWidget(history)
    qtbot.waitUntil(lambda: history.run_log.rowCount() > 0, timeout=5000)
    models = _models(window)
    qtbot.waitUntil(lambda: sum(m.rowCount() > 0 for _, m in models.values()) >= 10, timeout=5000)

    filled = 0
    for name, model in models.values():
        for column in range(model.columnCount()):
            header = model.headerData(column, Qt.Orientation.Horizontal, ALIGN)
            title = model.headerData(column, Qt.Orientation.Horizontal)
            assert header in (LEFT, RIGHT), f"{name} {title}: header alignment {header}"
            if model.rowCount() == 0:
                continue
            index = model.index(0, column)
            text = str(index.data() or "")
            value = model.data(index, ALIGN)
            assert value == header, f"{name} {title}: header {header}, value {value}"
            if text:
                expected = RIGHT if NUMBER.match(text) else LEFT
                assert value == expected, f"{name} {title}: {text!r} sits {value}"
        filled += model.rowCount() > 0
    assert filled >= 10  # runs, logs, settings, workers, tables, the grid…


def test_the_theme_switch_in_configure_repaints_at_once(window: MainWindow, qtbot: Any) -> None:
    """Dark chosen in Configure and saved: the open window turns dark, no restart."""
    window.show_page("Configure")
    page = window.pages["Configure"]
    assert isinstance(page, ConfigurePage)
    chooser = page.editors["theme"]
    assert isinstance(chooser, QComboBox)
    view = page.settings_view

    def corner() -> QColor:  # an empty corner of the settings list, as painted
        image = view.viewport().grab().toImage()
        return image.pixelColor(image.width() - 3, image.height() - 3)

    qtbot.waitUntil(lambda: chooser.currentText() == "system", timeout=5000)
    light = corner()
    chooser.setCurrentText("dark")
    window.command_bar.actions_by_name["Save"].trigger()
    qtbot.waitUntil(lambda: corner() == QColor(DARK.window), timeout=5000)
    assert light == QColor(LIGHT.window)
    assert view.palette().color(QPalette.ColorRole.Text) == QColor(DARK.text)
    chooser.setCurrentText("light")
    window.command_bar.actions_by_name["Save"].trigger()
    qtbot.waitUntil(lambda: corner() == QColor(LIGHT.window), timeout=5000)


def shown_in_history(window: MainWindow, qtbot: Any, run_id: int) -> SchedulerPage:
    """The window went to Scheduler › the run's job › History, the run selected."""
    scheduler = window.pages["Scheduler"]
    assert isinstance(scheduler, SchedulerPage)
    history = scheduler.job_view.history
    qtbot.waitUntil(lambda: history.runs_view.currentIndex().isValid(), timeout=5000)
    assert window.current_page() is scheduler
    assert history.runs.record(history.runs_view.currentIndex().row()).id == run_id
    return scheduler


def test_a_runs_dot_on_the_dashboard_opens_its_log_and_the_list_draws_its_sparkline(
    window: MainWindow, qtbot: Any
) -> None:
    """One run: one dot inside the chart (not a block filling it); a click on
    it opens that run's log in History, whose chart shows it too; the
    Scheduler list holds its sparkline."""
    services = window.services
    assert services is not None
    job = services.jobs.create("looks", interval=1, unit="hour", script=WRITER)
    run = services.runner.run("looks")
    window.show_page("Dashboard")
    dashboard = window.pages["Dashboard"]
    assert isinstance(dashboard, DashboardPage)
    chart = dashboard.timeline
    qtbot.waitUntil(lambda: len(chart.runs) == 1, timeout=5000)
    [(point, shown)] = chart.points()
    plot = chart.plot_rect()
    assert shown.id == run.id
    assert plot.contains(point) and point.y() > plot.top() + plot.height() / 4
    assert sum(sum(h.values()) for h in dashboard.per_hour.hours) == 1
    qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=point.toPoint())
    scheduler = shown_in_history(window, qtbot, run.id)
    durations = scheduler.job_view.durations  # History's own chart of the job's runs
    assert [r.id for r in durations.runs] == [run.id]
    scheduler.show_list()
    qtbot.waitUntil(lambda: scheduler.jobs.rowCount() == 1, timeout=5000)
    sparkline = scheduler.jobs.index(0, scheduler.jobs.columnCount() - 1).data(VALUE_ROLE)
    assert [r.id for r in sparkline] == [run.id]
    assert job.id == run.job_id


def test_the_keyboard_steps_through_the_runs_chart_and_opens_a_run(
    window: MainWindow, qtbot: Any
) -> None:
    """Tab onto Run durations: the focus shows, the arrows go from run to
    run in time (each named for a screen reader), and Enter opens the run
    as a click on its dot does."""
    services = window.services
    assert services is not None
    services.jobs.create("looks", interval=1, unit="hour", script=WRITER)
    older, newer = services.runner.run("looks"), services.runner.run("looks")
    window.show_page("Dashboard")
    dashboard = window.pages["Dashboard"]
    assert isinstance(dashboard, DashboardPage)
    chart = dashboard.timeline
    qtbot.waitUntil(lambda: len(chart.runs) == 2, timeout=5000)
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=5000)
    unfocused = chart.grab().toImage()
    chart.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(chart.hasFocus, timeout=2000)
    assert chart.grab().toImage() != unfocused  # the focus shows
    assert chart.current is not None and chart.current.id == newer.id  # the newest first
    qtbot.keyClick(chart, Qt.Key.Key_Left)
    assert chart.current is not None and chart.current.id == older.id
    assert f"run {older.id} " in chart.accessibleDescription()
    qtbot.keyClick(chart, Qt.Key.Key_Return)
    shown_in_history(window, qtbot, older.id)


def test_every_page_comes_out_in_light_and_dark(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    """`make screenshot`'s machinery on every page it shows (the Dashboard,
    the grid, the list, a Script tab with a diagnostic, History, a dry run's
    tab, Configure, Logs): a picture a theme, each with something drawn,
    each page its own picture, and light and dark different. (The README's
    dry run shows a diff; here the tab has none, to stay quick.)"""
    services = window.services
    assert services is not None
    services.jobs.create("looks", interval=1, unit="hour", script=WRITER)
    services.jobs.create("tidy", interval=1, unit="day", script=DIAGNOSTIC)
    assert services.runner.run("looks").status == "succeeded"
    window.resize(960, 640)  # smaller than the README's: quicker to save
    files: list[Path] = []
    quick = [replace(shot, settle_ms=30) for shot in shots("looks", "tidy", "Notes")]
    shoot(window, tmp_path, quick, THEMES, files.extend, quality=100)
    qtbot.waitUntil(lambda: len(files) == 2 * len(quick), timeout=20000)

    pictures = {path.name: QImage(str(path)) for path in files}
    for shot in quick:
        light, dark = pictures[f"{shot.name}-light.png"], pictures[f"{shot.name}-dark.png"]
        assert light.size() == dark.size() == window.size(), shot.name
        drawn = {light.pixel(x, y) for x in range(0, 960, 5) for y in range(0, 640, 5)}
        assert len(drawn) > 8, f"{shot.name}: nothing drawn"
        assert light != dark, f"{shot.name}: light and dark alike"
    assert len({p.bits().tobytes() for p in pictures.values()}) == len(pictures)


def test_every_colour_the_window_paints_comes_from_the_palette() -> None:
    """No colour written anywhere but in theme.py's palettes: the editor's
    completion popup, its problems list and the bars' text included."""
    gui = Path(theme.__file__).parent
    written = [
        f"{path.relative_to(gui)}:{number}"
        for path in sorted(gui.rglob("*.py"))
        if path.name != "theme.py"
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if COLOUR.search(line)
    ]
    written += [f"theme.qss: {m[0]}" for m in COLOUR.finditer(resource("theme.qss").read_text())]
    assert written == []
