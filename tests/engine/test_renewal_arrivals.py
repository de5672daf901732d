"""Renewal arrivals (``arrivals: {interarrival: ...}``) against the GI/M/1 queue.

An Erlang-2 and a deterministic inter-arrival time feed one exponential server at
utilisation 0.7; the mean time in system and the mean number present are checked against
``queueing.gim1`` with the gap's Laplace transform (``support.assert_oracle``: the theory
inside the 99% interval, narrowed by the control variates of the mean service time, and a
3% bias in either metric detected with probability >= 0.9). The validation errors and the
unchanged Poisson numbers are checked too.
"""

from __future__ import annotations

import math

import pytest
from support import assert_oracle, known_controls, oracle_samples, single_station

import simlib
from simlib.spec.validation import ScenarioError
from simlib.theory import queueing

RATE = 0.7

# gap, its Laplace transform, replications (the deterministic case varies less)
GAPS = {
    "erlang2": ({"dist": "erlang", "mean": 1 / RATE, "k": 2},
                lambda s: (2 * RATE / (2 * RATE + s)) ** 2, 30),
    "deterministic": ({"dist": "deterministic", "value": 1 / RATE},
                      lambda s: math.exp(-s / RATE), 14),
}


def renewal(gap: dict, **kw) -> dict:
    spec = single_station(**kw)
    spec["classes"][0]["arrivals"] = {"interarrival": gap}
    return spec


@pytest.mark.statistical
@pytest.mark.parametrize("name", list(GAPS))
def test_gim1_with_renewal_arrivals(name):
    """GI/M/1 at utilisation 0.7, 30 (14) replications of 20 000 time units. Power: a 3% bias in
    the mean time in system or the mean number present is detected with probability >= 0.9
    (asserted by assert_oracle)."""
    gap, laplace, replications = GAPS[name]
    res = simlib.run(renewal(gap, horizon=20_000.0), replications=replications, seed=23)
    theory = queueing.gim1(RATE, 1.0, laplace)
    controls = known_controls(res, {("s", "mean_service"): 1.0})
    assert_oracle(oracle_samples(res, "s", theory, ("mean_sojourn", "mean_in_system")), controls)


def test_exponential_gaps_are_the_poisson_process_and_rate_is_unchanged():
    """``interarrival: exponential`` consumes the arrival stream as ``rate`` does: same numbers."""
    poisson = simlib.run(single_station(horizon=2_000.0), replications=2, seed=5)
    gaps = simlib.run(renewal({"dist": "exponential", "mean": 1 / 0.8}, horizon=2_000.0),
                      replications=2, seed=5)
    assert [r["s"] for r in poisson.runs] == [r["s"] for r in gaps.runs]


@pytest.mark.parametrize("arrivals, message", [
    ({"interarrival": {"dist": "nope"}}, "classes[0].arrivals.interarrival"),
    ({"interarrival": {"dist": "deterministic", "value": 0}}, "classes[0].arrivals.interarrival"),
    ({"interarrival": {"dist": "exponential", "mean": 1}, "rate": 1},
     "classes[0].arrivals: give exactly one of rate, profile, trace, interarrival"),
])
def test_bad_interarrival_is_refused_with_its_path(arrivals, message):
    spec = single_station()
    spec["classes"][0]["arrivals"] = arrivals
    with pytest.raises(ScenarioError) as err:
        simlib.load_scenario(spec)
    assert message in str(err.value) and "\n" not in str(err.value)
