"""The script editor's editing keys, pressed as a user presses them: find
and replace (with a regular expression), F3 / Shift+F3, go to line, toggle
comment, indent and outdent, auto-indent, the matching bracket and the
current line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from console.gui.editor.pane import ScriptPane
from console.gui.operations import Operations

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def pane(qtbot: Any) -> Iterator[ScriptPane]:
    tasks = Operations()
    widget = ScriptPane(tasks)
    qtbot.addWidget(widget)
    widget.resize(800, 600)
    widget.show()
    qtbot.waitExposed(widget)
    widget.editor.setFocus()
    yield widget
    tasks.shutdown()


def press(qtbot: Any, widget: Any, sequence: QKeySequence | QKeySequence.StandardKey) -> None:
    """Press the platform's key for `sequence`, as the user would."""
    combination = QKeySequence(sequence)[0]
    qtbot.keyClick(widget, combination.key(), combination.keyboardModifiers())


def line_of(pane: ScriptPane) -> int:
    return pane.editor.textCursor().blockNumber() + 1


def test_find_replace_with_a_regular_expression(qtbot: Any, pane: ScriptPane) -> None:
    pane.editor.set_script("a = 'id_12'\nb = 'id_345'\nc = 'name_7'\n")
    press(qtbot, pane.editor, QKeySequence.StandardKey.Replace)
    bar = pane.find_bar
    assert bar.isVisible() and bar.replace_text.isVisible()
    qtbot.mouseClick(bar.regex, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(bar.find_text, r"id_(\d+)")
    assert pane.editor.textCursor().selectedText() == "id_12"
    qtbot.keyClicks(bar.replace_text, r"n\1")
    qtbot.mouseClick(bar.replace_button, Qt.MouseButton.LeftButton)
    assert pane.editor.toPlainText().splitlines()[0] == "a = 'n12'"
    assert pane.editor.textCursor().selectedText() == "id_345"  # on to the next
    qtbot.mouseClick(bar.replace_all_button, Qt.MouseButton.LeftButton)
    assert pane.editor.toPlainText() == "a = 'n12'\nb = 'n345'\nc = 'name_7'\n"
    assert bar.status.text() == "1 replaced"
    qtbot.keyClick(bar.find_text, Qt.Key.Key_Escape)
    assert not bar.isVisible() and pane.editor.hasFocus()


def test_find_next_and_previous_wrap_and_match_case(qtbot: Any, pane: ScriptPane) -> None:
    pane.editor.set_script("Row\nrow\nROW\nrow\n")
    press(qtbot, pane.editor, QKeySequence.StandardKey.Find)
    assert pane.find_bar.isVisible() and not pane.find_bar.replace_text.isVisible()
    qtbot.keyClicks(pane.find_bar.find_text, "row")
    assert line_of(pane) == 1  # case-insensitive by default
    qtbot.mouseClick(pane.find_bar.match_case, Qt.MouseButton.LeftButton)
    qtbot.keyClick(pane.find_bar.find_text, Qt.Key.Key_Escape)
    qtbot.keyClick(pane.editor, Qt.Key.Key_F3)
    assert line_of(pane) == 2
    qtbot.keyClick(pane.editor, Qt.Key.Key_F3)
    assert line_of(pane) == 4
    qtbot.keyClick(pane.editor, Qt.Key.Key_F3)
    assert line_of(pane) == 2  # wrapped
    qtbot.keyClick(pane.editor, Qt.Key.Key_F3, SHIFT)
    assert line_of(pane) == 4
    pane.find_bar.find_text.setText("nowhere")
    assert pane.find_bar.status.text() == "not found"


def test_go_to_line(qtbot: Any, pane: ScriptPane) -> None:
    pane.editor.set_script("".join(f"x{n} = {n}\n" for n in range(1, 301)))
    qtbot.keyClick(pane.editor, Qt.Key.Key_G, CTRL)
    assert pane.goto_bar.isVisible() and "1–301" in pane.goto_bar.label.text()
    qtbot.keyClicks(pane.goto_bar.line, "250")
    qtbot.keyClick(pane.goto_bar.line, Qt.Key.Key_Return)
    assert line_of(pane) == 250
    assert pane.editor.textCursor().block().text() == "x250 = 250"
    assert not pane.goto_bar.isVisible() and pane.editor.hasFocus()
    assert pane.editor.firstVisibleBlock().blockNumber() > 200  # scrolled into view


def test_toggle_comment_on_a_selection_and_back(qtbot: Any, pane: ScriptPane) -> None:
    script = "def job():\n    a = 1\n\n    b = 2\n"
    pane.editor.set_script(script)
    qtbot.keyClick(pane.editor, Qt.Key.Key_Down)
    for _ in range(3):
        qtbot.keyClick(pane.editor, Qt.Key.Key_Down, SHIFT)
    qtbot.keyClick(pane.editor, Qt.Key.Key_Slash, CTRL)
    assert pane.editor.toPlainText() == "def job():\n    # a = 1\n\n    # b = 2\n"
    qtbot.keyClick(pane.editor, Qt.Key.Key_Slash, CTRL)
    assert pane.editor.toPlainText() == script


def test_javascript_comments_with_slashes(qtbot: Any, pane: ScriptPane) -> None:
    pane.editor.set_script("function job() {}\n", "javascript")
    qtbot.keyClick(pane.editor, Qt.Key.Key_Slash, CTRL)
    assert pane.editor.toPlainText() == "// function job() {}\n"


def test_tab_and_shift_tab_indent_and_outdent_the_selected_lines(
    qtbot: Any, pane: ScriptPane
) -> None:
    pane.editor.set_script("a = 1\nb = 2\nc = 3\n")
    qtbot.keyClick(pane.editor, Qt.Key.Key_Down, SHIFT)
    qtbot.keyClick(pane.editor, Qt.Key.Key_End, SHIFT)
    qtbot.keyClick(pane.editor, Qt.Key.Key_Tab)
    assert pane.editor.toPlainText() == "    a = 1\n    b = 2\nc = 3\n"
    qtbot.keyClick(pane.editor, Qt.Key.Key_Backtab, SHIFT)
    assert pane.editor.toPlainText() == "a = 1\nb = 2\nc = 3\n"


def test_enter_indents_after_a_colon_and_an_open_bracket(qtbot: Any, pane: ScriptPane) -> None:
    pane.editor.set_script("")
    qtbot.keyClicks(pane.editor, "def job():")
    qtbot.keyClick(pane.editor, Qt.Key.Key_Return)
    qtbot.keyClicks(pane.editor, "rows = [")
    qtbot.keyClick(pane.editor, Qt.Key.Key_Return)
    qtbot.keyClicks(pane.editor, "1,")
    assert pane.editor.toPlainText() == "def job():\n    rows = [\n        1,"


def test_the_matching_bracket_and_the_current_line_are_highlighted(
    qtbot: Any, pane: ScriptPane
) -> None:
    pane.editor.set_script("x = call(a, (b))\ny = 2\n")
    qtbot.keyClick(pane.editor, Qt.Key.Key_End)
    qtbot.keyClick(pane.editor, Qt.Key.Key_Left)  # just after the last `)`

    def highlighted() -> set[int]:
        return {
            s.cursor.selectionStart()
            for s in pane.editor.extraSelections()
            if s.cursor.hasSelection()
        }

    assert highlighted() == {8, 15}  # `(` of call( and its `)`
    lines = [
        s.cursor.blockNumber() for s in pane.editor.extraSelections() if not s.cursor.hasSelection()
    ]
    assert lines == [0]
    qtbot.keyClick(pane.editor, Qt.Key.Key_Down)
    assert highlighted() == set()
    assert [s.cursor.blockNumber() for s in pane.editor.extraSelections()] == [1]
