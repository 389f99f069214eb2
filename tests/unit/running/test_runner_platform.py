"""Which runner a process uses: the platform's own, or the portable one
when `MOBILE_CONSOLE_RUNNER=portable` says so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from console.core.running import runner_platform
from console.core.running.runner_platform import RUNNER_ENV, chosen_name, current


@pytest.mark.parametrize(
    ("platform", "env", "chosen"),
    [
        ("linux", {}, "linux"),
        ("linux", {RUNNER_ENV: "portable"}, "portable"),
        ("linux", {RUNNER_ENV: " Portable "}, "portable"),
        ("linux", {RUNNER_ENV: "nonsense"}, "linux"),
        ("darwin", {}, "portable"),
        ("darwin", {RUNNER_ENV: "linux"}, "portable"),  # cannot run there
        ("win32", {}, "portable"),
    ],
)
def test_the_runner_is_the_platforms_unless_forced_portable(
    platform: str, env: dict[str, str], chosen: str
) -> None:
    assert chosen_name(env, platform) == chosen


@pytest.fixture
def fresh_choice() -> Iterator[None]:
    current.cache_clear()
    yield
    current.cache_clear()


def test_the_environment_forces_the_portable_implementation(
    monkeypatch: pytest.MonkeyPatch, fresh_choice: None
) -> None:
    monkeypatch.setenv(RUNNER_ENV, "portable")
    chosen = runner_platform.current()
    assert (chosen.name, chosen.can_fork_server) == ("portable", False)


def test_linux_keeps_its_own_implementation(
    monkeypatch: pytest.MonkeyPatch, fresh_choice: None
) -> None:
    monkeypatch.delenv(RUNNER_ENV, raising=False)
    chosen = runner_platform.current()
    assert (chosen.name, chosen.can_fork_server) == ("linux", True)
