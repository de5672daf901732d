"""The upstream wait of customers blocked at a later station: ``mean_wait_blocked`` (docs/metrics.md).

A customer who waits at a front desk and is then turned away by the full queue of a back
office counts as blocked for its class and the system, so its upstream wait is not in their
``mean_wait``; ``mean_wait_blocked`` reports it: the summed queue time of the counted blocked
customers over their earlier visits ÷ those customers. The checks are exact, against the
per-customer departure records of the same run: the metric equals the mean of the blocked
customers' recorded waits, it is positive when blocking follows waiting, and with
``mean_wait`` it gives the mean wait over every arriving customer. Per-interval metrics
compute it from the records the same way.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from support import single_station

from simlib.engine.events import Outcome
from simlib.engine.network import ServiceNetwork
from simlib.engine.records import interval_metrics
from simlib.engine.tallies import blocks_after_a_visit
from simlib.spec.scenario import from_dict

WARMUP, HORIZON = 50.0, 3_000.0


def tandem() -> dict:
    exp = {"dist": "exponential", "mean": 1.0}
    return {
        "name": "tandem", "horizon": HORIZON, "warmup": WARMUP,
        "classes": [{"name": "c", "arrivals": {"rate": 0.85}}],
        "stations": [{"name": "front", "servers": 1, "service": exp},
                     {"name": "back", "servers": 1, "service": {"dist": "exponential", "mean": 0.9},
                      "queue_capacity": 1}],
        "routing": {"front": {"back": 1.0}},
    }


def test_mean_wait_blocked_is_the_blocked_customers_upstream_wait():
    net = ServiceNetwork(from_dict(tandem()), 5, 0, record=True)
    m = net.run()
    rows = [r for r in net.departures if WARMUP <= r[2] < WARMUP + HORIZON]
    waits = np.array([r[5] for r in rows])
    blocked = np.array([r[4] == Outcome.BLOCKED for r in rows])
    assert blocked.sum() > 50 and m["back"]["p_blocked"] > 0.05
    for scope in ("c", "system"):
        assert m[scope]["mean_wait_blocked"] == pytest.approx(waits[blocked].mean(), rel=1e-12)
        assert m[scope]["mean_wait_blocked"] > 0.5  # they did wait upstream
        # mean_wait leaves them out; with mean_wait_blocked it gives every arrival's mean wait
        assert m[scope]["mean_wait"] == pytest.approx(waits[~blocked].mean(), rel=1e-12)
        p = m[scope]["p_blocked"]
        combined = (1 - p) * m[scope]["mean_wait"] + p * m[scope]["mean_wait_blocked"]
        assert combined == pytest.approx(waits.mean(), rel=1e-12)
    assert "mean_wait_blocked" not in m["front"]  # a station's visits are not customers
    # one interval spanning the window gives the whole-window value
    (interval,) = interval_metrics(net.scenario, net.visits, net.departures, HORIZON)
    assert interval.metrics["system"]["mean_wait_blocked"] == pytest.approx(
        m["system"]["mean_wait_blocked"], rel=1e-12)


def test_reported_only_where_blocking_can_follow_a_visit():
    assert blocks_after_a_visit(from_dict(tandem()))
    alone = from_dict(single_station(horizon=500.0, queue_capacity=2))
    assert not blocks_after_a_visit(alone)
    assert "mean_wait_blocked" not in ServiceNetwork(alone, 1, 0).run()["system"]
    open_queue = tandem()
    del open_queue["stations"][1]["queue_capacity"]
    assert not blocks_after_a_visit(from_dict(open_queue))
    balk = tandem()
    del balk["stations"][1]["queue_capacity"]
    balk["stations"][1]["balking"] = {"queue_lengths": [0], "join": [0.0]}
    m = ServiceNetwork(from_dict(balk), 2, 0).run()
    assert m["system"]["mean_wait_blocked"] > 0
    # no customer blocked: NaN, as every ratio with nothing counted
    quiet = tandem()
    quiet["stations"][1]["queue_capacity"] = 10_000
    assert math.isnan(ServiceNetwork(from_dict(quiet), 2, 0).run()["system"]["mean_wait_blocked"])
