"""Engine behaviour on small deterministic cases, and functional properties.

Deterministic cases replay arrival traces with constant service times, so
every wait is known by hand. Functional tests check directions that must hold
whatever the numbers (more staff => less waiting) and reproducibility.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from support import SCENARIOS, replication_values, single_station

import simlib
from simlib.engine import simulate


def traced(tmp_csv, times, service=10.0, **station):
    path = tmp_csv("arrivals.csv", "time\n" + "\n".join(str(t) for t in times) + "\n")
    spec = single_station(service={"dist": "deterministic", "value": service}, horizon=100,
                          warmup=0, **station)
    spec["classes"][0]["arrivals"] = {"trace": str(path)}
    return spec


def one_run(spec, seed=0):
    return simlib.run(spec, replications=1, seed=seed).runs[0]


def test_a_server_whose_shift_ends_finishes_its_customer_then_leaves(tmp_csv):
    # Two servers until t=10, then one. Customers at 5 and 6 take 8 each; both
    # finish (13, 14). The customer arriving at 11 must wait for the *second*
    # end (14): the server freed at 13 is the one whose shift ended, so it leaves.
    spec = traced(tmp_csv, [5, 6, 11], service=8.0)
    del spec["stations"][0]["servers"]
    spec["stations"][0]["shifts"] = [{"start": 0, "end": 10, "servers": 2},
                                     {"start": 10, "end": 100, "servers": 1}]
    m = one_run(spec)["s"]
    assert m["mean_wait"] == pytest.approx(3.0 / 3)
    assert m["p_wait"] == pytest.approx(1 / 3)
    # Scheduled server-time: 2*10 + 1*90 = 110; busy: 3*8 = 24.
    assert m["utilization"] == pytest.approx(24 / 110)


def test_servers_arriving_on_shift_start_on_the_queue(tmp_csv):
    # One server until 20, then three: customers queued at 20 start at once.
    spec = traced(tmp_csv, [0, 1, 2], service=30.0)
    del spec["stations"][0]["servers"]
    spec["stations"][0]["shifts"] = [{"start": 0, "end": 20, "servers": 1},
                                     {"start": 20, "end": 100, "servers": 3}]
    m = one_run(spec)["s"]
    assert m["mean_wait"] == pytest.approx((0 + 19 + 18) / 3)


def test_a_full_queue_blocks(tmp_csv):
    m = one_run(traced(tmp_csv, [0, 1, 2, 3], queue_capacity=1))
    # Customer 0 in service, 1 waits, 2 and 3 find the single queue place taken.
    assert m["s"]["p_blocked"] == pytest.approx(0.5)
    assert m["system"]["p_blocked"] == pytest.approx(0.5)
    assert m["s"]["mean_wait"] == pytest.approx((0 + 9) / 2)


def test_priority_is_non_preemptive_and_fifo_within_a_class(tmp_csv):
    path = tmp_csv("lo.csv", "time\n0\n1\n")
    hi = tmp_csv("hi.csv", "time\n2\n3\n")
    spec = single_station(service={"dist": "deterministic", "value": 10}, horizon=100, warmup=0,
                          discipline="priority")
    spec["classes"] = [
        {"name": "low", "arrivals": {"trace": str(path)}, "priority": 5},
        {"name": "high", "arrivals": {"trace": str(hi)}, "priority": 1},
    ]
    m = one_run(spec)
    # low#0 starts at 0 (not preempted); high#2, high#3 at 10, 20; low#1 at 30.
    assert m["high"]["mean_wait"] == pytest.approx((8 + 17) / 2)
    assert m["low"]["mean_wait"] == pytest.approx((0 + 29) / 2)
    fifo = dict(spec, stations=[dict(spec["stations"][0], discipline="fifo")])
    m = one_run(fifo)
    assert m["low"]["mean_wait"] == pytest.approx((0 + 9) / 2)


def test_abandonment_counts_the_time_until_abandoning(tmp_csv):
    spec = traced(tmp_csv, [0, 1])
    spec["classes"][0]["patience"] = {"dist": "deterministic", "value": 2}
    spec["targets"] = {"service_level": {"threshold": 5, "target": 0.8}}
    m = one_run(spec)["s"]
    assert m["p_abandon"] == pytest.approx(0.5)
    assert m["mean_wait"] == pytest.approx(1.0)  # (0 + 2) / 2
    assert math.isclose(m["asa"], 0.0)  # only the served customer
    assert m["service_level"] == pytest.approx(0.5)  # the abandoned one fails it


def test_fixed_routes_and_warmup(tmp_csv):
    # Arrivals at -5 (warm-up) and 5 and 50; route b -> a; only observed ones count.
    path = tmp_csv("t.csv", "time\n-5\n5\n50\n")
    spec = {
        "horizon": 100, "warmup": 10,
        "classes": [{"name": "k", "arrivals": {"trace": str(path)}, "route": ["b", "a"]}],
        "stations": [
            {"name": "a", "servers": 1, "service": {"dist": "deterministic", "value": 1}},
            {"name": "b", "servers": 1, "service": {"dist": "deterministic", "value": 2}},
        ],
    }
    m = one_run(spec)
    assert m["system"]["arrivals"] == 2
    assert m["a"]["arrivals"] == 2 and m["b"]["arrivals"] == 2
    assert m["system"]["mean_sojourn"] == pytest.approx(3.0)
    assert m["system"]["mean_service"] == pytest.approx(3.0)  # summed over the route
    assert m["a"]["mean_service"] == pytest.approx(1.0)


def test_probabilistic_routing_follows_the_probabilities():
    res = simlib.run(SCENARIOS / "value_chain.yaml", replications=4, seed=1)
    service = replication_values(res, "service", "arrivals").sum()
    recovery = replication_values(res, "recovery", "arrivals").sum()
    # Visits to service: 1 / (1 - 0.1 * 0.7) per customer; to recovery 10% of those.
    assert recovery / service == pytest.approx(0.1, abs=0.01)
    contact = replication_values(res, "contact", "arrivals").sum()
    assert service / contact == pytest.approx(1 / (1 - 0.07), abs=0.02)


def test_per_class_service_times():
    spec = single_station(rate=0.2, horizon=5_000, servers=2)
    spec["classes"].append({"name": "d", "arrivals": {"rate": 0.2}})
    spec["stations"][0]["service"] = {
        "c": {"dist": "deterministic", "value": 1.0},
        "d": {"dist": "gamma", "mean": 4.0, "cv": 0.5},
    }
    m = one_run(spec)
    assert m["c"]["mean_service"] == pytest.approx(1.0)
    assert m["d"]["mean_service"] == pytest.approx(4.0, rel=0.05)


def test_profile_arrivals_follow_the_rates():
    # Rates 1 and 3 per time unit, period 50, cycling over a horizon of 1000: mean 2.
    spec = single_station(horizon=1_000, warmup=50, servers=10)
    spec["classes"][0]["arrivals"] = {"profile": {"period": 50, "rates": [1.0, 3.0]}}
    res = simlib.run(spec, replications=20, seed=4)
    arrivals = replication_values(res, "system", "arrivals")
    half = 2.86 * arrivals.std(ddof=1) / math.sqrt(len(arrivals))  # 99% t-interval
    assert abs(arrivals.mean() - 2_000) < half


def test_more_staff_means_less_waiting():
    waits = []
    for servers in (14, 15, 16):
        res = simlib.run(simlib.load_scenario(SCENARIOS / "call_centre.yaml")
                         .with_overrides({"stations.agents.servers": servers}), replications=5, seed=8)
        waits.append(replication_values(res, "agents", "mean_wait"))
    # Common random numbers: the ordering holds replication by replication.
    assert np.all(waits[0] > waits[1]) and np.all(waits[1] > waits[2])


def test_same_seed_same_results_different_seed_different_results():
    a = simlib.run(SCENARIOS / "bank_branch_day.yaml", replications=3, seed=42).summary()
    b = simlib.run(SCENARIOS / "bank_branch_day.yaml", replications=3, seed=42).summary()
    c = simlib.run(SCENARIOS / "bank_branch_day.yaml", replications=3, seed=43).summary()
    assert a.equals(b)
    assert not a["mean"].equals(c["mean"])


def test_replication_table_is_tidy():
    res = simlib.run(SCENARIOS / "call_centre.yaml", replications=3, seed=1)
    table = res.replications()
    assert list(table.columns) == ["replication", "scope", "metric", "value"]
    assert set(table.replication) == {0, 1, 2}
    summary = res.summary()
    assert list(summary.columns) == ["scope", "metric", "mean", "std", "ci_low", "ci_high", "n", "method"]
    row = summary[(summary.scope == "agents") & (summary.metric == "mean_wait")].iloc[0]
    values = table[(table.scope == "agents") & (table.metric == "mean_wait")].value
    assert row["mean"] == pytest.approx(values.mean())
    assert row["ci_low"] < row["mean"] < row["ci_high"] and row["n"] == 3


def test_overloaded_systems_are_drained_or_censored_without_hanging():
    # rho = 1.5 with no abandonment: counted customers still finish in the drain.
    res = simlib.run(single_station(rate=1.5, horizon=200, warmup=0), replications=2, seed=1)
    assert np.all(replication_values(res, "s", "utilization") > 0.95)
    assert np.all(replication_values(res, "s", "mean_wait") > 20)


def test_a_nearly_empty_profile_does_not_stall_the_clock():
    # One arrival per billion time units on average: whole cycles are skipped at once.
    spec = single_station(horizon=1_000, warmup=0)
    spec["classes"][0]["arrivals"] = {"profile": {"period": 1, "rates": [0.0, 1e-9]}}
    res = simlib.run(spec, replications=2, seed=1, progress=False)
    assert np.all(replication_values(res, "system", "arrivals") == 0)


def test_a_warmup_customer_still_in_service_keeps_the_server_busy(tmp_csv):
    # Arrives in the warm-up (t = -95) for a 200-unit service: busy over the whole 10-unit window.
    path = tmp_csv("t.csv", "time\n-95\n")
    spec = single_station(service={"dist": "deterministic", "value": 200}, horizon=10, warmup=100)
    spec["classes"][0]["arrivals"] = {"trace": str(path)}
    m = one_run(spec)["s"]
    assert m["utilization"] == pytest.approx(1.0)
    assert m["mean_in_system"] == pytest.approx(1.0)


def test_customers_left_waiting_at_closing_are_censored_not_dropped(caplog):
    # Two servers for 50 time units, then none: whoever is still waiting is censored.
    spec = single_station(rate=3.0, horizon=100, warmup=0)
    del spec["stations"][0]["servers"]
    spec["stations"][0]["shifts"] = [{"start": 0, "end": 50, "servers": 2},
                                     {"start": 50, "end": 100, "servers": 0}]
    with caplog.at_level("WARNING", logger="simlib"):
        first = simulate(simlib.load_scenario(spec), 7, 0)
    assert "censored" in caplog.text
    m = first.metrics["s"]
    # Over half the arrivals never get served: they count as waiting until the drain limit.
    assert m["p_wait"] > 0.5
    assert m["mean_wait"] > 40
    # Sums over the customers still present are reproducible.
    again = [simulate(simlib.load_scenario(spec), 7, 0).metrics for _ in range(3)]
    assert all(a == first.metrics for a in again)
