"""Behaviour that lives on the distribution classes: parsing, moments, quantiles, edits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simlib.spec.distributions import (
    DISTRIBUTIONS,
    Deterministic,
    Empirical,
    Erlang,
    Exponential,
    Gamma,
    Lognormal,
    Triangular,
    Uniform,
    parse_distribution,
)
from simlib.spec.validation import ScenarioError

U = np.array([0.001, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999])

#: Each family with the scipy distribution of the same law, parameterised independently.
SCIPY = [
    (Exponential(2.0), stats.expon(scale=2.0)),
    (Erlang(3.0, 4), stats.erlang(4, scale=0.75)),
    (Gamma(2.0, 0.5), stats.gamma(a=4.0, scale=0.5)),
    (Lognormal(3.0, 1.0), stats.lognorm(s=math.sqrt(math.log(2.0)), scale=3.0 / math.sqrt(2.0))),
    (Uniform(1.0, 3.0), stats.uniform(loc=1.0, scale=2.0)),
    (Triangular(1.0, 2.0, 6.0), stats.triang(c=0.2, loc=1.0, scale=5.0)),
]


@pytest.mark.parametrize("dist, law", SCIPY, ids=lambda c: getattr(c, "name", ""))
def test_quantiles_match_scipy(dist, law):
    np.testing.assert_allclose(dist.quantile(U), law.ppf(U), rtol=1e-10)
    # The class's own moments agree with scipy's for the same law.
    mean, var = law.stats(moments="mv")
    assert dist.mean == pytest.approx(float(mean), rel=1e-12)
    assert dist.variance == pytest.approx(float(var), rel=1e-12)


def test_quantiles_of_constant_and_sample():
    np.testing.assert_array_equal(Deterministic(2.5).quantile(U), np.full(U.size, 2.5))
    np.testing.assert_array_equal(Triangular(2.0, 2.0, 2.0).quantile(U), np.full(U.size, 2.0))
    values = (1.0, 4.0, 2.0, 8.0)
    np.testing.assert_allclose(Empirical(values).quantile(U), np.quantile(values, U))


@pytest.mark.parametrize(
    "dist, scv",
    [
        (Exponential(2.0), 1.0),
        (Erlang(3.0, 4), 0.25),
        (Gamma(2.0, 0.5), 0.25),
        (Lognormal(3.0, 1.5), 2.25),
        (Deterministic(1.5), 0.0),
        (Uniform(1.0, 3.0), (2.0**2 / 12) / 2.0**2),
        (Empirical((1.0, 3.0)), 0.25),
    ],
    ids=lambda c: getattr(c, "name", ""),
)
def test_scv_closed_forms(dist, scv):
    assert dist.scv == pytest.approx(scv, rel=1e-12)
    assert dist.second_moment == pytest.approx(dist.mean**2 * (1 + scv), rel=1e-12)


def test_points_stand_for_the_distribution():
    assert Deterministic(3.0).points(50).tolist() == [3.0]
    assert Empirical((1.0, 2.0, 6.0)).points(50).tolist() == [1.0, 2.0, 6.0]
    big = Empirical(tuple(float(x) for x in range(1000)))
    np.testing.assert_allclose(big.points(10), np.quantile(big.values, (np.arange(10) + 0.5) / 10))
    pts = Gamma(2.0, 0.5).points(400)
    assert pts.size == 400 and pts.mean() == pytest.approx(2.0, rel=1e-2)


SPECS = [
    {"dist": "exponential", "mean": 3},
    {"dist": "deterministic", "value": 2.5},
    {"dist": "erlang", "mean": 3, "k": 4},
    {"dist": "gamma", "mean": 3, "cv": 0.5},
    {"dist": "lognormal", "mean": 3, "cv": 1.0},
    {"dist": "uniform", "low": 1, "high": 5},
    {"dist": "triangular", "low": 1, "mode": 2, "high": 6},
    {"dist": "empirical", "values": [1, 2, 6]},
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s["dist"])
def test_spec_round_trips_through_the_class(spec):
    dist = parse_distribution(spec, "service")
    assert type(dist) is DISTRIBUTIONS[spec["dist"]][0]
    assert dist.to_dict() == spec


def test_empirical_from_a_file_round_trips_its_source(tmp_path):
    (tmp_path / "t.csv").write_text("time\n1\n2\n6\n")
    dist = parse_distribution({"dist": "empirical", "file": "t.csv"}, "s", str(tmp_path))
    assert dist.values == (1.0, 2.0, 6.0)
    assert dist.to_dict() == {"dist": "empirical", "file": "t.csv", "column": "time"}


def test_parse_errors_name_the_key():
    with pytest.raises(ScenarioError, match=r"^s\.dist: unknown distribution 'beta'"):
        parse_distribution({"dist": "beta"}, "s")
    with pytest.raises(ScenarioError, match=r"^s\.k: must be a positive integer"):
        parse_distribution({"dist": "erlang", "mean": 1, "k": 0}, "s")
    with pytest.raises(ScenarioError, match=r"^s\.cv: must be between"):
        parse_distribution({"dist": "gamma", "mean": 1, "cv": 1e-5}, "s")
    with pytest.raises(ScenarioError, match=r"^s: empirical needs exactly one of values or file"):
        parse_distribution({"dist": "empirical"}, "s")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s["dist"])
def test_scaled_multiplies_every_duration(spec):
    dist = parse_distribution(spec, "s")
    scaled = dist.scaled(1.5)
    assert type(scaled) is type(dist)
    assert scaled.mean == pytest.approx(1.5 * dist.mean, rel=1e-12)
    assert scaled.cv == pytest.approx(dist.cv, rel=1e-12, abs=1e-15)


def test_a_file_sample_cannot_be_scaled():
    dist = Empirical((1.0, 2.0), source=("t.csv", "time"))
    with pytest.raises(ValueError, match="read from a file"):
        dist.scaled(2.0)
    assert dist.less_variable(0.5) is dist


@pytest.mark.parametrize(
    "dist",
    [Gamma(2.0, 0.8), Lognormal(2.0, 1.2), Uniform(1.0, 3.0), Triangular(1.0, 2.0, 6.0),
     Empirical((1.0, 2.0, 6.0))],
    ids=lambda d: d.name,
)
def test_less_variable_cuts_the_cv_and_keeps_the_mean(dist):
    less = dist.less_variable(0.25)
    assert less.mean == pytest.approx(dist.mean, rel=1e-12)
    assert less.cv == pytest.approx(0.75 * dist.cv, rel=1e-12)


def test_less_variable_moves_to_a_family_that_holds_the_cv():
    assert Exponential(2.0).less_variable(0.4) == Gamma(2.0, 0.6)
    erlang = Erlang(2.0, 2).less_variable(0.5)
    assert erlang == Erlang(2.0, 8) and erlang.cv == pytest.approx(0.5 * Erlang(2.0, 2).cv)
    for dist in (Exponential(2.0), Erlang(2.0, 3), Gamma(2.0, 0.5), Lognormal(2.0, 0.5)):
        assert dist.less_variable(1.0) == Deterministic(2.0)
    assert Deterministic(2.0).less_variable(0.5) == Deterministic(2.0)
    assert Uniform(1.0, 3.0).less_variable(1.0) == Uniform(2.0, 2.0)
