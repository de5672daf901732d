"""Failure and recovery as their own episode (issue 14, item 1), under common random numbers.

A failure lowers reliability and outcome quality; the recovery restores a
share of the loss set by its quality, speed and justice; the recovery
encounter is not averaged into the staff scores; the recovery paradox, when
on, lifts only mild first failures with an excellent recovery, and only
satisfaction, not the decision to return, unless asked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import SCENARIOS, replication_values

import simlib
from simlib.engine.experience import Visit, evaluate
from simlib.spec.quality import FailureSpec, ParadoxSpec, QualitySpec, RecoverySpec

BANK = SCENARIOS / "bank_value_chain.yaml"
JUSTICE = {"explanation": 1.0, "apology": 1.0, "compensation": 1.0}


def bank_data(retention: bool = True) -> dict:
    data = simlib.load_scenario(BANK).to_dict()
    if not retention:
        del data["retention"]  # operations then do not depend on perceptions
    return data


def run(data: dict, replications: int = 4, seed: int = 3) -> simlib.Results:
    return simlib.run(simlib.load_scenario(data), replications=replications, seed=seed, progress=False)


def test_more_failures_lower_assurance_reliability_and_satisfaction():
    data = bank_data()
    data["failures"]["service"]["probability"] = 0.08
    few = run(data)
    data["failures"]["service"]["probability"] = 0.30
    many = run(data)
    assert np.all(replication_values(many, "service", "p_failure") > replication_values(few, "service", "p_failure"))
    for metric in ("assurance", "reliability", "satisfaction"):
        assert np.all(replication_values(many, "system", metric) < replication_values(few, "system", metric)), metric


def test_recovery_staff_do_not_enter_interaction_scores():
    # Without retention and without an expertise loss, the supervisor's skill can act
    # only through the restored valence: staff scores are identical customer by customer
    # (speed_effect 0 keeps the recovery durations equal).
    def with_supervisor(level: float) -> pd.DataFrame:
        data = bank_data(retention=False)
        data["quality"]["recovery"] = {"expertise_loss": 0.0}
        data["failures"]["service"]["probability"] = 0.3
        data["staff"]["recovery"] = {"competence": level, "courtesy": level, "training": level,
                                     "speed_effect": 0.0}
        return run(data, replications=2).customers()

    skilled, poor = with_supervisor(1.0), with_supervisor(0.3)
    assert len(skilled) == len(poor) and (skilled.failed == poor.failed).all()
    for column in ("attitude", "behaviour", "expertise", "assurance", "empathy"):
        assert np.array_equal(skilled[column].to_numpy(), poor[column].to_numpy()), column
    failed = skilled.failed & skilled.recovered
    assert (skilled.restoration[failed] > poor.restoration[failed]).all()
    assert skilled.valence[failed].mean() > poor.valence[failed].mean()


def test_better_recovery_raises_failed_customers_but_not_above_smooth_service():
    data = bank_data(retention=False)
    data["failures"]["service"]["probability"] = 0.3
    plain = run(data, replications=3).customers()
    data["failures"]["service"].update(JUSTICE, recovery_success=1.0)
    best = run(data, replications=3).customers()
    assert (plain.failed == best.failed).all()  # the same customers fail
    failed = plain.failed & ~plain.abandoned
    # Customer by customer (same noise): a better recovery never hurts, and helps on average.
    assert (best.satisfaction[failed] >= plain.satisfaction[failed] - 1e-12).all()
    assert best.satisfaction[failed].mean() > plain.satisfaction[failed].mean() + 0.1
    # ... yet even the best recovery of a default (severe) failure stays below a smooth service.
    smooth = best.satisfaction[~best.failed & ~best.abandoned & ~best.blocked]
    recovered = best.satisfaction[failed]
    half = 2.6 * np.sqrt(recovered.var() / len(recovered) + smooth.var() / len(smooth))
    assert recovered.mean() < smooth.mean() - half


def same_runs(a: simlib.Results, b: simlib.Results) -> bool:
    return all(
        x.keys() == y.keys() and all(np.array_equal(list(x[s].values()), list(y[s].values()), equal_nan=True) for s in x)
        for x, y in zip(a.runs, b.runs, strict=True)
    )


def test_paradox_ignores_severe_failures():
    # Default severity is 1: switching the paradox on changes nothing at all.
    data = bank_data()
    data["failures"]["service"]["probability"] = 0.3
    off = run(data, replications=2)
    data["quality"]["recovery_paradox"] = True
    on = run(data, replications=2)
    assert same_runs(off, on)


def test_paradox_lifts_satisfaction_of_mild_well_recovered_failures_not_returns():
    data = bank_data()
    data["failures"]["service"].update(JUSTICE, probability=0.3, severity=0.3, recovery_success=1.0)
    off = run(data, replications=3)
    data["quality"]["recovery_paradox"] = {"bonus": 1.5}
    on = run(data, replications=3)
    # Repurchase does not see the bonus: every return decision, and so every run, is the same.
    assert np.array_equal(replication_values(off, "system", "p_return"), replication_values(on, "system", "p_return"))
    c_on, c_off = on.customers(), off.customers()
    assert np.array_equal(c_on.returns.to_numpy(), c_off.returns.to_numpy())
    lifted = c_on.satisfaction - c_off.satisfaction
    qualified = c_on.paradox
    assert qualified.sum() > 100 and not c_off.paradox.any()
    assert (c_on.failed & c_on.recovered)[qualified].all()
    assert (lifted[~qualified].abs() < 1e-12).all()
    assert lifted[qualified].mean() > 1.0
    # Only first failures qualify: customers who failed on an earlier visit do not.
    repeat = c_on.returning & c_on.failed & c_on.recovered & ~qualified & (c_on.restoration >= 0.8)
    assert repeat.sum() > 0
    smooth = c_on.satisfaction[~c_on.failed & ~c_on.abandoned & ~c_on.blocked]
    assert c_on.satisfaction[qualified].mean() > smooth.mean()
    # Asked to, the paradox flows into returns too.
    data["quality"]["recovery_paradox"] = {"bonus": 1.5, "repurchase": True}
    loyal = run(data, replications=3)
    assert replication_values(loyal, "system", "p_return").mean() > replication_values(off, "system", "p_return").mean()


def _visit(**kw) -> Visit:
    base = dict(expectations=(5.0, 6.0, 5.5, 5.5, 5.0), expected_wait=6.0, promised_wait=None,
                wait_pre=6.0, wait_in=0.0, wait_recovery=0.0, present=0,
                encounters=[(0.7, 0.7, 0.7)], outcome="served")
    base.update(kw)
    return Visit(**base)


def test_restoration_and_paradox_conditions_one_customer():
    spec = QualitySpec(expectations={}, paradox=ParadoxSpec(bonus=1.0))
    zero = [0.0] * 14
    smooth = evaluate(spec, _visit(), zero)
    failed = [(0, 1.0, 0.0)]
    unrecovered = evaluate(spec, _visit(outcome="unrecovered", failures=failed), zero)
    half = evaluate(spec, _visit(outcome="recovered", failures=[(0, 1.0, 0.5)]), zero)
    full = evaluate(spec, _visit(outcome="recovered", failures=[(0, 1.0, 1.0)]), zero)
    assert unrecovered.sub["valence"] == pytest.approx(spec.valence_unrecovered)
    assert full.sub["valence"] == pytest.approx(spec.valence_recovered)
    assert unrecovered.satisfaction < half.satisfaction < full.satisfaction < smooth.satisfaction
    assert unrecovered.servqual["reliability"] < full.servqual["reliability"] < smooth.servqual["reliability"]
    assert unrecovered.servqual["assurance"] < smooth.servqual["assurance"]
    assert not full.paradox  # severe
    mild = evaluate(spec, _visit(outcome="recovered", failures=[(0, 0.3, 0.9)]), zero)
    assert mild.paradox and mild.satisfaction == pytest.approx(mild.loyalty + 1.0)
    assert not evaluate(spec, _visit(outcome="recovered", failures=[(0, 0.3, 0.5)]), zero).paradox
    assert not evaluate(spec, _visit(outcome="recovered", failures=[(0, 0.3, 0.9)], prior_failures=1), zero).paradox


def test_restoration_weights():
    rec = RecoverySpec()
    assert rec.restoration(False, 1, 1, 1, 1, 1) == 0.0
    assert rec.restoration(True, 1, 1, 1, 1, 1) == pytest.approx(1.0)
    assert rec.restoration(True, 0.85, 0.5, 0, 0, 0) == pytest.approx((2 * 0.85 + 0.5) / 6)
    assert rec.restoration(True, 0.5, 0.5, 0, 1, 0) > rec.restoration(True, 0.5, 0.5, 0, 0, 0)
    assert FailureSpec(probability=0.1, to="repeat").severity == 1.0


@pytest.mark.parametrize(
    "path, value, message",
    [
        ("failures.service.severity", 1.5, "between 0 and 1"),
        ("failures.service.apology", -1, "between 0 and 1"),
        ("quality.recovery", {"quality_weight": -1}, "at least 0"),
        ("quality.recovery_paradox", {"bonus": 1, "repurchase": "yes"}, "true or false"),
        ("quality.recovery_paradox", {"bonus": 1, "max_severity": 2}, "between 0 and 1"),
    ],
)
def test_recovery_keys_are_validated(path, value, message):
    with pytest.raises(simlib.ScenarioError) as info:
        simlib.load_scenario(BANK).with_overrides({path: value})
    assert message in str(info.value)
