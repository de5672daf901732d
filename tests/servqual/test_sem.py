"""``sem``: syntax errors, scale invariance, admissibility warnings, the report and options.

Agreement with lavaan is in ``test_sem_against_r.py``; here are properties that need no R:
the fit statistics do not depend on the items' units (an exact invariance of ML), improper
solutions are named, and bad syntax is refused with the line.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from simlib.datasets import load_holzinger_swineford, load_political_democracy
from simlib.experiments.execution import Execution
from simlib.servqual import ImproperSolutionWarning, cfa, sem
from simlib.servqual.checks import SurveyDataError
from simlib.servqual.syntax import ModelSyntaxError

HS3 = """
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"""
SCALE_FREE = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower",
              "rmsea_ci_upper", "srmr", "baseline_chisq")


@pytest.fixture(scope="module")
def hs():
    return load_holzinger_swineford()


@pytest.mark.parametrize("factor", [1e-6, 100.0, 1e6])
def test_fit_statistics_do_not_depend_on_the_units(hs, factor):
    """ML is scale invariant: items x 1e-6 ... 1e6 give the same fit to 1e-6 relative."""
    items = [f"x{i}" for i in range(1, 10)]
    model = HS3 + "g =~ visual + textual + speed\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        base = sem(model, hs)
        scaled = sem(model, hs.assign(**{c: hs[c] * factor for c in items}))
    fb, fs = base.fit_measures(), scaled.fit_measures()
    for key in SCALE_FREE:
        assert fs[key] == pytest.approx(fb[key], rel=1e-6, abs=1e-12), key
    # standardized solutions are unit-free too, and the optimiser takes the same path
    eb, es = base.estimates(), scaled.estimates()
    assert np.allclose(es["std_all"], eb["std_all"], rtol=1e-6, atol=1e-9)
    assert abs(scaled.n_iter - base.n_iter) <= 2
    # the loglikelihood shifts by exactly N * p * log(factor)
    assert fs["logl"] - fb["logl"] == pytest.approx(-301 * 9 * np.log(factor), rel=1e-8)


def test_a_0_100_scale_converges_as_fast_as_1_7(hs):
    items = [f"x{i}" for i in range(1, 10)]
    lo, hi = hs[items].min(), hs[items].max()
    to_100 = (hs[items] - lo) / (hi - lo) * 100
    to_7 = 1 + (hs[items] - lo) / (hi - lo) * 6
    r100, r7 = sem(HS3, to_100), sem(HS3, to_7)
    assert r100.converged and r7.converged
    assert r100.n_iter <= r7.n_iter + 2
    assert r100.fit_measures()["chisq"] == pytest.approx(r7.fit_measures()["chisq"], rel=1e-8)


def _cov_frame(r: np.ndarray, names: list[str]) -> pd.DataFrame:
    return pd.DataFrame(r, index=names, columns=names)


def test_heywood_case_is_named():
    # r12 r13 / r23 = 0.8 * 0.8 / 0.3 > 1: the loading of y1 exceeds 1 (negative residual)
    r = np.array([[1, .8, .8], [.8, 1, .3], [.8, .3, 1]])
    with pytest.warns(ImproperSolutionWarning, match=r"negative residual variance of y1"):
        res = sem("f =~ y1 + y2 + y3", sample_cov=_cov_frame(r, ["y1", "y2", "y3"]),
                  sample_nobs=200)
    assert not res.admissible
    assert any("y1" in p for p in res.improper)
    assert "Improper solution" in res.summary()


def test_factor_correlation_above_one_is_named():
    within, between = 0.3, 0.5  # factors would correlate 0.5 / 0.3 > 1
    r = np.full((6, 6), between)
    r[:3, :3] = r[3:, 3:] = within
    np.fill_diagonal(r, 1.0)
    names = [f"y{i}" for i in range(1, 7)]
    with pytest.warns(ImproperSolutionWarning, match=r"correlation f1 ~~ f2 = 1\.\d+ outside"):
        res = sem("f1 =~ y1 + y2 + y3\nf2 =~ y4 + y5 + y6", sample_cov=_cov_frame(r, names),
                  sample_nobs=300)
    assert any("not positive definite" in p for p in res.improper)


def test_admissible_solution_is_silent(hs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = sem(HS3, hs)
    assert res.admissible and res.improper == ()


@pytest.mark.parametrize("model,match", [
    ("f =~ x1 + x2 + x3\nf <~ x4", r"line 2 .*formative"),
    ("f =~ x1 + x2 + x3\nhello world", r"line 2 \('hello world'\): no operator"),
    ("f =~ x1 + x2 + x3\nf == x4", r"line 2 .*equality constraints"),
    ("f =~ x1 + x2 + x3\nx1 | t1", r"line 2 .*thresholds"),
    ("f =~ x1 + 2x + x3", r"line 1 .*'2x' is not a variable name"),
    ("f =~ x1 + x2 +", r"line 1 .*empty term"),
    ("f =~ x1 + a*x2 + x3\nd := a * q", r"line 2 .*'q' is not a parameter label"),
    ("f =~ x1 + x2 + x3\nd := a; import os", r"no operator|not a parameter label"),
    ("f =~ x1 + x2 + x3\nd := __import__('os')", r"only the functions"),
    ("f =~ x1 + x2 + x3\nx1 ~~ x2\nx2 ~~ x1", r"line 3: parameter 'x1 ~~ x2' is specified twice"),
    ("f =~ x1 + x1*x2 + x3", r"label 'x1' is also a variable name"),
    ("f =~ x1 + 1 + x3", r"'1' is only allowed after '~'"),
    ("f =~ x1 + x2 ~ x3", r"more than one operator"),
    ("f =~ x1 + NA*0.5*x2 + x3", r"both fixed and NA"),
])
def test_bad_syntax_names_the_line(hs, model, match):
    with pytest.raises(ModelSyntaxError, match=match):
        sem(model, hs)


def test_modifiers_fixed_free_start_and_continuation(hs):
    res = sem("""visual =~ NA*x1 + start(0.5)*x2 +
                 x3     # a continued line
                 visual ~~ 1*visual
                 textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9""", hs)
    est = res.estimates().set_index(["lhs", "op", "rhs"])["est"]
    assert est[("visual", "~~", "visual")] == 1.0
    fixed = sem(HS3.replace("x4 + x5", "x4 + 0.9*x5"), hs).estimates()
    row = fixed[(fixed["lhs"] == "textual") & (fixed["rhs"] == "x5")].iloc[0]
    assert row["est"] == 0.9 and row["se"] == 0.0 and np.isnan(row["z"])
    std = sem(HS3, hs, std_lv=True).estimates().set_index(["lhs", "op", "rhs"])["est"]
    assert est[("visual", "=~", "x1")] == pytest.approx(std[("visual", "=~", "x1")], rel=1e-6)


def test_options_are_checked(hs):
    with pytest.raises(ValueError, match="estimator"):
        sem(HS3, hs, estimator="ULS")
    with pytest.raises(ValueError, match="group_equal: unknown"):
        sem(HS3, hs, group="school", group_equal=("loading",))
    with pytest.raises(ValueError, match="either data or sample_cov"):
        sem(HS3)
    with pytest.raises(ValueError, match="not identified: df = -1"):
        sem("f =~ x1 + x2", hs)


def test_mlr_needs_raw_data_and_keeps_the_ml_estimates(hs):
    cov = hs[[f"x{i}" for i in range(1, 10)]].cov()
    with pytest.raises(ValueError, match="estimator='MLR' needs the raw data"):
        sem(HS3, sample_cov=cov, sample_nobs=len(hs), estimator="MLR")
    ml, mlr = sem(HS3, hs), sem(HS3, hs, estimator="MLR")
    assert np.allclose(ml.theta, mlr.theta)
    assert ml.fit_measures()["chisq"] == mlr.fit_measures()["chisq"]
    # the SEs are the sandwich's (their values are checked against lavaan in
    # test_sem_against_r.py), not the model-based ones
    v = mlr.raw.vcov
    assert np.allclose(v, v.T) and np.linalg.eigvalsh(v).min() > 0
    assert np.allclose(v, mlr.robust.vcov) and not np.allclose(v, ml.raw.vcov, rtol=0.05)


def test_fiml_on_complete_data_is_ml_with_means(hs):
    ml = sem(HS3, hs, meanstructure=True)  # a mean structure, as FIML has
    fi = sem(HS3, hs, missing="fiml")
    a, b = ml.fit_measures(), fi.fit_measures()
    for key in ("chisq", "df", "logl", "unrestricted_logl", "baseline_chisq", "cfi", "rmsea"):
        assert b[key] == pytest.approx(a[key], rel=1e-6, abs=1e-8), key
    assert np.allclose(fi.theta, ml.theta, atol=1e-5)
    with pytest.raises(ValueError, match="missing: choose"):
        sem(HS3, hs, missing="pairwise")


def test_fiml_mlr_on_complete_data_is_mlr_with_means(hs):
    """Without gaps the casewise scores are the complete-data ones: the same sandwich and
    Yuan–Bentler test as complete-data MLR (its robust CFI/RMSEA differ by design: lavaan's
    FIML-corrected ones use the expected-type information of the saturated model)."""
    a = sem(HS3, hs, meanstructure=True, estimator="MLR")
    b = sem(HS3, hs, missing="fiml", estimator="MLR")
    fa, fb = a.fit_measures(), b.fit_measures()
    for key in ("chisq", "chisq_scaled", "chisq_scaling_factor", "baseline_chisq_scaled",
                "cfi_scaled", "tli_scaled", "rmsea_scaled"):
        assert fb[key] == pytest.approx(fa[key], rel=1e-7), key
    assert np.allclose(np.diag(b.raw.vcov), np.diag(a.raw.vcov), rtol=1e-6)
    assert fb["cfi_robust"] == pytest.approx(fa["cfi_robust"], abs=0.01)
    assert fb["rmsea_robust"] == pytest.approx(fa["rmsea_robust"], abs=0.01)


def test_multigroup_fiml_on_complete_data_is_multigroup_ml(hs):
    kw = {"group": "school", "group_equal": ("loadings", "intercepts"),
          "group_partial": ("x3~1",)}
    ml, fi = sem(HS3, hs, **kw), sem(HS3, hs, missing="fiml", **kw)
    a, b = ml.fit_measures(), fi.fit_measures()
    for key in ("chisq", "df", "logl", "unrestricted_logl", "baseline_chisq", "cfi", "rmsea",
                "srmr"):
        assert b[key] == pytest.approx(a[key], rel=1e-6, abs=1e-8), key
    assert np.allclose(fi.theta, ml.theta, atol=1e-5)
    assert fi.group_labels == ml.group_labels


@pytest.mark.parametrize(("kw", "names"), [
    ({"estimator": "MLM"}, "estimator='MLM'"),
    ({"se": "bootstrap"}, "se='bootstrap'"),
])
def test_fiml_refuses_what_it_does_not_cover_in_one_line(hs, kw, names):
    with pytest.raises(ValueError, match=f"missing='fiml' with .*{names}") as err:
        sem(HS3, hs, missing="fiml", **kw)
    assert "\n" not in str(err.value)


def test_fiml_refuses_sample_cov(hs):
    cov = hs[["x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9"]].cov()
    with pytest.raises(ValueError, match="missing='fiml' .* and sample_cov is not available"):
        sem(HS3, sample_cov=cov, sample_nobs=301, missing="fiml")


def test_multigroup_fiml_checks_the_group_column(hs):
    with pytest.raises(SurveyDataError, match="group column 'nope' is not in the data"):
        sem(HS3, hs, missing="fiml", group="nope")
    bad = hs.assign(school=hs["school"].where(hs.index != 3))
    with pytest.raises(SurveyDataError, match="group column 'school' has missing values"):
        sem(HS3, bad, missing="fiml", group="school")


def test_sample_cov_equals_raw_data():
    d = load_political_democracy()
    model = "ind60 =~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\ndem60 ~ ind60"
    a = sem(model, d).fit_measures()
    b = sem(model, sample_cov=d.cov(), sample_nobs=len(d)).fit_measures()
    for key in ("chisq", "df", "cfi", "rmsea", "srmr", "logl"):
        assert b[key] == pytest.approx(a[key], rel=1e-9), key


def test_summary_has_lavaan_sections(hs):
    text = sem(HS3 + "speed ~ visual\n", hs).summary()
    for part in ("Model Test User Model:", "Comparative Fit Index (CFI)", "RMSEA",
                 "Latent Variables:", "Regressions:", "Variances:", "Std.all"):
        assert part in text


@pytest.mark.parametrize(("estimator", "test"), [("MLM", "Satorra-Bentler scaled test"),
                                                 ("MLR", "Yuan-Bentler (Mplus) scaled test")])
def test_summary_names_the_scaled_test(hs, estimator, test):
    text = sem(HS3, hs, estimator=estimator).summary()
    assert test in text and "Scaling correction factor" in text


MEDIATION = HS3 + """
  textual ~ a*visual
  speed ~ b*textual + c*visual
  indirect := a*b
  total := c + a*b
"""


def test_bootstrap_is_reproducible(hs):
    boot = sem(MEDIATION, hs, se="bootstrap", bootstrap=20, seed=3)
    again = sem(MEDIATION, hs, se="bootstrap", bootstrap=20, seed=3)
    other = sem(MEDIATION, hs, se="bootstrap", bootstrap=20, seed=4)
    eb, ea, eo = boot.estimates(), again.estimates(), other.estimates()
    assert np.array_equal(eb["se"], ea["se"]) and not np.array_equal(eb["se"], eo["se"])
    std = sem(MEDIATION, hs).estimates()
    assert np.array_equal(eb["est"], std["est"])  # point estimates are not bootstrapped
    assert "Bootstrap" in boot.summary()
    with pytest.raises(ValueError, match="bootstrap: give an integer"):
        sem(MEDIATION, hs, se="bootstrap", bootstrap=3)


def test_parallel_bootstrap_equals_the_sequential_one(hs):
    """The bootstrap's tasks on two worker processes give the same draws bit for bit
    (resample i is drawn from its own generator), and the mapper is really used."""
    seq = sem(MEDIATION, hs, se="bootstrap", bootstrap=120, seed=8)
    with Execution(jobs=2, progress=False).open() as executor:
        par = sem(MEDIATION, hs, se="bootstrap", bootstrap=120, seed=8, mapper=executor.map)
    assert np.array_equal(seq.boot, par.boot)
    calls = []

    def counting_map(fn, *iterables):
        calls.append(len(iterables[0]))
        return map(fn, *iterables)

    again = sem(MEDIATION, hs, se="bootstrap", bootstrap=120, seed=8, mapper=counting_map)
    assert calls == [3] and np.array_equal(again.boot, seq.boot)  # 120 = 50 + 50 + 20


def test_cfa_validity_table_flags_an_improper_solution():
    r = np.array([[1, .8, .8, .3, .3, .3], [.8, 1, .3, .3, .3, .3], [.8, .3, 1, .3, .3, .3],
                  [.3, .3, .3, 1, .5, .5], [.3, .3, .3, .5, 1, .5], [.3, .3, .3, .5, .5, 1]])
    rng = np.random.default_rng(5)
    x = pd.DataFrame(rng.multivariate_normal(np.zeros(6), r, size=400),
                     columns=[f"y{i}" for i in range(1, 7)])
    with pytest.warns(ImproperSolutionWarning, match="y1"):
        fit = cfa(x, "f1 =~ y1 + y2 + y3\nf2 =~ y4 + y5 + y6")
    assert fit.fit["admissible"] is False
    with pytest.warns(ImproperSolutionWarning, match="validity table"):
        tab = fit.validity_table()
    assert any("y1" in p for p in tab.attrs["improper"])
