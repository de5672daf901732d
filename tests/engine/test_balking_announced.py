"""Balking by the announced wait (``balking: {announced_waits, join, handle_time}``).

An arrival who finds every server busy and ``q`` waiting is announced the wait
``(q + 1) * handle_time / servers on duty`` and joins with the probability listed for that
wait. With constant servers that is a step function of ``q``, so the model is the balking
M/M/c birth-death chain: its stationary distribution (numpy, truncated state space) gives the
mean number present and, by PASTA, the balking probability (``p_blocked``), checked with
``support.assert_oracle`` (theory inside the 99% interval; a 3% bias detected with probability
>= 0.9). The sample path is also the same, seed for seed, as the equivalent queue-length
balking, and the announcement follows the servers on duty.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from support import assert_oracle, known_controls, replication_values, single_station

import simlib
from simlib.engine.network import ServiceNetwork
from simlib.spec.behaviour import parse_balking
from simlib.spec.scenario import from_dict

RATE, SERVERS = 1.9, 2
ANNOUNCED = {"announced_waits": [0, 1, 2], "join": [0.9, 0.6, 0.3], "handle_time": 1.0}
# (q + 1) / 2 reaches 1 at q = 1 and 2 at q = 3
BY_LENGTH = {"queue_lengths": [0, 1, 3], "join": [0.9, 0.6, 0.3]}


def balking_chain(join, states: int = 200) -> np.ndarray:
    """Stationary distribution of the number present: births lambda below c, lambda join(n - c)
    from c on; deaths min(n, c) mu."""
    q = np.zeros((states, states))
    for n in range(states - 1):
        q[n, n + 1] = RATE * (1.0 if n < SERVERS else join(n - SERVERS))
        q[n + 1, n] = min(n + 1, SERVERS)
    np.fill_diagonal(q, -q.sum(axis=1))
    a = q.T.copy()
    a[-1] = 1.0
    b = np.zeros(states)
    b[-1] = 1.0
    return np.linalg.solve(a, b)


@pytest.mark.statistical
def test_mm2_with_announced_wait_balking_matches_the_birth_death_chain():
    """M/M/2, rate 1.9, mean service 1; 12 replications of 10 000. Power: a 3% bias in the
    mean number present or the balking probability is detected with probability >= 0.9
    (asserted by assert_oracle)."""
    spec = single_station(rate=RATE, servers=SERVERS, horizon=10_000.0, balking=ANNOUNCED)
    balking = parse_balking(ANNOUNCED, "b")

    def join(waiting: int) -> float:
        return balking.join_for_wait(balking.announced(waiting, SERVERS))

    pi = balking_chain(join)
    n = np.arange(len(pi))
    balk = float(sum(pi[k] * (1 - join(k - SERVERS)) for k in range(SERVERS, len(pi))))
    res = simlib.run(spec, replications=12, seed=43, progress=False)
    controls = known_controls(res, {("s", "arrivals"): RATE * 10_000.0, ("s", "mean_service"): 1.0})
    assert_oracle({"s.mean_in_system": (replication_values(res, "s", "mean_in_system"), float(n @ pi)),
                   "s.p_blocked": (replication_values(res, "s", "p_blocked"), balk)}, controls)


def test_same_sample_path_as_the_equivalent_queue_length_balking():
    by_wait = single_station(rate=RATE, servers=SERVERS, horizon=2_000.0, balking=ANNOUNCED)
    by_length = single_station(rate=RATE, servers=SERVERS, horizon=2_000.0, balking=BY_LENGTH)
    a = ServiceNetwork(from_dict(by_wait), 9, 0).run()
    assert a == ServiceNetwork(from_dict(by_length), 9, 0).run()
    assert a["s"]["p_blocked"] > 0.05


def test_the_announcement_uses_the_servers_on_duty():
    balking = parse_balking(ANNOUNCED, "b")
    station = SimpleNamespace(capacity=2)
    join = ServiceNetwork._announced_join(station, balking)
    assert [join(q) for q in range(4)] == [0.9, 0.6, 0.6, 0.3]
    station.capacity = 1  # one server left on duty: (q + 1) / 1
    assert [join(q) for q in range(3)] == [0.6, 0.3, 0.3]
    station.capacity = 0
    assert join(0) == 0.3
    assert balking.to_dict() == ANNOUNCED
