"""What the script host keeps of an HTTP exchange, and how a replay finds
the answer to a request."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from console.core.config.masking import MASK, Masker
from console.core.running.http_recording import (
    Replay,
    decode_body,
    encode_body,
    fit,
    mask_headers,
    mask_url,
    match_key,
)

SECRET = 'pa"ss\\wörd\n-123'
#: The forms the log masking tests write a secret in (tests/unit/config/test_app_settings.py).
FORMS: list[Callable[[str], str]] = [
    lambda s: s,
    lambda s: json.dumps({"token": s}),
    lambda s: json.dumps(s, ensure_ascii=False),
    lambda s: repr(s),
    lambda s: repr({"token": s}),
    lambda s: quote(s),
    lambda s: quote(s, safe=""),
    lambda s: quote_plus(s),
    lambda s: base64.b64encode(s.encode()).decode(),
    lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("="),
]


@pytest.mark.parametrize("form", FORMS)
def test_a_body_keeps_no_secret_in_any_form(form: Callable[[str], str]) -> None:
    body = encode_body(f"sent {form(SECRET)} here", "application/json", Masker([SECRET]), 10_000)
    assert body is not None and MASK in body["text"]
    assert "ss" not in body["text"].replace("sent", "")


@pytest.mark.parametrize("form", FORMS)
def test_a_url_keeps_no_secret_in_any_form(form: Callable[[str], str]) -> None:
    url = mask_url(f"https://api.example/x?q=1&key={quote(form(SECRET))}", Masker([SECRET]))
    assert "ss" not in url and "q=1" in url and MASK in url


def test_authorization_cookies_and_oauth_parameters_become_placeholders() -> None:
    masker = Masker([])
    headers = mask_headers(
        {"Authorization": 'OAuth oauth_signature="abc"', "Cookie": "s=1", "Accept": "x/y"},
        masker,
    )
    assert headers == {"Authorization": MASK, "Cookie": MASK, "Accept": "x/y"}
    url = mask_url("https://t.example/s?q=a&oauth_token=T0K3N&oauth_signature=S1GN", masker)
    assert "T0K3N" not in url and "S1GN" not in url and url.endswith(f"oauth_signature={MASK}")
    form = encode_body(
        "a=1&oauth_consumer_key=ck123", "application/x-www-form-urlencoded", masker, 99
    )
    assert form == {"text": f"a=1&oauth_consumer_key={MASK}"}


def test_a_body_past_the_limit_or_binary_with_a_secret_is_only_a_digest() -> None:
    masker = Masker(["secret-value"])
    cut = encode_body(b"x" * 101, "text/plain", masker, 100)
    assert cut is not None and cut["truncated"] and cut["bytes"] == 101 and "text" not in cut
    binary = encode_body(b"\xff\x00secret-value\xfe", "image/png", masker, 100)
    assert binary is not None and binary["truncated"] and decode_body(binary) == b""
    image = encode_body(b"\x89PNG\xff\x00", "image/png", masker, 100)
    assert image is not None and decode_body(image) == b"\x89PNG\xff\x00"


def exchange(url: str, body: str | None = None, status: int = 200) -> dict[str, object]:
    return {
        "method": "POST" if body else "GET",
        "url": url,
        "request_headers": {"Content-Type": "application/x-www-form-urlencoded"},
        "request_body": {"text": body} if body else None,
        "status": status,
    }


def test_a_replay_matches_without_the_oauth_nonce_timestamp_and_signature() -> None:
    recorded = exchange(f"https://t/s?q=a&oauth_nonce={MASK}&oauth_signature={MASK}")
    live = exchange("https://t/s?oauth_signature=zzz&q=a&oauth_nonce=111&oauth_timestamp=9")
    assert match_key(recorded) == match_key(live)
    assert match_key(exchange("https://t/s?q=b")) != match_key(recorded)
    assert match_key(exchange("https://t/s", "a=1")) != match_key(exchange("https://t/s", "a=2"))


def test_a_replay_answers_in_order_then_repeats_the_last() -> None:
    replay = Replay(
        7, [exchange("https://t/a", status=200), exchange("https://t/a", status=304)], Masker([])
    )
    answers = [replay.answer(exchange("https://t/a")) for _ in range(3)]
    assert [a["status"] for a in answers if a] == [200, 304, 304]
    assert replay.answer(exchange("https://t/other")) is None


def test_a_run_that_imports_no_requests_loads_none_and_one_that_does_records(
    tmp_path: Path,
) -> None:
    """In a fresh interpreter, as a cold script host is."""
    out = probe(
        tmp_path,
        "import sys\n"
        "from console.core.running.http_recording import install\n"
        "seen = []\n"
        "install(seen.append, [], body_limit=100, run_limit=1000)\n"
        "print('loaded before:', 'requests' in sys.modules)\n"
        "import requests\n"
        "s = requests.Session()\n"
        "print('mounted:', type(s.get_adapter('http://x/')).__name__)\n",
    )
    assert out == ["loaded before: False", "mounted: RecordingAdapter"]


def test_a_run_with_requests_loaded_makes_its_adapter_with_its_first_session(
    tmp_path: Path,
) -> None:
    """As a forked host is: `requests` and the adapter classes loaded by
    its server; the run's adapter comes with its first session, and every
    session of the run shares it."""
    out = probe(
        tmp_path,
        "import requests\n"
        "from console.core.running import http_recording\n"
        "made = []\n"
        "recording, _ = http_recording.adapters()\n"
        "real = recording.__init__\n"
        "recording.__init__ = lambda self: (made.append(self), real(self))[1]\n"
        "assert http_recording.adapters()[0] is recording  # defined once a process\n"
        "http_recording.install(lambda _e: None, [], body_limit=100, run_limit=1000)\n"
        "print('before a session:', len(made))\n"
        "a, b = requests.Session(), requests.Session()\n"
        "print('after two:', len(made), a.get_adapter('https://x/') is b.get_adapter('http://y/'))\n",
    )
    assert out == ["before a session: 0", "after two: 1 True"]


def probe(tmp_path: Path, code: str) -> list[str]:
    """The lines `code` prints, run in a fresh interpreter."""
    script = tmp_path / "probe.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_an_exchange_too_long_for_one_line_of_the_pipe_keeps_only_sizes() -> None:
    escaped = "\x01" * 200_000  # six characters each once escaped in JSON
    exchange = {"method": "GET", "url": "http://x/", "response_body": {"text": escaped}}
    fitted = fit(exchange)
    assert fitted["response_body"] == {"sha256": "", "bytes": 200_000, "truncated": True}
    small = {"method": "GET", "url": "http://x/", "response_body": {"text": "ok"}}
    assert fit(dict(small)) == small
