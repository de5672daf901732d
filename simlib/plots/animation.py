"""Watching a queue: timelines, animations and swim-lane charts from event traces.

An event trace (docs/traces.md#event-log-layout; ``simlib.run(..., trace=True)`` and then
:meth:`simlib.Results.trace`, or a real log mapped into the same layout) has
one row per customer event: ``arrival, queue, start, end, abandon, block,
route, return``. Everything a student wants to *see* about a queue follows from
pairing these events per customer and station:

* a **stay in the queue** runs from a ``queue`` event to the customer's next
  event at that station (``start`` when served, ``abandon`` when patience ran
  out); a **stay in service** runs from ``start`` to ``end``
  (:func:`stays`);
* the **number waiting** and the **number in service** at a station are step
  functions of time: +1 when a stay begins, −1 when it ends
  (:func:`queue_timeline`). Their time-averages are the engine's
  ``mean_queue`` and busy servers (``utilization`` × servers), and by Little's
  law (Little 1961) ``mean_queue`` = arrival rate × mean wait;
* an **animation** (:func:`animate_queue`) replays one station: waiting
  customers as dots (coloured by how long they have waited so far), servers
  as boxes (filled when busy), and the queue-length curve drawn as time runs.
  :func:`to_html` turns it into self-contained HTML/JavaScript that plays in
  a notebook without a network connection;
* a **swim-lane chart** (:func:`swimlane`) gives each customer of a sample a
  lane with coloured segments for waiting and service at every station along
  the value chain, and markers for abandonment, blocking and returns.

Times are those of the trace: for a simulated trace, observed time in the
scenario's unit (negative during the warm-up). A simulated trace lists a visit
only once it has ended, so customers still present when a replication stops
(rare: only those that arrive after the observed window, or that were censored
by the drain limit) are missing; within the observed window the counts are
exact.

Figures are built on :class:`matplotlib.figure.Figure` without pyplot, so
nothing is shown and no global figure state is touched.

References
----------
Kleinrock, L. (1975). *Queueing Systems, Volume 1: Theory*. Wiley.
Little, J. D. C. (1961). A proof for the queuing formula L = λW.
*Operations Research* 9(3), 383–387.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

if TYPE_CHECKING:
    from simlib.spec.scenario import Scenario

__all__ = [
    "TIMELINE_COLUMNS",
    "STAY_COLUMNS",
    "stays",
    "queue_timeline",
    "time_average",
    "plot_timeline",
    "animate_queue",
    "to_html",
    "swimlane",
]

#: Columns of :func:`queue_timeline`.
TIMELINE_COLUMNS = ["replication", "station", "time", "waiting", "in_service", "in_system", "servers"]
#: Columns of :func:`stays`.
STAY_COLUMNS = ["replication", "customer", "class", "station", "kind", "begin", "finish", "outcome"]

_REQUIRED = ("customer", "station", "event", "time")


# --------------------------------------------------------------------------- tables


def _prepare(trace: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in _REQUIRED if c not in trace.columns]
    if missing:
        raise ValueError(f"trace lacks columns {missing}; need at least {list(_REQUIRED)}")
    tr = trace.copy()
    if "replication" not in tr.columns:
        tr["replication"] = 0
    if "class" not in tr.columns:
        tr["class"] = ""
    tr["event"] = tr["event"].astype(str)
    tr["time"] = tr["time"].astype(float)
    # Stable: simultaneous events keep the order the log gives them (an "end"
    # before the "route" it causes), which the pairing below relies on.
    return tr.sort_values(["replication", "time"], kind="stable").reset_index(drop=True)


def _station_order(trace: pd.DataFrame, scenario: Scenario | None) -> list[str]:
    seen = [str(s) for s in pd.unique(trace["station"])]
    if scenario is None:
        return seen
    named = [s.name for s in scenario.stations]
    return named + [s for s in seen if s not in named]


def stays(trace: pd.DataFrame) -> pd.DataFrame:
    """Stays in a queue and in service, paired from an event trace.

    Parameters
    ----------
    trace
        Event log with at least ``customer, station, event, time`` (optional
        ``replication``, ``class``), e.g. :meth:`simlib.Results.trace`.

    Returns
    -------
    pandas.DataFrame
        One row per stay: ``replication, customer, class, station, kind``
        (``"wait"`` or ``"service"``), ``begin, finish`` (trace time units;
        ``finish`` is NaN when the stay had not ended when the log stopped) and
        ``outcome``: ``served``/``abandoned``/``open`` for waits,
        ``completed``/``open`` for services. Sorted by replication and ``begin``.

    Raises
    ------
    ValueError
        A required column is missing.
    """
    tr = _prepare(trace)
    group = tr.groupby(["replication", "customer", "station"], sort=False)
    nxt_event = group["event"].shift(-1)
    nxt_time = group["time"].shift(-1)
    ev = tr["event"]

    waits = (ev == "queue").to_numpy()
    w_next = nxt_event[waits]
    w_out = np.select(
        [w_next == "start", w_next == "abandon"], ["served", "abandoned"], default="open"
    )
    w_fin = np.where(w_out == "open", np.nan, nxt_time[waits].to_numpy(dtype=float))

    serv = (ev == "start").to_numpy()
    s_done = (nxt_event[serv] == "end").to_numpy()
    s_fin = np.where(s_done, nxt_time[serv].to_numpy(dtype=float), np.nan)

    cols = ["replication", "customer", "class", "station"]
    parts = [
        tr.loc[waits, cols].assign(
            kind="wait", begin=tr.loc[waits, "time"].to_numpy(), finish=w_fin, outcome=w_out
        ),
        tr.loc[serv, cols].assign(
            kind="service",
            begin=tr.loc[serv, "time"].to_numpy(),
            finish=s_fin,
            outcome=np.where(s_done, "completed", "open"),
        ),
    ]
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["replication", "begin"], kind="stable").reset_index(drop=True)[
        STAY_COLUMNS
    ]


def queue_timeline(trace: pd.DataFrame, scenario: Scenario | None = None) -> pd.DataFrame:
    """Number waiting and in service at each station over time (a step function).

    Busy servers are counted from ``start``/``end`` events; the number waiting
    rises at ``queue`` and falls at the ``start`` or ``abandon`` that ends the
    wait (blocked customers never join the queue). Each row gives the state
    from its ``time`` until the next row's ``time`` (steps "post").

    Parameters
    ----------
    trace
        Event log (docs/traces.md#event-log-layout), e.g. :meth:`simlib.Results.trace`.
    scenario
        The scenario that produced the trace. When given, the timeline starts
        empty at the start of the warm-up (``-warmup``), stations come in the
        scenario's order, and ``servers`` holds the scheduled servers (shift
        changes add rows); otherwise the timeline starts empty at the first
        event and ``servers`` is NaN.

    Returns
    -------
    pandas.DataFrame
        Columns ``replication, station, time, waiting, in_service, in_system,
        servers``; one row per time at which a count changes (simultaneous
        events collapsed to the state after all of them).
    """
    tr = _prepare(trace)
    st = stays(tr)
    frames = []
    for rep, events in tr.groupby("replication", sort=True):
        t0 = -scenario.warmup if scenario is not None else float(events["time"].min())
        t0 = min(t0, float(events["time"].min()))
        mine = st[st["replication"] == rep]
        for name in _station_order(events, scenario):
            s = mine[mine["station"] == name]
            w, v = s[s["kind"] == "wait"], s[s["kind"] == "service"]
            w_end = w["finish"].dropna().to_numpy()
            v_end = v["finish"].dropna().to_numpy()
            times = [np.array([t0]), w["begin"].to_numpy(), w_end, v["begin"].to_numpy(), v_end]
            dw = [np.zeros(1), np.ones(len(w)), -np.ones(len(w_end)), np.zeros(len(v)), np.zeros(len(v_end))]
            dv = [np.zeros(1), np.zeros(len(w)), np.zeros(len(w_end)), np.ones(len(v)), -np.ones(len(v_end))]
            spec = None
            if scenario is not None and name in {x.name for x in scenario.stations}:
                spec = scenario.station(name)
                if spec.shifts is not None:
                    changes = np.array([sh.start for sh in spec.shifts if sh.start > t0], dtype=float)
                    times.append(changes)
                    dw.append(np.zeros(len(changes)))
                    dv.append(np.zeros(len(changes)))
            t = np.concatenate(times)
            order = np.argsort(t, kind="stable")
            t = t[order]
            waiting = np.cumsum(np.concatenate(dw)[order])
            busy = np.cumsum(np.concatenate(dv)[order])
            # Keep the state after the last of several simultaneous changes.
            last = np.r_[t[1:] != t[:-1], True]
            t, waiting, busy = t[last], waiting[last], busy[last]
            servers = (
                np.array([spec.servers_at(x) for x in t], dtype=float)
                if spec is not None
                else np.full(len(t), np.nan)
            )
            frames.append(
                pd.DataFrame(
                    {
                        "replication": rep,
                        "station": name,
                        "time": t,
                        "waiting": waiting.astype(np.int64),
                        "in_service": busy.astype(np.int64),
                        "in_system": (waiting + busy).astype(np.int64),
                        "servers": servers,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)[TIMELINE_COLUMNS]


def time_average(
    timeline: pd.DataFrame,
    column: str = "waiting",
    start: float = 0.0,
    end: float | None = None,
) -> pd.Series:
    """Time-average of a timeline column over ``[start, end]``.

    With ``column="waiting"`` over a simulated run's observed window
    (``start=0, end=horizon``) this is the engine's ``mean_queue``; with
    ``"in_service"`` it is the mean number of busy servers.

    Parameters
    ----------
    timeline
        Output of :func:`queue_timeline`.
    column
        ``waiting``, ``in_service`` or ``in_system``.
    start, end
        Window (trace time units); ``end`` defaults to each station's last change.

    Returns
    -------
    pandas.Series
        Indexed by ``(replication, station)``.
    """
    out = {}
    for key, g in timeline.groupby(["replication", "station"], sort=False):
        t = g["time"].to_numpy(dtype=float)
        v = g[column].to_numpy(dtype=float)
        stop = float(t[-1]) if end is None else float(end)
        if stop <= start:
            raise ValueError(f"time_average: end ({stop}) must be after start ({start})")
        # Each value holds on [t_i, t_{i+1}); clip those pieces to the window.
        lo = np.clip(t, start, stop)
        hi = np.clip(np.r_[t[1:], max(stop, t[-1])], start, stop)
        out[key] = float(np.sum(v * (hi - lo)) / (stop - start))
    series = pd.Series(out, name=column)
    series.index.names = ["replication", "station"]
    return series


# --------------------------------------------------------------------------- figures


def _time_label(scenario: Scenario | None) -> str:
    return f"time ({scenario.time_unit})" if scenario is not None else "time"


def plot_timeline(
    timeline: pd.DataFrame,
    station: str | Sequence[str] | None = None,
    *,
    replication: int | None = None,
    start: float | None = None,
    end: float | None = None,
    scenario: Scenario | None = None,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Step plot of the number waiting and in service at each station.

    Parameters
    ----------
    timeline
        Output of :func:`queue_timeline`.
    station
        One station, several, or None for every station (one panel each).
    replication
        Replication to draw; default the first.
    start, end
        Time window (trace units); default 0 (or the first change, if later)
        to the last change.
    scenario
        Only for the axis label (time unit).
    title
        Figure title.
    figsize
        Figure size in inches; default grows with the number of panels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    rep = timeline["replication"].iloc[0] if replication is None else replication
    tl = timeline[timeline["replication"] == rep]
    names = list(pd.unique(tl["station"])) if station is None else (
        [station] if isinstance(station, str) else list(station)
    )
    unknown = [n for n in names if n not in set(tl["station"])]
    if unknown:
        raise ValueError(f"station {unknown} not in the timeline; have {sorted(set(tl['station']))}")
    lo = max(0.0, float(tl["time"].min())) if start is None else start
    hi = float(tl["time"].max()) if end is None else end
    fig = Figure(figsize=figsize or (8.0, 1.9 * len(names) + 0.6), layout="constrained")
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names, strict=True):
        g = tl[tl["station"] == name]
        t = np.r_[g["time"].to_numpy(dtype=float), hi]
        for col, colour, label in (("waiting", "C1", "waiting"), ("in_service", "C0", "in service")):
            v = g[col].to_numpy(dtype=float)
            ax.step(t, np.r_[v, v[-1]], where="post", color=colour, lw=1.1, label=label)
        if g["servers"].notna().any():
            s = g["servers"].to_numpy(dtype=float)
            ax.step(t, np.r_[s, s[-1]], where="post", color="0.4", lw=0.9, ls="--", label="servers")
        ax.set_xlim(lo, hi)
        # Scale to what is visible: the rows holding at some time in [lo, hi].
        held = (np.r_[g["time"].to_numpy(dtype=float)[1:], np.inf] > lo) & (g["time"] < hi)
        top = g.loc[held, ["waiting", "in_service", "servers"]].max().max()
        ax.set_ylim(0, max(1.0, float(top)) * 1.08)
        ax.set_ylabel(f"{name}\ncustomers")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper right", fontsize="small", ncols=3)
    axes[-1].set_xlabel(_time_label(scenario))
    if title:
        fig.suptitle(title)
    return fig


def animate_queue(
    trace: pd.DataFrame,
    station: str | None = None,
    start: float | None = None,
    end: float | None = None,
    frames: int = 60,
    *,
    scenario: Scenario | None = None,
    replication: int | None = None,
    interval: int = 200,
    max_visible: int = 30,
    figsize: tuple[float, float] = (6.4, 3.8),
    dpi: int = 60,
    title: str | None = None,
) -> FuncAnimation:
    """Animate one station: waiting customers, busy servers and the queue-length curve.

    Each frame shows the state at one instant of ``[start, end]`` (equally
    spaced): waiting customers as dots in the order they joined, coloured by
    the time they have waited so far (pale: just arrived, dark red: long);
    servers as boxes, filled when busy (grey when off shift); and,
    below, the number waiting drawn up to the current time over a faint curve
    of the whole window.

    Parameters
    ----------
    trace
        Event log (docs/traces.md#event-log-layout), e.g. :meth:`simlib.Results.trace`.
    station
        Station to show; default the first (scenario order, else first seen).
    start, end
        Time window (trace units). Default ``start`` is 0 (the end of the
        warm-up) or the first event if later; default ``end`` is the
        scenario's horizon, else the last event.
    frames
        Number of frames. Each is a PNG embedded in the HTML of
        :func:`to_html`, so the size grows linearly with it (about 10-20 kB a
        frame at the default size and ``dpi``); 60 keeps a notebook small.
    scenario
        The scenario of the trace: server counts (and shifts), time unit.
        Without it the number of server boxes is the most ever busy.
    replication
        Replication to show; default the first in the trace.
    interval
        Delay between frames when played, milliseconds.
    max_visible
        Most waiting customers drawn as dots; more are summarised as "+n".
    figsize, dpi
        Size (inches) and resolution of each frame.
    title
        Figure title; default names the station.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        Built on a :class:`~matplotlib.figure.Figure` (no pyplot); play it in a
        notebook with ``IPython.display.HTML(to_html(anim))``.

    Raises
    ------
    ValueError
        Unknown station or replication, ``frames`` < 1, or an empty window.
    """
    if frames < 1:
        raise ValueError(f"frames: must be at least 1, got {frames}")
    tr = _prepare(trace)
    rep = tr["replication"].iloc[0] if replication is None else replication
    tr = tr[tr["replication"] == rep]
    if tr.empty:
        raise ValueError(f"replication {replication} is not in the trace")
    names = _station_order(tr, scenario)
    name = names[0] if station is None else station
    if name not in set(tr["station"]):
        raise ValueError(f"station {name!r} is not in the trace; have {sorted(set(tr['station']))}")
    t_lo = max(0.0, float(tr["time"].min())) if start is None else float(start)
    t_hi = (
        float(scenario.horizon) if end is None and scenario is not None
        else float(tr["time"].max()) if end is None else float(end)
    )
    if not t_hi > t_lo:
        raise ValueError(f"empty window: start {t_lo} must be before end {t_hi}")

    mine = stays(tr)
    mine = mine[mine["station"] == name]
    wait = mine[mine["kind"] == "wait"]
    w_begin = wait["begin"].to_numpy(dtype=float)
    w_end = wait["finish"].fillna(np.inf).to_numpy(dtype=float)
    serv = mine[mine["kind"] == "service"]
    s_begin = serv["begin"].to_numpy(dtype=float)
    s_end = serv["finish"].fillna(np.inf).to_numpy(dtype=float)
    timeline = queue_timeline(tr, scenario)
    tl = timeline[timeline["station"] == name]
    tl_t = tl["time"].to_numpy(dtype=float)
    tl_w = tl["waiting"].to_numpy(dtype=float)
    spec = (
        scenario.station(name)
        if scenario is not None and name in {s.name for s in scenario.stations}
        else None
    )
    n_servers = spec.max_servers if spec is not None else max(1, int(tl["in_service"].max()))
    # Colour scale of "waited so far": the 95th percentile of completed waits,
    # so that a typical long wait is dark and a rare extreme one saturates.
    done = np.isfinite(w_end)
    scale = float(np.quantile(w_end[done] - w_begin[done], 0.95)) if done.any() else 1.0
    norm = mpl.colors.Normalize(vmin=-0.25 * scale, vmax=max(scale, 1e-12))
    cmap = mpl.colormaps["YlOrRd"]

    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    top, bottom = fig.subplots(2, 1, height_ratios=[1.1, 1.0])
    # Servers: columns of up to 6 boxes to the right of the queue. Markers (sized
    # in points) stay square whatever the axes' aspect.
    rows = min(n_servers, 6)
    cols = -(-n_servers // rows)
    slot = np.arange(n_servers)
    server_xy = np.c_[1.5 + (slot // rows) * 1.6, ((rows - 1) / 2 - slot % rows) * 1.0]
    boxes = top.scatter(server_xy[:, 0], server_xy[:, 1], s=170, marker="s",
                        facecolors="white", edgecolors="0.2", linewidths=1.0)
    dots = top.scatter([], [], s=60, c=[], cmap=cmap, norm=norm, edgecolors="0.3", linewidths=0.5)
    more = top.text(-max_visible - 0.3, 0, "", ha="right", va="center", fontsize=9)
    top.text(0.2, -(rows / 2) - 0.1, "servers", ha="left", va="top", fontsize=8)
    top.text(-1.0, -0.9, "queue (front on the right)", ha="right", va="top", fontsize=8)
    top.set_xlim(-max_visible - 3.0, 1.5 + cols * 1.6)
    top.set_ylim(-(rows / 2) - 0.8, rows / 2 + 0.2)
    top.axis("off")
    clock = top.set_title("", fontsize=9, loc="left")

    t_end = np.r_[tl_t[1:], np.inf]
    in_window = (t_end > t_lo) & (tl_t < t_hi)
    bottom.step(np.r_[np.clip(tl_t[in_window], t_lo, t_hi), t_hi],
                np.r_[tl_w[in_window], tl_w[in_window][-1]], where="post", color="0.82", lw=1.0)
    (running,) = bottom.step([], [], where="post", color="C1", lw=1.4)
    now_line = bottom.axvline(t_lo, color="0.3", lw=0.8)
    bottom.set_xlim(t_lo, t_hi)
    bottom.set_ylim(0, max(1.0, float(tl_w[in_window].max())) * 1.08)
    bottom.set_xlabel(_time_label(scenario), fontsize=9)
    bottom.set_ylabel("waiting", fontsize=9)
    bottom.tick_params(labelsize=8)
    bottom.grid(alpha=0.3)
    fig.suptitle(title or f"Station {name!r}", fontsize=10)
    unit = f" {scenario.time_unit}" if scenario is not None else ""
    times = np.linspace(t_lo, t_hi, frames)

    def update(t: float) -> tuple:
        # Waiting now, in the order they joined (fifo; a priority queue serves
        # in another order, but arrival order is what a bystander sees).
        w_now = np.flatnonzero((w_begin <= t) & (t < w_end))
        busy = int(np.count_nonzero((s_begin <= t) & (t < s_end)))
        shown = w_now[:max_visible]
        x = -1.0 - np.arange(len(shown), dtype=float)
        dots.set_offsets(np.c_[x, np.zeros(len(shown))] if len(shown) else np.empty((0, 2)))
        dots.set_array(t - w_begin[shown])
        more.set_text(f"+{len(w_now) - len(shown)}" if len(w_now) > len(shown) else "")
        capacity = spec.servers_at(t) if spec is not None else n_servers
        faces = np.where(slot < busy, 0, np.where(slot < capacity, 1, 2))
        boxes.set_facecolors(np.array(["C0", "white", "0.85"], dtype=object)[faces])
        k = np.searchsorted(tl_t, t, side="right")
        seg_t = np.clip(tl_t[:k], t_lo, None)
        running.set_data(np.r_[seg_t[seg_t <= t], t], np.r_[tl_w[:k][seg_t <= t], tl_w[max(k - 1, 0)]])
        now_line.set_xdata([t, t])
        clock.set_text(f"t = {t:,.1f}{unit}   waiting {len(w_now)}   busy {busy}/{capacity}")
        return (dots, more, running, now_line, clock, boxes)

    update(times[0])
    # cache_frame_data=False: frames are cheap to redraw; keeping them would
    # hold every frame's artists in memory for nothing.
    return FuncAnimation(fig, update, frames=times, interval=interval, blit=False,
                         repeat=True, cache_frame_data=False)


#: matplotlib's player loads Font Awesome from a CDN for its button icons;
#: these characters replace the icons so that the HTML needs no network.
_ICONS = {
    "fa-minus": "&minus;",
    "fa-fast-backward": "&#x23EE;",
    "fa-step-backward": "&#x25C1;",
    "fa-play fa-flip-horizontal": "&#x25C0;",
    "fa-pause": "&#x23F8;",
    "fa-play": "&#x25B6;",
    "fa-step-forward": "&#x25B7;",
    "fa-fast-forward": "&#x23ED;",
    "fa-plus": "+",
}
_ICON = re.compile(r'<i class="fa ([^"]*)"></i>')
_LINK = re.compile(r"<link[^>]*>", re.IGNORECASE)
_URL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}/")


def to_html(animation: FuncAnimation, embed_limit: float | None = None, fps: float | None = None) -> str:
    """Self-contained HTML/JavaScript player of an animation (no network needed).

    Every frame is rendered to PNG and embedded in the page as base64 data;
    matplotlib's player (``FuncAnimation.to_jshtml``) is used with its
    external stylesheet link (Font Awesome, from a CDN) removed and its button
    icons replaced by Unicode symbols, so the page works offline and in
    notebooks viewed without a connection. matplotlib renders an animation's
    HTML once and caches it on the animation, so a second call (even with
    another ``embed_limit``) returns the first result; build a new animation
    to change it.

    Parameters
    ----------
    animation
        E.g. the result of :func:`animate_queue`.
    embed_limit
        Most megabytes of frames to embed (matplotlib's
        ``rcParams["animation.embed_limit"]``, 20 MB by default); frames past
        the limit are dropped with a logged warning. Lower it to keep a
        stored notebook small.
    fps
        Frames per second when played; default from the animation's interval.

    Returns
    -------
    str
        HTML to show with ``IPython.display.HTML``.

    Raises
    ------
    ValueError
        The player still refers to an external URL (a matplotlib change this
        function does not know about).
    """
    with mpl.rc_context(None if embed_limit is None else {"animation.embed_limit": embed_limit}):
        # matplotlib's stubs say int; the player computes 1000 / fps, so any positive number works
        html = animation.to_jshtml(fps=fps)  # type: ignore[arg-type]
    html = _LINK.sub("", html)
    html = _ICON.sub(lambda m: _ICONS.get(m.group(1), "&#x25CF;"), html)
    found = _URL.search(html)
    if found:
        raise ValueError(f"the animation HTML refers to an external URL ({found.group(0)!r})")
    return html


def swimlane(
    trace: pd.DataFrame,
    customers: int | Sequence[int] = 20,
    *,
    replication: int | None = None,
    start: float | None = None,
    scenario: Scenario | None = None,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Swim-lane chart: one lane per customer through the value chain.

    Each lane shows a customer's stays: a thin pale bar while waiting and a
    thick bar while in service, coloured by station, so a journey such as
    contact → service → recovery → service reads left to right. Markers show
    arrival (``|``), a return visit (retention, ``>``), abandonment (``x``)
    and blocking (``s``). A returning customer is a new customer in the trace
    (the engine gives every visit to the system its own id), so a return
    starts a new lane.

    Parameters
    ----------
    trace
        Event log (docs/traces.md#event-log-layout), e.g. :meth:`simlib.Results.trace`.
    customers
        How many customers to draw (the first ones to arrive at or after
        ``start``; a sample that shows who waits while whom is served), or an
        explicit list of customer ids.
    replication
        Replication to draw; default the first in the trace.
    start
        Earliest first event of the sampled customers; default 0 (the end of
        the warm-up) or the first event if later.
    scenario
        Station order and colours, time unit for the axis label.
    title
        Figure title.
    figsize
        Size in inches; default grows with the number of lanes.

    Returns
    -------
    matplotlib.figure.Figure
        One lane (y tick) per customer drawn, the first arrival at the top.

    Raises
    ------
    ValueError
        ``customers`` < 1, or no customer of the list is in the trace.
    """
    tr = _prepare(trace)
    rep = tr["replication"].iloc[0] if replication is None else replication
    tr = tr[tr["replication"] == rep]
    first = tr.groupby("customer", sort=False)["time"].min()
    if isinstance(customers, (int, np.integer)):
        if customers < 1:
            raise ValueError(f"customers: must be at least 1, got {customers}")
        t0 = max(0.0, float(tr["time"].min())) if start is None else float(start)
        chosen = list(first[first >= t0].sort_values(kind="stable").index[: int(customers)])
    else:
        chosen = [c for c in customers if c in first.index]
    if not chosen:
        raise ValueError("swimlane: none of the requested customers is in the trace")
    lane = {c: i for i, c in enumerate(chosen)}
    tr = tr[tr["customer"].isin(lane)]
    st = stays(tr)
    names = _station_order(tr, scenario)
    colour = {n: f"C{i % 10}" for i, n in enumerate(names)}
    t_max = float(tr["time"].max())

    n = len(chosen)
    fig = Figure(figsize=figsize or (9.0, 0.28 * n + 1.6), layout="constrained")
    ax = fig.subplots()
    for name in names:
        for kind, height, alpha in (("wait", 0.3, 0.45), ("service", 0.7, 1.0)):
            sel = st[(st["station"] == name) & (st["kind"] == kind)]
            if sel.empty:
                continue
            finish = sel["finish"].fillna(t_max).to_numpy(dtype=float)
            begin = sel["begin"].to_numpy(dtype=float)
            ax.barh(sel["customer"].map(lane).to_numpy(), finish - begin, left=begin,
                    height=height, color=colour[name], alpha=alpha, linewidth=0)
    markers: dict[str, dict[str, Any]] = {
        "arrival": dict(marker="|", color="0.2", s=60, label="arrival"),
        "return": dict(marker=">", color="C2", s=40, label="return (retention)"),
        "abandon": dict(marker="x", color="red", s=40, label="abandon"),
        "block": dict(marker="s", color="black", s=25, label="blocked"),
    }
    handles: list[Patch | Line2D] = [Patch(color=colour[nm], label=nm) for nm in names]
    handles.append(Patch(color="0.6", alpha=0.45, label="waiting (thin)"))
    for event, style in markers.items():
        sel = tr[tr["event"] == event]
        if sel.empty:
            continue
        ax.scatter(sel["time"], sel["customer"].map(lane), zorder=3, linewidths=1.2, **style)
        handles.append(Line2D([], [], linestyle="", marker=style["marker"], color=style["color"],
                              label=style["label"]))
    classes = tr.groupby("customer", sort=False)["class"].first()
    several = classes.nunique() > 1
    ax.set_yticks(range(n), [f"{c} ({classes[c]})" if several else str(c) for c in chosen],
                  fontsize=7)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_ylabel("customer")
    ax.set_xlabel(_time_label(scenario))
    ax.grid(axis="x", alpha=0.3)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    if title:
        ax.set_title(title)
    return fig
