"""Time units: one table of the units a scenario's ``time_unit`` may name.

A scenario states its durations and rates in one ``time_unit``; call logs
count seconds since an origin, and money is priced per hour. Every
conversion between them goes through this table: seconds in one unit,
hours in one unit and the spellings users may write (``"min"``,
``"minutes"`` and ``"minute"`` all name the minute). :data:`DAY` is the
length of a calendar day in seconds, the period of every daily profile
fitted to a log.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "DAY",
    "HALF_DAY",
    "SECONDS_PER_UNIT",
    "HOURS_PER_UNIT",
    "UNIT_NAMES",
    "unit_name",
    "short_label",
]

#: Seconds in one time unit, by the unit's canonical name.
SECONDS_PER_UNIT: Mapping[str, float] = {
    "second": 1.0,
    "minute": 60.0,
    "hour": 3600.0,
    "day": 86_400.0,
}

#: One calendar day, in seconds.
DAY = SECONDS_PER_UNIT["day"]

#: Half a day, in seconds: a clock time further than this from its call's arrival wrapped past midnight.
HALF_DAY = DAY / 2

#: Hours in one time unit, by the unit's canonical name (wages are priced per hour).
HOURS_PER_UNIT: Mapping[str, float] = {
    unit: seconds / SECONDS_PER_UNIT["hour"] for unit, seconds in SECONDS_PER_UNIT.items()
}

#: Every spelling a user may write for a unit, mapped to its canonical name.
UNIT_NAMES: Mapping[str, str] = {
    "second": "second",
    "seconds": "second",
    "s": "second",
    "minute": "minute",
    "minutes": "minute",
    "min": "minute",
    "hour": "hour",
    "hours": "hour",
    "h": "hour",
    "day": "day",
    "days": "day",
}

#: Short labels for axis and field labels.
_SHORT = {"second": "s", "minute": "min", "hour": "h"}


def unit_name(label: str) -> str | None:
    """The canonical name of a unit as a user wrote it (case and spaces ignored), or None."""
    return UNIT_NAMES.get(label.strip().lower())


def short_label(unit: str) -> str:
    """A short label for a canonical unit name (``min`` for minute); other names unchanged."""
    return _SHORT.get(unit, unit)
