"""Processor sharing (``discipline: ps``) against M/G/1-PS and M/M/c-PS theory.

In M/G/1-PS the mean sojourn is ``E[S] / (1 - rho)`` whatever the service distribution
(insensitivity), and more: a customer with requirement ``x`` stays ``x / (1 - rho)`` on
average (Kleinrock, Queueing Systems II, 1976, section 4.4), so the ratio of the summed
sojourns to the summed requirements is ``1 / (1 - rho)`` among short and long customers
alike. With ``c`` servers and exponential service the number present is the M/M/c
birth-death chain (``min(n, c)`` servers' worth of work is done), so the mean sojourn is
Erlang C's. Under processor sharing a visit's service is its requirement and its wait the
rest of its sojourn (docs/metrics.md), so the utilization is ``rho`` and the mean service
``E[S]``.

Power (``support.assert_oracle``: the theory inside the 99% interval, a 3% bias detected
with probability >= 0.9) comes from control variates with known means: the arrival count,
the mean service (of short and of long customers, for the conditional sojourn), and the mean sojourn of a first-come-first-served run of the same
customers (same seeds; M/G/1 by Pollaczek-Khinchine, M/M/c by Erlang C), which moves with
the processor-sharing sojourn because both servers do the same work at the same times.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from scipy import stats
from support import assert_oracle, known_controls, replication_values, single_station

import simlib
from simlib.engine.network import ServiceNetwork
from simlib.spec.scenario import load_scenario
from simlib.theory.queueing import erlang_c

RATE, HORIZON, WARMUP, REPS = 0.5, 8_000.0, 200.0, 24

SERVICES = {
    "exponential": ({"dist": "exponential", "mean": 1.0}, 2.0),
    "deterministic": ({"dist": "deterministic", "value": 1.0}, 1.0),
    "lognormal": ({"dist": "lognormal", "mean": 1.0, "cv": 1.0}, 2.0),
}


@cache
def runs(service: str, discipline: str, servers: int = 1, rate: float = RATE) -> simlib.Results:
    spec = single_station(rate=rate, service=SERVICES[service][0], servers=servers,
                          horizon=HORIZON, warmup=WARMUP, discipline=discipline)
    return simlib.run(spec, replications=REPS, seed=21, progress=False)


def pk_sojourn(rate: float, second: float) -> float:
    """M/G/1 FIFO mean sojourn with E[S] = 1 (Pollaczek-Khinchine)."""
    return 1.0 + rate * second / (2 * (1 - rate))


@pytest.mark.statistical
@pytest.mark.parametrize("service", list(SERVICES))
def test_mg1_ps_mean_sojourn_is_insensitive(service):
    """M/G/1-PS at rho = 0.5 with exponential, deterministic and lognormal (cv 1) service:
    E[T] = E[S] / (1 - rho) = 2; 24 replications of 8 000 time units. Power: a 3% bias in
    the mean sojourn or utilization is detected with probability >= 0.9
    (asserted by assert_oracle)."""
    ps, fifo = runs(service, "ps"), runs(service, "fifo")
    controls = np.column_stack([
        known_controls(ps, {("s", "arrivals"): RATE * HORIZON, ("s", "mean_service"): 1.0}),
        replication_values(fifo, "s", "mean_sojourn") / pk_sojourn(RATE, SERVICES[service][1]) - 1,
    ])
    theory = {"mean_sojourn": 1 / (1 - RATE), "utilization": RATE}
    # the service is the requirement: the same customers' as under FIFO, exactly
    np.testing.assert_allclose(replication_values(ps, "s", "mean_service"),
                               replication_values(fifo, "s", "mean_service"), rtol=1e-9)
    assert_oracle({f"s.{m}": (replication_values(ps, "s", m), v) for m, v in theory.items()},
                  controls)
    # the wait is the delay from sharing: the sojourn minus the requirement
    np.testing.assert_allclose(replication_values(ps, "s", "mean_wait"),
                               replication_values(ps, "s", "mean_sojourn")
                               - replication_values(ps, "s", "mean_service"), rtol=1e-9)


@pytest.mark.statistical
def test_mm2_ps_mean_sojourn_is_erlang_c():
    """M/M/2-PS, lambda = 1.2, mu = 1: each of n present is served at min(1, 2/n), the number
    present is M/M/2's, E[T] = Erlang C's sojourn; 24 replications of 8 000 time units. Power:
    a 3% bias in the mean sojourn or utilization is detected with probability >= 0.9."""
    ps, fifo = runs("exponential", "ps", 2, 1.2), runs("exponential", "fifo", 2, 1.2)
    theory = erlang_c(1.2, 1.0, 2)
    controls = np.column_stack([
        known_controls(ps, {("s", "arrivals"): 1.2 * HORIZON}),
        replication_values(fifo, "s", "mean_sojourn") / theory["mean_sojourn"] - 1,
    ])
    assert_oracle({f"s.{m}": (replication_values(ps, "s", m), theory[m])
                   for m in ("mean_sojourn", "utilization")}, controls)


def slowdowns(replication: int) -> tuple[float, ...]:
    """Summed sojourn over summed requirement among short (S < 1) and long (S >= 1) counted
    visits of one M/G/1-PS replication with lognormal service, the arrival count and the
    mean requirement of each group."""
    spec = single_station(rate=RATE, service=SERVICES["lognormal"][0], horizon=HORIZON,
                          warmup=WARMUP, discipline="ps")
    net = ServiceNetwork(load_scenario(spec), 21, replication, record=True)
    out = net.run()
    assert net.visits is not None
    v = np.array([row[3:6] for row in net.visits])
    v = v[(v[:, 0] >= WARMUP) & (v[:, 0] < WARMUP + HORIZON)]
    sojourn, work = v[:, 2] - v[:, 0], v[:, 2] - v[:, 1]  # recorded start = end - requirement
    short = work < 1.0
    return (sojourn[short].sum() / work[short].sum(), sojourn[~short].sum() / work[~short].sum(),
            out["s"]["arrivals"], work[short].mean(), work[~short].mean())


def lognormal_group_means(mean: float, cv: float, cut: float) -> tuple[float, float]:
    """E[S | S < cut] and E[S | S >= cut] of a lognormal with this mean and cv."""
    sigma = math.sqrt(math.log1p(cv**2))
    mu = math.log(mean) - sigma**2 / 2
    z = (math.log(cut) - mu) / sigma
    p_short, partial = stats.norm.cdf(z), mean * stats.norm.cdf(z - sigma)
    return partial / p_short, (mean - partial) / (1 - p_short)


@pytest.mark.statistical
def test_conditional_sojourn_is_proportional_to_the_requirement():
    """M/G/1-PS, lognormal service (cv 1), rho = 0.5: E[T | S = x] = x / (1 - rho), so the
    sojourn per unit of requirement is 2 among customers with S < 1 and with S >= 1; 24
    replications of 8 000 time units. Power: a 3% bias in either ratio is detected with
    probability >= 0.9 (asserted by assert_oracle)."""
    values = np.array([slowdowns(r) for r in range(REPS)])
    short, long = lognormal_group_means(1.0, 1.0, 1.0)
    fifo = replication_values(runs("lognormal", "fifo"), "s", "mean_sojourn")
    controls = np.column_stack([values[:, 2] / (RATE * HORIZON) - 1, values[:, 3] / short - 1,
                                values[:, 4] / long - 1,
                                fifo / pk_sojourn(RATE, SERVICES["lognormal"][1]) - 1])
    assert_oracle({"short.slowdown": (values[:, 0], 2.0), "long.slowdown": (values[:, 1], 2.0)},
                  controls)


@pytest.mark.parametrize("servers, ends", [(1, (1.5, 2.0)), (2, (1.0, 1.5))])
def test_sharing_by_hand(tmp_csv, servers, ends):
    """Requirements 1.0 arriving at 0 and 0.5. One server: alone until 0.5, then half speed
    each: the first leaves at 1.5, the second at 2.0. Two servers: nobody shares."""
    trace = tmp_csv("a.csv", "time\n0\n0.5\n")
    spec = single_station(servers=servers, horizon=10.0, warmup=0.0, discipline="ps",
                          service={"dist": "deterministic", "value": 1.0})
    spec["classes"][0]["arrivals"] = {"trace": str(trace)}
    net = ServiceNetwork(load_scenario(spec), seed=1, record=True)
    out = net.run()
    assert net.visits is not None
    assert [v[5] for v in net.visits] == pytest.approx(list(ends))
    sojourn = np.mean([ends[0], ends[1] - 0.5])
    assert out["s"]["mean_sojourn"] == pytest.approx(sojourn)
    assert out["s"]["mean_service"] == pytest.approx(1.0)
    assert out["s"]["mean_wait"] == pytest.approx(sojourn - 1.0)
    assert out["s"]["utilization"] == pytest.approx(2.0 / (10.0 * servers))
    # number present beyond the servers: 1 on [0.5, 1.5] with one server, never with two
    assert out["s"]["mean_queue"] == pytest.approx(0.1 if servers == 1 else 0.0)


def test_a_visit_across_the_window_start_counts_exactly(tmp_csv):
    """The one-server trace with the window opening at 1.0: both are served at half speed
    until 1.5, then the second alone until 2.0: busy time 1.0, sharing excess 0.5."""
    trace = tmp_csv("a.csv", "time\n-1.0\n-0.5\n")
    spec = single_station(servers=1, horizon=10.0, warmup=1.0, discipline="ps",
                          service={"dist": "deterministic", "value": 1.0})
    spec["classes"][0]["arrivals"] = {"trace": str(trace)}
    out = ServiceNetwork(load_scenario(spec), seed=1).run()
    assert out["s"]["utilization"] == pytest.approx(0.1)
    assert out["s"]["mean_queue"] == pytest.approx(0.05)
    assert out["s"]["mean_in_system"] == pytest.approx(0.15)
