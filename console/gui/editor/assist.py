"""Completion, signature help and hover docs for a script: jedi for Python
(with the API stub on its path), the stub's `JavaScript:` names for
JavaScript. Runs on a worker; jedi is imported there, on first use, so the
console starts without it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from console.gui.editor.api_model import (
    STUB_MODULE,
    ApiModel,
    Member,
    api_model,
    plain_doc,
    stub_path,
)

#: Put before the script for jedi: the API's globals, as a job sees them.
_PRELUDE = f"from {STUB_MODULE} import config, console, print, tables\n"
_SETTING_KEY = re.compile(r"""(?:app_settings|appSettings)(?:\[\s*["']|\.)(\w*)$""")


@dataclass(frozen=True)
class Request:
    """Where the user is: the script, a 1-based line and a column."""

    source: str
    line: int
    column: int
    language: str = "python"
    setting_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Completion:
    name: str
    kind: str
    doc: str = ""


@dataclass(frozen=True)
class Completions:
    #: The part of the name already typed, which a completion replaces.
    prefix: str
    items: list[Completion]


class Assistant:
    """jedi, loaded once per editor on its worker lane."""

    def __init__(self) -> None:
        self._jedi: Any = None
        self._project: Any = None
        self._environment: Any = None

    def _script(self, source: str) -> Any:
        if self._jedi is None:
            import jedi  # here, on the worker: the console starts without it

            folder = str(stub_path().parent)
            self._project = jedi.Project(folder, added_sys_path=[folder], smart_sys_path=False)
            self._environment = jedi.InterpreterEnvironment()
            self._jedi = jedi
        return self._jedi.Script(
            _PRELUDE + source, project=self._project, environment=self._environment
        )

    def complete(self, request: Request) -> Completions:
        found_here = self._complete_from_stub(request, python_chains=False)
        if found_here is not None:
            return found_here
        typed = _typed(request)
        found = self._script(request.source).complete(request.line + 1, request.column)
        items = [
            Completion(c.name, c.type)
            for c in found
            if not c.name.startswith("_") or typed.startswith("_")
        ]
        return Completions(typed, items)

    def complete_without_jedi(self, request: Request) -> Completions | None:
        """What needs no jedi: an app setting's name, JavaScript, and the
        members of a Python API chain (`tables.get_table("x").`), read from
        the stub as jedi would; None when it takes jedi. The helper answers
        so while jedi loads."""
        return self._complete_from_stub(request, python_chains=True)

    def _complete_from_stub(self, request: Request, python_chains: bool) -> Completions | None:
        before = _line_before(request)
        setting = _SETTING_KEY.search(before)
        if setting is not None and request.setting_names:
            names = [n for n in sorted(request.setting_names) if n.startswith(setting.group(1))]
            return Completions(setting.group(1), [Completion(n, "setting") for n in names])
        if request.language == "javascript":
            found = javascript_completions(request.source, before, api_model())
            return Completions(_typed(request), found)
        chain = _CHAIN.search(before) if python_chains else None
        cls = _resolve(chain.group(1), request.source, api_model(), 0, True) if chain else None
        if chain is None or cls is None:
            return None
        typed = chain.group(2).lower()
        return Completions(
            chain.group(2),
            [
                Completion(name, "function" if m.signature else "instance")
                for name, m in sorted(api_model().members(cls).items())
                if name.lower().startswith(typed) and not name.startswith("_")
            ],
        )

    def signature_without_jedi(self, request: Request) -> str | None:
        """An API call's parameters from the stub; None when it takes jedi."""
        if request.language == "javascript":
            return api_signature(request, api_model(), python=False) or ""
        return api_signature(request, api_model(), python=True)

    def signature(self, request: Request) -> str:
        """The call being typed: its parameters, the current one in bold."""
        if request.language == "javascript":
            return api_signature(request, api_model(), python=False) or ""
        found = self._script(request.source).get_signatures(request.line + 1, request.column)
        if not found:
            return ""
        sig = found[0]
        params = [p.to_string() for p in sig.params]
        if sig.index is not None and 0 <= sig.index < len(params):
            params[sig.index] = f"<b>{_escape(params[sig.index])}</b>"
        shown = ", ".join(p if p.startswith("<b>") else _escape(p) for p in params)
        doc = plain_doc(sig.docstring(raw=True)).split("\n\n")[0]
        return f"{sig.name}({shown})" + (f"<br><i>{_escape(doc)}</i>" if doc else "")

    def hover(self, request: Request) -> str:
        """The docs of the name at the position, as plain text."""
        if request.language == "javascript":
            return javascript_hover(request, api_model())
        found = self._script(request.source).help(request.line + 1, request.column)
        for name in found:
            doc = plain_doc(name.docstring())
            if doc:
                return doc
        return ""


def _typed(request: Request) -> str:
    """The part of a name typed before the cursor."""
    word = re.search(r"\w*$", _line_before(request))
    return word.group(0) if word else ""


def _line_before(request: Request) -> str:
    lines = request.source.split("\n")
    line = lines[request.line - 1] if 0 < request.line <= len(lines) else ""
    return line[: request.column]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- JavaScript: the stub's JavaScript names ----------------------------------

_CALL = r"\w+(?:\s*\((?:[^()]|\([^()]*\))*\))?"
_CHAIN = re.compile(rf"({_CALL}(?:\s*\.\s*{_CALL})*)\s*\.\s*(\w*)$")
_REQUIRE = re.compile(r"""(\w+)\s*=\s*require\(\s*['"]([^'"]+)['"]\s*\)""")


def javascript_completions(source: str, before: str, model: ApiModel) -> list[Completion]:
    """What follows `chain.` in a JavaScript script; the API's globals
    otherwise."""
    match = _CHAIN.search(before)
    if match is None:
        word = re.search(r"\w*$", before)
        typed = word.group(0) if word else ""
        return [
            Completion(name, "global", plain_doc(m.doc))
            for name, m in sorted(model.js_globals().items())
            if name.startswith(typed)
        ]
    cls = _resolve(match.group(1), source, model, 0, False)
    if cls is None:
        return []
    return [
        Completion(name, "function" if m.signature else "property", plain_doc(m.doc))
        for name, m in sorted(model.js_members(cls).items())
    ]


def javascript_hover(request: Request, model: ApiModel) -> str:
    lines = request.source.split("\n")
    line = lines[request.line - 1] if 0 < request.line <= len(lines) else ""
    start = end = request.column
    while start > 0 and (line[start - 1].isalnum() or line[start - 1] == "_"):
        start -= 1
    while end < len(line) and (line[end].isalnum() or line[end] == "_"):
        end += 1
    word = line[start:end]
    chain = _CHAIN.search(line[:start])
    if chain is not None:
        cls = _resolve(chain.group(1), request.source, model, 0, False)
        member = model.js_members(cls).get(word) if cls else None
    else:
        member = model.js_globals().get(word)
    return plain_doc(member.doc) if member else ""


def _resolve(chain: str, source: str, model: ApiModel, depth: int, python: bool) -> str | None:
    """The API class of `tables.getTable('x').where(...)` (or, `python`,
    of `tables.get_table('x').where(...)`), of a variable holding one, or
    of a `require(...)`."""
    parts = [p.strip() for p in _split_chain(chain)]
    head = re.match(r"\w+", parts[0])
    if head is None:
        return None
    name = head.group(0)
    cls = _global_class(name, source, model, depth, python)
    for part in parts[1:]:
        if cls is None:
            return None
        word = re.match(r"\w+", part)
        member = _members(model, cls, python).get(word.group(0)) if word else None
        cls = member.gives if member else None
    return cls


def _members(model: ApiModel, cls: str, python: bool) -> dict[str, Member]:
    return model.members(cls) if python else model.js_members(cls)


def _global_class(name: str, source: str, model: ApiModel, depth: int, python: bool) -> str | None:
    member = (model.globals if python else model.js_globals()).get(name)
    if member is not None:
        return member.gives
    for var, module in [] if python else _REQUIRE.findall(source):
        if var == name:
            for cls, js in model.class_js.items():
                if js in (module, f"require('{module}')"):
                    return cls
    if depth < 3:
        assigned = re.search(rf"\b{re.escape(name)}\s*=\s*([^;\n]+)", source)
        if assigned is not None:
            return _resolve(assigned.group(1).strip(), source, model, depth + 1, python)
    return None


_CALLEE = re.compile(rf"(?:({_CALL}(?:\s*\.\s*{_CALL})*)\s*\.\s*)?(\w+)\s*$")
_PAIRS = {")": "(", "]": "[", "}": "{"}


def api_signature(request: Request, model: ApiModel, python: bool) -> str | None:
    """The API call being typed (`….insert(item, `): its parameters as the
    language writes them, the current one in bold; None when the call is
    not the API's."""
    lines = request.source.split("\n")[: request.line]
    before = "\n".join([*lines[:-1], _line_before(request)])
    call = _open_call(before, "#" if python else "//")
    if call is None:
        return None
    at, index = call
    callee = _CALLEE.search(_statement_before(before, at))
    if callee is None or callee.group(1) is None:
        return None
    cls = _resolve(callee.group(1), request.source, model, 0, python)
    member = _members(model, cls, python).get(callee.group(2)) if cls else None
    call_text = (member.signature if python else member.js_signature) if member else ""
    if member is None or not call_text:
        return None
    name, _, params_text = call_text.partition("(")
    params = [_escape(p.strip()) for p in _split_top(params_text[:-1], ",")]
    if 0 <= index < len(params) and not params[index].startswith(("...", "*")):
        params[index] = f"<b>{params[index]}</b>"
    elif params and params[-1].startswith(("...", "*")):  # `log(...values)`: every argument
        params[-1] = f"<b>{params[-1]}</b>"
    doc = plain_doc(member.doc).split("\n\n")[0]
    return f"{name}({', '.join(params)})" + (f"<br><i>{_escape(doc)}</i>" if doc else "")


def _statement_before(text: str, at: int) -> str:
    """The text before `at` on its line, with the lines above it that a
    line starting with `.` continues (`tables.getTable('x')` / `  .where(`)."""
    start = text.rfind("\n", 0, at) + 1
    while start > 0 and text[start:at].lstrip().startswith("."):
        start = text.rfind("\n", 0, start - 1) + 1
    return text[start:at]


def _open_call(text: str, comment: str) -> tuple[int, int] | None:
    """Where the innermost unclosed `(` of `text` is, and how many of its
    arguments are complete (its commas at its own depth). Strings and line
    comments are skipped."""
    frames: list[tuple[str, int, int]] = []  # opener, position, commas
    i, end = 0, len(text)
    while i < end:
        char = text[i]
        if char in "'\"`":
            i += 1
            while i < end and text[i] != char:
                i += 2 if text[i] == "\\" else 1
        elif text.startswith(comment, i):
            newline = text.find("\n", i)
            i = end if newline < 0 else newline
        elif char in "([{":
            frames.append((char, i, 0))
        elif char in ")]}":
            while frames and frames.pop()[0] != _PAIRS[char]:
                pass
        elif char == "," and frames:
            opener, at, commas = frames[-1]
            frames[-1] = (opener, at, commas + 1)
        i += 1
    for opener, at, commas in reversed(frames):
        if opener == "(":
            return at, commas
    return None


def _split_top(text: str, separator: str) -> list[str]:
    """`text` split at `separator`s outside brackets."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == separator and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += char in "([{"
        depth -= char in ")]}"
        current += char
    return [*parts, current] if current or parts else []


def _split_chain(chain: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in chain:
        if char == "." and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += char == "("
        depth -= char == ")"
        current += char
    parts.append(current)
    return parts
