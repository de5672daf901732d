"""Effective agents and after-call work, read from the call table of any log.

Agents "on duty" (:func:`~simlib.calibrate.agents_on_duty`: a service of the
agent overlaps the interval) overstate the capacity that answers calls: an
agent on duty may be on a break, doing after-call work, or busy with other
work while callers wait. This module measures what the log shows of the
capacity actually available.

* **Effective agents** (:func:`effective_agents`). At each instant ``t`` let
  ``N`` be the agents on duty in the interval, ``B(t)`` the agents serving a
  call and ``Q(t)`` the callers waiting in the queue. An agent is *available*
  if it is serving, or idle while nobody waits; an agent idle while callers
  wait is not available (it would have taken the call otherwise). So
  ``available(t) = N`` when ``Q(t) = 0`` and ``B(t)`` when ``Q(t) > 0``, and
  the effective agents of an interval are its time average. Alongside:
  ``waiting_share`` (share of the interval with someone waiting) and
  ``serving_while_waiting`` (mean ``B`` over that time; NaN if nobody waited).
* **After-call work** (:func:`after_call_work`). The gap between the end of
  an agent's call and the start of its next call, counted only when callers
  waited during the whole gap (otherwise the agent may simply have had nobody
  to serve). Gaps longer than ``cap`` (default 300 s) are breaks, not
  after-call work, and are left out; :func:`after_call_work` reports a
  sensitivity table over several caps.

Only the call-table columns ``agent, service_start, service_end, queued,
queue_start, queue_exit, day`` are used, so any log mapped with
:class:`~simlib.calibrate.ColumnMap` (or a simulated trace with agents) works.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simlib.calibrate.staffing import agents_on_duty
from simlib.spec.units import DAY

__all__ = ["AfterCallWork", "after_call_work", "effective_agents", "ACW_CAP", "ACW_CAPS"]

#: Default cap on after-call work (seconds): longer gaps are breaks.
ACW_CAP = 300.0
#: Caps of the sensitivity table (seconds).
ACW_CAPS: tuple[float, ...] = (30.0, 60.0, 120.0, 300.0, 600.0)


def _step(calls: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Change points of B (serving, agents known) and Q (waiting): times, B, Q after each time."""
    srv = calls["agent"].notna().to_numpy() & calls["service_start"].notna().to_numpy()
    ss = calls["service_start"].to_numpy(float)[srv]
    se = calls["service_end"].to_numpy(float)[srv]
    qd = calls["queued"].to_numpy(bool) & calls["queue_exit"].notna().to_numpy()
    qs = calls["queue_start"].to_numpy(float)[qd]
    qe = calls["queue_exit"].to_numpy(float)[qd]
    t = np.concatenate([ss, se, qs, qe])
    db = np.concatenate([np.ones(ss.size), -np.ones(se.size), np.zeros(qs.size + qe.size)])
    dq = np.concatenate([np.zeros(ss.size + se.size), np.ones(qs.size), -np.ones(qe.size)])
    order = np.argsort(t, kind="stable")
    t, db, dq = t[order], db[order], dq[order]
    day0 = float(calls["day"].min()) * DAY
    return t, np.cumsum(db), np.cumsum(dq), day0


def effective_agents(calls: pd.DataFrame, period: float = 300.0) -> pd.DataFrame:
    """Agents on duty and effective agents per day and interval.

    Parameters
    ----------
    calls
        Call table (seconds since midnight of day 0).
    period
        Interval length (seconds); must divide 86,400.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`~simlib.calibrate.agents_on_duty` (``day, start,
        end, on_duty, busy``) plus ``effective`` (time-average of available
        agents, see the module docstring), ``waiting_share`` and
        ``serving_while_waiting``.
    """
    duty = agents_on_duty(calls, period)
    per_day = int(round(DAY / period))
    day0 = int(calls["day"].min())
    n_slots = len(duty)
    t, b, q, origin = _step(calls)
    # Elementary segments between consecutive change points and slot edges.
    edges = origin + np.arange(n_slots + 1) * period
    grid = np.union1d(t, edges)
    grid = grid[(grid >= edges[0]) & (grid <= edges[-1])]
    idx = np.searchsorted(t, grid[:-1], side="right") - 1  # last change at or before
    b_seg = np.where(idx >= 0, b[np.maximum(idx, 0)], 0.0)
    q_seg = np.where(idx >= 0, q[np.maximum(idx, 0)], 0.0)
    dur = np.diff(grid)
    slot = np.minimum(((grid[:-1] - origin) // period).astype(np.int64), n_slots - 1)
    waiting = q_seg > 0.5
    t_wait = np.bincount(slot, weights=dur * waiting, minlength=n_slots)
    b_wait = np.bincount(slot, weights=dur * waiting * b_seg, minlength=n_slots)
    n = duty["on_duty"].to_numpy(float)
    eff = (n * (period - t_wait) + np.minimum(b_wait, n * t_wait)) / period
    out = duty.copy()
    out["effective"] = np.clip(eff, 0.0, n)
    out["waiting_share"] = t_wait / period
    with np.errstate(invalid="ignore", divide="ignore"):
        out["serving_while_waiting"] = np.where(t_wait > 0, b_wait / np.maximum(t_wait, 1e-300), np.nan)
    assert len(out) == n_slots and out["day"].iloc[0] == day0 and per_day > 0
    return out


@dataclass(frozen=True)
class AfterCallWork:
    """Result of :func:`after_call_work`.

    Attributes
    ----------
    cap
        The cap used (seconds).
    mean, median
        Mean and median of the gaps at most ``cap`` long (seconds).
    var
        Their variance (seconds²).
    n
        Gaps counted (callers waited throughout, at most ``cap``).
    share
        ``mean`` ÷ mean talk time of the calls that precede a counted gap: the
        relative increase of handling time.
    gaps
        Every gap while callers waited (uncapped), seconds.
    sensitivity
        One row per cap: ``cap, n, mean, median, share``.
    """

    cap: float
    mean: float
    median: float
    var: float
    n: int
    share: float
    gaps: np.ndarray = field(repr=False)
    sensitivity: pd.DataFrame = field(repr=False)


def after_call_work(
    calls: pd.DataFrame, *, cap: float = ACW_CAP, caps: Sequence[float] = ACW_CAPS
) -> AfterCallWork:
    """After-call work: an agent's gaps between consecutive calls while callers waited.

    Parameters
    ----------
    calls
        Call table with an ``agent`` column.
    cap
        Longest gap counted as after-call work (seconds); longer ones are breaks.
    caps
        Caps of the sensitivity table.

    Returns
    -------
    AfterCallWork
        ``mean`` is 0 (and ``n`` 0) when the log shows no such gap.
    """
    if not np.isfinite(cap) or cap <= 0:
        raise ValueError(f"cap: must be a positive number of seconds, got {cap}")
    srv = calls["agent"].notna().to_numpy() & calls["service_start"].notna().to_numpy()
    sub = pd.DataFrame(
        {
            "agent": calls["agent"].to_numpy()[srv],
            "s": calls["service_start"].to_numpy(float)[srv],
            "e": calls["service_end"].to_numpy(float)[srv],
        }
    ).sort_values(["agent", "s"], kind="stable")
    same = sub["agent"].to_numpy()[1:] == sub["agent"].to_numpy()[:-1]
    a = sub["e"].to_numpy()[:-1][same]  # end of a call
    z = sub["s"].to_numpy()[1:][same]  # start of the agent's next call
    talk = (sub["e"] - sub["s"]).to_numpy()[:-1][same]
    ok = z >= a
    a, z, talk = a[ok], z[ok], talk[ok]
    # Time with someone waiting, as a cumulative function of time.
    t, _, q, _ = _step(calls)
    waiting = (q[:-1] > 0.5).astype(float)
    cum = np.concatenate([[0.0], np.cumsum(np.diff(t) * waiting)])
    covered = np.interp(z, t, cum) - np.interp(a, t, cum) if t.size else np.zeros(a.size)
    during = covered >= (z - a) - 1e-9
    gaps, talk = (z - a)[during], talk[during]

    def stats_at(c: float) -> tuple[int, float, float, float, float]:
        g = gaps[gaps <= c]
        if g.size == 0:
            return 0, 0.0, 0.0, 0.0, 0.0
        tk = float(talk[gaps <= c].mean())
        return int(g.size), float(g.mean()), float(np.median(g)), float(g.var()), float(g.mean() / tk)

    rows = [(float(c), *stats_at(float(c))) for c in caps]
    sens = pd.DataFrame(
        [(c, n, m, med, sh) for c, n, m, med, _v, sh in rows],
        columns=["cap", "n", "mean", "median", "share"],
    )
    n, mean, median, var, share = stats_at(cap)
    return AfterCallWork(
        cap=float(cap), mean=mean, median=median, var=var, n=n, share=share, gaps=gaps, sensitivity=sens
    )
