"""Agents on duty per interval, derived from the agent column of a log.

Logs rarely record shifts, but they record which agent served each call. The
rule used here: **an agent is on duty in an interval of a given day if at
least one of their services overlaps that interval** (a service from 9:58 to
10:03 puts its agent on duty in both the 9:30-10:00 and 10:00-10:30
half-hours). This undercounts agents who were idle for a whole interval and
overcounts an agent who took one call at the edge of their shift; with
half-hour intervals and a busy centre both effects are small. Calls whose
agent is unknown (the bank's ``NO_SERVER``) do not count.

Alongside, ``busy`` is the time-average number of agents serving in the
interval (service seconds in the interval ÷ interval length), a lower bound
for the staffing actually present.

:func:`shifts_from_staffing` turns a per-interval staffing level into the
scenario ``shifts`` list (docs/scenario.md#shifts) (contiguous, first starting at 0, equal
neighbouring intervals merged).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from simlib.spec.edits import merge_shifts
from simlib.spec.units import DAY

__all__ = ["agents_on_duty", "typical_staffing", "shifts_from_staffing"]



def agents_on_duty(calls: pd.DataFrame, period: float = 1800.0) -> pd.DataFrame:
    """Number of agents on duty and busy, per day and interval.

    Parameters
    ----------
    calls
        Call table with ``agent, service_start, service_end, day`` (seconds
        since midnight of day 0).
    period
        Interval length (seconds); should divide 86,400.

    Returns
    -------
    pandas.DataFrame
        One row per (day, interval) for every day from the first to the last
        day with calls: ``day, start, end`` (seconds since midnight of that
        day), ``on_duty`` (distinct agents with a service overlapping the
        interval) and ``busy`` (mean number of agents serving).
    """
    if not np.isfinite(period) or period <= 0:
        raise ValueError(f"period: must be a positive number of seconds, got {period}")
    if (DAY / period) % 1:
        raise ValueError(f"period: must divide 86400 seconds, got {period}")
    per_day = int(round(DAY / period))
    day0, day1 = int(calls["day"].min()), int(calls["day"].max())
    n_days = day1 - day0 + 1
    sub = calls.loc[
        calls["agent"].notna() & calls["service_start"].notna(),
        ["agent", "service_start", "service_end"],
    ]
    ss = sub["service_start"].to_numpy(float) - day0 * DAY
    se = sub["service_end"].to_numpy(float) - day0 * DAY
    n_slots = n_days * per_day
    # Services crossing midnight of the last day spill beyond; extend, then cut.
    last = int(np.max(se // period)) + 1 if se.size else n_slots
    size = max(n_slots, last)
    k0 = (ss // period).astype(np.int64)
    # An instant service (end == start) still marks its agent present.
    k1 = np.maximum(np.ceil(se / period).astype(np.int64) - 1, k0)
    reps = k1 - k0 + 1
    rows = np.repeat(np.arange(ss.size), reps)
    slot = k0[rows] + (np.arange(rows.size) - np.repeat(np.cumsum(reps) - reps, reps))
    lo = np.maximum(ss[rows], slot * period)
    hi = np.minimum(se[rows], (slot + 1) * period)
    busy = np.bincount(slot, weights=np.maximum(hi - lo, 0.0), minlength=size)[:n_slots] / period
    agent_code = pd.factorize(sub["agent"])[0]
    divisor = int(agent_code.max()) + 1 if agent_code.size else 1
    pairs = np.unique(slot * divisor + agent_code[rows])
    on_duty = np.bincount(pairs // divisor, minlength=size)[:n_slots]
    slots = np.arange(n_slots)
    return pd.DataFrame(
        {
            "day": day0 + slots // per_day,
            "start": (slots % per_day) * period,
            "end": (slots % per_day + 1) * period,
            "on_duty": on_duty,
            "busy": busy,
        }
    )


def typical_staffing(
    on_duty: pd.DataFrame, days: Sequence[int] | None = None, *, how: str = "mean"
) -> pd.DataFrame:
    """Staffing of a typical day: agents on duty per interval over chosen days.

    Parameters
    ----------
    on_duty
        Output of :func:`agents_on_duty`.
    days
        Day indices to pool (default all).
    how
        ``"mean"`` (rounded to the nearest integer), ``"median"`` or ``"max"``.

    Returns
    -------
    pandas.DataFrame
        ``start, end, servers`` (integers), ``mean_on_duty``.
    """
    sel = on_duty if days is None else on_duty[on_duty["day"].isin(list(days))]
    if sel.empty:
        raise ValueError("days: none of the chosen days is in the staffing table")
    g = sel.groupby(["start", "end"], sort=True)["on_duty"]
    if how == "mean":
        level = g.mean()
        servers = np.floor(level.to_numpy() + 0.5)
    elif how == "median":
        level = g.mean()
        servers = np.floor(g.median().to_numpy() + 0.5)
    elif how == "max":
        level = g.mean()
        servers = g.max().to_numpy()
    else:
        raise ValueError(f"how: expected 'mean', 'median' or 'max', got {how!r}")
    out = level.reset_index().rename(columns={"on_duty": "mean_on_duty"})
    out.insert(2, "servers", servers.astype(np.int64))
    return out


def shifts_from_staffing(
    starts: Sequence[float] | np.ndarray,
    ends: Sequence[float] | np.ndarray,
    servers: Sequence[int] | np.ndarray,
    *,
    scale: float = 1.0,
    horizon: float | None = None,
) -> list[dict[str, float | int]]:
    """Merge a per-interval staffing level into scenario shifts.

    Parameters
    ----------
    starts, ends
        Interval bounds (seconds), contiguous and starting at 0.
    servers
        Servers per interval (non-negative integers).
    scale
        Divide the bounds by this (60 for a scenario in minutes).
    horizon
        Extend the last shift to this end (scenario unit) if given.

    Returns
    -------
    list of dict
        ``[{start, end, servers}, ...]``, contiguous, first start 0.
    """
    s = np.asarray(starts, float)
    e = np.asarray(ends, float)
    c = np.asarray(servers).astype(np.int64)
    if s.size == 0 or s[0] != 0 or np.any(s[1:] != e[:-1]):
        raise ValueError("starts/ends: intervals must be contiguous and start at 0")
    if (c < 0).any():
        raise ValueError("servers: must be non-negative")
    shifts = merge_shifts(s / scale, e / scale, [int(n) for n in c])
    if horizon is not None and shifts[-1]["end"] < horizon:
        shifts[-1]["end"] = horizon
    return shifts
