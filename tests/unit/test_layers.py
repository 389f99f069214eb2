"""The core never loads Qt: the command line, a worker and any embedding
program can use it without PySide6 (DESIGN.md, "Layers")."""

from __future__ import annotations

import ast
import json
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


# -- the layer rules (pyproject.toml's [tool.importlinter]) ----------------

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """import-linter's verdict on the `console` package found in `tree`."""
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
    )


def test_every_layer_rule_holds() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "0 broken" in done.stdout or "broken" not in done.stdout.split("Contracts:")[-1]


@pytest.mark.parametrize(
    ("module", "added", "rule"),
    [
        # the store reaching up to the scheduler
        ("core/store/schema.py", "import console.core.scheduling.scheduler", "The core:"),
        # the core reaching up to the window
        ("core/jobs/timing.py", "import console.gui.shell", "The product:"),
        # a circle between two siblings of the window (dialogs <- pages)
        ("gui/widgets.py", "import console.gui.dialogs", "No import circles"),
    ],
)
def test_an_upward_import_or_a_circle_breaks_a_rule(
    tmp_path: Path, module: str, added: str, rule: str
) -> None:
    shutil.copytree(ROOT / "console", tmp_path / "console", ignore=shutil.ignore_patterns("*.pyc"))
    target = tmp_path / "console" / module
    target.write_text(target.read_text() + f"\n{added}  # noqa\n")
    done = _lint_imports(tmp_path)
    assert done.returncode != 0
    broken = done.stdout.split("Broken contracts")[-1]
    assert rule in broken, done.stdout[-3000:]


# -- the shape of the package ------------------------------------------------


def _modules(package: str) -> list[Path]:
    return sorted(
        p
        for p in (ROOT / package).rglob("*.py")
        if "migrations" not in p.parts and "__pycache__" not in p.parts
    )


def test_every_core_module_has_its_unit_test_file_beside_its_siblings() -> None:
    core = ROOT / "console" / "core"
    untested = [
        str(p.relative_to(core))
        for p in _modules("console/core")
        if p.name != "__init__.py"
        and not (ROOT / "tests" / "unit" / p.relative_to(core).parent / f"test_{p.name}").exists()
    ]
    assert untested == []


def test_no_module_is_over_600_lines_and_one_over_500_says_why() -> None:
    sizes = {p: len(p.read_text().splitlines()) for p in _modules("console")}
    assert [str(p) for p, n in sizes.items() if n > 600] == []
    unexplained = [
        str(p.relative_to(ROOT))
        for p, n in sizes.items()
        if n > 500 and "Over 500 lines" not in (ast.get_docstring(ast.parse(p.read_text())) or "")
    ]
    assert unexplained == []


def test_every_core_package_says_what_it_owns_and_may_import() -> None:
    packages = [p.parent for p in (ROOT / "console" / "core").glob("*/__init__.py")]
    assert len(packages) >= 6
    for package in packages:
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
        assert "May import" in doc or "may import" in doc, package.name
