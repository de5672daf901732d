"""Ordinal items: ``polychoric`` and ``sem(ordered=...)`` (WLSMV) against lavaan 0.6.

Reference values were written by ``tests/servqual/reference/wlsmv_reference.R`` (R 4.2.2,
lavaan 0.6.14) to ``tests/servqual/data/wlsmv_reference.json``; R is not needed to run the
tests. Data: the nine Holzinger–Swineford tests cut into 4 ordered categories by the script
(``data/hs_ordinal.csv``) and the 22 SERVQUAL perceptions of ``load_bliemel()`` (six
categories, sparse low ones, so many bivariate tables have empty cells). Models: a
three-factor CFA, a structural model with ``std_lv``, a regression among factors and a
residual covariance of two items (lavaan reports a negative residual variance there too), and
the five-dimension SERVQUAL CFA. Mixed ordinal and continuous items (``data/hs_mixed.csv``:
x1, x4, x7 raw and continuous, the others ordinal, so every kind of pair appears: polychoric,
polyserial, Pearson; ``data/hs_mixed2.csv``: a two-factor ``std_lv`` model, x1..x3 continuous,
x4..x6 ordinal): the statistics (thresholds and minus the means, variances, covariances), their
full asymptotic covariance, and the fits with the free intercepts of the continuous items.

Tolerances: thresholds 1e-10 and polychoric correlations 1e-6 absolute (lavaan's optimizer
stops at about 1e-8), their asymptotic covariance 1e-5 relative; estimates 1e-4 relative,
standard errors 1e-3 relative, fit measures 1e-5 relative (relative to max(|value|, 0.1)).
Mixed items: statistics 1e-6 absolute (lavaan stops its polyserial optimizer at about 1e-7) and
their asymptotic covariance 1e-5 relative to its largest entry; the rest as above (the brief's
2e-3 for the chi-squares is met with room to spare).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, stats

from simlib.datasets import load_bliemel
from simlib.servqual import ImproperSolutionWarning, sem
from simlib.servqual.checks import SurveyDataError
from simlib.servqual.polychoric import bvn_cdf, polychoric
from simlib.servqual.syntax import ModelSyntaxError

HERE = Path(__file__).parent
REF = json.loads((HERE / "data" / "wlsmv_reference.json").read_text())

HS3 = """visual =~ x1 + x2 + x3
         textual =~ x4 + x5 + x6
         speed =~ x7 + x8 + x9"""
HS_SEM = HS3 + """
         speed ~ visual + textual
         x7 ~~ x8"""
SQ5 = """tangibles =~ a01 + a02 + a03 + a04
         reliability =~ a05 + a06 + a07 + a08 + a09
         responsiveness =~ a10 + a11 + a12 + a13
         assurance =~ a14 + a15 + a16 + a17
         empathy =~ a18 + a19 + a20 + a21 + a22"""
SQ_ITEMS = [f"a{i:02d}" for i in range(1, 23)]
MIX_ORDERED = ["x2", "x3", "x5", "x6", "x8", "x9"]
MIX2 = """visual =~ x1 + x2 + x3
          textual =~ x4 + x5 + x6"""
CASES = {"hs_cfa": ("hs", HS3, {}), "hs_sem": ("hs", HS_SEM, {"std_lv": True}),
         "servqual_cfa": ("sq", SQ5, {}), "hs_binary": ("bin", "f =~ b1 + b2 + b3 + b4", {}),
         "hs_mixed_cfa": ("mix", HS3, {"ordered": MIX_ORDERED}),
         "hs_mixed_2f": ("mix2", MIX2, {"ordered": ["x4", "x5", "x6"], "std_lv": True})}
MIXED = {"hs_mixed_cfa": ("mix", [f"x{i}" for i in range(1, 10)], ["x1", "x4", "x7"]),
         "hs_mixed_2f": ("mix2", [f"x{i}" for i in range(1, 7)], ["x1", "x2", "x3"])}


@pytest.fixture(scope="module")
def data():
    return {"hs": pd.read_csv(HERE / "data" / "hs_ordinal.csv"), "sq": load_bliemel(),
            "bin": pd.read_csv(HERE / "data" / "hs_binary.csv"),
            "mix": pd.read_csv(HERE / "data" / "hs_mixed.csv"),
            "mix2": pd.read_csv(HERE / "data" / "hs_mixed2.csv")}


@pytest.fixture(scope="module")
def fits(data):
    out = {}
    for name, (ds, model, kw) in CASES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            if name == "hs_sem":  # x9's residual variance is negative, as lavaan warns
                warnings.simplefilter("ignore", ImproperSolutionWarning)
            out[name] = sem(model, data[ds], **({"ordered": True} | kw))
    return out


def test_bivariate_normal_cdf_matches_adaptive_quadrature():
    rng = np.random.default_rng(7)
    h, k = rng.normal(0, 1.5, 300), rng.normal(0, 1.5, 300)
    k[:40] = h[:40] + rng.normal(0, 0.01, 40)  # near-equal bounds at high correlation
    rho = np.concatenate([rng.uniform(-0.99, 0.99, 150),
                          rng.choice([-1, 1], 150) * rng.uniform(0.92, 0.9989, 150)])
    got = bvn_cdf(h, k, rho)
    for a, b, r, g in zip(h, k, rho, got, strict=True):
        dens = lambda t, a=a, b=b: (np.exp(-(a * a - 2 * t * a * b + b * b)  # noqa: E731
                                           / (2 * (1 - t * t)))
                                    / (2 * np.pi * np.sqrt(1 - t * t)))
        val = integrate.quad(dens, 0, r, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
        assert abs(g - (stats.norm.cdf(a) * stats.norm.cdf(b) + val)) < 1e-12


@pytest.mark.parametrize("name,ds,items", [("hs_cfa", "hs", [f"x{i}" for i in range(1, 10)]),
                                           ("servqual_cfa", "sq", SQ_ITEMS),
                                           ("hs_binary", "bin", ["b1", "b2", "b3", "b4"])])
def test_polychoric_equals_lavaan(data, name, ds, items):
    ref = REF[name]["sample"]
    pc = polychoric(data[ds], items)
    assert list(pc.thresholds.index) == ref["th_names"]
    np.testing.assert_allclose(pc.thresholds.to_numpy(), ref["th"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(pc.cor.to_numpy(), np.array(ref["cor"]), rtol=0, atol=1e-6)
    assert pc.gamma is not None
    np.testing.assert_allclose(np.diag(pc.gamma), ref["nacov_diag"], rtol=1e-5)
    if "nacov" in ref:
        full = np.array(ref["nacov"])
        np.testing.assert_allclose(pc.gamma, full, rtol=0, atol=1e-5 * np.abs(full).max())


@pytest.mark.parametrize("name", list(CASES))
def test_fit_measures_equal_lavaan(fits, name):
    got = fits[name].fit_measures()
    for key, val in REF[name]["fit"].items():
        if val is None:  # lavaan's NA: the robust CFI/RMSEA of mixed items are not defined
            assert np.isnan(got[key]), f"{name}: {key} = {got[key]!r}, lavaan NA"
            continue
        assert abs(got[key] - val) <= 1e-5 * max(abs(val), 0.1), \
            f"{name}: {key} = {got[key]!r}, lavaan {val!r}"


@pytest.mark.parametrize("name", list(CASES))
def test_estimates_equal_lavaan(fits, name):
    ref = pd.DataFrame(REF[name]["estimates"])
    # lavaan also lists the fixed scaling factors (~*~, 1) and the fixed intercepts (~1, 0)
    # of the ordinal items and the factors; the continuous items' intercepts are free
    ref = ref[~((ref["op"] == "~*~") | ((ref["op"] == "~1") & (ref["se"] == 0)))]
    ours = fits[name].estimates()
    m = ref.merge(ours, on=["lhs", "op", "rhs"], suffixes=("_r", ""), how="outer",
                  indicator=True)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", ["lhs", "op", "rhs"]]
    for col, tol in (("est", 1e-4), ("std_lv", 1e-4), ("std_all", 1e-4), ("se", 1e-3)):
        bad = np.abs(m[col] - m[f"{col}_r"]) > tol * np.maximum(np.abs(m[f"{col}_r"]), 0.1)
        assert not bad.any(), m.loc[bad, ["lhs", "op", "rhs", col, f"{col}_r"]]


def test_negative_residual_variance_is_reported(data):
    with pytest.warns(ImproperSolutionWarning, match="negative residual variance of x9"):
        sem(HS_SEM, data["hs"], ordered=True, std_lv=True)


def test_summary_shows_the_wlsmv_tests_and_thresholds(fits):
    text = fits["hs_cfa"].summary()
    assert "Scaled-shifted test (WLSMV)" in text and "Thresholds:" in text
    assert "x9|t3" in text and "Loglikelihood" not in text
    assert f"{fits['hs_cfa'].fit_measures()['chisq_scaled']:.3f}" in text
    full = fits["hs_cfa"].summary(fit_measures=True)
    fm = fits["hs_cfa"].fit_measures()
    assert f"{fm['cfi_robust']:.3f} / {fm['tli_robust']:.3f}" in full
    assert re.search(rf"Robust RMSEA +{fm['rmsea_robust']:.3f}\n", full)


def test_category_codes_do_not_matter(data):
    """Any increasing recoding of the answers (and ordered categoricals) gives the same fit."""
    hs = data["hs"]
    recoded = hs.apply(lambda c: c * 10 + 3)
    cats = hs.apply(lambda c: pd.Categorical(c, categories=[1, 2, 3, 4], ordered=True))
    base = sem(HS3, hs, ordered=True).fit_measures()["chisq_scaled"]
    for d in (recoded, cats):
        assert sem(HS3, d, ordered=True).fit_measures()["chisq_scaled"] == pytest.approx(
            base, rel=1e-12)


@pytest.mark.parametrize("kw,match", [
    ({"estimator": "ML"}, "ordered items are fitted with estimator='WLSMV'"),
    ({"ordered": None, "estimator": "WLSMV"}, "name the ordinal items with ordered="),
    ({"missing": "fiml"}, "missing='fiml' is not available with estimator='WLSMV'"),
    ({"group": "x1"}, "several groups"),
    ({"se": "bootstrap"}, "se='bootstrap' is not available"),
    ({"meanstructure": True}, "meanstructure=True is not available"),
])
def test_unsupported_combinations_are_refused_in_one_line(data, kw, match):
    args = {"ordered": True} | kw
    with pytest.raises(ValueError, match=match) as err:
        sem(HS3, data["hs"], **args)
    assert "\n" not in str(err.value)


def test_refusals_of_model_parts_and_methods(data, fits):
    with pytest.raises(ModelSyntaxError, match="residual variance of the ordinal item 'x1'"):
        sem(HS3 + "\n x1 ~~ x1", data["hs"], ordered=True)
    with pytest.raises(ModelSyntaxError, match="intercepts"):
        sem(HS3 + "\n x1 ~ 1", data["hs"], ordered=True)
    with pytest.raises(SurveyDataError, match="not in the data"):
        sem(HS3, data["hs"], ordered=["x1", "zz"])
    for method in ("modindices", "residuals", "factor_scores"):
        with pytest.raises(ValueError, match="not available for estimator='WLSMV'"):
            getattr(fits["hs_cfa"], method)()
    single = data["hs"].assign(x1=1)
    with pytest.raises(SurveyDataError, match="single category"):
        polychoric(single)


def test_binary_table_with_an_empty_cell(data):
    """b1 x b5 has one empty cell: 0.5 is added keeping the margins (lavaan's rule).

    lavaan 0.6.14 states the same rule but its optimizer stops at the bound 0.999 (its
    objective floors tiny cell probabilities), with an asymptotic variance of order 1e58;
    every other statistic of the five items must equal lavaan's, and b1-b5 must be the ML
    estimate of the adjusted table.
    """
    ref = REF["hs_binary"]["sample_b5"]
    pc = polychoric(data["bin"])
    cor_r = np.array(ref["cor"])
    assert cor_r[4, 0] == pytest.approx(0.999)
    keep = np.ones((5, 5), dtype=bool)
    keep[4, 0] = keep[0, 4] = False
    np.testing.assert_allclose(pc.cor.to_numpy()[keep], cor_r[keep], atol=1e-6)
    np.testing.assert_allclose(pc.thresholds.to_numpy(), ref["th"], atol=1e-10)
    # the statistic of b1-b5 is the 4th correlation (pairs column by column)
    q = len(ref["th"]) + 3
    assert ref["nacov_diag"][q] > 1e50
    ok = np.ones(len(ref["nacov_diag"]), dtype=bool)
    ok[q] = False
    assert pc.gamma is not None
    np.testing.assert_allclose(np.diag(pc.gamma)[ok], np.array(ref["nacov_diag"])[ok],
                               rtol=1e-5)
    tab = np.array([[163.5, 0.5], [59.5, 77.5]])  # b1 rows, b5 columns, adjusted
    assert pd.crosstab(data["bin"]["b1"], data["bin"]["b5"]).to_numpy().tolist() == [
        [164, 0], [59, 78]]
    t1 = stats.norm.ppf(tab.sum(axis=1)[0] / tab.sum())
    t2 = stats.norm.ppf(tab.sum(axis=0)[0] / tab.sum())

    def negll(r):
        p11 = stats.multivariate_normal.cdf([t1, t2], cov=[[1, r], [r, 1]], abseps=1e-12,
                                            releps=1e-12)
        p1, p2 = stats.norm.cdf(t1), stats.norm.cdf(t2)
        probs = np.array([[p11, p1 - p11], [p2 - p11, 1 - p1 - p2 + p11]])
        return -float(np.sum(tab * np.log(probs)))

    best = optimize.minimize_scalar(negll, bounds=(0.5, 0.999), method="bounded",
                                    options={"xatol": 1e-9})
    assert pc.cor.iloc[4, 0] == pytest.approx(best.x, abs=1e-5)


@pytest.mark.parametrize("name", list(MIXED))
def test_mixed_statistics_equal_lavaan(data, name):
    """Thresholds, minus the means, variances and covariances, and their full NACOV."""
    ds, items, continuous = MIXED[name]
    ref = REF[name]["sample"]
    pc = polychoric(data[ds], items, continuous=continuous)
    names = list(pc.thresholds.index) + [f"{v}~~{v}" for v in continuous]
    assert names == ref["stat_names"][:len(names)]
    np.testing.assert_allclose(pc.stats, ref["stats"], rtol=0, atol=1e-6)
    full = np.array(ref["nacov"])
    assert pc.gamma is not None
    np.testing.assert_allclose(pc.gamma, full, rtol=0, atol=1e-5 * np.abs(full).max())


def test_polyserial_is_the_ml_estimate_of_the_conditional_likelihood(data):
    """x1 (continuous) with x2 (ordinal): rho maximises sum log P(x2 | x1), checked by brute
    force on a fine grid (independent of the optimizer)."""
    d = data["mix"]
    pc = polychoric(d, ["x1", "x2"], continuous=["x1"])
    z = (d["x1"] - d["x1"].mean()) / d["x1"].std(ddof=0)
    tau = np.concatenate([[-np.inf], pc.thresholds[["x2|t1", "x2|t2", "x2|t3"]], [np.inf]])
    c = d["x2"].to_numpy() - 1

    def loglik(r):
        s = np.sqrt(1 - r * r)
        return np.sum(np.log(stats.norm.cdf((tau[c + 1] - r * z) / s)
                             - stats.norm.cdf((tau[c] - r * z) / s)))

    grid = np.linspace(-0.9, 0.9, 18001)  # steps of 1e-4
    best = grid[np.argmax([loglik(r) for r in grid])]
    assert pc.cor.loc["x1", "x2"] == pytest.approx(best, abs=1e-4)


def test_mixed_summary_lists_the_intercepts_of_continuous_items(fits):
    text = fits["hs_mixed_cfa"].summary()
    assert "Intercepts:" in text and "x9|t3" in text
    intercepts = text.split("Intercepts:")[1].split("Thresholds:")[0]
    assert "x1" in intercepts and "x2" not in intercepts


@pytest.mark.parametrize("change,match", [
    (lambda d: d.assign(x2=2), "ordered item 'x2' has a single category"),
    (lambda d: d.assign(x4=3.5), "continuous item 'x4' has zero variance"),
])
def test_degenerate_items_of_a_mixed_model_are_named_in_one_line(data, change, match):
    with pytest.raises(SurveyDataError, match=match) as err:
        sem(HS3, change(data["mix"]), ordered=MIX_ORDERED)
    assert "\n" not in str(err.value)


def test_a_model_without_ordered_items_is_refused(data):
    with pytest.raises(ValueError, match="none of the model's items") as err:
        sem("f =~ x4 + x5 + x6", data["hs"], ordered=["x1"])
    assert "\n" not in str(err.value)
    with pytest.raises(SurveyDataError, match="continuous items \\['zz'\\] are not among"):
        polychoric(data["mix"], ["x1", "x2"], continuous=["zz"])
