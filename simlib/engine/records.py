"""Per-visit records: metrics per time interval and event logs.

When a replication keeps records (``ServiceNetwork(record=True)``), every
visit to a station and every departure from the system is logged as a tuple.
Two views are computed from them after the run, with numpy:

* :func:`interval_metrics`: the metrics of docs/metrics.md per interval of the
  observed window. Customer-based metrics belong to the interval in which the
  customer (or visit) arrived; time-averages integrate over the part of each
  stay that falls inside the interval; throughput counts completions in it.
  Planners need this to check a staffing plan interval by interval, and
  calibration to compare a model with what was observed.
* :func:`event_log`: one row per customer event (``arrival, queue, start,
  end, abandon, block, route``) in the layout of docs/traces.md#event-log-layout,
  the same layout that :mod:`simlib.calibrate` reads for real logs.

Times are reported in observed time (0 = end of the warm-up).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from simlib.engine.network import (
    _ABANDONED,
    _BLOCKED,
    _COMPLETED,
    Tallies,
    scheduled_server_time,
    scope_metrics,
)

if TYPE_CHECKING:
    from simlib.engine.network import Metrics, ServiceNetwork

__all__ = ["interval_metrics", "event_log", "interval_edges"]

# Columns of the visit and departure records (see ServiceNetwork).
_V_CUSTOMER, _V_CLASS, _V_STATION, _V_IN, _V_START, _V_END, _V_OUTCOME = range(7)
_D_CUSTOMER, _D_CLASS, _D_ARRIVE, _D_LEAVE, _D_OUTCOME, _D_WAIT, _D_SERVICE, _D_WAITED, _D_LATE = range(9)


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
    network: ServiceNetwork, period: float
) -> tuple[tuple[float, float, Metrics], ...]:
    """Metrics per interval of length ``period`` of the observed window."""
    scn = network.scenario
    w = network.window_start
    edges = interval_edges(scn.horizon, period)
    lengths = np.diff(edges)
    n = len(lengths)
    with_sl = scn.service_level is not None
    threshold = network.threshold

    visits = np.array(network.visits, dtype=float).reshape(-1, 7)
    visits[:, [_V_IN, _V_START, _V_END]] -= w
    departures = np.array(network.departures, dtype=float).reshape(-1, 9)
    departures[:, [_D_ARRIVE, _D_LEAVE]] -= w

    completed = visits[:, _V_OUTCOME] == _COMPLETED
    abandoned = visits[:, _V_OUTCOME] == _ABANDONED
    blocked = visits[:, _V_OUTCOME] == _BLOCKED
    t_in, t_end = visits[:, _V_IN], visits[:, _V_END]
    t_start = np.where(completed, visits[:, _V_START], t_end)  # queue ends here
    wait = t_start - t_in

    tallies: list[dict[str, Tallies]] = [{} for _ in range(n)]
    extra: list[dict[str, dict[str, float]]] = [{} for _ in range(n)]

    def store(scope: str, **columns: np.ndarray) -> None:
        for i in range(n):
            tallies[i][scope] = Tallies(**{k: v[i] for k, v in columns.items()})

    busy_total = np.zeros(n)
    scheduled_total = np.zeros(n)
    for st in network.stations:
        mine = visits[:, _V_STATION] == st.index
        arr = t_in[mine]
        done = mine & completed
        adm = mine & (completed | abandoned)
        queue_area = _overlaps(t_in[adm], t_start[adm], edges)
        busy_area = _overlaps(t_start[done], t_end[done], edges)
        scheduled = np.array(
            [scheduled_server_time(st.spec, a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
        )
        busy_total += busy_area
        scheduled_total += scheduled
        store(
            st.name,
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
            extra[i][st.name] = {"scheduled": scheduled[i], "busy": busy_area[i]}

    d_arrive, d_leave = departures[:, _D_ARRIVE], departures[:, _D_LEAVE]
    d_outcome = departures[:, _D_OUTCOME]
    all_columns: dict[str, np.ndarray] = {}
    for k in network.classes:
        mine = departures[:, _D_CLASS] == k.index
        arr = d_arrive[mine]
        adm = mine & (d_outcome != _BLOCKED)
        done = mine & (d_outcome == _COMPLETED)
        vmine = (visits[:, _V_CLASS] == k.index) & (completed | abandoned)
        columns = dict(
            n_arrivals=_bin(arr, edges),
            n_blocked=_bin(d_arrive[mine & (d_outcome == _BLOCKED)], edges),
            n_admitted=_bin(d_arrive[adm], edges),
            n_waited=_bin(d_arrive[adm & (departures[:, _D_WAITED] > 0)], edges),
            n_sl_ok=_bin(d_arrive[adm & (departures[:, _D_LATE] == 0)], edges),
            n_abandoned=_bin(d_arrive[mine & (d_outcome == _ABANDONED)], edges),
            n_completed=_bin(d_arrive[done], edges),
            sum_wait=_bin(d_arrive[adm], edges, departures[adm, _D_WAIT]),
            sum_wait_served=_bin(d_arrive[done], edges, departures[done, _D_WAIT]),
            sum_sojourn=_bin(d_arrive[done], edges, (d_leave - d_arrive)[done]),
            sum_service=_bin(d_arrive[done], edges, departures[done, _D_SERVICE]),
            n_done_in_window=_bin(d_leave[done], edges),
            queue_area=_overlaps(t_in[vmine], t_start[vmine], edges),
            system_area=_overlaps(d_arrive[mine], d_leave[mine], edges),
        )
        store(k.name, **columns)
        for key, value in columns.items():
            all_columns[key] = all_columns.get(key, 0) + value
    store("system", **all_columns)

    out = []
    for i in range(n):
        block: dict[str, dict[str, float]] = {}
        for scope, t in tallies[i].items():
            kwargs = {}
            if scope in extra[i]:
                kwargs = {"scheduled": extra[i][scope]["scheduled"], "busy_area": extra[i][scope]["busy"]}
            elif scope == "system":
                kwargs = {"scheduled": scheduled_total[i], "busy_area": busy_total[i]}
            block[scope] = {
                m: float(v)
                for m, v in scope_metrics(
                    t, lengths[i], with_sl, admitted=t.n_admitted,
                    in_system_area=t.system_area, **kwargs,
                ).items()
            }
        out.append((float(edges[i]), float(edges[i + 1]), block))
    return tuple(out)


def event_log(network: ServiceNetwork) -> tuple[tuple[int, str, str, str, float], ...]:
    """Event rows ``(customer, class, station, event, time)`` sorted by time.

    A visit gives ``queue`` (only when the customer had to wait), ``start``
    and ``end`` for a service, ``abandon``, or ``block`` (without ``queue``); a
    customer's first visit is preceded by ``arrival``, and every further visit
    by ``route`` at the station the customer is sent to.
    """
    w = network.window_start
    classes = [k.name for k in network.classes]
    stations = [s.name for s in network.stations]
    rows: list[tuple[int, str, str, str, float]] = []
    seen: set[int] = set()
    # Visits are logged when they end; order them by when they began so that each
    # customer's first visit is found first.
    for cust, kind, st, t_in, t_start, t_end, outcome in sorted(
        network.visits or (), key=lambda v: (v[_V_IN], v[_V_CUSTOMER])
    ):
        c, k, s = int(cust), classes[int(kind)], stations[int(st)]
        first = "return" if c in network.returning else "arrival"
        rows.append((c, k, s, "route" if c in seen else first, t_in - w))
        seen.add(c)
        if outcome == _BLOCKED:
            rows.append((c, k, s, "block", t_in - w))
            continue
        if outcome == _ABANDONED:
            rows.append((c, k, s, "queue", t_in - w))
            rows.append((c, k, s, "abandon", t_end - w))
            continue
        if t_start > t_in:
            rows.append((c, k, s, "queue", t_in - w))
        rows.append((c, k, s, "start", t_start - w))
        rows.append((c, k, s, "end", t_end - w))
    # Each customer's rows were generated in the order they happened; keep that
    # order among simultaneous events (an "end" precedes the "route" it causes).
    ranked = sorted(range(len(rows)), key=lambda i: (rows[i][4], rows[i][0], i))
    return tuple(rows[i] for i in ranked)
