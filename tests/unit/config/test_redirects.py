"""Redirects: which URLs are refused, which prefix wins, and that `requests`
in the script host follows them before signing."""

from __future__ import annotations

import pytest

from console.core.config.redirects import RedirectStore, check_url
from console.core.errors import ConsoleError
from console.core.running.http_redirects import redirected
from console.core.store.database import Store


@pytest.mark.parametrize("url", ["api.twitter.com", "ftp://x/", "https://", "", "javascript:1"])
def test_only_http_urls_are_accepted(url: str) -> None:
    with pytest.raises(ConsoleError, match="must be an http"):
        check_url(url, "FROM")


def test_the_longest_matching_prefix_wins() -> None:
    pairs = [
        ("https://api.twitter.com/", "http://a/"),
        ("https://api.twitter.com/1.1/", "http://b/"),
    ]
    assert redirected("https://api.twitter.com/1.1/search?q=1", pairs) == "http://b/search?q=1"
    assert redirected("https://api.twitter.com/2/x", pairs) == "http://a/2/x"
    assert redirected("https://example.com/", pairs) == "https://example.com/"


def test_the_store_adds_replaces_lists_and_deletes(db_url: str) -> None:
    store = RedirectStore(Store(db_url))
    store.add("https://a.example/", "http://127.0.0.1:1/")
    store.add("https://a.example/", "http://127.0.0.1:2/")  # replaces
    store.add("http://b.example/x", "https://c.example/y")
    assert store.pairs() == [
        ("http://b.example/x", "https://c.example/y"),
        ("https://a.example/", "http://127.0.0.1:2/"),
    ]
    store.delete("https://a.example/")
    with pytest.raises(ConsoleError, match="no redirect"):
        store.delete("https://a.example/")
    assert len(store.all()) == 1
