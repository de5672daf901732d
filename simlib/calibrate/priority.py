"""The waiting-time credit of priority callers, read from the order of service.

Under a credit discipline a caller who joined the queue at ``t`` with credit
``c`` is ordered by ``t − c`` (docs/scenario.md, ``discipline: credit``). A
log shows the order: whenever an agent takes a waiting caller, every other
caller still waiting was ranked behind. If the chosen caller is a priority
caller who joined at ``t_p`` while a regular caller who joined at ``t_r <
t_p`` still waits, the credit exceeds ``t_p − t_r`` (a lower bound); if the
chosen caller is regular and a priority caller who joined at ``t_p > t_r``
still waits, the credit is below ``t_p − t_r`` (an upper bound). Only the
strongest bound of each service start is kept (the earliest-joined waiting
caller of the other level), and :func:`estimate_credit` returns the credit
consistent with the largest number of bounds (the midpoint of the best
interval), so a few out-of-order records (clock skew, skills-based routing)
do not decide it. Callers are compared within their class only (a centre
with skills-based routing serves different classes from different agents,
which says nothing about the order within a queue).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["CreditEstimate", "estimate_credit"]


@dataclass(frozen=True)
class CreditEstimate:
    """Result of :func:`estimate_credit`.

    Attributes
    ----------
    credit
        Estimated credit (seconds): midpoint of the interval that agrees with
        most ordering decisions.
    low, high
        That interval.
    agreement
        Share of the decisions the interval agrees with.
    n_lower, n_upper
        Decisions giving a lower bound (priority served first) and an upper
        bound (regular served first).
    """

    credit: float
    low: float
    high: float
    agreement: float
    n_lower: int
    n_upper: int


def estimate_credit(calls: pd.DataFrame) -> CreditEstimate:
    """Estimate the waiting-time credit of the most urgent priority level.

    Parameters
    ----------
    calls
        Call table (``priority, queued, queue_start, queue_exit,
        service_start, outcome``; seconds). The most urgent level is the
        smallest ``priority``; every other level counts as regular. Calls
        whose priority is unknown (``priority_known`` False) are left out.

    Returns
    -------
    CreditEstimate

    Raises
    ------
    ValueError
        Fewer than two priority levels among queued callers, or no decision
        that bounds the credit.
    """
    q = calls["queued"].to_numpy(bool) & calls["queue_exit"].notna().to_numpy()
    if "priority_known" in calls.columns:
        q &= calls["priority_known"].to_numpy(bool)
    prio = calls["priority"].to_numpy()[q]
    if len(np.unique(prio)) < 2:
        raise ValueError("priority: need queued callers of at least two priority levels")
    urgent = prio == prio.min()
    cls = pd.factorize(calls["class"].to_numpy()[q])[0]
    qs = calls["queue_start"].to_numpy(float)[q]
    qe = calls["queue_exit"].to_numpy(float)[q]
    served = (calls["outcome"].astype(str).to_numpy() == "served")[q]
    # Sweep over joins and exits; keep, per level, a heap of (join time, id) of waiting callers.
    times = np.r_[qs, qe]
    kind = np.r_[np.zeros(qs.size, int), np.ones(qe.size, int)]  # exits after joins at equal times
    who = np.r_[np.arange(qs.size), np.arange(qs.size)]
    order = np.lexsort((-kind, times))
    n_cls = int(cls.max()) + 1
    waiting: list[list[tuple[float, int]]] = [[] for _ in range(2 * n_cls)]
    gone = np.zeros(qs.size, bool)
    lower: list[float] = []
    upper: list[float] = []
    for e in order:
        i = int(who[e])
        lvl = int(urgent[i])
        if kind[e] == 0:
            heapq.heappush(waiting[2 * cls[i] + lvl], (qs[i], i))
            continue
        gone[i] = True
        if served[i]:
            other = waiting[2 * cls[i] + 1 - lvl]
            while other and gone[other[0][1]]:
                heapq.heappop(other)
            if other:
                t_other = other[0][0]
                if lvl == 1 and t_other < qs[i]:
                    lower.append(qs[i] - t_other)  # priority overtook an earlier regular
                elif lvl == 0 and t_other > qs[i]:
                    upper.append(t_other - qs[i])  # a later priority caller did not overtake
    if not lower and not upper:
        raise ValueError("no service decision with callers of both levels waiting")
    lo, up = np.sort(np.asarray(lower)), np.sort(np.asarray(upper))
    cand = np.unique(np.r_[0.0, lo, up])
    # Agreement of c just above each candidate: lower bounds below c, upper bounds above c.
    agree = np.searchsorted(lo, cand, side="right") + (up.size - np.searchsorted(up, cand, side="right"))
    best = int(np.argmax(agree))
    low = float(cand[best])
    high = float(cand[best + 1]) if best + 1 < cand.size else low
    return CreditEstimate(
        credit=(low + high) / 2,
        low=low,
        high=high,
        agreement=float(agree[best] / (lo.size + up.size)),
        n_lower=int(lo.size),
        n_upper=int(up.size),
    )
