"""The editor's helper process: jedi completion, signature help, hover docs
and the diagnostics, answered outside the window's process.

In the window's process jedi took the GIL from the GUI thread (a 160-180 ms
stall typing into a 2,000-line script); here it has its own. Started by
`assist_client.AssistProcess` as `python -m console.gui.editor.assist_server`
(the bundle: its own executable with `__script-assist__`). It warms jedi
on the script API's stub and the getUpdates template, on a thread, and
answers one JSON line for each JSON line on standard input:

    {"seq": 7, "kind": "complete", "source": "...", "line": 3, "column": 10,
     "language": "python", "setting_names": ["TWITTER_QUERY"]}
    {"seq": 7, "result": {"prefix": "", "items": [["read", "function", ""]]}}

`kind` is `complete`, `signature`, `hover` or `check`; a failure answers
`{"seq": 7, "error": "one line"}`. While jedi loads (a third of a second,
more on a busy machine), what the stub alone answers is answered at once:
the diagnostics, JavaScript, and the API's own chains and calls
(`tables.get_table("x").`, `….where(`). It exits at the end of its standard
input, at once, even in the middle of an answer: when the window closes
it, or when the window's process dies (even by SIGKILL), so it never
outlives the console. No Qt here.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
from dataclasses import asdict
from typing import IO, Any

from console.gui.editor import parso_cache
from console.gui.editor.assist import Assistant, Request
from console.gui.editor.diagnostics import check_source

#: Completed once at start, so the first question finds jedi warm.
_WARM_AT = "\ndef _warm():\n    tables.get_table('Updates')."


def answer(assistant: Assistant, message: dict[str, Any], warm: threading.Event) -> Any:
    """The result of one request, as JSON-ready values. Until jedi is `warm`,
    what the stub alone can answer is answered at once."""
    kind = message["kind"]
    request = Request(
        str(message["source"]),
        int(message.get("line", 1)),
        int(message.get("column", 0)),
        str(message.get("language", "python")),
        tuple(message.get("setting_names", ())),
    )
    if kind == "check":  # pyflakes: no jedi
        return [asdict(d) for d in check_source(request.source, request.language)]
    if kind == "complete":
        found = None if warm.is_set() else assistant.complete_without_jedi(request)
        if found is None:
            warm.wait()
            found = assistant.complete(request)
        return {"prefix": found.prefix, "items": [[c.name, c.kind, c.doc] for c in found.items]}
    if kind == "signature":
        text = None if warm.is_set() else assistant.signature_without_jedi(request)
        if text is None:
            warm.wait()
            text = assistant.signature(request)
        return text
    if kind == "hover":
        if request.language == "python":
            warm.wait()
        return assistant.hover(request)
    raise ValueError(f"no such request: {kind}")


def warm(assistant: Assistant, done: threading.Event) -> None:
    """Load jedi, the API's stub and what the getUpdates template imports;
    set `done`, even when that failed (jedi then loads at the next question)."""
    from console.core.resources import resource

    try:
        source = resource("templates", "getUpdates.py").read_text(encoding="utf-8") + _WARM_AT
        lines = source.split("\n")
        assistant.complete(Request(source, len(lines), len(lines[-1])))
    except Exception as e:  # a failed warm-up only leaves jedi cold
        print(f"script assist: warm-up failed: {e}", file=sys.stderr)
    finally:
        done.set()


def serve(reader: IO[bytes], writer: IO[bytes]) -> None:
    """Warm up, then answer each request line; exit the moment the reader
    ends, even in the middle of a question or of the warm-up."""
    lines: queue.SimpleQueue[bytes] = queue.SimpleQueue()

    def read() -> None:
        for line in reader:
            lines.put(line)
        os._exit(0)  # nothing here is worth finishing for a console that has gone

    threading.Thread(target=read, name="requests", daemon=True).start()
    assistant = Assistant()
    # jedi warms on a thread meanwhile; only it touches jedi until it is done.
    warmed = threading.Event()
    threading.Thread(target=warm, args=(assistant, warmed), name="warm", daemon=True).start()
    while True:
        line = lines.get()
        try:
            message = json.loads(line)
            seq = message.get("seq")
        except ValueError:
            continue
        try:
            reply = {"seq": seq, "result": answer(assistant, message, warmed)}
        except Exception as e:  # one bad question, not the helper
            reply = {"seq": seq, "error": f"{type(e).__name__}: {e}"}
        writer.write(json.dumps(reply).encode() + b"\n")
        writer.flush()


def main() -> None:
    """Speak on the standard pipes; anything else printed goes to stderr."""
    parso_cache.guard()  # this process may be ended while jedi writes its cache
    writer = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot break a line
    serve(sys.stdin.buffer, writer)


if __name__ == "__main__":
    main()
