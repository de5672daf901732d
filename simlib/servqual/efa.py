"""Exploratory factor analysis (EFA) with psych-compatible conventions.

EFA looks for a small number of common factors that explain the
correlations among items, without saying in advance which item belongs to
which factor. The steps:

1. **Factorability** – Kaiser–Meyer–Olkin measure of sampling adequacy
  (:func:`kmo`; > .6 acceptable, > .8 good) and Bartlett's test of
  sphericity (:func:`bartlett`; H0: the correlation matrix is the identity).
2. **How many factors** – Horn's (1965) parallel analysis
  (:func:`parallel_analysis`): keep factors whose eigenvalues exceed those of
  random normal data of the same size (seeded ``numpy.random.Generator``).
3. **Extraction** (:func:`efa`) – minimum residual (``"minres"``, psych's
  default, unweighted least squares), maximum likelihood (``"ml"``, as
  ``factanal``) or iterated principal axes (``"pa"``, via statsmodels'
  ``Factor``).
4. **Rotation** – varimax (orthogonal, with Kaiser normalization as R's
  ``varimax``), oblimin (oblique, gamma = 0, via statsmodels' GPA as
  GPArotation), promax (power 4 on Kaiser-normalized loadings, exactly as
  ``psych::fa(rotate = "promax")``; statsmodels uses a different default power) or none.
  ``tests/servqual/test_against_r.py`` checks all three against psych 2.2.9.

Indeterminacies are removed as psych does, so that the loading table is the
same on every run: factors are sorted by the variance they explain and each
factor's sign is chosen so that its loadings sum to a positive number.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.multivariate.factor import Factor
from statsmodels.multivariate.factor_rotation import rotate_factors

from .checks import MissingPolicy, check_items, check_not_degenerate, user_stacklevel

__all__ = ["kmo", "bartlett", "parallel_analysis", "efa", "EFAResult", "KMOResult",
           "BartlettResult", "omega_hierarchical", "OmegaHierarchical"]

Method = Literal["minres", "ml", "pa"]
Rotation = Literal["oblimin", "promax", "varimax"] | None

#: Lower bound of the uniquenesses in the minres and ML extractions.
_PSI_MIN = 0.005


class KMOResult(NamedTuple):
    """Overall KMO and per-item measures of sampling adequacy."""

    overall: float
    per_item: pd.Series


class BartlettResult(NamedTuple):
    """Bartlett's test of sphericity."""

    chi2: float
    df: int
    pvalue: float


def _corr(data: pd.DataFrame, missing: MissingPolicy = "listwise",
          scale: tuple[float, float] | None = None) -> tuple[np.ndarray, int, list[str]]:
    x = check_items(data, list(data.columns), scale=scale, missing=missing)
    check_not_degenerate(x)  # constant or collinear columns make R singular
    return np.corrcoef(x.to_numpy(), rowvar=False), len(x), list(x.columns)


def kmo(data: pd.DataFrame, *, missing: MissingPolicy = "listwise",
        scale: tuple[float, float] | None = None) -> KMOResult:
    """Kaiser–Meyer–Olkin measure of sampling adequacy (Kaiser 1970).

    ``KMO = sum r_ij^2 / (sum r_ij^2 + sum q_ij^2)`` over i != j, where q are
    the partial correlations from the inverse correlation matrix.
    """
    r, _, cols = _corr(data, missing, scale)
    inv = np.linalg.inv(r)
    d = np.sqrt(np.diag(inv))
    q = -inv / np.outer(d, d)
    off = ~np.eye(len(cols), dtype=bool)
    r2 = np.where(off, r**2, 0.0)
    q2 = np.where(off, q**2, 0.0)
    overall = r2.sum() / (r2.sum() + q2.sum())
    per = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    return KMOResult(float(overall), pd.Series(per, index=cols, name="msa"))


def bartlett(data: pd.DataFrame, *, missing: MissingPolicy = "listwise",
             scale: tuple[float, float] | None = None) -> BartlettResult:
    """Bartlett's (1951) test that the correlation matrix is the identity.

    ``chi2 = -(n - 1 - (2p + 5)/6) log|R|`` with ``p(p-1)/2`` degrees of freedom.
    """
    r, n, cols = _corr(data, missing, scale)
    p = len(cols)
    _, logdet = np.linalg.slogdet(r)
    chi2 = -(n - 1 - (2 * p + 5) / 6) * logdet
    df = p * (p - 1) // 2
    return BartlettResult(float(chi2), int(df), float(stats.chi2.sf(chi2, df)))


def _smc(r: np.ndarray) -> np.ndarray:
    return 1 - 1 / np.diag(np.linalg.inv(r))


def parallel_analysis(
    data: pd.DataFrame,
    *,
    n_iter: int = 100,
    seed: int = 0,
    quantile: float = 0.95,
    missing: MissingPolicy = "listwise",
    scale: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Horn's parallel analysis for components and common factors.

    Random standard-normal data sets of the same size are drawn from
    ``numpy.random.default_rng(seed)``; their eigenvalues (of R for
    components, of R with squared multiple correlations on the diagonal for
    factors) give the reference curve.

    The factor eigenvalues follow psych's ``fa.parallel(..., SMC = TRUE)``
    (reduced correlation matrix with SMCs on the diagonal, Humphreys &
    Ilgen 1969). This is *not* psych's default: ``fa.parallel`` defaults to
    ``SMC = FALSE``, which puts the communalities of a one-factor ``fa``
    (minres) solution on the diagonal of every observed and simulated
    matrix; that needs one iterative fit per simulated data set and is not
    offered here. The suggested number of factors can therefore differ from
    psych's default output by one, typically on borderline eigenvalues.
    The reference is the ``quantile`` (default 0.95, psych's ``quant``) of
    the simulated eigenvalues.

    Returns
    -------
    pandas.DataFrame
        Index 1..p; columns ``observed_pc, random_pc, observed_fa, random_fa``
        (random = the ``quantile`` of the simulated eigenvalues).
        ``attrs["n_factors"]`` and ``attrs["n_components"]`` hold the
        suggested numbers (leading eigenvalues above the random ones).
    """
    r, n, cols = _corr(data, missing, scale)
    p = len(cols)
    rng = np.random.default_rng(seed)
    obs_pc = np.linalg.eigvalsh(r)[::-1]
    r_fa = r.copy()
    np.fill_diagonal(r_fa, _smc(r))
    obs_fa = np.linalg.eigvalsh(r_fa)[::-1]
    sim_pc = np.empty((n_iter, p))
    sim_fa = np.empty((n_iter, p))
    for it in range(n_iter):
        z = rng.standard_normal((n, p))
        rz = np.asarray(np.corrcoef(z, rowvar=False))
        sim_pc[it] = np.linalg.eigvalsh(rz)[::-1]
        np.fill_diagonal(rz, _smc(rz))
        sim_fa[it] = np.linalg.eigvalsh(rz)[::-1]
    ref_pc = np.quantile(sim_pc, quantile, axis=0)
    ref_fa = np.quantile(sim_fa, quantile, axis=0)

    def leading(obs, ref):
        above = obs > ref
        return int(np.argmin(above)) if not above.all() else p

    out = pd.DataFrame({"observed_pc": obs_pc, "random_pc": ref_pc,
                        "observed_fa": obs_fa, "random_fa": ref_fa},
                       index=pd.RangeIndex(1, p + 1, name="factor"))
    out.attrs["n_components"] = leading(obs_pc, ref_pc)
    out.attrs["n_factors"] = leading(obs_fa, ref_fa)
    out.attrs["seed"] = seed
    out.attrs["n_iter"] = n_iter
    return out


# --------------------------------------------------------------------- extraction


def _loadings_from_psi_ml(r, psi, k):
    sc = 1 / np.sqrt(psi)
    rs = r * np.outer(sc, sc)
    w, v = np.linalg.eigh(rs)
    w, v = w[::-1], v[:, ::-1]
    load = v[:, :k] * np.sqrt(np.maximum(w[:k] - 1, 0))
    return load * np.sqrt(psi)[:, None], w


def _extract_ml(r: np.ndarray, k: int) -> np.ndarray:
    """ML factor analysis by profiling out loadings (Jöreskog 1967; R's factanal)."""
    p = r.shape[0]

    def fun(psi):
        load, w = _loadings_from_psi_ml(r, psi, k)
        e = w[k:]
        f = -np.sum(np.log(e) - e) - p + k
        g = load @ load.T + np.diag(psi) - r
        return f, np.diag(g) / psi**2

    start = np.clip(1 - 0.5 * k / p / np.diag(np.linalg.inv(r)), _PSI_MIN, 1)
    res = optimize.minimize(fun, start, jac=True, method="L-BFGS-B",
                            bounds=[(_PSI_MIN, 1.0)] * p,
                            options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 2000})
    return _loadings_from_psi_ml(r, res.x, k)[0]


def _extract_minres(r: np.ndarray, k: int) -> np.ndarray:
    """Minimum-residual (ULS) extraction, psych's default."""
    p = r.shape[0]
    off = ~np.eye(p, dtype=bool)

    def loads(psi):
        w, v = np.linalg.eigh(r - np.diag(psi))
        w, v = w[::-1], v[:, ::-1]
        return v[:, :k] * np.sqrt(np.maximum(w[:k], 0))

    def fun(psi):
        lam = loads(psi)
        res = r - lam @ lam.T
        return 0.5 * np.sum(res[off] ** 2)

    start = 1 - _smc(r)
    res = optimize.minimize(fun, start, method="L-BFGS-B", bounds=[(_PSI_MIN, 1.0)] * p,
                            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000})
    return loads(res.x)


def _extract_pa(r: np.ndarray, k: int, n: int) -> np.ndarray:
    """Iterated principal axes from statsmodels' Factor (SMC starting communalities)."""
    fa = Factor(corr=r, n_factor=k, method="pa", smc=True, nobs=n)
    res = fa.fit(maxiter=200, tol=1e-8)
    return np.asarray(res.loadings)


# ----------------------------------------------------------------------- rotation


def _kaiser(lam):
    h = np.sqrt((lam**2).sum(axis=1))
    h[h == 0] = 1
    return h


def _varimax(lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Varimax with Kaiser normalization (R's ``varimax(normalize = TRUE)``)."""
    h = _kaiser(lam)
    rot, t = rotate_factors(lam / h[:, None], "varimax")
    return rot * h[:, None], np.asarray(t)


def _promax(lam: np.ndarray, power: int = 4):
    """Promax with power 4 exactly as ``psych::fa(rotate = "promax")``.

    psych rotates Kaiser-normalized loadings (rows scaled to unit length,
    ``psych::kaiser``) with ``Promax`` and scales the rows back. That differs
    slightly from R's ``stats::promax``, which builds the target from the
    unnormalized varimax loadings (:func:`_stats_promax`).
    """
    h = _kaiser(lam)
    pattern, phi = _stats_promax(lam / h[:, None], power)
    return pattern * h[:, None], phi


def _stats_promax(lam: np.ndarray, power: int = 4):
    """Promax (Hendrickson & White 1964) as R's ``stats::promax``.

    Varimax (Kaiser-normalized) first, then a least-squares oblique fit to the
    target ``L * |L|^(power - 1)``, with columns rescaled so the factor
    variances are 1.
    """
    vm, t_vm = _varimax(lam)
    target = vm * np.abs(vm) ** (power - 1)
    u, *_ = np.linalg.lstsq(vm, target, rcond=None)
    d = np.diag(np.linalg.inv(u.T @ u))
    u = u @ np.diag(np.sqrt(d))
    pattern = vm @ u
    # Full transformation from the unrotated loadings (statsmodels' GPA
    # convention: L_rot = L @ T, so T = T_vm @ U).
    u_full = t_vm @ u
    ui = np.linalg.inv(u_full)
    phi = ui @ ui.T
    return pattern, phi


def _rotate(lam: np.ndarray, rotation: Rotation):
    k = lam.shape[1]
    if rotation is None or k == 1:
        return lam, None
    if rotation == "varimax":
        return _varimax(lam)[0], None
    if rotation == "oblimin":
        rot, t = rotate_factors(lam, "oblimin", 0, "oblique")
        t = np.asarray(t)
        return rot, t.T @ t
    if rotation == "promax":
        return _promax(lam)
    raise ValueError(f"rotation: expected 'oblimin', 'promax', 'varimax' or None, got {rotation!r}")


def _warn_heywood(lam: np.ndarray, h2: np.ndarray, cols: list[str], limit: float = 0.999
                  ) -> None:
    """Warn about Heywood cases (communality >= .999 or |loading| > 1), as psych does.

    A communality at 1 means a uniqueness at (or clipped to) its bound: the
    solution is improper, often from too many factors or too few items.
    ``limit`` is lowered for extractions whose uniquenesses are bounded
    below by ``_PSI_MIN`` (a uniqueness stuck at the bound is the same case).
    """
    bad = [c for c, h, row in zip(cols, h2, lam, strict=True)
           if h >= limit or np.any(np.abs(row) > 1.0)]
    if bad:
        warnings.warn(
            f"Heywood case: communality >= .999 or a loading > 1 for {', '.join(bad)}; "
            "the solution is improper (try fewer factors or another method)",
            UserWarning, stacklevel=user_stacklevel(),
        )


@dataclass(frozen=True)
class EFAResult:
    """Results of :func:`efa`.

    Attributes
    ----------
    loadings : pandas.DataFrame
        Pattern loadings, item x factor (``F1``, ``F2``, ... ordered by
        variance explained; each column's sum is positive).
    communalities, uniquenesses : pandas.Series
    variance : pandas.DataFrame
        ``ss_loadings, proportion, cumulative`` per factor (for oblique
        rotations the sums of squares include the factor correlations, as
        psych reports them).
    factor_correlations : pandas.DataFrame or None
        For oblique rotations.
    method, rotation : str
    n : int
    """

    loadings: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    variance: pd.DataFrame
    factor_correlations: pd.DataFrame | None
    method: str
    rotation: str | None
    n: int

    @property
    def structure(self) -> pd.DataFrame:
        """Structure matrix (item–factor correlations) = loadings @ Phi."""
        if self.factor_correlations is None:
            return self.loadings
        return self.loadings @ self.factor_correlations

    def primary_factor(self) -> pd.Series:
        """Factor with the largest absolute loading, per item."""
        return self.loadings.abs().idxmax(axis=1)


def efa(
    data: pd.DataFrame,
    n_factors: int,
    method: Method = "minres",
    rotation: Rotation = "oblimin",
    *,
    missing: MissingPolicy = "listwise",
    scale: tuple[float, float] | None = None,
) -> EFAResult:
    """Exploratory factor analysis of the correlation matrix of ``data``.

    Parameters
    ----------
    data
        Items in columns.
    n_factors
        Number of factors to extract.
    method
        ``"minres"`` (default, as psych), ``"ml"`` or ``"pa"``.
    rotation
        ``"oblimin"`` (default, as psych), ``"promax"`` (power 4),
        ``"varimax"`` or ``None``.
    missing
        Missing-data policy (listwise by default, with a warning).
    scale
        Optional ``(low, high)`` answer range; values outside it are refused.

    Returns
    -------
    EFAResult

    Warns
    -----
    UserWarning
        For a Heywood case (an unrotated communality >= .999, or a
        uniqueness stuck at its lower bound .005 for ``minres``/``ml``, or a
        loading whose absolute value exceeds 1), as psych's ``fa`` warns.
    """
    r, n, cols = _corr(data, missing, scale)
    p = len(cols)
    if not 1 <= n_factors < p:
        raise ValueError(f"n_factors must be between 1 and {p - 1}, got {n_factors}")
    if method == "ml":
        lam = _extract_ml(r, n_factors)
    elif method == "minres":
        lam = _extract_minres(r, n_factors)
    elif method == "pa":
        lam = _extract_pa(r, n_factors, n)
    else:
        raise ValueError(f"method: expected 'minres', 'ml' or 'pa', got {method!r}")
    h2 = (lam**2).sum(axis=1)
    _warn_heywood(lam, h2, cols,
                  limit=0.999 if method == "pa" else min(0.999, 1 - _PSI_MIN - 1e-6))
    rot, phi = _rotate(lam, rotation)
    # psych's conventions: order by variance explained, then make column sums positive.
    ss = np.diag(phi @ rot.T @ rot) if phi is not None else (rot**2).sum(axis=0)
    order = np.argsort(-ss, kind="stable")
    rot = rot[:, order]
    ss = ss[order]
    if phi is not None:
        phi = phi[np.ix_(order, order)]
    sign = np.sign(rot.sum(axis=0))
    sign[sign == 0] = 1
    rot = rot * sign
    if phi is not None:
        phi = phi * np.outer(sign, sign)
    names = [f"F{j + 1}" for j in range(n_factors)]
    variance = pd.DataFrame({"ss_loadings": ss, "proportion": ss / p}, index=names)
    variance["cumulative"] = variance["proportion"].cumsum()
    return EFAResult(
        loadings=pd.DataFrame(rot, index=cols, columns=names),
        communalities=pd.Series(h2, index=cols, name="communality"),
        uniquenesses=pd.Series(1 - h2, index=cols, name="uniqueness"),
        variance=variance,
        factor_correlations=(pd.DataFrame(phi, index=names, columns=names)
                             if phi is not None else None),
        method=method, rotation=rotation, n=n,
    )


# --------------------------------------------------------------------- omega-hierarchical

class OmegaHierarchical(NamedTuple):
    """psych ``omega``'s omega-hierarchical and omega-total with the Schmid–Leiman loadings."""

    omega_h: float
    omega_total: float
    g_loadings: pd.Series
    group_loadings: pd.DataFrame
    n_factors: int
    n: int


def omega_hierarchical(
    data: pd.DataFrame,
    n_factors: int = 3,
    *,
    missing: MissingPolicy = "listwise",
    scale: tuple[float, float] | None = None,
) -> OmegaHierarchical:
    """McDonald's omega-hierarchical from a Schmid–Leiman solution (psych ``omega``).

    As psych's ``omega`` with its defaults (``fm="minres"``,
    ``rotate="oblimin"``, ``flip=TRUE``): ``n_factors`` minres factors of
    the correlation matrix, obliquely rotated (oblimin); a general factor
    from a one-factor minres analysis of their correlations (with two
    group factors both general loadings are sqrt(|phi12|), psych's
    ``option="equal"``); the Schmid–Leiman transformation gives each item's
    general loading g and residualised group loadings. Items with a
    negative g are reversed (``flip``), and with the total variance
    ``Vt = 1'R1`` of the (flipped) correlation matrix

    * ``omega_h = (sum g)^2 / Vt``, the share of the unit-weighted standardized
      sum score due to the general factor;
    * ``omega_total = (Vt - sum u2) / Vt`` with u2 = 1 - h2 the uniquenesses
      of the unrotated minres solution.
    """
    r, n, cols = _corr(data, missing, scale)
    p = len(cols)
    if not 2 <= n_factors < p:
        raise ValueError(f"n_factors must be between 2 and {p - 1}, got {n_factors}")
    lam = _extract_minres(r, n_factors)
    h2 = (lam**2).sum(axis=1)
    rot, phi = _rotate(lam, "oblimin")
    assert phi is not None
    if n_factors == 2:
        root = np.sqrt(abs(phi[0, 1]))
        gl = np.array([root, np.sign(phi[0, 1]) * root])
    else:
        gl = _extract_minres(phi, 1)[:, 0]
    g = rot @ gl
    group = rot * np.sqrt(np.clip(1 - gl**2, 0, None))
    key = np.where(g < 0, -1.0, 1.0)
    vt = float((r * np.outer(key, key)).sum())
    omega_h = float((key * g).sum() ** 2 / vt)
    omega_t = float((vt - (1 - h2).sum()) / vt)
    names = [f"F{j + 1}*" for j in range(n_factors)]
    return OmegaHierarchical(omega_h, omega_t, pd.Series(g, index=cols, name="g"),
                             pd.DataFrame(group, index=cols, columns=names), n_factors, n)
