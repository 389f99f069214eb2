"""What a job script sees: console, config, app settings (the contract in
DESIGN.md), without a child process."""

from __future__ import annotations

from typing import Any

import pytest

from console.core.running.script_api import (
    MAX_MESSAGE,
    AppSettingsView,
    MissingSettingError,
    ScriptConfig,
    ScriptConsole,
)


def test_console_methods_write_log_lines_at_their_level() -> None:
    sent: list[dict[str, Any]] = []
    console = ScriptConsole(sent.append)
    console.log("a", 1)
    console.info("b")
    console.warn("c")
    console.error("d", None)
    assert [(m["level"], m["msg"]) for m in sent] == [
        ("information", "a 1"),
        ("information", "b"),
        ("warning", "c"),
        ("error", "d None"),
    ]


def test_a_huge_message_is_cut_and_says_how_much() -> None:
    sent: list[dict[str, Any]] = []
    ScriptConsole(sent.append).log("x" * (MAX_MESSAGE + 500))
    assert sent[0]["msg"].endswith("… (500 more characters)")


def test_app_settings_read_like_a_dict_and_missing_ones_say_how_to_add_them() -> None:
    view = AppSettingsView({"TWITTER_QUERY": "#x"}, {"TOKEN": "no keyring"})
    assert view["TWITTER_QUERY"] == "#x" and view.get("NOPE", "d") == "d"
    assert "TOKEN" in view and list(view) == ["TWITTER_QUERY"]
    with pytest.raises(MissingSettingError, match="setting set NOPE"):
        view["NOPE"]
    with pytest.raises(MissingSettingError, match="unavailable: no keyring"):
        view.get("TOKEN")  # a secret that exists but cannot be read is an error
    assert "TOKEN" not in repr(view) and "no keyring" not in repr(view)


def test_config_gives_the_identity_or_says_where_to_set_it() -> None:
    config = ScriptConfig({"identity": {"twitter_consumer_key": "ck"}})
    assert config.twitter_consumer_key == "ck"
    with pytest.raises(MissingSettingError, match="identity twitter"):
        _ = config.twitter_consumer_secret
    assert "ck" not in repr(config)
