"""Reliability of multi-item scales.

Reliability is the share of a scale score's variance that is true-score
variance. Three estimates are offered:

* **Cronbach's alpha** (1951) – assumes essentially tau-equivalent items
  (equal loadings); a lower bound otherwise. Two confidence intervals, as
  psych's ``alpha`` prints them: Feldt's (1965) F-based interval and
  Duhachek & Iacobucci's (2004) asymptotic normal interval (``ase``).
* **McDonald's omega-total** (1999) – from a one-factor congeneric CFA per
  dimension (loadings free), for the unit-weighted raw sum score, with the
  observed variance of the sum in the denominator (semTools ``compRelSEM``);
  :func:`omega_ci` adds a seeded nonparametric bootstrap percentile interval.
  Omega-hierarchical (psych ``omega``) is :func:`simlib.servqual.efa.omega_hierarchical`.
* **Composite reliability** (Jöreskog's rho_c) and **AVE** (Fornell &
  Larcker 1981) – from a joint CFA of all dimensions with at least two items.

Item diagnostics: corrected item–total correlation (item vs. the sum of the
other items) and alpha if the item is deleted.

Discriminant validity: :func:`htmt`, the heterotrait–monotrait ratio with
semTools' defaults (absolute correlations, geometric means).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from .cfa import CFAModel, cfa, group_moments, parse_model
from .checks import (
    ConvergenceWarning,
    IdentificationWarning,
    MissingPolicy,
    check_items,
    check_not_degenerate,
    user_stacklevel,
)
from .sem import fit_moments

__all__ = ["AlphaResult", "cronbach_alpha", "item_total", "omega_total", "OmegaResult",
           "omega_ci", "htmt", "ReliabilityReport", "reliability_table"]

Scale = tuple[float, float] | None


class AlphaResult(NamedTuple):
    """Cronbach's alpha with Feldt's (``ci_low``, ``ci_high``) and Duhachek's
    (``duhachek_low``, ``duhachek_high``, from the asymptotic standard error
    ``ase``) confidence intervals; the first element is alpha."""

    alpha: float
    ci_low: float
    ci_high: float
    n: int
    k: int
    ase: float = float("nan")
    duhachek_low: float = float("nan")
    duhachek_high: float = float("nan")

    def __float__(self) -> float:
        return float(self.alpha)


def _alpha_value(x: np.ndarray) -> float:
    k = x.shape[1]
    cov = np.cov(x, rowvar=False, ddof=1)
    total = cov.sum()
    if total <= 0:
        return float("nan")
    return float(k / (k - 1) * (1 - np.trace(cov) / total))


def _alpha_ase(x: np.ndarray) -> float:
    """Duhachek & Iacobucci's (2004) asymptotic standard error of alpha (psych's ``ase``)."""
    n_obs, k = x.shape
    c = np.cov(x, rowvar=False, ddof=1)
    tot, tr = c.sum(), np.trace(c)
    c2 = c @ c
    q = (2 * k**2 / ((k - 1) ** 2 * tot**3)) * (tot * (np.trace(c2) + tr**2) - 2 * tr * c2.sum())
    return float(np.sqrt(q / n_obs))


def cronbach_alpha(
    data: pd.DataFrame, *, level: float = 0.95, missing: MissingPolicy = "listwise",
    scale: Scale = None,
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
    scale
        Optional ``(low, high)`` answer range; values outside it are refused.

    Returns
    -------
    AlphaResult
        ``(alpha, ci_low, ci_high, n, k, ase, duhachek_low, duhachek_high)``;
        ``float(result)`` is alpha.

    Notes
    -----
    alpha = k/(k-1) (1 - sum var_i / var_total). Feldt's interval uses
    (1 - alpha)/(1 - alpha_hat) ~ F(n-1, (n-1)(k-1)) (psych ``alpha.ci``).
    Duhachek's interval is alpha ± z ase with ``ase = sqrt(Q / n)`` and
    Q = 2k²/((k-1)² (1'C1)³) [(1'C1)(tr C² + (tr C)²) − 2 tr C (1'C²1)]
    for the item covariance matrix C (psych's ``alpha``, which prints it with
    z = 1.96; here z is the normal quantile of ``level``).
    """
    x = check_items(data, list(data.columns), scale=scale, missing=missing,
                    allow_constant=False).to_numpy()
    n, k = x.shape
    if k < 2:
        raise ValueError(f"cronbach_alpha needs at least 2 items, got {k}")
    a = _alpha_value(x)
    d1, d2 = n - 1, (n - 1) * (k - 1)
    g = 1 - level
    lo = 1 - (1 - a) * stats.f.ppf(1 - g / 2, d1, d2)
    hi = 1 - (1 - a) * stats.f.ppf(g / 2, d1, d2)
    ase = _alpha_ase(x)
    z = float(stats.norm.ppf(1 - g / 2))
    return AlphaResult(a, float(lo), float(hi), int(n), int(k), ase, a - z * ase, a + z * ase)


def item_total(data: pd.DataFrame, *, missing: MissingPolicy = "listwise",
               scale: Scale = None) -> pd.DataFrame:
    """Corrected item–total correlations and alpha-if-item-deleted.

    Returns
    -------
    pandas.DataFrame
        Index = items; columns ``mean, sd, item_total_r`` (item vs. sum of the
        other items), ``item_total_r_uncorrected`` and ``alpha_if_deleted``.
        A constant item (no item–total correlation) is refused.
    """
    x = check_items(data, list(data.columns), scale=scale, missing=missing,
                    allow_constant=False)
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


def omega_total(data: pd.DataFrame, *, missing: MissingPolicy = "listwise",
                scale: Scale = None) -> float:
    """McDonald's omega-total from a one-factor congeneric CFA (ML).

    ``(sum lambda)^2 phi / var(sum score)`` with the observed variance of the
    unit-weighted sum (semTools ``compRelSEM``). Needs at least three items
    for an over-identified model (two items give a just-identified fit
    with equal loadings assumed).
    """
    x = check_items(data, list(data.columns), scale=scale, missing=missing)
    if x.shape[1] < 2:
        raise ValueError("omega_total needs at least 2 items")
    check_not_degenerate(x)
    return _omega_checked(x)


def _omega_checked(x: pd.DataFrame) -> float:
    names = [f"i{j}" for j in range(x.shape[1])]
    x = x.set_axis(names, axis=1)
    if x.shape[1] == 2:
        # One factor with two free loadings is under-identified; use the
        # tau-equivalent solution, for which omega equals alpha.
        return _alpha_value(x.to_numpy())
    res = cfa(x, {"f": names})
    return float(res.omega["f"])


class OmegaResult(NamedTuple):
    """Omega-total with a bootstrap percentile interval; the first element is omega."""

    omega: float
    ci_low: float
    ci_high: float
    n: int
    k: int
    n_boot: int
    n_failed: int

    def __float__(self) -> float:
        return float(self.omega)


def omega_ci(
    data: pd.DataFrame,
    *,
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int | np.random.SeedSequence = 0,
    missing: MissingPolicy = "listwise",
    scale: Scale = None,
) -> OmegaResult:
    """:func:`omega_total` with a nonparametric bootstrap percentile interval.

    ``n_boot`` resamples of the complete rows (with replacement, drawn from
    ``numpy.random.default_rng(seed)``) are refitted; the interval is the
    ``(1 - level)/2`` and ``(1 + level)/2`` quantiles of their omegas.
    Resamples whose fit does not converge, is not identified or is
    degenerate are left out and counted in ``n_failed``.
    """
    if n_boot < 2:
        raise ValueError(f"n_boot must be at least 2, got {n_boot}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    x = check_items(data, list(data.columns), scale=scale, missing=missing)
    if x.shape[1] < 2:
        raise ValueError("omega_ci needs at least 2 items")
    check_not_degenerate(x)
    est = _omega_checked(x)
    rng = np.random.default_rng(seed)
    arr = x.to_numpy()
    n, k = arr.shape
    boots = []
    failed = 0
    refit: Callable[[np.ndarray], float] = _alpha_value
    if k > 2:
        one_factor = "f =~ " + " + ".join(f"i{j}" for j in range(k))

        def refit_ml(sample: np.ndarray) -> float:
            fit = fit_moments(one_factor, [group_moments(sample)])
            if not fit.raw.converged:
                raise ConvergenceWarning("bootstrap fit did not converge")
            est = fit.estimates(standardized=False)
            lam = est.loc[est["op"] == "=~", "est"].to_numpy()
            phi = est.loc[(est["op"] == "~~") & (est["lhs"] == "f") & (est["rhs"] == "f"), "est"]
            return float(lam.sum() ** 2 * float(phi.iloc[0])
                         / np.cov(sample, rowvar=False, ddof=0).sum())

        refit = refit_ml

    for _ in range(n_boot):
        sample = arr[rng.integers(0, n, n)]
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            warnings.simplefilter("error", IdentificationWarning)
            try:
                check_not_degenerate(pd.DataFrame(sample))
                boots.append(refit(sample))
            except (ValueError, ConvergenceWarning, IdentificationWarning):
                failed += 1
    vals = np.asarray(boots)
    vals = vals[np.isfinite(vals)]
    failed += len(boots) - len(vals)
    if len(vals) < 2:
        raise ValueError(f"omega_ci: only {len(vals)} of {n_boot} bootstrap fits succeeded")
    lo, hi = np.quantile(vals, [(1 - level) / 2, (1 + level) / 2])
    return OmegaResult(est, float(lo), float(hi), n, x.shape[1], n_boot, failed)


def htmt(
    data: pd.DataFrame,
    model: str | Mapping[str, Sequence[str]] | CFAModel,
    *,
    absolute: bool = True,
    htmt2: bool = True,
    missing: MissingPolicy = "listwise",
    scale: Scale = None,
) -> pd.DataFrame:
    """Heterotrait–monotrait ratio of correlations with semTools' conventions.

    The defaults are semTools ``htmt``'s: absolute item correlations
    (``absolute=True``) and geometric means (``htmt2=True``, Roemer,
    Schuberth & Henseler 2021). ``htmt2=False`` gives Henseler, Ringle &
    Sarstedt's (2015) arithmetic HTMT, of absolute correlations unless
    ``absolute=False`` (then equal to ``CFAResult.htmt``). A factor with a
    single item has monotrait mean 1; a negative signed monotrait mean
    (``absolute=False`` with a reverse-keyed item) gives NaN. Values above 0.85 (strict) or 0.90
    (liberal) signal a lack of discriminant validity.
    """
    spec = parse_model(model)
    x = check_items(data, spec.items, scale=scale, missing=missing, allow_constant=False)
    r = np.corrcoef(x.to_numpy(), rowvar=False)
    if absolute:
        r = np.abs(r)
    elif htmt2 and (r < 0).any():
        raise ValueError("htmt: geometric means (htmt2=True) need absolute=True when "
                         "item correlations are negative")
    pos = {c: i for i, c in enumerate(spec.items)}

    def avg(a: np.ndarray) -> float:
        return float(np.exp(np.log(a).mean())) if htmt2 else float(a.mean())

    def mono(its: Sequence[str]) -> float:
        ix = [pos[c] for c in its]
        if len(ix) < 2:
            return 1.0
        return avg(r[np.ix_(ix, ix)][np.triu_indices(len(ix), 1)])

    facs = spec.factor_names
    its = dict(spec.factors)
    out = np.eye(len(facs))
    for a in range(len(facs)):
        for b in range(a):
            het = avg(r[np.ix_([pos[c] for c in its[facs[a]]],
                               [pos[c] for c in its[facs[b]]])].ravel())
            with np.errstate(invalid="ignore"):  # a negative signed monotrait mean: NaN
                out[a, b] = out[b, a] = het / np.sqrt(mono(its[facs[a]]) * mono(its[facs[b]]))
    return pd.DataFrame(out, index=facs, columns=facs)


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
    scale: Scale = None,
    n_boot: int = 0,
    seed: int = 0,
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
    scale
        Optional ``(low, high)`` answer range; values outside it are refused.
    n_boot, seed
        With ``n_boot > 0``, bootstrap intervals of omega (:func:`omega_ci`,
        one seed per dimension spawned from ``seed``) in ``omega_ci_low``
        and ``omega_ci_high``.

    Returns
    -------
    ReliabilityReport
        ``dimensions``: ``n_items, alpha, alpha_ci_low, alpha_ci_high``
        (Feldt), ``alpha_duhachek_low, alpha_duhachek_high``, ``omega_total`` (one-factor CFA per dimension), ``omega_is_alpha``,
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
    x = check_items(data, cols, scale=scale, missing=missing)
    check_not_degenerate(x)
    seeds = np.random.SeedSequence(seed).spawn(len(model))
    dims: dict[str, dict[str, float]] = {}
    item_rows = []
    for d, its in model.items():
        sub = x[list(its)]
        entry = {"n_items": len(its), "alpha": np.nan, "alpha_ci_low": np.nan,
                 "alpha_ci_high": np.nan, "alpha_duhachek_low": np.nan,
                 "alpha_duhachek_high": np.nan, "omega_total": np.nan,
                 "omega_is_alpha": len(its) == 2}
        if n_boot > 0:
            entry.update(omega_ci_low=np.nan, omega_ci_high=np.nan)
        if len(its) >= 2:
            a = cronbach_alpha(sub, level=level)
            entry.update(alpha=a.alpha, alpha_ci_low=a.ci_low, alpha_ci_high=a.ci_high,
                         alpha_duhachek_low=a.duhachek_low,
                         alpha_duhachek_high=a.duhachek_high)
            if n_boot > 0:
                om = omega_ci(sub, level=level, n_boot=n_boot, seed=seeds[len(dims)])
                entry.update(omega_total=om.omega, omega_ci_low=om.ci_low,
                             omega_ci_high=om.ci_high)
            else:
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
