"""The failure web hook: a JSON POST to the `failure_webhook` URL when a
scheduled run fails and when its job recovers.

Off the scheduler's critical path: alerts queue to a thread of its own, so a
slow or dead receiver never delays a run. Each alert gets the hook's timeout
in all, one retry included: a receiver that never answers, drips its answer
for minutes, sends a gigabyte (its body is never read) or redirects (never
followed) costs at most that. A hook that still fails is logged in the run's
log and never changes the run's result. The URL is a secret (Slack and Teams hook URLs
are credentials): read from the keyring when needed, masked in every message.
"""

from __future__ import annotations

import json
import logging
import queue
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import console
from console.core.config.masking import Masker
from console.core.config.settings import Settings
from console.core.jobs.runs import RunLog
from console.core.scheduling.alerts import Alert

if TYPE_CHECKING:
    import http.client
    import urllib.request

log = logging.getLogger(__name__)

KEY = "failure_webhook"
TIMEOUT_S = 5.0
RETRY_AFTER_S = 2.0


class _Sockets:
    """The sockets one POST opens, so that its deadline can cut them: a
    per-read timeout never ends an answer dripped a byte at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self.cut = False

    def connect(self, *args: Any, **kwargs: Any) -> socket.socket:
        sock = socket.create_connection(*args, **kwargs)
        with self._lock:
            self._open.append(sock)
            if self.cut:
                sock.shutdown(socket.SHUT_RDWR)
        return sock

    def cut_all(self) -> None:
        with self._lock:
            self.cut = True
            for sock in self._open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked read
                except OSError:
                    pass


def _opener(sockets: _Sockets) -> urllib.request.OpenerDirector:
    """urllib's opener (proxies and all) whose connections `sockets` holds.
    urllib and http.client are loaded here, when a hook is sent: every
    command that opens the console makes a `FailureWebhook`, and a `job
    run` waits for them (about 5 ms)."""
    import http.client
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        """urllib follows a 301/302/303 answer to a POST with a GET that drops
        the body (and a redirect may lead to another host or to ftp://): the
        hook would look told while the receiver got nothing. A 3xx is a
        failure."""

        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    def watched(base: type[http.client.HTTPConnection]) -> Any:
        class Connection(base):  # type: ignore[valid-type,misc]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self._create_connection = sockets.connect

        return Connection

    class Http(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(watched(http.client.HTTPConnection), req)

    class Https(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(
                watched(http.client.HTTPSConnection), req, context=getattr(self, "_context", None)
            )

    return urllib.request.build_opener(NoRedirects, Http, Https)


class FailureWebhook:
    """Posts alerts to the failure web hook, one at a time, in order."""

    def __init__(
        self,
        settings: Settings,
        runs: RunLog,
        *,
        timeout_s: float = TIMEOUT_S,
        retry_after_s: float = RETRY_AFTER_S,
    ) -> None:
        self.settings, self.runs = settings, runs
        self.timeout_s, self.retry_after_s = timeout_s, retry_after_s
        self._queue: queue.Queue[Alert | None] = queue.Queue()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __call__(self, alert: Alert) -> None:
        """Queue an alert; returns at once."""
        if self._closing.is_set():
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="failure-webhook", daemon=True
                )
                self._thread.start()
        self._queue.put(alert)

    def close(self, timeout_s: float = 3.0) -> None:
        """Send what is queued (for at most `timeout_s`), then stop."""
        with self._lock:
            thread = self._thread
        if thread is None:
            return
        self._queue.put(None)
        thread.join(timeout_s)
        self._closing.set()  # a retry still waiting gives up

    def drain(self, timeout_s: float = 30.0) -> bool:
        """Wait until every queued alert was posted or given up (tests)."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout_s)

    def _loop(self) -> None:
        while True:
            alert = self._queue.get()
            try:
                if alert is None:
                    return
                self._send(alert)
            except Exception:  # the hook never takes anything down with it
                log.exception("failure web hook")
            finally:
                self._queue.task_done()

    def _send(self, alert: Alert) -> None:
        if not self.settings.is_set(KEY):
            return
        run = alert.run
        try:
            url = str(self.settings.get(KEY))
        except Exception as e:  # a locked keyring, say
            self.runs.log(
                run.job_name, "warning", f"the failure web hook was not called: {e}", run.id
            )
            return
        if not url:
            return
        mask = Masker([url], pieces=False)  # a URL shares pieces with every URL
        body = json.dumps(alert.payload()).encode("utf-8")
        deadline = time.monotonic() + self.timeout_s  # for both attempts
        problem = ""
        for attempt in (1, 2):
            problem = self._post(url, body, deadline)
            if not problem:
                self.runs.log(
                    run.job_name,
                    "information",
                    f"the failure web hook was told ({alert.kind})",
                    run.id,
                )
                return
            if attempt == 2 or deadline - time.monotonic() < self.retry_after_s:
                break  # no time left for the retry
            if self._closing.wait(self.retry_after_s):
                break
        self.runs.log(
            run.job_name,
            "warning",
            f"the failure web hook failed ({mask(problem)}); the run's result is unchanged",
            run.id,
        )

    def _post(self, url: str, body: bytes, deadline: float) -> str:
        """POST once, by `deadline`; "" on a 2xx answer, else what went wrong.
        The answer's body is never read: its status is all the hook needs."""
        import http.client
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                # read here too: the package's metadata cost every command
                # that opens the console 2-4 ms when read at import
                "User-Agent": f"mobile-console/{console.__version__}",
            },
        )
        left = deadline - time.monotonic()
        if left <= 0:
            return f"no answer within {self.timeout_s:g} s"
        sockets = _Sockets()
        cutter = threading.Timer(left, sockets.cut_all)
        cutter.daemon = True
        cutter.start()
        try:
            with _opener(sockets).open(request, timeout=left):
                cutter.cancel()
                # cut mid-headers, http.client takes the end of the socket for their end
                return f"no answer within {self.timeout_s:g} s" if sockets.cut else ""
        except urllib.error.HTTPError as e:
            e.close()
            if 300 <= e.code < 400:
                return (
                    f"HTTP {e.code} {e.reason}: it redirects, and a redirect is not followed; "
                    "set the hook to the URL it redirects to"
                )
            return f"HTTP {e.code} {e.reason}"
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
            if sockets.cut or isinstance(getattr(e, "reason", e), TimeoutError):
                return f"no answer within {self.timeout_s:g} s"
            if isinstance(e, urllib.error.URLError):
                return f"{e.reason}"
            return f"{type(e).__name__}: {e}"
        finally:
            cutter.cancel()
