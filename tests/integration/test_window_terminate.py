"""SIGTERM (a logout, a shutdown) ends the window within 10 s whatever it is
doing, even with the Save/Discard/Cancel question on screen; unsaved script
text is kept as a private draft and offered back on the next open."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from console.app import open_services
from console.core.jobs.drafts import Drafts
from console.demo.memory_keyring import MemoryKeyring

#: A window whose editor holds unsaved text, closing and so asking
#: Save/Discard/Cancel when the test's signal comes.
DRIVER = """
import sys
from PySide6.QtCore import QTimer
from console.gui.main_window import MainWindow

attach = MainWindow.attach

def attached(self, services, **options):
    attach(self, services, **options)
    page = self.pages["Scheduler"]
    self.show_page("Scheduler")
    page.open_job(services.jobs.get("drafty"))
    page.job_view.script.editor.insertPlainText("# words not saved yet\\n")

    def ask():
        print("asking", flush=True)
        self.close()  # the question shows, and waits for an answer

    QTimer.singleShot(0, ask)

MainWindow.attach = attached
from console.cli import main
sys.exit(main(["--home", sys.argv[1]]))
"""


def test_sigterm_ends_a_window_that_asks_and_keeps_the_draft(home: Path, tmp_path: Path) -> None:
    services = open_services(home, keyring_backend=MemoryKeyring())
    services.jobs.create("drafty", unit="none")
    saved = services.jobs.get("drafty").script
    services.close()
    window = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(home)],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert window.stdout is not None
    assert window.stdout.readline().strip() == "asking"
    window.send_signal(signal.SIGTERM)
    try:
        _out, err = window.communicate(timeout=10)  # the promise: within 10 s
    finally:
        if window.poll() is None:
            window.kill()
    assert "Traceback" not in err
    kept = Drafts(home).get("drafty")
    assert kept is not None and kept[0] == "# words not saved yet\n" + saved
    assert stat.S_IMODE((home / "drafts" / "drafty.py").stat().st_mode) == 0o600
    reopened = open_services(home, keyring_backend=MemoryKeyring())
    assert reopened.jobs.get("drafty").script == saved  # nothing saved behind the user's back
    reopened.close()


@pytest.mark.usefixtures("qtbot")
def test_the_draft_is_offered_back_on_the_next_open(home: Path, qtbot: Any) -> None:
    from console.gui import create_window
    from console.gui.pages.scheduler import SchedulerPage

    services = open_services(home, keyring_backend=MemoryKeyring())
    services.jobs.create("drafty", unit="none")
    services.close()
    Drafts(home).keep("drafty", "def drafty():\n    pass  # kept\n")
    window = create_window(home)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.attached, timeout=20000)
    assert "drafty" in window.statusBar().currentMessage()
    window.show_page("Scheduler")
    page = window.pages["Scheduler"]
    assert isinstance(page, SchedulerPage)
    page.open_job(window.services.jobs.get("drafty"))
    editor = page.job_view.script.editor
    assert editor.toPlainText() == "def drafty():\n    pass  # kept\n"
    assert editor.is_modified()  # offered, not saved: Save keeps it
    assert Drafts(home).get("drafty") is None
    editor.mark_saved()
