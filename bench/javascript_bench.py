"""JavaScript jobs: 200,000 fire-and-forget `insert` calls in one loop
against the Python job's `insert_many` of the same rows, both through `job
run` (the user's command), both in the same run of this benchmark."""

from __future__ import annotations

import subprocess
import sys

from bench.common import Figure, fresh_home, median_time
from bench.jobs_bench import ROWS, bulk_script
from console.core.tables.api import open_table


def js_bulk_script() -> str:
    """The Python bulk job's rows, one `insert` call each, no callbacks."""
    return (
        "var updates = tables.getTable('Updates');\n"
        "function bulk() {\n"
        "  var now = new Date();\n"
        f"  for (var i = 0; i < {ROWS}; i++) {{\n"
        "    updates.insert({twitterId: 4611686018427387904n + BigInt(i),\n"
        "                    text: 'tweet number ' + i + ' #mobileservices',\n"
        "                    author: 'author' + (i % 500), date: now});\n"
        "  }\n"
        "}\n"
    )


def inserts_in_a_loop() -> Figure:
    """200,000 JavaScript `insert` calls (one turn, one transaction) against
    the Python job's one `insert_many` of the same rows."""
    from console.app import open_services

    def prepared_home(script: str, language: str) -> str:
        home = fresh_home()
        services = open_services(home)
        services.tables.create("Updates")
        services.jobs.create("bulk", script=script, timeout_s=600, language=language)
        services.close()
        return str(home)

    js_homes = [prepared_home(js_bulk_script(), "javascript") for _ in range(3)]
    py_homes = [prepared_home(bulk_script(), "python") for _ in range(3)]

    def job_run(homes: list[str]) -> None:
        home = homes.pop()
        subprocess.run(
            [sys.executable, "-m", "console", "--home", home, "job", "run", "bulk"],
            check=True,
            capture_output=True,
        )
        from console.app import open_services

        services = open_services(home)
        assert open_table(services.tables, "Updates").count() == ROWS
        services.close()

    ours_s = median_time(lambda: job_run(js_homes), 3)
    base_s = median_time(lambda: job_run(py_homes), 3)
    return Figure(
        "JavaScript: 200k insert calls via job run (vs Python insert_many)",
        ours_s,
        base_s,
        "s",
        "≤ 3x",
        ours_s <= 3 * base_s,
    )
