"""The runner on a console with an in-memory keyring: what one run records,
with the limits the console's settings declare."""

from __future__ import annotations

from console.app import Services
from console.core.config.masking import MASK


def test_a_run_is_recorded_and_marks_the_jobs_last_run(services: Services) -> None:
    services.tables.create("Hello")
    services.jobs.create("hello", template="hello")
    lines: list[str] = []
    run = services.runner.run("hello", on_line=lambda line: lines.append(line.message))
    assert run.status == "succeeded" and run.trigger == "run once"
    assert services.jobs.get("hello").last_run_at == run.started_at
    assert lines[0] == "Run started (run once)" and lines[-1].startswith("Run succeeded")
    assert [r.id for r in services.runs.runs()] == [run.id]


def test_the_log_cap_is_the_console_setting(services: Services) -> None:
    services.set_setting("run_log_max_lines", 100)
    services.jobs.create(
        "chatty", script="def chatty():\n    for i in range(150):\n        print(i)\n"
    )
    run = services.runner.run("chatty")
    messages = [e.message for e in services.runs.entries(run_id=run.id, limit=None)]
    assert "99" in messages and "100" not in messages
    assert any("50 more lines" in m and "at most 100 lines" in m for m in messages)


def test_a_secret_app_setting_never_reaches_the_log_or_the_error(services: Services) -> None:
    services.app_settings.set("TOKEN", "tok-5e1f-abcd", secret=True)
    services.jobs.create(
        "leak",
        script="def leak():\n"
        "    print('token', config.app_settings['TOKEN'])\n"
        "    raise ValueError(config.app_settings['TOKEN'])\n",
    )
    run = services.runner.run("leak")
    messages = [e.message for e in services.runs.entries(run_id=run.id, limit=None)]
    assert run.status == "failed" and run.error is not None
    assert f"token {MASK}" in messages
    assert all("tok-5e1f" not in m for m in [*messages, run.error])


def test_a_job_over_its_memory_limit_fails_that_run_only(services: Services) -> None:
    services.jobs.create(
        "hungry", script="def hungry():\n    data = bytearray(600 * 1024 * 1024)\n", memory_mb=256
    )
    run = services.runner.run("hungry")
    assert run.status == "failed" and "out of memory" in (run.error or "")
    services.jobs.create("after", script="def after():\n    print('fine')\n")
    assert services.runner.run("after").status == "succeeded"


def test_a_very_long_line_is_one_entry_that_counts_what_was_cut(services: Services) -> None:
    services.jobs.create(
        "long",
        script="def long():\n    print('A' * 100_000)\n    print('after')\n"
        "    console.log('B' * 65_000)\n",
    )
    run = services.runner.run("long")
    messages = [e.message for e in services.runs.entries(run_id=run.id, limit=None)]
    body = messages[1:-1]  # between "Run started" and "Run succeeded"
    assert body == [
        "A" * 8_000 + "… (92,000 more characters)",
        "after",
        "B" * 8_000 + "… (57,000 more characters)",
    ]
