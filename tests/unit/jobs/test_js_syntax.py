"""JavaScript syntax errors come from V8 itself, with the script's own line,
and checking a script never runs it."""

from __future__ import annotations

from console.core.jobs.job_store import load_template, template_language, template_names
from console.core.jobs.js_syntax import javascript_syntax_error


def test_a_script_that_compiles_has_no_error_and_is_not_run() -> None:
    assert javascript_syntax_error("function f() {}\nwhile (true) {}\n") is None
    assert javascript_syntax_error("let a = 1n; class B {}; const c = () => a;") is None


def test_the_error_has_v8s_message_and_the_scripts_line() -> None:
    problem = javascript_syntax_error("var a = 1;\n\nvar b = ;\n")
    assert problem is not None
    assert problem.line == 3
    assert problem.message == "SyntaxError: Unexpected token ';'"
    closing = javascript_syntax_error("function f() {\n}\n}\n")
    assert closing is not None and closing.line == 3


def test_templates_say_their_language_and_take_the_jobs_name() -> None:
    assert "getUpdates-js" in template_names() and "getUpdates" in template_names()
    assert template_language("getUpdates-js") == "javascript"
    assert template_language("getUpdates") == "python"
    renamed = load_template("getUpdates-js", "pollTwitter")
    assert "function pollTwitter() {" in renamed and "function getUpdates(" not in renamed
    assert javascript_syntax_error(renamed) is None
