"""Join-shortest-queue routing (station key ``join_shortest_queue``) against Ciw's routers.

After a two-server triage, customers join one of two single-server desks of different
speeds: the one with the fewest customers ``waiting`` (Ciw's ``JoinShortestQueue``) or
``present`` (Ciw's ``LoadBalancing``, which counts those in service too), ties broken at
random or by the first desk listed (Ciw's ``tie_break="order"``). The share of customers
each desk gets is what the rule decides, so the desks' arrivals are compared, and the
customers' sojourn, by ``support.assert_peer_agreement``
(Holm-corrected Welch tests; a 10% difference in any metric detected with probability
>= 0.9). A deterministic check pins the choice and the tie rule.
"""

from __future__ import annotations

from types import SimpleNamespace

import ciw
import numpy as np
import pytest
from ciw_peer import ciw_records, customer_metrics, station_metrics
from support import assert_peer_agreement, replication_values

import simlib
from simlib.engine.network import ServiceNetwork
from simlib.engine.routing import ShortestQueue
from simlib.spec.scenario import from_dict

RATE, WARMUP, HORIZON, DRAIN = 1.2, 50.0, 500.0, 60.0
MEANS = {"triage": 0.5, "x": 1.0, "y": 1.5}


def spec(count: str, ties: str) -> dict:
    exp = {name: {"dist": "exponential", "mean": m} for name, m in MEANS.items()}
    return {
        "name": "jsq", "horizon": HORIZON, "warmup": WARMUP,
        "classes": [{"name": "c", "arrivals": {"rate": RATE}}],
        "stations": [
            {"name": "triage", "servers": 2, "service": exp["triage"],
             "join_shortest_queue": {"among": ["x", "y"], "count": count, "ties": ties}},
            {"name": "x", "servers": 1, "service": exp["x"]},
            {"name": "y", "servers": 1, "service": exp["y"]},
        ],
    }


def ciw_network(count: str, ties: str):
    router = ciw.routing.JoinShortestQueue if count == "waiting" else ciw.routing.LoadBalancing
    e = ciw.dists.Exponential
    return ciw.create_network(
        arrival_distributions=[e(RATE), None, None],
        service_distributions=[e(1 / MEANS["triage"]), e(1 / MEANS["x"]), e(1 / MEANS["y"])],
        number_of_servers=[2, 1, 1],
        routing=ciw.routing.NetworkRouting(routers=[
            router(destinations=[2, 3], tie_break="random" if ties == "random" else "order"),
            ciw.routing.Leave(), ciw.routing.Leave()]),
    )


@pytest.mark.statistical
@pytest.mark.parametrize("count, ties", [("waiting", "random"), ("present", "first")])
def test_against_ciw(count, ties):
    """300 simlib and 100 Ciw replications of 500 time units (the desks about 70% busy).
    Power: a relative difference of 10% in any one metric is detected with probability >= 0.9
    (asserted by assert_peer_agreement; the sojourn is the widest, about +-8%)."""
    res = simlib.run(spec(count, ties), replications=300, seed=31, progress=False)
    peer_runs = []
    for r in range(100):
        records = ciw_records(ciw_network(count, ties), 9_000 + r, WARMUP + HORIZON + DRAIN)
        run = {"system.mean_sojourn": customer_metrics(records, WARMUP, HORIZON)["system"]["mean_sojourn"]}
        for node, name in ((2, "x"), (3, "y")):
            desk = station_metrics(records, node, WARMUP, HORIZON)
            run[f"{name}.arrivals"] = desk["arrivals"]
        peer_runs.append(run)
    peer = {label: np.array([run[label] for run in peer_runs]) for label in peer_runs[0]}
    ours = {label: replication_values(res, *label.split(".")) for label in peer}
    assert_peer_agreement(ours, peer)


def desk(waiting: int, busy: int) -> SimpleNamespace:
    return SimpleNamespace(n_waiting=waiting, busy=busy)


class Draws:
    """A stand-in for a block sampler returning given uniforms."""

    def __init__(self, *u: float) -> None:
        self.u = list(u)

    def next(self) -> float:
        return self.u.pop(0)


def test_the_choice_counts_as_configured_and_breaks_ties_as_documented():
    a, b, c = desk(2, 1), desk(1, 1), desk(1, 0)
    assert ShortestQueue([a, b, c], True, None)[0] is c  # 3, 2, 1 present
    assert ShortestQueue([a, b, c], False, None)[0] is b  # 2, 1, 1 waiting: first of the tie
    assert ShortestQueue([a, b, c], False, Draws(0.99))[0] is c  # the later of the two
    assert ShortestQueue([a, b, c], False, Draws(0.2))[0] is b
    assert ShortestQueue([a, b, c], True, Draws())[0] is c  # no tie, no draw
    with pytest.raises(IndexError):
        ShortestQueue([a, b], True, None)[1]


def test_first_tie_rule_fills_the_first_idle_desk_and_random_shares():
    """At a light load most customers find both desks idle: ``first`` sends them to x,
    ``random`` about half to each."""
    light = spec("present", "first")
    light["classes"][0]["arrivals"]["rate"] = 0.1
    m = ServiceNetwork(from_dict(light), 1, 0).run()
    assert m["x"]["arrivals"] > 4 * m["y"]["arrivals"]
    light["stations"][0]["join_shortest_queue"]["ties"] = "random"
    m = ServiceNetwork(from_dict(light), 1, 0).run()
    assert 0.8 < m["x"]["arrivals"] / m["y"]["arrivals"] < 1.25
