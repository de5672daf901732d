"""Stations whose servers are more than a count: pre-emption, server speeds, processor sharing.

A station with ``discipline: preemptive``, with ``speeds`` or with ``discipline: ps``
(:mod:`simlib.spec.servers`) is run by one of the two models of this module, which the
network calls where it calls a pooled station (``arrive`` when a customer reaches the
station, ``release`` after the network's tallies of a service end); stations without
these options never reach this module, so they cost nothing.

:class:`ServerBank` keeps the queue (priority then first come first served, or first come
first served) and, with ``speeds``, which server serves whom: the fastest idle server
takes the next customer, and a requirement ``x`` (the draw of the service distribution)
takes ``x / speed``. Under pre-emption an arrival that finds every server busy interrupts
the customer in service with the largest ``priority`` (the one whose current service
started last among equals) when its own priority is strictly smaller; the interrupted
customer goes back to the head of its class queue (its place by arrival) and later
resumes its remaining work, restarts the same requirement or draws a new one
(``preemption``). A resample draws from the station's service stream, so later
customers' draws shift.

:class:`SharedStation` is processor sharing: nobody queues, and while ``n`` customers are
present on ``c`` servers each is served at rate ``min(1, c / n)``. All present are served
at the same rate, so one *virtual time* ``V`` (the work each has received since ``V = 0``)
orders their departures: a customer who arrives at ``V_a`` with requirement ``x`` leaves
when ``V`` reaches ``V_a + x``. One departure step is scheduled at a time and is replaced
when ``n`` or ``c`` changes.

How the waits and services of these stations count (docs/metrics.md#pre-emption-and-processor-sharing):
a visit's wait is all its time in queue (the first wait and every wait after an
interruption), its service all its time in service (the lost work of a restart included);
the service level and the layer's ``on_start`` see the first start only, and an interrupted
customer waiting to resume does not abandon. Under processor sharing the service is the
requirement (the time alone on a server) and the wait is the rest of the sojourn, the delay
caused by sharing. The records and the window integrals stay those of one service spell
per visit: the visit's start is recorded as its end minus its service, so that start minus
arrival is its wait; the time-averages of a visit that straddles a window edge are corrected
to the exact overlaps when the visit ends.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from heapq import heapify, heappop, heappush
from itertools import count
from typing import Any

from simpy.events import Event

from simlib.engine.events import Metrics, Step

__all__ = ["ServerBank", "SharedStation", "server_model"]


def server_model(
    st: Any,
    host: Any,
    end_service: Callable[[Event], None],
    block: Callable[[Any, Any, float], None],
    abandon: Callable[[Event], None],
    overlap: Callable[[float, float], float],
) -> ServerBank | SharedStation | None:
    """The model that runs station ``st``, None when its servers need none (a plain station).

    ``host`` is the network (``env``, ``layer``, ``threshold``, ``window_start``,
    ``window_end``); ``end_service``, ``block`` and ``abandon`` are its steps for a service
    end, a blocked arrival and a patience running out, ``overlap(a, b)`` the part of
    ``[a, b]`` inside the observed window.
    """
    spec = st.spec
    if spec.discipline == "ps":
        return SharedStation(st, host, end_service, overlap)
    if spec.discipline == "preemptive" or spec.speeds is not None:
        return ServerBank(st, host, end_service, block, abandon, overlap)
    return None


def _first_start(host: Any, c: Any, st: Any, wait: float) -> None:
    """The tallies of a visit's first service start after ``wait`` (as the network's own start)."""
    if wait > 0:
        c.wait_total += wait
        c.waited = True
        if wait > host.threshold:
            c.late = True
    if c.visit_counted:
        if wait > 0:
            st.sum_wait += wait
            st.n_waited += 1
        if wait <= host.threshold:
            st.n_sl_ok += 1



def schedule_shift_changes(env: Any, shifts: Any, window_start: float,
                           change: Callable[[Event], None]) -> None:
    """Call ``change`` with each later shift's servers when that shift starts."""
    for shift in shifts or ():
        if shift.start > 0:
            Step(env, window_start + shift.start, change, shift.servers)

class _Job:
    """A visit's service at a :class:`ServerBank` (kept in the customer's ``pool`` slot)."""

    __slots__ = ("server", "event", "work", "full", "factor", "received", "since", "queued",
                 "busy", "key", "waited")

    def __init__(self, work: float, factor: float, key: int, queued: float, waited: bool) -> None:
        #: The serving server's index (-1 without speeds).
        self.server = -1
        #: The pending end of the current service spell (None while interrupted).
        self.event: Event | None = None
        #: The requirement still to do (at speed 1) from ``since``, and the whole one.
        self.work = work
        self.full = work
        #: The service profile's factor at the first start (applied to a resample).
        self.factor = factor
        #: Time in service in the spells before the current one.
        self.received = 0.0
        #: Start of the current spell (in service or waiting to resume).
        self.since = 0.0
        #: Window overlaps of the finished waiting and service spells.
        self.queued = queued
        self.busy = 0.0
        #: Place in the queue (the order of arrival at the station).
        self.key = key
        self.waited = waited


class ServerBank:
    """A queue before servers that may pre-empt and may differ in speed.

    ``st`` is the network's station state; see :func:`server_model` for the rest.
    """

    def __init__(
        self,
        st: Any,
        host: Any,
        end_service: Callable[[Event], None],
        block: Callable[[Any, Any, float], None],
        abandon: Callable[[Event], None],
        overlap: Callable[[float, float], float],
    ) -> None:
        spec = st.spec
        self.st = st
        self.host = host
        self.env = host.env
        self.end_service = end_service
        self.block = block
        self.abandon = abandon
        self.overlap = overlap
        self.preemptive = spec.discipline == "preemptive"
        self.mode = spec.preemption
        self.priority = spec.discipline in ("priority", "preemptive")
        #: Waiting entries ``(priority, place, customer, job or None)``: a heap under a
        #: priority discipline, else a deque; ``job`` is set for an interrupted customer.
        self.queue: Any = [] if self.priority else deque()
        self.places = count()
        #: Server speeds and the idle servers as a heap of (-speed, index): fastest first.
        self.speeds = spec.speeds
        self.idle: list[tuple[float, int]] = (
            [(-s, i) for i, s in enumerate(self.speeds)] if self.speeds is not None else [])
        self.idle.sort()
        #: Customers in service by ident (for choosing whom to interrupt).
        self.serving: dict[int, Any] = {}
        #: Interruptions of counted visits.
        self.n_preempted = 0

    # ------------------------------------------------------------------ set-up

    def start_shifts(self) -> None:
        """Schedule the shift changes (the network set the warm-up's servers)."""
        schedule_shift_changes(self.env, self.st.spec.shifts, self.host.window_start,
                               self.change_servers)

    def change_servers(self, event: Event) -> None:
        """More servers take waiting customers; with fewer, busy ones leave when done."""
        self.st.capacity = event._value
        self.serve(self.env._now)

    # ------------------------------------------------------------------ hot path

    def arrive(self, c: Any, now: float, limit: float | None) -> None:
        """Customer ``c`` reached the station (the network drew its service and patience)."""
        st = self.st
        if st.busy < st.capacity:
            self.begin(c, now, next(self.places))
            return
        if self.preemptive and st.busy == st.capacity and self.serving:
            victim = max(self.serving.values(), key=self.rank)
            if c.kind.priority < victim.kind.priority:
                self.interrupt(victim, now)
                self.begin(c, now, next(self.places))
                return
        if st.n_waiting >= st.queue_limit:
            self.block(c, st, now)
            return
        own = c.visit_own  # the customer's own draws for this visit (simlib.engine.network)
        if st.balk_draw is not None and (
                st.balk_draw.next() if own is None else own[3]) >= st.balk_join(st.n_waiting):
            self.block(c, st, now)  # balked: leaves as a blocked customer does
            return
        st.n_waiting += 1
        c.waiting = True
        entry = (c.kind.priority, next(self.places), c, None)
        if self.priority:
            heappush(self.queue, entry)
        else:
            self.queue.append(entry)
        if limit is not None:
            c.patience_event = Step(self.env, limit, self.abandon, c)

    @staticmethod
    def rank(c: Any) -> tuple[int, float]:
        """Who is interrupted first: the largest priority, then the latest start."""
        return c.kind.priority, c.pool.since

    def begin(self, c: Any, now: float, place: int) -> None:
        """The first service start of ``c``'s visit."""
        st = self.st
        host = self.host
        st.busy += 1
        c.t_start = now
        wait = now - c.t_in
        _first_start(host, c, st, wait)
        if c.visit_counted:
            st.n_started += 1
        if host.layer is not None:
            host.layer.on_start(c, st)
        factor = 1.0
        if st.varying:
            factor = st.service_factor(c.kind.index, now - host.window_start)
            c.service *= factor
        job = _Job(c.service, factor, place, self.overlap(c.t_in, now), wait > 0)
        c.pool = job
        self.run(c, job, now)

    def run(self, c: Any, job: _Job, now: float) -> None:
        """Start a service spell of ``job`` on the fastest idle server."""
        duration = job.work
        if self.speeds is not None:
            neg, job.server = heappop(self.idle)
            duration /= -neg
        job.since = now
        job.event = Step(self.env, duration, self.finish, c)
        if self.preemptive:
            self.serving[c.ident] = c

    def interrupt(self, v: Any, now: float) -> None:
        """Take customer ``v`` out of service and back to the head of its class queue."""
        st = self.st
        job = v.pool
        assert job.event is not None
        job.event.callbacks.clear()  # the scheduled end will not happen
        job.event = None
        del self.serving[v.ident]
        elapsed = now - job.since
        job.received += elapsed
        job.busy += self.overlap(job.since, now)
        speed = 1.0
        if self.speeds is not None:
            speed = self.speeds[job.server]
            heappush(self.idle, (-speed, job.server))
        if self.mode == "resume":
            job.work = max(0.0, job.work - elapsed * speed)
        elif self.mode == "restart":
            job.work = job.full
        else:  # resample: a new requirement, as drawn at arrival
            sampler = st.service[v.kind.index]
            values = sampler.values
            x = values.pop() if values else sampler.next()
            if st.speed is not None:
                x *= st.speed
            job.work = x * job.factor
        job.since = now
        st.busy -= 1
        if v.visit_counted:
            self.n_preempted += 1
        st.n_waiting += 1
        v.waiting = True
        v.patience_event = None  # an interrupted customer waits to resume, without abandoning
        heappush(self.queue, (v.kind.priority, job.key, v, job))  # pre-emptive queues are heaps

    def resume(self, c: Any, job: _Job, now: float) -> None:
        """An interrupted customer's service is taken up again."""
        st = self.st
        st.busy += 1
        wait = now - job.since
        job.queued += self.overlap(job.since, now)
        if wait > 0:
            c.wait_total += wait
            c.waited = True
            if c.visit_counted:
                st.sum_wait += wait
                if not job.waited:
                    st.n_waited += 1
            job.waited = True
        # The visit's start as the network books it: end minus the time in service.
        c.t_start = now - job.received
        self.run(c, job, now)

    def forget(self, c: Any) -> None:
        """Drop abandoned customer ``c``'s entry from the queue (it is about to try again)."""
        kept = [e for e in self.queue if e[2] is not c]
        if self.priority:
            heapify(kept)
            self.queue[:] = kept
        else:
            self.queue.clear()
            self.queue.extend(kept)

    def serve(self, now: float) -> None:
        """Free servers take waiting customers (interrupted ones resume)."""
        st = self.st
        queue = self.queue
        while st.n_waiting and st.busy < st.capacity:
            entry = heappop(queue) if self.priority else queue.popleft()
            c = entry[2]
            if not c.waiting:
                continue  # abandoned while queued; removed lazily
            c.waiting = False
            c.patience_event = None
            st.n_waiting -= 1
            if entry[3] is None:
                self.begin(c, now, entry[1])
            else:
                self.resume(c, entry[3], now)

    def finish(self, event: Event) -> None:
        """The current spell ended the service; the network books it and routes on."""
        c = event._value
        job = c.pool
        if self.preemptive:
            del self.serving[c.ident]
        if job.received:
            host = self.host
            now = self.env._now
            t_in, start = c.t_in, c.t_start
            if not (t_in >= host.window_start and now <= host.window_end):
                # The network books one wait then one service; book the spells exactly.
                queued = job.queued - self.overlap(t_in, start)
                self.st.queue_area += queued
                c.arrived_as.queue_area += queued  # the class it is counted under
                self.st.busy_area += job.busy + self.overlap(job.since, now) - self.overlap(start, now)
        self.end_service(event)

    def release(self, c: Any, now: float) -> None:
        """The network booked ``c``'s service end: its server takes the next customer."""
        if self.speeds is not None:
            server = c.pool.server
            heappush(self.idle, (-self.speeds[server], server))
        if self.st.n_waiting:
            self.serve(now)

    # ------------------------------------------------------------------ metrics

    def add_metrics(self, out: Metrics, horizon: float, now: float, present: Any) -> None:
        """Add the number of interruptions to the station's metrics (pre-emptive stations)."""
        if self.preemptive:
            out[self.st.name]["preemptions"] = float(self.n_preempted)


class _Share:
    """A visit at a :class:`SharedStation` (kept in the customer's ``pool`` slot)."""

    __slots__ = ("work", "v_in")

    def __init__(self, work: float, v_in: float) -> None:
        self.work = work
        self.v_in = v_in


class SharedStation:
    """Processor sharing on ``capacity`` servers; see the module's description."""

    def __init__(
        self,
        st: Any,
        host: Any,
        end_service: Callable[[Event], None],
        overlap: Callable[[float, float], float],
    ) -> None:
        self.st = st
        self.host = host
        self.env = host.env
        self.end_service = end_service
        self.overlap = overlap
        #: Virtual time (work per customer so far), the time it was last brought up to date,
        #: and its values at the window's start and end once the clock has passed them.
        self.v = 0.0
        self.t = 0.0
        self.v_start = 0.0
        self.v_end = 0.0
        #: ``(virtual departure time, place, customer)`` of everyone present.
        self.heap: list[tuple[float, int, Any]] = []
        self.places = count()
        #: The scheduled next departure (None when nobody is served).
        self.event: Event | None = None

    def start_shifts(self) -> None:
        """Schedule the shift changes (the network set the warm-up's servers)."""
        schedule_shift_changes(self.env, self.st.spec.shifts, self.host.window_start,
                               self.change_servers)

    def change_servers(self, event: Event) -> None:
        """The share of each customer changes with the number of servers."""
        now = self.env._now
        self.advance(now)
        self.st.capacity = event._value
        self.reschedule()

    # ------------------------------------------------------------------ hot path

    def rate(self) -> float:
        """The service rate of each customer present now."""
        n = len(self.heap)
        c = self.st.capacity
        return 0.0 if not n else 1.0 if c >= n else c / n

    def advance(self, now: float) -> None:
        """Bring the virtual time up to ``now`` (noting it at the window's edges)."""
        t = self.t
        if t == now:
            return
        r = self.rate()
        host = self.host
        if t < host.window_start <= now:
            self.v_start = self.v + r * (host.window_start - t)
        if t < host.window_end <= now:
            self.v_end = self.v + r * (host.window_end - t)
        self.v += r * (now - t)
        self.t = now

    def v_at(self, t: float) -> float:
        """The virtual time at ``t``, for ``t`` the window's start or end or now."""
        host = self.host
        if t == self.t:
            return self.v
        return self.v_start if t == host.window_start else self.v_end

    def reschedule(self) -> None:
        """Replace the next departure after a change in the number present or of servers."""
        if self.event is not None:
            self.event.callbacks.clear()
            self.event = None
        r = self.rate()
        if r > 0:
            v_next, _, c = self.heap[0]
            self.event = Step(self.env, max(0.0, (v_next - self.v) / r), self.depart, c)

    def arrive(self, c: Any, now: float, limit: float | None) -> None:
        """Customer ``c`` reached the station: its service starts at once, shared."""
        st = self.st
        host = self.host
        self.advance(now)
        st.busy += 1
        c.t_start = now
        if c.visit_counted:
            st.n_started += 1
        if host.layer is not None:
            host.layer.on_start(c, st)
        if st.varying:
            c.service *= st.service_factor(c.kind.index, now - host.window_start)
        c.pool = _Share(c.service, self.v)
        heappush(self.heap, (self.v + c.service, next(self.places), c))
        self.reschedule()

    def depart(self, event: Event) -> None:
        """The customer with the least work left has received all of it."""
        now = self.env._now
        self.advance(now)
        c = heappop(self.heap)[2]
        assert c is event._value
        self.event = None
        share = c.pool
        host = self.host
        t_in = c.t_in
        # The service is the requirement, the wait the rest of the sojourn.
        wait = now - t_in - share.work
        if wait > 0:
            c.t_start = now - share.work
        else:
            wait = 0.0
            c.t_start = t_in
        _first_start(host, c, self.st, wait)
        if not (t_in >= host.window_start and now <= host.window_end):
            # The work received inside the window is the exact busy time; the rest is queued.
            lo, hi = max(t_in, host.window_start), min(now, host.window_end)
            busy = self.v_at(hi) - (share.v_in if lo == t_in else self.v_start) if hi > lo else 0.0
            queued = self.overlap(t_in, now) - busy
            start = c.t_start
            extra_q = queued - self.overlap(t_in, start)
            self.st.queue_area += extra_q
            c.arrived_as.queue_area += extra_q  # the class it is counted under
            self.st.busy_area += busy - self.overlap(start, now)
        self.end_service(event)

    def release(self, c: Any, now: float) -> None:
        """The network booked ``c``'s departure: the others' shares grow."""
        self.reschedule()

    def add_metrics(self, out: Metrics, horizon: float, now: float, present: Any) -> None:
        """Nothing beyond the network's metrics."""
