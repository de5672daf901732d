"""Improvement measures: documented transformations, composition, CRN comparison, tornado."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import (
    SCENARIOS,
    assert_oracle,
    known_controls,
    oracle_samples,
    replication_values,
    single_station,
)

import simlib
from simlib.experiments import execution
from simlib.planning import measures as ms
from simlib.theory import queueing as q


def test_every_measure_documents_its_mechanism_source_and_parameters() -> None:
    table = ms.describe_measures()
    assert set(table["measure"]) >= {"add_staff", "training", "pooling", "self_service",
                                     "demand_smoothing", "better_recovery",
                                     "expectation_management"}
    for m in ms.MEASURES.values():
        assert len(m.mechanism) > 40 and m.source and m.parameters
        for default_and_doc in m.parameters.values():
            assert isinstance(default_and_doc[1], str) and default_and_doc[1]


def test_add_staff_keeps_closed_shifts_closed() -> None:
    spec = single_station(servers=1)
    spec["stations"][0].pop("servers")
    spec["stations"][0]["shifts"] = [{"start": 0, "end": 100, "servers": 0},
                                     {"start": 100, "end": 10_000, "servers": 3}]
    new, changes, _ = ms.apply_measures(spec, ("add_staff", {"servers": 2}))
    assert [s.servers for s in new.station("s").shifts] == [0, 5]
    assert [c.path for c in changes] == ["stations.s.shifts.1.servers"]


def test_training_cuts_mean_variability_and_failures() -> None:
    chain = simlib.load_scenario(SCENARIOS / "value_chain.yaml")
    new, changes, notes = ms.apply_measures(
        chain, ("training", {"station": "service", "service_time_reduction": 0.25,
                             "variability_reduction": 0.5, "failure_reduction": 0.4}))
    dist = new.station("service").service["customer"]
    assert dist.mean == pytest.approx(1.6 * 0.75) and dist.cv == pytest.approx(0.5)
    assert new.routing["service"]["recovery"] == pytest.approx(0.06)
    assert new.routing["service"]["exit"] == pytest.approx(0.94)
    assert all(c.why for c in changes) and not notes
    # on a station without a failure route the note says what was not applied
    _, _, notes = ms.apply_measures(chain, "training")
    assert any("failure reduction not applied" in n for n in notes)


def test_expectation_management_is_a_documented_no_op_without_a_quality_block() -> None:
    scn = simlib.load_scenario(SCENARIOS / "call_centre.yaml")
    new, changes, notes = ms.apply_measures(scn, ("expectation_management", {"promised_wait": 1}))
    assert new == scn and not changes
    assert "no quality block" in notes[0]
    assert ms.measure_overrides(scn, "expectation_management") == {}


def test_self_service_smoothing_and_recovery() -> None:
    bank = simlib.load_scenario(SCENARIOS / "bank_branch_day.yaml")
    new, _, _ = ms.apply_measures(bank, [("self_service", {"share": 0.25}),
                                         ("demand_smoothing", {"share": 1.0})])
    old_rates = bank.customer_class("private").arrivals.profile.rates
    rates = new.customer_class("private").arrivals.profile.rates
    assert sum(rates) == pytest.approx(0.75 * sum(old_rates))  # smoothing keeps the total
    assert max(rates) - min(rates) == pytest.approx(0.0)
    assert new.customer_class("business").arrivals.rate == pytest.approx(0.225)
    chain = simlib.load_scenario(SCENARIOS / "value_chain.yaml")
    rec, _, _ = ms.apply_measures(chain, "better_recovery")
    assert rec.station("recovery").service["customer"].mean == pytest.approx(1.4)
    assert rec.routing["recovery"] == pytest.approx({"service": 0.35, "exit": 0.65})
    with pytest.raises(ValueError, match="no station 'recovery'"):
        ms.apply_measures(bank, "better_recovery")


def test_unknown_measures_and_parameters_are_refused() -> None:
    scn = simlib.load_scenario(SCENARIOS / "call_centre.yaml")
    with pytest.raises(ValueError, match="unknown measure 'magic'"):
        ms.apply_measures(scn, "magic")
    with pytest.raises(ValueError, match="unknown parameter"):
        ms.apply_measures(scn, ("training", {"speed": 2}))
    with pytest.raises(ValueError, match=r"share must be in \[0, 1\)"):
        ms.apply_measures(scn, ("self_service", {"share": 1.0}))


def two_queues() -> dict:
    return {
        "name": "two-queues", "horizon": 20_000, "warmup": 500,
        "classes": [{"name": "a", "arrivals": {"rate": 1.6}, "route": ["qa"]},
                    {"name": "b", "arrivals": {"rate": 1.6}, "route": ["qb"]}],
        "stations": [{"name": "qa", "servers": 2, "service": {"dist": "exponential", "mean": 1.0}},
                     {"name": "qb", "servers": 2, "service": {"dist": "exponential", "mean": 1.0}}],
    }


@pytest.mark.statistical
def test_pooling_two_mm2_queues_gives_the_mm4_wait() -> None:
    """Pooling two M/M/2 queues (utilisation 0.8) gives the M/M/4 queue. Power: a 3% bias in
    either simulated mean wait or delay probability is detected with probability >= 0.9 (the
    mean waits are the widest, about +-1.6%; control variates: arrivals and service times)."""
    pooled, changes, _ = ms.apply_measures(two_queues(), ("pooling", {"stations": ["qa", "qb"]}))
    assert [s.name for s in pooled.stations] == ["qa+qb"] and pooled.station("qa+qb").servers == 4
    assert changes[0].path == "stations"
    for scn, stations, servers, horizon in ((simlib.load_scenario(two_queues()), ["qa", "qb"], 2,
                                             20_000), (pooled, ["qa+qb"], 4, 30_000)):
        res = simlib.run(scn.with_overrides({"horizon": horizon}), 40, 4, progress=False)
        theory = q.erlang_c(3.2 / len(stations), 1.0, servers)
        known = {("a", "arrivals"): 1.6 * horizon, ("b", "arrivals"): 1.6 * horizon}
        known |= {(name, "mean_service"): 1.0 for name in stations}
        assert_oracle(oracle_samples(res, "system", theory, ("mean_wait", "p_wait")),
                      known_controls(res, known))
    assert q.erlang_c(3.2, 1.0, 4)["mean_wait"] < 0.5 * q.erlang_c(1.6, 1.0, 2)["mean_wait"]


def test_measures_compose_and_feed_simlib_compare_with_common_random_numbers() -> None:
    chain = simlib.load_scenario(SCENARIOS / "value_chain.yaml").with_overrides({"horizon": 480})
    # keeping the exponential family keeps the service stream aligned (common random numbers)
    steps = [("training", {"station": "service", "variability_reduction": 0.0}),
             "better_recovery"]
    new, changes, _ = ms.apply_measures(chain, steps)
    assert [c.measure for c in changes][0] == "training" and changes[-1].measure == "better_recovery"
    overrides = ms.measure_overrides(chain, steps)
    assert set(overrides) == {"stations", "routing"}
    assert chain.with_overrides(overrides) == new
    table = simlib.compare(chain, {"both": overrides}, replications=10, seed=1, jobs=1,
                           progress=False).table
    wait = table.query("scope == 'system' and metric == 'mean_wait'").iloc[0]
    assert wait["ci_high"] < 0  # both measures cut the wait, significantly with 10 pairs


def test_cost_benefit_pairs_the_variants_with_the_base() -> None:
    chain = simlib.load_scenario(SCENARIOS / "value_chain.yaml").with_overrides({"horizon": 480})
    prices = {"wage_per_server_hour": 30.0, "cost_per_waiting_hour": 40.0}
    table = ms.cost_benefit(chain, {"staff": ("add_staff", {"station": "service"}),
                                    "recovery": "better_recovery"},
                            prices, replications=6, seed=2, investment={"recovery": 10.0})
    assert list(table["variant"]) == ["base", "staff", "recovery"]
    base, staff, rec = (table.iloc[i] for i in range(3))
    assert base["saving"] == 0 and base["net_benefit"] == 0
    # one more server for 8 hours costs 8 x 30 more staff money
    assert staff["staff"] - base["staff"] == pytest.approx(240.0)
    assert staff["waiting"] < base["waiting"]
    assert rec["net_benefit"] == pytest.approx(rec["saving"] - 10.0)
    assert rec["saving_low"] <= rec["saving"] <= rec["saving_high"]
    # the same table from a comparison that has run already: nothing is simulated again
    overrides = {"staff": ms.measure_overrides(chain, ("add_staff", {"station": "service"})),
                 "recovery": ms.measure_overrides(chain, "better_recovery")}
    comparison = simlib.compare(chain, overrides, replications=6, seed=2, jobs=1, progress=False)
    again = ms.price_comparison(comparison, prices, investment={"recovery": 10.0})
    pd.testing.assert_frame_equal(again, table, check_exact=True)
    with pytest.raises(ValueError, match="unknown variant"):
        ms.cost_benefit(chain, {"a": "add_staff"}, prices, 2, investment={"b": 1.0})


def test_tornado_ranks_the_factors_by_swing() -> None:
    scn = simlib.load_scenario(SCENARIOS / "call_centre.yaml").with_overrides({"horizon": 240})
    table = ms.tornado(
        scn,
        {
            "handle time": {"path": "stations.agents.service.mean", "low": 2.7, "high": 3.3},
            "arrivals": {"path": "classes.caller.arrivals.rate", "low": 0.95, "high": 1.05,
                         "scale": True},
            "self-service share": {"measure": "self_service", "parameter": "share",
                                   "low": 0.0, "high": 0.05},
        },
        "mean_wait", replications=4, seed=1,
    )
    assert list(table.columns) == ["factor", "low", "high", "base", "at_low", "at_high", "swing"]
    assert table["swing"].is_monotonic_decreasing
    # Erlang C ranks them: +-10% handle time moves the load by 10% and scales the wait (a swing
    # of 0.285 min), +-5% arrivals move the load by 5% (0.115), a 5% self-service share 0.046
    assert list(table["factor"]) == ["handle time", "arrivals", "self-service share"]
    with pytest.raises(ValueError, match="pass costs"):
        ms.tornado(scn, {}, "total")


def test_tornado_simulates_each_distinct_scenario_once(monkeypatch) -> None:
    scn = simlib.load_scenario(SCENARIOS / "call_centre.yaml").with_overrides({"horizon": 120})
    factors = {
        # the low end is the base itself; the high end equals the next factor's high end
        "handle time": {"path": "stations.agents.service.mean", "low": 3.0, "high": 3.3},
        "handle time again": {"path": "stations.agents.service.mean", "low": 2.7, "high": 3.3},
    }
    calls = []
    real = execution.simulate_task

    def spy(scenario, seed, replication, options):
        calls.append(scenario.to_dict()["stations"][0]["service"]["mean"])
        return real(scenario, seed, replication, options)

    monkeypatch.setattr(execution, "simulate_task", spy)
    table = ms.tornado(scn, factors, "mean_wait", replications=3, seed=1).set_index("factor")
    assert sorted(calls) == [2.7] * 3 + [3.0] * 3 + [3.3] * 3  # 3 scenarios, not 5
    assert table.loc["handle time", "at_low"] == table.loc["handle time", "base"]
    assert table.loc["handle time", "at_high"] == table.loc["handle time again", "at_high"]
    # a run of the base is used as it is
    calls.clear()
    base = simlib.run(scn, 3, 1, jobs=1, progress=False)
    calls.clear()
    again = ms.tornado(base, factors, "mean_wait", replications=3, seed=1).set_index("factor")
    assert sorted(calls) == [2.7] * 3 + [3.3] * 3
    pd.testing.assert_frame_equal(again, table, check_exact=True)


def test_measures_act_on_the_quality_model():
    scn = simlib.load_scenario(SCENARIOS / "bank_value_chain.yaml")
    trained, changes, _ = ms.apply_measures(scn, [("training", {"station": "service"})])
    assert trained.staff["service"].training == pytest.approx(0.8)
    base = simlib.run(scn, replications=3, seed=2, progress=False)
    after = simlib.run(trained, replications=3, seed=2, progress=False)
    assert np.all(replication_values(after, "service", "p_failure") < replication_values(base, "service", "p_failure"))
    assert np.all(replication_values(after, "system", "reliability") > replication_values(base, "system", "reliability"))
    recovered, _, _ = ms.apply_measures(scn, "better_recovery")
    assert recovered.failures["service"].recovery_success == pytest.approx(0.9)
    promised, _, _ = ms.apply_measures(scn, [("expectation_management", {"promised_wait": 8})])
    assert promised.quality.expectations["customer"].promised_wait == 8


def test_demand_smoothing_keeps_closed_intervals_closed_and_helps_the_invoice_desk() -> None:
    # Closed hours (rate 0: nights, weekends) have no servers; smoothing towards the
    # mean over all hours put invoices there and raised the mean wait 1.35 -> 6.95 h.
    scn = simlib.load_scenario(SCENARIOS / "shared_service_centre.yaml")
    new, _, _ = ms.apply_measures(scn, ("demand_smoothing", {"share": 0.5}))
    old = np.array(scn.customer_class("invoice").arrivals.profile.rates)
    rates = np.array(new.customer_class("invoice").arrivals.profile.rates)
    assert np.all(rates[old == 0] == 0) and np.all(rates[old > 0] > 0)
    assert rates.sum() == pytest.approx(old.sum())
    assert rates.max() < old.max()  # the 09:00 batch is spread over the working day
    # 12 paired replications: the wait falls by 0.36-0.65 h (seeds 1-3) with 95 % CI
    # half-widths of 0.15-0.26 h, so the interval excludes 0 on each of those seeds.
    table = simlib.compare(scn, {"smooth": ms.measure_overrides(scn, "demand_smoothing")},
                           replications=12, seed=1, jobs=1, progress=False).table
    wait = table.query("scope == 'system' and metric == 'mean_wait'").iloc[0]
    assert wait["diff"] < 0 and wait["ci_high"] < 0
