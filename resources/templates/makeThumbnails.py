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

import requests
from PIL import Image, UnidentifiedImageError

MAX_PIXELS = 50_000_000  # a larger image (a "decompression bomb") is refused unread


class ThumbnailError(Exception):
    """One image failed; the other rows go on."""


def makeThumbnails():
    settings = config.app_settings
    table = tables.get_table(settings["THUMBNAIL_TABLE"])
    column = (settings.get("THUMBNAIL_URL_COLUMN") or "imageUrl").strip()
    side = int(settings.get("THUMBNAIL_SIZE") or 128)
    max_bytes = int(settings.get("THUMBNAIL_MAX_BYTES") or 20_000_000)
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
            for chunk in response.iter_content(65536):
                size += len(chunk)
                if size > max_bytes:
                    raise ThumbnailError(f"over the {max_bytes:,}-byte limit")
                data.append(chunk)
    except requests.RequestException as e:
        raise ThumbnailError(f"could not fetch it: {type(e).__name__}") from None
    try:
        image = Image.open(io.BytesIO(b"".join(data)))  # reads the header only
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise ThumbnailError("not an image") from None
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
