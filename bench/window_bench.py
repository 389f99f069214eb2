"""The real window on a big table, measured from the user's action.

`BENCH_ROWS` rows (default 10,000,000; `BENCH_ROWS=100000000` for the
documented 100M run) in one SQLite table, built once with SQLite's own
INSERT … SELECT from a recursive CTE and cached under `bench/out/` (the first
build of 10M takes about a minute; through `insert_many` it would take
several). The window is driven by its labels and keys in a child process,
with a 5 ms heartbeat timer on the GUI thread: the longest gap between beats
is the longest stall. The baseline is `QSqlTableModel` + `QTableView` on the
same file, doing the same things the way that pair can.

`BENCH_PG=postgresql+psycopg://…` adds the same run on PostgreSQL (the table
built with `generate_series`; no Qt baseline there: PySide6-Essentials has
no PostgreSQL driver for QtSql).

Sorted views: the table has an indexed `score` column (a skewed spread of
values, 2 % null; `Set as index`), added once to the cached SQLite table.
The window is sorted by it with a header click and the scrollbar jumps at
once, 200 times; the baseline is one jump in the view sorted by the
unindexed `n`, which needs the pass over every key.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import Figure, python
from console.core.tables.api import open_table

# The cached tables: `BENCH_CACHE` puts them outside the checkout (100M rows
# take several GB; keep them off the repo's disk tree and reuse them).
OUT = Path(os.environ.get("BENCH_CACHE") or Path(__file__).resolve().parent / "out")
ROWS = int(os.environ.get("BENCH_ROWS", "10000000"))
GOALS = {  # figure key: (what it is, goal in ms or MB or %, unit)
    "list_ms": ("Data click → tables listed", 100, "ms"),
    "first_ms": ("double-click → first rows", 50, "ms"),
    "open_stall_ms": ("open the table: longest GUI stall", 50, "ms"),
    "end_ms": ("Ctrl+End at once → last rows", 100, "ms"),
    "home_ms": ("Ctrl+Home → first rows", 100, "ms"),
    "jump_max_ms": ("200 scrollbar jumps: slowest to show rows", 100, "ms"),
    "walk_stall_ms": ("200 scrollbar jumps: longest GUI stall", 50, "ms"),
    "memory_mb": ("memory over the window's after the walk", 50, "MB"),
    "sort_stall_ms": ("sort by an unindexed column: longest GUI stall", 50, "ms"),
    "sort_cancel_ms": ("… its Cancel → grid usable again", 100, "ms"),
    "filter_stall_ms": ("'contains' filter: longest GUI stall", 50, "ms"),
    "filter_cancel_ms": ("… its Cancel → grid usable again", 100, "ms"),
    "idle_cpu_pct": ("idle 10 s with the table open: CPU", 0.5, "%"),
    "sorted_first_ms": ("sort by indexed score → first rows", 100, "ms"),
    "sorted_jump_max_ms": ("sorted by score, 200 jumps: slowest to show rows", 100, "ms"),
    "sorted_stall_ms": ("sorted by score, 200 jumps: longest GUI stall", 50, "ms"),
}
#: A figure's baseline from our own session (the same thing done today's way).
OWN_BASELINE = {"sorted_jump_max_ms": "unindexed_jump_ms"}


def build_sqlite(rows: int) -> Path:
    """A console home whose Things table has `rows` rows (cached)."""
    from console.app import open_services

    home = OUT / f"window-sqlite-{rows}"
    ready = home / "ready"
    if ready.exists():
        return home
    home.mkdir(parents=True, exist_ok=True)
    (home / "console.db").unlink(missing_ok=True)
    services = open_services(home)
    services.tables.create("Things")
    open_table(services.tables, "Things").insert(
        {"n": 0, "text": "row 0 of the big table", "flag": True}
    )
    services.close()
    db = sqlite3.connect(home / "console.db")
    created, updated = db.execute('SELECT "__createdAt", "__updatedAt" FROM "Things"').fetchone()
    db.execute(
        'INSERT INTO "Things" (n, text, flag, "__createdAt", "__updatedAt", "__version") '
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) "
        "SELECT i, 'row ' || i || ' of the big table', i % 3 = 0, ?, ?, 1 FROM c",
        (rows - 1, created, updated),
    )
    db.commit()
    db.close()
    ready.touch()
    return home


def add_score_sqlite(home: Path) -> None:
    """The indexed `score` column on the cached table (once: about a minute at 10M)."""
    from console.app import open_services

    scored = home / "scored"
    if scored.exists():
        return
    services = open_services(home)
    if "score" not in {c.name for c in services.tables.info("Things").columns}:
        services.tables.add_column("Things", "score", "integer")
    services.close()
    db = sqlite3.connect(home / "console.db")
    # a skewed spread (squares of a scrambled id), every 50th row null
    db.execute(
        'UPDATE "Things" SET score = CASE WHEN id % 50 = 0 THEN NULL '
        "ELSE ((id * 7919) % 100003) * ((id * 7919) % 100003) END"
    )
    db.commit()
    db.close()
    services = open_services(home)
    services.tables.set_index("Things", "score")
    services.close()
    scored.touch()


def build_postgres(url: str, rows: int) -> None:
    import sqlalchemy as sa

    from console.app import open_services

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    services = open_services(tempfile.mkdtemp(prefix="mobile-console-bench-"), url)
    services.tables.create("Things")
    open_table(services.tables, "Things").insert(
        {"n": 0, "text": "row 0 of the big table", "flag": True, "score": 0}
    )
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                'INSERT INTO "Things" '
                '(n, text, flag, score, "__createdAt", "__updatedAt", "__version") '
                "SELECT i, 'row ' || i || ' of the big table', i % 3 = 0, "
                "CASE WHEN i % 50 = 0 THEN NULL "  # score, as add_score_sqlite's
                "ELSE ((i::bigint * 7919) % 100003) * ((i::bigint * 7919) % 100003) END, "
                "now(), now(), 1 "
                "FROM generate_series(1, :last) AS i"
            ),
            {"last": rows - 1},
        )
    services.tables.set_index("Things", "score")
    services.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text('VACUUM ANALYZE "Things"'))
    engine.dispose()


# -- the child: one window, driven as a user would ---------------------------

CHILD = r"""
import sys
sys.path.insert(0, {root})
from bench.window_bench import child
child({args})
"""


def child(args: dict[str, Any]) -> None:
    import resource
    import time

    from PySide6.QtCore import QPoint, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QTableView

    app = QApplication([])
    ours: bool = args["ours"]
    rows: int = args["rows"]
    if ours:  # imported before the clock starts: an import is not a stall
        from console.gui import create_window
        from console.gui.pages.data import DataPage
    else:
        from PySide6.QtSql import QSqlDatabase, QSqlQueryModel, QSqlTableModel

    beats = {"stall": 0.0, "last": time.perf_counter()}

    def beat() -> None:
        now = time.perf_counter()
        beats["stall"] = max(beats["stall"], now - beats["last"])
        beats["last"] = now

    heartbeat = QTimer()
    heartbeat.timeout.connect(beat)
    heartbeat.start(5)

    def reset_stall() -> None:
        beats["stall"], beats["last"] = 0.0, time.perf_counter()

    def stall_ms() -> float:
        return beats["stall"] * 1000

    def wait(condition: Any, limit: float = 120.0) -> bool:
        end = time.perf_counter() + limit
        while not condition():
            app.processEvents()
            if time.perf_counter() > end:
                return False
        return True

    def settle(seconds: float) -> None:
        wait(lambda: False, seconds)

    def rss_mb() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    def cpu_s() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    out: dict[str, float | None] = {}

    def timed(key: str, action: Any, done: Any, limit: float = 60.0) -> None:
        start = time.perf_counter()
        action()
        ok = wait(done, limit)
        app.processEvents()  # painted
        out[key] = (time.perf_counter() - start) * 1000 if ok else None
        print(key, out[key], file=sys.stderr, flush=True)

    if ours:
        window = create_window(args["home"], args["db_url"])
        window.resize(1280, 800)
        window.show()
        wait(lambda: window.attached)
        settle(1.0)
        base = rss_mb()
        data = window.pages["Data"]
        assert isinstance(data, DataPage)

        reset_stall()
        timed("list_ms", lambda: window.nav.buttons["Data"].click(), lambda: data.tables.rowCount())
        settle(0.3)
        view = data.table_view
        grid, model = view.grid, view.model

        def rows_shown() -> bool:
            if model.rowCount() == 0:
                return False
            top = max(0, grid.rowAt(0))
            bottom = grid.rowAt(grid.viewport().height() - 1)
            bottom = model.rowCount() - 1 if bottom < 0 else bottom
            return model.is_loaded(top) and model.is_loaded(bottom)

        cell = data.list.visualRect(data.tables.index(0, 0)).center()
        left, plain = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        QTest.mouseClick(data.list.viewport(), left, plain, cell)  # a double-click's first
        reset_stall()
        timed(
            "first_ms",
            lambda: QTest.mouseDClick(data.list.viewport(), left, plain, cell),
            rows_shown,
        )
        grid.setFocus()
        timed(
            "end_ms",
            lambda: QTest.keyClick(grid, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier),
            lambda: rows_shown() and grid.currentIndex().row() == model.rowCount() - 1,
        )
        out["open_stall_ms"] = stall_ms()
        timed(
            "home_ms",
            lambda: QTest.keyClick(grid, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier),
            lambda: rows_shown() and grid.currentIndex().row() == 0,
        )
        wait(lambda: model.exact, 30)  # the exact count, behind
        reset_stall()
        bar = grid.verticalScrollBar()
        jumps = []
        for k in range(200):
            start = time.perf_counter()
            bar.setValue(int(bar.maximum() * k / 199))
            wait(rows_shown, 30)
            app.processEvents()
            jumps.append((time.perf_counter() - start) * 1000)
        out["jump_max_ms"] = max(jumps)
        out["walk_stall_ms"] = stall_ms()
        settle(0.5)
        out["memory_mb"] = rss_mb() - base

        def run_and_cancel(key: str, start_it: Any) -> None:
            reset_stall()
            start_it()
            wait(lambda: view.busy.isVisible(), 5)
            settle(1.5)  # the query runs; the window keeps beating
            out[f"{key}_stall_ms"] = stall_ms()
            if model.loading:
                timed(
                    f"{key}_cancel_ms",
                    view.busy_cancel.click,
                    lambda: not model.loading and rows_shown(),
                )
            else:
                out[f"{key}_cancel_ms"] = None  # finished before the cancel
            settle(0.3)

        header = grid.horizontalHeader()
        text_column = [c.name for c in model.columns].index("text")
        x = header.sectionViewportPosition(text_column) + header.sectionSize(text_column) // 2
        run_and_cancel(
            "sort",
            lambda: QTest.mouseClick(
                header.viewport(),
                Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier,
                QPoint(x, header.height() // 2),
            ),
        )

        def filter_contains() -> None:
            view.filter_column.setCurrentText("text")
            view.filter_operator.setCurrentText("contains")
            view.filter_value.setText("no such text anywhere")
            QTest.keyClick(view.filter_value, Qt.Key.Key_Return)

        run_and_cancel("filter", filter_contains)
        settle(2.0)

        def click_header(name: str) -> None:
            at = [c.name for c in model.columns].index(name)
            x = header.sectionViewportPosition(at) + header.sectionSize(at) // 2
            point = QPoint(x, header.height() // 2)
            QTest.mouseClick(header.viewport(), left, plain, point)

        def shown_sorted() -> bool:
            return not model.loading and rows_shown()

        def jump(fraction: float, limit: float = 30) -> float:
            # A new view resets the model; the grid sets its scrollbar's range
            # for the new rows a moment later (Qt's delayed layout), after its
            # first rows can already show: a jump before that moves nothing,
            # and the rows waited for are never asked.
            wait(lambda: bar.maximum() > 0, 10)
            start = time.perf_counter()
            bar.setValue(int(bar.maximum() * fraction))
            target = min(int(model.rowCount() * fraction), model.rowCount() - 1)
            wait(lambda: model.is_loaded(target) and shown_sorted(), limit)
            app.processEvents()
            return (time.perf_counter() - start) * 1000

        view.clear_filter()  # a filter that finished before its Cancel stays
        wait(shown_sorted, 60)
        # Today's way: one jump into a view sorted by an unindexed column.
        click_header("n")
        wait(shown_sorted, 300)
        out["unindexed_jump_ms"] = jump(0.5, 300)
        # Sorted by the indexed column: first rows, then jumps at once.
        reset_stall()
        clicked = time.perf_counter()
        timed("sorted_first_ms", lambda: click_header("score"), shown_sorted)
        out["sorted_jump_max_ms"] = max(jump(k / 199) for k in range(199, -1, -1))
        out["sorted_stall_ms"] = stall_ms()
        # The view's marks are gathered in the background from the click on
        # (about a second a 10M rows): the window is at rest once they are.
        marks = model._jumps._marks
        wait(lambda: marks is None or marks.complete, 600)
        out["marks_s"] = time.perf_counter() - clicked
        settle(1.0)
    else:
        db = QSqlDatabase.addDatabase("QSQLITE")
        db.setDatabaseName(str(Path(args["home"]) / "console.db"))
        db.open()
        table = QTableView()
        table.resize(1280, 800)
        table.show()
        settle(1.0)
        base = rss_mb()
        reset_stall()
        listing = QSqlQueryModel()
        timed(
            "list_ms",
            lambda: (
                listing.setQuery(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'Things'", db
                ),
                table.setModel(listing),
            ),
            lambda: listing.rowCount() > 0,
        )
        model = QSqlTableModel(db=db)
        model.setTable("Things")
        reset_stall()
        timed("first_ms", lambda: (model.select(), table.setModel(model)), lambda: True)
        table.setFocus()
        budget = time.perf_counter() + 20

        def fetch_all() -> None:  # what Ctrl+End needs from this model: every row
            while model.canFetchMore() and time.perf_counter() < budget:
                model.fetchMore()
            QTest.keyClick(table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)

        timed("end_ms", fetch_all, lambda: True)
        if model.canFetchMore():
            out["end_ms"] = None  # not at the end within 20 s
        out["open_stall_ms"] = stall_ms()
        timed(
            "home_ms",
            lambda: QTest.keyClick(table, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier),
            lambda: True,
        )
        reset_stall()
        bar = table.verticalScrollBar()
        jumps = []
        for k in range(200):
            start = time.perf_counter()
            bar.setValue(int(bar.maximum() * k / 199))
            app.processEvents()
            jumps.append((time.perf_counter() - start) * 1000)
        out["jump_max_ms"] = max(jumps)
        out["walk_stall_ms"] = stall_ms()
        settle(0.5)
        out["memory_mb"] = rss_mb() - base
        model.clear()
        model.setTable("Things")
        model.select()
        settle(0.3)
        reset_stall()
        model.sort(2, Qt.SortOrder.AscendingOrder)  # a click on the header: select() again
        app.processEvents()
        out["sort_stall_ms"] = stall_ms()
        out["sort_cancel_ms"] = None  # no cancel: the select runs to its end
        reset_stall()
        model.setFilter("text LIKE '%no such text anywhere%'")
        app.processEvents()
        out["filter_stall_ms"] = stall_ms()
        out["filter_cancel_ms"] = None
        model.setFilter("")
        settle(2.0)

    heartbeat.stop()  # the idle figure is the window's, not the benchmark's timer
    used = cpu_s()
    idle = QTimer()
    idle.setSingleShot(True)
    idle.timeout.connect(app.quit)
    idle.start(10_000)
    app.exec()
    out["idle_cpu_pct"] = (cpu_s() - used) / 10 * 100
    out["rows"] = rows
    print(json.dumps(out), flush=True)
    os._exit(0)


def session(ours: bool, home: Path, db_url: str | None, rows: int) -> dict[str, Any]:
    env = {
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "XDG_CONFIG_HOME": tempfile.mkdtemp(prefix="mobile-console-bench-"),
    }
    args = {"ours": ours, "home": str(home), "db_url": db_url, "rows": rows}
    code = CHILD.replace("{root}", repr(str(Path(__file__).resolve().parents[1])))
    code = code.replace("{args}", repr(args))
    output = python(code, env=env, timeout=1800)
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def median_session(home: Path, db_url: str | None, rows: int, runs: int = 3) -> dict[str, Any]:
    """Each figure's median over `runs` sessions of the window (these
    machines are shared: one session can be descheduled for a second)."""
    import statistics

    sessions = [session(True, home, db_url, rows) for _ in range(runs)]
    merged: dict[str, Any] = {"runs": sessions}
    for key in [*GOALS, *OWN_BASELINE.values()]:
        values = [s[key] for s in sessions if s.get(key) is not None]
        merged[key] = statistics.median(values) if values else None
    return merged


def figures(label: str, ours: dict[str, Any], base: dict[str, Any] | None) -> list[Figure]:
    shown = []
    for key, (what, goal, unit) in GOALS.items():
        value = ours.get(key)
        baseline = None if base is None else base.get(key)
        if key in OWN_BASELINE:
            baseline = ours.get(OWN_BASELINE[key])
        if value is None:
            continue
        shown.append(
            Figure(
                f"window {label}: {what}",
                float(value),
                None if baseline is None else float(baseline),
                unit,
                f"{'<' if unit == '%' else '≤'} {goal} {unit}",
                value < goal if unit == "%" else value <= goal,
            )
        )
    return shown


def window() -> list[Figure]:
    """The real window on BENCH_ROWS rows (SQLite; PostgreSQL with BENCH_PG)."""
    label = f"{ROWS / 1e6:g}M"
    home = build_sqlite(ROWS)
    add_score_sqlite(home)
    ours = median_session(home, None, ROWS)
    base = session(False, home, None, ROWS)
    print(json.dumps({"ours": ours, "baseline": base}), file=sys.stderr)
    shown = figures(f"{label} SQLite", ours, base)
    pg = os.environ.get("BENCH_PG")
    if pg:
        build_postgres(pg, ROWS)
        pg_home = Path(tempfile.mkdtemp(prefix="mobile-console-bench-"))
        on_pg = median_session(pg_home, pg, ROWS)
        print(json.dumps({"postgres": on_pg}), file=sys.stderr)
        shown += figures(f"{label} PostgreSQL", on_pg, None)
    return shown
