"""Offered load per station: the work arriving at a station against the servers it has.

The offered load of a station is the work that arrives there per time unit,
``sum_c lambda_c v_c E[S_c]`` over the customer classes ``c`` (external
arrival rate ``lambda_c`` averaged over the horizon, ``v_c`` expected visits to
the station per arrival, ``E[S_c]`` the class's mean service time there), in
Erlangs. Divided by the servers — averaged over the horizon when the station
works shifts — it is the utilisation the station would need; at 1 or above
the station cannot keep up, so a queue without patience or a capacity limit
grows for as long as the run lasts and its waits measure the horizon, not the
system.

When a service time varies by time of day (a ``profile``, see
:mod:`simlib.spec.timevarying`), ``E[S_c]`` is its arrival-weighted average
over the horizon (:func:`arrival_weighted_service`), not the base mean: the
work that arrives is what the profile says for the times customers come.

Expected visits come from a class's fixed route (how often it lists the
station) or, for classes that follow the routing table from the first
station, from the traffic equations (:func:`simlib.theory.queueing.traffic_rates`).
Rework after service failures and customers who come back (retention) are
not counted: they only add load, so a station flagged here is overloaded all
the more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from simlib.spec.distributions import Distribution
from simlib.spec.scenario import Arrivals, Scenario, Station
from simlib.spec.timevarying import Profiled, weighted_service_mean
from simlib.theory.queueing import traffic_rates

__all__ = ["StationLoad", "offered_loads", "visits_per_arrival", "arrival_weighted_service"]


@dataclass(frozen=True)
class StationLoad:
    """The offered load of one station over a scenario's horizon."""

    station: str
    #: Customers (visits) arriving per time unit.
    arrival_rate: float
    #: Work arriving per time unit, in Erlangs (busy servers needed on average).
    offered_load: float
    #: Servers averaged over the observed horizon (shifts weighted by their length); with
    #: ``speeds``, their sum (the work the servers do per time unit).
    servers: float

    @property
    def utilisation(self) -> float:
        """Offered load per server: 1 or more means the station cannot keep up."""
        if self.servers > 0:
            return self.offered_load / self.servers
        return math.inf if self.offered_load > 0 else 0.0


def visits_per_arrival(scenario: Scenario) -> dict[str, dict[str, float]]:
    """Expected visits ``{class: {station: visits}}`` per external arrival of each class.

    Raises
    ------
    ValueError
        If the routing table traps customers in a loop they never leave.
    """
    names = [s.name for s in scenario.stations]
    index = {n: i for i, n in enumerate(names)}
    routing = np.zeros((len(names), len(names)))
    for origin, table in scenario.routing.items():
        for to, p in table.items():
            if to in index:
                routing[index[origin], index[to]] = p
    routed = traffic_rates(np.eye(len(names))[0], routing)
    return {
        c.name: ({n: float(c.route.count(n)) for n in names} if c.route is not None
                 else {n: float(routed[index[n]]) for n in names})
        for c in scenario.classes
    }


def _mean_servers(station: Station, horizon: float) -> float:
    if station.infinite:
        return math.inf
    if station.speeds is not None:
        return sum(station.speeds)  # servers of speed 1 that do the same work (no shifts)
    if station.shifts is None:
        return float(station.max_servers)
    edges = sorted({0.0, horizon, *(t for s in station.shifts for t in (s.start, s.end)
                                    if 0.0 < t < horizon)})
    work = sum(station.servers_at((a + b) / 2) * (b - a) for a, b in pairwise(edges))
    return work / horizon


def arrival_weighted_service(dist: Distribution, arrivals: Arrivals, start: float,
                             end: float) -> float:
    """The mean service time of the customers arriving over ``[start, end)`` of observed time.

    The distribution's mean when it has no profile; else its time-varying mean
    weighted by the class's arrival rate (taken at arrival: the start of
    service where nobody waits), or averaged over the replayed arrival times
    of a trace.
    """
    if not isinstance(dist, Profiled):
        return dist.mean
    if arrivals.trace is not None:
        times = [t for t in arrivals.trace if start <= t < end]
        return float(np.mean([dist.mean_at(t) for t in times])) if times else dist.mean_over(start, end)
    profile = arrivals.profile
    if profile is not None:
        return weighted_service_mean(dist, profile.rate_at, start, end, breaks=profile.period)
    return dist.mean_over(start, end)


def offered_loads(scenario: Scenario) -> list[StationLoad]:
    """The offered load of every station, in the scenario's station order."""
    visits = visits_per_arrival(scenario)
    rates = {c.name: c.arrivals.mean_rate(scenario.horizon) for c in scenario.classes}
    out = []
    for st in scenario.stations:
        flow = work = 0.0
        for c in scenario.classes:
            v = visits[c.name][st.name]
            if v > 0:
                flow += rates[c.name] * v
                es = arrival_weighted_service(st.service[c.name], c.arrivals, 0.0, scenario.horizon)
                work += rates[c.name] * v * es
        out.append(StationLoad(st.name, flow, work, _mean_servers(st, scenario.horizon)))
    return out
