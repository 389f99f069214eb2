"""A stand-in for Twitter's search API on loopback: v1.1 and X API v2.

It serves `GET /1.1/search/tweets.json` with Twitter's shapes (`statuses`,
`search_metadata` with `next_results` / `refresh_url`, snowflake ids beyond
2^53, retweets, replies, unicode), honours `q`, `since_id`, `max_id` and
`count`, sends the rate-limit headers, and checks every request's OAuth 1.0a
HMAC-SHA1 signature with oauthlib's server side: a wrong key or secret gets
401 with Twitter's error 32, a replayed nonce is refused. Faults can be
injected (500, 429, slow, malformed JSON). The demo and the tests use it.

It also serves X API v2 recent search, `GET /2/tweets/search/recent`, with
v2's shapes (`data`, `includes.users`, `meta` with `next_token`), honouring
`query` (words, `-is:retweet`, `-is:reply`), `since_id`, `max_results`
(10 to 100), `next_token`, `tweet.fields` and `expansions=author_id`. Both
paths accept OAuth 1.0a user credentials or an app-only bearer token
(`Authorization: Bearer`), and refuse anything else with 401.

Over 500 lines, kept whole: one stand-in server answering both API
versions (v1.1 and v2) with the same tweets, OAuth checks and faults.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from oauthlib.oauth1 import RequestValidator, ResourceEndpoint

TWEPOCH_MS = 1288834974657
SEARCH_PATH = "/1.1/search/tweets.json"
SEARCH_PATH_V2 = "/2/tweets/search/recent"
RATE_LIMIT = 180
WINDOW_S = 15 * 60


def snowflake(when: datetime, sequence: int = 0) -> int:
    """A tweet id as Twitter makes them: time in the high bits, so they grow."""
    ms = int(when.timestamp() * 1000)
    return ((ms - TWEPOCH_MS) << 22) | (sequence & 0xFFF)


def twitter_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


@dataclass(frozen=True)
class Credentials:
    consumer_key: str = "demoConsumerKey0000000001"
    consumer_secret: str = "demoConsumerSecret00000000000000000000000000001"
    access_token: str = "1000000001-demoAccessToken000000000000000000000001"
    access_token_secret: str = "demoAccessTokenSecret0000000000000000000000001"
    bearer_token: str = "AAAAAAAAAAAAAAAAAAAAAdemoBearerToken%3D0000000000000000000001"


class _Validator(RequestValidator):  # type: ignore[misc]
    """oauthlib's checks against one set of demo credentials."""

    def __init__(self, standin: TwitterStandIn) -> None:
        super().__init__()
        self._standin = standin

    enforce_ssl = False
    allowed_signature_methods = ("HMAC-SHA1",)

    # Twitter's keys and tokens are longer than oauthlib's defaults and hold '-'.
    def check_client_key(self, client_key: str) -> bool:
        return bool(client_key) and len(client_key) <= 100

    def check_access_token(self, token: str) -> bool:
        return bool(token) and len(token) <= 200

    def check_nonce(self, nonce: str) -> bool:
        return bool(nonce) and len(nonce) <= 100

    @property
    def dummy_client(self) -> str:
        return "dummy-client"

    @property
    def dummy_access_token(self) -> str:
        return "dummy-token"

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return client_key == self._standin.credentials.consumer_key

    def validate_access_token(self, client_key: str, token: str, request: Any) -> bool:
        return token == self._standin.credentials.access_token

    def get_client_secret(self, client_key: str, request: Any) -> str:
        return self._standin.credentials.consumer_secret

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        return self._standin.credentials.access_token_secret

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: Any,
        request_token: str | None = None,
        access_token: str | None = None,
    ) -> bool:
        key = (client_key, timestamp, nonce, access_token)
        with self._standin._lock:
            if key in self._standin._nonces:
                self._standin.replays_refused += 1
                return False
            self._standin._nonces.add(key)
        return True

    def validate_realms(self, *args: Any, **kwargs: Any) -> bool:
        return True


@dataclass
class _Fault:
    kind: str  # "500", "429", "slow", "malformed"
    seconds: float = 0.0


@dataclass
class TwitterStandIn:
    """The stand-in server; `start()` it, read `search_url`, `publish()` tweets."""

    credentials: Credentials = field(default_factory=Credentials)
    seed: int = 1
    requests_served: int = 0
    replays_refused: int = 0
    #: The query parameters of every search answered, oldest first.
    queries: list[dict[str, str]] = field(default_factory=list)
    #: How each answered search authenticated: "oauth1" or "bearer".
    auth_used: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._tweets: list[dict[str, Any]] = []  # newest first
        self._lock = threading.Lock()
        self._nonces: set[tuple[Any, ...]] = set()
        self._faults: list[_Fault] = []
        self._random = random.Random(self.seed)
        self._sequence = itertools.count()
        self._remaining = RATE_LIMIT
        self._window_reset = time.time() + WINDOW_S
        self._endpoint = ResourceEndpoint(_Validator(self))
        self._server: ThreadingHTTPServer | None = None
        self._publisher: threading.Thread | None = None
        self._stop = threading.Event()

    # -- the server ------------------------------------------------------

    def start(self, port: int = 0) -> TwitterStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                standin._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the console's log is where runs speak

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, name="twitter-standin", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def search_url(self) -> str:
        """The v1.1 search URL."""
        assert self._server is not None, "start() the stand-in first"
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}{SEARCH_PATH}"

    @property
    def search_url_v2(self) -> str:
        """The X API v2 recent-search URL."""
        return self.search_url.replace(SEARCH_PATH, SEARCH_PATH_V2)

    def __enter__(self) -> TwitterStandIn:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- tweets ----------------------------------------------------------

    def add_tweet(
        self,
        text: str,
        *,
        author: str = "mobiledev",
        when: datetime | None = None,
        retweet: bool = False,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """Publish one tweet; returns it as the API will show it."""
        when = when or datetime.now(UTC)
        tweet_id = snowflake(when, next(self._sequence))
        user_id = 10_000 + sum(map(ord, author))
        tweet: dict[str, Any] = {
            "created_at": twitter_time(when),
            "id": tweet_id,
            "id_str": str(tweet_id),
            "text": text,
            "truncated": False,
            "entities": {
                "hashtags": [
                    {"text": w[1:]} for w in text.split() if w.startswith("#") and len(w) > 1
                ]
            },
            "metadata": {"result_type": "recent", "iso_language_code": "en"},
            "in_reply_to_status_id": reply_to,
            "in_reply_to_status_id_str": None if reply_to is None else str(reply_to),
            "in_reply_to_user_id": None if reply_to is None else 42,
            "in_reply_to_user_id_str": None if reply_to is None else "42",
            "in_reply_to_screen_name": None if reply_to is None else "someone",
            "user": {
                "id": user_id,
                "id_str": str(user_id),
                "name": author.title(),
                "screen_name": author,
            },
            "retweet_count": 0,
            "favorite_count": 0,
            "lang": "en",
        }
        if retweet:
            tweet["retweeted_status"] = {"id": tweet_id - 1, "id_str": str(tweet_id - 1)}
        with self._lock:
            self._tweets.append(tweet)
            self._tweets.sort(key=lambda t: t["id"], reverse=True)
        return tweet

    def publish(
        self, count: int, *, query: str = "#mobileservices", spread: timedelta | None = None
    ) -> list[dict[str, Any]]:
        """`count` plausible tweets matching `query`: mostly originals, some
        retweets and replies. With `spread`, back-dated over that period."""
        now = datetime.now(UTC)
        made = []
        for i in range(count):
            when = now - (spread * (count - i) / count if spread else timedelta(0))
            roll = self._random.random()
            author = self._random.choice(AUTHORS)
            body = self._random.choice(PHRASES)
            if roll < 0.1:
                made.append(
                    self.add_tweet(
                        f"RT @{author}: {body} {query}", author="fan", when=when, retweet=True
                    )
                )
            elif roll < 0.2:
                made.append(
                    self.add_tweet(
                        f"@{author} {body} {query}", author="replier", when=when, reply_to=12345
                    )
                )
            else:
                made.append(self.add_tweet(f"{body} {query}", author=author, when=when))
        return made

    def publish_every(self, seconds: float, count: int = 1) -> None:
        """Keep publishing in the background (the demo's live feed)."""

        def loop() -> None:
            while not self._stop.wait(seconds):
                self.publish(count)

        self._publisher = threading.Thread(target=loop, name="twitter-standin-feed", daemon=True)
        self._publisher.start()

    @property
    def tweets(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._tweets)

    # -- faults ----------------------------------------------------------

    def fail_next(self, kind: str, *, times: int = 1, seconds: float = 0.0) -> None:
        """Answer the next requests with a fault: 500, 429, slow, malformed."""
        if kind not in ("500", "429", "slow", "malformed"):
            raise ValueError(kind)
        with self._lock:
            self._faults.extend(_Fault(kind, seconds) for _ in range(times))

    @contextmanager
    def faults(self, kind: str, times: int = 1, seconds: float = 0.0) -> Iterator[None]:
        self.fail_next(kind, times=times, seconds=seconds)
        try:
            yield
        finally:
            with self._lock:
                self._faults.clear()

    # -- request handling ------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests_served += 1
            fault = self._faults.pop(0) if self._faults else None
        parts = urlsplit(handler.path)
        v2 = parts.path == SEARCH_PATH_V2
        if parts.path not in (SEARCH_PATH, SEARCH_PATH_V2):
            self._send(
                handler,
                404,
                {"errors": [{"code": 34, "message": "Sorry, that page does not exist."}]},
            )
            return
        auth = self._authenticate(handler)
        if auth is None:
            unauthorized = (
                _problem(401, "Unauthorized")
                if v2
                else _v1_error(32, "Could not authenticate you.")
            )
            self._send(handler, 401, unauthorized)
            return
        if fault is not None:
            if fault.kind == "500":
                failure = (
                    _problem(500, "Internal error") if v2 else _v1_error(131, "Internal error")
                )
                self._send(handler, 500, failure)
                return
            if fault.kind == "429":
                with self._lock:
                    self._remaining = 0
                limited = (
                    _problem(429, "Too Many Requests")
                    if v2
                    else _v1_error(88, "Rate limit exceeded")
                )
                self._send(handler, 429, limited)
                return
            if fault.kind == "slow":
                time.sleep(fault.seconds)
            if fault.kind == "malformed":
                self._send_raw(
                    handler, 200, b'{"statuses": [{"id": 1, "text": "cut off', "application/json"
                )
                return
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if v2:
            problem = _check_v2(query)
            if problem:
                self._send(
                    handler,
                    400,
                    {
                        "errors": [{"message": problem}],
                        "title": "Invalid Request",
                        "status": 400,
                        "detail": problem,
                    },
                )
                return
        with self._lock:
            self.queries.append(query)
            self.auth_used.append(auth)
        self._send(handler, 200, self._search_v2(query) if v2 else self._search(query))

    def _authenticate(self, handler: BaseHTTPRequestHandler) -> str | None:
        """ "bearer" or "oauth1" when the request carries valid credentials."""
        header = handler.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return "bearer" if header[7:] == self.credentials.bearer_token else None
        host = handler.headers.get("Host", "127.0.0.1")
        uri = f"http://{host}{handler.path}"
        valid, _request = self._endpoint.validate_protected_resource_request(
            uri, http_method="GET", body=None, headers=dict(handler.headers.items())
        )
        return "oauth1" if valid else None

    def _matching(self, q: str, since_id: int | None, max_id: int | None) -> list[dict[str, Any]]:
        words = [w.lower() for w in q.split() if w.lower() not in ("-is:retweet", "-is:reply")]
        no_retweets, no_replies = "-is:retweet" in q.lower(), "-is:reply" in q.lower()
        return [
            t
            for t in self.tweets
            if all(w in t["text"].lower() for w in words)
            and (since_id is None or t["id"] > since_id)
            and (max_id is None or t["id"] <= max_id)
            and not (no_retweets and t.get("retweeted_status"))
            and not (no_replies and t.get("in_reply_to_status_id"))
        ]

    def _search_v2(self, query: dict[str, str]) -> dict[str, Any]:
        count = int(query.get("max_results") or 10)
        since_id = int(query["since_id"]) if query.get("since_id") else None
        token = query.get("next_token")
        max_id = int(token[1:], 16) if token else None
        matching = self._matching(query["query"], since_id, max_id)
        page = matching[:count]
        fields = set(query.get("tweet.fields", "").split(","))
        expansions = set(query.get("expansions", "").split(","))
        meta: dict[str, Any] = {"result_count": len(page)}
        if not page:
            return {"meta": meta}
        meta.update(newest_id=page[0]["id_str"], oldest_id=page[-1]["id_str"])
        if len(matching) > count:
            meta["next_token"] = f"t{page[-1]['id'] - 1:x}"
        data = []
        for t in page:
            item = {"id": t["id_str"], "text": t["text"], "edit_history_tweet_ids": [t["id_str"]]}
            if "created_at" in fields:
                when = datetime.strptime(t["created_at"], "%a %b %d %H:%M:%S %z %Y")
                item["created_at"] = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            if "author_id" in fields or "author_id" in expansions:
                item["author_id"] = t["user"]["id_str"]
            data.append(item)
        answer: dict[str, Any] = {"data": data, "meta": meta}
        if "author_id" in expansions:
            users = {t["user"]["id_str"]: t["user"] for t in page}
            answer["includes"] = {
                "users": [
                    {"id": u["id_str"], "name": u["name"], "username": u["screen_name"]}
                    for u in users.values()
                ]
            }
        return answer

    def _search(self, query: dict[str, str]) -> dict[str, Any]:
        q = query.get("q", "")
        count = max(1, min(int(query.get("count", "15") or 15), 100))
        since_id = int(query["since_id"]) if query.get("since_id") else None
        max_id = int(query["max_id"]) if query.get("max_id") else None
        matching = self._matching(q, since_id, max_id)
        page = matching[:count]
        metadata: dict[str, Any] = {
            "completed_in": 0.012,
            "max_id": page[0]["id"] if page else (max_id or 0),
            "max_id_str": str(page[0]["id"] if page else (max_id or 0)),
            "query": q,
            "refresh_url": "?"
            + urlencode(
                {
                    "since_id": page[0]["id"] if page else (since_id or 0),
                    "q": q,
                    "include_entities": 1,
                }
            ),
            "count": count,
            "since_id": since_id or 0,
            "since_id_str": str(since_id or 0),
        }
        if len(matching) > count:
            metadata["next_results"] = "?" + urlencode(
                {
                    "max_id": page[-1]["id"] - 1,
                    "q": q,
                    "count": count,
                    "include_entities": 1,
                    "result_type": query.get("result_type", "mixed"),
                }
            )
        return {"statuses": page, "search_metadata": metadata}

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        self._send_raw(
            handler,
            status,
            json.dumps(body, ensure_ascii=False).encode(),
            "application/json;charset=utf-8",
        )

    def _send_raw(
        self, handler: BaseHTTPRequestHandler, status: int, data: bytes, kind: str
    ) -> None:
        with self._lock:
            now = time.time()
            if now >= self._window_reset:
                self._remaining, self._window_reset = RATE_LIMIT, now + WINDOW_S
            if status == 200:
                self._remaining = max(0, self._remaining - 1)
            remaining, reset = self._remaining, int(self._window_reset)
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("x-rate-limit-limit", str(RATE_LIMIT))
        handler.send_header("x-rate-limit-remaining", str(remaining))
        handler.send_header("x-rate-limit-reset", str(reset))
        handler.end_headers()
        try:
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)


def _v1_error(code: int, message: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message}]}


def _problem(status: int, title: str) -> dict[str, Any]:
    """An X API v2 error body (RFC 7807 problem details)."""
    return {"title": title, "detail": title, "type": "about:blank", "status": status}


def _check_v2(query: dict[str, str]) -> str | None:
    """What X API v2 would refuse in a recent-search request, if anything."""
    if not query.get("query"):
        return "The `query` query parameter can not be empty"
    text = query.get("max_results", "10")
    if not text.isdigit() or not 10 <= int(text) <= 100:
        return f"The `max_results` query parameter value [{text}] is not between 10 and 100"
    token = query.get("next_token", "")
    if token and not (token.startswith("t") and all(c in "0123456789abcdef" for c in token[1:])):
        return f"The `next_token` query parameter value [{token}] is not valid"
    return None


AUTHORS = ["azuremobile", "mobiledev", "cloudcoder", "appbuilder", "devrel_jo", "ana_codes"]
PHRASES = [
    "Scheduled jobs just work",
    "Shipping the Updates table today",
    "Tables with dynamic schema are handy",
    "Run Once before you Enable ✓",
    "OAuth 1.0a signed requests, done right",
    "Café-powered deploy ☕",
    "Why is my job not running? It was disabled",
    "Keyset pagination makes big tables fast",
    "日本語のツイートもOK",
    "RTFM: the portal docs are good",
]
