# getUpdates: polls Twitter's search API and stores new tweets in Updates.
#
# The Azure Mobile Services tutorial's job, in Python. App settings it reads:
#   TWITTER_SEARCH_URL   default Twitter's v1.1 search URL
#   TWITTER_QUERY        default #mobileservices
#   TWITTER_MAX_PAGES    default 10 (pages of 100 tweets per run)
#   TWITTER_TIMEOUT      default 30 (seconds per request)
# and, as secrets, TWITTER_ACCESS_TOKEN and TWITTER_ACCESS_TOKEN_SECRET; the
# consumer key and secret come from Configure › Identity.

import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import requests
from requests_oauthlib import OAuth1

DEFAULT_URL = "https://api.twitter.com/1.1/search/tweets.json"
RETWEET = re.compile(r"RT\b")

updates = tables.get_table("Updates")


def getUpdates():
    settings = config.app_settings
    url = settings.get("TWITTER_SEARCH_URL") or DEFAULT_URL
    query = settings.get("TWITTER_QUERY") or "#mobileservices"
    max_pages = int(settings.get("TWITTER_MAX_PAGES") or 10)
    timeout = float(settings.get("TWITTER_TIMEOUT") or 30)
    auth = OAuth1(
        config.twitter_consumer_key,
        config.twitter_consumer_secret,
        settings["TWITTER_ACCESS_TOKEN"],
        settings["TWITTER_ACCESS_TOKEN_SECRET"],
    )

    # Ask only for tweets newer than the newest one stored.
    last = updates.order_by_descending("twitterId").select("twitterId").take(1).read()
    since_id = last[0]["twitterId"] if last and last[0]["twitterId"] is not None else None
    params = {"q": query, "result_type": "recent", "count": 100}
    if since_id is not None:
        params["since_id"] = str(since_id)

    fetched = []
    for _page in range(max_pages):
        body = fetch(url, params, auth, timeout)
        fetched.extend(body["statuses"])
        next_results = (body.get("search_metadata") or {}).get("next_results")
        if not next_results or not body["statuses"]:
            break
        # next_results walks back in time; keep the since_id bound.
        params = dict(parse_qsl(urlsplit(next_results).query))
        if since_id is not None:
            params["since_id"] = str(since_id)
    console.log(f"Fetched {len(fetched)} new results from Twitter")

    rows, seen = [], set()
    for tweet in fetched:
        tweet_id = int(tweet["id_str"])  # exact: 64-bit ids do not fit a double
        if tweet_id in seen or (since_id is not None and tweet_id <= since_id):
            continue
        seen.add(tweet_id)
        if not filter_out(tweet):
            rows.append(to_row(tweet, tweet_id))
    updates.insert_many(rows)
    console.log(f"Stored {len(rows)} rows in Updates")


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
    if not isinstance(body, dict) or not isinstance(body.get("statuses"), list):
        raise RuntimeError("Twitter's answer held no list of statuses")
    return body


def twitter_errors(response):
    """Twitter's own error messages, e.g. `Could not authenticate you. (code 32)`."""
    try:
        errors = response.json().get("errors") or []
        return "; ".join(f"{e.get('message')} (code {e.get('code')})" for e in errors) or "-"
    except (ValueError, AttributeError):
        return response.text[:200] or "-"


def filter_out(tweet):
    """Retweets and replies are not updates."""
    text = tweet.get("full_text") or tweet.get("text") or ""
    return bool(
        RETWEET.match(text)
        or tweet.get("retweeted_status")
        or tweet.get("in_reply_to_status_id")
        or tweet.get("in_reply_to_user_id")
    )


def to_row(tweet, tweet_id):
    created = datetime.strptime(tweet["created_at"], "%a %b %d %H:%M:%S %z %Y")
    return {
        "twitterId": tweet_id,
        "text": tweet.get("full_text") or tweet.get("text") or "",
        "author": tweet["user"]["screen_name"],
        "date": created.astimezone(UTC),
    }
