"""Measurement invariance against lavaan's published output.

Reference: lavaan tutorial, "Multiple groups"
(https://lavaan.ugent.be/tutorial/groups.html): HS.model fitted by school
with ``group.equal = c()``, ``"loadings"``, ``c("intercepts", "loadings")``;
``lavTestLRT(fit1, fit2, fit3)`` prints
Chisq 115.85 / 124.04 / 164.10, Df 48 / 54 / 60, AIC 7484.4 / 7480.6 /
7508.6, BIC 7706.8 / 7680.8 / 7686.6, Chisq diff 8.1922 (p = 0.2244) and
40.059. The configural chi-square 115.851 is also given in the issue.
"""

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
