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

Partial invariance (Byrne, Shavelson & Muthén 1989) releases named
constraints — ``group_partial=("x3~1", "visual=~x2")`` in lavaan's
``group.partial`` syntax — at every step whose ``group_equal`` kind they
belong to. Which constraints to release is suggested by score (Lagrange
multiplier) tests of each equality constraint, as lavaan's ``lavTestScore``:
:meth:`InvarianceResult.score_tests`. Latent means are free in all groups but
the first (fixed at 0) once intercepts are equal, and are reported per group
with their standard errors.

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
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from . import structural
from .cfa import CFAModel, check_identified, fit_dict, group_moments, model_text, parse_model
from .checks import (
    MissingItemsError,
    MissingPolicy,
    SurveyDataError,
    check_items,
    check_not_degenerate,
)
from .sem import SEMResult, build_patterns, fit_moments, sem

__all__ = ["invariance", "InvarianceResult", "STEPS"]

STEPS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}


def _fit_step(spec: CFAModel, moments, equal, fix_single_indicator: bool = False,
              partial: Sequence[str] = (), labels: Sequence[Any] | None = None):
    fit = fit_moments(model_text(spec, fix_single_indicator), moments, meanstructure=True,
                      group_equal=equal, group_partial=partial, group_labels=labels)
    return fit, fit_dict(fit)


class InvarianceResult(pd.DataFrame):
    """The table of :func:`invariance` (a DataFrame, one row per step) plus its fits.

    :meth:`fit` gives a step's :class:`~simlib.servqual.sem.SEMResult`,
    :meth:`latent_means` the latent means per group and :meth:`score_tests`
    lavaan's ``lavTestScore`` of the step's equality constraints.
    """

    _metadata = ["fits"]

    @property
    def _constructor(self):
        return InvarianceResult

    def fit(self, step: str) -> SEMResult:
        """The fitted multi-group model of ``step``."""
        fits = getattr(self, "fits", None) or {}
        if step not in fits:
            raise ValueError(f"step {step!r} was not fitted; fitted: {list(fits)}")
        return fits[step]

    def latent_means(self, step: str | None = None) -> pd.DataFrame:
        """Latent means per group (``factor, group, est, se, z, pvalue, free``).

        The first group's means are fixed at 0 (``se`` 0, ``free`` False), as
        lavaan's; before intercepts are equal every group's means are fixed at 0.
        ``step`` defaults to the last fitted step.
        """
        res = self.fit(step if step is not None else list(self.fits)[-1])
        return _latent_means(res)

    def score_tests(self, level: str | None = None) -> pd.DataFrame:
        """Score tests of each equality constraint of ``level`` (lavaan's ``lavTestScore``).

        For every parameter constrained equal across groups, the univariate
        score (Lagrange multiplier) test of releasing the constraint between the
        first group and ``group`` (all other constraints kept): ``chi2`` on 1
        df, ``pvalue``, sorted by decreasing ``chi2``; ``release`` is the
        parameter as :func:`invariance`'s ``group_partial`` names it (it
        releases the parameter in every group). ``attrs["total"]`` holds the
        joint test of all constraints (``chi2, df, pvalue``). ``level``
        defaults to the last fitted step.
        """
        step = level if level is not None else list(self.fits)[-1]
        return score_tests(self.fit(step))


def _latent_means(res: SEMResult) -> pd.DataFrame:
    est = res.estimates(standardized=False)
    lv = list(res.roles.lv)
    m = est[(est["op"] == "~1") & est["lhs"].isin(lv)]
    labels = list(res.group_labels)
    free = {(r.lhs, r.group + 1) for r in res.rows if r.op == "~1" and r.free >= 0}
    return pd.DataFrame({
        "factor": m["lhs"].to_numpy(),
        "group": [labels[g - 1] for g in m["group"]],
        "est": m["est"].to_numpy(), "se": m["se"].to_numpy(),
        "z": m["z"].to_numpy(), "pvalue": m["pvalue"].to_numpy(),
        "free": [(f, g) in free for f, g in zip(m["lhs"], m["group"], strict=True)],
    })


def _release_name(lhs: str, op: str, rhs: str) -> str:
    return f"{lhs}~1" if op == "~1" else f"{lhs}{op}{rhs}"


def score_tests(res: SEMResult) -> pd.DataFrame:
    """Univariate score tests of the equality constraints of a fitted model.

    Every set of parameter rows sharing one free parameter (across groups by
    ``group_equal``, or through a shared label) gives the constraints "first
    row = each other row". Each row is given its own parameter, the gradient
    and expected information are evaluated at the constrained estimate, and
    the statistic of releasing constraint r alone is
    ``N/4 g' P (P' I P)^-1 P' g`` with P a basis of the null space of the
    other constraints, by block inversion (lavaan's ``lavTestScore(fit)$uni``,
    ``X2``).
    """
    if res.fiml is not None:
        raise ValueError("score_tests: not available for a FIML fit (missing='fiml'); fit "
                         "the complete rows (missing='listwise') to screen the constraints")
    rows = list(res.rows)
    new_rows: list[Any] = []
    old_free: list[int] = []
    for r in rows:
        if r.free >= 0:
            new_rows.append(replace(r, free=len(old_free)))
            old_free.append(r.free)
        else:
            new_rows.append(replace(r))
    k = len(old_free)
    theta = res.theta[np.array(old_free, dtype=int)] if k else np.zeros(0)
    first: dict[int, int] = {}
    cons: list[tuple[int, int]] = []  # (position of the first row, position of the other)
    pos_of = [i for i, r in enumerate(new_rows) if r.free >= 0]
    for t in pos_of:
        old = old_free[new_rows[t].free]
        if old in first:
            cons.append((first[old], t))
        else:
            first[old] = t
    cols = ["lhs", "op", "rhs", "group", "release", "chi2", "df", "pvalue"]
    if not cons:
        out = pd.DataFrame(columns=cols)
        out.attrs["total"] = {"chi2": 0.0, "df": 0, "pvalue": np.nan}
        return out
    pats = build_patterns(new_rows, res.roles, res.n_groups, res.patterns[0].meanstructure,
                          list(res.moments))
    grad, info = structural.grad_info(pats, list(res.moments), theta)
    n = sum(m.n for m in res.moments)
    # The constrained model's parameters span the null space of all constraints
    # (expanded = E theta); releasing constraint (a, b) alone adds the direction e_b,
    # whose row occurs in no other constraint. Block inversion gives each statistic.
    emb = np.zeros((k, res.npar))
    emb[np.arange(k), old_free] = 1.0
    a_inv = np.linalg.pinv(emb.T @ info @ emb, rcond=1e-12, hermitian=True)
    u = emb.T @ grad
    bs = np.array([new_rows[b].free for _, b in cons])
    c = emb.T @ info[:, bs]  # (npar, constraints)
    a_u = a_inv @ u
    schur = info[bs, bs] - np.einsum("ic,ij,jc->c", c, a_inv, c)
    chi2 = n / 4 * (u @ a_u + (grad[bs] - c.T @ a_u) ** 2 / schur)
    labels = list(res.group_labels)
    other = [new_rows[b] for _, b in cons]
    out = pd.DataFrame({
        "lhs": [r.lhs for r in other], "op": [r.op for r in other],
        "rhs": [r.rhs for r in other], "group": [labels[r.group] for r in other],
        "release": [_release_name(r.lhs, r.op, r.rhs) for r in other],
        "chi2": chi2, "df": 1, "pvalue": stats.chi2.sf(chi2, 1),
    })
    out = out.sort_values("chi2", ascending=False, kind="mergesort").reset_index(drop=True)
    # the all-released model may not be identified (free latent means and
    # intercepts): a generalized inverse, as lavaan's MASS::ginv
    total = float(n / 4 * grad @ np.linalg.pinv(info, rcond=1e-10, hermitian=True) @ grad)
    out.attrs["total"] = {"chi2": total, "df": len(cons),
                          "pvalue": float(stats.chi2.sf(total, len(cons)))}
    return out


def _check_partial(spec: CFAModel, partial: Sequence[str]) -> None:
    if isinstance(partial, str):
        raise ValueError(f"group_partial: give a list of parameters, not the string {partial!r}")
    names = set(spec.items) | set(spec.factor_names)
    loads = {(f, i) for f, its in spec.factors for i in its}
    for raw in partial:
        txt = str(raw).replace(" ", "")
        op = next((o for o in ("=~", "~~", "~") if o in txt), None)
        lhs, rhs = txt.split(op, 1) if op else (txt, "")
        ok = (op == "=~" and (lhs, rhs) in loads) or (
            op == "~~" and lhs in names and rhs in names) or (
            op == "~" and rhs == "1" and lhs in names)
        if not ok:
            raise ValueError(f"group_partial: {raw!r} is not a parameter of the model "
                             "(e.g. 'visual =~ x2', 'x3 ~ 1', 'x1 ~~ x1')")


def invariance(
    data: pd.DataFrame,
    model: str | Mapping[str, Sequence[str]] | CFAModel,
    group: str,
    *,
    steps: Sequence[str] = ("configural", "metric", "scalar", "strict"),
    missing: MissingPolicy | Literal["fiml"] = "listwise",
    min_group_size: int = 10,
    fix_single_indicator: bool = False,
    scale: tuple[float, float] | None = None,
    group_partial: Sequence[str] = (),
) -> InvarianceResult:
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
        Missing-data policy for the items (listwise by default, with a warning), or
        ``"fiml"``: every step is fitted by full-information ML over each group's
        missing-data patterns (:func:`simlib.servqual.sem` with ``missing="fiml"``,
        lavaan's ``missing = "ml"``); the group sizes then count the rows with at
        least one answer, and :meth:`InvarianceResult.score_tests` is not available.
    min_group_size
        Groups smaller than this are refused. Independently, every group
        needs more complete rows than the model has items (otherwise its
        covariance matrix is singular).
    fix_single_indicator
        As in :func:`simlib.servqual.cfa`.
    scale
        Optional ``(low, high)`` answer range; values outside it are refused.
    group_partial
        Constraints to release (partial invariance), in lavaan's
        ``group.partial`` syntax: ``"visual=~x2"`` (a loading, from the metric
        step on), ``"x3~1"`` (an intercept, from scalar on), ``"x1~~x1"`` (a
        residual variance, strict). Each is released in every group at the
        steps whose constraints include it.

    Returns
    -------
    pandas.DataFrame
        One row per step (index ``configural, metric, scalar, strict``) with
        ``chi2, df, pvalue, cfi, tli, rmsea, rmsea_ci_low, rmsea_ci_high,
        srmr, aic, bic, loglik, npar`` and the comparison with the previous
        step: ``delta_chi2, delta_df, delta_pvalue, delta_cfi, delta_rmsea,
        delta_srmr``, and the verdicts ``lrt_rejects`` (p < .05),
        ``cheung_rensvold_ok`` (ΔCFI ≥ −0.01) and ``chen_ok`` (Chen 2007).
        Latent means per group follow: ``mean:<factor>:<group>`` and
        ``se:<factor>:<group>`` (the first group fixed at 0 with SE 0, as
        lavaan; NaN at steps whose means are all fixed, configural and
        metric). The result is an :class:`InvarianceResult`, a DataFrame
        with :meth:`~InvarianceResult.score_tests`,
        :meth:`~InvarianceResult.latent_means` and
        :meth:`~InvarianceResult.fit`. ``attrs["groups"]`` holds the group sizes. ``converged`` says whether
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
        If the model is not identified (see :func:`simlib.servqual.cfa`), or
        a ``group_partial`` entry names no parameter of the model.
    """
    spec = parse_model(model)
    _check_partial(spec, group_partial)
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
    if missing == "fiml":
        return _invariance_fiml(data, spec, group, steps, min_group_size,
                                fix_single_indicator, scale, group_partial)
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
    fitted = {step: _fit_step(spec, moments, STEPS[step], fix_single_indicator,
                              tuple(group_partial), list(labels)) for step in steps}
    return _ladder_table(fitted, sizes, group)


def _invariance_fiml(data: pd.DataFrame, spec: CFAModel, group: str, steps: Sequence[str],
                     min_group_size: int, fix_single_indicator: bool,
                     scale: tuple[float, float] | None,
                     group_partial: Sequence[str]) -> InvarianceResult:
    """The ladder fitted by FIML (``sem(..., missing="fiml")``, one call per step)."""
    absent = [c for c in spec.items if c not in data.columns]
    if absent:
        raise MissingItemsError(f"items missing from the data: {', '.join(map(str, absent))}")
    answered = data[list(spec.items)].notna().any(axis=1).to_numpy()
    sizes = {}
    for lab in pd.unique(data[group]):
        size = int(((data[group] == lab).to_numpy() & answered).sum())
        if size < min_group_size:
            raise SurveyDataError(f"group {lab!r} of column {group!r} has {size} rows with "
                                  f"answers; at least {min_group_size} needed")
        sizes[lab] = size
    if len(sizes) < 2:
        raise SurveyDataError(f"group column {group!r} has fewer than two groups")
    text = model_text(spec, fix_single_indicator)
    fitted = {}
    for step in steps:
        res = sem(text, data, group=group, missing="fiml", group_equal=STEPS[step],
                  group_partial=tuple(group_partial), scale=scale)
        fitted[step] = (res, fit_dict(res))
    return _ladder_table(fitted, sizes, group)


def _ladder_table(fitted: dict[str, tuple[SEMResult, dict[str, Any]]], sizes: dict[Any, int],
                  group: str) -> InvarianceResult:
    """One row per fitted step (its fit and fit measures) with the comparisons and verdicts."""
    fits: dict[str, dict[str, Any]] = {}
    results = {step: res for step, (res, _) in fitted.items()}
    for step, (_, idx) in fitted.items():
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
    means: dict[str, list[float]] = {}
    for res in results.values():
        lm = _latent_means(res)
        estimated = bool(lm["free"].any())
        for row in lm.itertuples(index=False):
            for col, val in ((f"mean:{row.factor}:{row.group}", row.est),
                             (f"se:{row.factor}:{row.group}", row.se)):
                means.setdefault(col, []).append(float(val) if estimated else np.nan)
    for col, vals in means.items():
        out[col] = vals
    out = InvarianceResult(out)
    out.fits = results
    out.attrs["groups"] = sizes
    out.attrs["group_column"] = group
    return out
