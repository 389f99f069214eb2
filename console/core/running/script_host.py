"""The child process that runs one job script.

The parent starts it (`python -m console.core.running.script_host`, or the bundle's
own executable with `__script-host__`), writes the run's payload as JSON on
its standard input, and reads JSON lines back from its standard output: log
lines, rows written, and one final `done`. The script's own output to fd 1
and fd 2 goes to standard error, which the parent logs as plain lines.
"""

from __future__ import annotations

import builtins
import faulthandler
import io
import json
import os
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, NoReturn

SCRIPT_FILE = "<job script>"
#: Characters of `print()` output held while waiting for a newline.
MAX_PENDING = 64_000


class _Channel:
    """JSON lines to the parent on a private copy of fd 1."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()

    def __call__(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8", "replace")
        with self._lock:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]


class _LogStream(io.TextIOBase):
    """`print()` and `sys.stderr` writes, as log lines of one level
    (`write_line` is that level's `console` method)."""

    def __init__(self, write_line: Callable[[str], None]) -> None:
        self._write_line = write_line
        self._buffer = ""
        self._sent_early = False  # the line under way went out before its newline

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._buffer += text
        if "\n" in text:
            *lines, self._buffer = self._buffer.split("\n")
            if self._sent_early and not lines[0]:
                lines = lines[1:]  # the newline that ends a line sent already
            self._sent_early = False
            for line in lines:
                self._write_line(line)
        if len(self._buffer) > MAX_PENDING:  # no newline in sight: a line of its own
            self.flush()
            self._sent_early = True
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            line, self._buffer = self._buffer, ""
            self._write_line(line)


def describe(error: BaseException) -> str:
    """`ValueError: kaboom 42 (line 2)`: the error and the script's line."""
    line = None
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename == SCRIPT_FILE:
            line = lineno
    if isinstance(error, SyntaxError) and error.filename == SCRIPT_FILE:
        line = error.lineno
    linked = sys.modules.get("console.core.running.linked_tables")
    if _is_database_error(error):  # the table API's: said as the console says it
        from console.core.store import faults

        text = f"the console's database: {faults.describe(error)}"
    elif linked is not None and isinstance(error, linked.LinkedDatabaseError):
        text = f"the console's database: {error}"  # said so by the supervisor
    else:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        text = f"{type(error).__name__}: {first}" if first else type(error).__name__
    return f"{text} (line {line})" if line else text


def _is_database_error(error: BaseException) -> bool:
    """An error of SQLAlchemy's (loaded, as the table API has been used)."""
    exc = sys.modules.get("sqlalchemy.exc")
    return exc is not None and isinstance(error, exc.DBAPIError)


def _script_traceback(error: BaseException) -> list[str]:
    """The traceback frames inside the script, for the log."""
    frames = [
        f"  line {lineno}, in {frame.f_code.co_name}"
        for frame, lineno in traceback.walk_tb(error.__traceback__)
        if frame.f_code.co_filename == SCRIPT_FILE
    ]
    return ["Traceback (script frames):", *frames] if len(frames) > 1 else []


def preload(what: str | None) -> None:
    """What job scripts use, loaded before the payload comes: "tables" (the
    table layer, SQLAlchemy), "all" (requests and OAuth too) or "linked"
    (what a run needs whose table operations go through its supervisor:
    no SQLAlchemy, which a run loads only if it uses its own connection).
    "tables" and "all" may end in `:DRIVER`, a SQLAlchemy driver name such
    as `postgresql+psycopg`: that database's dialect and driver too, which a
    run would otherwise import itself (psycopg's cost a run about 80 ms of
    CPU, docs/benchmarks.md)."""
    kind, _, driver = (what or "").partition(":")
    if kind == "linked":  # a run whose table operations its supervisor does (`linked_tables`)
        import console.core.running.linked_tables
        import console.core.running.script_api
        import console.core.tables.conditions
    if kind in ("tables", "all"):
        import console.core.running.linked_tables
        import console.core.running.script_api
        import console.core.store.database
        import console.core.tables.api  # noqa: F401

        if driver:
            from sqlalchemy.engine import make_url

            make_url(f"{driver}://").get_dialect().import_dbapi()
    if kind == "all":
        import requests  # noqa: F401
        import requests_oauthlib  # noqa: F401

        from console.core.running.js_host import preload_engine

        preload_engine()  # V8 for JavaScript jobs, 0.15 s ahead of the run


def preload_kind(what: str | None) -> str:
    """ "tables", "all" or "" of a `--preload` value (its driver left off)."""
    return (what or "").partition(":")[0]


def limit_memory(limit: int, *, engine_started: bool) -> None:
    """Bound the run's memory at `limit` bytes (`runner_platform`)."""
    from console.core.running.runner_platform import current

    current().limit_memory(limit, engine_started=engine_started)


def preload_flag(args: list[str]) -> str | None:
    """The host's `--preload=WHAT`, if given."""
    return next((a.split("=", 1)[1] for a in args if a.startswith("--preload=")), None)


def main(*, preload_what: str | None = None) -> int:
    from console.core.running.runner_platform import current

    current().wait_for_payload()
    channel = _Channel(os.dup(1))
    os.dup2(2, 1)  # anything the script writes to fd 1 reaches the parent as plain lines
    faulthandler.enable(file=2)
    preload(preload_what)
    data = sys.stdin.buffer.read()
    if not data:
        return 0  # a spare whose console has gone: nothing to run
    payload = json.loads(data.decode("utf-8"))
    # From here on a guardian ends the run's whole process tree with the run.
    current().contain(channel)

    limit = int(payload["memory_bytes"])
    javascript = payload.get("language") == "javascript"
    if not javascript:
        # A JavaScript run sets it once its engine has started.
        limit_memory(limit, engine_started=preload_kind(preload_what) == "all")

    from console.core.running.http_redirects import install_in_requests
    from console.core.running.script_api import ScriptConfig, ScriptConsole, ScriptTables

    install_in_requests([tuple(pair) for pair in payload.get("redirects", [])])
    flush_http = _install_http_recording(payload, channel)
    dry_run = bool(payload.get("dry_run"))
    if dry_run and not payload.get("replay_run"):  # a replay's recording answers every request
        from console.core.running import dry_run as dry_run_http

        dry_run_http.install_in_requests()

    console = ScriptConsole(channel)

    sys.stdout = _LogStream(console.log)
    sys.stderr = _LogStream(console.warn)
    run_id = payload.get("run_id")
    tables: Any = ScriptTables(
        payload["db_url"],
        channel,
        dry_run=dry_run,
        run_id=int(run_id) if run_id is not None else None,
        known=payload.get("tables"),
    )
    if payload.get("table_link"):  # the supervisor does the run's table operations
        from console.core.running.linked_tables import LinkedTables

        tables = LinkedTables(payload["table_link"], tables, channel)
    outcome: dict[str, Any] = {"t": "done", "ok": True}
    if javascript:
        from console.core.running.js_host import run_javascript

        try:
            outcome = run_javascript(
                payload, console, tables, lambda: limit_memory(limit, engine_started=True)
            )
        except MemoryError:
            outcome = {"t": "done", "ok": False, "kind": "memory"}
        except Exception as e:  # the host's own failure: this run fails, and says why
            error = f"the JavaScript host failed: {type(e).__name__}: {e}"
            outcome = {"t": "done", "ok": False, "kind": "exception", "error": error}
        flush_http()
        return _finish(channel, tables, outcome)
    name = payload["job"]
    if payload.get("debug"):
        from console.core.running.debugging import start

        global SCRIPT_FILE  # the file the debugger sees: the script's frames are known by it
        SCRIPT_FILE = start(payload["debug"], payload["script"], channel)
    given: dict[str, Any] = {"tables": tables, "config": ScriptConfig(payload), "console": console}
    namespace: dict[str, Any] = {"__name__": f"job_{name}", "__file__": SCRIPT_FILE, **given}
    try:
        exec(compile(payload["script"], SCRIPT_FILE, "exec"), namespace)
        entry = namespace.get(name)
        if not callable(entry):
            raise NameError(f"the script defines no function {name}()")
        if name in given:  # a job named `console` (or `tables`, `config`) keeps the API
            namespace[name] = given[name]
        elif hasattr(builtins, name):  # a job named `print` keeps print()
            del namespace[name]
        entry()
    except MemoryError:
        outcome = {"t": "done", "ok": False, "kind": "memory"}
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if code != 0:
            outcome = {"t": "done", "ok": False, "kind": "exit", "code": code}
    except BaseException as e:
        for line in _script_traceback(e):
            console.error(line)
        outcome = {"t": "done", "ok": False, "kind": "exception", "error": describe(e)}
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    flush_http()
    return _finish(channel, tables, outcome)


def _install_http_recording(payload: dict[str, Any], channel: _Channel) -> Callable[[], None]:
    """Record the run's HTTP for the parent, or answer it from a recording;
    returns what records the answers left unread, at the run's end."""
    http = payload.get("http") or {}
    replay = payload.get("replay_run")
    if not http.get("record") and not replay:
        return lambda: None
    from console.core.running.http_recording import install

    def emit(exchange: dict[str, Any]) -> None:
        if http.get("record"):
            channel({"t": "http", "x": exchange})

    return install(
        emit,
        payload.get("secret_values") or [],
        body_limit=int(http.get("body_bytes", 0)),
        run_limit=int(http.get("run_bytes", 0)),
        replay=None if not replay else (int(replay["run"]), replay["exchanges"]),
    )


def _finish(channel: _Channel, tables: Any, outcome: dict[str, Any]) -> int:
    try:
        tables.close()
    except Exception as e:  # the run's outcome matters more than closing the pool
        if getattr(tables, "dry_run", False):  # but a dry run's diff is its outcome
            channel({"t": "log", "level": "error", "msg": f"the dry run's diff failed: {e}"})
    channel(outcome)
    return 0


def run_and_exit(*, preload_what: str | None = None) -> NoReturn:
    """Run the job, then leave without the interpreter's teardown: the run's
    outcome is on the pipe by then."""
    from console.core.running.host_process import exit_without_teardown
    from console.core.running.runner_platform import current

    code = main(preload_what=preload_what)
    current().finish()  # what the script started ends with it
    exit_without_teardown(code)


if __name__ == "__main__":
    run_and_exit(preload_what=preload_flag(sys.argv[1:]))
