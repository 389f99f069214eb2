"""A run's HTTP, recorded and replayed, in the script host.

Every `requests.Session` the script (or the JavaScript `request` module)
makes gets one transport adapter mounted for http:// and https:// (the seam
`requests` offers for this, `Session.mount`): `RecordingAdapter` sends as
usual and reports each exchange to the parent as a `{"t": "http"}` JSON line,
masked here already, so no secret leaves the child in a recording;
`ReplayAdapter` never touches the network and answers each request from a
past run's recording instead. What the parent stores is `jobs/recordings.py`.

An exchange: method, url, request_headers, request_body, status, reason,
response_headers, response_body, elapsed_ms. A body is `{"text": str}`,
`{"base64": str}`, or, past the per-body limit or holding a secret it could
not mask, `{"sha256": hex, "bytes": n, "truncated": true}`.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.abc
import importlib.util
import io
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

from console.core.config.masking import MASK, Masker

#: Request and response headers a recording never keeps the value of.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
#: Query and form parameters that change on every request (or are the
#: signature): masked when stored, ignored when a replay matches.
OAUTH_VOLATILE = frozenset({"oauth_nonce", "oauth_timestamp", "oauth_signature"})
FORM = "application/x-www-form-urlencoded"
#: Bytes of one exchange as a JSON line, below the parent's 1 MB protocol line.
MAX_MESSAGE = 900_000

Body = dict[str, Any]
Exchange = dict[str, Any]


def _masked_pairs(pairs: Iterable[tuple[str, str]], masker: Masker) -> list[tuple[str, str]]:
    return [(k, MASK if k.lower().startswith("oauth_") else masker(v)) for k, v in pairs]


def mask_url(url: str, masker: Masker) -> str:
    """`url` with secrets masked and every OAuth parameter a placeholder."""
    parts = urlsplit(url)
    if not parts.query:
        return masker(url)
    query = _form(_masked_pairs(parse_qsl(parts.query, keep_blank_values=True), masker))
    return masker(urlunsplit(parts._replace(query=query)))


def _form(pairs: Iterable[tuple[str, str]]) -> str:
    """Pairs URL-encoded, with `MASK` left readable."""
    return urlencode(list(pairs)).replace(quote_plus(MASK), MASK)


def mask_headers(headers: Mapping[str, str], masker: Masker) -> dict[str, str]:
    return {
        str(k): MASK if str(k).lower() in SECRET_HEADERS else masker(str(v))
        for k, v in headers.items()
    }


def encode_body(
    data: bytes | str | None, content_type: str, masker: Masker, limit: int
) -> Body | None:
    """A body as a recording keeps it: masked text, base64 of bytes that
    hold no secret, or past `limit` (or holding a secret in a form it cannot
    mask) only its digest."""
    if data is None or data == b"" or data == "":
        return None
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    digest: Body = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw), "truncated": True}
    if len(raw) > limit:
        return digest
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        if masker and masker(raw.decode("latin-1")) != raw.decode("latin-1"):
            return digest  # a secret inside binary: its digest only
        return {"base64": base64.b64encode(raw).decode("ascii")}
    if FORM in content_type.lower():
        pairs = parse_qsl(text, keep_blank_values=True)
        if pairs:
            return {"text": _form(_masked_pairs(pairs, masker))}
    return {"text": masker(text)}


def decode_body(body: Body | None) -> bytes:
    """The bytes of a recorded body (empty for none, or one kept as a digest)."""
    if not body:
        return b""
    if "text" in body:
        return str(body["text"]).encode("utf-8")
    if "base64" in body:
        return base64.b64decode(body["base64"])
    return b""


def fit(exchange: Exchange, limit: int = MAX_MESSAGE) -> Exchange:
    """`exchange` as one JSON line of the pipe (which holds 1 MB): bodies
    whose escaping makes it longer are kept as their size only, truncated."""
    if len(json.dumps(exchange, ensure_ascii=False).encode("utf-8")) <= limit:
        return exchange
    for side in ("request_body", "response_body"):
        body = exchange.get(side)
        if body and not body.get("truncated"):
            size = len(decode_body(body))
            exchange[side] = {"sha256": "", "bytes": size, "truncated": True}
    return exchange


def _normal_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return _form(sorted((k, v) for k, v in pairs if k.lower() not in OAUTH_VOLATILE))


def match_key(exchange: Exchange) -> tuple[str, str, str]:
    """What a replay matches a request by: method, URL and body, with the
    OAuth nonce, timestamp and signature left out and parameters in order."""
    parts = urlsplit(str(exchange["url"]))
    url = urlunsplit(parts._replace(query=_normal_query(parts.query)))
    body = exchange.get("request_body") or {}
    if "text" in body:
        text = str(body["text"])
        form = FORM in _content_type(exchange.get("request_headers") or {}).lower()
        kept = _normal_query(text) if form else text
    else:
        kept = str(body.get("base64") or body.get("sha256") or "")
    return str(exchange["method"]).upper(), url, kept


def _content_type(headers: Mapping[str, str]) -> str:
    for key, value in headers.items():
        if key.lower() == "content-type":
            return str(value)
    return ""


def _requests_module() -> Any:
    import requests

    return requests


def describe_request(method: str, url: str) -> str:
    return f"{method.upper()} {url}"


class _Recorder:
    """Turns one request and its response into a masked exchange and hands
    it to `emit`, within the run's byte budget."""

    def __init__(
        self, emit: Callable[[Exchange], None], masker: Masker, body_limit: int, run_limit: int
    ) -> None:
        self.emit, self.masker = emit, masker
        self.body_limit, self.run_left = body_limit, run_limit
        self.pending: list[_Tee] = []

    def _body_limit(self) -> int:
        return max(0, min(self.body_limit, self.run_left))

    def masked_request(self, request: Any, *, whole: bool = False) -> Exchange:
        """The request's half of an exchange; `whole`: its body never cut
        (a replay matches by it)."""
        headers = dict(request.headers)
        limit = len(request.body or b"") + 1 if whole else self._body_limit()
        return {
            "method": str(request.method).upper(),
            "url": mask_url(str(request.url), self.masker),
            "request_headers": mask_headers(headers, self.masker),
            "request_body": encode_body(request.body, _content_type(headers), self.masker, limit),
        }

    def record(
        self, request: Any, response: Any, elapsed_s: float, body: bytes, *, partial: bool = False
    ) -> None:
        """Emit the exchange; `body`: what the script read of the response
        (`partial`: it stopped before the end)."""
        exchange = self.masked_request(request)
        headers = response.headers
        encoded = encode_body(body, _content_type(headers), self.masker, self._body_limit())
        if partial and encoded is not None:
            encoded["partial"] = True  # a replay gives the script what it read, no more
        exchange.update(
            status=int(response.status_code),
            reason=str(response.reason or ""),
            response_headers=mask_headers(dict(headers), self.masker),
            response_body=encoded,
            elapsed_ms=round(elapsed_s * 1000, 1),
        )
        self.run_left -= sum(
            len(decode_body(exchange[b])) for b in ("request_body", "response_body")
        )
        self.emit(fit(exchange))

    def flush(self) -> None:
        """Record the responses the script never read to their end."""
        for tee in list(self.pending):
            tee.finish(partial=True)


class _Tee:
    """A response's `raw` stream that keeps what the script reads of it,
    and records the exchange at its end (or when it is closed): a streamed
    read stays a streamed read, with its limits, while it is recorded."""

    def __init__(self, raw: Any, recorder: _Recorder, request: Any, response: Any) -> None:
        self._raw, self._recorder = raw, recorder
        self._request, self._response = request, response
        self._chunks: list[bytes] = []
        self._started = time.monotonic()
        self._done = False
        recorder.pending.append(self)

    def read(self, amt: int | None = None, *args: Any, **kwargs: Any) -> bytes:
        chunk: bytes = self._raw.read(amt, *args, **kwargs)
        if chunk:
            self._chunks.append(chunk)
        if not chunk or amt is None:
            self.finish(partial=False)
        return chunk

    def read1(self, amt: int | None = None, *args: Any, **kwargs: Any) -> bytes:
        """What has arrived (a capped, deadlined read in the templates)."""
        chunk: bytes = self._raw.read1(amt, *args, **kwargs)
        if chunk:
            self._chunks.append(chunk)
        else:
            self.finish(partial=False)
        return chunk

    def stream(self, amt: int = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        while True:
            chunk = self.read(amt, decode_content=decode_content)
            if not chunk:
                return
            yield chunk

    def finish(self, *, partial: bool) -> None:
        if self._done:
            return
        self._done = True
        if self in self._recorder.pending:
            self._recorder.pending.remove(self)
        try:
            self._recorder.record(
                self._request,
                self._response,
                time.monotonic() - self._started,
                b"".join(self._chunks),
                partial=partial,
            )
        except Exception:  # a recording never fails the script's request
            pass

    def close(self) -> None:
        self.finish(partial=True)
        self._raw.close()

    def release_conn(self) -> None:
        self.finish(partial=True)
        self._raw.release_conn()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _ReplayRaw(io.BytesIO):
    """A recorded body as the `raw` stream of a replayed response."""

    def read(self, amt: int | None = None, *args: Any, **kwargs: Any) -> bytes:
        return super().read(amt)

    def read1(self, amt: int | None = None, *args: Any, **kwargs: Any) -> bytes:
        return super().read1(-1 if amt is None else amt)

    def stream(self, amt: int = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        while chunk := self.read(amt):
            yield chunk

    def release_conn(self) -> None:
        pass


class Replay:
    """A past run's exchanges, answered in order per request: the first
    unused one that matches, or the last that matched when all are used
    (a script that asks the same thing again)."""

    def __init__(self, run_id: int, exchanges: Sequence[Exchange], masker: Masker) -> None:
        self.run_id, self.masker = run_id, masker
        self._by_key: dict[tuple[str, str, str], list[Exchange]] = {}
        for exchange in exchanges:
            self._by_key.setdefault(match_key(exchange), []).append(exchange)
        self._used: dict[tuple[str, str, str], int] = {}

    def answer(self, masked: Exchange) -> Exchange | None:
        key = match_key(masked)
        found = self._by_key.get(key)
        if not found:
            return None
        index = self._used.get(key, 0)
        self._used[key] = index + 1
        return found[min(index, len(found) - 1)]


@cache
def adapters() -> tuple[type[Any], type[Any]]:
    """The two adapter classes, defined once `requests` is imported, and
    once a process: a fork server defines them before it forks its runs."""
    requests = _requests_module()
    from requests.adapters import BaseAdapter, HTTPAdapter
    from requests.structures import CaseInsensitiveDict
    from requests.utils import get_encoding_from_headers

    class RecordingAdapter(HTTPAdapter):
        """Sends as `requests` does, and records the exchange as the
        script reads the answer."""

        recorder: _Recorder

        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            response = super().send(request, *args, **kwargs)
            response.raw = _Tee(response.raw, self.recorder, request, response)
            return response

    class ReplayMiss(requests.ConnectionError):  # type: ignore[misc,name-defined]
        """A request the recording has no answer for."""

    class ReplayAdapter(BaseAdapter):
        """Answers from a recording; the network is never touched."""

        replay: Replay
        recorder: _Recorder

        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            masked = self.recorder.masked_request(request, whole=True)
            found = self.replay.answer(masked)
            if found is None and masked.get("request_body"):  # recorded as a digest?
                cut = dict(masked)
                cut["request_body"] = encode_body(request.body, "", Masker(()), -1)
                found = self.replay.answer(cut)
            where = f"run {self.replay.run_id}'s recording"
            named = describe_request(masked["method"], masked["url"])
            if found is None:
                raise ReplayMiss(f"replay: no answer for {named} in {where}", request=request)
            if (found.get("response_body") or {}).get("truncated"):
                raise ReplayMiss(
                    f"replay: the answer to {named} in {where} is incomplete "
                    "(its body was past the recording limit)",
                    request=request,
                )
            body = decode_body(found.get("response_body"))
            response = requests.Response()
            response.status_code = int(found["status"])
            response.reason = found.get("reason") or ""
            response.headers = CaseInsensitiveDict(found.get("response_headers") or {})
            response.raw = _ReplayRaw(body)
            response.encoding = get_encoding_from_headers(response.headers)
            response.url = request.url
            response.request = request
            response.connection = self
            self.recorder.record(request, response, 0.0, body)
            return response

        def close(self) -> None:
            pass

    return RecordingAdapter, ReplayAdapter


def install(
    emit: Callable[[Exchange], None],
    secret_values: Iterable[str],
    *,
    body_limit: int,
    run_limit: int,
    replay: tuple[int, Sequence[Exchange]] | None = None,
) -> Callable[[], None]:
    """Mount the recording (or, with `replay`, the replaying) adapter on
    every `requests.Session` this process makes from now on: at once if
    `requests` is loaded, else as soon as the script imports it (a run that
    makes no request loads nothing for this). Returns what records, at the
    run's end, the answers the script left unread."""
    masker = Masker(secret_values)
    recorder = _Recorder(emit, masker, body_limit, run_limit)
    if "requests" in sys.modules:
        _mount(recorder, replay, masker)
    else:
        sys.meta_path.insert(0, _AfterImport("requests", lambda: _mount(recorder, replay, masker)))
    return recorder.flush


class _AfterImport(importlib.abc.MetaPathFinder):
    """Calls `then` once module `name` has been imported (and run)."""

    def __init__(self, name: str, then: Callable[[], None]) -> None:
        self.name, self.then = name, then

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != self.name:
            return None
        sys.meta_path.remove(self)  # once; and the other finders find it
        spec = importlib.util.find_spec(name)
        loader = spec.loader if spec else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run_module = loader.exec_module

        def exec_module(module: Any) -> None:
            run_module(module)
            self.then()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _mount(
    recorder: _Recorder, replay: tuple[int, Sequence[Exchange]] | None, masker: Masker
) -> None:
    requests = _requests_module()

    @cache
    def adapter() -> Any:
        """One adapter for every session of the run, made with the first."""
        recording_class, replay_class = adapters()
        made = replay_class() if replay is not None else recording_class()
        if replay is not None:
            made.replay = Replay(replay[0], replay[1], masker)
        made.recorder = recorder
        return made

    original = requests.Session.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.mount("http://", adapter())
        self.mount("https://", adapter())

    requests.Session.__init__ = init
