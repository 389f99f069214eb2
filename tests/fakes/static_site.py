"""A real HTTP server on loopback serving documents held in memory, with
ETag and Last-Modified, which answers 304 to a request that already has
the current version. For feed and image jobs' tests and benchmarks."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


@dataclass
class Document:
    body: bytes
    content_type: str
    status: int = 200
    etag: str = ""
    last_modified: str = ""


@dataclass
class StaticSite:
    """`site.put("/a.xml", body)`; then GET `site.url("/a.xml")`."""

    documents: dict[str, Document] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    not_modified: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(
        self, path: str, body: bytes, content_type: str = "application/xml", status: int = 200
    ) -> None:
        with self._lock:
            version = len(self.requests) + len(self.documents)
            self.documents[path] = Document(
                body,
                content_type,
                status,
                etag='"' + hashlib.sha1(body).hexdigest()[:16] + '"',
                last_modified=formatdate(1_700_000_000 + version, usegmt=True),
            )

    def url(self, path: str) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def __enter__(self) -> StaticSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with site._lock:
                    site.requests.append((self.path, dict(self.headers.items())))
                    document = site.documents.get(self.path)
                if document is None:
                    self._answer(404, b"not found", "text/plain")
                    return
                fresh = self.headers.get("If-None-Match") == document.etag or (
                    self.headers.get("If-Modified-Since") == document.last_modified
                )
                if fresh and document.etag:
                    with site._lock:
                        site.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", document.etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._answer(document.status, document.body, document.content_type, document)

            def _answer(
                self, status: int, body: bytes, kind: str, document: Document | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                if document is not None:
                    self.send_header("ETag", document.etag)
                    self.send_header("Last-Modified", document.last_modified)
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


def rss(title: str, items: list[tuple[str | None, str | None, str]]) -> bytes:
    """An RSS 2.0 document: items as (guid, link, title)."""
    parts = []
    for n, (guid, link, item_title) in enumerate(items):
        parts.append(
            "<item>"
            + (f'<guid isPermaLink="false">{guid}</guid>' if guid else "")
            + (f"<link>{link}</link>" if link else "")
            + f"<title>{item_title}</title>"
            + f"<description>Entry {n} of {title}</description>"
            + f"<pubDate>Mon, 0{1 + n % 9} Jun 2026 10:00:00 GMT</pubDate>"
            + "</item>"
        )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://example.org/</link>"
        f"<description>{title}</description>{''.join(parts)}</channel></rss>"
    ).encode()
