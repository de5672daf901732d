"""Polyserial and Pearson correlations of continuous items, with their casewise scores.

When a model mixes ordinal items (Likert answers, read as a cut-up normal
latent response ``y*``) with continuous ones (a time, an amount, a rating on a
fine scale), the pairs need two more kinds of correlation besides the
polychoric one of :mod:`simlib.servqual.polychoric`:

* **polyserial** (continuous ``x``, ordinal ``y``): ``(x, y*)`` bivariate
  normal, so given ``z = (x - mean) / sd`` the answer ``c`` has probability
  ``Phi((tau_c - rho z) / R) - Phi((tau_{c-1} - rho z) / R)`` with
  ``R = sqrt(1 - rho^2)``. lavaan's two-step estimate (Olsson, Drasgow &
  Dorans 1982): the mean and the variance (divisor N) of ``x`` and the
  thresholds of ``y`` from their own margins, then ``rho`` alone by ML on this
  conditional likelihood (within lavaan's bounds +-0.995);
* **Pearson** (two continuous items): the product-moment correlation.

For the asymptotic covariance of the statistics (Muthén 1984, assembled in
:mod:`simlib.servqual.polychoric`) every estimate needs its casewise score
and the scores of its pair's bivariate log-likelihood with respect to the
first-step (univariate) parameters; the functions here return them. The
bivariate log-likelihood is the full one (the continuous margin included), as
lavaan takes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

__all__ = ["POLYSERIAL_BOUND", "PairScores", "normal_scores", "pearson_scores",
           "polyserial_rho", "polyserial_scores"]

#: polyserial estimates are kept within (-bound, bound), lavaan's optimizer bounds
POLYSERIAL_BOUND = 0.995
# lavaan floors conditional probabilities at the machine epsilon
_EPS = float(np.finfo(float).eps)


@dataclass(frozen=True)
class PairScores:
    """Casewise scores of one pair's bivariate log-likelihood (arrays of length N).

    ``rho`` w.r.t. the correlation; ``mean_1, var_1`` (and ``mean_2, var_2`` for two
    continuous items) w.r.t. the continuous margins; ``thresholds_2`` (N x K-1) w.r.t.
    the thresholds of the ordinal item of a polyserial pair.
    """

    rho: np.ndarray
    mean_1: np.ndarray
    var_1: np.ndarray
    mean_2: np.ndarray | None = None
    var_2: np.ndarray | None = None
    thresholds_2: np.ndarray | None = None


def normal_scores(x: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Mean, ML variance and the casewise scores of the univariate normal log-likelihood."""
    mean = float(x.mean())
    var = float(np.mean((x - mean) ** 2))
    d = x - mean
    return mean, var, d / var, (d * d / var - 1.0) / (2.0 * var)


def _bounds(code: np.ndarray, tau: np.ndarray, ncat: int):
    """Upper and lower thresholds of each answer (tau: K - 1 finite thresholds)."""
    full = np.concatenate([[-np.inf], tau[:ncat - 1], [np.inf]])
    return full[code + 1], full[code]


def _conditional(z, upper, lower, rho):
    r = np.sqrt(1.0 - rho * rho)
    a = np.where(np.isfinite(upper), (upper - rho * z) / r, upper)
    b = np.where(np.isfinite(lower), (lower - rho * z) / r, lower)
    prob = np.maximum(special.ndtr(a) - special.ndtr(b), _EPS)
    return r, a, b, prob


def _density(t: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(t), np.exp(-0.5 * np.where(np.isfinite(t), t, 0.0) ** 2)
                    / np.sqrt(2.0 * np.pi), 0.0)


def polyserial_rho(x: np.ndarray, code: np.ndarray, tau: np.ndarray, ncat: int) -> float:
    """Two-step ML polyserial correlation of continuous ``x`` and ordinal codes ``code``.

    ``code`` holds 0-based categories, ``tau`` the item's K - 1 thresholds.
    """
    mean, var, _, _ = normal_scores(x)
    z = (x - mean) / np.sqrt(var)
    upper, lower = _bounds(code, tau, ncat)

    def negll(rho: float) -> float:
        return -float(np.sum(np.log(_conditional(z, upper, lower, rho)[3])))

    best = optimize.minimize_scalar(negll, bounds=(-POLYSERIAL_BOUND, POLYSERIAL_BOUND),
                                    method="bounded", options={"xatol": 1e-12})
    return float(best.x)


def polyserial_scores(x: np.ndarray, code: np.ndarray, tau: np.ndarray, ncat: int,
                      rho: float) -> PairScores:
    """Casewise scores of a polyserial pair (continuous item 1, ordinal item 2)."""
    mean, var, _, _ = normal_scores(x)
    sd = np.sqrt(var)
    z = (x - mean) / sd
    upper, lower = _bounds(code, tau, ncat)
    r, a, b, prob = _conditional(z, upper, lower, rho)
    fa, fb = _density(a), _density(b)
    diff = (fa - fb) / prob
    # d a / d rho = (rho tau - z) / R^3; the density is 0 where tau is infinite
    ta = np.where(np.isfinite(upper), rho * np.where(np.isfinite(upper), upper, 0.0) - z, 0.0)
    tb = np.where(np.isfinite(lower), rho * np.where(np.isfinite(lower), lower, 0.0) - z, 0.0)
    s_rho = (fa * ta - fb * tb) / (r ** 3 * prob)
    s_mean = (z + rho / r * diff) / sd
    s_var = ((z * z - 1.0) + rho * z / r * diff) / (2.0 * var)
    n = x.size
    s_tau = np.zeros((n, ncat - 1))
    rows = np.arange(n)
    up = code < ncat - 1
    s_tau[rows[up], code[up]] = fa[up] / (r * prob[up])
    lo = code > 0
    s_tau[rows[lo], code[lo] - 1] = -fb[lo] / (r * prob[lo])
    return PairScores(rho=s_rho, mean_1=s_mean, var_1=s_var, thresholds_2=s_tau)


def pearson_scores(x1: np.ndarray, x2: np.ndarray, rho: float) -> PairScores:
    """Casewise scores of the bivariate normal log-likelihood of two continuous items."""
    m1, v1, _, _ = normal_scores(x1)
    m2, v2, _, _ = normal_scores(x2)
    s1, s2 = np.sqrt(v1), np.sqrt(v2)
    u, w = (x1 - m1) / s1, (x2 - m2) / s2
    r2 = 1.0 - rho * rho
    q = u * u - 2.0 * rho * u * w + w * w
    return PairScores(
        rho=rho / r2 + u * w / r2 - rho * q / (r2 * r2),
        mean_1=(u - rho * w) / (s1 * r2), var_1=-0.5 / v1 + (u * u - rho * u * w) / (2 * v1 * r2),
        mean_2=(w - rho * u) / (s2 * r2), var_2=-0.5 / v2 + (w * w - rho * u * w) / (2 * v2 * r2))
