"""One rule for every table in the window: how a column of each kind reads.

Numbers sit right, text and dates left, and a header sits like its values.
Dates show in the user's locale, with the full timestamp in the tooltip.
The views size their columns to the content (headers included) and give
the spare width to the one column that holds free text (`widgets.table_view`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from PySide6.QtCore import QDateTime, QLocale, Qt, QTimeZone

#: number: counts, sizes, durations. date: a day and its time. time: a time
#: of day (a run's log lines). chart: drawn by a delegate from `VALUE_ROLE`,
#: no text. text: everything else.
Kind = Literal["text", "number", "date", "time", "chart"]
#: The item data role that holds a chart column's value as it is.
VALUE_ROLE = Qt.ItemDataRole.UserRole + 1

_V = Qt.AlignmentFlag.AlignVCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | _V
_LEFT = Qt.AlignmentFlag.AlignLeft | _V


def alignment(kind: str) -> Qt.AlignmentFlag:
    """Where a value of `kind` sits in its cell; its header sits the same."""
    return _RIGHT if kind == "number" else _LEFT


def grid_kind(column_kind: str) -> Kind:
    """A user table's column kind (`values.ColumnInfo.kind`) as a `Kind`."""
    if column_kind in ("integer", "float"):
        return "number"
    return "date" if column_kind == "datetime" else "text"


def _with_seconds(fmt: str) -> str:
    # Locales' short formats drop the seconds; runs a second apart must differ.
    return fmt if "s" in fmt else fmt.replace("mm", "mm:ss", 1)


def _qt_time(value: datetime) -> QDateTime:
    local = value.astimezone()
    offset = local.utcoffset()
    zone = QTimeZone(int(offset.total_seconds()) if offset is not None else 0)
    return QDateTime.fromSecsSinceEpoch(int(local.timestamp()), zone)


def date_text(value: datetime | None, kind: Kind = "date") -> str:
    """A time in the user's locale on this machine's clock: its day and time
    (`date`) or its time alone (`time`); "" for none."""
    if value is None:
        return ""
    try:
        moment = _qt_time(value)
    except (OverflowError, ValueError):  # year 1 west of UTC (an older console stored it)
        return full_timestamp(value)
    locale = QLocale()
    if locale.language() == QLocale.Language.C:  # no locale set: ISO, not "4 12 2026"
        date_format, time_format = "yyyy-MM-dd", "HH:mm:ss"
    else:
        date_format = locale.dateFormat(QLocale.FormatType.ShortFormat)
        time_format = _with_seconds(locale.timeFormat(QLocale.FormatType.ShortFormat))
    if kind == "time":
        return locale.toString(moment, time_format)
    return locale.toString(moment, f"{date_format} {time_format}")


def full_timestamp(value: datetime | None) -> str:
    """The whole timestamp, to the microsecond, with its offset: a tooltip."""
    if value is None:
        return ""
    try:
        return value.astimezone().isoformat(sep=" ")
    except (OverflowError, ValueError):  # year 1 west of UTC
        return value.isoformat(sep=" ")
