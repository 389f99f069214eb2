"""A hostile HTTP server on loopback: one path per bad answer a feed, an
image host, an API or a web hook receiver can give. Started by the tests
themselves (threaded http.server on 127.0.0.1, a free port).

Huge bodies are produced lazily, 64 KiB at a time, and stop as soon as the
client hangs up, so "1 GB" costs only what the client chose to read; the
site counts the bytes it managed to send per path. Answers that never end
(a drip, a hang) end when the site is closed.
"""

from __future__ import annotations

import functools
import io
import random
import struct
import threading
import zlib
from collections import defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

GIGABYTE = 1 << 30
CHUNK = 1 << 16
DRIP_PAUSE_S = 0.02  # a byte every 20 ms: each read gets something, the whole never ends

FEED_START = b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>H</title>'

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "laughlaugh">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
 <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<rss version="2.0"><channel><title>Laughs</title>
<item><guid>laugh-1</guid><title>&i;</title><description>&i;</description></item>
</channel></rss>"""


def xxe_feed(secret: Path) -> bytes:
    """A feed whose entry would hold the file's text if the entity were resolved."""
    return (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE rss [ <!ENTITY secret SYSTEM "file://{secret}"> ]>\n'
        '<rss version="2.0"><channel><title>XXE</title>'
        "<item><guid>xxe-1</guid><title>leak &secret;</title>"
        "<description>&secret;</description></item></channel></rss>"
    ).encode()


# "café" in Latin-1 inside a document that declares UTF-8: not valid UTF-8.
BAD_ENCODING = FEED_START + (
    b"<item><guid>enc-1</guid><title>caf\xe9 \xff\xfe</title></item></channel></rss>"
)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


@functools.cache
def decompression_bomb() -> bytes:
    """A real PNG, 15000 x 15000 one-bit pixels (225 megapixels, 28 MB to
    decode, ~30 KB sent): every row is there, all zeros."""
    width = height = 15_000
    row = b"\0" * (1 + width // 8)  # filter byte + the row's bits
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


@functools.cache
def truncated_png() -> bytes:
    """The first half of a 200 x 200 PNG of noise: its header is fine."""
    from PIL import Image

    noise = Image.frombytes("RGB", (200, 200), random.Random(5).randbytes(120_000))
    out = io.BytesIO()
    noise.save(out, "PNG")
    whole = out.getvalue()
    return whole[: len(whole) // 2]


class HostileSite:
    """`with HostileSite(secret=path) as site: site.url("/feed/laughs.xml")`.

    Paths: /feed/{laughs,xxe,huge,drip,slow-headers,bad-encoding}.xml,
    /image/{bomb,truncated,not-an-image,missing,huge}.png,
    /api/{rate-limited,unavailable,malformed,not-json,huge},
    /hook/{hang,slow,huge,redirect}. Any method; a request body is read first.
    """

    def __init__(self, secret: Path | None = None) -> None:
        self.secret = secret
        self.sent: dict[str, int] = defaultdict(int)
        self.hits: list[str] = []
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    # -- the answers -----------------------------------------------------------

    def _routes(self) -> dict[str, Callable[[_Handler], None]]:
        return {
            "/feed/laughs.xml": lambda h: h.whole(200, BILLION_LAUGHS, "application/rss+xml"),
            "/feed/xxe.xml": lambda h: h.whole(
                200, xxe_feed(self.secret or Path("/etc/hostname")), "application/rss+xml"
            ),
            "/feed/huge.xml": lambda h: h.endless(FEED_START, b" ", "application/rss+xml"),
            "/feed/drip.xml": lambda h: h.drip(FEED_START, "application/rss+xml"),
            "/feed/slow-headers.xml": lambda h: h.drip(b"", "", status_line=True),
            "/feed/bad-encoding.xml": lambda h: h.whole(200, BAD_ENCODING, "application/rss+xml"),
            "/image/bomb.png": lambda h: h.whole(200, decompression_bomb(), "image/png"),
            "/image/truncated.png": lambda h: h.whole(200, truncated_png(), "image/png"),
            "/image/not-an-image.png": lambda h: h.whole(
                200, b"<html><body>Sorry, this picture was removed</body></html>", "image/png"
            ),
            "/image/huge.png": lambda h: h.endless(b"\x89PNG\r\n\x1a\n", b"\0", "image/png"),
            "/api/rate-limited": lambda h: h.whole(
                429,
                b'{"title": "Too Many Requests", "detail": "Too Many Requests"}',
                "application/json",
                {"Retry-After": "120"},
            ),
            "/api/unavailable": lambda h: h.whole(
                503, b"<html><body>Service Unavailable</body></html>", "text/html"
            ),
            "/api/malformed": lambda h: h.whole(
                200, b'{"data": [{"id": "1", "text": "cut', "application/json"
            ),
            "/api/not-json": lambda h: h.whole(
                200, b"<html><body>Welcome to the hotel wifi</body></html>", "text/html"
            ),
            "/api/huge": lambda h: h.endless(b'{"data": [', b" ", "application/json"),
            "/hook/hang": lambda h: self.closing.wait(),
            "/hook/slow": lambda h: h.drip(b"", "", status_line=True),
            "/hook/huge": lambda h: h.endless(b"", b"x", "text/plain"),
            "/hook/redirect": lambda h: h.redirect("/hook/redirect"),
        }

    # -- the server ------------------------------------------------------------

    def __enter__(self) -> HostileSite:
        routes = self._routes()
        site = self

        class Handler(_Handler):
            def answer(self) -> None:
                length = self.headers.get("Content-Length") or "0"
                self.rfile.read(int(length) if length.isdigit() else 0)
                path = self.path.split("?")[0]
                with site._lock:
                    site.hits.append(path)
                self.site = site
                self.key = path
                route = routes.get(path)
                if route is None:
                    self.whole(404, b"not found", "text/plain")
                else:
                    route(self)

            do_GET = do_POST = do_HEAD = answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False  # type: ignore[attr-defined]
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.closing.set()
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: a body without Content-Length ends when the connection does
    protocol_version = "HTTP/1.0"
    site: HostileSite
    key: str

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, data: bytes) -> bool:
        """Send, counting; False once the client has hung up."""
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            return False
        with self.site._lock:
            self.site.sent[self.key] += len(data)
        return True

    def whole(
        self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self._send(body)

    def redirect(self, to: str) -> None:
        self.send_response(302)
        self.send_header("Location", to)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def endless(self, start: bytes, fill: bytes, kind: str) -> None:
        """200, no length, `start` then `fill` up to a gigabyte, lazily."""
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.end_headers()
        block = fill * (CHUNK // len(fill))
        if not self._send(start):
            return
        left = GIGABYTE - len(start)
        while left > 0 and not self.site.closing.is_set():
            if not self._send(block[:left]):
                return
            left -= len(block)

    def drip(self, start: bytes, kind: str, *, status_line: bool = False) -> None:
        """A byte every DRIP_PAUSE_S until the client or the site gives up:
        the body (after `start`), or from the status line on."""
        if status_line:
            prefix = b"HTTP/1.0 200 OK\r\nX-Slow: "
        else:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.end_headers()
            prefix = start
        if not self._send(prefix):
            return
        while not self.site.closing.wait(DRIP_PAUSE_S):
            if not self._send(b"a" if status_line else b" "):
                return
