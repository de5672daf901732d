"""Staffing: how many servers a service level needs, and which shifts supply them.

Capacity planning in a service system runs in two steps (Gans, Koole and
Mandelbaum 2003). First, for every planning interval, a queueing model turns
the forecast demand into the smallest number of servers that meets the
service target: :func:`required_servers` searches the Erlang C (M/M/c) or,
when customers abandon, the Erlang A (M/M/c+M) model of
:mod:`simlib.theory.queueing`; :func:`square_root_staffing` gives the Halfin-Whitt
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

from simlib.engine import Outcome, build_network, visit_array
from simlib.engine.records import interval_edges
from simlib.experiments.capacity import arrival_weighted_service, visits_per_arrival
from simlib.experiments.execution import Execution, Executor
from simlib.experiments.runner import ScenarioLike, run
from simlib.spec.distributions import Distribution
from simlib.spec.edits import merge_shifts, set_service_level, set_staffing
from simlib.spec.scenario import (
    Arrivals,
    Intensity,
    RateProfile,
    Scenario,
    from_dict,
    load_scenario,
)
from simlib.spec.targets import (
    AbandonmentTarget,
    AsaTarget,
    DelayTarget,
    ServiceLevelTarget,
    Target,
    as_target,
)
from simlib.spec.validation import count, fraction, non_negative, positive
from simlib.theory import queueing

__all__ = [
    "PLAN_METHODS",
    "ShiftSchedule",
    "StaffingPlan",
    "plan_target",
    "required_servers",
    "schedule_shifts",
    "square_root_staffing",
    "staffing_plan",
]

# Ceil of a ratio that is an integer up to rounding (14 / 0.7 = 20.000000000000004)
# must not add a whole server.
_CEIL_SLACK = 1e-9
# Servers beyond which a search gives up: far more than any real service system.
_MAX_SERVERS = 10_000_000


def _ceil(x: float) -> int:
    return math.ceil(x - _CEIL_SLACK)


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
    :func:`simlib.theory.queueing.erlang_c`, :func:`simlib.theory.queueing.erlang_a`).
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
    lam = positive(func, "arrival_rate", arrival_rate)
    s = positive(func, "mean_service", mean_service)
    tgt = fraction(func, "target", target, low_open=True, high_open=True)
    t = non_negative(func, "threshold", threshold)
    patience = (
        None if mean_patience is None else positive(func, "mean_patience", mean_patience)
    )
    occ = (
        None
        if max_occupancy is None
        else fraction(func, "max_occupancy", max_occupancy, low_open=True, high_open=False)
    )
    shrink = fraction(func, "shrinkage", shrinkage, low_open=False, high_open=True)

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
    # Abandonment usually lets Erlang A meet the target with a few servers fewer than
    # Erlang C: step down first (two evaluations in the common case), bisect otherwise.
    for _ in range(3):
        if hi - 1 <= lo or not ok(hi - 1):
            return hi
        hi -= 1
    return _bisect(ok, lo, hi)


def _bisect(ok: Any, lo: int, hi: int) -> int:
    """Smallest ``n`` in ``(lo, hi]`` with ``ok(n)``, for ``ok`` monotone, false at ``lo``
    and true at ``hi``."""
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
    lam = positive(func, "arrival_rate", arrival_rate)
    s = positive(func, "mean_service", mean_service)
    alpha = fraction(func, "p_wait_target", p_wait_target, low_open=True, high_open=True)
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
    start = count(where, "start", spec["start"], minimum=0, whole_floats=True)
    length = count(where, "length", spec["length"], minimum=1, whole_floats=True)
    cost = non_negative(where, "cost", spec.get("cost", length))
    upper = math.inf
    if spec.get("max") is not None:
        upper = float(count(where, "max", spec["max"], minimum=0, whole_floats=True))
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
        off.add(count(where, "breaks", b, minimum=0, whole_floats=True))
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
            _ceil(non_negative(func, f"requirements[{t}]", r))
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
        penalty = positive(func, "understaffing_cost", understaffing_cost)
    if time_limit is not None:
        time_limit = positive(func, "time_limit", time_limit)

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
# TIME-VARYING STAFFING
#
# Per-interval requirements for a time-varying arrival profile: the
# stationary approximations (SIPP, lagged SIPP), the modified offered load
# of the infinite-server model (MOL) and the simulation-based iterative
# staffing algorithm (ISA). Each plan is turned into station shifts and can
# be checked interval by interval by simulation (StaffingPlan.check).
# ==========================================================================

#: Methods of :func:`staffing_plan`.
PLAN_METHODS = ("sipp", "lagged-sipp", "mol", "isa")

# Quantile points used for the expectation over a service-time distribution in
# the MOL offered load; rescaled to the exact mean (see _service_points).
_MOL_POINTS = 1024


def plan_target(target: Any, scenario: Scenario | None = None) -> Target:
    """The target a staffing plan must meet in every planning interval.

    Parameters
    ----------
    target : ServiceLevelTarget, AsaTarget, AbandonmentTarget, DelayTarget or None
        A target object of :mod:`simlib.spec.targets`; None: the scenario's
        ``targets.service_level``. A bare number is refused: ``0.8`` could be
        a service level or a delay probability.
    scenario : Scenario, optional
        Supplies the default when ``target`` is None.

    Returns
    -------
    Target

    Raises
    ------
    ValueError
        If the target is not a target object, is missing, or cannot be
        planned for (a service level of 100%).
    """
    func = "staffing_plan"
    if target is None:
        target = getattr(scenario, "service_level", None)
        if target is None:
            raise ValueError(
                f"{func}: give target= (e.g. ServiceLevelTarget(threshold, target) or "
                "DelayTarget(max_share)); the scenario has no targets.service_level"
            )
    tgt = as_target(target, func)
    if isinstance(tgt, ServiceLevelTarget) and tgt.target >= 1:
        raise ValueError(f"{func}: no finite staffing guarantees a service level of 100%; "
                         "give a target below 1")
    return tgt


def _service_points(dist: Distribution) -> np.ndarray:
    """Equally weighted points representing a service-time distribution.

    Midpoint quantiles ``F^-1((j + 1/2) / J)`` of the distribution, rescaled
    so that their average is the exact mean: the MOL load then reduces
    exactly to ``lambda E[S]`` when the rate is constant (the quantile rule
    alone would lose the far tail of a skewed distribution).
    """
    pts = dist.points(_MOL_POINTS)
    avg = float(np.mean(pts))
    return pts * (dist.mean / avg) if avg > 0 else pts


@dataclass(frozen=True)
class _ClassDemand:
    """One customer class arriving at the planned station."""

    name: str
    intensity: Intensity
    service: Distribution
    mean_patience: float | None
    mean_rate: float
    arrivals: Arrivals

    def service_means(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The mean service time of the arrivals of each interval ``[a_i, b_i)``.

        The distribution's mean everywhere, unless it has a time-of-day
        ``profile``: then the profile averaged over the interval's arrivals.
        """
        return np.array([arrival_weighted_service(self.service, self.arrivals, float(x), float(y))
                         for x, y in zip(a, b, strict=True)])


def _visits(scenario: Scenario, station: str) -> dict[str, float]:
    """Expected visits to ``station`` per external arrival of each class.

    A class with a fixed route visits the station as often as the route lists
    it; the others enter the first station and follow the routing table, so
    their visits solve the traffic equations ``v = e_first + P^T v``
    (Jackson 1957). Failure blocks are not counted: they add rework visits
    whose rate depends on the load.
    """
    try:
        visits = visits_per_arrival(scenario)
    except ValueError:
        raise ValueError(
            "staffing_plan: the routing table has a closed loop that customers never leave"
        ) from None
    return {name: v[station] for name, v in visits.items()}


def _demand(scenario: Scenario, station: str, analytic: bool) -> list[_ClassDemand]:
    """The classes whose customers arrive at ``station``, with their arrival intensities.

    Analytic methods take the classes that enter ``station`` from outside and
    refuse a station that routing also feeds. ISA simulates the routing, so it
    takes every class that reaches the station, with its external intensity
    times the expected visits (:func:`_visits`): an approximation that ignores
    the delay upstream, used only to size the first "ample" staffing and as
    the reference columns of the plan's table.
    """
    func = "staffing_plan"
    names = [s.name for s in scenario.stations]
    if station not in names:
        raise ValueError(f"{func}: no station {station!r} (stations: {', '.join(names)})")
    spec = scenario.station(station)
    if analytic:
        feeders = [s for s, table in scenario.routing.items() if table.get(station, 0) > 0]
        routed = [c.name for c in scenario.classes if c.route and station in c.route[1:]]
        if feeders or routed:
            raise ValueError(
                f"{func}: station {station!r} receives routed customers "
                f"(from {', '.join(feeders + routed)}), which the analytic methods cannot "
                "see: use method='isa', which simulates the routing"
            )
        visits = {
            c.name: 1.0 if (c.route[0] if c.route is not None else names[0]) == station else 0.0
            for c in scenario.classes
        }
    else:
        visits = _visits(scenario, station)
    out = []
    for c in scenario.classes:
        v = visits[c.name]
        if v <= 0:
            continue
        arr = c.arrivals
        if arr.trace is not None:
            raise ValueError(
                f"{func}: class {c.name!r} replays an arrival trace; plans need a rate or a "
                "profile (fit one with simlib.calibrate)"
            )
        if arr.profile is not None:
            profile = arr.profile
        else:
            assert arr.rate is not None  # validated: without a trace or a profile, a rate
            profile = RateProfile(scenario.horizon, (arr.rate,))
        out.append(
            _ClassDemand(
                c.name,
                profile.scaled(v).intensity(scenario.horizon, scenario.warmup),
                spec.service[c.name],
                None if c.patience is None else c.patience.mean,
                v * arr.mean_rate(scenario.horizon),
                arr,
            )
        )
    if not out:
        raise ValueError(f"{func}: no customer class reaches station {station!r}")
    return out


def _shifts(servers: Sequence[int], edges: np.ndarray) -> list[dict[str, Any]]:
    """Scenario shifts from per-interval servers, merging equal neighbours."""
    return merge_shifts([float(x) for x in edges[:-1]], [float(x) for x in edges[1:]],
                        [int(n) for n in servers])


def _with_staffing(scenario: Scenario, station: str, servers: Sequence[int] | int,
                   edges: np.ndarray, target: Target | None = None) -> Scenario:
    """The scenario with the station's servers replaced (a constant or per-interval shifts)."""
    data = scenario.to_dict()
    for st in data["stations"]:
        if st["name"] == station:
            if isinstance(servers, int | np.integer):
                set_staffing(st, int(servers))
            else:
                if not any(int(n) > 0 for n in servers):
                    raise ValueError(
                        "staffing_plan: the plan staffs no interval (every requirement is 0)"
                    )
                set_staffing(st, _shifts(servers, edges))
    if isinstance(target, ServiceLevelTarget):
        set_service_level(data, {"threshold": target.threshold, "target": target.target})
    return from_dict(data, base_dir=scenario.base_dir, default_name=scenario.name,
                     allow_paths=scenario.allow_paths)


def _erlang_c_p_wait_servers(load: float, alpha: float) -> tuple[int, float, list[float]]:
    """Smallest n with Erlang C P(wait) <= alpha; also the Erlang B values B(load, 0..n)."""
    b = 1.0
    bs = [1.0]
    n = 0
    while n < _MAX_SERVERS:
        n += 1
        b = load * b / (n + load * b)
        bs.append(b)
        if n <= load:
            continue
        pw = n * b / (n - load * (1.0 - b))
        if pw <= alpha + 1e-12:
            return n, pw, bs
    raise ValueError("staffing_plan: no staffing below 10 million servers meets the target")


def _erlang_a_p_wait(lam: float, mu: float, theta: float, n: int, b: float) -> float:
    """Erlang A delay probability ``P(N >= n)`` from the Erlang B value ``b = B(lam/mu, n)``.

    With ``pi_n`` the stationary distribution, ``sum_{k<n} pi_k = pi_n (1-b)/b``
    and ``sum_{k>=n} pi_k = pi_n T``, ``T = sum_k prod_{j<=k} lam/(n mu + j theta)``,
    so ``P(N >= n) = b T / (1 - b + b T)``: O(terms) instead of the full distribution.
    """
    if n == 0:
        return 1.0
    if b <= 0.0:
        return 0.0
    peak = max(0.0, (lam - n * mu) / theta)
    terms = int(min(peak + 10.0 * math.sqrt(lam / theta + 1.0) + 30.0, 5e6))
    j = np.arange(1, terms + 1)
    logs = np.cumsum(math.log(lam) - np.log(n * mu + j * theta))
    top = float(logs.max())  # log-sum-exp by hand: scipy's carries array-API overhead per call
    log_t = float(np.logaddexp(0.0, top + math.log(float(np.exp(logs - top).sum()))))
    return 1.0 / (1.0 + math.exp(min(700.0, math.log1p(-b) - math.log(b) - log_t)))


def _smallest(ok: Any, lo: int) -> int:
    """Smallest ``n > lo`` with ``ok(n)``, for ``ok`` false at ``lo`` and monotone above it."""
    hi = max(lo + 1, 1)
    while not ok(hi):
        lo, hi = hi, 2 * hi
        if hi > _MAX_SERVERS:
            raise ValueError("staffing_plan: no staffing below 10 million servers meets the target")
    return _bisect(ok, lo, hi)


def _interval_servers(
    load: float, mean_service: float, target: Target, mean_patience: float | None
) -> tuple[int, float]:
    """Stationary staffing of one interval with offered load ``load``: (servers, predicted metric)."""
    if load <= 0:
        return 0, (1.0 if isinstance(target, ServiceLevelTarget) else 0.0)
    lam = load / mean_service
    if isinstance(target, DelayTarget):
        n_c, pw_c, bs = _erlang_c_p_wait_servers(load, target.max_share)
        if mean_patience is None:
            return n_c, pw_c
        mu, theta = 1.0 / mean_service, 1.0 / mean_patience
        # Abandonment makes the number present stochastically smaller, so the
        # Erlang C answer brackets the Erlang A one from above; P(wait) falls in n.
        lo, hi = 0, n_c
        pw_hi = _erlang_a_p_wait(lam, mu, theta, hi, bs[hi])
        while hi - lo > 1:
            mid = (lo + hi) // 2
            pw = _erlang_a_p_wait(lam, mu, theta, mid, bs[mid])
            if pw <= target.max_share + 1e-12:
                hi, pw_hi = mid, pw
            else:
                lo = mid
        return hi, pw_hi
    if isinstance(target, ServiceLevelTarget):
        t = target.threshold
        if mean_patience is None:
            n = _erlang_c_servers(lam, mean_service, target.target, t, None)
            return n, float(queueing.erlang_c(lam, mean_service, n, threshold=t)["service_level"])
        n = _erlang_a_servers(lam, mean_service, target.target, t, mean_patience, None)
        return n, float(
            queueing.erlang_a(lam, mean_service, n, mean_patience, threshold=t)["service_level"]
        )

    # ASA and abandonment: the metric falls as servers are added (Erlang C needs more
    # servers than the load; Erlang A is stable with any number).
    def metric(n: int) -> float:
        if mean_patience is None:
            return float(queueing.erlang_c(lam, mean_service, n)[target.metric])
        return float(queueing.erlang_a(lam, mean_service, n, mean_patience)[target.metric])

    lo = math.floor(load + _CEIL_SLACK) if mean_patience is None else 0
    n = _smallest(lambda k: target.met(metric(k)), lo)
    return n, metric(n)


@dataclass(frozen=True)
class StaffingPlan:
    """A per-interval staffing plan for one station and the scenario that runs it.

    Attributes
    ----------
    method : str
        One of :data:`PLAN_METHODS`.
    target : ServiceLevelTarget, AsaTarget, AbandonmentTarget or DelayTarget
        What every interval must achieve (:mod:`simlib.spec.targets`).
    station : str
        The planned station.
    interval : float
        Planning interval length, time units.
    table : pandas.DataFrame
        One row per interval: ``start, end`` (observed time), ``arrival_rate``
        (customers per time unit, interval average), ``offered_load``
        (Erlangs: the load the method staffs for; for ``isa`` the MOL load,
        for reference), ``servers`` and ``predicted_<metric>`` (the method's
        own prediction of the target metric: Erlang C/A for the analytic
        methods; for ``isa`` the target's metric simulated with the returned
        staffing, with the plan's seed and replications). For ``isa`` at a station fed by
        routing, ``arrival_rate`` and ``offered_load`` count every visit
        with the external rates times the expected visits (traffic
        equations), ignoring the delay upstream: references only, the plan
        comes from simulating the network.
    scenario : Scenario
        The input scenario with the station's servers replaced by the plan's
        shifts (and, for a service-level target, ``targets.service_level``
        set to it).
    iterations : int
        ISA iterations run (0 for the analytic methods).
    converged : bool
        True when ISA reached a fixed point (within ``tolerance``); False when
        it stopped on a cycle or at ``max_iterations``.
    history : tuple of tuple of int
        ISA staffing after each iteration (empty for the analytic methods).
    cycled : bool
        True when ISA stopped on a cycle (a server flipping between two
        values) and returned the elementwise maximum of the cycle.
    """

    method: str
    target: Target
    station: str
    interval: float
    table: pd.DataFrame = field(repr=False)
    scenario: Scenario = field(repr=False)
    iterations: int = 0
    converged: bool = True
    history: tuple[tuple[int, ...], ...] = field(default=(), repr=False)
    cycled: bool = False

    @property
    def requirements(self) -> list[int]:
        """Servers per interval, e.g. as ``requirements`` of :func:`schedule_shifts`."""
        return [int(n) for n in self.table["servers"]]

    @property
    def shifts(self) -> list[dict[str, Any]]:
        """The plan as scenario shifts ``[{start, end, servers}, ...]``."""
        edges = np.append(self.table["start"].to_numpy(), self.table["end"].iloc[-1])
        return _shifts(self.requirements, edges)

    @property
    def server_time(self) -> float:
        """Scheduled server-time over the observed horizon, server x time units."""
        t = self.table
        return float(((t["end"] - t["start"]) * t["servers"]).sum())

    def schedule(self, shift_types: Sequence[Mapping[str, Any]], **options: Any) -> ShiftSchedule:
        """Cover the plan's requirements with shifts (:func:`schedule_shifts`)."""
        return schedule_shifts(self.requirements, shift_types, **options)

    def check(
        self,
        replications: int = 20,
        seed: int = 0,
        *,
        jobs: int | None = 1,
        level: float = 0.95,
        metrics: Sequence[str] = ("p_wait", "service_level", "p_abandon", "utilization", "mean_wait"),
    ) -> pd.DataFrame:
        """Simulate the plan and report the station's metrics per interval next to the target.

        Parameters
        ----------
        replications : int, default 20
            Independent replications of :attr:`scenario`.
        seed : int, default 0
            Root seed; use a different one from the plan's own (ISA) seed for
            an independent check.
        jobs : int or None, default 1
            Worker processes (see :func:`simlib.run`).
        level : float, default 0.95
            Confidence level of the intervals.
        metrics : sequence of str
            Metrics to report (those the run records).

        Returns
        -------
        pandas.DataFrame
            ``start, end, servers, metric, mean, ci_low, ci_high, n, target,
            predicted`` for the planned station; ``target`` and ``predicted``
            are filled on the rows of the target metric only.
        """
        res = run(self.scenario, replications, seed, jobs=jobs, progress=False,
                  interval=self.interval)
        iv = res.intervals(self.interval, level=level)
        iv = iv[(iv["scope"] == self.station) & iv["metric"].isin(list(metrics))]
        plan = self.table[["start", "servers", f"predicted_{self.target.metric}"]].rename(
            columns={f"predicted_{self.target.metric}": "predicted"}
        )
        out = iv.merge(plan, on="start", how="left")
        is_target = out["metric"] == self.target.metric
        out["target"] = np.where(is_target, self.target.value, np.nan)
        out["predicted"] = np.where(is_target, out["predicted"], np.nan)
        cols = ["start", "end", "servers", "metric", "mean", "ci_low", "ci_high", "n", "target",
                "predicted"]
        return out[cols].sort_values(["metric", "start"], kind="stable").reset_index(drop=True)


def staffing_plan(
    scenario: ScenarioLike,
    method: str = "mol",
    target: Any = None,
    *,
    station: str | None = None,
    interval: float | None = None,
    replications: int = 200,
    seed: int = 0,
    max_iterations: int = 10,
    tolerance: int = 0,
    jobs: int = 1,
) -> StaffingPlan:
    """Servers per planning interval for a time-varying arrival profile.

    Methods (Green, Kolesar and Whitt 2007 review them all):

    ``sipp``
        Stationary independent period-by-period: each interval is treated as
        a stationary M/M/n (Erlang C) or, when the classes have patience,
        M/M/n+M (Erlang A) queue with the interval's average arrival rate.
        Fails when service times are long relative to the interval or the
        rate changes fast: congestion lags the arrivals.
    ``lagged-sipp``
        SIPP with the arrival rate shifted by one mean service time,
        ``lambda(t - E[S])`` (Green, Kolesar and Soares 2001).
    ``mol``
        Modified offered load: the load is the mean number of busy servers
        in the infinite-server model, ``m(t) = E[Lambda(t) - Lambda(t - S)]
        = int_0^inf lambda(t - u) P(S > u) du`` (Eick, Massey and Whitt
        1993), then each interval is staffed as a stationary queue with that
        load (Jennings, Mandelbaum, Massey and Whitt 1996).
    ``isa``
        The iterative staffing algorithm of Feldman, Mandelbaum, Massey and
        Whitt (2008), with the engine as the model: simulate with ample
        servers, estimate the distribution of the number present ``N`` seen
        by arrivals, staff ``s = min{s : P(N >= s) <= alpha}``, simulate
        again with that staffing (finite servers, abandonment, shifts as the
        scenario specifies), and repeat until the staffing stops changing.
        For the other targets ``s`` is the smallest staffing whose metric,
        estimated from the same numbers ``N`` (see Notes), meets the target;
        the plan's prediction is the metric simulated with the returned
        staffing (e.g. the simulated service level).

    Parameters
    ----------
    scenario : Scenario, mapping or path
        The service system; the arrival rates come from the classes that
        enter ``station`` (rate or profile).
    method : {"sipp", "lagged-sipp", "mol", "isa"}, default "mol"
    target : ServiceLevelTarget, AsaTarget, AbandonmentTarget, DelayTarget or None
        What every interval must achieve (:mod:`simlib.spec.targets`), for
        every method: ``ServiceLevelTarget(threshold, target)`` (share served
        within ``threshold``), ``AsaTarget(max_wait)`` (mean wait of the
        served), ``AbandonmentTarget(max_share)`` (needs patience),
        ``DelayTarget(max_share)`` (``P(W > 0)``). None: the scenario's
        ``targets.service_level``. A bare number is refused (see
        :func:`plan_target`).
    station : str, optional
        The station to staff (default: the first). Analytic methods need it
        to receive external arrivals only; ``isa`` also plans stations fed
        by routing (the engine simulates the network with the other
        stations as the scenario staffs them).
    interval : float, optional
        Planning interval, time units (default: the shortest profile period
        of the arriving classes, else the horizon). Staffing is piecewise
        constant on this grid over the observed horizon.
    replications : int, default 200
        ISA only: replications per iteration.
    seed : int, default 0
        ISA only: root seed (every iteration reuses it: common random numbers).
    max_iterations : int, default 10
        ISA only: most iterations after the infinite-server one.
    tolerance : int, default 0
        ISA only: stop when no interval's staffing changes by more than this.
    jobs : int, default 1
        ISA only: worker processes.

    Returns
    -------
    StaffingPlan
        ``.table`` (``start, end, arrival_rate, offered_load, servers,
        predicted_<metric>``), ``.scenario`` (with the planned shifts),
        ``.check(replications, seed)``.

    Notes
    -----
    Stationary formulas use the arrival-weighted mean service time of the
    arriving classes (exponential service assumed, as in the papers) and,
    when every class has patience, Erlang A with the rate-weighted mean
    patience. The warm-up is modelled as the engine runs it (the last rate
    of the cycle, starting empty ``warmup`` before time 0), so MOL loads are
    exact for the simulated model. Deviations of ``isa`` from Feldman et
    al. (2008): staffing is piecewise constant per planning interval, and
    ``s_i`` is chosen from the *arrival-weighted* distribution of ``N`` over
    the interval (the number an arrival finds, so that ``P(N >= s_i)`` is
    the interval's delay probability by PASTA) instead of pointwise in time;
    every iteration reuses the same random numbers, so the iteration is
    deterministic and stops at a fixed point or, when it enters a cycle
    (a server flipping between two values), at the elementwise maximum of
    the cycle (``cycled=True``, ``converged=False``); whenever the returned
    staffing is not the one simulated last (a cycle, a step within
    ``tolerance``, ``max_iterations``), it is simulated once more for
    the prediction. For a target other than the delay probability, an
    arrival that finds ``N >= s`` present at ``s`` servers is taken to wait
    for ``N - s + 1`` exponential service completions at rate ``s / E[S]``
    (the interval's mean service time) and, when the classes have patience,
    to abandon at the rate-weighted mean patience (exponential); customers
    ahead are assumed not to abandon, which errs towards more staff. The
    smallest ``s`` whose estimated metric over the interval's arrivals meets
    the target is the next staffing; the ample first pass doubles its servers until
    no arrival finds them all busy; customers still present when
    the engine gives up draining (long after the horizon) are not counted.

    Raises
    ------
    ValueError
        On an unknown method, a target that is not a target object, an
        abandonment target without patience, or a trace-driven class.
    """
    func = "staffing_plan"
    scn = load_scenario(scenario)
    if method not in PLAN_METHODS:
        raise ValueError(f"{func}: method must be one of {', '.join(PLAN_METHODS)}, got {method!r}")
    tgt = plan_target(target, scn)
    name = station if station is not None else scn.stations[0].name
    demand = _demand(scn, name, analytic=method != "isa")
    if interval is None:
        periods = [d.intensity.period for d in demand if d.intensity.period < scn.horizon]
        interval = min(periods) if periods else scn.horizon
    interval = positive(func, "interval", interval)
    edges = interval_edges(scn.horizon, interval)
    a, b = edges[:-1], edges[1:]
    width = b - a

    rates = np.zeros(a.size)
    loads = np.zeros(a.size)
    weighted_service = np.zeros(a.size)
    for d in demand:
        # Per interval when the service has a time-of-day profile (then the MOL points are
        # the base distribution's, rescaled to each interval's mean).
        es = d.service_means(a, b)
        rate = (d.intensity.cumulative(b) - d.intensity.cumulative(a)) / width
        rates += rate
        weighted_service += rate * es
        if method == "sipp":
            loads += rate * es
        elif method == "lagged-sipp":
            loads += es * (d.intensity.cumulative(b - es) - d.intensity.cumulative(a - es)) / width
        else:  # mol, and the reference load of isa
            s = _service_points(d.service)[None, :] * (es / d.service.mean)[:, None]
            g = d.intensity.integral
            inc = g(b)[:, None] - g(a)[:, None] - g(b[:, None] - s) + g(a[:, None] - s)
            loads += inc.mean(axis=1) / width
    total_rate = sum(d.mean_rate for d in demand)
    overall_service = sum(d.mean_rate * float(d.service_means(np.array([0.0]),
                                                              np.array([scn.horizon]))[0])
                          for d in demand) / total_rate
    mean_service = np.where(rates > 0, weighted_service / np.where(rates > 0, rates, 1.0),
                            overall_service)
    patience = None
    if all(d.mean_patience is not None for d in demand):
        # every class has patience here, so "or 0.0" only tells the type checker so
        patience = sum(d.mean_rate * (d.mean_patience or 0.0) for d in demand) / total_rate
    if isinstance(tgt, AbandonmentTarget) and patience is None:
        raise ValueError(f"{func}: an abandonment target needs patience in every class that "
                         f"reaches station {name!r}; without it nobody abandons")

    iterations, converged, cycled = 0, True, False
    history: tuple[tuple[int, ...], ...] = ()
    if method == "isa":
        servers, predicted, iterations, converged, cycled, history = _isa(
            scn, name, _IsaRule(tgt, mean_service, patience), edges, loads, seed, replications,
            max_iterations, tolerance, jobs,
        )
    else:
        cache: dict[tuple[float, float], tuple[int, float]] = {}
        servers, predicted = [], []
        for load, es in zip(loads, mean_service, strict=True):
            key = (round(float(load), 12), float(es))
            if key not in cache:
                cache[key] = _interval_servers(float(load), float(es), tgt, patience)
            n, p = cache[key]
            servers.append(n)
            predicted.append(p)
    table = pd.DataFrame(
        {
            "start": a,
            "end": b,
            "arrival_rate": rates,
            "offered_load": loads,
            "servers": np.asarray(servers, dtype=int),
            f"predicted_{tgt.metric}": np.asarray(predicted, dtype=float),
        }
    )
    planned = _with_staffing(scn, name, list(table["servers"]), edges, tgt)
    return StaffingPlan(method, tgt, name, float(interval), table, planned, iterations,
                        converged, history, cycled)


# ------------------------------------------------------------------ ISA


def _isa_counts(
    scenario: Scenario, seed: int, replications: Sequence[int], station: str, edges: np.ndarray
) -> np.ndarray:
    """Per arrival at ``station``: interval index, number present found, wait and outcome.

    Module-level so that worker processes can run it. Uses the engine's
    per-visit records: a visit occupies the station from ``t_in`` to
    ``t_end`` (blocked visits never occupy it). Returns an array of shape
    ``(4, arrivals)``; the wait is NaN for a customer who abandoned, the
    outcome 0 (served) or 1 (abandoned).
    """
    parts = []
    for r in replications:
        net = build_network(scenario, seed, r, record=True)
        net.run()
        st = next(s.index for s in net.stations if s.name == station)
        v = visit_array(net.visits or ())
        v = v[(v["station_index"] == st) & (v["outcome"] != Outcome.BLOCKED)]  # not blocked
        t_in = v["t_in"] - net.window_start
        t_end = v["t_end"] - net.window_start
        starts, ends = np.sort(t_in), np.sort(t_end)
        inside = (t_in >= edges[0]) & (t_in < edges[-1])
        arrivals = t_in[inside]
        found = np.searchsorted(starts, arrivals, "left") - np.searchsorted(ends, arrivals, "right")
        parts.append(np.vstack([np.searchsorted(edges, arrivals, "right") - 1, found,
                                (v["t_start"] - v["t_in"])[inside], v["outcome"][inside]]))
    return np.hstack(parts) if parts else np.zeros((4, 0))


def _counts(
    scenario: Scenario, seed: int, replications: int, station: str, edges: np.ndarray,
    pool: Executor, jobs: int,
) -> np.ndarray:
    reps = list(range(replications))
    chunks = [reps[i::jobs] for i in range(jobs)]
    parts = pool.map(_isa_counts, [scenario] * jobs, [seed] * jobs, chunks,
                     [station] * jobs, [edges] * jobs)
    return np.hstack(parts)


@dataclass(frozen=True)
class _IsaRule:
    """How ISA turns the arrivals of one interval into that interval's next staffing.

    ``mean_service`` holds the interval mean service times; ``patience`` is
    the mean (exponential) patience, or None when customers never abandon.
    """

    target: Target
    mean_service: np.ndarray
    patience: float | None

    def estimate(self, i: int, found: np.ndarray, s: int) -> float:
        """The target metric at ``s`` servers for arrivals that found ``found`` present.

        An arrival finding ``N >= s`` waits for ``k = N - s + 1`` completions
        at rate ``r = s / E[S]`` (a gamma wait); with patience rate ``theta``
        it is served when its patience outlasts the wait, with probability
        ``E[exp(-theta W)] = (r / (r + theta))^k``.
        """
        tgt = self.target
        k = np.maximum(found - s + 1, 0).astype(float)
        r = s / float(self.mean_service[i])
        theta = 0.0 if self.patience is None else 1.0 / self.patience
        keep = (r / (r + theta)) ** k  # probability the patience outlasts the wait
        if isinstance(tgt, ServiceLevelTarget):
            within = np.where(k > 0, special.gammainc(np.maximum(k, 1.0), (r + theta) * tgt.threshold),
                              1.0)
            return float(np.mean(keep * within))
        if isinstance(tgt, AsaTarget):
            served = float(keep.sum())
            return float((keep * k / (r + theta)).sum() / served) if served > 0 else math.inf
        return float(np.mean(1.0 - keep))  # AbandonmentTarget

    def servers(self, i: int, found: np.ndarray) -> int:
        """The smallest staffing of interval ``i`` that meets the target for these arrivals."""
        m = found.size
        if isinstance(self.target, DelayTarget):
            k = int(math.floor(self.target.max_share * m + 1e-9))  # at most k may find >= s
            if m == 0 or k >= m:
                return 0
            return int(np.partition(found, m - 1 - k)[m - 1 - k]) + 1  # above the (k+1)-th largest
        if m == 0:
            return 0
        # At max(found) + 1 servers nobody waits, so the target is met; 0 servers serve nobody.
        return _bisect(lambda n: self.target.met(self.estimate(i, found, n)), 0,
                       int(found.max()) + 1)

    def simulated(self, group: np.ndarray, s: int) -> float:
        """The target metric simulated at staffing ``s``: rows found, wait, outcome."""
        found, wait, outcome = group
        if found.size == 0:
            return 1.0 if isinstance(self.target, ServiceLevelTarget) else 0.0
        tgt = self.target
        if isinstance(tgt, DelayTarget):
            return float(np.mean(found >= s))
        served = outcome == 0
        if isinstance(tgt, ServiceLevelTarget):
            return float(np.mean(served & (wait <= tgt.threshold + 1e-12)))
        if isinstance(tgt, AsaTarget):
            return float(np.mean(wait[served])) if served.any() else 0.0
        return float(np.mean(outcome == 1))


def _isa_staffing(data: np.ndarray, n_intervals: int,
                  rule: _IsaRule) -> tuple[list[int], list[np.ndarray]]:
    """Per interval the smallest staffing meeting the rule, and the interval's arrivals."""
    idx = data[0].astype(np.int64)
    order = np.argsort(idx, kind="stable")
    cut = np.searchsorted(idx[order], np.arange(1, n_intervals))
    groups = np.split(data[1:, order], cut, axis=1)
    servers = [rule.servers(i, g[0].astype(np.int64)) for i, g in enumerate(groups)]
    return servers, groups


def _isa(
    scn: Scenario, station: str, rule: _IsaRule, edges: np.ndarray, loads: np.ndarray, seed: int,
    replications: int, max_iterations: int, tolerance: int, jobs: int,
) -> tuple[list[int], list[float], int, bool, bool, tuple[tuple[int, ...], ...]]:
    func = "staffing_plan"
    replications = count(func, "replications", replications, minimum=2, whole_floats=True)
    max_iterations = count(func, "max_iterations", max_iterations, minimum=1, whole_floats=True)
    tolerance = count(func, "tolerance", tolerance, minimum=0, whole_floats=True)
    jobs = count(func, "jobs", jobs, minimum=1, whole_floats=True)
    # "Infinitely many" servers: the number present in M_t/G/inf is Poisson with mean
    # m(t) <= max load, so ten standard deviations above it are never all busy. For a
    # station fed by routing the load is only approximate (upstream queues bunch the
    # arrivals), so _isa_loop doubles the ample staffing until no arrival finds it full.
    peak = float(loads.max()) if loads.size else 0.0
    ample = int(math.ceil(peak + 10.0 * math.sqrt(peak) + 10.0))
    # The experiments' executor: ISA's worker processes start as those of every run.
    with Execution(jobs=jobs, progress=False).open() as pool:
        servers, groups, history, converged, cycled = _isa_loop(
            scn, station, rule, edges, ample, seed, replications, max_iterations, tolerance,
            pool, jobs,
        )
    predicted = [rule.simulated(g, s) for g, s in zip(groups, servers, strict=True)]
    return servers, predicted, len(history) - 1, converged, cycled, tuple(history)


def _isa_loop(
    scn: Scenario, station: str, rule: _IsaRule, edges: np.ndarray, ample: int, seed: int,
    replications: int, max_iterations: int, tolerance: int,
    pool: Executor, jobs: int,
) -> tuple[list[int], list[np.ndarray], list[tuple[int, ...]], bool, bool]:
    """ISA iterations; returns the staffing and, per interval, the arrivals (number found,
    wait, outcome) in a simulation *of that staffing* (for the prediction)."""
    n = len(edges) - 1
    history: list[tuple[int, ...]] = []
    previous: list[int] | None = None
    converged = cycled = False
    groups: list[np.ndarray] = []
    servers: list[int] = []
    simulated: list[int] | None = None  # staffing of the last simulation (None: ample)
    model = _with_staffing(scn, station, ample, edges)
    for _ in range(max_iterations + 1):
        data = _counts(model, seed, replications, station, edges, pool, jobs)
        while simulated is None and data.shape[1] and int(data[1].max()) >= ample:
            if ample >= _MAX_SERVERS:
                raise ValueError("staffing_plan: no ample staffing below 10 million servers")
            ample = min(2 * ample, _MAX_SERVERS)  # some arrival waited: not ample yet
            model = _with_staffing(scn, station, ample, edges)
            data = _counts(model, seed, replications, station, edges, pool, jobs)
        servers, groups = _isa_staffing(data, n, rule)
        if previous is not None and max(abs(x - y) for x, y in zip(servers, previous, strict=True)) <= tolerance:
            history.append(tuple(servers))
            converged = True
            break
        if tuple(servers) in history:
            # With the same random numbers in every iteration the map from staffing to
            # staffing is deterministic, so a repeat is a cycle (typically one server
            # flipping between two values): keep the larger staffing of the cycle.
            cycle = history[history.index(tuple(servers)):]
            servers = [max(col) for col in zip(*cycle, strict=True)]
            history.append(tuple(servers))
            cycled = True
            break
        history.append(tuple(servers))
        previous = simulated = servers
        model = _with_staffing(scn, station, servers, edges)
    if servers != simulated:
        # The last simulation ran another staffing (a cycle's maximum, a step within
        # the tolerance, the last of max_iterations): simulate the plan once more so
        # that the prediction describes the staffing returned.
        model = _with_staffing(scn, station, servers, edges)
        data = _counts(model, seed, replications, station, edges, pool, jobs)
        groups = _isa_staffing(data, n, rule)[1]
    return servers, groups, history, converged, cycled
