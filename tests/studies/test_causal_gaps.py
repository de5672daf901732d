"""The causal gap model: each link (belief → standard → staffing/SOP → delivery → gap 5,
promise → expectations) tested on its own, the simulated ones with common random numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simlib
from simlib.plots.quality import plot_causal_chain
from simlib.studies import quality as studies

BANK = Path(__file__).resolve().parents[2] / "data" / "scenarios" / "bank_value_chain.yaml"
SEED = 5
REPS = 4


@pytest.fixture(scope="module")
def bank() -> simlib.Scenario:
    # Four 8-hour days: enough customers per replication for paired intervals.
    return simlib.load_scenario(BANK).with_overrides({"horizon": 1920, "warmup": 240})


def curve(waits: dict[int, float]) -> pd.DataFrame:
    """A staffing curve in the format of value_chain_study (only what the chain reads)."""
    return pd.DataFrame([(n, "system", "mean_wait", w) for n, w in waits.items()],
                        columns=["servers", "scope", "metric", "mean"])


CURVE = curve({3: 12.0, 4: 7.5, 5: 4.5, 6: 3.0, 7: 2.0, 8: 1.2})
CUSTOMER = {"customer_wait": 6.0, "customer_reliability": 6.0}


def test_nothing_closed_is_the_scenario_staffed_to_its_standard(bank):
    c = studies.causal_chain(bank, CURVE, (), **CUSTOMER)
    # Management believes 10 min, its standard is 8 (Δ2 = -2): 4 servers deliver 7.5 <= 8.
    assert (c.perceived_wait, c.standard_wait, c.servers, c.planned_wait) == (10.0, 8.0, 4, 7.5)
    assert c.training == pytest.approx(0.6) and c.promised_wait == 5.0
    assert c.perceived_reliability == 5.0


def test_gap1_moves_the_standard_the_staffing_and_the_sop(bank):
    c = studies.causal_chain(bank, CURVE, ("gap1",), **CUSTOMER, sop_gain=0.2, adherence=0.5)
    assert c.perceived_wait == 6.0
    assert c.standard_wait == pytest.approx(6.0 - 2.0)   # the standards gap is kept
    assert c.servers == 6                                # 5 servers give 4.5 > 4
    # Reliability belief 5 -> 6: SOP target 0.6 + 0.2 * 1; half of it is delivered.
    assert c.training_target == pytest.approx(0.8)
    assert c.training == pytest.approx(0.7)
    assert c.overrides["stations.service.servers"] == 6
    assert c.overrides["quality.management.standard_wait"] == pytest.approx(4.0)


def test_gap2_gap3_gap4_links(bank):
    both = studies.causal_chain(bank, CURVE, ("gap1", "gap2"), **CUSTOMER)
    assert both.standard_wait == 6.0 and both.servers == 5
    verified = curve({4: 9.0, 5: 6.5, 6: 4.0})
    three = studies.causal_chain(bank, CURVE, ("gap1", "gap2", "gap3"), **CUSTOMER,
                                 verified_curve=verified)
    assert three.training == pytest.approx(three.training_target)   # SOP fully adhered to
    assert three.servers == 6 and three.planned_wait == 4.0          # staffed on the verified curve
    four = studies.causal_chain(bank, CURVE, ("gap4",), **CUSTOMER)
    assert four.promised_wait == four.planned_wait == 7.5            # promise what is planned


def test_bad_input(bank):
    with pytest.raises(ValueError, match="unknown gap"):
        studies.causal_chain(bank, CURVE, ("gap5",), **CUSTOMER)
    with pytest.raises(ValueError, match="adherence"):
        studies.causal_chain(bank, CURVE, (), **CUSTOMER, adherence=1.5)
    with pytest.raises(ValueError, match="no staffing level"):
        studies.causal_chain(bank, curve({3: 12.0}), (), **CUSTOMER)


def servqual(results) -> np.ndarray:
    """Gap 5 (mean over dimensions of perceived - expected) per replication."""
    t = results.customers()
    per = pd.DataFrame({d: (t[d] - t[f"exp_{d}"]).groupby(t["replication"]).mean()
                        for d in simlib.spec.quality.DIMENSIONS})
    return per.mean(axis=1).to_numpy()


def test_simulated_links_with_common_random_numbers(bank):
    base = bank.with_overrides({"stations.service.servers": 4})
    c = studies.causal_chain(base, CURVE, ("gap1",), **CUSTOMER)
    cmp = simlib.compare(base, {
        "staffing": {"stations.service.servers": c.servers},
        "sop": {"staff.service.training": c.training},
        # a looser promise raises the wait customers hold the service to
        "promise": {"quality.expectations.promised_wait": 8.0},
        "chain": c.overrides,
    }, replications=REPS, seed=SEED, jobs=1, progress=False)
    eff = cmp.table[cmp.table["scope"] == "system"].set_index(["variant", "metric"])
    # staffing -> delivered wait -> responsiveness
    assert eff.loc[("staffing", "mean_wait"), "ci_high"] < 0
    assert eff.loc[("staffing", "responsiveness"), "ci_low"] > 0
    # SOP (training) -> delivered reliability
    assert eff.loc[("sop", "reliability"), "ci_low"] > 0
    # communication -> expectations: the same delivered waits score higher on responsiveness
    assert eff.loc[("promise", "responsiveness"), "ci_low"] > 0
    # the whole chain -> gap 5, in every paired replication
    diff = servqual(cmp.variants["chain"]) - servqual(cmp.base)
    assert np.all(diff > 0)


def test_management_keys_alone_change_no_customer(bank):
    # Beliefs and standards act only through what they set: alone, no number changes.
    cmp = simlib.compare(bank, {"v": {"quality.management.expected_wait": 3.0,
                                      "quality.management.standard_wait": 3.0}},
                         replications=2, seed=SEED, jobs=1, progress=False)
    diff = cmp.table[cmp.table["variant"] == "v"].set_index(["scope", "metric"])["diff"]
    assert diff[("system", "satisfaction")] == 0.0 and diff[("system", "mean_wait")] == 0.0


def test_study_closing_gap1_reaches_customers(bank):
    study = studies.causal_gap_study(bank, (3, 4, 5, 6), {"close gap 1": ("gap1",)},
                                     replications=3, seed=SEED, jobs=1)
    chain = study.chain.set_index("variant")
    assert chain.loc["close gap 1", "standard_wait"] < chain.loc["base", "standard_wait"]
    assert chain.loc["close gap 1", "servers"] > chain.loc["base", "servers"]
    assert chain.loc["close gap 1", "training"] > chain.loc["base", "training"]
    eff = study.effects.set_index(["variant", "scope", "metric"])
    assert eff.loc[("close gap 1", "system", "mean_wait"), "ci_high"] < 0
    assert eff.loc[("close gap 1", "system", "gap5"), "ci_low"] > 0
    assert set(study.gaps["variant"]) == {"base", "close gap 1"}
    fig = plot_causal_chain(study)
    assert len(fig.axes) == 6
    with pytest.raises(TypeError, match="CausalGapStudy"):
        plot_causal_chain(study.chain)
