"""Confirmatory factor analysis (CFA) with lavaan's conventions.

A CFA states which items measure which latent factor and tests whether that
structure reproduces the observed covariances. The model here is the
congeneric measurement model: each item loads on the factors it is assigned
to, residuals are uncorrelated, and factors are free to correlate. It is
estimated by normal-theory maximum likelihood in our own numpy/scipy engine
(:mod:`simlib.servqual.structural`, shared with :func:`~simlib.servqual.sem`); semopy is not used for estimation because its
log-likelihood, AIC and BIC differ from lavaan's and it has neither SRMR nor
cross-group equality constraints.

Conventions follow lavaan 0.6 (Rosseel 2012), so that the numbers can be
compared with published R output:

* scale set by the first indicator's loading (``std_lv=False``) or by unit
  factor variances (``std_lv=True``);
* sample covariances with divisor N; ``chi2 = N * F_ML``;
* baseline for CFI/TLI = independence model;
* RMSEA with N (not N - 1) and a 90% interval; SRMR = Bentler's SRMR
  (lavaan's ``srmr``: residual covariances scaled by the observed standard
  deviations, means included when the model has a mean structure);
* ``loglik`` of the fitted model, AIC = -2 loglik + 2 q, BIC = -2 loglik +
  q log N with q free parameters;
* standard errors from the expected information matrix.

Reliability and validity from the fitted model: composite reliability
(Jöreskog's rho_c on standardized loadings), omega (McDonald's omega-total
of the unit-weighted raw sum score; semTools ``compRelSEM`` convention) and
its model-implied variant, average variance extracted (Fornell & Larcker
1981; semTools ``AVE`` convention), the Fornell–Larcker criterion, and the
heterotrait–monotrait ratio (HTMT, Henseler, Ringle & Sarstedt 2015; and
HTMT2, the geometric-mean version semTools reports).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import structural
from .checks import MissingPolicy, check_items, check_not_degenerate, user_stacklevel
from .sem import ImproperSolutionWarning, SEMResult, fit_moments
from .syntax import ModelSyntaxError

__all__ = ["CFAModel", "CFAResult", "cfa", "parse_model", "FIT_KEYS"]

FIT_KEYS = (
    "chi2", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_low", "rmsea_ci_high",
    "srmr", "aic", "bic", "loglik", "n",
)

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


@dataclass(frozen=True)
class CFAModel:
    """A measurement model: factor name -> indicator names (in order).

    The first indicator of each factor is the marker (loading fixed to 1)
    unless the model is fitted with ``std_lv=True``.
    """

    factors: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def factor_names(self) -> list[str]:
        return [f for f, _ in self.factors]

    @property
    def items(self) -> list[str]:
        seen: list[str] = []
        for _, its in self.factors:
            for i in its:
                if i not in seen:
                    seen.append(i)
        return seen

    def as_dict(self) -> dict[str, list[str]]:
        return {f: list(i) for f, i in self.factors}

    def to_lavaan(self) -> str:
        """The model in lavaan syntax."""
        return "\n".join(f"{f} =~ {' + '.join(i)}" for f, i in self.factors)


def parse_model(model: str | Mapping[str, Sequence[str]] | CFAModel) -> CFAModel:
    """Turn a mapping or lavaan-style text into a :class:`CFAModel`.

    Parameters
    ----------
    model
        ``{"visual": ["x1", "x2", "x3"], ...}`` or text with one
        ``factor =~ item + item + ...`` statement per line (or separated by
        ``;``); ``#`` starts a comment. Only the ``=~`` operator is supported.
    """
    if isinstance(model, CFAModel):
        return model
    pairs: list[tuple[str, tuple[str, ...]]] = []
    if isinstance(model, str):
        for raw in re.split(r"[\n;]", model):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if "=~" not in line:
                raise ModelSyntaxError(
                    f"only 'factor =~ item + item' statements are supported, got {line!r}"
                )
            lhs, rhs = (s.strip() for s in line.split("=~", 1))
            items = tuple(t.strip() for t in rhs.split("+") if t.strip())
            for name in (lhs, *items):
                if not _NAME.match(name):
                    raise ModelSyntaxError(f"invalid name {name!r} in {line!r}")
            pairs.append((lhs, items))
    elif isinstance(model, Mapping):
        for f, members in model.items():
            if isinstance(members, str):
                raise ModelSyntaxError(f"factor {f!r}: give a list of items, not a string")
            pairs.append((str(f), tuple(str(i) for i in members)))
    else:
        raise TypeError(f"model must be a mapping or lavaan text, got {type(model).__name__}")
    if not pairs:
        raise ModelSyntaxError("the model has no factors")
    names = [f for f, _ in pairs]
    dup = {f for f in names if names.count(f) > 1}
    if dup:
        raise ModelSyntaxError(f"factor defined twice: {', '.join(sorted(dup))}")
    for f, items in pairs:
        if len(items) < 1:
            raise ModelSyntaxError(f"factor {f!r} has no indicators")
        if len(set(items)) != len(items):
            raise ModelSyntaxError(f"factor {f!r} lists an item twice")
        if f in {i for _, its in pairs for i in its}:
            raise ModelSyntaxError(f"{f!r} is both a factor and an item (higher-order models "
                                   "are not supported)")
    return CFAModel(tuple(pairs))


# --------------------------------------------------------------------------- model text


def check_identified(model: CFAModel, fix_single_indicator: bool = False) -> None:
    """Refuse a factor measured by a single item unless its residual is fixed.

    A factor measured by a single item is not identified (its variance and
    the item's residual variance share one sample moment): it is refused
    with a ``ValueError`` unless ``fix_single_indicator`` is true, in which
    case that item's residual variance is fixed at 0 (lavaan's
    ``auto.fix.single``), i.e. the factor *is* the item.
    """
    single = [(f, its[0]) for f, its in model.factors if len(its) == 1]
    if single and not fix_single_indicator:
        f, it = single[0]
        raise ValueError(
            f"factor {f!r} has a single indicator ({it!r}) and is not identified; add "
            "items or pass fix_single_indicator=True to fix its residual variance at 0"
        )


def model_text(model: CFAModel, fix_single_indicator: bool = False) -> str:
    """lavaan text of the measurement model (single items' residuals fixed at 0 if asked)."""
    lines = [model.to_lavaan()]
    if fix_single_indicator:
        lines += [f"{its[0]} ~~ 0*{its[0]}" for _, its in model.factors if len(its) == 1]
    return "\n".join(lines)


def fit_dict(res: SEMResult) -> dict[str, float]:
    """The fit measures listed in :data:`FIT_KEYS` (plus baseline, npar, converged)."""
    fm = res.fit_measures()
    return {
        "chi2": fm["chisq"], "df": fm["df"], "pvalue": fm["pvalue"], "cfi": fm["cfi"],
        "tli": fm["tli"], "rmsea": fm["rmsea"], "rmsea_ci_low": fm["rmsea_ci_lower"],
        "rmsea_ci_high": fm["rmsea_ci_upper"], "srmr": fm["srmr"], "aic": fm["aic"],
        "bic": fm["bic"], "loglik": fm["logl"], "n": fm["ntotal"], "npar": fm["npar"],
        "baseline_chi2": fm["baseline_chisq"], "baseline_df": fm["baseline_df"],
        "converged": res.converged, "admissible": res.admissible,
    }


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CFAResult:
    """Results of :func:`cfa`.

    Attributes
    ----------
    model : CFAModel
    fit : dict
        ``chi2, df, pvalue, cfi, tli, rmsea, rmsea_ci_low, rmsea_ci_high,
        srmr, aic, bic, loglik, n`` (lavaan conventions) plus ``npar``,
        ``baseline_chi2``, ``baseline_df``, ``converged``.
    parameters : pandas.DataFrame
        One row per model parameter (``lhs, op, rhs, est, se, z, pvalue,
        std_all, std_se``), like lavaan's ``parameterEstimates`` with
        ``standardizedSolution``.
    loadings : pandas.DataFrame
        Standardized loadings (lavaan ``std.all``), item x factor, 0 where
        the item does not load.
    loadings_unstd, loadings_se, loadings_std_se : pandas.DataFrame
        Unstandardized loadings and the standard errors of both.
    factor_correlations : pandas.DataFrame
    residual_variances : pandas.Series
        Unstandardized residual variances of the items.
    sem : SEMResult
        The underlying structural-equation fit (``summary()``,
        ``modindices()``, ``residuals()``, ``factor_scores()``).
    """

    model: CFAModel
    fit: dict
    parameters: pd.DataFrame
    loadings: pd.DataFrame
    loadings_unstd: pd.DataFrame
    loadings_se: pd.DataFrame
    loadings_std_se: pd.DataFrame
    factor_covariances: pd.DataFrame
    factor_correlations: pd.DataFrame
    residual_variances: pd.Series
    implied_cov: pd.DataFrame
    sample_cov: pd.DataFrame
    sample_corr: pd.DataFrame
    sem: SEMResult | None = None

    @property
    def composite_reliability(self) -> pd.Series:
        """Jöreskog's rho_c per factor from standardized loadings."""
        out = {}
        for f, its in self.model.factors:
            lam = self.loadings.loc[list(its), f].to_numpy()
            err = 1.0 - lam**2
            out[f] = lam.sum() ** 2 / (lam.sum() ** 2 + err.sum())
        return pd.Series(out, name="composite_reliability")

    @property
    def omega(self) -> pd.Series:
        """McDonald's omega-total of each factor's unit-weighted raw sum score.

        ``(sum lambda)^2 phi / var(sum of items)`` with unstandardized
        estimates and the *observed* variance of the sum in the denominator
        (semTools' ``compRelSEM`` default, ``obs.var = TRUE``; Bentler 2009).
        Valid for items loading on a single factor.
        """
        out = {}
        for f, its in self.model.factors:
            ix = list(its)
            lam = self.loadings_unstd.loc[ix, f].to_numpy()
            phi = self.factor_covariances.loc[f, f]
            out[f] = lam.sum() ** 2 * phi / self.sample_cov.loc[ix, ix].to_numpy().sum()
        return pd.Series(out, name="omega")

    @property
    def omega_model(self) -> pd.Series:
        """Omega-total with the model-implied variance of the sum score.

        ``(sum lambda)^2 phi / [(sum lambda)^2 phi + sum theta]`` (Raykov 2001;
        the "omega" of semTools' older ``reliability()``).
        """
        out = {}
        for f, its in self.model.factors:
            ix = list(its)
            lam = self.loadings_unstd.loc[ix, f].to_numpy()
            phi = self.factor_covariances.loc[f, f]
            true = lam.sum() ** 2 * phi
            out[f] = true / (true + self.residual_variances[ix].to_numpy().sum())
        return pd.Series(out, name="omega_model")

    @property
    def ave(self) -> pd.Series:
        """Average variance extracted (Fornell & Larcker 1981).

        Common-factor variance of the items over their total observed
        variance, ``sum(lambda^2 phi) / sum(s_ii)``, as semTools' ``AVE``
        computes it; with standardized items this is the mean squared
        standardized loading.
        """
        out = {}
        for f, its in self.model.factors:
            ix = list(its)
            lam = self.loadings_unstd.loc[ix, f].to_numpy()
            phi = self.factor_covariances.loc[f, f]
            out[f] = float((lam**2 * phi).sum() / np.diag(self.sample_cov.loc[ix, ix]).sum())
        return pd.Series(out, name="ave")

    @property
    def fornell_larcker(self) -> pd.DataFrame:
        """sqrt(AVE) on the diagonal, factor correlations off it.

        Discriminant validity holds for a factor when its sqrt(AVE) exceeds
        its correlations with every other factor (Fornell & Larcker 1981).
        """
        out = self.factor_correlations.copy()
        for f in out.index:
            out.loc[f, f] = np.sqrt(self.ave[f])
        return out

    def _htmt(self, geometric: bool) -> pd.DataFrame:
        r = self.sample_corr.abs() if geometric else self.sample_corr
        facs = self.model.factor_names
        its = dict(self.model.factors)

        def avg(a: np.ndarray) -> float:
            return float(np.exp(np.log(a).mean())) if geometric else float(a.mean())

        def mono(f):
            ix = list(its[f])
            if len(ix) < 2:
                return 1.0
            sub = r.loc[ix, ix].to_numpy()
            return avg(sub[np.triu_indices(len(ix), 1)])

        out = pd.DataFrame(np.eye(len(facs)), index=facs, columns=facs)
        for a in range(len(facs)):
            for b in range(a):
                fa_, fb = facs[a], facs[b]
                het = avg(r.loc[list(its[fa_]), list(its[fb])].to_numpy().ravel())
                val = het / np.sqrt(mono(fa_) * mono(fb))
                out.loc[fa_, fb] = out.loc[fb, fa_] = val
        return out

    @property
    def htmt(self) -> pd.DataFrame:
        """Heterotrait–monotrait ratio (Henseler, Ringle & Sarstedt 2015).

        Arithmetic means of the item correlations. Values above 0.85
        (strict) or 0.90 (liberal) signal a lack of discriminant validity.
        """
        return self._htmt(geometric=False)

    @property
    def htmt2(self) -> pd.DataFrame:
        """HTMT2 (Roemer, Schuberth & Henseler 2021): geometric means of
        absolute correlations; the default of semTools' ``htmt``."""
        return self._htmt(geometric=True)

    def validity_table(self) -> pd.DataFrame:
        """CR, omega, AVE, max squared correlation and the Fornell–Larcker verdict.

        On an improper solution (negative residual variances, correlations
        beyond ±1) these measures are not meaningful: the table then warns
        (:class:`~simlib.servqual.sem.ImproperSolutionWarning`) and lists the
        problems in ``attrs["improper"]``.
        """
        improper = list(self.sem.improper) if self.sem is not None else []
        if improper:
            warnings.warn("the validity table is computed on an improper solution: "
                          + "; ".join(improper), ImproperSolutionWarning,
                          stacklevel=user_stacklevel())
        corr = self.factor_correlations.to_numpy().copy()
        np.fill_diagonal(corr, 0.0)
        msv = pd.Series((corr**2).max(axis=1), index=self.factor_correlations.index)
        tab = pd.DataFrame({
            "composite_reliability": self.composite_reliability,
            "omega": self.omega,
            "omega_model": self.omega_model,
            "ave": self.ave,
            "max_shared_variance": msv,
        })
        tab["fornell_larcker_ok"] = tab["ave"] > tab["max_shared_variance"]
        tab.attrs["improper"] = improper
        return tab


def group_moments(x: np.ndarray) -> structural.Moments:
    """Sample moments of one group's item matrix (covariance with divisor n, as lavaan)."""
    mean = x.mean(axis=0)
    return structural.Moments(cov=cross_product(x - mean) / x.shape[0], mean=mean,
                              n=x.shape[0])


def cross_product(xc: np.ndarray) -> np.ndarray:
    """``xc' xc`` summed over blocks of rows small enough for a single BLAS thread.

    One product of a tall matrix (10,000 x 22) is handed by OpenBLAS to all its
    threads; on a busy machine, and more so in a niced process, waking them
    takes up to half a second instead of the millisecond the product needs.
    Blocks of at most 2^17 multiply-adds stay below OpenBLAS's threading
    threshold (2^18) and cost about the same on an idle machine.
    """
    p = xc.shape[1]
    rows = max(16, 2**17 // max(p * p, 1))
    out = np.zeros((p, p))
    for start in range(0, xc.shape[0], rows):
        block = xc[start:start + rows]
        out += block.T @ block
    return out


def cfa(
    data: pd.DataFrame,
    model: str | Mapping[str, Sequence[str]] | CFAModel,
    estimator: str = "ml",
    *,
    std_lv: bool = False,
    orthogonal: bool = False,
    missing: MissingPolicy = "listwise",
    fix_single_indicator: bool = False,
    scale: tuple[float, float] | None = None,
) -> CFAResult:
    """Fit a confirmatory factor model by maximum likelihood.

    The model is fitted by the structural-equation engine of
    :func:`simlib.servqual.sem` (same numbers as ``sem(model.to_lavaan(),
    data)``), which is invariant to the units of the items.

    Parameters
    ----------
    data
        Respondents in rows; must contain every item of the model.
    model
        ``{factor: [items]}`` or lavaan text (``"F =~ a + b + c"``).
    estimator
        ``"ml"`` (normal-theory maximum likelihood); the only one offered.
    std_lv
        Identify factors by unit variances instead of marker loadings.
    orthogonal
        Fix factor covariances at zero.
    missing
        Missing-data policy, see :func:`simlib.servqual.checks.check_items`.
    fix_single_indicator
        Fix the residual variance of a factor's only item at 0 (lavaan's
        ``auto.fix.single``); by default single-indicator factors are refused.
    scale
        Optional ``(low, high)`` answer range; values outside it are refused.

    Returns
    -------
    CFAResult

    Raises
    ------
    ValueError
        If the model is not identified: a factor with a single item (see
        ``fix_single_indicator``) or more free parameters than sample
        moments (df < 0, e.g. one factor with two items).
    simlib.servqual.checks.DegenerateDataError
        If an item is constant or items are exactly collinear.

    Warns
    -----
    simlib.servqual.checks.ConvergenceWarning
        If the optimiser did not converge (``fit["converged"]`` is False).
    simlib.servqual.checks.IdentificationWarning
        If the information matrix is singular or near-singular.
    simlib.servqual.sem.ImproperSolutionWarning
        If the solution is improper (``fit["admissible"]`` is False): negative
        residual variances, factor correlations beyond ±1. Composite
        reliability, AVE and the validity table are then not meaningful.
    """
    if estimator.lower() != "ml":
        raise ValueError(f"estimator: only 'ml' is available, got {estimator!r}")
    spec = parse_model(model)
    check_identified(spec, fix_single_indicator)
    x = check_items(data, spec.items, scale=scale, missing=missing)
    mom = group_moments(x.to_numpy())
    check_not_degenerate(x, cov=mom.cov)
    res = fit_moments(model_text(spec, fix_single_indicator), [mom], frames=[x],
                      std_lv=std_lv, orthogonal=orthogonal)
    return _make_result(spec, res, x, mom)


def _make_result(spec: CFAModel, res: SEMResult, x: pd.DataFrame, mom) -> CFAResult:
    items, facs = spec.items, spec.factor_names
    est = res.estimates(standardized=True)
    lhs, ops, rhs = (est[c].tolist() for c in ("lhs", "op", "rhs"))
    theta = res.theta
    # delta-method SEs of the standardized loadings (std_se; NaN on the other rows)
    load_rows = np.array([i for i, op in enumerate(ops) if op == "=~"], dtype=int)
    names = res.roles.names
    ys = np.array([names.index(rhs[i]) for i in load_rows], dtype=int)
    fs = np.array([names.index(lhs[i]) for i in load_rows], dtype=int)
    jac = structural.central_jacobian(
        lambda th: standardized_loadings(res.patterns[0], th, ys, fs), theta)
    std_se = np.full(len(ops), np.nan)
    std_se[load_rows] = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, res.raw.vcov, jac),
                                        0, None))
    cols = {c: est[c].to_numpy() for c in ("est", "se", "z", "pvalue", "std_all")}
    cols["std_se"] = std_se
    first: dict[tuple, int] = {}
    for i, key in enumerate(zip(lhs, ops, rhs, strict=True)):
        first.setdefault(key, i)

    # rows of the table, in lavaan's order: loadings, residual variances, factor (co)variances
    keys = [(f, "=~", it) for f, its in spec.factors for it in its]
    keys += [(it, "~~", it) for it in items]
    for j in range(len(facs)):
        for k in range(j + 1):
            key = (facs[k], "~~", facs[j])
            if key not in first:
                key = (facs[j], "~~", facs[k])
            if key not in first:
                continue
            i = first[key]
            if k == j or cols["se"][i] > 0 or cols["est"][i] != 0:  # orthogonal: no fixed-0 rows
                keys.append(key)
    pick = np.array([first[key] for key in keys], dtype=int)
    params = pd.DataFrame({"lhs": [key[0] for key in keys], "op": [key[1] for key in keys],
                           "rhs": [key[2] for key in keys],
                           **{c: v[pick] for c, v in cols.items()}})
    lam = np.zeros((len(items), len(facs)))
    lam_se = np.zeros_like(lam)
    std = np.zeros_like(lam)
    std_s = np.zeros_like(lam)
    item_pos = {it: i for i, it in enumerate(items)}
    fac_pos = {f: j for j, f in enumerate(facs)}
    for key, r in zip(keys, pick, strict=False):
        if key[1] != "=~":
            break  # the loadings come first
        i, j = item_pos[key[2]], fac_pos[key[0]]
        lam[i, j], lam_se[i, j] = cols["est"][r], cols["se"][r]
        std[i, j], std_s[i, j] = cols["std_all"][r], cols["std_se"][r]
    cov_all, _, _ = structural.total_moments(res.patterns[0], theta)
    p = len(res.roles.ov)
    order = [res.roles.ov.index(i) for i in items]
    lv_order = [p + res.roles.lv.index(f) for f in facs]
    phi = cov_all[np.ix_(lv_order, lv_order)]
    sd_f = np.sqrt(np.clip(np.diag(phi), 1e-300, None))
    corr = phi / np.outer(sd_f, sd_f)
    sigma = cov_all[np.ix_(order, order)]
    th = cols["est"][[first[(it, "~~", it)] for it in items]]
    sample_cov = mom.cov[np.ix_(order, order)] if list(res.roles.ov) != items else mom.cov
    return CFAResult(
        model=spec,
        fit=fit_dict(res),
        parameters=params,
        loadings=pd.DataFrame(std, index=items, columns=facs),
        loadings_unstd=pd.DataFrame(lam, index=items, columns=facs),
        loadings_se=pd.DataFrame(lam_se, index=items, columns=facs),
        loadings_std_se=pd.DataFrame(std_s, index=items, columns=facs),
        factor_covariances=pd.DataFrame(phi, index=facs, columns=facs),
        factor_correlations=pd.DataFrame(corr, index=facs, columns=facs),
        residual_variances=pd.Series(th, index=items, name="residual_variance"),
        implied_cov=pd.DataFrame(sigma, index=items, columns=items),
        sample_cov=pd.DataFrame(sample_cov, index=items, columns=items),
        sample_corr=pd.DataFrame(correlation(mom.cov), index=x.columns, columns=x.columns),
        sem=res,
    )


def correlation(cov: np.ndarray) -> np.ndarray:
    """Correlation matrix of a covariance matrix (diagonal exactly 1, clipped to [-1, 1])."""
    sd = np.sqrt(np.diag(cov))
    r = np.clip(cov / np.outer(sd, sd), -1.0, 1.0)
    np.fill_diagonal(r, 1.0)
    return r


def standardized_loadings(pat: structural.RAMPattern, thetas: np.ndarray, ys: np.ndarray,
                          fs: np.ndarray) -> np.ndarray:
    """std_all of the loadings ``A[ys, fs]`` (lambda sd(f) / sd(y)) at each row of ``thetas``."""
    cov, a = structural.stacked_moments(pat, thetas)
    sd = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2), 0, None))
    return a[:, ys, fs] * sd[:, fs] / sd[:, ys]
