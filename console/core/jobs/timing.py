"""When a job runs: occurrences anchored to its start time.

Occurrence k of a job is start + k × interval. Minutes and hours are counted
in UTC, so a daylight-saving change neither skips nor doubles a run; days
and months are counted on the wall clock of the job's own zone (a daily
09:00 job stays at 09:00 there), each occurrence mapped to one instant, so those neither skip nor
double either. A monthly job started on the 31st runs on the last day of
shorter months and on the 31st again when there is one.
"""

from __future__ import annotations

import calendar
import warnings
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from console.core.errors import ConsoleError

STEP_SECONDS = {"minute": 60, "hour": 3600}


@cache
def local_zone() -> tzinfo:
    """This machine's time zone, with its daylight-saving rules, from the
    platform's own settings through tzlocal (TZ, /etc/timezone, timedatectl,
    the Windows registry…). When the platform names none, tzlocal would guess
    UTC with only a warning: that is refused here with the fix instead."""
    import tzlocal

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return tzlocal.get_localzone()
        except (Warning, ZoneInfoNotFoundError, ValueError, OSError) as e:
            raise ConsoleError(
                f"this machine's time zone cannot be read ({e}); "
                "set TZ to a zone name such as Europe/Paris"
            ) from None


def local_zone_name() -> str | None:
    """This machine's zone as an IANA name (stored with a new job), or None
    when the platform gives a zone without a name."""
    key = getattr(local_zone(), "key", None)
    return key if key and key in available_timezones() else None


def zone(name: str | None) -> tzinfo:
    """A job's zone: the IANA `name` stored with it, else this machine's."""
    return local_zone() if name is None else check_zone(name)


def check_zone(name: object) -> ZoneInfo:
    """The zone called `name`, or a ConsoleError saying it is not one."""
    try:
        return ZoneInfo(str(name).strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ConsoleError(
            f"unknown time zone {name!r}: give an IANA name such as Europe/Paris or UTC"
        ) from None


def _add_months(wall: datetime, months: int) -> datetime:
    month_index = wall.month - 1 + months
    year, month = wall.year + month_index // 12, month_index % 12 + 1
    day = min(wall.day, calendar.monthrange(year, month)[1])
    return wall.replace(year=year, month=month, day=day)


def occurrence(
    start: datetime, interval: int, unit: str, k: int, tz: tzinfo | None = None
) -> datetime:
    """The k-th run time (k = 0 is the start itself), in UTC."""
    if unit in STEP_SECONDS:
        return start.astimezone(UTC) + timedelta(seconds=STEP_SECONDS[unit] * interval * k)
    zone = tz or local_zone()
    wall = start.astimezone(zone).replace(tzinfo=None)
    if unit == "day":
        wall = wall + timedelta(days=interval * k)
    elif unit == "month":
        wall = _add_months(wall, interval * k)
    else:
        raise ValueError(f"unit {unit!r} has no occurrences")
    # fold=0: the first of an ambiguous hour; a time in a gap maps to just after it.
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _first_index_after(
    start: datetime, interval: int, unit: str, after: datetime, tz: tzinfo | None
) -> int:
    if after < start:
        return 0
    if unit in STEP_SECONDS:
        step = STEP_SECONDS[unit] * interval
        return int((after - start).total_seconds() // step) + 1
    if unit == "day":
        estimate = (after - start).days // interval
    else:
        months = (after.year - start.year) * 12 + after.month - start.month
        estimate = months // interval
    k = max(0, estimate - 2)
    while occurrence(start, interval, unit, k, tz) <= after:
        k += 1
    return k


def next_fire(
    start: datetime, interval: int, unit: str, after: datetime, tz: tzinfo | None = None
) -> datetime | None:
    """The first run time strictly after `after` (the start itself when it is
    still ahead); None for jobs that run on demand only."""
    if unit == "none":
        return None
    return occurrence(
        start, interval, unit, _first_index_after(start, interval, unit, after, tz), tz
    )


def missed_between(
    start: datetime,
    interval: int,
    unit: str,
    due: datetime,
    now: datetime,
    tz: tzinfo | None = None,
) -> int:
    """How many run times fell in [due, now]: the ticks a closed console missed."""
    if unit == "none" or now < due:
        return 0
    first = _first_index_after(start, interval, unit, due - timedelta(microseconds=1), tz)
    last = _first_index_after(start, interval, unit, now, tz)
    return max(0, last - first)


def late_note(
    start: datetime,
    interval: int,
    unit: str,
    tz: tzinfo | None,
    due: datetime,
    now: datetime,
    waited: bool,
) -> str | None:
    """What a run started late says first in its log, if anything: the runs
    missed while nothing ran, or how late it is (`waited`: for the lease of a
    worker that stopped answering)."""
    missed = missed_between(start, interval, unit, due, now, tz)
    if missed > 1:
        return (
            f"missed {missed - 1} run{'s' * (missed > 2)} while no console or "
            f"worker was running (due from {due.astimezone():%Y-%m-%d %H:%M}); "
            "running once now"
        )
    if now - due > timedelta(minutes=1) or waited:
        note = f"running late: this run was due at {due.astimezone():%Y-%m-%d %H:%M:%S}"
        if waited:
            note += " and waited for the lease of a worker that stopped answering"
        return note
    return None
