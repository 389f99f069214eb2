"""The editor in the window's Script tab: the console starts without jedi,
completion there offers the console's own app setting names, and the
editor's helper process (jedi) ends with the window, even a killed one,
and survives a jedi cache cut short."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
from PySide6.QtGui import QTextCursor

from console.gui.editor.assist import Request
from console.gui.editor.assist_client import AssistProcess
from console.gui.main_window import MainWindow
from tests.gui.test_window import scheduler

START = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from console.gui import create_window
window = create_window(sys.argv[1]); window.show(); app.processEvents()
print("jedi" in sys.modules)
window.close()
"""


def test_the_console_starts_without_importing_jedi(home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", START, str(home)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_the_script_tab_completes_app_setting_names_not_values(
    window: MainWindow, qtbot: Any
) -> None:
    window.services.app_settings.set("TWITTER_QUERY", "#mobileservices")
    window.services.app_settings.set("FEED_URL", "https://example.org/feed")
    job = window.services.jobs.create("poll", template="getUpdates")
    window.show_page("Scheduler")
    page = scheduler(window)
    page.open_job(job)
    editor = page.job_view.script.editor
    assert page.job_view.tabs.tabText(page.job_view.tabs.currentIndex()) == "Script"
    editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(editor, 'x = config.app_settings["')
    popup = editor.assist.popup

    def offered() -> list[str]:
        model = popup.model()
        return [model.index(r, 0).data() for r in range(model.rowCount())]

    qtbot.waitUntil(lambda: popup.isVisible() and "TWITTER_QUERY" in offered(), timeout=20000)
    assert set(offered()) == {"TWITTER_QUERY", "FEED_URL"}
    assert not any("example.org" in name or "#" in name for name in offered())
    helper = editor.assist.helper.pid
    assert helper is not None
    window.close()
    assert not psutil.pid_exists(helper)


KILLED = """
import sys
from console.gui.editor.assist_client import AssistProcess
helper = AssistProcess(); helper.start()
print(helper.pid, flush=True)
sys.stdin.read()
"""


def test_the_editors_helper_ends_when_the_console_is_killed() -> None:
    console = subprocess.Popen(
        [sys.executable, "-c", KILLED], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert console.stdout is not None and console.stdin is not None
    helper = psutil.Process(int(console.stdout.readline()))
    console.kill()  # SIGKILL: nothing of the console runs after it
    console.wait()
    console.stdin.close()
    console.stdout.close()
    helper.wait(timeout=30)  # psutil.TimeoutExpired if it outlives the console


def test_a_cache_file_cut_short_does_not_break_completion(tmp_path: Path, monkeypatch: Any) -> None:
    # A helper ended while jedi wrote its cache (the window closed as it
    # warmed up) must not leave completion broken for the next one.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    standard_library = Request("import json\njson.dum", 2, 8)
    first = AssistProcess()
    assert [c.name for c in first.complete(standard_library).items] == ["dump", "dumps"]
    first.close()
    cached = [p for p in (tmp_path / "jedi").rglob("*") if p.is_file()]
    assert cached
    for path in cached:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    second = AssistProcess()
    assert [c.name for c in second.complete(standard_library).items] == ["dump", "dumps"]
    second.close()
