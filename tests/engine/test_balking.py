"""Balking (station key ``balking``) against M/M/1 with balking as a birth-death chain.

A customer who finds ``q`` waiting joins with probability ``b(q)`` (one who finds the server
free always joins), so the number present is a birth-death chain with birth rates
``lambda`` in state 0 and ``lambda b(n - 1)`` in state ``n >= 1`` and death rate ``mu``; its
stationary distribution, solved here with numpy on a truncated state space, gives the mean
number present and (by PASTA) the probability of balking, which the engine reports as
``p_blocked``. Both are checked with ``support.assert_oracle`` (the theory inside the 99%
interval, and a 3% bias in either detected with probability >= 0.9).
"""

from __future__ import annotations

import numpy as np
import pytest
from support import assert_oracle, known_controls, replication_values, single_station

import simlib
from simlib.spec.behaviour import parse_balking
from simlib.spec.validation import ScenarioError

RATE = 0.9
BALKING = {"queue_lengths": [0, 1, 2, 4], "join": [0.9, 0.7, 0.5, 0.2]}


def birth_death(rate: float, mu: float, join, states: int = 400) -> np.ndarray:
    """The stationary distribution of the truncated chain, from the generator's null space."""
    births = np.array([rate] + [rate * join(n - 1) for n in range(1, states)])
    q = np.zeros((states, states))
    for n in range(states - 1):
        q[n, n + 1] = births[n]
        q[n + 1, n] = mu
    np.fill_diagonal(q, -q.sum(axis=1))
    # pi Q = 0 with sum(pi) = 1: least squares on the stacked system
    a = np.vstack([q.T, np.ones(states)])
    b = np.zeros(states + 1)
    b[-1] = 1.0
    return np.linalg.lstsq(a, b, rcond=None)[0]


@pytest.mark.statistical
def test_mm1_with_balking_matches_the_birth_death_chain():
    """M/M/1 with rate 0.9 and mean service 1, 12 replications of
    10 000 time units. Power: a 3% bias in the mean number present or the balking
    probability is detected with probability >= 0.9 (asserted by assert_oracle)."""
    spec = single_station(rate=RATE, horizon=10_000.0, balking=BALKING)
    scenario = simlib.load_scenario(spec)
    join = scenario.stations[0].balking.join_probability
    pi = birth_death(RATE, 1.0, join)
    n = np.arange(len(pi))
    in_system = float(n @ pi)
    balk = float(sum(pi[k] * (1 - join(k - 1)) for k in range(1, len(pi))))
    res = simlib.run(scenario, replications=12, seed=41)
    controls = known_controls(res, {("s", "arrivals"): RATE * 10_000.0,
                                    ("s", "mean_service"): 1.0})
    assert_oracle({"s.mean_in_system": (replication_values(res, "s", "mean_in_system"), in_system),
                   "s.p_blocked": (replication_values(res, "s", "p_blocked"), balk)}, controls)


def test_join_probability_steps_by_the_number_waiting():
    b = parse_balking(BALKING, "b")
    assert [b.join_probability(q) for q in range(6)] == [0.9, 0.7, 0.5, 0.5, 0.2, 0.2]


def test_without_balking_the_numbers_are_unchanged_and_join_one_is_no_balking():
    plain = simlib.run(single_station(horizon=2_000.0), replications=2, seed=5)
    always = simlib.run(single_station(horizon=2_000.0,
                                       balking={"queue_lengths": [0], "join": [1.0]}),
                        replications=2, seed=5)
    assert [r["s"] for r in plain.runs] == [r["s"] for r in always.runs]


@pytest.mark.parametrize("balking, message", [
    ({"queue_lengths": [1], "join": [0.5]}, "stations[0].balking.queue_lengths[0]: must be 0"),
    ({"queue_lengths": [0, 0], "join": [0.5, 0.5]}, "stations[0].balking.queue_lengths[1]: must be larger"),
    ({"queue_lengths": [0, 2], "join": [0.5]}, "stations[0].balking.join: must be a list of 2"),
    ({"queue_lengths": [0], "join": [1.5]}, "stations[0].balking.join[0]: must be a probability"),
    ({"queue_lengths": [0]}, "stations[0].balking"),
    ({"queue_lengths": [0], "join": [1], "x": 1}, "stations[0].balking"),
])
def test_bad_balking_is_refused_with_its_path(balking, message):
    with pytest.raises(ScenarioError) as err:
        simlib.load_scenario(single_station(balking=balking))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_balking_with_infinite_servers_is_refused():
    with pytest.raises(ScenarioError, match=r"stations\[0\]\.balking: not allowed"):
        simlib.load_scenario(single_station(servers="inf", balking=BALKING))
