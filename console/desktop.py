"""The console on a Linux desktop, for people who installed it with pip or
pipx: the application menu entry with its icons, and the autostart entry.

Both are files in the user's XDG folders (the freedesktop.org Desktop Entry,
Icon Theme and Autostart specifications), made from the `mobile-console.desktop`
and hicolor icons among the resources, with Exec pointing at the command that
is installed. Nothing here needs the console's database.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from console.core.errors import ConsoleError
from console.core.resources import resource

APP_ID = "mobile-console"
DESKTOP_FILE = f"{APP_ID}.desktop"
MINIMIZED = "--minimized"


def data_home() -> Path:
    """$XDG_DATA_HOME, or ~/.local/share (a relative value is ignored, as the
    XDG Base Directory specification says)."""
    return _xdg_home("XDG_DATA_HOME", ".local/share")


def config_home() -> Path:
    """$XDG_CONFIG_HOME, or ~/.config."""
    return _xdg_home("XDG_CONFIG_HOME", ".config")


def _xdg_home(variable: str, default: str) -> Path:
    value = os.environ.get(variable, "")
    if value and Path(value).is_absolute():
        return Path(value)
    return Path.home() / default


def installed_command() -> list[str]:
    """How to start this installed console: the bundle's program, the
    `mobile-console` script that is running (kept as typed: pipx's link in
    ~/.local/bin survives upgrades), the script beside this Python, or this
    Python running the package."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).absolute())]
    candidates = [Path(sys.argv[0]), Path(sys.executable).parent / APP_ID]
    for candidate in candidates:
        if candidate.name == APP_ID and candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate.absolute())]
    found = shutil.which(APP_ID)
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "console"]


def _exec_value(command: Sequence[str]) -> str:
    """The Exec key's value: each argument quoted as the Desktop Entry
    specification asks when it holds a space or a reserved character."""
    reserved = set(" \t\n\"'\\><~|&;$*?#()`")
    words = []
    for word in command:
        if any(c in reserved for c in word):
            escaped = "".join("\\" + c if c in '"`$\\' else c for c in word)
            word = f'"{escaped}"'
        # The file's own string escaping comes on top of the Exec quoting.
        words.append(word.replace("\\", "\\\\").replace("%", "%%"))
    return " ".join(words)


def _entry_text(command: Sequence[str], *, autostart: bool) -> str:
    """The shipped desktop file with Exec (and TryExec) for `command`."""
    try:
        shipped = resource(DESKTOP_FILE).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConsoleError(f"cannot read the shipped {DESKTOP_FILE}: {e}") from None
    run = [*command, MINIMIZED] if autostart else list(command)
    lines = []
    for line in shipped.splitlines():
        key = line.partition("=")[0].strip()
        if key == "TryExec":
            continue
        if key == "Exec":
            lines.append(f"Exec={_exec_value(run)}")
            # Menus hide the entry once the program it starts is gone.
            lines.append(f"TryExec={_exec_value(command[:1])}")
            continue
        lines.append(line)
    if autostart:
        lines.append("X-GNOME-Autostart-enabled=true")
    return "\n".join(lines) + "\n"


def _icons() -> list[tuple[Path, Path]]:
    """(shipped icon, its place under icons/hicolor/) for every size."""
    theme = resource("icons", "hicolor")
    return [(icon, icon.relative_to(theme)) for icon in sorted(theme.glob(f"*/apps/{APP_ID}.*"))]


def desktop_entry_paths(data: Path | None = None) -> list[Path]:
    """The files `install_desktop_entry` writes: the entry, then its icons."""
    data = data or data_home()
    return [data / "applications" / DESKTOP_FILE] + [
        data / "icons" / "hicolor" / place for _icon, place in _icons()
    ]


def install_desktop_entry(command: Sequence[str] | None = None) -> list[Path]:
    """Writes the menu entry and its icons into the user's data folder (an
    existing entry is replaced); returns what was written."""
    _check_platform()
    data = data_home()
    entry, *icon_paths = desktop_entry_paths(data)
    text = _entry_text(command or installed_command(), autostart=False)
    # Every file is staged beside its place first, and only then are they all
    # moved in: a failure leaves what was there before, an earlier install too.
    staged: list[tuple[Path, Path]] = []
    try:
        for (icon, _place), target in zip(_icons(), icon_paths, strict=True):
            staged.append((_stage(target, icon.read_bytes()), target))
        staged.append((_stage(entry, text.encode("utf-8")), entry))
    except ConsoleError:
        _remove([partial for partial, _target in staged])  # all or nothing
        raise
    # The entry last: a menu never shows it with its icon still missing.
    for partial, target in staged:
        _replace(partial, target)
    _touch(data / "icons" / "hicolor")
    return [entry, *icon_paths]


def uninstall_desktop_entry() -> list[Path]:
    """Removes what `install_desktop_entry` wrote; returns what was there."""
    _check_platform()
    data = data_home()
    removed = _remove(desktop_entry_paths(data))
    theme = data / "icons" / "hicolor"
    for path in removed:
        # The size folders made for the icons go too, when nothing else is in them.
        for folder in (path.parent, path.parent.parent):
            if folder != theme and theme in folder.parents:
                with contextlib.suppress(OSError):
                    folder.rmdir()
    _touch(theme)
    return removed


def autostart_path() -> Path:
    return config_home() / "autostart" / DESKTOP_FILE


def enable_autostart(command: Sequence[str] | None = None) -> Path:
    """Writes the autostart entry: the console starts hidden in the tray at login."""
    _check_platform()
    path = autostart_path()
    text = _entry_text(command or installed_command(), autostart=True)
    _write(path, text.encode("utf-8"))
    return path


def disable_autostart() -> list[Path]:
    """Removes the autostart entry; returns it if it was there."""
    _check_platform()
    return _remove([autostart_path()])


def _check_platform() -> None:
    if sys.platform in ("win32", "darwin"):
        # A Start-menu shortcut (Windows) and a LaunchAgent (macOS) are the
        # documented next step (README, "Platforms").
        raise ConsoleError(
            "desktop-entry and autostart are for XDG desktops (Linux, BSD); this is " + sys.platform
        )


def _write(path: Path, data: bytes) -> None:
    """Writes `path` whole or not at all: a menu never reads half an entry."""
    _replace(_stage(path, data), path)


def _stage(path: Path, data: bytes) -> Path:
    """`data` in a hidden file beside `path`, ready for `_replace`."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(data)
        partial.chmod(0o644)
    except OSError as e:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise ConsoleError(f"cannot write {path}: {e.strerror or e}") from None
    return partial


def _replace(partial: Path, path: Path) -> None:
    try:
        partial.replace(path)
    except OSError as e:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise ConsoleError(f"cannot write {path}: {e.strerror or e}") from None


def _remove(paths: Sequence[Path]) -> list[Path]:
    removed = []
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as e:
            raise ConsoleError(f"cannot remove {path}: {e.strerror or e}") from None
        removed.append(path)
    return removed


def _touch(theme: Path) -> None:
    # Icon theme caches notice new icons by the theme folder's time.
    if theme.is_dir():
        with contextlib.suppress(OSError):  # only a hint; the icons are in place
            os.utime(theme)
