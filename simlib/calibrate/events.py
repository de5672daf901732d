"""The shared event-log layout and the extraction the estimators need.

Real logs (after :func:`simlib.calibrate.ingest`) and simulated traces share
one layout (docs/traces.md#event-log-layout): one row per customer event with columns
``customer, class, station, event, time`` (events ``arrival, queue, start,
end, abandon, block, route, return``) and optional ``agent``, ``date`` and
``priority``. Calibration works on a *call table* (one row per customer
visit); :func:`calls_from_events` derives it from any event table, so a
simulated trace can be fitted back with exactly the code that fits real data.

Extraction rules (per customer, at one station):

* ``arrival``: time of the ``arrival`` (or ``route``/``return``) event, else
  the customer's first event at the station;
* ``queue_start``: the ``queue`` event; ``queue_exit``: the ``start`` or
  ``abandon`` event of a queued customer;
* ``wait`` (seconds): ``queue_exit - queue_start`` for queued customers, 0 for
  customers served without queueing, NaN for customers who abandoned without
  having joined the queue (they reveal nothing about patience in the queue).
  If a trace has no ``queue`` events at all, every wait is measured from the
  arrival instead;
* ``service``: ``end - start``; ``abandoned``: an ``abandon`` event exists;
  ``blocked``: a ``block`` event exists; a customer with none of ``start``,
  ``abandon``, ``block`` is ``open`` (still in the system when the trace
  ends) and has a NaN wait.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simlib.spec.units import DAY

__all__ = [
    "OUTCOME_CATEGORIES",
    "EVENTS",
    "EVENT_COLUMNS",
    "events_from_calls",
    "calls_from_events",
]

#: Event names of the event-log layout (docs/traces.md#event-log-layout).
EVENTS = ("arrival", "queue", "start", "end", "abandon", "block", "route", "return")
#: Required columns of an event table.
EVENT_COLUMNS = ("customer", "class", "station", "event", "time")
#: Outcomes in a call table; ``open`` = still in the system when the log ends.
OUTCOME_CATEGORIES = ("served", "abandoned", "blocked", "open")


def events_from_calls(calls: pd.DataFrame, station: str = "contact") -> pd.DataFrame:
    """Turn a call table into the event layout.

    Parameters
    ----------
    calls
        Call table as made by :func:`simlib.calibrate.ingest` (times in seconds).
    station
        Station name written in the ``station`` column.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer, class, station, event, time, agent, date, priority``,
        sorted by time (then by the natural order of a customer's events).
    """
    n = len(calls)
    abandoned = calls["abandoned"].to_numpy(dtype=bool)
    served = calls["outcome"].to_numpy() == "served"
    blocked = calls["outcome"].to_numpy() == "blocked"
    queued = calls["queued"].to_numpy(dtype=bool)
    has_service = served & calls["service_start"].notna().to_numpy()
    abandon_time = np.where(queued, calls["queue_exit"].to_numpy(), calls["arrival"].to_numpy())
    parts = [
        ("arrival", np.ones(n, bool), calls["arrival"].to_numpy(), 0),
        ("queue", queued, calls["queue_start"].to_numpy(), 1),
        ("block", blocked, calls["arrival"].to_numpy(), 2),
        ("abandon", abandoned, abandon_time, 2),
        ("start", has_service, calls["service_start"].to_numpy(), 3),
        ("end", has_service, calls["service_end"].to_numpy(), 4),
    ]
    frames = []
    for name, mask, t, order in parts:
        sub = calls.loc[mask, ["customer", "class", "agent", "date", "priority"]]
        frames.append(
            pd.DataFrame(
                {
                    "customer": sub["customer"].to_numpy(),
                    "class": sub["class"].to_numpy(),
                    "station": station,
                    "event": name,
                    "time": t[mask],
                    # The agent belongs to the service events only.
                    "agent": sub["agent"].to_numpy() if name in ("start", "end") else None,
                    "date": sub["date"].to_numpy(),
                    "priority": sub["priority"].to_numpy(),
                    "_order": order,
                }
            )
        )
    ev = pd.concat(frames, ignore_index=True)
    ev = ev.sort_values(["time", "_order"], kind="stable").drop(columns="_order")
    ev["event"] = pd.Categorical(ev["event"], categories=list(EVENTS))
    return ev.reset_index(drop=True)


def calls_from_events(events: pd.DataFrame, station: str | None = None) -> pd.DataFrame:
    """Extract the call table (arrivals, waits, abandonments, services) from events.

    This is the function a simulated trace feeds into calibration: the
    estimators (:func:`~simlib.calibrate.arrival_profile`,
    :func:`~simlib.calibrate.fit_service`, :func:`~simlib.calibrate.patience`,
    :func:`~simlib.calibrate.agents_on_duty`) read its columns.

    Parameters
    ----------
    events
        Event table with at least ``customer, class, station, event, time``
        (time in seconds; any unit works as long as it is used consistently).
    station
        Station to extract; required when the table holds more than one.

    Returns
    -------
    pandas.DataFrame
        One row per customer: ``customer, class, priority, agent, date, day,
        arrival, queue_start, queue_exit, service_start, service_end, outcome,
        queued, abandoned, wait, service``.

    Raises
    ------
    ValueError
        Required columns are missing, event names are unknown, or several
        stations are present and ``station`` is not given.
    """
    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise ValueError(f"event table lacks columns {missing}; need {list(EVENT_COLUMNS)}")
    names = events["event"].astype(str)
    unknown = sorted(set(names.unique()) - set(EVENTS))
    if unknown:
        raise ValueError(f"unknown event names {unknown}; allowed: {list(EVENTS)}")
    if "replication" in events.columns and events["replication"].nunique() > 1:
        # Customer ids restart in every simulated replication: mixing them would
        # fuse different customers into one.
        raise ValueError(
            "the event table holds several replications; pass one "
            "(e.g. trace[trace.replication == 0])"
        )
    stations = events["station"].unique()
    if station is None:
        if len(stations) > 1:
            raise ValueError(f"events hold stations {sorted(map(str, stations))}; pass station=")
    else:
        keep = (events["station"] == station).to_numpy()
        if not keep.any():
            raise ValueError(f"no events at station {station!r}; have {sorted(map(str, stations))}")
        events = events.loc[keep]
        names = names[keep]
    if len(events) == 0:
        raise ValueError("the event table is empty")

    t = events["time"].to_numpy(dtype=float)
    cust = events["customer"].to_numpy()
    codes, uniques = pd.factorize(cust)
    m = len(uniques)

    def first(name: str | tuple[str, ...]) -> np.ndarray:
        sel = names.isin([name] if isinstance(name, str) else list(name)).to_numpy()
        out = np.full(m, np.inf)
        np.minimum.at(out, codes[sel], t[sel])
        out[np.isinf(out)] = np.nan
        return out

    any_time = np.full(m, np.inf)
    np.minimum.at(any_time, codes, t)
    arrival = first(("arrival", "route", "return"))
    arrival = np.where(np.isnan(arrival), any_time, arrival)
    qs = first("queue")
    start = first("start")
    end = first("end")
    aband = first("abandon")
    block = first("block")
    abandoned = ~np.isnan(aband)
    blocked = ~np.isnan(block)
    served = ~np.isnan(start) & ~abandoned
    if np.isnan(qs).all():
        # Trace without queue events: waits are measured from the arrival.
        qs = np.where(abandoned | served, arrival, np.nan)
    queued = ~np.isnan(qs)
    qe = np.where(queued, np.where(abandoned, aband, start), np.nan)
    wait = np.where(queued, qe - qs, np.where(served, 0.0, np.nan))

    # Per-customer attributes: first value seen (the agent from service events).
    order = np.argsort(codes, kind="stable")
    first_row = order[np.searchsorted(codes[order], np.arange(m))]
    cls = events["class"].to_numpy()[first_row]
    prio = (
        events["priority"].to_numpy()[first_row]
        if "priority" in events.columns
        else np.zeros(m, dtype=np.int64)
    )
    agent = np.full(m, None, dtype=object)
    if "agent" in events.columns:
        sel = names.isin(["start"]).to_numpy()
        agent[codes[sel]] = events["agent"].to_numpy()[sel]
    if "date" in events.columns:
        date = pd.to_datetime(events["date"].to_numpy()[first_row])
    else:
        date = np.full(m, np.datetime64("NaT", "ns"))
    # "open": still waiting or in service when the trace ends (censored).
    outcome = np.where(
        blocked, "blocked", np.where(abandoned, "abandoned", np.where(served, "served", "open"))
    )
    calls = pd.DataFrame(
        {
            "customer": uniques,
            "class": np.asarray(cls).astype(str),
            "priority": np.asarray(prio, dtype=np.int64),
            "agent": agent,
            "date": np.asarray(date, dtype="datetime64[ns]"),
            "day": np.floor(arrival / DAY).astype(np.int64),
            "arrival": arrival,
            "queue_start": qs,
            "queue_exit": qe,
            "service_start": np.where(served, start, np.nan),
            "service_end": np.where(served, end, np.nan),
            "outcome": pd.Categorical(outcome, categories=list(OUTCOME_CATEGORIES)),
            "queued": queued,
            "abandoned": abandoned,
            "wait": wait,
            "service": np.where(served, end - start, np.nan),
        }
    )
    return calls.sort_values("arrival", kind="stable").reset_index(drop=True)
