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

:class:`Costs` holds the prices; :func:`replication_costs` turns simulated
replications into cost components; :func:`cost_curve` simulates a range of
staffing levels with common random numbers and reports each component with
a confidence interval, the cost-optimal level and the smallest level meeting
the service-level target; :func:`analytic_cost_curve` does the same with the
Erlang C/A formulas in microseconds (for widgets).

Units. Prices are per hour (staff, waiting) or per customer. The scenario's
``time_unit`` label is converted with :data:`HOURS_PER_UNIT` (second, minute,
hour, day = 24 hours); set ``Costs.hours_per_time_unit`` when the label is
something else or a "day" means a working day. All costs are per observed
horizon (one replication) unless a function says otherwise.

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

from simlib.experiments.results import Results
from simlib.experiments.runner import ScenarioLike, run
from simlib.experiments.statistics import metric_interval, positive_interval
from simlib.spec import units
from simlib.spec.scenario import Scenario, load_scenario
from simlib.spec.validation import count, non_negative, positive
from simlib.theory import queueing

__all__ = [
    "HOURS_PER_UNIT",
    "COST_COMPONENTS",
    "Costs",
    "CostCurve",
    "analytic_cost_curve",
    "cost_curve",
    "cost_summary",
    "replication_costs",
]

#: Hours in one scenario time unit, by ``time_unit`` label.
HOURS_PER_UNIT: dict[str, float] = {
    name: units.HOURS_PER_UNIT[unit] for name, unit in units.UNIT_NAMES.items()
}

#: Cost components, in the order tables and plots show them.
COST_COMPONENTS = ("staff", "waiting", "abandonment", "blocked", "lost", "total")

LostModel = Callable[[Scenario, Mapping[str, Mapping[str, float]]], float]


@dataclass(frozen=True)
class Costs:
    """Prices of capacity and of poor service (money units of your choice).

    Attributes
    ----------
    staff_per_hour : float
        Cost of one scheduled server for one hour (wage plus overhead).
    waiting_per_hour : float
        Cost of one customer waiting one hour.
    per_abandonment : float
        Handling cost of one abandonment (callback, repeat contact).
    per_blocked : float
        Handling cost of one customer turned away because the queue was full.
    per_lost_customer : float
        Margin lost with each lost customer (see the module notes).
    hours_per_time_unit : float, optional
        Hours in one scenario time unit; default from the scenario's
        ``time_unit`` via :data:`HOURS_PER_UNIT`.
    """

    staff_per_hour: float = 0.0
    waiting_per_hour: float = 0.0
    per_abandonment: float = 0.0
    per_blocked: float = 0.0
    per_lost_customer: float = 0.0
    hours_per_time_unit: float | None = None

    def __post_init__(self) -> None:
        for name in ("staff_per_hour", "waiting_per_hour", "per_abandonment", "per_blocked",
                     "per_lost_customer"):
            non_negative("Costs", name, getattr(self, name))
        if self.hours_per_time_unit is not None:
            positive("Costs", "hours_per_time_unit", self.hours_per_time_unit)

    def hours(self, time_unit: str) -> float:
        """Hours in one time unit called ``time_unit``.

        Raises
        ------
        ValueError
            If the label is unknown and ``hours_per_time_unit`` is not set.
        """
        if self.hours_per_time_unit is not None:
            return float(self.hours_per_time_unit)
        key = time_unit.strip().lower()
        if key not in HOURS_PER_UNIT:
            raise ValueError(
                f"Costs: unknown time unit {time_unit!r}; set hours_per_time_unit "
                f"(known: {', '.join(sorted(HOURS_PER_UNIT))})"
            )
        return HOURS_PER_UNIT[key]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | Costs) -> Costs:
        """Build from a dict (unknown keys are refused)."""
        if isinstance(values, Costs):
            return values
        allowed = set(cls.__dataclass_fields__)
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"Costs: unknown key(s) {sorted(unknown)}; allowed {sorted(allowed)}")
        return cls(**dict(values))


def _scheduled_server_time(scenario: Scenario) -> float:
    return sum(st.server_time(0.0, scenario.horizon) for st in scenario.stations)


def _zero_if_nan(x: float) -> float:
    return 0.0 if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def replication_costs(
    results: Results, costs: Costs | Mapping[str, Any], lost_customers: LostModel | None = None
) -> pd.DataFrame:
    """Cost components of every replication over the observed horizon.

    Parameters
    ----------
    results : simlib.Results
        Simulated replications.
    costs : Costs or mapping
        The prices.
    lost_customers : callable, optional
        ``f(scenario, metrics) -> customers lost`` for one replication;
        default: abandoned plus blocked customers (system scope).

    Returns
    -------
    pandas.DataFrame
        ``replication`` and one column per :data:`COST_COMPONENTS` (money
        per horizon), plus ``customers`` (arrivals).
    """
    c = Costs.from_mapping(costs)
    scn = results.scenario
    hours = c.hours(scn.time_unit)
    staff = _scheduled_server_time(scn) * hours * c.staff_per_hour
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
            "waiting": wait_time * hours * c.waiting_per_hour,
            "abandonment": abandoned * c.per_abandonment,
            "blocked": blocked * c.per_blocked,
            "lost": lost * c.per_lost_customer,
        }
        row["total"] = sum(row[k] for k in COST_COMPONENTS[:-1])
        rows.append(row)
    return pd.DataFrame(rows, columns=["replication", "customers", *COST_COMPONENTS])


def cost_summary(
    results: Results, costs: Costs | Mapping[str, Any], lost_customers: LostModel | None = None,
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
    """

    table: pd.DataFrame = field(repr=False)
    cost_optimal: int
    service_level_optimal: int | None
    station: str

    def wide(self) -> pd.DataFrame:
        """One row per staffing level, one column per quantity (means)."""
        return self.table.pivot(index="servers", columns="quantity", values="mean")


def cost_curve(
    scenario: ScenarioLike,
    servers: Sequence[int],
    costs: Costs | Mapping[str, Any],
    replications: int = 20,
    seed: int = 0,
    *,
    station: str | None = None,
    lost_customers: LostModel | None = None,
    jobs: int | None = 1,
    level: float = 0.95,
) -> CostCurve:
    """Simulate a range of staffing levels and price each one.

    Every level runs with the same seed, so level ``n`` and ``n + 1`` see
    the same customers (common random numbers) and the curve is smooth.

    Parameters
    ----------
    scenario : Scenario, mapping or path
    servers : sequence of int
        Constant staffing levels for ``station`` (replacing its servers or shifts).
    costs : Costs or mapping
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
    c = Costs.from_mapping(costs)
    levels = [count("cost_curve", "servers", n, minimum=1, whole_floats=True) for n in servers]
    if not levels:
        raise ValueError("cost_curve: give at least one staffing level")
    name = station if station is not None else scn.stations[0].name
    if name not in [s.name for s in scn.stations]:
        raise ValueError(f"cost_curve: no station {name!r}")
    metrics = ["service_level", "p_wait", "p_abandon", "mean_wait"]
    rows = []
    for n in levels:
        variant = scn.with_overrides({f"stations.{name}.servers": n})
        res = run(variant, replications, seed, jobs=jobs, progress=False)
        per_rep = replication_costs(res, c, lost_customers)
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
    if scn.service_level is not None:
        sl = table[table["quantity"] == "service_level"].set_index("servers")["mean"]
        ok = sl[sl >= scn.service_level.target]
        sl_best = int(ok.index.min()) if len(ok) else None
    return CostCurve(table, best, sl_best, name)


def analytic_cost_curve(
    arrival_rate: float,
    mean_service: float,
    servers: Sequence[int],
    costs: Costs | Mapping[str, Any],
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
    costs : Costs or mapping
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
    c = Costs.from_mapping(costs)
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
                rows.append({"servers": n, "staff": n * c.staff_per_hour, "waiting": math.inf,
                             "abandonment": 0.0, "lost": 0.0, "total": math.inf, **m})
                continue
            m = queueing.erlang_c(arrival_rate, mean_service, n, threshold=threshold)
        else:
            m = queueing.erlang_a(arrival_rate, mean_service, n, mean_patience, threshold=threshold)
        row = {
            "servers": n,
            "staff": n * c.staff_per_hour,
            "waiting": per_hour * m["mean_wait"] * hours * c.waiting_per_hour,
            "abandonment": per_hour * m["p_abandon"] * c.per_abandonment,
            "lost": per_hour * m["p_abandon"] * c.per_lost_customer,
        }
        row["total"] = row["staff"] + row["waiting"] + row["abandonment"] + row["lost"]
        for k in ("p_wait", "service_level", "p_abandon", "mean_wait", "utilization"):
            row[k] = m.get(k, math.nan)
        rows.append(row)
    return pd.DataFrame(rows)
