"""Planning the bank's weekday on the calibrated model, and checking the plan by simulation.

ISA runs on the scenario of ``to_scenario``'s defaults (effective agents, service by hour,
Kaplan-Meier patience, the priority credit, day-to-day variation). Agents to roster are the
planned effective agents divided by each half-hour's availability (effective / on-duty agent
time of the calibration days), and the roster is simulated with independent random numbers.

Margins (seeded, 12 ISA replications, 24 check replications): the 95% intervals of a busy
half-hour's service level are about +-0.07 wide (at most +-0.15, the day-to-day multiplier makes
days differ); the plan's service level is 0.87 on average over the busy half-hours, a roster with
one effective agent fewer everywhere 0.60 and the bank's observed roster 0.54. So the check
confirms the plan (upper limit at or above 80% in at least 90% of the busy half-hours; 97% here)
and rejects the short roster in most of them (the upper limit is below 80% in 78%), the failure
the check exists to catch.
"""

from __future__ import annotations

import numpy as np
import pytest

import simlib.calibrate as sc
from simlib.plots.calibration import calibrated_plan_plot
from simlib.spec.edits import servers_at, staffing_steps
from simlib.spec.targets import ServiceLevelTarget


@pytest.fixture(scope="module")
def plan(bank_weekday: sc.Calibration) -> sc.CalibratedPlan:
    return sc.plan_staffing(bank_weekday, replications=12, seed=0)


def test_availability_turns_the_observed_roster_into_the_calibrated_capacity(bank_weekday):
    av = sc.agent_availability(bank_weekday, 1800.0)
    assert len(av) == 48 and ((av["availability"] > 0) & (av["availability"] <= 1)).all()
    on = av["on_duty"] > 0
    assert np.allclose(av.loc[on, "on_duty"] * av.loc[on, "availability"], av.loc[on, "effective"])
    # The agent-hours of the 5-minute reading are kept (90 on duty, 82 effective a weekday).
    ty = bank_weekday.typical
    assert av["on_duty"].sum() * 0.5 == pytest.approx(ty["mean_on_duty"].sum() / 12)
    assert av["effective"].sum() / av["on_duty"].sum() == pytest.approx(82 / 90, abs=0.02)
    with pytest.raises(ValueError, match="multiple of the calibration's staffing period"):
        sc.agent_availability(bank_weekday, 1000.0)


@pytest.mark.slow
def test_isa_plans_the_calibrated_day_and_the_check_confirms_it(plan):
    # The plan ran on the validated model, with everything it has.
    scn = plan.plan.scenario
    station = scn.stations[0]
    assert plan.plan.method == "isa" and station.discipline == "credit"
    assert scn.day_to_day is not None
    ps = station.service["PS"].to_dict()
    assert "profile" in ps and scn.classes[0].patience.to_dict()["dist"] == "survival"
    assert plan.target == ServiceLevelTarget(20.0, 0.8)  # seconds

    t = plan.table
    assert (t["agents"] == np.ceil(t["effective"] / t["availability"] - 1e-9)).all()
    assert (plan.capacity >= t["effective"] - 1e-9).all()
    # The roster's rounding on the 5-minute grid never drops below the planned effective agents.
    roster = staffing_steps(plan.scenario.to_dict()["stations"][0], plan.scenario.horizon)
    for start, eff in zip(t["start"] / 60, t["effective"], strict=True):
        assert all(servers_at(roster, start + m) >= eff for m in np.arange(0.5, 30, 5))

    check = plan.check(24, seed=7)
    busy = check["arrivals"] >= 20
    assert busy.sum() >= 28
    assert (check.loc[busy, "ci_high"] >= 0.8).mean() >= 0.9, check[busy]
    short = plan.with_agents(np.maximum(np.floor((t["effective"] - 1) / t["availability"]), 0))
    bad = short.check(24, seed=7)
    assert (bad.loc[busy, "ci_high"] < 0.8).mean() >= 0.5, bad[busy]
    assert check.loc[busy, "mean"].mean() > bad.loc[busy, "mean"].mean() + 0.15

    fig = calibrated_plan_plot(plan, {"plan": check, "short": bad})
    top, bottom = fig.axes
    assert [len(c.lines[0].get_xdata()) for c in top.containers] == [busy.sum()] * 2
    assert len(bottom.lines) == 3 and bottom.get_xlim()[0] > 0  # the closed night is cut off


def test_plan_staffing_refuses_bad_input(bank_weekday, plan):
    with pytest.raises(ValueError, match="typical day"):
        sc.plan_staffing(bank_weekday, scenario_options={"staffing": "days"})
    with pytest.raises(ValueError, match="target must be one of"):
        sc.plan_staffing(bank_weekday, target=0.8)
    with pytest.raises(ValueError, match="agents: need 48"):
        plan.with_agents([1, 2])
