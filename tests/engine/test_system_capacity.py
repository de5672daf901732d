"""System capacity (top-level ``system_capacity``): the M/M/c/K queue, and a network against Ciw.

On one station a limit of ``K`` customers present is the M/M/c/K queue: the exact oracle
``simlib.theory.queueing.mmck`` is checked with ``support.assert_oracle`` (theory inside the
99% interval; a 3% bias detected with probability >= 0.9), and the sample path equals that of
``queue_capacity: K - c`` seed for seed. On two stations with feedback-free routing the limit
counts customers anywhere in the network; Ciw's ``system_capacity`` is the peer
(``support.assert_peer_agreement``: Holm-corrected Welch tests, a 10% difference detected with
probability >= 0.9).
"""

from __future__ import annotations

import ciw
import numpy as np
import pytest
from ciw_peer import ciw_records, customer_metrics, station_metrics
from support import (
    assert_oracle,
    assert_peer_agreement,
    known_controls,
    oracle_samples,
    replication_values,
    single_station,
)

import simlib
from simlib.engine.network import RunawayError, ServiceNetwork
from simlib.spec.scenario import from_dict
from simlib.theory import queueing


@pytest.mark.statistical
def test_one_station_is_the_mmck_queue():
    """M/M/2 with at most 5 present, load 2 (so 15% are blocked), 20 replications of 5 000.
    Power: a 3% bias in any checked metric is detected with probability >= 0.9 (asserted)."""
    horizon = 5_000
    spec = single_station(rate=2.0, servers=2, horizon=horizon, warmup=200)
    spec["system_capacity"] = 5
    res = simlib.run(spec, replications=20, seed=7, progress=False)
    theory = queueing.mmck(2.0, 1.0, 2, 5)
    controls = known_controls(res, {("s", "arrivals"): 2.0 * horizon, ("s", "mean_service"): 1.0})
    assert_oracle(oracle_samples(res, "s", theory, ("p_blocked", "mean_queue", "mean_in_system",
                                                    "throughput", "mean_wait")), controls)
    # the refused customers count for their class and the system as for the station
    for scope in ("c", "system"):
        assert np.array_equal(replication_values(res, scope, "p_blocked"),
                              replication_values(res, "s", "p_blocked"))


def test_one_station_follows_the_queue_capacity_sample_path():
    """Refusing at K present draws the same numbers as a full queue of K - c: identical runs."""
    limited = single_station(rate=2.0, servers=2, horizon=500.0, warmup=20.0)
    limited["system_capacity"] = 5
    queue = single_station(rate=2.0, servers=2, horizon=500.0, warmup=20.0, queue_capacity=3)
    a = ServiceNetwork(from_dict(limited), 3, 0).run()
    b = ServiceNetwork(from_dict(queue), 3, 0).run()
    assert a == b
    assert a["s"]["p_blocked"] > 0.05


def test_without_the_key_nothing_changes_and_a_large_limit_is_no_limit():
    base = single_station(rate=0.8, horizon=1_000.0)
    wide = {**base, "system_capacity": 10_000}
    assert ServiceNetwork(from_dict(base), 1, 0).run() == ServiceNetwork(from_dict(wide), 1, 0).run()


def test_a_limit_at_or_above_max_customers_still_stops_a_runaway():
    spec = single_station(rate=2.0, horizon=1_000.0)
    spec["system_capacity"] = 50
    with pytest.raises(RunawayError):
        ServiceNetwork(from_dict(spec), 1, 0, max_customers=50).run()
    spec["system_capacity"] = 49
    assert ServiceNetwork(from_dict(spec), 1, 0, max_customers=50).run()["s"]["p_blocked"] > 0.4


# --------------------------------------------------------------------------- against Ciw

RATE, WARMUP, HORIZON, DRAIN = 1.6, 50.0, 500.0, 60.0


def network_spec() -> dict:
    """Front desk (2 servers, mean 1) sends half its customers on to a back office (1 server,
    mean 0.8); at most 6 customers in the whole system."""
    return {
        "name": "capped", "horizon": HORIZON, "warmup": WARMUP, "system_capacity": 6,
        "classes": [{"name": "c", "arrivals": {"rate": RATE}}],
        "stations": [
            {"name": "front", "servers": 2, "service": {"dist": "exponential", "mean": 1.0}},
            {"name": "back", "servers": 1, "service": {"dist": "exponential", "mean": 0.8}},
        ],
        "routing": {"front": {"back": 0.5, "exit": 0.5}},
    }


def ciw_network():
    return ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(RATE), None],
        service_distributions=[ciw.dists.Exponential(1.0), ciw.dists.Exponential(1.25)],
        number_of_servers=[2, 1], routing=[[0.0, 0.5], [0.0, 0.0]], system_capacity=6,
    )


@pytest.mark.statistical
def test_two_stations_against_ciw():
    """400 simlib and 100 Ciw replications of 500 time units (about 20% refused). Power: a
    relative difference of 10% in any one metric is detected with probability >= 0.9
    (asserted by assert_peer_agreement; the back office's wait is the widest)."""
    res = simlib.run(network_spec(), replications=400, seed=11, progress=False)
    peer_runs = []
    for r in range(100):
        records = ciw_records(ciw_network(), 5_000 + r, WARMUP + HORIZON + DRAIN)
        customers = customer_metrics(records, WARMUP, HORIZON)["system"]
        front = station_metrics(records, 1, WARMUP, HORIZON)
        back = station_metrics(records, 2, WARMUP, HORIZON)
        peer_runs.append({
            "system.p_blocked": customers["p_blocked"], "system.mean_wait": customers["mean_wait"],
            "system.mean_sojourn": customers["mean_sojourn"], "front.p_blocked": front["p_blocked"],
            "front.mean_wait": front["mean_wait"], "back.mean_wait": back["mean_wait"],
        })
    peer = {label: np.array([run[label] for run in peer_runs]) for label in peer_runs[0]}
    ours = {label: replication_values(res, *label.split(".")) for label in peer}
    assert_peer_agreement(ours, peer)
