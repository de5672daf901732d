"""Statistical validation: simulation against the analytic queueing oracles.

Each test simulates a model with a known steady-state answer under fixed seeds and checks
that every analytic value lies inside its simulated interval: a t-interval over independent
replications, made narrower by control variates with known means (the arrival count and the
mean service time of each replication), at a joint level of 99% (Bonferroni over the metrics
one test checks), so a correct engine fails a test by chance at most once in a hundred seeds
(docs/development.md#tests).

Each test also states and asserts its power (``support.assert_oracle``): every interval's
relative half-width is small enough that a 3% bias in that metric (the engine's expected value
3% off the theory) is detected with probability >= 0.9, and, as a meta-test that the check can
fail, the same check rejects each simulated metric multiplied by 1.03 and by 0.97. The
half-widths are printed (``pytest -s``); the longest runs are those of the heavy-traffic means
(mean wait and queue at utilisation 0.8 and more), whose variance falls only as 1/horizon.
"""

from __future__ import annotations

import numpy as np
import pytest
from support import (
    BIAS,
    SCENARIOS,
    assert_oracle,
    known_controls,
    oracle_samples,
    replication_values,
    single_station,
)

import simlib
from simlib.theory import queueing

pytestmark = pytest.mark.statistical


def test_mm1():
    """M/M/1 at utilisation 0.8. Power: a 3% bias in any of the six metrics is detected with
    probability >= 0.9 (mean wait and mean queue +-1.7%, where the power needs +-2.2%)."""
    horizon = 70_000
    res = simlib.run(single_station(rate=0.8, horizon=horizon, warmup=1_000), replications=40,
                     seed=11)
    theory = queueing.mm1(0.8, 1.0)
    metrics = ("p_wait", "mean_wait", "mean_queue", "mean_in_system", "mean_sojourn", "utilization")
    controls = known_controls(res, {("s", "arrivals"): 0.8 * horizon, ("s", "mean_service"): 1.0})
    assert_oracle(oracle_samples(res, "s", theory, metrics), controls)
    # one station is the whole system: the system scope reports the same numbers
    for metric in metrics:
        assert replication_values(res, "system", metric) == pytest.approx(
            replication_values(res, "s", metric), rel=1e-12)


def test_mmc_erlang_c_with_service_level():
    """M/M/14 (the call centre, utilisation 0.71). Power: a 3% bias in any checked metric is
    detected with probability >= 0.9 (mean wait and mean queue are the widest, +-1.9%)."""
    horizon = 70_000
    scn = simlib.load_scenario(SCENARIOS / "call_centre.yaml").with_overrides({"horizon": horizon})
    res = simlib.run(scn, replications=40, seed=5)
    c = scn.station("agents").servers
    rate = scn.classes[0].arrivals.rate
    theory = queueing.erlang_c(rate, 3.0, c, threshold=scn.service_level.threshold)
    metrics = ("p_wait", "mean_wait", "service_level", "mean_queue", "utilization", "mean_sojourn")
    controls = known_controls(res, {("agents", "arrivals"): rate * horizon,
                                    ("agents", "mean_service"): 3.0})
    assert_oracle(oracle_samples(res, "agents", theory, metrics), controls)
    # nobody abandons, so the speed of answer is the mean wait of everyone
    assert replication_values(res, "agents", "asa") == pytest.approx(
        replication_values(res, "agents", "mean_wait"), rel=1e-12)


@pytest.mark.parametrize("queue_capacity", [0, 3])
def test_mmck_blocking(queue_capacity):
    """M/M/2/2 (Erlang B) and M/M/2/5. Power: a 3% bias in any checked metric is detected with
    probability >= 0.9 (the blocking probability is the widest, +-0.4% and +-1.3%)."""
    horizon = 5_000
    spec = single_station(rate=2.0, servers=2, horizon=horizon, warmup=200,
                          queue_capacity=queue_capacity)
    res = simlib.run(spec, replications=20, seed=7)
    theory = queueing.mmck(2.0, 1.0, 2, 2 + queue_capacity)
    controls = known_controls(res, {("s", "arrivals"): 2.0 * horizon, ("s", "mean_service"): 1.0})
    if queue_capacity == 0:
        assert theory["p_blocked"] == pytest.approx(queueing.erlang_b(2.0, 2))
        metrics = ("p_blocked", "mean_in_system", "throughput", "utilization")
        # no waiting room: nobody ever queues or waits
        assert not replication_values(res, "s", "mean_queue").any()
        assert not replication_values(res, "s", "mean_wait").any()
    else:
        metrics = ("p_blocked", "mean_queue", "mean_in_system", "throughput", "utilization",
                   "mean_wait")
    assert_oracle(oracle_samples(res, "s", theory, metrics), controls)


@pytest.mark.parametrize(
    "service, cv",
    [({"dist": "deterministic", "value": 1.0}, 0.0), ({"dist": "erlang", "mean": 1.0, "k": 4}, 0.5)],
    ids=["M/D/1", "M/E4/1"],
)
def test_pollaczek_khinchine(service, cv):
    """M/D/1 and M/E4/1 at utilisation 0.75. Power: a 3% bias in any checked metric is
    detected with probability >= 0.9 (mean wait and mean queue are the widest, +-1.7%)."""
    horizon = 25_000
    res = simlib.run(single_station(rate=0.75, service=service, horizon=horizon, warmup=1_000),
                     replications=40, seed=3)
    theory = queueing.mg1(0.75, 1.0, cv)
    known = {("s", "arrivals"): 0.75 * horizon}
    if cv > 0:  # a deterministic service time has no deviation to control for
        known[("s", "mean_service")] = 1.0
    metrics = ("mean_wait", "mean_queue", "mean_in_system", "mean_sojourn")
    assert_oracle(oracle_samples(res, "s", theory, metrics), known_controls(res, known))


def test_erlang_a_abandonment():
    """M/M/10+M (Erlang A). Power: a 3% bias in any checked metric is detected with
    probability >= 0.9 (mean wait and mean queue are the widest, +-1.6%)."""
    horizon = 1_500
    spec = single_station(rate=10.0, servers=10, horizon=horizon, warmup=100)
    spec["classes"][0]["patience"] = {"dist": "exponential", "mean": 2.0}
    spec["targets"] = {"service_level": {"threshold": 0.2, "target": 0.8}}
    res = simlib.run(spec, replications=40, seed=21)
    theory = queueing.erlang_a(10.0, 1.0, 10, 2.0, threshold=0.2)
    metrics = ("p_abandon", "p_wait", "mean_queue", "mean_wait", "service_level")
    controls = known_controls(res, {("s", "arrivals"): 10.0 * horizon, ("s", "mean_service"): 1.0})
    assert_oracle(oracle_samples(res, "s", theory, metrics), controls)


def test_two_class_priority_cobham():
    """Two-class non-preemptive priority M/M/1 at utilisation 0.8 (Cobham). Power: a 3% bias in
    either class's mean wait is detected with probability >= 0.9 (routine +-1.5%)."""
    horizon = 120_000
    spec = single_station(horizon=horizon, warmup=1_000, discipline="priority")
    spec["classes"] = [
        {"name": "urgent", "arrivals": {"rate": 0.3}, "priority": 0},
        {"name": "routine", "arrivals": {"rate": 0.5}, "priority": 1},
    ]
    res = simlib.run(spec, replications=50, seed=9)
    urgent, routine = queueing.priority_mg1([0.3, 0.5], [1.0, 1.0], [2.0, 2.0])
    controls = known_controls(res, {
        ("urgent", "arrivals"): 0.3 * horizon, ("routine", "arrivals"): 0.5 * horizon,
        ("urgent", "mean_service"): 1.0, ("routine", "mean_service"): 1.0,
    })
    assert_oracle(oracle_samples(res, "urgent", urgent, ("mean_wait",))
                  | oracle_samples(res, "routine", routine, ("mean_wait",)), controls)
    # The ordering is the mechanism, and it is large: urgent waits far less.
    assert res.value("urgent", "mean_wait") < 0.4 * res.value("routine", "mean_wait")


def test_jackson_network_with_feedback_loop():
    """Three M/M/c stations with rework (utilisations 0.75, 0.86, 0.32). Power: a 3% bias in
    any of the 13 station and system metrics is detected with probability >= 0.9 (the queues
    at the busy service station and at the rarely visited recovery station are the widest)."""
    horizon = 100_000
    scn = simlib.load_scenario(SCENARIOS / "value_chain.yaml").with_overrides({"horizon": horizon})
    res = simlib.run(scn, replications=40, seed=13)
    names = [s.name for s in scn.stations]
    routing = np.zeros((3, 3))
    for i, src in enumerate(names):
        for dst, p in scn.routing.get(src, {}).items():
            if dst != "exit":
                routing[i, names.index(dst)] = p
    theory = queueing.jackson(
        [1.5, 0.0, 0.0],
        [s.service["customer"].mean for s in scn.stations],
        [s.servers for s in scn.stations],
        routing,
    )
    samples = {}
    for i, name in enumerate(names):
        samples |= oracle_samples(res, name, theory["stations"][i],
                                  ("mean_wait", "mean_queue", "utilization"))
    samples |= oracle_samples(res, "system", theory["system"],
                              ("mean_in_system", "mean_sojourn", "mean_queue", "mean_wait"))
    known = {("system", "arrivals"): 1.5 * horizon}
    known |= {(s.name, "mean_service"): s.service["customer"].mean for s in scn.stations}
    assert_oracle(samples, known_controls(res, known))


@pytest.mark.parametrize(
    "path, horizon",
    # the value chain's rework keeps many customers in the system at the window's edges, so it
    # observes ten times its day to bring the edge effects under 1%
    [("call_centre.yaml", None), ("value_chain.yaml", 9_600), ("bank_branch_day.yaml", None)],
)
def test_littles_law_holds_on_every_run(path, horizon):
    """L = lambda W in every scope: per replication up to the edge effects of a finite window
    (customers present at its start or end), and within 1% over the whole experiment, so a 3%
    bias in the mean wait or the mean queue fails it (checked: the wait times 1.03 fails)."""
    scn = simlib.load_scenario(SCENARIOS / path)
    scn = scn if horizon is None else scn.with_overrides({"horizon": horizon})
    res = simlib.run(scn, replications=5, seed=2)
    scopes = [s.name for s in scn.stations] + [c.name for c in scn.classes] + ["system"]
    for scope in scopes:
        queue = replication_values(res, scope, "mean_queue")
        rate = replication_values(res, scope, "arrivals") / scn.horizon
        wait = replication_values(res, scope, "mean_wait")
        blocked = replication_values(res, scope, "p_blocked")
        little = rate * (1 - blocked) * wait  # admitted arrivals x time in queue
        assert np.allclose(queue, little, rtol=0.05, atol=0.02), (scope, queue, little)
        assert little.sum() == pytest.approx(queue.sum(), rel=0.01), scope
        for factor in (1 + BIAS, 1 - BIAS):
            assert (factor * little).sum() != pytest.approx(queue.sum(), rel=0.01), scope
