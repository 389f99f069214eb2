"""Values as they cross a run's table link: whatever a table stores comes
back as it was; what no table stores keeps its type's name for the check."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone

import pytest

from console.core.errors import ConsoleError
from console.core.running.link_values import decode, encode
from console.core.tables.values import kind_of


def test_values_cross_as_they_were() -> None:
    values = {
        "aware": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2))),
        "naive": datetime(2026, 1, 2, 3, 4, 5),
        "bytes": b"\x00\xff",
        "big": 2**62 + 1,
        "beyond": 2**70,
        "nan": math.inf,
        "nested": [1, (2, "x"), {"k": None}],
        7: True,
    }
    back = decode(json.loads(json.dumps(encode(values))))
    assert back == values and isinstance(back["nested"][1], tuple)
    assert back["naive"].tzinfo is None and back["aware"].utcoffset() == timedelta(hours=2)
    assert decode(encode(bytearray(b"ab"))) == b"ab" and decode(encode({1, 2})) == {1, 2}


def test_a_value_no_table_stores_is_refused_with_its_own_type_name() -> None:
    class Point:
        pass

    with pytest.raises(ConsoleError, match="cannot store a Point"):
        kind_of(decode(json.loads(json.dumps(encode(Point())))))
