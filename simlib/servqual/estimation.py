"""Maximum-likelihood estimation of (multi-group) confirmatory factor models.

This is the numerical core behind :func:`simlib.servqual.cfa` and
:func:`simlib.servqual.invariance`. It fits the linear factor model

    Sigma_g = Lambda_g Phi_g Lambda_g' + Theta_g,    mu_g = nu_g + Lambda_g alpha_g

to the sample moments of each group g by minimising lavaan's normal-theory
ML discrepancy (Jöreskog 1969; Rosseel 2012)

    F = sum_g (n_g / N) [log|Sigma_g| + tr(S_g Sigma_g^-1) - log|S_g| - p
                          + (ybar_g - mu_g)' Sigma_g^-1 (ybar_g - mu_g)]

with ``S_g`` using the divisor ``n_g`` (lavaan's ``likelihood = "normal"``),
so that the test statistic is ``chi2 = N * F_min``. Every matrix element is
either fixed or points at an entry of the free-parameter vector; two elements
pointing at the same entry are constrained equal (this is how the invariance
steps are expressed). The gradient is analytic; standard errors come from the
expected information matrix, as in lavaan's default ``information =
"expected"``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from .checks import ConvergenceWarning, IdentificationWarning, user_stacklevel

__all__ = ["GroupMoments", "GroupPattern", "MLFit", "fit_ml", "independence_chi2"]


@dataclass(frozen=True)
class GroupMoments:
    """Sample moments of one group (covariance with divisor n)."""

    cov: np.ndarray
    mean: np.ndarray
    n: int


@dataclass(frozen=True)
class GroupPattern:
    """Which model-matrix elements are free, for one group.

    Index arrays hold the position of the element in the free-parameter vector,
    or -1 when the element is fixed at the value in the matching ``*_fixed``
    array. ``nu_idx``/``alpha_idx`` are ``None`` when there is no mean
    structure.
    """

    lam_idx: np.ndarray
    lam_fixed: np.ndarray
    phi_idx: np.ndarray
    phi_fixed: np.ndarray
    theta_idx: np.ndarray  # diagonal only
    theta_fixed: np.ndarray
    nu_idx: np.ndarray | None = None
    nu_fixed: np.ndarray | None = None
    alpha_idx: np.ndarray | None = None
    alpha_fixed: np.ndarray | None = None


def fill_matrix(idx: np.ndarray, fixed: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """A model matrix: its fixed values, with free elements taken from ``theta``."""
    out = np.array(fixed, dtype=float, copy=True)
    mask = idx >= 0
    out[mask] = theta[idx[mask]]
    return out


def _accumulate(grad: np.ndarray, idx: np.ndarray, d: np.ndarray) -> None:
    mask = idx >= 0
    np.add.at(grad, idx[mask], d[mask])


def implied(pattern: GroupPattern, theta: np.ndarray):
    """Model-implied covariance and mean (mean is None without mean structure)."""
    lam = fill_matrix(pattern.lam_idx, pattern.lam_fixed, theta)
    phi = fill_matrix(pattern.phi_idx, pattern.phi_fixed, theta)
    th = fill_matrix(pattern.theta_idx, pattern.theta_fixed, theta)
    sigma = lam @ phi @ lam.T + np.diag(th)
    mu = None
    if pattern.nu_idx is not None:
        # a mean structure has all four patterns (they are built together)
        assert pattern.nu_fixed is not None and pattern.alpha_idx is not None
        assert pattern.alpha_fixed is not None
        nu = fill_matrix(pattern.nu_idx, pattern.nu_fixed, theta)
        al = fill_matrix(pattern.alpha_idx, pattern.alpha_fixed, theta)
        mu = nu + lam @ al
    return sigma, mu


def _group_objective(pattern, mom: GroupMoments, theta, want_grad: bool):
    lam = fill_matrix(pattern.lam_idx, pattern.lam_fixed, theta)
    phi = fill_matrix(pattern.phi_idx, pattern.phi_fixed, theta)
    th = fill_matrix(pattern.theta_idx, pattern.theta_fixed, theta)
    sigma = lam @ phi @ lam.T + np.diag(th)
    p = sigma.shape[0]
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return np.inf, None
    logdet = 2.0 * np.log(np.diag(chol)).sum()
    inv = np.linalg.inv(sigma)
    w = mom.cov
    has_mean = pattern.nu_idx is not None
    if has_mean:
        nu = fill_matrix(pattern.nu_idx, pattern.nu_fixed, theta)
        al = fill_matrix(pattern.alpha_idx, pattern.alpha_fixed, theta)
        d = mom.mean - (nu + lam @ al)
        w = w + np.outer(d, d)
    sign, logdet_s = np.linalg.slogdet(mom.cov)
    f = logdet + np.sum(inv * w) - logdet_s - p
    if not want_grad:
        return f, None
    grad = np.zeros_like(theta)
    g = inv - inv @ w @ inv  # dF/dSigma (symmetric)
    d_lam = 2.0 * g @ lam @ phi
    d_phi = lam.T @ g @ lam
    d_th = np.diag(g).copy()
    if has_mean:
        gm = -2.0 * inv @ d  # dF/dmu
        d_lam = d_lam + np.outer(gm, al)
        _accumulate(grad, pattern.nu_idx, gm)
        _accumulate(grad, pattern.alpha_idx, lam.T @ gm)
    _accumulate(grad, pattern.lam_idx, d_lam)
    _accumulate(grad, pattern.phi_idx, d_phi)
    _accumulate(grad, pattern.theta_idx, d_th)
    return f, grad


@dataclass(frozen=True)
class MLFit:
    """Raw output of :func:`fit_ml` (wrapped by the public result classes)."""

    theta: np.ndarray
    fmin: float  # sum_g (n_g/N) F_g
    chi2: float
    df: int
    n_free: int
    loglik: float
    vcov: np.ndarray
    converged: bool
    n_iter: int


def _moments_count(p: int, mean: bool) -> int:
    return p * (p + 1) // 2 + (p if mean else 0)


def fit_ml(
    patterns: list[GroupPattern],
    moments: list[GroupMoments],
    start: np.ndarray,
    *,
    tol: float = 1e-12,
    maxiter: int = 5000,
    polish: int = 20,
) -> MLFit:
    """Minimise the multi-group ML discrepancy and compute SEs.

    Parameters
    ----------
    patterns, moments
        One pattern and one set of sample moments per group.
    start
        Starting values of the free parameters.
    maxiter, polish
        Iteration limits of L-BFGS-B and of the Newton polishing steps.

    Raises
    ------
    ValueError
        When the model has more free parameters than sample moments (df < 0).

    Warns
    -----
    ConvergenceWarning
        When the largest absolute gradient element at the end exceeds 1e-5.
    IdentificationWarning
        When the expected information matrix is singular or near-singular
        (as lavaan warns); standard errors are then NaN (singular) or
        unreliable (near-singular).
    """
    n_moments = sum(
        _moments_count(m.cov.shape[0], pat.nu_idx is not None)
        for pat, m in zip(patterns, moments, strict=True)
    )
    if n_moments < start.size:
        raise ValueError(
            f"the model is not identified: df = {n_moments - start.size} "
            f"({start.size} free parameters > {n_moments} sample moments)"
        )
    n_total = sum(m.n for m in moments)
    weights = [m.n / n_total for m in moments]
    k = start.size

    def fun(theta):
        total = 0.0
        grad = np.zeros(k)
        for pat, mom, wgt in zip(patterns, moments, weights, strict=True):
            f, g = _group_objective(pat, mom, theta, True)
            if not np.isfinite(f):
                return 1e10, np.zeros(k)
            total += wgt * f
            grad += wgt * g
        return total, grad

    res = optimize.minimize(
        fun, start, jac=True, method="L-BFGS-B",
        options={"maxiter": maxiter, "ftol": tol, "gtol": 1e-9, "maxcor": 30},
    )
    theta = res.x
    # A few Newton steps on the expected information polish the optimum so
    # that chi2 is exact to the printed precision (L-BFGS stops early on flat
    # valleys, which shows in the third decimal of chi2).
    for _ in range(polish):
        f0, g0 = fun(theta)
        info = _expected_information(patterns, moments, theta, weights)
        try:
            step = np.linalg.solve(2.0 * info, g0)  # F Hessian ~ 2 * info
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-4:
            cand = theta - t * step
            f1, _ = fun(cand)
            if f1 <= f0:
                break
            t *= 0.5
        else:
            break
        theta = cand
        if np.max(np.abs(t * step)) < 1e-10:
            break
    fmin, grad = fun(theta)
    chi2 = float(n_total * fmin)
    loglik = 0.0
    for pat, mom in zip(patterns, moments, strict=True):
        sigma, mu = implied(pat, theta)
        p = sigma.shape[0]
        _, logdet = np.linalg.slogdet(sigma)
        inv = np.linalg.inv(sigma)
        w = mom.cov
        if mu is not None:
            d = mom.mean - mu
            w = w + np.outer(d, d)
        loglik += -0.5 * mom.n * (p * np.log(2 * np.pi) + logdet + np.sum(inv * w))
    info = _expected_information(patterns, moments, theta, weights)
    vcov = _invert_information(n_total * info)
    converged = bool(np.all(np.isfinite(grad)) and np.max(np.abs(grad)) < 1e-5)
    if not converged:
        warnings.warn(
            f"the ML estimation did not converge (largest gradient element "
            f"{np.max(np.abs(grad)):.2g} after {res.nit} iterations); estimates and fit "
            "measures are not trustworthy",
            ConvergenceWarning, stacklevel=user_stacklevel(),
        )
    return MLFit(
        theta=theta, fmin=float(fmin), chi2=chi2, df=int(n_moments - k), n_free=k,
        loglik=float(loglik), vcov=vcov, converged=converged, n_iter=int(res.nit),
    )


#: Reciprocal condition number below which the information matrix counts as
#: singular (SEs NaN) or near-singular (SEs kept, with a warning).
RCOND_SINGULAR = 1e-12
RCOND_NEAR_SINGULAR = 1e-8


def _invert_information(info: np.ndarray) -> np.ndarray:
    """Inverse of the (symmetric) information matrix, checking its conditioning.

    An under-identified model (e.g. a factor with one indicator and a free
    residual) has a singular information matrix; inverting it naively gives
    standard errors of 1e6 or more. The eigenvalues are checked first.
    """
    k = info.shape[0]
    eig = np.linalg.eigvalsh(info)
    top = float(np.max(np.abs(eig))) if k else 0.0
    rcond = float(eig.min() / top) if top > 0 else 0.0
    if not np.isfinite(rcond) or rcond < RCOND_SINGULAR:
        rank = int(np.sum(eig > RCOND_SINGULAR * top))
        warnings.warn(
            f"the information matrix is singular (rank {rank} of {k}); the model may "
            "not be identified and standard errors cannot be computed (set to NaN)",
            IdentificationWarning, stacklevel=user_stacklevel(),
        )
        return np.full((k, k), np.nan)
    if rcond < RCOND_NEAR_SINGULAR:
        warnings.warn(
            f"the information matrix is near-singular (reciprocal condition number "
            f"{rcond:.1e}); the model may not be identified and standard errors are "
            "unreliable",
            IdentificationWarning, stacklevel=user_stacklevel(),
        )
    return np.linalg.inv(info)


def _jacobian(pattern: GroupPattern, theta: np.ndarray):
    """d vec(Sigma)/d theta and d mu/d theta by central differences.

    Sigma and mu are at most quadratic along any single coordinate, so central
    differences are exact up to rounding error.
    """
    k = theta.size
    sigma, mu = implied(pattern, theta)
    p = sigma.shape[0]
    js = np.zeros((p * p, k))
    jm = np.zeros((p, k)) if mu is not None else None
    h = 1e-4
    used = set(np.concatenate([
        a[a >= 0].ravel() for a in (pattern.lam_idx, pattern.phi_idx, pattern.theta_idx,
                                    *(x for x in (pattern.nu_idx, pattern.alpha_idx)
                                      if x is not None))
    ]).tolist())
    for j in used:
        e = np.zeros(k)
        e[j] = h
        sp, mp = implied(pattern, theta + e)
        sm, mm = implied(pattern, theta - e)
        js[:, j] = ((sp - sm) / (2 * h)).ravel()
        if jm is not None:
            jm[:, j] = (mp - mm) / (2 * h)
    return sigma, js, jm


def _expected_information(patterns, moments, theta, weights) -> np.ndarray:
    """Expected (unit) information of the ML discrepancy, weighted by group size."""
    k = theta.size
    info = np.zeros((k, k))
    for pat, wgt in zip(patterns, weights, strict=True):
        sigma, js, jm = _jacobian(pat, theta)
        inv = np.linalg.inv(sigma)
        p = sigma.shape[0]
        # 0.5 * tr(Sinv dS_i Sinv dS_j) for every pair, via a Kronecker weight.
        a = np.einsum("ab,cd->acbd", inv, inv).reshape(p * p, p * p)
        info += wgt * 0.5 * js.T @ a @ js
        if jm is not None:
            info += wgt * jm.T @ inv @ jm
    return info


def independence_chi2(moments: list[GroupMoments]) -> tuple[float, int]:
    """Chi-square and df of lavaan's baseline (independence) model.

    Each group keeps its own variances (and means, which are then fitted
    exactly); all covariances are zero. The ML solution is closed form.
    """
    chi2 = 0.0
    df = 0
    for m in moments:
        p = m.cov.shape[0]
        _, logdet = np.linalg.slogdet(m.cov)
        chi2 += m.n * (np.sum(np.log(np.diag(m.cov))) - logdet)
        df += p * (p - 1) // 2
    return float(chi2), int(df)


def rmsea_ci(chi2: float, df: int, n: int, groups: int, level: float = 0.90):
    """RMSEA and its confidence interval as lavaan computes them.

    RMSEA = sqrt(G) * sqrt(max(0, (chi2 - df) / (df * N))) (Steiger 1998's
    multi-group correction as used by lavaan); the interval inverts the
    non-central chi-square distribution in its non-centrality parameter.
    """
    if df <= 0:
        return 0.0, 0.0, 0.0
    rmsea = np.sqrt(max(0.0, (chi2 - df) / (df * n))) * np.sqrt(groups)
    lo_p, hi_p = (1 + level) / 2, (1 - level) / 2

    def solve(target):
        f = lambda lam: stats.ncx2.cdf(chi2, df, lam) - target  # noqa: E731
        if stats.chi2.cdf(chi2, df) < target:
            return 0.0
        upper = max(chi2, 1.0)
        while f(upper) > 0:
            upper *= 2
        return optimize.brentq(f, 1e-12, upper, xtol=1e-10)

    lam_lo = solve(lo_p)
    lam_hi = solve(hi_p)
    lo = np.sqrt(lam_lo / (n * df)) * np.sqrt(groups)
    hi = np.sqrt(lam_hi / (n * df)) * np.sqrt(groups)
    return float(rmsea), float(lo), float(hi)
