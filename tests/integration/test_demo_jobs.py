"""The demo's two getUpdates jobs, Python and JavaScript, run unchanged
against its stand-in through the redirect from https://api.twitter.com."""

from __future__ import annotations

from pathlib import Path

from console.core.tables.api import open_table
from console.demo import start_demo


def test_both_getupdates_templates_run_in_the_demo(home: Path) -> None:
    demo = start_demo(home, publish_every_s=0)
    try:
        services = demo.services
        assert [r.from_prefix for r in services.redirects.all()] == ["https://api.twitter.com/"]
        assert services.jobs.get("getUpdatesJs").language == "javascript"
        js = services.runner.run("getUpdatesJs")
        assert js.status == "succeeded", js.error
        stored = open_table(services.tables, "Updates").count()
        assert stored == js.rows_written > 0
        demo.standin.add_tweet("Fresh from the demo #mobileservices")
        py = services.runner.run("getUpdates")
        assert py.status == "succeeded", py.error
        assert open_table(services.tables, "Updates").count() == stored + 1
    finally:
        demo.close()
