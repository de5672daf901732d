"""Full-information ML for incomplete survey data (lavaan's ``missing = "ml"``).

Respondents who skip items still carry information. Under missing at random
the likelihood is the product over rows of the normal density of the answers
each row has: rows are grouped by their missing-data pattern, and each pattern
contributes ``-n/2 [p_o log 2pi + log|Sigma_oo| + tr(Sigma_oo^-1 (S + (ybar -
mu_o)(ybar - mu_o)'))]`` with its own mean ``ybar`` and covariance ``S``
(divisor n) of the observed columns. The saturated (h1) model's likelihood
comes from the EM algorithm; chi2 = 2 (logl_h1 - logl). The independence
baseline factorises over the variables, so its estimates are the available-case
means and variances. Several groups add up their likelihoods (one set of
patterns and one EM saturated model per group).

Robust ML for incomplete data (lavaan's ``estimator = "MLR"`` with ``missing =
"ml"``, :func:`yuan_bentler_fiml`) uses the casewise scores: the Huber–White
sandwich with the observed information as bread and the mean cross-product
of the scores as meat, and the Yuan–Bentler (Mplus) scaling of the
chi-square from the saturated model's observed and first-order information.
lavaan's robust CFI/TLI/RMSEA for incomplete data are the "FIML-corrected"
ones of Zhang & Savalei (2023, version V3), which compare the model with the
EM moments as if they were complete data (:class:`~simlib.servqual.robust.RobustTerms`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.linalg import block_diag

from . import structural
from .robust import RobustML, RobustTerms, h1_observed

__all__ = ["Pattern", "casewise_scores", "em_saturated", "fiml_fit", "h1_observed_missing",
           "independence_moments", "logl", "patterns_of", "yuan_bentler_fiml"]


@dataclass(frozen=True)
class Pattern:
    """The rows sharing one set of observed columns."""

    obs: np.ndarray  # indices of the observed columns
    rows: np.ndarray  # indices of the rows
    n: int
    mean: np.ndarray
    cov: np.ndarray  # divisor n


def patterns_of(x: np.ndarray) -> list[Pattern]:
    """Group the rows of ``x`` (NaN = missing, no empty row) by missing-data pattern."""
    seen = ~np.isnan(x)
    keys, inv = np.unique(seen, axis=0, return_inverse=True)
    out = []
    for j, key in enumerate(keys):
        which = np.flatnonzero(np.asarray(inv).ravel() == j)
        rows = x[which][:, key]
        m = rows.mean(axis=0)
        d = rows - m
        out.append(Pattern(obs=np.flatnonzero(key), rows=which, n=rows.shape[0], mean=m,
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


def _negll_grad(theta: np.ndarray, patterns: Sequence[structural.RAMPattern],
                group_pats: Sequence[list[Pattern]], n: int):
    ll = 0.0
    g = np.zeros_like(theta)
    for pat, pats in zip(patterns, group_pats, strict=True):
        try:
            sigma, mu = structural.implied(pat, theta)
        except np.linalg.LinAlgError:
            return np.inf, np.zeros_like(theta)
        part = logl(pats, sigma, mu)
        if not np.isfinite(part):
            return np.inf, np.zeros_like(theta)
        ll += part
        gs, gm = _grad_moments(pats, sigma, mu)
        js, jm = structural.jacobian(pat, theta)
        g += js.T @ gs.ravel() + jm.T @ gm
    return -ll / n, -g / n


def fiml_fit(patterns: Sequence[structural.RAMPattern], group_pats: Sequence[list[Pattern]],
             start: np.ndarray, n: int):
    """Maximise the casewise likelihood of all groups; theta, logl, converged, iterations, vcov, h.

    Standard errors from the observed information (central differences of the
    analytic gradient), lavaan's default for ``missing = "ml"``; ``h`` is that
    information per observation (``n`` is the total over the groups).
    """
    res = optimize.minimize(_negll_grad, start, args=(patterns, group_pats, n), jac=True,
                            method="L-BFGS-B", options={"maxiter": 20000, "gtol": 1e-10,
                                                        "ftol": 1e-15, "maxcor": 50})
    theta = res.x
    h = structural.central_hessian(lambda t: _negll_grad(t, patterns, group_pats, n)[1], theta)
    vcov = structural.invert_information(n * h)
    return theta, -n * float(res.fun), bool(res.success), int(res.nit), vcov, h


def independence_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ML estimates of the independence model: available-case variances (divisor n) and means."""
    return np.diag(np.nanvar(x, axis=0)), np.nanmean(x, axis=0)


# --- scores and information in the moments (mu, vech Sigma) ------------------------------
# vech follows numpy's tril_indices (row-major lower triangle), as robust.py does.


def _vech_factor(p: int):
    r, c = np.tril_indices(p)
    return r, c, np.where(r == c, 1.0, 2.0)


def casewise_scores(x: np.ndarray, pats: list[Pattern], sigma: np.ndarray,
                    mu: np.ndarray) -> np.ndarray:
    """Rows of d logl_i / d (mu, vech Sigma): each respondent's score at ``(sigma, mu)``."""
    p = sigma.shape[0]
    r, c, f = _vech_factor(p)
    out = np.zeros((x.shape[0], p + r.size))
    for pt in pats:
        o = pt.obs
        v = np.linalg.inv(sigma[np.ix_(o, o)])
        vz = (x[np.ix_(pt.rows, o)] - mu[o]) @ v
        full = np.zeros((pt.n, p, p))
        full[:, o[:, None], o[None, :]] = 0.5 * (vz[:, :, None] * vz[:, None, :] - v)
        out[np.ix_(pt.rows, o)] = vz
        out[pt.rows, p:] = full[:, r, c] * f
    return out


def _moment_gradient(pats: list[Pattern], sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
    gs, gm = _grad_moments(pats, sigma, mu)
    r, c, f = _vech_factor(sigma.shape[0])
    return np.concatenate([gm, gs[r, c] * f])


def h1_observed_missing(pats: list[Pattern], sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Observed information per row of the casewise likelihood in (mu, vech Sigma).

    lavaan's ``lav_mvnorm_missing_information_observed_samplestats``: minus the
    Hessian of the loglik divided by n; central differences of the analytic gradient.
    """
    p = sigma.shape[0]
    r, c, _ = _vech_factor(p)
    n = sum(pt.n for pt in pats)
    scale = np.sqrt(np.diag(sigma))
    steps = 1e-5 * np.concatenate([scale, scale[r] * scale[c]])
    z0 = np.concatenate([mu, sigma[r, c]])
    h = np.zeros((z0.size, z0.size))

    def grad(z: np.ndarray) -> np.ndarray:
        s = np.zeros((p, p))
        s[r, c] = z[p:]
        s[c, r] = z[p:]
        return _moment_gradient(pats, s, z[:p])

    for j in range(z0.size):
        e = np.zeros(z0.size)
        e[j] = steps[j]
        h[:, j] = -(grad(z0 + e) - grad(z0 - e)) / (2 * steps[j])
    return 0.5 * (h + h.T) / n


def _moment_delta(pat: structural.RAMPattern, theta: np.ndarray) -> np.ndarray:
    """d (mu, vech Sigma) / d theta of one group."""
    p = pat.p
    js, jm = structural.jacobian(pat, theta)
    r, c, _ = _vech_factor(p)
    return np.vstack([jm, js[r * p + c]])


def _independence_select(p: int) -> np.ndarray:
    """Positions of the means and variances (the independence model's parameters)."""
    r, c, _ = _vech_factor(p)
    return np.concatenate([np.arange(p), p + np.flatnonzero(r == c)])


def _complete_discrepancy(sigma, mu, cov, mean) -> float:
    """F_ML of complete data with moments (cov, mean) against the model (sigma, mu)."""
    v = np.linalg.inv(sigma)
    d = mean - mu
    return float(np.linalg.slogdet(sigma)[1] + np.sum(v * cov) + d @ v @ d
                 - np.linalg.slogdet(cov)[1] - sigma.shape[0])


def yuan_bentler_fiml(patterns: Sequence[structural.RAMPattern], data: Sequence[np.ndarray],
                      group_pats: Sequence[list[Pattern]],
                      saturated: Sequence[tuple[np.ndarray, np.ndarray]], theta: np.ndarray,
                      hessian: np.ndarray, df: int, df_baseline: int) -> RobustML:
    """lavaan's MLR with ``missing = "ml"``: sandwich vcov, Yuan–Bentler traces, FIML-C terms.

    ``data`` are the groups' rows (NaN = missing), ``saturated`` their EM
    ``(Sigma, mu)``, ``hessian`` the observed information per row of the
    model at ``theta`` (from :func:`fiml_fit`).

    * bread: the observed information ``A0``; meat ``B0``: the mean
      cross-product of the casewise scores of the parameters (scores in the
      moments at the model-implied ones, times the model Jacobian);
    * test: ``c = (sum_g tr(A1_g^-1 B1_g) - tr(A0^-1 B0)) / df`` with the
      saturated model's observed ``A1_g`` and first-order ``B1_g`` information
      at the EM moments (``yuan.bentler.mplus``); the independence baseline the
      same with its own information;
    * robust CFI/TLI/RMSEA (FIML-C, V3): ``chi2~`` is the complete-data ML
      chi-square of the estimates against the EM moments and ``c~ = tr(U Wm^-1
      Wc Wm^-1 U Gamma) / df`` with ``Wm = A1``, ``Wc`` the complete-data
      information at the EM moments, ``Gamma = Wm^-1 B1 Wm^-1`` and ``U = Wm -
      Wm Delta (Delta' Wm Delta)^-1 Delta' Wm`` (blocks weighted by the group
      shares n_g / N).
    """
    n_total = sum(x.shape[0] for x in data)
    k = theta.size
    b0 = np.zeros((k, k))
    trace_h1 = 0.0
    trace_base = 0.0
    chi2_tilde = chi2_tilde_base = 0.0
    wm, wmi, wc, gam, deltas, sel_blocks = [], [], [], [], [], []
    for pat, x, pats, (sig_em, mu_em) in zip(patterns, data, group_pats, saturated,
                                              strict=True):
        n_g = x.shape[0]
        fg = n_g / n_total
        p = pat.p
        a1 = h1_observed_missing(pats, sig_em, mu_em)
        s_em = casewise_scores(x, pats, sig_em, mu_em)
        b1 = s_em.T @ s_em / n_g
        a1_inv = np.linalg.inv(a1)
        trace_h1 += float(np.trace(a1_inv @ b1))
        sigma, mu = structural.implied(pat, theta)
        delta = _moment_delta(pat, theta)
        s_theta = casewise_scores(x, pats, sigma, mu) @ delta
        b0 += s_theta.T @ s_theta / n_total
        # independence baseline: its parameters are the means and variances
        sig_b, mu_b = independence_moments(x)
        sel = _independence_select(p)
        a1b = h1_observed_missing(pats, sig_b, mu_b)[np.ix_(sel, sel)]
        s_b = casewise_scores(x, pats, sig_b, mu_b)[:, sel]
        trace_base += float(np.trace(np.linalg.solve(a1b, s_b.T @ s_b / n_g)))
        # FIML-corrected ingredients
        mom_em = structural.Moments(cov=sig_em, mean=mu_em, n=n_g)
        wm.append(fg * a1)
        wmi.append(a1_inv / fg)
        wc.append(fg * h1_observed(sig_em, mu_em, mom_em))
        gam.append(a1_inv @ b1 @ a1_inv / fg)
        deltas.append(delta)
        sel_blocks.append(np.eye(a1.shape[0])[:, sel])
        chi2_tilde += n_g * _complete_discrepancy(sigma, mu, sig_em, mu_em)
        chi2_tilde_base += n_g * _complete_discrepancy(sig_b, mu_b, sig_em, mu_em)
    a_inv = np.linalg.inv(hessian)
    vcov = a_inv @ b0 @ a_inv / n_total
    trace_model = trace_h1 - float(np.trace(a_inv @ b0))
    trace_baseline = trace_h1 - trace_base
    wm_all, wmi_all = block_diag(*wm), block_diag(*wmi)
    wc_all, gam_all = block_diag(*wc), block_diag(*gam)
    middle = wmi_all @ wc_all @ wmi_all

    def corrected_trace(delta_all: np.ndarray) -> float:
        wd = wm_all @ delta_all
        u = wm_all - wd @ np.linalg.solve(delta_all.T @ wd, wd.T)
        return float(np.trace(u @ middle @ u @ gam_all))

    k_model = corrected_trace(np.vstack(deltas))
    k_base = corrected_trace(block_diag(*sel_blocks))
    terms = RobustTerms(chi2=chi2_tilde, scaling=k_model / df if df > 0 else float("nan"),
                        baseline_chi2=chi2_tilde_base,
                        baseline_scaling=k_base / df_baseline if df_baseline > 0
                        else float("nan"))
    return RobustML(vcov=vcov, trace_model=trace_model, trace_baseline=trace_baseline,
                    robust_terms=terms)

