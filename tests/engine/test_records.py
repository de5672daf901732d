"""Per-interval metrics and event traces computed from per-visit records."""

from __future__ import annotations

import numpy as np
import pytest
from support import SCENARIOS, single_station

import simlib
from simlib.engine import simulate
from simlib.experiments.results import Results


def results_with(scn, period=None, trace=False, replications=3, seed=5):
    records = [simulate(scn, seed, r, interval=period, trace=trace) for r in range(replications)]
    return Results(scn, seed, records)


def test_one_interval_equals_the_whole_window():
    scn = simlib.load_scenario(SCENARIOS / "bank_branch_day.yaml")
    for record in results_with(scn, period=scn.horizon).records:
        (start, end, block), = record.intervals
        assert (start, end) == (0.0, scn.horizon)
        for scope, metrics in record.metrics.items():
            for metric, value in metrics.items():
                assert block[scope][metric] == pytest.approx(value, rel=1e-9, abs=1e-9, nan_ok=True), (scope, metric)


def test_intervals_add_up_to_the_window():
    scn = simlib.load_scenario(SCENARIOS / "value_chain.yaml")
    res = results_with(scn, period=60)
    table = res.intervals(60)
    assert list(table.columns) == ["start", "end", "scope", "metric", "mean", "std", "ci_low", "ci_high", "n", "method"]
    assert table.start.nunique() == 16 and table.end.max() == scn.horizon
    for scope in ("contact", "service", "customer", "system"):
        rows = table[table.scope == scope].set_index(["metric", "start"])["mean"]
        assert rows["arrivals"].sum() == pytest.approx(res.value(scope, "arrivals"))
        # Equal-length intervals: the window's time-average is the mean of the intervals'.
        assert rows["mean_queue"].mean() == pytest.approx(res.value(scope, "mean_queue"), rel=1e-9)
        assert rows["mean_in_system"].mean() == pytest.approx(res.value(scope, "mean_in_system"), rel=1e-9)


def test_shift_schedule_shows_in_interval_utilisation(tmp_csv):
    spec = single_station(rate=1.0, horizon=200, warmup=0)
    del spec["stations"][0]["servers"]
    spec["stations"][0]["shifts"] = [{"start": 0, "end": 100, "servers": 1},
                                     {"start": 100, "end": 200, "servers": 4}]
    table = results_with(simlib.load_scenario(spec), period=100, replications=4).intervals()
    util = table[(table.scope == "s") & (table.metric == "utilization")]["mean"].to_numpy()
    # Saturated with one server, then about a quarter busy with four.
    assert util[0] > 0.9 and util[1] < 0.5


def test_intervals_need_to_be_recorded():
    res = results_with(simlib.load_scenario(SCENARIOS / "call_centre.yaml"), replications=2)
    with pytest.raises(ValueError, match="run with interval=PERIOD"):
        res.intervals(30)
    res = results_with(res.scenario, period=60, replications=2)
    with pytest.raises(ValueError, match="recorded 60"):
        res.intervals(30)


def test_trace_of_a_hand_made_case(tmp_csv):
    path = tmp_csv("t.csv", "time\n0\n1\n2\n")
    spec = {
        "horizon": 100, "warmup": 0,
        "classes": [{"name": "k", "arrivals": {"trace": str(path)},
                     "patience": {"dist": "deterministic", "value": 5}}],
        "stations": [
            {"name": "a", "servers": 1, "service": {"dist": "deterministic", "value": 3}, "queue_capacity": 1},
            {"name": "b", "servers": 1, "service": {"dist": "deterministic", "value": 1}},
        ],
        "routing": {"a": {"b": 1.0}},
    }
    trace = results_with(simlib.load_scenario(spec), trace=True, replications=1).trace()
    got = [(r.customer, r.station, r.event, r.time) for r in trace.itertuples()]
    assert got == [
        (0, "a", "arrival", 0.0), (0, "a", "start", 0.0),
        (1, "a", "arrival", 1.0), (1, "a", "queue", 1.0),
        (2, "a", "arrival", 2.0), (2, "a", "block", 2.0),
        (0, "a", "end", 3.0), (0, "b", "route", 3.0), (0, "b", "start", 3.0),
        (1, "a", "start", 3.0),
        (0, "b", "end", 4.0),
        (1, "a", "end", 6.0), (1, "b", "route", 6.0), (1, "b", "start", 6.0),
        (1, "b", "end", 7.0),
    ]
    assert set(trace.columns) >= {"customer", "class", "station", "event", "time"}


def test_recording_does_not_change_the_results():
    scn = simlib.load_scenario(SCENARIOS / "bank_branch_day.yaml")
    plain = [simulate(scn, 9, r).metrics for r in range(2)]
    recorded = [simulate(scn, 9, r, interval=30, trace=True).metrics for r in range(2)]
    assert plain == recorded


def test_record_rows_round_trip():
    scn = simlib.load_scenario(SCENARIOS / "value_chain.yaml")
    record = simulate(scn, 3, 7, interval=120)
    again = type(record).from_rows(record.to_rows())
    assert again == record
    assert np.isnan(record.to_rows()[0][1])


def test_observed_trace_keeps_customers_arriving_in_the_window():
    scn = simlib.load_scenario(SCENARIOS / "call_centre.yaml")
    res = results_with(scn, trace=True, replications=1)
    full, observed = res.trace(), res.trace(observed=True)
    arrivals = observed[observed.event == "arrival"]
    assert len(arrivals) == res.value("system", "arrivals")
    assert full.time.min() < 0 <= observed.time.min()
