"""The child that runs a job script: a failure told in one line with the
script's own line number, and the run's memory bounded in the child."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from console.core.running.script_host import (
    MAX_PENDING,
    SCRIPT_FILE,
    _LogStream,
    _script_traceback,
    describe,
    preload_flag,
)
from console.core.store.database import Store


def _raised_by(source: str) -> BaseException:
    try:
        exec(compile(source, SCRIPT_FILE, "exec"), {})
    except BaseException as e:
        return e
    raise AssertionError("the script did not raise")


def test_a_failure_names_the_error_and_the_scripts_line() -> None:
    error = _raised_by("x = 1\nraise ValueError('kaboom 42\\nsecond line')\n")
    assert describe(error) == "ValueError: kaboom 42 (line 2)"


def test_the_line_is_the_deepest_one_in_the_script() -> None:
    error = _raised_by("def inner():\n    return {}['missing']\n\ninner()\n")
    assert describe(error) == "KeyError: 'missing' (line 2)"


def test_a_syntax_error_names_its_line() -> None:
    try:
        compile("def broken(:\n    pass\n", SCRIPT_FILE, "exec")
    except SyntaxError as e:
        assert describe(e).startswith("SyntaxError: ") and describe(e).endswith("(line 1)")


def test_an_error_without_words_is_its_name() -> None:
    assert describe(_raised_by("raise RuntimeError()\n")) == "RuntimeError (line 1)"


def test_the_preload_flag() -> None:
    assert preload_flag(["--preload=tables"]) == "tables"
    assert preload_flag(["--other"]) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS: Linux")
def test_the_memory_limit_holds_in_the_child() -> None:
    code = textwrap.dedent(
        """
        from console.core.running.script_host import limit_memory
        limit_memory(300 * 1024 * 1024, engine_started=False)
        try:
            block = bytearray(600 * 1024 * 1024)
        except MemoryError:
            print("refused")
        else:
            print("allowed", len(block))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "refused", done.stderr


def test_the_logged_traceback_keeps_only_script_frames() -> None:
    error = _raised_by("def inner():\n    1 / 0\n\ndef outer():\n    inner()\n\nouter()\n")
    assert _script_traceback(error) == [
        "Traceback (script frames):",
        "  line 7, in <module>",
        "  line 5, in outer",
        "  line 2, in inner",
    ]
    assert _script_traceback(_raised_by("raise ValueError\n")) == []  # one frame: the line says it


def test_print_output_becomes_one_log_line_per_line() -> None:
    lines: list[str] = []
    stream = _LogStream(lines.append)
    stream.write("one\ntw")
    stream.write("o\nthree")
    assert lines == ["one", "two"]
    stream.flush()
    assert lines == ["one", "two", "three"]


def test_a_line_without_a_newline_is_cut_once_too_long() -> None:
    lines: list[str] = []
    _LogStream(lines.append).write("x" * (MAX_PENDING + 1))
    assert lines == ["x" * (MAX_PENDING + 1)]


def test_a_sqlite_run_writes_without_loading_urllib_request_or_the_postgresql_dialect(
    tmp_path: object,
) -> None:
    """What a host preloads, then a run's write through a second connection
    to the file (the one that opens it by URI): neither module is loaded,
    and the URI's path is spelled as urllib.request would spell it."""
    db = f"{tmp_path}/a b ☕.db"
    Store(f"sqlite:///{db}").dispose()  # made and migrated, as the console does before a run
    probe = textwrap.dedent(
        f"""
        import sys
        from console.core.running.script_host import preload
        preload("tables")
        from console.core.running.script_api import ScriptTables
        from console.core.store.database import pathname2url
        db = {db!r}
        tables = ScriptTables("sqlite:///" + db, lambda message: None, run_id=1)
        table = tables.get_table("Things", create=True)
        table.insert_many([{{"n": i}} for i in range(3)])
        print(table.count(), "urllib.request" in sys.modules,
              "sqlalchemy.dialects.postgresql" in sys.modules)
        import urllib.request
        print(pathname2url(db) == urllib.request.pathname2url(db))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines() == ["3 False False", "True"]
