"""Arrival-rate profiles and tests of the Poisson assumption.

Call-centre arrivals are well described by an *inhomogeneous* Poisson process
whose rate varies over the day and with the type of day (Brown et al., 2005,
"Statistical analysis of a telephone call center: a queueing-science
perspective", JASA 100(469):36-50). We estimate a piecewise-constant rate:
the number of arrivals in an interval of length ``period``, pooled over the
days observed, divided by ``period × days``. The confidence band is the exact
(Garwood) Poisson interval for the pooled count.

Two checks of the Poisson assumption are offered:

* **Conditional uniformity / Brown et al. (2005) test.** Within short blocks
  (e.g. 6 minutes) of each day the rate is taken as constant. Given the
  number of arrivals in a block, Poisson arrival times are then i.i.d.
  uniform on the block; Brown et al. transform the ordered times
  ``T_(1) < … < T_(k)`` in a block of length ``L`` into
  ``R_j = (k + 1 - j) · (−log((L − T_(j)) / (L − T_(j−1))))``, which are
  i.i.d. standard exponential under the null, and test them with a
  Kolmogorov–Smirnov test. Times recorded to the second are de-tied by adding
  uniform noise on one second first (as Brown et al. did); the noise is drawn
  from a seeded generator.
* **Dispersion of daily counts.** For a Poisson process the number of
  arrivals per day (within a day type) has variance equal to its mean; the
  index of dispersion ``var/mean`` and the chi-square test
  ``(n−1)·var/mean ~ χ²(n−1)`` show the over-dispersion typical of real call
  centres (the daily rate itself is random).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from simlib.spec.units import DAY
from simlib.spec.validation import count, fraction

__all__ = [
    "arrival_profile",
    "profile_by_day_type",
    "day_types",
    "PoissonTest",
    "poisson_test",
    "Dispersion",
    "daily_dispersion",
    "day_to_day_cv",
    "ISRAEL_DAY_TYPES",
    "WESTERN_DAY_TYPES",
]


#: Day types of the bank: Sunday-Thursday are working days (Brown et al., 2005).
ISRAEL_DAY_TYPES: Mapping[int, str] = {
    6: "weekday",
    0: "weekday",
    1: "weekday",
    2: "weekday",
    3: "weekday",
    4: "friday",
    5: "saturday",
}
#: Monday-Friday working days, Saturday, Sunday (keys: Monday = 0).
WESTERN_DAY_TYPES: Mapping[int, str] = {
    0: "weekday",
    1: "weekday",
    2: "weekday",
    3: "weekday",
    4: "weekday",
    5: "saturday",
    6: "sunday",
}


def day_types(
    dates: pd.Series | Sequence[object] | np.ndarray, scheme: Mapping[int, str] | str = "israel"
) -> np.ndarray:
    """Label dates by day type.

    Parameters
    ----------
    dates
        Calendar dates.
    scheme
        ``"israel"`` (:data:`ISRAEL_DAY_TYPES`), ``"western"``
        (:data:`WESTERN_DAY_TYPES`), ``"weekday-name"`` (``Mon`` … ``Sun``) or a
        mapping from :attr:`pandas.Timestamp.dayofweek` (Monday = 0) to a label.

    Returns
    -------
    numpy.ndarray
        One label per date.
    """
    dow = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates))).dayofweek.to_numpy()
    if isinstance(scheme, str):
        if scheme == "israel":
            scheme = ISRAEL_DAY_TYPES
        elif scheme == "western":
            scheme = WESTERN_DAY_TYPES
        elif scheme == "weekday-name":
            scheme = dict(enumerate(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]))
        else:
            raise ValueError(
                f"scheme: expected 'israel', 'western', 'weekday-name' or a mapping, got {scheme!r}"
            )
    missing = sorted(set(range(7)) - set(scheme))
    if missing:
        raise ValueError(f"scheme: no label for day(s) of week {missing} (Monday = 0)")
    lut = np.array([scheme[i] for i in range(7)], dtype=object)
    return lut[dow]


def _check_period(period: float) -> None:
    if not np.isfinite(period) or period <= 0:
        raise ValueError(f"period: must be a positive number of seconds, got {period}")


def arrival_profile(
    times: Sequence[float] | np.ndarray, period: float, days: int = 1, *, level: float = 0.95
) -> pd.DataFrame:
    """Piecewise-constant arrival rate over the day with Poisson confidence bands.

    Parameters
    ----------
    times
        Arrival times in seconds since midnight, in ``[0, 86400)``, pooled over
        ``days`` days.
    period
        Interval length (seconds). Intervals run from 0 to 86,400; when
        ``period`` does not divide a day the last one is shorter.
    days
        Number of days the times are pooled over.
    level
        Confidence level of the band.

    Returns
    -------
    pandas.DataFrame
        One row per interval: ``start, end`` (seconds), ``count`` (pooled
        arrivals), ``rate, ci_low, ci_high`` (arrivals per second, averaged
        over the days; exact Poisson interval).

    Raises
    ------
    ValueError
        Non-positive ``period`` or ``days``, or times outside ``[0, 86400)``.
    """
    _check_period(period)
    count("arrival_profile", "days", days, whole_floats=True)
    fraction("arrival_profile", "level", level, low_open=True, high_open=True)
    t = np.asarray(times, dtype=float).ravel()
    bad = ~np.isfinite(t) | (t < 0) | (t >= DAY)
    if bad.any():
        raise ValueError(
            f"times: {int(bad.sum())} value(s) outside [0, 86400) seconds since "
            f"midnight, e.g. {t[bad][:3].tolist()}"
        )
    starts = np.arange(0.0, DAY, period)
    ends = np.minimum(starts + period, DAY)
    counts = np.bincount((t // period).astype(np.int64), minlength=len(starts))[: len(starts)]
    exposure = (ends - starts) * days
    a = 1.0 - level
    # Exact (Garwood) Poisson interval for a count k: chi-square quantiles / 2.
    lo = np.where(counts > 0, stats.chi2.ppf(a / 2, 2 * counts) / 2, 0.0)
    hi = stats.chi2.ppf(1 - a / 2, 2 * counts + 2) / 2
    return pd.DataFrame(
        {
            "start": starts,
            "end": ends,
            "count": counts,
            "rate": counts / exposure,
            "ci_low": lo / exposure,
            "ci_high": hi / exposure,
        }
    )


def profile_by_day_type(
    calls: pd.DataFrame,
    period: float,
    *,
    scheme: Mapping[int, str] | str = "israel",
    level: float = 0.95,
) -> pd.DataFrame:
    """Arrival-rate profile per day type from a call table.

    Parameters
    ----------
    calls
        Call table (``arrival`` in seconds since midnight of day 0, ``date``).
    period
        Interval length (seconds).
    scheme
        Day-type scheme (see :func:`day_types`).
    level
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        Columns ``day_type, days, start, end, count, rate, ci_low, ci_high,
        sd_days`` (rates per second); ``sd_days`` is the standard deviation of
        the daily rates in the interval, a band that includes day-to-day
        variation (wider than the Poisson band when counts are over-dispersed).
    """
    day = calls["day"].to_numpy()
    tod = calls["arrival"].to_numpy() - day * DAY
    # Arrivals after midnight of a call dated the previous day stay on their day.
    tod = np.clip(tod, 0.0, np.nextafter(DAY, 0))
    dates = _dates_of(calls)
    labels = day_types(dates, scheme)
    out = []
    n_int = len(np.arange(0.0, DAY, period))
    for label in sorted(set(labels)):
        sel = labels == label
        sel_days = np.unique(day[sel])
        prof = arrival_profile(tod[sel], period, days=len(sel_days), level=level)
        per_day = np.zeros((len(sel_days), n_int))
        di = np.searchsorted(sel_days, day[sel])
        np.add.at(per_day, (di, (tod[sel] // period).astype(np.int64)), 1.0)
        width = (prof["end"] - prof["start"]).to_numpy()
        sd = (per_day / width).std(axis=0, ddof=1) if len(sel_days) > 1 else np.full(n_int, np.nan)
        prof.insert(0, "days", len(sel_days))
        prof.insert(0, "day_type", label)
        prof["sd_days"] = sd
        out.append(prof)
    return pd.concat(out, ignore_index=True)


def _dates_of(calls: pd.DataFrame) -> np.ndarray:
    if "date" in calls.columns and calls["date"].notna().all():
        return calls["date"].to_numpy()
    # Plain-seconds logs: day 0 is a nominal Monday.
    return (
        pd.Timestamp("2001-01-01") + pd.to_timedelta(calls["day"].to_numpy(), unit="D")
    ).to_numpy()


@dataclass(frozen=True)
class PoissonTest:
    """Result of :func:`poisson_test`.

    Attributes
    ----------
    block
        Block length (seconds) within which the rate is taken as constant.
    n_blocks
        Blocks with at least one arrival.
    n
        Transformed values tested.
    ks_exponential, p_exponential
        KS statistic and p-value of the Brown et al. transformed values against
        the standard exponential.
    ks_uniform, p_uniform
        KS statistic and p-value of the within-block positions against U(0, 1).
    """

    block: float
    n_blocks: int
    n: int
    ks_exponential: float
    p_exponential: float
    ks_uniform: float
    p_uniform: float


def poisson_test(
    times: Sequence[float] | np.ndarray,
    block: float = 360.0,
    *,
    jitter: bool = True,
    seed: int | np.random.Generator = 0,
) -> PoissonTest:
    """Test that arrivals are Poisson with a constant rate within blocks.

    Parameters
    ----------
    times
        Arrival times in seconds since the start of observation (days laid end
        to end, e.g. the ``arrival`` column of a call table).
    block
        Block length (seconds); Brown et al. (2005) use 6-minute blocks.
    jitter
        Add U(0, 1) s to each time to break ties of times recorded to the second.
    seed
        Seed or generator for the jitter (no global random state).

    Returns
    -------
    PoissonTest
        KS statistics and p-values (the null: Poisson within blocks).
    """
    _check_period(block)
    t = np.asarray(times, dtype=float).ravel()
    if not np.isfinite(t).all():
        raise ValueError("times: must be finite")
    if t.size < 2:
        raise ValueError(f"times: need at least 2 arrivals, got {t.size}")
    if jitter:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        t = t + rng.uniform(0.0, 1.0, t.size)
    t = np.sort(t)
    b = np.floor(t / block).astype(np.int64)
    u = t / block - b  # position within the block, in [0, 1)
    # Rank within block (1-based) and block sizes, vectorised.
    new = np.r_[True, b[1:] != b[:-1]]
    grp = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    j = np.arange(t.size) - first[grp] + 1
    k = np.bincount(grp)[grp]
    prev = np.where(new, 0.0, np.r_[0.0, u[:-1]])
    with np.errstate(divide="ignore"):
        r = (k + 1 - j) * -np.log((1.0 - u) / (1.0 - prev))
    r = r[np.isfinite(r)]
    ks_e = stats.kstest(r, "expon")
    ks_u = stats.kstest(u, "uniform")
    return PoissonTest(
        block=float(block),
        n_blocks=int(first.size),
        n=int(r.size),
        ks_exponential=float(ks_e.statistic),
        p_exponential=float(ks_e.pvalue),
        ks_uniform=float(ks_u.statistic),
        p_uniform=float(ks_u.pvalue),
    )


@dataclass(frozen=True)
class Dispersion:
    """Dispersion of daily arrival counts within one day type.

    Attributes
    ----------
    day_type
        The label.
    days
        Number of days.
    mean, var
        Mean and variance (ddof=1) of the daily counts (arrivals per day).
    index
        ``var / mean``: 1 for Poisson counts, above 1 when over-dispersed.
    p_value
        One-sided p-value of ``(days−1)·index ~ χ²(days−1)`` against over-dispersion.
    """

    day_type: str
    days: int
    mean: float
    var: float
    index: float
    p_value: float


def daily_dispersion(
    calls: pd.DataFrame, *, scheme: Mapping[int, str] | str = "israel"
) -> list[Dispersion]:
    """Index of dispersion of the number of arrivals per day, per day type.

    Parameters
    ----------
    calls
        Call table with ``day`` and ``date``.
    scheme
        Day-type scheme (see :func:`day_types`).

    Returns
    -------
    list of Dispersion
        One per day type with at least two days.
    """
    day = calls["day"].to_numpy()
    days, counts = np.unique(day, return_counts=True)
    first_date = pd.Series(_dates_of(calls)).groupby(day).first().loc[days].to_numpy()
    labels = day_types(first_date, scheme)
    out = []
    for label in sorted(set(labels)):
        c = counts[labels == label].astype(float)
        if c.size < 2:
            continue
        mean, var = float(c.mean()), float(c.var(ddof=1))
        index = var / mean
        p = float(stats.chi2.sf((c.size - 1) * index, c.size - 1))
        out.append(Dispersion(label, int(c.size), mean, var, index, p))
    return out


def day_to_day_cv(calls: pd.DataFrame, days: Sequence[int] | None = None) -> float:
    """Coefficient of variation of a gamma day-level arrival multiplier, from daily counts.

    If each day's arrivals are Poisson with a rate scaled by a random
    multiplier of mean 1 and coefficient of variation ``v``, the daily counts
    have mean ``m`` and variance ``m + v²·m²`` (gamma-Poisson). Hence
    ``v² = (Var − m) / m²``, floored at 0 (counts no more dispersed than
    Poisson need no multiplier).

    Parameters
    ----------
    calls
        Call table (``day``).
    days
        Days to use (default: every day of ``calls``; days without calls
        count as zero).

    Returns
    -------
    float
        ``v`` (0 with fewer than two days).
    """
    day = calls["day"].to_numpy()
    chosen = np.unique(day) if days is None else np.asarray(sorted({int(d) for d in days}))
    if chosen.size < 2:
        return 0.0
    counts = np.array([(day == d).sum() for d in chosen], dtype=float)
    m, var = float(counts.mean()), float(counts.var(ddof=1))
    if m <= 0:
        return 0.0
    return float(np.sqrt(max((var - m) / (m * m), 0.0)))
