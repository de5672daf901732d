"""Structural equation models (SEM) in lavaan's model syntax.

A structural equation model combines a measurement model (which items
measure which latent constructs, ``=~``) with a structural model (how the
constructs influence each other, ``~``): the service-profit chain quality →
satisfaction → loyalty, or Brady & Cronin's (2001) hierarchical model where
service quality is a second-order factor over interaction, environment and
outcome quality. :func:`sem` reads the model in lavaan syntax
(:mod:`simlib.servqual.syntax`), completes it with lavaan's defaults and
fits it by maximum likelihood with the RAM engine of
:mod:`simlib.servqual.structural`.

Defaults are those of lavaan 0.6's ``sem()`` (Rosseel 2012), so that the
numbers equal R's:

* the first indicator of each factor has its loading fixed at 1
  (``auto.fix.first``; ``NA*y1`` frees it, ``std_lv=True`` fixes the factor
  variances at 1 instead);
* every variable has a free (residual) variance (``auto.var``); exogenous
  latent factors covary (``auto.cov.lv.x``), as do the residuals of the final
  dependent variables (``auto.cov.y``);
* observed exogenous covariates (predictors in ``~`` that are nothing else)
  have their variances, covariances and means fixed at the sample values
  (``fixed.x = TRUE``);
* a mean structure is added when ``~ 1`` appears, or with several groups;
  observed intercepts are then free and latent means 0 (free in groups
  after the first when intercepts are constrained equal);
* a user-supplied covariance matrix is rescaled by (N - 1)/N (lavaan's
  ``sample.cov.rescale``);
* fit measures as lavaan's ``fitMeasures`` (chi2 = N F_ML, independence
  baseline with the fixed covariates' block kept, RMSEA with N and sqrt(G),
  Bentler's SRMR), standard errors from the expected information, defined
  parameters (``:=``) with delta-method standard errors.

With ``ordered=`` (Likert items as ordered categories) the model is fitted
by WLSMV to polychoric correlations instead (:mod:`simlib.servqual.polychoric`,
:mod:`simlib.servqual.categorical`), as lavaan does by default; items left
out of ``ordered`` are continuous (polyserial and Pearson correlations,
:mod:`simlib.servqual.polyserial`).

After the fit the solution is checked for admissibility: negative variances
(Heywood cases), a latent covariance matrix that is not positive definite,
and standardized correlations or loadings beyond ±1 each give an
:class:`ImproperSolutionWarning` naming the parameter.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import categorical as cat_mod
from . import fiml as fiml_mod
from . import structural
from .checks import (
    ConvergenceWarning,
    SurveyDataError,
    check_items,
    check_not_degenerate,
    user_stacklevel,
)
from .polychoric import polychoric
from .robust import RobustML, satorra_bentler, yuan_bentler
from .semreport import format_summary
from .syntax import Definition, ModelSyntaxError, Statement, compile_expression, parse_syntax

__all__ = ["sem", "fit_moments", "SEMResult", "ImproperSolutionWarning", "GROUP_EQUAL"]


class ImproperSolutionWarning(UserWarning):
    """The solution is not admissible: negative variances, |correlations| > 1, non-PD."""


#: ``group_equal`` kinds (lavaan's ``group.equal``).
GROUP_EQUAL = ("loadings", "intercepts", "means", "residuals", "residual.covariances",
               "lv.variances", "lv.covariances", "regressions")


# --------------------------------------------------------------------------- model roles


@dataclass(frozen=True)
class Roles:
    """Variable roles in lavaan's sense (see ``lav_partable_vnames``)."""

    ov: tuple[str, ...]  # observed, in lavaan's order: indicators, dependents, covariates, rest
    lv: tuple[str, ...]
    ov_x: tuple[str, ...]  # fixed exogenous covariates
    lv_x: tuple[str, ...]  # exogenous latent variables
    cov_y: tuple[str, ...]  # final dependent variables (auto.cov.y)

    @property
    def names(self) -> tuple[str, ...]:
        return self.ov + self.lv


def _unique(seq) -> list[str]:
    out: list[str] = []
    for s in seq:
        if s not in out:
            out.append(s)
    return out


def _roles(statements: list[Statement], fixed_x: bool) -> Roles:
    lv = _unique(s.lhs for s in statements if s.op == "=~")
    v_ind = _unique(t.name for s in statements if s.op == "=~" for t in s.terms)
    eqs_y = _unique(s.lhs for s in statements if s.op == "~")
    eqs_x = _unique(t.name for s in statements if s.op == "~" for t in s.terms)
    ov_ind = [v for v in v_ind if v not in lv]
    ov_y = [v for v in eqs_y if v not in lv and v not in ov_ind]
    ov_x = [v for v in eqs_x if v not in lv and v not in ov_ind and v not in ov_y]
    def mentioned(s: Statement) -> tuple[str, ...]:
        return (s.lhs,) if s.op == "~1" else (s.lhs, *(t.name for t in s.terms))

    user_cov = {n for s in statements if s.op in ("~~", "~1") for n in mentioned(s)}
    extra = _unique(n for s in statements if s.op in ("~~", "~1")
                    for n in mentioned(s) if n not in lv)
    ov = _unique([*ov_ind, *ov_y, *ov_x, *extra])
    ov_x = [v for v in ov_x if v not in user_cov] if fixed_x else []
    lv_x = [v for v in lv if v not in v_ind and v not in eqs_y]
    cov_y = [v for v in [*lv, *ov] if v in eqs_y and v not in v_ind and v not in eqs_x]
    return Roles(tuple(ov), tuple(lv), tuple(ov_x), tuple(lv_x), tuple(cov_y))


# --------------------------------------------------------------------------- parameter table


@dataclass
class Row:
    """One parameter: where it sits in the RAM matrices and how it is set."""

    lhs: str
    op: str
    rhs: str
    group: int
    label: str = ""
    fixed: float | None = None
    start: float | None = None
    user: bool = False
    exo: bool = False  # fixed.x: fixed at the sample value
    free: int = -1  # position in theta (set when indexing)
    line: int = 0
    na: bool = False  # NA* modifier: free even where lavaan would fix it


def _kind(row: Row, lv: Sequence[str]) -> str:
    if row.op == "=~":
        return "loadings"
    if row.op == "~":
        return "regressions"
    if row.op == "~1":
        return "means" if row.lhs in lv else "intercepts"
    latent = row.lhs in lv
    if row.lhs == row.rhs:
        return "lv.variances" if latent else "residuals"
    return "lv.covariances" if latent else "residual.covariances"


def _row_key(row: Row) -> tuple[str, str, str]:
    if row.op == "~~" and row.lhs > row.rhs:
        return (row.rhs, "~~", row.lhs)
    return (row.lhs, row.op, row.rhs)


def _parse_partial(items: Sequence[str]) -> set[tuple[str, str, str]]:
    out = set()
    for raw in items:
        txt = raw.replace(" ", "")
        for op in ("=~", "~~", "~1", "~"):
            if op in txt:
                lhs, rhs = txt.split(op, 1)
                if op == "~" and rhs == "1":
                    op, rhs = "~1", ""
                if op == "~1":
                    rhs = ""
                if op == "~~" and lhs > rhs:
                    lhs, rhs = rhs, lhs
                out.add((lhs, op, rhs))
                break
        else:
            raise ValueError(f"group_partial: cannot read {raw!r} (e.g. 'visual =~ x2', 'x3 ~ 1')")
    return out


def build_rows(statements: list[Statement], roles: Roles, n_groups: int, *,
               meanstructure: bool, std_lv: bool, orthogonal: bool,
               group_equal: Sequence[str]) -> list[Row]:
    """User rows plus lavaan's automatic ones, for every group."""
    rows: list[Row] = []
    lv = roles.lv
    for g in range(n_groups):
        seen: dict[tuple[str, str, str], Row] = {}
        grows: list[Row] = []

        def add(row: Row, _seen=seen, _grows=grows) -> None:
            key = _row_key(row)
            if key in _seen:
                if row.user and _seen[key].user:
                    raise ModelSyntaxError(
                        f"line {row.line}: parameter '{key[0]} {key[1]} {key[2]}'".rstrip()
                        + f" is specified twice (first on line {_seen[key].line})"
                    )
                return
            _seen[key] = row
            _grows.append(row)

        for st in statements:
            for t in st.terms:
                if len(t.modifiers) not in (1, n_groups):
                    raise ModelSyntaxError(
                        f"line {st.line}: c(...) has {len(t.modifiers)} values for "
                        f"{n_groups} groups")
                mod = t.modifier(g)
                rhs = "" if st.op == "~1" else t.name
                row = Row(st.lhs, st.op, rhs, g, label=mod.label or "", fixed=mod.fixed,
                          start=mod.start, user=True, line=st.line)
                row.na = mod.free
                add(row)
        # auto.fix.first / std.lv
        for f in lv:
            first = next((r for r in grows if r.op == "=~" and r.lhs == f), None)
            if first is None:
                continue
            if not std_lv and first.fixed is None and not first.na:
                first.fixed = 1.0
        # variances
        for v in (*roles.ov, *roles.lv):
            if v in roles.ov_x:
                continue
            fixed = 1.0 if (std_lv and v in lv) else None
            add(Row(v, "~~", v, g, fixed=fixed))
        if not orthogonal:
            for i, a in enumerate(roles.lv_x):
                for b in roles.lv_x[i + 1:]:
                    add(Row(a, "~~", b, g))
        else:
            for i, a in enumerate(roles.lv_x):
                for b in roles.lv_x[i + 1:]:
                    add(Row(a, "~~", b, g, fixed=0.0))
        for i, a in enumerate(roles.cov_y):
            for b in roles.cov_y[i + 1:]:
                add(Row(a, "~~", b, g))
        for i, a in enumerate(roles.ov_x):
            for b in roles.ov_x[i:]:
                add(Row(a, "~~", b, g, exo=True))
        if meanstructure:
            for v in roles.ov:
                add(Row(v, "~1", "", g, exo=v in roles.ov_x))
            free_means = g > 0 and "intercepts" in group_equal and "means" not in group_equal
            for f in lv:
                add(Row(f, "~1", "", g, fixed=None if free_means else 0.0))
        rows.extend(grows)
    return rows


def index_rows(rows: list[Row], roles: Roles, group_equal: Sequence[str],
               group_partial: set[tuple[str, str, str]]) -> int:
    """Give every free row its position; shared labels and group_equal share one."""
    keys: dict[Any, int] = {}
    equal = set(group_equal)
    for r in rows:
        if r.fixed is not None or r.exo:
            r.free = -1
            continue
        if r.label:
            key: Any = ("label", r.label)
        elif _kind(r, roles.lv) in equal and _row_key(r) not in group_partial:
            key = ("equal", *_row_key(r))
        else:
            key = (r.group, *_row_key(r))
        if key not in keys:
            keys[key] = len(keys)
        r.free = keys[key]
    return len(keys)


def build_patterns(rows: list[Row], roles: Roles, n_groups: int, meanstructure: bool,
                   moments: list[structural.Moments]) -> list[structural.RAMPattern]:
    """RAM patterns per group; fixed.x rows take the group's sample values."""
    names = roles.names
    pos = {v: i for i, v in enumerate(names)}
    p, n = len(roles.ov), len(names)
    obs = {v: i for i, v in enumerate(roles.ov)}
    pats = []
    for g in range(n_groups):
        a_idx = -np.ones((n, n), dtype=int)
        a_fx = np.zeros((n, n))
        s_idx = -np.ones((n, n), dtype=int)
        s_fx = np.zeros((n, n))
        m_idx = -np.ones(n, dtype=int) if meanstructure else None
        m_fx = np.zeros(n) if meanstructure else None
        mom = moments[g]
        for r in (r for r in rows if r.group == g):
            if r.exo:
                if r.op == "~~":
                    val = mom.cov[obs[r.lhs], obs[r.rhs]]
                else:
                    val = mom.mean[obs[r.lhs]]
            else:
                val = r.fixed if r.fixed is not None else 0.0
            if r.op in ("=~", "~"):
                i, j = (pos[r.rhs], pos[r.lhs]) if r.op == "=~" else (pos[r.lhs], pos[r.rhs])
                a_idx[i, j], a_fx[i, j] = r.free, val
            elif r.op == "~~":
                i, j = pos[r.lhs], pos[r.rhs]
                s_idx[i, j] = s_idx[j, i] = r.free
                s_fx[i, j] = s_fx[j, i] = val
            else:
                assert m_idx is not None and m_fx is not None
                m_idx[pos[r.lhs]], m_fx[pos[r.lhs]] = r.free, val
        pats.append(structural.RAMPattern(p, a_idx, a_fx, s_idx, s_fx, m_idx, m_fx))
    return pats


def start_values(rows: list[Row], roles: Roles, moments: list[structural.Moments],
                 k: int, std_lv: bool) -> np.ndarray:
    """Data-based starting values (they scale with the items' units)."""
    start = np.zeros(k)
    count = np.zeros(k)
    obs = {v: i for i, v in enumerate(roles.ov)}
    for g, mom in enumerate(moments):
        grows = [r for r in rows if r.group == g]
        s = mom.cov
        lam: dict[tuple[str, str], float] = {}
        var: dict[str, float] = {}
        for f in roles.lv:
            loads = [r for r in grows if r.op == "=~" and r.lhs == f]
            ind = [r.rhs for r in loads if r.rhs in obs]
            if len(ind) >= 2:
                ix = [obs[i] for i in ind]
                w, v = np.linalg.eigh(s[np.ix_(ix, ix)])
                ld = v[:, -1] * np.sqrt(max(w[-1], 1e-12 * max(w[-1], 1e-300)))
                if ld.sum() < 0:
                    ld = -ld
            elif len(ind) == 1:
                ld = np.array([np.sqrt(s[obs[ind[0]], obs[ind[0]]]) * 0.7])
            else:
                ld = np.zeros(0)
            first = loads[0] if loads else None
            if ind and first is not None and first.rhs == ind[0] and first.fixed not in (None, 0):
                c = float(first.fixed)
                scale = ld[0] / c if abs(ld[0]) > 0 else 1.0
                var[f] = scale**2
                for name, val in zip(ind, ld / scale, strict=True):
                    lam[(f, name)] = val
            else:
                var[f] = 1.0 if std_lv or not ind else 1.0
                for name, val in zip(ind, ld, strict=True):
                    lam[(f, name)] = val
        # higher-order factors: loadings 1, half the variance of the first indicator
        for f in roles.lv:
            lat_ind = [r.rhs for r in grows if r.op == "=~" and r.lhs == f and r.rhs in var]
            if lat_ind and not any(r.rhs in obs for r in grows if r.op == "=~" and r.lhs == f):
                var[f] = 1.0 if std_lv else 0.5 * var[lat_ind[0]]
                for li in lat_ind:
                    lam[(f, li)] = 1.0 if not std_lv else np.sqrt(0.5 * var[li])
        predicted = {r.lhs for r in grows if r.op == "~"} | {
            r.rhs for r in grows if r.op == "=~" and r.rhs in roles.lv}
        for r in grows:
            if r.free < 0:
                continue
            if r.start is not None:
                val = r.start
            elif r.op == "=~":
                val = lam.get((r.lhs, r.rhs), 1.0)
            elif r.op == "~":
                val = 0.0
            elif r.op == "~1":
                val = mom.mean[obs[r.lhs]] if r.lhs in obs else 0.0
            elif r.lhs != r.rhs:
                val = 0.0
            elif r.lhs in obs:
                i = obs[r.lhs]
                expl = sum(lam[(f, r.lhs)] ** 2 * var[f] for f in roles.lv
                           if (f, r.lhs) in lam)
                val = max(s[i, i] - expl, 0.1 * s[i, i]) if expl else 0.5 * s[i, i]
            else:
                val = var.get(r.lhs, 1.0) * (0.5 if r.lhs in predicted else 1.0)
            start[r.free] += val
            count[r.free] += 1
    count[count == 0] = 1
    return start / count


# --------------------------------------------------------------------------- data


def _moments_of(x: np.ndarray) -> structural.Moments:
    mean = x.mean(axis=0)
    xc = x - mean
    return structural.Moments(cov=xc.T @ xc / x.shape[0], mean=mean, n=x.shape[0])


def _as_list(v, n: int, what: str) -> list:
    if isinstance(v, (list, tuple)):
        if len(v) != n:
            raise ValueError(f"{what}: {len(v)} values for {n} groups")
        return list(v)
    return [v] * n if n == 1 else [v]


def _moments_from_cov(sample_cov, sample_nobs, ov: Sequence[str]):
    covs = sample_cov if isinstance(sample_cov, (list, tuple)) else [sample_cov]
    nobs = _as_list(sample_nobs, len(covs), "sample_nobs")
    if sample_nobs is None:
        raise ValueError("sample_nobs: give the number of observations with sample_cov")
    moms = []
    for c, n in zip(covs, nobs, strict=True):
        if not isinstance(c, pd.DataFrame):
            raise TypeError("sample_cov: give a pandas DataFrame with the variable names as "
                            "index and columns")
        missing = [v for v in ov if v not in c.columns or v not in c.index]
        if missing:
            raise SurveyDataError(f"sample_cov: variables {missing} are not in the matrix")
        n = int(n)
        if n < 2:
            raise ValueError(f"sample_nobs: need at least 2 observations, got {n}")
        m = c.loc[list(ov), list(ov)].to_numpy(dtype=float)
        if not np.allclose(m, m.T, rtol=1e-10, atol=0):
            raise ValueError("sample_cov: the matrix is not symmetric")
        moms.append(structural.Moments(cov=m * (n - 1) / n, mean=np.zeros(len(ov)), n=n))
    return moms


# --------------------------------------------------------------------------- results


def n_moments(pats, nx: int) -> int:
    """Sample moments the model is fitted to; those of fixed covariates do not count (lavaan)."""
    return sum(pt.p * (pt.p + 1) // 2 - nx * (nx + 1) // 2
               + ((pt.p - nx) if pt.meanstructure else 0) for pt in pats)


def _fit_dict(res: SEMResult) -> dict[str, float]:
    moms, pats, roles = res.moments, res.patterns, res.roles
    n = sum(m.n for m in moms)
    g = len(moms)
    chi2, df, k = res.raw.chi2, res.df, res.npar
    ix = [roles.ov.index(v) for v in roles.ov_x]
    nox = [i for i in range(len(roles.ov)) if i not in ix]
    chi2_b = 0.0
    df_b = 0
    logl = h1 = 0.0
    for pat, mom in zip(pats, moms, strict=True):
        p = mom.cov.shape[0]
        _, ld = np.linalg.slogdet(mom.cov)
        ldx = np.linalg.slogdet(mom.cov[np.ix_(ix, ix)])[1] if ix else 0.0
        chi2_b += mom.n * (np.sum(np.log(np.diag(mom.cov)[nox])) + ldx - ld)
        df_b += p * (p - 1) // 2 - len(ix) * (len(ix) - 1) // 2
        sigma, mu = structural.implied(pat, res.theta)
        _, lds = np.linalg.slogdet(sigma)
        w = mom.cov if mu is None else mom.cov + np.outer(mom.mean - mu, mom.mean - mu)
        logl += -0.5 * mom.n * (p * np.log(2 * np.pi) + lds + np.sum(np.linalg.inv(sigma) * w))
        h1 += -0.5 * mom.n * (p * np.log(2 * np.pi) + ld + p)
        if ix:  # fixed.x: the likelihood is conditional on the covariates (as lavaan)
            px = len(ix)
            marg = -0.5 * mom.n * (px * np.log(2 * np.pi) + ldx + px)
            logl -= marg
            h1 -= marg
    if res.fiml is not None:  # casewise likelihoods (lavaan's missing = "ml")
        logl, h1, ll_b = res.fiml
        chi2_b = 2.0 * (h1 - ll_b)
    pvalue = float(stats.chi2.sf(chi2, df)) if df > 0 else float("nan")
    d_m = max(chi2 - df, 0.0)
    d_b = max(chi2_b - df_b, d_m, 0.0)
    cfi = 1.0 if d_b == 0 else 1.0 - d_m / d_b
    tli = ((chi2_b / df_b - chi2 / df) / (chi2_b / df_b - 1.0)) if df > 0 and df_b > 0 else 1.0
    rmsea, lo, hi = structural.rmsea_ci(chi2, df, n, g)
    rmsea_p = (float(stats.ncx2.sf(chi2, df, n * df * 0.05**2 / g)) if df > 0
               else float("nan"))
    return {
        "npar": int(k), "chisq": float(chi2), "df": int(df), "pvalue": pvalue,
        "baseline_chisq": float(chi2_b), "baseline_df": int(df_b),
        "baseline_pvalue": float(stats.chi2.sf(chi2_b, df_b)) if df_b > 0 else float("nan"),
        "cfi": float(cfi), "tli": float(tli),
        "logl": float(logl), "unrestricted_logl": float(h1),
        "aic": float(-2 * logl + 2 * k), "bic": float(-2 * logl + k * np.log(n)),
        "bic2": float(-2 * logl + k * np.log((n + 2) / 24)),
        "ntotal": int(n), "rmsea": rmsea, "rmsea_ci_lower": lo, "rmsea_ci_upper": hi,
        "rmsea_pvalue": rmsea_p, "srmr": _srmr(pats, moms, res.theta),
    } | (_scaled_measures(res, chi2, df, chi2_b, df_b, n, g) if res.robust is not None else {})


def _scaled_measures(res: SEMResult, chi2, df, chi2_b, df_b, n, g) -> dict[str, float]:
    """Satorra–Bentler scaled and robust fit measures (lavaan's names)."""
    assert res.robust is not None
    c = res.robust.trace_model / df if df > 0 else 1.0
    cb = res.robust.trace_baseline / df_b if df_b > 0 else 1.0
    x2s, x2bs = chi2 / c, chi2_b / cb
    cfi_s = 1.0 - max(x2s - df, 0.0) / max(x2bs - df_b, x2s - df, 0.0) if df > 0 else 1.0
    tli_s = ((x2bs / df_b - x2s / df) / (x2bs / df_b - 1.0)) if df > 0 else 1.0
    # Brosseau-Liard, Savalei & Li (2012), Brosseau-Liard & Savalei (2014): robust
    # RMSEA/CFI/TLI estimate the population values (lavaan's *.robust); with FIML
    # lavaan's use the corrected statistics of Zhang & Savalei instead
    terms = res.robust.robust_terms
    x3, c3, x3b, c3b = ((chi2, c, chi2_b, cb) if terms is None else
                        (terms.chi2, terms.scaling, terms.baseline_chi2, terms.baseline_scaling))
    num, den = max(x3 - c3 * df, 0.0), max(x3b - c3b * df_b, x3 - c3 * df, 0.0)
    cfi_r = 1.0 - num / den if den > 0 else 1.0
    t1, t2 = (x3 - c3 * df) * df_b, (x3b - c3b * df_b) * df
    tli_r = 1.0 - t1 / t2 if t2 > 0 and df > 0 else 1.0
    rmsea_s = float(np.sqrt(max(0.0, (x2s - df) / (n * df))) * np.sqrt(g)) if df > 0 else 0.0
    rmsea_r = (float(np.sqrt(max(0.0, (x3 - c3 * df) / (n * df))) * np.sqrt(g))
               if df > 0 else 0.0)
    return {
        "chisq_scaled": float(x2s), "chisq_scaling_factor": float(c),
        "pvalue_scaled": float(stats.chi2.sf(x2s, df)) if df > 0 else float("nan"),
        "baseline_chisq_scaled": float(x2bs), "baseline_chisq_scaling_factor": float(cb),
        "cfi_scaled": float(cfi_s), "tli_scaled": float(tli_s),
        "cfi_robust": float(cfi_r), "tli_robust": float(tli_r),
        "rmsea_scaled": rmsea_s, "rmsea_robust": rmsea_r,
    }


def _srmr(pats, moms, theta) -> float:
    """lavaan's ``srmr`` (Bentler): residuals scaled by observed SDs, N-weighted."""
    n_total = sum(m.n for m in moms)
    total = 0.0
    for pat, mom in zip(pats, moms, strict=True):
        sigma, mu = structural.implied(pat, theta)
        sd = np.sqrt(np.diag(mom.cov))
        res = (mom.cov - sigma) / np.outer(sd, sd)
        low = res[np.tril_indices_from(res)]
        ss, cnt = float(np.sum(low**2)), low.size
        if mu is not None:
            rm = (mom.mean - mu) / sd
            ss += float(np.sum(rm**2))
            cnt += rm.size
        total += mom.n / n_total * np.sqrt(ss / cnt)
    return float(total)


@dataclass(frozen=True)
class SEMResult:
    """A fitted structural equation model (see :func:`sem`).

    Methods mirror lavaan's: :meth:`fit_measures`, :meth:`estimates`,
    :meth:`standardized_solution`,
    :meth:`modindices`, :meth:`residuals`, :meth:`factor_scores`,
    :meth:`summary`. ``converged``, ``n_iter``, ``admissible`` and
    ``improper`` (the parameters that make the solution improper) describe the
    estimation.
    """

    model: str
    roles: Roles
    rows: tuple[Row, ...]
    definitions: tuple[Definition, ...]
    patterns: tuple[structural.RAMPattern, ...]
    moments: tuple[structural.Moments, ...]
    raw: structural.RAMFit
    group_labels: tuple[Any, ...]
    data: tuple[pd.DataFrame, ...] | None
    estimator: str = "ML"
    improper: tuple[str, ...] = ()
    boot: np.ndarray | None = None  # bootstrap draws: (B, npar + n_defined)
    boot_failed: int = 0
    robust: RobustML | None = None  # estimator="MLM": sandwich vcov and trace terms
    # missing="fiml": log-likelihoods of the model, the saturated (EM) and the baseline model
    fiml: tuple[float, float, float] | None = None
    # estimator="WLSMV": polychoric sample statistics and the DWLS test terms
    categorical: cat_mod.CategoricalFit | None = None
    _fit: dict = field(default_factory=dict, repr=False)

    # basic quantities ----------------------------------------------------------------
    @property
    def theta(self) -> np.ndarray:
        return self.raw.theta

    @property
    def npar(self) -> int:
        return int(self.theta.size)

    @property
    def df(self) -> int:
        if self.categorical is not None:
            return self.categorical.n_stats - self.npar
        return n_moments(self.patterns, len(self.roles.ov_x)) - self.npar

    @property
    def converged(self) -> bool:
        return self.raw.converged

    @property
    def n_iter(self) -> int:
        return self.raw.n_iter

    @property
    def admissible(self) -> bool:
        return not self.improper

    @property
    def n_groups(self) -> int:
        return len(self.patterns)

    def fit_measures(self) -> dict[str, float]:
        """lavaan's ``fitMeasures`` (names with dots as underscores)."""
        if not self._fit:
            if self.categorical is not None:
                self._fit.update(cat_mod.fit_measures(self.categorical, self.npar, self.df))
            else:
                self._fit.update(_fit_dict(self))
        return dict(self._fit)

    # parameter values ----------------------------------------------------------------
    def _values(self, theta: np.ndarray) -> np.ndarray:
        out = np.empty(len(self.rows))
        names = self.roles.names
        pos = {v: i for i, v in enumerate(names)}
        mats = [structural.matrices(p, theta) for p in self.patterns]
        for t, r in enumerate(self.rows):
            a, s, m = mats[r.group]
            i = pos[r.lhs]
            j = pos[r.rhs] if r.rhs and r.op != "|" else 0
            if r.op == "=~":
                out[t] = a[j, i]
            elif r.op == "~":
                out[t] = a[i, j]
            elif r.op == "~~":
                out[t] = s[i, j]
            elif r.op == "|" or (r.op == "~1" and m is None):
                # thresholds, and WLSMV's intercepts of continuous items (no mean structure)
                out[t] = theta[r.free]
            else:
                assert m is not None
                out[t] = m[i]
        return out

    def _standardized(self, theta: np.ndarray, lv_only: bool) -> np.ndarray:
        est = self._values(theta)
        names = self.roles.names
        pos = {v: i for i, v in enumerate(names)}
        lv = set(self.roles.lv)
        sds, sdiag = [], []
        for pat in self.patterns:
            cov, _, _ = structural.total_moments(pat, theta)
            sd = np.sqrt(np.clip(np.diag(cov), 0, None))
            _, s, _ = structural.matrices(pat, theta)
            sds.append(sd)
            sdiag.append(np.diag(s))
        out = np.empty_like(est)
        with np.errstate(divide="ignore", invalid="ignore"):  # once: it is slow per row
            for t, r in enumerate(self.rows):
                sd = sds[r.group]

                def scale(v: str, _sd=sd) -> float:
                    if lv_only and v not in lv:
                        return 1.0
                    return float(_sd[pos[v]])

                if r.op == "=~":
                    out[t] = est[t] * scale(r.lhs) / scale(r.rhs)
                elif r.op == "~":
                    out[t] = est[t] * scale(r.rhs) / scale(r.lhs)
                elif r.op in ("~1", "|"):
                    out[t] = est[t] / scale(r.lhs)
                elif r.lhs == r.rhs:
                    out[t] = est[t] / scale(r.lhs) ** 2
                else:
                    d = sdiag[r.group]
                    if lv_only and (r.lhs not in lv or r.rhs not in lv):
                        out[t] = est[t] / (scale(r.lhs) * scale(r.rhs))
                    else:
                        out[t] = est[t] / np.sqrt(d[pos[r.lhs]] * d[pos[r.rhs]])
        return out

    def standardized_values(self, theta: np.ndarray, lv_only: bool = False) -> np.ndarray:
        """std_all (or std_lv) of every parameter row at ``theta`` (for delta-method SEs)."""
        return self._standardized(theta, lv_only)

    def _label_env(self, values: np.ndarray) -> dict[str, float]:
        env: dict[str, float] = {}
        for t, r in enumerate(self.rows):
            if r.label and r.label not in env:
                env[r.label] = float(values[t])
        return env

    def _defined(self, values: np.ndarray) -> np.ndarray:
        env = self._label_env(values)
        out = []
        for d in self.definitions:
            v = compile_expression(d.expression)(env)
            env[d.name] = v
            out.append(v)
        return np.array(out)

    def estimates(self, standardized: bool = True, level: float = 0.95) -> pd.DataFrame:
        """Parameter estimates like lavaan's ``parameterEstimates`` (+ ``standardizedSolution``).

        Columns ``lhs, op, rhs, label, est, se, z, pvalue, ci_lower,
        ci_upper`` and with ``standardized`` ``std_lv, std_all``; a
        ``group`` column (1-based, as lavaan) for several groups. Fixed
        parameters have ``se`` 0 and NaN ``z``. Defined parameters (``:=``)
        come last with delta-method standard errors.
        """
        theta = self.theta
        est = self._values(theta)
        se_free = np.sqrt(np.clip(np.diag(self.raw.vcov), 0, None))
        se = np.array([se_free[r.free] if r.free >= 0 else 0.0 for r in self.rows])
        # columns as lists and arrays, made into one frame at the end (pandas inserts are slow)
        cols: dict[str, Any] = {
            "lhs": [r.lhs for r in self.rows], "op": [r.op for r in self.rows],
            "rhs": [r.rhs for r in self.rows],
        }
        if self.n_groups > 1:
            cols["group"] = [r.group + 1 for r in self.rows]
        cols["label"] = [r.label for r in self.rows]
        cols["est"], cols["se"] = est, se
        if standardized:
            cols["std_lv"] = self._standardized(theta, True)
            cols["std_all"] = self._standardized(theta, False)
        if self.definitions:
            vals = self._defined(est)
            jac = numeric_jacobian(lambda th: self._defined(self._values(th)), theta)
            dse = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, self.raw.vcov, jac), 0, None))
            extra: dict[str, Any] = {
                "lhs": [d.name for d in self.definitions],
                "op": [":="] * len(self.definitions),
                "rhs": [d.expression for d in self.definitions],
                "label": [d.name for d in self.definitions],
                "group": [0] * len(self.definitions),
            }
            extra["est"], extra["se"] = vals, dse
            if standardized:
                extra["std_lv"] = self._defined(self._standardized(theta, True))
                extra["std_all"] = self._defined(self._standardized(theta, False))
            cols = {c: (list(v) + list(extra[c]) if isinstance(v, list)
                        else np.concatenate([v, np.asarray(extra[c], dtype=float)]))
                    for c, v in cols.items()}
        q = stats.norm.ppf(0.5 + level / 2)
        est_all, se_all = cols["est"], cols["se"]
        lo = est_all - q * se_all
        hi = est_all + q * se_all
        if self.boot is not None:
            # bootstrap SEs (sd of the draws) and percentile intervals, as lavaan's
            # se = "bootstrap" with boot.ci.type = "perc"
            k = self.npar
            idx = [r.free for r in self.rows] + [k + i for i in range(len(self.definitions))]
            draws = self.boot[:, [max(i, 0) for i in idx]]
            fixed = np.array([i < 0 for i in idx])
            se_all = np.where(fixed, 0.0, draws.std(axis=0, ddof=1))
            lo = np.where(fixed, est_all, np.quantile(draws, (1 - level) / 2, axis=0))
            hi = np.where(fixed, est_all, np.quantile(draws, (1 + level) / 2, axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se_all > 0, est_all / se_all, np.nan)
        out: dict[str, Any] = {}
        for c, v in cols.items():
            out[c] = se_all if c == "se" else v
            if c == "se":
                out["z"], out["pvalue"] = z, 2 * stats.norm.sf(np.abs(z))
                out["ci_lower"], out["ci_upper"] = lo, hi
        return pd.DataFrame(out)

    def standardized_solution(self, type: str = "std.all", level: float = 0.95) -> pd.DataFrame:
        """Standardized estimates with standard errors, like lavaan's ``standardizedSolution``.

        ``type`` is ``"std.all"`` (latent and observed variables standardized)
        or ``"std.lv"`` (latent variables only). Columns ``lhs, op, rhs``
        (``group`` for several groups), ``label, est_std, se, z, pvalue,
        ci_lower, ci_upper``. The standard errors come from the delta method:
        the Jacobian of the standardized values with respect to the free
        parameters (central differences) applied to the estimator's covariance
        matrix of the estimates (the robust one for MLM/MLR; with
        ``se="bootstrap"`` the covariance of the bootstrap draws, as lavaan).
        A fixed parameter whose standardized value still depends on free ones
        (a marker loading) gets a standard error; one that does not has 0 and
        a NaN ``z``. Defined parameters (``:=``) are evaluated on the
        standardized values and come last.
        """
        self._not_for_wlsmv("standardized_solution")
        if type not in ("std.all", "std.lv"):
            raise ValueError(f"type: choose 'std.all' or 'std.lv', got {type!r}")
        lv_only = type == "std.lv"

        def values(theta: np.ndarray) -> np.ndarray:
            std = self._standardized(theta, lv_only)
            return np.concatenate([std, self._defined(std)]) if self.definitions else std

        if self.boot is not None:
            vcov = np.cov(self.boot[:, : self.npar], rowvar=False)
        else:
            vcov = self.raw.vcov
        est = values(self.theta)
        jac = numeric_jacobian(values, self.theta)
        se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, vcov, jac), 0, None))
        # a standardized value that no free parameter moves (a fixed 0, a fixed.x variance)
        se[np.abs(jac).max(axis=1, initial=0.0) < 1e-9] = 0.0
        base = self.estimates(standardized=False)
        out = base[[c for c in ("lhs", "op", "rhs", "group", "label") if c in base]].copy()
        out["est_std"] = est
        out["se"] = se
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, est / se, np.nan)
        q = stats.norm.ppf(0.5 + level / 2)
        out["z"] = z
        out["pvalue"] = 2 * stats.norm.sf(np.abs(z))
        out["ci_lower"] = est - q * se
        out["ci_upper"] = est + q * se
        return out

    def _not_for_wlsmv(self, what: str) -> None:
        if self.categorical is not None:
            raise ValueError(f"{what}() is not available for estimator='WLSMV' (ordinal "
                             "items); it needs a normal-theory (ML) fit")

    # diagnostics -----------------------------------------------------------------------
    def modindices(self, sort: bool = True, minimum: float = 0.0) -> pd.DataFrame:
        """Modification indices (score tests) of the parameters the model fixes at 0.

        Candidates are, as lavaan's default ``modindices()``, a loading of
        every observed variable on every factor and a residual covariance of
        every pair of observed variables, not already in the model (and the
        covariates of ``fixed.x`` excluded). Columns ``lhs, op, rhs, mi, epc,
        sepc_lv, sepc_all`` (``group`` for several groups), sorted by ``mi``.
        """
        self._not_for_wlsmv("modindices")
        roles = self.roles
        nox = [v for v in roles.ov if v not in roles.ov_x]
        existing = {(r.group, *_row_key(r)) for r in self.rows}
        cands: list[Row] = []
        for g in range(self.n_groups):
            for f in roles.lv:
                for v in nox:
                    if (g, f, "=~", v) not in existing:
                        cands.append(Row(f, "=~", v, g))
            for i, a in enumerate(nox):
                for b in nox[i + 1:]:
                    r = Row(a, "~~", b, g)
                    if (g, *_row_key(r)) not in existing:
                        cands.append(r)
        if not cands:
            return pd.DataFrame(columns=["lhs", "op", "rhs", "mi", "epc", "sepc_lv", "sepc_all"])
        k = self.npar
        for j, r in enumerate(cands):
            r.free = k + j
        rows_all = [*self.rows, *cands]
        pats = build_patterns(rows_all, roles, self.n_groups, self.patterns[0].meanstructure,
                              list(self.moments))
        theta = np.concatenate([self.theta, np.zeros(len(cands))])
        g_all, info = structural.grad_info(pats, list(self.moments), theta)
        n = sum(m.n for m in self.moments)
        i11 = info[:k, :k]
        try:
            i11_inv = np.linalg.inv(i11)
        except np.linalg.LinAlgError:
            i11_inv = np.linalg.pinv(i11)
        i21 = info[k:, :k]
        v = np.diag(info[k:, k:]) - np.einsum("ij,jk,ik->i", i21, i11_inv, i21)
        gc = g_all[k:]
        with np.errstate(divide="ignore", invalid="ignore"):
            mi = np.where(v > 1e-12 * np.abs(np.diag(info[k:, k:])), n * gc**2 / (4 * v), np.nan)
            epc = -gc / (2 * v)
        # standardize the EPCs with the current model's standard deviations
        tmp = replace(self, rows=tuple(rows_all), patterns=tuple(pats), definitions=(),
                      raw=replace(self.raw, theta=theta))
        unit_lv = tmp._standardized_with(theta, True)[len(self.rows):]
        unit_all = tmp._standardized_with(theta, False)[len(self.rows):]
        out = pd.DataFrame({
            "lhs": [r.lhs for r in cands], "op": [r.op for r in cands],
            "rhs": [r.rhs for r in cands], "mi": mi, "epc": epc,
            "sepc_lv": epc * unit_lv, "sepc_all": epc * unit_all,
        })
        if self.n_groups > 1:
            out.insert(3, "group", [r.group + 1 for r in cands])
        out = out[~(out["mi"] < minimum)]
        if sort:
            out = out.sort_values("mi", ascending=False, kind="mergesort")
        return out.reset_index(drop=True)

    def _standardized_with(self, theta: np.ndarray, lv_only: bool) -> np.ndarray:
        """Standardization factor of each row (std value of a unit estimate)."""
        est = self._values(theta)
        std = self._standardized(theta, lv_only)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(est != 0, std / est, np.nan)
        # rows at 0 (the candidates): compute the factor from a unit value
        zero = np.nonzero(est == 0)[0]
        if zero.size:
            names = self.roles.names
            pos = {v: i for i, v in enumerate(names)}
            lv = set(self.roles.lv)
            for t in zero:
                r = self.rows[t]
                cov, _, _ = structural.total_moments(self.patterns[r.group], theta)
                sd = np.sqrt(np.clip(np.diag(cov), 0, None))
                _, s, _ = structural.matrices(self.patterns[r.group], theta)

                def sc(v: str, _sd=sd) -> float:
                    return 1.0 if (lv_only and v not in lv) else float(_sd[pos[v]])

                if r.op == "=~":
                    factor[t] = sc(r.lhs) / sc(r.rhs)
                elif r.op == "~":
                    factor[t] = sc(r.rhs) / sc(r.lhs)
                elif r.op == "~~" and r.lhs != r.rhs:
                    if lv_only and (r.lhs not in lv or r.rhs not in lv):
                        factor[t] = 1.0 / (sc(r.lhs) * sc(r.rhs))
                    else:
                        d = np.diag(s)
                        factor[t] = 1.0 / np.sqrt(d[pos[r.lhs]] * d[pos[r.rhs]])
                else:
                    factor[t] = 1.0 / sc(r.lhs) ** (2 if r.op == "~~" else 1)
        return factor

    def implied(self, group: int = 0) -> tuple[pd.DataFrame, pd.Series | None]:
        """Model-implied covariance matrix and mean vector (None without means)."""
        sigma, mu = structural.implied(self.patterns[group], self.theta)
        ov = list(self.roles.ov)
        return (pd.DataFrame(sigma, index=ov, columns=ov),
                pd.Series(mu, index=ov) if mu is not None else None)

    def residuals(self, type: str = "raw") -> dict[str, Any] | list[dict[str, Any]]:
        """Residuals of the covariances (and means): ``{"cov": DataFrame, "mean": Series}``.

        ``type="raw"``: sample minus implied; ``"cor"``: difference of the
        observed and implied correlation matrices (lavaan's ``cor.bollen``);
        ``"standardized"``: raw residuals divided by their standard errors
        (lavaan's ``standardized``; NaN where the variance is not positive).
        A list with one dict per group for multi-group models.
        """
        self._not_for_wlsmv("residuals")
        if type not in ("raw", "cor", "standardized"):
            raise ValueError(f"type: choose 'raw', 'cor' or 'standardized', got {type!r}")
        ov = list(self.roles.ov)
        out = []
        for g, (pat, mom) in enumerate(zip(self.patterns, self.moments, strict=True)):
            sigma, mu = structural.implied(pat, self.theta)
            if type == "raw":
                rc = mom.cov - sigma
                rm = None if mu is None else mom.mean - mu
            elif type == "cor":
                so, si = np.sqrt(np.diag(mom.cov)), np.sqrt(np.diag(sigma))
                rc = mom.cov / np.outer(so, so) - sigma / np.outer(si, si)
                rm = None if mu is None else mom.mean / so - mu / si
            else:
                rc, rm = self._standardized_residuals(pat, mom)
            out.append({"type": type, "cov": pd.DataFrame(rc, index=ov, columns=ov),
                        "mean": None if rm is None else pd.Series(rm, index=ov)})
            del g
        return out[0] if len(out) == 1 else out

    def _standardized_residuals(self, pat, mom):
        """lavaan's ``z.type = "standardized"``: raw / sqrt(diag(Q Gamma Q')).

        Gamma is the normal-theory covariance of the sample moments from the
        sample covariances; Q = I - n J V J' A1 projects out the fitted part,
        with J the model Jacobian, V the parameter covariance and A1 the
        structured h1 information.
        """
        p = pat.p
        n = mom.n
        sigma, mu = structural.implied(pat, self.theta)
        js, jm = structural.jacobian(pat, self.theta)
        inv = np.linalg.inv(sigma)
        sv = mom.cov
        gam = (np.einsum("ik,jl->ijkl", sv, sv)
               + np.einsum("il,jk->ijkl", sv, sv)).reshape(p * p, p * p)
        a1 = 0.5 * np.kron(inv, inv)
        jac = js
        raw = (mom.cov - sigma).ravel()
        if mu is not None and jm is not None:
            zero = np.zeros((p, p * p))
            gam = np.block([[sv, zero], [zero.T, gam]])
            a1 = np.block([[inv, zero], [zero.T, a1]])
            jac = np.vstack([jm, js])
            raw = np.concatenate([mom.mean - mu, raw])
        gam = gam / n
        q = np.eye(jac.shape[0]) - n * jac @ self.raw.vcov @ jac.T @ a1
        v = np.einsum("ij,jk,ik->i", q, gam, q)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(v > 1e-12 * np.abs(np.diag(gam)), raw / np.sqrt(np.abs(v)), np.nan)
        if mu is not None:
            return z[p:].reshape(p, p), z[:p]
        return z.reshape(p, p), None

    def factor_scores(self) -> pd.DataFrame:
        """Factor scores by the regression method (lavaan's ``lavPredict`` default).

        ``E[eta] + Cov(eta, y) Sigma^-1 (y - mu)`` with the model-implied
        moments (the sample means when there is no mean structure). Rows as
        in the (listwise-complete) data; a ``group`` column for several
        groups.
        """
        self._not_for_wlsmv("factor_scores")
        if self.data is None:
            raise ValueError("factor scores need the raw data (the model was fitted to "
                             "sample_cov)")
        p = len(self.roles.ov)
        frames = []
        for g, (pat, mom, x) in enumerate(zip(self.patterns, self.moments, self.data,
                                              strict=True)):
            cov, mean, _ = structural.total_moments(pat, self.theta)
            sigma = cov[:p, :p]
            cross = cov[p:, :p]
            mu = mean[:p] if mean is not None else mom.mean
            eta = mean[p:] if mean is not None else np.zeros(len(self.roles.lv))
            y = x[list(self.roles.ov)].to_numpy(dtype=float)
            scores = eta[None, :] + (y - mu) @ np.linalg.solve(sigma, cross.T)
            fr = pd.DataFrame(scores, index=x.index, columns=list(self.roles.lv))
            if self.n_groups > 1:
                fr.insert(0, "group", self.group_labels[g])
            frames.append(fr)
        return pd.concat(frames) if len(frames) > 1 else frames[0]

    def summary(self, fit_measures: bool = True, standardized: bool = True) -> str:
        """Text like lavaan's ``summary(fit, fit.measures=TRUE, standardized=TRUE)``."""
        return format_summary(self, fit_measures, standardized)

    def __str__(self) -> str:
        return self.summary()


def numeric_jacobian(func, theta: np.ndarray) -> np.ndarray:
    """Central-difference Jacobian of an array-valued function (delta-method SEs)."""
    base = np.atleast_1d(func(theta))
    jac = np.zeros((base.size, theta.size))
    for j in range(theta.size):
        h = 1e-6 * max(1.0, abs(theta[j]))
        e = np.zeros_like(theta)
        e[j] = h
        jac[:, j] = (np.atleast_1d(func(theta + e)) - np.atleast_1d(func(theta - e))) / (2 * h)
    return jac


def _check_admissible(res: SEMResult) -> tuple[str, ...]:
    problems: list[str] = []
    lv = res.roles.lv
    est = res._values(res.theta)
    std = res._standardized(res.theta, False)
    gtag = (lambda r: f" (group {res.group_labels[r.group]!r})") if res.n_groups > 1 else (
        lambda r: "")
    for t, r in enumerate(res.rows):
        if r.op == "~~" and r.lhs == r.rhs and est[t] < 0:
            kind = "variance" if r.lhs in res.roles.lv_x else "residual variance"
            problems.append(f"negative {kind} of {r.lhs} ({est[t]:.4g}){gtag(r)}")
        elif r.op == "~~" and r.lhs != r.rhs and np.isfinite(std[t]) and abs(std[t]) > 1:
            problems.append(f"correlation {r.lhs} ~~ {r.rhs} = {std[t]:.4g} outside "
                            f"[-1, 1]{gtag(r)}")
        elif r.op == "=~" and np.isfinite(std[t]) and abs(std[t]) > 1 + 1e-8:
            problems.append(f"standardized loading {r.lhs} =~ {r.rhs} = {std[t]:.4g} "
                            f"exceeds 1 in absolute value{gtag(r)}")
    p = len(res.roles.ov)
    if lv:
        for g, pat in enumerate(res.patterns):
            cov, _, _ = structural.total_moments(pat, res.theta)
            psi = cov[p:, p:]
            w = np.linalg.eigvalsh(psi)
            if w.min() <= 1e-10 * max(abs(w.max()), 1e-300):
                tag = f" (group {res.group_labels[g]!r})" if res.n_groups > 1 else ""
                problems.append(f"the covariance matrix of the latent variables is not "
                                f"positive definite (smallest eigenvalue {w.min():.3g}){tag}")
    return tuple(problems)


# --------------------------------------------------------------------------- entry point


def sem(
    model: str,
    data: pd.DataFrame | None = None,
    *,
    sample_cov: pd.DataFrame | Sequence[pd.DataFrame] | None = None,
    sample_nobs: int | Sequence[int] | None = None,
    estimator: str | None = None,
    ordered: Sequence[str] | bool | None = None,
    missing: str = "listwise",
    group: str | None = None,
    group_equal: Sequence[str] = (),
    group_partial: Sequence[str] = (),
    se: str = "standard",
    bootstrap: int = 1000,
    seed: int = 0,
    std_lv: bool = False,
    orthogonal: bool = False,
    meanstructure: bool | None = None,
    fixed_x: bool = True,
    scale: tuple[float, float] | None = None,
    mapper: Callable[..., Any] | None = None,
) -> SEMResult:
    """Fit a structural equation model written in lavaan syntax (as lavaan's ``sem()``).

    Parameters
    ----------
    model
        lavaan model text (see :mod:`simlib.servqual.syntax`): ``=~``, ``~``,
        ``~~``, ``~ 1``, labels and fixed values as modifiers, ``:=``.
    data
        Respondents in rows with every observed variable of the model (and
        the ``group`` column). Or give ``sample_cov`` and ``sample_nobs``.
    sample_cov, sample_nobs
        Covariance matrix (a DataFrame named by variable; a list for several
        groups) with divisor N - 1, and the number of observations.
    estimator
        None: ``"ML"``, or ``"WLSMV"`` when ``ordered`` is given. ``"WLSMV"``
        needs ``ordered``; the ML estimators refuse it. Otherwise
        ``"ML"`` (normal-theory maximum likelihood) or ``"MLM"`` (ML
        estimates with Satorra–Bentler robust standard errors and scaled
        test, lavaan's ``estimator = "MLM"``; adds ``chisq_scaled``,
        ``chisq_scaling_factor``, ``pvalue_scaled``, ``cfi_scaled``,
        ``tli_scaled``, ``cfi_robust``, ``tli_robust``, ``rmsea_scaled``,
        ``rmsea_robust`` and the scaled baseline to :meth:`SEMResult.fit_measures`)
        or ``"MLR"`` (lavaan 0.6's ``estimator = "MLR"``: Huber–White sandwich
        standard errors with the observed information as bread and the casewise
        scores as meat, the Yuan–Bentler (Mplus) scaled test; the same fit
        measures as MLM).
    ordered
        Ordinal items: ``True`` (every observed variable of the model) or a list
        naming them (the model's other items are continuous: free intercepts,
        ``"~1"`` rows, and residual variances; polyserial and Pearson
        correlations, :mod:`simlib.servqual.polyserial`); the model is then
        fitted by WLSMV (lavaan's default for
        ``ordered=``, delta parameterization; :mod:`simlib.servqual.categorical`):
        DWLS on the thresholds and polychoric correlations of
        :func:`simlib.servqual.polychoric.polychoric`, robust standard errors,
        the scaled-shifted test (``chisq_scaled``, ``chisq_scaling_factor``,
        ``chisq_shift``, scaled baseline, CFI/TLI/RMSEA ``_scaled``), thresholds as
        ``"|"`` rows of :meth:`SEMResult.estimates`. One group, complete rows
        (listwise), no written mean structure or observed covariates; ``modindices``/``residuals``/``factor_scores`` are
        refused.
    missing
        ``"listwise"`` (drop incomplete rows, with a warning), ``"raise"``, or
        ``"fiml"`` (full-information ML over the missing-data patterns, lavaan's
        ``missing = "ml"``: mean structure, saturated loglik by EM, standard
        errors from the observed information). With ``estimator="MLR"``: Huber–White
        standard errors from the casewise scores, the Yuan–Bentler scaled test and
        lavaan's FIML-corrected robust CFI/TLI/RMSEA (:mod:`simlib.servqual.fiml`).
        Several groups (``group=``, with ``group_equal``/``group_partial``) have one
        EM saturated model per group. Not with ``"MLM"``, ``se="bootstrap"``,
        ``sample_cov`` or fixed observed covariates.
    group, group_equal, group_partial
        Multi-group model: the grouping column (groups in order of first
        appearance, as lavaan), kinds of parameters constrained equal across
        groups (:data:`GROUP_EQUAL`) and parameters exempt from them
        (``"visual =~ x2"``, ``"x3 ~ 1"``).
    se, bootstrap, seed
        ``"standard"`` (expected information) or ``"bootstrap"``: ``bootstrap``
        resamples of the rows (within groups), refitted from the estimates;
        standard errors are the standard deviations of the draws and the
        intervals of :meth:`SEMResult.estimates` are percentile intervals
        (lavaan's ``se = "bootstrap"``, ``boot.ci.type = "perc"``), defined
        parameters included. Resample ``i`` is drawn from
        ``numpy.random.default_rng([seed, i])``, so the same seed gives the
        same draws, in parallel or not; resamples whose fit does not
        converge are dropped (their number is in ``boot_failed``).
    mapper
        How the bootstrap's tasks (50 resamples each) are computed: a
        ``map``-like callable, ``mapper(fn, *iterables)``, such as the
        ``map`` method of an open :class:`simlib.experiments.execution.Executor`
        (local worker processes or Dask); None (default) runs them here.
        The draws are identical either way.
    std_lv
        Identify factors by unit (residual) variances instead of marker loadings.
    orthogonal
        Fix the covariances of exogenous factors at 0.
    scale
        Inclusive answer range ``(low, high)`` of the observed variables; values
        outside it (codes such as 99) are refused with one line naming the column
        and rows (docs/survey-analytics.md#bad-survey-input). None: no range check.
    meanstructure
        Force (True) or suppress (False) the mean structure; by default as lavaan.
    fixed_x
        Treat observed exogenous covariates as fixed (lavaan's default).

    Returns
    -------
    SEMResult

    Raises
    ------
    ModelSyntaxError
        For syntax it does not understand, naming the line.
    ValueError
        For an option outside the listed values, or a model with df < 0.
    SurveyDataError
        For missing columns, non-numeric or degenerate data.

    Warns
    -----
    ImproperSolutionWarning
        Negative variances, correlations beyond ±1, a non-positive-definite
        latent covariance matrix (each named).
    ConvergenceWarning, IdentificationWarning
        As for :func:`simlib.servqual.cfa`.
    """
    has_ordered = not (ordered is None or ordered is False
                       or (not isinstance(ordered, bool) and len(ordered) == 0))
    estimator = ("WLSMV" if has_ordered else "ML") if estimator is None else str(estimator).upper()
    if estimator not in ("ML", "MLM", "MLR", "WLSMV"):
        raise ValueError(f"estimator: choose 'ML', 'MLM' (Satorra-Bentler), 'MLR' "
                         f"(Yuan-Bentler) or 'WLSMV' (ordinal items), got {estimator!r}")
    if has_ordered and estimator != "WLSMV":
        raise ValueError(f"estimator={estimator!r} is for continuous items; ordered items are "
                         "fitted with estimator='WLSMV' (the default with ordered=)")
    if estimator == "WLSMV":
        _check_wlsmv_options(has_ordered, data, missing, group, se, meanstructure)
    if estimator in ("MLM", "MLR") and data is None:
        raise ValueError(f"estimator={estimator!r} needs the raw data (fourth moments), "
                         "not sample_cov")
    if missing not in ("listwise", "raise", "fiml"):
        raise ValueError(f"missing: choose 'listwise', 'raise' or 'fiml', got {missing!r}")
    if missing == "fiml" and (estimator not in ("ML", "MLR") or se != "standard"
                              or data is None):
        raise ValueError(f"missing='fiml' with estimator={estimator!r}, se={se!r}"
                         f"{' and sample_cov' if data is None else ''} is not available; "
                         "FIML needs the raw data, estimator='ML' or 'MLR' and se='standard'")
    if se not in ("standard", "bootstrap"):
        raise ValueError(f"se: choose 'standard' or 'bootstrap', got {se!r}")
    if se == "bootstrap" and (isinstance(bootstrap, bool) or not isinstance(bootstrap, int)
                              or bootstrap < 10):
        raise ValueError(f"bootstrap: give an integer number of resamples >= 10, got "
                         f"{bootstrap!r}")
    if se == "bootstrap" and data is None:
        raise ValueError("se='bootstrap' needs the raw data, not sample_cov")
    bad = [k for k in group_equal if k not in GROUP_EQUAL]
    if isinstance(group_equal, str) or bad:
        raise ValueError(f"group_equal: unknown {bad or group_equal!r}; choose from "
                         f"{list(GROUP_EQUAL)}")
    if (data is None) == (sample_cov is None):
        raise ValueError("give either data or sample_cov (with sample_nobs)")
    statements, definitions = parse_syntax(model)
    roles = _roles(statements, fixed_x)
    labels = {t.modifier(g).label for s in statements for t in s.terms
              for g in range(len(t.modifiers))} - {None}
    clash = sorted(str(lab) for lab in labels if lab in roles.names)
    if clash:
        raise ModelSyntaxError(f"label {clash[0]!r} is also a variable name")
    for d in definitions:
        unknown = [nm for nm in d.names if nm not in labels and nm not in
                   {e.name for e in definitions}]
        if unknown:
            raise ModelSyntaxError(f"line {d.line} ({d.text!r}): {unknown[0]!r} is not a "
                                   "parameter label")
        if d.name in labels or d.name in roles.names:
            raise ModelSyntaxError(f"line {d.line}: defined name {d.name!r} is already used")
    ov = list(roles.ov)
    frames: list[pd.DataFrame] | None
    glabels: list[Any]
    if data is not None:
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
        if missing == "fiml":
            return _sem_fiml(model, data, ov, estimator=estimator, group=group,
                             group_equal=group_equal, group_partial=group_partial,
                             std_lv=std_lv, orthogonal=orthogonal, seed=seed, fixed_x=fixed_x,
                             scale=scale)
        if estimator == "WLSMV":
            assert ordered is not None and ordered is not False
            return _sem_wlsmv(model, data, ordered, std_lv=std_lv, orthogonal=orthogonal,
                              fixed_x=fixed_x, scale=scale, missing=missing)
        x = check_items(data, ov, scale=scale, missing=missing)  # type: ignore[arg-type]
        check_not_degenerate(x)
        if group is None:
            frames, glabels = [x], [None]
        else:
            if group not in data.columns:
                raise SurveyDataError(f"group column {group!r} is not in the data")
            gcol = data.loc[x.index, group]
            if gcol.isna().any():
                raise SurveyDataError(f"group column {group!r} has missing values")
            glabels = list(pd.unique(gcol))
            frames = [x.loc[(gcol == lab).to_numpy()] for lab in glabels]
            for lab, fr in zip(glabels, frames, strict=True):
                if len(fr) <= len(ov):
                    raise SurveyDataError(
                        f"group {lab!r} of column {group!r} has {len(fr)} complete rows "
                        f"for {len(ov)} variables; each group needs more rows than variables")
                check_not_degenerate(fr, where=f"in group {lab!r} of column {group!r}")
        moments = [_moments_of(fr.to_numpy(dtype=float)) for fr in frames]
    else:
        if group is not None:
            raise ValueError("group: with sample_cov give a list of matrices instead")
        moments = _moments_from_cov(sample_cov, sample_nobs, ov)
        frames = None
        glabels = list(range(1, len(moments) + 1)) if len(moments) > 1 else [None]
    if meanstructure is None:
        meanstructure = any(s.op == "~1" for s in statements) or len(moments) > 1
    if meanstructure and data is None:
        raise ValueError("a mean structure needs the data (sample_cov has no means)")
    res = fit_moments(model, moments, frames=frames, group_labels=glabels,
                      meanstructure=meanstructure, std_lv=std_lv, orthogonal=orthogonal,
                      group_equal=group_equal, group_partial=group_partial, seed=seed,
                      fixed_x=fixed_x)
    if estimator in ("MLM", "MLR"):
        assert frames is not None
        if res.roles.ov_x:
            raise ValueError(f"estimator={estimator!r} with fixed observed covariates (fixed.x) "
                             "is not available; pass fixed_x=False")
        arrays = [fr[list(res.roles.ov)].to_numpy(dtype=float) for fr in frames]
        if estimator == "MLM":
            rob = satorra_bentler(list(res.patterns), list(res.moments), res.theta,
                                  res.raw.info, arrays)
        else:
            rob = yuan_bentler(list(res.patterns), list(res.moments), res.theta, arrays)
        res = replace(res, estimator=estimator, robust=rob, raw=replace(res.raw, vcov=rob.vcov))
    if se == "bootstrap":
        assert frames is not None
        res = _bootstrap(res, frames, bootstrap, seed, mapper)
    return res


def _check_wlsmv_options(has_ordered: bool, data, missing: str, group, se: str,
                         meanstructure) -> None:
    """One-line refusals of what estimator='WLSMV' does not cover."""
    if not has_ordered:
        raise ValueError("estimator='WLSMV': name the ordinal items with ordered= (a list of "
                         "columns, or True for every observed variable of the model)")
    if data is None:
        raise ValueError("estimator='WLSMV' needs the raw data (polychoric correlations), "
                         "not sample_cov")
    if missing == "fiml":
        raise ValueError("missing='fiml' is not available with estimator='WLSMV'; use "
                         "missing='listwise' (lavaan's default for WLSMV)")
    if group is not None:
        raise ValueError("estimator='WLSMV' with several groups (group=) is not available")
    if se != "standard":
        raise ValueError(f"se={se!r} is not available with estimator='WLSMV' (its standard "
                         "errors are the robust sandwich)")
    if meanstructure:
        raise ValueError("meanstructure=True is not available with estimator='WLSMV' (the "
                         "intercepts of the latent responses are fixed at 0)")


def _sem_wlsmv(model: str, data: pd.DataFrame, ordered: Sequence[str] | bool, *,
               std_lv: bool, orthogonal: bool, fixed_x: bool,
               scale: tuple[float, float] | None, missing: str) -> SEMResult:
    """WLSMV fit on polychoric correlations (see :mod:`simlib.servqual.categorical`)."""
    statements, definitions = parse_syntax(model)
    if any(st.op == "~1" for st in statements):
        raise ModelSyntaxError("intercepts ('~ 1') are not available with estimator='WLSMV' "
                               "(the latent responses have fixed intercepts 0)")
    roles = _roles(statements, fixed_x)
    ov = list(roles.ov)
    if ordered is True:
        ordinal = ov
    else:
        assert not isinstance(ordered, bool)
        ordinal = [ordered] if isinstance(ordered, str) else list(ordered)
        unknown = [v for v in ordinal if v not in data.columns]
        if unknown:
            raise SurveyDataError(f"ordered: columns {unknown} are not in the data")
    continuous = [v for v in ov if v not in ordinal]
    if len(continuous) == len(ov):
        raise ValueError(f"ordered: none of the model's items {ov} is declared ordered; "
                         "fit continuous items with estimator='ML'")
    if roles.ov_x:
        raise ValueError(f"estimator='WLSMV' with observed exogenous covariates "
                         f"{list(roles.ov_x)} is not available")
    x = check_items(data, ov, scale=scale, missing=missing)  # type: ignore[arg-type]
    sample = polychoric(x, ov, continuous=continuous)
    p = len(ov)
    mom = structural.Moments(cov=sample.cov.to_numpy(), mean=np.zeros(p), n=sample.n)
    rows = build_rows(statements, roles, 1, meanstructure=False, std_lv=std_lv,
                      orthogonal=orthogonal, group_equal=())
    ord_set = set(ov) - set(continuous)
    for r in rows:
        if r.op == "~~" and r.lhs == r.rhs and r.lhs in ord_set:
            if r.user:
                raise ModelSyntaxError(f"line {r.line}: the residual variance of the ordinal "
                                       f"item {r.lhs!r} is not a parameter (delta "
                                       "parameterization: it is 1 - its explained variance)")
            r.fixed = 0.0
    k = index_rows(rows, roles, (), set())
    pat = build_patterns(rows, roles, 1, False, [mom])[0]
    out_paths = (pat.A_idx[:, :p] >= 0) | (pat.A_fixed[:, :p] != 0)
    if out_paths.any():
        j = int(np.nonzero(out_paths.any(axis=0))[0][0])
        raise ValueError(f"estimator='WLSMV': the observed item {ov[j]!r} predicts another "
                         "variable; this is not available")
    nth = sample.thresholds.size
    nd = sample.stats.size
    if k + nth > nd:
        raise ValueError(f"the model is not identified: df = {nd - k - nth} ({k + nth} free "
                         f"parameters > {nd} thresholds, means, variances and correlations)")
    start = start_values(rows, roles, [mom], k, std_lv)
    theta_s, f, nit, ok = cat_mod.fit_dwls(pat, sample, start)
    if not ok:
        warnings.warn(f"the DWLS estimation did not converge after {nit} iterations; "
                      "estimates and fit measures are not trustworthy", ConvergenceWarning,
                      stacklevel=user_stacklevel())
    # delta parameterization: residual variances make the latent responses' variances 1
    resid = 1.0 - np.diag(structural.implied(pat, theta_s)[0])
    for r in rows:
        if r.op == "~~" and r.lhs == r.rhs and r.lhs in ord_set:
            r.fixed = float(resid[ov.index(r.lhs)])
    pat = build_patterns(rows, roles, 1, False, [mom])[0]
    # thresholds of the ordinal items; intercepts (the means) of the continuous ones
    th_rows = [Row(ov[int(j)], "|", name.split("|", 1)[1], 0, free=k + q)
               if "|" in name else Row(ov[int(j)], "~1", "", 0, free=k + q)
               for q, (j, name) in enumerate(zip(sample.th_item, sample.thresholds.index,
                                                 strict=True))]
    last_user = max((t for t, r in enumerate(rows) if r.user), default=-1)
    rows = (rows[:last_user + 1] + [r for r in th_rows if r.op == "|"] + rows[last_user + 1:]
            + [r for r in th_rows if r.op == "~1"])
    theta = np.concatenate([theta_s, sample.th_sign * sample.thresholds.to_numpy()])
    vcov, tr1, tr2, trb1, trb2 = cat_mod.robust(pat, sample, theta, k)
    n1 = sample.n - 1  # lavaan's test statistics of categorical data use N - 1
    chi2_b = cat_mod.baseline_chi2(sample)
    cf = cat_mod.CategoricalFit(sample=sample, k_struct=k, chi2=n1 * f,
                                trace_ugamma=tr1, trace_ugamma2=tr2, baseline_chi2=chi2_b,
                                baseline_trace=trb1, baseline_trace2=trb2,
                                srmr=cat_mod.srmr(pat, sample, theta),
                                catml=cat_mod.catml(pat, sample, theta, k))
    raw = structural.RAMFit(theta=theta, fmin=n1 * f / (2 * sample.n), chi2=n1 * f, n_iter=nit,
                            converged=ok, method="dwls-gauss-newton", vcov=vcov,
                            info=np.zeros((theta.size, theta.size)))
    res = SEMResult(model=model, roles=roles, rows=tuple(rows), definitions=tuple(definitions),
                    patterns=(pat,), moments=(mom,), raw=raw, group_labels=(None,),
                    data=(x,), estimator="WLSMV", categorical=cf)
    return with_admissibility(res)


def _sem_fiml(model: str, data: pd.DataFrame, ov: list[str], *, estimator: str,
              group: str | None, group_equal: Sequence[str], group_partial: Sequence[str],
              std_lv: bool, orthogonal: bool, seed: int, fixed_x: bool,
              scale: tuple[float, float] | None = None) -> SEMResult:
    """FIML fit (see :mod:`simlib.servqual.fiml`): EM moments as start, casewise ML.

    Several groups: one EM saturated model and one set of missing-data
    patterns per group, the likelihoods summed. ``estimator="MLR"`` adds the
    sandwich SEs and the Yuan–Bentler test of :func:`fiml.yuan_bentler_fiml`.
    """
    present = [v for v in ov if v in data.columns]
    probe = data.copy()
    probe[present] = data[present].bfill().ffill()  # validate types/values, keep the gaps
    check_items(probe, ov, scale=scale, missing="raise")
    frame = data[ov].astype(float)
    empty = frame.isna().all(axis=1)
    if empty.any():
        warnings.warn(f"missing='fiml': {int(empty.sum())} rows with no answer dropped",
                      UserWarning, stacklevel=user_stacklevel())
        frame = frame.loc[~empty]
    if group is None:
        frames, glabels = [frame], [None]
    else:
        if group not in data.columns:
            raise SurveyDataError(f"group column {group!r} is not in the data")
        gcol = data.loc[frame.index, group]
        if gcol.isna().any():
            raise SurveyDataError(f"group column {group!r} has missing values")
        glabels = list(pd.unique(gcol))
        frames = [frame.loc[(gcol == lab).to_numpy()] for lab in glabels]
        for lab, fr in zip(glabels, frames, strict=True):
            if len(fr) <= len(ov):
                raise SurveyDataError(
                    f"group {lab!r} of column {group!r} has {len(fr)} rows for {len(ov)} "
                    "variables; each group needs more rows than variables")
    arrays = [fr.to_numpy() for fr in frames]
    group_pats = [fiml_mod.patterns_of(x) for x in arrays]
    saturated = [fiml_mod.em_saturated(x, pats) for x, pats in zip(arrays, group_pats,
                                                                    strict=True)]
    moms = [structural.Moments(cov=sig, mean=mu, n=x.shape[0])
            for (sig, mu, _), x in zip(saturated, arrays, strict=True)]
    n = sum(m.n for m in moms)
    res = fit_moments(model, moms, frames=frames, group_labels=glabels, meanstructure=True,
                      std_lv=std_lv, orthogonal=orthogonal, group_equal=group_equal,
                      group_partial=group_partial, seed=seed, fixed_x=fixed_x,
                      check_admissible=False)  # the EM-moment fit is only the start
    if res.roles.ov_x:
        raise ValueError("missing='fiml' with fixed observed covariates (fixed.x) is not "
                         "available; pass fixed_x=False")
    theta, ll, ok, nit, vcov, hess = fiml_mod.fiml_fit(list(res.patterns), group_pats,
                                                       res.theta, n)
    if not ok:
        warnings.warn("the FIML estimation did not converge; estimates and fit measures are "
                      "not trustworthy", ConvergenceWarning, stacklevel=user_stacklevel())
    ll_h1 = sum(h1 for _, _, h1 in saturated)
    ll_b = sum(fiml_mod.logl(pats, *fiml_mod.independence_moments(x))
               for x, pats in zip(arrays, group_pats, strict=True))
    chi2 = 2.0 * (ll_h1 - ll)
    raw = replace(res.raw, theta=theta, chi2=chi2, fmin=chi2 / n, vcov=vcov, converged=ok,
                  n_iter=res.raw.n_iter + nit, method="fiml-lbfgs", info=hess)
    res = replace(res, raw=raw, fiml=(ll, ll_h1, ll_b), improper=())
    if estimator == "MLR":
        p = len(ov)
        df_b = len(moms) * p * (p - 1) // 2
        rob = fiml_mod.yuan_bentler_fiml(list(res.patterns), arrays, group_pats,
                                         [(sig, mu) for sig, mu, _ in saturated], theta, hess,
                                         res.df, df_b)
        res = replace(res, estimator="MLR", robust=rob, raw=replace(raw, vcov=rob.vcov))
    return with_admissibility(res)


#: Resamples per task of a parallel bootstrap (the draws do not depend on it).
BOOTSTRAP_CHUNK = 50


def bootstrap_chunk(res: SEMResult, arrays: Sequence[np.ndarray], first: int, count: int,
                    seed: int) -> tuple[list[np.ndarray], int]:
    """Refit resamples ``first .. first + count - 1`` of a bootstrap; (draws, failures).

    Resample ``i`` draws its rows (within each group) from
    ``numpy.random.default_rng([seed, i])``, so the draws are the same however the
    resamples are split into tasks and wherever the tasks run.
    """
    meanstructure = res.patterns[0].meanstructure
    draws = []
    failed = 0
    for i in range(first, first + count):
        rng = np.random.default_rng([seed, i])
        moms = [_moments_of(x[rng.integers(0, x.shape[0], x.shape[0])]) for x in arrays]
        if any(np.linalg.eigvalsh(m.cov).min() <= 0 for m in moms):
            failed += 1
            continue
        pats = build_patterns(list(res.rows), res.roles, len(moms), meanstructure, moms)
        fit = structural.fit_ram(pats, moms, res.theta, warn=False, n_starts=0,
                                 want_vcov=False)
        if not fit.converged:
            failed += 1
            continue
        tmp = replace(res, patterns=tuple(pats), moments=tuple(moms), raw=fit)
        vals = tmp._values(fit.theta)
        draws.append(np.concatenate([fit.theta, tmp._defined(vals)]))
    return draws, failed


def _bootstrap(res: SEMResult, frames: Sequence[pd.DataFrame], b: int, seed: int,
               mapper: Callable[..., Any] | None) -> SEMResult:
    arrays = [fr[list(res.roles.ov)].to_numpy(dtype=float) for fr in frames]
    # the workers need no data frames: the result travels without them
    light = replace(res, data=None)
    firsts = list(range(0, b, BOOTSTRAP_CHUNK))
    counts = [min(BOOTSTRAP_CHUNK, b - f) for f in firsts]
    n = len(firsts)
    parts = list((mapper or map)(bootstrap_chunk, [light] * n, [arrays] * n, firsts, counts,
                                 [seed] * n))
    draws = [d for part, _ in parts for d in part]
    failed = sum(f for _, f in parts)
    if len(draws) < 2:
        raise ValueError(f"bootstrap: only {len(draws)} of {b} resamples could be fitted")
    if failed:
        warnings.warn(f"bootstrap: {failed} of {b} resamples did not converge and were "
                      "dropped", ConvergenceWarning, stacklevel=user_stacklevel())
    return replace(res, boot=np.array(draws), boot_failed=failed)


def fit_moments(
    model: str,
    moments: Sequence[structural.Moments],
    *,
    frames: Sequence[pd.DataFrame] | None = None,
    group_labels: Sequence[Any] | None = None,
    meanstructure: bool = False,
    std_lv: bool = False,
    orthogonal: bool = False,
    group_equal: Sequence[str] = (),
    group_partial: Sequence[str] = (),
    seed: int = 0,
    fixed_x: bool = True,
    check_admissible: bool = True,
) -> SEMResult:
    """Fit a lavaan-syntax model to checked sample moments (the core of :func:`sem`).

    :func:`simlib.servqual.cfa` and :func:`simlib.servqual.invariance` call
    this after their own data checks. ``frames`` (the data of each group)
    are needed only for factor scores.
    """
    statements, definitions = parse_syntax(model)
    roles = _roles(statements, fixed_x)
    moments = list(moments)
    n_groups = len(moments)
    glabels = list(group_labels) if group_labels is not None else (
        [None] if n_groups == 1 else list(range(1, n_groups + 1)))
    partial = _parse_partial(group_partial)
    rows = build_rows(statements, roles, n_groups, meanstructure=meanstructure,
                      std_lv=std_lv, orthogonal=orthogonal, group_equal=group_equal)
    k = index_rows(rows, roles, group_equal, partial)
    pats = build_patterns(rows, roles, n_groups, meanstructure, moments)
    nd = n_moments(pats, len(roles.ov_x))
    if k > nd:
        raise ValueError(f"the model is not identified: df = {nd - k} ({k} free parameters "
                         f"> {nd} sample moments)")
    start = start_values(rows, roles, moments, k, std_lv)
    fit = structural.fit_ram(pats, moments, start, rng=np.random.default_rng(seed))
    res = SEMResult(model=model, roles=roles, rows=tuple(rows), definitions=tuple(definitions),
                    patterns=tuple(pats), moments=tuple(moments), raw=fit,
                    group_labels=tuple(glabels), data=tuple(frames) if frames else None)
    return with_admissibility(res) if check_admissible else res


def with_admissibility(res: SEMResult) -> SEMResult:
    """Warn (naming the parameters) and record an improper solution."""
    problems = _check_admissible(res)
    if problems:
        warnings.warn("improper solution: " + "; ".join(problems), ImproperSolutionWarning,
                      stacklevel=user_stacklevel())
        res = replace(res, improper=problems)
    return res
