"""Confirmatory factor analysis (CFA) with lavaan's conventions.

A CFA states which items measure which latent factor and tests whether that
structure reproduces the observed covariances. The model here is the
congeneric measurement model: each item loads on the factors it is assigned
to, residuals are uncorrelated, and factors are free to correlate. It is
estimated by normal-theory maximum likelihood in our own numpy/scipy engine
(:mod:`simlib.servqual.estimation`); semopy is not used for estimation because its
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from . import estimation
from .checks import MissingPolicy, check_items, check_not_degenerate

__all__ = ["CFAModel", "CFAResult", "cfa", "parse_model", "FIT_KEYS"]

FIT_KEYS = (
    "chi2", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_low", "rmsea_ci_high",
    "srmr", "aic", "bic", "loglik", "n",
)

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


class ModelSyntaxError(ValueError):
    """The model description could not be parsed."""


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


# --------------------------------------------------------------------------- patterns


@dataclass
class _Builder:
    """Assigns free-parameter positions; equal keys share one position."""

    keys: dict = field(default_factory=dict)
    labels: list = field(default_factory=list)

    def index(self, key, label) -> int:
        if key not in self.keys:
            self.keys[key] = len(self.labels)
            self.labels.append(label)
        return self.keys[key]


def build_patterns(
    model: CFAModel,
    n_groups: int,
    *,
    std_lv: bool = False,
    orthogonal: bool = False,
    meanstructure: bool = False,
    equal: Sequence[str] = (),
    fix_single_indicator: bool = False,
) -> tuple[list[estimation.GroupPattern], list[tuple]]:
    """Build one parameter pattern per group with lavaan's identification.

    ``equal`` may hold ``"loadings"``, ``"intercepts"``, ``"residuals"``; with
    equal intercepts the latent means are fixed at 0 in the first group and
    free elsewhere (lavaan's ``group.equal``).

    A factor measured by a single item is not identified (its variance and
    the item's residual variance share one sample moment): it is refused
    with a ``ValueError`` unless ``fix_single_indicator`` is true, in which
    case that item's residual variance is fixed at 0 (lavaan's
    ``auto.fix.single``), i.e. the factor *is* the item.
    """
    items = model.items
    facs = model.factor_names
    p, m = len(items), len(facs)
    single = [(f, its[0]) for f, its in model.factors if len(its) == 1]
    if single and not fix_single_indicator:
        f, it = single[0]
        raise ValueError(
            f"factor {f!r} has a single indicator ({it!r}) and is not identified; add "
            "items or pass fix_single_indicator=True to fix its residual variance at 0"
        )
    fixed_theta = {items.index(it) for _, it in single}
    b = _Builder()
    pats = []
    # Elements of a kind listed in `equal` get one key for all groups, so the
    # builder gives them a single free parameter (an equality constraint).
    shared = {k for k, name in (("lam", "loadings"), ("nu", "intercepts"),
                                ("theta", "residuals")) if name in equal}
    for g in range(n_groups):
        def key(kind, *ix, _g=g):
            return (kind, *ix) if kind in shared else (_g, kind, *ix)

        lam_idx = -np.ones((p, m), dtype=int)
        lam_fixed = np.zeros((p, m))
        for j, (f, its) in enumerate(model.factors):
            for r, it in enumerate(its):
                i = items.index(it)
                if r == 0 and not std_lv:
                    lam_fixed[i, j] = 1.0
                else:
                    lam_idx[i, j] = b.index(key("lam", i, j), (g, "=~", f, it))
        phi_idx = -np.ones((m, m), dtype=int)
        phi_fixed = np.zeros((m, m))
        for j in range(m):
            if std_lv:
                phi_fixed[j, j] = 1.0
            else:
                phi_idx[j, j] = b.index((g, "phi", j, j), (g, "~~", facs[j], facs[j]))
            if not orthogonal:
                for k in range(j):
                    ix = b.index((g, "phi", j, k), (g, "~~", facs[k], facs[j]))
                    phi_idx[j, k] = phi_idx[k, j] = ix
        theta_idx = np.array([-1 if i in fixed_theta
                              else b.index(key("theta", i), (g, "~~", it, it))
                              for i, it in enumerate(items)])
        theta_fixed = np.zeros(p)
        nu_idx = nu_fixed = alpha_idx = alpha_fixed = None
        if meanstructure:
            nu_idx = np.array([b.index(key("nu", i), (g, "~1", it, ""))
                               for i, it in enumerate(items)])
            nu_fixed = np.zeros(p)
            alpha_fixed = np.zeros(m)
            if "intercepts" in equal and g > 0:
                alpha_idx = np.array([b.index((g, "alpha", j), (g, "~1", f, ""))
                                      for j, f in enumerate(facs)])
            else:
                alpha_idx = -np.ones(m, dtype=int)
        pats.append(estimation.GroupPattern(lam_idx, lam_fixed, phi_idx, phi_fixed, theta_idx,
                                            theta_fixed, nu_idx, nu_fixed, alpha_idx, alpha_fixed))
    return pats, b.labels


def start_values(model: CFAModel, pats, moments, n_free: int, std_lv: bool) -> np.ndarray:
    """Starting values from a one-factor eigen-decomposition per factor block."""
    items = model.items
    start = np.zeros(n_free)
    counts = np.zeros(n_free)
    for pat, mom in zip(pats, moments, strict=True):
        s = mom.cov
        lam = np.zeros_like(pat.lam_fixed)
        phi = np.eye(len(model.factors))
        th = 0.5 * np.diag(s).copy()
        for j, (_, its) in enumerate(model.factors):
            ix = [items.index(i) for i in its]
            sub = s[np.ix_(ix, ix)]
            if len(ix) >= 2:
                w, v = np.linalg.eigh(sub)
                load = v[:, -1] * np.sqrt(max(w[-1], 1e-6))
                if load.sum() < 0:
                    load = -load
            else:
                load = np.sqrt(np.diag(sub)) * 0.7
            if not std_lv:
                marker = load[0] if abs(load[0]) > 1e-3 else 1.0
                lam[ix, j] = load / marker
                phi[j, j] = marker**2
            else:
                lam[ix, j] = load
            for r, i in enumerate(ix):
                th[i] = max(s[i, i] - load[r] ** 2, 0.1 * s[i, i])
        vals = []
        for idx, arr in ((pat.lam_idx, lam), (pat.phi_idx, phi), (pat.theta_idx, th)):
            vals.append((idx, arr))
        if pat.nu_idx is not None:
            vals.append((pat.nu_idx, mom.mean))
            vals.append((pat.alpha_idx, np.zeros(len(model.factors))))
        for idx, arr in vals:
            mask = idx >= 0
            np.add.at(start, idx[mask], arr[mask])
            np.add.at(counts, idx[mask], 1)
    counts[counts == 0] = 1
    return start / counts


def srmr_bentler(pats, moments, theta) -> float:
    """lavaan's ``srmr`` (Bentler): residuals scaled by observed SDs, N-weighted."""
    n_total = sum(m.n for m in moments)
    total = 0.0
    for pat, mom in zip(pats, moments, strict=True):
        sigma, mu = estimation.implied(pat, theta)
        sd = np.sqrt(np.diag(mom.cov))
        res = (mom.cov - sigma) / np.outer(sd, sd)
        low = res[np.tril_indices_from(res)]
        ss = np.sum(low**2)
        cnt = low.size
        if mu is not None:
            rm = (mom.mean - mu) / sd
            ss += np.sum(rm**2)
            cnt += rm.size
        total += mom.n / n_total * np.sqrt(ss / cnt)
    return float(total)


def fit_indices(fit: estimation.MLFit, pats, moments) -> dict[str, float]:
    """The fit measures listed in :data:`FIT_KEYS` (plus baseline and npar)."""
    n = sum(m.n for m in moments)
    g = len(moments)
    chi2, df = fit.chi2, fit.df
    chi2_b, df_b = estimation.independence_chi2(moments)
    if df < 0:  # fit_ml refuses these; guard against misuse of this helper
        raise ValueError(f"the model is not identified: df = {df}")
    pvalue = float(stats.chi2.sf(chi2, df)) if df > 0 else float("nan")
    d_m = max(chi2 - df, 0.0)
    d_b = max(chi2_b - df_b, d_m, 0.0)
    cfi = 1.0 if d_b == 0 else 1.0 - d_m / d_b
    tli = ((chi2_b / df_b - chi2 / df) / (chi2_b / df_b - 1.0)) if df > 0 else 1.0
    rmsea, lo, hi = estimation.rmsea_ci(chi2, df, n, g)
    q = fit.n_free
    return {
        "chi2": chi2, "df": df, "pvalue": pvalue, "cfi": cfi, "tli": tli,
        "rmsea": rmsea, "rmsea_ci_low": lo, "rmsea_ci_high": hi,
        "srmr": srmr_bentler(pats, moments, fit.theta),
        "aic": float(-2 * fit.loglik + 2 * q), "bic": float(-2 * fit.loglik + q * np.log(n)),
        "loglik": float(fit.loglik), "n": int(n), "npar": int(q),
        "baseline_chi2": chi2_b, "baseline_df": df_b, "converged": fit.converged,
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
        """CR, omega, AVE, max squared correlation and the Fornell–Larcker verdict."""
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
        return tab


def group_moments(x: np.ndarray) -> estimation.GroupMoments:
    """Sample moments of one group's item matrix (covariance with divisor n, as lavaan)."""
    mean = x.mean(axis=0)
    xc = x - mean
    return estimation.GroupMoments(cov=xc.T @ xc / x.shape[0], mean=mean, n=x.shape[0])


def _standardized(pat, theta, model: CFAModel):
    lam = estimation.fill_matrix(pat.lam_idx, pat.lam_fixed, theta)
    phi = estimation.fill_matrix(pat.phi_idx, pat.phi_fixed, theta)
    sigma, _ = estimation.implied(pat, theta)
    sd_f = np.sqrt(np.clip(np.diag(phi), 1e-300, None))
    sd_x = np.sqrt(np.diag(sigma))
    return lam * sd_f[None, :] / sd_x[:, None]


def _delta_se(func, theta, vcov) -> np.ndarray:
    """Delta-method standard errors of ``func(theta)`` (array-valued)."""
    base = func(theta)
    jac = np.zeros((base.size, theta.size))
    h = 1e-6
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = h
        jac[:, j] = ((func(theta + e) - func(theta - e)) / (2 * h)).ravel()
    var = np.einsum("ij,jk,ik->i", jac, vcov, jac)
    return np.sqrt(np.clip(var, 0, None)).reshape(base.shape)


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
    """
    if estimator.lower() != "ml":
        raise ValueError(f"estimator: only 'ml' is available, got {estimator!r}")
    spec = parse_model(model)
    pats, labels = build_patterns(spec, 1, std_lv=std_lv, orthogonal=orthogonal,
                                  fix_single_indicator=fix_single_indicator)
    x = check_items(data, spec.items, scale=scale, missing=missing)
    check_not_degenerate(x)
    mom = group_moments(x.to_numpy())
    start = start_values(spec, pats, [mom], len(labels), std_lv)
    fit = estimation.fit_ml(pats, [mom], start)
    idx = fit_indices(fit, pats, [mom])
    return _make_result(spec, pats[0], fit, idx, x, mom, labels)


def _make_result(spec, pat, fit, idx, x, mom, labels, group=0) -> CFAResult:
    items, facs = spec.items, spec.factor_names
    theta = fit.theta
    se_all = np.sqrt(np.clip(np.diag(fit.vcov), 0, None))
    lam = estimation.fill_matrix(pat.lam_idx, pat.lam_fixed, theta)
    phi = estimation.fill_matrix(pat.phi_idx, pat.phi_fixed, theta)
    th = estimation.fill_matrix(pat.theta_idx, pat.theta_fixed, theta)
    sigma, _ = estimation.implied(pat, theta)
    std = _standardized(pat, theta, spec)
    std_se = _delta_se(lambda t: _standardized(pat, t, spec), theta, fit.vcov)
    lam_se = np.zeros_like(lam)
    mask = pat.lam_idx >= 0
    lam_se[mask] = se_all[pat.lam_idx[mask]]
    loads = dict(spec.factors)
    member = np.array([[it in loads[f] for f in facs] for it in items])
    std = np.where(member, std, 0.0)
    sd_f = np.sqrt(np.diag(phi))
    corr = phi / np.outer(sd_f, sd_f)

    rows = []

    def add(lhs, op, rhs, est, pidx, std_val, std_s):
        se = se_all[pidx] if pidx >= 0 else 0.0
        z = est / se if se > 0 else np.nan
        pv = 2 * stats.norm.sf(abs(z)) if se > 0 else np.nan
        rows.append({"lhs": lhs, "op": op, "rhs": rhs, "est": est, "se": se, "z": z,
                     "pvalue": pv, "std_all": std_val, "std_se": std_s})

    for j, (f, its) in enumerate(spec.factors):
        for it in its:
            i = items.index(it)
            add(f, "=~", it, lam[i, j], pat.lam_idx[i, j], std[i, j], std_se[i, j])
    for i, it in enumerate(items):
        add(it, "~~", it, th[i], pat.theta_idx[i], th[i] / sigma[i, i], np.nan)
    for j in range(len(facs)):
        for k in range(j + 1):
            if k == j:
                add(facs[j], "~~", facs[j], phi[j, j], pat.phi_idx[j, j], 1.0, np.nan)
            elif pat.phi_idx[j, k] >= 0:
                add(facs[k], "~~", facs[j], phi[j, k], pat.phi_idx[j, k], corr[j, k], np.nan)
    params = pd.DataFrame(rows)
    sample_corr = x.corr()
    return CFAResult(
        model=spec,
        fit=idx,
        parameters=params,
        loadings=pd.DataFrame(std, index=items, columns=facs),
        loadings_unstd=pd.DataFrame(np.where(member, lam, 0.0), index=items, columns=facs),
        loadings_se=pd.DataFrame(lam_se, index=items, columns=facs),
        loadings_std_se=pd.DataFrame(np.where(member, std_se, 0.0), index=items, columns=facs),
        factor_covariances=pd.DataFrame(phi, index=facs, columns=facs),
        factor_correlations=pd.DataFrame(corr, index=facs, columns=facs),
        residual_variances=pd.Series(th, index=items, name="residual_variance"),
        implied_cov=pd.DataFrame(sigma, index=items, columns=items),
        sample_cov=pd.DataFrame(mom.cov, index=items, columns=items),
        sample_corr=sample_corr,
    )
