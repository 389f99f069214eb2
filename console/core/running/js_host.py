"""Running a JavaScript job inside the script host, with the portal's
server-script API (see `js_prelude.py` for the JavaScript side).

The loop is Node's, driven from here: call the job's function; then, turn
after turn, take what the script queued (table operations, HTTP requests,
log lines), do it, and hand the results to its callbacks; then fire timers
that are due. The run ends when the function has returned and nothing is
pending. Inserts queued in one turn into one table share one transaction.

Over 500 lines, kept whole: `JsRun` is one event loop (table operations,
requests, timers and log lines, turn after turn) whose state every turn
shares; the `request` options live apart, in `js_request`.
"""

from __future__ import annotations

import base64
import gc
import json
import re
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from console.core.running.js_prelude import PRELUDE
from console.core.running.js_request import (
    body_limit,
    error_code,
    http_error,
    read_capped,
    request_arguments,
)

if TYPE_CHECKING:
    import requests
    from py_mini_racer import MiniRacer

    from console.core.running.linked_tables import AnyTable, AnyTables
    from console.core.running.script_api import ScriptConsole

SAFE = 2**53
#: An integer beyond 2^53 has at least 16 digits.
_LONG_DIGITS = re.compile(r"\d{16}")
_FRAME = re.compile(r"\(?([^\s()]+\.js):(\d+):(\d+)\)?$")


def preload_engine() -> None:
    """Load and start V8 (about 0.15 s), for a host started ahead of its run."""
    from py_mini_racer import init_mini_racer

    init_mini_racer(ignore_duplicate_init=True)


def js_number(value: int) -> str:
    """How JavaScript prints the double nearest to `value`: below 1e21, the
    shortest digits that round-trip, then zeros (as Python's repr)."""
    as_double = float(value)
    return str(int(Decimal(repr(as_double)))) if abs(as_double) < 1e21 else repr(as_double)


class ScriptFailed(Exception):
    """The run fails with this one-line summary (its details are logged)."""


class OutOfTime(Exception):
    """The script was still running JavaScript as its time ran out; what it
    had logged is flushed, and the runner's timeout ends the process."""


class _Precision:
    """One warning per field and direction; how many more at the end."""

    def __init__(self, console: ScriptConsole) -> None:
        self._console = console
        self._counts: dict[str, int] = {}

    def note(self, direction: str, field: str, exact: str | None, js: str) -> None:
        key = f"{direction}|{field}"
        seen = self._counts.get(key, 0)
        self._counts[key] = seen + 1
        if seen == 0:
            self._console.warn(_precision_message(direction, field, exact, js))

    def seen(self, direction: str, field: str) -> bool:
        return f"{direction}|{field}" in self._counts

    def merge(self, counts: dict[str, int]) -> None:
        for key, n in counts.items():  # the engine counted every one; it sent the first
            self._counts[key] = max(self._counts.get(key, 0), n)

    def summary(self) -> None:
        for key, n in self._counts.items():
            if n > 1:
                direction, field = key.split("|", 1)
                where = "into" if direction == "in" else "out of"
                self._console.warn(
                    f"Precision: {n - 1:,} more numbers beyond 2^53 in {field} crossed "
                    f"{where} JavaScript"
                )


def _precision_message(direction: str, field: str, exact: str | None, js: str) -> str:
    if direction == "in" and exact == js:
        return (
            f"Precision: {field} {exact} entered JavaScript beyond 2^53, where numbers are "
            f"exact only up to 2^53 (this one happens to be a double); keep ids as id_str"
        )
    if direction == "in":
        return (
            f"Precision: {field} {exact} is beyond 2^53 and became {js} in JavaScript, "
            f"whose numbers are exact only up to 2^53; read id_str for exact ids"
        )
    origin = f" (the text it came from had {exact})" if exact and exact != js else ""
    return (
        f"Precision: {field} {js} left JavaScript beyond 2^53{origin}; JavaScript numbers are "
        f"exact only up to 2^53: store id_str to keep ids exact"
    )


class JsRun:
    """One JavaScript job run in this process."""

    def __init__(
        self,
        payload: dict[str, Any],
        console: ScriptConsole,
        tables: AnyTables,
        session: requests.Session,
    ) -> None:
        self.name: str = payload["job"]
        self.script: str = payload["script"]
        self.file = f"{self.name}.js"
        self.payload = payload
        self.console = console
        self.tables = tables
        self.session = session
        self.precision = _Precision(console)
        self.unhandled: list[str] = []
        self._tables: dict[str, AnyTable] = {}
        self._dates: dict[str, datetime] = {}
        # JavaScript stops a little before the runner's own timeout, so that
        # what the script logged before an endless loop reaches the log.
        timeout = float(payload.get("timeout_s") or 0)
        margin = min(1.0, timeout / 4)
        self.deadline = time.monotonic() + timeout - margin if timeout else None

    def _left(self) -> float | None:
        if self.deadline is None:
            return None
        return max(0.01, self.deadline - time.monotonic())

    # -- the loop -------------------------------------------------------------

    def run(self, ctx: MiniRacer) -> None:
        """Run the script to its end; raises ScriptFailed, or the engine's
        JSOOMException when it reached its memory limit."""
        from py_mini_racer import (
            JSEvalException,
            JSOOMException,
            JSParseException,
            JSTimeoutException,
        )

        config = {
            "identity": self.payload.get("identity", {}),
            "app_settings": self.payload.get("app_settings", {}),
            "unavailable": self.payload.get("unavailable", {}),
        }
        ctx.eval(PRELUDE)
        ctx.eval(f"__mc.configure({json.dumps(config)})")
        try:
            ctx.eval(f"{self.script}\n//# sourceURL={self.file}", timeout_sec=self._left())
            self._turn(ctx, f"__mc.enter({json.dumps(self.name)})")
            while True:
                if self._pump(ctx):
                    continue
                due = ctx.eval("__mc.nextDue()")
                if not isinstance(due, (int, float)) or due < 0:
                    break
                if due > 0:
                    time.sleep(due / 1000)
                self._turn(ctx, "__mc.fireDue()")
            rejection = str(ctx.eval("__mc.rejection()") or "")
            if rejection:
                raise ScriptFailed(self._describe(rejection))
        except JSOOMException:
            raise
        except JSTimeoutException:
            self._flush_logs(ctx)
            self.console.error("The script was still running when its time ran out")
            raise OutOfTime from None
        except JSParseException as e:
            raise ScriptFailed(self._describe(str(e), syntax=True)) from None
        except JSEvalException as e:
            self._flush_logs(ctx)
            raise ScriptFailed(self._describe(str(e))) from None
        finally:
            self._finish_precision(ctx)
        if self.unhandled:
            more = f" (and {len(self.unhandled) - 1} more)" if len(self.unhandled) > 1 else ""
            raise ScriptFailed(
                f"a table operation without an error callback failed: {self.unhandled[0]}{more}"
            )

    def _turn(self, ctx: MiniRacer, code: str) -> None:
        ctx.eval(code, timeout_sec=self._left())

    def _pump(self, ctx: MiniRacer) -> bool:
        """Do what the last turn queued and call its callbacks; False when
        nothing was queued."""
        text = str(ctx.eval("__mc.drain()") or "")
        if not text:
            return False
        # No cyclic GC while a big turn's hundreds of thousands of new dicts
        # (no cycles among them) are made: each collection would walk them all.
        paused = gc.isenabled()
        gc.disable()
        try:
            ops = json.loads(text)
            tagged = "\\u0001" in text
            if tagged or _LONG_DIGITS.search(text):
                self._restore(ctx, ops, tagged)
        finally:
            if paused:
                gc.enable()
        results = self._do(ops)
        if results:
            self._turn(ctx, f"__mc.settle({json.dumps(results, default=_json_default)})")
        return True

    def _restore(self, ctx: MiniRacer, ops: list[dict[str, Any]], tagged: bool) -> None:
        """Tagged Dates and BigInts back to datetime and int; integers beyond
        2^53 leaving JavaScript noted. Rows (the bulk of a big turn) are
        flat, so they are walked flat."""
        for op in ops:
            kind = op.get("t")
            if kind == "rows":
                rows = op["items"]
            elif kind in ("insert", "update") and type(op.get("item")) is dict:
                rows = [op["item"]]
            elif kind in ("log", "precision"):
                continue
            else:
                for key, value in op.items():
                    op[key] = self._walk(ctx, value, key)
                continue
            for row in rows:
                if type(row) is not dict:
                    continue
                for key, value in row.items():
                    of = type(value)
                    if of is str:
                        if tagged and value[:1] == "\x01":
                            row[key] = self._untag(value)
                    elif of is int:
                        if value > SAFE or value < -SAFE:
                            self._leaving(ctx, key, value)
                    elif of is dict or of is list:
                        row[key] = self._walk(ctx, value, key)

    def _walk(self, ctx: MiniRacer, value: Any, field: str) -> Any:
        kind = type(value)
        if kind is str and value[:1] == "\x01":
            return self._untag(value)
        if kind is dict:
            for key, inner in value.items():
                value[key] = self._walk(ctx, inner, key)
        elif kind is list:
            return [self._walk(ctx, inner, field) for inner in value]
        elif kind is int and (value > SAFE or value < -SAFE):
            self._leaving(ctx, field, value)
        return value

    def _untag(self, text: str) -> Any:
        """A tagged Date or BigInt (see `serialize` in the prelude); any other
        text that happens to start with U+0001 stays as it is."""
        try:
            if text[1:2] == "D":
                return self._date(text[2:])
            if text[1:2] == "B":
                return int(text[2:])
        except ValueError:
            pass
        return text

    def _date(self, text: str) -> datetime:
        # One datetime per distinct instant, so a batch stamped with one
        # `new Date()` is converted for the database once.
        found = self._dates.get(text)
        if found is None:
            found = self._dates[text] = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return found

    def _leaving(self, ctx: MiniRacer, field: str, value: int) -> None:
        if self.precision.seen("out", field):
            self.precision.note("out", field, None, str(value))
            return
        origin = str(ctx.eval(f"__mc.origin({value})") or "") or None
        self.precision.note("out", field, origin, str(value))

    def _flush_logs(self, ctx: MiniRacer) -> None:
        """What the script logged before its uncaught exception."""
        try:
            text = ctx.eval("__mc.drain()")
        except Exception:  # the context may be unusable after the error
            return
        for op in json.loads(str(text)) if text else []:
            if op.get("t") in ("log", "precision"):
                self._do([op])

    def _finish_precision(self, ctx: MiniRacer) -> None:
        try:
            counts = json.loads(str(ctx.eval("__mc.precisionCounts()")))
        except Exception:
            counts = {}
        self.precision.merge(counts)
        self.precision.summary()

    # -- operations -----------------------------------------------------------

    def _do(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        i = 0
        while i < len(ops):
            op = ops[i]
            kind = op.get("t")
            if kind in ("insert", "rows"):
                j = i + 1
                while (
                    j < len(ops)
                    and ops[j].get("t") in ("insert", "rows")
                    and ops[j]["table"] == op["table"]
                ):
                    j += 1
                results.extend(self._inserts(op["table"], ops[i:j]))
                i = j
                continue
            if kind == "log":
                level = op.get("level", "information")
                write = {"warning": self.console.warn, "error": self.console.error}.get(
                    level, self.console.log
                )
                write(str(op.get("msg", "")))
            elif kind == "precision":
                self.precision.note(op["direction"], op["field"], op.get("exact"), op["js"])
            elif kind == "unhandled":
                self.console.error(f"Error: {op['error']}")
                self.unhandled.append(str(op["error"]))
            elif kind in ("update", "del", "read"):
                results.append(self._table_op(op))
            elif kind == "http":
                results.append(self._http(op))
            i += 1
        return [r for r in results if r.get("id") is not None]

    def _table(self, name: str) -> AnyTable:
        if name not in self._tables:
            self._tables[name] = self.tables.get_table(name)
        return self._tables[name]

    def _failed(self, op: dict[str, Any], error: BaseException) -> dict[str, Any]:
        message = str(error) or type(error).__name__
        if op.get("id") is None:  # no callbacks at all: Node would print it and carry on
            self.console.error(f"Error: {op.get('table')}.{op.get('t')}: {message}")
            self.unhandled.append(message)
        return {"id": op.get("id"), "ok": False, "error": message}

    def _inserts(self, name: str, group: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One turn's inserts into one table, in the script's order: rows
        without a success callback in one `insert_many`, each one with a
        success callback on its own (it gets its stored row back)."""
        entries: list[dict[str, Any]] = []  # one per insert call, in order
        for op in group:
            if op["t"] == "rows":
                entries.extend({"t": "insert", "table": name, "item": row} for row in op["items"])
            else:
                entries.append(op)
        try:
            table = self._table(name)
        except Exception as e:
            return [self._failed(op, e) for op in entries]
        out: list[dict[str, Any]] = []
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            if not batch:
                return
            try:
                table.insert_many([self._checked_row(name, op["item"]) for op in batch])
                out.extend({"id": op["id"], "ok": True} for op in batch if op.get("id"))
            except Exception:
                # One bad row: each insert on its own, as each was its own call.
                for op in batch:
                    try:
                        table.insert(self._checked_row(name, op["item"]))
                        out.append({"id": op.get("id"), "ok": True})
                    except Exception as e:
                        out.append(self._failed(op, e))
            batch.clear()

        for op in entries:
            if not op.get("back"):
                batch.append(op)
                continue
            flush()  # in the order the script made its calls
            try:
                row = table.insert(self._checked_row(name, op["item"]))
                out.append({"id": op["id"], "ok": True, "row": self._to_js(name, row)})
            except Exception as e:
                out.append(self._failed(op, e))
        flush()
        return out

    @staticmethod
    def _checked_row(name: str, item: Any) -> dict[str, Any]:
        if type(item) is not dict:
            raise TypeError(f"{name}: a row must be an object")
        if "id" in item and item["id"] is None:  # {id: null}: the table gives the id
            return {k: v for k, v in item.items() if k != "id"}
        return item

    def _table_op(self, op: dict[str, Any]) -> dict[str, Any]:
        name = op["table"]
        try:
            table = self._table(name)
            if op["t"] == "update":
                row = table.update(op["item"])
                return {"id": op.get("id"), "ok": True, "row": self._to_js(name, row)}
            if op["t"] == "del":
                table.delete(op["key"])
                return {"id": op.get("id"), "ok": True}
            return self._read(table, op)
        except Exception as e:
            return self._failed(op, e)

    def _read(self, table: AnyTable, op: dict[str, Any]) -> dict[str, Any]:
        spec = op["query"]
        query = table.query()
        for condition in spec.get("filters", []):
            query = query.where(**condition)
        for column, descending in spec.get("ordering", []):
            query = query.order_by_descending(column) if descending else query.order_by(column)
        total = query.count() if spec.get("total") else None
        if spec.get("skip"):
            query = query.skip(int(spec["skip"]))
        if spec.get("take") is not None:
            query = query.take(int(spec["take"]))
        if spec.get("select"):
            query = query.select(*spec["select"])
        rows = [self._to_js(table.name, row) for row in query.read()]
        return {"id": op.get("id"), "ok": True, "rows": rows, "total": total}

    def _to_js(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        for key, value in row.items():
            if type(value) is int and abs(value) > SAFE:
                self.precision.note("in", f"{table}.{key}", str(value), js_number(value))
        return row

    # -- HTTP -------------------------------------------------------------------

    def _http(self, op: dict[str, Any]) -> dict[str, Any]:
        import requests

        spec: dict[str, Any] = op["spec"]
        limit = body_limit(self.payload.get("app_settings", {}))
        try:
            kwargs = request_arguments(spec)
            with self.session.request(spec.get("method", "GET"), stream=True, **kwargs) as response:
                content = read_capped(response, limit)
        except requests.RequestException as e:
            return {"id": op.get("id"), "ok": False, "error": http_error(e), "code": error_code(e)}
        except (TypeError, ValueError) as e:
            return {"id": op.get("id"), "ok": False, "error": str(e)}
        body = content.decode(response.encoding or "utf-8", "replace")
        return {
            "id": op.get("id"),
            "ok": True,
            "response": {
                "statusCode": response.status_code,
                "statusMessage": response.reason,
                "headers": {k.lower(): v for k, v in response.headers.items()},
                "body": body,
                "url": response.url,
            },
        }

    def _describe(self, text: str, *, syntax: bool = False) -> str:
        """`TypeError: msg (line 12)` from the engine's report, the stack's
        frames in the script logged."""
        lines = text.strip().splitlines() or ["Error"]
        first = lines[0]
        where = re.match(r"^(.*?):(\d+): (.*)$", first)
        message = where.group(3) if where else first
        line = int(where.group(2)) if where and where.group(1) == self.file else None
        frames = [s.strip() for s in lines if s.strip().startswith("at ")]
        for frame in frames:
            match = _FRAME.search(frame)
            if match and match.group(1) == self.file and line is None:
                line = int(match.group(2))
        in_script = [frame for frame in frames if self.file in frame]
        if not syntax and in_script:
            self.console.error("Stack (script frames):")
            for frame in in_script:
                self.console.error(f"  {frame}")
        return f"{message} (line {line})" if line else message


def _json_default(value: object) -> Any:
    if isinstance(value, datetime):
        return {"$date": value.isoformat()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")  # a binary column, as base64 text
    return str(value)


def run_javascript(
    payload: dict[str, Any],
    console: ScriptConsole,
    tables: AnyTables,
    limit_memory: Callable[[], None],
) -> dict[str, Any]:
    """Run the payload's JavaScript job; its outcome, as the host sends it."""
    import requests
    from py_mini_racer import JSOOMException, MiniRacer

    preload_engine()
    ctx = MiniRacer()
    # V8's heap gets half the job's limit and stops the script cleanly there;
    # the process as a whole (V8 included) is bounded at the full limit.
    ctx.set_hard_memory_limit(int(payload["memory_bytes"]) // 2)
    limit_memory()
    run = JsRun(payload, console, tables, requests.Session())
    try:
        run.run(ctx)
    except JSOOMException:
        return {"t": "done", "ok": False, "kind": "memory"}
    except MemoryError:
        return {"t": "done", "ok": False, "kind": "memory"}
    except ScriptFailed as e:
        return {"t": "done", "ok": False, "kind": "exception", "error": str(e)}
    except OutOfTime:
        time.sleep(5.0)  # the runner ends the process now, as "timed out"
        error = f"timed out after {payload.get('timeout_s')} s"
        return {"t": "done", "ok": False, "kind": "exception", "error": error}
    return {"t": "done", "ok": True}
