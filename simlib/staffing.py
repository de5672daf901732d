"""Staffing: how many servers a service level needs, and which shifts supply them.

Capacity planning in a service system runs in two steps (Gans, Koole and
Mandelbaum 2003). First, for every planning interval, a queueing model turns
the forecast demand into the smallest number of servers that meets the
service target: :func:`required_servers` searches the Erlang C (M/M/c) or,
when customers abandon, the Erlang A (M/M/c+M) model of
:mod:`simlib.queueing`; :func:`square_root_staffing` gives the Halfin-Whitt
rule of thumb ``n = R + beta sqrt(R)``, which explains why large centres need
proportionally fewer spare servers (economies of scale). Second, people work
in shifts, not intervals: :func:`schedule_shifts` chooses how many shifts of
each allowed type to schedule so that every interval is covered at minimum
cost, an integer set-covering problem (Dantzig 1954) solved with
``scipy.optimize.milp`` (HiGHS).

Times and rates use the time unit of the scenario; shift starts, lengths and
breaks are counted in planning intervals.

References
----------
- A. K. Erlang (1917), "Solution of some problems in the theory of
  probabilities of significance in automatic telephone exchanges".
- S. Halfin, W. Whitt (1981), "Heavy-traffic limits for queues with many
  exponential servers", *Operations Research* 29(3):567-588.
- O. Garnett, A. Mandelbaum, M. Reiman (2002), "Designing a call center with
  impatient customers", *M&SOM* 4(3):208-227.
- N. Gans, G. Koole, A. Mandelbaum (2003), "Telephone call centers: tutorial,
  review, and research prospects", *M&SOM* 5(2):79-141.
- G. B. Dantzig (1954), "A comment on Edie's 'Traffic delays at toll
  booths'", *Journal of the Operations Research Society of America*
  2(3):339-341 (the shift-scheduling set-covering formulation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from simlib import queueing

__all__ = [
    "ShiftSchedule",
    "required_servers",
    "schedule_shifts",
    "square_root_staffing",
]

# Ceil of a ratio that is an integer up to rounding (14 / 0.7 = 20.000000000000004)
# must not add a whole server.
_CEIL_SLACK = 1e-9
# Servers beyond which a search gives up: far more than any real service system.
_MAX_SERVERS = 10_000_000


def _ceil(x: float) -> int:
    return math.ceil(x - _CEIL_SLACK)


def _fraction(func: str, name: str, value: Any, *, low_open: bool, high_open: bool) -> float:
    x = queueing._as_float(func, name, value)
    low_ok = x > 0 if low_open else x >= 0
    high_ok = x < 1 if high_open else x <= 1
    if not (low_ok and high_ok):
        interval = f"{'(' if low_open else '['}0, 1{')' if high_open else ']'}"
        raise ValueError(f"{func}: {name} must be in {interval}, got {value!r}")
    return x


# --------------------------------------------------------------------------
# single-interval staffing
# --------------------------------------------------------------------------


def required_servers(
    arrival_rate: float,
    mean_service: float,
    target: float,
    threshold: float,
    mean_patience: float | None = None,
    max_occupancy: float | None = None,
    shrinkage: float = 0.0,
) -> int:
    """Smallest number of servers meeting a service-level target.

    The service level is the share of arrivals whose service starts within
    ``threshold`` (abandoned customers count as failures): Erlang C when
    ``mean_patience`` is None, Erlang A otherwise (see
    :func:`simlib.queueing.erlang_c`, :func:`simlib.queueing.erlang_a`).
    Optionally the occupancy (server utilisation) must also stay at or below
    ``max_occupancy``. The result, the servers needed on duty, is grossed up
    for shrinkage (breaks, training, absence):
    ``ceil(n / (1 - shrinkage))`` servers must be scheduled.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate, customers per time unit, > 0.
    mean_service : float
        Mean service (handling) time, time units, > 0.
    target : float
        Required service level, in (0, 1), e.g. 0.8.
    threshold : float
        Acceptable waiting time, time units, >= 0, e.g. 20 s = 1/3 min.
    mean_patience : float, optional
        Mean (exponential) patience, time units, > 0; selects Erlang A.
    max_occupancy : float, optional
        Highest allowed utilisation, in (0, 1].
    shrinkage : float, default 0
        Share of paid time servers are not available, in [0, 1).

    Returns
    -------
    int
        Servers to schedule (after shrinkage).

    Raises
    ------
    ValueError
        If an argument is invalid.

    Examples
    --------
    Call Centre Helper's example: 100 calls per 30 minutes, 3-minute
    handling time, 80% answered within 20 seconds, at most 85% occupancy and
    30% shrinkage (time unit: minutes):

    >>> required_servers(100 / 30, 3.0, 0.8, 20 / 60, max_occupancy=0.85)
    14
    >>> required_servers(100 / 30, 3.0, 0.8, 20 / 60, max_occupancy=0.85, shrinkage=0.3)
    20
    """
    func = "required_servers"
    lam = queueing._positive(func, "arrival_rate", arrival_rate)
    s = queueing._positive(func, "mean_service", mean_service)
    tgt = _fraction(func, "target", target, low_open=True, high_open=True)
    t = queueing._non_negative(func, "threshold", threshold)
    patience = (
        None if mean_patience is None else queueing._positive(func, "mean_patience", mean_patience)
    )
    occ = (
        None
        if max_occupancy is None
        else _fraction(func, "max_occupancy", max_occupancy, low_open=True, high_open=False)
    )
    shrink = _fraction(func, "shrinkage", shrinkage, low_open=False, high_open=True)

    if patience is None:
        n = _erlang_c_servers(lam, s, tgt, t, occ)
    else:
        n = _erlang_a_servers(lam, s, tgt, t, patience, occ)
    return _ceil(n / (1.0 - shrink)) if shrink > 0 else n


def _erlang_c_servers(lam: float, s: float, target: float, t: float, occ: float | None) -> int:
    """Linear search upwards, carrying the Erlang B recursion along (O(n) in all)."""
    load = lam * s
    b = 1.0
    n = 0
    while n < _MAX_SERVERS:
        n += 1
        b = load * b / (n + load * b)
        if n <= load:
            continue  # unstable below the load
        if occ is not None and load / n > occ + 1e-12:
            continue
        pw = n * b / (n - load * (1.0 - b))
        sl = 1.0 - pw * math.exp(-(n / s - lam) * t)
        if sl >= target - 1e-12:
            return n
    raise ValueError("required_servers: no staffing below 10 million servers meets the target")


def _erlang_a_servers(
    lam: float, s: float, target: float, t: float, patience: float, occ: float | None
) -> int:
    """Bisection: service level rises and occupancy falls with every added server."""

    def ok(n: int) -> bool:
        r = queueing.erlang_a(lam, s, n, patience, threshold=t)
        if occ is not None and r["utilization"] > occ + 1e-12:
            return False
        return r["service_level"] >= target - 1e-12

    # Below target x load servers even the served share, at most c mu / lambda, misses the
    # target, so the search starts there; Erlang C's answer is a good first upper bracket.
    load = lam * s
    lo = max(0, math.ceil(target * load) - 1)  # known to fail (n = 0 serves nobody)
    hi = max(lo + 1, _erlang_c_servers(lam, s, target, t, occ))
    while not ok(hi):
        lo, hi = hi, 2 * hi
        if hi > _MAX_SERVERS:
            raise ValueError(
                "required_servers: no staffing below 10 million servers meets the target"
            )
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def square_root_staffing(
    arrival_rate: float, mean_service: float, p_wait_target: float
) -> tuple[int, float]:
    """Halfin-Whitt square-root staffing for a delay-probability target.

    In the quality-and-efficiency-driven regime the M/M/n delay probability
    with ``n = R + beta sqrt(R)`` servers (``R`` the offered load) tends to
    ``alpha(beta) = [1 + beta Phi(beta) / phi(beta)]^(-1)`` (Halfin and Whitt
    1981; ``Phi``, ``phi`` the standard normal cdf and density). This function
    solves ``alpha(beta) = p_wait_target`` for ``beta > 0`` and returns
    ``n = ceil(R + beta sqrt(R))``. The rule is asymptotic but very accurate
    (usually within one server of the exact Erlang C answer) even for small
    centres (Borst, Mandelbaum and Reiman 2004).

    Parameters
    ----------
    arrival_rate : float
        Arrival rate, customers per time unit, > 0.
    mean_service : float
        Mean service time, time units, > 0.
    p_wait_target : float
        Target probability that a customer waits, in (0, 1).

    Returns
    -------
    servers : int
        ``ceil(R + beta sqrt(R))``.
    beta : float
        The quality-of-service parameter (safety staffing in units of sqrt(R)).
    """
    func = "square_root_staffing"
    lam = queueing._positive(func, "arrival_rate", arrival_rate)
    s = queueing._positive(func, "mean_service", mean_service)
    alpha = _fraction(func, "p_wait_target", p_wait_target, low_open=True, high_open=True)
    load = lam * s
    goal = math.log1p(-alpha) - math.log(alpha)  # log(1/alpha - 1)

    def log_ratio(beta: float) -> float:
        # log(beta Phi(beta) / phi(beta)), in logs so that large beta cannot overflow
        return (
            math.log(beta)
            + float(special.log_ndtr(beta))
            + 0.5 * beta * beta
            + 0.5 * math.log(2.0 * math.pi)
        )

    lo, hi = 1e-12, 40.0
    if log_ratio(lo) >= goal:  # target within 1e-12 of 1: no safety staffing needed
        beta = lo
    else:
        beta = float(optimize.brentq(lambda b: log_ratio(b) - goal, lo, hi, xtol=1e-14))
    n = max(_ceil(load + beta * math.sqrt(load)), math.floor(load) + 1)
    return n, beta


# --------------------------------------------------------------------------
# shift scheduling (set covering)
# --------------------------------------------------------------------------

_SHIFT_KEYS = {"name", "start", "length", "cost", "breaks", "max"}


@dataclass(frozen=True)
class ShiftSchedule:
    """A minimum-cost set of shifts covering per-interval requirements.

    Attributes
    ----------
    counts : dict[str, int]
        Number of shifts of each type, by shift name (in input order).
    cost : float
        Total cost of the schedule (sum of count x cost, plus any
        under-staffing penalty).
    coverage : pandas.DataFrame
        One row per interval: ``interval, required, staffed, over, under``
        (``over = max(staffed - required, 0)``, ``under`` the shortfall).
    table : pandas.DataFrame
        One row per shift type: ``name, start, length, cost, count,
        total_cost``.
    optimal : bool
        False only when a time limit stopped the solver with a feasible,
        possibly suboptimal, schedule.
    """

    counts: dict[str, int]
    cost: float
    coverage: pd.DataFrame = field(repr=False)
    table: pd.DataFrame = field(repr=False)
    optimal: bool = True

    def report(self) -> pd.DataFrame:
        """Under- and over-staffing summary.

        Returns
        -------
        pandas.DataFrame
            Columns ``measure, value``: shifts scheduled, cost, required and
            staffed server-intervals, over- and under-staffing in
            server-intervals, intervals over- and under-staffed, and
            efficiency (required / staffed server-intervals).
        """
        cov = self.coverage
        required = float(cov["required"].sum())
        staffed = float(cov["staffed"].sum())
        rows = [
            ("shifts", float(sum(self.counts.values()))),
            ("cost", float(self.cost)),
            ("required_server_intervals", required),
            ("staffed_server_intervals", staffed),
            ("over_staffing", float(cov["over"].sum())),
            ("under_staffing", float(cov["under"].sum())),
            ("intervals_over", float((cov["over"] > 0).sum())),
            ("intervals_under", float((cov["under"] > 0).sum())),
            ("efficiency", required / staffed if staffed > 0 else math.nan),
        ]
        return pd.DataFrame(rows, columns=["measure", "value"])


def _shift_cover(
    i: int, spec: Mapping[str, Any], horizon: int, cyclic: bool
) -> tuple[str, int, int, float, np.ndarray, float]:
    """Validate one shift type and return (name, start, length, cost, column, max)."""
    where = f"schedule_shifts: shift_types[{i}]"
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where} must be a mapping, got {type(spec).__name__}")
    unknown = set(spec) - _SHIFT_KEYS
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {sorted(unknown)}; allowed {sorted(_SHIFT_KEYS)}"
        )
    for key in ("name", "start", "length"):
        if key not in spec:
            raise ValueError(f"{where}: missing key {key!r}")
    name = spec["name"]
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}.name must be a non-empty string, got {name!r}")
    start = queueing._count(where, "start", spec["start"], minimum=0)
    length = queueing._count(where, "length", spec["length"], minimum=1)
    cost = queueing._non_negative(where, "cost", spec.get("cost", length))
    upper = math.inf
    if spec.get("max") is not None:
        upper = float(queueing._count(where, "max", spec["max"], minimum=0))
    if start >= horizon:
        raise ValueError(f"{where}.start {start} is outside the {horizon} intervals")
    if not cyclic and start + length > horizon:
        raise ValueError(
            f"{where} ({name}): start {start} + length {length} exceeds the {horizon} "
            "intervals; shorten it or pass cyclic=True to wrap around"
        )
    if cyclic and length > horizon:
        raise ValueError(f"{where} ({name}): length {length} exceeds the {horizon}-interval cycle")
    breaks = spec.get("breaks") or []
    off = set()
    for b in breaks:
        off.add(queueing._count(where, "breaks", b, minimum=0))
    if any(b >= length for b in off):
        raise ValueError(f"{where}.breaks must be offsets within the shift (0..{length - 1})")
    column = np.zeros(horizon)
    for offset in range(length):
        if offset not in off:
            column[(start + offset) % horizon] = 1.0
    return name, start, length, cost, column, upper


def schedule_shifts(
    requirements: Sequence[float],
    shift_types: Sequence[Mapping[str, Any]],
    *,
    cyclic: bool = False,
    understaffing_cost: float | None = None,
    time_limit: float | None = None,
) -> ShiftSchedule:
    """Minimum-cost shifts covering per-interval staffing requirements.

    Solves the set-covering integer program (Dantzig 1954)

    ``minimise sum_j cost_j x_j  subject to  sum_j a_tj x_j >= r_t for all t,
    x_j in {0, 1, 2, ...}``

    where ``x_j`` is the number of shifts of type ``j`` and ``a_tj = 1`` when
    a shift of type ``j`` works in interval ``t`` (not on a break). With
    ``understaffing_cost`` the covering constraints become soft: a shortfall
    of one server in one interval costs that amount. Solved exactly by HiGHS
    through :func:`scipy.optimize.milp`.

    Parameters
    ----------
    requirements : sequence of float
        Servers needed in each planning interval (e.g. from
        :func:`required_servers`), >= 0; fractional values are rounded up.
    shift_types : sequence of mapping
        Allowed shifts, each ``{"name": str, "start": int, "length": int,
        "cost": float, "breaks": [int, ...], "max": int}``: ``start`` is the
        first interval (0-based), ``length`` the number of intervals,
        ``cost`` the cost of one such shift (default: its length), ``breaks``
        optional offsets within the shift (0 = first interval) when the
        person is off, ``max`` an optional limit on how many can be
        scheduled. Names must be unique.
    cyclic : bool, default False
        Treat the intervals as a repeating cycle (e.g. a day), so a shift may
        run past the last interval into the first (night shifts).
    understaffing_cost : float, optional
        Penalty per missing server per interval, > 0; when None every
        requirement must be met.
    time_limit : float, optional
        Solver time limit in seconds.

    Returns
    -------
    ShiftSchedule
        ``counts``, ``cost``, ``coverage``, ``table`` and ``report()``.

    Raises
    ------
    ValueError
        If the input is invalid, or the requirements cannot be covered
        (an interval no shift works in, or ``max`` limits too tight).
    """
    func = "schedule_shifts"
    req_raw = list(requirements)
    if not req_raw:
        raise ValueError(f"{func}: requirements must hold at least one interval")
    req = np.array(
        [
            _ceil(queueing._non_negative(func, f"requirements[{t}]", r))
            for t, r in enumerate(req_raw)
        ],
        dtype=float,
    )
    horizon = req.size
    specs = list(shift_types)
    if not specs:
        raise ValueError(f"{func}: shift_types must hold at least one shift type")
    parsed = [_shift_cover(i, spec, horizon, cyclic) for i, spec in enumerate(specs)]
    names = [p[0] for p in parsed]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"{func}: shift names must be unique; repeated {dup}")
    penalty = None
    if understaffing_cost is not None:
        penalty = queueing._positive(func, "understaffing_cost", understaffing_cost)
    if time_limit is not None:
        time_limit = queueing._positive(func, "time_limit", time_limit)

    cover = np.column_stack([p[4] for p in parsed])  # intervals x shift types
    if penalty is None:
        uncovered = np.flatnonzero((req > 0) & (cover.sum(axis=1) == 0))
        if uncovered.size:
            raise ValueError(
                f"{func}: interval {int(uncovered[0])} requires {int(req[uncovered[0]])} "
                "servers but no shift type works in it"
            )

    n_shift = len(parsed)
    costs = np.array([p[3] for p in parsed])
    upper = np.array([p[5] for p in parsed])
    if penalty is None:
        c_vec, a_mat = costs, cover
        lb, ub = np.zeros(n_shift), upper
    else:
        # slack u_t >= 0: servers missing in interval t
        c_vec = np.concatenate([costs, np.full(horizon, penalty)])
        a_mat = np.hstack([cover, np.eye(horizon)])
        lb = np.zeros(n_shift + horizon)
        ub = np.concatenate([upper, np.full(horizon, np.inf)])
    options: dict[str, Any] = {}
    if time_limit is not None:
        options["time_limit"] = time_limit
    res = optimize.milp(
        c_vec,
        integrality=np.ones(c_vec.size),
        bounds=optimize.Bounds(lb, ub),
        constraints=optimize.LinearConstraint(a_mat, lb=req, ub=np.inf),
        options=options,
    )
    if res.x is None:
        raise ValueError(f"{func}: no feasible schedule ({res.message})")
    x = np.round(res.x[:n_shift]).astype(int)
    staffed = cover @ x
    under = np.maximum(req - staffed, 0.0)
    over = np.maximum(staffed - req, 0.0)
    total = float(costs @ x) + (float(penalty * under.sum()) if penalty is not None else 0.0)

    coverage = pd.DataFrame(
        {
            "interval": np.arange(horizon),
            "required": req.astype(int),
            "staffed": staffed.astype(int),
            "over": over.astype(int),
            "under": under.astype(int),
        }
    )
    table = pd.DataFrame(
        {
            "name": names,
            "start": [p[1] for p in parsed],
            "length": [p[2] for p in parsed],
            "cost": costs,
            "count": x,
            "total_cost": costs * x,
        }
    )
    return ShiftSchedule(
        counts={name: int(k) for name, k in zip(names, x, strict=True)},
        cost=total,
        coverage=coverage,
        table=table,
        optimal=bool(res.status == 0),
    )


# ==========================================================================
# TIME-VARYING STAFFING (reserved)
#
# The lead adds `staffing_plan` here together with the engine: per-interval
# requirements for a time-varying arrival profile (e.g. stationary
# independent period-by-period or lagged/infinite-server offered load),
# validated by simulation, feeding `schedule_shifts`. Keep this section last.
# ==========================================================================
