"""Calendar dates and timestamps in call logs: read one way, or refused with one line.

Logs come from switches, CRM exports and spreadsheets in every local habit,
and a date read the wrong way does not fail: it moves calls to other days.
The rules here make every reading either certain or an error:

* **Day-first or month-first.** Dates written ``a/b/yyyy`` (or with ``.`` or
  ``-``) are read day-first when some ``a`` exceeds 12, month-first when some
  ``b`` does, and refused as ambiguous when neither happens (``03/12/2024``
  is the 3rd of December or the 12th of March) unless every date reads the
  same both ways. ``ColumnMap.date_format`` (a :func:`~datetime.datetime.strptime`
  format such as ``"%d/%m/%Y"``) settles it. ISO dates (``2024-03-12``) and
  compact ``yyyymmdd``/``yymmdd`` dates are never ambiguous.
* **Time zones.** Timestamps with a UTC offset are read as wall-clock times of
  their zone when every row has the same offset. Mixed offsets (a log across
  a daylight-saving change, or from two sites) are refused unless
  ``ColumnMap.timezone`` names the zone to read them in (``"Europe/Berlin"``,
  ``"UTC"``); rows with and rows without an offset in one column are refused.
* **Dates far from the rest.** A date more than :data:`OUTLIER_MARGIN_DAYS`
  days (or the span of the log's central 98% of dates, if longer) outside that
  central range is an error of the log, not data (a mistyped year 1900 in a
  month of 1999 would otherwise halve the calls per day); it is reported with
  its rows, or dropped with ``errors="drop"``.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

__all__ = [
    "OUTLIER_MARGIN_DAYS",
    "DateFormatError",
    "check_timezone",
    "far_from_the_rest",
    "parse_datetimes",
    "wall_clock",
]

#: Smallest margin, in days, beyond the central 98% of a log's dates before a date is an outlier.
OUTLIER_MARGIN_DAYS = 31

_SLASHED = re.compile(r"(?<![\d:])(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?![\d:])")
# An offset follows a time of day (10:00+01:00, 10:00:00Z): a date such as 13-03-2024 has none.
_OFFSET = re.compile(r"(?<=\d:\d\d)(?::\d\d(?:\.\d+)?)?\s*(Z|[+-]\d\d(?::?\d\d)?)\s*$")
_COMPACT = {6: "%y%m%d", 8: "%Y%m%d"}


class DateFormatError(ValueError):
    """A date or timestamp column that cannot be read one certain way (one-line message)."""


def check_timezone(name: str | None) -> None:
    """Refuse an unknown time-zone name (``ColumnMap.timezone``) with one line."""
    if name is None:
        return
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DateFormatError(f"timezone: unknown time zone {name!r} (e.g. 'Europe/Berlin', "
                              "'UTC')") from None


def _day_first(text: pd.Series, column: str) -> bool:
    """Whether ``a/b/yyyy`` dates in ``text`` are day-first; refuse when it cannot be told."""
    parts = text.str.extract(_SLASHED)
    slashed = parts[0].notna()
    if not slashed.any():
        return False
    a = parts.loc[slashed, 0].astype(int)
    b = parts.loc[slashed, 1].astype(int)
    day_first, month_first = bool((a > 12).any()), bool((b > 12).any())
    if day_first and month_first:
        raise DateFormatError(
            f"column {column!r}: dates are written both day-first and month-first "
            f"(e.g. {text[slashed][a > 12].iloc[0]!r} and {text[slashed][b > 12].iloc[0]!r})")
    if not (day_first or month_first) and bool((a != b).any()):
        example = text[slashed][a != b].iloc[0]
        raise DateFormatError(
            f"column {column!r}: dates such as {example!r} can be read day-first or "
            "month-first; give ColumnMap(date_format='%d/%m/%Y') or '%m/%d/%Y'")
    return day_first


def parse_datetimes(values: pd.Series, column: str, *, date_format: str | None = None,
                    timezone: str | None = None) -> pd.Series:
    """Parse text dates or timestamps into naive wall-clock ``datetime64`` values.

    Unparseable entries become ``NaT`` (the caller counts them as row errors);
    a column that cannot be read one certain way raises :class:`DateFormatError`.
    """
    text = values.astype("string").str.strip()
    present = text.notna() & (text != "")
    if date_format is not None:
        parsed = pd.to_datetime(text.where(present), format=date_format, errors="coerce")
        return wall_clock(parsed, timezone)
    compact = text[present].str.fullmatch(r"\d{6}|\d{8}")
    if compact.all() and compact.any():
        # yymmdd / yyyymmdd: pandas' mixed parser would read 240312 as 2012-03-24
        lengths = set(text[present].str.len())
        if len(lengths) > 1:
            raise DateFormatError(f"column {column!r}: compact dates of both 6 and 8 digits; "
                                  "give ColumnMap(date_format=...)")
        parsed = pd.to_datetime(text.where(present), format=_COMPACT[lengths.pop()],
                                errors="coerce")
        return wall_clock(parsed, timezone)
    offsets = text[present].str.extract(_OFFSET)[0].notna()
    if offsets.any() and not offsets.all():
        raise DateFormatError(f"column {column!r}: some times carry a time zone and some do not "
                              f"(e.g. {text[present][offsets].iloc[0]!r} and "
                              f"{text[present][~offsets].iloc[0]!r})")
    day_first = _day_first(text[present], column)
    if offsets.any():
        written = sorted(set(text[present].str.extract(_OFFSET)[0].str.strip()))
        # +0100 and +01:00 (or Z and +00:00) are one zone: compare the offsets, not the text
        zones = {pd.Timestamp(f"2000-01-01T00:00{w}").utcoffset(): w for w in written}
        found = sorted(zones.values())
        if len(zones) > 1 and timezone is None:
            raise DateFormatError(
                f"column {column!r}: mixes time zones ({', '.join(found[:4])}); give "
                "ColumnMap(timezone=...) to read them as local times of one zone, e.g. 'UTC'")
        parsed = pd.to_datetime(text.where(present), errors="coerce", format="mixed",
                                dayfirst=day_first, utc=True)
        if timezone is None:
            # one fixed offset everywhere: keep the wall-clock times of that zone
            zone = pd.Timestamp(f"2000-01-01T00:00{found[0]}").tz
            return parsed.dt.tz_convert(zone).dt.tz_localize(None)
        return parsed.dt.tz_convert(ZoneInfo(timezone)).dt.tz_localize(None)
    parsed = pd.to_datetime(text.where(present), errors="coerce", format="mixed",
                            dayfirst=day_first)
    return wall_clock(parsed, timezone)


def wall_clock(parsed: pd.Series, timezone: str | None = None) -> pd.Series:
    """Wall-clock times without a zone (converted to ``timezone`` first when given)."""
    if parsed.dt.tz is None:
        return parsed
    if timezone is not None:
        parsed = parsed.dt.tz_convert(ZoneInfo(timezone))
    return parsed.dt.tz_localize(None)


def far_from_the_rest(days: np.ndarray) -> np.ndarray:
    """Mask of days (any float day number; NaN is never flagged) far outside the central range.

    A day is far when it lies more than ``max(OUTLIER_MARGIN_DAYS, central span)``
    days below the 1st or above the 99th percentile of the days. Below 100
    days the 1st and 99th percentiles are interpolations toward the extreme
    days themselves (one year-1900 typo among 50 calls would widen its own
    range), so there the quartiles stand for the centre and the span is three
    interquartile ranges.
    """
    days = np.asarray(days, dtype=float)
    valid = np.isfinite(days)
    if valid.sum() < 2:
        return np.zeros(days.shape, dtype=bool)
    if valid.sum() >= 100:
        low, high = np.percentile(days[valid], [1, 99])
        span = high - low
    else:
        low, high = np.percentile(days[valid], [25, 75])
        span = 3 * (high - low)
    margin = max(float(OUTLIER_MARGIN_DAYS), span)
    with np.errstate(invalid="ignore"):
        return valid & ((days < low - margin) | (days > high + margin))
