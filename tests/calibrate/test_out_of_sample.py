"""The out-of-sample protocol on the bank: calibrate on 1-14 Feb, validate on 15-28 Feb.

The full table (both directions, two seeds, 40 replications) is in notebook
08 and the README; this checks one direction with fewer replications.
"""

from __future__ import annotations

import pytest

import simlib.calibrate as sc

FIRST = [0, 1, 2, 3, 6, 7, 8, 9, 10, 13]  # weekdays (Sunday-Thursday) of 1-14 February 1999
SECOND = [14, 15, 16, 17, 20, 21, 22, 23, 24, 27]  # weekdays of 15-28 February


@pytest.mark.statistical
@pytest.mark.slow
def test_calibrated_defaults_cover_other_days(bank):
    val = sc.out_of_sample(bank, FIRST, SECOND, replications=12, seed=3)
    s = val.summary().set_index("metric")
    # Half-hours with at least 50 observed callers only (the default minimum).
    assert (val.table.loc[val.table["counted"], "calls"] >= sc.MIN_CALLS).all()
    assert s["intervals"].min() >= 25
    # The defaults include the day-level service multiplier fitted on the calibration days.
    assert val.scenario.day_to_day is not None and val.scenario.day_to_day.service_cv > 0.03
    # Abandonment and waits mostly inside the band; the service level (20 s) is the
    # known weak metric (docs/calibration.md: the second half's calls are ~15 % longer).
    # 12 groups make a coarse band: this seed measures 53 %, 79 %, 32 % (bias of the
    # abandonment +0.023); with 40 groups and seeds 1, 2 the README has 59-76 %, 82-91 %,
    # 38 %. The thresholds sit about one binomial standard error (34 intervals) below.
    assert val.coverage["p_abandon"] >= 0.45 and val.coverage["mean_wait"] >= 0.7, val.coverage
    assert val.coverage["service_level"] >= 0.25, val.coverage
    assert abs(s.loc["p_abandon", "bias"]) < 0.04
    # The previous defaults (agents on duty, one service law all day, exponential
    # patience, no day-to-day variation) are visibly worse on the same days.
    old = sc.out_of_sample(
        bank, FIRST, SECOND, replications=12, seed=3,
        scenario_options={"capacity": "on_duty", "after_call_work": False, "service_by_hour": False,
                          "patience": "exponential", "day_to_day": False, "staffing": "typical"},
    )
    assert val.coverage.mean() > old.coverage.mean() + 0.1, (val.coverage, old.coverage)
