"""Every command line the README shows parses, in each of its forms: the
README's synopsis and the parser built from the command groups agree."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from console.cli.commands import COMMANDS
from console.cli.parser import ORDER, UsageError, build_parser

README = Path(__file__).resolve().parents[3] / "README.md"
#: What each placeholder of the synopsis stands for in a real command.
EXAMPLES = {
    "NAME": "getUpdates",
    "N": "3",
    "UNIT": "hour",
    "ISO": "2026-01-01T09:00",
    "SECONDS": "30",
    "FILE": "job.py",
    "COL": "id",
    "KEY": "TWITTER_QUERY",
    "VALUE": "v",
    "LEVEL": "error",
    "A,B": "a,b",
    "FROM": "https://api.twitter.com/",
    "TO": "http://127.0.0.1:8080/",
    "ZONE": "UTC",
    "RUN_ID": "7",
    "ID": "7",
    "DIR": "home",
    "URL": "sqlite:///x.db",
    "HOST:PORT": "127.0.0.1:5678",
    "127.0.0.1:PORT": "127.0.0.1:5678",
}


def _synopsis_lines() -> list[str]:
    """The README's command-line block, each command with its continuation
    lines joined and its description dropped."""
    text = README.read_text()
    block = text.split("## The command line", 1)[1].split("```", 2)[1]
    commands: list[str] = []
    for line in block.splitlines():
        words = line.strip()
        if line.startswith("mobile-console"):
            commands.append(re.split(r"\s{3,}", words)[0])
        elif words.startswith("[") and commands:  # more options of the command above
            commands[-1] += " " + re.split(r"\s{3,}", words)[0]
    return commands


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, current = [], 0, ""
    i = 0
    while i < len(text):
        if text[i] == "[":
            depth += 1
        elif text[i] == "]":
            depth -= 1
        if depth == 0 and text.startswith(sep, i):
            parts.append(current)
            current, i = "", i + len(sep)
            continue
        current += text[i]
        i += 1
    return [*parts, current]


def _forms(synopsis: str) -> list[str]:
    """The concrete forms of one synopsis: each alternative, with its
    optional parts all given, and none."""
    words = synopsis.removeprefix("mobile-console").strip()
    alternatives = _split_top(words, " | ")
    group = alternatives[0].split(" ", 1)[0] if len(alternatives) > 1 else ""
    forms = []
    for k, alternative in enumerate(alternatives):
        line = alternative if k == 0 or not group else f"{group} {alternative}"
        for given in (True, False):
            forms.append(_fill(line, given))
    return forms


def _fill(text: str, given: bool) -> str:
    """Optional `[...]` parts in or out (a choice takes its first)."""
    while "[" in text:
        start = max(i for i, c in enumerate(text) if c == "[")
        end = text.index("]", start)
        inner = re.split(r"\s?\|\s?", text[start + 1 : end])[0]
        text = text[:start] + (inner if given else "") + text[end + 1 :]
    return " ".join(EXAMPLES.get(w, w) for w in text.split())


def _tutorial_lines() -> list[str]:
    """The literal command lines of the README's shell examples."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(), re.S):
        for line in block.splitlines():
            if "mobile-console " in line and not line.lstrip().startswith(("#", "make", "pip")):
                command = line.split("mobile-console ", 1)[1].split("<<<")[0].split("|")[0]
                lines.append(command.split(" #")[0].strip())
    return lines


FORMS = sorted({form for s in _synopsis_lines() for form in _forms(s)} | set(_tutorial_lines()))


def test_the_readme_shows_every_command_group() -> None:
    shown = {form.split(" ")[0] for form in FORMS if form and not form.startswith("-")}
    assert shown >= set(COMMANDS) - {"identity"} | {"table", "job", "worker", "redirect"}
    assert set(ORDER) == set(COMMANDS) | {"demo"}  # every command is in --help's order


@pytest.mark.parametrize("form", FORMS)
def test_a_readme_command_line_parses(form: str) -> None:
    parser = build_parser(COMMANDS)
    try:
        parser.parse_args(shlex.split(form))
    except SystemExit as e:  # --version prints and exits 0
        assert e.code == 0, form
    except UsageError as e:
        pytest.fail(f"the README's `mobile-console {form}` does not parse: {e}")


def test_a_misspelt_command_is_refused_in_one_line() -> None:
    with pytest.raises(UsageError, match="invalid choice: 'tabel'"):
        build_parser(COMMANDS).parse_args(["tabel", "list"])


def test_the_synopsis_expands_into_real_command_lines() -> None:
    assert "table rows getUpdates --json --order-by id --desc --limit 3" in FORMS
    assert "job enable getUpdates" in FORMS and "job delete getUpdates" in FORMS
    assert "tier free" in FORMS and "tier" in FORMS
