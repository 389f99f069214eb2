"""Lines out of a byte stream, in bounded memory and linear time.

The supervisor reads a job's output with it: a flood without newlines costs
at most `limit` bytes held (the line is cut there, the rest of it skipped up
to its newline), never a growing buffer copied on every read.
"""

from __future__ import annotations


class BoundedLines:
    """Splits chunks into lines; a line longer than `limit` is cut to it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._parts: list[bytes] = []
        self._size = 0
        self._skipping = False  # past the cut of an overlong line
        #: Bytes dropped from overlong lines.
        self.cut_bytes = 0

    def feed(self, data: bytes) -> list[bytes]:
        """The lines that `data` completes (without their newlines)."""
        lines: list[bytes] = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                break
            self._take(data, start, end, lines)
            if not self._skipping:
                lines.append(self._joined())
            self._skipping = False
            start = end + 1
        self._take(data, start, len(data), lines)
        return lines

    def end(self) -> list[bytes]:
        """What is left once the stream has closed."""
        return [self._joined()] if self._parts else []

    def _take(self, data: bytes, start: int, end: int, lines: list[bytes]) -> None:
        if self._skipping:
            self.cut_bytes += end - start
            return
        room = self.limit - self._size
        if end - start <= room:
            if end > start:
                self._parts.append(data[start:end])
                self._size += end - start
            return
        self._parts.append(data[start : start + room])
        self.cut_bytes += end - start - room
        lines.append(self._joined())
        self._skipping = True

    def _joined(self) -> bytes:
        line = b"".join(self._parts)
        self._parts, self._size = [], 0
        return line
