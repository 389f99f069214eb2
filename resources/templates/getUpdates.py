# getUpdates: polls Twitter's (X's) search API and stores new tweets in Updates.
#
# The Azure Mobile Services tutorial's job, in Python. App settings it reads:
#   TWITTER_API          v2 (X API v2 recent search) or v1.1 (the tutorial's
#                        search/tweets.json); unset: the path of
#                        TWITTER_SEARCH_URL decides (/2/ or /1.1/); neither: v2
#   TWITTER_SEARCH_URL   default the chosen API's search URL on api.twitter.com
#   TWITTER_QUERY        default #mobileservices
#   TWITTER_MAX_PAGES    default 10 (pages of 100 tweets per run)
#   TWITTER_TIMEOUT      default 30 (seconds each request gets in all, to
#                        connect and to send the whole answer, however slowly)
#   MAX_BODY_MB          default 50 (megabytes): a larger answer fails the run,
#                        read no further than the limit
# and, as secrets, either TWITTER_BEARER_TOKEN (an app-only bearer token) or
# TWITTER_ACCESS_TOKEN and TWITTER_ACCESS_TOKEN_SECRET (OAuth 1.0a user
# credentials; the consumer key and secret come from Configure › Identity).
# Any fault fails the run with one line and writes no row: an HTTP error
# (429 names its Retry-After or reset time, and is not retried within the
# run), a redirect (not followed), an answer that is not JSON, malformed, or
# over MAX_BODY_MB, or one not finished within TWITTER_TIMEOUT.

import json
import re
import threading
import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import requests
import urllib3
from requests_oauthlib import OAuth1

URLS = {
    "v1.1": "https://api.twitter.com/1.1/search/tweets.json",
    "v2": "https://api.twitter.com/2/tweets/search/recent",
}
RETWEET = re.compile(r"RT\b")

updates = tables.get_table("Updates")


def getUpdates():
    settings = config.app_settings
    api = (settings.get("TWITTER_API") or "").strip().lower()
    url = (settings.get("TWITTER_SEARCH_URL") or "").strip()
    if api not in ("", "v1.1", "v2"):
        raise ValueError(f"TWITTER_API must be v1.1 or v2, not {api!r}")
    if not api:
        api = "v1.1" if "/1.1/" in urlsplit(url).path else "v2"
    url = url or URLS[api]
    if not re.match(r"https?://[^/?#\s]", url, re.I):
        raise ValueError(f"TWITTER_SEARCH_URL must be an http(s) URL, not {url!r}")
    query = settings.get("TWITTER_QUERY") or "#mobileservices"
    try:
        max_pages = number_setting(settings, "TWITTER_MAX_PAGES", "10", 1, 1000, whole=True)
        timeout = number_setting(settings, "TWITTER_TIMEOUT", "30", 0.1, 3600)
        max_bytes = int(number_setting(settings, "MAX_BODY_MB", "50", 0.001, 100_000) * 1e6)
    except ValueError as e:  # one line naming the setting, no script frames
        raise ValueError(str(e)) from None
    if settings.get("TWITTER_BEARER_TOKEN"):
        auth = BearerAuth(settings["TWITTER_BEARER_TOKEN"])
    else:
        auth = OAuth1(
            config.twitter_consumer_key,
            config.twitter_consumer_secret,
            settings["TWITTER_ACCESS_TOKEN"],
            settings["TWITTER_ACCESS_TOKEN_SECRET"],
        )

    # Ask only for tweets newer than the newest one stored.
    last = updates.order_by_descending("twitterId").select("twitterId").take(1).read()
    since_id = last[0]["twitterId"] if last and last[0]["twitterId"] is not None else None
    search = search_v2 if api == "v2" else search_v1
    try:
        fetched = search(url, query, since_id, auth, (timeout, max_bytes), max_pages)
    except RuntimeError as e:  # Twitter's fault, in one line: no script frames
        raise RuntimeError(str(e)) from None
    console.log(f"Fetched {len(fetched)} new results from Twitter")

    rows, seen = [], set()
    for row, unwanted in fetched:
        tweet_id = row["twitterId"]
        if tweet_id in seen or (since_id is not None and tweet_id <= since_id):
            continue
        seen.add(tweet_id)
        if not unwanted and not RETWEET.match(row["text"]):
            rows.append(row)
    updates.insert_many(rows)
    console.log(f"Stored {len(rows)} rows in Updates")


def search_v1(url, query, since_id, auth, limits, max_pages):
    """v1.1 search/tweets.json: (row, is a retweet or reply) for each result."""
    params = {"q": query, "result_type": "recent", "count": 100}
    if since_id is not None:
        params["since_id"] = str(since_id)
    fetched = []
    for _page in range(max_pages):
        body = fetch(url, params, auth, limits)
        if not isinstance(body.get("statuses"), list):
            raise RuntimeError("Twitter's answer held no list of statuses")
        fetched.extend(malformed_is_error(lambda t: (row_v1(t), unwanted_v1(t)), body["statuses"]))
        next_results = (body.get("search_metadata") or {}).get("next_results")
        if not next_results or not body["statuses"]:
            break
        # next_results walks back in time; keep the since_id bound.
        params = dict(parse_qsl(urlsplit(next_results).query))
        if since_id is not None:
            params["since_id"] = str(since_id)
    return fetched


def search_v2(url, query, since_id, auth, limits, max_pages):
    """X API v2 recent search: retweets and replies left out by the query."""
    if "-is:retweet" not in query:
        query += " -is:retweet"
    if "-is:reply" not in query:
        query += " -is:reply"
    params = {
        "query": query,
        "max_results": 100,
        "tweet.fields": "created_at,author_id",
        "expansions": "author_id",
    }
    if since_id is not None:
        params["since_id"] = str(since_id)
    fetched = []
    for _page in range(max_pages):
        body = fetch(url, params, auth, limits)
        data = body.get("data", [])
        if not isinstance(data, list):
            raise RuntimeError("Twitter's answer held no list of tweets")
        users = dict(
            malformed_is_error(
                lambda u: (u.get("id"), u.get("username")),
                (body.get("includes") or {}).get("users", []),
            )
        )
        fetched.extend(malformed_is_error(lambda t, users=users: (row_v2(t, users), False), data))
        next_token = (body.get("meta") or {}).get("next_token")
        if not next_token or not data:
            break
        params = {**params, "next_token": next_token}  # the since_id bound stays
    return fetched


class BearerAuth(requests.auth.AuthBase):
    """An app-only bearer token, sent as `Authorization: Bearer …`."""

    def __init__(self, token):
        self.token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def fetch(url, params, auth, limits):
    """One page of search results; any failure fails the run (no rows written)."""
    timeout, max_bytes = limits
    host = urlsplit(url).netloc
    deadline = time.monotonic() + timeout

    def download():
        with requests.get(
            url, params=params, auth=auth, timeout=timeout, stream=True, allow_redirects=False
        ) as response:
            return response, read_body(response, max_bytes, deadline, timeout, host)

    try:
        done = in_time(download, timeout + 0.5)  # its own timeouts say why, first
        if done is None:
            raise RuntimeError(f"Twitter ({host}) did not answer in full within {timeout:g} s")
        response, raw = done
    except (requests.Timeout, urllib3.exceptions.ReadTimeoutError):
        raise RuntimeError(f"Twitter ({host}) did not answer within {timeout:g} s") from None
    except (requests.RequestException, urllib3.exceptions.HTTPError) as e:
        raise RuntimeError(f"Could not contact Twitter ({host}): {type(e).__name__}") from None
    status = response.status_code
    if status != 200:
        detail = twitter_errors(raw)
        if status == 429:
            detail += rate_limit(response.headers)
        elif response.is_redirect:
            detail += f"; it redirects to {response.headers.get('Location')}, not followed"
        raise RuntimeError(f"Twitter answered HTTP {status}: {detail}")  # one line
    try:
        body = json.loads(raw)
    except ValueError:
        kind = response.headers.get("Content-Type") or "no Content-Type"
        raise RuntimeError(f"Twitter's answer was not valid JSON ({kind})") from None
    if not isinstance(body, dict):
        raise RuntimeError("Twitter's answer was not a JSON object")
    return body


def read_body(response, max_bytes, deadline, timeout, host):
    """The answer's bytes: refused past `max_bytes` (read no further than one
    byte past it) or when not received in full by `deadline`."""
    chunks, size = [], 0
    while True:
        # read1: whatever has arrived, so the deadline is checked while it drips
        try:
            chunk = response.raw.read1(min(65536, max_bytes + 1 - size), decode_content=True)
        except urllib3.exceptions.ReadTimeoutError:  # one read as long as the whole timeout
            raise RuntimeError(
                f"Twitter ({host}) did not answer in full within {timeout:g} s"
            ) from None
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise RuntimeError(
                f"Twitter's answer was larger than {max_bytes / 1e6:g} MB (MAX_BODY_MB)"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(f"Twitter ({host}) did not answer in full within {timeout:g} s")
        chunks.append(chunk)


def rate_limit(headers):
    """When to try again, from Retry-After (seconds or a date) or x-rate-limit-reset."""
    retry_after = (headers.get("Retry-After") or "").strip()
    reset = headers.get("x-rate-limit-reset") or ""
    if retry_after.isdigit():
        return f". Rate limit exceeded; try again in {int(retry_after):,} s (Retry-After)"
    if retry_after:
        return f". Rate limit exceeded; try again after {retry_after[:64]} (Retry-After)"
    if reset.isdigit():
        try:
            at = datetime.fromtimestamp(int(reset), UTC).astimezone()
        except (OverflowError, OSError, ValueError):
            return ". Rate limit exceeded"
        return f". Rate limit exceeded; it resets at {at:%Y-%m-%d %H:%M:%S %Z}"
    return ". Rate limit exceeded"


def twitter_errors(raw):
    """Twitter's own error messages: v1.1's `Could not authenticate you. (code 32)`,
    or v2's problem title and detail; else the start of the answer."""
    try:
        body = json.loads(raw)
        errors = body.get("errors") or []
        messages = [
            f"{e.get('message')} (code {e.get('code')})" if "code" in e else str(e.get("message"))
            for e in errors
        ]
        if not messages and body.get("title"):
            detail = body.get("detail")
            messages = [
                body["title"] + (f": {detail}" if detail and detail != body["title"] else "")
            ]
        return "; ".join(messages) or "-"
    except (ValueError, AttributeError, TypeError):
        text = raw[:200].decode("utf-8", "replace")
        return " ".join(text.split()) or "-"  # one line


def unwanted_v1(tweet):
    """Retweets and replies are not updates."""
    return bool(
        tweet.get("retweeted_status")
        or tweet.get("in_reply_to_status_id")
        or tweet.get("in_reply_to_user_id")
    )


def row_v1(tweet):
    created = datetime.strptime(tweet["created_at"], "%a %b %d %H:%M:%S %z %Y")
    return {
        "twitterId": int(tweet["id_str"]),  # exact: 64-bit ids do not fit a double
        "text": tweet.get("full_text") or tweet.get("text") or "",
        "author": tweet["user"]["screen_name"],
        "date": created.astimezone(UTC),
    }


def row_v2(tweet, users):
    created = datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00"))
    return {
        "twitterId": int(tweet["id"]),  # v2 sends ids as strings: exact
        "text": tweet.get("text") or "",
        "author": users.get(tweet.get("author_id")) or tweet.get("author_id") or "",
        "date": created.astimezone(UTC),
    }


def malformed_is_error(convert, items):
    """`convert` over the items of Twitter's answer; one that lacks a field or
    holds an odd value fails the run with one clear line (and no rows written)."""
    try:
        return [convert(item) for item in items]
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise RuntimeError(
            f"Twitter's answer held a malformed item ({type(e).__name__}: {e})"
        ) from None


def in_time(work, seconds):
    """work() in a thread of its own, given up after `seconds`: a server
    that drips even its headers, a byte at a time, never trips a per-read
    timeout. A thread given up on ends with the run; None if it was."""
    outcome = []

    def run():
        try:
            outcome.append((work(), None))
        except Exception as e:  # raised again below, in the job's thread
            outcome.append((None, e))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if not outcome:
        return None
    value, error = outcome[0]
    if error is not None:
        raise error
    return value


def number_setting(settings, name, default, low, high, whole=False):
    """The app setting `name` as a number from `low` to `high`, or one error naming it."""
    text = str(settings.get(name) or default).strip()
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:  # also refuses nan
        kind = "a whole number" if whole else "a number"
        raise ValueError(f"{name} must be {kind} from {low:,} to {high:,}, not {text!r}")
    return value
