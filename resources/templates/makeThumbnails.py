# makeThumbnails: small pictures of the images a table's rows point to.
#
# The tutorial's "processing or resizing stored images". App settings it reads:
#   THUMBNAIL_TABLE        the table (required)
#   THUMBNAIL_URL_COLUMN   the column holding each image's http(s) URL, default imageUrl
#   THUMBNAIL_SIZE         the largest side of a thumbnail in pixels, default 128
#   THUMBNAIL_MAX_BYTES    larger downloads are refused, default 20000000
# For each row with a URL and no thumbnail yet, fetches the image, shrinks it
# with Pillow (keeping its shape) and stores it, PNG or JPEG, in the row's
# binary `thumbnail` column. A URL that is not http(s), an answer that is not
# an image, or an image over the limits fails only that row, with a log line,
# and is tried again next run; the run fails only when every row failed.

import io
import re
import warnings

import requests
import urllib3
from PIL import Image, UnidentifiedImageError

FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
MAX_PIXELS = 50_000_000  # a larger image (a "decompression bomb") is refused unread


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
    except ValueError as e:  # one line naming the setting, no script frames
        raise ValueError(str(e)) from None
    names = {c.name for c in table.columns}
    if column not in names:
        raise ValueError(f"{table.name} has no column {column!r} (THUMBNAIL_URL_COLUMN)")

    todo = table.where(**{f"{column}__isnull": False, f"{column}__ne": ""})
    if "thumbnail" in names:
        todo = todo.where(thumbnail__isnull=True)
    made, failed = 0, 0
    with requests.Session() as session:
        for row in todo.select("id", column).iter(batch=100):
            url = row[column]
            try:
                thumbnail = make_thumbnail(session, url, side, max_bytes)
            except ThumbnailError as e:
                failed += 1
                console.error(f"row {row['id']}: {url}: {e}")
                continue
            table.update({"id": row["id"], "thumbnail": thumbnail})
            made += 1
    console.log(f"Made {made} thumbnails in {table.name}; {failed} failed")
    if failed and not made:
        raise RuntimeError(f"every image failed ({failed})")


def make_thumbnail(session, url, side, max_bytes):
    if not isinstance(url, str) or not re.match(r"https?://", url, re.I):
        raise ThumbnailError("not an http(s) URL")
    try:
        with session.get(url, timeout=30, stream=True) as response:
            if response.status_code != 200:
                raise ThumbnailError(f"the server answered HTTP {response.status_code}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise ThumbnailError(f"{int(declared):,} bytes, over the {max_bytes:,} limit")
            data, size = [], 0
            while True:
                # never more than one byte past the limit: an endless answer stops there
                chunk = response.raw.read(min(65536, max_bytes + 1 - size), decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise ThumbnailError(f"over the {max_bytes:,}-byte limit")
                data.append(chunk)
    except (requests.RequestException, urllib3.exceptions.HTTPError) as e:
        raise ThumbnailError(f"could not fetch it: {type(e).__name__}") from None
    try:
        with warnings.catch_warnings():  # Pillow warns past 89 megapixels; we refuse below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # The header only; and only the web's formats: an EPS would run
            # Ghostscript on a stranger's file, and other rare decoders add risk.
            image = Image.open(io.BytesIO(b"".join(data)), formats=FORMATS)
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
