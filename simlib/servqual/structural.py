"""Normal-theory ML estimation of structural equation models in RAM form.

Every model :func:`simlib.servqual.sem` fits – measurement models,
higher-order factors, regressions among latent and observed variables,
correlated residuals, mean structures, several groups – is written in the
reticular action model (RAM; McArdle & McDonald 1984). All variables, the
observed ones first and then the latent ones, form one vector ``v`` with

    v = A v + u,    Cov(u) = S,    E(u) = m,

so with the filter ``F`` picking the observed variables and ``E = (I - A)^-1``

    Sigma = F E S E' F',    mu = F E m.

``A`` holds loadings (``f =~ y`` is ``A[y, f]``) and regression slopes
(``y ~ x`` is ``A[y, x]``), ``S`` the (residual) variances and covariances,
``m`` the intercepts. Every element is either fixed or points at an entry of
the free-parameter vector; elements pointing at one entry are constrained
equal (shared labels, ``group.equal``).

The discrepancy is lavaan's ML function (Jöreskog 1969; Rosseel 2012),
summed over groups with weights n_g / N and sample covariances with divisor
n_g, so ``chi2 = N F_min``. It is minimised by Fisher scoring (Newton steps on
the expected information) with a backtracking line search. The steps are
solved on the Jacobi-scaled information matrix and convergence is judged by
the Newton decrement, which are both invariant to the units of the items: the
same data multiplied by 1e-6 or 1e6 give the same fit statistics and take
the same number of iterations. When scoring fails (a non-positive-definite
implied covariance matrix at every trial step, no progress) the fit falls back
to L-BFGS-B in the scaled coordinates and then to perturbed starts, polishing
each candidate with scoring. Standard errors come from the expected
information (lavaan's default ``information = "expected"``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from .checks import ConvergenceWarning, IdentificationWarning, user_stacklevel

__all__ = ["RAMPattern", "central_hessian", "central_jacobian", "stacked_moments", "Moments",
           "RAMFit", "fit_ram", "implied", "total_effects", "total_moments", "jacobian",
           "expected_information", "invert_information", "discrepancy", "rmsea_ci"]


@dataclass(frozen=True)
class Moments:
    """Sample moments of one group (covariance with divisor n)."""

    cov: np.ndarray
    mean: np.ndarray
    n: int


@dataclass(frozen=True)
class RAMPattern:
    """Which elements of A, S and m are free, for one group.

    ``*_idx`` hold the position in the free-parameter vector or -1 (fixed at
    the matching ``*_fixed`` value). ``S_idx`` is symmetric. ``m_idx`` is
    ``None`` without a mean structure. ``p`` is the number of observed
    variables (the first ``p`` of the ``n`` variables).
    """

    p: int
    A_idx: np.ndarray
    A_fixed: np.ndarray
    S_idx: np.ndarray
    S_fixed: np.ndarray
    m_idx: np.ndarray | None = None
    m_fixed: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.A_idx.shape[0]

    @property
    def meanstructure(self) -> bool:
        return self.m_idx is not None


def _fill(idx: np.ndarray, fixed: np.ndarray, theta: np.ndarray) -> np.ndarray:
    out = np.array(fixed, dtype=float, copy=True)
    mask = idx >= 0
    out[mask] = theta[idx[mask]]
    return out


def matrices(pat: RAMPattern, theta: np.ndarray):
    """A, S, m (m None without mean structure) at ``theta``."""
    a = _fill(pat.A_idx, pat.A_fixed, theta)
    s = _fill(pat.S_idx, pat.S_fixed, theta)
    m = (_fill(pat.m_idx, pat.m_fixed, theta)
         if pat.m_idx is not None and pat.m_fixed is not None else None)
    return a, s, m


def total_effects(a: np.ndarray) -> np.ndarray:
    """E = (I - A)^-1 for one A (n x n) or a stack of them (m x n x n).

    In a measurement model no variable both receives and sends a path (A A =
    0), so E = I + A exactly (the value LAPACK's inverse returns too) without
    a factorisation; other models are inverted.
    """
    nz = a != 0
    receives, sends = nz.any(axis=-1), nz.any(axis=-2)
    eye = np.eye(a.shape[-1])
    if not (receives & sends).any():
        return eye + a
    return np.linalg.inv(eye - a)


def total_moments(pat: RAMPattern, theta: np.ndarray):
    """Implied covariance and mean (or None) of *all* variables, and E = (I - A)^-1."""
    a, s, m = matrices(pat, theta)
    e = total_effects(a)
    cov = e @ s @ e.T
    mean = e @ m if m is not None else None
    return cov, mean, e


def stacked_moments(pat: RAMPattern, thetas: np.ndarray):
    """Implied covariances of all variables and the A matrices at each row of ``thetas``.

    The stacked version of :func:`total_moments` (shapes ``(m, n, n)``), for
    finite differences: one batched inversion instead of a Python loop.
    """
    m = thetas.shape[0]
    a = np.broadcast_to(np.asarray(pat.A_fixed, dtype=float), (m, pat.n, pat.n)).copy()
    s = np.broadcast_to(np.asarray(pat.S_fixed, dtype=float), (m, pat.n, pat.n)).copy()
    for mat, idx in ((a, pat.A_idx), (s, pat.S_idx)):
        mask = idx >= 0
        mat[:, mask] = thetas[:, idx[mask]]
    e = total_effects(a)
    return e @ s @ e.transpose(0, 2, 1), a


def implied(pat: RAMPattern, theta: np.ndarray):
    """Model-implied covariance and mean (None without mean structure) of the observed."""
    cov, mean, _ = total_moments(pat, theta)
    p = pat.p
    return cov[:p, :p], (mean[:p] if mean is not None else None)


def _group_f(pat: RAMPattern, mom: Moments, theta: np.ndarray) -> float:
    try:
        sigma, mu = implied(pat, theta)
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return np.inf
    if not np.all(np.isfinite(chol)):
        return np.inf
    logdet = 2.0 * np.log(np.diag(chol)).sum()
    w = mom.cov
    if mu is not None:
        d = mom.mean - mu
        w = w + np.outer(d, d)
    inv_chol = np.linalg.inv(chol)
    tr = float(np.sum((inv_chol @ w) * inv_chol))  # tr(Sigma^-1 W)
    _, logdet_s = np.linalg.slogdet(mom.cov)
    return float(logdet + tr - logdet_s - pat.p)


def discrepancy(patterns, moments, theta) -> float:
    """sum_g (n_g / N) F_ML,g (inf when an implied matrix is not positive definite)."""
    n_total = sum(m.n for m in moments)
    total = 0.0
    for pat, mom in zip(patterns, moments, strict=True):
        f = _group_f(pat, mom, theta)
        if not np.isfinite(f):
            return np.inf
        total += mom.n / n_total * f
    return total


def _accumulate(target: np.ndarray, idx: np.ndarray, values: np.ndarray) -> None:
    """``target[:, idx[a]] += values[:, a]`` for every a, parameters shared by several
    elements included (``np.add.at``, which is slow, only when some are)."""
    if np.unique(idx).size == idx.size:
        target[:, idx] += values
    else:
        np.add.at(target.T, idx, values.T)


def jacobian(pat: RAMPattern, theta: np.ndarray, k: int | None = None):
    """Analytic d vec(Sigma)/d theta (p*p x k) and d mu/d theta (p x k, or None)."""
    k = theta.size if k is None else k
    a, s, m = matrices(pat, theta)
    p = pat.p
    e = total_effects(a)
    fe = e[:p, :]  # F E, p x n
    c = e @ s @ fe.T  # E S E' F', n x p
    js_flat = np.zeros((p * p, k))
    jm = np.zeros((p, k)) if m is not None else None
    em = e @ m if m is not None else None
    rows, cols = np.nonzero(pat.A_idx >= 0)
    if rows.size:
        idx = pat.A_idx[rows, cols]
        u = fe[:, rows]  # p x nA
        v = c[cols, :].T  # p x nA
        d = u[:, None, :] * v[None, :, :]
        d = d + d.transpose(1, 0, 2)
        _accumulate(js_flat, idx, d.reshape(p * p, -1))
        if jm is not None and em is not None:
            np.add.at(jm.T, idx, (u * em[cols][None, :]).T)
    rows, cols = np.nonzero(np.triu(pat.S_idx + 1) > 0)
    if rows.size:
        idx = pat.S_idx[rows, cols]
        ui, uj = fe[:, rows], fe[:, cols]
        d = ui[:, None, :] * uj[None, :, :]
        off = rows != cols
        d[:, :, off] = d[:, :, off] + d[:, :, off].transpose(1, 0, 2)
        _accumulate(js_flat, idx, d.reshape(p * p, -1))
    if jm is not None and pat.m_idx is not None:
        (rows,) = np.nonzero(pat.m_idx >= 0)
        if rows.size:
            np.add.at(jm.T, pat.m_idx[rows], fe[:, rows].T)
    return js_flat, jm


def _group_grad_info(pat: RAMPattern, mom: Moments, theta: np.ndarray):
    sigma, mu = implied(pat, theta)
    inv = np.linalg.inv(sigma)
    js, jm = jacobian(pat, theta)
    w = mom.cov
    d = None
    if mu is not None:
        d = mom.mean - mu
        w = w + np.outer(d, d)
    g = inv - inv @ w @ inv
    grad = js.T @ g.ravel()
    p = sigma.shape[0]
    # info_kl = tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l) / 2 by stacks of p x p x k matrix
    # products rather than einsum's loops, and stacked rather than one big product: a
    # multithreaded OpenBLAS on a busy machine takes 0.05 s instead of 0.1 ms for one
    # 54 x 484 x 54 product, waiting for its threads; p-sized products stay single-threaded.
    # jw[a, c, k] = (Sigma^-1 dSigma_k)[a, c]
    js3 = js.reshape(p, p, -1)
    jw = np.matmul(inv, js3.transpose(1, 0, 2)).transpose(1, 0, 2)
    info = 0.5 * np.matmul(jw.transpose(0, 2, 1), jw.transpose(1, 0, 2)).sum(axis=0)
    if jm is not None and d is not None:
        grad = grad - 2.0 * jm.T @ (inv @ d)
        info = info + jm.T @ inv @ jm
    return grad, info


def grad_info(patterns, moments, theta):
    """Gradient of the discrepancy and the (unit) expected information, N-weighted."""
    n_total = sum(m.n for m in moments)
    grad = np.zeros(theta.size)
    info = np.zeros((theta.size, theta.size))
    for pat, mom in zip(patterns, moments, strict=True):
        g, i = _group_grad_info(pat, mom, theta)
        wgt = mom.n / n_total
        grad += wgt * g
        info += wgt * i
    return grad, info


def expected_information(patterns, moments, theta) -> np.ndarray:
    """Expected unit information (the Hessian of F is about twice this)."""
    return grad_info(patterns, moments, theta)[1]


#: Reciprocal condition number (of the Jacobi-scaled information matrix) below
#: which it counts as singular (SEs NaN) or near-singular (warning).
RCOND_SINGULAR = 1e-12
RCOND_NEAR_SINGULAR = 1e-8


def _scaled(info: np.ndarray):
    d = np.sqrt(np.clip(np.diag(info), 0, None))
    d[d == 0] = 1.0
    return info / np.outer(d, d), d


def invert_information(info: np.ndarray, *, warn: bool = True) -> np.ndarray:
    """Inverse of a (total) information matrix, checking its conditioning.

    The check is made on the Jacobi-scaled matrix (unit diagonal), so it does
    not depend on the units of the items.
    """
    k = info.shape[0]
    if k == 0:
        return np.zeros((0, 0))
    scaled, d = _scaled(info)
    eig = np.linalg.eigvalsh(scaled)
    top = float(np.max(np.abs(eig)))
    rcond = float(eig.min() / top) if top > 0 else 0.0
    if not np.isfinite(rcond) or rcond < RCOND_SINGULAR:
        if warn:
            rank = int(np.sum(eig > RCOND_SINGULAR * top))
            warnings.warn(
                f"the information matrix is singular (rank {rank} of {k}); the model may "
                "not be identified and standard errors cannot be computed (set to NaN)",
                IdentificationWarning, stacklevel=user_stacklevel(),
            )
        return np.full((k, k), np.nan)
    if rcond < RCOND_NEAR_SINGULAR and warn:
        warnings.warn(
            f"the information matrix is near-singular (reciprocal condition number "
            f"{rcond:.1e}); the model may not be identified and standard errors are "
            "unreliable",
            IdentificationWarning, stacklevel=user_stacklevel(),
        )
    return np.linalg.inv(scaled) / np.outer(d, d)


@dataclass(frozen=True)
class RAMFit:
    """Raw output of :func:`fit_ram`."""

    theta: np.ndarray
    fmin: float
    chi2: float
    n_iter: int
    converged: bool
    method: str
    vcov: np.ndarray
    info: np.ndarray  # unit expected information at theta


def _group_grad(pat: RAMPattern, mom: Moments, theta: np.ndarray) -> np.ndarray:
    """Analytic gradient of one group's discrepancy (matrix form, no Jacobian)."""
    a, s, m = matrices(pat, theta)
    p = pat.p
    e = total_effects(a)
    fe = e[:p, :]
    sigma = fe @ s @ fe.T
    inv = np.linalg.inv(sigma)
    w = mom.cov
    d = None
    if m is not None:
        d = mom.mean - fe @ m
        w = w + np.outer(d, d)
    g = inv - inv @ w @ inv
    ms = fe.T @ g @ fe  # E' F' G F E
    da = 2.0 * ms @ s @ e.T
    grad = np.zeros(theta.size)
    if m is not None and d is not None and pat.m_idx is not None:
        gm = fe.T @ (-2.0 * inv @ d)  # E' F' dF/dmu
        da = da + np.outer(gm, e @ m)
        mask = pat.m_idx >= 0
        np.add.at(grad, pat.m_idx[mask], gm[mask])
    mask = pat.A_idx >= 0
    np.add.at(grad, pat.A_idx[mask], da[mask])
    mask = pat.S_idx >= 0
    np.add.at(grad, pat.S_idx[mask], ms[mask])
    return grad


def gradient(patterns, moments, theta) -> np.ndarray:
    """Gradient of :func:`discrepancy` (N-weighted over groups)."""
    n_total = sum(m.n for m in moments)
    out = np.zeros(theta.size)
    for pat, mom in zip(patterns, moments, strict=True):
        out += mom.n / n_total * _group_grad(pat, mom, theta)
    return out


def _scoring(patterns, moments, theta, maxiter: int, tol: float):
    """Fisher scoring, then BFGS updates of the scoring matrix; with backtracking.

    Far from the optimum (Newton decrement above 1e-4) every step uses the
    expected information (robust); closer in, the matrix is updated by BFGS
    from the gradients, which turns the linear convergence of scoring on
    misfitting models into superlinear convergence. A failed BFGS line
    search falls back to a scoring step. Returns (theta, f, iterations,
    converged).
    """
    f = discrepancy(patterns, moments, theta)
    if not np.isfinite(f):
        return theta, f, 0, False
    g, info = grad_info(patterns, moments, theta)
    h = 2.0 * info
    scoring = True
    for it in range(1, maxiter + 1):
        hs, d = _scaled(h)
        gs = g / d
        try:
            step_s = np.linalg.solve(hs, gs)
        except np.linalg.LinAlgError:
            step_s = np.linalg.lstsq(hs, gs, rcond=None)[0]
        if not np.all(np.isfinite(step_s)):
            return theta, f, it, False
        dec = float(gs @ step_s)
        if dec < tol:
            return theta, f, it, True
        if dec < 0 and not scoring:  # the update lost positive definiteness
            g, info = grad_info(patterns, moments, theta)
            h, scoring = 2.0 * info, True
            continue
        step = step_s / d
        t = 1.0
        while True:
            cand = theta - t * step
            fc = discrepancy(patterns, moments, cand)
            if np.isfinite(fc) and fc <= f - 1e-4 * t * dec:
                break
            t *= 0.5
            if t < 1e-10:
                break
        if t < 1e-10:
            if not scoring:  # retry with a fresh scoring step
                g, info = grad_info(patterns, moments, theta)
                h, scoring = 2.0 * info, True
                continue
            # no descent along the scoring direction: converged to rounding or stuck
            return theta, f, it, dec < 1e-9
        f_old = f
        if dec > 1e-4:
            g_new, info = grad_info(patterns, moments, cand)
            h, scoring = 2.0 * info, True
        else:
            g_new = gradient(patterns, moments, cand)
            sv, yv = cand - theta, g_new - g
            sy = float(sv @ yv)
            if sy > 1e-300:
                hsv = h @ sv
                h = h - np.outer(hsv, hsv) / float(sv @ hsv) + np.outer(yv, yv) / sy
            scoring = False
        theta, f, g = cand, fc, g_new
        if f_old - f < 1e-15 * max(1.0, abs(f)) and dec < 1e-9:
            return theta, f, it, True
    return theta, f, maxiter, False


def _lbfgs(patterns, moments, theta0, maxiter: int):
    _, info0 = grad_info(patterns, moments, theta0)
    _, d = _scaled(2.0 * info0)

    def fun(z):
        th = theta0 + z / d
        f = discrepancy(patterns, moments, th)
        if not np.isfinite(f):
            return 1e10, np.zeros_like(z)
        g, _ = grad_info(patterns, moments, th)
        return f, g / d

    res = optimize.minimize(fun, np.zeros_like(theta0), jac=True, method="L-BFGS-B",
                            options={"maxiter": maxiter, "ftol": 1e-14, "gtol": 1e-10})
    return theta0 + res.x / d, int(res.nit)


def fit_ram(
    patterns: list[RAMPattern],
    moments: list[Moments],
    start: np.ndarray,
    *,
    maxiter: int = 500,
    tol: float = 1e-13,
    rng: np.random.Generator | None = None,
    n_starts: int = 5,
    fallback: bool = True,
    warn: bool = True,
    want_vcov: bool = True,
) -> RAMFit:
    """Minimise the multi-group ML discrepancy; SEs from the expected information.

    Tries Fisher scoring from ``start``; if it does not converge, L-BFGS-B in
    scaled coordinates followed by scoring; then up to ``n_starts`` starts
    perturbed by ``rng`` (a fixed seed when None). The best converged solution
    (lowest discrepancy) is kept.

    Warns
    -----
    ConvergenceWarning
        When no attempt converged.
    IdentificationWarning
        When the information matrix is (near-)singular.
    """
    n_total = sum(m.n for m in moments)
    theta, f, nit, ok = _scoring(patterns, moments, start.astype(float), maxiter, tol)
    method = "fisher-scoring"
    total_it = nit
    if not ok and fallback:
        base = theta if np.isfinite(f) else start.astype(float)
        if np.isfinite(discrepancy(patterns, moments, base)):
            th2, it2 = _lbfgs(patterns, moments, base, 5000)
            th2, f2, it3, ok2 = _scoring(patterns, moments, th2, maxiter, tol)
            total_it += it2 + it3
            if np.isfinite(f2) and (ok2 or not np.isfinite(f) or f2 < f):
                theta, f, ok, method = th2, f2, ok2, "lbfgs+fisher-scoring"
    if not ok and fallback:
        gen = rng if rng is not None else np.random.default_rng(20240601)
        scale = np.abs(start) + 0.1 * (np.abs(start).max() if start.size else 1.0)
        for _ in range(n_starts):
            cand0 = start + gen.normal(0.0, 0.3, start.size) * scale
            th2, f2, it2, ok2 = _scoring(patterns, moments, cand0, maxiter, tol)
            total_it += it2
            if ok2 and (not ok or f2 < f):
                theta, f, ok, method = th2, f2, True, "multistart+fisher-scoring"
                break
    if not np.isfinite(f):
        raise ValueError("the model-implied covariance matrix is not positive definite at "
                         "any trial value; check the model (fixed values, identification)")
    if not ok and warn:
        warnings.warn(
            f"the ML estimation did not converge after {total_it} iterations; estimates "
            "and fit measures are not trustworthy",
            ConvergenceWarning, stacklevel=user_stacklevel(),
        )
    if want_vcov:
        _, info = grad_info(patterns, moments, theta)
        vcov = invert_information(n_total * info, warn=warn)
    else:
        info = vcov = np.zeros((theta.size, theta.size))
    return RAMFit(theta=theta, fmin=float(f), chi2=float(n_total * f), n_iter=total_it,
                  converged=bool(ok), method=method, vcov=vcov, info=info)


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


def central_jacobian(stacked_func, theta: np.ndarray) -> np.ndarray:
    """Central-difference Jacobian of a function evaluated on stacked parameter vectors.

    ``stacked_func`` maps an ``(m, k)`` array of parameter vectors to ``(m, L)``
    values; it is called once on all ``2 k`` shifted vectors. The steps are
    those of :func:`simlib.servqual.sem.numeric_jacobian` (``1e-6 max(1,
    |theta_j|)``), so both give the same derivatives.
    """
    k = theta.size
    steps = 1e-6 * np.maximum(1.0, np.abs(theta))
    shifts = np.diag(steps)
    vals = np.atleast_2d(stacked_func(np.concatenate([theta + shifts, theta - shifts])))
    return ((vals[:k] - vals[k:]) / (2 * steps[:, None])).T


def central_hessian(grad, theta: np.ndarray) -> np.ndarray:
    """Symmetrised central differences of an analytic gradient (observed information)."""
    k = theta.size
    h = np.zeros((k, k))
    steps = 1e-5 * np.maximum(np.abs(theta), 1.0)
    for j in range(k):
        e = np.zeros(k)
        e[j] = steps[j]
        h[:, j] = (grad(theta + e) - grad(theta - e)) / (2 * steps[j])
    return 0.5 * (h + h.T)
