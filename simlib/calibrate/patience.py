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
from scipy import stats

from simlib.spec.units import DAY
from simlib.spec.validation import positive

__all__ = ["PatienceFit", "patience", "ErlangACheck", "erlang_a_check", "hazard_table"]


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
