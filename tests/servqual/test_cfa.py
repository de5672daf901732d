"""CFA against lavaan's published output.

Reference: lavaan tutorial, "A first example: confirmatory factor analysis
(CFA)" (https://lavaan.ugent.be/tutorial/cfa.html), output of
``summary(cfa(HS.model, data = HolzingerSwineford1939), fit.measures = TRUE)``
(lavaan 0.6). The same numbers are printed in Rosseel (2012), J. Stat.
Software 48(2).
"""

import warnings

import numpy as np
import pytest

from simlib.servqual import (
    ConvergenceWarning,
    IdentificationWarning,
    MissingValuesWarning,
    cfa,
    parse_model,
    structural,
)
from simlib.servqual.cfa import FIT_KEYS, ModelSyntaxError, cross_product, standardized_loadings
from simlib.servqual.sem import numeric_jacobian

from .conftest import HS_MODEL


@pytest.fixture(scope="module")
def fit(hs):
    return cfa(hs, HS_MODEL)


def test_fit_indices_match_lavaan(fit):
    f = fit.fit
    assert set(FIT_KEYS) <= set(f)
    assert round(f["chi2"], 3) == 85.306
    assert f["df"] == 24
    assert round(f["cfi"], 3) == 0.931
    assert round(f["tli"], 3) == 0.896
    assert round(f["rmsea"], 3) == 0.092
    assert round(f["rmsea_ci_low"], 3) == 0.071
    assert round(f["rmsea_ci_high"], 3) == 0.114
    assert round(f["srmr"], 3) == 0.065
    assert round(f["loglik"], 3) == -3737.745
    assert round(f["aic"], 3) == 7517.490
    assert round(f["bic"], 3) == 7595.339
    assert f["n"] == 301
    assert f["npar"] == 21
    # lavaan: "Model Test Baseline Model: Test statistic 918.852, df 36"
    assert round(f["baseline_chi2"], 3) == 918.852
    assert f["baseline_df"] == 36


def test_estimates_and_standard_errors_match_lavaan(fit):
    p = fit.parameters.set_index(["lhs", "op", "rhs"])
    # (estimate, std.err) from the lavaan tutorial's "Latent Variables" and
    # "Covariances"/"Variances" blocks.
    published = {
        ("visual", "=~", "x2"): (0.554, 0.100),
        ("visual", "=~", "x3"): (0.729, 0.109),
        ("textual", "=~", "x5"): (1.113, 0.065),
        ("textual", "=~", "x6"): (0.926, 0.055),
        ("speed", "=~", "x8"): (1.180, 0.165),
        ("speed", "=~", "x9"): (1.082, 0.151),
        ("visual", "~~", "textual"): (0.408, 0.074),
        ("visual", "~~", "speed"): (0.262, 0.056),
        ("textual", "~~", "speed"): (0.173, 0.049),
        ("x1", "~~", "x1"): (0.549, 0.114),
        ("x9", "~~", "x9"): (0.566, 0.071),
        ("visual", "~~", "visual"): (0.809, 0.145),
        ("textual", "~~", "textual"): (0.979, 0.112),
        ("speed", "~~", "speed"): (0.384, 0.086),
    }
    for key, (est, se) in published.items():
        assert round(p.loc[key, "est"], 3) == est, key
        assert round(p.loc[key, "se"], 3) == se, key


def test_standardized_loadings_match_lavaan(fit):
    # lavaan tutorial, summary(..., standardized = TRUE), column Std.all
    std = {"x1": 0.772, "x2": 0.424, "x3": 0.581, "x4": 0.852, "x5": 0.855,
           "x6": 0.838, "x7": 0.570, "x8": 0.723, "x9": 0.665}
    fac = {"x1": "visual", "x2": "visual", "x3": "visual", "x4": "textual",
           "x5": "textual", "x6": "textual", "x7": "speed", "x8": "speed", "x9": "speed"}
    for item, val in std.items():
        assert round(fit.loadings.loc[item, fac[item]], 3) == val
    assert fit.loadings.loc["x1", "textual"] == 0.0


def test_reliability_and_validity_satisfy_their_definitions(hs, fit):
    # No published reference is cited for these quantities, so they are
    # checked against their definitions, recomputed by hand from the fitted
    # parameter table (lavaan's standardized loadings above are published)
    # and from the item data.
    p = fit.parameters.set_index(["lhs", "op", "rhs"])
    s = hs[[f"x{i}" for i in range(1, 10)]].cov(ddof=0)  # ML (divisor N)
    for f, its in fit.model.factors:
        its = list(its)
        std = np.array([p.loc[(f, "=~", i), "std_all"] for i in its])
        lam = np.array([p.loc[(f, "=~", i), "est"] for i in its])
        phi = p.loc[(f, "~~", f), "est"]
        theta = np.array([p.loc[(i, "~~", i), "est"] for i in its])
        var = np.diag(s.loc[its, its])
        # AVE (Fornell & Larcker 1981; semTools' AVE): explained over total
        # item variance = variance-weighted mean of squared standardized loadings.
        assert fit.ave[f] == pytest.approx((std**2 * var).sum() / var.sum(), abs=1e-6)
        # Jöreskog's rho_c from standardized loadings.
        cr = std.sum() ** 2 / (std.sum() ** 2 + (1 - std**2).sum())
        assert fit.composite_reliability[f] == pytest.approx(cr, abs=1e-6)
        # omega: true-score variance of the sum over its observed variance;
        # omega_model: over its model-implied variance.
        true = lam.sum() ** 2 * phi
        assert fit.omega[f] == pytest.approx(true / s.loc[its, its].to_numpy().sum(), abs=1e-6)
        assert fit.omega_model[f] == pytest.approx(true / (true + theta.sum()), abs=1e-6)
        assert fit.fornell_larcker.loc[f, f] == pytest.approx(np.sqrt(fit.ave[f]))
    # Latent correlation = covariance / product of the factor SDs.
    cov = p.loc[("visual", "~~", "textual"), "est"]
    sd_v = np.sqrt(p.loc[("visual", "~~", "visual"), "est"])
    sd_t = np.sqrt(p.loc[("textual", "~~", "textual"), "est"])
    assert fit.factor_correlations.loc["visual", "textual"] == pytest.approx(
        cov / (sd_v * sd_t), abs=1e-6)
    # HTMT (Henseler et al. 2015) from the item correlations, by definition:
    # mean heterotrait correlation over the geometric mean of the two mean
    # monotrait correlations; HTMT2 uses geometric means of |r| throughout.
    r = hs[[f"x{i}" for i in range(1, 10)]].corr().to_numpy()
    vis, tex = [0, 1, 2], [3, 4, 5]
    het = r[np.ix_(vis, tex)].ravel()
    mono_v = np.array([r[0, 1], r[0, 2], r[1, 2]])
    mono_t = np.array([r[3, 4], r[3, 5], r[4, 5]])
    htmt = het.mean() / np.sqrt(mono_v.mean() * mono_t.mean())
    assert fit.htmt.loc["visual", "textual"] == pytest.approx(htmt, abs=1e-9)

    def gmean(a):
        return np.exp(np.log(np.abs(a)).mean())

    htmt2 = gmean(het) / np.sqrt(gmean(mono_v) * gmean(mono_t))
    assert fit.htmt2.loc["visual", "textual"] == pytest.approx(htmt2, abs=1e-9)
    table = fit.validity_table()
    assert {"composite_reliability", "ave", "fornell_larcker_ok"} <= set(table.columns)


def test_ave_is_mean_squared_standardized_loading_for_standardized_items(hs):
    z = hs[[f"x{i}" for i in range(1, 10)]]
    z = (z - z.mean()) / z.std(ddof=0)
    res = cfa(z, HS_MODEL)
    for f, its in res.model.factors:
        std = res.loadings.loc[list(its), f].to_numpy()
        assert res.ave[f] == pytest.approx((std**2).mean(), abs=1e-6)


def test_fit_values_are_python_numbers(fit):
    for key in ("chi2", "aic", "bic", "loglik", "cfi", "rmsea"):
        assert type(fit.fit[key]) is float, key
    assert type(fit.fit["n"]) is int and type(fit.fit["npar"]) is int


def test_under_identified_models_are_refused(hs):
    with pytest.raises(ValueError, match=r"df = -1 \(4 free parameters > 3 sample moments\)"):
        cfa(hs, "a =~ x1 + x2")
    with pytest.raises(ValueError, match="single indicator"):
        cfa(hs, "a =~ x1")
    with pytest.raises(ValueError, match="factor 'b' has a single indicator"):
        cfa(hs, "a =~ x1 + x2 + x3\nb =~ x4")


def test_single_indicator_with_fixed_residual(hs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no identification or convergence warning
        res = cfa(hs, "a =~ x1 + x2 + x3\nb =~ x4", fix_single_indicator=True)
    p = res.parameters.set_index(["lhs", "op", "rhs"])
    assert p.loc[("x4", "~~", "x4"), "est"] == 0.0
    # the factor is the item: its variance is the item's (ML) variance
    assert p.loc[("b", "~~", "b"), "est"] == pytest.approx(hs["x4"].var(ddof=0), rel=1e-5)
    assert np.isfinite(p["se"]).all() and p["se"].max() < 1.0


def test_singular_information_warns_before_inverting():
    with pytest.warns(IdentificationWarning, match="singular"):
        v = structural.invert_information(np.diag([1.0, 0.0]))
    assert np.isnan(v).all()
    with pytest.warns(IdentificationWarning, match="near-singular"):
        # judged on the Jacobi-scaled matrix: a tiny diagonal alone is only units
        v = structural.invert_information(np.array([[1.0, 1 - 1e-10], [1 - 1e-10, 1.0]]))
    assert np.isfinite(v).all()


def test_non_convergence_warns(hs):
    from simlib.servqual.cfa import group_moments, model_text
    from simlib.servqual.sem import fit_moments

    spec = parse_model(HS_MODEL)
    mom = group_moments(hs[spec.items].to_numpy())
    fit = fit_moments(model_text(spec), [mom])
    start = fit.theta * 3.0  # far from the optimum
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = structural.fit_ram(list(fit.patterns), [mom], start, maxiter=1, fallback=False)
    assert not res.converged


def test_warning_points_at_the_callers_line(hs):
    with pytest.warns(MissingValuesWarning) as rec:
        cfa(hs.assign(x1=hs["x1"].where(hs.index != hs.index[0])), HS_MODEL)
    assert rec[0].filename == __file__


def test_dict_model_equals_lavaan_text(hs, fit):
    other = cfa(hs, {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
                     "speed": ["x7", "x8", "x9"]})
    assert other.fit["chi2"] == pytest.approx(fit.fit["chi2"], abs=1e-6)


def test_std_lv_gives_same_fit_and_unit_variances(hs, fit):
    other = cfa(hs, HS_MODEL, std_lv=True)
    assert other.fit["chi2"] == pytest.approx(85.306, abs=5e-4)
    np.testing.assert_allclose(np.diag(other.factor_covariances), 1.0)
    np.testing.assert_allclose(other.loadings, fit.loadings, atol=1e-4)


def test_estimates_agree_with_semopy(hs, fit):
    # semopy's parameter estimates are right (only its loglik/AIC/BIC differ
    # from lavaan's); cross-check the unstandardized loadings.
    semopy = pytest.importorskip("semopy")
    m = semopy.Model(HS_MODEL)
    m.fit(hs)
    est = m.inspect()
    for _, row in est[est["op"] == "~"].iterrows():
        item, factor = row["lval"], row["rval"]
        assert fit.loadings_unstd.loc[item, factor] == pytest.approx(row["Estimate"], abs=2e-3)


def test_bad_syntax_and_missing_items(hs):
    with pytest.raises(ModelSyntaxError, match="only 'factor =~"):
        parse_model("visual ~ x1")
    from simlib.servqual import MissingItemsError

    with pytest.raises(MissingItemsError, match="x99"):
        cfa(hs, "f =~ x1 + x2 + x99")


def test_fast_paths_equal_the_plain_computations(hs, fit):
    """The shortcuts that make cfa fast give the plain computations' numbers."""
    res = fit.sem
    pat, theta = res.patterns[0], res.theta
    # E = (I - A)^-1: I + A for a measurement model (exactly LAPACK's inverse), inverted else
    a, _, _ = structural.matrices(pat, theta)
    eye = np.eye(pat.n)
    assert np.array_equal(structural.total_effects(a), np.linalg.inv(eye - a))
    a2 = a.copy()
    a2[pat.p, pat.p + 1] = 0.4  # a path between factors: A A != 0
    np.testing.assert_allclose(structural.total_effects(a2), np.linalg.inv(eye - a2),
                               rtol=0, atol=1e-15)
    # one stacked central difference = the loop of numeric_jacobian over theta
    ys = np.array([res.roles.names.index(v) for v in ("x2", "x5", "x9")])
    fs = np.array([res.roles.names.index(v) for v in ("visual", "textual", "speed")])

    def one(th):
        cov, _, _ = structural.total_moments(pat, th)
        sd = np.sqrt(np.diag(cov))
        am, _, _ = structural.matrices(pat, th)
        return am[ys, fs] * sd[fs] / sd[ys]

    stacked = structural.central_jacobian(
        lambda ths: standardized_loadings(pat, ths, ys, fs), theta)
    np.testing.assert_allclose(stacked, numeric_jacobian(one, theta), rtol=0, atol=1e-8)
    assert np.abs(stacked).max() > 0.01  # not trivially zero
    # blocked cross-product and correlations from the moments = numpy's and pandas' own
    x = hs[fit.model.items].to_numpy()
    xc = x - x.mean(axis=0)
    np.testing.assert_allclose(cross_product(xc), xc.T @ xc, rtol=1e-13)
    big = np.random.default_rng(3).standard_normal((2_000, 9))
    np.testing.assert_allclose(cross_product(big), big.T @ big, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(fit.sample_corr.to_numpy(),
                               hs[fit.model.items].corr().to_numpy(), rtol=0, atol=1e-14)
