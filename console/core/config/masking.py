"""Secrets kept out of sight: `MASK`, how a secret may be written into a
log, and `Masker`, which hides every such form in a text and masks whole
any line that holds a long enough piece of a secret.

Every line a run logs, every recorded HTTP exchange and everything the
console shows of a secret passes through here; nothing in this module reads
or stores a secret. The search for pieces runs in RE2 (google-re2: linear
time, in C++) over a batch of lines at once; Python's `re` tries each of a
thousand pieces at every position and managed 10 MB/s (docs/benchmarks.md).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote, quote_plus

import re2

from console.core.errors import ConsoleError

#: How a secret value is shown, anywhere.
MASK = "••••••"
#: Shorter secret values are refused when set: a value that short cannot be
#: masked safely (it turns up by chance in any log, and masking every "abc"
#: would hide the log and point at the secret).
MIN_SECRET_LENGTH = 6
#: A line holding this many consecutive characters of a secret is masked
#: whole; `SHORT_FRAGMENT` for a secret shorter than `LONG_SECRET`.
FRAGMENT, SHORT_FRAGMENT, LONG_SECRET = 8, 6, 16


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
    for hexed in (raw.hex(), _code_unit_hex(value)):
        forms.update((hexed, hexed.upper()))
    return {f for f in forms if f}


def _code_unit_hex(value: str) -> str:
    """`charCodeAt(i).toString(16)` joined: UTF-16 code units, unpadded."""
    units = value.encode("utf-16-be")
    return "".join(f"{int.from_bytes(units[i : i + 2], 'big'):x}" for i in range(0, len(units), 2))


def fragments(value: str) -> set[str]:
    """The lower-cased pieces of a secret whose presence masks a line: every
    run of `FRAGMENT` characters (`SHORT_FRAGMENT` for a shorter secret) of
    it and of it reversed, and every run twice as long of its hex. A piece
    spelled out with one separator between its characters (`s e c r e t`)
    is found by searching every other character of the text (`Masker`)."""
    size = FRAGMENT if len(value) >= LONG_SECRET else SHORT_FRAGMENT
    if len(value) < size:
        return set()  # an older, too-short secret: masked only where written whole
    lowered = value.lower()
    pieces: set[str] = set()
    for text, length in (
        (lowered, size),
        (lowered[::-1], size),
        (value.encode("utf-8").hex(), 2 * size),
        (_code_unit_hex(value).lower(), 2 * size),
    ):
        pieces.update(text[i : i + length] for i in range(len(text) - length + 1))
    return pieces


def _any_of(words: Iterable[str]) -> Any:
    """One RE2 pattern for any of `words` (literal), or None for none."""
    ordered = sorted(set(words), key=len, reverse=True)
    if not ordered:
        return None
    options = re2.Options()
    options.max_mem = 64 << 20  # the DFA of a thousand pieces; RE2's default is 8 MB
    return re2.compile("|".join(map(re2.escape, ordered)), options)


class Masker:
    """Replaces every secret value in a text, in every form it may be
    written in (see `written_forms`), by `MASK`; with `pieces`, also masks
    whole any line that still holds a piece of a secret (see `fragments`).

    `mask_lines` takes a batch (a run's log as it comes off the pipe): one
    RE2 search of the whole batch, lower-cased and as every other character,
    tells that most hold nothing, and only a batch with a hit is looked at
    line by line."""

    def __init__(self, values: Iterable[str], *, pieces: bool = True) -> None:
        variants: set[str] = set()
        found: set[str] = set()
        for value in values:
            if value:  # short ones are refused when set; older ones are masked all the same
                variants.update(written_forms(value))
                if pieces:
                    found.update(fragments(value))
        ordered = sorted(variants, key=len, reverse=True)
        # A lookahead finds a match at every position, overlapping ones too:
        # two secrets that overlap in a text ("…123" and "123…") are masked
        # as one stretch, where a plain `sub` would leave the second's tail.
        alternatives = "|".join(map(re.escape, ordered))
        self._pattern = re.compile(f"(?=({alternatives}))") if ordered else None
        self._pieces = _any_of(found)
        # The first look, of lower-cased text: any form or piece at all.
        self._any = _any_of({v.lower() for v in variants} | found)

    def __call__(self, text: str) -> str:
        if self._any is None or not self._hit(text.lower()):
            return text
        return "".join(self.mask_lines(text.splitlines(keepends=True)))

    def mask_lines(self, lines: Sequence[str]) -> list[str]:
        """Each of `lines` masked (see the class)."""
        if self._any is None or not lines or not self._hit("\n".join(lines).lower()):
            return list(lines)
        return [self._mask_line(line) for line in lines]

    def _hit(self, lowered: str) -> bool:
        """Any form or piece of a secret in `lowered`, as typed or spelled out."""
        return bool(self._any.search(lowered)) or self._spelled_out(lowered)

    def _spelled_out(self, lowered: str) -> bool:
        """A piece spelled out with one separator between its characters:
        every other character of the text holds it as typed."""
        pieces = self._pieces
        return pieces is not None and bool(
            pieces.search(lowered[::2]) or pieces.search(lowered[1::2])
        )

    def _mask_line(self, line: str) -> str:
        if not self._hit(line.lower()):
            return line
        masked = self._mask_forms(line)
        if self._pieces is None or not self._has_piece(masked.lower()):
            return masked
        body = line.rstrip("\r\n")
        return MASK + line[len(body) :]  # a piece of a secret is left: the line goes

    def _has_piece(self, lowered: str) -> bool:
        assert self._pieces is not None
        return bool(self._pieces.search(lowered)) or self._spelled_out(lowered)

    def _mask_forms(self, text: str) -> str:
        return text if self._pattern is None else mask_overlapping(self._pattern, text)

    def __bool__(self) -> bool:
        return self._pattern is not None


def mask_overlapping(pattern: re.Pattern[str], text: str) -> str:
    """`text` with every span `pattern` finds (group 1 of a lookahead, so
    that matches may overlap) replaced by MASK, overlapping or touching
    spans joined into one."""
    pieces: list[str] = []
    kept_to = covered_to = 0  # text[:kept_to] is done; a mask runs to covered_to
    for match in pattern.finditer(text):
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
