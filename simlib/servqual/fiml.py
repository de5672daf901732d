"""Full-information ML for incomplete survey data (lavaan's ``missing = "ml"``).

Respondents who skip items still carry information. Under missing at random
the likelihood is the product over rows of the normal density of the answers
each row has: rows are grouped by their missing-data pattern, and each pattern
contributes ``-n/2 [p_o log 2pi + log|Sigma_oo| + tr(Sigma_oo^-1 (S + (ybar -
mu_o)(ybar - mu_o)'))]`` with its own mean ``ybar`` and covariance ``S``
(divisor n) of the observed columns. The saturated (h1) model's likelihood
comes from the EM algorithm; chi2 = 2 (logl_h1 - logl). The independence
baseline factorises over the variables, so its estimates are the available-case
means and variances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from . import structural

__all__ = ["Pattern", "em_saturated", "fiml_fit", "logl", "patterns_of"]


@dataclass(frozen=True)
class Pattern:
    """The rows sharing one set of observed columns."""

    obs: np.ndarray  # indices of the observed columns
    n: int
    mean: np.ndarray
    cov: np.ndarray  # divisor n


def patterns_of(x: np.ndarray) -> list[Pattern]:
    """Group the rows of ``x`` (NaN = missing, no empty row) by missing-data pattern."""
    seen = ~np.isnan(x)
    keys, inv = np.unique(seen, axis=0, return_inverse=True)
    out = []
    for j, key in enumerate(keys):
        rows = x[np.asarray(inv).ravel() == j][:, key]
        m = rows.mean(axis=0)
        d = rows - m
        out.append(Pattern(obs=np.flatnonzero(key), n=rows.shape[0], mean=m,
                           cov=d.T @ d / rows.shape[0]))
    return out


def logl(pats: list[Pattern], sigma: np.ndarray, mu: np.ndarray) -> float:
    """Casewise normal log-likelihood summed over the patterns (-inf if not positive definite)."""
    total = 0.0
    for pt in pats:
        o = pt.obs
        s = sigma[np.ix_(o, o)]
        try:
            chol = np.linalg.cholesky(s)
        except np.linalg.LinAlgError:
            return -np.inf
        d = pt.mean - mu[o]
        w = pt.cov + np.outer(d, d)
        ic = np.linalg.inv(chol)
        total += -0.5 * pt.n * (o.size * np.log(2 * np.pi) + 2 * np.log(np.diag(chol)).sum()
                                + float(np.sum((ic @ w) * ic)))
    return float(total)


def _grad_moments(pats: list[Pattern], sigma: np.ndarray, mu: np.ndarray):
    """d logl / d Sigma (full symmetric matrix form) and d logl / d mu."""
    p = sigma.shape[0]
    gs = np.zeros((p, p))
    gm = np.zeros(p)
    for pt in pats:
        o = pt.obs
        v = np.linalg.inv(sigma[np.ix_(o, o)])
        d = pt.mean - mu[o]
        w = pt.cov + np.outer(d, d)
        gs[np.ix_(o, o)] += 0.5 * pt.n * (v @ w @ v - v)
        gm[o] += pt.n * (v @ d)
    return gs, gm


def em_saturated(x: np.ndarray, pats: list[Pattern], *, maxiter: int = 10000,
                 tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray, float]:
    """EM estimates of the unrestricted mean and covariance, and their log-likelihood."""
    p = x.shape[1]
    n = x.shape[0]
    mu = np.nanmean(x, axis=0)
    sigma = np.diag(np.nanvar(x, axis=0))
    seen = ~np.isnan(x)
    old = -np.inf
    for _ in range(maxiter):
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        for key in np.unique(seen, axis=0):
            rows = x[(seen == key).all(axis=1)]
            o, m = np.flatnonzero(key), np.flatnonzero(~key)
            xo = rows[:, o]
            filled = np.empty((rows.shape[0], p))
            filled[:, o] = xo
            extra = np.zeros((p, p))
            if m.size:
                b = np.linalg.solve(sigma[np.ix_(o, o)], sigma[np.ix_(o, m)])
                filled[:, m] = mu[m] + (xo - mu[o]) @ b
                extra[np.ix_(m, m)] = rows.shape[0] * (sigma[np.ix_(m, m)]
                                                       - sigma[np.ix_(m, o)] @ b)
            t1 += filled.sum(axis=0)
            t2 += filled.T @ filled + extra
        mu = t1 / n
        sigma = t2 / n - np.outer(mu, mu)
        ll = logl(pats, sigma, mu)
        if abs(ll - old) <= tol * max(1.0, abs(ll)):
            break
        old = ll
    return sigma, mu, logl(pats, sigma, mu)


def _negll_grad(theta: np.ndarray, pat: structural.RAMPattern, pats: list[Pattern],
                n: int):
    try:
        sigma, mu = structural.implied(pat, theta)
    except np.linalg.LinAlgError:
        return np.inf, np.zeros_like(theta)
    ll = logl(pats, sigma, mu)
    if not np.isfinite(ll):
        return np.inf, np.zeros_like(theta)
    gs, gm = _grad_moments(pats, sigma, mu)
    js, jm = structural.jacobian(pat, theta)
    g = js.T @ gs.ravel() + jm.T @ gm
    return -ll / n, -g / n


def fiml_fit(pat: structural.RAMPattern, pats: list[Pattern], start: np.ndarray, n: int):
    """Maximise the casewise likelihood; returns theta, logl, converged, iterations, vcov.

    Standard errors from the observed information (central differences of the
    analytic gradient), lavaan's default for ``missing = "ml"``.
    """
    res = optimize.minimize(_negll_grad, start, args=(pat, pats, n), jac=True,
                            method="L-BFGS-B", options={"maxiter": 20000, "gtol": 1e-10,
                                                        "ftol": 1e-15, "maxcor": 50})
    theta = res.x
    h = structural.central_hessian(lambda t: _negll_grad(t, pat, pats, n)[1], theta)
    vcov = structural.invert_information(n * h)
    sigma, mu = structural.implied(pat, theta)
    return theta, logl(pats, sigma, mu), bool(res.success), int(res.nit), vcov, h
