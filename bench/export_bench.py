"""CSV export of a big table from the real window, beside the sqlite3 shell.

The window (offscreen, in a child process) opens the table `window_bench`
builds (`BENCH_ROWS`, default 10M; cached, `BENCH_CACHE` puts it outside the
checkout), then a click on Export CSV (the file dialog answered with a path:
the dialog is Qt's, not ours) until the window says it is done. Memory is
the window's resident size sampled every 50 ms during the export, over what
it was before; a 5 ms timer gives the GUI's longest stall. A second export is
cancelled from its progress dialog after a second: the time until the
window says so. The baseline is the sqlite3 shell's `.mode csv` export of the
same table to a file (`SELECT *`, its own spelling of times and booleans);
without the shell, Python's csv module over sqlite3 rows. Beside the
window's CPU: its export helper's (a big view in id order is written by two
processes) and each thread's time on a core and waiting for one.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Figure, python, wait_in_qt
from bench.window_bench import ROWS, build_sqlite

CHILD = r"""
import sys
sys.path.insert(0, {root})
from bench.export_bench import child
child({args})
"""


def child(args: dict[str, Any]) -> None:
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QFileDialog, QProgressDialog, QPushButton

    app = QApplication([])
    from console.gui import create_window
    from console.gui.pages.data import DataPage

    out: dict[str, Any] = {}
    target = Path(args["out"])
    QFileDialog.getSaveFileName = staticmethod(lambda *_a, **_k: (str(target), "CSV (*.csv)"))

    def wait(condition: Any, limit: float = 900.0) -> bool:
        return wait_in_qt(app, condition, limit)

    def threads() -> dict[str, tuple[str, int, int]]:
        """Each thread of the window's process: its name, ns on a core, ns
        waiting in the run queue for one (/proc's schedstat)."""
        seen: dict[str, tuple[str, int, int]] = {}
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/comm") as f:
                    name = f.read().strip()
                with open(f"/proc/self/task/{tid}/schedstat") as f:
                    run, wait = (int(v) for v in f.read().split()[:2])
            except OSError:
                continue
            seen[tid] = (name, run, wait)
        return seen

    def rss_mb() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    window = create_window(args["home"], None)
    window.resize(1280, 800)
    window.show()
    wait(lambda: window.attached)
    data = window.pages["Data"]
    assert isinstance(data, DataPage)
    window.nav.buttons["Data"].click()
    wait(lambda: data.tables.rowCount() > 0)
    cell = data.list.visualRect(data.tables.index(0, 0)).center()
    left, plain = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mouseClick(data.list.viewport(), left, plain, cell)
    QTest.mouseDClick(data.list.viewport(), left, plain, cell)
    view = data.table_view
    wait(lambda: view.model.rowCount() > 0 and view.model.exact, 120)
    wait(lambda: False, 1.0)

    ended: list[str] = []
    view.exported.connect(ended.append)
    state = {"peak": 0.0, "stall": 0.0, "last": time.perf_counter()}

    def sample() -> None:
        state["peak"] = max(state["peak"], rss_mb())

    def beat() -> None:
        now = time.perf_counter()
        if now - state["last"] > state["stall"]:
            state["stall"], state["stall_at"] = now - state["last"], state["last"] - start
        state["last"] = now

    sampler, heartbeat = QTimer(), QTimer()
    sampler.timeout.connect(sample)
    heartbeat.timeout.connect(beat)
    base = rss_mb()
    sampler.start(50)
    heartbeat.start(5)
    state["last"] = time.perf_counter()
    start = time.perf_counter()
    cpu = time.process_time()
    helpers = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = threads()
    idle = QEventLoop()  # the window idles in its event loop, as it does for a user
    view.exported.connect(idle.quit)
    QTest.mouseClick(view.export_button, left)
    if not ended:
        idle.exec()
    out["seconds"] = time.perf_counter() - start
    out["cpu_s"] = time.process_time() - cpu  # the window's process: export and GUI
    ended_helpers = resource.getrusage(resource.RUSAGE_CHILDREN)  # the export's helper
    out["helper_cpu_s"] = (ended_helpers.ru_utime + ended_helpers.ru_stime) - (
        helpers.ru_utime + helpers.ru_stime
    )
    # where the wall time went, thread by thread: on a core, or waiting for one
    # (the rest of a thread's wall time it slept: the GIL, a lock, the disk)
    after = threads()
    out["threads"] = {
        f"{name} {tid}": {
            "cpu_s": round((run - before.get(tid, (name, 0, 0))[1]) / 1e9, 3),
            "run_queue_s": round((wait - before.get(tid, (name, 0, 0))[2]) / 1e9, 3),
        }
        for tid, (name, run, wait) in after.items()
        if run - before.get(tid, (name, 0, 0))[1] > 50_000_000
    }
    out["stall_at_s"] = state.get("stall_at")
    out["message"] = ended[0]
    out["memory_mb"] = state["peak"] - base
    out["stall_ms"] = state["stall"] * 1000
    out["size"] = target.stat().st_size if target.exists() else None
    target.unlink(missing_ok=True)

    ended.clear()
    QTest.mouseClick(view.export_button, left)
    wait(lambda: False, 1.0)
    dialog = view.findChild(QProgressDialog)
    button = dialog.findChild(QPushButton) if dialog is not None else None
    if button is not None and not ended:
        start = time.perf_counter()
        button.click()
        wait(lambda: bool(ended), 30)
        out["cancel_ms"] = (time.perf_counter() - start) * 1000
        out["cancel_message"] = ended[0] if ended else None
        # no part file (ours or the helper's) and no helper process left
        out["part_left"] = any(p.name.startswith(target.name) for p in target.parent.iterdir())
        children = [
            pid
            for task in os.listdir("/proc/self/task")
            for pid in Path(f"/proc/self/task/{task}/children").read_text().split()
        ]
        out["helpers_left"] = [
            int(pid)
            for pid in children
            if b"export_part" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
    print(json.dumps(out), flush=True)
    os._exit(0)


def baseline(db: Path, target: Path) -> tuple[float, str]:
    shell = shutil.which("sqlite3")
    start = time.perf_counter()
    if shell:
        subprocess.run(
            [shell, str(db)],
            input=f'.headers on\n.mode csv\n.once {target}\nSELECT * FROM "Things";\n',
            text=True,
            check=True,
        )
        what = "sqlite3 shell .mode csv"
    else:
        python(
            "import csv, sqlite3, sys\n"
            "db = sqlite3.connect(sys.argv[1])\n"
            "cur = db.execute('SELECT * FROM \"Things\"')\n"
            "with open(sys.argv[2], 'w', newline='') as f:\n"
            "    w = csv.writer(f)\n"
            "    while rows := cur.fetchmany(10000):\n"
            "        w.writerows(rows)\n".replace("sys.argv[1]", repr(str(db))).replace(
                "sys.argv[2]", repr(str(target))
            )
        )
        what = "Python csv over sqlite3 (no sqlite3 shell here)"
    seconds = time.perf_counter() - start
    target.unlink(missing_ok=True)
    return seconds, what


def export_csv() -> list[Figure]:
    """Export CSV of BENCH_ROWS rows from the window, beside the sqlite3 shell."""
    home = build_sqlite(ROWS)
    folder = Path(tempfile.mkdtemp(prefix="mobile-console-bench-"))
    target = folder / "things.csv"
    env = {
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "XDG_CONFIG_HOME": tempfile.mkdtemp(prefix="mobile-console-bench-"),
    }
    args = {"home": str(home), "out": str(target)}
    code = CHILD.replace("{root}", repr(str(Path(__file__).resolve().parents[1])))
    ours = json.loads(python(code.replace("{args}", repr(args)), env=env, timeout=3600).strip())
    base_s, what = baseline(home / "console.db", target)
    print(json.dumps({"ours": ours, "baseline_s": base_s, "baseline": what}), file=sys.stderr)
    shutil.rmtree(folder, ignore_errors=True)
    label = f"export CSV {ROWS / 1e6:g}M"
    rate, base_rate = ROWS / ours["seconds"] / 1000, ROWS / base_s / 1000
    shown = [
        Figure(
            f"{label}: rows/s, click → done ({what})",
            rate,
            base_rate,
            "k rows/s",
            "≥ 500 k rows/s",
            rate >= 500,
        ),
        Figure(
            f"{label}: memory over the window's",
            ours["memory_mb"],
            None,
            "MB",
            "≤ 100 MB",
            ours["memory_mb"] <= 100,
        ),
        Figure(
            f"{label}: longest GUI stall",
            ours["stall_ms"],
            None,
            "ms",
            "≤ 50 ms",
            ours["stall_ms"] <= 50,
        ),
    ]
    if ours.get("cancel_ms") is not None:
        shown.append(
            Figure(
                f"{label}: Cancel → window says so",
                ours["cancel_ms"],
                None,
                "ms",
                "≤ 100 ms",
                ours["cancel_ms"] <= 100,
            )
        )
    return shown
