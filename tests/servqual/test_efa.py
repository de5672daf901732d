"""EFA checks.

Published reference: psych's ``fa`` on ``sim.congeneric()`` (population
loadings .8/.7/.6/.5), printed in W. Revelle's course notes
(https://personality-project.org/courses/350/psych.sourcecode/wk.4.fa.html):
``fa(R)`` gives MR1 = 0.8, 0.7, 0.6, 0.5, h2 = 0.64, 0.49, 0.36, 0.25,
SS loadings 1.74, Proportion Var 0.43.
"""

import numpy as np
import pandas as pd
import pytest

from simlib.servqual import bartlett, efa, kmo, parallel_analysis

LOAD = np.array([0.8, 0.7, 0.6, 0.5])


def _exact_sample(r, n=400, seed=1):
    """Data whose sample correlation matrix equals ``r`` exactly."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, r.shape[0]))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False)).T)
    return z @ np.linalg.cholesky(r).T


@pytest.fixture(scope="module")
def congeneric():
    r = np.outer(LOAD, LOAD)
    np.fill_diagonal(r, 1.0)
    return pd.DataFrame(_exact_sample(r), columns=["V1", "V2", "V3", "V4"])


@pytest.mark.parametrize("method", ["minres", "ml", "pa"])
def test_one_factor_matches_psych_published(congeneric, method):
    res = efa(congeneric, 1, method=method, rotation=None)
    np.testing.assert_allclose(res.loadings["F1"].round(2), [0.8, 0.7, 0.6, 0.5])
    np.testing.assert_allclose(res.communalities.round(2), [0.64, 0.49, 0.36, 0.25])
    assert round(res.variance.loc["F1", "ss_loadings"], 2) == 1.74
    # 1.74 / 4 = 0.435 sits on the rounding edge; R printed 0.43
    assert abs(res.variance.loc["F1", "proportion"] - 0.43) <= 0.005 + 1e-6


@pytest.mark.parametrize("rotation", ["oblimin", "promax", "varimax"])
def test_holzinger_three_factors_recover_the_structure(hs, rotation):
    x = hs[[f"x{i}" for i in range(1, 10)]]
    res = efa(x, 3, method="ml", rotation=rotation)
    primary = res.primary_factor()
    # textual (x4-x6) explains most variance, so it is F1 in every rotation
    assert set(primary[["x4", "x5", "x6"]]) == {"F1"}
    assert len(set(primary[["x1", "x2", "x3"]])) == 1
    assert len(set(primary[["x7", "x8", "x9"]])) == 1
    assert (res.loadings.sum() > 0).all()
    if rotation == "varimax":
        assert res.factor_correlations is None
    else:
        phi = res.factor_correlations.to_numpy()
        np.testing.assert_allclose(np.diag(phi), 1.0, atol=1e-8)


def test_loadings_are_identical_between_runs(hs):
    x = hs[[f"x{i}" for i in range(1, 10)]]
    a = efa(x, 3, "minres", "oblimin").loadings
    b = efa(x.sample(frac=1.0, random_state=3), 3, "minres", "oblimin").loadings
    pd.testing.assert_frame_equal(a, b.loc[a.index], atol=1e-6)


def test_factorability(hs, congeneric):
    x = hs[[f"x{i}" for i in range(1, 10)]]
    k = kmo(x)
    assert 0.7 < k.overall < 0.8 and len(k.per_item) == 9
    b = bartlett(x)
    assert b.df == 36 and b.pvalue < 1e-100
    # Bartlett's statistic by hand for the exact congeneric matrix
    r = np.corrcoef(congeneric.to_numpy(), rowvar=False)
    expected = -(400 - 1 - (2 * 4 + 5) / 6) * np.log(np.linalg.det(r))
    assert bartlett(congeneric).chi2 == pytest.approx(expected)


def test_parallel_analysis_is_seeded(hs):
    x = hs[[f"x{i}" for i in range(1, 10)]]
    a = parallel_analysis(x, n_iter=20, seed=7)
    b = parallel_analysis(x, n_iter=20, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs["n_factors"] == 3


def test_heywood_case_warns():
    # Two items correlating .95 and a third nearly unrelated: a one-factor
    # solution drives one uniqueness to its bound (psych warns likewise).
    r = np.array([[1.0, 0.95, 0.05], [0.95, 1.0, 0.9], [0.05, 0.9, 1.0]])
    w, v = np.linalg.eigh(r)
    r = v @ np.diag(np.clip(w, 0.01, None)) @ v.T
    d = np.sqrt(np.diag(r))
    r = r / np.outer(d, d)
    x = pd.DataFrame(_exact_sample(r, n=200), columns=["a", "b", "c"])
    with pytest.warns(UserWarning, match="Heywood case"):
        efa(x, 1, method="ml", rotation=None)


def test_no_heywood_warning_for_a_proper_solution(congeneric):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        efa(congeneric, 1, method="minres", rotation=None)
