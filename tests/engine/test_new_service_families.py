"""The new service families in the engine: M/G/1 against Pollaczek-Khinchine.

For each of the Weibull, hyperexponential, Coxian, mixture and survival families, an M/G/1
queue at utilisation 0.5 is simulated and its mean time in system and mean number present
checked against ``queueing.mg1`` with the family's own mean and cv (``support.assert_oracle``:
the theory inside the 99% interval, made narrower by the control variates of the arrival
count and the mean service time, and a 3% bias in either metric detected with probability
>= 0.9). Pollaczek-Khinchine's mean wait is about half the time in system here, so a 3% bias
there is a bias of about 6% in the wait: checking the wait itself at 3% would need three
times the replications (half-widths of 2.5-3.7% with these), more than a quick test affords.
"""

from __future__ import annotations

import pytest
from support import assert_oracle, known_controls, oracle_samples, single_station

import simlib
from simlib.spec.distributions import parse_distribution
from simlib.theory import queueing

pytestmark = pytest.mark.statistical

FAMILIES = {
    "weibull": {"dist": "weibull", "mean": 1.0, "cv": 0.7},
    "hyperexponential": {"dist": "hyperexponential", "probabilities": [0.8, 0.2],
                         "means": [0.75, 2.0]},
    "coxian": {"dist": "coxian", "rates": [2.0, 1.0], "continue": [0.5]},
    "mixture": {"dist": "mixture", "components": [
        {"weight": 0.5, "dist": "deterministic", "value": 0.5},
        {"weight": 0.5, "dist": "gamma", "mean": 1.5, "cv": 0.5}]},
    "survival": {"dist": "survival", "times": [0.5, 1.0, 2.0], "survival": [0.7, 0.4, 0.1],
                 "tail_mean": 1.0},
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_mg1_with_each_new_service_family(family):
    """M/G/1 at utilisation 0.5, 24 replications of 10 000 (1 + scv) mean service times. Power:
    a 3% bias in the mean time in system or the mean number present is detected with
    probability >= 0.9 (asserted by assert_oracle; half-widths 1.2-1.9%, 2.1% needed)."""
    service = parse_distribution(FAMILIES[family], "service")
    rate = 0.5 / service.mean
    # the variance of the time averages grows with the service scv: the horizon with it
    horizon = 10_000 * service.mean * (1 + service.scv)
    spec = single_station(rate=rate, service=FAMILIES[family], horizon=horizon,
                          warmup=500 * service.mean)
    res = simlib.run(spec, replications=24, seed=17)
    theory = queueing.mg1(rate, service.mean, service.cv)
    controls = known_controls(res, {("s", "arrivals"): rate * horizon,
                                    ("s", "mean_service"): service.mean})
    assert_oracle(oracle_samples(res, "s", theory, ("mean_sojourn", "mean_in_system")), controls)

