"""The README says what the code declares (as Datasette's test_docs.py)."""

from __future__ import annotations

from pathlib import Path

from console.core.config.settings import JOB_MEMORY, JOB_TIMEOUT, SETTINGS, readme_table

README = Path(__file__).resolve().parents[2] / "README.md"


def _between(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


def test_readme_settings_table_is_the_one_generated_from_settings() -> None:
    text = README.read_text("utf-8")
    table = _between(
        text,
        "`python -m console.core.config.settings`; tests/unit/test_docs.py checks it -->",
        "<!-- end of settings table -->",
    )
    assert table.strip() == readme_table(), "regenerate: python -m console.core.config.settings"


def test_every_setting_is_documented_with_its_help() -> None:
    text = README.read_text("utf-8")
    for spec in SETTINGS:
        assert f"`{spec.key}`" in text and spec.help in text


def test_readme_states_the_declared_job_limits() -> None:
    text = README.read_text("utf-8")
    assert f"timeout {JOB_TIMEOUT.minimum}–{JOB_TIMEOUT.maximum:,} s" in text
    assert f"(default {JOB_TIMEOUT.default})" in text
    assert f"memory {JOB_MEMORY.minimum}–{JOB_MEMORY.maximum:,} MB" in text
    assert f"(default {JOB_MEMORY.default:,})" in text
