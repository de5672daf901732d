"""Estimators on data with known truth: arrivals, service, patience, staffing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simlib.calibrate as sc

# ---------------------------------------------------------------- arrivals


def poisson_day(rng: np.random.Generator, rates_per_hour: np.ndarray, days: int) -> np.ndarray:
    """Inhomogeneous Poisson times (seconds since midnight), hourly constant rates, pooled."""
    out = []
    for _ in range(days):
        for h, r in enumerate(rates_per_hour):
            k = rng.poisson(r)
            out.append(rng.uniform(h * 3600, (h + 1) * 3600, k))
    return np.concatenate(out)


def test_arrival_profile_recovers_rates_within_bands():
    rng = np.random.default_rng(1)
    rates = 60 + 40 * np.sin(np.arange(24) / 24 * 2 * np.pi) ** 2  # arrivals per hour
    times = poisson_day(rng, rates, days=10)
    prof = sc.arrival_profile(times, 1800, days=10)
    assert list(prof.columns[:2]) == ["start", "end"]
    assert {"rate", "ci_low", "ci_high"} <= set(prof.columns)
    assert len(prof) == 48 and prof["start"].iloc[0] == 0 and prof["end"].iloc[-1] == 86_400
    truth = np.repeat(rates, 2) / 3600.0
    inside = (prof["ci_low"] <= truth) & (truth <= prof["ci_high"])
    assert inside.mean() >= 0.85  # 95% bands, 48 intervals
    assert prof["count"].sum() == times.size
    assert prof["rate"].to_numpy() == pytest.approx(prof["count"] / (1800 * 10))


def test_arrival_profile_exact_interval_and_errors():
    prof = sc.arrival_profile([10.0, 20.0, 30.0], 86_400)
    # Garwood 95% interval for 3 events: [0.619, 8.767].
    assert prof["ci_low"].iloc[0] * 86_400 == pytest.approx(0.6187, abs=1e-3)
    assert prof["ci_high"].iloc[0] * 86_400 == pytest.approx(8.7673, abs=1e-3)
    assert len(sc.arrival_profile([], 7 * 3600)) == 4  # last interval shorter
    with pytest.raises(ValueError, match="outside"):
        sc.arrival_profile([90_000.0], 3600)
    with pytest.raises(ValueError, match="period"):
        sc.arrival_profile([1.0], 0)


def test_poisson_test_accepts_poisson_and_rejects_clustered():
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0, 5 * 86_400, 20_000))
    ok = sc.poisson_test(t, 360, jitter=False)
    assert ok.p_exponential > 0.01 and ok.p_uniform > 0.01
    # Arrivals in bursts of 5 within 2 s: far from Poisson.
    burst = np.repeat(t[:4000], 5) + rng.uniform(0, 2, 20_000)
    bad = sc.poisson_test(burst, 360, jitter=False)
    assert bad.p_exponential < 1e-6


def test_daily_dispersion_detects_random_daily_rate():
    rng = np.random.default_rng(4)
    counts = rng.poisson(rng.gamma(20, 50, 30))  # mean 1000, overdispersed
    day = np.repeat(np.arange(30), counts)
    calls = pd.DataFrame(
        {"day": day, "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(day, "D")}
    )
    disp = {d.day_type: d for d in sc.daily_dispersion(calls, scheme="western")}
    assert disp["weekday"].index > 5 and disp["weekday"].p_value < 1e-3
    pois = np.repeat(np.arange(30), rng.poisson(1000, 30))
    calls = pd.DataFrame(
        {"day": pois, "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(pois, "D")}
    )
    disp = {d.day_type: d for d in sc.daily_dispersion(calls, scheme="western")}
    assert disp["weekday"].p_value > 0.001


def test_day_types():
    d = pd.to_datetime(["1999-02-05", "1999-02-06", "1999-02-07"])  # Fri, Sat, Sun
    assert sc.day_types(d).tolist() == ["friday", "saturday", "weekday"]
    assert sc.day_types(d, "western").tolist() == ["weekday", "saturday", "sunday"]


# ---------------------------------------------------------------- service


@pytest.mark.parametrize(
    ("name", "draw", "truth"),
    [
        ("lognormal", lambda g, n: g.lognormal(4.5, 0.9, n), {"s": 0.9, "scale": np.exp(4.5)}),
        ("gamma", lambda g, n: g.gamma(3.0, 40.0, n), {"a": 3.0, "scale": 40.0}),
        ("exponential", lambda g, n: g.exponential(120.0, n), {"scale": 120.0}),
        ("weibull", lambda g, n: 150.0 * g.weibull(0.6, n), {"c": 0.6, "scale": 150.0}),
    ],
)
def test_fit_service_recovers_family_and_parameters(name, draw, truth):
    x = draw(np.random.default_rng(11), 4000)
    fit = sc.fit_service(x)
    if name == "exponential":
        # Nested in gamma and Weibull: they may win by chance, but by less than
        # the 2 AIC points of their extra parameter.
        assert fit.fits[name].aic - fit.table["aic"].min() < 2.0
        assert fit.fits["weibull"].params["c"] == pytest.approx(1.0, abs=0.05)
    else:
        assert fit.best == name
    assert set(fit.table["dist"]) == {"lognormal", "gamma", "exponential", "weibull"}
    assert fit.table["aic"].is_monotonic_increasing
    for k, v in truth.items():
        assert fit.fits[name].params[k] == pytest.approx(v, rel=0.06)


def test_fit_service_aic_and_zero_handling():
    x = np.array([0.0, 0.0, 1.0, 2.0, 3.0, 6.0])
    fit = sc.fit_service(x)
    assert fit.n == 4 and fit.n_dropped == 2
    e = fit.fits["exponential"]
    mean = 3.0
    loglik = -4 * np.log(mean) - 12.0 / mean
    assert e.mean == pytest.approx(mean)
    assert e.loglik == pytest.approx(loglik)
    assert e.aic == pytest.approx(2 - 2 * loglik)
    ln = fit.fits["lognormal"]
    assert ln.params["s"] == pytest.approx(np.log([1, 2, 3, 6]).std())
    with pytest.raises(ValueError, match="negative"):
        sc.fit_service([1.0, -2.0])
    with pytest.raises(ValueError, match="at least 2"):
        sc.fit_service([5.0])


def test_fit_service_names_non_numeric_durations_in_one_line():
    with pytest.raises(ValueError) as err:
        sc.fit_service(["a", "b"])
    err.match(r"^durations: 2 value\(s\) are not numbers, e\.g\. \['a', 'b'\]$")  # the whole message
    with pytest.raises(ValueError, match=r"durations: 1 value\(s\) are not numbers, e.g. \['x'\]"):
        sc.fit_service(np.array([1.0, "x", 3.0], dtype=object))
    assert sc.fit_service(["1.5", "2", "4"]).n == 3  # numeric text converts as before


# ---------------------------------------------------------------- patience


def test_kaplan_meier_hand_computed():
    waits = [1, 2, 2, 3, 4, 5]
    abandoned = [True, False, True, True, False, True]
    fit = sc.patience(waits, abandoned)
    s = fit.survival.set_index("time")["survival"]
    # S(1) = 5/6; S(2) = 5/6·4/5; S(3) = ·2/3; S(4) unchanged (censored); S(5) = 0.
    assert s.loc[1.0] == pytest.approx(5 / 6)
    assert s.loc[2.0] == pytest.approx(2 / 3)
    assert s.loc[3.0] == pytest.approx(4 / 9)
    assert s.loc[4.0] == pytest.approx(4 / 9)
    assert s.loc[5.0] == pytest.approx(0.0)
    assert list(fit.survival.columns[:2]) == ["time", "survival"]
    # Exponential MLE: total waiting time / abandonments = 17 / 4.
    assert fit.mean == pytest.approx(17 / 4)
    assert fit.n_abandoned == 4 and fit.n == 6
    assert fit.ci_low < fit.mean < fit.ci_high


def test_patience_uses_censoring():
    rng = np.random.default_rng(5)
    n = 20_000
    offered = rng.exponential(60.0, n)
    pat = rng.exponential(200.0, n)
    waits, ab = np.minimum(offered, pat), pat < offered
    fit = sc.patience(waits, ab)
    assert fit.mean == pytest.approx(200.0, rel=0.05)
    assert fit.ci_low < 200.0 < fit.ci_high
    # The naive mean of the abandoners' waits is far too small.
    assert waits[ab].mean() < 0.4 * fit.mean
    # KM agrees with the exponential survival at its median.
    assert fit.median == pytest.approx(200.0 * np.log(2), rel=0.1)
    # Flat hazard ≈ 1/200 in the well-populated bins.
    h = fit.hazard[fit.hazard["abandoned"] > 200]
    assert h["hazard"].to_numpy() == pytest.approx(1 / 200, rel=0.2)


def test_patience_errors():
    with pytest.raises(ValueError, match="no abandonments"):
        sc.patience([1.0, 2.0], [False, False])
    with pytest.raises(ValueError, match="differ in length"):
        sc.patience([1.0, 2.0], [True])
    with pytest.raises(ValueError, match="negative"):
        sc.patience([-1.0, 2.0], [True, False])


def test_erlang_a_relation_on_synthetic_calls(make_trace):
    calls = sc.calls_from_events(make_trace(days=2, patience_mean=300.0))
    check = sc.erlang_a_check(calls, 300.0, period=3600)
    assert len(check.table) == 24  # hours of the day, pooled over the 2 days
    # P(ab) = E[W]/θ holds exactly for exponential patience.
    assert check.implied_patience == pytest.approx(300.0, rel=0.1)


# ---------------------------------------------------------------- staffing


def test_agents_on_duty_rule():
    calls = pd.DataFrame(
        {
            "agent": ["ann", "ann", "bob", None, "cy"],
            "service_start": [100.0, 1700.0, 1790.0, 10.0, 86_400 + 50.0],
            "service_end": [200.0, 1900.0, 1800.0, 20.0, 86_400 + 50.0],
            "day": [0, 0, 0, 0, 1],
        }
    )
    d = sc.agents_on_duty(calls, 1800)
    assert len(d) == 96
    first = d.set_index(["day", "start"])
    assert first.loc[(0, 0.0), "on_duty"] == 2  # ann, bob (unknown agent not counted)
    assert first.loc[(0, 1800.0), "on_duty"] == 1  # ann's call crosses 0:30
    assert first.loc[(1, 0.0), "on_duty"] == 1  # an instant service still counts
    assert first.loc[(0, 0.0), "busy"] == pytest.approx((100 + 100 + 10) / 1800)
    assert d["on_duty"].sum() == 4


def test_shifts_from_staffing():
    shifts = sc.shifts_from_staffing([0, 30, 60, 90], [30, 60, 90, 120], [0, 2, 2, 1], horizon=150)
    assert shifts == [
        {"start": 0, "end": 30, "servers": 0},
        {"start": 30, "end": 90, "servers": 2},
        {"start": 90, "end": 150, "servers": 1},
    ]
    with pytest.raises(ValueError, match="contiguous"):
        sc.shifts_from_staffing([0, 40], [30, 60], [1, 1])
