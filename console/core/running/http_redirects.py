"""Applying the console's URL-prefix redirects (see `config/redirects.py`) in the
script host: standard library and `requests` only, so a run that makes no
request loads nothing for them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def redirected(url: str, pairs: Sequence[tuple[str, str]]) -> str:
    """`url` with the longest matching FROM prefix replaced by its TO."""
    best: tuple[str, str] | None = None
    for source, target in pairs:
        if url.startswith(source) and (best is None or len(source) > len(best[0])):
            best = (source, target)
    return url if best is None else best[1] + url[len(best[0]) :]


def install_in_requests(pairs: Sequence[tuple[str, str]]) -> None:
    """Make every `requests` call in this process (the script host) follow
    the redirects. `Session.request` is where a URL enters requests before
    it is prepared and signed (OAuth1 signs in `prepare_request`), so the
    signature is made for the rewritten URL."""
    if not pairs:
        return
    import requests

    original = requests.Session.request

    def request(self: requests.Session, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(url, bytes):
            url = url.decode("utf-8")
        return original(self, method, redirected(str(url), pairs), *args, **kwargs)

    requests.Session.request = request  # type: ignore[assignment,method-assign]
