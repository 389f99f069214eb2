"""The supervisor's end of a run's table operations: values as they cross,
errors as the child raises them again, and a socket only a run's own token
opens."""

from __future__ import annotations

import json
import math
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from console.core.errors import ConsoleError, NotFoundError
from console.core.running.linked_tables import LinkedDatabaseError, raise_reply
from console.core.running.table_link import TableLink, decode, encode, error_reply
from console.core.store.database import Store
from console.core.tables.catalogue import TableStore
from console.core.tables.values import kind_of


def test_values_cross_as_they_were() -> None:
    values = {
        "aware": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2))),
        "naive": datetime(2026, 1, 2, 3, 4, 5),
        "bytes": b"\x00\xff",
        "big": 2**62 + 1,
        "beyond": 2**70,
        "nan": math.inf,
        "nested": [1, (2, "x"), {"k": None}],
        7: True,
    }
    back = decode(json.loads(json.dumps(encode(values))))
    assert back == {**values, "nested": [1, [2, "x"], {"k": None}]}
    assert back["naive"].tzinfo is None and back["aware"].utcoffset() == timedelta(hours=2)
    assert decode(encode(bytearray(b"ab"))) == b"ab" and decode(encode({1, 2})) == {1, 2}


def test_a_value_no_table_stores_is_refused_with_its_own_type_name() -> None:
    class Point:
        pass

    with pytest.raises(ConsoleError, match="cannot store a Point"):
        kind_of(decode(json.loads(json.dumps(encode(Point())))))


def test_errors_are_raised_again_as_they_were() -> None:
    with pytest.raises(NotFoundError, match="no row with id 3"):
        raise_reply(error_reply(NotFoundError("no row with id 3 in People")))
    with pytest.raises(KeyError) as raised:
        raise_reply(error_reply(KeyError("name")))
    assert raised.value.args == ("name",)

    class Strange(Exception):
        pass

    with pytest.raises(RuntimeError, match="odd"):
        raise_reply(error_reply(Strange("odd")))
    with pytest.raises(LinkedDatabaseError, match="disk is full"):
        raise_reply({"error": "database", "msg": "the database's disk is full"})
    raise_reply({"result": 1})  # an answer: nothing raised


@pytest.fixture
def link(db_url: str) -> Iterator[TableLink]:
    store = Store(db_url)
    TableStore(store).create("People")
    link = TableLink(store)
    yield link
    link.close()
    store.dispose()


def _ask(path: str, token: str, request: dict[str, object]) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(10)
        conn.connect(path)
        try:
            conn.sendall(json.dumps({"token": token}).encode() + b"\n")
            conn.sendall(json.dumps(request).encode() + b"\n")
            return conn.makefile("rb").readline()
        except OSError:  # closed on us
            return b""


def test_only_a_runs_own_token_opens_the_link_and_only_while_it_runs(link: TableLink) -> None:
    offered = link.offer(3, None)
    insert = {"op": "insert", "table": "People", "args": encode([{"name": "Ada"}])}
    assert _ask(link.path, "not-a-token", insert) == b""  # closed, nothing written
    answer = json.loads(_ask(link.path, offered["token"], insert))
    assert answer["rows"] == 1 and decode(answer["result"])["__runId"] == 3
    unknown = json.loads(_ask(link.path, offered["token"], {"op": "drop", "table": "People"}))
    assert unknown["error"] == "console" and "no operation 'drop'" in unknown["msg"]
    link.finish(offered)
    assert _ask(link.path, offered["token"], insert) == b""  # the run has ended
    with link.store.read() as conn:
        assert conn.exec_driver_sql('SELECT count(*) FROM "People"').scalar() == 1
