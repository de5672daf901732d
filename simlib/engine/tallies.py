"""Tallies: the streaming statistics of a replication and the metrics made from them.

The network does not store what happens to customers; it adds each event to
a few running sums as it happens (:class:`Counts`): arrivals, waits,
abandonments, completions, and the window integrals of queue length and
busy servers. Stations count visits, classes count customers. When the run
ends, :func:`scope_metrics` turns one scope's sums into its metrics (means,
probabilities, time-averages, utilization against the server-time the
schedule offered, :meth:`~simlib.spec.scenario.Station.server_time`), and :func:`network_metrics`
does so for every station, every class and the system, whose tallies are the
classes' summed (:class:`Tallies`).

The same functions turn the per-interval sums of :mod:`simlib.engine.records`
into per-interval metrics, so both views share one definition of each metric.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from simlib.engine.events import Metrics
from simlib.spec.scenario import Scenario

__all__ = [
    "Counts",
    "Tallies",
    "scope_metrics",
    "network_metrics",
    "blocks_after_a_visit",
]


class Counts:
    """Tallies shared by classes (per customer) and stations (per visit).

    They count customers or visits that arrive in the observed window;
    ``n_done_in_window`` counts completions inside it and the areas are
    window integrals.
    """

    def __init__(self) -> None:
        self.n_arrivals = 0
        self.n_blocked = 0
        self.n_waited = 0
        self.n_sl_ok = 0
        self.n_abandoned = 0
        self.n_completed = 0
        self.sum_wait = 0.0
        self.sum_wait_served = 0.0
        self.sum_sojourn = 0.0
        self.sum_service = 0.0
        self.n_done_in_window = 0
        self.queue_area = 0.0
        self.n_censored = 0
        #: Queue time, summed over earlier visits, of customers who were then blocked.
        self.sum_wait_blocked = 0.0


class Tallies:
    """Customer tallies summed over classes (the system scope), or for one interval."""

    FIELDS = (
        "n_arrivals n_blocked n_admitted n_waited n_sl_ok n_abandoned n_completed sum_wait "
        "sum_wait_served sum_sojourn sum_service n_done_in_window queue_area system_area "
        "sum_wait_blocked"
    ).split()
    n_arrivals: float
    n_blocked: float
    n_admitted: float
    n_waited: float
    n_sl_ok: float
    n_abandoned: float
    n_completed: float
    sum_wait: float
    sum_wait_served: float
    sum_sojourn: float
    sum_service: float
    n_done_in_window: float
    queue_area: float
    system_area: float
    sum_wait_blocked: float

    def __init__(self, **values: float) -> None:
        for f in self.FIELDS:
            setattr(self, f, values.get(f, 0))

    def add(self, k: Any) -> None:
        """Add the tallies of ``k`` (anything with the same attributes)."""
        for f in self.FIELDS:
            setattr(self, f, getattr(self, f) + getattr(k, f))


def _ratio(a: float, b: float) -> float:
    """``a / b``, NaN when nothing was counted (``b == 0``)."""
    return a / b if b else math.nan


def scope_metrics(
    t: Any,
    duration: float,
    with_sl: bool,
    *,
    admitted: float,
    in_system_area: float,
    scheduled: float | None = None,
    busy_area: float | None = None,
    blocked_wait: bool = False,
) -> dict[str, float]:
    """The metrics of one scope from its tallies over an observation of ``duration``.

    Station tallies count visits; class and system tallies count customers,
    whose waits and services are summed over the stations they visited.
    Utilization is reported where server time is known (stations, system);
    ``mean_wait_blocked`` where ``blocked_wait`` is set (classes and the system of a scenario
    that can block a customer after an earlier visit, :func:`blocks_after_a_visit`).
    """
    m = {
        "arrivals": float(t.n_arrivals),
        "throughput": t.n_done_in_window / duration,
        "p_wait": _ratio(t.n_waited, admitted),
        "mean_wait": _ratio(t.sum_wait, admitted),
        "asa": _ratio(t.sum_wait_served, t.n_completed),
    }
    if with_sl:
        m["service_level"] = _ratio(t.n_sl_ok, admitted)
    m["p_abandon"] = _ratio(t.n_abandoned, admitted)
    m["p_blocked"] = _ratio(t.n_blocked, t.n_arrivals)
    if blocked_wait:
        m["mean_wait_blocked"] = _ratio(t.sum_wait_blocked, t.n_blocked)
    if scheduled is not None:
        busy = t.busy_area if busy_area is None else busy_area
        m["utilization"] = _ratio(busy, scheduled)
    m["mean_queue"] = t.queue_area / duration
    m["mean_in_system"] = in_system_area / duration
    m["mean_sojourn"] = _ratio(t.sum_sojourn, t.n_completed)
    m["mean_service"] = _ratio(t.sum_service, t.n_completed)
    return m


def blocks_after_a_visit(scenario: Scenario) -> bool:
    """True when a customer can be blocked after an earlier visit (docs/metrics.md).

    That is when some station can turn a customer away (``queue_capacity`` or ``balking``)
    and customers can make more than one visit (``routing``, a ``route`` of two stations or
    more, or ``failures`` detours).
    """
    can_block = any(s.queue_capacity is not None or s.balking is not None
                    for s in scenario.stations)
    visits_more = bool(scenario.routing or scenario.failures) or any(
        c.route is not None and len(c.route) > 1 for c in scenario.classes)
    return can_block and visits_more


def network_metrics(scenario: Scenario, stations: Sequence[Any], classes: Sequence[Any]) -> Metrics:
    """The whole-window metrics of every station, class and the system.

    ``stations`` and ``classes`` are the network's run-time states (their
    :class:`Counts` plus ``n_started``, ``busy_area``, ``n_admitted`` and
    ``system_area``), in scenario order.
    """
    h = scenario.horizon
    with_sl = scenario.service_level is not None
    out: Metrics = {}
    busy = scheduled = 0.0
    for st in stations:
        server_time = st.spec.server_time(0.0, h)
        if not st.spec.infinite:  # self-service is nobody's server time
            busy += st.busy_area
        scheduled += server_time
        out[st.name] = scope_metrics(
            st, h, with_sl, admitted=st.n_started + st.n_abandoned + st.n_censored,
            in_system_area=st.queue_area + st.busy_area, scheduled=server_time,
        )
    totals = Tallies()
    blocked_wait = blocks_after_a_visit(scenario)
    for k in classes:
        out[k.name] = scope_metrics(
            k, h, with_sl, admitted=k.n_admitted, in_system_area=k.system_area,
            blocked_wait=blocked_wait,
        )
        totals.add(k)
    out["system"] = scope_metrics(
        totals, h, with_sl, admitted=totals.n_admitted, in_system_area=totals.system_area,
        scheduled=scheduled, busy_area=busy, blocked_wait=blocked_wait,
    )
    return out
