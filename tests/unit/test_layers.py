"""The core never loads Qt: the command line, a worker and any embedding
program can use it without PySide6 (DESIGN.md, "Layers")."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import console.core

CORE_MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(console.core.__path__, "console.core.")
    if ".migrations" not in m.name
)


def _loaded_in_a_fresh_process(code: str, home: Path) -> list[str]:
    probe = (
        "import json, sys\n"
        f"{code}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'PySide6')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=home,
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.splitlines()[-1]))


def test_every_core_module_and_the_composition_root_load_no_qt(home: Path) -> None:
    assert "console.core.scheduling.scheduler" in CORE_MODULES  # the walk found the package
    imports = "\n".join(f"import {name}" for name in [*CORE_MODULES, "console.app"])
    assert _loaded_in_a_fresh_process(imports, home) == []


def test_the_commands_that_open_no_window_load_no_qt(home: Path) -> None:
    commands = [
        ["table", "create", "Updates"],
        ["table", "list", "--json"],
        ["job", "create", "hello", "--every", "1", "--unit", "hour", "--template", "hello"],
        ["job", "list"],
        ["job", "show", "hello", "--json"],
        ["job", "run", "hello"],
        ["logs", "--job", "hello"],
        ["setting", "set", "GREETING", "hi"],
        ["config", "--json"],
        ["tier"],
        ["job", "create", "bad name", "--every", "1", "--unit", "hour"],  # bad input too
    ]
    code = (
        "import contextlib, io\n"
        "from console.cli import main\n"
        f"for words in {commands!r}:\n"
        f"    with contextlib.redirect_stdout(io.StringIO()), "
        "contextlib.redirect_stderr(io.StringIO()):\n"
        f"        main(['--home', {str(home)!r}, *words])\n"
    )
    assert _loaded_in_a_fresh_process(code, home) == []
