"""How JavaScript prints the doubles it holds."""

from __future__ import annotations

from console.core.running.js_host import js_number


def test_js_number_prints_the_double_as_javascript_does() -> None:
    assert js_number(2**53) == "9007199254740992"
    assert js_number(1850000000000000123) == "1850000000000000000"
    assert js_number(2125659923244122112) == "2125659923244122000"
