"""URL-prefix redirects in the script host: the longest prefix wins, and a
request is rewritten before it is signed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from console.core.running.http_redirects import redirected

PAIRS = [
    ("https://api.twitter.com/", "http://127.0.0.1:8080/"),
    ("https://api.twitter.com/2/", "http://127.0.0.1:9090/v2/"),
]


def test_the_longest_matching_prefix_wins() -> None:
    assert redirected("https://api.twitter.com/1.1/search", PAIRS) == (
        "http://127.0.0.1:8080/1.1/search"
    )
    assert redirected("https://api.twitter.com/2/tweets?q=x", PAIRS) == (
        "http://127.0.0.1:9090/v2/tweets?q=x"
    )


def test_a_url_no_prefix_matches_goes_where_it_was_going() -> None:
    assert redirected("https://example.org/feed", PAIRS) == "https://example.org/feed"
    assert (
        redirected("https://api.twitter.co/", PAIRS) == "https://api.twitter.co/"
    )  # a prefix, not a host


def test_requests_are_rewritten_before_oauth_signs_them() -> None:
    # In a process of its own: installing patches requests.Session for good.
    code = textwrap.dedent(
        """
        import requests
        from requests_oauthlib import OAuth1
        from console.core.running.http_redirects import install_in_requests

        install_in_requests([("https://api.twitter.com/", "http://127.0.0.1:9/")])
        seen = []
        class Stop(Exception): pass
        def send(self, request, **kwargs):
            seen.append((request.url, request.headers["Authorization"]))
            raise Stop
        requests.adapters.HTTPAdapter.send = send
        try:
            requests.get("https://api.twitter.com/1.1/x.json", auth=OAuth1("key", "secret"))
        except Stop:
            pass
        url, auth = seen[0][0], seen[0][1].decode()
        print(url)
        print(auth.startswith("OAuth ") and "oauth_signature=" in auth)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["http://127.0.0.1:9/1.1/x.json", "True"]
