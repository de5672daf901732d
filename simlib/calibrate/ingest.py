"""Log ingestion: from an operational call log to a validated call table.

A real contact-centre log has one row per call and its own column names and
conventions (times of day as ``h:mm:ss`` strings, ``0:00:00`` meaning "did
not happen", outcome codes such as ``AGENT``/``HANG``/``PHANTOM``). A
:class:`ColumnMap` says which column holds which quantity; :func:`ingest`
parses and validates the log and returns an :class:`IngestResult` with

* ``calls``: one row per call (the *call table*), every time in seconds since
  midnight of the first day observed, plus the derived ``wait``, ``service``
  and ``abandoned`` columns the estimators use; and
* ``events``: the same calls in the shared event-log layout of
  docs/traces.md#event-log-layout (``customer, class, station, event, time, agent, date``), the
  layout simulated traces use too (see :mod:`simlib.calibrate.events`).

Validation follows one rule: a problem that affects some rows is reported in
one line naming the problem, how many rows and a few example row labels with
their values; ``errors="drop"`` drops those rows instead and counts them.
Records whose outcome is mapped to ``"ignore"`` (e.g. the bank's PHANTOM
calls) are always dropped and counted.

Times of day are placed on the call's date; a later time of the same call
that is more than 12 hours *earlier* than its arrival is taken to have
crossed midnight (a call that arrives at 23:59:40 and is served at 0:00:20).

The bundled data set (:func:`load_bank`, :data:`BANK_MAPPING`) is the
February 1999 month of the "Anonymous Bank" call centre (Israel) collected
by the Technion Service Enterprise Engineering (SEE) group, the data behind
Brown et al. (2005), "Statistical analysis of a telephone call center: a
queueing-science perspective", JASA 100(469):36-50.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from simlib import datasets
from simlib.calibrate.dates import (
    DateFormatError,
    check_timezone,
    far_from_the_rest,
    parse_datetimes,
    wall_clock,
)
from simlib.calibrate.events import OUTCOME_CATEGORIES, events_from_calls
from simlib.spec.units import DAY, HALF_DAY

__all__ = [
    "IngestError",
    "ColumnMap",
    "IngestResult",
    "ingest",
    "read_log",
    "BANK_MAPPING",
    "BANK_CSV",
    "load_bank",
    "ingest_bank",
    "OUTCOMES",
]

#: Canonical outcomes of a call; ``ignore`` rows are dropped at ingestion.
OUTCOMES = ("served", "abandoned", "blocked", "ignore")

_N_EXAMPLES = 3
#: A time of day (or duration) written h:mm[:ss[.fff]].
_TOD_PATTERN = r"\d{1,3}:\d{2}(?::\d{2}(?:\.\d+)?)?"

#: The bundled bank CSV (in the repository's ``data/callcentre``).
BANK_CSV = (
    Path(__file__).resolve().parents[2] / "data" / "callcentre" / "anonymous_bank_1999_02.csv"
)


class IngestError(ValueError):
    """A log that cannot be ingested; the message is one line."""


@dataclass(frozen=True)
class ColumnMap:
    """Which column of a raw log holds which quantity.

    Parameters
    ----------
    arrival
        Time the customer asks for service (joins the system), never missing.
    queue_start, queue_exit
        Times the customer joined / left the queue. Missing (or a ``missing``
        marker) when the customer never queued.
    service_start, service_end
        Times service began / ended; missing when not served.
    outcome
        Outcome code column; codes are translated by ``outcome_codes``. When
        absent, a call with a service start is ``served``, otherwise ``abandoned``.
    agent, cls, date, customer, priority
        Optional columns: agent name, customer class, calendar date of the
        arrival (needed when times are times of day), customer id (a column, or several
        whose values are joined with ``-``; defaults to the row position),
        priority level.
    queue_time, service_time
        Optional duration columns (seconds). They are validated (negative
        values are errors) and used to rebuild one missing end of an interval,
        e.g. a queue entry recorded at exactly midnight.
    outcome_codes
        Raw code → one of ``served, abandoned, blocked, ignore``.
    missing
        Raw strings in time columns (other than ``arrival``) that mean "did not
        happen", e.g. ``("0:00:00",)``.
    no_agent
        Raw agent values meaning "no agent" (e.g. ``NO_SERVER``).
    priority_map
        Raw priority value → scenario priority (smaller is served first).
    priority_unrecorded
        Raw priority values that, for a call that never queued, mean "not
        recorded" rather than a level (the bank writes 0 for the priority and
        the customer id of callers who did not wait, by a system bug). Such
        calls get ``priority_known = False`` in the call table, and
        :func:`~simlib.calibrate.calibrate` apportions them to the levels
        in the proportions of their class's calls whose priority is known.
    priority_credit
        Waiting-time credit (seconds) the centre gives its higher-priority
        callers, when its queue is ordered by credited waiting time rather
        than strict priority (the bank: 90 s, "advanced in the queue by 1.5
        minutes"); passed on by the :class:`IngestResult` to
        :func:`~simlib.calibrate.calibrate`. None: not known.
    station
        Station name given to the calls in the event layout.
    date_format
        :func:`~datetime.datetime.strptime` format of the date column and of
        text timestamps (e.g. ``"%d/%m/%Y"``); needed only when dates such as
        ``03/12/2024`` could be read day-first or month-first (see
        :mod:`simlib.calibrate.dates`).
    timezone
        Zone in which to read timestamps that carry UTC offsets, when the
        offsets differ (e.g. ``"Europe/Berlin"`` for a log across a
        daylight-saving change); times become wall-clock times of that zone.
    tolerance
        Clock skew allowed between consecutive stages (seconds): a queue entry
        up to this much before the arrival, or a service start up to this much
        before the queue exit, is accepted as recorded (waits and services are
        measured within one interval each). Within one interval (queue,
        service) an end before its start is always an error.
    """

    arrival: str
    queue_start: str | None = None
    queue_exit: str | None = None
    service_start: str | None = None
    service_end: str | None = None
    outcome: str | None = None
    agent: str | None = None
    cls: str | None = None
    date: str | None = None
    customer: str | tuple[str, ...] | None = None
    priority: str | None = None
    queue_time: str | None = None
    service_time: str | None = None
    outcome_codes: Mapping[str, str] = field(
        default_factory=lambda: {"served": "served", "abandoned": "abandoned"}
    )
    missing: tuple[str, ...] = ()
    no_agent: tuple[str, ...] = ()
    priority_map: Mapping[int, int] | None = None
    priority_unrecorded: tuple[int, ...] = ()
    priority_credit: float | None = None
    station: str = "contact"
    tolerance: float = 2.0
    date_format: str | None = None
    timezone: str | None = None

    def __post_init__(self) -> None:
        bad = {k: v for k, v in self.outcome_codes.items() if v not in OUTCOMES}
        if bad:
            raise IngestError(f"outcome_codes: targets must be one of {OUTCOMES}, got {bad}")
        if self.priority_credit is not None and not (
            np.isfinite(self.priority_credit) and self.priority_credit >= 0
        ):
            raise IngestError(f"priority_credit: must be >= 0 seconds, got {self.priority_credit}")
        if self.tolerance < 0:
            raise IngestError(f"tolerance: must be >= 0 seconds, got {self.tolerance}")
        try:
            check_timezone(self.timezone)
        except DateFormatError as exc:
            raise IngestError(str(exc)) from None


#: Column mapping of the bundled "Anonymous Bank" log. The arrival is the VRU
#: exit (the moment the caller asks for an agent); classes are the service
#: types; priority 2 customers are served first (0 and 1 are both regular).
BANK_MAPPING = ColumnMap(
    arrival="vru_exit",
    queue_start="q_start",
    queue_exit="q_exit",
    service_start="ser_start",
    service_end="ser_exit",
    outcome="outcome",
    agent="server",
    cls="type",
    date="date",
    # call_id is unique only within a VRU line.
    customer=("vru_line", "call_id"),
    priority="priority",
    queue_time="q_time",
    service_time="ser_time",
    outcome_codes={"AGENT": "served", "HANG": "abandoned", "PHANTOM": "ignore"},
    missing=("0:00:00",),
    no_agent=("NO_SERVER",),
    priority_map={0: 1, 1: 1, 2: 0},
    # Callers who did not wait in queue have priority 0 (and customer id 0) by a
    # system bug: their priority is unknown, not "regular".
    priority_unrecorded=(0,),
    # "Priority customers are advanced in the queue by 1.5 minutes".
    priority_credit=90.0,
    # The agent's clock and the queue's differ: the service starts a median 1 s
    # and in 35 calls more than 60 s (at most 468 s) before the recorded queue exit.
    tolerance=600.0,
)


@dataclass(frozen=True)
class IngestResult:
    """A validated log.

    Attributes
    ----------
    calls
        One row per call: ``customer, class, priority, agent, date, day,
        arrival, queue_start, queue_exit, service_start, service_end, outcome,
        queued, abandoned, wait, service, priority_known`` (times in seconds since midnight of
        the first day; ``wait`` and ``service`` in seconds; ``wait`` is NaN for
        callers who abandoned before joining the queue).
    events
        The event-log layout of docs/traces.md#event-log-layout.
    n_rows
        Rows in the raw log.
    dropped
        Rows dropped, by reason (e.g. ``{"ignore:PHANTOM": 278}``).
    origin
        Calendar date of time 0 (midnight), or None when times are plain seconds.
    priority_credit
        :attr:`ColumnMap.priority_credit` of the mapping used.
    """

    calls: pd.DataFrame
    events: pd.DataFrame
    n_rows: int
    dropped: Mapping[str, int]
    origin: pd.Timestamp | None
    priority_credit: float | None = None


def _examples(frame: pd.DataFrame, mask: np.ndarray, cols: list[str]) -> str:
    rows = frame.loc[mask, cols].head(_N_EXAMPLES)

    def show(v: Any) -> str:
        # numpy scalars repr as np.float64(nan) under NumPy 2; show the plain value
        return repr(v.item() if isinstance(v, np.generic) else v)

    parts = [
        f"row {idx}: " + ", ".join(f"{c}={show(r[c])}" for c in cols) for idx, r in rows.iterrows()
    ]
    return "; ".join(parts)


class _Checker:
    """Collects row problems: raise at once, or mark rows to drop."""

    def __init__(self, raw: pd.DataFrame, errors: str) -> None:
        self.raw = raw
        self.errors = errors
        self.drop = np.zeros(len(raw), dtype=bool)
        self.dropped: dict[str, int] = {}

    def check(self, bad: np.ndarray, problem: str, cols: list[str]) -> None:
        bad = np.asarray(bad, dtype=bool) & ~self.drop
        n = int(bad.sum())
        if n == 0:
            return
        if self.errors == "raise":
            raise IngestError(f"{problem}: {n} row(s), e.g. {_examples(self.raw, bad, cols)}")
        self.drop |= bad
        self.dropped[problem] = self.dropped.get(problem, 0) + n


def _parse_column(
    raw: pd.DataFrame, col: str, missing: tuple[str, ...], chk: _Checker, allow_missing: bool,
    mapping: ColumnMap,
) -> tuple[np.ndarray, str]:
    """Parse one time column into float seconds; return (values, kind).

    kind is ``tod`` (time of day, to be placed on a date), ``abs`` (datetime,
    seconds since the Unix epoch) or ``num`` (plain seconds).
    """
    s = raw[col]
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        if pd.api.types.is_numeric_dtype(s):
            values, kind = s.to_numpy(dtype=float, na_value=np.nan), "num"
        else:
            ts = wall_clock(pd.to_datetime(s), mapping.timezone)
            values, kind = (ts - pd.Timestamp(0)).dt.total_seconds().to_numpy(), "abs"
        # Typed columns skip the text parser, not the checks: a NaN (or NaT) arrival
        # would otherwise be kept with a meaningless day.
        chk.check(np.isinf(values), f"non-finite time in column {col!r}", [col])
        if not allow_missing:
            chk.check(np.isnan(values), f"missing time in column {col!r}", [col])
        return values, kind
    text = s.astype("string").str.strip()
    absent = text.isna() | (text == "")
    if missing:
        absent |= text.isin(list(missing))
    # pandas' timedelta parser is lenient ("8:0x:30" becomes 8:00:30), so the
    # shape of a time of day is checked first.
    shaped = text.str.fullmatch(_TOD_PATTERN).fillna(False).to_numpy(dtype=bool)
    td = pd.to_timedelta(text.where(~absent & shaped), errors="coerce")
    failed = (td.isna().to_numpy() | ~shaped) & ~absent.to_numpy()
    if not failed.any():
        values, kind = td.dt.total_seconds().to_numpy(), "tod"
    else:
        try:
            ts = parse_datetimes(text.where(~absent), col, date_format=mapping.date_format,
                                 timezone=mapping.timezone)
        except DateFormatError as exc:
            raise IngestError(str(exc)) from None
        failed_ts = ts.isna().to_numpy() & ~absent.to_numpy()
        if failed_ts.sum() < failed.sum():
            chk.check(failed_ts, f"unparseable time in column {col!r}", [col])
            values, kind = (ts - pd.Timestamp(0)).dt.total_seconds().to_numpy(), "abs"
        else:
            chk.check(failed, f"unparseable time in column {col!r}", [col])
            values, kind = td.dt.total_seconds().to_numpy(), "tod"
    if not allow_missing:
        chk.check(absent.to_numpy(), f"missing time in column {col!r}", [col])
    return values, kind


def _day_of(arrival: np.ndarray, drop: np.ndarray) -> np.ndarray:
    """Day index of each arrival (seconds since the origin); 0 for rows being dropped."""
    return np.floor(np.where(drop, 0.0, arrival) / DAY).astype(np.int64)


def ingest(
    frame: pd.DataFrame,
    mapping: ColumnMap,
    *,
    errors: Literal["raise", "drop"] = "raise",
) -> IngestResult:
    """Validate a raw call log and map it to the call table and event layout.

    Parameters
    ----------
    frame
        The raw log, one row per call.
    mapping
        Which column holds which quantity (see :class:`ColumnMap`).
    errors
        ``"raise"``: the first problem found raises :class:`IngestError` with
        the number of rows affected and examples. ``"drop"``: rows with
        problems are dropped and counted in :attr:`IngestResult.dropped`.

    Returns
    -------
    IngestResult
        The call table (times in seconds since midnight of the first day) and
        the event table.

    Raises
    ------
    IngestError
        A mapped column is absent, a time cannot be parsed, an interval ends
        before it starts, a duration is negative, or an outcome code is unknown.
    """
    if errors not in ("raise", "drop"):
        raise IngestError(f"errors: must be 'raise' or 'drop', got {errors!r}")
    wanted = {
        name: getattr(mapping, name)
        for name in (
            "arrival",
            "queue_start",
            "queue_exit",
            "service_start",
            "service_end",
            "outcome",
            "agent",
            "cls",
            "date",
            "customer",
            "priority",
            "queue_time",
            "service_time",
        )
    }
    absent_cols = [
        f"{k}={c!r}"
        for k, v in wanted.items()
        if v is not None
        for c in ((v,) if isinstance(v, str) else v)
        if c not in frame.columns
    ]
    if absent_cols:
        raise IngestError(
            f"columns not in the log: {', '.join(absent_cols)}; have {list(frame.columns)}"
        )
    if len(frame) == 0:
        raise IngestError("the log has no rows")
    raw = frame.reset_index(drop=True)
    n = len(raw)
    chk = _Checker(raw, errors)

    # Outcomes first: ignored records (e.g. PHANTOM) are not validated further.
    if mapping.outcome is not None:
        codes = raw[mapping.outcome].astype("string").str.strip()
        known = codes.isin(list(mapping.outcome_codes))
        unknown = ~known.to_numpy(dtype=bool, na_value=False)
        if unknown.any():
            found = sorted(set(codes[unknown].fillna("<NA>")))[:5]
            chk.check(
                unknown,
                f"unknown outcome code(s) {found} in column {mapping.outcome!r} "
                f"(known: {sorted(mapping.outcome_codes)})",
                [mapping.outcome],
            )
        outcome = codes.map(dict(mapping.outcome_codes)).to_numpy(dtype=object)
        ignore = outcome == "ignore"
        for code in sorted(set(codes[ignore])):
            chk.dropped[f"ignore:{code}"] = int((codes[ignore] == code).sum())
        chk.drop |= ignore
    else:
        outcome = None

    times: dict[str, np.ndarray] = {}
    kinds = set()
    for name in ("arrival", "queue_start", "queue_exit", "service_start", "service_end"):
        col = wanted[name]
        if col is None:
            times[name] = np.full(n, np.nan)
            continue
        values, kind = _parse_column(
            raw,
            col,
            () if name == "arrival" else mapping.missing,
            chk,
            allow_missing=name != "arrival",
            mapping=mapping,
        )
        times[name] = values
        kinds.add(kind)
    if len(kinds) > 1:
        raise IngestError(
            f"time columns mix formats {sorted(kinds)}; give all as times of day, "
            "all as timestamps or all as seconds"
        )
    kind = kinds.pop()

    # Place times on a common axis: seconds since midnight of the first day.
    origin: pd.Timestamp | None = None
    day = np.zeros(n, dtype=np.int64)
    if kind == "abs":
        arr = times["arrival"]
        chk.check(far_from_the_rest(np.where(chk.drop, np.nan, arr / DAY)),
                  f"date far outside the log's range in column {wanted['arrival']!r}",
                  [wanted["arrival"]])
        origin_s = np.floor(np.nanmin(np.where(chk.drop, np.nan, arr)) / DAY) * DAY
        origin = pd.Timestamp(origin_s, unit="s")
        for name in times:
            times[name] = times[name] - origin_s
        day = _day_of(times["arrival"], chk.drop)
    elif mapping.date is not None:
        if pd.api.types.is_datetime64_any_dtype(raw[mapping.date]):
            dates = wall_clock(raw[mapping.date], mapping.timezone)
        else:
            try:
                dates = parse_datetimes(raw[mapping.date], mapping.date,
                                        date_format=mapping.date_format,
                                        timezone=mapping.timezone)
            except DateFormatError as exc:
                raise IngestError(str(exc)) from None
        chk.check(
            dates.isna().to_numpy(), f"unparseable date in column {mapping.date!r}", [mapping.date]
        )
        dates = dates.dt.normalize()
        chk.check(far_from_the_rest((dates - pd.Timestamp(0)).dt.days.to_numpy(dtype=float,
                                                                              na_value=np.nan)),
                  f"date far outside the log's range in column {mapping.date!r}", [mapping.date])
        origin = dates[~chk.drop].min()
        day = ((dates - origin).dt.days).fillna(0).to_numpy(dtype=np.int64)
        arr_tod = times["arrival"]
        if kind == "tod":
            for name in times:
                t = times[name]
                # A later stage more than 12 h "before" the arrival crossed midnight.
                wrapped = t < arr_tod - HALF_DAY
                times[name] = t + wrapped * DAY + day * DAY
        else:
            for name in times:
                times[name] = times[name] + day * DAY
    elif kind == "tod":
        raise IngestError("times are times of day: map a date column (ColumnMap.date)")
    else:
        day = _day_of(times["arrival"], chk.drop)

    qs, qe, ss, se = (
        times[k] for k in ("queue_start", "queue_exit", "service_start", "service_end")
    )
    # Durations: validate, then use them to rebuild one missing end of an interval.
    for start, end, dcol in ((qs, qe, mapping.queue_time), (ss, se, mapping.service_time)):
        if dcol is None:
            continue
        dur = pd.to_numeric(raw[dcol], errors="coerce").to_numpy(dtype=float)
        chk.check(
            np.isnan(dur) & ~raw[dcol].isna().to_numpy(),
            f"unparseable duration in column {dcol!r}",
            [dcol],
        )
        chk.check(dur < 0, f"negative duration in column {dcol!r}", [dcol])
        fix_start = np.isnan(start) & ~np.isnan(end) & (dur > 0)
        start[fix_start] = end[fix_start] - dur[fix_start]
        fix_end = ~np.isnan(start) & np.isnan(end) & (dur > 0)
        end[fix_end] = start[fix_end] + dur[fix_end]

    tol = mapping.tolerance
    for start, end, label, cols in (
        (qs, qe, "queue", [wanted["queue_start"], wanted["queue_exit"]]),
        (ss, se, "service", [wanted["service_start"], wanted["service_end"]]),
    ):
        if cols[0] is None:
            continue
        cols = [c for c in cols if c is not None]
        chk.check(
            np.isnan(start) != np.isnan(end), f"{label} interval with only one end recorded", cols
        )
        chk.check(end < start, f"{label} ends before it starts", cols)
    stage_cols = [c for c in (wanted["arrival"], wanted["queue_start"]) if c]
    chk.check(qs < times["arrival"] - tol, "queue entry before arrival", stage_cols)
    first_contact = np.where(np.isnan(qe), times["arrival"], qe)
    chk.check(
        ss < first_contact - tol,
        "service starts before the arrival or queue exit",
        [c for c in (wanted["arrival"], wanted["queue_exit"], wanted["service_start"]) if c],
    )

    if outcome is None:
        outcome = np.where(np.isnan(ss), "abandoned", "served").astype(object)
    served = outcome == "served"
    # A served call may lack service times (the bank has 50); it stays served,
    # its service duration is unknown (NaN) and is left out of service fits.

    keep = ~chk.drop
    idx = np.flatnonzero(keep)
    qs, qe, ss, se, arr = (a[idx] for a in (qs, qe, ss, se, times["arrival"]))
    out_k = outcome[idx]
    # Skew between stages (within `tolerance`) is left as recorded: waits and
    # services are measured within one clock each (queue, agent), so they stay exact.

    def col_or(name: str, default: object) -> np.ndarray:
        c = wanted[name]
        return raw[c].to_numpy()[idx] if c is not None else np.full(len(idx), default, dtype=object)

    agent = pd.Series(col_or("agent", None), dtype="object")
    if mapping.no_agent:
        agent = agent.where(~agent.isin(list(mapping.no_agent)), None)
    priority_known = np.ones(len(idx), dtype=bool)
    if wanted["priority"] is not None:
        pr = pd.Series(raw[wanted["priority"]].to_numpy()[idx])
        if mapping.priority_unrecorded:
            priority_known = ~(pr.isin(list(mapping.priority_unrecorded)).to_numpy() & np.isnan(qs))
        if mapping.priority_map is not None:
            mapped = pr.map(dict(mapping.priority_map))
            if mapped.isna().any():
                bad = sorted(set(pr[mapped.isna()]))[:5]
                raise IngestError(
                    f"priority values {bad} not in priority_map {dict(mapping.priority_map)}"
                )
            pr = mapped
        priority = pr.to_numpy(dtype=np.int64)
    else:
        priority = np.zeros(len(idx), dtype=np.int64)
    cid = wanted["customer"]
    if cid is None:
        customer = idx
    elif isinstance(cid, str):
        customer = raw[cid].to_numpy()[idx]
    else:
        joined = raw[cid[0]].astype(str)
        for c in cid[1:]:
            joined = joined + "-" + raw[c].astype(str)
        customer = joined.to_numpy()[idx]
    queued = ~np.isnan(qs)
    abandoned = out_k == "abandoned"
    exit_q = np.where(queued, qe, np.nan)
    wait = np.where(queued, exit_q - qs, np.where(out_k == "served", 0.0, np.nan))
    if origin is not None:
        date = origin + pd.to_timedelta(day[idx], unit="D")
    else:
        date = pd.Series(pd.NaT, index=range(len(idx)))
    calls = pd.DataFrame(
        {
            "customer": customer,
            "class": pd.Series(col_or("cls", "all")).astype(str).to_numpy(),
            "priority": priority,
            "agent": agent.to_numpy(),
            "date": np.asarray(date, dtype="datetime64[ns]"),
            "day": day[idx],
            "arrival": arr,
            "queue_start": qs,
            "queue_exit": qe,
            "service_start": np.where(served[idx], ss, np.nan),
            "service_end": np.where(served[idx], se, np.nan),
            "outcome": pd.Categorical(out_k, categories=list(OUTCOME_CATEGORIES)),
            "queued": queued,
            "abandoned": abandoned,
            "wait": wait,
            "service": np.where(served[idx], se - ss, np.nan),
            "priority_known": priority_known,
        }
    )
    if calls["customer"].duplicated().any():
        dup = calls["customer"][calls["customer"].duplicated()].head(_N_EXAMPLES).tolist()
        raise IngestError(
            f"customer ids are not unique ({int(calls['customer'].duplicated().sum())} "
            f"duplicates, e.g. {dup}); map a unique id column or none"
        )
    if len(calls) == 0:
        raise IngestError("no rows left after dropping ignored and invalid records")
    events = events_from_calls(calls, station=mapping.station)
    return IngestResult(
        calls=calls,
        events=events,
        n_rows=n,
        dropped=dict(chk.dropped),
        origin=origin,
        priority_credit=mapping.priority_credit,
    )


def read_log(
    path: str | Path,
    mapping: ColumnMap,
    *,
    errors: Literal["raise", "drop"] = "raise",
    **read_csv_kwargs: object,
) -> IngestResult:
    """Read a CSV call log and ingest it (see :func:`ingest`).

    Parameters
    ----------
    path
        CSV file, one row per call.
    mapping
        Column mapping.
    errors
        ``"raise"`` or ``"drop"``, as in :func:`ingest`.
    **read_csv_kwargs
        Passed to :func:`pandas.read_csv` (e.g. ``sep="\\t"``).
    """
    frame = pd.read_csv(path, **read_csv_kwargs)
    return ingest(frame, mapping, errors=errors)


def load_bank(path: str | Path | None = None) -> pd.DataFrame:
    """Load the raw "Anonymous Bank" call log of February 1999.

    Parameters
    ----------
    path
        CSV file; defaults to the copy bundled in ``data/callcentre``.

    Returns
    -------
    pandas.DataFrame
        33,344 rows, one per call, columns as documented in
        ``data/callcentre/README.md`` (times of day as ``h:mm:ss`` strings).
    """
    return datasets.load_bank(path if path is not None else BANK_CSV)


def ingest_bank(
    path: str | Path | None = None, *, errors: Literal["raise", "drop"] = "raise"
) -> IngestResult:
    """Load and ingest the bundled bank log with :data:`BANK_MAPPING`.

    PHANTOM records (278) are dropped; nothing else is (``errors="raise"``
    succeeds on the bundled file).
    """
    return ingest(load_bank(path), BANK_MAPPING, errors=errors)
