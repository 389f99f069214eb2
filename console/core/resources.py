"""Where the product's resources are: icons, the theme, job templates and the
desktop file.

They live in the top-level `resources/` folder of the source tree, which the
wheel, the sdist and an editable install carry as the package
`console.resources` (see setup.py), and which the PyInstaller bundle ships as
its `resources` data folder. `resource` is the only code that knows this.
"""

from __future__ import annotations

import functools
import importlib
import sys
from pathlib import Path

from console.core.errors import ConsoleError

PACKAGE = "console.resources"


class MissingResourceError(ConsoleError):
    """A file the installation should carry is not there: a broken install."""


def resource(*parts: str) -> Path:
    """The resource at `parts` below the resources folder, e.g.
    `resource("theme.qss")`, `resource("icons", "app.svg")` or
    `resource("templates")`; MissingResourceError naming it when it is not there."""
    name = "/".join(parts) or "resources"
    path = _root().joinpath(*parts)
    if not path.exists():
        raise MissingResourceError(_broken(f"{name} is missing from its resources ({path})"))
    return path


def _root() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:  # frozen by PyInstaller (build_spec/mobile-console.spec)
        return Path(bundle) / "resources"
    return _package_root()


@functools.cache
def _package_root() -> Path:
    try:
        package = importlib.import_module(PACKAGE)
    except ModuleNotFoundError:
        raise MissingResourceError(
            _broken(f"its resources (the package {PACKAGE}) are missing")
        ) from None
    # The package's own folder (importlib.resources would cost the window's
    # first paint 3 ms to say the same). Qt and the desktop need real files;
    # a zipped install has none to give.
    root = Path(package.__file__ or "").parent
    if not root.is_dir():
        raise MissingResourceError(_broken(f"its resources are not files on disk ({root})"))
    return root


def _broken(what: str) -> str:
    return f"this installation of Mobile Console is broken: {what}; reinstall it"
