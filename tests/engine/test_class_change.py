"""Class change after service (station key ``class_change``) against Ciw's ``class_change_matrices``.

Two classes pass a two-server front station and then a one-server back office with strict
(non-preemptive) priority; after the front service a customer of class ``a`` continues as
``b`` with probability 0.4 and one of ``b`` as ``a`` with probability 0.2, and the back office's
service time and priority follow the class it continues as. The class metrics count a customer
under its class at arrival (Ciw's ``original_customer_class``). The peer check is
``support.assert_peer_agreement`` (Holm-corrected Welch tests; a 10% difference in any metric
detected with probability >= 0.9). Deterministic checks pin the counting rule.
"""

from __future__ import annotations

import math

import ciw
import numpy as np
import pytest
from ciw_peer import ciw_records, customer_metrics, station_metrics
from support import assert_peer_agreement, replication_values

import simlib
from simlib.engine.network import ServiceNetwork
from simlib.engine.replication import build_network
from simlib.engine.routing import ClassChange
from simlib.spec.scenario import from_dict

WARMUP, HORIZON, DRAIN = 50.0, 600.0, 80.0
RATES = {"a": 0.45, "b": 0.25}
FRONT = {"a": 1.0, "b": 1.5}  # mean service by class
BACK = {"a": 0.5, "b": 1.0}
CHANGE = {"a": {"a": 0.6, "b": 0.4}, "b": {"a": 0.2, "b": 0.8}}


def exp(mean: float) -> dict:
    return {"dist": "exponential", "mean": mean}


def spec(change=CHANGE) -> dict:
    return {
        "name": "change", "horizon": HORIZON, "warmup": WARMUP,
        "classes": [{"name": "a", "arrivals": {"rate": RATES["a"]}, "priority": 1},
                    {"name": "b", "arrivals": {"rate": RATES["b"]}, "priority": 0}],
        "stations": [
            {"name": "front", "servers": 2, "discipline": "priority", "class_change": change,
             "service": {k: exp(m) for k, m in FRONT.items()}},
            {"name": "back", "servers": 1, "discipline": "priority",
             "service": {k: exp(m) for k, m in BACK.items()}},
        ],
        "routing": {"front": {"back": 1.0}},
    }


def ciw_network():
    e = ciw.dists.Exponential
    return ciw.create_network(
        arrival_distributions={k: [e(r), None] for k, r in RATES.items()},
        service_distributions={k: [e(1 / FRONT[k]), e(1 / BACK[k])] for k in RATES},
        number_of_servers=[2, 1],
        routing={k: [[0.0, 1.0], [0.0, 0.0]] for k in RATES},
        priority_classes={"a": 1, "b": 0},
        class_change_matrices=[CHANGE, {k: {j: float(j == k) for j in RATES} for k in RATES}],
    )


@pytest.mark.statistical
def test_against_ciw():
    """400 simlib and 100 Ciw replications of 600 time units (the back office 54% busy).
    Power: a relative difference of 10% in any one metric is detected with probability >= 0.9
    (asserted by assert_peer_agreement; class a's sojourn, behind b at the back office, is
    the widest)."""
    res = simlib.run(spec(), replications=400, seed=21, progress=False)
    peer_runs = []
    for r in range(100):
        records = ciw_records(ciw_network(), 7_000 + r, WARMUP + HORIZON + DRAIN)
        customers = customer_metrics(records, WARMUP, HORIZON)
        back = station_metrics(records, 2, WARMUP, HORIZON)
        front = station_metrics(records, 1, WARMUP, HORIZON)
        peer_runs.append({
            "front.mean_in_system": front["mean_in_system"],
            "back.mean_service": back["mean_service"],
            "a.mean_sojourn": customers["a"]["mean_sojourn"],
            "b.mean_sojourn": customers["b"]["mean_sojourn"],
        })
    peer = {label: np.array([run[label] for run in peer_runs]) for label in peer_runs[0]}
    ours = {label: replication_values(res, *label.split(".")) for label in peer}
    assert_peer_agreement(ours, peer)


def deterministic(change) -> dict:
    data = spec(change)
    for st in data["stations"]:
        st["service"] = {k: {"dist": "deterministic", "value": m} for k, m in
                         (FRONT if st["name"] == "front" else BACK).items()}
    data["classes"][1]["arrivals"] = {"interarrival": {"dist": "deterministic", "value": 1e9}}  # no b
    return data


def test_metrics_count_the_class_at_arrival_and_service_follows_the_new_class():
    """Every a becomes b at the front: the back office serves b's 1.0 to all; the class a
    counts every customer (its service is 1.0 + 1.0), class b none."""
    m = ServiceNetwork(from_dict(deterministic({"a": {"b": 1.0}})), 3, 0).run()
    assert m["back"]["mean_service"] == pytest.approx(BACK["b"])
    assert m["a"]["mean_service"] == pytest.approx(FRONT["a"] + BACK["b"])
    assert m["a"]["arrivals"] == m["system"]["arrivals"] > 0
    assert m["b"]["arrivals"] == 0 and math.isnan(m["b"]["mean_service"])
    # a row that keeps the class is the same as no class change
    keep = ServiceNetwork(from_dict(deterministic({"a": {"a": 1.0}})), 3, 0).run()
    none = deterministic({"a": {"a": 1.0}})
    del none["stations"][0]["class_change"]
    assert keep == ServiceNetwork(from_dict(none), 3, 0).run()
    assert keep["back"]["mean_service"] == pytest.approx(BACK["a"])


def test_records_and_interval_metrics_name_the_class_at_arrival():
    net = ServiceNetwork(from_dict(deterministic({"a": {"b": 1.0}})), 3, 0, record=True)
    net.run()
    assert {row[1] for row in net.visits} == {0}
    assert {row[1] for row in net.departures} == {0}


def test_the_class_change_is_a_layer_and_refuses_another():
    scn = from_dict(spec())
    assert isinstance(ServiceNetwork(scn, 1, 0).layer, ClassChange)
    assert build_network(scn, 1, 0).layer is not None
    assert ServiceNetwork(from_dict(deterministic({"a": {"a": 1.0}})), 1, 0).layer is not None
    plain = spec()
    del plain["stations"][0]["class_change"]
    assert ServiceNetwork(from_dict(plain), 1, 0).layer is None
    with pytest.raises(ValueError, match="changes classes after service"):
        ServiceNetwork(scn, 1, 0, layer=lambda host: ClassChange(host))
