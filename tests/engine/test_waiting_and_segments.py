"""Waiting as people perceive it and heterogeneous customers (issue 14, items 2 and 3).

The value function of a wait is checked against its definition (zero inside
the zone of tolerance, concave gains, convex losses, loss aversion), the
responsiveness gap against the expectation it is scored from, and segments
and the satisfaction → return curve on one customer and on the bundled bank.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from support import SCENARIOS

import simlib
from simlib.engine.experience import Visit, evaluate, waiting_score
from simlib.spec.quality import DIMENSIONS, QualitySpec, RetentionSpec, WaitingSpec

BANK = SCENARIOS / "bank_value_chain.yaml"
ZERO = [0.0] * 14
LEVELS = (5.0, 6.0, 5.5, 5.5, 5.0)


def visit(**kw) -> Visit:
    base = dict(expectations=LEVELS, expected_wait=6.0, promised_wait=None, wait_pre=6.0,
                wait_in=0.0, wait_recovery=0.0, present=0, encounters=[(0.7, 0.7, 0.7)],
                outcome="served")
    base.update(kw)
    return Visit(**base)


def test_value_function_zone_curvature_and_loss_aversion():
    w = WaitingSpec()
    E, D, A, k = 6.0, 3.0, 9.0, 3.0

    def v(x: float) -> float:
        return w.value(x, E, D, A, k)

    assert [v(x) for x in (3.0, 4.5, 6.0, 9.0)] == [0.0] * 4  # inside the zone
    assert v(2.0) > 0 > v(10.0)
    for d in (0.5, 1.0, 2.0):
        # Loss aversion: a loss weighs λ times a gain of the same size.
        assert -v(A + d) / v(D - d) == pytest.approx(w.loss_aversion)
        # Diminishing sensitivity: gains concave, losses convex (each extra minute matters less).
        assert v(D - 2 * d) - v(D - d) < v(D - d) - v(D)
        assert v(A + d) - v(A + 2 * d) < v(A) - v(A + d)
        assert v(A + 2 * d) < v(A + d)  # but always worse
    linear = WaitingSpec(gain_exponent=1.0, loss_exponent=1.0)
    assert linear.value(A + 3, E, D, A, k) == pytest.approx(-linear.loss_aversion * k * 3 / E)


def test_waiting_score_is_bounded_strictly_monotone_and_centred():
    assert waiting_score(5.5, 0.0) == 5.5
    xs = np.linspace(-40, 40, 401)
    ys = [waiting_score(5.5, x) for x in xs]
    assert all(1 <= y <= 7 for y in ys) and all(np.diff(ys) > 0)
    assert (waiting_score(5.5, 1e-6) - 5.5) / 1e-6 == pytest.approx(1.0, rel=1e-4)


def test_meeting_the_expected_wait_leaves_no_responsiveness_gap():
    spec = QualitySpec(expectations={})
    for expected, promised in ((6.0, None), (6.0, 4.0), (0.5, None)):
        reference = expected if promised is None else 0.5 * expected + 0.5 * promised
        exp = evaluate(spec, visit(expected_wait=expected, promised_wait=promised, wait_pre=reference), ZERO)
        assert exp.servqual["responsiveness"] - LEVELS[2] == 0.0
    # A quick wait is a gain, a long one a loss.
    assert evaluate(spec, visit(wait_pre=0.0), ZERO).servqual["responsiveness"] > LEVELS[2]
    assert evaluate(spec, visit(wait_pre=20.0), ZERO).servqual["responsiveness"] < LEVELS[2]


def test_forty_four_minutes_cost_more_than_eleven():
    bank = simlib.load_scenario(BANK).quality
    e = bank.expectations["customer"]
    scores = [
        evaluate(bank, visit(expectations=e.levels, expected_wait=e.expected_wait,
                             promised_wait=e.promised_wait, wait_pre=w), ZERO)
        for w in (11.0, 22.0, 44.0)
    ]
    waiting = [s.sub["waiting"] for s in scores]
    satisfaction = [s.satisfaction for s in scores]
    assert waiting[0] > waiting[1] > waiting[2]
    assert satisfaction[0] > satisfaction[1] > satisfaction[2]


def test_wait_kinds_weights_and_modifiers():
    spec = QualitySpec(expectations={}, waiting=WaitingSpec(in_process=0.5, recovery=2.0))
    pre = evaluate(spec, visit(wait_pre=12.0), ZERO)
    inside = evaluate(spec, visit(wait_pre=0.0, wait_in=12.0), ZERO)
    recovery = evaluate(spec, visit(wait_pre=0.0, wait_recovery=12.0), ZERO)
    assert (inside.perceived_wait, pre.perceived_wait, recovery.perceived_wait) == (6.0, 12.0, 24.0)
    assert inside.sub["waiting"] > pre.sub["waiting"] > recovery.sub["waiting"]
    occupied = QualitySpec(expectations={}, waiting=WaitingSpec(occupied=0.25, announced=0.2))
    assert evaluate(occupied, visit(wait_pre=10.0, wait_in=2.0), ZERO).perceived_wait == pytest.approx(
        (10.0 * 0.8 + 2.0) * 0.75)


def test_disconfirmation_is_asymmetric():
    spec = QualitySpec(expectations={}, heterogeneity=0, dimension_noise=0)
    centre = evaluate(spec, visit(), ZERO)
    delta = sum(centre.servqual[d] - e for d, e in zip(DIMENSIONS, LEVELS, strict=True)) / 5
    up = evaluate(spec, visit(expectations=tuple(e - 0.5 for e in LEVELS)), ZERO)
    down = evaluate(spec, visit(expectations=tuple(e + 0.5 for e in LEVELS)), ZERO)
    # The waiting score is centred on the expected responsiveness, so shift only the gap:
    gain = up.satisfaction - centre.satisfaction
    loss = centre.satisfaction - down.satisfaction
    assert loss > gain > 0
    symmetric = QualitySpec(expectations={}, disconfirmation_asymmetry=1.0)
    s_up = evaluate(symmetric, visit(expectations=tuple(e - 0.5 for e in LEVELS)), ZERO)
    s_c = evaluate(symmetric, visit(), ZERO)
    s_down = evaluate(symmetric, visit(expectations=tuple(e + 0.5 for e in LEVELS)), ZERO)
    # Symmetric disconfirmation is linear here (the wait meets the expectation, so the
    # waiting score moves one for one with the expected level): equal steps.
    assert s_up.satisfaction - s_c.satisfaction == pytest.approx(s_c.satisfaction - s_down.satisfaction)
    assert abs(delta) < 0.5  # the shifts cross zero, where asymmetry shows


def test_retention_curve_thresholds_and_asymmetry():
    plain = RetentionSpec(base=0.5, slope=1.0)
    curve = RetentionSpec(base=0.5, slope=1.0, slope_below=2.0, jump=1.5, jump_threshold=6.5)

    def logit(p: float) -> float:
        return math.log(p / (1 - p))

    assert curve.probability(4.0) == plain.probability(4.0) == 0.5
    assert logit(curve.probability(3.0)) == pytest.approx(-2.0)  # dissatisfaction weighs double
    assert logit(curve.probability(5.0)) == pytest.approx(1.0)
    below, above = curve.probability(6.499), curve.probability(6.5)
    assert logit(above) - logit(below) == pytest.approx(1.5, abs=0.01)  # the "completely satisfied" jump
    assert plain.probability(6.5) - plain.probability(6.499) < 0.001


def segmented(shares=(0.3, 0.7), retention: bool = True) -> dict:
    data = simlib.load_scenario(BANK).to_dict()
    if not retention:
        del data["retention"]
    data["quality"]["segments"] = {"customer": [
        {"name": "demanding", "share": shares[0], "expected_wait": 2, "adequate_wait": 3,
         "reliability": 6.8, "assurance": 6.5, "weights": {"reliability": 3},
         **({"retention": {"base": 0.3, "slope": 1.0, "slope_below": 2.0}} if retention else {})},
        {"name": "relaxed", "share": shares[1], "expected_wait": 15, "reliability": 5.0,
         **({"retention": {"base": 0.7, "completely_satisfied": {"jump": 1.0}}} if retention else {})},
    ]}
    return data


def test_segments_have_their_own_expectations_and_curves():
    res = simlib.run(simlib.load_scenario(segmented()), replications=2, seed=5, progress=False)
    c = res.customers()
    new = c[~c.returning]
    share = (new.segment == "demanding").mean()
    n = len(new)
    assert abs(share - 0.3) < 3.3 * math.sqrt(0.3 * 0.7 / n)
    by = c.groupby("segment")
    assert set(c.segment) == {"demanding", "relaxed"}
    first = new.groupby("segment")[["exp_reliability", "expected_wait"]].agg(["min", "max"])
    assert (first.loc["demanding"].to_numpy() == [6.8, 6.8, 2, 2]).all()
    assert (first.loc["relaxed"].to_numpy() == [5.0, 5.0, 15, 15]).all()
    assert by.satisfaction.mean()["demanding"] < by.satisfaction.mean()["relaxed"] - 0.3
    assert by.responsiveness.mean()["demanding"] < by.responsiveness.mean()["relaxed"]
    assert by.returns.mean()["demanding"] < by.returns.mean()["relaxed"]
    # A returning customer stays in the segment it was drawn into.
    assert (c[c.returning].segment != "").all()


def test_segments_leave_operations_unchanged_without_retention():
    plain = simlib.load_scenario(BANK).to_dict()
    del plain["retention"]
    a = simlib.run(simlib.load_scenario(plain), replications=2, seed=5, progress=False)
    b = simlib.run(simlib.load_scenario(segmented(retention=False)), replications=2, seed=5, progress=False)
    for x, y in zip(a.runs, b.runs, strict=True):
        for metric in ("arrivals", "mean_wait", "p_abandon", "p_failure"):
            assert x["system"][metric] == y["system"][metric]


def test_word_of_mouth_moves_new_customers_expected_wait():
    data = simlib.load_scenario(BANK).to_dict()
    data["stations"][1]["servers"] = 5  # long waits
    data["quality"]["waiting"] = {"word_of_mouth": 1.0, "word_of_mouth_smoothing": 0.05}
    res = simlib.run(simlib.load_scenario(data), replications=1, seed=2, progress=False)
    c = res.customers()
    new = c[~c.returning]
    # Fully word-of-mouth expectations follow the waits others met: close to the mean wait.
    assert new.expected_wait.std() > 0
    assert abs(new.expected_wait.mean() - c.wait.mean()) < 0.25 * c.wait.mean()
    off = simlib.run(simlib.load_scenario(BANK), replications=1, seed=2, progress=False).customers()
    assert (off[~off.returning].expected_wait == 6).all()


@pytest.mark.parametrize(
    "edit, message",
    [
        ({"segments": {"customer": [{"name": "a", "share": 0.5}]}}, "shares must sum to 1"),
        ({"segments": {"nobody": [{"share": 1.0}]}}, "unknown class"),
        ({"segments": {"customer": [{"name": "a", "share": 1.0, "mood": 1}]}}, "unknown key"),
        ({"waiting": {"loss_exponent": 1.5}}, "(0, 1]"),
        ({"waiting": {"desired": 2, "adequate": 1}}, "must not exceed"),
        ({"expectations": {"desired_wait": 9, "adequate_wait": 3}}, "must not exceed"),
        ({"waiting": {"occupied": 2}}, "between 0 and 1"),
    ],
)
def test_new_quality_keys_are_validated(edit, message):
    data = simlib.load_scenario(BANK).to_dict()
    data["quality"].update(edit)
    with pytest.raises(simlib.ScenarioError) as info:
        simlib.load_scenario(data)
    assert message in str(info.value) and str(info.value).startswith("quality.")


def test_retention_curve_keys_are_validated():
    data = simlib.load_scenario(BANK).to_dict()
    data["retention"]["completely_satisfied"] = {"threshold": 9, "jump": 1}
    with pytest.raises(simlib.ScenarioError, match="retention.completely_satisfied.threshold"):
        simlib.load_scenario(data)
