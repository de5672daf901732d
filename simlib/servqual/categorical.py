"""WLSMV: diagonally weighted least squares on polychoric correlations (ordinal items).

With ordinal items (Likert answers) lavaan's default estimator is WLSMV
(Muthén, du Toit & Spisic 1997): the model is fitted to the sample thresholds
and polychoric correlations ``s`` of :mod:`simlib.servqual.polychoric` rather
than to a covariance matrix. In lavaan's ``parameterization = "delta"`` the
latent responses ``y*`` have unit variances, so

    Sigma* = F E S E' F'  with the residual variances of the items set to
    1 - (their explained variance)  (they are not parameters),

the model's correlations are the off-diagonal elements of ``Sigma*`` and
its thresholds are free parameters. The estimator is

* **DWLS**: ``F = (s - sigma(theta))' W (s - sigma(theta))`` with ``W`` the
  inverse of the *diagonal* of ``Gamma`` (the asymptotic covariance of ``s``,
  ``N Cov(s)``), minimised by Gauss–Newton with step halving; the test
  statistic is ``chi2 = (N - 1) F_min`` (lavaan 0.6 uses N - 1 for categorical
  data, also in the RMSEA; its ``fmin`` is ``chi2 / 2N``);
* **robust standard errors**: the sandwich ``(D'WD)^-1 D'W Gamma W D (D'WD)^-1 / (N - 1)``
  with ``D = d sigma / d theta``;
* **mean-and-variance adjusted test** (lavaan's ``"scaled.shifted"``,
  Asparouhov & Muthén 2010): with ``U = W - W D (D'WD)^-1 D'W``,
  ``a = sqrt(df / tr((U Gamma)^2))`` and shift ``b = df - a tr(U Gamma)``,
  ``chisq_scaled = a chi2 + b`` on ``df`` degrees of freedom; lavaan reports
  ``1/a`` as ``chisq.scaling.factor``. The independence baseline (thresholds
  free, correlations 0) is corrected the same way, which gives the scaled
  CFI/TLI.

Continuous items beside the ordinal ones (lavaan's mixed case) add their
means, with minus the mean in the threshold slot and the item's intercept as
its parameter, and their variances to the statistics; the correlations become
covariances (times the continuous items' standard deviations), the items keep
free residual variances, and the baseline frees means and variances too.

The functions here work on one group's RAM pattern
(:mod:`simlib.servqual.structural`) whose ordinal residual variances are
fixed at 0; :func:`simlib.servqual.sem` builds the pattern and the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from . import structural
from .polychoric import Polychoric

__all__ = ["CatML", "CategoricalFit", "catml", "fit_dwls", "fit_measures", "implied_stats"]


@dataclass(frozen=True)
class CatML:
    """The terms of lavaan's robust CFI/TLI/RMSEA for ordinal items (Savalei 2021).

    ``chi2`` is the normal-theory ML statistic of the DWLS estimates on the
    polychoric correlations (N F_ML, correlation structure), ``c_hat`` its
    scaling ``tr(U' V U Gamma) / df``; ``*_baseline`` the same for the
    independence model.
    """

    chi2: float
    c_hat: float
    chi2_baseline: float
    c_hat_baseline: float


@dataclass(frozen=True)
class CategoricalFit:
    """The WLSMV part of a :class:`simlib.servqual.sem.SEMResult`."""

    sample: Polychoric
    k_struct: int  # free parameters of the RAM pattern; the thresholds follow
    chi2: float
    trace_ugamma: float
    trace_ugamma2: float
    baseline_chi2: float
    baseline_trace: float
    baseline_trace2: float
    srmr: float
    # the cat-ML terms of the robust CFI/TLI/RMSEA (:func:`catml`); NaN where lavaan has none
    catml: CatML | None = None

    @property
    def n_stats(self) -> int:
        return int(self.sample.stats.size)

    @property
    def n_pairs(self) -> int:
        return int(self.sample.pairs[0].size)


def implied_stats(pat: structural.RAMPattern, theta: np.ndarray, sample: Polychoric,
                  k_struct: int) -> np.ndarray:
    """Model thresholds (minus intercepts) and (co)variances, in the order of ``sample.stats``."""
    sigma, _ = structural.implied(pat, theta)
    i, j = sample.entries
    return np.concatenate([sample.th_sign * theta[k_struct:], sigma[i, j]])


def _cov_jacobian(pat: structural.RAMPattern, theta: np.ndarray, sample: Polychoric,
                  k_struct: int) -> np.ndarray:
    js, _ = structural.jacobian(pat, theta, k_struct)
    i, j = sample.entries
    return js[i * pat.p + j]


def _weights(sample: Polychoric) -> np.ndarray:
    """DWLS weights of the fitted (co)variances: 1 / their asymptotic variances."""
    assert sample.gamma is not None
    return 1.0 / np.diag(sample.gamma)[sample.thresholds.size:]


def baseline_chi2(sample: Polychoric) -> float:
    """Test statistic of the independence model (thresholds, means, variances free)."""
    w = _weights(sample)[-sample.pairs[0].size:] if sample.pairs[0].size else np.zeros(0)
    i, j = sample.pairs
    return (sample.n - 1) * float(np.sum(w * sample.cov.to_numpy()[i, j] ** 2))


def fit_dwls(pat: structural.RAMPattern, sample: Polychoric, start: np.ndarray,
             maxiter: int = 500, tol: float = 1e-14):
    """Minimise the DWLS discrepancy in the structural parameters (thresholds = sample ones).

    Returns (theta_struct, f_min, iterations, converged); ``f_min`` is
    ``sum w (s - sigma)^2`` over the correlations (and the continuous items'
    variances and covariances).
    """
    w = _weights(sample)
    i, j = sample.entries
    r = sample.cov.to_numpy()[i, j]
    k = start.size

    def resid(th):
        sigma, _ = structural.implied(pat, th)
        return r - sigma[i, j]

    theta = start.astype(float)
    e = resid(theta)
    f = float(np.sum(w * e * e))
    for it in range(1, maxiter + 1):
        jac = _cov_jacobian(pat, theta, sample, k)
        h = jac.T @ (w[:, None] * jac)
        g = jac.T @ (w * e)
        d = np.sqrt(np.clip(np.diag(h), 1e-300, None))
        try:
            step = np.linalg.solve(h / np.outer(d, d), g / d) / d
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(h, g, rcond=None)[0]
        dec = float(g @ step)
        if not np.isfinite(dec):
            return theta, f, it, False
        if dec < tol * max(1.0, f):
            return theta, f, it, True
        t = 1.0
        while t > 1e-10:
            cand = theta + t * step
            ec = resid(cand)
            fc = float(np.sum(w * ec * ec))
            if np.isfinite(fc) and fc <= f - 1e-4 * t * dec:
                break
            t *= 0.5
        else:
            return theta, f, it, dec < 1e-10 * max(1.0, f)
        theta, e, f = cand, ec, fc
    return theta, f, maxiter, False


def robust(pat: structural.RAMPattern, sample: Polychoric, theta: np.ndarray, k_struct: int):
    """Sandwich vcov of all parameters (structural, then thresholds) and the trace terms."""
    gam = sample.gamma
    assert gam is not None
    nth = sample.thresholds.size
    m = gam.shape[0]
    k = theta.size
    delta = np.zeros((m, k))
    delta[:nth, k_struct:] = np.diag(sample.th_sign)  # a mean enters as minus its intercept
    delta[nth:, :k_struct] = _cov_jacobian(pat, theta, sample, k_struct)
    w = 1.0 / np.diag(gam)
    wd = w[:, None] * delta
    a = delta.T @ wd
    a_inv = np.linalg.inv(a)
    b = wd.T @ gam @ wd
    vcov = a_inv @ b @ a_inv / (sample.n - 1)  # N - 1 as lavaan 0.6
    u = np.diag(w) - wd @ a_inv @ wd.T
    ug = u @ gam
    tr1, tr2 = float(np.trace(ug)), float(np.sum(ug * ug.T))
    # independence baseline: thresholds, means and variances are saturated, so U_b Gamma
    # keeps only the weighted block of the pairs
    first = m - sample.pairs[0].size
    gc = gam[first:, first:] * w[first:, None]
    return vcov, tr1, tr2, float(np.trace(gc)), float(np.sum(gc * gc.T))


def catml(pat: structural.RAMPattern, sample: Polychoric, theta: np.ndarray,
          k_struct: int) -> CatML:
    """lavaan's cat-ML terms (``lav_fit_catml_dwls``): the DWLS estimates judged by ML.

    With ``V`` the ML (expected, structured) weight of the off-diagonal
    correlations, ``V_(ij),(kl) = s^ik s^jl + s^il s^jk`` for ``s = Sigma^-1``, and
    ``U = I - D (D'WD)^-1 D'W`` (the DWLS projection of the correlations),
    ``c_hat = tr(U' V U Gamma) / df``; the baseline's is ``tr(Gamma) / df_b``.
    lavaan 0.6.14 defines these for ordinal items only, with a positive definite
    polychoric matrix; otherwise every term is NaN, as its ``NA``.
    """
    nan = CatML(np.nan, np.nan, np.nan, np.nan)
    cor = sample.cor.to_numpy()
    if sample.continuous.any() or np.linalg.eigvalsh(cor).min() < np.sqrt(np.finfo(float).eps):
        return nan
    sigma, _ = structural.implied(pat, theta)
    p = pat.p
    n = sample.n
    _, logdet_s = np.linalg.slogdet(sigma)
    _, logdet_r = np.linalg.slogdet(cor)
    s_inv = np.linalg.inv(sigma)
    chi2 = n * float(logdet_s - logdet_r + np.trace(cor @ s_inv) - p)  # catML uses N
    i, j = sample.pairs
    v = s_inv[i][:, i] * s_inv[j][:, j] + s_inv[i][:, j] * s_inv[j][:, i]
    assert sample.gamma is not None
    nth = sample.thresholds.size
    gam = sample.gamma[nth:, nth:]
    w = 1.0 / np.diag(sample.gamma)[nth:]
    d = _cov_jacobian(pat, theta, sample, k_struct)
    info = d.T @ (w[:, None] * d)
    u = np.eye(w.size) - d @ np.linalg.solve(info, d.T * w[None, :])
    df = w.size - k_struct
    df_b = w.size
    c_hat = float(np.trace(u.T @ v @ u @ gam)) / df if df > 0 else np.nan
    return CatML(chi2=chi2, c_hat=c_hat, chi2_baseline=-n * float(logdet_r),
                 c_hat_baseline=float(np.trace(gam)) / df_b)


def srmr(pat: structural.RAMPattern, sample: Polychoric, theta: np.ndarray) -> float:
    """lavaan's ``srmr`` for ordinal items: residual correlations, thresholds left out."""
    sigma, _ = structural.implied(pat, theta)
    sd = np.sqrt(np.diag(sigma))
    sd[~sample.continuous] = 1.0  # an ordinal item's latent response has variance 1
    i, j = sample.pairs
    e = sample.cor.to_numpy()[i, j] - sigma[i, j] / (sd[i] * sd[j])
    p = pat.p
    return float(np.sqrt(np.sum(e * e) / (p * (p + 1) / 2)))


def _scaled(chi2: float, df: int, tr1: float, tr2: float):
    if df <= 0 or tr2 <= 0:
        return chi2, 1.0, 0.0
    a = np.sqrt(df / tr2)
    shift = df - a * tr1
    return a * chi2 + shift, 1.0 / a, shift


def fit_measures(cf: CategoricalFit, npar: int, df: int) -> dict[str, float]:
    """lavaan's ``fitMeasures`` of a WLSMV fit (names with dots as underscores)."""
    n = cf.sample.n
    chi2, chi2_b, df_b = cf.chi2, cf.baseline_chi2, cf.n_pairs
    x2s, c, shift = _scaled(chi2, df, cf.trace_ugamma, cf.trace_ugamma2)
    x2bs, cb, _ = _scaled(chi2_b, df_b, cf.baseline_trace, cf.baseline_trace2)

    def pv(x, d):
        return float(stats.chi2.sf(x, d)) if d > 0 else float("nan")

    def cfi(x, d, xb, db):
        num, den = max(x - d, 0.0), max(xb - db, x - d, 0.0)
        return 1.0 if den == 0 else 1.0 - num / den

    def tli(x, d, xb, db):
        return ((xb / db - x / d) / (xb / db - 1.0)) if d > 0 and db > 0 else 1.0

    # lavaan's RMSEA of categorical data uses N - 1, as its test statistics
    rmsea, lo, hi = structural.rmsea_ci(chi2, df, n - 1, 1)
    rmsea_s, lo_s, hi_s = structural.rmsea_ci(x2s, df, n - 1, 1)

    def rmsea_p(x):
        return float(stats.ncx2.sf(x, df, (n - 1) * df * 0.05**2)) if df > 0 else float("nan")

    robust = _robust_measures(cf.catml, df, cf.n_pairs, n - 1)
    return {
        "npar": int(npar), "fmin": float(chi2 / (2 * n)), "chisq": float(chi2), "df": int(df),
        "pvalue": pv(chi2, df), "chisq_scaled": float(x2s), "df_scaled": int(df),
        "pvalue_scaled": pv(x2s, df), "chisq_scaling_factor": float(c),
        "chisq_shift": float(shift),
        "baseline_chisq": float(chi2_b), "baseline_df": int(df_b),
        "baseline_pvalue": pv(chi2_b, df_b), "baseline_chisq_scaled": float(x2bs),
        "baseline_pvalue_scaled": pv(x2bs, df_b), "baseline_chisq_scaling_factor": float(cb),
        "cfi": float(cfi(chi2, df, chi2_b, df_b)), "tli": float(tli(chi2, df, chi2_b, df_b)),
        "cfi_scaled": float(cfi(x2s, df, x2bs, df_b)),
        "tli_scaled": float(tli(x2s, df, x2bs, df_b)),
        "rmsea": rmsea, "rmsea_ci_lower": lo, "rmsea_ci_upper": hi,
        "rmsea_pvalue": rmsea_p(chi2), "rmsea_scaled": rmsea_s,
        "rmsea_ci_lower_scaled": lo_s, "rmsea_ci_upper_scaled": hi_s,
        "rmsea_pvalue_scaled": rmsea_p(x2s), **robust, "srmr": cf.srmr, "ntotal": int(n),
    }


def _robust_measures(terms: CatML | None, df: int, df_b: int, n1: int) -> dict[str, float]:
    """lavaan's ``cfi.robust, tli.robust, rmsea.robust`` (with interval and p-value).

    From the cat-ML terms (:func:`catml`): CFI and TLI with ``chi2 - c_hat df`` in place
    of ``chi2 - df``; RMSEA ``sqrt(max(0, chi2 - c_hat df) / (df N))`` with N - 1, its
    interval and close-fit p-value from ``chi2 / c_hat`` scaled back by ``c_hat``.
    """
    keys = ("cfi_robust", "tli_robust", "rmsea_robust", "rmsea_ci_lower_robust",
            "rmsea_ci_upper_robust", "rmsea_pvalue_robust")
    if terms is None or not np.isfinite([terms.chi2, terms.c_hat]).all() or df <= 0:
        return dict.fromkeys(keys, float("nan"))
    x, c = terms.chi2, terms.c_hat
    xb, cb = terms.chi2_baseline, terms.c_hat_baseline
    t1 = max(x - c * df, 0.0)
    t2 = max(x - c * df, xb - cb * df_b, 0.0)
    cfi = 1.0 if np.isclose(t1, 0.0) and np.isclose(t2, 0.0) else 1.0 - t1 / t2
    tt2 = (xb - cb * df_b) * df
    tli = 1.0 - (x - c * df) * df_b / tt2 if tt2 != 0 else 1.0
    rmsea = float(np.sqrt(max(x / n1 / df - c / n1, 0.0)))
    _, lo, hi = structural.rmsea_ci(x / c, df, n1, 1)
    pvalue = float(stats.ncx2.sf(x / c, df, n1 * df / c * 0.05**2))
    return dict(zip(keys, (float(cfi), float(tli), rmsea, float(np.sqrt(c) * lo),
                           float(np.sqrt(c) * hi), pvalue), strict=True))
