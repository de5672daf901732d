"""Calibrating simulated traces: the edge cases a real log rarely has."""

from __future__ import annotations

import pytest
from support import SCENARIOS

import simlib
import simlib.calibrate as sc


@pytest.fixture(scope="module")
def traced():
    return simlib.run(SCENARIOS / "call_centre.yaml", replications=2, seed=3, progress=False,
                      trace=True)


def test_a_log_without_abandonment_gives_customers_without_patience(traced):
    one = traced.trace(observed=True)
    one = one[one.replication == 0]
    cal = sc.fit_from_events(one.assign(time=one.time * 60))  # minutes -> seconds
    assert cal.patience == {} and cal.erlang_a is None
    with pytest.raises(ValueError, match="no agents on duty.*servers=N"):
        sc.to_scenario(cal)
    scn = simlib.load_scenario(sc.to_scenario(cal, servers=14))
    assert scn.classes[0].patience is None and scn.stations[0].servers == 14
    # The fitted service mean recovers the 3-minute handling time.
    assert scn.stations[0].service["caller"].mean == pytest.approx(3.0, rel=0.08)


def test_several_replications_are_not_fused(traced):
    with pytest.raises(ValueError, match="several replications"):
        sc.calls_from_events(traced.trace(observed=True))
