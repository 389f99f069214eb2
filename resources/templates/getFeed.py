# getFeed: stores new RSS and Atom entries in a table.
#
# The tutorial's "requesting and storing external data, such as ... RSS
# entries". App settings it reads:
#   FEED_URLS      the feeds' http(s) URLs, separated by commas or spaces (required)
#   FEED_TABLE     the table for the entries, default Feed
#   FEED_TIMEOUT   seconds per request, default 30
# Each entry becomes a row (feed, guid, title, link, published, summary); an
# entry already stored for its feed (same guid, else same link) is skipped.
# Each feed's ETag and Last-Modified are kept in <FEED_TABLE>_sources so the
# next run asks "only if changed" and an unchanged feed costs the server one
# short answer. A feed that cannot be fetched or parsed fails only its own
# part, with a log line; the run fails only when every feed failed.

import re
from datetime import UTC, datetime

import feedparser
import requests
import urllib3

MAX_FEED_BYTES = 20_000_000


class FeedError(Exception):
    """One feed failed; the others go on."""


def getFeed():
    settings = config.app_settings
    urls = list(dict.fromkeys(u for u in re.split(r"[\s,]+", settings["FEED_URLS"]) if u))
    if not urls:
        raise ValueError("FEED_URLS holds no URL; give feed URLs separated by commas or spaces")
    try:
        timeout = number_setting(settings, "FEED_TIMEOUT", "30", 0.1, 3600)
    except ValueError as e:  # one line naming the setting, no script frames
        raise ValueError(str(e)) from None
    entries = tables.get_table(settings.get("FEED_TABLE") or "Feed", create=True)
    sources = tables.get_table(f"{entries.name}_sources", create=True)

    failed, added = 0, 0
    with requests.Session() as session:
        for url in urls:
            try:
                added += fetch_feed(session, url, entries, sources, timeout)
            except FeedError as e:
                failed += 1
                console.error(f"{url}: {e}")
    console.log(f"Stored {added} new entries from {len(urls) - failed} of {len(urls)} feeds")
    if failed == len(urls):
        raise RuntimeError(f"every feed failed ({failed})")


def fetch_feed(session, url, entries, sources, timeout):
    """Fetch one feed, store its new entries; returns how many."""
    if not re.match(r"https?://", url, re.I):
        raise FeedError("not an http(s) URL; skipped")
    source = sources.where(url=url).first() if has_column(sources, "url") else None
    headers = {}
    if source and source.get("etag"):
        headers["If-None-Match"] = source["etag"]
    if source and source.get("lastModified"):
        headers["If-Modified-Since"] = source["lastModified"]
    try:
        response = session.get(url, headers=headers, timeout=timeout, stream=True)
        body = read_body(response)
    except (requests.RequestException, urllib3.exceptions.HTTPError) as e:
        raise FeedError(f"could not fetch it: {type(e).__name__}") from None
    if response.status_code == 304:
        console.log(f"{url}: not modified")
        return 0
    if response.status_code != 200:
        raise FeedError(f"the server answered HTTP {response.status_code}")

    parsed = feedparser.parse(
        body, response_headers={k.lower(): v for k, v in response.headers.items()}
    )
    if not parsed.version and not parsed.entries:
        reason = parsed.get("bozo_exception") or "no RSS or Atom document"
        raise FeedError(f"not a feed it can read: {reason}")

    rows = new_rows(url, parsed.entries, entries)
    entries.insert_many(rows)
    # Remember the validators only once the entries are stored: a run stopped
    # in between fetches the feed again, and the guids keep it from doubling.
    sources.upsert(
        {
            "url": url,
            "etag": response.headers.get("ETag"),
            "lastModified": response.headers.get("Last-Modified"),
            "checkedAt": datetime.now(UTC),
        },
        key="url",
    )
    console.log(f"{url}: {len(rows)} new of {len(parsed.entries)} entries")
    return len(rows)


def read_body(response):
    """The answer's bytes, refusing one larger than MAX_FEED_BYTES."""
    chunks, size = [], 0
    while True:
        # never more than one byte past the limit, so an endless answer costs no more
        chunk = response.raw.read(min(65536, MAX_FEED_BYTES + 1 - size), decode_content=True)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_FEED_BYTES:
            response.close()
            raise FeedError(f"larger than {MAX_FEED_BYTES:,} bytes; skipped")
        chunks.append(chunk)


def new_rows(url, feed_entries, entries):
    """Rows for the entries not stored yet (by guid, else link) for this feed."""
    candidates = {}
    for entry in feed_entries:
        guid, link = entry.get("id") or None, entry.get("link") or None
        key = ("guid", guid) if guid else ("link", link)
        if key[1] and key not in candidates:
            candidates[key] = to_row(url, entry, guid, link)
    guids = [v for kind, v in candidates if kind == "guid"]
    links = [v for kind, v in candidates if kind == "link"]
    stored = set()
    if guids and has_column(entries, "guid"):
        found = entries.where(feed=url, guid__in=guids).select("guid").read()
        stored |= {("guid", r["guid"]) for r in found}
    if links and has_column(entries, "link"):
        query = entries.where(feed=url, link__in=links)
        if has_column(entries, "guid"):
            query = query.where(guid__isnull=True)
        stored |= {("link", r["link"]) for r in query.select("link").read()}
    return [row for key, row in candidates.items() if key not in stored]


def to_row(url, entry, guid, link):
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    return {
        "feed": url,
        "guid": guid,
        "title": entry.get("title"),
        "link": link,
        "published": datetime(*when[:6], tzinfo=UTC) if when else None,
        "summary": entry.get("summary"),
    }


def has_column(table, name):
    return any(c.name == name for c in table.columns)


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
