"""JavaScript jobs and redirects in the window: Create offers the language,
the editor highlights JavaScript and marks the engine's syntax errors, Run
Once runs it, and the Configure page keeps redirects."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtGui import QColor

from console.gui.dialogs import CreateJobDialog
from console.gui.main_window import MainWindow
from console.gui.pages.configure import ConfigurePage
from tests.gui.test_window import replace_text, scheduler


def test_create_a_javascript_job_edit_it_and_run_it_once(
    window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fill(dialog: CreateJobDialog) -> int:
        dialog.name.setText("jsjob")
        dialog.language.setCurrentIndex(dialog.language.findData("javascript"))
        return 1 if dialog.validate() else 0

    monkeypatch.setattr(CreateJobDialog, "exec", fill)
    window.show_page("Scheduler")
    window.command_bar.actions_by_name["Create"].trigger()
    page = scheduler(window)
    qtbot.waitUntil(lambda: page.in_job() and page.job_view.job is not None, timeout=5000)
    assert window.services.jobs.get("jsjob").language == "javascript"
    editor = page.job_view.script.editor
    assert editor.toPlainText().startswith("function jsjob() {")

    replace_text(editor, "function jsjob() {\n  console.log('hi ' + (1 + )\n}\n")
    qtbot.waitUntil(lambda: any(d.error for d in editor.diagnostics), timeout=10000)
    assert editor.diagnostics[0].line == 2
    assert "SyntaxError" in editor.diagnostics[0].message
    window.command_bar.actions_by_name["Save"].trigger()
    qtbot.waitUntil(lambda: "syntax error on line 2" in page.message.text(), timeout=10000)
    assert window.services.jobs.get("jsjob").script.startswith("function jsjob() {\n    console")

    replace_text(
        editor, "// a comment\nfunction jsjob() {\n  console.log('hi from JavaScript');\n}\n"
    )
    qtbot.waitUntil(lambda: editor.diagnostics == [], timeout=10000)
    keyword = editor.document().findBlockByNumber(1).layout().formats()
    colours = {f.format.foreground().color().name() for f in keyword}
    assert QColor("#0033b3").name() in colours  # `function`, highlighted as a keyword
    window.command_bar.actions_by_name["Run Once"].trigger()
    qtbot.waitUntil(
        lambda: any("Run succeeded" in e.message for e in page.job_view.live_log.records()),
        timeout=20000,
    )
    assert "hi from JavaScript" in [e.message for e in page.job_view.live_log.records()]


def test_a_template_says_its_own_language(qtbot: Any) -> None:
    dialog = CreateJobDialog(set())
    qtbot.addWidget(dialog)
    dialog.template.setCurrentIndex(dialog.template.findData("getUpdates-js"))
    assert dialog.language.currentData() == "javascript"
    assert not dialog.language.isEnabled()
    assert "JavaScript" in dialog.template.currentText()
    dialog.template.setCurrentIndex(dialog.template.findData("getUpdates"))
    assert dialog.language.currentData() == "python"


def test_the_configure_page_adds_and_refuses_redirects(window: MainWindow, qtbot: Any) -> None:
    window.show_page("Configure")
    page = window.pages["Configure"]
    assert isinstance(page, ConfigurePage)
    page.redirect_from.setText("api.twitter.com")
    page.redirect_to.setText("http://127.0.0.1:8080/")
    page.add_redirect()
    qtbot.waitUntil(lambda: "must be an http" in page.redirect_error.text(), timeout=5000)
    assert window.services.redirects.all() == []
    page.redirect_from.setText("https://api.twitter.com/")
    page.add_redirect()
    qtbot.waitUntil(lambda: len(page.redirects.records()) == 1, timeout=5000)
    assert page.redirect_error.text() == ""
    assert window.services.redirects.pairs() == [
        ("https://api.twitter.com/", "http://127.0.0.1:8080/")
    ]
    page.delete_redirect()
    qtbot.waitUntil(lambda: page.redirects.records() == [], timeout=5000)
