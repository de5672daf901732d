"""Thresholds, polychoric correlations and their asymptotic covariance (ordinal items).

Likert answers are coarse: an item with K ordered categories is read as a
continuous standard-normal *latent response* ``y*`` cut at K - 1 thresholds
``tau_1 < ... < tau_{K-1}`` (answer ``c`` when ``tau_{c-1} < y* <= tau_c``). A
pair of items then has a bivariate normal latent response whose correlation
is the *polychoric* correlation (Olsson 1979). The estimates are lavaan's
two-step ones (Olsson's "two-step"; lavaan 0.6's ``lav_samplestats``):

1. thresholds from the marginal proportions, ``tau_c = Phi^-1(P(answer <= c))``
   (the ML estimate of each item's marginal multinomial);
2. each correlation by ML on the pair's contingency table with the
   thresholds held fixed: cell probabilities are rectangles of the bivariate
   normal CDF. All pairs are solved at once (Fisher scoring vectorised over
   the pairs, the bivariate normal CDF by Gauss–Legendre quadrature of
   Sheppard's integral), so 22 items x 10,000 answers take a fraction of a
   second. Binary pairs get lavaan's special cases for 2x2 tables (0.5 added to
   a single empty cell keeping the margins; +-1 for two empty cells).

The asymptotic covariance of the statistics ``s = (thresholds, correlations)``
follows Muthén (1984) as lavaan computes it: casewise scores of the
univariate (thresholds) and bivariate (correlations) log-likelihoods give
``B = sum_i s_i s_i'``; the two-step estimating equations have the
block-triangular derivative ``A = [[A11, 0], [A21, A22]]`` (A11 the outer
products of the threshold scores, item by item, A22 those of the
correlation scores, A21 the correlation scores against the *bivariate*
threshold scores), and ``Cov(s) = A^-1 B A^-T``. :func:`polychoric` returns
``Gamma = N Cov(s)`` (lavaan's ``NACOV``), the input of the WLSMV fit of
:mod:`simlib.servqual.categorical`.

Polyserial correlations (ordinal with continuous items) are not implemented:
every item must be ordinal.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from .checks import ConvergenceWarning, SurveyDataError, user_stacklevel

__all__ = ["Polychoric", "polychoric", "bvn_cdf", "ordinal_codes"]

_SQRT2 = np.sqrt(2.0)
# Gauss-Legendre rules by |rho| tier (Genz 2004: 6, 12, 20 nodes up to 0.3, 0.75, 0.925)
_GL = {m: np.polynomial.legendre.leggauss(m) for m in (6, 12, 20)}
# graded mesh towards theta = pi/2 for |rho| > 0.925 (the integrand steepens there)
_GRADED = 24
#: polychoric estimates are kept within (-RHO_MAX, RHO_MAX) (lavaan's bound)
RHO_MAX = 0.999


def _phi(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


def _Phi(x: np.ndarray) -> np.ndarray:
    return special.ndtr(x)


def _sheppard(h, k, a, b, nodes: int = 20):
    """(1/2pi) int_a^b exp(-(h^2 - 2hk sin t + k^2) / (2 cos^2 t)) dt, by Gauss-Legendre."""
    gx, gw = _GL[nodes]
    half, mid = 0.5 * (b - a), 0.5 * (b + a)
    t = mid[..., None] + half[..., None] * gx
    s, c2 = np.sin(t), np.cos(t) ** 2
    hh, kk = h[..., None], k[..., None]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        f = np.exp(-(hh * hh - 2.0 * hh * kk * s + kk * kk) / (2.0 * c2))
    f = np.where(c2 > 0, f, 0.0)
    return half * (f @ gw) / (2.0 * np.pi)


def bvn_cdf(h: np.ndarray, k: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Standard bivariate normal CDF P(X <= h, Y <= k) with correlation ``rho`` (arrays, finite).

    Sheppard's formula ``Phi(h)Phi(k) + (1/2pi) int_0^asin(rho) ...``; for
    |rho| > 0.925 the complement from rho = +-1 (``Phi(min(h, k))`` or
    ``max(0, Phi(h) - Phi(-k))``) is integrated on a mesh graded towards
    +-pi/2. Absolute error below 1e-14 (checked against adaptive quadrature).
    """
    h, k, rho = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float),
                                    np.asarray(rho, float))
    out = np.empty(h.shape)
    ar = np.abs(rho)
    for lo_r, hi_r, nodes in ((-1.0, 0.3, 6), (0.3, 0.75, 12), (0.75, 0.925, 20)):
        sel = (ar > lo_r) & (ar <= hi_r)
        if sel.any():
            hl, kl = h[sel], k[sel]
            out[sel] = _Phi(hl) * _Phi(kl) + _sheppard(hl, kl, np.zeros(hl.shape),
                                                        np.arcsin(rho[sel]), nodes)
    high = ar > 0.925
    if high.any():
        hh, kk, rr = h[high], k[high], rho[high]
        sg = np.sign(rr)
        # integrate sin t in [asin |rho|, pi/2) after reflecting k for negative rho
        k2 = kk * sg
        end = np.arcsin(np.abs(rr))
        width = 0.5 * np.pi - end
        tail = np.zeros(hh.shape)
        lo = 0.5 * np.pi - width
        for j in range(_GRADED):
            a = lo + width * (1.0 - 0.5**j)
            b = lo + width * (1.0 - 0.5 ** (j + 1)) if j < _GRADED - 1 else 0.5 * np.pi + 0 * lo
            tail = tail + _sheppard(hh, k2, a, b)
        # P(X<=h, Y<=k2) with corr |rho| = Phi(min) - tail
        upper = _Phi(np.minimum(hh, k2)) - tail
        # negative rho: P(X<=h, Y<=k) = Phi(h) - P(X<=h, -Y <= -k) with corr |rho|
        out[high] = np.where(sg > 0, upper, _Phi(hh) - upper)
    return np.clip(out, 0.0, 1.0)


def bvn_pdf(h: np.ndarray, k: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Standard bivariate normal density (0 where h or k is infinite)."""
    r2 = 1.0 - rho * rho
    with np.errstate(invalid="ignore", over="ignore"):
        q = (h * h - 2.0 * rho * h * k + k * k) / r2
        out = np.exp(-0.5 * q) / (2.0 * np.pi * np.sqrt(r2))
    return np.where(np.isfinite(h) & np.isfinite(k), out, 0.0)


# --------------------------------------------------------------------------- data


def ordinal_codes(data: pd.DataFrame, items: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """0-based category codes (rows x items) and each item's categories (sorted values).

    Categories are the distinct answers observed, in increasing order (as R's
    ``ordered()`` of a numeric column). An item with a single category is refused.
    """
    codes = np.empty((len(data), len(items)), dtype=np.int64)
    levels = []
    for j, v in enumerate(items):
        col = data[v]
        if isinstance(col.dtype, pd.CategoricalDtype) and col.cat.ordered:
            cats = np.asarray(col.cat.categories)
            c = col.cat.codes.to_numpy()
            used = np.unique(c)
            codes[:, j] = np.searchsorted(used, c)
            levels.append(cats[used])
            continue
        x = col.to_numpy(dtype=float)
        lv, inv = np.unique(x, return_inverse=True)
        codes[:, j] = inv
        levels.append(lv)
    for v, lv in zip(items, levels, strict=True):
        if lv.size < 2:
            raise SurveyDataError(f"ordered item {v!r} has a single category ({lv[0]!r}); "
                                  "it carries no information")
    return codes, levels


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class Polychoric:
    """Sample statistics of ordinal items (see :func:`polychoric`).

    ``cor`` is the polychoric correlation matrix (DataFrame), ``thresholds``
    a Series indexed ``"item|t1"``, ... (lavaan's names), ``gamma`` the
    asymptotic covariance ``N Cov(s)`` of ``s = (thresholds, correlations)``
    (thresholds item by item, then the correlations of the pairs (i, j), i > j,
    column by column as lavaan's ``vech``), None when not asked for.
    """

    cor: pd.DataFrame
    thresholds: pd.Series
    n: int
    gamma: np.ndarray | None
    th_item: np.ndarray  # item index of every threshold
    pairs: tuple[np.ndarray, np.ndarray]  # (i, j) of every correlation, i > j
    levels: tuple[np.ndarray, ...]

    @property
    def stats(self) -> np.ndarray:
        """The vector s = (thresholds, correlations) in :attr:`gamma`'s order."""
        i, j = self.pairs
        return np.concatenate([self.thresholds.to_numpy(), self.cor.to_numpy()[i, j]])


def _thresholds(codes: np.ndarray, kmax: int):
    n, p = codes.shape
    counts = np.zeros((p, kmax))
    for j in range(p):
        counts[j] = np.bincount(codes[:, j], minlength=kmax)
    ncat = (codes.max(axis=0) + 1).astype(int)
    cum = np.cumsum(counts, axis=1) / n
    # tau[:, 0] = -inf, tau[:, c] upper threshold of category c-1, +inf after the last
    tau = np.full((p, kmax + 1), np.inf)
    tau[:, 0] = -np.inf
    for j in range(p):
        tau[j, 1:ncat[j]] = special.ndtri(cum[j, :ncat[j] - 1])
    return tau, ncat, counts


def _tables(codes: np.ndarray, ii: np.ndarray, jj: np.ndarray, kmax: int) -> np.ndarray:
    """Contingency tables (pairs x kmax x kmax): rows the categories of item i, cols of j."""
    n = codes.shape[0]
    out = np.empty((ii.size, kmax * kmax))
    # chunks keep the temporary (n x chunk) code matrix small
    step = max(1, int(4e6 // max(n, 1)))
    for s in range(0, ii.size, step):
        a, b = ii[s:s + step], jj[s:s + step]
        flat = codes[:, a] * kmax + codes[:, b]  # n x m
        off = np.arange(a.size) * kmax * kmax
        cnt = np.bincount((flat + off[None, :]).ravel(), minlength=a.size * kmax * kmax)
        out[s:s + step] = cnt.reshape(a.size, kmax * kmax)
    return out.reshape(ii.size, kmax, kmax)


def _grid(t1: np.ndarray, t2: np.ndarray, rho: np.ndarray):
    """Cumulative bivariate probabilities F[a, b] = P(y1* <= t1[a], y2* <= t2[b]) and densities.

    t1, t2: pairs x (kmax + 1) threshold vectors with -inf first and +inf padding.
    """
    m, kp = t1.shape
    h = np.broadcast_to(t1[:, :, None], (m, kp, kp))
    k = np.broadcast_to(t2[:, None, :], (m, kp, kp))
    r = np.broadcast_to(rho[:, None, None], (m, kp, kp))
    fin = np.isfinite(h) & np.isfinite(k)
    f = np.zeros((m, kp, kp))
    f[fin] = bvn_cdf(h[fin], k[fin], r[fin])
    # one bound +inf: the other margin; either -inf: 0
    hi_h = np.isposinf(h) & np.isfinite(k)
    f[hi_h] = _Phi(k[hi_h])
    hi_k = np.isposinf(k) & np.isfinite(h)
    f[hi_k] = _Phi(h[hi_k])
    f[np.isposinf(h) & np.isposinf(k)] = 1.0
    dens = bvn_pdf(h, k, r)
    return f, dens


def _rect(f: np.ndarray) -> np.ndarray:
    """Cell probabilities from a cumulative grid (differences along both axes)."""
    return f[:, 1:, 1:] - f[:, :-1, 1:] - f[:, 1:, :-1] + f[:, :-1, :-1]


def _cell_probs(t1, t2, rho):
    f, dens = _grid(t1, t2, rho)
    return np.clip(_rect(f), 1e-300, None), _rect(dens)


def _fit_rho(tab: np.ndarray, t1: np.ndarray, t2: np.ndarray, start: np.ndarray,
             maxiter: int = 100, tol: float = 1e-10):
    """ML correlations of all pairs at once: Fisher scoring with step halving."""
    rho = np.clip(start, -0.95, 0.95)
    n = tab.sum(axis=(1, 2))
    used = tab > 0

    def evaluate(sel, r):
        p, dp = _cell_probs(t1[sel], t2[sel], r)
        ll = np.where(used[sel], tab[sel] * np.log(p), 0.0).sum(axis=(1, 2))
        return p, dp, ll

    p, dp, ll = evaluate(np.arange(rho.size), rho)
    active = np.arange(rho.size)
    for _ in range(maxiter):
        pa, dpa = p[active], dp[active]
        score = (tab[active] * dpa / pa).sum(axis=(1, 2))
        info = n[active] * (dpa * dpa / pa).sum(axis=(1, 2))
        step = score / np.maximum(info, 1e-300)
        r_a, ll_a = rho[active], ll[active]
        new = np.clip(r_a + step, -RHO_MAX, RHO_MAX)
        p_new, dp_new, ll_new = evaluate(active, new)
        t = 1.0
        for _half in range(30):
            worse = np.flatnonzero(ll_new < ll_a - 1e-12 * np.abs(ll_a))
            if worse.size == 0:
                break
            t *= 0.5
            new[worse] = np.clip(r_a[worse] + t * step[worse], -RHO_MAX, RHO_MAX)
            p_new[worse], dp_new[worse], ll_new[worse] = evaluate(active[worse], new[worse])
        moved = np.abs(new - r_a)
        rho[active], ll[active] = new, ll_new
        p[active], dp[active] = p_new, dp_new
        active = active[moved >= tol]
        if active.size == 0:
            return rho, True
    return rho, False


def _binary_special(tab: np.ndarray, t1: np.ndarray, t2: np.ndarray, ncat1, ncat2):
    """lavaan's 2x2 rules: returns (tables to fit, fixed rho or nan per pair)."""
    tab = tab.copy()
    fixed = np.full(tab.shape[0], np.nan)
    for q in np.flatnonzero((ncat1 == 2) & (ncat2 == 2)):
        f = tab[q, :2, :2]
        zero = np.argwhere(f == 0)
        if len(zero) == 2:
            fixed[q] = 1.0 if f[0, 0] > 0 else -1.0
            continue
        if len(zero) == 1:
            a, b = zero[0]
            d = 0.5 if a == b else -0.5
            f += np.array([[d, -d], [-d, d]])
        if f[0, 0] * f[1, 1] == f[0, 1] * f[1, 0]:
            fixed[q] = 0.0
        elif t1[q, 1] == 0 and t2[q, 1] == 0:
            fixed[q] = -np.cos(2 * np.pi * f[0, 0] / f.sum())
        tab[q, :2, :2] = f
    return tab, fixed


def polychoric(data: pd.DataFrame, items: list[str] | None = None, *,
               gamma: bool = True) -> Polychoric:
    """Polychoric correlations and thresholds of ordinal items (lavaan's two-step estimates).

    Parameters
    ----------
    data
        Respondents in rows; every item column numeric (answer codes, any
        increasing values) or an ordered categorical. No missing values
        (drop incomplete rows first).
    items
        Columns to use (default: all).
    gamma
        Also compute the asymptotic covariance of the thresholds and
        correlations (Muthén 1984), needed for WLSMV standard errors and tests.

    Returns
    -------
    Polychoric
        ``cor`` (items x items), ``thresholds`` (``"item|t1"``, ...), ``gamma``.

    Raises
    ------
    SurveyDataError
        For missing values or an item with a single category.
    """
    items = list(data.columns) if items is None else list(items)
    missing = [v for v in items if v not in data.columns]
    if missing:
        raise SurveyDataError(f"columns {missing} are not in the data")
    if data[items].isna().to_numpy().any():
        bad = [v for v in items if data[v].isna().any()]
        raise SurveyDataError(f"missing values in {bad}; drop incomplete rows first")
    codes, levels = ordinal_codes(data, items)
    n, p = codes.shape
    kmax = int(codes.max()) + 1
    tau, ncat, counts = _thresholds(codes, kmax)
    jj, ii = np.triu_indices(p, 1)  # pairs (i, j), i > j, column by column (lavaan's vech)
    tabs = _tables(codes, ii, jj, kmax)
    t1, t2 = tau[ii], tau[jj]
    fit_tabs, fixed = _binary_special(tabs, t1, t2, ncat[ii], ncat[jj])
    # start: the Pearson correlation of the codes
    z = codes - codes.mean(axis=0)
    sd = np.sqrt((z * z).mean(axis=0))
    pear = (z.T @ z / n) / np.outer(sd, sd)
    start = pear[ii, jj]
    todo = np.isnan(fixed)
    rho = fixed.copy()
    if todo.any():
        est, ok = _fit_rho(fit_tabs[todo], t1[todo], t2[todo], start[todo])
        rho[todo] = est
        if not ok:
            warnings.warn("polychoric: some correlations did not converge", ConvergenceWarning,
                          stacklevel=user_stacklevel())
    cor = np.eye(p)
    cor[ii, jj] = cor[jj, ii] = rho
    th_item = np.concatenate([np.full(ncat[j] - 1, j) for j in range(p)])
    th_vals = np.concatenate([tau[j, 1:ncat[j]] for j in range(p)])
    th_names = [f"{items[j]}|t{c}" for j in range(p) for c in range(1, ncat[j])]
    gam = _gamma(codes, tau, ncat, counts, tabs, ii, jj, rho) if gamma else None
    return Polychoric(cor=pd.DataFrame(cor, index=items, columns=items),
                      thresholds=pd.Series(th_vals, index=th_names), n=n, gamma=gam,
                      th_item=th_item, pairs=(ii, jj), levels=tuple(levels))


def _gamma(codes, tau, ncat, counts, tabs, ii, jj, rho) -> np.ndarray:
    """N Cov(thresholds, correlations) from casewise scores (Muthén 1984, as lavaan)."""
    n, p = codes.shape
    kmax = counts.shape[1]
    start = np.concatenate([[0], np.cumsum(ncat - 1)])
    nth = int(start[-1])
    npair = ii.size
    # univariate scores by category: d log P_c / d tau_m (m = c-1 lower, m = c upper)
    pc = _Phi(tau[:, 1:]) - _Phi(tau[:, :-1])  # p x kmax
    dens = np.where(np.isfinite(tau), _phi(np.where(np.isfinite(tau), tau, 0.0)), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(pc > 0, dens[:, 1:] / pc, 0.0)  # w.r.t. the upper threshold (index c)
        lo = np.where(pc > 0, -dens[:, :-1] / pc, 0.0)  # w.r.t. the lower one (index c-1)
    sc = np.zeros((n, nth + npair))
    rows = np.arange(n)
    for j in range(p):
        c = codes[:, j]
        col_up = start[j] + c  # threshold t_{c+1} (0-based index c) is the upper bound
        m_up = c < ncat[j] - 1
        sc[rows[m_up], col_up[m_up]] = up[j, c[m_up]]
        m_lo = c > 0
        sc[rows[m_lo], col_up[m_lo] - 1] = lo[j, c[m_lo]]
    # bivariate scores by cell
    t1, t2 = tau[ii], tau[jj]
    prob, dprob = _cell_probs(t1, t2, rho)
    s_rho = np.where(tabs > 0, dprob / prob, 0.0)  # pairs x kmax x kmax
    flat = codes[:, ii] * kmax + codes[:, jj]
    sc[:, nth:] = np.take_along_axis(s_rho.reshape(npair, -1).T, flat, axis=0)
    # derivative of the cell probabilities w.r.t. the thresholds of item i (rows a) and j
    s = np.sqrt(1.0 - rho * rho)[:, None, None]
    with np.errstate(invalid="ignore"):
        # dF(h, k)/dh = phi(h) Phi((k - rho h)/s) on the grid, 0 at infinite h
        h = t1[:, :, None]
        k = t2[:, None, :]
        r = rho[:, None, None]
        hf = np.where(np.isfinite(h), h, 0.0)
        kf = np.where(np.isfinite(k), k, 0.0)
        arg_h = np.where(np.isfinite(k), (kf - r * hf) / s, np.where(k > 0, np.inf, -np.inf))
        dfdh = np.where(np.isfinite(h), _phi(hf) * _Phi(arg_h), 0.0)
        arg_k = np.where(np.isfinite(h), (hf - r * kf) / s, np.where(h > 0, np.inf, -np.inf))
        dfdk = np.where(np.isfinite(k), _phi(kf) * _Phi(arg_k), 0.0)
    # cell (a, b) depends on tau1[a] (lower, sign -) and tau1[a+1] (upper, +)
    g_h = dfdh[:, :, 1:] - dfdh[:, :, :-1]  # pairs x (kmax+1) x kmax: along b differenced
    g_k = dfdk[:, 1:, :] - dfdk[:, :-1, :]  # pairs x kmax x (kmax+1)
    a21 = np.zeros((npair, nth))
    w = tabs * s_rho / prob  # n_ab s_rho / P_ab
    for q in range(npair):
        i, j = ii[q], jj[q]
        ki, kj = ncat[i], ncat[j]
        wq = w[q, :ki, :kj]
        # d P_ab / d tau_i[m] (m = 1..ki-1, grid index m): + for a = m-1 (upper), - for a = m
        gh = g_h[q, 1:ki, :kj]  # (ki-1) x kj at grid rows 1..ki-1
        a21[q, start[i]:start[i] + ki - 1] = (wq[:ki - 1] * gh).sum(axis=1) - (
            wq[1:ki] * gh).sum(axis=1)
        gk = g_k[q, :ki, 1:kj]  # ki x (kj-1)
        a21[q, start[j]:start[j] + kj - 1] = (wq[:, :kj - 1] * gk).sum(axis=0) - (
            wq[:, 1:kj] * gk).sum(axis=0)
    inner = sc.T @ sc
    a11_inv = np.zeros((nth, nth))
    for j in range(p):
        sl = slice(start[j], start[j + 1])
        a11_inv[sl, sl] = np.linalg.inv(inner[sl, sl])
    a22 = np.diag(inner)[nth:]
    a21_inv = -(a21 / a22[:, None]) @ a11_inv
    b_inv = np.zeros((nth + npair, nth + npair))
    b_inv[:nth, :nth] = a11_inv
    b_inv[nth:, :nth] = a21_inv
    b_inv[nth:, nth:] = np.diag(1.0 / a22)
    return n * (b_inv @ inner @ b_inv.T)
