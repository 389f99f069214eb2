# getUpdates: polls Twitter's (X's) search API and stores new tweets in Updates.
#
# The Azure Mobile Services tutorial's job, in Python. App settings it reads:
#   TWITTER_API          v2 (X API v2 recent search) or v1.1 (the tutorial's
#                        search/tweets.json); unset: the path of
#                        TWITTER_SEARCH_URL decides (/2/ or /1.1/); neither: v2
#   TWITTER_SEARCH_URL   default the chosen API's search URL on api.twitter.com
#   TWITTER_QUERY        default #mobileservices
#   TWITTER_MAX_PAGES    default 10 (pages of 100 tweets per run)
#   TWITTER_TIMEOUT      default 30 (seconds per request)
# and, as secrets, either TWITTER_BEARER_TOKEN (an app-only bearer token) or
# TWITTER_ACCESS_TOKEN and TWITTER_ACCESS_TOKEN_SECRET (OAuth 1.0a user
# credentials; the consumer key and secret come from Configure › Identity).

import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import requests
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
    fetched = search(url, query, since_id, auth, timeout, max_pages)
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


def search_v1(url, query, since_id, auth, timeout, max_pages):
    """v1.1 search/tweets.json: (row, is a retweet or reply) for each result."""
    params = {"q": query, "result_type": "recent", "count": 100}
    if since_id is not None:
        params["since_id"] = str(since_id)
    fetched = []
    for _page in range(max_pages):
        body = fetch(url, params, auth, timeout)
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


def search_v2(url, query, since_id, auth, timeout, max_pages):
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
        body = fetch(url, params, auth, timeout)
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


def fetch(url, params, auth, timeout):
    """One page of search results; any failure fails the run (no rows written)."""
    host = urlsplit(url).netloc
    try:
        response = requests.get(url, params=params, auth=auth, timeout=timeout)
    except requests.Timeout:
        raise RuntimeError(f"Twitter ({host}) did not answer within {timeout:g} s") from None
    except requests.ConnectionError as e:
        raise RuntimeError(f"Could not contact Twitter ({host}): {type(e).__name__}") from None
    if response.status_code != 200:
        console.error(f"Twitter answered HTTP {response.status_code}: {twitter_errors(response)}")
        if response.status_code == 429:
            reset = response.headers.get("x-rate-limit-reset")
            if reset and reset.isdigit():
                at = datetime.fromtimestamp(int(reset), UTC).astimezone()
                console.error(f"Rate limit exceeded; it resets at {at:%Y-%m-%d %H:%M:%S %Z}")
        raise RuntimeError(f"Twitter answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise RuntimeError("Twitter's answer was not valid JSON") from None
    if not isinstance(body, dict):
        raise RuntimeError("Twitter's answer was not a JSON object")
    return body


def twitter_errors(response):
    """Twitter's own error messages: v1.1's `Could not authenticate you. (code 32)`,
    or v2's problem title and detail."""
    try:
        body = response.json()
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
    except (ValueError, AttributeError):
        return response.text[:200] or "-"


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
