"""The `request` module of JavaScript jobs: its options become `requests`
arguments."""

from __future__ import annotations

import pytest
from requests_oauthlib import OAuth1

from console.core.running.js_request import request_arguments


def test_request_options_become_requests_arguments() -> None:
    args = request_arguments(
        {
            "url": "https://api.example/x",
            "qs": {"q": "#a", "n": 2, "many": [1, 2], "skip": None},
            "headers": {"X-A": 1},
            "json": {"a": True},
            "timeout": 2500,
            "followRedirect": False,
            "oauth": {"consumer_key": "k", "consumer_secret": "s", "token": "t"},
        }
    )
    assert args["url"] == "https://api.example/x"
    assert args["params"] == [("q", "#a"), ("n", "2"), ("many", "1"), ("many", "2")]
    assert args["headers"] == {"X-A": "1"}
    assert args["json"] == {"a": True}
    assert args["timeout"] == 2.5
    assert args["allow_redirects"] is False
    assert isinstance(args["auth"], OAuth1)


def test_a_form_and_a_text_body() -> None:
    assert request_arguments({"url": "http://x/", "form": {"a": "b c"}})["data"] == [("a", "b c")]
    assert request_arguments({"url": "http://x/", "body": "raw"})["data"] == b"raw"


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({}, "needs a url"),
        ({"url": "http://x/", "oauth": {"consumer_key": "k"}}, "oauth needs consumer_secret"),
    ],
)
def test_bad_options_are_refused_with_what_is_missing(spec: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        request_arguments(spec)


@pytest.mark.parametrize(
    ("setting", "limit"),
    [
        (None, 50_000_000),
        ("1", 1_000_000),
        ("0.5", 500_000),
        ("lots", 50_000_000),
        ("-3", 50_000_000),
    ],
)
def test_the_body_limit_is_max_body_mb_or_fifty(setting: str | None, limit: int) -> None:
    from console.core.running.js_request import body_limit

    assert body_limit({} if setting is None else {"MAX_BODY_MB": setting}) == limit
