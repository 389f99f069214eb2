"""History › a run › HTTP: the exchanges a run's script made, as recorded
(masked), and the request and answer of the selected one."""

from __future__ import annotations

import base64
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit, QSplitter, QWidget

from console.core.jobs.recordings import exchange_size, is_truncated
from console.gui.record_model import Column, RecordModel
from console.gui.widgets import table_view

Exchange = dict[str, Any]
#: Characters of a body shown; the rest is said in a line.
SHOWN_BODY = 20_000


def body_text(body: dict[str, Any] | None) -> str:
    """A recorded body as a person reads it."""
    if not body:
        return "(no body)"
    if body.get("truncated"):
        return f"({body.get('bytes', 0):,} bytes, kept only as SHA-256 {body.get('sha256', '')})"
    if "base64" in body:
        size = len(base64.b64decode(body["base64"]))
        return f"({size:,} bytes of binary data)"
    text = str(body.get("text", ""))
    more = len(text) - SHOWN_BODY
    return text[:SHOWN_BODY] + (f"\n… {more:,} more characters" if more > 0 else "")


def exchange_text(exchange: Exchange) -> str:
    """Both halves of an exchange, headers and bodies, as text."""

    def headers(values: dict[str, str] | None) -> list[str]:
        return [f"{k}: {v}" for k, v in (values or {}).items()]

    status = f"{exchange.get('status', '')} {exchange.get('reason', '')}".strip()
    return "\n".join(
        [
            f"{exchange['method']} {exchange['url']}",
            *headers(exchange.get("request_headers")),
            "",
            body_text(exchange.get("request_body")),
            "",
            f"HTTP {status}  ({exchange.get('elapsed_ms', 0):,.0f} ms)",
            *headers(exchange.get("response_headers")),
            "",
            body_text(exchange.get("response_body")),
        ]
    )


class RunHttpView(QSplitter):
    """The list of a run's exchanges beside the one selected."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.model = RecordModel[Exchange](
            [
                Column("Method", lambda e: e["method"]),
                Column("URL", lambda e: e["url"], fill=True),
                Column("Status", lambda e: e.get("status", ""), kind="number"),
                Column(
                    "Bytes",
                    lambda e: f"{exchange_size(e):,}" + (" (truncated)" if is_truncated(e) else ""),
                    kind="number",
                ),
                Column("Time", lambda e: f"{e.get('elapsed_ms', 0):,.0f} ms", kind="number"),
            ]
        )
        self.list_view = table_view(self, self.model)
        self.detail = QPlainTextEdit(self)
        self.detail.setReadOnly(True)
        self.detail.setPlaceholderText("This run recorded no HTTP.")
        self.addWidget(self.list_view)
        self.addWidget(self.detail)
        self.list_view.selectionModel().currentRowChanged.connect(self._on_selected)

    def show_exchanges(self, exchanges: list[Exchange]) -> None:
        self.model.set_records(exchanges)
        self.detail.setPlainText("")
        if exchanges:
            self.list_view.setCurrentIndex(self.model.index(0, 0))

    def _on_selected(self, current: Any, _previous: Any) -> None:
        if current.isValid():
            self.detail.setPlainText(exchange_text(self.model.record(current.row())))
