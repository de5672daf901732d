"""Agent pools (multi-skill routing), validated four ways.

1. One pool is today's station: same seed, same numbers, every metric (shifts, priority,
   patience and a queue limit included).
2. Two fully cross-trained pools with the same service times are one merged M/M/c (Erlang C).
3. The "N-model" (class ``one`` served by pool A only, class ``two`` by pool B first and
   pool A at once when B is busy; priority to ``one``; a finite waiting room) against its
   continuous-time Markov chain, built and solved with numpy here.
4. A three-class, two-pool centre with overflow delays, patience and longest-idle selection,
   side by side with an independent SimPy model written here (one process per call, one
   FIFO list of waiting calls scanned in arrival order): Holm-corrected Welch tests over 100
   replications of each, with their power stated and asserted.

Statistical tests state and assert their power (``support.assert_oracle``, or the Welch
family's own bound below); the key-by-key validation of the scenario keys is at the end.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
import simpy
from support import (
    assert_oracle,
    assert_peer_agreement,
    known_controls,
    oracle_samples,
    replication_values,
)

import simlib
from simlib.engine.network import ServiceNetwork
from simlib.spec.scenario import ScenarioError, from_dict
from simlib.theory import queueing

EXP = "exponential"


def _exp(mean: float) -> dict[str, Any]:
    return {"dist": EXP, "mean": mean}


def _same(m1: dict, m2: dict) -> list[str]:
    """The (scope, metric) pairs where two replications' metrics differ (NaN equals NaN)."""
    diff = [f"{s}.{k}" for s in m1 for k in m1[s]
            if not (m1[s][k] == m2[s][k] or (math.isnan(m1[s][k]) and math.isnan(m2[s][k])))]
    if m1.keys() != m2.keys():
        diff.append(f"scopes {sorted(m1)} != {sorted(m2)}")
    return diff


# --------------------------------------------------------------------------- 1. one pool


PLAIN = {
    "horizon": 2_000,
    "warmup": 100,
    "classes": [
        {"name": "a", "arrivals": {"rate": 1.5}, "patience": _exp(5.0), "priority": 1},
        {"name": "b", "arrivals": {"rate": 0.8}},
    ],
    "stations": [
        {"name": "s",
         "shifts": [{"start": 0, "end": 1_000, "servers": 4}, {"start": 1_000, "end": 2_000, "servers": 3}],
         "service": {"a": _exp(1.5), "b": {"dist": "lognormal", "mean": 2.0, "cv": 1.2}},
         "discipline": "priority", "queue_capacity": 10},
        {"name": "t", "servers": 2, "service": _exp(0.8)},
    ],
    "routing": {"s": {"t": 0.3, "exit": 0.7}},
    "targets": {"service_level": {"threshold": 0.5, "target": 0.8}},
}


def _one_pool(plain: dict) -> dict:
    """The same scenario with station ``s`` as one pool serving every class."""
    spec = copy.deepcopy(plain)
    st = spec["stations"][0]
    pool = {"name": "all", "service": st.pop("service")}
    for key in ("servers", "shifts"):
        if key in st:
            pool[key] = st.pop(key)
    st["pools"] = [pool]
    st["policies"] = {"a": {"pools": ["all"]}, "b": {"pools": ["all"]}}
    return spec


@pytest.mark.parametrize("variant", ["shifts-priority", "servers-fifo-one-dist"])
def test_one_pool_is_todays_station(variant):
    plain = copy.deepcopy(PLAIN)
    if variant == "servers-fifo-one-dist":
        st = plain["stations"][0]
        del st["shifts"], st["discipline"]
        st["servers"], st["service"] = 3, _exp(1.2)
    scn_plain, scn_pool = from_dict(plain), from_dict(_one_pool(plain))
    for rep in range(3):
        m1 = ServiceNetwork(scn_plain, 11, rep).run()
        m2 = ServiceNetwork(scn_pool, 11, rep).run()
        pool = m2.pop("s/all")
        assert not _same(m1, m2)
        # the pool is the whole station
        assert pool["utilization"] == pytest.approx(m1["s"]["utilization"], rel=1e-12)
        assert pool["throughput"] == m1["s"]["throughput"]
        assert pool["handled_a"] + pool["handled_b"] == pool["handled"]


# --------------------------------------------------------------------------- 2. merged M/M/c


@pytest.mark.statistical
def test_cross_trained_pools_are_one_merged_mmc():
    """Pools of 3 and 2 agents, both serving both classes at once in either order (longest
    idle first), exponential mean 1: the station is M/M/5 at utilisation 0.8. Power: a 3%
    bias in any checked metric is detected with probability >= 0.9 (mean wait is the widest,
    +-2.0%)."""
    horizon = 30_000
    spec = {
        "horizon": horizon, "warmup": 500,
        "classes": [{"name": "x", "arrivals": {"rate": 2.5}}, {"name": "y", "arrivals": {"rate": 1.5}}],
        "stations": [{
            "name": "s",
            "pools": [{"name": "A", "servers": 3, "service": _exp(1.0)},
                      {"name": "B", "servers": 2, "service": _exp(1.0)}],
            "selection": "longest_idle",
            "policies": {"x": {"pools": ["A", "B"]}, "y": {"pools": ["B", "A"], "overflow_after": 0}},
        }],
    }
    res = simlib.run(spec, replications=30, seed=3, progress=False)
    theory = queueing.erlang_c(4.0, 1.0, 5)
    controls = known_controls(res, {("x", "arrivals"): 2.5 * horizon, ("y", "arrivals"): 1.5 * horizon,
                                    ("s", "mean_service"): 1.0})
    assert_oracle(oracle_samples(res, "s", theory, ("p_wait", "mean_wait", "mean_queue", "utilization")),
                  controls)
    # the agents of both pools share the work: 4 busy on average
    busy = replication_values(res, "s/A", "mean_busy") + replication_values(res, "s/B", "mean_busy")
    assert busy.mean() == pytest.approx(4.0, rel=0.01)


# --------------------------------------------------------------------------- 3. N-model CTMC

N_RATES = {"one": 1.0, "two": 1.2}
N_MEANS = {("A", "one"): 1.0, ("A", "two"): 1.5, ("B", "two"): 0.8}
N_AGENTS = {"A": 2, "B": 1}
N_ROOM = 3  # waiting places (queue_capacity: both classes together)


State = tuple[int, ...]


def n_model_ctmc() -> dict[str, float]:
    """Steady state of the N-model as a CTMC on (x1, x2, y, q1, q2).

    x1, x2: A agents serving class one, two; y: B agents busy; q1, q2: calls waiting. Class
    two takes a free B agent first, else a free A agent; a freed A agent takes class one
    first (priority), then class two; a freed B agent takes class two. Arrivals finding no
    agent and ``q1 + q2 == N_ROOM`` are blocked.
    """
    a, b, room = N_AGENTS["A"], N_AGENTS["B"], N_ROOM
    l1, l2 = N_RATES["one"], N_RATES["two"]
    r1a, r2a, r2b = (1 / N_MEANS[k] for k in (("A", "one"), ("A", "two"), ("B", "two")))

    def after_a(x1: int, x2: int, y: int, q1: int, q2: int) -> State:
        if q1:
            return (x1 + 1, x2, y, q1 - 1, q2)
        if q2:
            return (x1, x2 + 1, y, q1, q2 - 1)
        return (x1, x2, y, q1, q2)

    def moves(s: State) -> list[tuple[State, float]]:
        x1, x2, y, q1, q2 = s
        out: list[tuple[State, float]] = []
        if x1 + x2 < a:
            out.append(((x1 + 1, x2, y, q1, q2), l1))
        elif q1 + q2 < room:
            out.append(((x1, x2, y, q1 + 1, q2), l1))
        if y < b:
            out.append(((x1, x2, y + 1, q1, q2), l2))
        elif x1 + x2 < a:
            out.append(((x1, x2 + 1, y, q1, q2), l2))
        elif q1 + q2 < room:
            out.append(((x1, x2, y, q1, q2 + 1), l2))
        if x1:
            out.append((after_a(x1 - 1, x2, y, q1, q2), x1 * r1a))
        if x2:
            out.append((after_a(x1, x2 - 1, y, q1, q2), x2 * r2a))
        if y:
            nxt = (x1, x2, y, q1, q2 - 1) if q2 else (x1, x2, y - 1, q1, q2)
            out.append((nxt, y * r2b))
        return out

    index: dict[State, int] = {}
    edges: list[tuple[State, State, float]] = []
    todo: list[State] = [(0, 0, 0, 0, 0)]
    index[todo[0]] = 0
    while todo:
        s = todo.pop()
        for t, rate in moves(s):
            if t not in index:
                index[t] = len(index)
                todo.append(t)
            edges.append((s, t, rate))
    n = len(index)
    q = np.zeros((n, n))
    for s, t, rate in edges:
        if s != t:
            q[index[s], index[t]] += rate
            q[index[s], index[s]] -= rate
    lhs = q.T.copy()
    lhs[-1, :] = 1.0
    rhs = np.zeros(n)
    rhs[-1] = 1.0
    pi = np.linalg.solve(lhs, rhs)
    states = np.array(list(index), dtype=float)
    x1, x2, y, q1, q2 = states.T
    full_a, full_room = x1 + x2 == a, q1 + q2 == room
    pb1 = pi[full_a & full_room].sum()
    pb2 = pi[full_a & full_room & (y == b)].sum()
    return {
        "one.mean_wait": pi @ q1 / (l1 * (1 - pb1)),
        "two.mean_wait": pi @ q2 / (l2 * (1 - pb2)),
        "one.p_blocked": pb1,
        "two.p_blocked": pb2,
        "c/A.utilization": pi @ (x1 + x2) / a,
        "c/B.utilization": pi @ y / b,
        "c/A.handled_two": pi @ x2 * r2a,  # per time unit
    }


@pytest.mark.statistical
def test_n_model_against_its_markov_chain():
    """The N-model against its CTMC (exact: the waiting room is finite in both). Power: a 3%
    bias in any checked metric is detected with probability >= 0.9 (class one's blocking is
    the widest, +-1.9%)."""
    horizon = 20_000
    spec = {
        "horizon": horizon, "warmup": 500,
        "classes": [{"name": "one", "arrivals": {"rate": N_RATES["one"]}, "priority": 0},
                    {"name": "two", "arrivals": {"rate": N_RATES["two"]}, "priority": 1}],
        "stations": [{
            "name": "c", "discipline": "priority", "queue_capacity": N_ROOM,
            "pools": [{"name": "A", "servers": N_AGENTS["A"],
                       "service": {"one": _exp(N_MEANS["A", "one"]), "two": _exp(N_MEANS["A", "two"])}},
                      {"name": "B", "servers": N_AGENTS["B"], "service": _exp(N_MEANS["B", "two"])}],
            "selection": "pool_order",
            "policies": {"one": {"pools": ["A"]}, "two": {"pools": ["B", "A"], "overflow_after": 0}},
        }],
    }
    res = simlib.run(spec, replications=36, seed=8, progress=False)
    theory = n_model_ctmc()
    samples = {}
    for label, value in theory.items():
        scope, metric = label.split(".")
        values = replication_values(res, scope, metric)
        if metric.startswith("handled"):
            values = values / horizon
        samples[label] = (values, value)
    controls = known_controls(res, {("one", "arrivals"): N_RATES["one"] * horizon,
                                    ("two", "arrivals"): N_RATES["two"] * horizon})
    assert_oracle(samples, controls)


# --------------------------------------------------------------------------- 4. SimPy peer

CENTRE_POOLS = {"general": 6, "specialist": 3}
#: class -> (arrival rate, patience mean, pools in order, overflow_after, {pool: mean service})
CENTRE_CLASSES = {
    "regular": (1.8, 4.0, ("general", "specialist"), 0.5, {"general": 3.0, "specialist": 3.5}),
    "stock": (0.7, 4.0, ("specialist", "general"), 1.0, {"specialist": 2.0, "general": 4.0}),
    "internet": (0.5, 4.0, ("specialist", "general"), 0.0, {"specialist": 2.5, "general": 3.0}),
}


def centre_scenario(horizon: float, warmup: float) -> dict[str, Any]:
    """The three-class, two-pool centre as a simlib scenario."""
    return {
        "horizon": horizon, "warmup": warmup,
        "classes": [{"name": k, "arrivals": {"rate": lam}, "patience": _exp(pat)}
                    for k, (lam, pat, _, _, _) in CENTRE_CLASSES.items()],
        "stations": [{
            "name": "contact",
            "pools": [{"name": p, "servers": n,
                       "service": {k: _exp(v[4][p]) for k, v in CENTRE_CLASSES.items() if p in v[2]}}
                      for p, n in CENTRE_POOLS.items()],
            "selection": "longest_idle",
            "policies": {k: {"pools": list(v[2]), "overflow_after": v[3]} for k, v in CENTRE_CLASSES.items()},
        }],
    }


def simpy_centre(horizon: float, warmup: float, seed: int) -> dict[str, float]:
    """The same centre written directly in SimPy (independent of simlib's engine).

    One process per call. Idle agents of a pool are a list of the times they became idle;
    waiting calls are one list in arrival order. A call takes the longest idle agent of the
    pools it may use now (the primary only until it has waited ``overflow_after``); a freed
    agent scans the waiting calls in arrival order for the first it may serve.
    """
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    end = warmup + horizon
    idle = {p: [0.0] * n for p, n in CENTRE_POOLS.items()}
    busy = dict.fromkeys(CENTRE_POOLS, 0.0)
    handled = {(p, k): 0 for p in CENTRE_POOLS for k in CENTRE_CLASSES}
    n = dict.fromkeys(CENTRE_CLASSES, 0)
    waits = dict.fromkeys(CENTRE_CLASSES, 0.0)
    lost = dict.fromkeys(CENTRE_CLASSES, 0)
    queue: list[tuple[str, float, simpy.Event]] = []  # (class, arrival time, grant)

    def may_serve(pool: str, call: tuple[str, float, simpy.Event]) -> bool:
        _, _, pools, delay, _ = CENTRE_CLASSES[call[0]]
        return pool == pools[0] or (pool in pools and env.now - call[1] >= delay)

    def longest_idle(pools: tuple[str, ...]) -> str | None:
        free = [p for p in pools if idle[p]]
        return min(free, key=lambda p: idle[p][0]) if free else None

    def call(k: str):
        t0 = env.now
        counted = warmup <= t0 < end
        _, pat, pools, delay, means = CENTRE_CLASSES[k]
        need = {p: rng.exponential(means[p]) for p in pools}
        patience = env.timeout(rng.exponential(pat))
        pool = longest_idle(pools if delay == 0 else pools[:1])
        if pool is not None:
            idle[pool].pop(0)
        else:
            entry = (k, t0, env.event())
            queue.append(entry)
            overflow = env.timeout(delay) if delay > 0 else None
            while pool is None:
                watch: list[simpy.Event] = [entry[2], patience]
                fired = yield env.any_of(watch + ([overflow] if overflow is not None else []))
                if entry[2].triggered:
                    pool = entry[2].value
                elif patience in fired:
                    queue.remove(entry)
                    if counted:
                        n[k] += 1
                        waits[k] += env.now - t0
                        lost[k] += 1
                    return
                else:
                    overflow = None
                    pool = longest_idle(pools)
                    if pool is not None:
                        queue.remove(entry)
                        idle[pool].pop(0)
        start = env.now
        if counted:
            n[k] += 1
            waits[k] += start - t0
        yield env.timeout(need[pool])
        busy[pool] += max(0.0, min(env.now, end) - max(start, warmup))
        if counted:
            handled[pool, k] += 1
        for entry in queue:
            if may_serve(pool, entry):
                queue.remove(entry)
                entry[2].succeed(pool)
                return
        idle[pool].append(env.now)

    def source(k: str, rate: float):
        while True:
            yield env.timeout(rng.exponential(1 / rate))
            env.process(call(k))

    for k, v in CENTRE_CLASSES.items():
        env.process(source(k, v[0]))
    env.run(until=end + 200)  # the drain: every counted call has left by then
    out = {}
    for k in CENTRE_CLASSES:
        out[f"{k}.mean_wait"] = waits[k] / n[k]
        out[f"{k}.p_abandon"] = lost[k] / n[k]
    for p, agents in CENTRE_POOLS.items():
        out[f"contact/{p}.utilization"] = busy[p] / (agents * horizon)
    for p, k in (("specialist", "regular"), ("general", "stock"), ("general", "internet")):
        out[f"contact/{p}.handled_{k}"] = float(handled[p, k])
    return out


@pytest.mark.statistical
def test_side_by_side_with_a_simpy_model():
    """simlib against the SimPy model (about 0.9 of the agents busy), 100 replications each.
    Power: a relative difference of 10% in any one metric is detected with probability >= 0.9
    (Bonferroni bound, which Holm beats; the internet calls' abandonment is the widest)."""
    horizon, warmup, reps = 1_800.0, 100.0, 100
    res = simlib.run(centre_scenario(horizon, warmup), replications=reps, seed=4, progress=False)
    peer_runs = [simpy_centre(horizon, warmup, 10_000 + r) for r in range(reps)]
    labels = list(peer_runs[0])
    peer = {label: np.array([run[label] for run in peer_runs]) for label in labels}
    ours = {label: replication_values(res, *label.split(".")) for label in labels}
    assert_peer_agreement(ours, peer)


# --------------------------------------------------------------------------- behaviour


def test_overflow_waits_for_the_primary_pool_first():
    """With a long overflow delay and no patience, a call never reaches the second pool before
    waiting that long; with 0 it does at once."""
    spec = centre_scenario(500.0, 0.0)
    for k in spec["classes"]:
        del k["patience"]
    spec["stations"][0]["policies"] = {k: {"pools": ["general", "specialist"], "overflow_after": 1e6}
                                       for k in CENTRE_CLASSES}
    scn = from_dict(spec)
    m = ServiceNetwork(scn, 1, 0).run()
    assert m["contact/specialist"]["handled"] == 0
    assert m["contact/specialist"]["utilization"] == 0
    spec["stations"][0]["policies"] = {k: {"pools": ["general", "specialist"], "overflow_after": 0}
                                       for k in CENTRE_CLASSES}
    m = ServiceNetwork(from_dict(spec), 1, 0).run()
    assert m["contact/specialist"]["handled"] > 0


def test_pool_shifts_change_the_agents():
    """A pool with no agents in its second shift serves nobody then; the waiting calls overflow."""
    spec = centre_scenario(1_000.0, 0.0)
    spec["stations"][0]["pools"][1]["shifts"] = [{"start": 0, "end": 500, "servers": 3},
                                                {"start": 500, "end": 1_000, "servers": 0}]
    del spec["stations"][0]["pools"][1]["servers"]
    net = ServiceNetwork(from_dict(spec), 2, 0, record=True)
    m = net.run()
    specialist = next(p for p in net.stations[0].pools.pools if p.name == "specialist")
    assert specialist.capacity == 0
    assert 0 < m["contact/specialist"]["utilization"] <= 1
    scn = from_dict(spec)
    assert scn.stations[0].server_time(0, 1_000) == 6 * 1_000 + 3 * 500


def test_results_summary_has_pool_scopes():
    res = simlib.run(centre_scenario(200.0, 0.0), replications=2, seed=1, progress=False)
    scopes = set(res.summary()["scope"])
    assert {"contact/general", "contact/specialist", "regular", "contact", "system"} <= scopes


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.update(selection="random"), "stations[0].selection: must be longest_idle or pool_order"),
        (lambda s: s["policies"]["stock"].update(overflow_after=-1),
         "stations[0].policies.stock.overflow_after: must be at least 0"),
        (lambda s: s["policies"]["stock"].update(overflow_after="soon"),
         "stations[0].policies.stock.overflow_after: must be a number"),
        (lambda s: s["policies"]["stock"].update(pools=["x"]), "stations[0].policies.stock.pools[0]: unknown pool 'x'"),
        (lambda s: s["policies"]["stock"].update(pools=["general", "general"]),
         "stations[0].policies.stock.pools[1]: pool 'general' is listed twice"),
        (lambda s: s["policies"]["stock"].update(pools=[]), "stations[0].policies.stock.pools: must be a non-empty list"),
        (lambda s: s["policies"]["stock"].update(order=1), "stations[0].policies.stock.order: unknown key"),
        (lambda s: s["policies"].pop("stock"), "stations[0].policies: no policy for class 'stock'"),
        (lambda s: s["policies"].update(bogus={"pools": ["general"]}), "stations[0].policies.bogus: unknown class"),
        (lambda s: s.pop("policies"), "stations[0].policies: is required with pools"),
        (lambda s: s.update(pools=[]), "stations[0].pools: must be a non-empty list of pools"),
        (lambda s: s["pools"][0].update(servers=0), "stations[0].pools[0].servers: must be a positive integer"),
        (lambda s: s["pools"][0].update(shifts=[]), "stations[0].pools[0]: give exactly one of servers, shifts"),
        (lambda s: s["pools"][0].update(name="specialist"), "stations[0].pools[1].name: duplicate pool name"),
        (lambda s: s["pools"][0].update(name="a/b"), "stations[0].pools[0].name: must not contain '/'"),
        (lambda s: s["pools"][0].update(colour=1), "stations[0].pools[0].colour: unknown key"),
        (lambda s: s["pools"][1]["service"].pop("stock"),
         "stations[0].pools[1].service: no service time for class 'stock'"),
        (lambda s: s["pools"][0]["service"].update(vip=_exp(1)), "stations[0].pools[0].service.vip: unknown class"),
        (lambda s: s["pools"][0]["service"]["regular"].update(mean=-1),
         "stations[0].pools[0].service.regular.mean: must be positive"),
        (lambda s: s.update(service=_exp(1)), "stations[0].service: a station with pools gives service times per pool"),
        (lambda s: s.update(servers=3), "stations[0].servers: a station with pools gives servers or shifts per pool"),
        (lambda s: s.update(discipline="lifo"), "stations[0].discipline: a station with pools supports fifo or priority"),
    ],
)
def test_bad_pool_keys_are_one_line_errors(edit, message):
    spec = centre_scenario(100.0, 0.0)
    edit(spec["stations"][0])
    with pytest.raises(ScenarioError) as err:
        from_dict(spec)
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)


def test_policies_without_pools_are_refused():
    spec = copy.deepcopy(PLAIN)
    spec["stations"][1]["policies"] = {}
    with pytest.raises(ScenarioError, match=r"^stations\[1\]\.policies: is allowed only with pools"):
        from_dict(spec)
    spec = copy.deepcopy(PLAIN)
    del spec["stations"][1]["service"]
    with pytest.raises(ScenarioError, match=r"^stations\[1\]\.service: is required"):
        from_dict(spec)


def test_a_pool_nobody_uses_is_refused():
    spec = centre_scenario(100.0, 0.0)
    spec["stations"][0]["pools"].append({"name": "idle", "servers": 1, "service": _exp(1)})
    with pytest.raises(ScenarioError, match=r"^stations\[0\]\.pools\[2\]\.name: pool 'idle' is listed in no"):
        from_dict(spec)


def test_overrides_reach_pool_keys():
    scn = from_dict(centre_scenario(100.0, 0.0))
    more = scn.with_overrides({"stations.contact.pools.specialist.servers": 5})
    assert more.stations[0].pools.pool("specialist").servers == 5
    assert more.stations[0].servers == 11
