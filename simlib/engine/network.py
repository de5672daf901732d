"""The service network: customers flowing through stations on a SimPy clock.

One :class:`ServiceNetwork` is one replication of a scenario. It keeps a
:class:`simpy.Environment` as the clock and event queue (so users can attach
their own SimPy processes to ``network.env``), but the hot path does not run
a generator process per customer: every arrival, service end, abandonment and
shift change is a scheduled event whose callback performs the next step, and
each queue is a plain deque (fifo) or heap (priority, keyed by the class's
priority; credit, keyed by the time joined minus the class's credit). This is
what makes the engine several times faster than a textbook SimPy model while
producing the same sample paths.

Time-varying inputs (:mod:`simlib.spec.timevarying`) cost nothing when absent:
a profiled service is the base draw taken at arrival (the stream is consumed
as without a profile) multiplied, when the service starts, by the mean of the
profile's cell at that time over the base mean; ``day_to_day`` multiplies each
period's Poisson rates by a gamma multiplier from the ``day_to_day`` stream.
Renewal arrivals (``interarrival``) draw their gaps from the class's arrival
stream, like the Poisson gaps (and are not scaled by ``day_to_day``).

Statistics are streaming. Customer-based metrics are counted for customers who
arrive during the observed window ``[warmup, warmup + horizon)``; after the
window the model keeps running ("drains") until each of them has left, so
every counted customer's wait is complete. Time-averages (queue length, busy
servers, number present) are exact integrals over the window: each stay in a
queue or in service adds its overlap with the window when it ends, which
avoids updating level accumulators at every event.

Outcomes of a customer's visit to a station (:class:`~simlib.engine.events.Outcome`):
completed (service started, then ended), abandoned (patience ran out while
waiting) or blocked (queue full on arrival). A customer leaves the system
when a route ends, routing sends it to ``exit``, it abandons or it is blocked. A customer
routed to a full station with ``blocking: after_service`` is not blocked but held on its
server upstream (:mod:`simlib.engine.blocking`); only such scenarios run the service end and
abandonment that check for it, so the others pay nothing for the feature.

This module is the hot path only: the tallies it updates and the metrics made
from them are in :mod:`simlib.engine.tallies`, the records it keeps on request
in :mod:`simlib.engine.records`. Optional models (the quality layer) are
handed in as a factory and called through the :class:`~simlib.engine.events.Hooks`
protocol, so this module depends on no layer; :func:`simlib.engine.replication.build_network`
builds a network with the layers its scenario needs.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from heapq import heapify, heappop, heappush
from itertools import count
from typing import Any

import simpy
from simpy.events import Event

from simlib.engine.blocking import Blocking, is_full
from simlib.engine.events import Hooks, Host, Metrics, Outcome, Step
from simlib.engine.pools import PooledStation
from simlib.engine.rng import BlockSampler, StreamFactory
from simlib.engine.routing import ClassChange, Retrial, ShortestQueue, has_class_change
from simlib.engine.servers import ServerBank, SharedStation, server_model
from simlib.engine.tallies import Counts, network_metrics
from simlib.spec.distributions import Exponential, Uniform
from simlib.spec.scenario import EXIT, CustomerClass, Scenario, Station
from simlib.spec.timevarying import Profiled

__all__ = ["MAX_CUSTOMERS", "DeadlockError", "RunawayError", "ServiceNetwork", "needs_layer"]

# The outcomes as plain ints, module-level so that the hot path finds them with one global
# lookup. Plain ints, not the enum members: the garbage collector stops tracking a tuple
# that holds only numbers, but keeps tracking one that holds an enum member, and a long
# recorded run would then traverse every visit record at each collection (30% slower).
_COMPLETED, _ABANDONED, _BLOCKED = int(Outcome.COMPLETED), int(Outcome.ABANDONED), int(Outcome.BLOCKED)


#: Most customers in the system at once before a replication stops (``max_customers=``):
#: a queue that grows without bound would otherwise take all memory.
MAX_CUSTOMERS = 1_000_000


class RunawayError(ValueError):
    """A replication stopped because its queues grew beyond ``max_customers``."""

    def __init__(self, scenario: str, limit: int, time: float) -> None:
        super().__init__(scenario, limit, time)  # args rebuild it when it is pickled

    def __str__(self) -> str:
        scenario, limit, time = self.args
        return (f"{scenario}: more than {limit:,} customers in the system at once (at time "
                f"{time:g}): a queue grows without bound, so the run was stopped; add servers, "
                "patience or a queue capacity, or raise max_customers= (--max-customers) if "
                "this is intended")


class DeadlockError(RunawayError):
    """A replication stopped because customers blocked after service wait on each other in a
    cycle of full stations (``blocking: after_service``), so none of them can ever move."""

    def __init__(self, scenario: str, stations: tuple[str, ...], time: float) -> None:
        ValueError.__init__(self, scenario, stations, time)  # args rebuild it when pickled

    def __str__(self) -> str:
        scenario, stations, time = self.args
        return (f"{scenario}: deadlock at time {time:g}: stations {', '.join(stations)} are full "
                "of customers blocked after service waiting on each other, so none can move; "
                "give them more queue_capacity or servers, or blocking: loss")


def needs_layer(scenario: Scenario) -> bool:
    """True when the scenario has a quality, failures, retention or economics block."""
    return bool(scenario.quality or scenario.failures or scenario.retention or scenario.economics)


class _Customer:
    """One customer's state while in the system."""

    __slots__ = (
        "ident",
        "kind",
        "arrived_as",
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
        "pool",
        "pool_service",
        "pool_kind",  # set only at a pooled station: the class index its agent serves
        "attempts",  # set only for a customer who retries (read with a default)
        "own",
        "visit_own",
        "time_blocked",  # set only for a customer blocked after service (read with a default)
    )
    # Set on arrival at each station (declared for type checkers; __slots__ holds them).
    station: _StationState
    t_in: float
    t_start: float
    service: float
    visit_counted: bool
    attempts: int  # only for a customer who retries
    time_blocked: float  # only for a customer blocked after service

    def __init__(self, ident: int, kind: _ClassState, now: float, counted: bool) -> None:
        self.ident = ident
        self.kind = kind
        #: The class at arrival, which the class metrics count the customer under; ``kind``
        #: is the class it has now (they differ only after a class change).
        self.arrived_as = kind
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
        #: The customer's own draws for its first visit to each station it can reach, by
        #: station index (see ServiceNetwork.draw_own); None when its class reaches one station.
        self.own: dict[int, list[Any]] | None = None
        #: The own draws of the current visit, taken from ``own`` (None: the visit draws from
        #: the streams); its routing draw is used once, then cleared.
        self.visit_own: list[Any] | None = None


class _ClassState(Counts):
    """A customer class at run time, with its customer-level tallies."""

    def __init__(self, spec: CustomerClass, index: int) -> None:
        super().__init__()
        self.spec = spec
        self.name = spec.name
        self.index = index
        self.priority = spec.priority
        self.credit = spec.credit
        self.route: tuple[_StationState, ...] | None = None
        self.patience: BlockSampler | None = None
        self.n_admitted = 0
        self.system_area = 0.0
        #: The class's retrial rule (simlib.engine.routing), None = never tries again.
        self.retrial: Retrial | None = None
        #: Retrials made by the class's counted customers.
        self.n_retrials = 0
        #: For each station whose first-visit draws a customer of this class takes when it
        #: is created (ServiceNetwork.draw_own): its index and its own service, routing and
        #: balking samplers (None: no such draw). None when the class reaches one station.
        self.first_visits: tuple[tuple[int, BlockSampler, BlockSampler | None,
                                       BlockSampler | None], ...] | None = None
        #: The patience sampler of those first visits (None: no patience or no first visits).
        self.first_patience: BlockSampler | None = None


class _StationState(Counts):
    """A station at run time: servers, queue, samplers and visit-level tallies."""

    def __init__(self, spec: Station, index: int) -> None:
        super().__init__()
        self.spec = spec
        self.name = spec.name
        self.index = index
        self.capacity: float = 0
        self.busy = 0
        self.n_waiting = 0
        self.queue_limit = math.inf if spec.queue_capacity is None else spec.queue_capacity
        # A heap orders the queue under priority and credit; credit keys by time joined - credit.
        self.priority = spec.discipline in ("priority", "credit")
        self.credit = spec.discipline == "credit"
        self.queue: Any = [] if self.priority or spec.discipline == "random" else deque()
        #: Takes the next customer from a deque or list queue: fifo from the front, lifo
        #: from the back; random order is set up by the network (it needs a draw).
        self.take: Callable[[], Any] = self.queue.pop if spec.discipline == "lifo" else getattr(
            self.queue, "popleft", self.queue.pop)
        # Service sampler per class index (the same object when not per class).
        self.service: list[BlockSampler] = []
        # Time-varying service per class index (None = the base draw as it is).
        self.profiles: list[Profiled | None] = []
        #: Day-level service multipliers (``day_to_day.service_cv``), one per period of
        #: observed time, and that period; None = none.
        self.day_factors: list[float] | None = None
        self.day_period = 1.0
        self.varying = False
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
        #: The station's agent pools (simlib.engine.pools), or the model of its pre-emption,
        #: server speeds or processor sharing (simlib.engine.servers); None for plain servers.
        self.pools: PooledStation | ServerBank | SharedStation | None = None
        #: Balking: the join draw (None = everybody joins) and the join probabilities.
        self.balk_draw: BlockSampler | None = None
        self.balk_join: Any = None if spec.balking is None else spec.balking.join_probability

    def service_factor(self, index: int, t: float) -> float:
        """The multiplier of a base draw of class ``index`` whose service starts at observed
        time ``t``: the profile's cell mean over the base mean, times the period's day-level
        service multiplier (1 for what the scenario does not have)."""
        profile = self.profiles[index]
        factor = 1.0 if profile is None else profile.factor_at(t)
        days = self.day_factors
        if days is not None:
            # The warm-up shares period 0's multiplier, as for the arrival rates.
            factor *= days[min(max(int(t // self.day_period), 0), len(days) - 1)]
        return factor


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
    layer
        Builds the layer that rides on this network (called with the network
        once it is set up; it must implement :class:`~simlib.engine.events.Hooks`).
        Required when the scenario has a quality, failures, retention or
        economics block (:func:`needs_layer`);
        :func:`simlib.engine.replication.build_network` passes the quality layer.
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        replication: int = 0,
        drain_limit: float = 1.0,
        record: bool = False,
        layer: Callable[[Host], Hooks] | None = None,
        max_customers: int = MAX_CUSTOMERS,
    ) -> None:
        if layer is None and needs_layer(scenario):
            raise ValueError(
                f"scenario {scenario.name!r} has a quality, failures, retention or economics "
                "block: build the network with simlib.engine.build_network (or pass layer=)"
            )
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
        #: Per-visit rows in the field order of :class:`simlib.engine.records.Visit`,
        #: in simulation time, when records are kept.
        self.visits: list[tuple] | None = [] if record else None
        #: Per-customer rows in the field order of :class:`simlib.engine.records.Departure`.
        self.departures: list[tuple] | None = [] if record else None
        #: Customers who came back (retention), for the event log's ``return`` events.
        self.returning: set[int] = set()
        #: Customers in the system by ident (insertion-ordered, so sums over it are reproducible).
        self.present: dict[int, _Customer] = {}
        self.outstanding = 0
        self.draining = False
        self.finished = self.env.event()
        self.censored = 0
        #: Day-to-day multipliers of the arrival rates, one per period of observed time
        #: from 0 to the drain limit (None without ``day_to_day``).
        self.multipliers: list[float] | None = None
        if scenario.day_to_day is not None:
            n_days = int(math.ceil((self.drain_until - self.window_start) / scenario.day_to_day.period)) + 1
            self.multipliers = scenario.day_to_day.multipliers(
                self.streams.generator("day_to_day"), n_days).tolist()
        #: Day-level service multipliers, from their own generator of the ``day_to_day``
        #: stream (so the arrival multipliers stay as without them); None without.
        service_days: list[float] | None = None
        if scenario.day_to_day is not None and scenario.day_to_day.service_cv > 0:
            service_days = scenario.day_to_day.service_multipliers(
                self.streams.generator("day_to_day", "service"), n_days).tolist()
        #: More customers in the system at once stops the run (:class:`RunawayError`).
        self.max_customers = max_customers
        #: Customers present at which an arrival from outside is refused: the scenario's
        #: ``system_capacity``, or ``max_customers`` (then the run stops instead). One
        #: comparison serves both, so a scenario without the key pays nothing for it.
        cap = scenario.system_capacity
        self.entry_limit = max_customers if cap is None or cap >= max_customers else cap

        for st in self.stations:
            shared: dict[int, BlockSampler] = {}
            for k in self.classes:
                dist = st.spec.service.get(k.name)
                st.profiles.append(dist if isinstance(dist, Profiled) else None)
                if dist is None:
                    st.service.append(None)  # type: ignore[arg-type]  # class never visits
                    continue
                owner = (st.name, k.name) if st.spec.service_per_class else st.name
                key = id(dist) if not st.spec.service_per_class else k.index
                if key not in shared:
                    shared[key] = self.streams.sampler("service", owner, dist)
                st.service.append(shared[key])
            if service_days is not None:
                st.day_factors, st.day_period = service_days, scenario.day_to_day.period  # type: ignore[union-attr]
            st.varying = service_days is not None or any(p is not None for p in st.profiles)
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
            jsq = st.spec.join_shortest_queue
            if jsq is not None:
                # Indexed like a one-target table (simlib.engine.routing): no draw, no table.
                ties = (self.streams.sampler("routing", f"shortest:{st.name}", Uniform(0.0, 1.0))
                        if jsq.ties == "random" else None)
                st.route_to = ShortestQueue([by_name[t] for t in jsq.among],  # type: ignore[assignment]
                                            jsq.count == "present", ties)
                st.route_cum, st.route_draw = (math.inf,), None
        for k in self.classes:
            if k.spec.route is not None:
                k.route = tuple(by_name[s] for s in k.spec.route)
            if k.spec.patience is not None:
                k.patience = self.streams.sampler("patience", k.name, k.spec.patience)
            if k.spec.retrials is not None:
                k.retrial = Retrial(
                    k.spec.retrials,
                    self.streams.sampler("routing", f"retrial:{k.name}", Uniform(0.0, 1.0)),
                    self.streams.sampler("routing", f"retrial-delay:{k.name}",
                                         k.spec.retrials.delay))
        #: Customers in orbit between a failed attempt and their retrial, by ident (None
        #: without retrials); they are not present (no station holds them).
        self.orbit: dict[int, _Customer] | None = (
            {} if any(k.retrial is not None for k in self.classes) else None)
        #: Blocking after service (simlib.engine.blocking), None when no station uses it: then
        #: the network runs its plain service end and abandonment, which never check for it.
        self.blocking: Blocking | None = None
        if any(s.blocking == "after_service" for s in scenario.stations):
            self.blocking = Blocking(self.stations, self.classes, self._overlap)
            self._end_service = self._end_service_held  # type: ignore[method-assign]
            self._abandon = self._abandon_freeing  # type: ignore[method-assign]
        for st in self.stations:
            staff = scenario.staff.get(st.name)
            if staff is not None and staff.service_factor != 1.0:
                st.speed = staff.service_factor
            if st.spec.discipline == "random":
                st.take = self._random_taker(st)
            balking = st.spec.balking
            if balking is not None and balking.announced_waits is not None:
                st.balk_join = self._announced_join(st, balking)
            if st.balk_join is not None:
                # Its own generator (owner "balk:<station>"), so no other draw moves.
                st.balk_draw = self.streams.sampler("routing", f"balk:{st.name}", Uniform(0.0, 1.0))
            if st.spec.pools is not None:
                st.pools = PooledStation(st, self, self._start, self._block, self._abandon, self._overlap)
            else:
                st.pools = server_model(st, self, self._end_service, self._block, self._abandon,
                                        self._overlap)
        # After the balking draws exist: a customer's first-visit draws include them. They
        # come from samplers of their own (owners ("first", ...)), which nothing else draws
        # from, so revisits, retrials and returning customers cannot shift them.
        unit = Uniform(0.0, 1.0)
        for k in self.classes:
            reachable = self._reachable(k)
            if reachable is None:
                continue
            k.first_visits = tuple(
                (st.index,
                 self.streams.sampler("service", ("first", st.name, k.name), st.service[k.index].dist),
                 (self.streams.sampler("routing", ("first", st.name, k.name), unit)
                  if st.route_draw is not None and k.route is None else None),
                 (self.streams.sampler("routing", ("first-balk", st.name, k.name), unit)
                  if st.balk_draw is not None else None))
                for st in reachable)
            if k.spec.patience is not None:
                k.first_patience = self.streams.sampler("patience", ("first", k.name), k.spec.patience)
        #: The layer riding on the network (the quality model, or the class change after
        #: service of simlib.engine.routing), None when there is none.
        self.layer: Hooks | None = layer(self) if layer is not None else None
        if has_class_change(scenario):
            if layer is not None:
                raise ValueError(f"scenario {scenario.name!r} changes classes after service, "
                                 "which no other layer may ride along with")
            self.layer = ClassChange(self)
        #: The layer's patience hook when it sets some customers' patience, else None.
        self.own_patience = (self.layer.patience
                             if self.layer is not None and self.layer.own_patience else None)
        #: The layer's hook for a freed server when it tells servers apart, else None.
        self.release_server = (self.layer.on_release
                               if self.layer is not None and self.layer.names_servers else None)

    # ------------------------------------------------------------------ set-up

    def _reachable(self, k: _ClassState) -> tuple[_StationState, ...] | None:
        """The stations a customer of class ``k`` can visit by its route or the routing tables.

        None when it is one station only: then the first visit's draws, taken at arrival,
        are already taken in the customer's order and nothing needs to be drawn ahead.
        """
        if k.route is not None:
            found = list(dict.fromkeys(k.route))
        else:
            found, todo = [], [self.stations[0]]
            while todo:
                st = todo.pop()
                if st in found:
                    continue
                found.append(st)
                targets = st.route_to
                among = targets.among if isinstance(targets, ShortestQueue) else targets
                todo.extend(t for t in among if t is not None and t not in found)
            found.sort(key=lambda st: st.index)
        found = [st for st in found if st.service[k.index] is not None]
        return tuple(found) if len(found) > 1 else None

    def _start_arrivals(self, k: _ClassState) -> None:
        env = self.env
        arrivals = k.spec.arrivals
        w = self.window_start
        if arrivals.interarrival is not None:
            # Renewal arrivals: the first gap runs from the start of the warm-up.
            renewal = self.streams.sampler("arrivals", k.name, arrivals.interarrival)

            def renew(event: Event) -> None:
                self.new_customer(k)
                values = renewal.values
                Step(env, values.pop() if values else renewal.next(), renew, None)

            Step(env, renewal.next(), renew, None)
        elif arrivals.batch is not None:
            self._start_batch_arrivals(k)
        elif self.multipliers is not None and arrivals.trace is None:
            self._start_varied_arrivals(k)
        elif arrivals.rate is not None:
            gaps = self.streams.sampler("arrivals", k.name, Exponential(1.0 / arrivals.rate))

            def poisson(event: Event) -> None:
                self.new_customer(k)
                values = gaps.values
                Step(env, values.pop() if values else gaps.next(), poisson, None)

            Step(env, gaps.next(), poisson, None)
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
                self.new_customer(k)
                t = event._value
                nxt = next_time(t)
                Step(env, nxt - t, profiled, nxt)

            first = next_time(-w)
            Step(env, first + w, profiled, first)
        else:
            times = arrivals.trace
            assert times is not None

            def replay(event: Event) -> None:
                i = event._value
                self.new_customer(k)
                if i + 1 < len(times):
                    Step(env, times[i + 1] - times[i], replay, i + 1)

            Step(env, times[0] + w, replay, 0)

    def _start_batch_arrivals(self, k: _ClassState) -> None:
        """Poisson batch epochs (the class's arrival stream, as without ``batch``), each bringing
        a batch whose size inverts a uniform of the class's own generator ``batch:<class>``."""
        env = self.env
        arrivals = k.spec.arrivals
        assert arrivals.rate is not None and arrivals.batch is not None
        gaps = self.streams.sampler("arrivals", k.name, Exponential(1.0 / arrivals.rate))
        sizes = self.streams.sampler("arrivals", f"batch:{k.name}", Uniform(0.0, 1.0))
        cum, values = arrivals.batch.cumulative(), arrivals.batch.values

        def batch(event: Event) -> None:
            u = sizes.next()
            i = 0
            while u >= cum[i]:
                i += 1
            for _ in range(values[i]):
                self.new_customer(k)
            Step(env, gaps.next(), batch, None)

        Step(env, gaps.next(), batch, None)

    def _start_varied_arrivals(self, k: _ClassState) -> None:
        """Poisson arrivals whose rate is multiplied by the day-to-day multiplier of each period.

        The rate (constant, or the profile's, the last rate in the warm-up) times
        the multiplier of the period (the warm-up shares the first period's) is
        piecewise constant up to the drain limit; arrivals invert its cumulative
        intensity with unit exponentials of the class's arrival stream.
        """
        env = self.env
        arrivals = k.spec.arrivals
        assert self.multipliers is not None and self.scenario.day_to_day is not None
        day, mult = self.scenario.day_to_day.period, self.multipliers
        w, end = self.window_start, self.drain_until - self.window_start
        cuts = {-w, end, *(j * day for j in range(1, len(mult)) if j * day < end)}
        if arrivals.profile is not None:
            profile = arrivals.profile
            rate_at = profile.rate_at
            cuts |= {i * profile.period for i in range(int(end // profile.period) + 1)
                     if -w < i * profile.period < end}
        else:
            rate = arrivals.rate
            assert rate is not None

            def rate_at(t: float) -> float:
                return rate
        edges = sorted(cuts)
        rates = [rate_at((a + b) / 2) * mult[max(0, int(((a + b) / 2) // day))]
                 for a, b in zip(edges[:-1], edges[1:], strict=True)]
        cum = [0.0]
        for r, a, b in zip(rates, edges[:-1], edges[1:], strict=True):
            cum.append(cum[-1] + r * (b - a))
        unit = self.streams.sampler("arrivals", k.name, Exponential(1.0))
        state = [0.0]  # cumulative intensity used so far

        def next_time() -> float | None:
            target = state[0] + unit.next()
            state[0] = target
            i = bisect_right(cum, target) - 1
            if i >= len(rates):
                return None  # beyond the drain limit: the run is over by then
            return edges[i] + (target - cum[i]) / rates[i]

        def varied(event: Event) -> None:
            self.new_customer(k)
            t = event._value
            nxt = next_time()
            if nxt is not None:
                Step(env, nxt - t, varied, nxt)

        first = next_time()
        if first is not None:
            Step(env, first + w, varied, first)

    def _start_shifts(self, st: _StationState) -> None:
        spec = st.spec
        st.capacity = math.inf if spec.infinite else spec.servers_at(0.0)  # warm-up: first shift
        if st.pools is not None:
            st.pools.start_shifts()
            return
        if spec.shifts is None:
            return
        for shift in spec.shifts:
            if shift.start > 0:
                Step(self.env, self.window_start + shift.start, self._change_servers, (st, shift.servers))

    def _change_servers(self, event: Event) -> None:
        st, servers = event._value
        st.capacity = servers
        # More servers start on the queue at once; fewer means each busy server
        # that is over capacity leaves when its current service ends.
        if st.n_waiting and st.busy < st.capacity:
            self._serve_next(st, self.env._now)

    # ------------------------------------------------------------------ hot path

    def new_customer(self, k: _ClassState, returning: Any = None) -> None:
        """Bring a customer of class ``k`` into the system now (``returning``: see the layer)."""
        # A new customer's own draws are taken whether or not it is admitted, so that the
        # next customer's are the same in every variant; a returning customer has none.
        own = self.draw_own(k) if returning is None and k.first_visits is not None else None
        if returning is None and self.layer is not None and not self.layer.admit(k):
            return
        now = self.env._now
        counted = self.window_start <= now < self.window_end
        c = _Customer(next(self._idents), k, now, counted)
        c.own = own
        if self.layer is not None:
            self.layer.on_new(c, returning)
        if len(self.present) >= self.entry_limit:
            if self.entry_limit == self.max_customers:
                raise RunawayError(self.scenario.name, self.max_customers, now - self.window_start)
            self.present[c.ident] = c
            if counted:
                k.n_arrivals += 1
                self.outstanding += 1
            self._refuse(c, k.route[0] if k.route is not None else self.stations[0], now)
            return
        self.present[c.ident] = c
        if counted:
            k.n_arrivals += 1
            self.outstanding += 1
        self._arrive(c, k.route[0] if k.route is not None else self.stations[0], now)

    def draw_own(self, k: _ClassState) -> dict[int, list[Any]]:
        """A new customer's own requirements for the first visit to each station it can reach.

        Its service work, patience, routing and balking draws for those visits are taken now,
        station by station in a fixed order, from samplers that only these draws use. New
        customers of a class arrive in the same order in every variant of a scenario (the
        arrival streams are common), so each brings the same requirements to every station
        whatever the staffing upstream does to the order of visits: common random numbers
        tied to the customer. Later visits to a station (loops, retrials, recovery detours)
        and returning customers draw from the stations' ordinary streams in visit order.
        """
        own = {}
        patience = k.first_patience
        # The samplers' blocks are popped inline, as on the hot path (BlockSampler).
        for index, service, route, balk in k.first_visits or ():
            values = service.values
            work = values.pop() if values else service.next()
            limit = None
            if patience is not None:
                values = patience.values
                limit = values.pop() if values else patience.next()
            u = None
            if route is not None:
                values = route.values
                u = values.pop() if values else route.next()
            b = math.nan
            if balk is not None:
                values = balk.values
                b = values.pop() if values else balk.next()
            own[index] = [work, limit, u, b]
        return own

    def _refuse(self, c: _Customer, st: _StationState, now: float) -> None:
        """The system is full (``system_capacity``): the customer is blocked at its first station.

        It counts as a visit to that station that was blocked, as when its queue is full; its
        service and patience are drawn all the same, so the streams stay aligned with a run
        in which it was admitted (common random numbers across capacities).
        """
        c.station = st
        c.t_in = now
        c.visit_counted = self.window_start <= now < self.window_end
        if c.visit_counted:
            st.n_arrivals += 1
        if c.own is None or c.own.pop(st.index, None) is None:
            st.service[c.kind.index].next()
            if c.kind.patience is not None:
                c.kind.patience.next()
        if self.layer is not None:
            self.layer.on_arrive(c, st)
        self._block(c, st, now)

    def _arrive(self, c: _Customer, st: _StationState, now: float) -> None:
        c.station = st
        c.t_in = now
        counted = self.window_start <= now < self.window_end
        c.visit_counted = counted
        if counted:
            st.n_arrivals += 1
        own = c.own.pop(st.index, None) if c.own is not None else None
        c.visit_own = own
        if own is None:
            sampler = st.service[c.kind.index]
            values = sampler.values
            c.service = values.pop() if values else sampler.next()
        else:
            c.service = own[0]
        if st.speed is not None:
            c.service *= st.speed
        if self.layer is not None:
            self.layer.on_arrive(c, st)
        if own is None:
            patience = c.kind.patience
            # Patience is drawn at every visit, waiting or not, so that the stream
            # stays aligned across scenario variants (common random numbers).
            limit = patience.next() if patience is not None else None
        else:
            limit = own[1]
        if self.own_patience is not None:
            limit = self.own_patience(c, limit)
        if st.pools is not None:
            st.pools.arrive(c, now, limit)
        elif st.busy < st.capacity:
            self._start(c, st, now)
        elif st.n_waiting >= st.queue_limit:
            self._block(c, st, now)
        elif st.balk_draw is not None and (
                st.balk_draw.next() if own is None else own[3]) >= st.balk_join(st.n_waiting):
            self._block(c, st, now)  # balked: leaves as a blocked customer does
        else:
            st.n_waiting += 1
            c.waiting = True
            if st.priority:
                key = now - c.kind.credit if st.credit else c.kind.priority
                heappush(st.queue, (key, next(self._sequence), c))
            else:
                st.queue.append(c)
            if limit is not None:
                c.patience_event = Step(self.env, limit, self._abandon, c)

    def _block(self, c: _Customer, st: _StationState, now: float) -> None:
        if c.visit_counted:
            st.n_blocked += 1
        if self.visits is not None:
            self.visits.append((c.ident, c.arrived_as.index, st.index, now, math.nan, now, _BLOCKED))
        if c.kind.retrial is not None and self._retry(c, now, False):
            return
        self._leave(c, now, _BLOCKED)

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
        if st.varying:
            # The base draw scaled to the mean of the cell the service starts in (and the day's).
            c.service *= st.service_factor(c.kind.index, now - self.window_start)
        Step(self.env, c.service, self._end_service, c)

    @staticmethod
    def _announced_join(st: _StationState, balking: Any) -> Callable[[int], float]:
        """Balking by the announced wait: the join probability for the number waiting, with
        the servers on duty at that moment (all of them busy when an arrival decides)."""

        def join(waiting: int) -> float:
            return balking.join_for_wait(balking.announced(waiting, st.capacity))

        return join

    def _random_taker(self, st: _StationState) -> Callable[[], Any]:
        """Random order: a uniformly chosen entry of the list queue (moved to the end, popped).

        Entries of customers who abandoned are still in the list (removed lazily); picking
        one is skipped by the caller and another is drawn, so the choice stays uniform over
        those waiting. The draws come from the station's own generator (owner ``order:<station>``).
        """
        draw = self.streams.sampler("routing", f"order:{st.name}", Uniform(0.0, 1.0))
        queue = st.queue

        def take() -> Any:
            i = int(draw.next() * len(queue))
            queue[i], queue[-1] = queue[-1], queue[i]
            return queue.pop()

        return take

    def _serve_next(self, st: _StationState, now: float) -> None:
        queue = st.queue
        while st.n_waiting and st.busy < st.capacity:
            c = heappop(queue)[2] if st.priority else st.take()
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

    def _book_service(self, c: _Customer, st: _StationState, now: float) -> None:
        """The tallies of a completed service of ``c`` at ``st`` ending ``now``."""
        t_in, t_start = c.t_in, c.t_start
        service = now - t_start
        c.service_total += service
        if t_in >= self.window_start and now <= self.window_end:
            queued, busy = t_start - t_in, service
        else:
            queued, busy = self._overlap(t_in, t_start), self._overlap(t_start, now)
        st.queue_area += queued
        st.busy_area += busy
        c.arrived_as.queue_area += queued
        if c.visit_counted:
            st.n_completed += 1
            st.sum_service += service
            st.sum_sojourn += now - t_in
            st.sum_wait_served += t_start - t_in
        if self.window_start <= now <= self.window_end:
            st.n_done_in_window += 1
        if self.visits is not None:
            self.visits.append((c.ident, c.arrived_as.index, st.index, t_in, t_start, now, _COMPLETED))

    def _end_service(self, event: Event) -> None:
        c = event._value
        st = c.station
        now = self.env._now
        st.busy -= 1
        self._book_service(c, st, now)
        if self.release_server is not None:
            self.release_server(c, st)  # the freed carer may take the next customer
        if st.pools is not None:
            st.pools.release(c, now)
        elif st.n_waiting and st.busy < st.capacity:
            self._serve_next(st, now)
        origin = st
        if self.layer is not None:
            # A failed service detours to recovery (or a repeat); after the
            # recovery the journey continues from the station that failed.
            detour, origin = self.layer.after_service(c, st)
            if detour is not None:
                self._arrive(c, detour, now)
                return
        nxt = self._next_station(c, origin)
        if nxt is None:
            self._leave(c, now, _COMPLETED)
        else:
            self._arrive(c, nxt, now)

    def _next_station(self, c: _Customer, origin: _StationState) -> _StationState | None:
        """Where ``c`` goes after service at ``origin``: the class's fixed route, else the
        station's routing table, with the customer's own draw for this visit when it has one
        (see :meth:`draw_own`); None means it leaves."""
        route = c.kind.route
        if route is not None:
            c.pos += 1
            return route[c.pos] if c.pos < len(route) else None
        if origin.route_draw is None:
            return origin.route_to[0]
        own = c.visit_own
        if own is not None and own[2] is not None and origin is c.station:
            u = own[2]
            own[2] = None  # used once: a repeat of this visit draws afresh
        else:
            draw = origin.route_draw
            values = draw.values
            u = values.pop() if values else draw.next()
        i = 0
        cum = origin.route_cum
        while u >= cum[i]:
            i += 1
        return origin.route_to[i]

    # ------------------------------------------------------------------ blocking after service

    def _end_service_held(self, event: Event) -> None:
        """A service end when some station blocks after service (simlib.engine.blocking).

        The tallies are those of :meth:`_end_service`; then the customer is routed first and
        the server freed after: when the next station is full and blocks after service the
        customer stays on its server, which stays busy (blocked) until :meth:`_unblock`.
        """
        c = event._value
        st = c.station
        now = self.env._now
        self._book_service(c, st, now)
        origin = st
        detour = None
        if self.layer is not None:
            detour, origin = self.layer.after_service(c, st)
        nxt = detour if detour is not None else self._next_station(c, origin)
        blocking = self.blocking
        assert blocking is not None
        if nxt is not None and blocking.holds(nxt):
            if isinstance(st.pools, SharedStation):
                st.pools.reschedule()  # the others' shares go on growing without it
            stuck = blocking.hold(c, st, nxt, now)
            if stuck is not None:
                raise DeadlockError(self.scenario.name, tuple(x.name for x in stuck),
                                    now - self.window_start)
            return
        self._free_server(c, st, now)
        if nxt is None:
            self._leave(c, now, _COMPLETED)
        else:
            self._arrive(c, nxt, now)
        self._unblock(st, now)

    def _free_server(self, c: _Customer, st: _StationState, now: float,
                     ended: float | None = None) -> None:
        """``c`` leaves its server at ``st``, which takes the next waiting customer; ``ended``
        is when its service ended (earlier than ``now`` when it was held there, blocked)."""
        st.busy -= 1
        if self.release_server is not None:
            self.release_server(c, st)  # the freed carer may take the next customer
        if isinstance(st.pools, PooledStation):
            st.pools.release(c, now, now if ended is None else ended)
        elif st.pools is not None:
            st.pools.release(c, now)
        elif st.n_waiting and st.busy < st.capacity:
            self._serve_next(st, now)

    def _unblock(self, st: _StationState, now: float) -> None:
        """A place may have freed at ``st``: customers blocked on it move in, oldest first, and
        each frees its own server upstream (which may release customers blocked there)."""
        assert self.blocking is not None
        queue = self.blocking.queues[st.index]
        while queue and not is_full(st):
            c = queue.popleft()
            ended = self.blocking.holding[c.ident][2]
            upstream = self.blocking.release(c, now)
            self._free_server(c, upstream, now, ended)
            self._arrive(c, st, now)
            self._unblock(upstream, now)

    def _abandon_freeing(self, event: Event) -> None:
        """An abandonment when some station blocks after service: it frees a place."""
        c = event._value
        if c.patience_event is not event:
            return  # service started before patience ran out
        st = c.station
        ServiceNetwork._abandon(self, event)
        now = self.env._now
        self._unblock(st, now)
        blocking = self.blocking
        assert blocking is not None
        if blocking.holding:
            # The place may have gone to a blocked customer who cannot abandon, leaving a
            # cycle of full stations with nobody able to leave: a deadlock too.
            stuck = blocking.deadlock(st)
            if stuck is not None:
                raise DeadlockError(self.scenario.name, tuple(x.name for x in stuck),
                                    now - self.window_start)

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
        c.arrived_as.queue_area += queued
        if c.visit_counted:
            st.n_abandoned += 1
            st.sum_wait += wait
            st.n_waited += 1
        if self.visits is not None:
            self.visits.append((c.ident, c.arrived_as.index, st.index, c.t_in, math.nan, now, _ABANDONED))
        if c.kind.retrial is not None and self._retry(c, now, True):
            return
        self._leave(c, now, _ABANDONED)

    def _retry(self, c: _Customer, now: float, abandoned: bool) -> bool:
        """After an abandonment or a blocking: True when the customer goes into orbit to
        try the same station again after its class's retrial delay (it stays in the system)."""
        retrial = c.kind.retrial
        assert retrial is not None and self.orbit is not None
        attempts = getattr(c, "attempts", 1)
        if not retrial.again(attempts, abandoned):
            return False
        c.attempts = attempts + 1
        if c.counted:
            c.arrived_as.n_retrials += 1
        if abandoned:
            self._forget_queued(c, c.station)
        del self.present[c.ident]
        self.orbit[c.ident] = c
        Step(self.env, retrial.delay.next(), self._come_back, c)
        return True

    @staticmethod
    def _forget_queued(c: _Customer, st: _StationState) -> None:
        """Take an abandoned customer's entry out of ``st``'s queue before it tries again.

        Queues drop abandoned customers lazily (skipped when popped, by ``waiting``); a
        customer who comes back would otherwise have its old entry taken for it: its old
        place in the line here, or a service here while it waits at another station.
        A server bank's queue and a pooled station's class queues are their own; processor
        sharing and infinite servers have none (nobody abandons there).
        """
        if isinstance(st.pools, (ServerBank, PooledStation)):
            st.pools.forget(c)
        elif st.pools is None:
            queue = st.queue
            if isinstance(queue, list):  # a heap (priority) or random order's list
                queue[:] = [e for e in queue if (e[2] if isinstance(e, tuple) else e) is not c]
                if st.priority:
                    heapify(queue)
            else:
                queue.remove(c)

    def _come_back(self, event: Event) -> None:
        """A customer in orbit tries its station again: an arrival from outside."""
        c = event._value
        assert self.orbit is not None
        del self.orbit[c.ident]
        now = self.env._now
        if len(self.present) >= self.entry_limit:
            if self.entry_limit == self.max_customers:
                raise RunawayError(self.scenario.name, self.max_customers, now - self.window_start)
            self.present[c.ident] = c
            self._refuse(c, c.station, now)
            return
        self.present[c.ident] = c
        self._arrive(c, c.station, now)

    def _leave(self, c: _Customer, now: float, outcome: int) -> None:
        del self.present[c.ident]
        k = c.arrived_as
        if self.departures is not None:
            self.departures.append(
                (c.ident, k.index, c.t_arrive, now, outcome, c.wait_total, c.service_total,
                 c.waited, c.late, getattr(c, "time_blocked", 0.0))
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
            k.sum_wait_blocked += c.wait_total
            if self.blocking is not None:
                # Not admitted: its time blocked upstream leaves the class's mean_time_blocked.
                self.blocking.class_time[k.index] -= getattr(c, "time_blocked", 0.0)
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
        missed the service level — and :func:`~simlib.engine.replication.simulate`
        warns how many (an experiment's runner says it once for all its replications).
        """
        held = self.blocking.holding if self.blocking is not None else {}
        for c in self.present.values():
            st = c.station
            k = c.arrived_as
            if c.ident in held:
                assert self.blocking is not None
                self.blocking.flush(c, now)  # its queue and service were booked when it ended
                queued = 0.0
            elif c.waiting:
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


    def _flush_orbit(self, now: float) -> None:
        """Customers still in orbit when the run stops: counted ones are censored as those
        present are (admitted, their waits so far counted, the service level missed); their
        time since arrival counts in their class's ``mean_in_system``."""
        assert self.orbit is not None
        for c in self.orbit.values():
            k = c.arrived_as
            k.system_area += self._overlap(c.t_arrive, now)
            if not c.counted:
                continue
            self.censored += 1
            k.n_admitted += 1
            k.sum_wait += c.wait_total
            if c.waited:
                k.n_waited += 1

    def run(self) -> Metrics:
        """Simulate the replication and return ``{scope: {metric: value}}``."""
        for st in self.stations:
            self._start_shifts(st)
        for k in self.classes:
            self._start_arrivals(k)
        Step(self.env, self.window_end, self._close_window, None)
        Step(self.env, self.drain_until, self._give_up, None)
        self.env.run(until=self.finished)
        self._flush_present(self.env._now)
        if self.orbit:
            self._flush_orbit(self.env._now)
        return self.metrics()

    # ------------------------------------------------------------------ metrics

    def metrics(self) -> Metrics:
        """The metrics of every station, class and the system, with the layer's."""
        out = network_metrics(self.scenario, self.stations, self.classes)
        if self.orbit is not None:
            # Retrials per arriving customer (docs/metrics.md#retrials).
            for k in self.classes:
                out[k.name]["mean_retrials"] = k.n_retrials / k.n_arrivals if k.n_arrivals else math.nan
            total = sum(k.n_arrivals for k in self.classes)
            out["system"]["mean_retrials"] = (
                sum(k.n_retrials for k in self.classes) / total if total else math.nan)
        for st in self.stations:
            if st.pools is not None:
                st.pools.add_metrics(out, self.scenario.horizon, self.env._now, self.present.values())
        if self.blocking is not None:
            self.blocking.add_metrics(out, self.scenario.horizon, self.stations, self.classes)
        if self.layer is not None:
            self.layer.add_metrics(out)
        return out
