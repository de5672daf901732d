"""Measurement invariance across groups (multi-group CFA).

Before comparing groups' scale means (e.g. SERVQUAL gaps of frequent vs
occasional users), one checks that the instrument measures the same thing in
every group. The standard ladder fits four nested multi-group models
(Meredith 1993; Vandenberg & Lance 2000):

1. **configural** – same pattern of loadings, all parameters free per group;
2. **metric** (weak) – loadings equal across groups;
3. **scalar** (strong) – loadings and item intercepts equal; latent means
   free in all groups but the first;
4. **strict** – additionally equal residual variances.

Identification and fit measures follow lavaan's ``group.equal`` conventions
(marker loadings fixed to 1 in every group, mean structure, latent means 0
where not identified; multi-group RMSEA multiplied by sqrt(G); SRMR
including the mean residuals).

Decision rules reported (they are heuristics, not tests):

* Δχ² likelihood-ratio test of each step against the previous one, p < .05
  rejects the added equality constraints (sensitive to large N);
* Cheung & Rensvold (2002): a drop in CFI greater than 0.01 signals
  non-invariance;
* Chen (2007): for metric invariance, ΔCFI ≤ −0.010 together with
  ΔRMSEA ≥ 0.015 or ΔSRMR ≥ 0.030 signals non-invariance; for scalar and
  strict, ΔCFI ≤ −0.010 with ΔRMSEA ≥ 0.015 or ΔSRMR ≥ 0.010.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .cfa import CFAModel, check_identified, fit_dict, group_moments, model_text, parse_model
from .checks import MissingPolicy, SurveyDataError, check_items, check_not_degenerate
from .sem import fit_moments

__all__ = ["invariance", "STEPS"]

STEPS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}


def _fit_step(spec: CFAModel, moments, equal, fix_single_indicator: bool = False):
    fit = fit_moments(model_text(spec, fix_single_indicator), moments, meanstructure=True,
                      group_equal=equal)
    return fit, fit_dict(fit)


def invariance(
    data: pd.DataFrame,
    model: str | Mapping[str, Sequence[str]] | CFAModel,
    group: str,
    *,
    steps: Sequence[str] = ("configural", "metric", "scalar", "strict"),
    missing: MissingPolicy = "listwise",
    min_group_size: int = 10,
    fix_single_indicator: bool = False,
    scale: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Fit the invariance ladder and compare successive steps.

    Parameters
    ----------
    data
        Respondents in rows, with the model's items and the ``group`` column.
    model
        ``{factor: [items]}`` or lavaan text.
    group
        Column whose values define the groups (ordered as they first appear,
        as lavaan does; the first group is the reference for latent means).
    steps
        Which steps to fit, in order.
    missing
        Missing-data policy for the items (listwise by default, with a warning).
    min_group_size
        Groups smaller than this are refused. Independently, every group
        needs more complete rows than the model has items (otherwise its
        covariance matrix is singular).
    fix_single_indicator
        As in :func:`simlib.servqual.cfa`.
    scale
        Optional ``(low, high)`` answer range; values outside it are refused.

    Returns
    -------
    pandas.DataFrame
        One row per step (index ``configural, metric, scalar, strict``) with
        ``chi2, df, pvalue, cfi, tli, rmsea, rmsea_ci_low, rmsea_ci_high,
        srmr, aic, bic, loglik, npar`` and the comparison with the previous
        step: ``delta_chi2, delta_df, delta_pvalue, delta_cfi, delta_rmsea,
        delta_srmr``, and the verdicts ``lrt_rejects`` (p < .05),
        ``cheung_rensvold_ok`` (ΔCFI ≥ −0.01) and ``chen_ok`` (Chen 2007).
        ``attrs["groups"]`` holds the group sizes. ``converged`` says whether
        the step's estimation converged; when a step or the step before it
        did not converge, its Δ values and verdicts are NaN (a
        :class:`~simlib.servqual.checks.ConvergenceWarning` is also issued).

    Raises
    ------
    SurveyDataError
        For a missing group column, a group with too few rows (fewer than
        ``min_group_size``, or not more than the number of items), an item
        that is constant within a group or items that are collinear within a
        group (:class:`~simlib.servqual.checks.DegenerateDataError`).
    ValueError
        If the model is not identified (see :func:`simlib.servqual.cfa`).
    """
    spec = parse_model(model)
    if group not in data.columns:
        raise SurveyDataError(f"group column {group!r} is not in the data")
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise ValueError(f"steps: unknown {unknown}; choose from {list(STEPS)}")
    gcol = data[group]
    if gcol.isna().any():
        rows = list(data.index[gcol.isna().to_numpy()][:5])
        raise SurveyDataError(f"group column {group!r} has missing values in rows {rows}")
    # Identification is a property of the model; refuse it before touching data.
    check_identified(spec, fix_single_indicator)
    x = check_items(data, spec.items, scale=scale, missing=missing)
    check_not_degenerate(x)
    p = len(spec.items)
    labels = pd.unique(gcol.loc[x.index])
    moments = []
    sizes = {}
    for lab in labels:
        sub = x.loc[(gcol.loc[x.index] == lab).to_numpy()].to_numpy()
        if sub.shape[0] < min_group_size:
            raise SurveyDataError(
                f"group {lab!r} of column {group!r} has {sub.shape[0]} complete rows; "
                f"at least {min_group_size} needed"
            )
        if sub.shape[0] <= p:
            raise SurveyDataError(
                f"group {lab!r} of column {group!r} has {sub.shape[0]} complete rows for "
                f"{p} items; each group needs more rows than items"
            )
        check_not_degenerate(pd.DataFrame(sub, columns=spec.items),
                             where=f"in group {lab!r} of column {group!r}")
        moments.append(group_moments(sub))
        sizes[lab] = sub.shape[0]
    if len(moments) < 2:
        raise SurveyDataError(f"group column {group!r} has fewer than two groups")
    fits: dict[str, dict[str, Any]] = {}
    for step in steps:
        _, idx = _fit_step(spec, moments, STEPS[step], fix_single_indicator)
        fits[step] = {k: idx[k] for k in ("chi2", "df", "pvalue", "cfi", "tli", "rmsea",
                                          "rmsea_ci_low", "rmsea_ci_high", "srmr", "aic",
                                          "bic", "loglik", "npar", "converged")}
    out = pd.DataFrame.from_dict(fits, orient="index")
    out.index.name = "step"
    prev = out.shift(1)
    out["delta_chi2"] = out["chi2"] - prev["chi2"]
    out["delta_df"] = out["df"] - prev["df"]
    out["delta_pvalue"] = [
        float(stats.chi2.sf(c, d)) if np.isfinite(c) and d > 0 else np.nan
        for c, d in zip(out["delta_chi2"], out["delta_df"].fillna(0), strict=True)
    ]
    out["delta_cfi"] = out["cfi"] - prev["cfi"]
    out["delta_rmsea"] = out["rmsea"] - prev["rmsea"]
    out["delta_srmr"] = out["srmr"] - prev["srmr"]
    # A comparison is meaningless unless both fits converged.
    ok = out["converged"].astype(bool)
    bad = ~(ok & ok.shift(1, fill_value=True))
    for col in ("delta_chi2", "delta_df", "delta_pvalue", "delta_cfi", "delta_rmsea",
                "delta_srmr"):
        out.loc[bad, col] = np.nan
    has_prev = out["delta_chi2"].notna()
    out["lrt_rejects"] = (out["delta_pvalue"] < 0.05).where(has_prev)
    out["cheung_rensvold_ok"] = (out["delta_cfi"] >= -0.01).where(has_prev)
    srmr_cut = pd.Series(0.010, index=out.index)
    srmr_cut[srmr_cut.index == "metric"] = 0.030
    chen_bad = (out["delta_cfi"] <= -0.010) & (
        (out["delta_rmsea"] >= 0.015) | (out["delta_srmr"] >= srmr_cut)
    )
    out["chen_ok"] = (~chen_bad).where(has_prev)
    out["df"] = out["df"].astype(int)
    out.attrs["groups"] = sizes
    out.attrs["group_column"] = group
    return out
