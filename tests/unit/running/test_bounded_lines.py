"""Lines out of a byte stream in bounded memory."""

from __future__ import annotations

from console.core.running.bounded_lines import BoundedLines


def test_lines_across_chunks_come_out_whole() -> None:
    reader = BoundedLines(100)
    assert reader.feed(b"one\ntw") == [b"one"]
    assert reader.feed(b"o\nthree") == [b"two"]
    assert reader.end() == [b"three"]


def test_an_overlong_line_is_cut_and_the_rest_skipped_to_its_newline() -> None:
    reader = BoundedLines(10)
    lines = []
    for _ in range(1000):  # 64 KB chunks of one endless line
        lines += reader.feed(b"x" * 65536)
    lines += reader.feed(b"tail\nnext\n")
    assert lines == [b"x" * 10, b"next"]
    assert reader.cut_bytes == 1000 * 65536 - 10 + len(b"tail")


def test_a_line_exactly_at_the_limit_is_kept_whole() -> None:
    reader = BoundedLines(5)
    assert reader.feed(b"12345\n") == [b"12345"]
    assert reader.feed(b"123456\n") == [b"12345"]
