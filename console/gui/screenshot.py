"""Renders the README's pictures: `make screenshot` (under Xvfb, or offscreen).

Opens the demo on a throwaway home, runs its jobs over a day (getUpdates
against the Twitter stand-in and a job that fails now and then, every two
hours on a clock set back; then a dry run), and saves each
page in light and dark as `<target>/<shot>-<theme>.png`: the Dashboard, the
Data grid, the Scheduler list, a Script tab with a diagnostic, History, the
Dry run diff, Configure and Logs.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from console.demo.history import ShiftedClock
from console.gui import theme

if TYPE_CHECKING:
    from console.app import Services
    from console.gui.main_window import MainWindow

THEMES = ("light", "dark")
#: A job whose script draws a diagnostic (a name pyflakes cannot find).
DIAGNOSTIC = '''def tidyUpdates():
    """Remove the updates older than a week."""
    old = tables.get_table("Updates").where(date__lt=cutoff)
    console.log(f"removing {old.count()} old updates")
'''
FLAKY = """def flaky():
    import random
    if random.random() < 0.3:
        raise RuntimeError("the upstream feed said 503")
    print("fetched the feed")
"""


@dataclass(frozen=True)
class Shot:
    """One picture: how to bring the window to it, and how long it settles."""

    name: str
    setup: Callable[[MainWindow], None]
    settle_ms: int = 700


def _page(name: str) -> Callable[[MainWindow], None]:
    return lambda window: window.show_page(name)


def _job_tab(job: str, tab: str) -> Callable[[MainWindow], None]:
    def setup(window: MainWindow) -> None:
        from console.gui.pages.scheduler import SchedulerPage

        page = window.pages["Scheduler"]
        assert isinstance(page, SchedulerPage) and window.services is not None
        window.show_page("Scheduler")
        page.open_job(window.services.jobs.get(job))
        view = page.job_view
        view.tabs.setCurrentWidget(
            {"script": view.script, "history": view.history, "dry-run": view.dry_run}[tab]
        )
        if tab == "history" and view.runs.rowCount():
            view.runs_view.selectRow(0)

    return setup


def _grid(table: str) -> Callable[[MainWindow], None]:
    def setup(window: MainWindow) -> None:
        window.show_page("Data")
        window.pages["Data"].open_table(table)  # type: ignore[attr-defined]

    return setup


def _list(window: MainWindow) -> None:
    from console.gui.pages.scheduler import SchedulerPage

    window.show_page("Scheduler")
    page = window.pages["Scheduler"]
    assert isinstance(page, SchedulerPage)
    page.show_list()


def shots(
    job: str = "getUpdates", diagnostic: str = "tidyUpdates", table: str = "Updates"
) -> tuple[Shot, ...]:
    """Every page: `job`'s History and dry run, `diagnostic`'s Script tab,
    `table` in the Data grid."""
    return (
        Shot("dashboard", _page("Dashboard")),
        Shot("data", _grid(table)),
        Shot("scheduler", _list),
        Shot("script", _job_tab(diagnostic, "script"), settle_ms=1500),
        Shot("history", _job_tab(job, "history")),
        Shot("dry-run", _job_tab(job, "dry-run")),
        Shot("configure", _page("Configure")),
        Shot("logs", _page("Logs")),
    )


SHOTS = shots()


def shoot(
    window: MainWindow,
    target: Path,
    shots: Sequence[Shot] = SHOTS,
    themes: Sequence[str] = THEMES,
    done: Callable[[list[Path]], None] | None = None,
    quality: int = -1,
) -> None:
    """Save each shot in each theme, one after the other on the event loop
    (each page reads off the GUI thread); `done` gets the files. `quality`
    is the PNG's: 100 saves quickly, uncompressed; the default packs it."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    target.mkdir(parents=True, exist_ok=True)
    steps = [(shot, name) for name in themes for shot in shots]
    saved: list[Path] = []

    def step(at: int) -> None:
        if at > 0:
            shot, name = steps[at - 1]
            path = target / f"{shot.name}-{name}.png"
            window.grab().save(str(path), "PNG", quality)
            saved.append(path)
        if at == len(steps):
            if done is not None:
                done(saved)
            return
        shot, name = steps[at]
        theme.apply(app, name)
        shot.setup(window)
        QTimer.singleShot(shot.settle_ms, lambda: step(at + 1))

    step(0)


def seed(services: Services, clock: ShiftedClock, hours: int = 24) -> None:
    """What the pictures show: a day of runs that succeed and fail, and a
    job with a diagnostic."""
    jobs = services.jobs
    jobs.create("flaky", interval=1, unit="hour", script=FLAKY)
    jobs.create("tidyUpdates", interval=1, unit="day", script=DIAGNOSTIC)
    for back in range(hours, 0, -2):
        clock.behind = timedelta(hours=back, minutes=17 * (back % 3))
        services.runner.run("getUpdates")
        services.runner.run("flaky")
    clock.behind = timedelta(0)


def main(target: str = "docs/screenshots") -> int:
    from console.demo import start_demo
    from console.demo.home import QUERY
    from console.gui.launch import apply_theme
    from console.gui.main_window import MainWindow
    from console.gui.pages.scheduler import SchedulerPage

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    apply_theme()
    clock = ShiftedClock()
    home = tempfile.mkdtemp(prefix="mobile-console-shot-")
    demo = start_demo(home, publish_every_s=0, clock=clock)
    seed(demo.services, clock)
    demo.standin.publish(4, query=QUERY)  # new tweets for the dry run to show
    window = MainWindow(demo.services, keyring_note=demo.keyring_note, on_close=demo.close)
    window.resize(1400, 900)
    window.show()
    scheduler = window.pages["Scheduler"]
    assert isinstance(scheduler, SchedulerPage)
    get_updates = demo.services.jobs.get("getUpdates")
    scheduler.open_job(get_updates)
    scheduler.run_once(get_updates, dry_run=True)

    def finished(files: list[Path]) -> None:
        for path in files:
            print(path)
        window.close()
        app.quit()

    QTimer.singleShot(3000, lambda: shoot(window, Path(target), done=finished))
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
