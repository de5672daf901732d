"""Validation: does the calibrated model reproduce what the log observed, interval by interval?

A calibrated model is fitted to the *inputs* of the system (arrival rates,
service times, patience, staffing). Its *outputs* (abandonment, waiting,
service level) are predictions, and validation compares them with the
outputs the log observed over the same hours (Brown et al., 2005; Gans,
Koole & Mandelbaum, 2003). Comparing the model with data it was not fitted
to is the point: a model validated against its own simulated output proves
nothing.

The observed side (:func:`observed_intervals`) uses exactly the definitions
of the simulator's per-interval metrics (docs/metrics.md#per-interval-metrics),
computed by the interval in which each caller *arrived*:

* **admitted callers**: callers who reached the agent queue, i.e. were
  served at once or queued (``wait`` known). Callers who hung up before
  joining the queue (the bank's hang-ups in the voice-response unit, ``wait``
  NaN) are left out by default (``unqueued="exclude"``): they never asked for
  an agent, so the calibrated model should be fitted without them too
  (``unqueued="abandoned"`` counts them as abandoning at once instead);
  callers still in the system when the log ends are censored and left out;
* ``p_abandon``: abandoned ÷ admitted;
* ``mean_wait`` (seconds): mean time in queue of admitted callers (zero for
  those served at once; an abandoning caller counts the time until hanging
  up), the simulator's ``mean_wait``;
* ``service_level``: share of admitted callers whose service started within
  ``threshold`` seconds (``wait <= threshold``; abandoned callers count as
  failures however soon they hung up), the simulator's ``service_level``.

Over several days an interval's value is the *pooled* ratio (all callers of
that half-hour on the chosen days together), i.e. the average of the daily
values weighted by their callers; the day-to-day standard deviation of the
daily values is reported alongside.

The simulated side (:func:`validate`) simulates the model day by day and
builds the same pooled statistic from groups of D simulated days, D being
the number of observed days. The band is the 2.5 %-97.5 % quantile range of
that statistic over the groups, *not* a confidence interval of the simulated
mean: the question is whether the one observed D-day average is a plausible
draw from the model, and the model's prediction for one draw has the spread
of a D-day average (for a single observed day, the spread of single days),
whereas the CI of the mean shrinks to zero as replications grow and would
reject any model eventually. If the model is right, about 95 % of the
intervals should have their observation inside the band; the
:attr:`Validation.coverage` per metric is that share.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from simlib.calibrate.ingest import IngestResult
from simlib.calibrate.scenario import (
    TIME_UNITS,
    Calibration,
    as_calls,
    calibrate,
    select_days,
    to_scenario,
)
from simlib.experiments.results import Results
from simlib.experiments.runner import run
from simlib.spec.edits import set_service_level
from simlib.spec.scenario import Scenario, from_dict, load_scenario
from simlib.spec.units import DAY
from simlib.spec.validation import count, fraction

__all__ = [
    "MIN_CALLS",
    "VALIDATION_METRICS",
    "Observed",
    "out_of_sample",
    "Validation",
    "observed_intervals",
    "validate",
    "interval_difference",
]

#: Metrics compared by :func:`validate` (names of docs/metrics.md).
VALIDATION_METRICS: tuple[str, ...] = ("p_abandon", "mean_wait", "service_level")
#: Default minimum of observed admitted callers for an interval to count in the coverage.
MIN_CALLS = 50
#: Metrics measured in time (reported in seconds on both sides).
_DURATIONS = frozenset({"mean_wait", "asa"})


@dataclass(frozen=True)
class Observed:
    """Per-interval outcomes observed in a log (output of :func:`observed_intervals`).

    Attributes
    ----------
    table
        One row per interval × metric: ``start, end`` (seconds since
        midnight), ``metric``, ``value`` (pooled over the days; ``mean_wait``
        in seconds), ``daily_mean`` and ``daily_std`` (mean and standard
        deviation of the daily values, over the days with admitted callers),
        ``days_with_calls``, ``calls`` (admitted callers, all days) and
        ``arrivals`` (all callers counted, incl. excluded ones).
    daily
        The same per day: ``day, start, end, metric, value, calls``.
    period
        Interval length (seconds).
    threshold
        Service-level threshold (seconds).
    days
        Day indices pooled (0 = first day of the log).
    excluded
        Callers left out, by reason (``"unqueued"``: hung up before reaching
        the queue; ``"open"``: still in the system when the log ends).
    """

    table: pd.DataFrame
    daily: pd.DataFrame = field(repr=False)
    period: float
    threshold: float
    days: tuple[int, ...]
    excluded: Mapping[str, int]

    @property
    def n_days(self) -> int:
        """Number of days pooled."""
        return len(self.days)

    def wide(self) -> pd.DataFrame:
        """Pooled values with one column per metric: ``start, end, calls, <metrics>``."""
        w = self.table.pivot_table(index=["start", "end", "calls"], columns="metric", values="value")
        w.columns.name = None
        return w.reset_index()


def observed_intervals(
    calls_or_ingest: IngestResult | Calibration | pd.DataFrame,
    period: float = 1800.0,
    *,
    days: Sequence[int] | None = None,
    day_type: str | None = None,
    scheme: Mapping[int, str] | str = "israel",
    threshold: float = 20.0,
    unqueued: Literal["exclude", "abandoned"] = "exclude",
) -> Observed:
    """Observed abandonment share, mean wait and service level per interval of the day.

    Parameters
    ----------
    calls_or_ingest
        An :class:`IngestResult`, a :class:`Calibration` (its calls and days
        are used), a call table, or an event table (times in seconds).
    period
        Interval length (seconds); must divide a day.
    days
        Day indices to pool (default: every day left after ``day_type``).
    day_type
        Keep only days of this type (e.g. ``"weekday"``).
    scheme
        Day-type scheme, as in :func:`~simlib.calibrate.day_types`.
    threshold
        Service-level threshold (seconds): a caller whose service started
        after waiting at most this long counts as served in time.
    unqueued
        Callers who abandoned before reaching the queue (NaN ``wait``):
        ``"exclude"`` leaves them out, ``"abandoned"`` counts them as admitted
        callers who abandoned after zero wait.

    Returns
    -------
    Observed
        Pooled values per interval, the day-to-day spread, and the counts of
        excluded callers.

    Raises
    ------
    ValueError
        A bad ``period``, ``threshold`` or ``unqueued``, or no calls on the chosen days.
    """
    if not (math.isfinite(period) and period > 0) or (DAY / period) % 1:
        raise ValueError(f"period: must be a positive number of seconds dividing 86400, got {period}")
    if not (math.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold: must be a non-negative number of seconds, got {threshold}")
    if unqueued not in ("exclude", "abandoned"):
        raise ValueError(f"unqueued: expected 'exclude' or 'abandoned', got {unqueued!r}")
    if isinstance(calls_or_ingest, Calibration):
        calls = calls_or_ingest.calls
        if days is None and day_type is None:
            days = calls_or_ingest.days
    else:
        calls = as_calls(calls_or_ingest)
    calls = select_days(calls, days, day_type, scheme)
    chosen = tuple(int(d) for d in np.unique(calls["day"].to_numpy()))

    outcome = calls["outcome"].astype(str).to_numpy()
    abandoned = calls["abandoned"].to_numpy(bool)
    wait = calls["wait"].to_numpy(float)
    is_open = outcome == "open"
    blocked = outcome == "blocked"
    unq = np.isnan(wait) & abandoned & ~is_open
    if unqueued == "abandoned":
        wait = np.where(unq, 0.0, wait)
    admitted = ~np.isnan(wait) & ~is_open & ~blocked
    served = admitted & (outcome == "served")
    excluded = {"unqueued": int(unq.sum()) if unqueued == "exclude" else 0, "open": int(is_open.sum())}

    per_day = int(round(DAY / period))
    day_pos = {d: i for i, d in enumerate(chosen)}
    d_idx = calls["day"].map(day_pos).to_numpy()
    tod = calls["arrival"].to_numpy(float) - calls["day"].to_numpy() * DAY
    k = np.clip((tod // period).astype(np.int64), 0, per_day - 1)
    cell = d_idx * per_day + k
    size = len(chosen) * per_day

    def count(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = None if weights is None else weights[mask]
        return np.bincount(cell[mask], weights=w, minlength=size).reshape(len(chosen), per_day)

    n_arr = count(np.ones(len(calls), bool))
    n_adm = count(admitted)
    sums = {
        "p_abandon": count(admitted & abandoned),
        "mean_wait": count(admitted, np.where(admitted, wait, 0.0)),
        "service_level": count(served & (wait <= threshold)),
    }
    starts = np.arange(per_day) * period
    rows, daily_rows = [], []
    with np.errstate(invalid="ignore", divide="ignore"):
        for metric, s in sums.items():
            daily = s / n_adm  # NaN where a day had no admitted caller
            pooled = s.sum(axis=0) / n_adm.sum(axis=0)
            n_days_with = (n_adm > 0).sum(axis=0)
            valid = n_adm > 0
            tot = np.where(valid, daily, 0.0).sum(axis=0)
            mean_d = np.where(n_days_with > 0, tot / np.maximum(n_days_with, 1), np.nan)
            dev = np.where(valid, (daily - mean_d) ** 2, 0.0).sum(axis=0)
            std_d = np.where(n_days_with > 1, np.sqrt(dev / np.maximum(n_days_with - 1, 1)), np.nan)
            rows.append(
                pd.DataFrame(
                    {
                        "start": starts,
                        "end": starts + period,
                        "metric": metric,
                        "value": pooled,
                        "daily_mean": mean_d,
                        "daily_std": std_d,
                        "days_with_calls": n_days_with,
                        "calls": n_adm.sum(axis=0),
                        "arrivals": n_arr.sum(axis=0),
                    }
                )
            )
            daily_rows.append(
                pd.DataFrame(
                    {
                        "day": np.repeat(np.asarray(chosen), per_day),
                        "start": np.tile(starts, len(chosen)),
                        "end": np.tile(starts + period, len(chosen)),
                        "metric": metric,
                        "value": daily.ravel(),
                        "calls": n_adm.ravel(),
                    }
                )
            )
    return Observed(
        table=pd.concat(rows, ignore_index=True),
        daily=pd.concat(daily_rows, ignore_index=True),
        period=float(period),
        threshold=float(threshold),
        days=chosen,
        excluded=excluded,
    )


@dataclass(frozen=True)
class Validation:
    """Observed vs simulated outcomes per interval (output of :func:`validate`).

    Attributes
    ----------
    table
        One row per interval × metric: ``start, end`` (seconds since
        midnight), ``metric``, ``observed`` (pooled over the observed days),
        ``daily_std`` (observed day-to-day spread), ``calls`` (observed
        admitted callers), ``sim_mean`` (model's expected value of the
        D-day statistic), ``sim_std``, ``band_low, band_high`` (the
        ``level`` quantile range of the D-day statistic over simulated groups
        of D days), ``inside`` (observation within the band) and ``counted``
        (the interval enters the coverage: both sides defined and at least
        ``min_calls`` observed callers). ``mean_wait`` is in seconds.
    coverage
        Metric → share of counted intervals whose observation lies inside the band.
    scenario
        The simulated scenario (its service-level threshold is the observed one).
    results
        The simulation (every simulated day is one replication).
    observed
        The observed side.
    days_per_group
        D, the number of days each simulated statistic pools.
    groups
        Number of simulated D-day groups (the band's sample size).
    level
        Nominal content of the band (0.95: the 2.5 %-97.5 % quantiles).
    """

    table: pd.DataFrame
    coverage: pd.Series
    scenario: Scenario = field(repr=False)
    results: Results = field(repr=False)
    observed: Observed = field(repr=False)
    days_per_group: int
    groups: int
    level: float

    def summary(self) -> pd.DataFrame:
        """Per metric: ``intervals`` counted, ``inside``, ``coverage``, ``bias``
        (mean of observed − simulated mean) and ``mae`` (mean absolute error).
        """
        t = self.table[self.table["counted"]]
        g = t.assign(err=t["observed"] - t["sim_mean"]).groupby("metric", sort=False)
        out = pd.DataFrame(
            {
                "intervals": g.size(),
                "inside": g["inside"].sum().astype(int),
                "coverage": g["inside"].mean(),
                "bias": g["err"].mean(),
                "mae": g["err"].apply(lambda e: e.abs().mean()),
            }
        )
        return out.reindex([m for m in self.coverage.index if m in out.index]).reset_index()


def _with_threshold(scn: Scenario, threshold: float) -> Scenario:
    """A copy of ``scn`` whose service-level threshold is ``threshold`` (scenario units)."""
    data = scn.to_dict()
    target = scn.service_level.target if scn.service_level is not None else 0.8
    set_service_level(data, {"threshold": threshold, "target": target})
    return from_dict(data, base_dir=scn.base_dir, default_name=scn.name,
                     allow_paths=scn.allow_paths)


def _as_scenario(
    model: Calibration | Scenario | Mapping[str, Any] | str,
    observed: Observed,
    time_unit: Literal["second", "minute"],
) -> Scenario:
    if isinstance(model, Calibration):
        scale = TIME_UNITS[time_unit]
        return load_scenario(
            to_scenario(model, time_unit=time_unit, service_level_threshold=observed.threshold / scale)
        )
    scn = load_scenario(model)
    if scn.time_unit not in TIME_UNITS:
        raise ValueError(
            f"scenario time_unit: expected one of {list(TIME_UNITS)} to compare with a log, "
            f"got {scn.time_unit!r}"
        )
    return _with_threshold(scn, observed.threshold / TIME_UNITS[scn.time_unit])


def _days_per_replication(scn: Scenario) -> int:
    days = scn.horizon * TIME_UNITS[scn.time_unit] / DAY
    if days < 1 - 1e-9 or abs(days - round(days)) > 1e-6:
        raise ValueError(
            f"scenario horizon: must be a whole number of days to compare with daily "
            f"intervals, got {scn.horizon:g} {scn.time_unit}(s)"
        )
    return int(round(days))


def _simulate(
    scn: Scenario, replications: int, seed: int, interval: float, jobs: int | None
) -> Results:
    """Replications with per-interval metrics (``simlib.run`` forwards ``interval``)."""
    return run(
        scn, replications=replications, seed=seed, jobs=jobs, progress=False, interval=interval
    )


def _per_day_arrays(
    res: Results, metrics: Sequence[str], period: float, scale: float, days_per_rep: int
) -> tuple[np.ndarray, np.ndarray]:
    """Admitted counts ``[day, k]`` and metric sums ``[metric, day, k]`` of every simulated day.

    Simulated days are numbered replication by replication. A metric's sum is
    its value × admitted customers, so that days pool into exact ratios.
    """
    per_day = int(round(DAY / period))
    n_rep = res.n_replications
    adm = np.zeros((n_rep * days_per_rep, per_day))
    sums = np.zeros((len(metrics), n_rep * days_per_rep, per_day))
    for r, record in enumerate(res.records):
        for start, _end, block in record.intervals:
            t = start * scale
            day, k = divmod(int(round(t / period)), per_day)
            if day >= days_per_rep:
                continue
            m = block["system"]
            pb = m.get("p_blocked", 0.0)
            a = m["arrivals"] * (1.0 - (0.0 if math.isnan(pb) else pb))
            row = r * days_per_rep + day
            adm[row, k] = a
            for j, name in enumerate(metrics):
                v = m[name]
                if name in _DURATIONS:
                    v *= scale
                sums[j, row, k] = 0.0 if a == 0 or math.isnan(v) else v * a
    return adm, sums


def validate(
    model: Calibration | Scenario | Mapping[str, Any] | str,
    observed: Observed,
    replications: int = 40,
    seed: int = 0,
    period: float | None = None,
    *,
    level: float = 0.95,
    metrics: Sequence[str] = VALIDATION_METRICS,
    min_calls: int = MIN_CALLS,
    time_unit: Literal["second", "minute"] = "minute",
    jobs: int | None = 1,
) -> Validation:
    """Simulate the model over the observed period and compare per interval.

    The model is simulated one day per replication (the fitted scenario of
    :func:`~simlib.calibrate.to_scenario` is one typical day starting at
    midnight; a trace-driven scenario covering several days works as well).
    Simulated days are pooled in consecutive groups of D = ``observed.n_days``
    days, each group giving the same statistic as the observation (the pooled
    ratio over D days); ``replications`` is the number of such groups. The
    band is the ``level`` quantile range of that statistic over the groups:
    one observed D-day aggregate is compared with the distribution of
    simulated D-day aggregates (for D = 1, the spread of single simulated
    days), not with the confidence interval of the simulated mean, which
    shrinks with more replications and answers a different question.

    Parameters
    ----------
    model
        A :class:`Calibration` (turned into a fitted scenario in
        ``time_unit``), or a scenario (dict, :class:`~simlib.spec.scenario.Scenario`
        or YAML path) whose time unit is ``second`` or ``minute`` and whose
        time 0 is midnight of an observed day.
    observed
        Output of :func:`observed_intervals`. Its threshold (seconds) becomes
        the scenario's ``targets.service_level.threshold``, so that both sides
        measure the same service level.
    replications
        Number of simulated D-day groups (the band's sample size; 40 or more
        make the 2.5 % and 97.5 % quantiles usable).
    seed
        Root seed of the simulation (same seed, same result).
    period
        Interval length (seconds); default and only allowed value: ``observed.period``.
    level
        Content of the band (0.95: 2.5 %-97.5 % quantiles).
    metrics
        Metrics to compare (of ``p_abandon, mean_wait, service_level``).
    min_calls
        Intervals with fewer observed admitted callers (all days together)
        are shown but not counted in the coverage (default
        :data:`MIN_CALLS` = 50: a share from fewer callers is mostly noise of
        the observation, e.g. the first and last half-hours of the day).
    time_unit
        Unit of the scenario built from a :class:`Calibration`.
    jobs
        Worker processes for the simulation (see :func:`simlib.run`); the
        default 1 runs in this process (a day of the bank takes ~20 ms, so
        processes pay off only for large runs, and scripts then need an
        ``if __name__ == "__main__":`` guard).

    Returns
    -------
    Validation

    Raises
    ------
    ValueError
        Inconsistent period, unknown metric, bad counts, or a scenario whose
        horizon is not a whole number of days.
    """
    if period is not None and abs(period - observed.period) > 1e-9:
        raise ValueError(
            f"period: the observation was computed with {observed.period:g} s intervals, got {period:g}"
        )
    period = observed.period
    unknown = [m for m in metrics if m not in VALIDATION_METRICS]
    if unknown or not metrics:
        raise ValueError(f"metrics: expected some of {list(VALIDATION_METRICS)}, got {list(metrics)}")
    count("validate", "replications", replications, 2)
    fraction("validate", "level", level, low_open=True, high_open=True)
    scn = _as_scenario(model, observed, time_unit)
    scale = TIME_UNITS[scn.time_unit]
    days_per_rep = _days_per_replication(scn)
    d = observed.n_days
    if d % days_per_rep:
        raise ValueError(
            f"observed: {d} day(s) cannot be split into groups of the scenario's "
            f"{days_per_rep} day(s) per replication"
        )
    reps_per_group = d // days_per_rep
    res = _simulate(scn, replications * reps_per_group, seed, period / scale, jobs)
    adm, sums = _per_day_arrays(res, metrics, period, scale, days_per_rep)
    per_day = adm.shape[1]
    # Consecutive simulated days form the groups: group g = days [g·D, (g+1)·D).
    g_adm = adm.reshape(replications, d, per_day).sum(axis=1)
    g_sums = sums.reshape(len(metrics), replications, d, per_day).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        g_val = np.where(g_adm > 0, g_sums / g_adm, np.nan)  # [metric, group, k]

    obs = observed.table.set_index(["metric", "start"])
    starts = np.arange(per_day) * period
    alpha = 1.0 - level
    rows = []
    for j, name in enumerate(metrics):
        v = g_val[j]
        n_ok = (~np.isnan(v)).sum(axis=0)
        with np.errstate(invalid="ignore"), _quiet():
            lo = np.nanquantile(v, alpha / 2, axis=0)
            hi = np.nanquantile(v, 1 - alpha / 2, axis=0)
            mean = np.nanmean(v, axis=0)
            std = np.nanstd(v, axis=0, ddof=1)
        o = obs.loc[name].reindex(starts)
        observed_v = o["value"].to_numpy(float)
        calls = o["calls"].fillna(0).to_numpy(np.int64)
        # The band needs most groups to have customers in the interval; a band
        # from a few groups is not a 95 % band.
        defined = (n_ok >= max(2, 0.5 * replications)) & ~np.isnan(observed_v)
        inside = defined & (observed_v >= lo - 1e-12) & (observed_v <= hi + 1e-12)
        rows.append(
            pd.DataFrame(
                {
                    "start": starts,
                    "end": starts + period,
                    "metric": name,
                    "observed": observed_v,
                    "daily_std": o["daily_std"].to_numpy(float),
                    "calls": calls,
                    "sim_mean": mean,
                    "sim_std": std,
                    "band_low": lo,
                    "band_high": hi,
                    "inside": inside,
                    "counted": defined & (calls >= min_calls),
                }
            )
        )
    table = pd.concat(rows, ignore_index=True)
    counted = table[table["counted"]]
    coverage = counted.groupby("metric", sort=False)["inside"].mean().reindex(list(metrics))
    coverage.name = "coverage"
    return Validation(
        table=table,
        coverage=coverage,
        scenario=scn,
        results=res,
        observed=observed,
        days_per_group=d,
        groups=replications,
        level=level,
    )


def out_of_sample(
    log: IngestResult | pd.DataFrame,
    calibration_days: Sequence[int],
    validation_days: Sequence[int],
    *,
    replications: int = 40,
    seed: int = 0,
    period: float = 1800.0,
    threshold: float = 20.0,
    min_calls: int = MIN_CALLS,
    jobs: int | None = 1,
    scenario_options: Mapping[str, Any] | None = None,
    **calibrate_options: Any,
) -> Validation:
    """Calibrate on some days, validate on other days: the out-of-sample protocol.

    :func:`~simlib.calibrate.calibrate` sees only ``calibration_days``; the
    observation (:func:`observed_intervals`) only ``validation_days``; the
    two must be disjoint (a model checked on the days it was fitted to
    proves little). The scenario is :func:`~simlib.calibrate.to_scenario`
    with its defaults (or ``scenario_options``), simulated by :func:`validate`,
    except that ``staffing="days"`` is the default when the number of
    validation days is a multiple of the calibration days: the calibration
    days are simulated end to end, each with its own observed staffing, so the
    band carries the day-to-day variation of staffing (simulating one average
    day instead is optimistic, because waiting is convex in capacity).

    Parameters
    ----------
    log
        An ingested log or a call table (seconds).
    calibration_days, validation_days
        Day indices (0 = first day of the log), disjoint.
    replications, seed, min_calls, jobs
        As in :func:`validate`.
    period, threshold
        Interval length and service-level threshold of the observation (seconds).
    scenario_options
        Keyword arguments of :func:`~simlib.calibrate.to_scenario`.
    **calibrate_options
        Keyword arguments of :func:`~simlib.calibrate.calibrate` (e.g. ``service_min``).

    Returns
    -------
    Validation
    """
    cal_days = sorted({int(d) for d in calibration_days})
    val_days = sorted({int(d) for d in validation_days})
    both = sorted(set(cal_days) & set(val_days))
    if both:
        raise ValueError(f"validation_days: day(s) {both} are also calibration days; use disjoint days")
    if not cal_days or not val_days:
        raise ValueError("calibration_days/validation_days: need at least one day each")
    cal = calibrate(log, days=cal_days, **calibrate_options)
    obs = observed_intervals(log, period, days=val_days, threshold=threshold)
    scale = TIME_UNITS["minute"]
    options = dict(scenario_options or {})
    # Each calibration day staffed as observed, when the validation days fill whole groups of them.
    options.setdefault("staffing", "days" if len(val_days) % len(cal.days) == 0 else "typical")
    scn = to_scenario(cal, service_level_threshold=threshold / scale, **options)
    return validate(scn, obs, replications=replications, seed=seed, min_calls=min_calls, jobs=jobs)


class _quiet:
    """Silence numpy's "all-NaN slice" warnings (empty night intervals are expected)."""

    def __enter__(self) -> None:
        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)


def interval_difference(
    base: Scenario | Mapping[str, Any] | str,
    variant: Scenario | Mapping[str, Any] | str,
    replications: int = 40,
    seed: int = 0,
    period: float = 1800.0,
    *,
    metrics: Sequence[str] = ("p_abandon", "mean_wait"),
    level: float = 0.95,
    jobs: int | None = 1,
) -> pd.DataFrame:
    """Per-interval effect of a what-if: variant − base with common random numbers.

    Both scenarios are simulated with the same root seed, so replication r of
    each sees the same arrivals, service times and patience
    (docs/architecture.md#randomness-and-reproducibility); the difference of a
    metric is taken replication by replication and summarised with a paired t-interval, which is far
    narrower than comparing two independent runs.

    Parameters
    ----------
    base, variant
        Scenarios with the same time unit (``second`` or ``minute``).
    replications
        Simulated days (replications) of each scenario.
    seed
        Root seed shared by both.
    period
        Interval length (seconds).
    metrics
        Metric names of docs/metrics.md (system scope).
    level
        Confidence level of the paired interval.
    jobs
        Worker processes (see :func:`simlib.run`); 1 (default) runs in this process.

    Returns
    -------
    pandas.DataFrame
        ``start, end`` (seconds from the start of the observed window),
        ``metric, base, variant, diff, ci_low, ci_high, n``; durations in seconds.
    """
    a, b = load_scenario(base), load_scenario(variant)
    if a.time_unit != b.time_unit or a.time_unit not in TIME_UNITS:
        raise ValueError(
            f"base/variant: need the same time unit, second or minute; got {a.time_unit!r} and {b.time_unit!r}"
        )
    count("interval_difference", "replications", replications, 2)
    scale = TIME_UNITS[a.time_unit]
    ra = _simulate(a, replications, seed, period / scale, jobs)
    rb = _simulate(b, replications, seed, period / scale, jobs)
    rows = []
    for i, (start, end, _) in enumerate(ra.records[0].intervals):
        for name in metrics:
            f = scale if name in _DURATIONS else 1.0
            xa = np.array([r.intervals[i].metrics["system"][name] for r in ra.records]) * f
            xb = np.array([r.intervals[i].metrics["system"][name] for r in rb.records]) * f
            ok = ~np.isnan(xa) & ~np.isnan(xb)
            dlt = xb[ok] - xa[ok]
            n = int(ok.sum())
            if n >= 2:
                half = stats.t.ppf(0.5 + level / 2, n - 1) * dlt.std(ddof=1) / math.sqrt(n)
                mean_d = float(dlt.mean())
            else:
                half, mean_d = math.nan, (float(dlt[0]) if n == 1 else math.nan)
            rows.append(
                (
                    start * scale,
                    end * scale,
                    name,
                    float(np.nanmean(xa)) if (~np.isnan(xa)).any() else math.nan,
                    float(np.nanmean(xb)) if (~np.isnan(xb)).any() else math.nan,
                    mean_d,
                    mean_d - half,
                    mean_d + half,
                    n,
                )
            )
    return pd.DataFrame(
        rows, columns=["start", "end", "metric", "base", "variant", "diff", "ci_low", "ci_high", "n"]
    )
