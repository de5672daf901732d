"""The Weibull, hyperexponential, Coxian, mixture and survival families (issues 12 and 15).

Each family's analytic moments are checked against an independent computation (scipy's law
of the same distribution, or numerical integration of the quantile function), its quantile
against its distribution function (and that against scipy or a matrix exponential), its
draws against its moments, its scenario form through ``parse_distribution`` and back, its
edits (``scaled``, ``less_variable``) and every validation message.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import linalg, optimize, stats

import simlib
from simlib.engine.rng import BlockSampler, StreamFactory
from simlib.spec.distributions import (
    DISTRIBUTIONS,
    Coxian,
    Deterministic,
    Erlang,
    Exponential,
    Gamma,
    Hyperexponential,
    Mixture,
    Survival,
    Weibull,
    parse_distribution,
)
from simlib.spec.validation import ScenarioError

SPECS = {
    "weibull-shape": {"dist": "weibull", "shape": 1.5, "scale": 2.0},
    "weibull-mean": {"dist": "weibull", "mean": 3.0, "cv": 0.4},
    "weibull-heavy": {"dist": "weibull", "shape": 0.6, "scale": 1.0},
    "hyperexponential": {"dist": "hyperexponential", "probabilities": [0.8, 0.2],
                         "means": [0.75, 2.0]},
    "coxian": {"dist": "coxian", "rates": [2.0, 1.0], "continue": [0.5]},
    "coxian-3": {"dist": "coxian", "rates": [4.0, 1.0, 0.25], "continue": [0.6, 0.3]},
    "coxian-1": {"dist": "coxian", "rates": [0.5], "continue": []},
    "mixture": {"dist": "mixture", "components": [
        {"weight": 0.5, "dist": "deterministic", "value": 0.5},
        {"weight": 0.5, "dist": "gamma", "mean": 1.5, "cv": 0.5}]},
    "mixture-smooth": {"dist": "mixture", "components": [
        {"weight": 0.3, "dist": "exponential", "mean": 1.0},
        {"weight": 0.7, "dist": "lognormal", "mean": 2.0, "cv": 1.0}]},
    "mixture-nested": {"dist": "mixture", "components": [
        {"weight": 0.6, "dist": "weibull", "mean": 1.0, "cv": 0.5},
        {"weight": 0.4, "dist": "mixture", "components": [
            {"weight": 0.5, "dist": "erlang", "mean": 2.0, "k": 2},
            {"weight": 0.5, "dist": "uniform", "low": 1.0, "high": 3.0}]}]},
    "survival": {"dist": "survival", "times": [0.5, 1.0, 2.0], "survival": [0.7, 0.4, 0.1],
                 "tail_mean": 1.0},
    "survival-flat": {"dist": "survival", "times": [10.0, 30.0, 60.0, 90.0],
                      "survival": [1.0, 0.6, 0.6, 0.35], "tail_mean": 120.0},
}
DISTS = {key: parse_distribution(spec, "service") for key, spec in SPECS.items()}
#: Families whose distribution function is continuous (no atoms, so F(Q(u)) = u).
CONTINUOUS = [k for k in SPECS if k != "mixture"]
U = np.array([1e-9, 1e-4, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.9999, 1 - 1e-9])


def _moments_by_quadrature(dist) -> tuple[float, float]:
    """E[X] and E[X^2] as integrals of Q(u) and Q(u)^2 over (0, 1), vectorised.

    With ``u = 1 - exp(-t)`` the integrals are ``int_0^inf Q(u(t))^k exp(-t) dt``, smooth
    where Q is (the log singularity at u = 1 is gone), and ``t = r^3``; composite 16-point
    Gauss-Legendre on panels of r whose ends include the kinks of a survival curve's
    quantile; beyond t = 36 (u = 1 - 2e-16) the integrand is below 1e-13 of the mean.
    """
    kinks = [(-math.log(s)) ** (1 / 3) for s in getattr(dist, "survival", ()) if 0 < s < 1]
    ends = np.unique(np.concatenate([np.linspace(0.0, 36.0 ** (1 / 3), 721), kinks]))
    nodes, weights = np.polynomial.legendre.leggauss(16)
    half = np.diff(ends)[:, None] / 2
    r = (ends[:-1, None] + half * (nodes + 1)).ravel()
    t = r**3  # t = r^3 smooths Q near u = 0, where a Weibull's Q(u(t)) is ~ t^(1/shape)
    w = (half * weights).ravel() * 3 * r**2 * np.exp(-t)
    q = dist.quantile(-np.expm1(-t))
    return float(w @ q), float(w @ q**2)


@pytest.mark.parametrize("key", [k for k in SPECS if not k.startswith("mixture")])
def test_moments_match_the_integrated_quantile_function(key):
    dist = DISTS[key]
    m1, m2 = _moments_by_quadrature(dist)
    assert dist.mean == pytest.approx(m1, rel=1e-9)
    assert dist.second_moment == pytest.approx(m2, rel=1e-9)
    assert dist.variance == pytest.approx(m2 - m1**2, rel=1e-8)


def test_mixture_moments_are_the_weighted_moments_of_the_components_laws():
    laws = [(0.6, stats.weibull_min(c=DISTS["mixture-nested"].components[0].shape,
                                    scale=DISTS["mixture-nested"].components[0].scale)),
            (0.2, stats.erlang(2, scale=1.0)), (0.2, stats.uniform(loc=1.0, scale=2.0))]
    m1 = sum(w * law.moment(1) for w, law in laws)
    m2 = sum(w * law.moment(2) for w, law in laws)
    mix = DISTS["mixture-nested"]
    assert mix.mean == pytest.approx(m1, rel=1e-12)
    assert mix.second_moment == pytest.approx(m2, rel=1e-12)
    smooth = DISTS["mixture-smooth"]
    sigma = math.sqrt(math.log(2.0))
    m2 = 0.3 * 2.0 + 0.7 * stats.lognorm(s=sigma, scale=2.0 / math.sqrt(2.0)).moment(2)
    assert smooth.second_moment == pytest.approx(m2, rel=1e-12)
    assert smooth.mean == pytest.approx(0.3 + 1.4, rel=1e-14)


def test_moments_and_quantiles_match_scipy_where_it_has_the_law():
    for dist, law in [
        (DISTS["weibull-shape"], stats.weibull_min(c=1.5, scale=2.0)),
        (DISTS["weibull-heavy"], stats.weibull_min(c=0.6, scale=1.0)),
        (Coxian((3.0, 3.0, 3.0), (1.0, 1.0)), stats.erlang(3, scale=1 / 3)),  # an Erlang
        (Coxian((0.5,), ()), stats.expon(scale=2.0)),
        (Hyperexponential((1.0,), (2.0,)), stats.expon(scale=2.0)),
    ]:
        mean, var = law.stats(moments="mv")
        assert dist.mean == pytest.approx(float(mean), rel=1e-12)
        assert dist.variance == pytest.approx(float(var), rel=1e-10)
        np.testing.assert_allclose(dist.quantile(U), law.ppf(U), rtol=1e-9)
        np.testing.assert_allclose(dist.cdf(law.ppf(U)), U, rtol=1e-9, atol=0)
    w = DISTS["weibull-mean"]  # the mean-and-cv form hits its mean and cv
    assert (w.mean, w.cv) == (pytest.approx(3.0, rel=1e-12), pytest.approx(0.4, rel=1e-10))
    law = stats.weibull_min(c=w.shape, scale=w.scale)
    assert (law.mean(), law.std() / law.mean()) == (pytest.approx(3.0), pytest.approx(0.4))


def test_coxian_cdf_is_the_matrix_exponential_and_hyperexponential_a_mixture():
    cox = DISTS["coxian-3"]
    t = np.array([-1.0, 0.0, 1e-6, 0.3, 1.0, 4.0, 20.0, 80.0])
    gen = np.diag([-4.0, -1.0, -0.25]) + np.diag([4.0 * 0.6, 1.0 * 0.3], 1)
    survival = np.array([linalg.expm(gen * max(x, 0))[0].sum() for x in t])
    np.testing.assert_allclose(cox.cdf(t), 1 - survival, rtol=1e-12, atol=1e-15)
    # the quantile's relative precision, at the tails too: the root of log S(x) = log(1 - u)
    # with S in closed form (distinct rates: a mixture over the exit phase of hypoexponentials)
    rates, go_on = (4.0, 1.0, 0.25), (0.6, 0.3, 0.0)

    def log_survival(x: float) -> float:
        total, reach = 0.0, 1.0
        for n in range(1, 4):
            leave = reach * (1 - go_on[n - 1])
            for i in range(n):
                coef = math.prod(rates[j] / (rates[j] - rates[i]) for j in range(n) if j != i)
                total += leave * coef * math.exp(-rates[i] * x)
            reach *= go_on[n - 1]
        return math.log(total)

    for u in (1e-9, 0.3, 0.999999):
        q = cox.quantile(np.array([u]))[0]
        root = optimize.brentq(lambda x, u=u: log_survival(x) - math.log1p(-u), q / 2, q * 2,
                               xtol=1e-300, rtol=1e-15) if u > 1e-6 else None
        if root is None:  # log S loses the precision of tiny F: solve F = u directly there
            root = optimize.brentq(lambda x, u=u: -math.expm1(log_survival(x)) - u, q / 2, q * 2,
                                   xtol=1e-300, rtol=1e-15)
        assert q == pytest.approx(root, rel=1e-9)
    hyper = DISTS["hyperexponential"]
    as_mixture = Mixture((0.8, 0.2), (Exponential(0.75), Exponential(2.0)))
    np.testing.assert_allclose(hyper.quantile(U), as_mixture.quantile(U), rtol=1e-9)
    assert hyper.second_moment == pytest.approx(as_mixture.second_moment, rel=1e-14)


def test_survival_curve_is_linear_between_knots_with_an_exponential_tail():
    s = DISTS["survival"]
    x = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0])
    expected = np.array([1.0, 0.85, 0.7, 0.55, 0.4, 0.25, 0.1, 0.1 * math.exp(-1.0)])
    np.testing.assert_allclose(1 - s.cdf(x), expected, rtol=1e-14)
    np.testing.assert_allclose(s.quantile(1 - expected[1:]), x[1:], rtol=1e-12)
    # mean: trapezoids 0.425 + 0.275 + 0.25 and the tail 0.1 * 1.0
    assert s.mean == pytest.approx(1.05, rel=1e-14)
    flat = DISTS["survival-flat"]  # a flat stretch: no mass between 30 and 60
    assert flat.quantile(np.array([0.4]))[0] == pytest.approx(30.0)
    assert flat.quantile(np.array([0.400001]))[0] > 60.0


@pytest.mark.parametrize("key", list(SPECS))
def test_quantile_is_monotone_and_inverts_the_cdf(key):
    dist = DISTS[key]
    u = np.linspace(0, 1, 2001)
    q = dist.quantile(u)
    assert np.all(np.diff(q) >= 0) and q[-1] == np.inf and q[0] >= 0
    inner = dist.quantile(U)
    f = dist.cdf(inner)
    # Q(u) = inf{x : F(x) >= u} to a relative 1e-9 in x: F is below u just under Q(u) and
    # reaches it just above (above the median read on S = 1 - F, where F has no digits left)
    def reaches(x):
        return np.where(U <= 0.5, dist.cdf(x) >= U, dist.sf(x) <= 1 - U)

    assert not reaches(inner * (1 - 1e-9)).any()
    assert reaches(inner * (1 + 1e-9)).all()
    if key in CONTINUOUS:
        np.testing.assert_allclose(f, U, rtol=1e-7)
        mid = (U > 0.001) & (U < 0.999)
        np.testing.assert_allclose(dist.quantile(f[mid]), inner[mid], rtol=1e-9)
    assert dist.quantile(np.array(0.5)).shape == ()  # any shape in, the same shape out
    assert dist.quantile(np.full((2, 3), 0.5)).shape == (2, 3)


def test_mixture_with_an_atom_puts_its_quantiles_on_the_atom():
    mix = DISTS["mixture"]
    np.testing.assert_allclose(mix.quantile(np.array([0.1, 0.3, 0.5])), 0.5)
    # F jumps by 1/2 at 0.5 (plus the gamma's little mass below 0.5)
    g = Gamma(1.5, 0.5).cdf(np.array([0.5]))[0]
    assert mix.cdf(np.array([0.5 - 1e-12, 0.5])) == pytest.approx([0.5 * g, 0.5 + 0.5 * g])


@pytest.mark.parametrize("key", list(SPECS))
def test_samples_match_the_moments(key):
    """A million draws: the sample mean within 4 standard errors of the analytic mean and the
    sample variance within 4 of its own (from the sample's fourth central moment). Power: a
    relative bias of 1% in the mean (or 10% in the variance) lies beyond 4 + 1.28 standard
    errors, so it is found with probability >= 0.9; asserted below for each family."""
    dist = DISTS[key]
    n = 1_000_000
    x = dist.sample(np.random.default_rng(20240), n)
    assert x.shape == (n,) and np.all(x >= 0)
    se_mean = math.sqrt(dist.variance / n)
    assert abs(x.mean() - dist.mean) <= 4 * se_mean
    centred = x - x.mean()
    se_var = math.sqrt((np.mean(centred**4) - np.var(x) ** 2) / n)
    assert abs(x.var() - dist.variance) <= 4 * se_var
    assert (4 + 1.28) * se_mean <= 0.01 * dist.mean
    assert (4 + 1.28) * se_var <= 0.10 * dist.variance


def test_draws_come_from_the_generator_passed_in_block_after_block():
    for dist in DISTS.values():
        a = dist.sample(np.random.default_rng(3), 1000)
        assert np.array_equal(a, dist.sample(np.random.default_rng(3), 1000))
        sampler = BlockSampler(dist, StreamFactory(5, 0).generator("service", "s"))
        drawn = [sampler.next() for _ in range(10)]
        assert np.isfinite(drawn).all()


@pytest.mark.parametrize("key", list(SPECS))
def test_scenario_form_round_trips(key):
    spec = SPECS[key]
    dist = DISTS[key]
    assert type(dist) is DISTRIBUTIONS[spec["dist"]][0]
    assert dist.to_dict() == spec
    assert parse_distribution(dist.to_dict(), "x") == dist


@pytest.mark.parametrize("key", list(SPECS))
def test_scaled_multiplies_every_duration(key):
    dist = DISTS[key]
    scaled = dist.scaled(1.5)
    assert type(scaled) is type(dist)
    assert scaled.mean == pytest.approx(1.5 * dist.mean, rel=1e-12)
    assert scaled.cv == pytest.approx(dist.cv, rel=1e-10)
    np.testing.assert_allclose(scaled.quantile(U[:-1]), 1.5 * dist.quantile(U[:-1]), rtol=1e-9)
    assert parse_distribution(scaled.to_dict(), "x") == scaled


@pytest.mark.parametrize("key", list(SPECS))
@pytest.mark.parametrize("reduction", [0.2, 0.5])
def test_less_variable_keeps_the_mean_and_cuts_the_cv(key, reduction):
    dist = DISTS[key]
    new = dist.less_variable(reduction)
    assert new.mean == pytest.approx(dist.mean, rel=1e-10)
    if key == "mixture-nested":  # its Erlang component rounds its phases up: a little less
        assert dist.cv * (1 - reduction) * 0.95 <= new.cv <= dist.cv * (1 - reduction)
    else:
        assert new.cv == pytest.approx(dist.cv * (1 - reduction), rel=1e-9)
    assert parse_distribution(new.to_dict(), "x") == new
    assert dist.less_variable(1.0) == Deterministic(pytest.approx(dist.mean, rel=1e-12))
    assert dist.less_variable(0.0).cv == pytest.approx(dist.cv, rel=1e-9)


def test_less_variable_where_the_family_cannot_hold_the_cv():
    hyper = DISTS["hyperexponential"]  # scv 1.5: a cut of 20% gives 0.96, below 1
    assert isinstance(hyper.less_variable(0.1), Hyperexponential)
    assert isinstance(hyper.less_variable(0.2), Gamma)
    cox = DISTS["coxian"]  # cv 1: two phases down to scv 1/2, then a gamma
    two = cox.less_variable(0.25)
    assert isinstance(two, Coxian) and len(two.rates) == 2
    assert isinstance(cox.less_variable(0.5), Gamma)
    assert isinstance(DISTS["weibull-shape"].less_variable(0.5), Weibull)
    assert isinstance(DISTS["survival"].less_variable(0.5), Survival)
    # a mixture cuts each component (an Erlang rounds its phases up: the cv falls a bit more)
    mix = Mixture((0.5, 0.5), (Erlang(1.0, 2), Exponential(3.0)))
    cut = mix.less_variable(0.5)
    assert cut.mean == pytest.approx(mix.mean) and cut.cv <= 0.5 * mix.cv
    assert cut.cv == pytest.approx(0.5 * mix.cv, rel=0.05)


def test_heavy_and_light_weibulls_are_safe_to_the_edges_of_the_allowed_range():
    for cv in (1e-3, 100.0):
        w = Weibull.from_mean_cv(2.0, cv)
        assert (w.mean, w.cv) == (pytest.approx(2.0, rel=1e-10), pytest.approx(cv, rel=1e-8))
        assert np.isfinite(w.sample(np.random.default_rng(1), 100)).all()
    for shape in (0.1, 2000.0):
        w = Weibull(shape, 1.0)
        assert math.isfinite(w.variance) and w.variance > 0


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"dist": "weibull", "shape": 1.0}, r"^s\.scale: is required"),
        ({"dist": "weibull", "shape": 1.0, "scale": 1.0, "mean": 1.0},
         r"^s: weibull needs either shape and scale, or mean and cv"),
        ({"dist": "weibull"}, r"^s: weibull needs either shape and scale, or mean and cv"),
        ({"dist": "weibull", "shape": 0.05, "scale": 1.0}, r"^s\.shape: must be between 0\.1 and 2000"),
        ({"dist": "weibull", "shape": 1.0, "scale": -1}, r"^s\.scale: must be positive"),
        ({"dist": "weibull", "mean": 1.0, "cv": 500}, r"^s\.cv: must be between 0\.001 and 100"),
        ({"dist": "weibull", "mean": "x", "cv": 1}, r"^s\.mean: must be a number"),
        ({"dist": "weibull", "shape": 1.0, "scale": 1.0, "k": 2}, r"^s\.k: unknown key"),
        ({"dist": "hyperexponential", "probabilities": [0.5, 0.4], "means": [1, 2]},
         r"^s\.probabilities: must sum to 1 \(within 1e-06\), got 0\.9$"),
        ({"dist": "hyperexponential", "probabilities": [1.5, -0.5], "means": [1, 2]},
         r"^s\.probabilities\[0\]: must be at most 1, got 1\.5"),
        ({"dist": "hyperexponential", "probabilities": [0.5, 0.5], "means": [1, 0]},
         r"^s\.means\[1\]: must be positive, got 0"),
        ({"dist": "hyperexponential", "probabilities": [0.5, 0.5], "means": [1]},
         r"^s\.means: must have as many entries as probabilities \(2\), got 1"),
        ({"dist": "hyperexponential", "probabilities": [], "means": []},
         r"^s\.probabilities: must be a non-empty list of numbers"),
        ({"dist": "hyperexponential", "probabilities": [1.0]}, r"^s\.means: is required"),
        ({"dist": "coxian", "rates": [1, -2], "continue": [0.5]}, r"^s\.rates\[1\]: must be positive"),
        ({"dist": "coxian", "rates": [1, 2], "continue": [1.2]},
         r"^s\.continue\[0\]: must be at most 1, got 1\.2"),
        ({"dist": "coxian", "rates": [1, 2], "continue": []},
         r"^s\.continue: must have as many entries as rates, less one \(1\), got 0"),
        ({"dist": "coxian", "rates": [1, 2], "continue": "x"},
         r"^s\.continue: must be a list of numbers, got 'x'"),
        ({"dist": "coxian", "rates": [1.0] * 65, "continue": [1.0] * 64},
         r"^s\.rates: may have at most 64 phases"),
        ({"dist": "mixture", "components": []}, r"^s\.components: must be a non-empty list"),
        ({"dist": "mixture", "components": [{"dist": "exponential", "mean": 1}]},
         r"^s\.components\[0\]\.weight: is required"),
        ({"dist": "mixture", "components": [{"weight": -0.1, "dist": "exponential", "mean": 1}]},
         r"^s\.components\[0\]\.weight: must be at least 0"),
        ({"dist": "mixture", "components": [{"weight": 0.6, "dist": "exponential", "mean": 1},
                                            {"weight": 0.6, "dist": "exponential", "mean": 2}]},
         r"^s\.components: the weights must sum to 1 \(within 1e-06\), got 1\.2$"),
        ({"dist": "mixture", "components": [{"weight": 1, "dist": "gamma", "mean": 1}]},
         r"^s\.components\[0\]\.cv: is required"),
        ({"dist": "mixture", "components": [{"weight": 1, "dist": "beta"}]},
         r"^s\.components\[0\]\.dist: unknown distribution 'beta'"),
        ({"dist": "mixture", "components": ["x"]}, r"^s\.components\[0\]: must be a mapping"),
        ({"dist": "survival", "times": [1, 1], "survival": [0.5, 0.4], "tail_mean": 1},
         r"^s\.times\[1\]: must be greater than the time before \(1\), got 1$"),
        ({"dist": "survival", "times": [0, 1], "survival": [0.5, 0.4], "tail_mean": 1},
         r"^s\.times\[0\]: must be positive, got 0"),
        ({"dist": "survival", "times": [1, 2], "survival": [0.5, 0.6], "tail_mean": 1},
         r"^s\.survival\[1\]: must not exceed the one before \(0\.5\), got 0\.6$"),
        ({"dist": "survival", "times": [1, 2], "survival": [1.1, 0.6], "tail_mean": 1},
         r"^s\.survival\[0\]: must be at most 1, got 1\.1"),
        ({"dist": "survival", "times": [1, 2], "survival": [0.5, 0], "tail_mean": 1},
         r"^s\.survival\[1\]: must be in \(0, 1\], got 0$"),
        ({"dist": "survival", "times": [1, 2], "survival": [0.5], "tail_mean": 1},
         r"^s\.survival: must have as many entries as times \(2\), got 1"),
        ({"dist": "survival", "times": [1, 2], "survival": [0.5, 0.4], "tail_mean": 0},
         r"^s\.tail_mean: must be positive, got 0"),
        ({"dist": "survival", "times": [1, 2], "survival": [0.5, 0.4]}, r"^s\.tail_mean: is required"),
        ({"dist": "survival", "times": [1, True], "survival": [0.5, 0.4], "tail_mean": 1},
         r"^s\.times\[1\]: must be a number, got True"),
    ],
)
def test_every_key_is_validated_in_one_line(spec, message):
    with pytest.raises(ScenarioError, match=message) as caught:
        parse_distribution(spec, "s")
    assert "\n" not in str(caught.value)


def test_new_families_are_accepted_wherever_a_scenario_takes_a_distribution():
    spec = {
        "name": "t", "horizon": 100.0,
        "classes": [{"name": "c", "arrivals": {"rate": 0.5}, "patience": SPECS["survival"]}],
        "stations": [{"name": "s", "servers": 1, "service": {"c": SPECS["mixture-nested"]}}],
    }
    scn = simlib.load_scenario(spec)
    assert scn.classes[0].patience == DISTS["survival"]
    assert scn.station("s").service["c"] == DISTS["mixture-nested"]
    # and the engine runs them as patience and service (the oracle checks are in
    # tests/engine/test_new_service_families.py)
    res = simlib.run(scn, replications=1, seed=1)
    assert 0 < res.runs[0]["s"]["p_abandon"] < 1
    assert res.runs[0]["s"]["mean_service"] > 0
