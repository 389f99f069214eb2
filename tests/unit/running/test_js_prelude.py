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


def test_an_insert_with_a_callback_is_called_back_when_settled(engine: MiniRacer) -> None:
    engine.eval(
        "var got = null;"
        "tables.getTable('t').insert({a: 1}, {success: function (row) { got = row; }});"
    )
    (op,) = json.loads(str(engine.eval("__mc.drain()")))
    assert op["t"] == "insert" and op["id"] is not None
    assert engine.eval("__mc.waiting()") == 1
    engine.eval(f"__mc.settle([{{id: {op['id']}, ok: true, row: {{id: 7}}}}])")
    assert engine.eval("JSON.stringify(got)") == '{"a":1,"id":7}'
    assert engine.eval("__mc.waiting()") == 0


def test_an_unavailable_app_setting_says_why_when_read(engine: MiniRacer) -> None:
    engine.eval("__mc.configure({app_settings: {}, unavailable: {TOKEN: 'keyring locked'}})")
    message = engine.eval(
        "try { require('mobileservice-config').appSettings.TOKEN; '' } catch (e) { e.message }"
    )
    assert message == "app setting TOKEN is unavailable: keyring locked"


def test_enter_refuses_a_script_without_the_job_function(engine: MiniRacer) -> None:
    message = engine.eval("try { __mc.enter('nightly'); '' } catch (e) { e.message }")
    assert message == "the script defines no function nightly()"


def test_only_a_referenced_timer_keeps_the_loop_alive(engine: MiniRacer) -> None:
    assert engine.eval("__mc.nextDue()") == -1
    engine.eval("var h = setTimeout(function () {}, 60000)")
    assert engine.eval("__mc.nextDue()") > 0
    engine.eval("clearTimeout(h); setTimeout(function () {}, 60000).unref()")
    assert engine.eval("__mc.nextDue()") == -1


def test_a_number_beyond_2_53_keeps_the_digits_it_was_parsed_from(engine: MiniRacer) -> None:
    engine.eval("var n = JSON.parse('{\"id\": 1850000000000000123}').id")
    assert engine.eval("__mc.origin(n)") == "1850000000000000123"
    assert json.loads(str(engine.eval("__mc.precisionCounts()"))) == {"in|id": 1}
    # Beside its exact "_str" twin the number is not warned about on the way in.
    engine.eval('JSON.parse(\'{"k": 1850000000000000123, "k_str": "1850000000000000123"}\')')
    assert json.loads(str(engine.eval("__mc.precisionCounts()"))) == {"in|id": 1}
