"""calibrate / to_scenario / fit_from_events on the bank data and on a synthetic trace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simlib
import simlib.calibrate as sc


def check_structure(scn: dict, horizon: float) -> None:
    assert set(scn) >= {"name", "time_unit", "horizon", "warmup", "classes", "stations"}
    assert scn["horizon"] == pytest.approx(horizon)
    for c in scn["classes"]:
        assert {"name", "arrivals", "patience", "priority"} <= set(c) <= {
            "name", "arrivals", "patience", "priority", "credit"}
        assert len(c["arrivals"]) == 1
        assert simlib.load_scenario(scn).classes[0].patience.mean > 0
    (st,) = scn["stations"]
    shifts = st["shifts"]
    assert shifts[0]["start"] == 0 and shifts[-1]["end"] == pytest.approx(horizon)
    for a, b in zip(shifts, shifts[1:], strict=False):
        assert a["end"] == b["start"] and a["servers"] != b["servers"]
    assert all(isinstance(s["servers"], int) and s["servers"] >= 0 for s in shifts)


def test_bank_fitted_scenario(bank_weekday):
    cal = bank_weekday
    assert len(cal.days) == 20  # Sunday-Thursday in February 1999
    assert cal.classes[0] == "PS"
    assert cal.priorities["NE"] == 0  # stock-exchange callers are mostly priority customers
    scn = sc.to_scenario(cal)
    check_structure(scn, 1440.0)
    ps, ps_priority = scn["classes"][:2]
    assert ps_priority["name"] == "PS-priority" and ps_priority["credit"] == 1.5  # 90 s
    assert ps["credit"] == 0 and ps_priority["priority"] < ps["priority"]
    rates = np.add(ps["arrivals"]["profile"]["rates"], ps_priority["arrivals"]["profile"]["rates"])
    assert ps["arrivals"]["profile"]["period"] == 30.0 and len(rates) == 48
    # Rates are fitted, per minute: they reproduce the observed number of PS calls
    # (callers who hung up before reaching the queue are left out by default).
    n_ps = int((cal.calls["class"] == "PS").sum())
    assert sum(rates) * 30 * 20 == pytest.approx(n_ps, rel=1e-4)
    assert not (cal.calls["wait"].isna() & cal.calls["abandoned"]).any()
    svc = scn["stations"][0]["service"]
    assert set(svc) == {c["name"] for c in scn["classes"]}
    assert svc["PS"]["dist"] in {"lognormal", "gamma", "exponential"}
    assert svc["PS"]["mean"] == pytest.approx(cal.service["PS"].best_scenario.mean / 60, rel=1e-5)
    assert scn["stations"][0]["discipline"] == "credit"
    # Strict priority and agents on duty remain available.
    old = sc.to_scenario(sc.calibrate(sc.ingest_bank(), day_type="weekday", credit=None), capacity="on_duty")
    assert old["stations"][0]["discipline"] == "credit"  # the bank's log carries its 90 s credit
    # At most the 8 agent positions the centre has, plus its supervisor and a few
    # internet agents; nobody at 3 a.m.
    servers = [s["servers"] for s in scn["stations"][0]["shifts"]]
    assert max(servers) <= 14 and scn["stations"][0]["shifts"][0]["servers"] <= 1


def test_bank_service_is_lognormal_above_10_seconds(bank):
    # Brown et al. (2005): lognormal, once the spike of very short calls is set aside.
    ps = bank.calls.loc[bank.calls["class"] == "PS", "service"]
    fit = sc.fit_service(ps, min_duration=10)
    assert fit.best == "lognormal" and fit.best_fit.ks < 0.03
    assert fit.n_dropped == int((ps.dropna() < 10).sum())
    assert sc.fit_service(ps).best != "lognormal"  # all data: the short spike decides


def test_bank_patience_and_erlang_a(bank_weekday):
    p = bank_weekday.patience["*"]
    calls = bank_weekday.calls
    has_wait = calls["wait"].notna()
    expect = calls.loc[has_wait, "wait"].sum() / calls.loc[has_wait, "abandoned"].sum()
    assert p.mean == pytest.approx(expect)
    # The per-hour relation P(ab) ≈ E[W]/θ implies a patience within 20% of the MLE.
    assert bank_weekday.erlang_a.implied_patience == pytest.approx(p.mean, rel=0.2)


def test_loads_with_load_scenario(bank_weekday, tmp_path):
    simlib = pytest.importorskip("simlib")
    load = getattr(simlib, "load_scenario", None)
    if load is None:
        from simlib.spec.scenario import load_scenario as load
    scn = load(sc.to_scenario(bank_weekday))
    assert scn.horizon == 1440.0
    load(sc.to_scenario(bank_weekday, time_unit="second"))
    traced = load(sc.to_scenario(bank_weekday, trace_dir=tmp_path))
    assert traced.horizon == 20 * 1440.0


def test_trace_variant_files(bank_weekday, tmp_path):
    scn = sc.to_scenario(bank_weekday, trace_dir=tmp_path)
    check_structure(scn, 20 * 1440.0)
    ps = scn["classes"][0]
    spec = ps["arrivals"]["trace"]
    times = pd.read_csv(spec["file"])[spec["column"]]
    assert len(times) == int((bank_weekday.calls["class"] == "PS").sum())
    assert times.is_monotonic_increasing and times.min() >= 0 and times.max() < 20 * 1440
    svc = scn["stations"][0]["service"]["PS"]
    assert svc["dist"] == "empirical"
    values = pd.read_csv(svc["file"])[svc["column"]]
    observed = bank_weekday.calls.loc[bank_weekday.calls["class"] == "PS", "service"].dropna()
    assert values.mean() == pytest.approx(observed.mean() / 60)


def test_fit_back_a_simulated_trace(make_trace):
    """A trace with known parameters is fitted back through the event layout."""
    ev = make_trace(days=3, rate=0.05, patience_mean=200.0, service_mean=150.0, service_cv=1.2)
    cal = sc.fit_from_events(ev, day_type=None, scheme="western")
    assert set(cal.classes) == {"std", "vip"}
    std = cal.service["std"]
    assert std.best == "lognormal"
    assert std.best_fit.mean == pytest.approx(150.0, rel=0.05)
    assert std.best_fit.cv == pytest.approx(1.2, rel=0.1)
    assert cal.patience["*"].mean == pytest.approx(200.0, rel=0.06)
    total_rate = sum(p["rate"].mean() for p in cal.profiles.values())
    assert total_rate == pytest.approx(0.05, rel=0.03)
    assert cal.poisson is not None and cal.poisson.p_exponential > 0.001
    scn = sc.to_scenario(cal, time_unit="second")
    check_structure(scn, 86_400.0)
    vip = next(c for c in scn["classes"] if c["name"] == "vip")
    assert np.mean(vip["arrivals"]["profile"]["rates"]) == pytest.approx(0.05 / 4, rel=0.08)


def test_calibrate_rejects_other_input():
    with pytest.raises(ValueError, match="not a call table"):
        sc.calibrate(pd.DataFrame({"x": [1]}))
    with pytest.raises(TypeError):
        sc.calibrate([1, 2, 3])  # type: ignore[arg-type]


def test_plots_return_figures(bank_weekday):
    from matplotlib.figure import Figure

    from simlib.plots import calibration as plots

    figs = [
        plots.qq_plot(bank_weekday.service["PS"]),
        plots.survival_plot(bank_weekday.patience["*"]),
        plots.hazard_plot(bank_weekday.patience["*"]),
        plots.profile_plot({c: bank_weekday.profiles[c] for c in ("PS", "NW")}),
        plots.erlang_a_plot(bank_weekday.erlang_a),
    ]
    assert all(isinstance(f, Figure) for f in figs)
    assert len(figs[0].axes) == 4
