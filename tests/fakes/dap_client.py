"""A Debug Adapter Protocol client in plain JSON over a socket, as VS Code
speaks it: requests with a sequence number, responses and events back."""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from typing import Any


class DapClient:
    def __init__(self, host: str, port: int, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.sock = socket.create_connection((host, port), timeout=timeout_s)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.timeout_s = timeout_s
        self.seq = 0
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.events: list[dict[str, Any]] = []
        self.responses: dict[int, dict[str, Any]] = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.sock.makefile("rb")
        try:
            while True:
                length = 0
                while (line := stream.readline().strip()) != b"":
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if not length:
                    return
                self.messages.put(json.loads(stream.read(length)))
        except OSError:
            return

    def send(self, command: str, **arguments: Any) -> int:
        self.seq += 1
        body = json.dumps(
            {"seq": self.seq, "type": "request", "command": command, "arguments": arguments}
        ).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self.seq

    def _pump(self, done: Any) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout_s
        while True:
            found = done()
            if found is not None:
                return found  # type: ignore[no-any-return]
            message = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            if message["type"] == "response":
                self.responses[message["request_seq"]] = message
            elif message["type"] == "event":
                self.events.append(message)

    def response(self, seq: int) -> dict[str, Any]:
        return self._pump(lambda: self.responses.get(seq))

    def request(self, command: str, **arguments: Any) -> dict[str, Any]:
        answer = self.response(self.send(command, **arguments))
        assert answer["success"], answer
        return answer.get("body") or {}

    def event(self, name: str) -> dict[str, Any]:
        """The next `name` event not yet taken."""

        def take() -> dict[str, Any] | None:
            for i, event in enumerate(self.events):
                if event["event"] == name:
                    return self.events.pop(i)
            return None

        return self._pump(take)

    def close(self) -> None:
        self.sock.close()


def stop_at_line(port: int, path: str, line: int) -> tuple[DapClient, int, dict[str, str]]:
    """Attach to a `job debug --wait` listener, as VS Code does, with one
    breakpoint at `line` of `path`: the client, the stopped thread, and the
    stopped frame's locals (name → repr)."""
    client = DapClient("127.0.0.1", port)
    client.request("initialize", adapterID="test", clientID="test", linesStartAt1=True)
    attach = client.send("attach", justMyCode=False)
    client.event("initialized")
    placed = client.request("setBreakpoints", source={"path": path}, breakpoints=[{"line": line}])
    assert placed["breakpoints"][0]["verified"], placed
    client.request("configurationDone")
    client.response(attach)
    stopped = client.event("stopped")
    assert stopped["body"]["reason"] == "breakpoint", stopped
    thread = stopped["body"]["threadId"]
    frames = client.request("stackTrace", threadId=thread)["stackFrames"]
    assert frames[0]["line"] == line, frames[0]
    scopes = client.request("scopes", frameId=frames[0]["id"])["scopes"]
    local = next(s for s in scopes if s["name"].lower().startswith("local"))
    variables = client.request("variables", variablesReference=local["variablesReference"])
    return client, thread, {v["name"]: v["value"] for v in variables["variables"]}
