"""Robust ML (Satorra–Bentler, lavaan's ``estimator = "MLM"``) for non-normal items.

Likert items are not normal, so the normal-theory chi-square and standard
errors are off. Satorra & Bentler (1994) keep the ML estimates and correct
both with the asymptotic covariance matrix Gamma of the sample moments
estimated from the data (fourth moments; divisor N, as lavaan):

* standard errors from the sandwich ``A^-1 B A^-1 / N`` with ``A = D'WD``
  (the expected information) and ``B = D'W Gamma W D``, where ``D`` is the
  model Jacobian of the moments and ``W`` the normal-theory weight;
* the scaled statistic ``chi2 / c`` with ``c = tr(U Gamma) / df`` and
  ``U = W - W D (D'WD)^-1 D'W``; the same for the independence baseline, from
  which lavaan's scaled CFI/TLI/RMSEA and the robust ones (Brosseau-Liard,
  Savalei & Li 2012; Brosseau-Liard & Savalei 2014) follow.

Several groups are handled with per-group Gamma and lavaan's weighting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import structural

__all__ = ["RobustML", "RobustTerms", "observed_information", "satorra_bentler", "yuan_bentler"]


@dataclass(frozen=True)
class RobustTerms:
    """The chi-squares and scaling factors of lavaan's ``*.robust`` measures, when not the test's.

    With incomplete data (FIML) lavaan's robust CFI/TLI/RMSEA use the
    "FIML-corrected" statistic of the model and of the baseline (see
    :func:`simlib.servqual.fiml.yuan_bentler_fiml`).
    """

    chi2: float
    scaling: float
    baseline_chi2: float
    baseline_scaling: float


@dataclass(frozen=True)
class RobustML:
    """Sandwich covariance of the estimates and the trace terms of the scaled tests."""

    vcov: np.ndarray
    trace_model: float  # tr(U Gamma) of the fitted model
    trace_baseline: float  # the same for the independence model
    robust_terms: RobustTerms | None = None  # None: the robust measures use the test's terms


def _moment_rows(x: np.ndarray, meanstructure: bool) -> np.ndarray:
    d = x - x.mean(axis=0)
    r, c = np.tril_indices(x.shape[1])
    z = d[:, r] * d[:, c]
    return np.hstack([d, z]) if meanstructure else z


def gamma_adf(x: np.ndarray, meanstructure: bool) -> np.ndarray:
    """Asymptotic covariance of the (means and) lower-triangle covariances, divisor N."""
    z = _moment_rows(x, meanstructure)
    zc = z - z.mean(axis=0)
    return zc.T @ zc / x.shape[0]


def _weights(sigma: np.ndarray, js: np.ndarray, jm: np.ndarray | None):
    """W (lower-triangle moment space) and W Delta for one group."""
    p = sigma.shape[0]
    v = np.linalg.inv(sigma)
    r, c = np.tril_indices(p)
    a = r * p + c
    b = c * p + r
    off = (r != c).astype(float)
    x = 0.5 * np.kron(v, v)
    # W = D' X D with the duplication matrix D (columns a and, off the diagonal, b)
    wx = x[:, a] + x[:, b] * off[None, :]
    w = wx[a, :] + wx[b, :] * off[:, None]
    xj = x @ js
    wd = xj[a, :] + xj[b, :] * off[:, None]
    if jm is not None:
        pm = p
        z = np.zeros((pm, w.shape[0]))
        w = np.block([[v, z], [z.T, w]])
        wd = np.vstack([v @ jm, wd])
    return w, wd


def satorra_bentler(patterns, moments, theta: np.ndarray, info: np.ndarray,
                    data: list[np.ndarray]) -> RobustML:
    """Robust (MLM) vcov and trace terms; ``info`` is the unit expected information."""
    n_total = sum(m.n for m in moments)
    meanstructure = patterns[0].meanstructure
    k = theta.size
    b_mat = np.zeros((k, k))
    tr_wg = 0.0
    tr_wg_base = 0.0
    tr_base_correction = 0.0
    for pat, mom, x in zip(patterns, moments, data, strict=True):
        wgt = mom.n / n_total
        gam = gamma_adf(x, meanstructure)
        sigma, _ = structural.implied(pat, theta)
        js, jm = structural.jacobian(pat, theta)
        w, wd = _weights(sigma, js, jm if meanstructure else None)
        b_mat += wgt * wd.T @ gam @ wd
        tr_wg += float(np.sum(w * gam))
        # independence baseline: free variances (and means) only
        p = sigma.shape[0]
        r, c = np.tril_indices(p)
        sb = np.diag(np.diag(mom.cov))
        jsb = np.zeros((p * p, p))
        jsb[np.arange(p) * p + np.arange(p), np.arange(p)] = 1.0
        # lavaan scales the baseline on the covariances alone (its free means are
        # saturated; the third moments linking them to the covariances are left out)
        gb = gam[p:, p:] if meanstructure else gam
        wb, wdb = _weights(sb, jsb, None)
        tr_wg_base += float(np.sum(wb * gb))
        ab = wdb.T @ jsb[r * p + c]
        bb = wdb.T @ gb @ wdb
        tr_base_correction += float(np.trace(np.linalg.solve(ab, bb)))
    a_inv = np.linalg.inv(info)
    vcov = a_inv @ b_mat @ a_inv / n_total
    trace_model = tr_wg - float(np.trace(a_inv @ b_mat))
    trace_baseline = tr_wg_base - tr_base_correction
    return RobustML(vcov=vcov, trace_model=trace_model, trace_baseline=trace_baseline)


# --- Yuan–Bentler (lavaan's estimator = "MLR", complete data) --------------------------


def _h1_gradient(sigma: np.ndarray, mu: np.ndarray | None, mom) -> np.ndarray:
    """Gradient of the unit normal loglik in (mu, vech Sigma) at given moments."""
    v = np.linalg.inv(sigma)
    w = mom.cov
    d = None
    if mu is not None:
        d = mom.mean - mu
        w = w + np.outer(d, d)
    g = 0.5 * (v @ w @ v - v)
    r, c = np.tril_indices(sigma.shape[0])
    gs = g[r, c] * np.where(r == c, 1.0, 2.0)
    return gs if d is None else np.concatenate([v @ d, gs])


def _unpack(z: np.ndarray, p: int, meanstructure: bool):
    r, c = np.tril_indices(p)
    mu = z[:p] if meanstructure else None
    s = np.zeros((p, p))
    s[r, c] = z[p:] if meanstructure else z
    s[c, r] = s[r, c]
    return s, mu


def h1_observed(sigma: np.ndarray, mu: np.ndarray | None, mom) -> np.ndarray:
    """Observed (Hessian) unit information of the saturated model at given moments.

    lavaan's ``h1.information = "structured"``: the unrestricted normal
    likelihood of the sample statistics, evaluated at the model-implied
    moments. Central differences of the analytic gradient.
    """
    p = sigma.shape[0]
    r, c = np.tril_indices(p)
    z0 = sigma[r, c]
    if mu is not None:
        z0 = np.concatenate([mu, z0])
    scale = np.sqrt(np.diag(sigma))
    sc = scale[r] * scale[c]
    steps = 1e-5 * (np.concatenate([scale, sc]) if mu is not None else sc)
    h = np.zeros((z0.size, z0.size))
    for j in range(z0.size):
        e = np.zeros(z0.size)
        e[j] = steps[j]
        sp, mp = _unpack(z0 + e, p, mu is not None)
        sm, mm = _unpack(z0 - e, p, mu is not None)
        gp, gm = _h1_gradient(sp, mp, mom), _h1_gradient(sm, mm, mom)
        h[:, j] = -(gp - gm) / (2 * steps[j])
    return 0.5 * (h + h.T)


def h1_first_order(sigma: np.ndarray, mu: np.ndarray | None, x: np.ndarray) -> np.ndarray:
    """Mean cross-product of the casewise scores in (mu, vech Sigma) (lavaan's first.order).

    Without a mean structure the scores of the covariances are taken at the sample mean.
    """
    v = np.linalg.inv(sigma)
    z = x - (x.mean(axis=0) if mu is None else mu)
    vz = z @ v  # rows Sigma^-1 z_i
    r, c = np.tril_indices(sigma.shape[0])
    f = np.where(r == c, 1.0, 2.0)
    ss = 0.5 * (vz[:, r] * vz[:, c] - v[r, c][None, :]) * f[None, :]
    s = ss if mu is None else np.hstack([vz, ss])
    return s.T @ s / x.shape[0]


def observed_information(patterns, moments, theta: np.ndarray) -> np.ndarray:
    """Observed unit information of the model: half the Hessian of the discrepancy."""
    return 0.5 * structural.central_hessian(
        lambda t: structural.gradient(patterns, moments, t), theta)


def _delta(pat, theta: np.ndarray) -> np.ndarray:
    """d (mu, vech Sigma) / d theta."""
    p = pat.p
    js, jm = structural.jacobian(pat, theta)
    r, c = np.tril_indices(p)
    ds = js[r * p + c]
    return ds if jm is None else np.vstack([jm, ds])


def yuan_bentler(patterns, moments, theta: np.ndarray, data: list[np.ndarray]) -> RobustML:
    """Huber–White vcov and the Yuan–Bentler (Mplus variant) trace terms, as lavaan's MLR.

    lavaan 0.6 for complete data: observed (Hessian) information as the
    bread, first-order (casewise score) information as the meat, both with
    the structured h1 (model-implied moments); the test statistic is scaled by
    ``c = (sum_g tr(A1_g^-1 B1_g) - tr(A0^-1 B0)) / df`` (``yuan.bentler.mplus``),
    where the h1 term ``A1, B1`` is taken at the sample moments (unstructured)
    and ``B0 = sum_g (n_g/N) Delta_g' B1_g Delta_g`` at the model-implied ones.
    The independence baseline is scaled in the same way.
    """
    n_total = sum(m.n for m in moments)
    meanstructure = patterns[0].meanstructure
    k = theta.size
    a0 = observed_information(patterns, moments, theta)
    b0 = np.zeros((k, k))
    trace_h1 = 0.0
    trace_base = 0.0
    for pat, mom, x in zip(patterns, moments, data, strict=True):
        sigma, mu = structural.implied(pat, theta)
        # the h1 trace is unstructured (at the sample moments), the h0 meat structured
        mu_s = mom.mean if meanstructure else None
        t_h1 = float(np.trace(np.linalg.solve(h1_observed(mom.cov, mu_s, mom),
                                              h1_first_order(mom.cov, mu_s, x))))
        trace_h1 += t_h1
        dl = _delta(pat, theta)
        b0 += mom.n / n_total * dl.T @ h1_first_order(sigma, mu, x) @ dl
        # independence baseline: diagonal Sigma = diag(S) (and free means at the sample means)
        p = pat.p
        sb = np.diag(np.diag(mom.cov))
        mb = mom.mean if meanstructure else None
        a1b = h1_observed(sb, mb, mom)
        b1b = h1_first_order(sb, mb, x)
        r, c = np.tril_indices(p)
        sel = np.flatnonzero(r == c) + (p if meanstructure else 0)
        if meanstructure:
            sel = np.concatenate([np.arange(p), sel])
        ab, bb = a1b[np.ix_(sel, sel)], b1b[np.ix_(sel, sel)]
        trace_base += t_h1 - float(np.trace(np.linalg.solve(ab, bb)))
    a_inv = np.linalg.inv(a0)
    vcov = a_inv @ b0 @ a_inv / n_total
    trace_model = trace_h1 - float(np.trace(a_inv @ b0))
    return RobustML(vcov=vcov, trace_model=trace_model, trace_baseline=trace_base)
