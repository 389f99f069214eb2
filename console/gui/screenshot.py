"""Regenerates the README's screenshot: `make screenshot` (under Xvfb).

Opens the demo on a throwaway home, runs getUpdates once, opens its Script
tab with the run's log beneath, and saves the window as a PNG.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def main(target: str = "docs/screenshot.png", page: str = "Scheduler") -> int:
    from console.demo import start_demo
    from console.gui.launch import apply_theme
    from console.gui.main_window import MainWindow
    from console.gui.pages.scheduler import SchedulerPage

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme()
    demo = start_demo(tempfile.mkdtemp(prefix="mobile-console-shot-"), publish_every_s=0)
    window = MainWindow(demo.services, keyring_note=demo.keyring_note, on_close=demo.close)
    window.resize(1280, 800)
    window.show()
    window.show_page(page)
    scheduler = window.pages["Scheduler"]
    assert isinstance(scheduler, SchedulerPage)
    if page == "Scheduler":
        scheduler.open_job(demo.services.jobs.get("getUpdates"))
        scheduler.run_once(demo.services.jobs.get("getUpdates"))
    elif page == "Data":
        demo.services.runner.run("getUpdates")
        data = window.pages["Data"]
        data.open_table("Updates")  # type: ignore[attr-defined]

    def shoot() -> None:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(target)
        window.close()
        app.quit()

    QTimer.singleShot(4000, shoot)
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
