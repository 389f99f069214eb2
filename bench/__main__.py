"""`make bench`: every figure as a ratio to a baseline measured in the same
run on this machine; which goals are met. Never part of the test suite."""

from __future__ import annotations

import compileall
import platform
import sys
import traceback
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bench import (
    charts_bench,
    debug_bench,
    dry_run_bench,
    editor_bench,
    export_bench,
    gui_bench,
    javascript_bench,
    jobs_bench,
    masking_bench,
    platform_bench,
    run_cpu_bench,
    scheduler_bench,
    templates_bench,
    window_bench,
    workers_bench,
)
from bench.common import Figure

BENCHES: list[Callable[[], Figure | list[Figure]]] = [
    jobs_bench.insert_many,
    jobs_bench.insert_many_postgres,
    jobs_bench.run_once,
    jobs_bench.get_updates,
    javascript_bench.inserts_in_a_loop,
    scheduler_bench.lateness,
    scheduler_bench.idle_cpu,
    gui_bench.first_paint,
    gui_bench.grid,
    gui_bench.job_stall,
    charts_bench.charts,
    templates_bench.archive_old,
    templates_bench.remove_duplicates,
    templates_bench.get_feed,
    window_bench.window,
    export_bench.export_csv,
    editor_bench.completion,
    debug_bench.debug_this_run,
    workers_bench.workers_scale,
    run_cpu_bench.run_cpu,
    workers_bench.first_write,
    platform_bench.portable_runner,
    platform_bench.portable_workers,
    masking_bench.mask_log,
    dry_run_bench.dry_run,
    dry_run_bench.undo,
    dry_run_bench.lineage_cost,
    dry_run_bench.dry_run_memory,
    dry_run_bench.update_images,
    dry_run_bench.undo_updates,
]


def main(names: list[str]) -> int:
    # Measured as installed: with the product's bytecode compiled (a shell with
    # PYTHONDONTWRITEBYTECODE would otherwise compile it at every start).
    compileall.compile_dir(str(Path(__file__).resolve().parents[1] / "console"), quiet=1)
    figures: list[Figure] = []
    for bench in BENCHES:
        if names and bench.__name__ not in names:
            continue
        print(f"running {bench.__module__}.{bench.__name__} …", file=sys.stderr, flush=True)
        try:
            result = bench()
        except Exception:
            traceback.print_exc()
            continue
        figures.extend(result if isinstance(result, list) else [result])
    print(
        f"\n{date.today()} · {platform.node()} · {platform.processor() or platform.machine()}"
        f" · Python {platform.python_version()}\n"
    )
    print("| figure | ours | baseline | ratio | goal | met |\n|---|---|---|---|---|---|")
    for f in figures:
        base = "" if f.baseline is None else f"{f.baseline:.3g} {f.unit}"
        print(
            f"| {f.name} | {f.ours:.3g} {f.unit} | {base} | {f.ratio} | {f.goal} | "
            f"{'yes' if f.met else 'no'} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
