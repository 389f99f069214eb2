"""Secrets kept out of sight: `MASK`, how a secret may be written into a
log, and `Masker`, which hides every such form in a text.

Every line a run logs and everything the console shows of a secret passes
through here; nothing in this module reads or stores a secret.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from console.core.errors import ConsoleError

#: How a secret value is shown, anywhere.
MASK = "••••••"
#: Shorter secret values are refused when set: a value that short cannot be
#: masked safely (it turns up by chance in any log, and masking every "abc"
#: would hide the log and point at the secret).
MIN_SECRET_LENGTH = 6


def check_secret_value(name: str, value: str) -> str:
    """A secret long enough to be masked wherever it shows."""
    if len(value) < MIN_SECRET_LENGTH:
        raise ConsoleError(
            f"{name} is {len(value)} character{'s' * (len(value) != 1)} long; a secret needs "
            f"at least {MIN_SECRET_LENGTH}: a shorter one cannot be masked safely in logs"
        )
    return value


def written_forms(value: str) -> set[str]:
    """The ways a script may write a secret into its log: as it is, as
    `repr` shows it, URL-encoded, escaped in JSON (`json.dumps` with or
    without ASCII escapes), base64-encoded whole, and in hex (its UTF-8
    bytes, `s.encode().hex()`, or its UTF-16 code units as JavaScript's
    `charCodeAt(i).toString(16)` writes them), in either case."""
    forms = {value, quote(value, safe=""), quote(value, safe="~"), quote_plus(value), quote(value)}
    forms.add(value.encode("unicode_escape").decode("ascii"))
    forms.add(repr(value)[1:-1])
    forms.add(json.dumps(value)[1:-1])
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    # Base64 of the whole value (a token pasted into a header or a data URL),
    # standard and URL-safe, with its padding or without.
    raw = value.encode("utf-8")
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        forms.update((encoded.decode("ascii"), encoded.decode("ascii").rstrip("=")))
    # Hex: each a plain string of its own, so masking stays one pass of exact forms.
    code_units = value.encode("utf-16-be")
    for hexed in (
        raw.hex(),
        "".join(
            f"{int.from_bytes(code_units[i : i + 2], 'big'):x}"
            for i in range(0, len(code_units), 2)
        ),
    ):
        forms.update((hexed, hexed.upper()))
    return {f for f in forms if f}


class Masker:
    """Replaces every secret value in a text, in every form it may be
    written in (see `written_forms`), by `MASK`."""

    def __init__(self, values: Iterable[str]) -> None:
        variants: set[str] = set()
        for value in values:
            if value:  # short ones are refused when set; older ones are masked all the same
                variants.update(written_forms(value))
        ordered = sorted(variants, key=len, reverse=True)
        # A lookahead finds a match at every position, overlapping ones too:
        # two secrets that overlap in a text ("…123" and "123…") are masked
        # as one stretch, where a plain `sub` would leave the second's tail.
        alternatives = "|".join(map(re.escape, ordered))
        self._pattern = re.compile(f"(?=({alternatives}))") if ordered else None
        # Most lines hold no secret: a plain search tells so several times faster.
        self._any = re.compile(alternatives) if ordered else None

    def __call__(self, text: str) -> str:
        if self._pattern is None or self._any is None or not self._any.search(text):
            return text
        pieces: list[str] = []
        kept_to = covered_to = 0  # text[:kept_to] is done; a mask runs to covered_to
        for match in self._pattern.finditer(text):
            start, end = match.span(1)
            if start >= covered_to:
                if covered_to > kept_to:
                    pieces.append(MASK)
                pieces.append(text[covered_to:start])
                kept_to = covered_to = start
            covered_to = max(covered_to, end)
        if covered_to > kept_to:
            pieces.append(MASK)
        pieces.append(text[covered_to:])
        return "".join(pieces)

    def __bool__(self) -> bool:
        return self._pattern is not None
