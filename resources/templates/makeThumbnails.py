# makeThumbnails: small pictures of the images a table's rows point to.
#
# The tutorial's "processing or resizing stored images". App settings it reads:
#   THUMBNAIL_TABLE        the table (required)
#   THUMBNAIL_URL_COLUMN   the column holding each image's http(s) URL, default imageUrl
#   THUMBNAIL_SIZE         the largest side of a thumbnail in pixels, default 128
#   THUMBNAIL_MAX_BYTES    larger downloads are refused, default 20000000
#   THUMBNAIL_TIMEOUT      seconds each image gets in all (to connect, and to
#                          send the whole answer, however slowly), default 30
#   MAX_BODY_MB            no answer is read past this, whatever
#                          THUMBNAIL_MAX_BYTES says, default 50 (megabytes)
# For each row with a URL and no thumbnail yet, fetches the image, shrinks it
# with Pillow (keeping its shape) and stores it, PNG or JPEG, in the row's
# binary `thumbnail` column. A URL that is not http(s), an answer that is not
# an image, or an image over the limits fails only that row, with a log line,
# and is tried again next run; the run fails only when every row failed.
# Hostile answers fail their row the same way: a decompression bomb (refused
# from its header: Pillow's MAX_IMAGE_PIXELS is set here, not left to its
# default), a truncated image, a body over the byte limit (read no further),
# one not finished within THUMBNAIL_TIMEOUT, or a redirect loop.

import io
import re
import threading
import time
import warnings
from urllib.parse import urljoin

import requests
import urllib3
from PIL import Image, ImageFile, UnidentifiedImageError

FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
MAX_PIXELS = 50_000_000  # a larger image (a "decompression bomb") is refused unread
# Set explicitly: Pillow warns past this and refuses past twice this when it
# reads the header; a truncated image is an error, never padded out.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False


class ThumbnailError(Exception):
    """One image failed; the other rows go on."""


def makeThumbnails():
    settings = config.app_settings
    table = tables.get_table(settings["THUMBNAIL_TABLE"])
    column = (settings.get("THUMBNAIL_URL_COLUMN") or "imageUrl").strip()
    try:
        side = number_setting(settings, "THUMBNAIL_SIZE", "128", 1, 4096, whole=True)
        max_bytes = number_setting(
            settings, "THUMBNAIL_MAX_BYTES", "20000000", 1, 10**9, whole=True
        )
        timeout = number_setting(settings, "THUMBNAIL_TIMEOUT", "30", 0.1, 3600)
        body_mb = number_setting(settings, "MAX_BODY_MB", "50", 0.001, 100_000)
    except ValueError as e:  # one line naming the setting, no script frames
        raise ValueError(str(e)) from None
    names = {c.name for c in table.columns}
    if column not in names:
        raise ValueError(f"{table.name} has no column {column!r} (THUMBNAIL_URL_COLUMN)")

    todo = table.where(**{f"{column}__isnull": False, f"{column}__ne": ""})
    if "thumbnail" in names:
        todo = todo.where(thumbnail__isnull=True)
    limit = (max_bytes, "THUMBNAIL_MAX_BYTES")
    if body_mb * 1e6 < max_bytes:
        limit = (int(body_mb * 1e6), "MAX_BODY_MB")
    made, failed, first = 0, 0, ""
    with requests.Session() as session:
        for row in todo.select("id", column).iter(batch=100):
            url = row[column]
            try:
                thumbnail = make_thumbnail(session, url, side, limit, timeout)
            except ThumbnailError as e:
                failed += 1
                first = first or f"row {row['id']}: {url}: {e}"
                console.error(f"row {row['id']}: {url}: {e}")
                continue
            table.update({"id": row["id"], "thumbnail": thumbnail})
            made += 1
    console.log(f"Made {made} thumbnails in {table.name}; {failed} failed")
    if failed and not made:  # the run's error says why, in one line
        raise RuntimeError(f"every image failed ({failed}); the first: {first}")


def make_thumbnail(session, url, side, limit, timeout):
    if not isinstance(url, str) or not re.match(r"https?://", url, re.I):
        raise ThumbnailError("not an http(s) URL")
    deadline = time.monotonic() + timeout

    def download():
        with get_following(session, url, timeout, deadline) as response:
            if response.status_code != 200:
                raise ThumbnailError(f"the server answered HTTP {response.status_code}")
            return read_body(response, limit, deadline, timeout)

    try:
        data = in_time(download, timeout + 0.5)  # its own timeouts say why, first
        if data is None:
            raise ThumbnailError(f"not received in full within {timeout:g} s (THUMBNAIL_TIMEOUT)")
    except (requests.Timeout, urllib3.exceptions.ReadTimeoutError):
        raise ThumbnailError(f"no answer within {timeout:g} s (THUMBNAIL_TIMEOUT)") from None
    except (requests.RequestException, urllib3.exceptions.HTTPError) as e:
        raise ThumbnailError(f"could not fetch it: {type(e).__name__}") from None
    try:
        with warnings.catch_warnings():  # Pillow warns past MAX_PIXELS; we refuse below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # The header only; and only the web's formats: an EPS would run
            # Ghostscript on a stranger's file, and other rare decoders add risk.
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        raise ThumbnailError(f"not an image ({', '.join(FORMATS)})") from None
    except Image.DecompressionBombError:
        raise ThumbnailError(f"over the {MAX_PIXELS:,}-pixel limit") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ThumbnailError(f"{width}×{height} pixels, over the {MAX_PIXELS:,}-pixel limit")
    try:
        image.thumbnail((side, side))
    except (OSError, ValueError) as e:
        raise ThumbnailError(f"not a readable image: {e}") from None
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P"):
        image.save(out, "PNG", optimize=True)
    else:
        image.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def get_following(session, url, timeout, deadline, hops=10):
    """GET `url`, streamed, following at most `hops` redirects to http(s)
    URLs itself: requests would read each redirect's whole body, however
    large, before it follows it."""
    for _hop in range(hops + 1):
        if time.monotonic() > deadline:
            raise requests.Timeout()
        response = session.get(url, timeout=timeout, stream=True, allow_redirects=False)
        if not response.is_redirect:
            return response
        response.close()  # its body unread
        url = urljoin(url, response.headers["Location"])
        if not re.match(r"https?://", url, re.I):
            raise ThumbnailError("redirected to a URL that is not http(s)")
    raise requests.TooManyRedirects()


def read_body(response, limit, deadline, timeout):
    """The answer's bytes: refused past the byte limit (read no further than
    one byte past it) or when not received in full by `deadline`."""
    max_bytes, setting = limit
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ThumbnailError(f"{int(declared):,} bytes, over the {max_bytes:,} limit ({setting})")
    data, size = [], 0
    while True:
        # read1: whatever has arrived, so the deadline is checked while it drips
        try:
            chunk = response.raw.read1(min(65536, max_bytes + 1 - size), decode_content=True)
        except urllib3.exceptions.ReadTimeoutError:  # one read as long as the whole timeout
            raise ThumbnailError(
                f"not received in full within {timeout:g} s (THUMBNAIL_TIMEOUT)"
            ) from None
        if not chunk:
            return b"".join(data)
        size += len(chunk)
        if size > max_bytes:
            raise ThumbnailError(f"over the {max_bytes:,}-byte limit ({setting})")
        if time.monotonic() > deadline:
            raise ThumbnailError(f"not received in full within {timeout:g} s (THUMBNAIL_TIMEOUT)")
        data.append(chunk)


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
