"""Batch arrivals (``arrivals: {rate, batch: {values, probabilities}}``) against M^X/M/1.

Batches arrive as a Poisson process with rate ``lambda``, sizes ``X``; one exponential
server with rate ``mu``, ``rho = lambda E[X] / mu``. The mean number present is
``rho (E[X] + E[X^2]) / (2 E[X] (1 - rho))`` (Gross & Harris, Fundamentals of Queueing
Theory, section 3.3; ``X = 1`` gives M/M/1). It is checked with ``support.assert_oracle``
(the theory inside the 99% interval, narrowed by the control variates of the arrival count and mean
service time, and a 3% bias detected with probability >= 0.9).
"""

from __future__ import annotations

import pytest
from support import assert_oracle, known_controls, replication_values, single_station

import simlib
from simlib.spec.validation import ScenarioError

BATCH = {"values": [1, 2, 4], "probabilities": [0.5, 0.3, 0.2]}
RATE, HORIZON = 0.2, 40_000.0


def batched(**kw) -> dict:
    spec = single_station(horizon=HORIZON, **kw)
    spec["classes"][0]["arrivals"] = {"rate": RATE, "batch": BATCH}
    return spec


@pytest.mark.statistical
def test_mxm1_mean_number_present():
    """M^X/M/1 at utilisation 0.38, 16 replications of 40 000 time units. Power: a 3% bias in
    the mean number present is detected with probability >= 0.9 (asserted by assert_oracle)."""
    scenario = simlib.load_scenario(batched())
    size = scenario.classes[0].arrivals.batch
    ex, ex2 = size.mean, size.second_moment
    rho = RATE * ex
    theory = rho * (ex + ex2) / (2 * ex * (1 - rho))
    res = simlib.run(scenario, replications=16, seed=53)
    controls = known_controls(res, {("s", "arrivals"): RATE * ex * HORIZON,
                                    ("s", "mean_service"): 1.0})
    assert_oracle({"s.mean_in_system": (replication_values(res, "s", "mean_in_system"), theory)},
                  controls)
    assert scenario.classes[0].arrivals.mean_rate(HORIZON) == pytest.approx(RATE * ex)


def test_batches_of_one_are_the_poisson_process():
    plain = simlib.run(single_station(rate=RATE, horizon=2_000.0), replications=2, seed=5)
    spec = single_station(rate=RATE, horizon=2_000.0)
    spec["classes"][0]["arrivals"]["batch"] = {"values": [1], "probabilities": [1.0]}
    ones = simlib.run(spec, replications=2, seed=5)
    assert [r["s"] for r in plain.runs] == [r["s"] for r in ones.runs]


@pytest.mark.parametrize("arrivals, message", [
    ({"rate": 1, "batch": {"values": [0], "probabilities": [1]}},
     "classes[0].arrivals.batch.values[0]: must be an integer >= 1"),
    ({"rate": 1, "batch": {"values": [1, 2], "probabilities": [0.5, 0.4]}},
     "classes[0].arrivals.batch.probabilities: must sum to 1"),
    ({"rate": 1, "batch": {"values": [1, 2], "probabilities": [1]}},
     "classes[0].arrivals.batch.probabilities: must be a list of 2"),
    ({"interarrival": {"dist": "exponential", "mean": 1},
      "batch": {"values": [1], "probabilities": [1]}},
     "classes[0].arrivals.batch: is allowed only with rate"),
])
def test_bad_batch_is_refused_with_its_path(arrivals, message):
    spec = single_station()
    spec["classes"][0]["arrivals"] = arrivals
    with pytest.raises(ScenarioError) as err:
        simlib.load_scenario(spec)
    assert message in str(err.value) and "\n" not in str(err.value)
