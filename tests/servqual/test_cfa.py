"""CFA against lavaan's published output.

Reference: lavaan tutorial, "A first example: confirmatory factor analysis
(CFA)" (https://lavaan.ugent.be/tutorial/cfa.html), output of
``summary(cfa(HS.model, data = HolzingerSwineford1939), fit.measures = TRUE)``
(lavaan 0.6). The same numbers are printed in Rosseel (2012), J. Stat.
Software 48(2).
"""

import numpy as np
import pytest

from simlib.servqual import cfa, parse_model
from simlib.servqual.cfa import FIT_KEYS, ModelSyntaxError

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


def test_reliability_and_validity_match_semtools(fit):
    # R 4.6.0 reference values for this model recorded in a public test
    # fixture (lavaan::cfa, semTools::AVE, semTools::compRelSEM,
    # lavInspect(fit, "cor.lv"), semTools::htmt): AVE .3706/.7210/.4245,
    # omega .6120/.8851/.6858, latent r .4585/.4705/.2830, HTMT
    # .3841/.3868/.2797. semTools' reliability() "omega" (model-implied
    # denominator) is .6253/.8852/.6878.
    np.testing.assert_allclose(fit.ave, [0.3706, 0.7210, 0.4245], atol=5e-5)
    np.testing.assert_allclose(fit.omega, [0.6120, 0.8851, 0.6858], atol=5e-5)
    np.testing.assert_allclose(fit.omega_model, [0.6253, 0.8852, 0.6878], atol=5e-5)
    r = fit.factor_correlations
    np.testing.assert_allclose(
        [r.loc["visual", "textual"], r.loc["visual", "speed"], r.loc["textual", "speed"]],
        [0.4585, 0.4705, 0.2830], atol=5e-5)
    h = fit.htmt2
    np.testing.assert_allclose(
        [h.loc["visual", "textual"], h.loc["visual", "speed"], h.loc["textual", "speed"]],
        [0.3841, 0.3868, 0.2797], atol=5e-5)
    fl = fit.fornell_larcker
    assert round(fl.loc["visual", "visual"], 4) == 0.6087
    table = fit.validity_table()
    assert {"composite_reliability", "ave", "fornell_larcker_ok"} <= set(table.columns)


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
