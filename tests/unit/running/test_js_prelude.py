"""The portal's server-script globals, as V8 sees them once the prelude is
evaluated: the API a JavaScript job may use, and no input or output of its
own (every table operation and log line is queued for the host)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from py_mini_racer import MiniRacer

from console.core.running.js_prelude import PRELUDE


@pytest.fixture
def engine() -> Iterator[MiniRacer]:
    ctx = MiniRacer()
    ctx.eval(PRELUDE)
    config = {
        "identity": {"twitter_consumer_key": "ck-123456"},
        "app_settings": {"TWITTER_QUERY": "#x"},
        "unavailable": {},
    }
    ctx.eval(f"__mc.configure({json.dumps(config)})")
    yield ctx


def test_the_portal_globals_are_there(engine: MiniRacer) -> None:
    kinds = json.loads(
        engine.eval(
            "JSON.stringify([typeof tables.getTable, typeof require('request'),"
            " typeof console.log, typeof setTimeout, typeof clearInterval,"
            " typeof tables.getTable('Updates').where])"
        )
    )
    assert kinds == ["function"] * 6


def test_config_reads_the_identity_and_app_settings(engine: MiniRacer) -> None:
    config = "require('mobileservice-config')"
    assert engine.eval(f"{config}.twitterConsumerKey") == "ck-123456"
    assert engine.eval(f"{config}.appSettings.TWITTER_QUERY") == "#x"


def test_a_module_the_console_lacks_is_refused_with_what_it_has(engine: MiniRacer) -> None:
    message = engine.eval("try { require('fs'); '' } catch (e) { e.code + ': ' + e.message }")
    assert message.startswith("MODULE_NOT_FOUND: Cannot find module 'fs'")
    assert "'request' and 'mobileservice-config'" in message


def test_writes_and_log_lines_are_queued_for_the_host_not_done(engine: MiniRacer) -> None:
    engine.eval("tables.getTable('Updates').insert({text: 'hi'}); console.log('one', 2)")
    queued = json.loads(str(engine.eval("__mc.drain()")))
    assert {"t": "log", "level": "information", "msg": "one 2"} in queued
    rows = next(op for op in queued if op["t"] == "rows")
    assert rows["table"] == "Updates" and rows["items"] == [{"text": "hi"}]
    assert engine.eval("__mc.drain()") == ""  # drained once
