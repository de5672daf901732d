"""Word of mouth closes the value chain on the acquisition side (issue 14, item 4).

Satisfied customers bring referred new customers, dissatisfied ones deter
prospective new customers; under common random numbers better service (more
servers) means more referrals and more arrivals; without the block, or with
nobody talking, operations are those of the model without it (the numbers
of models without the block are pinned by the engine's other tests); and in a
simple case the expected number of arrivals equals the branching-process
value computed independently below.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from support import SCENARIOS, replication_values

import simlib
from simlib.engine.quality import poisson_count
from simlib.spec.validation import ScenarioError

BANK = SCENARIOS / "bank_value_chain.yaml"
WOM = {"referrals": 0.3, "negative_ratio": 2.0, "satisfied": 5.0, "dissatisfied": 4.0,
       "delay": {"dist": "exponential", "mean": 240}}


def bank(wom: dict | None = None, servers: int = 7) -> dict:
    data = simlib.load_scenario(BANK).to_dict()
    del data["retention"]
    data["stations"][1]["servers"] = servers
    if wom is not None:
        data["word_of_mouth"] = wom
    return data


def run(data: dict, replications: int = 3, seed: int = 5) -> simlib.Results:
    return simlib.run(simlib.load_scenario(data), replications=replications, seed=seed, progress=False)


def test_better_service_brings_more_referrals_and_more_arrivals():
    lean, rich = run(bank(WOM, servers=3)), run(bank(WOM, servers=8))
    for metric in ("referred", "arrivals"):
        assert np.all(replication_values(rich, "system", metric) > replication_values(lean, "system", metric)), metric
    assert np.all(replication_values(lean, "system", "deterred") > replication_values(rich, "system", "deterred"))


def test_without_the_block_or_with_nobody_talking_the_numbers_are_unchanged():
    plain = run(bank())
    silent = run(bank({**WOM, "referrals": 0.0}))
    # Operations are untouched (warm-up customers are now evaluated too, so the experience
    # noise is drawn in another order: perceptions may differ by noise, operations may not).
    for metric in ("arrivals", "mean_wait", "p_abandon", "throughput", "utilization"):
        assert np.array_equal(replication_values(plain, "system", metric),
                              replication_values(silent, "system", metric)), metric
    assert "referred" not in plain.runs[0]["system"]
    for metric in ("referred", "deterred"):
        assert np.all(replication_values(silent, "system", metric) == 0)


def expected_arrivals(rate: float, horizon: float, m: float, service: float, delay: float) -> float:
    """E[new customers in [0, T)]: each customer (spontaneous or referred) brings Poisson(m)
    referrals a fixed service time plus an exponential delay after they arrive, so generation
    n of a spontaneous arrival at u lands by T with P(n·service + Gamma(n, delay) <= T - u)."""
    total = rate * horizon
    grid = np.linspace(0.0, horizon, 4001)
    for n in range(1, 60):
        slack = horizon - grid - n * service
        cdf = np.where(slack > 0, stats.gamma.cdf(np.maximum(slack, 0), a=n, scale=delay), 0.0)
        total += rate * m**n * np.trapezoid(cdf, grid)
    return float(total)


def test_expected_referred_arrivals_match_the_branching_process():
    rate, horizon, m, service, delay = 0.5, 1000.0, 0.4, 1.0, 50.0
    data = {
        "name": "wom-check", "horizon": horizon, "warmup": 0,
        "classes": [{"name": "c", "arrivals": {"rate": rate}}],
        "stations": [{"name": "s", "servers": 100, "service": {"dist": "deterministic", "value": service}}],
        "quality": {"expectations": {"expected_wait": 2}},
        # Everyone is satisfied (satisfaction >= 1 always), nobody is dissatisfied.
        "word_of_mouth": {"referrals": m, "satisfied": 1.0, "dissatisfied": 1.0,
                          "delay": {"dist": "exponential", "mean": delay}},
    }
    res = run(data, replications=40, seed=11)
    arrivals = replication_values(res, "system", "arrivals")
    expected = expected_arrivals(rate, horizon, m, service, delay)
    se = arrivals.std(ddof=1) / math.sqrt(len(arrivals))
    # Power: the referred share (expected - rate*T, ~ 290) is > 20 standard errors (~ 6).
    assert expected - rate * horizon > 20 * se
    assert abs(arrivals.mean() - expected) < 3.5 * se, (arrivals.mean(), expected, se)
    referred = replication_values(res, "system", "referred")
    assert np.array_equal(arrivals - referred, arrivals - referred.astype(int))


def test_poisson_inversion():
    u = np.random.default_rng(1).random(20000)
    draws = np.array([poisson_count(x, 0.7) for x in u])
    assert abs(draws.mean() - 0.7) < 0.03 and abs(draws.var() - 0.7) < 0.04
    assert poisson_count(0.0, 0.0) == 0


@pytest.mark.parametrize("edit, key", [
    ({"referrals": 1.0}, "word_of_mouth.referrals"),
    ({"satisfied": 3.0, "dissatisfied": 4.0}, "word_of_mouth.dissatisfied"),
    ({"bogus": 1}, "word_of_mouth"),
])
def test_bad_blocks_are_refused(edit, key):
    with pytest.raises(ScenarioError, match=key.replace(".", r"\.")):
        simlib.load_scenario(bank({**WOM, **edit}))
    data = bank(WOM)
    del data["quality"]
    with pytest.raises(ScenarioError, match="word_of_mouth"):
        simlib.load_scenario(data)
