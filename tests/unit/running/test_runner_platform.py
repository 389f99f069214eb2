"""Which runner a process uses: the platform's own, or the portable one
when `MOBILE_CONSOLE_RUNNER=portable` says so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from console.core.running import runner_platform
from console.core.running.runner_platform import RUNNER_ENV, chosen_name, current, refusal


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


@pytest.mark.parametrize(
    ("platform", "word", "refused"),
    [
        ("linux", None, False),
        ("linux", "", False),
        ("linux", "portable", False),
        ("linux", " Linux ", False),
        ("linux", "protable", True),
        ("linux", "fork", True),
        ("darwin", "portable", False),
        ("darwin", "linux", True),
    ],
)
def test_a_runner_word_that_names_no_runner_here_is_refused(
    platform: str, word: str | None, refused: bool
) -> None:
    env = {} if word is None else {RUNNER_ENV: word}
    line = refusal(env, platform)
    assert (line is not None) == refused
    if line is not None:
        assert RUNNER_ENV in line and "\n" not in line
