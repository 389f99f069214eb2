"""The child that runs a job script: a failure told in one line with the
script's own line number, and the run's memory bounded in the child."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from console.core.running.script_host import SCRIPT_FILE, describe, preload_flag


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
