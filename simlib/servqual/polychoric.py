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

Continuous items may join the ordinal ones (``continuous=``): they bring
their means and variances, and polyserial (with an ordinal item) or Pearson
(with another continuous item) correlations (:mod:`simlib.servqual.polyserial`).
lavaan's vector of statistics is then ``s = (thresholds and minus the means,
item by item; the variances of the continuous items; the covariances of the
pairs)``, where a covariance is the correlation times the standard deviations
of its continuous items (an ordinal item's latent response has variance 1),
and ``Gamma`` is carried from the correlation metric to it by the delta method.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from .checks import ConvergenceWarning, SurveyDataError, user_stacklevel
from .polyserial import normal_scores, pearson_scores, polyserial_rho, polyserial_scores

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
    """Sample statistics of ordinal (and continuous) items (see :func:`polychoric`).

    ``cor`` is the correlation matrix (DataFrame: polychoric, polyserial and
    Pearson correlations), ``thresholds`` a Series indexed ``"item|t1"``, ...
    (lavaan's names) holding, in the place of a continuous item, minus its
    mean (``"item~1"``), ``variances`` the variances (divisor N) of the
    continuous items (empty when every item is ordinal), ``gamma`` the
    asymptotic covariance ``N Cov(s)`` of ``s`` (:attr:`stats`: thresholds item
    by item, the variances, then the covariances of the pairs (i, j), i > j,
    column by column as lavaan's ``vech``), None when not asked for.
    """

    cor: pd.DataFrame
    thresholds: pd.Series
    n: int
    gamma: np.ndarray | None
    th_item: np.ndarray  # item index of every threshold (or minus mean)
    pairs: tuple[np.ndarray, np.ndarray]  # (i, j) of every correlation, i > j
    levels: tuple[np.ndarray, ...]  # categories of each item (empty for a continuous one)
    variances: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))

    @property
    def continuous(self) -> np.ndarray:
        """Boolean mask of the continuous items, in the order of ``cor``."""
        return self.cor.index.isin(self.variances.index)

    @property
    def cov(self) -> pd.DataFrame:
        """The correlations scaled by the standard deviations of the continuous items."""
        sd = np.ones(len(self.cor))
        sd[self.continuous] = np.sqrt(self.variances[self.cor.index[self.continuous]].to_numpy())
        return self.cor * np.outer(sd, sd)

    @property
    def entries(self) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of the fitted (co)variances: the continuous items' variances, then
        the pairs."""
        d = np.flatnonzero(self.continuous)
        i, j = self.pairs
        return np.concatenate([d, i]), np.concatenate([d, j])

    @property
    def th_sign(self) -> np.ndarray:
        """+1 for a threshold, -1 for a continuous item's minus-mean entry."""
        return np.where(self.thresholds.index.str.endswith("~1"), -1.0, 1.0)

    @property
    def stats(self) -> np.ndarray:
        """The vector s in :attr:`gamma`'s order."""
        i, j = self.entries
        return np.concatenate([self.thresholds.to_numpy(), self.cov.to_numpy()[i, j]])


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
               gamma: bool = True, continuous: Sequence[str] = ()) -> Polychoric:
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
        Also compute the asymptotic covariance of the statistics (Muthén
        1984), needed for WLSMV standard errors and tests.
    continuous
        Items among ``items`` that are continuous: their mean and variance
        (divisor N) are estimated, and they are correlated with the ordinal
        items by polyserial, with each other by Pearson correlations
        (:mod:`simlib.servqual.polyserial`), as lavaan does for items not
        declared ``ordered``.

    Returns
    -------
    Polychoric
        ``cor`` (items x items), ``thresholds`` (``"item|t1"``, ..., and
        ``"item~1"`` = minus the mean of a continuous item), ``variances``
        (continuous items), ``gamma``.

    Raises
    ------
    SurveyDataError
        For missing values, an ordinal item with a single category or a
        continuous item with zero variance.
    """
    items = list(data.columns) if items is None else list(items)
    missing = [v for v in items if v not in data.columns]
    if missing:
        raise SurveyDataError(f"columns {missing} are not in the data")
    cont = [v for v in items if v in set(continuous)]
    stray = [v for v in continuous if v not in items]
    if stray:
        raise SurveyDataError(f"continuous items {stray} are not among the items")
    if data[items].isna().to_numpy().any():
        bad = [v for v in items if data[v].isna().any()]
        raise SurveyDataError(f"missing values in {bad}; drop incomplete rows first")
    ordinal = [v for v in items if v not in cont]
    if not ordinal:
        raise SurveyDataError("no ordinal item: every item is continuous (use ML)")
    values = {}
    for v in cont:
        x = data[v].to_numpy(dtype=float)
        if not np.ptp(x) > 0:
            raise SurveyDataError(f"continuous item {v!r} has zero variance (every value "
                                  f"{x[0]:g}); it carries no information")
        values[v] = x
    codes, levels = ordinal_codes(data, ordinal)
    n, po = codes.shape
    kmax = int(codes.max()) + 1
    tau, ncat, counts = _thresholds(codes, kmax)
    jo, io = np.triu_indices(po, 1)  # pairs (i, j), i > j, column by column (lavaan's vech)
    tabs = _tables(codes, io, jo, kmax)
    t1, t2 = tau[io], tau[jo]
    fit_tabs, fixed = _binary_special(tabs, t1, t2, ncat[io], ncat[jo])
    # start: the Pearson correlation of the codes
    z = codes - codes.mean(axis=0)
    sd = np.sqrt((z * z).mean(axis=0))
    pear = (z.T @ z / n) / np.outer(sd, sd)
    start = pear[io, jo]
    todo = np.isnan(fixed)
    rho_o = fixed.copy()
    if todo.any():
        est, ok = _fit_rho(fit_tabs[todo], t1[todo], t2[todo], start[todo])
        rho_o[todo] = est
        if not ok:
            warnings.warn("polychoric: some correlations did not converge", ConvergenceWarning,
                          stacklevel=user_stacklevel())
    layout = _Layout(items, cont, ordinal, ncat)
    p = len(items)
    cor = np.eye(p)
    ii, jj = layout.pairs
    oi = {v: j for j, v in enumerate(ordinal)}
    pos_o = {(int(a), int(b)): q for q, (a, b) in enumerate(zip(io, jo, strict=True))}
    rho = np.empty(ii.size)
    for q, (a, b) in enumerate(zip(ii.tolist(), jj.tolist(), strict=True)):
        va, vb = items[a], items[b]
        if va in oi and vb in oi:
            rho[q] = rho_o[pos_o[(oi[va], oi[vb])]]
        elif va in oi or vb in oi:
            xv, ov = (vb, va) if va in oi else (va, vb)
            k = oi[ov]
            rho[q] = polyserial_rho(values[xv], codes[:, k], tau[k, 1:ncat[k]], int(ncat[k]))
        else:
            rho[q] = float(np.corrcoef(values[va], values[vb])[0, 1])
    cor[ii, jj] = cor[jj, ii] = rho
    th_vals, th_names, th_item = [], [], []
    for a, v in enumerate(items):
        if v in oi:
            k = oi[v]
            th_vals += list(tau[k, 1:ncat[k]])
            th_names += [f"{v}|t{c}" for c in range(1, ncat[k])]
            th_item += [a] * (int(ncat[k]) - 1)
        else:
            th_vals.append(-float(values[v].mean()))
            th_names.append(f"{v}~1")
            th_item.append(a)
    variances = pd.Series([float(np.var(values[v])) for v in cont], index=cont, dtype=float)
    gam = None
    if gamma:
        ord_parts = _ordinal_parts(codes, tau, ncat, tabs, io, jo, rho_o)
        gam = _gamma(layout, ord_parts, codes, tau, values, rho, variances)
    level_of = dict(zip(ordinal, levels, strict=True))
    return Polychoric(cor=pd.DataFrame(cor, index=items, columns=items),
                      thresholds=pd.Series(th_vals, index=th_names), n=n, gamma=gam,
                      th_item=np.array(th_item, dtype=np.int64), pairs=(ii, jj),
                      levels=tuple(level_of.get(v, np.array([])) for v in items),
                      variances=variances)


class _Layout:
    """Where each statistic sits in lavaan's vector: thresholds (or -means) item by item,
    then the variances of the continuous items, then the pairs column by column."""

    def __init__(self, items: list[str], cont: list[str], ordinal: list[str], ncat):
        self.items = items
        self.numeric = np.array([v in set(cont) for v in items])
        width = {v: int(ncat[k]) - 1 for k, v in enumerate(ordinal)} | {v: 1 for v in cont}
        self.th_start = np.concatenate([[0], np.cumsum([width[v] for v in items])])
        self.nth = int(self.th_start[-1])
        self.var_col = {v: self.nth + k for k, v in enumerate(cont)}
        self.nuni = self.nth + len(cont)
        jj, ii = np.triu_indices(len(items), 1)
        self.pairs = (ii, jj)

    def uni_cols(self, a: int) -> list[int]:
        """Columns of item ``a``'s first-step parameters (its A11 block)."""
        cols = list(range(self.th_start[a], self.th_start[a + 1]))
        v = self.items[a]
        return cols + ([self.var_col[v]] if v in self.var_col else [])


def _ordinal_parts(codes, tau, ncat, tabs, ii, jj, rho):
    """Casewise threshold scores, polychoric scores and A21 of the ordinal items alone.

    Returns (threshold scores n x nth, their column offsets per item, correlation scores
    n x pairs, A21 pairs x nth).
    """
    n, p = codes.shape
    kmax = tabs.shape[1]
    start = np.concatenate([[0], np.cumsum(ncat - 1)])
    nth = int(start[-1])
    npair = ii.size
    # univariate scores by category: d log P_c / d tau_m (m = c-1 lower, m = c upper)
    pc = _Phi(tau[:, 1:]) - _Phi(tau[:, :-1])  # p x kmax
    dens = np.where(np.isfinite(tau), _phi(np.where(np.isfinite(tau), tau, 0.0)), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(pc > 0, dens[:, 1:] / pc, 0.0)  # w.r.t. the upper threshold (index c)
        lo = np.where(pc > 0, -dens[:, :-1] / pc, 0.0)  # w.r.t. the lower one (index c-1)
    sc_th = np.zeros((n, nth))
    rows = np.arange(n)
    for j in range(p):
        c = codes[:, j]
        col_up = start[j] + c  # threshold t_{c+1} (0-based index c) is the upper bound
        m_up = c < ncat[j] - 1
        sc_th[rows[m_up], col_up[m_up]] = up[j, c[m_up]]
        m_lo = c > 0
        sc_th[rows[m_lo], col_up[m_lo] - 1] = lo[j, c[m_lo]]
    sc_cor = np.zeros((n, npair))
    a21 = np.zeros((npair, nth))
    if npair == 0:
        return sc_th, start, sc_cor, a21
    # bivariate scores by cell
    t1, t2 = tau[ii], tau[jj]
    prob, dprob = _cell_probs(t1, t2, rho)
    s_rho = np.where(tabs > 0, dprob / prob, 0.0)  # pairs x kmax x kmax
    flat = codes[:, ii] * kmax + codes[:, jj]
    sc_cor[:] = np.take_along_axis(s_rho.reshape(npair, -1).T, flat, axis=0)
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
    return sc_th, start, sc_cor, a21


def _gamma(layout: _Layout, ord_parts, codes, tau, values, rho, variances) -> np.ndarray:
    """N Cov(s) from casewise scores (Muthén 1984, as lavaan's ``NACOV``).

    The two-step estimating equations have the block-triangular derivative
    ``A = [[A11, 0], [A21, A22]]``; ``Cov = A^-1 B A^-T`` with ``B`` the
    cross-products of the casewise scores, in the correlation metric. With
    continuous items the correlations are then carried to covariances
    (``rho sd_i sd_j``) by the delta method, and the mean entries change sign
    (the statistic is minus the mean).
    """
    items = layout.items
    n = codes.shape[0]
    sc_th_o, start_o, sc_cor_o, a21_o = ord_parts
    ordinal = [v for v in items if not layout.numeric[items.index(v)]]
    oi = {v: k for k, v in enumerate(ordinal)}
    ncat = np.diff(start_o) + 1
    ii, jj = layout.pairs
    npair = ii.size
    m = layout.nuni + npair
    sc = np.zeros((n, m))
    # where each ordinal threshold column goes in the full layout
    o_cols = np.concatenate([np.arange(layout.th_start[items.index(v)],
                                       layout.th_start[items.index(v) + 1]) for v in ordinal])
    sc[:, o_cols] = sc_th_o
    for a, v in enumerate(items):
        if v in values:
            _, _, s_mean, s_var = normal_scores(values[v])
            sc[:, layout.th_start[a]] = s_mean
            sc[:, layout.var_col[v]] = s_var
    a21 = np.zeros((npair, layout.nuni))
    h21 = np.zeros((npair, layout.nuni))
    h22 = np.ones(npair)
    sd = {v: float(np.sqrt(variances[v])) for v in variances.index}
    jo, io = np.triu_indices(len(ordinal), 1)
    pos_o = {(int(a), int(b)): q for q, (a, b) in enumerate(zip(io, jo, strict=True))}
    for q, (a, b) in enumerate(zip(ii.tolist(), jj.tolist(), strict=True)):
        va, vb = items[a], items[b]
        col = layout.nuni + q
        if va in oi and vb in oi:
            qo = pos_o[(oi[va], oi[vb])]
            sc[:, col] = sc_cor_o[:, qo]
            a21[q, o_cols] = a21_o[qo]
            continue
        if va in oi or vb in oi:  # polyserial
            xv, ov = (vb, va) if va in oi else (va, vb)
            k = oi[ov]
            ps = polyserial_scores(values[xv], codes[:, k], tau[k, 1:ncat[k]], int(ncat[k]),
                                   float(rho[q]))
            assert ps.thresholds_2 is not None
            sc[:, col] = ps.rho
            ov_a = items.index(ov)
            a21[q, layout.th_start[ov_a]:layout.th_start[ov_a + 1]] = ps.rho @ ps.thresholds_2
            pairs_uni = [(xv, ps.mean_1, ps.var_1)]
        else:  # Pearson
            ps = pearson_scores(values[va], values[vb], float(rho[q]))
            assert ps.mean_2 is not None and ps.var_2 is not None
            sc[:, col] = ps.rho
            pairs_uni = [(va, ps.mean_1, ps.var_1), (vb, ps.mean_2, ps.var_2)]
        for v, s_mean, s_var in pairs_uni:
            a21[q, layout.th_start[items.index(v)]] = ps.rho @ s_mean
            a21[q, layout.var_col[v]] = ps.rho @ s_var
        # delta method: cov_ab = rho sd_a sd_b (sd 1 for an ordinal item)
        sa, sb = sd.get(va, 1.0), sd.get(vb, 1.0)
        h22[q] = sa * sb
        if va in sd:
            h21[q, layout.var_col[va]] = rho[q] * sb / (2.0 * sa)
        if vb in sd:
            h21[q, layout.var_col[vb]] = rho[q] * sa / (2.0 * sb)
    inner = sc.T @ sc
    # A11 is block diagonal (one block per item): invert block by block
    a11_inv = np.zeros((layout.nuni, layout.nuni))
    for a in range(len(items)):
        cols = layout.uni_cols(a)
        a11_inv[np.ix_(cols, cols)] = np.linalg.inv(inner[np.ix_(cols, cols)])
    a22 = np.diag(inner)[layout.nuni:]
    b_inv = np.zeros((m, m))
    b_inv[:layout.nuni, :layout.nuni] = a11_inv
    b_inv[layout.nuni:, :layout.nuni] = -(a21 / a22[:, None]) @ a11_inv
    b_inv[layout.nuni:, layout.nuni:] = np.diag(1.0 / a22)
    gam = n * (b_inv @ inner @ b_inv.T)
    if layout.numeric.any():
        hmat = np.eye(m)
        hmat[layout.nuni:, :layout.nuni] = h21
        hmat[layout.nuni:, layout.nuni:] = np.diag(h22)
        gam = hmat @ gam @ hmat.T
        means = np.array([layout.th_start[a] for a in np.flatnonzero(layout.numeric)])
        gam[means, :] *= -1.0
        gam[:, means] *= -1.0
    return gam
