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

__all__ = ["RobustML", "satorra_bentler"]


@dataclass(frozen=True)
class RobustML:
    """Sandwich covariance of the estimates and the trace terms of the scaled tests."""

    vcov: np.ndarray
    trace_model: float  # tr(U Gamma) of the fitted model
    trace_baseline: float  # the same for the independence model


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
