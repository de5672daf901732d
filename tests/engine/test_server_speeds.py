"""Heterogeneous server speeds (``speeds``) against the CTMC of a two-speed M/M/2 queue.

Two servers of speeds ``f > s`` serve exponential requirements with mean 1, so a service
on them ends at rate ``f`` or ``s``. The fastest idle server takes the next customer (an
arrival finding both idle goes to the fast one; a customer never moves to a server freed
later). The state is: empty, only the fast server busy, only the slow one busy, or both
busy with ``j >= 0`` waiting; the chain (truncated far in the tail) is solved with numpy
here. From it: the mean number present ``L``, waiting ``Lq`` and busy servers ``B``; by
Little's law the mean sojourn ``L / lambda``, wait ``Lq / lambda`` and time in service
``B / lambda``, and the utilization ``B / 2``.

Power (``support.assert_oracle``: the theory inside the 99% interval, a 3% bias in any
checked metric detected with probability >= 0.9) comes from control variates with known
means: the arrival count, the mean wait of the same run with both speeds 1 (an M/M/2
queue, Erlang C) and of one server of speed 2 (an M/M/1 queue with rate 2), all on the same
random numbers (correlations with the two-speed waits and sojourns about 0.97).
"""

from __future__ import annotations

import numpy as np
import pytest
from support import assert_oracle, known_controls, replication_values, single_station

import simlib
from simlib.engine.network import ServiceNetwork
from simlib.spec.scenario import load_scenario
from simlib.theory.queueing import erlang_c

RATE, FAST, SLOW, HORIZON, WARMUP, REPS = 1.2, 1.5, 0.5, 8_000.0, 200.0, 20


def two_speed_ctmc(lam: float, f: float, s: float, n_max: int = 200) -> dict[str, float]:
    """Mean sojourn, wait, service and utilization of M/M/2 with speeds f > s, fastest free."""
    n = 3 + n_max
    q = np.zeros((n, n))
    q[0, 1] = lam                      # empty -> fast busy
    q[1, 0], q[1, 3] = f, lam          # fast only
    q[2, 0], q[2, 3] = s, lam          # slow only: an arrival takes the idle fast server
    q[3, 2], q[3, 1] = f, s            # both busy, none waiting
    for i in range(3, n):
        if i + 1 < n:
            q[i, i + 1] = lam
        if i > 3:
            q[i, i - 1] = f + s        # a freed server takes the head of the queue
    np.fill_diagonal(q, -q.sum(axis=1))
    a = q.T.copy()
    a[-1] = 1.0  # pi Q = 0 with one balance equation replaced by sum(pi) = 1
    pi = np.linalg.solve(a, np.r_[np.zeros(n - 1), 1.0])
    assert pi[-1] < 1e-12  # the truncation is far in the tail
    number = np.r_[0, 1, 1, 2 + np.arange(n_max)]
    waiting = np.r_[0, 0, 0, np.arange(n_max)]
    busy = np.r_[0, 1, 1, np.full(n_max, 2)]
    return {"mean_sojourn": pi @ number / lam, "mean_wait": pi @ waiting / lam,
            "mean_service": pi @ busy / lam, "utilization": pi @ busy / 2}


def erlang_c_wait(lam: float, servers: int) -> float:
    """M/M/c mean wait with mu = 1 (simlib.theory, validated on its own)."""
    return erlang_c(lam, 1.0, servers)["mean_wait"]


def test_the_ctmc_with_equal_speeds_is_mm2():
    """The oracle's own check: speeds (1, 1) give Erlang C's M/M/2."""
    m = two_speed_ctmc(RATE, 1.0, 1.0)
    assert m["mean_wait"] == pytest.approx(erlang_c_wait(RATE, 2), rel=1e-9)
    assert m["utilization"] == pytest.approx(RATE / 2, rel=1e-9)


@pytest.mark.statistical
def test_two_speed_mm2_against_its_ctmc():
    """lambda = 1.2, speeds (1.5, 0.5), 20 replications of 8 000 time units. Power: a 3% bias
    in the mean sojourn, wait, time in service or utilization is detected with probability
    >= 0.9 (asserted by assert_oracle, with the controls above)."""
    theory = two_speed_ctmc(RATE, FAST, SLOW)
    spec = single_station(rate=RATE, servers=2, horizon=HORIZON, warmup=WARMUP)

    def run(**station):
        return simlib.run({**spec, "stations": [{**spec["stations"][0], **station}]},
                          replications=REPS, seed=7, progress=False)

    fast, equal, single = run(speeds=[SLOW, FAST]), run(speeds=[1.0, 1.0]), run(servers=1, speeds=[2.0])
    mm1_wait = (RATE / 2) / (2 - RATE)
    controls = np.column_stack([
        known_controls(fast, {("s", "arrivals"): RATE * HORIZON}),
        replication_values(equal, "s", "mean_wait") / erlang_c_wait(RATE, 2) - 1,
        replication_values(single, "s", "mean_wait") / mm1_wait - 1,
    ])
    assert_oracle({f"s.{m}": (replication_values(fast, "s", m), theory[m]) for m in theory},
                  controls)


def test_the_fastest_idle_server_takes_the_next_customer(tmp_csv):
    """Requirements 1.2 arriving at 0 and 0.1 on speeds (1, 3), listed slow first: the first
    takes the fast server (0.4), the second the slow one (1.2); then at 2.0 the fast one again."""
    trace = tmp_csv("a.csv", "time\n0\n0.1\n2.0\n")
    spec = single_station(servers=2, horizon=10.0, warmup=0.0, speeds=[1.0, 3.0],
                          service={"dist": "deterministic", "value": 1.2})
    spec["classes"][0]["arrivals"] = {"trace": str(trace)}
    net = ServiceNetwork(load_scenario(spec), seed=1, record=True)
    out = net.run()
    assert net.visits is not None
    assert [round(v[5] - v[4], 9) for v in net.visits] == [0.4, 1.2, 0.4]
    assert out["s"]["mean_service"] == pytest.approx(2.0 / 3)
    assert out["s"]["utilization"] == pytest.approx(2.0 / 20)


def test_speeds_with_preemption_resume_on_the_server_that_is_free(tmp_csv):
    """One server of speed 2 and pre-emptive resume: lo (requirement 1) from 0, hi from 0.25
    to 0.75, lo's remaining 0.5 of work takes 0.25: it leaves at 1.0."""
    lo, hi = tmp_csv("lo.csv", "time\n0\n"), tmp_csv("hi.csv", "time\n0.25\n")
    spec = {"name": "sp", "horizon": 10.0,
            "classes": [{"name": "hi", "arrivals": {"trace": str(hi)}, "priority": 0},
                        {"name": "lo", "arrivals": {"trace": str(lo)}, "priority": 1}],
            "stations": [{"name": "s", "servers": 1, "speeds": [2.0], "discipline": "preemptive",
                          "service": {"dist": "deterministic", "value": 1.0}}]}
    out = ServiceNetwork(load_scenario(spec), seed=1).run()
    assert out["lo"]["mean_sojourn"] == pytest.approx(1.0)
    assert out["lo"]["mean_service"] == pytest.approx(0.5)
    assert out["hi"]["mean_sojourn"] == pytest.approx(0.5)
