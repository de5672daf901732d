"""Blocking after service (``blocking: after_service``): the CTMC of a tandem, Ciw, deadlock.

A customer routed from one station to a full station with ``blocking: after_service`` stays on
its upstream server, which is blocked until a place frees downstream (docs/metrics.md,
section "Blocking after service"). The tests check it against an exact oracle — the
continuous-time Markov chain of a two-station tandem, solved here with numpy — and against
Ciw, whose networks block after service by default; that a cycle of full stations raises
:class:`~simlib.engine.network.DeadlockError` quickly; that ``loss`` (the default) leaves every
seeded result as it was; and that the key is refused where it cannot apply.
"""

from __future__ import annotations

import copy
import pickle
import random
from typing import Any

import numpy as np
import pytest
from support import assert_oracle, assert_peer_agreement, known_controls, oracle_samples

import simlib
from simlib.engine import simulate
from simlib.engine.network import DeadlockError, RunawayError, ServiceNetwork
from simlib.engine.records import Departure
from simlib.spec.scenario import load_scenario
from simlib.spec.validation import ScenarioError

#: The tandem of the oracle: Poisson arrivals at rate LAM to station a (one server, K1 places
#: in all, an arrival finding them full is lost), exponential services of means M1 and M2, and
#: station b with one server and K2 places in all, blocking after service.
LAM, M1, M2, K1, K2 = 0.9, 0.8, 1.0, 4, 2


def tandem(blocking: str = "after_service", horizon: float = 5_000.0,
           warmup: float = 200.0) -> dict[str, Any]:
    return {
        "name": "tandem", "horizon": horizon, "warmup": warmup,
        "classes": [{"name": "c", "arrivals": {"rate": LAM}}],
        "stations": [
            {"name": "a", "servers": 1, "queue_capacity": K1 - 1,
             "service": {"dist": "exponential", "mean": M1}},
            {"name": "b", "servers": 1, "queue_capacity": K2 - 1, "blocking": blocking,
             "service": {"dist": "exponential", "mean": M2}},
        ],
        "routing": {"a": {"b": 1.0}},
    }


def tandem_chain() -> dict[str, float]:
    """The stationary metrics of the tandem, from its CTMC.

    A state is ``(n1, n2, held)``: customers at a (the blocked one included), at b, and
    whether a's server holds a customer blocked on b (only when ``n1 >= 1`` and ``n2 = K2``).
    Arrivals join a when ``n1 < K1``; a's service ends at rate 1/M1 when not blocked, moving
    the customer to b or, when b is full, blocking a's server; b's service ends at rate 1/M2,
    and a customer blocked on b then moves in at once, freeing a's server.
    """
    states = [(n1, n2, 0) for n1 in range(K1 + 1) for n2 in range(K2 + 1)]
    states += [(n1, K2, 1) for n1 in range(1, K1 + 1)]
    index = {s: i for i, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    mu1, mu2 = 1.0 / M1, 1.0 / M2
    for (n1, n2, held), i in index.items():
        moves: list[tuple[tuple[int, int, int], float]] = []
        if n1 < K1:
            moves.append(((n1 + 1, n2, held), LAM))
        if n1 >= 1 and not held:
            moves.append(((n1 - 1, n2 + 1, 0) if n2 < K2 else (n1, n2, 1), mu1))
        if n2 >= 1:
            moves.append(((n1 - 1, n2, 0) if held else (n1, n2 - 1, 0), mu2))
        for target, rate in moves:
            q[i, index[target]] += rate
            q[i, i] -= rate
    # pi Q = 0 with sum(pi) = 1, as least squares on the stacked system.
    a = np.vstack([q.T, np.ones(len(states))])
    b = np.zeros(len(states) + 1)
    b[-1] = 1.0
    pi = np.linalg.lstsq(a, b, rcond=None)[0]
    n1 = np.array([s[0] for s in states])
    n2 = np.array([s[1] for s in states])
    held = np.array([s[2] for s in states])
    return {
        "throughput": float(mu2 * pi[n2 >= 1].sum()),
        "a_in_system": float(pi @ n1),
        "b_in_system": float(pi @ n2),
        "a_blocked_share": float(pi[held == 1].sum()),
        "a_loss": float(pi[n1 == K1].sum()),
        "a_serving": float(pi[(n1 >= 1) & (held == 0)].sum()),
    }


def test_the_chain_conserves_flow():
    # Arrivals admitted to a leave through b; the chain must say so (or it is built wrong).
    theory = tandem_chain()
    assert LAM * (1 - theory["a_loss"]) == pytest.approx(theory["throughput"], rel=1e-9)
    assert theory["a_serving"] / M1 == pytest.approx(theory["throughput"], rel=1e-9)
    assert 0.05 < theory["a_blocked_share"] < 0.5  # blocking matters in this model


# --------------------------------------------------------------------------- (a) the CTMC oracle

#: Replications of the oracle test. Power (assert_oracle asserts it from the replications'
#: spread): the five checks are Bonferroni intervals at a joint 99% (t quantile 3.1 each), and
#: a 3% bias puts the theory value outside an interval with probability >= 0.9 when its
#: half-width is at most 3% x 3.1 / (3.1 + 1.28) = 2.1% of the value. The widest-spread metric,
#: a's blocked share (and its loss probability), has a coefficient of variation of about 4.8%
#: over replications of 5,000 time units (pilot: 20 replications), so 60 replications give a
#: half-width of at most 3.1 x 4.8% / sqrt(60) = 1.9% (the control variates narrow it to about
#: 1.1%), and a 3% bias is detected with power P(Z > (3% - 1.9%) / (1.9% / 3.1)) > 0.96.
ORACLE_REPLICATIONS = 60


def test_a_tandem_blocking_after_service_matches_its_markov_chain():
    theory = tandem_chain()
    res = simlib.run(tandem(), replications=ORACLE_REPLICATIONS, seed=15, progress=False, jobs=1)
    h = res.scenario.horizon
    samples = {
        **oracle_samples(res, "system", {"throughput": theory["throughput"]}, ("throughput",)),
        **oracle_samples(res, "a", {"mean_in_system": theory["a_in_system"],
                                    "utilization_blocked": theory["a_blocked_share"],
                                    "p_blocked": theory["a_loss"]},
                         ("mean_in_system", "utilization_blocked", "p_blocked")),
        **oracle_samples(res, "b", {"mean_in_system": theory["b_in_system"]},
                         ("mean_in_system",)),
    }
    controls = known_controls(res, {("c", "arrivals"): LAM * h, ("a", "mean_service"): M1,
                                    ("b", "mean_service"): M2})
    assert_oracle(samples, controls)


def test_time_blocked_is_booked_consistently():
    # One replication's records against its tallies: the departures' blocked column sums to the
    # class's mean_time_blocked, and Little's law holds at the blocking station a.
    net = ServiceNetwork(load_scenario(tandem(horizon=2_000.0)), 4, 0, record=True)
    m = net.run()
    rows = [Departure(*r) for r in net.departures]
    window = [d for d in rows if net.window_start <= d.t_arrive < net.window_end]
    admitted = [d for d in window if d.outcome != 2]  # 2: Outcome.BLOCKED
    assert sum(d.blocked > 0 for d in window) > 50
    assert np.mean([d.blocked for d in admitted]) == pytest.approx(m["c"]["mean_time_blocked"],
                                                                   rel=1e-9)
    assert m["a"]["mean_in_system"] == pytest.approx(
        m["a"]["throughput"] * m["a"]["mean_sojourn"], rel=0.02)
    assert m["a"]["utilization"] + m["a"]["utilization_blocked"] <= 1 + 1e-9
    assert m["b"]["p_blocked"] == 0.0  # b never turns a routed customer away
    assert m["b"]["utilization_blocked"] == 0.0  # b routes to exit, never blocked


def test_loss_is_the_default_and_changes_nothing():
    absent = tandem()
    del absent["stations"][1]["blocking"]
    ours = simulate(load_scenario(tandem("loss")), 7, 0)
    before = simulate(load_scenario(absent), 7, 0)
    assert ours.metrics == before.metrics
    assert "mean_time_blocked" not in ours.metrics["a"]
    assert load_scenario(absent).stations[1].blocking == "loss"
    # The key is a dotted path like any other, and switching it back gives the same run.
    switched = load_scenario(tandem()).with_overrides({"stations.b.blocking": "loss"})
    assert simulate(switched, 7, 0).metrics == before.metrics


# --------------------------------------------------------------------------- (b) Ciw as a peer

#: The Ciw tandem: a has 2 servers and 2 waiting places, gamma services; b has 1 server and
#: 1 waiting place. Ciw blocks a customer routed to a full node after service, always.
CIW_LAM = 1.0
CIW_A = {"servers": 2, "queue": 2, "mean": 1.6, "cv": 0.5}
CIW_B = {"servers": 1, "queue": 1, "mean": 0.9, "cv": 0.5}
CIW_HORIZON, CIW_WARMUP, CIW_DRAIN = 800.0, 50.0, 60.0
#: At least 100 replications of each simulator, as every Ciw peer test (support's family then
#: asserts that a 10% difference in any one metric is detected with power >= 0.9).
CIW_REPLICATIONS = 100


def ciw_scenario() -> dict[str, Any]:
    def station(name: str, p: dict[str, float], **more: Any) -> dict[str, Any]:
        return {"name": name, "servers": p["servers"], "queue_capacity": p["queue"],
                "service": {"dist": "gamma", "mean": p["mean"], "cv": p["cv"]}, **more}

    return {
        "name": "ciw-tandem", "horizon": CIW_HORIZON, "warmup": CIW_WARMUP,
        "classes": [{"name": "c", "arrivals": {"rate": CIW_LAM}}],
        "stations": [station("a", CIW_A), station("b", CIW_B, blocking="after_service")],
        "routing": {"a": {"b": 1.0}},
    }


def ciw_metrics(records: list[Any]) -> dict[str, float]:
    """The engine's station metrics from Ciw's records (visits arriving in the window)."""
    start, end = CIW_WARMUP, CIW_WARMUP + CIW_HORIZON
    out: dict[str, float] = {}
    for node, name in ((1, "a"), (2, "b")):
        here = [r for r in records if r.node == node]
        counted = [r for r in here if start <= r.arrival_date < end]
        served = [r for r in counted if r.record_type == "service"]
        stays = sum(max(0.0, min(r.exit_date, end) - max(r.arrival_date, start))
                    for r in here if r.record_type == "service")
        out[f"{name}.mean_wait"] = float(np.mean([r.waiting_time for r in served]))
        out[f"{name}.mean_in_system"] = stays / CIW_HORIZON
        if node == 1:
            out["a.p_blocked"] = sum(r.record_type == "rejection" for r in counted) / len(counted)
            out["a.mean_time_blocked"] = float(np.mean([r.time_blocked for r in served]))
            out["a.mean_sojourn"] = float(np.mean([r.exit_date - r.arrival_date for r in served]))
    return out


def test_blocking_after_service_agrees_with_ciw():
    ciw = pytest.importorskip("ciw")

    def gamma(p: dict[str, float]) -> Any:
        shape = 1.0 / p["cv"] ** 2
        return ciw.dists.Gamma(shape, p["mean"] / shape)

    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(CIW_LAM), None],
        service_distributions=[gamma(CIW_A), gamma(CIW_B)],
        number_of_servers=[CIW_A["servers"], CIW_B["servers"]],
        queue_capacities=[CIW_A["queue"], CIW_B["queue"]],
        routing=[[0.0, 1.0], [0.0, 0.0]],
    )
    state = random.getstate()  # Ciw draws from the global generator: restore it afterwards
    try:
        peer_runs = []
        for r in range(CIW_REPLICATIONS):
            ciw.seed(20_000 + r)
            sim = ciw.Simulation(network)
            sim.simulate_until_max_time(CIW_WARMUP + CIW_HORIZON + CIW_DRAIN)
            peer_runs.append(ciw_metrics(sim.get_all_records()))
    finally:
        random.setstate(state)
    res = simlib.run(ciw_scenario(), replications=CIW_REPLICATIONS, seed=2, progress=False, jobs=1)
    assert all(r.censored == 0 for r in res.records)
    labels = list(peer_runs[0])
    ours = {m: np.array([run[m.split(".")[0]][m.split(".")[1]] for run in res.runs])
            for m in labels}
    peer = {m: np.array([p[m] for p in peer_runs]) for m in labels}
    assert np.mean(ours["a.mean_time_blocked"]) > 0.05  # blocking is exercised
    assert_peer_agreement(ours, peer)


# --------------------------------------------------------------------------- (c) deadlock


def loop(horizon: float = 1_000.0) -> dict[str, Any]:
    """Two one-server stations without waiting places that send customers to each other:
    a's customer blocked on b while b's customer, routed back to a, is blocked on a."""
    def station(name: str) -> dict[str, Any]:
        return {"name": name, "servers": 1, "queue_capacity": 0, "blocking": "after_service",
                "service": {"dist": "exponential", "mean": 1.0}}

    return {
        "name": "loop", "horizon": horizon, "warmup": 0.0,
        "classes": [{"name": "c", "arrivals": {"rate": 1.0}}],
        "stations": [station("a"), station("b")],
        "routing": {"a": {"b": 1.0}, "b": {"a": 0.5, "exit": 0.5}},
    }


def test_a_cycle_of_full_stations_raises_deadlock_when_it_forms():
    net = ServiceNetwork(load_scenario(loop()), 1, 0)
    with pytest.raises(DeadlockError) as caught:
        net.run()
    err = caught.value
    message = str(err)
    assert "\n" not in message
    assert message.startswith("loop: deadlock at time ")
    assert "stations a, b" in message
    scenario, stations, at = err.args
    assert stations == ("a", "b") and 0 < at == net.env.now < 1_000.0
    # The state it names is a real deadlock: each server holds a customer blocked on the other.
    assert net.blocking is not None and net.blocking.held == [1, 1]
    assert [len(q) for q in net.blocking.queues] == [1, 1]
    # A runtime failure like the runaway (callers that catch those catch it too), and it
    # survives the trip back from a worker process.
    assert isinstance(err, RunawayError)
    assert str(pickle.loads(pickle.dumps(err))) == message


def test_deadlock_checks_never_hang():
    # Short runs of the loop over many seeds: each either deadlocks (raising, naming both
    # stations; also while draining after the horizon) or ends. A hang would stop the suite
    # rather than fail it; how fast is for benchmarks/, not for a test.
    outcomes = set()
    for r in range(40):
        try:
            simulate(load_scenario(loop(horizon=2.0)), 3, r)
            outcomes.add("ended")
        except DeadlockError as err:
            assert err.args[1] == ("a", "b")
            outcomes.add("deadlock")
    assert outcomes == {"ended", "deadlock"}


def test_a_cycle_that_can_drain_is_no_deadlock():
    # With patience a waiting customer can always leave b's queue, so a cycle of full
    # stations can still move: no deadlock is declared, and the run ends.
    spec = loop(horizon=500.0)
    spec["stations"][1]["queue_capacity"] = 2
    spec["classes"][0]["patience"] = {"dist": "exponential", "mean": 2.0}
    m = simulate(load_scenario(spec), 5, 0).metrics
    assert m["a"]["mean_time_blocked"] > 0


@pytest.mark.filterwarnings("ignore::simlib.experiments.runner.CapacityWarning")
def test_simlib_run_reports_the_deadlock():
    with pytest.raises(DeadlockError, match=r"deadlock at time .*stations a, b"):
        simlib.run(loop(), replications=2, seed=1, progress=False, jobs=1)


# --------------------------------------------------------------------------- (d) bad input


@pytest.mark.parametrize(("change", "message"), [
    ({"queue_capacity": None}, r"^stations\[1\]\.blocking: after_service needs a finite "
                               r"capacity: give queue_capacity$"),
    ({"blocking": "hold"}, r"^stations\[1\]\.blocking: must be one of loss, after_service, "
                           r"got 'hold'$"),
    ({"discipline": "preemptive"}, r"^stations\[1\]\.blocking: after_service is not allowed "
                                   r"with discipline: preemptive$"),
    ({"servers": None, "shifts": [{"start": 0, "end": 5_000, "servers": 1}]},
     r"^stations\[1\]\.blocking: after_service is not allowed with shifts$"),
    ({"servers": "inf", "queue_capacity": None},
     r"^stations\[1\]\.blocking: after_service needs a finite capacity"),
])
def test_blocking_is_refused_where_it_cannot_apply(change, message):
    spec = copy.deepcopy(tandem())
    station = spec["stations"][1]
    for key, value in change.items():
        if value is None:
            station.pop(key)
        else:
            station[key] = value
    with pytest.raises(ScenarioError, match=message):
        load_scenario(spec)


def test_blocked_customers_move_in_in_the_order_they_became_blocked(tmp_path):
    # Deterministic: c0 takes the downstream server (1 -> 11); c1, c2, c3 end their upstream
    # services at 1.5, 1.6, 1.7 and are blocked; they move in at 11, 21 and 31, in that order,
    # even though c3's upstream server was blocked last.
    (tmp_path / "arrivals.csv").write_text("time\n0\n0.5\n0.6\n0.7\n")
    spec = {
        "name": "order", "horizon": 100.0, "warmup": 0.0,
        "classes": [{"name": "c", "arrivals": {"trace": str(tmp_path / "arrivals.csv")}}],
        "stations": [
            {"name": "up", "servers": 4, "service": {"dist": "deterministic", "value": 1.0}},
            {"name": "down", "servers": 1, "queue_capacity": 0, "blocking": "after_service",
             "service": {"dist": "deterministic", "value": 10.0}},
        ],
        "routing": {"up": {"down": 1.0}},
    }
    net = ServiceNetwork(load_scenario(spec), 1, 0, record=True)
    m = net.run()
    down = sorted((v[3], v[0]) for v in net.visits if v[2] == 1)
    assert down == [(1.0, 0), (11.0, 1), (21.0, 2), (31.0, 3)]
    blocked = {d.customer: d.blocked for d in map(Departure._make, net.departures)}
    assert blocked == pytest.approx({0: 0.0, 1: 9.5, 2: 19.4, 3: 29.3})
    assert m["up"]["mean_time_blocked"] == pytest.approx((9.5 + 19.4 + 29.3) / 4)
    assert m["up"]["utilization_blocked"] == pytest.approx((9.5 + 19.4 + 29.3) / (4 * 100.0))
    assert m["up"]["mean_sojourn"] == pytest.approx(1.0 + (9.5 + 19.4 + 29.3) / 4)


def test_a_customer_lost_later_leaves_the_class_mean_time_blocked():
    # a -> b (after_service) -> d (loss, no waiting place): some customers are blocked on b,
    # then turned away at d; the class's mean counts only the admitted ones' blocked time.
    spec = tandem(horizon=2_000.0)
    spec["stations"].append({"name": "d", "servers": 1, "queue_capacity": 0,
                             "service": {"dist": "exponential", "mean": 1.0}})
    spec["routing"]["b"] = {"d": 1.0}
    net = ServiceNetwork(load_scenario(spec), 2, 0, record=True)
    m = net.run()
    rows = [Departure(*r) for r in net.departures
            if net.window_start <= r[2] < net.window_end]
    lost_after_blocking = [d for d in rows if d.outcome == 2 and d.blocked > 0]
    assert lost_after_blocking
    admitted = [d.blocked for d in rows if d.outcome != 2]
    assert np.mean(admitted) == pytest.approx(m["c"]["mean_time_blocked"], rel=1e-9)


def test_a_processor_sharing_station_serves_on_while_one_of_its_customers_is_blocked(tmp_path):
    # x customers go ps -> down, y customers leave after ps. x0 takes down (1 -> 11), x1 is
    # blocked from 1.5; y0, alone on one of ps's three servers, must still leave at 1.6.
    (tmp_path / "x.csv").write_text("time\n0\n0.5\n")
    (tmp_path / "y.csv").write_text("time\n0.6\n")
    spec = {
        "name": "shared", "horizon": 100.0, "warmup": 0.0,
        "classes": [
            {"name": "x", "arrivals": {"trace": str(tmp_path / "x.csv")}, "route": ["ps", "down"]},
            {"name": "y", "arrivals": {"trace": str(tmp_path / "y.csv")}, "route": ["ps"]},
        ],
        "stations": [
            {"name": "ps", "servers": 3, "discipline": "ps",
             "service": {"dist": "deterministic", "value": 1.0}},
            {"name": "down", "servers": 1, "queue_capacity": 0, "blocking": "after_service",
             "service": {"dist": "deterministic", "value": 10.0}},
        ],
    }
    net = ServiceNetwork(load_scenario(spec), 1, 0, record=True)
    net.run()
    leave = {d.customer: (d.t_leave, d.blocked) for d in map(Departure._make, net.departures)}
    assert leave[2] == pytest.approx((1.6, 0.0))
    assert leave[1] == pytest.approx((21.0, 9.5))


def test_an_abandonment_that_leaves_a_cycle_full_of_the_blocked_is_a_deadlock(tmp_path):
    # One server looping to itself with one queue place. x (no patience) loops, b (patient)
    # waits behind it, y arrives from u: when b gives up, the place goes to a blocked
    # customer who cannot abandon, and nobody can ever move again. The check at blocking
    # time saw b's patience and let it pass; the check after the abandonment must catch it.
    for name, t in (("x", 0.0), ("b", 0.1), ("y", 0.2)):
        (tmp_path / f"{name}.csv").write_text(f"time\n{t}\n")
    det = {"dist": "deterministic", "value": 1.0}
    spec = {"name": "selfloop", "horizon": 50.0, "warmup": 0.0,
            "classes": [
                {"name": "x", "arrivals": {"trace": str(tmp_path / "x.csv")}, "route": ["s", "s", "s"]},
                {"name": "b", "arrivals": {"trace": str(tmp_path / "b.csv")}, "route": ["s"],
                 "patience": {"dist": "deterministic", "value": 2.0}},
                {"name": "y", "arrivals": {"trace": str(tmp_path / "y.csv")}, "route": ["u", "s"]}],
            "stations": [
                {"name": "u", "servers": 1, "service": {"dist": "deterministic", "value": 0.5}},
                {"name": "s", "servers": 1, "queue_capacity": 1, "blocking": "after_service",
                 "service": det}]}
    with pytest.raises(DeadlockError, match=r"selfloop: deadlock at time 2\.1: stations s "):
        ServiceNetwork(load_scenario(spec), 1, 0).run()


def test_a_pool_held_by_a_full_station_downstream_books_service_not_blocked_time():
    # A pooled station feeding a full station: its agents are held, blocked, after service.
    # The pool's service and utilisation are its service only, as the station's are; the
    # blocked time is the station's mean_time_blocked and utilization_blocked.
    spec = {"name": "p", "horizon": 2000.0, "warmup": 0.0,
            "classes": [{"name": "c", "arrivals": {"rate": 0.9}}],
            "stations": [
                {"name": "up", "pools": [{"name": "g", "servers": 2,
                                          "service": {"dist": "exponential", "mean": 1.0}}],
                 "policies": {"c": {"pools": ["g"]}}},
                {"name": "down", "servers": 1, "queue_capacity": 0, "blocking": "after_service",
                 "service": {"dist": "exponential", "mean": 1.5}}],
            "routing": {"up": {"down": 1.0}}}
    m = ServiceNetwork(load_scenario(spec), 1, 0).run()
    assert m["up"]["mean_time_blocked"] > 1.0  # agents are held for long
    assert m["up/g"]["mean_service"] == pytest.approx(m["up"]["mean_service"], rel=1e-12)
    assert m["up/g"]["utilization"] == pytest.approx(m["up"]["utilization"], rel=1e-9)
