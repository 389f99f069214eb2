"""The script editor knows the job script API: completion after `.` and on
Ctrl+Space (Python through jedi, JavaScript from the same stub), signature
help, hover docs, and a misspelt API name in the Problems list. Driven with
real key presses; answered by the editor's helper process (one for the
module's tests, as one serves a window)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QToolTip

from console.gui.editor.assist import Assistant, Request
from console.gui.editor.assist_client import AssistProcess
from console.gui.editor.pane import ScriptPane
from console.gui.operations import Operations

SETTINGS = ["TWITTER_QUERY", "TWITTER_BEARER_TOKEN"]


@pytest.fixture(scope="module")
def helper() -> Iterator[AssistProcess]:
    process = AssistProcess()
    yield process
    process.close()


@pytest.fixture
def pane(qtbot: Any, helper: AssistProcess) -> Iterator[ScriptPane]:
    tasks = Operations()
    widget = ScriptPane(tasks, setting_names=lambda: SETTINGS, helper=helper)
    qtbot.addWidget(widget)
    widget.resize(800, 600)
    widget.show()
    qtbot.waitExposed(widget)
    widget.editor.setFocus()
    yield widget
    tasks.shutdown()


def start(pane: ScriptPane, script: str, language: str = "python") -> None:
    """Open `script` and put the cursor at its end."""
    pane.editor.set_script(script, language)
    pane.editor.moveCursor(QTextCursor.MoveOperation.End)


def offered(pane: ScriptPane) -> list[str]:
    popup = pane.editor.assist.popup
    if not popup.isVisible():
        return []
    model = popup.model()
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def completions_after(qtbot: Any, pane: ScriptPane, typed: str, expected: str) -> list[str]:
    qtbot.keyClicks(pane.editor, typed)
    qtbot.waitUntil(lambda: expected in offered(pane), timeout=20000)
    return offered(pane)


@pytest.mark.parametrize(
    ("typed", "expected", "not_offered"),
    [
        ("tables.", ["get_table"], []),
        ("config.", ["app_settings", "twitter_consumer_key", "twitter_consumer_secret"], []),
        ("console.", ["log", "info", "warn", "error"], []),
        (
            'tables.get_table("Updates").',
            ["insert", "insert_many", "upsert", "where", "order_by", "read"],
            [],
        ),
        (
            'tables.get_table("Updates").where(a=1).',
            ["read", "count", "first", "iter", "order_by_descending", "take", "skip", "select"],
            ["insert", "upsert"],
        ),
        ('tables.get_table("U").order_by("a").take(5).', ["read", "delete", "update"], []),
    ],
)
def test_the_api_globals_complete_after_a_dot(
    qtbot: Any, pane: ScriptPane, typed: str, expected: list[str], not_offered: list[str]
) -> None:
    start(pane, "def job():\n    ")
    shown = completions_after(qtbot, pane, typed, expected[0])
    assert set(expected) <= set(shown)
    assert not set(not_offered) & set(shown)
    assert not any(name.startswith("__") for name in shown)


def test_enter_takes_the_highlighted_completion_and_typing_narrows(
    qtbot: Any, pane: ScriptPane
) -> None:
    start(pane, "def job():\n    ")
    completions_after(qtbot, pane, 'tables.get_table("U").', "order_by")
    qtbot.keyClicks(pane.editor, "order_by_d")
    assert offered(pane) == ["order_by_descending"]
    qtbot.keyClick(pane.editor, Qt.Key.Key_Return)
    assert pane.editor.toPlainText().endswith('tables.get_table("U").order_by_descending')
    assert not pane.editor.assist.popup.isVisible()


def test_ctrl_space_completes_the_scripts_own_names_and_the_standard_library(
    qtbot: Any, pane: ScriptPane
) -> None:
    start(pane, "import json\nrow_count = 1\n\ndef job():\n    ")
    qtbot.keyClicks(pane.editor, "row_")
    qtbot.keyClick(pane.editor, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "row_count" in offered(pane), timeout=20000)
    qtbot.keyClick(pane.editor, Qt.Key.Key_Escape)
    assert not pane.editor.assist.popup.isVisible()
    qtbot.keyClick(pane.editor, Qt.Key.Key_Return)
    assert "dumps" in completions_after(qtbot, pane, "json.", "dumps")


def test_an_app_settings_key_completes_with_the_consoles_setting_names(
    qtbot: Any, pane: ScriptPane
) -> None:
    start(pane, "def job():\n    ")
    shown = completions_after(qtbot, pane, 'query = config.app_settings["', "TWITTER_QUERY")
    assert set(shown) == set(SETTINGS)


def test_javascript_completes_and_explains_the_portal_api_from_the_same_stub(
    qtbot: Any, pane: ScriptPane
) -> None:
    start(
        pane,
        "var config = require('mobileservice-config');\nvar request = require('request');\n"
        "function job() {\n  ",
        "javascript",
    )
    assert completions_after(qtbot, pane, "request.", "post") == ["get", "post"]
    qtbot.keyClick(pane.editor, Qt.Key.Key_Escape)
    qtbot.keyClick(pane.editor, Qt.Key.Key_Return)
    assert completions_after(qtbot, pane, "tables.", "getTable") == ["getTable"]
    shown = completions_after(qtbot, pane, "getTable('Updates').", "del")
    assert {"insert", "update", "del", "where", "orderBy", "read"} <= set(shown)
    qtbot.keyClick(pane.editor, Qt.Key.Key_Escape)
    shown = completions_after(qtbot, pane, "where({a: 1}).", "orderByDescending")
    assert "del" not in shown
    qtbot.keyClick(pane.editor, Qt.Key.Key_Escape)
    qtbot.keyClick(pane.editor, Qt.Key.Key_Return)
    assert "twitterConsumerKey" in completions_after(qtbot, pane, "config.", "twitterConsumerKey")
    qtbot.keyClick(pane.editor, Qt.Key.Key_Escape)
    qtbot.keyClick(pane.editor, Qt.Key.Key_Return)
    assert "warn" in completions_after(qtbot, pane, "console.", "warn")
    qtbot.keyClick(pane.editor, Qt.Key.Key_Escape)
    qtbot.keyClick(pane.editor, Qt.Key.Key_Return)
    qtbot.keyClicks(pane.editor, "tables.getTable('Updates').insert({text: 'a, b'}, ")
    signature = pane.editor.assist.signature
    qtbot.waitUntil(lambda: "insert(" in signature.text(), timeout=20000)
    assert signature.isVisible()
    assert "insert(item, <b>{success, error}</b>)" in signature.text()  # its JavaScript form


def test_signature_help_shows_the_parameters_of_the_call_being_typed(
    qtbot: Any, pane: ScriptPane
) -> None:
    start(pane, "def job():\n    ")
    qtbot.keyClicks(pane.editor, 'tables.get_table("Updates", ')
    signature = pane.editor.assist.signature
    qtbot.waitUntil(
        lambda: signature.isVisible() and "get_table(" in signature.text(), timeout=20000
    )
    assert "<b>create: bool=False</b>" in signature.text()  # the parameter being typed
    qtbot.keyClicks(pane.editor, ")")
    assert not signature.isVisible()
    qtbot.keyClicks(pane.editor, ".where(")
    qtbot.waitUntil(lambda: signature.isVisible() and "where(" in signature.text(), timeout=20000)
    assert "col__startswith" in signature.text()


def test_hovering_a_name_shows_its_docs(qtbot: Any, pane: ScriptPane) -> None:
    start(pane, "def job():\n    rows = tables.get_table('Updates').where(a=1).read()\n")
    block = pane.editor.document().findBlockByNumber(1)
    cursor = QTextCursor(block)
    cursor.setPosition(block.position() + block.text().index("where") + 2)
    qtbot.mouseMove(pane.editor.viewport(), pane.editor.cursorRect(cursor).center())
    qtbot.waitUntil(lambda: "col__contains" in QToolTip.text(), timeout=20000)
    assert "JavaScript" not in QToolTip.text()  # the stub's JavaScript line is not docs


def test_a_misspelt_api_name_is_a_problem_and_a_click_goes_to_its_line(
    qtbot: Any, pane: ScriptPane
) -> None:
    start(pane, "def job():\n    console.log('hi')\n\n\n")
    qtbot.keyClicks(pane.editor, "    rows = tables.get_tabel('Updates')")
    qtbot.waitUntil(lambda: pane.problems.count() > 0, timeout=20000)
    texts = [pane.problems.item(i).text() for i in range(pane.problems.count())]
    assert any("line 5" in t and "get_tabel" in t and "get_table" in t for t in texts), texts
    assert pane.problems.isVisible() and pane.problems_title.text() == f"Problems ({len(texts)})"
    pane.editor.moveCursor(QTextCursor.MoveOperation.Start)
    item = pane.problems.item(0)
    qtbot.mouseClick(
        pane.problems.viewport(),
        Qt.MouseButton.LeftButton,
        pos=pane.problems.visualItemRect(item).center(),
    )
    assert pane.editor.textCursor().blockNumber() + 1 == 5


def test_an_answer_to_text_typed_on_from_is_never_shown(qtbot: Any, pane: ScriptPane) -> None:
    start(pane, "def job():\n    ")
    model = pane.editor.assist.completer.model()
    assert isinstance(model, QStringListModel)
    shown: list[list[str]] = []
    model.modelReset.connect(lambda: shown.append(model.stringList()))
    # No event is handled between these keys: the answer about "console."
    # cannot have arrived before Ctrl+Space asks about "console.l".
    qtbot.keyClicks(pane.editor, "console.")
    qtbot.keyClicks(pane.editor, "l")
    qtbot.keyClick(pane.editor, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: offered(pane) == ["log"], timeout=20000)
    assert shown == [["log"]]  # console's four names never flashed up


def test_while_jedi_loads_the_stub_answers_the_api_as_jedi_does() -> None:
    # The helper answers these from the stub in its first second, then jedi
    # does: the user must not see the list or the parameters change.
    assistant = Assistant()
    for typed in [
        "tables.",
        'tables.get_table("Updates").where(a=1).',
        'rows = tables.get_table("U")\n    rows.ord',
        'tables.get_table("Updates", ',
        'tables.get_table("U").where(',
        'console.log("a", ',
    ]:
        source = "def job():\n    " + typed
        lines = source.split("\n")
        request = Request(source, len(lines), len(lines[-1]))
        if typed.endswith(("(", ", ")):
            assert assistant.signature_without_jedi(request) == assistant.signature(request)
            continue
        quick = assistant.complete_without_jedi(request)
        assert quick is not None
        assert [c.name for c in quick.items] == [c.name for c in assistant.complete(request).items]
    python_only = Request("import json\njson.", 2, 5)
    assert assistant.complete_without_jedi(python_only) is None  # that takes jedi
