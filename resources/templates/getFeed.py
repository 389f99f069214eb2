# getFeed: stores new RSS and Atom entries in a table.
#
# The tutorial's "requesting and storing external data, such as ... RSS
# entries". App settings it reads:
#   FEED_URLS      the feeds' http(s) URLs, separated by commas or spaces (required)
#   FEED_TABLE     the table for the entries, default Feed
#   FEED_TIMEOUT   seconds each feed gets in all (to connect, and to send the
#                  whole answer, however slowly it drips), default 30 (an
#                  answer still coming is given up at most 0.5 s past it)
#   MAX_BODY_MB    a larger answer is refused, read no further than its
#                  limit, default 50 (megabytes)
# Each entry becomes a row (feed, guid, title, link, published, summary); an
# entry already stored for its feed (same guid, else same link) is skipped.
# Each feed's ETag and Last-Modified are kept in <FEED_TABLE>_sources so the
# next run asks "only if changed" and an unchanged feed costs the server one
# short answer. A feed that cannot be fetched or parsed fails only its own
# part, with a log line; the run fails only when every feed failed. A
# hostile feed is refused the same way, before anything is stored: one that
# declares XML entities (an "entity bomb", or an entity that would read a
# local file), bytes that are not valid in the encoding it declares, an
# answer over MAX_BODY_MB, or one not finished within FEED_TIMEOUT.

import codecs
import re
import threading
import time
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser
import requests
import urllib3

# A DOCTYPE with an internal subset, before the first element: where entities are declared.
ENTITY_DECLARATIONS = re.compile(r"\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*)*<!DOCTYPE[^\[>]*\[", re.S)
XML_ENCODING = re.compile(rb"\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")


class FeedError(Exception):
    """One feed failed; the others go on."""


def getFeed():
    settings = config.app_settings
    urls = list(dict.fromkeys(u for u in re.split(r"[\s,]+", settings["FEED_URLS"]) if u))
    if not urls:
        raise ValueError("FEED_URLS holds no URL; give feed URLs separated by commas or spaces")
    try:
        timeout = number_setting(settings, "FEED_TIMEOUT", "30", 0.1, 3600)
        max_bytes = int(number_setting(settings, "MAX_BODY_MB", "50", 0.001, 100_000) * 1e6)
    except ValueError as e:  # one line naming the setting, no script frames
        raise ValueError(str(e)) from None
    entries = tables.get_table(settings.get("FEED_TABLE") or "Feed", create=True)
    sources = tables.get_table(f"{entries.name}_sources", create=True)

    failures, added = [], 0
    with requests.Session() as session:
        for url in urls:
            try:
                added += fetch_feed(session, url, entries, sources, timeout, max_bytes)
            except FeedError as e:
                failures.append(f"{url}: {e}")
                console.error(failures[-1])
    failed = len(failures)
    console.log(f"Stored {added} new entries from {len(urls) - failed} of {len(urls)} feeds")
    if failed == len(urls):  # the run's error says why, in one line
        raise RuntimeError(f"every feed failed ({failed}); the first: {failures[0]}")


def fetch_feed(session, url, entries, sources, timeout, max_bytes):
    """Fetch one feed, store its new entries; returns how many."""
    if not re.match(r"https?://", url, re.I):
        raise FeedError("not an http(s) URL; skipped")
    source = sources.where(url=url).first() if has_column(sources, "url") else None
    headers = {}
    if source and source.get("etag"):
        headers["If-None-Match"] = source["etag"]
    if source and source.get("lastModified"):
        headers["If-Modified-Since"] = source["lastModified"]
    deadline = time.monotonic() + timeout

    def download():
        with get_following(session, url, headers, timeout, deadline) as response:
            # an error page or a 304 is not read at all
            ok = response.status_code == 200
            return response, read_body(response, max_bytes, deadline, timeout) if ok else b""

    try:
        done = in_time(download, timeout + 0.5)  # its own timeouts say why, first
        if done is None:
            raise FeedError(f"not received in full within {timeout:g} s (FEED_TIMEOUT)")
        response, body = done
    except (requests.Timeout, urllib3.exceptions.ReadTimeoutError):
        raise FeedError(f"no answer within {timeout:g} s (FEED_TIMEOUT)") from None
    except (requests.RequestException, urllib3.exceptions.HTTPError) as e:
        raise FeedError(f"could not fetch it: {type(e).__name__}") from None
    if response.status_code == 304:
        console.log(f"{url}: not modified")
        return 0
    if response.status_code != 200:
        raise FeedError(f"the server answered HTTP {response.status_code}")

    refuse_hostile(body, response.headers.get("Content-Type", ""))
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


def get_following(session, url, headers, timeout, deadline, hops=10):
    """GET `url`, streamed, following at most `hops` redirects to http(s)
    URLs itself: requests would read each redirect's whole body, however
    large, before it follows it."""
    for _hop in range(hops + 1):
        if time.monotonic() > deadline:
            raise requests.Timeout()
        response = session.get(
            url, headers=headers, timeout=timeout, stream=True, allow_redirects=False
        )
        if not response.is_redirect:
            return response
        response.close()  # its body unread
        url = urljoin(url, response.headers["Location"])
        if not re.match(r"https?://", url, re.I):
            raise FeedError("redirected to a URL that is not http(s); skipped")
    raise requests.TooManyRedirects()


def read_body(response, max_bytes, deadline, timeout):
    """The answer's bytes, refusing one larger than `max_bytes` or not
    finished by `deadline` (a server dripping a byte at a time never trips a
    per-read timeout)."""
    chunks, size = [], 0
    while True:
        # never more than one byte past the limit, so an endless answer costs no more;
        # read1: whatever has arrived, so the deadline is checked as it drips
        try:
            chunk = response.raw.read1(min(65536, max_bytes + 1 - size), decode_content=True)
        except urllib3.exceptions.ReadTimeoutError:  # one read as long as the whole timeout
            raise FeedError(f"not received in full within {timeout:g} s (FEED_TIMEOUT)") from None
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise FeedError(f"larger than {max_bytes / 1e6:g} MB (MAX_BODY_MB); skipped")
        if time.monotonic() > deadline:
            raise FeedError(f"not received in full within {timeout:g} s (FEED_TIMEOUT)")
        chunks.append(chunk)


def refuse_hostile(body, content_type):
    """Refuse a feed that declares entities, or whose bytes are not valid in
    the encoding it declares (the HTTP charset, else the XML declaration, else
    UTF-8), rather than let the parser guess another."""
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", content_type, re.I)
    declared = match.group(1) if match else None
    if not declared:
        match = XML_ENCODING.match(body[:1024])
        declared = match.group(1).decode() if match else None
    if not declared:
        declared = "utf-8"
        for bom, name in (
            (codecs.BOM_UTF8, "utf-8"),
            (codecs.BOM_UTF16_LE, "utf-16"),
            (codecs.BOM_UTF16_BE, "utf-16"),
        ):
            if body.startswith(bom):
                declared = name
    try:
        text = body.decode(declared).lstrip("\ufeff")
    except LookupError:
        raise FeedError(f"declares an unknown encoding {declared!r}; skipped") from None
    except UnicodeDecodeError as e:
        raise FeedError(
            f"not valid {declared} (byte {e.start:,}), the encoding it declares; skipped"
        ) from None
    if ENTITY_DECLARATIONS.match(text):
        raise FeedError("declares XML entities (an entity bomb or a file read); refused")


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
