"""Records of a replication: named per-visit and per-customer rows, and what is made of them.

A replication that keeps records (``ServiceNetwork(record=True)``) logs one
:class:`Visit` per visit to a station and one :class:`Departure` per customer
leaving the system, in simulation time. The network appends them as plain
tuples in the field order of these named tuples (building a named tuple costs
a Python call per visit on the hot path); :func:`visit_array` and
:func:`departure_array` turn the lists into numpy structured arrays whose
fields carry the same names, and ``Visit(*row)`` names a single row.

Two views are computed from them after the run, with numpy:

* :func:`interval_metrics`: the metrics of docs/metrics.md for every scope
  per interval of the observed window (:class:`Interval`). Customer-based
  metrics belong to the interval in which the customer (or visit) arrived;
  time-averages integrate over the part of each stay that falls inside the
  interval; throughput counts completions in it. Planners need this to check a
  staffing plan interval by interval, and calibration to compare a model with
  what was observed.
* :func:`event_log`: one :class:`TraceEvent` per customer event (``arrival,
  queue, start, end, abandon, block, route``, ``return`` for a returning
  customer's arrival) in the layout of docs/traces.md#event-log-layout, the
  same layout that :mod:`simlib.calibrate` reads for real logs.

Everything a replication produced travels as one :class:`ReplicationRecord`:
its whole-window metrics, the intervals, the event log and the experience
rows of the quality model. Times in these outputs are observed time
(0 = end of the warm-up).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from simlib.engine.events import Metrics, Outcome
from simlib.engine.tallies import Tallies, blocks_after_a_visit, scope_metrics
from simlib.spec.scenario import Scenario

__all__ = [
    "Visit",
    "Departure",
    "Interval",
    "TraceEvent",
    "ReplicationRecord",
    "VISIT_DTYPE",
    "DEPARTURE_DTYPE",
    "visit_array",
    "departure_array",
    "interval_metrics",
    "event_log",
    "interval_edges",
]


class Visit(NamedTuple):
    """One visit to a station, in simulation time."""

    #: The customer's ident (unique within the replication).
    customer: int
    #: Index of the customer's class and of the station, in scenario order.
    class_index: int
    station_index: int
    #: When the customer arrived at the station, started service (NaN when the
    #: visit was abandoned or blocked) and left it.
    t_in: float
    t_start: float
    t_end: float
    #: How the visit ended (an :class:`~simlib.engine.events.Outcome` value).
    outcome: int


class Departure(NamedTuple):
    """One customer leaving the system, in simulation time."""

    customer: int
    class_index: int
    #: When the customer entered and left the system.
    t_arrive: float
    t_leave: float
    #: Outcome of the last visit, why the customer left (an ``Outcome`` value).
    outcome: int
    #: Time spent in queues and in service, summed over the visits.
    wait: float
    service: float
    #: Whether the customer waited at all, and missed the service level (waited
    #: longer than its threshold at some station, or abandoned).
    waited: bool
    late: bool
    #: Time spent blocked on a server after service, summed over the visits (0 unless some
    #: station has ``blocking: after_service``; docs/metrics.md#blocking-after-service).
    blocked: float


class Interval(NamedTuple):
    """The metrics of one interval ``[start, end)`` of the observed window."""

    start: float
    end: float
    metrics: Metrics


class TraceEvent(NamedTuple):
    """One row of the event log, in observed time."""

    customer: int
    customer_class: str
    station: str
    event: str
    time: float


#: numpy layouts of the records (fields named as in :class:`Visit` and :class:`Departure`).
VISIT_DTYPE = np.dtype(
    [("customer", np.int64), ("class_index", np.int64), ("station_index", np.int64),
     ("t_in", float), ("t_start", float), ("t_end", float), ("outcome", np.int8)]
)
DEPARTURE_DTYPE = np.dtype(
    [("customer", np.int64), ("class_index", np.int64), ("t_arrive", float),
     ("t_leave", float), ("outcome", np.int8), ("wait", float), ("service", float),
     ("waited", bool), ("late", bool), ("blocked", float)]
)


def visit_array(visits: Iterable[Sequence[Any]]) -> np.ndarray:
    """Visit rows as a structured array with the fields of :class:`Visit`."""
    return np.array(list(visits), dtype=VISIT_DTYPE)


def departure_array(departures: Iterable[Sequence[Any]]) -> np.ndarray:
    """Departure rows as a structured array with the fields of :class:`Departure`."""
    return np.array(list(departures), dtype=DEPARTURE_DTYPE)


#: Scope of the rows that describe the record itself rather than a station, class or system
#: (no scenario name can be empty, so it never clashes).
RECORD_SCOPE = ""


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
    #: Per-interval metrics in observed time, when intervals were asked for.
    intervals: tuple[Interval, ...] = ()
    #: Event log when a trace was asked for.
    events: tuple[TraceEvent, ...] | None = field(default=None, compare=False)
    #: Experience rows of the observed customers (``simlib.engine.quality.CUSTOMER_COLUMNS``)
    #: when the scenario has a quality block.
    customers: tuple[tuple, ...] | None = field(default=None, compare=False)
    #: Customers still present at the drain limit, whose waits were censored there
    #: (kept in the rows, so a record loaded from a result store reports it too).
    censored: int = field(default=0, compare=False)

    def to_rows(self) -> list[tuple[int, float, float, str, str, float]]:
        """Flat rows ``(replication, start, end, scope, metric, value)``.

        Whole-window metrics have ``start = end = NaN``. A censored count above
        zero is one more whole-window row in the scope :data:`RECORD_SCOPE`. The
        event log is not part of the rows (traces are for inspection, not for
        result stores).
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
        if self.censored:
            rows.append((self.replication, nan, nan, RECORD_SCOPE, "censored",
                         float(self.censored)))
        return rows

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any]]) -> ReplicationRecord:
        """Rebuild a record from :meth:`to_rows` output (order preserved)."""
        replication = None
        censored = 0
        metrics: Metrics = {}
        blocks: dict[tuple[float, float], Metrics] = {}
        for rep, start, end, scope, metric, value in rows:
            replication = int(rep)
            if scope == RECORD_SCOPE:
                censored = int(value)
            elif isinstance(start, float) and math.isnan(start):
                metrics.setdefault(scope, {})[metric] = float(value)
            else:
                block = blocks.setdefault((float(start), float(end)), {})
                block.setdefault(scope, {})[metric] = float(value)
        if replication is None:
            raise ValueError("no rows to rebuild a replication record from")
        intervals = tuple(Interval(a, b, m) for (a, b), m in blocks.items())
        return cls(replication, metrics, intervals, censored=censored)


def interval_edges(horizon: float, period: float) -> np.ndarray:
    """Interval boundaries ``0, period, 2 period, …, horizon`` (the last may be shorter)."""
    n = max(1, math.ceil(horizon / period - 1e-9))
    edges = np.arange(n + 1, dtype=float) * period
    edges[-1] = horizon
    return edges


def _overlaps(a: np.ndarray, b: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Total overlap of the stays ``[a_i, b_i]`` with each interval."""
    if a.size == 0:
        return np.zeros(len(edges) - 1)
    lo = np.maximum(a[:, None], edges[None, :-1])
    hi = np.minimum(b[:, None], edges[None, 1:])
    return np.clip(hi - lo, 0.0, None).sum(axis=0)


def _bin(times: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Count (or sum ``weights``) by the interval that ``times`` fall in; outside counts nowhere."""
    n = len(edges) - 1
    idx = np.searchsorted(edges, times, side="right") - 1
    inside = (times >= edges[0]) & (times < edges[-1]) & (idx >= 0) & (idx < n)
    w = None if weights is None else weights[inside]
    return np.bincount(idx[inside], weights=w, minlength=n).astype(float)


def interval_metrics(
    scenario: Scenario,
    visits: Iterable[Sequence[Any]],
    departures: Iterable[Sequence[Any]],
    period: float,
) -> tuple[Interval, ...]:
    """Metrics per interval of length ``period`` of the observed window.

    ``visits`` and ``departures`` are a replication's :class:`Visit` and
    :class:`Departure` rows, in simulation time.
    """
    w = scenario.warmup
    edges = interval_edges(scenario.horizon, period)
    lengths = np.diff(edges)
    n = len(lengths)
    sl = scenario.service_level
    with_sl = sl is not None
    threshold = sl.threshold if sl is not None else math.inf

    vis = visit_array(visits)
    dep = departure_array(departures)

    completed = vis["outcome"] == Outcome.COMPLETED
    abandoned = vis["outcome"] == Outcome.ABANDONED
    blocked = vis["outcome"] == Outcome.BLOCKED
    t_in, t_end = vis["t_in"] - w, vis["t_end"] - w
    t_start = np.where(completed, vis["t_start"] - w, t_end)  # queue ends here
    wait = t_start - t_in

    tallies: list[dict[str, Tallies]] = [{} for _ in range(n)]
    extra: list[dict[str, dict[str, float]]] = [{} for _ in range(n)]

    def store(scope: str, **columns: np.ndarray) -> None:
        for i in range(n):
            tallies[i][scope] = Tallies(**{k: v[i] for k, v in columns.items()})

    busy_total = np.zeros(n)
    scheduled_total = np.zeros(n)
    for index, spec in enumerate(scenario.stations):
        mine = vis["station_index"] == index
        arr = t_in[mine]
        done = mine & completed
        adm = mine & (completed | abandoned)
        queue_area = _overlaps(t_in[adm], t_start[adm], edges)
        busy_area = _overlaps(t_start[done], t_end[done], edges)
        scheduled = np.array(
            [spec.server_time(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
        )
        busy_total += busy_area
        scheduled_total += scheduled
        store(
            spec.name,
            n_arrivals=_bin(arr, edges),
            n_blocked=_bin(t_in[mine & blocked], edges),
            n_admitted=_bin(t_in[adm], edges),
            n_waited=_bin(t_in[adm & (wait > 0)], edges),
            n_sl_ok=_bin(t_in[done & (wait <= threshold)], edges),
            n_abandoned=_bin(t_in[mine & abandoned], edges),
            n_completed=_bin(t_in[done], edges),
            sum_wait=_bin(t_in[adm], edges, wait[adm]),
            sum_wait_served=_bin(t_in[done], edges, wait[done]),
            sum_sojourn=_bin(t_in[done], edges, (t_end - t_in)[done]),
            sum_service=_bin(t_in[done], edges, (t_end - t_start)[done]),
            n_done_in_window=_bin(t_end[done], edges),
            queue_area=queue_area,
            system_area=queue_area + busy_area,
        )
        for i in range(n):
            extra[i][spec.name] = {"scheduled": scheduled[i], "busy": busy_area[i]}

    d_arrive, d_leave = dep["t_arrive"] - w, dep["t_leave"] - w
    d_outcome = dep["outcome"]
    all_columns: dict[str, np.ndarray] = {}
    for index, kind in enumerate(scenario.classes):
        mine = dep["class_index"] == index
        arr = d_arrive[mine]
        adm = mine & (d_outcome != Outcome.BLOCKED)
        done = mine & (d_outcome == Outcome.COMPLETED)
        vmine = (vis["class_index"] == index) & (completed | abandoned)
        columns = dict(
            n_arrivals=_bin(arr, edges),
            n_blocked=_bin(d_arrive[mine & (d_outcome == Outcome.BLOCKED)], edges),
            n_admitted=_bin(d_arrive[adm], edges),
            n_waited=_bin(d_arrive[adm & dep["waited"]], edges),
            n_sl_ok=_bin(d_arrive[adm & ~dep["late"]], edges),
            n_abandoned=_bin(d_arrive[mine & (d_outcome == Outcome.ABANDONED)], edges),
            n_completed=_bin(d_arrive[done], edges),
            sum_wait=_bin(d_arrive[adm], edges, dep["wait"][adm]),
            sum_wait_served=_bin(d_arrive[done], edges, dep["wait"][done]),
            sum_sojourn=_bin(d_arrive[done], edges, (d_leave - d_arrive)[done]),
            sum_service=_bin(d_arrive[done], edges, dep["service"][done]),
            n_done_in_window=_bin(d_leave[done], edges),
            queue_area=_overlaps(t_in[vmine], t_start[vmine], edges),
            system_area=_overlaps(d_arrive[mine], d_leave[mine], edges),
            sum_wait_blocked=_bin(d_arrive[mine & (d_outcome == Outcome.BLOCKED)], edges,
                                  dep["wait"][mine & (d_outcome == Outcome.BLOCKED)]),
        )
        store(kind.name, **columns)
        for key, value in columns.items():
            all_columns[key] = all_columns.get(key, 0) + value
    store("system", **all_columns)

    out = []
    blocked_wait = blocks_after_a_visit(scenario)
    for i in range(n):
        block: dict[str, dict[str, float]] = {}
        for scope, t in tallies[i].items():
            kwargs: dict[str, Any] = {}
            if scope in extra[i]:
                kwargs = {"scheduled": extra[i][scope]["scheduled"], "busy_area": extra[i][scope]["busy"]}
            elif scope == "system":
                kwargs = {"scheduled": scheduled_total[i], "busy_area": busy_total[i],
                          "blocked_wait": blocked_wait}
            else:
                kwargs = {"blocked_wait": blocked_wait}
            block[scope] = {
                m: float(v)
                for m, v in scope_metrics(
                    t, lengths[i], with_sl, admitted=t.n_admitted,
                    in_system_area=t.system_area, **kwargs,
                ).items()
            }
        out.append(Interval(float(edges[i]), float(edges[i + 1]), block))
    return tuple(out)


def event_log(
    scenario: Scenario, visits: Iterable[Sequence[Any]], returning: Collection[int] = ()
) -> tuple[TraceEvent, ...]:
    """Event rows sorted by time, from a replication's :class:`Visit` rows.

    A visit gives ``queue`` (only when the customer had to wait), ``start``
    and ``end`` for a service, ``abandon``, or ``block`` (without ``queue``); a
    customer's first visit is preceded by ``arrival`` (``return`` for the
    customers in ``returning``), and every further visit by ``route`` at the
    station the customer is sent to.
    """
    w = scenario.warmup
    classes = [k.name for k in scenario.classes]
    stations = [s.name for s in scenario.stations]
    rows: list[TraceEvent] = []
    seen: set[int] = set()
    # Visits are logged when they end; order them by when they began so that each
    # customer's first visit is found first.
    for visit in sorted((Visit(*row) for row in visits), key=lambda v: (v.t_in, v.customer)):
        cust, kind, st, t_in, t_start, t_end, outcome = visit
        c, k, s = int(cust), classes[int(kind)], stations[int(st)]
        first = "return" if c in returning else "arrival"
        rows.append(TraceEvent(c, k, s, "route" if c in seen else first, t_in - w))
        seen.add(c)
        if outcome == Outcome.BLOCKED:
            rows.append(TraceEvent(c, k, s, "block", t_in - w))
            continue
        if outcome == Outcome.ABANDONED:
            rows.append(TraceEvent(c, k, s, "queue", t_in - w))
            rows.append(TraceEvent(c, k, s, "abandon", t_end - w))
            continue
        if t_start > t_in:
            rows.append(TraceEvent(c, k, s, "queue", t_in - w))
        rows.append(TraceEvent(c, k, s, "start", t_start - w))
        rows.append(TraceEvent(c, k, s, "end", t_end - w))
    # Each customer's rows were generated in the order they happened; keep that
    # order among simultaneous events (an "end" precedes the "route" it causes).
    ranked = sorted(range(len(rows)), key=lambda i: (rows[i].time, rows[i].customer, i))
    return tuple(rows[i] for i in ranked)
