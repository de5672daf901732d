"""Validation of a model against a log: observed intervals, bands, coverage, what-ifs."""

from __future__ import annotations

import math
import sys

import numpy as np
import pandas as pd
import pytest

import simlib
import simlib.calibrate as sc
from simlib.engine import simulate

DAY = 86_400.0


# --------------------------------------------------------------------------- hand-made log


def hand_log() -> pd.DataFrame:
    """Two days; every caller arrives between 00:00 and 01:00.

    Day 0: A served at once, B served after 20 s (exactly the threshold),
    C abandoned after 10 s, D hung up before reaching the queue.
    Day 1: E served after 30 s.
    """
    rows = [
        # customer, day, arrival, wait, outcome
        ("A", 0, 100.0, 0.0, "served"),
        ("B", 0, 200.0, 20.0, "served"),
        ("C", 0, 300.0, 10.0, "abandoned"),
        ("D", 0, 400.0, np.nan, "abandoned"),
        ("E", 1, DAY + 500.0, 30.0, "served"),
    ]
    df = pd.DataFrame(rows, columns=["customer", "day", "arrival", "wait", "outcome"])
    served = df["outcome"] == "served"
    df["class"] = "std"
    df["priority"] = 0
    df["abandoned"] = ~served
    df["service_start"] = np.where(served, df["arrival"] + df["wait"], np.nan)
    df["service_end"] = df["service_start"] + 60.0
    df["service"] = np.where(served, 60.0, np.nan)
    df["agent"] = np.where(served, "X", None)
    return df


def values(obs: sc.Observed, start: float = 0.0) -> dict[str, float]:
    t = obs.table[obs.table["start"] == start]
    return dict(zip(t["metric"], t["value"], strict=True))


def test_observed_intervals_by_hand():
    obs = sc.observed_intervals(hand_log(), 3600, threshold=20)
    v = values(obs)
    # Admitted: A, B, C, E (D never reached the queue).
    assert v["p_abandon"] == pytest.approx(1 / 4)
    assert v["mean_wait"] == pytest.approx((0 + 20 + 10 + 30) / 4)
    assert v["service_level"] == pytest.approx(2 / 4)  # A and B; C abandoned within 20 s: a failure
    assert obs.excluded == {"unqueued": 1, "open": 0}
    assert obs.days == (0, 1) and obs.n_days == 2
    row = obs.table[(obs.table["start"] == 0) & (obs.table["metric"] == "p_abandon")].iloc[0]
    # Daily values 1/3 and 0: mean 1/6, sample std sqrt(2) * 1/6.
    assert row["daily_mean"] == pytest.approx(1 / 6)
    assert row["daily_std"] == pytest.approx(math.sqrt(2) / 6)
    assert row["calls"] == 4 and row["arrivals"] == 5
    # Nobody arrived between 01:00 and 02:00.
    assert all(math.isnan(x) for x in values(obs, 3600.0).values())
    assert len(obs.table) == 3 * 24

    # The threshold is inclusive (as the simulator's wait <= threshold).
    assert values(sc.observed_intervals(hand_log(), 3600, threshold=19.5))["service_level"] == 0.25

    # Counting the VRU hang-up as an admitted caller who abandoned at once.
    v = values(sc.observed_intervals(hand_log(), 3600, threshold=20, unqueued="abandoned"))
    assert v["p_abandon"] == pytest.approx(2 / 5)
    assert v["mean_wait"] == pytest.approx(60 / 5)
    assert v["service_level"] == pytest.approx(2 / 5)

    one = sc.observed_intervals(hand_log(), 3600, days=[1])
    assert one.days == (1,) and values(one)["mean_wait"] == 30.0


def test_observed_intervals_errors():
    with pytest.raises(ValueError, match="period"):
        sc.observed_intervals(hand_log(), 7000)
    with pytest.raises(ValueError, match="unqueued"):
        sc.observed_intervals(hand_log(), 3600, unqueued="drop")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no calls on day"):
        sc.observed_intervals(hand_log(), 3600, days=[5])
    with pytest.raises(ValueError, match="threshold"):
        sc.observed_intervals(hand_log(), 3600, threshold=-1)


# --------------------------------------------------------------------------- a known scenario

SHIFTS = [
    {"start": 0, "end": 420, "servers": 2},
    {"start": 420, "end": 1200, "servers": 9},
    {"start": 1200, "end": 1440, "servers": 4},
]
# Arrivals per minute, hour by hour: quiet nights, a morning and an afternoon peak.
RATES = [0.1] * 7 + [1.0, 1.8, 2.2, 2.2, 1.8, 1.6, 1.8, 2.0, 1.8, 1.4, 1.2, 1.0, 0.8] + [0.6, 0.5, 0.4, 0.2]


def known(shifts=SHIFTS, threshold: float | None = None) -> dict:
    scn = {
        "name": "known",
        "time_unit": "minute",
        "horizon": 1440,
        "warmup": 0,
        "classes": [
            {
                "name": "std",
                "arrivals": {"profile": {"period": 60, "rates": RATES}},
                "patience": {"dist": "exponential", "mean": 3.0},
            }
        ],
        "stations": [
            {
                "name": "contact",
                "shifts": [dict(s) for s in shifts],
                "service": {"dist": "lognormal", "mean": 4.0, "cv": 1.0},
            }
        ],
    }
    if threshold is not None:
        scn["targets"] = {"service_level": {"threshold": threshold, "target": 0.8}}
    return scn


def day_events(seed: int, day: int, threshold: float | None = None):
    """One simulated day as an event log in seconds, placed on day ``day``."""
    rec = simulate(simlib.load_scenario(known(threshold=threshold)), seed, day, interval=60, trace=True)
    ev = pd.DataFrame(rec.events, columns=["customer", "class", "station", "event", "time"])
    ev["time"] = ev["time"] * 60.0 + day * DAY
    ev["customer"] = ev["customer"].astype(np.int64) + day * 10_000_000
    # The trace runs on past the horizon; customers arriving after it are not
    # part of this day's metrics (and would land on the next day).
    late = ev.loc[(ev["event"] == "arrival") & (ev["time"] >= (day + 1) * DAY), "customer"]
    return rec, ev[~ev["customer"].isin(late)]


def test_observed_definitions_equal_the_simulators():
    # The same day measured twice: by the engine's interval metrics and by
    # observed_intervals on its event log. Identical definitions → equal values.
    rec, ev = day_events(seed=5, day=0, threshold=20 / 60)
    obs = sc.observed_intervals(sc.calls_from_events(ev), 3600, threshold=20).wide()
    n_checked = 0
    for (start, _end, block), (_, row) in zip(rec.intervals, obs.iterrows(), strict=True):
        assert start * 60 == row["start"]
        m = block["system"]
        if not m["arrivals"]:
            continue
        assert row["calls"] == m["arrivals"]
        assert row["p_abandon"] == pytest.approx(m["p_abandon"], abs=1e-12)
        assert row["mean_wait"] == pytest.approx(m["mean_wait"] * 60, rel=1e-9, abs=1e-9)
        assert row["service_level"] == pytest.approx(m["service_level"], abs=1e-12)
        n_checked += 1
    assert n_checked == 24


@pytest.fixture(scope="module")
def observed_log() -> pd.DataFrame:
    """Four days simulated from the known scenario (a seed the models never use)."""
    events = pd.concat([day_events(seed=2024, day=d)[1] for d in range(4)], ignore_index=True)
    return sc.calls_from_events(events)


@pytest.fixture(scope="module")
def refit(observed_log) -> dict:
    # Arrivals, service and patience fitted from the log. The engine's trace has
    # no agent column, so staffing cannot be read from it: the known plan is used.
    cal = sc.calibrate(observed_log, period=3600)
    scn = sc.to_scenario(cal, servers=1)  # placeholder staffing, replaced by the plan
    station = scn["stations"][0]
    del station["servers"]
    station["shifts"] = [dict(s) for s in SHIFTS]
    return scn


def test_calibrated_model_covers_its_log_and_a_wrong_one_does_not(observed_log, refit):
    obs = sc.observed_intervals(observed_log, 3600, threshold=20)
    assert obs.n_days == 4
    good = sc.validate(refit, obs, replications=30, seed=11)
    assert good.days_per_group == 4 and good.groups == 30
    assert good.scenario.service_level.threshold == pytest.approx(20 / 60)
    assert set(good.coverage.index) == set(sc.VALIDATION_METRICS)
    assert (good.coverage >= 0.75).all(), good.coverage
    # Half-hours with fewer than MIN_CALLS (50) observed callers are left out: the night hours.
    assert good.table["counted"].sum() == (good.table["calls"] >= sc.MIN_CALLS).sum() == 3 * 17

    half = [dict(s, servers=s["servers"] // 2) for s in SHIFTS]
    wrong_scn = {**refit, "stations": [{**refit["stations"][0], "shifts": half}]}
    wrong = sc.validate(wrong_scn, obs, replications=30, seed=11)
    assert (wrong.coverage <= 0.5).all(), wrong.coverage
    # Halving the agents makes the model too pessimistic, not just noisy.
    s = wrong.summary().set_index("metric")
    assert s.loc["p_abandon", "bias"] < 0 and s.loc["mean_wait", "bias"] < 0
    assert s.loc["service_level", "bias"] > 0

    from simlib.plots.calibration import validation_plot

    fig = validation_plot(wrong)
    assert len(fig.axes) == 3 and "intervals inside" in fig.axes[0].get_title()


def test_band_is_the_spread_of_d_day_aggregates(observed_log, refit):
    # One observed day is compared with single simulated days; four days with
    # four-day aggregates, whose spread is about half as wide (1/sqrt(4)).
    obs4 = sc.observed_intervals(observed_log, 3600)
    obs1 = sc.observed_intervals(observed_log, 3600, days=[0])
    v4 = sc.validate(refit, obs4, replications=40, seed=3, metrics=["p_abandon"])
    v1 = sc.validate(refit, obs1, replications=40, seed=3, metrics=["p_abandon"])
    busy = (v4.table["start"] >= 8 * 3600) & (v4.table["start"] < 18 * 3600)
    w4 = (v4.table["band_high"] - v4.table["band_low"])[busy].mean()
    w1 = (v1.table["band_high"] - v1.table["band_low"])[busy].mean()
    assert 0.35 < w4 / w1 < 0.7
    # The band is the spread of days, far wider than the CI of the mean.
    ci = 2 * 1.96 * v1.table["sim_std"][busy].mean() / math.sqrt(40)
    assert w1 > 3 * ci


def test_validate_errors(observed_log, refit):
    obs = sc.observed_intervals(observed_log, 3600)
    with pytest.raises(ValueError, match="period"):
        sc.validate(refit, obs, replications=2, period=1800)
    with pytest.raises(ValueError, match="metrics"):
        sc.validate(refit, obs, replications=2, metrics=["utilization"])
    with pytest.raises(ValueError, match="whole number of days"):
        sc.validate({**refit, "horizon": 1000}, obs, replications=2)
    with pytest.raises(ValueError, match="replications"):
        sc.validate(refit, obs, replications=1)


# --------------------------------------------------------------------------- what-if


def test_add_agents_splits_shifts():
    scn = sc.add_agents(known(), extra=2, start=600, end=780)
    got = [(s.start, s.end, s.servers) for s in scn.station("contact").shifts]
    assert got == [(0, 420, 2), (420, 600, 9), (600, 780, 11), (780, 1200, 9), (1200, 1440, 4)]
    # A window across a shift change raises both parts; the input is untouched.
    base = simlib.load_scenario(known())
    scn = sc.add_agents(base, extra=1, start=1140, end=1260)
    got = [(s.start, s.end, s.servers) for s in scn.station("contact").shifts]
    assert got == [(0, 420, 2), (420, 1140, 9), (1140, 1200, 10), (1200, 1260, 5), (1260, 1440, 4)]
    assert [s.servers for s in base.station("contact").shifts] == [2, 9, 4]
    # A constant staffing level becomes shifts.
    const = known()
    del const["stations"][0]["shifts"]
    const["stations"][0]["servers"] = 5
    got = [(s.start, s.end, s.servers) for s in sc.add_agents(const, 1, 60, 120).station("contact").shifts]
    assert got == [(0, 60, 5), (60, 120, 6), (120, 1440, 5)]
    with pytest.raises(ValueError, match="leaves -1 servers"):
        sc.add_agents(known(), extra=-3, start=0, end=100)
    with pytest.raises(ValueError, match="start/end"):
        sc.add_agents(known(), start=700, end=600)
    with pytest.raises(ValueError, match="station"):
        sc.add_agents(known(), station="back-office")


def test_one_more_agent_with_common_random_numbers():
    base = known()
    more = sc.add_agents(base, extra=1, start=540, end=720)
    diff = sc.interval_difference(base, more, replications=8, seed=4, period=3600)
    before = diff[diff["end"] <= 540 * 60]
    # Same seed, same random numbers: nothing differs before the extra agent arrives.
    assert (before["diff"].fillna(0) == 0).all()
    peak = diff[(diff["start"] >= 540 * 60) & (diff["end"] <= 720 * 60)]
    assert (peak["diff"] < 0).all()  # less abandonment and less waiting at the peak
    assert (peak["ci_high"] < 0).all()  # ... with paired intervals that exclude zero
    same = sc.interval_difference(base, sc.add_agents(base, 0, 540, 720), replications=3, period=3600)
    assert (same["diff"].fillna(0) == 0).all()


# --------------------------------------------------------------------------- datasets


def test_datasets_load_bank_is_lazy_and_matches():
    import subprocess

    from simlib import datasets

    # Importing datasets stays light: the calibration package loads on first use.
    code = "import sys, simlib.datasets; print('simlib.calibrate' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    raw = datasets.load_bank()
    assert raw.shape == (33_344, 17)
    assert raw["outcome"].value_counts()["PHANTOM"] == 278
    pd.testing.assert_frame_equal(raw, sc.load_bank())
