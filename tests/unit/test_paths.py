"""Where a console lives: --home/--db, then the environment, then defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.core import paths


def test_arguments_win_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOBILE_CONSOLE_HOME", str(tmp_path / "env-home"))
    monkeypatch.setenv("MOBILE_CONSOLE_DB", "sqlite:///env.db")
    chosen = paths.resolve(tmp_path / "arg-home", "sqlite:///arg.db")
    assert (chosen.home, chosen.db_url) == (tmp_path / "arg-home", "sqlite:///arg.db")


def test_the_environment_wins_over_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOBILE_CONSOLE_HOME", str(tmp_path / "env-home"))
    chosen = paths.resolve()
    assert chosen.home == tmp_path / "env-home"
    assert chosen.db_url == f"sqlite:///{tmp_path / 'env-home' / 'console.db'}"


def test_without_either_the_home_is_the_platforms_user_data_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MOBILE_CONSOLE_HOME")
    assert paths.resolve().home == paths.default_home()
    assert paths.default_home().name == "mobile-console"
