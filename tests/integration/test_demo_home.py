"""The demo keeps to its own home: beside the user's data, never in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.demo import start_demo


def test_demo_lives_under_the_console_home_and_leaves_the_users_database_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_db = tmp_path / "real.db"
    monkeypatch.setenv("MOBILE_CONSOLE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MOBILE_CONSOLE_DB", f"sqlite:///{real_db}")
    demo = start_demo(publish_every_s=0)
    try:
        assert demo.services.home == tmp_path / "home" / "demo"
        assert (tmp_path / "home" / "demo" / "console.db").exists()
        assert [t.name for t in demo.services.tables.all()] == ["Updates"]
    finally:
        demo.close()
    assert not real_db.exists()
