"""The supervisor's end of a run's table operations: values as they cross,
errors as the child raises them again, and a socket only a run's own token
opens."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from console.core.errors import NotFoundError
from console.core.running import table_link
from console.core.running.link_values import decode, encode
from console.core.running.linked_tables import LinkedDatabaseError, raise_reply
from console.core.running.table_link import TableLink, error_reply
from console.core.store.database import Store
from console.core.tables.catalogue import TableStore


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


@pytest.mark.postgres
def test_an_operation_under_way_as_its_run_ends_is_stopped_and_rolled_back(pg_url: str) -> None:
    """The run's child was killed while the supervisor wrote for it (here
    the write waits on a lock): the run's end stops it, nothing is written,
    as the child's own connection, gone with it, would have left it."""
    store = Store(pg_url)
    TableStore(store).create("People")
    link = TableLink(store)
    offered = link.offer(3, None)
    insert = {"op": "insert", "table": "People", "args": encode([{"name": "Ada"}])}
    answers: list[bytes] = []
    asking = threading.Thread(
        target=lambda: answers.append(_ask(link.path, offered["token"], insert))
    )
    blocker = sa.create_engine(pg_url)
    try:
        with blocker.connect() as conn, conn.begin():
            conn.exec_driver_sql('LOCK TABLE "People" IN ACCESS EXCLUSIVE MODE')
            asking.start()
            waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            deadline = time.monotonic() + 10
            while not conn.exec_driver_sql(waiting).scalar() and time.monotonic() < deadline:
                time.sleep(0.02)
            ending = threading.Thread(target=link.finish, args=(offered,))
            ending.start()
            ending.join(10)
            assert not ending.is_alive()  # the run's end did not wait for the lock
            asking.join(10)
        assert len(answers) == 1 and b'"result"' not in answers[0]  # stopped, not done
        with store.read() as conn:
            assert conn.exec_driver_sql('SELECT count(*) FROM "People"').scalar() == 0
    finally:
        blocker.dispose()
        link.close()
        store.dispose()


def test_connections_that_never_say_hello_do_not_shut_the_link(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job opening connections by the hundred: each waits at most
    `HELLO_S`, and past `WAITING_CONNECTIONS` they are closed at once; a
    run's own requests are answered meanwhile and after."""
    monkeypatch.setattr(table_link, "HELLO_S", 0.3)
    monkeypatch.setattr(table_link, "WAITING_CONNECTIONS", 4)
    store = Store(db_url)
    TableStore(store).create("People")
    link = TableLink(store)
    idle = []
    try:
        for _ in range(20):
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.connect(link.path)
            idle.append(conn)
        offered = link.offer(3, None)
        insert = {"op": "insert", "table": "People", "args": encode([{"name": "Ada"}])}
        deadline = time.monotonic() + 10
        answer = _ask(link.path, offered["token"], insert)
        while not answer and time.monotonic() < deadline:  # the waiting ones time out
            time.sleep(0.1)
            answer = _ask(link.path, offered["token"], insert)
        assert json.loads(answer)["rows"] == 1
        for conn in idle:  # each closed by the link: at once past the cap, else in time
            conn.settimeout(5)
            assert conn.recv(1) == b""
    finally:
        for conn in idle:
            conn.close()
        link.close()
        store.dispose()
