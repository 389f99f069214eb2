"""Masking a run's log with 10 secrets set: the masker that looks for a
secret's pieces in every case, reversed, spelled out and in hex, beside the
masker it replaced (kept below as it was: exact forms only, line by line), in
the same run. Ours is fed as the runner feeds it: the lines of one 64 KB read
of the pipe at a time (`LogWriter.add_many`); and line by line, for a job
that prints a line now and then."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterable

from bench.common import Figure, median_time
from console.core.config.masking import Masker, mask_overlapping, written_forms

SECRETS = 10
LOG_MB = 4


class ExactFormsMasker:
    """The masker before fragments and hex: one search for any written form."""

    def __init__(self, values: Iterable[str]) -> None:
        variants = {v for value in values if value for v in written_forms(value)}
        alternatives = "|".join(map(re.escape, sorted(variants, key=len, reverse=True)))
        self._pattern = re.compile(f"(?=({alternatives}))")
        self._any = re.compile(alternatives)

    def __call__(self, text: str) -> str:
        if not self._any.search(text):
            return text
        return mask_overlapping(self._pattern, text)


def _log_lines(size: int, rng: random.Random) -> list[str]:
    """Lines like a job's: words, numbers, JSON, ids and URLs, ~100 bytes."""
    words = ["fetched", "tweets", "inserted", "row", "status", "ok", "items", "feed", "for"]
    lines: list[str] = []
    total = 0
    while total < size:
        kind = rng.randrange(3)
        if kind == 0:
            line = " ".join(rng.choice(words) for _ in range(12)) + f" {rng.randrange(10**6)}"
        elif kind == 1:
            line = f'{{"id": "{rng.getrandbits(128):032x}", "title": "item {rng.randrange(999)}"}}'
        else:
            line = f"GET https://api.example.com/v1/items?page={rng.randrange(99)} -> 200"
        lines.append(line + "\n")
        total += len(line) + 1
    return lines


def mask_log() -> list[Figure]:
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits
    secrets = ["".join(rng.choice(alphabet) for _ in range(24 + i)) for i in range(SECRETS)]
    lines = _log_lines(LOG_MB * 1_000_000, rng)
    ours, before = Masker(secrets), ExactFormsMasker(secrets)
    batches, batch, size = [], [], 0
    for line in lines:  # as one read of the pipe (64 KB) gives them
        batch.append(line.rstrip("\n"))
        size += len(line)
        if size >= 65536:
            batches.append(batch)
            batch, size = [], 0
    batches.append(batch)
    ours_s = median_time(lambda: [ours.mask_lines(b) for b in batches], repeats=3)
    alone_s = median_time(lambda: [ours(line) for line in lines], repeats=3)
    before_s = median_time(lambda: [before(line) for line in lines], repeats=3)
    before_rate = LOG_MB / before_s
    return [
        Figure(
            "log masked, 10 secrets, pieces too (as the runner reads; vs exact forms before)",
            LOG_MB / ours_s,
            before_rate,
            "MB/s",
            "≥ 50 MB/s",
            LOG_MB / ours_s >= 50,
        ),
        Figure(
            "… the same, line by line (vs exact forms before)",
            LOG_MB / alone_s,
            before_rate,
            "MB/s",
            "—",
            True,
        ),
    ]
