"""Time-varying service, the credit discipline, day-to-day arrival variation and general patience.

Each feature is checked against theory or exact reasoning:

* a profiled service starting in cell ``j`` has mean ``means[j]`` and the base cv (exact), and
  an ample-server station's busy servers equal the arrival rate times the profile's average
  (exact for an M/G/infinity queue over whole cycles), which ``offered_loads`` must report;
* the credit discipline with zero credit is FIFO and with a credit longer than any wait is
  strict non-preemptive priority, number for number; in between, every service start picks
  the waiting customer with the smallest (time joined - credit), and the overall mean wait of
  an M/M/1 queue is the FIFO one (the conservation law, the same service for every class);
* daily arrival counts under ``day_to_day`` have mean ``m`` and variance ``m + cv^2 m^2``
  (gamma-Poisson); under ``day_to_day.service_cv`` every service starting in a period is
  scaled by that period's multiplier, whose mean is 1 and variance ``service_cv^2``;
* M/M/1+G abandonment and mean wait for deterministic and gamma patience, from the level
  crossing density of the offered wait, ``f(x) = lambda pi0 exp(-mu x + lambda int_0^x
  P(patience > u) du)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats
from support import assert_oracle, known_controls, oracle_samples, single_station

from simlib.engine.network import ServiceNetwork
from simlib.experiments import run
from simlib.experiments.capacity import offered_loads
from simlib.spec.scenario import load_scenario
from simlib.theory.queueing import mm1


def _visits(scenario, seed=1):
    net = ServiceNetwork(load_scenario(scenario), seed, record=True)
    net.run()
    v = np.array(net.visits, dtype=float)
    return net, v


# --------------------------------------------------------------------------- service profile


def test_service_starting_in_a_cell_has_the_cell_mean_and_the_base_cv():
    means = (1.5, 2.5)
    data = single_station(rate=1.0, servers=3, horizon=50_000.0, warmup=200.0,
                          service={"dist": "gamma", "mean": 2.0, "cv": 0.5,
                                   "profile": {"period": 50.0, "means": list(means)}})
    net, v = _visits(data)
    done = v[v[:, 6] == 0]
    start = done[:, 4] - net.window_start
    service = done[:, 5] - done[:, 4]
    cell = ((start % 100.0) // 50.0).astype(int)
    samples = {}
    per_cell = [service[(cell == j) & (start >= 0)] for j in range(len(means))]
    n = min(len(s) for s in per_cell)  # the checks take samples of one size
    for j, m in enumerate(means):
        s = per_cell[j][:n]
        samples[f"mean in cell {j}"] = (s, m)
        samples[f"second moment in cell {j}"] = (s**2, m**2 * (1 + 0.5**2))
    assert_oracle(samples)


def test_a_flat_profile_gives_the_same_numbers_as_none():
    base = {"dist": "lognormal", "mean": 0.8, "cv": 1.2}
    plain = run(single_station(service=base, horizon=2000.0), 2, seed=3, progress=False)
    flat = run(single_station(service={**base, "profile": {"period": 7.0, "means": [0.8]}},
                              horizon=2000.0), 2, seed=3, progress=False)
    assert plain.runs == flat.runs


def test_ample_servers_carry_the_rate_times_the_profile_average():
    lam, means, c = 2.0, (1.0, 3.0, 1.5, 2.5), 60
    data = single_station(rate=lam, servers=c, horizon=1000.0, warmup=100.0,
                          service={"dist": "exponential", "mean": 1.0,
                                   "profile": {"period": 25.0, "means": list(means)}})
    scn = load_scenario(data)
    load = offered_loads(scn)[0]
    assert load.offered_load == pytest.approx(lam * np.mean(means))  # not lam * base mean
    res = run(scn, 30, seed=11, progress=False)
    controls = known_controls(res, {("c", "arrivals"): lam * 1000.0})
    assert_oracle(oracle_samples(res, "s", {"utilization": load.utilisation}, ("utilization",)),
                  controls)


# --------------------------------------------------------------------------- credit


def _two_classes(discipline, credit=(0.0, 0.0), priority=(0, 0), horizon=20_000.0, patience=True):
    data = single_station(horizon=horizon, warmup=200.0, discipline=discipline,
                          service={"dist": "exponential", "mean": 1.0})
    data["classes"] = [
        {"name": name, "arrivals": {"rate": rate}, "priority": p, "credit": cr,
         **({"patience": {"dist": "exponential", "mean": 20.0}} if patience else {})}
        for name, rate, p, cr in zip(("gold", "basic"), (0.3, 0.55), priority, credit, strict=True)
    ]
    return data


def test_zero_credit_is_fifo_and_a_huge_credit_is_strict_priority():
    h = 5000.0
    fifo = run(_two_classes("fifo", horizon=h), 2, seed=5, progress=False)
    zero = run(_two_classes("credit", horizon=h), 2, seed=5, progress=False)
    assert zero.runs == fifo.runs
    strict = run(_two_classes("priority", priority=(0, 1), horizon=h), 2, seed=5, progress=False)
    huge = run(_two_classes("credit", credit=(1e7, 0.0), horizon=h), 2, seed=5, progress=False)
    assert huge.runs == strict.runs
    assert strict.runs != fifo.runs


def test_waits_move_monotonely_with_the_credit():
    waits = []
    for credit in (0.0, 2.0, 8.0, 1e7):
        res = run(_two_classes("credit", credit=(credit, 0.0), horizon=30_000.0), 2, seed=8,
                  progress=False)
        waits.append((np.mean([r["gold"]["mean_wait"] for r in res.runs]),
                      np.mean([r["basic"]["mean_wait"] for r in res.runs])))
    gold, basic = zip(*waits, strict=True)
    assert all(a > b for a, b in zip(gold, gold[1:], strict=False)), gold
    assert all(a < b for a, b in zip(basic, basic[1:], strict=False)), basic


def test_every_start_serves_the_smallest_joined_minus_credit():
    credit = {0: 1.5, 1: 0.0}
    _, v = _visits(_two_classes("credit", credit=(1.5, 0.0), horizon=3000.0))
    key = v[:, 3] - np.where(v[:, 1] == 0, credit[0], credit[1])
    left = np.where(v[:, 6] == 0, v[:, 4], v[:, 5])  # when each visit stopped waiting
    waited = np.flatnonzero((v[:, 6] == 0) & (v[:, 4] > v[:, 3]))
    assert waited.size > 500
    for i in waited:
        t = v[i, 4]
        # Customers waiting when i started (joined before, still waiting after) other than i.
        others = (v[:, 3] < t) & (left > t)
        others[i] = False
        assert not np.any(key[others] < key[i]), f"visit {i} served before a smaller key"


def test_overall_wait_under_credit_is_the_fifo_wait_of_mm1():
    # Work-conserving, non-preemptive, blind to service times, one service distribution:
    # the mean wait over all customers is M/M/1's whatever the order (Kleinrock).
    data = _two_classes("credit", credit=(3.0, 0.0), horizon=20_000.0, patience=False)
    for c, rate in zip(data["classes"], (0.25, 0.35), strict=True):
        c["arrivals"]["rate"] = rate
    res = run(data, 30, seed=2, progress=False)
    theory = mm1(0.6, 1.0)
    controls = known_controls(res, {("system", "arrivals"): 0.6 * 20_000.0,
                                    ("s", "mean_service"): 1.0})
    assert_oracle(oracle_samples(res, "system", {"mean_wait": theory["mean_wait"]},
                                 ("mean_wait",)), controls)


# --------------------------------------------------------------------------- day to day


def test_daily_counts_are_gamma_poisson():
    lam, period, cv, days = 0.5, 10.0, 0.4, 66_000
    data = single_station(rate=lam, servers=5, horizon=days * period, warmup=0.0,
                          service={"dist": "deterministic", "value": 0.01})
    data["day_to_day"] = {"cv": cv, "period": period}
    net, v = _visits(data)
    t = v[:, 3] - net.window_start
    counts = np.bincount((t[(t >= 0) & (t < days * period)] // period).astype(int),
                         minlength=days).astype(float)
    m = lam * period
    assert_oracle({"mean count": (counts, m),
                   "variance": ((counts - m) ** 2, m + cv**2 * m**2)})


def test_day_to_day_leaves_services_and_patience_alone():
    data = single_station(rate=0.9, horizon=500.0)
    data["classes"][0]["patience"] = {"dist": "exponential", "mean": 5.0}
    varied = {**data, "day_to_day": {"cv": 0.3, "period": 100.0}}
    a = ServiceNetwork(load_scenario(data), 4)
    b = ServiceNetwork(load_scenario(varied), 4)
    assert a.stations[0].service[0].next() == b.stations[0].service[0].next()
    assert a.classes[0].patience is not None and b.classes[0].patience is not None
    assert a.classes[0].patience.next() == b.classes[0].patience.next()
    assert b.multipliers is not None and len(b.multipliers) >= 10


def test_service_day_multiplier_has_its_moments():
    # Deterministic services of length 1: each period's services all last its multiplier.
    period, cv, days = 10.0, 0.3, 70_000
    data = single_station(rate=0.2, servers=20, horizon=days * period, warmup=0.0,
                          service={"dist": "deterministic", "value": 1.0})
    data["day_to_day"] = {"cv": 0.0, "period": period, "service_cv": cv}
    _, v = _visits(data)
    day = (v[:, 4] // period).astype(int)
    length = v[:, 5] - v[:, 4]
    first = np.unique(day, return_index=True)[1]
    mult = length[first]
    # One multiplier per period: every service of the period has the same length.
    assert np.allclose(length, mult[np.searchsorted(day[first], day)])
    assert_oracle({"mean multiplier": (mult, 1.0), "variance": ((mult - 1.0) ** 2, cv**2)})


def test_service_day_multiplier_leaves_arrivals_alone():
    data = single_station(rate=0.9, horizon=500.0)
    base = {**data, "day_to_day": {"cv": 0.3, "period": 100.0}}
    slow = {**data, "day_to_day": {"cv": 0.3, "period": 100.0, "service_cv": 0.2}}
    a = ServiceNetwork(load_scenario(base), 4)
    b = ServiceNetwork(load_scenario(slow), 4)
    assert a.multipliers == b.multipliers
    assert a.stations[0].day_factors is None and b.stations[0].day_factors is not None
    assert len(set(b.stations[0].day_factors)) > 1



# --------------------------------------------------------------------------- patience


def _mm1g(lam, mu, survival):
    """P(abandon) and mean wait of M/M/1+G from the offered-wait density (FIFO), on a grid."""
    x = np.linspace(0.0, 200.0 / mu, 200_001)  # step 0.001 / mu: holds the patience's knots
    surv = survival(x)
    cum_surv = integrate.cumulative_trapezoid(surv, x, initial=0.0)
    shape = np.exp(-mu * x + lam * cum_surv)
    pi0 = 1.0 / (1.0 + lam * integrate.trapezoid(shape, x))
    p_ab = lam * pi0 * integrate.trapezoid(shape * (1 - surv), x)
    wait = lam * pi0 * integrate.trapezoid(shape * cum_surv, x)
    return p_ab, wait


@pytest.mark.parametrize(
    ("patience", "survival"),
    [
        ({"dist": "deterministic", "value": 1.9}, lambda x: (x < 1.9).astype(float)),
        ({"dist": "gamma", "mean": 2.0, "cv": 0.5}, stats.gamma(a=4.0, scale=0.5).sf),
    ],
    ids=["deterministic", "gamma"],
)
def test_mm1_with_general_patience_matches_the_level_crossing_result(patience, survival):
    lam, mu = 1.0, 1.0 / 0.95
    p_ab, wait = _mm1g(lam, mu, survival)
    if patience["dist"] == "deterministic":  # the closed form of M/M/1+D
        theta, rho = lam - mu, lam / mu
        pi0 = 1.0 / (1.0 + lam * (math.exp(theta * 1.9) - 1) / theta + rho * math.exp(theta * 1.9))
        exact = rho * pi0 * math.exp(theta * 1.9)
        assert p_ab == pytest.approx(exact, rel=1e-3)  # the grid's half step at the jump
        p_ab = exact
    data = single_station(rate=lam, horizon=20_000.0, warmup=200.0,
                          service={"dist": "exponential", "mean": 1 / mu})
    data["classes"][0]["patience"] = patience
    res = run(data, 20, seed=9, progress=False)
    controls = known_controls(res, {("c", "arrivals"): lam * 20_000.0})
    assert_oracle(oracle_samples(res, "c", {"p_abandon": p_ab, "mean_wait": wait},
                                 ("p_abandon", "mean_wait")), controls)
