"""Visit outcomes and the named per-visit and per-customer records.

The records are what per-interval metrics, event logs and the ISA staffing
rule are computed from, so each row must say what happened: these tests check
that the times of a visit fit its outcome, that a customer's departure agrees
with their visits, and that counting outcomes in the records gives the
metrics the streaming tallies report.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest
from support import SCENARIOS

import simlib
from simlib.engine import (
    Departure,
    Outcome,
    ServiceNetwork,
    Visit,
    build_network,
    departure_array,
    simulate,
    visit_array,
)
from simlib.engine.records import DEPARTURE_DTYPE, VISIT_DTYPE


def tandem() -> simlib.Scenario:
    """Two stations in a row; the first blocks at a short queue and customers are impatient."""
    return simlib.load_scenario(
        {
            "name": "tandem",
            "horizon": 400.0,
            "warmup": 0.0,
            "classes": [{"name": "k", "arrivals": {"rate": 1.1},
                         "patience": {"dist": "exponential", "mean": 3.0}}],
            "stations": [
                {"name": "a", "servers": 1, "queue_capacity": 3,
                 "service": {"dist": "exponential", "mean": 0.8}},
                {"name": "b", "servers": 1, "service": {"dist": "exponential", "mean": 0.7}},
            ],
            "routing": {"a": {"b": 1.0}},
        }
    )


@pytest.fixture(scope="module")
def network() -> ServiceNetwork:
    net = build_network(tandem(), seed=4, replication=0, record=True)
    net.run()
    assert net.censored == 0  # every counted customer left, so the records are complete
    return net


def test_named_rows_and_arrays_share_one_layout(network):
    assert VISIT_DTYPE.names == Visit._fields
    assert DEPARTURE_DTYPE.names == Departure._fields
    v, row = visit_array(network.visits), Visit(*network.visits[-1])
    assert (v["customer"][-1], v["t_end"][-1], v["outcome"][-1]) == (
        row.customer, row.t_end, row.outcome
    )


def test_visit_times_fit_their_outcome(network):
    v = visit_array(network.visits)
    completed = v[v["outcome"] == Outcome.COMPLETED]
    abandoned = v[v["outcome"] == Outcome.ABANDONED]
    blocked = v[v["outcome"] == Outcome.BLOCKED]
    assert len(completed) + len(abandoned) + len(blocked) == len(v)
    assert min(len(completed), len(abandoned), len(blocked)) > 0
    assert np.all((completed["t_in"] <= completed["t_start"])
                  & (completed["t_start"] <= completed["t_end"]))
    assert np.isnan(abandoned["t_start"]).all() and np.all(abandoned["t_end"] > abandoned["t_in"])
    assert np.isnan(blocked["t_start"]).all() and np.all(blocked["t_end"] == blocked["t_in"])
    # Only the first station has a finite queue.
    assert set(blocked["station_index"]) == {0}


def test_a_departure_sums_up_the_customers_visits(network):
    visits = defaultdict(list)
    for row in network.visits:
        visit = Visit(*row)
        visits[visit.customer].append(visit)
    # Everyone who visited has left, but for uncounted late arrivals still in the system
    # when the last counted customer left and the run stopped.
    assert {Departure(*row).customer for row in network.departures} == set(visits) - set(network.present)
    for row in network.departures:
        d = Departure(*row)
        mine = sorted(visits[d.customer], key=lambda v: v.t_end)
        assert d.outcome == mine[-1].outcome
        assert d.t_arrive == mine[0].t_in and d.t_leave == mine[-1].t_end
        waits = [(v.t_end if math.isnan(v.t_start) else v.t_start) - v.t_in for v in mine]
        served = [v.t_end - v.t_start for v in mine if v.outcome == Outcome.COMPLETED]
        assert d.wait == pytest.approx(sum(waits), abs=1e-12)
        assert d.service == pytest.approx(sum(served), abs=1e-12)
        assert d.waited == (d.wait > 0)
        if d.outcome == Outcome.ABANDONED:
            assert d.late


def test_outcomes_counted_in_the_records_give_the_tallied_metrics(network):
    metrics = network.metrics()
    window = network.window_start, network.window_end
    v = visit_array(network.visits)
    at_a = v[(v["station_index"] == 0) & (v["t_in"] >= window[0]) & (v["t_in"] < window[1])]
    assert np.mean(at_a["outcome"] == Outcome.BLOCKED) == pytest.approx(
        metrics["a"]["p_blocked"], rel=1e-12)
    d = departure_array(network.departures)
    mine = d[(d["t_arrive"] >= window[0]) & (d["t_arrive"] < window[1])]
    admitted = mine[mine["outcome"] != Outcome.BLOCKED]
    assert len(mine) == metrics["k"]["arrivals"]
    assert np.mean(admitted["outcome"] == Outcome.ABANDONED) == pytest.approx(
        metrics["k"]["p_abandon"], rel=1e-12)


def test_intervals_are_named_and_survive_flat_rows():
    record = simulate(tandem(), 4, 0, interval=100.0)
    assert [(i.start, i.end) for i in record.intervals] == [
        (0.0, 100.0), (100.0, 200.0), (200.0, 300.0), (300.0, 400.0)
    ]
    rebuilt = type(record).from_rows(record.to_rows())
    assert rebuilt == record
    assert rebuilt.intervals[2].metrics == record.intervals[2].metrics


def test_a_quality_scenario_is_not_simulated_without_its_layer():
    scn = simlib.load_scenario(SCENARIOS / "bank_value_chain.yaml").with_overrides(
        {"horizon": 200.0}
    )
    with pytest.raises(ValueError, match="build_network"):
        ServiceNetwork(scn, 1)
    net = build_network(scn, 1)
    np.testing.assert_equal(net.run(), simulate(scn, 1).metrics)  # NaN equals NaN here
    assert "satisfaction" in net.metrics()["system"]
