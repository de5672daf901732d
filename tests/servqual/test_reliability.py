"""Reliability against published R values.

psych::alpha raw_alpha on Holzinger–Swineford x1–x3 / x4–x6 / x7–x9 =
0.6261 / 0.8827 / 0.6885 (also the "alpha" row of semTools' reliability()
for the lavaan tutorial model).
"""

import numpy as np
import pandas as pd
import pytest

from simlib.servqual import cfa, cronbach_alpha, item_total, omega_total, reliability_table


def test_alpha_matches_psych(hs):
    assert round(cronbach_alpha(hs[["x1", "x2", "x3"]]).alpha, 4) == 0.6261
    assert round(cronbach_alpha(hs[["x4", "x5", "x6"]])[0], 4) == 0.8827
    assert round(float(cronbach_alpha(hs[["x7", "x8", "x9"]])), 4) == 0.6885


def test_alpha_ci_contains_alpha_and_is_feldt(hs):
    a = cronbach_alpha(hs[["x4", "x5", "x6"]])
    assert a.ci_low < a.alpha < a.ci_high
    # Feldt (1965): 1 - (1 - alpha) * F quantiles with (n-1, (n-1)(k-1)) df
    from scipy import stats

    assert a.ci_low == pytest.approx(1 - (1 - a.alpha) * stats.f.ppf(0.975, 300, 600))


def test_alpha_of_two_items_by_hand():
    # n = 6, both means 0: variances 6/5 = 1.2, covariance
    # (1 + 1 - 1 - 1 + 1 + 1)/5 = 0.4, so var(sum) = 1.2 + 1.2 + 2 * 0.4 = 3.2 and
    # alpha = 2 * (1 - 2.4 / 3.2) = 0.5.
    x = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1], [1, 1], [-1, -1]], float)
    df = pd.DataFrame(x, columns=["a", "b"])
    assert cronbach_alpha(df).alpha == pytest.approx(0.5)


def test_omega_and_table(hs):
    # Three indicators of one factor: just-identified, so the implied
    # covariance equals S and omega = (sum lambda)^2 phi / 1'S1 can be
    # checked by hand from the closed-form one-factor solution.
    s = hs[["x4", "x5", "x6"]].cov(ddof=0).to_numpy()
    lam2 = np.array([s[0, 1] * s[0, 2] / s[1, 2], s[0, 1] * s[1, 2] / s[0, 2],
                     s[0, 2] * s[1, 2] / s[0, 1]])
    expected = np.sqrt(lam2).sum() ** 2 / s.sum()
    assert omega_total(hs[["x4", "x5", "x6"]]) == pytest.approx(expected, abs=1e-6)
    rep = reliability_table(hs, {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
                                 "speed": ["x7", "x8", "x9"]})
    assert round(rep.dimensions.loc["speed", "alpha"], 4) == 0.6885
    joint = cfa(hs, {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
                     "speed": ["x7", "x8", "x9"]})
    assert rep.dimensions.loc["visual", "ave"] == pytest.approx(joint.ave["visual"])
    assert not rep.dimensions["omega_is_alpha"].any()
    assert {"item_total_r", "alpha_if_deleted"} <= set(rep.items.columns)
    it = item_total(hs[["x1", "x2", "x3"]])
    assert it.loc["x1", "alpha_if_deleted"] == pytest.approx(
        cronbach_alpha(hs[["x2", "x3"]]).alpha)


def test_table_with_one_and_two_item_dimensions(hs):
    model = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
             "pair": ["x7", "x8"], "single": ["x9"]}
    with pytest.warns(UserWarning) as rec:
        rep = reliability_table(hs, model)
    msgs = " | ".join(str(w.message) for w in rec)
    assert "single-item dimensions single" in msgs and "two-item dimensions pair" in msgs
    d = rep.dimensions
    # the joint CFA still runs on the dimensions with >= 2 items
    joint = cfa(hs, {k: v for k, v in model.items() if len(v) >= 2})
    assert d.loc["visual", "composite_reliability"] == pytest.approx(
        joint.composite_reliability["visual"])
    assert d.loc["pair", "ave"] == pytest.approx(joint.ave["pair"])
    assert np.isnan(d.loc["single", "ave"]) and np.isnan(d.loc["single", "alpha"])
    # two items: omega is alpha, and flagged
    assert d.loc["pair", "omega_is_alpha"] and not d.loc["visual", "omega_is_alpha"]
    assert d.loc["pair", "omega_total"] == pytest.approx(d.loc["pair", "alpha"])
