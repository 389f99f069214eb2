"""Every module of `console` imports on macOS and Windows: each is imported
here with `sys.platform` set to "darwin" and "win32" while its own code runs
(the libraries it imports run under the real platform, as they would be
installed for it), so an import-time Linux assumption fails here, not on a
user's machine. The Linux-only modules behind the runner seam
(`runner_platform`) are left out: they are imported only on Linux."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Imported only where `runner_platform` chooses it (fork_server is imported
#: everywhere, and asks `runner_platform` before it forks).
LINUX_ONLY = ["console.core.running.platform_linux"]

IMPORT_ALL = textwrap.dedent(
    """
    import importlib, importlib.abc, pathlib, sys
    FAKE, REAL = sys.argv[1], sys.platform
    LINUX_ONLY = set(sys.argv[2:])

    class Loader(importlib.abc.Loader):
        def __init__(self, name, inner):
            self.name, self.inner = name, inner
        def create_module(self, spec):
            return self.inner.create_module(spec)
        def exec_module(self, module):
            before = sys.platform
            # console's own code sees the fake platform; a library it imports, the real one
            sys.platform = FAKE if self.name.split(".")[0] == "console" else REAL
            try:
                self.inner.exec_module(module)
            finally:
                sys.platform = before

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name in LINUX_ONLY:
                raise ImportError(f"{name} is Linux-only and was imported on {FAKE}")
            for finder in sys.meta_path:
                if finder is self:
                    continue
                find = getattr(finder, "find_spec", None)
                spec = find(name, path, target) if find else None
                if spec is not None:
                    if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                        spec.loader = Loader(name, spec.loader)
                    return spec
            return None

    sys.meta_path.insert(0, Finder())
    failed = []
    for path in sorted(pathlib.Path("console").rglob("*.py")):
        parts = path.with_suffix("").parts
        if parts[-1] == "__main__" or "migrations" in parts:  # alembic runs those
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name in LINUX_ONLY:
            continue
        try:
            importlib.import_module(name)
        except BaseException as e:
            failed.append(f"{name}: {type(e).__name__}: {e}")
    print("\\n".join(failed))
    """
)


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_every_module_imports_on_other_platforms(platform: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, platform, *LINUX_ONLY],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == ""


#: Where Linux's own files may be read: the Linux runner behind the seam.
LINUX_FILES_ALLOWED = {
    "console/core/running/process_tree.py",
    "console/core/running/platform_linux.py",
}


def test_no_proc_or_etc_path_outside_the_linux_runner() -> None:
    import ast

    found = []
    for path in sorted((ROOT / "console").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in LINUX_FILES_ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and node.value.startswith(("/proc", "/etc", "/sys/"))
            ):
                found.append(f"{relative}:{node.lineno}: {node.value!r}")
    assert found == []
