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
  averaged over the chosen days; a random ``day_to_day`` multiplier with the
  days' dispersion), waits with the censored-ML patience chosen by AIC (the
  Kaplan-Meier ``survival`` on the bank), and is served with the best-AIC
  distribution the scenario format can express, its mean varying by hour
  (``profile``). Staffing is the effective agents per 5-minute interval
  (available while callers wait), averaged over the days and rounded keeping
  the agent-hours (``capacity="on_duty"``: the agents on duty, plus
  after-call work in the service). Priority callers get the log's
  waiting-time credit (``discipline: credit``). ``staffing="days"`` lays the
  chosen days end to end, each staffed as observed.
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
    day_to_day_cv,
    day_types,
    poisson_test,
)
from simlib.calibrate.availability import ACW_CAP, AfterCallWork, after_call_work, effective_agents
from simlib.calibrate.events import calls_from_events
from simlib.calibrate.ingest import IngestResult
from simlib.calibrate.patience import (
    PATIENCE_FAMILIES,
    ErlangACheck,
    PatienceFit,
    PatienceModel,
    erlang_a_check,
    fit_patience,
    patience,
)
from simlib.calibrate.service import (
    DISTS,
    SHRINK_K,
    ServiceFit,
    fit_service,
    service_day_cv,
    service_profile,
)
from simlib.calibrate.staffing import shifts_from_staffing, typical_staffing
from simlib.spec.distributions import DISTRIBUTIONS
from simlib.spec.edits import add_servers, set_service_level
from simlib.spec.scenario import Scenario, from_dict, load_scenario
from simlib.spec.units import DAY, SECONDS_PER_UNIT

__all__ = [
    "Calibration",
    "PRIORITY_SUFFIX",
    "add_agents",
    "calibrate",
    "fit_from_events",
    "patience_spec",
    "round_keeping_total",
    "select_days",
    "to_scenario",
    "TIME_UNITS",
]

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
        :func:`~simlib.calibrate.effective_agents` for the chosen days
        (``on_duty``, ``busy``, ``effective``, … per ``staffing_period`` interval).
    typical
        :func:`typical_staffing` over the chosen days, plus ``mean_effective``
        and ``effective_servers`` (the mean effective agents, rounded so that
        the day's agent-hours are kept: see :func:`round_keeping_total`).
    poisson
        :func:`poisson_test` on all arrivals of the chosen days.
    dispersion
        :func:`daily_dispersion` per day type (all days of the log).
    erlang_a
        :func:`erlang_a_check` with the pooled patience.
    staffing_period
        Interval length of ``staffing`` and ``typical`` (seconds).
    acw
        :func:`~simlib.calibrate.after_call_work` of the chosen days.
    service_profile
        :func:`~simlib.calibrate.service_profile` (per class and
        ``service_period`` interval, shrunk towards the class).
    service_period
        Interval length of ``service_profile`` (seconds).
    patience_models
        Class → :class:`~simlib.calibrate.PatienceModel` (censored ML fits by
        AIC; ``"*"``: pooled); empty when nobody abandoned.
    day_cv
        Coefficient of variation of the day-level arrival multiplier
        (:func:`~simlib.calibrate.day_to_day_cv` of the chosen days).
    priority_share
        Class → share of its calls at the most urgent priority level among
        calls whose priority is known (``priority_known``).
    credit
        Waiting-time credit (seconds) of the more urgent priority level, or None
        (strict priority, as before).
    service_day_cv
        Coefficient of variation of the day-level service multiplier
        (:func:`~simlib.calibrate.service_day_cv` of the chosen days: the
        dispersion of daily mean services beyond their sampling noise).
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
    staffing_period: float = 1800.0
    acw: AfterCallWork | None = field(default=None, repr=False)
    service_profile: pd.DataFrame | None = field(default=None, repr=False)
    service_period: float = 3600.0
    patience_models: Mapping[str, PatienceModel] = field(default_factory=dict, repr=False)
    day_cv: float = 0.0
    priority_share: Mapping[str, float] = field(default_factory=dict)
    credit: float | None = None
    service_day_cv: float = 0.0

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
    days: Sequence[int] | None = None,
    scheme: Mapping[int, str] | str = "israel",
    min_class_n: int = 30,
    service_dists: Sequence[str] = tuple(DISTS),
    poisson_block: float = 360.0,
    seed: int = 0,
    service_min: float = 0.0,
    staffing_period: float = 300.0,
    service_period: float = 3600.0,
    shrink_k: float = SHRINK_K,
    acw_cap: float = ACW_CAP,
    patience_families: Sequence[str] = PATIENCE_FAMILIES,
    credit: float | None = None,
    unqueued: Literal["exclude", "keep"] = "exclude",
) -> Calibration:
    """Fit arrival profiles, service times, patience and staffing from a log.

    Parameters
    ----------
    log
        An :class:`IngestResult`, a call table, or an event table
        (docs/traces.md#event-log-layout, e.g. a simulated trace; times in seconds).
    period
        Interval length of rate profiles (seconds); must divide a day.
    day_type
        Use only days of this type (e.g. ``"weekday"``; see :func:`day_types`);
        None uses every day.
    days
        Use only these day indices (0 = first day of the log), after ``day_type``:
        the calibration days of an out-of-sample check.
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
    staffing_period
        Interval length of agents on duty and effective agents (seconds);
        5 minutes by default (half-hours blur shift changes).
    service_period
        Interval length of the service-time profile (seconds).
    shrink_k
        Shrinkage constant of the service profile (weight ``n / (n + k)``).
    acw_cap
        Longest gap counted as after-call work (seconds).
    patience_families
        Patience families fitted by censored ML (see :func:`fit_patience`).
    credit
        Waiting-time credit (seconds) of the most urgent priority level; None
        takes the log's (``IngestResult.priority_credit``, 90 s for the bank),
        and a log without one keeps strict priority.
    unqueued
        ``"exclude"`` (default) leaves out callers who hung up before reaching
        the queue (NaN ``wait``): they never asked for an agent, and
        :func:`observed_intervals` leaves them out too. ``"keep"`` fits them
        as arrivals.

    Returns
    -------
    Calibration
    """
    calls = as_calls(log)
    if credit is None and isinstance(log, IngestResult):
        credit = log.priority_credit
    if credit is not None and not (np.isfinite(credit) and credit >= 0):
        raise ValueError(f"credit: must be >= 0 seconds, got {credit}")
    if unqueued not in ("exclude", "keep"):
        raise ValueError(f"unqueued: expected 'exclude' or 'keep', got {unqueued!r}")
    if len(calls) == 0:
        raise ValueError("log: no calls")
    all_calls = calls
    calls = select_days(calls, days, day_type, scheme)
    if unqueued == "exclude":
        calls = calls.loc[~(calls["wait"].isna() & calls["abandoned"].to_numpy(bool))]
    if len(calls) == 0:
        raise ValueError("log: no calls on the chosen days")
    days_t = tuple(int(d) for d in np.unique(calls["day"].to_numpy()))
    counts = calls["class"].value_counts(sort=True)
    classes = tuple(str(c) for c in counts.index)

    day = calls["day"].to_numpy()
    tod = np.clip(calls["arrival"].to_numpy() - day * DAY, 0.0, np.nextafter(DAY, 0))
    cls_col = calls["class"].to_numpy()
    profiles = {c: arrival_profile(tod[cls_col == c], period, days=len(days_t)) for c in classes}

    service_all = calls["service"].to_numpy(float)
    pooled_service = fit_service(service_all, service_dists, min_duration=service_min)
    service: dict[str, ServiceFit] = {"*": pooled_service}
    has_wait = calls["wait"].notna().to_numpy()
    waits = calls["wait"].to_numpy(float)
    ab = calls["abandoned"].to_numpy(bool)
    # A log in which nobody abandoned shows no impatience: the model then gets
    # no patience (customers never abandon) instead of an infinite estimate.
    anyone_abandoned = bool(ab[has_wait].any())
    pooled_patience = patience(waits[has_wait], ab[has_wait]) if anyone_abandoned else None
    pat: dict[str, PatienceFit] = {"*": pooled_patience} if pooled_patience else {}
    models: dict[str, PatienceModel] = {}
    if anyone_abandoned:
        models["*"] = fit_patience(waits[has_wait], ab[has_wait], patience_families)
    prio = calls["priority"].to_numpy()
    known = (
        calls["priority_known"].to_numpy(bool)
        if "priority_known" in calls.columns
        else np.ones(len(calls), bool)
    )
    top = int(prio[known].min()) if known.any() else 0
    priorities: dict[str, int] = {}
    shares: dict[str, float] = {}
    for c in classes:
        sel = cls_col == c
        s = service_all[sel]
        service[c] = (
            fit_service(s, service_dists, min_duration=service_min)
            if int((s >= max(service_min, 1e-300)).sum()) >= min_class_n
            else pooled_service
        )
        w_sel = sel & has_wait
        n_ab = int(ab[w_sel].sum())
        if pooled_patience is not None:
            enough = n_ab >= min_class_n
            pat[c] = patience(waits[w_sel], ab[w_sel]) if enough else pooled_patience
            models[c] = fit_patience(waits[w_sel], ab[w_sel], patience_families) if enough else models["*"]
        k_sel = sel & known
        ref = prio[k_sel] if k_sel.any() else prio[sel]
        priorities[c] = int(pd.Series(ref).mode().min())
        shares[c] = float((ref == top).mean())

    staffing = effective_agents(calls, staffing_period)
    staffing = staffing[staffing["day"].isin(days_t)].reset_index(drop=True)
    typical = typical_staffing(staffing)
    g = staffing.groupby(["start", "end"], sort=True)["effective"].mean().to_numpy()
    typical["mean_effective"] = g
    typical["effective_servers"] = round_keeping_total(g)
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
    distinct = len(set(prio[known].tolist())) > 1
    return Calibration(
        calls=calls,
        period=float(period),
        day_type=day_type,
        days=days_t,
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
        staffing_period=float(staffing_period),
        acw=after_call_work(calls, cap=acw_cap),
        service_profile=service_profile(calls, service_period, k=shrink_k, min_duration=service_min),
        service_period=float(service_period),
        patience_models=models,
        day_cv=day_to_day_cv(calls, days_t),
        priority_share=shares,
        credit=float(credit) if credit is not None and distinct else None,
        service_day_cv=service_day_cv(
            calls, days_t, period=service_period, k=shrink_k, min_duration=service_min
        ),
    )


def select_days(
    calls: pd.DataFrame,
    days: Sequence[int] | None,
    day_type: str | None,
    scheme: Mapping[int, str] | str = "israel",
) -> pd.DataFrame:
    """The calls of the chosen day type and days (one-line errors for absent ones)."""
    if day_type is not None:
        labels = day_types(call_dates(calls), scheme)
        if day_type not in set(labels):
            raise ValueError(f"day_type: {day_type!r} not in the log; have {sorted(set(labels))}")
        calls = calls.loc[labels == day_type]
    if days is not None:
        wanted = {int(d) for d in days}
        calls = calls.loc[calls["day"].isin(wanted)]
        missing = sorted(wanted - set(calls["day"].unique().tolist()))
        if missing:
            raise ValueError(f"days: no calls on day(s) {missing} (after the day_type filter)")
    if len(calls) == 0:
        raise ValueError("no calls on the chosen days")
    return calls


def round_keeping_total(level: Sequence[float] | np.ndarray) -> np.ndarray:
    """Round a sequence of means to integers keeping their running total.

    ``out[k] = round(L_k) − round(L_{k−1})`` with ``L_k`` the cumulative sum:
    each value moves by less than 1, and any run of intervals keeps its
    agent-hours within one interval's worth (4.65 agents become a mix of 4 and
    5 in neighbouring intervals instead of 5 throughout).
    """
    x = np.asarray(level, float)
    cum = np.floor(np.cumsum(x) + 0.5)
    out = np.diff(np.r_[0.0, cum]).astype(np.int64)
    return np.maximum(out, 0)


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


#: Suffix of the class that holds a class's callers of the most urgent priority
#: level when :func:`to_scenario` splits it (credit discipline).
PRIORITY_SUFFIX = "-priority"
#: Shares of the urgent level below which (or above 1 minus which) a class is not split.
MIN_PRIORITY_SHARE = 0.01
#: Patience keys that are durations (scaled with the time unit).
_DURATION_KEYS = frozenset({"mean", "scale", "tail_mean"})


def _scaled_spec(spec: Mapping[str, Any], scale: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in spec.items():
        if k in _DURATION_KEYS:
            out[k] = _round(float(v) / scale)
        elif k == "times":
            out[k] = [_round(float(t) / scale) for t in v]
        elif isinstance(v, float):
            out[k] = _round(v)
        elif isinstance(v, list):
            out[k] = [_round(float(t)) for t in v]
        else:
            out[k] = v
    if out.get("dist") == "survival":
        # Rounding must keep the knots strictly increasing and the survival non-increasing.
        t = np.maximum.accumulate(np.asarray(out["times"], float))
        keep = np.r_[True, np.diff(t) > 0] & (t > 0)
        out["times"] = [float(x) for x in t[keep]]
        out["survival"] = [float(x) for x in np.minimum.accumulate(np.asarray(out["survival"]))[keep]]
    return out


def patience_spec(model: PatienceModel, family: str, scale: float) -> dict[str, Any]:
    """The scenario patience entry of a fitted model (``family="aic"``: best by AIC
    among the families this scenario format can sample), durations divided by ``scale``."""
    known = set(DISTRIBUTIONS)
    if family == "aic":
        usable = [d for d in model.table["dist"] if d in known]
        if not usable:
            raise ValueError(f"patience: none of {list(model.table['dist'])} is a scenario distribution")
        family = str(usable[0])
    elif family not in known:
        raise ValueError(f"patience: {family!r} is not a scenario distribution; have {sorted(known)}")
    return _scaled_spec(model.spec(family), scale)


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
    capacity: Literal["effective", "on_duty"] = "effective",
    after_call_work: bool | None = None,
    service_by_hour: bool = True,
    patience: str = "aic",
    day_to_day: bool = True,
    staffing: Literal["typical", "days"] = "typical",
    service_day_to_day: bool | None = None,
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
    capacity
        ``"effective"`` (default): per staffing interval the mean effective
        agents of the chosen days (available while callers wait, see
        :func:`~simlib.calibrate.effective_agents`), rounded keeping the
        day's agent-hours (:func:`round_keeping_total`); ``"on_duty"``: the
        agents on duty (the overlap rule), rounded mean, as before.
    after_call_work
        Add the mean after-call work to every service mean (and its variance
        to the service variance). Default (None): only with
        ``capacity="on_duty"``; effective agents already leave out agents
        who finish a call's paperwork while callers wait, so adding it again
        would count the same lost capacity twice.
    service_by_hour
        Write the service-time ``profile`` (means per ``cal.service_period``
        by time of service start, shrunk towards the class, see
        :func:`~simlib.calibrate.service_profile`); False: one distribution all day.
    patience
        ``"aic"`` (default): the best censored-ML family by AIC that the
        scenario format can sample (see :func:`~simlib.calibrate.fit_patience`);
        or a family name (e.g. ``"exponential"``, the previous model).
    day_to_day
        Write ``day_to_day: {cv}`` (random day-level arrival multiplier with the
        dispersion of the chosen days) when the cv is positive.
    staffing
        ``"typical"`` (default): one typical day, staffed with the mean over
        the chosen days. ``"days"``: the chosen days laid end to end
        (``horizon`` = days × 24 h), each staffed as it was observed (arrivals,
        service and patience stay the fitted ones, repeated every day), so the
        simulated spread includes the day-to-day variation of staffing; a
        replication then is a group of ``len(cal.days)`` days.
    service_day_to_day
        Write ``day_to_day: {service_cv}`` (random day-level multiplier of every
        service time, ``cal.service_day_cv``) when it is positive: days of
        slower or faster calls, as the chosen days had beyond sampling noise.
        Default (None): as ``day_to_day`` (so ``day_to_day=False`` writes no
        day-level variation at all, as before).

    Returns
    -------
    dict
        A scenario in the format of docs/scenario.md. With a waiting-time
        credit in ``cal`` (the bank's 1.5 minutes) and classes whose callers
        have both priority levels, each such class ``c`` is split into ``c``
        (regular) and ``c-priority`` (arrival rates in the proportion of
        ``cal.priority_share``; same service and patience), ordered by
        ``discipline: credit`` with the priority class's ``credit``.
    """
    if time_unit not in TIME_UNITS:
        raise ValueError(f"time_unit: expected one of {list(TIME_UNITS)}, got {time_unit!r}")
    if staffing not in ("typical", "days"):
        raise ValueError(f"staffing: expected 'typical' or 'days', got {staffing!r}")
    if capacity not in ("effective", "on_duty"):
        raise ValueError(f"capacity: expected 'effective' or 'on_duty', got {capacity!r}")
    scale = TIME_UNITS[time_unit]
    n_days = len(cal.days)
    trace = trace_dir is not None
    by_day = trace or staffing == "days"
    horizon = (n_days if by_day else 1) * DAY / scale
    desc_days = f"{n_days} {cal.day_type or 'all'} day(s)"
    out_dir = Path(trace_dir).resolve() if trace_dir is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    add_acw = (capacity == "on_duty") if after_call_work is None else bool(after_call_work)
    acw_mean = cal.acw.mean if (add_acw and cal.acw is not None) else 0.0
    acw_var = cal.acw.var if (add_acw and cal.acw is not None) else 0.0
    use_credit = cal.credit is not None and not trace
    top = min(cal.priorities.values()) if cal.priorities else 0
    low = max(cal.priorities.values()) if cal.priorities else 0

    calls = cal.calls
    # Trace time: the chosen days laid end to end, in the order observed.
    day_pos = {d: i for i, d in enumerate(cal.days)}
    classes = []
    service: dict[str, dict[str, object]] = {}
    for c in cal.classes:
        sub = calls[calls["class"] == c]
        entry: dict[str, object] = {"name": c}
        fname = _safe(c)
        split: list[tuple[str, float, int]] = [(c, 1.0, int(cal.priorities[c]))]
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
            share = cal.priority_share.get(c, 0.0)
            if use_credit and MIN_PRIORITY_SHARE <= share <= 1 - MIN_PRIORITY_SHARE:
                split = [(c, 1.0 - share, low), (c + PRIORITY_SUFFIX, share, top)]
            elif use_credit:
                split = [(c, 1.0, top if share > 0.5 else low)]
            fit = cal.service[c].best_scenario
            spec: dict[str, Any] = dict(fit.spec())
            mean_s = fit.mean + acw_mean
            if acw_mean > 0:
                sd = float(np.sqrt((fit.cv * fit.mean) ** 2 + acw_var))
                spec = {"dist": spec["dist"], "mean": mean_s, "cv": sd / mean_s}
                if spec["dist"] == "exponential":
                    spec = {"dist": "gamma", "mean": mean_s, "cv": sd / mean_s}
            svc = {
                k: (_round(v / scale) if k == "mean" else _round(v) if k == "cv" else v)
                for k, v in spec.items()
            }
            prof = cal.service_profile
            if service_by_hour and prof is not None and (prof["class"] == c).any():
                ratio = prof.loc[prof["class"] == c, "ratio"].to_numpy(float)
                svc["profile"] = {
                    "period": _round(cal.service_period / scale),
                    "means": [_round((fit.mean * r + acw_mean) / scale) for r in ratio],
                }
            for cname, _, _ in split:
                service[cname] = svc
            entry["arrivals"] = {"profile": {"period": _round(cal.period / scale), "rates": []}}
        if c in cal.patience:  # absent when nobody in the log abandoned
            if c in cal.patience_models and not trace:
                entry["patience"] = patience_spec(cal.patience_models[c], patience, scale)
            else:
                entry["patience"] = {"dist": "exponential", "mean": _round(cal.patience[c].mean / scale)}
        if trace:
            entry["priority"] = int(cal.priorities[c])
            classes.append(entry)
            continue
        rates = cal.profiles[c]["rate"].to_numpy() * scale
        for cname, frac, level in split:
            part = dict(entry, name=cname)
            part["arrivals"] = {
                "profile": {
                    "period": _round(cal.period / scale),
                    "rates": [_round(r * frac) for r in rates] * (n_days if by_day else 1),
                }
            }
            part["priority"] = int(level)
            if use_credit:
                part["credit"] = _round(float(cal.credit) / scale) if level == top else 0.0  # type: ignore[arg-type]
            classes.append(part)

    column = "effective_servers" if capacity == "effective" else "servers"
    if by_day:
        st = cal.staffing.sort_values(["day", "start"])
        pos = st["day"].map(day_pos).to_numpy()
        starts = st["start"].to_numpy() + pos * DAY
        per_slot: np.ndarray = (
            round_keeping_total(st["effective"].to_numpy())
            if capacity == "effective"
            else st["on_duty"].to_numpy()
        )
        shifts = shifts_from_staffing(
            starts, starts + cal.staffing_period, per_slot, scale=scale, horizon=horizon
        )
    else:
        ty = cal.typical
        shifts = shifts_from_staffing(
            ty["start"].to_numpy(),
            ty["end"].to_numpy(),
            ty[column].to_numpy(),
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

    distinct_priorities = len({int(c["priority"]) for c in classes}) > 1  # type: ignore[call-overload]
    discipline = "credit" if use_credit else "priority" if distinct_priorities else "fifo"
    station_spec: dict[str, object] = {
        "name": station,
        **({"servers": int(servers)} if servers is not None else {"shifts": shifts}),
        "service": service if len(service) > 1 else next(iter(service.values())),
        "discipline": discipline,
    }
    scn: dict[str, object] = {
        "name": name,
        "description": (
            f"{'Trace-driven' if trace else 'Fitted'} scenario calibrated by "
            f"simlib.calibrate from {len(calls)} calls on {desc_days}; "
            f"profile period {cal.period:g} s; capacity: {capacity.replace('_', ' ')} agents"
            f"{'; after-call work in service' if acw_mean > 0 else ''}."
        ),
        "time_unit": time_unit,
        "horizon": _round(horizon),
        "warmup": warmup,
        "classes": classes,
        "stations": [station_spec],
    }
    days_spec: dict[str, float] = {}
    if day_to_day and not trace and cal.day_cv > 0:
        days_spec["cv"] = _round(cal.day_cv)
    with_service = day_to_day if service_day_to_day is None else bool(service_day_to_day)
    if with_service and not trace and cal.service_day_cv > 0:
        days_spec = {"cv": days_spec.get("cv", 0.0), "service_cv": _round(cal.service_day_cv)}
    if days_spec:
        scn["day_to_day"] = days_spec
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
