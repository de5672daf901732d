"""Measurement invariance against lavaan's published output.

Reference: lavaan tutorial, "Multiple groups"
(https://lavaan.ugent.be/tutorial/groups.html): HS.model fitted by school
with ``group.equal = c()``, ``"loadings"``, ``c("intercepts", "loadings")``;
``lavTestLRT(fit1, fit2, fit3)`` prints
Chisq 115.85 / 124.04 / 164.10, Df 48 / 54 / 60, AIC 7484.4 / 7480.6 /
7508.6, BIC 7706.8 / 7680.8 / 7686.6, Chisq diff 8.1922 (p = 0.2244) and
40.059. The configural chi-square 115.851 is also given in the issue.
"""

import json
from pathlib import Path

import pandas as pd
import pytest

from simlib.servqual import invariance

from .conftest import HS_MODEL


@pytest.fixture(scope="module")
def table(hs):
    return invariance(hs, HS_MODEL, group="school")


def test_steps_and_columns(table):
    assert list(table.index) == ["configural", "metric", "scalar", "strict"]
    assert {"chi2", "df", "cfi", "tli", "rmsea", "srmr"} <= set(table.columns)


def test_chi_square_matches_lavaan(table):
    assert round(table.loc["configural", "chi2"], 3) == 115.851
    assert round(table.loc["metric", "chi2"], 2) == 124.04
    assert round(table.loc["scalar", "chi2"], 2) == 164.10
    assert list(table["df"]) == [48, 54, 60, 69]


def test_information_criteria_and_lrt_match_lavaan(table):
    assert [round(v, 1) for v in table["aic"][:3]] == [7484.4, 7480.6, 7508.6]
    assert [round(v, 1) for v in table["bic"][:3]] == [7706.8, 7680.8, 7686.6]
    assert round(table.loc["metric", "delta_chi2"], 4) == 8.1922
    assert round(table.loc["metric", "delta_pvalue"], 4) == 0.2244
    assert round(table.loc["scalar", "delta_chi2"], 3) == 40.059


def test_decision_rules(table):
    assert bool(table.loc["metric", "cheung_rensvold_ok"])
    assert not bool(table.loc["scalar", "cheung_rensvold_ok"])
    assert bool(table.loc["scalar", "lrt_rejects"])


def test_group_errors(hs):
    from simlib.servqual import SurveyDataError

    with pytest.raises(SurveyDataError, match="nope"):
        invariance(hs, HS_MODEL, group="nope")


def test_groups_need_more_rows_than_items(kiosk):
    from simlib.servqual import SurveyDataError

    cols = [f"p{i:02d}" for i in range(1, 25)]
    model = {"all": cols[:12], "rest": cols[12:]}
    with pytest.raises(SurveyDataError, match=r"'2-3 times per 6 months'.*13 complete rows for "
                                              r"24 items"):
        invariance(kiosk.dropna(subset=model["all"] + model["rest"]), model,
                   group="use_frequency")


def test_item_constant_within_a_group_is_refused(hs):
    from simlib.servqual import DegenerateDataError

    first = hs["school"].iloc[0]
    bad = hs.assign(x5=hs["x5"].where(hs["school"] != first, 3.0))
    with pytest.raises(DegenerateDataError, match=rf"constant columns in group '{first}'.*x5"):
        invariance(bad, HS_MODEL, group="school")


def test_single_indicator_refused_in_invariance(hs):
    with pytest.raises(ValueError, match="single indicator"):
        invariance(hs, "a =~ x1 + x2 + x3\nb =~ x4", group="school")
    with pytest.raises(ValueError, match=r"df = -2 \(12 free parameters > 10 sample moments\)"):
        invariance(hs, "a =~ x1 + x2", group="school")


def test_non_converged_step_has_nan_comparisons(hs, monkeypatch):
    import importlib
    import math

    inv_mod = importlib.import_module("simlib.servqual.invariance")

    real = inv_mod._fit_step

    def fake(spec, moments, equal, *args):
        fit, idx = real(spec, moments, equal, *args)
        return fit, ({**idx, "converged": False} if tuple(equal) == ("loadings",) else idx)

    monkeypatch.setattr(inv_mod, "_fit_step", fake)
    t = invariance(hs, HS_MODEL, group="school", steps=("configural", "metric", "scalar"))
    for step in ("metric", "scalar"):  # metric failed; scalar is compared with it
        for col in ("delta_chi2", "delta_cfi", "delta_rmsea", "delta_pvalue",
                    "cheung_rensvold_ok", "chen_ok", "lrt_rejects"):
            assert t.loc[step, col] is None or math.isnan(t.loc[step, col]), (step, col)


def test_fiml_ladder_matches_lavaans_multigroup_fiml(hs):
    """missing="fiml": each step is multi-group FIML; the metric step is the model of the
    lavaan reference ``hs_groups_fiml_mlr`` (equal loadings, ML chi-square; written by
    tests/servqual/reference/sem_reference.R), fit statistics to 1e-4 relative."""
    here = Path(__file__).parent / "data"
    ref = json.loads((here / "sem_reference.json").read_text())["hs_groups_fiml_mlr"]["fit"]
    data = pd.read_csv(here / "hs_missing.csv")
    t = invariance(data, HS_MODEL, group="school", steps=("configural", "metric"),
                   missing="fiml")
    for ours, theirs in (("chi2", "chisq"), ("loglik", "logl"), ("aic", "aic"),
                         ("bic", "bic"), ("rmsea", "rmsea")):
        assert t.loc["metric", ours] == pytest.approx(ref[theirs], rel=1e-4), ours
    assert list(t["df"]) == [48, 54]
    assert t.attrs["groups"] == {"Pasteur": 156, "Grant-White": 145}
    with pytest.raises(ValueError, match="score_tests: not available for a FIML fit"):
        t.score_tests("metric")
