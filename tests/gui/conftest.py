"""A real window on a fresh home, driven by pytest-qt (offscreen)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from console.gui import create_window
from console.gui.main_window import MainWindow
from console.gui.pages import Page


@pytest.fixture(autouse=True)
def _quiet_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # QSettings writes under XDG_CONFIG_HOME: keep the developer's untouched.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(Page, "confirm", lambda self, title, text: True)
    # Closing with an unsaved script asks; the tests answer "Discard".
    monkeypatch.setattr(
        QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.Discard
    )


@pytest.fixture
def window(qtbot: Any, home: Path) -> Iterator[MainWindow]:
    win = create_window(home)
    qtbot.addWidget(win)
    win.show()
    yield win
