"""The service network: customers flowing through stations on a SimPy clock.

One :class:`ServiceNetwork` is one replication of a scenario. It keeps a
:class:`simpy.Environment` as the clock and event queue (so users can attach
their own SimPy processes to ``network.env``), but the hot path does not run
a generator process per customer: every arrival, service end, abandonment and
shift change is a scheduled event whose callback performs the next step, and
each queue is a plain deque (fifo) or heap (priority). This is what makes the
engine several times faster than a textbook SimPy model while producing the
same sample paths.

Statistics are streaming. Customer-based metrics are counted for customers who
arrive during the observed window ``[warmup, warmup + horizon)``; after the
window the model keeps running ("drains") until each of them has left, so
every counted customer's wait is complete. Time-averages (queue length, busy
servers, number present) are exact integrals over the window: each stay in a
queue or in service adds its overlap with the window when it ends, which
avoids updating level accumulators at every event.

Outcomes of a customer's visit to a station: served (service started, then
completed), abandoned (patience ran out while waiting) or blocked (queue full
on arrival). A customer leaves the system when a route ends, routing sends it
to ``exit``, it abandons or it is blocked.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from heapq import heappop, heappush
from itertools import count
from typing import Any

import simpy
from simpy.events import NORMAL, Event

from simlib.engine.rng import BlockSampler, StreamFactory
from simlib.spec.distributions import Exponential, Uniform
from simlib.spec.scenario import EXIT, CustomerClass, Scenario, Station

__all__ = ["ServiceNetwork", "ReplicationRecord", "simulate"]

Metrics = dict[str, dict[str, float]]


@dataclass(frozen=True)
class ReplicationRecord:
    """Everything one replication produced, in plain Python types.

    This is the unit that executors move between processes and that result
    stores write to disk, so it converts losslessly to and from flat rows.
    """

    #: Replication number ``r`` (with the experiment's seed it fixes the random streams).
    replication: int
    #: ``{scope: {metric: value}}`` over the whole observed window.
    metrics: Metrics
    #: Per-interval metrics: ``(start, end, {scope: {metric: value}})`` in observed time.
    intervals: tuple[tuple[float, float, Metrics], ...] = ()
    #: Event log rows ``(customer, class, station, event, time)`` when a trace was asked for.
    events: tuple[tuple[int, str, str, str, float], ...] | None = field(default=None, compare=False)
    #: Experience rows of the observed customers (``simlib.engine.quality.CUSTOMER_COLUMNS``)
    #: when the scenario has a quality block.
    customers: tuple[tuple, ...] | None = field(default=None, compare=False)
    #: Customers still present at the drain limit, whose waits were censored there
    #: (not kept in result stores: a record loaded from one reports 0).
    censored: int = field(default=0, compare=False)

    def to_rows(self) -> list[tuple[int, float, float, str, str, float]]:
        """Flat rows ``(replication, start, end, scope, metric, value)``.

        Whole-window metrics have ``start = end = NaN``. The event log is not
        part of the rows (traces are for inspection, not for result stores).
        """
        nan = math.nan
        rows = [
            (self.replication, nan, nan, scope, metric, value)
            for scope, metrics in self.metrics.items()
            for metric, value in metrics.items()
        ]
        for start, end, block in self.intervals:
            rows.extend(
                (self.replication, start, end, scope, metric, value)
                for scope, metrics in block.items()
                for metric, value in metrics.items()
            )
        return rows

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any]]) -> ReplicationRecord:
        """Rebuild a record from :meth:`to_rows` output (order preserved)."""
        replication = None
        metrics: Metrics = {}
        blocks: dict[tuple[float, float], Metrics] = {}
        for rep, start, end, scope, metric, value in rows:
            replication = int(rep)
            if isinstance(start, float) and math.isnan(start):
                metrics.setdefault(scope, {})[metric] = float(value)
            else:
                block = blocks.setdefault((float(start), float(end)), {})
                block.setdefault(scope, {})[metric] = float(value)
        if replication is None:
            raise ValueError("no rows to rebuild a replication record from")
        intervals = tuple((a, b, m) for (a, b), m in blocks.items())
        return cls(replication, metrics, intervals)

_log = logging.getLogger("simlib")

# Why a customer left the system.
_COMPLETED, _ABANDONED, _BLOCKED = 0, 1, 2


class _Step(Event):
    """An event that fires ``callback(event)`` after ``delay``; ``event._value`` is its payload.

    Equivalent to ``Timeout(env, delay, value)`` plus ``callbacks.append(...)``
    in one constructor call: this runs for every event of the simulation.
    """

    def __init__(self, env: simpy.Environment, delay: float, callback: Callable, value: Any) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = value
        self._ok = True
        env.schedule(self, NORMAL, delay)


class _Customer:
    """One customer's state while in the system."""

    __slots__ = (
        "ident",
        "kind",
        "t_arrive",
        "counted",
        "pos",
        "station",
        "t_in",
        "t_start",
        "service",
        "patience_event",
        "waiting",
        "visit_counted",
        "wait_total",
        "service_total",
        "waited",
        "late",
        "q",
    )

    def __init__(self, ident: int, kind: _ClassState, now: float, counted: bool) -> None:
        self.ident = ident
        self.kind = kind
        self.t_arrive = now
        self.counted = counted
        self.pos = 0
        self.wait_total = 0.0
        self.service_total = 0.0
        self.waited = False
        self.late = False
        self.patience_event: Event | None = None
        self.waiting = False
        #: Quality-model state (simlib.engine.quality), None when the model is off.
        self.q: Any = None


class _Counts:
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


class _ClassState(_Counts):
    """A customer class at run time, with its customer-level tallies."""

    def __init__(self, spec: CustomerClass, index: int) -> None:
        super().__init__()
        self.spec = spec
        self.name = spec.name
        self.index = index
        self.priority = spec.priority
        self.route: tuple[_StationState, ...] | None = None
        self.patience: BlockSampler | None = None
        self.n_admitted = 0
        self.system_area = 0.0


class _StationState(_Counts):
    """A station at run time: servers, queue, samplers and visit-level tallies."""

    def __init__(self, spec: Station, index: int) -> None:
        super().__init__()
        self.spec = spec
        self.name = spec.name
        self.index = index
        self.capacity = 0
        self.busy = 0
        self.n_waiting = 0
        self.queue_limit = math.inf if spec.queue_capacity is None else spec.queue_capacity
        self.priority = spec.discipline == "priority"
        self.queue: Any = [] if self.priority else deque()
        # Service sampler per class index (the same object when not per class).
        self.service: list[BlockSampler] = []
        # Routing: cumulative probabilities and the matching next stations (None = exit).
        self.route_cum: tuple[float, ...] = ()
        self.route_to: tuple[_StationState | None, ...] = (None,)
        self.route_draw: BlockSampler | None = None
        #: Service-time multiplier from staff attributes (None = no staff block).
        self.speed: float | None = None
        self.n_failed = 0
        self.n_repeats = 0
        self.n_recoveries = 0
        self.n_recovered = 0
        self.n_started = 0
        self.busy_area = 0.0


class ServiceNetwork:
    """One replication of a scenario.

    Parameters
    ----------
    scenario
        The validated scenario.
    seed
        Root seed of the experiment.
    replication
        Replication number; with ``seed`` it fixes every random stream.
    drain_limit
        How long after the observed window the model may keep running to let
        counted customers finish, as a multiple of the horizon. Customers
        still present then are censored (their time so far counts in the
        time-averages; their outcome counts nowhere).
    record
        Keep one record per visit and per customer (needed for per-interval
        metrics and event traces); off by default so long runs stay in
        bounded memory.
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        replication: int = 0,
        drain_limit: float = 1.0,
        record: bool = False,
    ) -> None:
        self.scenario = scenario
        #: The SimPy clock; attach extra processes here before :meth:`run`.
        self.env = simpy.Environment()
        self.window_start = scenario.warmup
        self.window_end = scenario.warmup + scenario.horizon
        self.drain_until = self.window_end + drain_limit * scenario.horizon
        sl = scenario.service_level
        self.threshold = sl.threshold if sl is not None else math.inf
        self.streams = StreamFactory(seed, replication)
        self.classes = [_ClassState(c, i) for i, c in enumerate(scenario.classes)]
        self.stations = [_StationState(s, i) for i, s in enumerate(scenario.stations)]
        by_name = {s.name: s for s in self.stations}
        self._sequence = count()
        self._idents = count()
        #: Per-visit records ``(customer, class, station, t_in, t_start, t_end, outcome)``
        #: in simulation time (t_start is NaN for abandoned and blocked visits).
        self.visits: list[tuple] | None = [] if record else None
        #: Per-customer records ``(customer, class, t_arrive, t_leave, outcome,
        #: wait_total, service_total, waited, late)``.
        self.departures: list[tuple] | None = [] if record else None
        #: Customers who came back (retention), for the event log's ``return`` events.
        self.returning: set[int] = set()
        #: Customers in the system by ident (insertion-ordered, so sums over it are reproducible).
        self.present: dict[int, _Customer] = {}
        self.outstanding = 0
        self.draining = False
        self.finished = self.env.event()
        self.censored = 0

        for st in self.stations:
            shared: dict[int, BlockSampler] = {}
            for k in self.classes:
                dist = st.spec.service.get(k.name)
                if dist is None:
                    st.service.append(None)  # type: ignore[arg-type]  # class never visits
                    continue
                owner = f"{st.name}/{k.name}" if st.spec.service_per_class else st.name
                key = id(dist) if not st.spec.service_per_class else k.index
                if key not in shared:
                    shared[key] = self.streams.sampler("service", owner, dist)
                st.service.append(shared[key])
            table = scenario.routing.get(st.name)
            if table:
                # Targets with probability 0 are never chosen, not even by rounding.
                targets = [(t, p) for t, p in table.items() if p > 0]
                cum, acc = [], 0.0
                for _, p in targets:
                    acc += p
                    cum.append(acc)
                cum[-1] = math.inf  # guards against rounding in the probabilities
                st.route_cum = tuple(cum)
                st.route_to = tuple(None if t == EXIT else by_name[t] for t, _ in targets)
                if len(targets) > 1:
                    st.route_draw = self.streams.sampler("routing", st.name, Uniform(0.0, 1.0))
        for k in self.classes:
            if k.spec.route is not None:
                k.route = tuple(by_name[s] for s in k.spec.route)
            if k.spec.patience is not None:
                k.patience = self.streams.sampler("patience", k.name, k.spec.patience)
        for st in self.stations:
            staff = scenario.staff.get(st.name)
            if staff is not None and staff.service_factor != 1.0:
                st.speed = staff.service_factor
        #: The quality layer (experience, failures, retention, economics), None when off.
        self.layer: Any = None
        if (scenario.quality or scenario.failures or scenario.retention or scenario.economics):
            from simlib.engine.quality import QualityLayer

            self.layer = QualityLayer(self, by_name)

    # ------------------------------------------------------------------ set-up

    def _start_arrivals(self, k: _ClassState) -> None:
        env = self.env
        arrivals = k.spec.arrivals
        w = self.window_start
        if arrivals.rate is not None:
            gaps = self.streams.sampler("arrivals", k.name, Exponential(1.0 / arrivals.rate))

            def poisson(event: Event) -> None:
                self._new_customer(k)
                values = gaps.values
                _Step(env, values.pop() if values else gaps.next(), poisson, None)

            _Step(env, gaps.next(), poisson, None)
        elif arrivals.profile is not None:
            profile = arrivals.profile
            unit = self.streams.sampler("arrivals", k.name, Exponential(1.0))
            period, rates, n = profile.period, profile.rates, len(profile.rates)
            per_cycle = period * sum(rates)  # expected arrivals in one full cycle

            def next_time(t: float) -> float:
                # Invert the cumulative intensity: walk the piecewise-constant segments
                # from observed time t until a unit exponential's worth of intensity is used.
                e = unit.next()
                if t < 0:
                    idx, rate, seg_end = -1, rates[-1], 0.0
                else:
                    idx = int(t // period)
                    rate, seg_end = rates[idx % n], (idx + 1) * period
                while True:
                    if rate > 0:
                        need = e / rate
                        if t + need < seg_end:
                            return t + need
                        e -= rate * (seg_end - t)
                    t = seg_end
                    idx += 1
                    if idx % n == 0 and e >= per_cycle:
                        # Skip whole cycles at once: a nearly empty profile would
                        # otherwise be walked segment by segment for a long time.
                        skip = int(e // per_cycle)
                        e -= skip * per_cycle
                        idx += skip * n
                        t = idx * period
                    rate, seg_end = rates[idx % n], (idx + 1) * period

            def profiled(event: Event) -> None:
                self._new_customer(k)
                t = event._value
                nxt = next_time(t)
                _Step(env, nxt - t, profiled, nxt)

            first = next_time(-w)
            _Step(env, first + w, profiled, first)
        else:
            times = arrivals.trace
            assert times is not None

            def replay(event: Event) -> None:
                i = event._value
                self._new_customer(k)
                if i + 1 < len(times):
                    _Step(env, times[i + 1] - times[i], replay, i + 1)

            _Step(env, times[0] + w, replay, 0)

    def _start_shifts(self, st: _StationState) -> None:
        spec = st.spec
        st.capacity = spec.servers_at(0.0)  # the warm-up runs with the first shift
        if spec.shifts is None:
            return
        for shift in spec.shifts:
            if shift.start > 0:
                _Step(self.env, self.window_start + shift.start, self._change_servers, (st, shift.servers))

    def _change_servers(self, event: Event) -> None:
        st, servers = event._value
        st.capacity = servers
        # More servers start on the queue at once; fewer means each busy server
        # that is over capacity leaves when its current service ends.
        if st.n_waiting and st.busy < st.capacity:
            self._serve_next(st, self.env._now)

    # ------------------------------------------------------------------ hot path

    def _new_customer(self, k: _ClassState, returning: Any = None) -> None:
        now = self.env._now
        counted = self.window_start <= now < self.window_end
        c = _Customer(next(self._idents), k, now, counted)
        if self.layer is not None:
            self.layer.on_new(c, returning)
        self.present[c.ident] = c
        if counted:
            k.n_arrivals += 1
            self.outstanding += 1
        self._arrive(c, k.route[0] if k.route is not None else self.stations[0], now)

    def _arrive(self, c: _Customer, st: _StationState, now: float) -> None:
        c.station = st
        c.t_in = now
        counted = self.window_start <= now < self.window_end
        c.visit_counted = counted
        if counted:
            st.n_arrivals += 1
        sampler = st.service[c.kind.index]
        values = sampler.values
        c.service = values.pop() if values else sampler.next()
        if st.speed is not None:
            c.service *= st.speed
        if self.layer is not None:
            self.layer.on_arrive(c, st)
        patience = c.kind.patience
        # Patience is drawn at every visit, waiting or not, so that the stream
        # stays aligned across scenario variants (common random numbers).
        limit = patience.next() if patience is not None else None
        if st.busy < st.capacity:
            self._start(c, st, now)
        elif st.n_waiting >= st.queue_limit:
            if counted:
                st.n_blocked += 1
            if self.visits is not None:
                self.visits.append((c.ident, c.kind.index, st.index, now, math.nan, now, _BLOCKED))
            self._leave(c, now, _BLOCKED)
        else:
            st.n_waiting += 1
            c.waiting = True
            if st.priority:
                heappush(st.queue, (c.kind.priority, next(self._sequence), c))
            else:
                st.queue.append(c)
            if limit is not None:
                c.patience_event = _Step(self.env, limit, self._abandon, c)

    def _start(self, c: _Customer, st: _StationState, now: float) -> None:
        st.busy += 1
        c.t_start = now
        wait = now - c.t_in
        if wait > 0:
            c.wait_total += wait
            c.waited = True
            if wait > self.threshold:
                c.late = True
        if c.visit_counted:
            st.n_started += 1
            if wait > 0:
                st.sum_wait += wait
                st.n_waited += 1
            if wait <= self.threshold:
                st.n_sl_ok += 1
        if self.layer is not None:
            self.layer.on_start(c, st)
        _Step(self.env, c.service, self._end_service, c)

    def _serve_next(self, st: _StationState, now: float) -> None:
        queue = st.queue
        while st.n_waiting and st.busy < st.capacity:
            c = heappop(queue)[2] if st.priority else queue.popleft()
            if not c.waiting:
                continue  # abandoned while queued; removed lazily
            c.waiting = False
            c.patience_event = None
            st.n_waiting -= 1
            self._start(c, st, now)

    def _overlap(self, a: float, b: float) -> float:
        lo = a if a > self.window_start else self.window_start
        hi = b if b < self.window_end else self.window_end
        return hi - lo if hi > lo else 0.0

    def _end_service(self, event: Event) -> None:
        c = event._value
        st = c.station
        now = self.env._now
        st.busy -= 1
        t_in, t_start = c.t_in, c.t_start
        service = now - t_start
        c.service_total += service
        if t_in >= self.window_start and now <= self.window_end:
            queued, busy = t_start - t_in, service
        else:
            queued, busy = self._overlap(t_in, t_start), self._overlap(t_start, now)
        st.queue_area += queued
        st.busy_area += busy
        c.kind.queue_area += queued
        if c.visit_counted:
            st.n_completed += 1
            st.sum_service += service
            st.sum_sojourn += now - t_in
            st.sum_wait_served += t_start - t_in
        if self.window_start <= now <= self.window_end:
            st.n_done_in_window += 1
        if self.visits is not None:
            self.visits.append((c.ident, c.kind.index, st.index, t_in, t_start, now, _COMPLETED))
        if st.n_waiting and st.busy < st.capacity:
            self._serve_next(st, now)
        origin = st
        if self.layer is not None:
            # A failed service detours to recovery (or a repeat); after the
            # recovery the journey continues from the station that failed.
            detour, origin = self.layer.after_service(c, st)
            if detour is not None:
                self._arrive(c, detour, now)
                return
        # Where next: the class's fixed route, else the station's routing table.
        route = c.kind.route
        if route is not None:
            c.pos += 1
            nxt = route[c.pos] if c.pos < len(route) else None
        elif origin.route_draw is None:
            nxt = origin.route_to[0]
        else:
            draw = origin.route_draw
            values = draw.values
            u = values.pop() if values else draw.next()
            i = 0
            cum = origin.route_cum
            while u >= cum[i]:
                i += 1
            nxt = origin.route_to[i]
        if nxt is None:
            self._leave(c, now, _COMPLETED)
        else:
            self._arrive(c, nxt, now)

    def _abandon(self, event: Event) -> None:
        c = event._value
        if c.patience_event is not event:
            return  # service started before patience ran out
        now = self.env._now
        st = c.station
        st.n_waiting -= 1
        c.waiting = False
        c.patience_event = None
        wait = now - c.t_in
        c.wait_total += wait
        c.waited = True
        c.late = True  # an abandoned customer fails the service level
        queued = self._overlap(c.t_in, now)
        st.queue_area += queued
        c.kind.queue_area += queued
        if c.visit_counted:
            st.n_abandoned += 1
            st.sum_wait += wait
            st.n_waited += 1
        if self.visits is not None:
            self.visits.append((c.ident, c.kind.index, st.index, c.t_in, math.nan, now, _ABANDONED))
        self._leave(c, now, _ABANDONED)

    def _leave(self, c: _Customer, now: float, outcome: int) -> None:
        del self.present[c.ident]
        k = c.kind
        if self.departures is not None:
            self.departures.append(
                (c.ident, k.index, c.t_arrive, now, outcome, c.wait_total, c.service_total,
                 c.waited, c.late)
            )
        if self.layer is not None:
            self.layer.on_leave(c, now, outcome)
        k.system_area += self._overlap(c.t_arrive, now)
        if outcome == _COMPLETED and self.window_start <= now <= self.window_end:
            k.n_done_in_window += 1
        if not c.counted:
            return
        if outcome == _BLOCKED:
            k.n_blocked += 1
        else:
            k.n_admitted += 1
            k.sum_wait += c.wait_total
            if c.waited:
                k.n_waited += 1
            if not c.late:
                k.n_sl_ok += 1
            if outcome == _ABANDONED:
                k.n_abandoned += 1
            else:
                k.n_completed += 1
                k.sum_wait_served += c.wait_total
                k.sum_sojourn += now - c.t_arrive
                k.sum_service += c.service_total
        self.outstanding -= 1
        if self.draining and not self.outstanding:
            self.finished.succeed()

    # ------------------------------------------------------------------ window and run

    def _close_window(self, event: Event) -> None:
        self.draining = True
        if not self.outstanding:
            self.finished.succeed()

    def _give_up(self, event: Event) -> None:
        if not self.finished.triggered:
            self.finished.succeed()

    def _flush_present(self, now: float) -> None:
        """Close the books on customers still present when the run stops.

        Their stays so far count in the window integrals (a customer who
        arrived in the warm-up and is still in a long service is busy time of
        the window). Counted customers are present only when the drain limit
        was hit: they are *censored* — admitted, waited at least until now and
        missed the service level — and :func:`simulate` warns how many
        (an experiment's runner says it once for all its replications).
        """
        for c in self.present.values():
            st = c.station
            k = c.kind
            if c.waiting:
                queued = self._overlap(c.t_in, now)
            else:
                queued = self._overlap(c.t_in, c.t_start)
                st.busy_area += self._overlap(c.t_start, now)
            st.queue_area += queued
            k.queue_area += queued
            k.system_area += self._overlap(c.t_arrive, now)
            if not c.counted:
                continue
            self.censored += 1
            wait = c.wait_total + (now - c.t_in if c.waiting else 0.0)
            k.n_admitted += 1
            k.sum_wait += wait
            if wait > 0:
                k.n_waited += 1
            if c.waiting and c.visit_counted:
                st.n_censored += 1
                st.sum_wait += now - c.t_in
                st.n_waited += 1

    def run(self) -> dict[str, dict[str, float]]:
        """Simulate the replication and return ``{scope: {metric: value}}``."""
        for st in self.stations:
            self._start_shifts(st)
        for k in self.classes:
            self._start_arrivals(k)
        _Step(self.env, self.window_end, self._close_window, None)
        _Step(self.env, self.drain_until, self._give_up, None)
        self.env.run(until=self.finished)
        self._flush_present(self.env._now)
        return self.metrics()

    # ------------------------------------------------------------------ metrics

    def metrics(self) -> dict[str, dict[str, float]]:
        """The metrics of docs/metrics.md for every station, class and the system."""
        h = self.scenario.horizon
        with_sl = self.scenario.service_level is not None
        out: dict[str, dict[str, float]] = {}
        busy = scheduled = 0.0
        for st in self.stations:
            server_time = scheduled_server_time(st.spec, 0.0, h)
            busy += st.busy_area
            scheduled += server_time
            out[st.name] = scope_metrics(
                st, h, with_sl, admitted=st.n_started + st.n_abandoned + st.n_censored,
                in_system_area=st.queue_area + st.busy_area, scheduled=server_time,
            )
        totals = Tallies()
        for k in self.classes:
            out[k.name] = scope_metrics(
                k, h, with_sl, admitted=k.n_admitted, in_system_area=k.system_area
            )
            totals.add(k)
        out["system"] = scope_metrics(
            totals, h, with_sl, admitted=totals.n_admitted, in_system_area=totals.system_area,
            scheduled=scheduled, busy_area=busy,
        )
        if self.layer is not None:
            self.layer.add_metrics(out)
        return out


def scheduled_server_time(spec: Station, start: float, end: float) -> float:
    """Server-time scheduled at a station over ``[start, end)`` of observed time."""
    if spec.shifts is None:
        assert spec.servers is not None
        return spec.servers * (end - start)
    return sum(
        s.servers * max(0.0, min(s.end, end) - max(s.start, start)) for s in spec.shifts
    )


class Tallies:
    """Customer tallies summed over classes (the system scope), or for one interval."""

    FIELDS = (
        "n_arrivals n_blocked n_admitted n_waited n_sl_ok n_abandoned n_completed sum_wait "
        "sum_wait_served sum_sojourn sum_service n_done_in_window queue_area system_area"
    ).split()

    def __init__(self, **values: float) -> None:
        for f in self.FIELDS:
            setattr(self, f, values.get(f, 0))

    def add(self, k: Any) -> None:
        """Add the tallies of ``k`` (anything with the same attributes)."""
        for f in self.FIELDS:
            setattr(self, f, getattr(self, f) + getattr(k, f))


def scope_metrics(
    t: Any,
    duration: float,
    with_sl: bool,
    *,
    admitted: float,
    in_system_area: float,
    scheduled: float | None = None,
    busy_area: float | None = None,
) -> dict[str, float]:
    """The metrics of one scope from its tallies over an observation of ``duration``.

    Station tallies count visits; class and system tallies count customers,
    whose waits and services are summed over the stations they visited.
    Utilization is reported where server time is known (stations, system).
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
    if scheduled is not None:
        busy = t.busy_area if busy_area is None else busy_area
        m["utilization"] = _ratio(busy, scheduled)
    m["mean_queue"] = t.queue_area / duration
    m["mean_in_system"] = in_system_area / duration
    m["mean_sojourn"] = _ratio(t.sum_sojourn, t.n_completed)
    m["mean_service"] = _ratio(t.sum_service, t.n_completed)
    return m


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def simulate(
    scenario: Scenario,
    seed: int,
    replication: int = 0,
    interval: float | None = None,
    trace: bool = False,
    warn: bool = True,
) -> ReplicationRecord:
    """Run replication ``replication`` of an experiment with root ``seed``.

    Parameters
    ----------
    interval
        When given, also compute the metrics per interval of this length
        (time units) of the observed window.
    trace
        Also return the event log (one row per customer event, docs/traces.md#event-log-layout).
    warn
        Log a warning (logger ``simlib``) when customers were still present at
        the drain limit; ``record.censored`` counts them either way, so that
        :func:`simlib.run` can warn once for all its replications.
    """
    if interval is not None and not (interval > 0 and math.isfinite(interval)):
        raise ValueError(f"interval must be a positive number of time units, got {interval!r}")
    network = ServiceNetwork(scenario, seed, replication, record=interval is not None or trace)
    metrics = network.run()
    if warn and network.censored:
        _log.warning(
            "%s: %d customers were still present at the drain limit (%g time units after "
            "the window) and are censored: their waits count up to that time. The system "
            "is probably overloaded or closes with customers waiting.",
            scenario.name, network.censored, network.drain_until - network.window_end,
        )
    layer = network.layer
    customers = tuple(layer.rows) if layer is not None and layer.quality is not None else None
    intervals: tuple = ()
    events = None
    if interval is not None or trace:
        from simlib.engine.records import event_log, interval_metrics

        if interval is not None:
            intervals = interval_metrics(network, interval)
        if trace:
            events = event_log(network)
    return ReplicationRecord(replication, metrics, intervals, events, customers,
                             network.censored)
