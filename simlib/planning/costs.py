"""Costs of service: staff against waiting, abandonment and lost customers.

Staffing trades one cost for others. Every scheduled server-hour is paid;
every hour a customer waits has a cost (the customer's time, goodwill,
occupied lines); every abandonment costs handling (a callback, a repeat
contact), and a customer lost for good costs the margin the relationship
would have earned (the service-profit chain of Heskett et al. 1994: poor
operations lose loyal customers). The total cost is convex in the number of
servers, so there is a cost-optimal staffing level, which may lie above or
below the level the service-level target asks for (Gans, Koole and
Mandelbaum 2003, §4; Borst, Mandelbaum and Reiman 2004 derive the
square-root rule from exactly this trade-off).

:class:`Costs` is :class:`simlib.spec.economics.Economics`, the one money
concept of simlib (the scenario's ``economics`` block parses into it), so a
scenario's prices and the prices given here are the same object;
:func:`replication_costs` turns simulated replications into cost components;
:func:`cost_curve` simulates staffing levels in one :func:`simlib.sweep` (common
random numbers) and :func:`price_sweep` prices a sweep, reporting each
component with a confidence interval, the cost-optimal level and the smallest
level meeting the service-level target;
:func:`analytic_cost_curve` does the same with the Erlang C/A formulas in
microseconds (for widgets). Every function takes its prices as an
``Economics``, a mapping with its keys, or None for the scenario's own
``economics`` block.

Units. Prices are per hour (``wage_per_server_hour``, ``cost_per_waiting_hour``)
or per customer; the scenario's ``time_unit`` label is converted with
:data:`~simlib.spec.units.HOURS_PER_UNIT` unless ``hours_per_time_unit``
is set. Planning prices staff, waiting, abandonment, blocking and lost
customers; complaints and revenue are priced by the engine's money metrics
only (see :mod:`simlib.spec.economics`). All costs are per observed horizon
(one replication) unless a function says otherwise.

Lost customers. With a retention model (the scenario's ``retention`` block,
:mod:`simlib.spec.quality`) a customer is lost when they decide not to come back:
``arrivals × (1 − p_return)``. Without one, a customer is lost when they abandon
or are blocked. Pass ``lost_customers=`` to use another model: a function of
(scenario, metrics of one replication) returning the number of customers lost.

References
----------
- J. L. Heskett, T. O. Jones, G. W. Loveman, W. E. Sasser, L. A. Schlesinger
  (1994), "Putting the service-profit chain to work", *Harvard Business
  Review* 72(2):164-174.
- S. Borst, A. Mandelbaum, M. Reiman (2004), "Dimensioning large call
  centers", *Operations Research* 52(1):17-34.
- N. Gans, G. Koole, A. Mandelbaum (2003), "Telephone call centers:
  tutorial, review, and research prospects", *M&SOM* 5(2):79-141.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simlib.experiments.results import Results, SweepResults
from simlib.experiments.runner import ScenarioLike, sweep
from simlib.experiments.statistics import metric_interval, positive_interval
from simlib.spec import units
from simlib.spec.economics import Economics
from simlib.spec.scenario import Scenario, load_scenario
from simlib.spec.validation import count
from simlib.theory import queueing

__all__ = [
    "HOURS_PER_UNIT",
    "COST_COMPONENTS",
    "Costs",
    "CostCurve",
    "Economics",
    "analytic_cost_curve",
    "cost_curve",
    "cost_summary",
    "price_sweep",
    "prices",
    "replication_costs",
]

#: Hours in one scenario time unit, by ``time_unit`` label.
HOURS_PER_UNIT: dict[str, float] = {
    name: units.HOURS_PER_UNIT[unit] for name, unit in units.UNIT_NAMES.items()
}

#: Cost components, in the order tables and plots show them.
COST_COMPONENTS = ("staff", "waiting", "abandonment", "blocked", "lost", "total")

LostModel = Callable[[Scenario, Mapping[str, Mapping[str, float]]], float]


#: The prices: the same class as the scenario's ``economics`` block (no copy of its fields).
Costs = Economics

Prices = Economics | Mapping[str, Any] | None


def prices(scenario: Scenario, costs: Prices) -> Economics:
    """The prices to use: ``costs`` (an Economics or a mapping), or the scenario's ``economics`` block.

    Raises
    ------
    ValueError
        If ``costs`` is None and the scenario has no ``economics`` block.
    """
    if costs is not None:
        return Economics.from_mapping(costs)
    if scenario.economics is None:
        raise ValueError("give the prices (costs=) or an economics block in the scenario")
    return scenario.economics


def _scheduled_server_time(scenario: Scenario) -> float:
    return sum(st.server_time(0.0, scenario.horizon) for st in scenario.stations)


def _zero_if_nan(x: float) -> float:
    return 0.0 if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def replication_costs(
    results: Results, costs: Prices = None, lost_customers: LostModel | None = None
) -> pd.DataFrame:
    """Cost components of every replication over the observed horizon.

    Parameters
    ----------
    results : simlib.Results
        Simulated replications.
    costs : Economics, mapping or None
        The prices; None: the scenario's ``economics`` block.
    lost_customers : callable, optional
        ``f(scenario, metrics) -> customers lost`` for one replication;
        default: abandoned plus blocked customers (system scope).

    Returns
    -------
    pandas.DataFrame
        ``replication`` and one column per :data:`COST_COMPONENTS` (money
        per horizon), plus ``customers`` (arrivals).
    """
    scn = results.scenario
    c = prices(scn, costs)
    hours = c.hours(scn.time_unit)
    staff = _scheduled_server_time(scn) * hours * c.wage_per_server_hour
    rows = []
    for record in results.records:
        m = record.metrics["system"]
        arrivals = m["arrivals"]
        blocked = arrivals * _zero_if_nan(m["p_blocked"])
        admitted = arrivals - blocked
        abandoned = admitted * _zero_if_nan(m["p_abandon"])
        wait_time = admitted * _zero_if_nan(m["mean_wait"])
        if lost_customers is not None:
            lost = lost_customers(scn, record.metrics)
        elif "p_return" in m:  # the retention model decides who comes back
            lost = arrivals * (1 - _zero_if_nan(m["p_return"]))
        else:
            lost = abandoned + blocked
        row = {
            "replication": record.replication,
            "customers": arrivals,
            "staff": staff,
            "waiting": wait_time * hours * c.cost_per_waiting_hour,
            "abandonment": abandoned * c.cost_per_abandonment,
            "blocked": blocked * c.cost_per_blocked,
            "lost": lost * c.cost_per_lost_customer,
        }
        row["total"] = sum(row[k] for k in COST_COMPONENTS[:-1])
        rows.append(row)
    return pd.DataFrame(rows, columns=["replication", "customers", *COST_COMPONENTS])


def cost_summary(
    results: Results, costs: Prices = None, lost_customers: LostModel | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean and interval of each cost component: ``component, mean, std, ci_low, ci_high, n``.

    Costs are non-negative, so the interval is the log-scale t interval of
    :func:`~simlib.experiments.statistics.positive_interval` (>= 0; the plain t
    interval should a component be negative).
    """
    per_rep = replication_costs(results, costs, lost_customers)
    rows = []
    for comp in COST_COMPONENTS:
        iv = positive_interval(per_rep[comp].to_numpy(), level)
        rows.append((comp, iv.mean, iv.std, iv.ci_low, iv.ci_high, iv.n))
    return pd.DataFrame(rows, columns=["component", "mean", "std", "ci_low", "ci_high", "n"])


@dataclass(frozen=True)
class CostCurve:
    """Total cost against staffing, with the cost-optimal and service-level levels.

    Attributes
    ----------
    table : pandas.DataFrame
        ``servers, quantity, mean, ci_low, ci_high, n``; quantities are the
        cost components (money per horizon) and the system metrics
        ``service_level`` (when the scenario has a target), ``p_wait``,
        ``p_abandon`` and ``mean_wait``, with intervals that respect their
        ranges (:func:`~simlib.experiments.statistics.metric_interval`).
    cost_optimal : int
        Staffing level with the smallest mean total cost.
    service_level_optimal : int or None
        Smallest level whose mean simulated service level meets the
        scenario's target; None without a target or when none meets it.
    station : str
        The station whose servers were varied.
    sweep : SweepResults
        The simulated staffing levels with their replications: price them
        again (:func:`price_sweep`) or read other metrics without simulating.
    """

    table: pd.DataFrame = field(repr=False)
    cost_optimal: int
    service_level_optimal: int | None
    station: str
    sweep: SweepResults | None = field(default=None, repr=False)

    def wide(self) -> pd.DataFrame:
        """One row per staffing level, one column per quantity (means)."""
        return self.table.pivot(index="servers", columns="quantity", values="mean")


def _swept_station(swept: SweepResults) -> str:
    parts = swept.paths[0].split(".") if len(swept.paths) == 1 else []
    if len(parts) != 3 or parts[0] != "stations" or parts[2] != "servers":
        raise ValueError(f"price_sweep: give a sweep of one 'stations.NAME.servers' path, "
                         f"got {list(swept.paths)}")
    return parts[1]


def price_sweep(
    swept: SweepResults,
    costs: Prices = None,
    *,
    lost_customers: LostModel | None = None,
    level: float = 0.95,
) -> CostCurve:
    """The cost curve of a staffing sweep that has run already; nothing is simulated.

    Parameters
    ----------
    swept : SweepResults
        A :func:`simlib.sweep` of one path ``stations.NAME.servers``.
    costs : Economics, mapping or None
        The prices; None: the scenario's ``economics`` block.
    lost_customers : callable, optional
        See :func:`replication_costs`.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    CostCurve
    """
    name = _swept_station(swept)
    metrics = ["service_level", "p_wait", "p_abandon", "mean_wait"]
    rows = []
    for point, res in swept:
        n = point[swept.paths[0]]
        per_rep = replication_costs(res, prices(res.scenario, costs), lost_customers)
        for comp in COST_COMPONENTS:
            iv = positive_interval(per_rep[comp].to_numpy(), level)
            rows.append((n, comp, iv.mean, iv.ci_low, iv.ci_high, iv.n))
        for metric in metrics:
            values = [r["system"].get(metric) for r in res.runs]
            if any(v is None for v in values):
                continue
            iv = metric_interval(np.asarray(values, dtype=float), metric, level)
            rows.append((n, metric, iv.mean, iv.ci_low, iv.ci_high, iv.n))
    table = pd.DataFrame(rows, columns=["servers", "quantity", "mean", "ci_low", "ci_high", "n"])
    total = table[table["quantity"] == "total"].set_index("servers")["mean"]
    best = int(total.idxmin())
    sl_best = None
    target = swept.results[0].scenario.service_level
    if target is not None:
        sl = table[table["quantity"] == "service_level"].set_index("servers")["mean"]
        ok = sl[sl >= target.target]
        sl_best = int(ok.index.min()) if len(ok) else None
    return CostCurve(table, best, sl_best, name, swept)


def cost_curve(
    scenario: ScenarioLike,
    servers: Sequence[int],
    costs: Prices = None,
    replications: int = 20,
    seed: int = 0,
    *,
    station: str | None = None,
    lost_customers: LostModel | None = None,
    jobs: int | None = 1,
    level: float = 0.95,
) -> CostCurve:
    """Simulate a range of staffing levels and price each one.

    The levels are the points of one :func:`simlib.sweep` with one seed, so
    level ``n`` and ``n + 1`` see the same customers (common random numbers)
    and the curve is smooth; :func:`price_sweep` prices them, and the curve
    keeps the sweep.

    Parameters
    ----------
    scenario : Scenario, mapping or path
    servers : sequence of int
        Constant staffing levels for ``station`` (replacing its servers or
        shifts); a level given twice is simulated once.
    costs : Economics, mapping or None
        The prices; None: the scenario's ``economics`` block.
    replications, seed : int
        Per level.
    station : str, optional
        Station to vary (default: the first).
    lost_customers : callable, optional
        See :func:`replication_costs`.
    jobs : int or None, default 1
        Worker processes (see :func:`simlib.run`).
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    CostCurve
    """
    scn = load_scenario(scenario)
    c = prices(scn, costs)
    levels = [count("cost_curve", "servers", n, minimum=1, whole_floats=True) for n in servers]
    if not levels:
        raise ValueError("cost_curve: give at least one staffing level")
    name = station if station is not None else scn.stations[0].name
    if name not in [s.name for s in scn.stations]:
        raise ValueError(f"cost_curve: no station {name!r}")
    swept = sweep(scn, {f"stations.{name}.servers": list(dict.fromkeys(levels))}, replications,
                  seed, jobs=jobs, progress=False)
    return price_sweep(swept, c, lost_customers=lost_customers, level=level)


def analytic_cost_curve(
    arrival_rate: float,
    mean_service: float,
    servers: Sequence[int],
    costs: Economics | Mapping[str, Any],
    *,
    mean_patience: float | None = None,
    threshold: float | None = None,
    time_unit: str = "minute",
) -> pd.DataFrame:
    """Costs per hour of a stationary queue for each staffing level (Erlang C or A).

    Parameters
    ----------
    arrival_rate : float
        Customers per time unit.
    mean_service : float
        Mean service time, time units.
    servers : sequence of int
        Staffing levels; Erlang C levels at or below the offered load are
        unstable and get NaN metrics and infinite costs.
    costs : Economics or mapping
        The prices.
    mean_patience : float, optional
        Mean exponential patience, time units (selects Erlang A).
    threshold : float, optional
        Service-level threshold, time units.
    time_unit : str, default "minute"
        Label of the time unit (for the hour conversion).

    Returns
    -------
    pandas.DataFrame
        ``servers, staff, waiting, abandonment, lost, total`` (money per
        hour) and ``p_wait, service_level, p_abandon, mean_wait,
        utilization``.
    """
    c = Economics.from_mapping(costs)
    hours = c.hours(time_unit)
    per_hour = arrival_rate / hours  # customers per hour
    rows = []
    load = arrival_rate * mean_service
    for n in servers:
        n = int(n)
        if mean_patience is None:
            if n <= load:
                m = {k: math.nan for k in ("p_wait", "service_level", "p_abandon", "mean_wait",
                                          "utilization")}
                rows.append({"servers": n, "staff": n * c.wage_per_server_hour, "waiting": math.inf,
                             "abandonment": 0.0, "lost": 0.0, "total": math.inf, **m})
                continue
            m = queueing.erlang_c(arrival_rate, mean_service, n, threshold=threshold)
        else:
            m = queueing.erlang_a(arrival_rate, mean_service, n, mean_patience, threshold=threshold)
        row = {
            "servers": n,
            "staff": n * c.wage_per_server_hour,
            "waiting": per_hour * m["mean_wait"] * hours * c.cost_per_waiting_hour,
            "abandonment": per_hour * m["p_abandon"] * c.cost_per_abandonment,
            "lost": per_hour * m["p_abandon"] * c.cost_per_lost_customer,
        }
        row["total"] = row["staff"] + row["waiting"] + row["abandonment"] + row["lost"]
        for k in ("p_wait", "service_level", "p_abandon", "mean_wait", "utilization"):
            row[k] = m.get(k, math.nan)
        rows.append(row)
    return pd.DataFrame(rows)
