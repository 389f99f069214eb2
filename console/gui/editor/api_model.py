"""The script API as the editor knows it, read from its one declaration:
`resources/script_api/job_api.pyi`.

The stub is jedi's source for Python completion and docs; this module reads
the same file's classes, members and `JavaScript:` lines for what jedi cannot
do: JavaScript completion, and flagging an API name that does not exist.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from console.core.resources import resource

#: The module name the stub is loaded as, in jedi's path.
STUB_MODULE = "job_api"
_JS_LINE = re.compile(r"^\s*JavaScript:\s*(.+?)\s*$", re.MULTILINE)


def stub_path() -> Path:
    return resource("script_api", f"{STUB_MODULE}.pyi")


def plain_doc(doc: str) -> str:
    """A docstring as shown to the user: without the JavaScript lines."""
    return _JS_LINE.sub("", doc).strip()


@dataclass(frozen=True)
class Member:
    name: str
    doc: str
    #: The class a call (or attribute) gives, when it is one of the API's.
    gives: str | None
    #: Its JavaScript name, when the portal's API has it.
    js: str | None
    signature: str = ""
    #: A method's JavaScript call, `insert(item, {success, error})`.
    js_signature: str = ""


@dataclass
class ApiModel:
    classes: dict[str, dict[str, Member]] = field(default_factory=dict)
    #: Global name -> the class of its value (Python).
    globals: dict[str, Member] = field(default_factory=dict)
    #: Class -> its JavaScript name, for a class that is a JavaScript global.
    class_js: dict[str, str] = field(default_factory=dict)

    def members(self, cls: str) -> dict[str, Member]:
        """A class's members, its bases' included."""
        return self.classes.get(cls, {})

    def js_members(self, cls: str) -> dict[str, Member]:
        return {m.js: m for m in self.members(cls).values() if m.js}

    def js_globals(self) -> dict[str, Member]:
        found = {m.js: m for m in self.globals.values() if m.js}
        for name, js in self.class_js.items():
            if re.fullmatch(r"\w+", js):  # a JavaScript-only global (request)
                found[js] = Member(js, "", name, js)
        return found


def _js(doc: str) -> str | None:
    found = _JS_LINE.search(doc)
    return found.group(1) if found else None


def _js_method(doc: str) -> tuple[str | None, str]:
    """A method's JavaScript name, and its call with the parameters when
    the `JavaScript:` line gives them (`where(filter)`)."""
    js = _js(doc)
    call = re.fullmatch(r"(\w+)\(.*\)", js or "")
    return (call.group(1), js or "") if call else (js, "")


def _gives(annotation: ast.expr | None, classes: set[str]) -> str | None:
    if isinstance(annotation, ast.Name) and annotation.id in classes:
        return annotation.id
    return None


@cache
def api_model() -> ApiModel:
    """The API read from the stub (once per process)."""
    return parse_stub(stub_path().read_text(encoding="utf-8"))


def parse_stub(text: str) -> ApiModel:
    tree = ast.parse(text)
    class_defs = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    names = {c.name for c in class_defs}
    model = ApiModel()
    for cls in class_defs:
        members: dict[str, Member] = {}
        for base in cls.bases:
            if isinstance(base, ast.Name) and base.id in model.classes:
                members.update(model.classes[base.id])
        doc = ast.get_docstring(cls) or ""
        if js := _js(doc):
            model.class_js[cls.name] = js
        body = cls.body
        for i, node in enumerate(body):
            if isinstance(node, ast.FunctionDef):
                fdoc = ast.get_docstring(node) or ""
                args = ast.unparse(node.args).replace("self, ", "").replace("self", "")
                js, js_call = _js_method(fdoc)
                members[node.name] = Member(
                    node.name,
                    fdoc,
                    _gives(node.returns, names),
                    js,
                    f"{node.name}({args})",
                    js_call,
                )
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                adoc = _following_doc(body, i)
                members[node.target.id] = Member(
                    node.target.id, adoc, _gives(node.annotation, names), _js(adoc)
                )
        model.classes[cls.name] = members
    for i, node in enumerate(tree.body):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            doc = _following_doc(tree.body, i)
            model.globals[node.target.id] = Member(
                node.target.id, doc, _gives(node.annotation, names), _js(doc)
            )
    return model


def _following_doc(body: list[ast.stmt], i: int) -> str:
    """An attribute's docstring: the string literal right after it."""
    if i + 1 < len(body):
        after = body[i + 1]
        if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
            value = after.value.value
            if isinstance(value, str):
                return value
    return ""
