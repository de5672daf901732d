"""Reliability of multi-item scales.

Reliability is the share of a scale score's variance that is true-score
variance. Three estimates are offered:

* **Cronbach's alpha** (1951) – assumes essentially tau-equivalent items
  (equal loadings); a lower bound otherwise. Its confidence interval is
  Feldt's (1965) F-based interval.
* **McDonald's omega-total** (1999) – from a one-factor congeneric CFA per
  dimension (loadings free), for the unit-weighted raw sum score, with the
  observed variance of the sum in the denominator (semTools ``compRelSEM``).
* **Composite reliability** (Jöreskog's rho_c) and **AVE** (Fornell &
  Larcker 1981) – from a joint CFA of all dimensions with at least two items.

Item diagnostics: corrected item–total correlation (item vs. the sum of the
other items) and alpha if the item is deleted.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from .cfa import cfa
from .checks import MissingPolicy, check_items, check_not_degenerate, user_stacklevel

__all__ = ["AlphaResult", "cronbach_alpha", "item_total", "omega_total",
           "ReliabilityReport", "reliability_table"]


class AlphaResult(NamedTuple):
    """Cronbach's alpha with Feldt's confidence interval (first element = alpha)."""

    alpha: float
    ci_low: float
    ci_high: float
    n: int
    k: int

    def __float__(self) -> float:
        return float(self.alpha)


def _alpha_value(x: np.ndarray) -> float:
    k = x.shape[1]
    cov = np.cov(x, rowvar=False, ddof=1)
    total = cov.sum()
    if total <= 0:
        return float("nan")
    return float(k / (k - 1) * (1 - np.trace(cov) / total))


def cronbach_alpha(
    data: pd.DataFrame, *, level: float = 0.95, missing: MissingPolicy = "listwise"
) -> AlphaResult:
    """Cronbach's alpha of the columns of ``data``.

    Parameters
    ----------
    data
        Items in columns, respondents in rows (at least two items).
    level
        Confidence level of Feldt's interval.
    missing
        Missing-data policy (listwise by default, with a warning).

    Returns
    -------
    AlphaResult
        ``(alpha, ci_low, ci_high, n, k)``; ``float(result)`` is alpha.

    Notes
    -----
    alpha = k/(k-1) (1 - sum var_i / var_total). Feldt's interval uses
    (1 - alpha)/(1 - alpha_hat) ~ F(n-1, (n-1)(k-1)).
    """
    x = check_items(data, list(data.columns), missing=missing).to_numpy()
    n, k = x.shape
    if k < 2:
        raise ValueError(f"cronbach_alpha needs at least 2 items, got {k}")
    a = _alpha_value(x)
    d1, d2 = n - 1, (n - 1) * (k - 1)
    g = 1 - level
    lo = 1 - (1 - a) * stats.f.ppf(1 - g / 2, d1, d2)
    hi = 1 - (1 - a) * stats.f.ppf(g / 2, d1, d2)
    return AlphaResult(a, float(lo), float(hi), int(n), int(k))


def item_total(data: pd.DataFrame, *, missing: MissingPolicy = "listwise") -> pd.DataFrame:
    """Corrected item–total correlations and alpha-if-item-deleted.

    Returns
    -------
    pandas.DataFrame
        Index = items; columns ``mean, sd, item_total_r`` (item vs. sum of the
        other items), ``item_total_r_uncorrected`` and ``alpha_if_deleted``.
    """
    x = check_items(data, list(data.columns), missing=missing)
    arr = x.to_numpy()
    total = arr.sum(axis=1)
    rows = {}
    for j, col in enumerate(x.columns):
        rest = total - arr[:, j]
        others = np.delete(arr, j, axis=1)
        rows[col] = {
            "mean": arr[:, j].mean(),
            "sd": arr[:, j].std(ddof=1),
            "item_total_r": np.corrcoef(arr[:, j], rest)[0, 1],
            "item_total_r_uncorrected": np.corrcoef(arr[:, j], total)[0, 1],
            "alpha_if_deleted": _alpha_value(others) if others.shape[1] >= 2 else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def omega_total(data: pd.DataFrame, *, missing: MissingPolicy = "listwise") -> float:
    """McDonald's omega-total from a one-factor congeneric CFA (ML).

    ``(sum lambda)^2 phi / var(sum score)`` with the observed variance of the
    unit-weighted sum (semTools ``compRelSEM``). Needs at least three items
    for an over-identified model (two items give a just-identified fit
    with equal loadings assumed).
    """
    x = check_items(data, list(data.columns), missing=missing)
    if x.shape[1] < 2:
        raise ValueError("omega_total needs at least 2 items")
    check_not_degenerate(x)
    names = [f"i{j}" for j in range(x.shape[1])]
    x = x.set_axis(names, axis=1)
    if x.shape[1] == 2:
        # One factor with two free loadings is under-identified; use the
        # tau-equivalent solution, for which omega equals alpha.
        return _alpha_value(x.to_numpy())
    res = cfa(x, {"f": names})
    return float(res.omega["f"])


@dataclass(frozen=True)
class ReliabilityReport:
    """Per-dimension reliability (``dimensions``) and per-item diagnostics (``items``)."""

    dimensions: pd.DataFrame
    items: pd.DataFrame


def reliability_table(
    data: pd.DataFrame,
    model: Mapping[str, Sequence[str]],
    *,
    level: float = 0.95,
    missing: MissingPolicy = "listwise",
    joint_cfa: bool = True,
) -> ReliabilityReport:
    """Reliability of every dimension of a measurement model.

    Parameters
    ----------
    data
        Respondents in rows.
    model
        ``{dimension: [columns]}``, e.g. ``SERVQUAL22.model("p")``.
    joint_cfa
        Also fit one CFA of all dimensions with at least 2 items for
        composite reliability and AVE. Single-item dimensions are left out
        of it (with a warning) and get NaN.

    Returns
    -------
    ReliabilityReport
        ``dimensions``: ``n_items, alpha, alpha_ci_low, alpha_ci_high,
        omega_total`` (one-factor CFA per dimension), ``omega_is_alpha``,
        ``composite_reliability`` and ``ave`` (joint CFA). ``items``:
        ``dimension, item_total_r, alpha_if_deleted, mean, sd``.

    Notes
    -----
    A one-factor model of two items is under-identified, so for two-item
    dimensions ``omega_total`` is alpha (the tau-equivalent solution);
    ``omega_is_alpha`` is True for those rows and a warning names them.
    Single-item dimensions have no alpha or omega (NaN).
    """
    cols = [c for its in model.values() for c in its]
    x = check_items(data, cols, missing=missing)
    check_not_degenerate(x)
    dims = {}
    item_rows = []
    for d, its in model.items():
        sub = x[list(its)]
        entry = {"n_items": len(its), "alpha": np.nan, "alpha_ci_low": np.nan,
                 "alpha_ci_high": np.nan, "omega_total": np.nan,
                 "omega_is_alpha": len(its) == 2}
        if len(its) >= 2:
            a = cronbach_alpha(sub, level=level)
            entry.update(alpha=a.alpha, alpha_ci_low=a.ci_low, alpha_ci_high=a.ci_high)
            entry["omega_total"] = omega_total(sub)
            it = item_total(sub)
            it.insert(0, "dimension", d)
            item_rows.append(it)
        dims[d] = entry
    out = pd.DataFrame.from_dict(dims, orient="index")
    two = [d for d, v in model.items() if len(v) == 2]
    if two:
        warnings.warn(
            f"omega_total is Cronbach's alpha for the two-item dimensions {', '.join(two)} "
            "(a two-item factor is not identified); see the omega_is_alpha column",
            UserWarning, stacklevel=user_stacklevel(),
        )
    if joint_cfa:
        multi = {d: list(v) for d, v in model.items() if len(v) >= 2}
        single = [d for d, v in model.items() if len(v) < 2]
        if single:
            warnings.warn(
                f"single-item dimensions {', '.join(single)} are left out of the joint CFA "
                "(composite reliability and AVE are NaN for them)",
                UserWarning, stacklevel=user_stacklevel(),
            )
        out["composite_reliability"] = np.nan
        out["ave"] = np.nan
        if multi:
            items_used = [c for v in multi.values() for c in v]
            res = cfa(x[items_used], multi)
            out.loc[list(multi), "composite_reliability"] = res.composite_reliability
            out.loc[list(multi), "ave"] = res.ave
    items = pd.concat(item_rows) if item_rows else pd.DataFrame()
    return ReliabilityReport(dimensions=out, items=items)
