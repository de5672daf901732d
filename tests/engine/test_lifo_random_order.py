"""LIFO and random order of service (``discipline: lifo | random``) against M/M/1 theory.

Both are work-conserving and non-preemptive, so the mean wait in M/M/1 is FIFO's,
``rho / (mu - lambda)``, while the spread differs: with ``E[W^2]`` FIFO's second moment
``2 rho / (mu - lambda)^2``, LIFO's is ``E[W^2] / (1 - rho)`` and random order's
``2 E[W^2] / (2 - rho)`` (Kleinrock, Queueing Systems I, 1975; Kingman 1962), so
FIFO < random < LIFO. Each discipline runs on the same seeds as FIFO; the FIFO run's mean
wait, whose expectation is the M/M/1 value, serves as control
variates with the arrival count and mean service time (``support.assert_oracle``: the
theory inside the 99% interval, and a 3% bias detected with probability >= 0.9) for the
mean wait. The second moment is too noisy for that power in a quick test (+-11% with these
runs): it is checked by its ordering in every replication (paired on common random
numbers) and by the pooled ratio to FIFO's within 10% of the theory's. FIFO's M/M/1 moments are the engine's validated baseline (tests/engine/test_engine.py
and the M/M/1 oracle tests); alone, 12 replications would not give that power.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from support import assert_oracle, single_station

from simlib.engine.network import ServiceNetwork
from simlib.spec.scenario import Scenario, load_scenario
from simlib.spec.validation import ScenarioError

RATE, HORIZON, WARMUP, REPS = 0.5, 20_000.0, 500.0, 12
RHO = RATE
MEAN = RHO / (1 - RATE)
SECOND_FIFO = 2 * RHO / (1 - RATE) ** 2
SECOND = {"fifo": SECOND_FIFO, "lifo": SECOND_FIFO / (1 - RHO),
          "random": 2 * SECOND_FIFO / (2 - RHO)}


def moments(scenario: Scenario, replication: int) -> tuple[float, float, float, float]:
    """Mean wait, mean squared wait, arrivals, mean service of the counted visits."""
    net = ServiceNetwork(scenario, 13, replication, record=True)
    out = net.run()
    assert net.visits is not None
    rows = np.array([(v[3], v[4]) for v in net.visits])
    counted = rows[(rows[:, 0] >= WARMUP) & (rows[:, 0] < WARMUP + HORIZON)]
    wait = counted[:, 1] - counted[:, 0]
    return float(wait.mean()), float((wait ** 2).mean()), out["s"]["arrivals"], out["s"]["mean_service"]


@cache
def runs(discipline: str) -> np.ndarray:
    scenario = load_scenario(single_station(rate=RATE, horizon=HORIZON, warmup=WARMUP,
                                            discipline=discipline))
    return np.array([moments(scenario, r) for r in range(REPS)])


@pytest.fixture
def fifo() -> np.ndarray:
    return runs("fifo")


def base_controls(values: np.ndarray) -> np.ndarray:
    return np.column_stack([values[:, 2] / (RATE * HORIZON) - 1, values[:, 3] - 1])


@pytest.mark.statistical
@pytest.mark.parametrize("discipline", ["lifo", "random"])
def test_same_mean_wait_larger_second_moment(fifo, discipline):
    """LIFO and random order on FIFO's seeds: M/M/1 at utilisation 0.5, 12 replications of
    20 000 time units. Power: a 3% bias in the mean wait is detected with probability >= 0.9
    (asserted by assert_oracle, with the FIFO controls)."""
    values = runs(discipline)
    controls = np.column_stack([base_controls(values), fifo[:, 0] / MEAN - 1])
    assert_oracle({f"{discipline}.mean_wait": (values[:, 0], MEAN)}, controls)
    # the spread, paired on common random numbers: larger than FIFO's in every replication,
    # and the pooled ratio near the theory's (2 for LIFO, 4/3 for random order at rho 0.5)
    assert np.all(values[:, 1] > fifo[:, 1])
    ratio = values[:, 1].sum() / fifo[:, 1].sum()
    assert abs(ratio / (SECOND[discipline] / SECOND_FIFO) - 1) < 0.1, ratio


@pytest.mark.statistical
def test_random_order_spreads_less_than_lifo():
    """FIFO < random < LIFO in the second moment of the wait, in every replication."""
    assert np.all(runs("random")[:, 1] < runs("lifo")[:, 1])


def test_bad_discipline_names_the_choices():
    with pytest.raises(ScenarioError) as err:
        load_scenario(single_station(discipline="lilo"))
    assert str(err.value) == ("stations[0].discipline: must be one of fifo, priority, credit, "
                              "lifo, random, preemptive, ps, got 'lilo'")
