"""What is wrong with a script: syntax errors, else pyflakes' warnings and
names the script API does not have (Python); the engine's syntax error
(JavaScript). Pure functions, run off the GUI thread."""

from __future__ import annotations

import ast
import builtins
import difflib
from dataclasses import dataclass

from console.gui.editor.api_model import ApiModel, api_model

#: The script API's globals: known to the checker, never "undefined".
SCRIPT_GLOBALS = ("tables", "config", "console")


@dataclass(frozen=True)
class Diagnostic:
    line: int
    column: int
    message: str
    error: bool


def check_source(source: str, language: str = "python") -> list[Diagnostic]:
    """Syntax errors, else pyflakes' warnings and unknown API names, for a
    job script. JavaScript: the engine's syntax error (V8's, as a run would
    see it)."""
    if language == "javascript":
        from console.core.jobs.js_syntax import javascript_syntax_error

        problem = javascript_syntax_error(source)
        if problem is None:
            return []
        return [Diagnostic(problem.line, 0, f"syntax error: {problem.message}", True)]
    try:
        tree = ast.parse(source, filename="<script>")
    except SyntaxError as e:
        return [Diagnostic(e.lineno or 1, (e.offset or 1) - 1, f"syntax error: {e.msg}", True)]
    from pyflakes.checker import Checker

    checker = Checker(tree, filename="<script>", builtins=[*dir(builtins), *SCRIPT_GLOBALS])
    found = [
        Diagnostic(m.lineno, getattr(m, "col", 0), m.message % m.message_args, False)
        for m in checker.messages
    ]
    found += unknown_api_names(tree, api_model())
    return sorted(found, key=lambda d: (d.line, d.column))


def unknown_api_names(tree: ast.Module, model: ApiModel) -> list[Diagnostic]:
    """An attribute of an API object (`tables.get_tabel`, `….where().reed`)
    that the API does not declare."""
    rebound = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or node.attr.startswith("__"):
            continue
        cls = _api_class(node.value, model, rebound)
        if cls is None or node.attr in model.members(cls):
            continue
        message = f"'{node.attr}' is not in the script API ({cls})"
        close = difflib.get_close_matches(node.attr, list(model.members(cls)), n=1)
        if close:
            message += f": did you mean '{close[0]}'?"
        found.append(Diagnostic(node.lineno, node.col_offset, message, False))
    return found


def _api_class(node: ast.expr, model: ApiModel, rebound: set[str]) -> str | None:
    """The API class of an expression's value, when it is known."""
    if isinstance(node, ast.Name):
        member = model.globals.get(node.id)
        return member.gives if member and node.id not in rebound else None
    if isinstance(node, ast.Call):
        node = node.func
        if not isinstance(node, ast.Attribute):
            return None
    if isinstance(node, ast.Attribute):
        owner = _api_class(node.value, model, rebound)
        member = model.members(owner).get(node.attr) if owner else None
        return member.gives if member else None
    return None
