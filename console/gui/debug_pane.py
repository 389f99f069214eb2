"""The Debug pane: the window as one more Debug Adapter Protocol client of a
job's debugged child (`job debug`'s debugpy, `core/running/debugging.py`).

`DebugPane.start(job, breakpoints, replay=None)` runs the job under the
debugger off the GUI thread (an operation: closing the window cancels it, and
the run ends as cancelled with its process tree), attaches over loopback,
sets the breakpoints (line numbers of the script) and stops post-mortem where
an exception leaves the script. When it stops, the pane shows the call stack,
the frame's local and global variables (expandable, each `repr` cut to
`SHOWN_VALUE` characters), and evaluates the expression box in that frame;
`current_line` tells the editor which line to mark. Continue, Step Over, Step
Into, Step Out and Stop drive it.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.core.jobs.runs import Run
from console.gui.operations import Op, Operations, Progress

#: Characters of a variable's value shown.
SHOWN_VALUE = 200
CONTROLS = ("Continue", "Step Over", "Step Into", "Step Out", "Stop")
_COMMANDS = {
    "Continue": "continue",
    "Step Over": "next",
    "Step Into": "stepIn",
    "Step Out": "stepOut",
}


def cut(value: str, limit: int = SHOWN_VALUE) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


class _F5(QObject):
    """F5 in a widget: debug, not the window's F5 (refresh)."""

    def __init__(self, parent: QWidget, debug: Callable[[], None]) -> None:
        super().__init__(parent)
        self._debug = debug

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kinds = (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress)
        if event.type() in kinds and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_F5:
            event.accept()  # the override taken: the key comes here, not to the window's F5
            if event.type() == QEvent.Type.KeyPress:
                self._debug()
            return True
        return False


def debug_on_f5(widget: QWidget, debug: Callable[[], None]) -> None:
    """Make F5 in `widget` (the script editor) call `debug`."""
    widget.installEventFilter(_F5(widget, debug))


class _Connection(QObject):
    """One DAP socket: requests out, each answer and event delivered on the
    GUI thread (a reader thread emits `message`)."""

    message = Signal(dict)

    def __init__(self, host: str, port: int) -> None:
        super().__init__()
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.settimeout(None)
        self._seq = 0
        self._lock = threading.Lock()
        self.pending: dict[int, Callable[[dict[str, Any]], None]] = {}
        self.message.connect(self._deliver)
        threading.Thread(target=self._read, name="dap-reader", daemon=True).start()

    def _read(self) -> None:
        stream = self.sock.makefile("rb")
        try:
            while True:
                length = 0
                while (line := stream.readline()).strip():
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if not length:
                    return
                self.message.emit(json.loads(stream.read(length)))
        except (OSError, ValueError):
            return  # the run ended: the socket closed

    def send(
        self, command: str, then: Callable[[dict[str, Any]], None] | None = None, **arguments: Any
    ) -> None:
        with self._lock:
            self._seq += 1
            seq = self._seq
            if then is not None:
                self.pending[seq] = then
            body = json.dumps(
                {"seq": seq, "type": "request", "command": command, "arguments": arguments}
            ).encode()
            try:
                self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            except OSError:
                pass  # the run has ended; nothing to drive

    def _deliver(self, message: dict[str, Any]) -> None:
        if message.get("type") == "response":
            then = self.pending.pop(int(message.get("request_seq", 0)), None)
            if then is not None:
                then(message)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class DebugPane(QWidget):
    """Call stack, variables, an expression box and the controls."""

    current_line = Signal(int)  # the script's line the debugger stopped at
    finished = Signal(object)  # the run, when it has ended

    def __init__(self, services: Any, tasks: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.tasks = services, tasks
        self.conn: _Connection | None = None
        self.thread_id: int | None = None
        self.frame_id: int | None = None
        self.run_handle: Any = None
        self.status = QLabel("Not debugging.", self)
        self.error = QLabel("", self)
        self.error.setObjectName("fielderror")  # red, from the palette
        self.stack = QListWidget(self)
        self.variables = QTreeWidget(self)
        self.variables.setHeaderLabels(["Name", "Value"])
        self.variables.itemExpanded.connect(self._expand)
        self.expression = QLineEdit(self)
        self.expression.setPlaceholderText("An expression, evaluated in the stopped frame")
        self.expression.returnPressed.connect(self.evaluate)
        self.result = QLabel("", self)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons: dict[str, QPushButton] = {}
        bar = QHBoxLayout()
        for label in CONTROLS:
            button = QPushButton(label, self)
            button.clicked.connect(lambda _=False, name=label: self.control(name))
            self.buttons[label] = button
            bar.addWidget(button)
        bar.addStretch(1)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.stack)
        split.addWidget(self.variables)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(split, 1)
        layout.addWidget(self.expression)
        layout.addWidget(self.result)
        self.stack.currentRowChanged.connect(self._on_frame)
        self._frames: list[dict[str, Any]] = []
        #: Counts the stops left (Continue, a step): an answer asked for at an
        #: earlier stop finds the tree cleared and is dropped.
        self._stops = 0
        self._set_stopped(False)

    # -- starting ------------------------------------------------------------

    def start(self, job: Any, breakpoints: list[int], replay: int | None = None) -> bool:
        """Run `job` under the debugger, stopping at `breakpoints` (lines of
        its script); False, with the reason shown, when it cannot."""
        self.error.setText("")
        if job.language != "python":
            self.error.setText(f"{job.name}: debugging is for Python jobs for now")
            return False
        if self.run_handle is not None:
            self.error.setText("A run is being debugged already: stop it first")
            return False
        from console.core.running.debugging import script_path

        with socket.socket() as probe:  # a free loopback port for this run
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        debug = {"host": "127.0.0.1", "port": port, "wait": True, "script": script_path(job.name)}
        runner = self.services.runner
        self.status.setText(f"Starting {job.name} under the debugger…")

        def work(progress: Progress) -> Run:
            run: Run = runner.run(
                job.name,
                trigger="debug",
                cancel=progress.cancel,
                replay=replay,
                debug=debug,
                on_debug=progress.report,
            )
            return run

        self.run_handle = self.tasks.run(
            Op(
                work,
                success=self._on_run_ended,
                failure=self._on_run_failed,
                progress=lambda message: self._attach(message, breakpoints),
                cancelled=lambda: self._on_run_ended(None),
            )
        )
        return True

    def _attach(self, message: dict[str, Any], breakpoints: list[int]) -> None:
        host, port = str(message["listening"]).rsplit(":", 1)
        path = str(message["script"])
        conn = self.conn = _Connection(host, int(port))
        conn.message.connect(self._on_message)
        conn.send("initialize", adapterID="mobile-console", clientID="mobile-console")
        conn.send("attach", justMyCode=True)
        lines = [{"line": n} for n in sorted(set(breakpoints))]
        conn.send("setBreakpoints", source={"path": path}, breakpoints=lines)
        conn.send("setExceptionBreakpoints", filters=["userUnhandled"])
        conn.send("configurationDone")
        self.status.setText("Running under the debugger.")

    # -- what the debugger says ----------------------------------------------

    def _on_message(self, message: dict[str, Any]) -> None:
        if message.get("type") != "event":
            return
        body = message.get("body") or {}
        if message.get("event") == "stopped":
            self.thread_id = int(body.get("threadId", 0))
            why = body.get("description") or body.get("reason") or "paused"
            text = body.get("text")
            self.status.setText(f"Paused: {why}" + (f": {cut(str(text))}" if text else ""))
            self._set_stopped(True)
            assert self.conn is not None
            self.conn.send("stackTrace", self._on_stack, threadId=self.thread_id)
        elif message.get("event") == "continued" and self.run_handle is not None:
            self._running()

    def _on_stack(self, answer: dict[str, Any]) -> None:
        self._frames = list((answer.get("body") or {}).get("stackFrames") or [])
        self.stack.clear()
        for frame in self._frames:
            self.stack.addItem(f"{frame.get('name')}  (line {frame.get('line')})")
        if self._frames:
            self.stack.setCurrentRow(0)
            self.current_line.emit(int(self._frames[0].get("line", 0)))

    def _on_frame(self, row: int) -> None:
        if not 0 <= row < len(self._frames) or self.conn is None:
            return
        self.frame_id = int(self._frames[row]["id"])
        stop = self._stops

        def show(answer: dict[str, Any]) -> None:
            if stop == self._stops:  # not an answer about a stop the run has left
                self._on_scopes(answer)

        self.conn.send("scopes", show, frameId=self.frame_id)

    def _on_scopes(self, answer: dict[str, Any]) -> None:
        self.variables.clear()
        for scope in (answer.get("body") or {}).get("scopes") or []:
            item = QTreeWidgetItem(self.variables, [str(scope.get("name", "")), ""])
            self._fill_later(item, int(scope.get("variablesReference", 0)))
            if str(scope.get("name", "")).lower().startswith("local"):
                item.setExpanded(True)

    def _fill_later(self, item: QTreeWidgetItem, reference: int) -> None:
        item.setData(0, Qt.ItemDataRole.UserRole, reference)
        if reference:
            QTreeWidgetItem(item, ["…", ""])  # a placeholder: expandable

    def _expand(self, item: QTreeWidgetItem) -> None:
        reference = int(item.data(0, Qt.ItemDataRole.UserRole) or 0)
        if not reference or self.conn is None or item.data(1, Qt.ItemDataRole.UserRole):
            return
        item.setData(1, Qt.ItemDataRole.UserRole, True)  # asked once

        stop = self._stops

        def fill(answer: dict[str, Any]) -> None:
            if stop != self._stops:
                return  # the run went on: the tree, and this item, were cleared
            item.takeChildren()
            for var in (answer.get("body") or {}).get("variables") or []:
                child = QTreeWidgetItem(
                    item, [str(var.get("name", "")), cut(str(var.get("value", "")))]
                )
                self._fill_later(child, int(var.get("variablesReference", 0)))

        self.conn.send("variables", fill, variablesReference=reference)

    def values(self) -> dict[str, str]:
        """The shown variables of the expanded scopes, by name (for tests and tools)."""
        found: dict[str, str] = {}
        for i in range(self.variables.topLevelItemCount()):
            scope = self.variables.topLevelItem(i)
            for j in range(scope.childCount() if scope else 0):
                child = scope.child(j) if scope else None
                if child is not None:
                    found.setdefault(child.text(0), child.text(1))
        return found

    # -- the controls ----------------------------------------------------------

    def evaluate(self) -> None:
        text = self.expression.text().strip()
        if not text or self.conn is None or self.frame_id is None:
            return

        def show(answer: dict[str, Any]) -> None:
            if answer.get("success"):
                self.result.setText(cut(str((answer.get("body") or {}).get("result", ""))))
            else:
                self.result.setText(cut(str(answer.get("message") or "could not evaluate it")))

        self.conn.send("evaluate", show, expression=text, frameId=self.frame_id, context="repl")

    def control(self, name: str) -> None:
        if self.conn is None:
            return
        if name == "Stop":
            if self.run_handle is not None:
                self.run_handle.cancel()  # the run ends as cancelled, its process tree with it
            self.conn.close()
            return
        if self.thread_id is not None:
            self.conn.send(_COMMANDS[name], threadId=self.thread_id)
            self._running()

    def _running(self) -> None:
        self._stops += 1  # answers about the stop that ends here are stale
        self._set_stopped(False)
        self.status.setText("Running under the debugger.")
        self.stack.clear()
        self.variables.clear()
        self._frames = []
        self.current_line.emit(0)  # the editor's mark goes until it stops again

    def _set_stopped(self, stopped: bool) -> None:
        for label, button in self.buttons.items():
            button.setEnabled(stopped or (label == "Stop" and self.conn is not None))
        self.expression.setEnabled(stopped)

    def _on_run_ended(self, run: Run | None) -> None:
        self.run_handle = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self._running()
        self.status.setText(f"The run {run.status}." if run else "The run was cancelled.")
        self._set_stopped(False)
        self.finished.emit(run)

    def _on_run_failed(self, error: Exception) -> None:
        self.error.setText(cut(str(error)))
        self._on_run_ended(None)
