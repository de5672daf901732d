"""Customer patience estimated from censored waiting times.

A caller who hangs up after waiting ``w`` reveals their patience: it was
``w``. A caller who was served after waiting ``w`` reveals only that their
patience exceeded ``w`` (a right-censored observation). Ignoring the
censoring - averaging the waits of those who abandoned - badly underestimates
patience, because the patient callers are exactly the ones who got served.

* **Kaplan–Meier** (Kaplan & Meier, 1958, "Nonparametric estimation from
  incomplete observations", JASA 53:457-481) estimates the survival function
  of patience ``P(patience > t)`` from such data without assuming a shape;
  we use the maintained implementation of :mod:`lifelines`.
* **Exponential MLE.** If patience is exponential with mean ``θ``, the
  likelihood of abandonments (density) and services (survival) gives
  ``θ̂ = (total waiting time of all callers who queued) / (number of
  abandonments)``. Its confidence interval treats ``2·W/θ`` as χ² with
  ``2·r`` degrees of freedom (exact under type-II censoring, a good
  approximation here).
* **Hazard.** The abandonment hazard per unit of waiting time, estimated on
  bins as abandonments ÷ time at risk (the piecewise-constant MLE); a flat
  hazard supports the exponential model. Mandelbaum & Zeltyn ("Staffing
  many-server queues with impatient customers", 2004/2009, and Zeltyn &
  Mandelbaum, "Call centers with impatient customers", Queueing Systems
  51, 2005) discuss its shape in the bank data.
* **Erlang-A relation.** With exponential patience of mean ``θ``,
  ``P(abandon) = E[wait] / θ`` exactly (wait of all callers, the abandoned
  ones counting their time to abandon). :func:`erlang_a_check` compares the
  two per interval of the day, as in Brown et al. (2005, Fig. 12).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from simlib.spec.units import DAY
from simlib.spec.validation import positive

__all__ = [
    "PATIENCE_FAMILIES",
    "PatienceFit",
    "PatienceModel",
    "patience",
    "fit_patience",
    "survival_knots",
    "ErlangACheck",
    "erlang_a_check",
    "hazard_table",
]


@dataclass(frozen=True)
class PatienceFit:
    """Result of :func:`patience`.

    Attributes
    ----------
    mean
        Exponential MLE of the mean patience (seconds, or the unit of the waits):
        total wait ÷ number of abandonments.
    ci_low, ci_high
        Confidence interval of :attr:`mean`.
    n, n_abandoned
        Callers used, and how many of them abandoned.
    total_wait
        Sum of all waits (same unit).
    median
        Kaplan–Meier median patience (inf when survival stays above 0.5).
    survival
        Kaplan–Meier curve: ``time, survival, ci_low, ci_high, at_risk`` (time
        in the unit of the waits, survival a probability).
    hazard
        Binned hazard: ``start, end, at_risk_time, abandoned, hazard`` (per unit time).
    """

    mean: float
    ci_low: float
    ci_high: float
    n: int
    n_abandoned: int
    total_wait: float
    median: float
    survival: pd.DataFrame = field(repr=False)
    hazard: pd.DataFrame = field(repr=False)

    @property
    def rate(self) -> float:
        """Abandonment rate ``1 / mean`` (per unit time)."""
        return 1.0 / self.mean

    def spec(self) -> dict[str, object]:
        """Scenario patience entry ``{dist: exponential, mean}``."""
        return {"dist": "exponential", "mean": self.mean}


def _clean(
    waits: Sequence[float] | np.ndarray, abandoned: Sequence[bool] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    w = np.asarray(waits, dtype=float).ravel()
    a = np.asarray(abandoned).ravel()
    if w.shape != a.shape:
        raise ValueError(f"waits and abandoned differ in length: {w.size} vs {a.size}")
    if a.dtype != bool:
        if not np.isin(a, (0, 1)).all():
            raise ValueError("abandoned: must be booleans (or 0/1)")
        a = a.astype(bool)
    keep = ~np.isnan(w)
    w, a = w[keep], a[keep]
    if (w < 0).any() or np.isinf(w).any():
        raise ValueError(
            f"waits: {int(((w < 0) | np.isinf(w)).sum())} negative or infinite value(s)"
        )
    return w, a


def hazard_table(
    waits: Sequence[float] | np.ndarray,
    abandoned: Sequence[bool] | np.ndarray,
    width: float | None = None,
    *,
    upper: float | None = None,
) -> pd.DataFrame:
    """Binned abandonment hazard: abandonments ÷ time at risk in each bin.

    Parameters
    ----------
    waits, abandoned
        As in :func:`patience`.
    width
        Bin width (unit of the waits); default: ``upper / 30``.
    upper
        Last bin end; default the 99th percentile of the waits.

    Returns
    -------
    pandas.DataFrame
        ``start, end, at_risk_time, abandoned, hazard``.
    """
    w, a = _clean(waits, abandoned)
    if upper is None:
        upper = float(np.quantile(w, 0.99)) if w.size else 1.0
    upper = max(upper, np.finfo(float).tiny)
    if width is None:
        width = upper / 30
    positive("hazard_table", "width", width)
    edges = np.arange(0.0, upper + width, width)
    starts, ends = edges[:-1], edges[1:]
    # Time each caller spends at risk inside each bin: clip(w - start, 0, width).
    exposure = (
        np.clip(w[None, :] - starts[:, None], 0.0, width).sum(axis=1)
        if w.size < 200_000
        else np.array([np.clip(w - s, 0.0, width).sum() for s in starts])
    )
    events = np.histogram(w[a], bins=edges)[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        hz = np.where(exposure > 0, events / exposure, np.nan)
    return pd.DataFrame(
        {"start": starts, "end": ends, "at_risk_time": exposure, "abandoned": events, "hazard": hz}
    )


def patience(
    waits: Sequence[float] | np.ndarray,
    abandoned: Sequence[bool] | np.ndarray,
    *,
    level: float = 0.95,
) -> PatienceFit:
    """Estimate patience from waits, right-censored for callers who were served.

    Parameters
    ----------
    waits
        Time in queue of each caller who joined the queue (seconds or any unit;
        0 for those served at once). NaN entries are ignored.
    abandoned
        True for callers who abandoned (their wait is their patience), False
        for callers served (their wait is a lower bound).
    level
        Confidence level for the mean and the Kaplan–Meier band.

    Returns
    -------
    PatienceFit
        ``.mean`` (exponential MLE), ``.survival`` (Kaplan–Meier), ``.hazard``.

    Raises
    ------
    ValueError
        Lengths differ, negative waits, or no abandonment (the MLE is infinite).
    """
    from lifelines import KaplanMeierFitter  # heavy import, only needed here

    w, a = _clean(waits, abandoned)
    r = int(a.sum())
    if r == 0:
        raise ValueError("abandoned: no abandonments, the patience MLE is infinite")
    total = float(w.sum())
    if total <= 0:
        raise ValueError("waits: all zero, the patience MLE is zero")
    mean = total / r
    alpha = 1 - level
    ci_low = 2 * total / stats.chi2.ppf(1 - alpha / 2, 2 * r)
    ci_high = 2 * total / stats.chi2.ppf(alpha / 2, 2 * r)

    km = KaplanMeierFitter(alpha=alpha).fit(w, event_observed=a)
    sf = km.survival_function_.iloc[:, 0]
    ci = km.confidence_interval_survival_function_
    table = km.event_table
    survival = pd.DataFrame(
        {
            "time": sf.index.to_numpy(dtype=float),
            "survival": sf.to_numpy(dtype=float),
            "ci_low": ci.iloc[:, 0].to_numpy(dtype=float),
            "ci_high": ci.iloc[:, 1].to_numpy(dtype=float),
            "at_risk": table["at_risk"].reindex(sf.index).to_numpy(),
        }
    )
    median = float(km.median_survival_time_)
    return PatienceFit(
        mean=mean,
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        n=int(w.size),
        n_abandoned=r,
        total_wait=total,
        median=median,
        survival=survival,
        hazard=hazard_table(w, a),
    )


@dataclass(frozen=True)
class ErlangACheck:
    """Result of :func:`erlang_a_check`.

    Attributes
    ----------
    table
        Per interval: ``start, end`` (seconds since midnight), ``n`` (callers),
        ``p_abandon``, ``mean_wait`` (seconds), ``predicted`` (= mean_wait ÷
        mean patience).
    mean_patience
        The patience mean used (seconds).
    slope
        Least-squares slope through the origin of ``p_abandon`` on
        ``mean_wait``, weighted by ``n`` (per second).
    implied_patience
        ``1 / slope``: the mean patience the per-interval data imply (seconds).
    """

    table: pd.DataFrame
    mean_patience: float
    slope: float
    implied_patience: float


def erlang_a_check(
    calls: pd.DataFrame, mean_patience: float, period: float = 3600.0, *, min_n: int = 30
) -> ErlangACheck:
    """Check ``P(abandon) ≈ E[wait] / mean patience`` per interval of the day.

    Parameters
    ----------
    calls
        Call table (``arrival``, ``day``, ``wait``, ``abandoned``; seconds).
        Callers with a NaN wait (abandoned before joining the queue) are left out.
    mean_patience
        Mean patience (seconds), e.g. :attr:`PatienceFit.mean`.
    period
        Interval length (seconds), pooled over days.
    min_n
        Intervals with fewer callers are left out.

    Returns
    -------
    ErlangACheck
    """
    positive("erlang_a_check", "mean_patience", mean_patience)
    sub = calls.loc[calls["wait"].notna(), ["arrival", "day", "wait", "abandoned"]]
    tod = sub["arrival"].to_numpy() - sub["day"].to_numpy() * DAY
    k = np.clip((tod // period).astype(np.int64), 0, None)
    g = pd.DataFrame(
        {"k": k, "wait": sub["wait"].to_numpy(), "ab": sub["abandoned"].to_numpy(dtype=float)}
    ).groupby("k")
    t = pd.DataFrame({"n": g.size(), "p_abandon": g["ab"].mean(), "mean_wait": g["wait"].mean()})
    t = t[t["n"] >= min_n]
    t.insert(0, "end", (t.index + 1) * period)
    t.insert(0, "start", t.index * period)
    t["predicted"] = t["mean_wait"] / mean_patience
    t = t.reset_index(drop=True)
    n, x, y = t["n"].to_numpy(float), t["mean_wait"].to_numpy(), t["p_abandon"].to_numpy()
    denom = float((n * x * x).sum())
    slope = float((n * x * y).sum() / denom) if denom > 0 else float("nan")
    return ErlangACheck(
        table=t,
        mean_patience=float(mean_patience),
        slope=slope,
        implied_patience=1.0 / slope if slope > 0 else float("inf"),
    )


_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)

#: Patience families fitted by censored maximum likelihood (``survival``: the
#: Kaplan-Meier curve with an exponential tail).
PATIENCE_FAMILIES: tuple[str, ...] = ("exponential", "lognormal", "weibull", "gamma", "survival")


@dataclass(frozen=True)
class PatienceModel:
    """Result of :func:`fit_patience`: censored ML fits ranked by AIC.

    Attributes
    ----------
    best
        Family with the smallest AIC.
    table
        One row per family: ``dist, aic, loglik, k, mean, params`` (sorted by AIC).
    specs
        Family → scenario distribution dict in the waits' unit (seconds),
        e.g. ``{"dist": "weibull", "shape": …, "scale": …}``.
    n, n_abandoned
        Callers used and abandonments.
    """

    best: str
    table: pd.DataFrame
    specs: dict[str, dict[str, object]] = field(repr=False)
    n: int
    n_abandoned: int

    def spec(self, family: str | None = None) -> dict[str, object]:
        """Scenario patience entry of ``family`` (default :attr:`best`)."""
        name = self.best if family is None else family
        if name not in self.specs:
            raise ValueError(f"family: {name!r} not fitted; have {sorted(self.specs)}")
        return dict(self.specs[name])


def _km(w: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kaplan-Meier at the distinct abandonment times: times, survival, at risk."""
    order = np.argsort(w, kind="stable")
    ws, as_ = w[order], a[order]
    times, first = np.unique(ws, return_index=True)
    events = np.add.reduceat(as_.astype(float), first) if ws.size else np.zeros(0)
    at_risk = ws.size - first
    keep = events > 0
    times, events, at_risk = times[keep], events[keep], at_risk[keep]
    surv = np.cumprod(1.0 - events / at_risk)
    return times, surv, at_risk


def survival_knots(
    w: np.ndarray, a: np.ndarray, *, knots: int = 40, min_at_risk: int = 30
) -> dict[str, object]:
    """Kaplan-Meier patience as a ``survival`` distribution (docs/scenario.md#distributions).

    Knots at the times where the Kaplan-Meier curve crosses ``knots`` evenly
    spaced survival levels, up to the last time with at least ``min_at_risk``
    callers at risk; beyond it an exponential tail whose mean is the
    exponential MLE of the waits beyond the last knot (time at risk ÷
    abandonments there).
    """
    times, surv, at_risk = _km(w, a)
    ok = (at_risk >= min_at_risk) & (surv > 0)
    if not ok.any():
        raise ValueError("waits: too few callers at risk for a Kaplan-Meier patience")
    times, surv = times[ok], surv[ok]
    levels = np.linspace(1.0, surv[-1], knots + 1)[1:]
    pick = np.unique(np.minimum(np.searchsorted(-surv, -levels, side="left"), surv.size - 1))
    t_k, s_k = times[pick], surv[pick]
    keep = t_k > 0
    t_k, s_k = t_k[keep], s_k[keep]
    tn = float(t_k[-1])
    beyond = w > tn
    r = int((a & beyond).sum())
    exposure = float(np.clip(w - tn, 0.0, None).sum())
    tail = exposure / r if r > 0 else (float(w.sum()) / max(int(a.sum()), 1))
    return {
        "dist": "survival",
        "times": [float(x) for x in t_k],
        "survival": [float(min(max(x, 1e-12), 1.0)) for x in s_k],
        "tail_mean": float(max(tail, 1e-9)),
    }


def _survival_loglik(spec: dict[str, object], w: np.ndarray, a: np.ndarray) -> tuple[float, float]:
    """Log-likelihood and mean of a ``survival`` spec on censored data."""
    t = np.r_[0.0, np.asarray(spec["times"], float)]
    s = np.r_[1.0, np.asarray(spec["survival"], float)]
    tau = float(spec["tail_mean"])  # type: ignore[arg-type]
    sf = np.where(w <= t[-1], np.interp(w, t, s), s[-1] * np.exp(-(w - t[-1]) / tau))
    seg = np.clip(np.searchsorted(t, w, side="left"), 1, t.size - 1)
    dens_in = (s[seg - 1] - s[seg]) / (t[seg] - t[seg - 1])
    dens = np.where(w <= t[-1], dens_in, sf / tau)
    with np.errstate(divide="ignore"):
        ll = float(np.log(np.maximum(dens[a], 1e-300)).sum() + np.log(np.maximum(sf[~a], 1e-300)).sum())
    mean = float(np.sum((s[1:] + s[:-1]) / 2 * np.diff(t)) + s[-1] * tau)
    return ll, mean


def fit_patience(
    waits: Sequence[float] | np.ndarray,
    abandoned: Sequence[bool] | np.ndarray,
    families: Sequence[str] = PATIENCE_FAMILIES,
    *,
    resolution: float = 1.0,
    knots: int = 40,
) -> PatienceModel:
    """Censored maximum-likelihood patience fits, ranked by AIC.

    Abandoners contribute the density at their wait, served callers the
    survival at theirs (right-censored). ``exponential`` has the closed form of
    :func:`patience`; ``lognormal``, ``weibull`` and ``gamma`` are fitted
    numerically (:func:`scipy.optimize.minimize` on log-parameters);
    ``survival`` is the Kaplan-Meier curve of :func:`survival_knots`, counted
    with ``2·knots + 1`` parameters in its AIC.

    Parameters
    ----------
    waits, abandoned
        As in :func:`patience` (NaN waits ignored).
    families
        Candidates among :data:`PATIENCE_FAMILIES`.
    resolution
        Time resolution of the log: an abandonment recorded at wait 0 is set
        to ``resolution / 2`` (a positive density needs a positive time).
    knots
        Knots of the ``survival`` fit.

    Returns
    -------
    PatienceModel
    """
    unknown = [f for f in families if f not in PATIENCE_FAMILIES]
    if unknown or not families:
        raise ValueError(f"families: unknown {unknown}; choose from {list(PATIENCE_FAMILIES)}")
    w, a = _clean(waits, abandoned)
    r = int(a.sum())
    if r == 0:
        raise ValueError("abandoned: no abandonments, the patience MLE is infinite")
    w = np.where(a & (w <= 0), resolution / 2, w)
    theta = float(w.sum()) / r
    # Logs record waits to the second: fit on distinct values with their counts.
    wa, na = np.unique(w[a], return_counts=True)
    wc, nc = np.unique(w[~a], return_counts=True)
    pos = wc > 0
    wc, nc = wc[pos], nc[pos]
    log_wa, log_wc = np.log(wa), np.log(wc)
    rows: list[dict[str, object]] = []
    specs: dict[str, dict[str, object]] = {}

    def nll_lognormal(p: np.ndarray) -> float:
        mu, s = p[0], np.exp(p[1])
        za = (log_wa - mu) / s
        dens = -0.5 * za * za - _LOG_SQRT_2PI - np.log(s) - log_wa
        return -float(na @ dens + nc @ special.log_ndtr(-(log_wc - mu) / s))

    def nll_weibull(p: np.ndarray) -> float:
        c, lam = np.exp(p[0]), np.exp(p[1])
        za, zc = wa / lam, wc / lam
        return -float(na @ (np.log(c / lam) + (c - 1) * np.log(za) - za**c) - nc @ zc**c)

    def nll_gamma(p: np.ndarray) -> float:
        k, sc_ = np.exp(p[0]), np.exp(p[1])
        dens = (k - 1) * log_wa - wa / sc_ - special.gammaln(k) - k * np.log(sc_)
        surv = np.log(np.maximum(special.gammaincc(k, wc / sc_), 1e-300))
        return -float(na @ dens + nc @ surv)

    for fam in families:
        if fam == "exponential":
            ll = float(-r * np.log(theta) - w.sum() / theta)
            specs[fam] = {"dist": "exponential", "mean": theta}
            rows.append({"dist": fam, "loglik": ll, "k": 1, "mean": theta, "params": {"mean": theta}})
        elif fam == "survival":
            spec = survival_knots(w, a, knots=knots)
            ll, mean = _survival_loglik(spec, w, a)
            specs[fam] = spec
            rows.append({"dist": fam, "loglik": ll, "k": 2 * len(spec["times"]) + 1,  # type: ignore[arg-type]
                         "mean": mean, "params": {"knots": len(spec["times"])}})  # type: ignore[arg-type]
        else:
            nll = {"lognormal": nll_lognormal, "weibull": nll_weibull, "gamma": nll_gamma}[fam]
            x0 = np.array([np.log(theta), 0.0]) if fam == "lognormal" else np.array([0.0, np.log(theta)])
            if fam == "gamma":
                x0 = np.array([0.0, np.log(theta)])
            res = optimize.minimize(nll, x0, method="Nelder-Mead",
                                    options={"xatol": 1e-6, "fatol": 1e-6, "maxiter": 4000})
            p = res.x
            if fam == "lognormal":
                mu, s = float(p[0]), float(np.exp(p[1]))
                mean = float(np.exp(mu + s * s / 2))
                cv = float(np.sqrt(np.expm1(s * s)))
                specs[fam] = {"dist": "lognormal", "mean": mean, "cv": cv}
                params = {"mu": mu, "sigma": s}
            elif fam == "weibull":
                c, lam = float(np.exp(p[0])), float(np.exp(p[1]))
                mean = float(lam * special.gamma(1 + 1 / c))
                specs[fam] = {"dist": "weibull", "shape": c, "scale": lam}
                params = {"shape": c, "scale": lam}
            else:
                k, sc_ = float(np.exp(p[0])), float(np.exp(p[1]))
                mean = k * sc_
                specs[fam] = {"dist": "gamma", "mean": mean, "cv": float(1 / np.sqrt(k))}
                params = {"shape": k, "scale": sc_}
            rows.append({"dist": fam, "loglik": -float(res.fun), "k": 2, "mean": mean, "params": params})
    table = pd.DataFrame(rows)
    table.insert(1, "aic", 2 * table["k"] - 2 * table["loglik"])
    table = table.sort_values("aic", kind="stable").reset_index(drop=True)
    return PatienceModel(
        best=str(table["dist"].iloc[0]), table=table, specs=specs, n=int(w.size), n_abandoned=r
    )
