"""Service-time fitting by maximum likelihood.

Four positive distributions are fitted by maximum likelihood with
:mod:`scipy.stats` (location fixed at 0): lognormal, gamma, exponential and
Weibull. They are compared by AIC (``2·k − 2·log L``, ``k`` the number of
free parameters); the Kolmogorov–Smirnov statistic against the fitted
distribution is reported as a measure of fit (its p-value would be too
optimistic because the parameters were estimated from the same data, so none
is given). Brown et al. (2005) found call-centre service times close to
lognormal; the bank data bear this out.

Durations of zero cannot be fitted by the continuous positive distributions
(the lognormal and Weibull likelihoods vanish or diverge there); they are
dropped and counted (the bank log records seconds, and has 85 zero services).

Beyond one law per class, services vary by time of day (:func:`service_profile`)
and by day (:func:`service_day_cv`): the mean of a whole day's calls moves more
than the sampling noise of its calls explains, as arrival counts do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "DISTS",
    "SCENARIO_DISTS",
    "DistFit",
    "ServiceFit",
    "fit_service",
    "fit_service_by_class",
    "service_day_cv",
    "service_profile",
    "SHRINK_K",
]

#: Candidate distributions: name → scipy.stats family.
DISTS: Mapping[str, stats.rv_continuous] = {
    "lognormal": stats.lognorm,
    "gamma": stats.gamma,
    "exponential": stats.expon,
    "weibull": stats.weibull_min,
}

#: Fitted families a scenario ``service`` entry can express (it has no Weibull).
SCENARIO_DISTS = ("lognormal", "gamma", "exponential")


@dataclass(frozen=True)
class DistFit:
    """One fitted distribution.

    Attributes
    ----------
    dist
        Name (``lognormal``, ``gamma``, ``exponential``, ``weibull``).
    params
        scipy.stats shape/scale parameters (location is 0), e.g. ``{"s": …, "scale": …}``.
    loglik, aic, ks
        Log-likelihood, AIC, and KS statistic against the data.
    mean, cv
        Mean (seconds, or the unit of the data) and coefficient of variation of
        the fitted distribution.
    """

    dist: str
    params: Mapping[str, float]
    loglik: float
    aic: float
    ks: float
    mean: float
    cv: float

    def frozen(self) -> stats.rv_continuous:
        """The fitted scipy.stats distribution (e.g. for ``ppf`` in QQ plots)."""
        return DISTS[self.dist](**self.params)

    def spec(self) -> dict[str, object]:
        """The scenario distribution dict: ``{dist, mean}`` or ``{dist, mean, cv}``.

        The forms are in docs/scenario.md#distributions.

        Raises
        ------
        ValueError
            For the Weibull, which the scenario format has no entry for.
        """
        if self.dist == "exponential":
            return {"dist": "exponential", "mean": self.mean}
        if self.dist in SCENARIO_DISTS:
            return {"dist": self.dist, "mean": self.mean, "cv": self.cv}
        raise ValueError(f"{self.dist}: not a §Scenario distribution; use one of {SCENARIO_DISTS}")


@dataclass(frozen=True)
class ServiceFit:
    """Result of :func:`fit_service`.

    Attributes
    ----------
    best
        Name of the distribution with the smallest AIC.
    table
        One row per distribution: ``dist, aic, loglik, ks, mean, cv, n,
        params`` sorted by AIC.
    fits
        Name → :class:`DistFit`.
    n
        Durations fitted.
    n_dropped
        Durations dropped (zero, or below ``min_duration``).
    data
        The fitted durations, sorted (for QQ plots).
    """

    best: str
    table: pd.DataFrame
    fits: Mapping[str, DistFit]
    n: int
    n_dropped: int
    data: np.ndarray = field(repr=False)

    @property
    def best_fit(self) -> DistFit:
        """The :class:`DistFit` of :attr:`best`."""
        return self.fits[self.best]

    @property
    def best_scenario(self) -> DistFit:
        """The best fit (by AIC) among the families the scenario format can express."""
        for name in self.table["dist"]:
            if name in SCENARIO_DISTS:
                return self.fits[name]
        raise ValueError(f"none of {list(self.table['dist'])} is a §Scenario distribution")


def _fit_one(name: str, x: np.ndarray, logx: np.ndarray) -> DistFit:
    if name == "lognormal":
        # Closed-form MLE: mean and (biased) sd of log x.
        mu, s = float(logx.mean()), float(logx.std())
        params = {"s": s, "scale": float(np.exp(mu))}
    elif name == "exponential":
        params = {"scale": float(x.mean())}
    elif name == "gamma":
        a, _, scale = stats.gamma.fit(x, floc=0)
        params = {"a": float(a), "scale": float(scale)}
    else:
        c, _, scale = stats.weibull_min.fit(x, floc=0)
        params = {"c": float(c), "scale": float(scale)}
    dist = DISTS[name](**params)
    loglik = float(dist.logpdf(x).sum())
    k = len(params)
    mean, var = (float(v) for v in dist.stats(moments="mv"))
    # KS statistic of the sorted sample (the p-value is not used: parameters are fitted).
    cdf = dist.cdf(x)
    n = x.size
    ks = float(max((np.arange(1, n + 1) / n - cdf).max(), (cdf - np.arange(n) / n).max()))
    return DistFit(
        dist=name,
        params=params,
        loglik=loglik,
        aic=2 * k - 2 * loglik,
        ks=ks,
        mean=mean,
        cv=float(np.sqrt(var) / mean),
    )


def _as_durations(durations: Any) -> np.ndarray:
    """``durations`` as a flat float array, or a one-line error naming the bad values."""
    try:
        return np.asarray(durations, dtype=float).ravel()
    except (TypeError, ValueError):
        pass
    bad = []
    try:
        values = np.asarray(durations, dtype=object).ravel()
    except ValueError:
        values = np.array([], dtype=object)  # ragged nesting: reported below
    for v in values:
        try:
            float(v)
        except (TypeError, ValueError):
            bad.append(v)
    if not bad:  # ragged input: not one flat sequence of numbers
        raise ValueError("durations: must be a flat sequence of numbers") from None
    raise ValueError(f"durations: {len(bad)} value(s) are not numbers, e.g. {bad[:3]!r}") from None


def fit_service(
    durations: Sequence[float] | np.ndarray,
    dists: Sequence[str] = tuple(DISTS),
    *,
    min_duration: float = 0.0,
) -> ServiceFit:
    """Fit service-time distributions by maximum likelihood and rank them by AIC.

    Parameters
    ----------
    durations
        Service times (seconds, or any unit: the fitted means are in the same
        unit). NaN values are ignored; zeros are dropped and counted.
    dists
        Candidates among ``lognormal, gamma, exponential, weibull``.
    min_duration
        Durations below this (same unit) are dropped and counted with the
        zeros, e.g. 10 s to set aside the spike of very short bank calls that
        Brown et al. (2005) treat separately. Default 0: only zeros are dropped.

    Returns
    -------
    ServiceFit
        ``.best`` (name), ``.table`` (``dist, aic, …``), ``.fits``.

    Raises
    ------
    ValueError
        Non-numeric or negative durations, fewer than 2 positive durations,
        or an unknown distribution name.
    """
    unknown = [d for d in dists if d not in DISTS]
    if unknown or not dists:
        raise ValueError(f"dists: unknown {unknown}; choose from {list(DISTS)}")
    x = _as_durations(durations)
    x = x[~np.isnan(x)]
    neg = x < 0
    if neg.any():
        raise ValueError(
            f"durations: {int(neg.sum())} negative value(s), e.g. {x[neg][:3].tolist()}"
        )
    if np.isinf(x).any():
        raise ValueError("durations: must be finite")
    keep = (x > 0) & (x >= min_duration)
    n_zero = int((~keep).sum())
    x = np.sort(x[keep])
    if x.size < 2 or np.ptp(x) == 0:
        raise ValueError(
            f"durations: need at least 2 distinct positive values, got {x.size} value(s)"
        )
    logx = np.log(x)
    fits = {name: _fit_one(name, x, logx) for name in dists}
    table = (
        pd.DataFrame(
            [
                {
                    "dist": f.dist,
                    "aic": f.aic,
                    "loglik": f.loglik,
                    "ks": f.ks,
                    "mean": f.mean,
                    "cv": f.cv,
                    "n": int(x.size),
                    "params": dict(f.params),
                }
                for f in fits.values()
            ]
        )
        .sort_values("aic", kind="stable")
        .reset_index(drop=True)
    )
    return ServiceFit(
        best=str(table["dist"].iloc[0]),
        table=table,
        fits=fits,
        n=int(x.size),
        n_dropped=n_zero,
        data=x,
    )


def fit_service_by_class(
    calls: pd.DataFrame, *, min_n: int = 30, dists: Sequence[str] = tuple(DISTS)
) -> dict[str, ServiceFit]:
    """Fit service times per customer class (see :func:`fit_service`).

    Parameters
    ----------
    calls
        Call table with ``class`` and ``service`` (seconds).
    min_n
        Classes with fewer positive service times get the pooled fit (all
        classes together), so that a rare class does not get a wild estimate.
    dists
        Candidate distributions.

    Returns
    -------
    dict
        Class name → :class:`ServiceFit`; the key ``"*"`` holds the pooled fit.
    """
    service = calls["service"].to_numpy(dtype=float)
    pooled = fit_service(service, dists)
    out: dict[str, ServiceFit] = {"*": pooled}
    for cls, sub in calls.groupby("class", sort=True, observed=True):
        s = sub["service"].to_numpy(dtype=float)
        n_pos = int((s > 0).sum())
        out[str(cls)] = fit_service(s, dists) if n_pos >= min_n else pooled
    return out


#: Default shrinkage constant of :func:`service_profile`: a cell with ``n``
#: services gets weight ``n / (n + SHRINK_K)`` on its own mean.
SHRINK_K = 50.0


def service_profile(
    calls: pd.DataFrame,
    period: float = 3600.0,
    *,
    k: float = SHRINK_K,
    min_duration: float = 0.0,
) -> pd.DataFrame:
    """Mean service time per class and interval of the day, shrunk towards the class mean.

    Services are placed in the interval in which they *start* (the engine's
    time-varying service draws a service's mean at its start). A cell with
    ``n`` services has sample mean ``m_ck``; its estimate is
    ``w·m_ck + (1 − w)·m_c`` with ``w = n / (n + k)``, ``m_c`` the class's
    sample mean (a sparse cell stays near its class, an empty one equals it).
    ``ratio`` = estimate ÷ ``m_c`` scales the class's fitted distribution.

    Parameters
    ----------
    calls
        Call table (``class, day, service_start, service``; seconds).
    period
        Interval length (seconds); must divide 86,400.
    k
        Shrinkage constant (services), >= 0 (0: no shrinkage).
    min_duration
        Services below this (seconds) are left out, as in :func:`fit_service`.

    Returns
    -------
    pandas.DataFrame
        ``class, start, end, n, sample_mean, weight, mean, ratio``.
    """
    if not np.isfinite(period) or period <= 0 or (86_400.0 / period) % 1:
        raise ValueError(f"period: must be a positive number of seconds dividing 86400, got {period}")
    if not np.isfinite(k) or k < 0:
        raise ValueError(f"k: must be a non-negative number of services, got {k}")
    s = calls["service"].to_numpy(float)
    ok = np.isfinite(s) & (s > 0) & (s >= min_duration) & calls["service_start"].notna().to_numpy()
    sub = calls.loc[ok]
    per_day = int(round(86_400.0 / period))
    tod = sub["service_start"].to_numpy(float) - sub["day"].to_numpy() * 86_400.0
    slot = np.clip((tod // period).astype(np.int64), 0, per_day - 1)
    out = []
    for cls in sorted(map(str, sub["class"].unique())):
        sel = (sub["class"].astype(str) == cls).to_numpy()
        x = s[ok][sel]
        m_c = float(x.mean())
        n = np.bincount(slot[sel], minlength=per_day).astype(float)
        tot = np.bincount(slot[sel], weights=x, minlength=per_day)
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = np.where(n > 0, tot / np.maximum(n, 1), np.nan)
        w = n / (n + k) if k > 0 else (n > 0).astype(float)
        est = np.where(n > 0, w * np.nan_to_num(raw) + (1 - w) * m_c, m_c)
        starts = np.arange(per_day) * period
        out.append(
            pd.DataFrame(
                {
                    "class": cls,
                    "start": starts,
                    "end": starts + period,
                    "n": n.astype(np.int64),
                    "sample_mean": raw,
                    "weight": w,
                    "mean": est,
                    "ratio": est / m_c,
                }
            )
        )
    cols = ["class", "start", "end", "n", "sample_mean", "weight", "mean", "ratio"]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)


def service_day_cv(
    calls: pd.DataFrame,
    days: Sequence[int] | None = None,
    *,
    period: float = 3600.0,
    k: float = SHRINK_K,
    min_duration: float = 0.0,
) -> float:
    """Coefficient of variation of a day-level service multiplier, from daily mean services.

    Each service is divided by its class's mean at the hour it started
    (:func:`service_profile` with ``period`` and ``k``), so that a day's class
    and hour mix do not count as day-to-day variation. If every service of day
    ``d`` is scaled by a multiplier of mean 1 and coefficient of variation
    ``v``, the day's mean ratio ``r_d`` has variance ``v²·r̄² + E[s_d²/n_d]``
    (``s_d²`` the day's within-day variance of the ratios, ``n_d`` its
    services). Hence ``v² = (Var(r_d) − mean(s_d²/n_d)) / r̄²``, floored at 0:
    days no more dispersed than their calls' sampling noise need no multiplier.

    Parameters
    ----------
    calls
        Call table (``class, day, service_start, service``; seconds).
    days
        Days to use (default: every day with services).
    period, k, min_duration
        As in :func:`service_profile`.

    Returns
    -------
    float
        ``v`` (0 with fewer than two days with at least two services).
    """
    if days is not None:
        calls = calls[calls["day"].isin([int(d) for d in days])]
    s = calls["service"].to_numpy(float)
    ok = np.isfinite(s) & (s > 0) & (s >= min_duration) & calls["service_start"].notna().to_numpy()
    sub = calls.loc[ok]
    if len(sub) == 0:
        return 0.0
    prof = service_profile(sub, period, k=k, min_duration=min_duration)
    per_day = int(round(86_400.0 / period))
    tod = sub["service_start"].to_numpy(float) - sub["day"].to_numpy() * 86_400.0
    slot = np.clip((tod // period).astype(np.int64), 0, per_day - 1)
    expected = prof.set_index(["class", "start"])["mean"]
    keys = pd.MultiIndex.from_arrays([sub["class"].astype(str).to_numpy(), slot * period])
    ratio = s[ok] / expected.reindex(keys).to_numpy(float)
    g = pd.DataFrame({"day": sub["day"].to_numpy(), "r": ratio}).groupby("day")["r"].agg(
        ["mean", "var", "size"])
    g = g[g["size"] >= 2]
    if len(g) < 2:
        return 0.0
    between = float(g["mean"].var(ddof=1))
    noise = float((g["var"] / g["size"]).mean())
    centre = float(g["mean"].mean())
    return float(np.sqrt(max((between - noise) / centre**2, 0.0)))
