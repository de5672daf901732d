"""The engine side by side with Ciw, the queueing-network library, on models both can express.

Each test builds one model twice — a scenario dict run by ``simlib.run`` and the same network
in Ciw (a development dependency) — and compares per-replication metrics with Holm-corrected
Welch tests (``support.assert_peer_agreement``): the family states and asserts its power (a
relative difference of 10% in any one metric is detected with
probability >= 0.9) and shows that it can fail (each metric shifted by that much is
rejected). Every test runs at least 100 replications of each simulator with short horizons,
because Ciw is slow (about a sixth of the engine's speed); the file takes about 25 s of CPU.
Low-variability services and moderate loads keep the spread of the waits small enough for
the stated power at that cost. The models and their power are listed in
``docs/development.md`` (section "Agreement with Ciw").

The metrics are computed from Ciw's records with the definitions of ``docs/metrics.md``:

* a station counts the **visits that arrive in the observed window** ``[warmup, warmup +
  horizon)``, whenever they leave; Ciw's run is therefore continued after the window, with
  arrivals going on as in the engine's drain, until every customer created in the window has
  left (or until one horizon after the window, where the engine censors: a visit still queued
  then counts as waiting until that time, which ``censored_wait`` reproduces from Ciw's
  incomplete records);
* ``mean_wait`` is the queue time of admitted visits (served, abandoned — until abandoning —
  or censored) over admitted visits; ``p_blocked`` the visits blocked by a full queue or that
  balked, over arriving visits; ``p_abandon`` abandoned over admitted; ``service_level`` the
  admitted visits whose service started within the threshold;
* time-averages (``mean_in_system``, ``mean_queue``, ``utilization``) integrate the part of
  every stay inside the window, counted customer or not, and utilisation divides busy
  server-time by the server-time scheduled in the window.

Where the two libraries say the same thing differently, the mapping is in the test:

* **Balking.** The engine's ``balking`` gives the probability of *joining* by the number
  *waiting* (those in service not counted), and a customer who finds a free server always
  joins. Ciw's baulking function receives the number *at the node* (waiting and in service)
  and returns the probability of *baulking*; the same behaviour is ``0`` below ``servers``
  and ``1 - join(n - servers)`` from there. Ciw asks only customers arriving from outside,
  so balking is compared at an entry station no route leads back to.
* **Finite queue.** ``queue_capacity`` counts waiting places, Ciw's ``queue_capacities`` too
  (a node holds capacity + servers); Ciw blocks a customer routed to a full node *upstream*
  (blocking after service) where the engine turns it away, so finite queues are compared at an
  entry station only, where both turn arrivals away.
* **Patience** is Ciw's reneging time, drawn on joining each node; a reneging customer leaves.
* **Distributions.** Coxian: the engine's ``continue[i]`` is one minus Ciw's absorption
  probability of phase ``i`` (the last phase always absorbs); hyperexponential: means are
  reciprocal rates; lognormal by mean and cv: Ciw's ``Lognormal(mu, sigma)`` of the logarithm,
  ``sigma^2 = log(1 + cv^2)``, ``mu = log(mean) - sigma^2 / 2``; gamma by mean and cv: shape
  ``1 / cv^2``; Weibull: the same shape and scale.
* **Shifts.** At every change of a ``ciw.Schedule`` all the servers on duty go off duty (busy
  ones finish their customer first) and the new shift's servers all start at once, so for a
  while more servers serve than either shift has; the engine changes the number of servers
  (a busy server over the new number leaves when its service ends). The two rules agree only
  across a closed period (servers ``c -> 0 -> c'``), which is what the shift model uses.
* **Order.** ``discipline: lifo`` and ``random`` are Ciw's ``LIFO`` and ``SIRO``: both pick
  among the customers waiting (in Ciw, those not in service), by the order they joined.
  Means of waits do not depend on the order of service, so the order is checked through the
  service level, and the test also shows that FIFO would have been told apart.

Ciw draws from Python's global ``random`` module; each Ciw replication is seeded with
``ciw.seed`` and the module's previous state is restored afterwards.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from support import assert_peer_agreement, holm_rejects, replication_values

import simlib

ciw = pytest.importorskip("ciw")

REPLICATIONS = 100
#: Ciw's drain is run in steps of this many time units until the counted customers have left.
DRAIN_STEP = 5.0


# --------------------------------------------------------------------------- running Ciw


@contextmanager
def ciw_seeded(seed: int) -> Iterator[None]:
    """Ciw seeded with ``seed``; Python's global generator is left as it was found."""
    state = random.getstate()
    try:
        ciw.seed(seed)
        yield
    finally:
        random.setstate(state)


@dataclass(frozen=True)
class CiwRun:
    """One Ciw replication's records, with the window and the time the run stopped."""

    records: list[Any]  # Ciw's data records, the incomplete ones of those still present included
    start: float
    end: float
    stop: float
    censored: int  # customers created in the window still present at the stop

    def overlap(self, a: float, b: float) -> float:
        """The length of ``[a, b]`` inside the window."""
        return max(0.0, min(b, self.end) - max(a, self.start))


def run_ciw(network: Any, warmup: float, horizon: float, seed: int) -> CiwRun:
    """Simulate the warm-up and the window, then drain as the engine does.

    Customers are numbered in the order they are created, so those created in the window are
    the ids between the arrival node's counts at its two ends; the run goes on in steps of
    ``DRAIN_STEP`` until none of them is at a node, or one horizon after the window (the
    engine's drain limit).
    """
    start, end = warmup, warmup + horizon
    with ciw_seeded(seed):
        sim = ciw.Simulation(network)
        sim.simulate_until_max_time(start)
        first = sim.nodes[0].number_of_individuals + 1
        sim.simulate_until_max_time(end)
        last = sim.nodes[0].number_of_individuals
        stop, limit = end, end + horizon

        def present() -> int:
            return sum(first <= ind.id_number <= last
                       for node in sim.transitive_nodes for ind in node.all_individuals)

        while stop < limit and present():
            stop = min(stop + DRAIN_STEP, limit)
            sim.simulate_until_max_time(stop)
        records = sim.get_all_records(include_incomplete=True)
        return CiwRun(records, start, end, stop, present())


def censored_wait(run: CiwRun, r: Any) -> float:
    """A visit's queue time; one still queued when the run stopped waited until then."""
    return r.waiting_time if r.waiting_time is not None else run.stop - r.arrival_date


def ciw_station(run: CiwRun, node: int, server_time: float | None = None,
                threshold: float | None = None, customer_class: str | None = None
                ) -> dict[str, float]:
    """The engine's station (or, at a single station, class) metrics from Ciw's records.

    ``server_time`` is the server-time scheduled in the window (for ``utilization``);
    ``customer_class`` keeps one class's visits (the class scope of a one-station model).
    """
    here = [r for r in run.records if r.node == node
            and (customer_class is None or r.customer_class == customer_class)]
    counted = [r for r in here if run.start <= r.arrival_date < run.end]
    blocked = sum(r.record_type in ("baulk", "rejection") for r in counted)
    admitted = [r for r in counted if r.record_type in ("service", "renege", "incomplete")]
    waits = [censored_wait(run, r) for r in admitted]
    out = {
        "arrivals": float(len(counted)),
        "p_blocked": blocked / len(counted),
        "mean_wait": float(np.mean(waits)),
        "p_abandon": sum(r.record_type == "renege" for r in admitted) / len(admitted),
    }
    if threshold is not None:
        on_time = sum(r.record_type != "renege" and r.waiting_time is not None
                      and r.waiting_time <= threshold for r in admitted)
        out["service_level"] = on_time / len(admitted)
    busy = present = queued = 0.0
    for r in here:
        if r.record_type == "service":
            busy += run.overlap(r.service_start_date, r.service_end_date)
            present += run.overlap(r.arrival_date, r.exit_date)
            queued += run.overlap(r.arrival_date, r.service_start_date)
        elif r.record_type == "renege":
            present += run.overlap(r.arrival_date, r.exit_date)
            queued += run.overlap(r.arrival_date, r.exit_date)
        elif r.record_type == "incomplete":
            present += run.overlap(r.arrival_date, run.stop)
            if r.service_start_date is None:
                queued += run.overlap(r.arrival_date, run.stop)
            else:
                queued += run.overlap(r.arrival_date, r.service_start_date)
                busy += run.overlap(r.service_start_date, run.stop)
    horizon = run.end - run.start
    out["mean_in_system"] = present / horizon
    out["mean_queue"] = queued / horizon
    if server_time is not None:
        out["utilization"] = busy / server_time
    return out


def side_by_side(scenario: dict[str, Any], network: Any, metrics: list[str],
                 peer_metrics: Callable[[CiwRun], dict[str, float]], seed: int,
                 replications: int = REPLICATIONS
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``(simlib, Ciw)`` replication values of ``metrics`` (labels ``scope.metric``)."""
    res = simlib.run(scenario, replications=replications, seed=seed, progress=False, jobs=1)
    assert all(r.censored == 0 for r in res.records)
    runs = [run_ciw(network, scenario["warmup"], scenario["horizon"], 10_000 * seed + r)
            for r in range(replications)]
    assert all(run.censored == 0 for run in runs)
    peer_runs = [peer_metrics(run) for run in runs]
    ours = {m: replication_values(res, *m.split(".")) for m in metrics}
    peer = {m: np.array([p[m] for p in peer_runs]) for m in metrics}
    return ours, peer


def ciw_lognormal(mean: float, cv: float) -> Any:
    sigma2 = math.log(1.0 + cv * cv)
    return ciw.dists.Lognormal(math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2))


def ciw_gamma(mean: float, cv: float) -> Any:
    shape = 1.0 / (cv * cv)
    return ciw.dists.Gamma(shape, mean / shape)


# --------------------------------------------------------------------------- 1. impatience


IMPATIENT_SERVERS = 2
IMPATIENT_BALKING = {"queue_lengths": [0, 2, 4], "join": [0.8, 0.5, 0.2]}
IMPATIENT_BATCH = {"values": [1, 2, 3], "probabilities": [0.6, 0.3, 0.1]}
IMPATIENT_QUEUE = 5


def impatient_scenario() -> dict[str, Any]:
    return {
        "name": "impatient", "horizon": 600.0, "warmup": 60.0,
        "classes": [{
            "name": "c",
            "arrivals": {"rate": 0.6, "batch": IMPATIENT_BATCH},
            "patience": {"dist": "hyperexponential", "probabilities": [0.7, 0.3],
                         "means": [1.0, 6.0]},
        }],
        "stations": [{
            "name": "s", "servers": IMPATIENT_SERVERS,
            "service": {"dist": "weibull", "shape": 1.5, "scale": 2.0},
            "queue_capacity": IMPATIENT_QUEUE,
            "balking": IMPATIENT_BALKING,
        }],
    }


def impatient_network() -> Any:
    def join(waiting: int) -> float:
        steps, join = IMPATIENT_BALKING["queue_lengths"], IMPATIENT_BALKING["join"]
        return join[max(i for i, q in enumerate(steps) if q <= waiting)]

    def baulk(n: int, **_: Any) -> float:  # n: customers at the node, waiting or served
        return 0.0 if n < IMPATIENT_SERVERS else 1.0 - join(n - IMPATIENT_SERVERS)

    return ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(0.6)],
        batching_distributions=[ciw.dists.Pmf(IMPATIENT_BATCH["values"],
                                              IMPATIENT_BATCH["probabilities"])],
        service_distributions=[ciw.dists.Weibull(scale=2.0, shape=1.5)],
        reneging_time_distributions=[ciw.dists.HyperExponential([1.0, 1 / 6.0], [0.7, 0.3])],
        baulking_functions=[baulk],
        queue_capacities=[IMPATIENT_QUEUE],
        number_of_servers=[IMPATIENT_SERVERS],
    )


@pytest.mark.statistical
def test_batches_balking_blocking_and_abandonment_agree_with_ciw():
    """Two servers, Weibull services (mean 1.81), Poisson batches of 1-3 (1.5 customers per
    batch, 0.9 per time unit), hyperexponential patience, six waiting places and balking by
    the queue: 100 replications of 600 time units each. Power: a 10% difference in any one
    metric is detected with probability >= 0.9 (asserted)."""
    spec = impatient_scenario()
    metrics = ["s.mean_wait", "s.p_blocked", "s.p_abandon", "s.utilization",
               "s.mean_in_system"]
    server_time = IMPATIENT_SERVERS * spec["horizon"]

    def peer(run: CiwRun) -> dict[str, float]:
        return {f"s.{k}": v for k, v in ciw_station(run, 1, server_time).items()}

    ours, theirs = side_by_side(spec, impatient_network(), metrics, peer, seed=1)
    assert_peer_agreement(ours, theirs)


# --------------------------------------------------------------------------- 2. priority


GOLD_SERVICE = {"dist": "coxian", "rates": [3.0, 1.5], "continue": [0.8]}
BASIC_SERVICE = {"dist": "gamma", "mean": 0.8, "cv": 0.5}


def priority_scenario(discipline: str = "priority") -> dict[str, Any]:
    return {
        "name": "priority", "horizon": 2000.0, "warmup": 200.0,
        "classes": [
            {"name": "gold", "priority": 0,
             "arrivals": {"interarrival": {"dist": "gamma", "mean": 5.0, "cv": 0.5}}},
            {"name": "basic", "priority": 1,
             "arrivals": {"interarrival": {"dist": "mixture", "components": [
                 {"weight": 0.6, "dist": "exponential", "mean": 1.6},
                 {"weight": 0.4, "dist": "erlang", "mean": 4.0, "k": 2}]}}},
        ],
        "stations": [{"name": "s", "servers": 1, "discipline": discipline,
                      "service": {"gold": GOLD_SERVICE, "basic": BASIC_SERVICE}}],
    }


def priority_network() -> Any:
    return ciw.create_network(
        arrival_distributions={
            "gold": [ciw_gamma(5.0, 0.5)],
            # an Erlang-2 of mean 4 is a gamma of shape 2 and scale 2
            "basic": [ciw.dists.MixtureDistribution(
                [ciw.dists.Exponential(1 / 1.6), ciw.dists.Gamma(2, 2.0)], [0.6, 0.4])],
        },
        service_distributions={
            "gold": [ciw.dists.Coxian(GOLD_SERVICE["rates"],
                                      [1 - c for c in GOLD_SERVICE["continue"]] + [1.0])],
            "basic": [ciw_gamma(BASIC_SERVICE["mean"], BASIC_SERVICE["cv"])],
        },
        priority_classes={"gold": 0, "basic": 1},
        number_of_servers=[1],
    )


@pytest.mark.statistical
def test_priority_classes_with_renewal_arrivals_agree_with_ciw():
    """Non-preemptive priority on one server: gold (gamma gaps of mean 5, cv 0.5; two-phase
    Coxian services, mean 0.87) before basic (gaps a 0.6/0.4 mixture of an exponential of
    mean 1.6 and an Erlang-2 of mean 4; gamma services, mean 0.8, cv 0.5), utilisation about
    0.49: 100 replications of 2 000 time units each. Power: a 10% difference in any one
    metric is detected with probability >= 0.9 (asserted). The same engine model served
    first come first served is rejected against Ciw (the class waits tell priority apart)."""
    spec = priority_scenario()
    metrics = ["gold.mean_wait", "basic.mean_wait", "s.utilization", "s.mean_queue"]

    def peer(run: CiwRun) -> dict[str, float]:
        station = ciw_station(run, 1, spec["horizon"])
        return {"gold.mean_wait": ciw_station(run, 1, customer_class="gold")["mean_wait"],
                "basic.mean_wait": ciw_station(run, 1, customer_class="basic")["mean_wait"],
                "s.utilization": station["utilization"], "s.mean_queue": station["mean_queue"]}

    ours, theirs = side_by_side(spec, priority_network(), metrics, peer, seed=2)
    assert_peer_agreement(ours, theirs)
    fifo = simlib.run(priority_scenario("fifo"), replications=REPLICATIONS, seed=2,
                      progress=False, jobs=1)
    assert {"gold.mean_wait", "basic.mean_wait"} <= set(holm_rejects(
        {m: replication_values(fifo, *m.split(".")) for m in metrics}, theirs))


# --------------------------------------------------------------------------- 3. a network


ORDER_THRESHOLD = 1.0


def network_scenario(first: str = "lifo") -> dict[str, Any]:
    return {
        "name": "orders", "horizon": 500.0, "warmup": 50.0,
        "targets": {"service_level": {"threshold": ORDER_THRESHOLD, "target": 0.8}},
        "classes": [{"name": "c", "arrivals": {"rate": 0.7}}],
        "stations": [
            {"name": "a", "servers": 1, "discipline": first,
             "service": {"dist": "exponential", "mean": 0.5}},
            {"name": "b", "servers": 2, "discipline": "random",
             "service": {"dist": "lognormal", "mean": 1.2, "cv": 0.8}},
        ],
        "routing": {"a": {"b": 0.9, "exit": 0.1}, "b": {"a": 0.25, "exit": 0.75}},
    }


def order_network() -> Any:
    return ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(0.7), None],
        service_distributions=[ciw.dists.Exponential(2.0), ciw_lognormal(1.2, 0.8)],
        routing=[[0.0, 0.9], [0.25, 0.0]],
        number_of_servers=[1, 2],
        service_disciplines=[ciw.disciplines.LIFO, ciw.disciplines.SIRO],
    )


@pytest.mark.statistical
def test_tandem_with_feedback_lifo_and_random_order_agree_with_ciw():
    """Poisson arrivals (0.7 per time unit) to station a (one server, LIFO, exponential mean
    0.5), then b with probability 0.9 (two servers, random order, lognormal mean 1.2 cv 0.8),
    and back to a with probability 0.25: utilisations about 0.45 and 0.49; 100 replications
    of 500 time units each. Power: a 10% difference in any one metric is detected with
    probability >= 0.9 (asserted).

    The visits per station check the routing, the number present the congestion (mean waits
    do not depend on the order of service, and their spread at these loads would need six
    times the replications); the service level (waits within 1 time unit) depends on the
    order: the same engine model with FIFO at a is rejected against Ciw. (At b, FIFO instead
    of random order moves the service level by about 1.5 points, too little to assert.)"""
    spec = network_scenario()
    metrics = ["a.arrivals", "b.arrivals", "a.service_level", "b.service_level",
               "system.mean_in_system"]

    def peer(run: CiwRun) -> dict[str, float]:
        a = ciw_station(run, 1, threshold=ORDER_THRESHOLD)
        b = ciw_station(run, 2, threshold=ORDER_THRESHOLD)
        return {"a.arrivals": a["arrivals"], "b.arrivals": b["arrivals"],
                "a.service_level": a["service_level"], "b.service_level": b["service_level"],
                "system.mean_in_system": a["mean_in_system"] + b["mean_in_system"]}

    ours, theirs = side_by_side(spec, order_network(), metrics, peer, seed=3)
    assert_peer_agreement(ours, theirs)
    fifo = simlib.run(network_scenario("fifo"), replications=REPLICATIONS, seed=3,
                      progress=False, jobs=1)
    assert "a.service_level" in holm_rejects(
        {m: replication_values(fifo, *m.split(".")) for m in metrics}, theirs)


# --------------------------------------------------------------------------- 4. shifts


SHIFT_WARMUP = 10.0
SHIFT_REPLICATIONS = 200
DESK_SHIFTS = [(0.0, 60.0, 3), (60.0, 80.0, 0), (80.0, 150.0, 2)]


def shift_scenario() -> dict[str, Any]:
    return {
        "name": "shifts", "horizon": 150.0, "warmup": SHIFT_WARMUP,
        "classes": [{"name": "c", "arrivals": {"rate": 1.4},
                     "patience": {"dist": "exponential", "mean": 4.0}}],
        "stations": [
            {"name": "desk",
             "shifts": [{"start": a, "end": b, "servers": n} for a, b, n in DESK_SHIFTS],
             "service": {"dist": "exponential", "mean": 1.5}},
            {"name": "kiosk", "servers": "inf",
             "service": {"dist": "mixture", "components": [
                 {"weight": 0.5, "dist": "deterministic", "value": 2.0},
                 {"weight": 0.5, "dist": "uniform", "low": 1.0, "high": 5.0}]}},
        ],
        "routing": {"desk": {"kiosk": 1.0}},
    }


def shift_network() -> Any:
    # Ciw's schedule runs in simulation time from 0: the warm-up has the first shift's servers,
    # and the last shift's servers stay (its end is never reached).
    ends = [SHIFT_WARMUP + b for _, b, _ in DESK_SHIFTS[:-1]] + [1e9]
    schedule = ciw.Schedule(numbers_of_servers=[n for _, _, n in DESK_SHIFTS],
                            shift_end_dates=ends)
    return ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(1.4), None],
        service_distributions=[
            ciw.dists.Exponential(1 / 1.5),
            ciw.dists.MixtureDistribution([ciw.dists.Deterministic(2.0),
                                           ciw.dists.Uniform(1.0, 5.0)], [0.5, 0.5])],
        reneging_time_distributions=[ciw.dists.Exponential(1 / 4.0), None],
        routing=[[0.0, 1.0], [0.0, 0.0]],
        number_of_servers=[schedule, float("inf")],
    )


@pytest.mark.statistical
def test_shifts_with_a_break_and_self_service_agree_with_ciw():
    """Poisson arrivals (1.4 per time unit, patience exponential mean 4) at a desk staffed 3,
    then closed for 20 time units, then staffed 2 (exponential services, mean 1.5), followed
    by a self-service kiosk (infinite servers, a mixture of a deterministic 2 and a uniform
    1-5): 200 replications of 150 time units each (the break makes the waits vary from day
    to day). Power: a 10% difference in any one metric is detected with probability >= 0.9
    (asserted)."""
    spec = shift_scenario()
    metrics = ["desk.mean_wait", "desk.p_abandon", "desk.utilization", "kiosk.mean_in_system"]
    server_time = sum((b - a) * n for a, b, n in DESK_SHIFTS)

    def peer(run: CiwRun) -> dict[str, float]:
        desk = ciw_station(run, 1, server_time)
        kiosk = ciw_station(run, 2)
        return {"desk.mean_wait": desk["mean_wait"], "desk.p_abandon": desk["p_abandon"],
                "desk.utilization": desk["utilization"],
                "kiosk.mean_in_system": kiosk["mean_in_system"]}

    ours, theirs = side_by_side(spec, shift_network(), metrics, peer, seed=4,
                                replications=SHIFT_REPLICATIONS)
    assert_peer_agreement(ours, theirs)
