"""From a call log to fitted inputs and a scenario dict.

:func:`calibrate` runs every estimator of this package on a call table (or
an ingested log, or an event table such as a simulated trace) and returns a
:class:`Calibration`: arrival-rate profiles per class, service-time fits per
class, patience per class, agents on duty, the Poisson and Erlang-A checks.
:func:`to_scenario` turns a calibration into a scenario dict in the format of
docs/scenario.md, which :func:`simlib.load_scenario` validates.

Two kinds of scenario are built:

* **Fitted** (default): one typical day (``horizon`` = 24 h) of the chosen
  day type. Each class arrives by a piecewise-constant ``profile`` (rates
  averaged over the chosen days), waits with exponential patience (the
  censoring-aware MLE), and is served with the best-AIC distribution that
  the scenario format can express (lognormal, gamma or exponential). Staffing is the
  agents on duty per interval, averaged over the days and rounded.
* **Trace-driven** (``trace_dir`` given): the chosen days laid end to end
  (``horizon`` = days × 24 h). Each class replays its observed arrival times
  (``arrivals: {trace: {file, column: time}}``) and draws service times from
  its observed ones (``{dist: empirical, file, column: service}``); staffing
  is the observed agents on duty interval by interval. Patience stays the
  fitted exponential, because a served caller's patience is never observed.

Time unit: ``minute`` by default (rates per minute, durations in minutes),
or ``second``. The unit is written in the scenario's ``time_unit`` field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from simlib.calibrate.arrivals import (
    Dispersion,
    PoissonTest,
    arrival_profile,
    daily_dispersion,
    day_types,
    poisson_test,
)
from simlib.calibrate.events import calls_from_events
from simlib.calibrate.ingest import IngestResult
from simlib.calibrate.patience import ErlangACheck, PatienceFit, erlang_a_check, patience
from simlib.calibrate.service import DISTS, ServiceFit, fit_service
from simlib.calibrate.staffing import agents_on_duty, shifts_from_staffing, typical_staffing
from simlib.spec.edits import add_servers, set_service_level
from simlib.spec.scenario import Scenario, from_dict, load_scenario
from simlib.spec.units import DAY, SECONDS_PER_UNIT

__all__ = ["Calibration", "add_agents", "calibrate", "fit_from_events", "to_scenario", "TIME_UNITS"]

#: Units a calibrated scenario may be written in, with their seconds (a log counts seconds).
TIME_UNITS: Mapping[str, float] = {u: SECONDS_PER_UNIT[u] for u in ("second", "minute")}


@dataclass(frozen=True)
class Calibration:
    """Fitted inputs of a service system, from one log.

    Attributes
    ----------
    calls
        The call table used (only the chosen days).
    period
        Interval length of profiles and staffing (seconds).
    day_type
        The day type chosen, or None (all days).
    days
        Day indices used (0 = first day of the log).
    classes
        Class names, most frequent first.
    profiles
        Class → :func:`arrival_profile` table (rates per second, averaged over ``days``).
    service
        Class → :class:`ServiceFit` (``"*"``: all classes pooled).
    patience
        Class → :class:`PatienceFit` (``"*"``: pooled); empty when nobody in the
        log abandoned (the model's customers then never abandon).
    priorities
        Class → scenario priority (the most common priority of the class's calls).
    staffing
        :func:`agents_on_duty` for the chosen days.
    typical
        :func:`typical_staffing` over the chosen days.
    poisson
        :func:`poisson_test` on all arrivals of the chosen days.
    dispersion
        :func:`daily_dispersion` per day type (all days of the log).
    erlang_a
        :func:`erlang_a_check` with the pooled patience.
    """

    calls: pd.DataFrame = field(repr=False)
    period: float
    day_type: str | None
    days: tuple[int, ...]
    classes: tuple[str, ...]
    profiles: Mapping[str, pd.DataFrame] = field(repr=False)
    service: Mapping[str, ServiceFit] = field(repr=False)
    patience: Mapping[str, PatienceFit] = field(repr=False)
    priorities: Mapping[str, int]
    staffing: pd.DataFrame = field(repr=False)
    typical: pd.DataFrame = field(repr=False)
    poisson: PoissonTest | None
    dispersion: tuple[Dispersion, ...]
    erlang_a: ErlangACheck | None = field(repr=False)

    def summary(self) -> pd.DataFrame:
        """One row per class: arrivals per day, service fit, patience, priority.

        Returns
        -------
        pandas.DataFrame
            ``class, calls_per_day, service_best, service_mean_s, service_cv,
            patience_mean_s, abandon_share, priority``.
        """
        rows = []
        n_days = len(self.days)
        for c in self.classes:
            sub = self.calls[self.calls["class"] == c]
            fit = self.service[c].best_fit
            rows.append(
                {
                    "class": c,
                    "calls_per_day": len(sub) / n_days,
                    "service_best": fit.dist,
                    "service_mean_s": fit.mean,
                    "service_cv": fit.cv,
                    "patience_mean_s": (
                        self.patience[c].mean if c in self.patience else float("nan")
                    ),
                    "abandon_share": float(sub["abandoned"].mean()),
                    "priority": self.priorities[c],
                }
            )
        return pd.DataFrame(rows)


def as_calls(log: IngestResult | pd.DataFrame) -> pd.DataFrame:
    """The call table of an ingested log, an event table or a call table (checked)."""
    if isinstance(log, IngestResult):
        return log.calls
    if isinstance(log, pd.DataFrame):
        if "event" in log.columns:
            return calls_from_events(log)
        needed = {
            "class",
            "day",
            "arrival",
            "wait",
            "abandoned",
            "service",
            "agent",
            "service_start",
            "service_end",
            "priority",
        }
        missing = sorted(needed - set(log.columns))
        if missing:
            raise ValueError(f"log: not a call table (lacks {missing}) nor an event table")
        return log
    raise TypeError(f"log: expected an IngestResult or a DataFrame, got {type(log).__name__}")


def calibrate(
    log: IngestResult | pd.DataFrame,
    *,
    period: float = 1800.0,
    day_type: str | None = None,
    scheme: Mapping[int, str] | str = "israel",
    min_class_n: int = 30,
    service_dists: Sequence[str] = tuple(DISTS),
    poisson_block: float = 360.0,
    seed: int = 0,
    service_min: float = 0.0,
) -> Calibration:
    """Fit arrival profiles, service times, patience and staffing from a log.

    Parameters
    ----------
    log
        An :class:`IngestResult`, a call table, or an event table
        (docs/traces.md#event-log-layout, e.g. a simulated trace; times in seconds).
    period
        Interval length of rate profiles and staffing (seconds); must divide a day.
    day_type
        Use only days of this type (e.g. ``"weekday"``; see :func:`day_types`);
        None uses every day.
    scheme
        Day-type scheme (``"israel"``: Sunday-Thursday weekdays, as the bank).
    min_class_n
        A class with fewer positive service times (or fewer abandonments, for
        patience) uses the pooled fit.
    service_dists
        Candidate service distributions.
    poisson_block
        Block length of the Poisson test (seconds).
    seed
        Seed of the Poisson test's de-tying jitter.
    service_min
        Service times below this (seconds) are left out of the service fits
        (see :func:`fit_service`); e.g. 10 s for the bank, whose many very
        short calls otherwise make gamma beat the lognormal body.

    Returns
    -------
    Calibration
    """
    calls = as_calls(log)
    if len(calls) == 0:
        raise ValueError("log: no calls")
    all_calls = calls
    if day_type is not None:
        labels = day_types(call_dates(calls), scheme)
        if day_type not in set(labels):
            raise ValueError(f"day_type: {day_type!r} not in the log; have {sorted(set(labels))}")
        calls = calls.loc[labels == day_type]
    days = tuple(int(d) for d in np.unique(calls["day"].to_numpy()))
    counts = calls["class"].value_counts(sort=True)
    classes = tuple(str(c) for c in counts.index)

    day = calls["day"].to_numpy()
    tod = np.clip(calls["arrival"].to_numpy() - day * DAY, 0.0, np.nextafter(DAY, 0))
    cls_col = calls["class"].to_numpy()
    profiles = {c: arrival_profile(tod[cls_col == c], period, days=len(days)) for c in classes}

    service_all = calls["service"].to_numpy(float)
    pooled_service = fit_service(service_all, service_dists, min_duration=service_min)
    service: dict[str, ServiceFit] = {"*": pooled_service}
    has_wait = calls["wait"].notna().to_numpy()
    # A log in which nobody abandoned shows no impatience: the model then gets
    # no patience (customers never abandon) instead of an infinite estimate.
    anyone_abandoned = bool(calls["abandoned"].to_numpy(bool)[has_wait].any())
    pooled_patience = (
        patience(calls["wait"].to_numpy()[has_wait], calls["abandoned"].to_numpy(bool)[has_wait])
        if anyone_abandoned
        else None
    )
    pat: dict[str, PatienceFit] = {"*": pooled_patience} if pooled_patience else {}
    priorities: dict[str, int] = {}
    for c in classes:
        sel = cls_col == c
        s = service_all[sel]
        service[c] = (
            fit_service(s, service_dists, min_duration=service_min)
            if int((s >= max(service_min, 1e-300)).sum()) >= min_class_n
            else pooled_service
        )
        w_sel = sel & has_wait
        n_ab = int(calls["abandoned"].to_numpy(bool)[w_sel].sum())
        if pooled_patience is not None:
            pat[c] = (
                patience(calls["wait"].to_numpy()[w_sel], calls["abandoned"].to_numpy(bool)[w_sel])
                if n_ab >= min_class_n
                else pooled_patience
            )
        priorities[c] = int(pd.Series(calls["priority"].to_numpy()[sel]).mode().min())

    staffing = agents_on_duty(calls, period)
    staffing = staffing[staffing["day"].isin(days)].reset_index(drop=True)
    typical = typical_staffing(staffing)
    try:
        ptest: PoissonTest | None = poisson_test(
            calls["arrival"].to_numpy(), poisson_block, seed=seed
        )
    except ValueError:
        ptest = None
    dispersion = tuple(daily_dispersion(all_calls, scheme=scheme))
    check = (
        erlang_a_check(calls, pooled_patience.mean, period=max(period, 3600.0))
        if pooled_patience is not None
        else None
    )
    return Calibration(
        calls=calls,
        period=float(period),
        day_type=day_type,
        days=days,
        classes=classes,
        profiles=profiles,
        service=service,
        patience=pat,
        priorities=priorities,
        staffing=staffing,
        typical=typical,
        poisson=ptest,
        dispersion=dispersion,
        erlang_a=check,
    )


def fit_from_events(
    events: pd.DataFrame, *, station: str | None = None, **kwargs: object
) -> Calibration:
    """Calibrate from an event table (docs/traces.md#event-log-layout), e.g. a simulated trace.

    Parameters
    ----------
    events
        Event table; times in seconds.
    station
        Station to fit when the trace has several.
    **kwargs
        Passed to :func:`calibrate`.
    """
    return calibrate(calls_from_events(events, station=station), **kwargs)  # type: ignore[arg-type]


def call_dates(calls: pd.DataFrame) -> np.ndarray:
    """Each call's calendar date; a log without dates counts its days from 2001-01-01."""
    if calls["date"].notna().all():
        return calls["date"].to_numpy()
    return (
        pd.Timestamp("2001-01-01") + pd.to_timedelta(calls["day"].to_numpy(), unit="D")
    ).to_numpy()


def _round(x: float) -> float:
    # Fitted values are estimates; 6 significant digits keep the YAML readable.
    return float(f"{x:.6g}")


def to_scenario(
    cal: Calibration,
    *,
    time_unit: Literal["second", "minute"] = "minute",
    name: str = "calibrated",
    station: str = "contact",
    warmup: float = 0.0,
    trace_dir: str | Path | None = None,
    service_level_threshold: float | None = None,
    service_level_target: float = 0.8,
    servers: int | None = None,
) -> dict[str, object]:
    """Build a scenario dict (docs/scenario.md) from a calibration.

    Parameters
    ----------
    cal
        Output of :func:`calibrate`.
    time_unit
        ``"minute"`` or ``"second"``: unit of every duration and rate written.
    name
        Scenario name.
    station
        Name of the single station.
    warmup
        Warm-up length (in ``time_unit``).
    trace_dir
        If given, build the trace-driven variant and write its CSVs there
        (``arrivals_<class>.csv`` with column ``time``, ``service_<class>.csv``
        with column ``service``, both in ``time_unit``); file paths in the
        dict are absolute.
    service_level_threshold
        Optional ``targets.service_level.threshold`` (in ``time_unit``).
    service_level_target
        Target share for the service level.
    servers
        A constant number of servers instead of the staffing read from the log's
        agent column (needed when the log has none, e.g. a simulated trace).

    Returns
    -------
    dict
        A scenario in the format of docs/scenario.md.
    """
    if time_unit not in TIME_UNITS:
        raise ValueError(f"time_unit: expected one of {list(TIME_UNITS)}, got {time_unit!r}")
    scale = TIME_UNITS[time_unit]
    n_days = len(cal.days)
    trace = trace_dir is not None
    horizon = (n_days if trace else 1) * DAY / scale
    desc_days = f"{n_days} {cal.day_type or 'all'} day(s)"
    out_dir = Path(trace_dir).resolve() if trace_dir is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)

    calls = cal.calls
    # Trace time: the chosen days laid end to end, in the order observed.
    day_pos = {d: i for i, d in enumerate(cal.days)}
    classes = []
    service: dict[str, dict[str, object]] = {}
    for c in cal.classes:
        sub = calls[calls["class"] == c]
        entry: dict[str, object] = {"name": c}
        fname = _safe(c)
        if out_dir is not None:
            pos = sub["day"].map(day_pos).to_numpy()
            t = (sub["arrival"].to_numpy() - sub["day"].to_numpy() * DAY + pos * DAY) / scale
            arr_file = out_dir / f"arrivals_{fname}.csv"
            pd.DataFrame({"time": np.sort(t)}).to_csv(arr_file, index=False)
            entry["arrivals"] = {"trace": {"file": str(arr_file), "column": "time"}}
            s = sub["service"].to_numpy(float)
            s = s[np.isfinite(s)] / scale
            if s.size == 0:
                s = calls["service"].dropna().to_numpy(float) / scale
            svc_file = out_dir / f"service_{fname}.csv"
            pd.DataFrame({"service": s}).to_csv(svc_file, index=False)
            service[c] = {"dist": "empirical", "file": str(svc_file), "column": "service"}
        else:
            rates = cal.profiles[c]["rate"].to_numpy() * scale
            entry["arrivals"] = {
                "profile": {
                    "period": _round(cal.period / scale),
                    "rates": [_round(r) for r in rates],
                }
            }
            spec: dict[str, Any] = dict(cal.service[c].best_scenario.spec())
            service[c] = {
                k: (_round(v / scale) if k == "mean" else _round(v) if k == "cv" else v)
                for k, v in spec.items()
            }
        if c in cal.patience:  # absent when nobody in the log abandoned
            entry["patience"] = {"dist": "exponential", "mean": _round(cal.patience[c].mean / scale)}
        entry["priority"] = int(cal.priorities[c])
        classes.append(entry)

    if trace:
        st = cal.staffing.sort_values(["day", "start"])
        pos = st["day"].map(day_pos).to_numpy()
        starts = st["start"].to_numpy() + pos * DAY
        shifts = shifts_from_staffing(
            starts, starts + cal.period, st["on_duty"].to_numpy(), scale=scale, horizon=horizon
        )
    else:
        ty = cal.typical
        shifts = shifts_from_staffing(
            ty["start"].to_numpy(),
            ty["end"].to_numpy(),
            ty["servers"].to_numpy(),
            scale=scale,
            horizon=horizon,
        )
    for s in shifts:
        s["start"], s["end"] = _round(float(s["start"])), _round(float(s["end"]))
    if servers is None and not any(s["servers"] > 0 for s in shifts):
        raise ValueError(
            "to_scenario: the log shows no agents on duty (no agent column?); "
            "pass servers=N to staff the station"
        )

    distinct_priorities = len(set(cal.priorities.values())) > 1
    station_spec: dict[str, object] = {
        "name": station,
        **({"servers": int(servers)} if servers is not None else {"shifts": shifts}),
        "service": service if len(service) > 1 else next(iter(service.values())),
        "discipline": "priority" if distinct_priorities else "fifo",
    }
    scn: dict[str, object] = {
        "name": name,
        "description": (
            f"{'Trace-driven' if trace else 'Fitted'} scenario calibrated by "
            f"simlib.calibrate from {len(calls)} calls on {desc_days}; "
            f"profile period {cal.period:g} s."
        ),
        "time_unit": time_unit,
        "horizon": _round(horizon),
        "warmup": warmup,
        "classes": classes,
        "stations": [station_spec],
    }
    if service_level_threshold is not None:
        set_service_level(scn, {"threshold": service_level_threshold, "target": service_level_target})
    return scn


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name) or "class"


def add_agents(
    scenario: Scenario | Mapping[str, object] | str | Path,
    extra: int = 1,
    start: float = 0.0,
    end: float | None = None,
    *,
    station: str | None = None,
) -> Scenario:
    """A what-if scenario: ``extra`` more servers during ``[start, end)``.

    Shifts that straddle ``start`` or ``end`` are split there, so only the
    chosen hours change (a station with a constant ``servers`` count is
    turned into shifts). Everything else - arrivals, service, patience,
    seeds - is untouched, so simulating both scenarios with the same seed
    compares them under common random numbers.

    Parameters
    ----------
    scenario
        A scenario dict, :class:`~simlib.spec.scenario.Scenario` or YAML path.
    extra
        Servers added (negative removes; no interval may drop below 0).
    start, end
        The hours changed, in the scenario's time unit on observed time
        (e.g. ``600, 720`` for 10:00-12:00 in a scenario in minutes);
        ``end`` defaults to the horizon.
    station
        Station to change; may be omitted when the scenario has one.

    Returns
    -------
    simlib.spec.scenario.Scenario
        The validated new scenario.

    Raises
    ------
    ValueError
        ``extra`` not an integer, an empty or out-of-range window, an unknown
        or ambiguous station, or a shift that would get fewer than 0 servers.
    """
    if isinstance(extra, bool) or not isinstance(extra, (int, np.integer)):
        raise ValueError(f"extra: must be an integer number of servers, got {extra!r}")
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    horizon = float(base.horizon)
    end = horizon if end is None else float(end)
    start = float(start)
    if not (0 <= start < end <= horizon):
        raise ValueError(f"start/end: need 0 <= start < end <= horizon ({horizon:g}), got {start:g}, {end:g}")
    names = [s.name for s in base.stations]
    if station is None:
        if len(names) > 1:
            raise ValueError(f"station: the scenario has stations {names}; pass station=")
        station = names[0]
    if station not in names:
        raise ValueError(f"station: {station!r} not in the scenario; have {names}")

    data = base.to_dict()
    spec = next(s for s in data["stations"] if s["name"] == station)
    add_servers(spec, extra, start, end, horizon)
    data["name"] = f"{base.name}+{extra}"
    return from_dict(data, base_dir=base.base_dir, default_name=base.name,
                     allow_paths=base.allow_paths)
