"""Statistical validation: simulation against the analytic queueing oracles.

Each test simulates a model with a known steady-state answer under fixed
seeds and checks that the analytic value lies inside the simulated 99%
t-interval over independent replications (docs/development.md#tests). Horizons are
long enough that the intervals are a few percent wide, so a biased engine
fails while noise alone does not.
"""

from __future__ import annotations

import numpy as np
import pytest
from support import SCENARIOS, assert_all_covered, assert_covers, replication_values, single_station

import simlib
from simlib.theory import queueing

pytestmark = pytest.mark.statistical


def test_mm1():
    res = simlib.run(single_station(rate=0.8, horizon=20_000, warmup=1_000), replications=12, seed=11)
    theory = queueing.mm1(0.8, 1.0)
    metrics = ("p_wait", "mean_wait", "mean_queue", "mean_in_system", "mean_sojourn", "utilization")
    assert_all_covered(res, "s", theory, metrics)
    assert_all_covered(res, "system", theory, metrics)


def test_mmc_erlang_c_with_service_level():
    scn = simlib.load_scenario(SCENARIOS / "call_centre.yaml").with_overrides({"horizon": 5_000})
    res = simlib.run(scn, replications=12, seed=5)
    c = scn.station("agents").servers
    rate = scn.classes[0].arrivals.rate
    theory = queueing.erlang_c(rate, 3.0, c, threshold=scn.service_level.threshold)
    metrics = ("p_wait", "mean_wait", "asa", "service_level", "mean_queue", "utilization", "mean_sojourn")
    assert_all_covered(res, "agents", theory, metrics)


@pytest.mark.parametrize("queue_capacity", [0, 3])
def test_mmck_blocking(queue_capacity):
    spec = single_station(rate=2.0, servers=2, horizon=10_000, warmup=200, queue_capacity=queue_capacity)
    res = simlib.run(spec, replications=10, seed=7)
    theory = queueing.mmck(2.0, 1.0, 2, 2 + queue_capacity)
    metrics = ("p_blocked", "mean_queue", "mean_in_system", "throughput", "utilization")
    assert_all_covered(res, "s", theory, metrics)
    if queue_capacity == 0:
        assert_covers(res, "s", "p_blocked", queueing.erlang_b(2.0, 2))
    else:
        assert_covers(res, "s", "mean_wait", theory["mean_wait"])


@pytest.mark.parametrize(
    "service, cv",
    [({"dist": "deterministic", "value": 1.0}, 0.0), ({"dist": "erlang", "mean": 1.0, "k": 4}, 0.5)],
    ids=["M/D/1", "M/E4/1"],
)
def test_pollaczek_khinchine(service, cv):
    res = simlib.run(single_station(rate=0.75, service=service, horizon=20_000, warmup=1_000),
                     replications=12, seed=3)
    theory = queueing.mg1(0.75, 1.0, cv)
    assert_all_covered(res, "s", theory, ("mean_wait", "mean_queue", "mean_in_system", "mean_sojourn"))


def test_erlang_a_abandonment():
    spec = single_station(rate=10.0, servers=10, horizon=2_000, warmup=100)
    spec["classes"][0]["patience"] = {"dist": "exponential", "mean": 2.0}
    spec["targets"] = {"service_level": {"threshold": 0.2, "target": 0.8}}
    res = simlib.run(spec, replications=12, seed=21)
    theory = queueing.erlang_a(10.0, 1.0, 10, 2.0, threshold=0.2)
    assert_all_covered(res, "s", theory, ("p_abandon", "p_wait", "mean_queue", "mean_wait", "service_level"))


def test_two_class_priority_cobham():
    spec = single_station(horizon=20_000, warmup=1_000, discipline="priority")
    spec["classes"] = [
        {"name": "urgent", "arrivals": {"rate": 0.3}, "priority": 0},
        {"name": "routine", "arrivals": {"rate": 0.5}, "priority": 1},
    ]
    res = simlib.run(spec, replications=12, seed=9)
    urgent, routine = queueing.priority_mg1([0.3, 0.5], [1.0, 1.0], [2.0, 2.0])
    assert_covers(res, "urgent", "mean_wait", urgent["mean_wait"])
    assert_covers(res, "routine", "mean_wait", routine["mean_wait"])
    # The ordering is the mechanism, and it is large: urgent waits far less.
    assert res.value("urgent", "mean_wait") < 0.4 * res.value("routine", "mean_wait")


def test_jackson_network_with_feedback_loop():
    scn = simlib.load_scenario(SCENARIOS / "value_chain.yaml").with_overrides({"horizon": 8_000})
    res = simlib.run(scn, replications=12, seed=13)
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
    for i, name in enumerate(names):
        assert_all_covered(res, name, theory["stations"][i], ("mean_wait", "mean_queue", "utilization"))
    assert_all_covered(res, "system", theory["system"], ("mean_in_system", "mean_sojourn", "mean_queue", "mean_wait"))


@pytest.mark.parametrize(
    "path", ["call_centre.yaml", "value_chain.yaml", "bank_branch_day.yaml"]
)
def test_littles_law_holds_on_every_run(path):
    res = simlib.run(SCENARIOS / path, replications=5, seed=2)
    scn = res.scenario
    scopes = [s.name for s in scn.stations] + [c.name for c in scn.classes] + ["system"]
    for scope in scopes:
        queue = replication_values(res, scope, "mean_queue")
        rate = replication_values(res, scope, "arrivals") / scn.horizon
        wait = replication_values(res, scope, "mean_wait")
        blocked = replication_values(res, scope, "p_blocked")
        little = rate * (1 - blocked) * wait  # admitted arrivals x time in queue
        assert np.allclose(queue, little, rtol=0.05, atol=0.02), (scope, queue, little)
