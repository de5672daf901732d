"""Staffing plans on a scenario whose service varies by time of day (and uses the credit rule).

The analytic loads are exact here: with a constant arrival rate, SIPP's load of an interval is
the rate times the interval's mean service, and MOL's, long after any change, the same. A plan
with the interval's mean differs from the plan with the all-day mean exactly where the profile
differs from it. ISA runs on the same scenario with shifts and ``discipline: credit``.
"""

from __future__ import annotations

import numpy as np
import pytest

from simlib.planning import measures as ms
from simlib.planning import staffing as st
from simlib.spec.targets import DelayTarget, ServiceLevelTarget
from simlib.spec.timevarying import Profiled

MEANS = (2.0, 4.0, 3.0, 2.0)


def _day(profile: bool = True, discipline: str = "fifo") -> dict:
    service = {"dist": "exponential", "mean": 3.0}
    if profile:
        service["profile"] = {"period": 60.0, "means": list(MEANS)}
    return {
        "name": "profiled-day",
        "horizon": 240.0,
        "warmup": 30.0,
        "classes": [
            {"name": "priority", "arrivals": {"rate": 0.5}, "credit": 1.5,
             "patience": {"dist": "gamma", "mean": 4.0, "cv": 0.8}},
            {"name": "regular", "arrivals": {"rate": 2.5},
             "patience": {"dist": "lognormal", "mean": 4.0, "cv": 1.0}},
        ],
        "stations": [{"name": "agents", "servers": 12, "discipline": discipline,
                      "service": service}],
        "targets": {"service_level": {"threshold": 0.5, "target": 0.8}},
    }


def test_sipp_and_mol_use_each_intervals_mean_service():
    sipp = st.staffing_plan(_day(), "sipp", DelayTarget(0.2), interval=60.0)
    assert np.allclose(sipp.table["offered_load"], [3.0 * m for m in MEANS])
    mol = st.staffing_plan(_day(), "mol", DelayTarget(0.2), interval=60.0)
    # MOL looks back one service time: after the first hour the load follows the profile.
    assert mol.table["offered_load"].iloc[0] == pytest.approx(3.0 * MEANS[0], rel=0.02)
    flat = st.staffing_plan(_day(profile=False), "sipp", DelayTarget(0.2), interval=60.0)
    assert np.allclose(flat.table["offered_load"], 9.0)
    # The hour whose mean is the all-day mean staffs as the flat plan; longer calls need more.
    servers, same = list(sipp.table["servers"]), int(flat.table["servers"].iloc[0])
    assert servers[2] == same and servers[1] > same and servers[0] < same and servers[3] < same


def test_isa_plans_a_profiled_credit_day_with_shifts_and_the_check_runs():
    data = _day(discipline="credit")
    data["stations"][0].pop("servers")
    data["stations"][0]["shifts"] = [{"start": 0, "end": 120, "servers": 10},
                                     {"start": 120, "end": 240, "servers": 12}]
    plan = st.staffing_plan(data, "isa", ServiceLevelTarget(0.5, 0.8), interval=60.0,
                            replications=8, seed=4)
    servers = list(plan.table["servers"])
    assert servers[1] > servers[0]  # the hour of 4-minute calls needs more agents
    assert plan.scenario.stations[0].discipline == "credit"
    assert plan.scenario.stations[0].service["regular"].to_dict()["profile"]["means"] == list(MEANS)
    check = plan.check(4, seed=5)
    assert len(check) >= 4


def test_training_scales_a_profiled_service_with_its_profile():
    new, changes, _ = ms.apply_measures(
        _day(), ("training", {"station": "agents", "service_time_reduction": 0.25,
                              "variability_reduction": 0.0, "failure_reduction": 0.0}))
    dist = new.station("agents").service["regular"]
    assert isinstance(dist, Profiled)
    assert dist.mean == pytest.approx(2.25)
    assert dist.profile.means == pytest.approx(tuple(0.75 * m for m in MEANS))
    assert changes
