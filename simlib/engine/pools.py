"""Pooled stations: multi-skill routing of calls to agent pools, on the network's clock.

A station with agent pools (:class:`simlib.spec.pools.PoolSet`) keeps one
FIFO queue per class instead of one queue, and each pool keeps its free
agents in the order they became idle. A call of class ``k`` arriving finds a
free agent among the pools it may use *now* — its primary pool only, or
every pool its policy lists once it has waited ``overflow_after`` (at once
when that is 0) — chosen by the station's selection rule; otherwise it
waits, and an overflow step at ``t_in + overflow_after`` offers it to the
other listed pools. An agent who frees takes, among the classes it may serve
(its primary classes at once, the others after their overflow delay), the
head of queue that comes first by the station's discipline (FIFO by arrival
at the station, or priority then FIFO), and otherwise waits idle.

A call's service time depends on the pool that serves it. Every listed
pool's requirement is drawn when the call arrives (the primary's by the
network from the station's service samplers, the others here, each pool and
class on its own stream), so variants that change routing or staffing still
replay the same calls (common random numbers), and a station with one pool
draws exactly what a station without pools draws: same seed, same numbers.

The network keeps doing the station-level bookkeeping (waits, services,
abandonment, blocking, routing onward) through the callables it hands in;
the station's ``busy``, ``capacity`` and ``n_waiting`` are the pools'
totals. This module adds the per-pool tallies and metrics, reported under
the scope ``station/pool`` (docs/metrics.md#agent-pools).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from simpy.events import Event

from simlib.engine.events import Metrics, Step
from simlib.spec.pools import Pool, pool_scope

__all__ = ["PoolState", "PooledStation"]


class PoolState:
    """One pool at run time: agents on duty, busy, idle agents and tallies."""

    __slots__ = (
        "spec", "name", "scope", "capacity", "busy", "free", "eligible", "busy_area",
        "n_done_in_window", "n_completed", "sum_service",
    )

    def __init__(self, spec: Pool, station: str, n_classes: int) -> None:
        self.spec = spec
        self.name = spec.name
        self.scope = pool_scope(station, spec.name)
        self.capacity = spec.servers_at(0.0)
        self.busy = 0
        #: Times at which each idle agent became idle, longest idle first.
        self.free: deque[float] = deque([0.0] * self.capacity)
        #: (class queue, primary?, overflow delay, position in the class's options, class index).
        self.eligible: list[tuple[deque, bool, float, int, int]] = []
        self.busy_area = 0.0
        self.n_done_in_window = 0
        #: Completed counted visits by class index.
        self.n_completed = [0] * n_classes
        self.sum_service = 0.0


class PooledStation:
    """The pools of one station and how calls reach them.

    ``st`` is the network's station state; ``host`` the network (``env``,
    ``streams``, ``classes``, ``window_start``, ``window_end``). ``start``,
    ``block`` and ``abandon`` are the network's own steps for a service
    start, a blocked arrival and a patience running out; ``overlap(a, b)``
    is the part of ``[a, b]`` inside the observed window.
    """

    def __init__(
        self,
        st: Any,
        host: Any,
        start: Callable[[Any, Any, float], None],
        block: Callable[[Any, Any, float], None],
        abandon: Callable[[Event], None],
        overlap: Callable[[float, float], float],
    ) -> None:
        spec = st.spec.pools
        self.st = st
        self.host = host
        self.env = host.env
        self.start = start
        self.block = block
        self.abandon = abandon
        self.overlap = overlap
        self.longest_idle = spec.selection == "longest_idle"
        self.priority = st.spec.discipline == "priority"
        classes = host.classes
        self.pools = [PoolState(p, st.name, len(classes)) for p in spec.pools]
        by_name = {p.name: p for p in self.pools}
        #: Per class index: its queue, its pools in policy order, the samplers of the
        #: non-primary pools (None for the primary) and its overflow delay.
        self.queues: list[deque] = [deque() for _ in classes]
        self.options: list[tuple[PoolState, ...]] = [() for _ in classes]
        self.samplers: list[tuple[Any, ...]] = [() for _ in classes]
        self.overflow: list[float] = [0.0] * len(classes)
        for k in classes:
            policy = spec.policies.get(k.name)
            if policy is None:
                continue  # the class never visits this station
            opts = tuple(by_name[name] for name in policy.pools)
            self.options[k.index] = opts
            self.overflow[k.index] = policy.overflow_after if len(opts) > 1 else 0.0
            self.samplers[k.index] = (None,) + tuple(
                host.streams.sampler("service", f"{st.name}/{p.name}/{k.name}", p.spec.service[k.name])
                for p in opts[1:]
            )
            for i, p in enumerate(opts):
                p.eligible.append((self.queues[k.index], i == 0, self.overflow[k.index], i, k.index))

    # ------------------------------------------------------------------ set-up

    def start_shifts(self) -> None:
        """Schedule each pool's shift changes (the warm-up runs with the first shift)."""
        w = self.host.window_start
        for p in self.pools:
            if p.spec.shifts is None:
                continue
            for shift in p.spec.shifts:
                if shift.start > 0:
                    Step(self.env, w + shift.start, self.change_agents, (p, shift.servers))

    def change_agents(self, event: Event) -> None:
        """A shift change: new agents take waiting calls; fewer leave when idle or done."""
        p, servers = event._value
        now = self.env._now
        delta = servers - p.capacity
        p.capacity = servers
        self.st.capacity += delta
        # Agents on duty and idle: max(0, servers - busy); busy agents over the
        # new number go off duty when their service ends.
        change = max(0, servers - p.busy) - len(p.free)
        for _ in range(change):
            if not self.take(p, now):
                p.free.append(now)
        for _ in range(-change):
            p.free.pop()  # the most recently idle agents go off duty first

    # ------------------------------------------------------------------ hot path

    def select(self, opts: tuple[PoolState, ...]) -> int:
        """The position in ``opts`` of the pool whose free agent takes a call, -1 if none."""
        best = -1
        if self.longest_idle:
            since = 0.0
            for i, p in enumerate(opts):
                if p.free and (best < 0 or p.free[0] < since):
                    best, since = i, p.free[0]
            return best
        for i, p in enumerate(opts):
            if p.free:
                return i
        return best

    def begin(self, c: Any, k: int, i: int, now: float) -> None:
        """Start the service of call ``c`` (class index ``k``) by an agent of its ``i``-th listed pool."""
        p = self.options[k][i]
        p.busy += 1
        if i:
            c.service = c.pool_service[i]
        c.pool = p
        # The class served, for the pool's tallies at release: a class change after service
        # may have changed the customer's class by then (while it was held, blocked after service).
        c.pool_kind = k
        self.start(c, self.st, now)

    def arrive(self, c: Any, now: float, limit: float | None) -> None:
        """A call reached the station (the network drew its primary service and patience)."""
        st = self.st
        k = c.kind.index
        opts = self.options[k]
        if len(opts) > 1:
            speed = st.speed
            draws = [c.service]
            for sampler in self.samplers[k][1:]:
                values = sampler.values
                x = values.pop() if values else sampler.next()
                draws.append(x * speed if speed is not None else x)
            c.pool_service = draws
        delay = self.overflow[k]
        i = self.select(opts if delay == 0 else opts[:1])
        if i >= 0:
            opts[i].free.popleft()  # the pool's longest idle agent takes it
            self.begin(c, k, i, now)
            return
        if st.n_waiting >= st.queue_limit:
            self.block(c, st, now)
            return
        st.n_waiting += 1
        c.waiting = True
        self.queues[k].append(c)
        if limit is not None:
            c.patience_event = Step(self.env, limit, self.abandon, c)
        if delay > 0:
            Step(self.env, delay, self.overflow_now, (c, now))

    def overflow_now(self, event: Event) -> None:
        """A call has waited its overflow delay: any listed pool with a free agent may take it."""
        c, t_in = event._value
        if not c.waiting or c.station is not self.st or c.t_in != t_in:
            return  # served or abandoned meanwhile
        k = c.kind.index
        i = self.select(self.options[k])
        if i < 0:
            return
        queue = self.queues[k]
        while not queue[0].waiting:
            queue.popleft()
        if queue[0] is c:
            queue.popleft()
        else:
            queue.remove(c)
        self.dequeue(c)
        self.options[k][i].free.popleft()
        self.begin(c, k, i, self.env._now)

    def dequeue(self, c: Any) -> None:
        """Call ``c`` leaves the queue for service."""
        c.waiting = False
        c.patience_event = None
        self.st.n_waiting -= 1

    def forget(self, c: Any) -> None:
        """Drop abandoned call ``c``'s entry from its class queue (it is about to try again).

        The deque is emptied and refilled, not replaced: the pools' ``eligible`` entries
        hold it."""
        queue = self.queues[c.kind.index]
        kept = [x for x in queue if x is not c]
        queue.clear()
        queue.extend(kept)

    def take(self, p: PoolState, now: float) -> bool:
        """An agent of ``p`` is free: it takes the first waiting call it may serve, if any."""
        best: Any = None
        best_key: Any = None
        where: tuple[deque, bool, float, int, int] | None = None
        for entry in p.eligible:
            queue, primary, delay, _, _ = entry
            while queue and not queue[0].waiting:
                queue.popleft()  # abandoned while queued; removed lazily
            if not queue:
                continue
            c = queue[0]
            if not primary and now < c.t_in + delay:
                continue
            key = (c.kind.priority, c.t_in) if self.priority else c.t_in
            if best is None or key < best_key:
                best, best_key, where = c, key, entry
        if where is None:
            return False
        where[0].popleft()
        self.dequeue(best)
        self.begin(best, where[4], where[3], now)
        return True

    def release(self, c: Any, now: float, ended: float | None = None) -> None:
        """Call ``c``'s service ended at ``ended`` (default ``now``) and its agent is free
        ``now`` (later when the customer was held on it, blocked after service); the network
        did the station's tallies. The pool's busy time and service are the service's."""
        ended = now if ended is None else ended
        p = c.pool
        p.busy -= 1
        p.busy_area += self.overlap(c.t_start, ended)
        if c.visit_counted:
            p.n_completed[c.pool_kind] += 1
            p.sum_service += ended - c.t_start
        host = self.host
        if host.window_start <= ended <= host.window_end:
            p.n_done_in_window += 1
        if p.busy < p.capacity and not self.take(p, now):
            p.free.append(now)

    # ------------------------------------------------------------------ metrics

    def add_metrics(self, out: Metrics, horizon: float, now: float, present: Any) -> None:
        """Add each pool's scope ``station/pool`` to ``out``.

        ``present`` are the customers still in the system at ``now``; the
        part of a service still running counts as busy time.
        """
        running = dict.fromkeys(self.pools, 0.0)
        held = self.host.blocking.holding if self.host.blocking is not None else {}
        for c in present:
            if c.station is self.st and not c.waiting:
                # A customer held here, blocked after service, was served until it was held.
                end = held[c.ident][2] if c.ident in held else now
                running[c.pool] += self.overlap(c.t_start, end)
        names = [k.name for k in self.host.classes]
        for p in self.pools:
            busy = p.busy_area + running[p]
            scheduled = p.spec.server_time(0.0, horizon)
            handled = sum(p.n_completed)
            m = {
                "throughput": p.n_done_in_window / horizon,
                "utilization": busy / scheduled if scheduled else float("nan"),
                "mean_busy": busy / horizon,
                "handled": float(handled),
                "mean_service": p.sum_service / handled if handled else float("nan"),
            }
            for _, _, _, _, k in p.eligible:
                m[f"handled_{names[k]}"] = float(p.n_completed[k])
            out[p.scope] = m
