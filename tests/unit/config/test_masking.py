"""Masking: every form a secret may be written in is hidden, and a secret
too short to be masked safely is refused."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from console.core.config.masking import MASK, Masker, check_secret_value, written_forms
from console.core.errors import ConsoleError


def test_masker_hides_raw_and_url_encoded_values() -> None:
    secret = "s3cr3t/value+with spaces&more"
    mask = Masker([secret, "ab"])
    text = f"a {secret} b {quote(secret, safe='')} c {quote_plus(secret)} d ab"
    masked = mask(text)
    assert secret not in masked and quote_plus(secret) not in masked
    assert masked == f"a {MASK} b {MASK} c {MASK} d {MASK}"  # an older short one too


@pytest.mark.parametrize(
    "form",
    [
        lambda s: json.dumps({"token": s}),
        lambda s: json.dumps(s, ensure_ascii=False),
        lambda s: repr(s),
        lambda s: repr({"token": s}),
        lambda s: quote(s),
        lambda s: base64.b64encode(s.encode()).decode(),
        lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("="),
    ],
    ids=[
        "json.dumps",
        "json.dumps no ASCII",
        "repr",
        "repr of a dict",
        "URL-encoded",
        "base64",
        "URL-safe base64 unpadded",
    ],
)
def test_masker_hides_json_and_repr_forms(form: Any) -> None:
    secret = 'pa"ss\\wörd\n-123'
    written = form(secret)
    masked = Masker([secret])(f"sent {written} to the server")
    assert MASK in masked
    assert "ss" not in masked.replace("sent", "")  # no piece of it is left


def test_secrets_that_overlap_in_a_text_leave_no_piece_of_either() -> None:
    mask = Masker(["key-one-abc123", "abc123-tail-xyz"])
    assert mask("auth key-one-abc123-tail-xyz ok") == f"auth {MASK} ok"
    assert mask("abc123-tail-xyz and key-one-abc123") == f"{MASK} and {MASK}"
    nested = Masker(["outer-secret-value", "secret"])
    assert nested("outer-secret-value / secret!") == f"{MASK} / {MASK}!"


def test_a_text_without_a_secret_comes_back_as_it_was() -> None:
    text = "fetched 20 tweets for #mobileservices"
    assert Masker(["s3cr3t-token"])(text) is text
    assert not Masker([]) and Masker([])(text) == text


def test_the_forms_a_secret_may_be_written_in_include_base64_and_json() -> None:
    forms = written_forms("tok/é")
    assert "tok/é" in forms and "tok%2F%C3%A9" in forms
    assert base64.b64encode("tok/é".encode()).decode() in forms
    assert json.dumps("tok/é")[1:-1] in forms


def test_a_secret_shorter_than_six_characters_is_refused_with_why() -> None:
    with pytest.raises(ConsoleError, match="at least 6: a shorter one cannot be masked"):
        check_secret_value("TOKEN", "abc")
    assert check_secret_value("TOKEN", "abcdef") == "abcdef"


@pytest.mark.parametrize(
    "written",
    [
        lambda s: s.encode().hex(),
        lambda s: s.encode().hex().upper(),
        lambda s: "".join(f"{ord(c):x}" for c in s),  # JavaScript's charCodeAt(i).toString(16)
    ],
    ids=["hex", "HEX", "charCodeAt hex"],
)
def test_a_secret_written_in_hex_is_masked(written: Any) -> None:
    secret = "tok-s3cr3t-éxyz"
    masked = Masker([secret])(f"token={written(secret)};")
    assert masked == f"token={MASK};"


SECRET = "Tk9-live-4f7Qz81mWbX2"  # 21 characters: pieces of 8 are masked


@pytest.mark.parametrize(
    "written",
    [
        SECRET.encode().hex(),
        SECRET.encode().hex().upper(),
        "".join(f"{ord(c):x}" for c in SECRET),  # JavaScript's charCodeAt(i).toString(16)
        SECRET[: len(SECRET) // 2],
        SECRET[len(SECRET) // 2 :],
        SECRET[::-1],
        SECRET.upper(),
        " ".join(SECRET),
        "-".join(SECRET),
    ],
    ids=[
        "hex",
        "HEX",
        "charCodeAt hex",
        "first half",
        "second half",
        "reversed",
        "upper",
        "spaced",
        "dashed",
    ],
)
def test_a_line_holding_a_secret_or_a_long_piece_of_it_is_masked(written: str) -> None:
    masked = Masker([SECRET])(f"debug: {written} (sent)\nnext line\n")
    line, rest = masked.split("\n", 1)
    assert written not in masked and MASK in line
    assert rest == "next line\n"  # only the line that holds it


def test_a_short_secret_is_looked_for_in_pieces_of_six() -> None:
    secret = "abcdef123456"
    assert Masker([secret])("part 123456 here") == MASK
    assert Masker([secret])("part 12345 here") == "part 12345 here"


def test_a_line_with_no_long_piece_of_a_secret_is_kept() -> None:
    text = "Tk9-liv ok; 4f7Q fine"  # pieces shorter than 8
    assert Masker([SECRET])(text) == text


def test_a_batch_of_lines_is_masked_line_by_line() -> None:
    lines = ["fetched 3 rows", f"token {SECRET[::-1]} oops", "done", f"key={SECRET}"]
    assert Masker([SECRET]).mask_lines(lines) == ["fetched 3 rows", MASK, "done", f"key={MASK}"]
    assert Masker([SECRET]).mask_lines(["nothing", "here"]) == ["nothing", "here"]


def test_without_pieces_only_the_whole_value_is_masked() -> None:
    url = "https://hooks.example.com/T0123/secret-path"
    masked = Masker([url], pieces=False)(f"posting to {url}; docs at https://hooks.example.com/")
    assert masked == f"posting to {MASK}; docs at https://hooks.example.com/"
