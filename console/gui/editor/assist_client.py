"""The window's side of the editor's helper process (`assist_server`): start
it, ask it, end it.

`AssistProcess.ask` is called on the editor's operations lane and blocks
that thread (never the GUI thread) on the pipe, where it holds no GIL. One
question is in flight at a time; each carries a sequence number and an
answer to any other is dropped. A helper that dies or stops answering is
ended and started again at the next question. No Qt here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any

from console.gui.editor.assist import Completion, Completions, Request
from console.gui.editor.diagnostics import Diagnostic

#: A question unanswered this long: the helper is stuck, end it.
ANSWER_LIMIT_S = 30.0


class AssistUnavailable(Exception):
    """The helper could not answer (not started, ended, or stuck)."""


def helper_command() -> list[str]:
    """How to start the helper: the bundle's own executable when frozen."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "__script-assist__"]
    return [sys.executable, "-m", "console.gui.editor.assist_server"]


class AssistProcess:
    """One helper process for one editor (started on first use)."""

    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command or helper_command()
        self._proc: subprocess.Popen[bytes] | None = None
        self._seq = 0
        self._closed = False
        self._lock = threading.Lock()  # guards the process
        self._asking = threading.Lock()  # one question on the pipes at a time

    @property
    def pid(self) -> int | None:
        """The running helper's process id."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def start(self) -> None:
        """Start the helper unless it runs; it warms up on its own."""
        self._running()

    def _running(self) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._closed:
                raise AssistUnavailable("the editor has closed")
            if self._proc is not None and self._proc.poll() is None:
                return self._proc
            try:
                # Its standard input is the lifeline: the helper exits at its
                # end, so it dies with this process, however that ends.
                self._proc = subprocess.Popen(
                    self.command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    close_fds=True,
                )
            except OSError as e:
                raise AssistUnavailable(str(e)) from e
            return self._proc

    def ask(self, kind: str, request: Request) -> Any:
        """The helper's answer to one question (on a worker: this waits)."""
        with self._asking:
            return self._ask(kind, request)

    def _ask(self, kind: str, request: Request) -> Any:
        proc = self._running()
        assert proc.stdin is not None and proc.stdout is not None
        self._seq += 1
        seq = self._seq
        line = json.dumps(
            {
                "seq": seq,
                "kind": kind,
                "source": request.source,
                "line": request.line,
                "column": request.column,
                "language": request.language,
                "setting_names": list(request.setting_names),
            }
        )
        stuck = threading.Timer(ANSWER_LIMIT_S, proc.kill)
        stuck.daemon = True
        stuck.start()
        try:
            proc.stdin.write(line.encode() + b"\n")
            proc.stdin.flush()
            while True:
                raw = proc.stdout.readline()
                if not raw:
                    raise AssistUnavailable("the helper has ended")
                reply = json.loads(raw)
                if reply.get("seq") == seq:
                    break  # an older answer (a question given up on) is dropped
        except (OSError, ValueError) as e:
            raise AssistUnavailable(str(e)) from e
        finally:
            stuck.cancel()
        if "error" in reply:
            raise AssistUnavailable(str(reply["error"]))
        return reply["result"]

    def complete(self, request: Request) -> Completions:
        found = self.ask("complete", request)
        items = [Completion(str(n), str(k), str(d)) for n, k, d in found["items"]]
        return Completions(str(found["prefix"]), items)

    def signature(self, request: Request) -> str:
        return str(self.ask("signature", request))

    def hover(self, request: Request) -> str:
        return str(self.ask("hover", request))

    def check(self, source: str, language: str) -> list[Diagnostic]:
        found = self.ask("check", Request(source, 1, 0, language))
        return [Diagnostic(**d) for d in found]

    def close(self) -> None:
        """End the helper (the window or the editor closes); no restart."""
        with self._lock:
            self._closed = True
            proc, self._proc = self._proc, None
        if proc is None:
            return
        # Nothing in it is worth waiting for (it may be warming up or busy
        # with a question, whose lane then reads the end of its pipe).
        proc.kill()
        proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
