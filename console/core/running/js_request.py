"""The `request` module of JavaScript jobs, on the Python side: its options
object (`url`, `qs`, `headers`, `json`, `body`, `form`, `timeout`,
`followRedirect`, `oauth`) turned into a `requests` call, and a failure into
the `error` and `code` the script sees.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

HTTP_TIMEOUT_S = 60.0


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def request_arguments(spec: dict[str, Any]) -> dict[str, Any]:
    """`requests` arguments for a `request` options object."""
    url = spec.get("url")
    if not isinstance(url, str) or not url:
        raise ValueError("request needs a url (options.url or options.uri)")
    kwargs: dict[str, Any] = {"url": url, "timeout": HTTP_TIMEOUT_S}
    qs = spec.get("qs")
    if isinstance(qs, dict):
        kwargs["params"] = [(k, _text(v)) for k, v in _items(qs)]
    headers = spec.get("headers")
    if isinstance(headers, dict):
        kwargs["headers"] = {str(k): _text(v) for k, v in headers.items()}
    json_option = spec.get("json")
    body = spec.get("body")
    if isinstance(json_option, (dict, list)):
        kwargs["json"] = json_option
    elif json_option and isinstance(body, (dict, list)):
        kwargs["json"] = body
    elif body is not None:
        kwargs["data"] = body.encode("utf-8") if isinstance(body, str) else _text(body)
    form = spec.get("form")
    if isinstance(form, dict):
        kwargs["data"] = [(k, _text(v)) for k, v in _items(form)]
    elif isinstance(form, str):
        kwargs["data"] = form
        kwargs.setdefault("headers", {})["Content-Type"] = "application/x-www-form-urlencoded"
    if json_option and "json" not in kwargs:
        kwargs.setdefault("headers", {}).setdefault("Accept", "application/json")
    if spec.get("timeout"):
        kwargs["timeout"] = float(spec["timeout"]) / 1000
    if spec.get("followRedirect") is False:
        kwargs["allow_redirects"] = False
    oauth = spec.get("oauth")
    if isinstance(oauth, dict):
        kwargs["auth"] = _oauth(oauth)
    return kwargs


def _items(values: dict[str, Any]) -> Iterable[tuple[str, Any]]:
    for key, value in values.items():
        if isinstance(value, list):
            yield from ((key, v) for v in value)
        elif value is not None:
            yield key, value


def _oauth(oauth: dict[str, Any]) -> Any:
    """OAuth 1.0a HMAC-SHA1, as `request`'s `oauth` option, by requests-oauthlib."""
    from requests_oauthlib import OAuth1

    names = ("consumer_key", "consumer_secret", "token", "token_secret")
    absent = [n for n in names[:2] if not oauth.get(n)]
    if absent:
        raise ValueError(f"oauth needs {' and '.join(absent)}")
    return OAuth1(
        str(oauth["consumer_key"]),
        str(oauth["consumer_secret"]),
        None if oauth.get("token") is None else str(oauth["token"]),
        None if oauth.get("token_secret") is None else str(oauth["token_secret"]),
    )


def http_error(error: Exception) -> str:
    """The `error` a script sees: the exception's type and text."""
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def error_code(error: Exception) -> str:
    """The `code` a script sees, as Node's request would give it."""
    import requests

    if isinstance(error, requests.Timeout):
        return "ETIMEDOUT"
    if isinstance(error, requests.ConnectionError):
        return "ECONNREFUSED"
    return "EREQUEST"


#: The app setting that caps an answer's body, as the job templates read it.
BODY_LIMIT_SETTING = "MAX_BODY_MB"
DEFAULT_BODY_MB = 50.0


def body_limit(app_settings: dict[str, Any]) -> int:
    """Bytes an answer's body may hold: the app setting `MAX_BODY_MB`
    (default 50); a value that is not a positive number is the default."""
    try:
        megabytes = float(str(app_settings.get(BODY_LIMIT_SETTING) or DEFAULT_BODY_MB))
    except ValueError:
        megabytes = DEFAULT_BODY_MB
    if not 0 < megabytes < float("inf"):
        megabytes = DEFAULT_BODY_MB
    return int(megabytes * 1_000_000)


def read_capped(response: Any, limit: int) -> bytes:
    """The body of a streamed `requests` response, read no further than one
    byte past `limit`; ValueError (the script's `error`) when it is larger."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(65536):
        size += len(chunk)
        if size > limit:
            raise ValueError(
                f"the answer from {response.url} is larger than {limit / 1e6:g} MB "
                f"({BODY_LIMIT_SETTING}); not read further"
            )
        chunks.append(chunk)
    return b"".join(chunks)
