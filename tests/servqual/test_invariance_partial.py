"""Partial invariance, latent means and score tests against lavaan 0.6.

Reference values were written by ``tests/servqual/reference/invariance_reference.R``
(R 4.2.2, lavaan 0.6.14) to ``tests/servqual/data/invariance_reference.json``; R is not
needed to run the tests. Holzinger–Swineford by school, the three-factor model; the
partial scalar model releases the intercepts of x3 and x7 (the two largest score tests).
Tolerances (issue 13): fit 1e-4 relative, estimates 1e-3, SEs 2e-3, score chi2 1e-3 relative.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simlib.servqual import invariance

from .conftest import HS_MODEL

REF = json.loads((Path(__file__).parent / "data" / "invariance_reference.json").read_text())
FIT_KEYS = {"chisq": "chi2", "df": "df", "pvalue": "pvalue", "cfi": "cfi", "tli": "tli",
            "logl": "loglik", "aic": "aic", "bic": "bic", "rmsea": "rmsea",
            "rmsea_ci_lower": "rmsea_ci_low", "rmsea_ci_upper": "rmsea_ci_high",
            "srmr": "srmr", "npar": "npar"}
GROUPS = {1: "Pasteur", 2: "Grant-White"}


@pytest.fixture(scope="module")
def full(hs):
    return invariance(hs, HS_MODEL, group="school")


@pytest.fixture(scope="module")
def partial(hs):
    return invariance(hs, HS_MODEL, group="school", group_partial=("x3~1", "x7 ~ 1"))


def check_fit(row: pd.Series, ref: dict) -> None:
    for rkey, key in FIT_KEYS.items():
        assert float(row[key]) == pytest.approx(ref["fit"][rkey], rel=1e-4, abs=1e-8), key


def check_means(table, step: str, ref: dict, groups=GROUPS) -> None:
    lm = table.latent_means(step)
    for r in ref["latent_means"]:
        got = lm[(lm["factor"] == r["lhs"]) & (lm["group"] == groups[r["group"]])]
        assert len(got) == 1
        assert float(got["est"].iloc[0]) == pytest.approx(r["est"], abs=1e-3)
        assert float(got["se"].iloc[0]) == pytest.approx(r["se"], abs=2e-3)
        col = f"mean:{r['lhs']}:{groups[r['group']]}"
        assert table.loc[step, col] == pytest.approx(r["est"], abs=1e-3)
        assert table.loc[step, f"se:{r['lhs']}:{groups[r['group']]}"] == pytest.approx(
            r["se"], abs=2e-3)


def check_scores(scores: pd.DataFrame, ref: dict, groups=GROUPS) -> None:
    assert len(scores) == len(ref["score"])
    assert list(scores["chi2"]) == sorted(scores["chi2"], reverse=True)
    for r in ref["score"]:
        assert r["group_a"] == 1
        got = scores[(scores["lhs"] == r["lhs"]) & (scores["op"] == r["op"])
                     & (scores["rhs"] == r["rhs"]) & (scores["group"] == groups[r["group_b"]])]
        assert len(got) == 1, r
        assert float(got["chi2"].iloc[0]) == pytest.approx(r["chi2"], rel=1e-3, abs=1e-6)
        assert float(got["pvalue"].iloc[0]) == pytest.approx(r["pvalue"], rel=1e-3, abs=1e-6)
        assert int(got["df"].iloc[0]) == 1
    tot = scores.attrs["total"]
    assert tot["chi2"] == pytest.approx(ref["score_total"]["X2"], rel=1e-3)
    assert tot["df"] == ref["score_total"]["df"]


def test_partial_scalar_fit_and_latent_means_match_lavaan(partial):
    ref = REF["scalar_partial"]
    check_fit(partial.loc["scalar"], ref)
    check_means(partial, "scalar", ref)
    # releasing intercepts changes nothing before the scalar step
    check_fit(partial.loc["metric"], REF["metric"])


def test_full_scalar_latent_means_match_lavaan(full):
    check_means(full, "scalar", REF["scalar"])
    # configural and metric models fix every latent mean: no mean is reported
    assert full.loc[["configural", "metric"], "mean:textual:Grant-White"].isna().all()


def test_partial_strict_with_released_residual_matches_lavaan(hs):
    t = invariance(hs, HS_MODEL, group="school", steps=("scalar", "strict"),
                   group_partial=("x3~1", "x7~1", "x1~~x1"))
    ref = REF["strict_partial"]
    check_fit(t.loc["strict"], ref)
    check_means(t, "strict", ref)
    check_scores(t.score_tests("strict"), ref)


def test_partial_loading_at_metric_level_matches_lavaan(hs):
    t = invariance(hs, HS_MODEL, group="school", steps=("configural", "metric"),
                   group_partial=("visual =~ x2",))
    check_fit(t.loc["metric"], REF["metric_partial"])
    check_scores(t.score_tests("metric"), REF["metric_partial"])
    est = t.fit("metric").estimates(standardized=False)
    ref = pd.DataFrame(REF["metric_partial"]["estimates"])
    merged = est.merge(ref, on=["lhs", "op", "rhs", "group"], suffixes=("", "_r"))
    assert len(merged) == len(ref)
    np.testing.assert_allclose(merged["est"], merged["est_r"], atol=1e-3)
    np.testing.assert_allclose(merged["se"], merged["se_r"], atol=2e-3)


def test_score_tests_match_lavtestscore_and_point_at_x3_x7(full, partial):
    scores = full.score_tests("scalar")
    check_scores(scores, REF["scalar"])
    assert list(scores["release"].iloc[:2]) == ["x3~1", "x7~1"]
    check_scores(partial.score_tests("scalar"), REF["scalar_partial"])
    check_scores(full.score_tests("metric"), REF["metric"])
    assert full.score_tests("configural").empty


def test_four_groups_constraints_against_the_first_group_match_lavaan(hs):
    ref = REF["scalar_four_groups"]
    data = hs.copy()
    data["g4"] = np.where(data["grade"] == 7, data["school"],
                          "x" + data["school"].astype(str).str[:1])
    t = invariance(data, HS_MODEL, group="g4", steps=("scalar",), group_partial=("x3~1",))
    groups = dict(enumerate(ref["group_labels"], start=1))
    assert list(t.fit("scalar").group_labels) == ref["group_labels"]
    check_fit(t.loc["scalar"], ref)
    check_means(t, "scalar", ref, groups)
    check_scores(t.score_tests(), ref, groups)


def test_result_is_still_a_table_and_names_missing_steps(full):
    assert isinstance(full, pd.DataFrame)
    sub = full[["chi2", "df"]]
    assert sub.fit("scalar") is full.fit("scalar")
    with pytest.raises(ValueError, match="'weak' was not fitted"):
        full.score_tests("weak")


@pytest.mark.parametrize("bad", ["visual=~x9", "x10~1", "x1~~nope", "x3"])
def test_unknown_partial_parameter_refused(hs, bad):
    with pytest.raises(ValueError, match="group_partial: .* is not a parameter"):
        invariance(hs, HS_MODEL, group="school", group_partial=(bad,))


def test_partial_as_plain_string_refused(hs):
    with pytest.raises(ValueError, match="a list of parameters"):
        invariance(hs, HS_MODEL, group="school", group_partial="x3~1")
