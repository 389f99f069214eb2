"""The menu entry and the autostart entry as files in real XDG folders,
checked by desktop-file-validate (the installed console's own run of them
is in test_installed.py)."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from console import desktop
from console.cli import main
from tests.conftest import need


@pytest.fixture
def xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


def validate(path: Path) -> configparser.SectionProxy:
    """The entry, once desktop-file-validate finds neither error nor warning in it."""
    validator = shutil.which("desktop-file-validate")
    need(validator is not None, "no desktop-file-validate (Debian: desktop-file-utils)")
    assert validator
    done = subprocess.run([validator, str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not re.search(r"\b(error|warning):", done.stdout), done.stdout
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_the_shipped_entry_is_valid() -> None:
    from console.core.resources import resource

    entry = validate(resource("mobile-console.desktop"))
    assert entry["Icon"] == "mobile-console"


@pytest.mark.parametrize(
    ("program", "exec_value"),
    [
        ("/opt/My Apps/bin/mobile-console", '"/opt/My Apps/bin/mobile-console"'),
        ("/opt/100%/bin/mobile-console", "/opt/100%%/bin/mobile-console"),
        ('/opt/a"b$c/mobile-console', '"/opt/a\\\\"b\\\\$c/mobile-console"'),
    ],
)
def test_exec_is_quoted_as_the_specification_asks(xdg: Path, program: str, exec_value: str) -> None:
    entry_path, *icons = desktop.install_desktop_entry([program])
    entry = validate(entry_path)
    assert entry["Exec"] == exec_value
    assert all(icon.is_file() for icon in icons)
    autostart = validate(desktop.enable_autostart([program]))
    assert autostart["Exec"] == f"{exec_value} --minimized"


def test_a_relative_xdg_folder_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")
    monkeypatch.setenv("XDG_CONFIG_HOME", "")
    assert desktop.data_home() == tmp_path / ".local" / "share"
    assert desktop.autostart_path() == tmp_path / ".config" / "autostart" / "mobile-console.desktop"


def test_a_folder_that_cannot_be_written_is_one_line_and_leaves_nothing(
    xdg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = xdg / "data"
    data.mkdir()
    (data / "applications").write_text("a file where the folder should be")
    assert main(["desktop-entry", "install"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert "cannot write" in err and "mobile-console.desktop" in err
    # The icons written before the entry failed are gone again.
    assert sorted(p.name for p in data.rglob("*") if p.is_file()) == ["applications"]


def test_uninstall_and_disable_when_nothing_is_there(
    xdg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["desktop-entry", "uninstall"]) == 0
    assert main(["autostart", "disable"]) == 0
    out, _err = capsys.readouterr()
    assert "no desktop entry was installed" in out and "autostart was not enabled" in out
    assert not (xdg / "data").exists() and not (xdg / "config").exists()


def test_a_failed_reinstall_leaves_the_earlier_install_whole(
    xdg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["desktop-entry", "install"]) == 0
    data = xdg / "data"
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    entry = data / "applications" / "mobile-console.desktop"
    assert entry in before
    # The entry cannot be staged (its staging name is taken by a folder): the
    # icons were, and must not replace or remove the installed ones.
    (data / "applications" / ".mobile-console.desktop.partial").mkdir()
    assert main(["desktop-entry", "install"]) == 2
    _out, err = capsys.readouterr()
    assert "cannot write" in err and len(err.strip().splitlines()) == 1
    after = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    assert after == before


@pytest.mark.parametrize("platform", ["darwin", "win32"])
@pytest.mark.parametrize("command", [["desktop-entry", "install"], ["autostart", "enable"]])
def test_other_platforms_are_told_in_one_line_that_these_are_for_xdg_desktops(
    xdg: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    platform: str,
    command: list[str],
) -> None:
    import sys

    monkeypatch.setattr(sys, "platform", platform)
    assert main(command) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert "for XDG desktops" in err and platform in err
    assert not (xdg / "data").exists() and not (xdg / "config").exists()
