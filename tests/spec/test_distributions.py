"""Distributions know their moments, and sampling matches them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simlib.engine.rng import BLOCK, BlockSampler, StreamFactory
from simlib.spec.distributions import (
    Deterministic,
    Empirical,
    Erlang,
    Exponential,
    Gamma,
    Lognormal,
    Triangular,
    Uniform,
)
from simlib.spec.scenario import parse_distribution

CASES = [
    (Exponential(2.0), 2.0, 4.0),
    (Deterministic(1.5), 1.5, 0.0),
    (Erlang(3.0, 3), 3.0, 3.0),
    (Gamma(2.0, 0.5), 2.0, 1.0),
    (Lognormal(3.0, 1.0), 3.0, 9.0),
    (Uniform(1.0, 3.0), 2.0, 1 / 3),
    (Triangular(1.0, 2.0, 6.0), 3.0, (1 + 36 + 4 - 6 - 2 - 12) / 18),
    (Empirical((1.0, 2.0, 6.0)), 3.0, 14 / 3),
]


@pytest.mark.parametrize("dist, mean, variance", CASES, ids=lambda c: getattr(c, "name", ""))
def test_declared_moments(dist, mean, variance):
    assert dist.mean == pytest.approx(mean)
    assert dist.variance == pytest.approx(variance)
    assert dist.cv == pytest.approx(math.sqrt(variance) / mean)  # every case has a positive mean


@pytest.mark.parametrize("dist, mean, variance", CASES, ids=lambda c: getattr(c, "name", ""))
def test_samples_match_declared_moments(dist, mean, variance):
    x = dist.sample(np.random.default_rng(12345), 400_000)
    assert np.all(x >= 0)
    # 99.9% normal band for the sample mean; the variance gets a loose relative check.
    assert abs(x.mean() - mean) <= 3.3 * math.sqrt(variance / x.size) + 1e-12
    assert x.var() == pytest.approx(variance, rel=0.05, abs=1e-12)


@pytest.mark.parametrize("dist, mean, variance", CASES, ids=lambda c: getattr(c, "name", ""))
def test_scenario_form_round_trips(dist, mean, variance):
    assert parse_distribution(dist.to_dict(), "x") == dist


def test_block_sampler_yields_the_stream_in_draw_order():
    rng_a = StreamFactory(7, 3).generator("service", "desk")
    rng_b = StreamFactory(7, 3).generator("service", "desk")
    sampler = BlockSampler(Exponential(1.0), rng_a)
    drawn = [sampler.next() for _ in range(BLOCK + 10)]
    expected = Exponential(1.0).sample(rng_b, BLOCK).tolist() + Exponential(1.0).sample(rng_b, BLOCK)[:10].tolist()
    assert drawn == expected


def test_streams_are_independent_by_name_and_replication():
    f = StreamFactory(7, 0)
    a = f.generator("arrivals", "x").random(5)
    assert not np.allclose(a, f.generator("arrivals", "y").random(5))
    assert not np.allclose(a, f.generator("service", "x").random(5))
    assert not np.allclose(a, StreamFactory(7, 1).generator("arrivals", "x").random(5))
    assert np.array_equal(a, StreamFactory(7, 0).generator("arrivals", "x").random(5))
