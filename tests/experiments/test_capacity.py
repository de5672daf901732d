"""Offered load per station and the warnings a run gives once, not once per replication."""

from __future__ import annotations

import logging
import warnings

import pytest
from support import single_station

import simlib
from simlib.experiments import CapacityWarning, CensoringWarning
from simlib.experiments.capacity import offered_loads, visits_per_arrival


def two_stations(second_servers: int = 1) -> dict:
    # Everyone visits "a"; 60% go on to "b", a third of whom come back to "b" once more.
    return {
        "name": "two", "horizon": 100, "warmup": 0,
        "classes": [{"name": "c", "arrivals": {"rate": 1.0}}],
        "stations": [
            {"name": "a", "servers": 2, "service": {"dist": "exponential", "mean": 1.0}},
            {"name": "b", "servers": second_servers,
             "service": {"dist": "exponential", "mean": 1.2}},
        ],
        "routing": {"a": {"b": 0.6, "exit": 0.4}, "b": {"b": 0.25, "exit": 0.75}},
    }


def test_offered_load_follows_routing_and_averages_shifts():
    scn = simlib.load_scenario(two_stations())
    assert visits_per_arrival(scn)["c"] == pytest.approx({"a": 1.0, "b": 0.6 / 0.75})
    a, b = offered_loads(scn)
    assert (a.station, a.offered_load, a.servers) == ("a", pytest.approx(1.0), 2.0)
    assert b.arrival_rate == pytest.approx(0.8)
    assert b.offered_load == pytest.approx(0.8 * 1.2)
    spec = single_station(rate=1.0, horizon=100, warmup=0)
    del spec["stations"][0]["servers"]
    spec["stations"][0]["shifts"] = [{"start": 0, "end": 25, "servers": 4},
                                     {"start": 25, "end": 100, "servers": 1}]
    [load] = offered_loads(simlib.load_scenario(spec))
    assert load.servers == pytest.approx(1.75)
    assert load.utilisation == pytest.approx(1 / 1.75)


def test_a_station_at_capacity_warns_once_naming_it_and_its_load():
    scn = two_stations(second_servers=1)  # b: 0.96 Erlangs on 1 server, just below
    with warnings.catch_warnings():
        warnings.simplefilter("error", CapacityWarning)
        simlib.run(scn, replications=2, seed=1, jobs=1, progress=False)
    scn["classes"][0]["arrivals"]["rate"] = 1.25  # b: 1.2 Erlangs on 1 server
    with pytest.warns(CapacityWarning) as caught:
        simlib.run(scn, replications=3, seed=1, jobs=1, progress=False)
    messages = [str(w.message) for w in caught if w.category is CapacityWarning]
    assert len(messages) == 1
    assert "station 'b'" in messages[0] and "1.2 Erlangs on 1 servers" in messages[0]
    assert "120%" in messages[0] and "station 'a'" not in messages[0]


def test_censoring_is_one_warning_per_run_with_counts(caplog):
    # Two servers for 50 time units, then none: whoever still waits is censored.
    spec = single_station(rate=3.0, horizon=100, warmup=0)
    del spec["stations"][0]["servers"]
    spec["stations"][0]["shifts"] = [{"start": 0, "end": 50, "servers": 2},
                                     {"start": 50, "end": 100, "servers": 0}]
    with caplog.at_level(logging.WARNING, logger="simlib"), \
            pytest.warns(CensoringWarning) as caught:
        res = simlib.run(spec, replications=4, seed=2, jobs=1, progress=False)
    censoring = [str(w.message) for w in caught if w.category is CensoringWarning]
    assert len(censoring) == 1
    assert "in 4 of 4 replications" in censoring[0]
    total = sum(r.censored for r in res.records)
    assert total > 0 and f"({total} in all" in censoring[0]
    assert "drain limit" not in caplog.text  # the engine's per-replication message is off


def test_a_sweep_and_a_comparison_warn_once_naming_the_overloaded_points():
    scn = two_stations(second_servers=1)  # b: 0.96 Erlangs on 1 server; 1.25 arrivals overload it
    grid = {"classes.c.arrivals.rate": [1.0, 1.25, 1.5]}
    with pytest.warns(CapacityWarning) as caught:
        simlib.sweep(scn, grid, replications=2, seed=1, jobs=1, progress=False)
    [message] = [str(w.message) for w in caught if w.category is CapacityWarning]
    assert "at 2 of 3 points (classes.c.arrivals.rate=1.25; classes.c.arrivals.rate=1.5)" in message
    assert "station 'b' is offered 1.2 Erlangs on 1 servers" in message
    with pytest.warns(CapacityWarning) as caught:
        simlib.compare(scn, {"busier": {"classes.c.arrivals.rate": 1.25}}, replications=2,
                       seed=1, jobs=1, progress=False)
    [message] = [str(w.message) for w in caught if w.category is CapacityWarning]
    assert "at 1 of 2 points (classes.c.arrivals.rate=1.25)" in message


def test_a_long_swept_value_is_shortened_in_warnings():
    spec = single_station(rate=3.0, horizon=100, warmup=0)
    del spec["stations"][0]["servers"]
    spec["stations"][0]["shifts"] = [{"start": 0, "end": 50, "servers": 2},
                                     {"start": 50, "end": 100, "servers": 0}]
    rates = [[3.0] * 50, [2.0] * 50]
    path = "classes.0.arrivals"
    variants = {f"v{i}": {path: {"profile": {"period": 2, "rates": r}}}
                for i, r in enumerate(rates)}
    with pytest.warns(CensoringWarning) as caught:
        simlib.compare(spec, variants, replications=2, seed=1, jobs=1, progress=False)
    [message] = [str(w.message) for w in caught if w.category is CensoringWarning]
    assert len(message) < 600 and "..." in message
