"""Blocking after service: customers held on their upstream server while the next station is full.

A station with ``blocking: after_service`` (:mod:`simlib.spec.routing`) does not turn away a
customer routed to it from another station when it is full (every server busy and its queue
at ``queue_capacity``): the customer stays on the server that has just served it upstream,
and that server is *blocked* — it serves nobody — until a place frees at the full station.
Customers blocked on one station move in in the order they became blocked (Ciw's order).
:class:`Blocking` keeps who is blocked where and what it cost; the network decides when a
customer is held and when a place frees (a service ends and the customer moves on, a waiting
customer abandons, or a customer blocked there is released, which frees its own server).

**Deadlock.** Customers blocked on each other in a cycle of full stations can never move:
a station is *stuck* when it is full, every one of its busy servers holds a blocked customer,
none of its waiting customers can abandon, and every station its blocked customers wait on
is stuck. The stuck stations are the largest set with that property (a greatest fixed
point). Two events can create one (shifts are refused with ``after_service``): a new
blocking, and an abandonment at a full station whose place a blocked customer who cannot
abandon then takes. So :meth:`Blocking.hold` checks the wait-for graph from the station the
customer now waits on, the network checks it again from the station of an abandonment while
anyone is blocked, and it stops the run with :class:`~simlib.engine.network.DeadlockError`. The check costs nothing until somebody is
blocked, and a network without ``after_service`` stations has no :class:`Blocking` at all.

Counting (docs/metrics.md#blocking-after-service): a blocked customer's time on the upstream
server is neither wait nor service: it is *time blocked*, booked at the upstream station when
the customer is released — in the station's ``mean_time_blocked`` (per served visit), its
``utilization_blocked`` (blocked server-time ÷ scheduled server-time), its ``mean_sojourn``
and ``mean_in_system`` (the customer is still there) — and in its class's and the system's
``mean_time_blocked`` (per admitted customer) and the departure record's ``blocked``.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable, Sequence
from typing import Any

from simlib.engine.events import Metrics

__all__ = ["Blocking", "is_full"]


def is_full(st: Any) -> bool:
    """True when station ``st`` has every server busy and its queue at capacity."""
    return st.busy >= st.capacity and st.n_waiting >= st.queue_limit


def can_abandon(st: Any) -> bool:
    """True when a customer waiting at ``st`` may still abandon (which frees a place)."""
    queue = st.pools.queue if st.pools is not None else st.queue
    for entry in queue:
        c = entry[2] if isinstance(entry, tuple) else entry
        if c.waiting and c.patience_event is not None:
            return True
    return False


class Blocking:
    """Who is blocked on which station, and the tallies of blocked time.

    ``stations`` and ``classes`` are the network's run-time states (indexed by their
    ``index``); ``overlap(a, b)`` is the part of ``[a, b]`` inside the observed window.
    """

    def __init__(self, stations: Sequence[Any], classes: Sequence[Any],
                 overlap: Callable[[float, float], float]) -> None:
        self.stations = stations
        self.overlap = overlap
        #: Whether each station holds customers routed to it upstream when it is full.
        self.after_service = [st.spec.blocking == "after_service" for st in stations]
        #: Per station: the customers blocked on it, in the order they became blocked.
        self.queues: list[deque[Any]] = [deque() for _ in stations]
        #: Per station: how many of its servers hold a blocked customer, and on which stations
        #: those customers wait (station index -> count).
        self.held = [0] * len(stations)
        self.targets: list[Counter[int]] = [Counter() for _ in stations]
        #: Blocked customers by ident: (upstream station, station waited on, blocked since).
        self.holding: dict[int, tuple[Any, Any, float]] = {}
        #: Per upstream station: time blocked of counted visits, and its window integral.
        self.station_time = [0.0] * len(stations)
        self.station_area = [0.0] * len(stations)
        #: Per class (at arrival): time blocked of counted customers who were admitted (the
        #: network takes back the time of one later turned away).
        self.class_time = [0.0] * len(classes)

    def holds(self, st: Any) -> bool:
        """True when a customer routed to ``st`` from another station is held upstream now."""
        return self.after_service[st.index] and is_full(st)

    def hold(self, c: Any, upstream: Any, target: Any, now: float) -> list[Any] | None:
        """Block ``c`` on ``upstream``'s server until ``target`` has a place.

        Returns the stuck stations (in scenario order) when this blocking closes a deadlock,
        else None.
        """
        self.queues[target.index].append(c)
        self.held[upstream.index] += 1
        self.targets[upstream.index][target.index] += 1
        self.holding[c.ident] = (upstream, target, now)
        return self.deadlock(target)

    def release(self, c: Any, now: float) -> Any:
        """Book the time ``c`` was blocked (it leaves its upstream server now); the upstream station."""
        upstream, target, since = self.holding.pop(c.ident)
        u = upstream.index
        self.held[u] -= 1
        targets = self.targets[u]
        targets[target.index] -= 1
        if not targets[target.index]:
            del targets[target.index]
        blocked = now - since
        c.time_blocked = getattr(c, "time_blocked", 0.0) + blocked
        self.station_area[u] += self.overlap(since, now)
        if c.visit_counted:  # still the upstream visit's flag: the next visit has not begun
            self.station_time[u] += blocked
            upstream.sum_sojourn += blocked
        if c.counted:
            self.class_time[c.arrived_as.index] += blocked
        return upstream

    def flush(self, c: Any, now: float) -> None:
        """``c`` is still blocked when the run stops: its blocked time so far in the window."""
        upstream, _, since = self.holding[c.ident]
        self.station_area[upstream.index] += self.overlap(since, now)

    def deadlock(self, start: Any) -> list[Any] | None:
        """The stuck stations if ``start`` is stuck (see the module's description), else None."""
        reach = {start.index}
        stack = [start.index]
        while stack:
            for y in self.targets[stack.pop()]:
                if y not in reach:
                    reach.add(y)
                    stack.append(y)
        stuck = reach
        changed = True
        while changed and start.index in stuck:
            changed = False
            for x in sorted(stuck):
                st = self.stations[x]
                if (self.held[x] < st.busy or not is_full(st) or can_abandon(st)
                        or any(y not in stuck for y in self.targets[x])):
                    stuck = stuck - {x}
                    changed = True
        if start.index not in stuck:
            return None
        return [self.stations[x] for x in sorted(stuck)]

    def add_metrics(self, out: Metrics, horizon: float, stations: Sequence[Any],
                    classes: Sequence[Any]) -> None:
        """Add ``mean_time_blocked`` and ``utilization_blocked``; count blocked customers in
        their upstream station's ``mean_in_system``."""
        scheduled_total = 0.0
        for st in stations:
            m = out[st.name]
            area = self.station_area[st.index]
            scheduled = st.spec.server_time(0.0, horizon)
            scheduled_total += scheduled
            m["mean_time_blocked"] = (self.station_time[st.index] / st.n_completed
                                      if st.n_completed else math.nan)
            m["utilization_blocked"] = area / scheduled if scheduled else math.nan
            m["mean_in_system"] += area / horizon
        admitted = 0
        for k in classes:
            out[k.name]["mean_time_blocked"] = (self.class_time[k.index] / k.n_admitted
                                                if k.n_admitted else math.nan)
            admitted += k.n_admitted
        out["system"]["mean_time_blocked"] = (sum(self.class_time) / admitted
                                              if admitted else math.nan)
        out["system"]["utilization_blocked"] = (sum(self.station_area) / scheduled_total
                                                if scheduled_total else math.nan)
