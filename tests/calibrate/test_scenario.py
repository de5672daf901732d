"""calibrate / to_scenario / fit_from_events on the bank data and on a synthetic trace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simlib
import simlib.calibrate as sc
from simlib.plots.calibration import agents_on_duty_plot, availability_plot, coverage_table_plot


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


def test_round_keeping_total_keeps_agent_hours():
    level = [4.65] * 12 + [2.2, 0.0, 7.5]
    out = sc.round_keeping_total(level)
    assert out.dtype.kind == "i" and np.all(np.abs(out - np.asarray(level)) < 1)
    assert abs(np.cumsum(out) - np.cumsum(level)).max() <= 0.5
    assert sorted(set(out[:12].tolist())) == [4, 5]


def test_bank_priority_of_never_queued_callers_is_unrecorded(bank):
    calls = bank.calls
    unknown = ~calls["priority_known"]
    # Raw priority 0 of callers who never queued (the system's customer-id bug):
    # 14,521 rows with q_time 0, less the PHANTOM records and the HANG calls
    # the ingestion places at the queue exit.
    raw = sc.load_bank()
    assert int(((raw["priority"] == 0) & (raw["q_time"] == 0)).sum()) == 14_521
    assert int(unknown.sum()) == 14_500
    assert not calls.loc[unknown, "queued"].any()
    cal = sc.calibrate(bank, day_type="weekday", patience_families=["exponential"])
    known = cal.calls[cal.calls["priority_known"] & (cal.calls["class"] == "PS")]
    assert cal.priority_share["PS"] == pytest.approx((known["priority"] == 0).mean())
    assert cal.credit == 90.0 and bank.priority_credit == 90.0


def test_effective_capacity_is_below_on_duty_and_both_readings_exist(bank_weekday):
    ty = bank_weekday.typical
    # About 82 effective agent-hours a weekday against 90 on duty (issue 12).
    hours = bank_weekday.staffing_period / 3600
    assert ty["mean_on_duty"].sum() * hours == pytest.approx(90, abs=3)
    assert ty["mean_effective"].sum() * hours == pytest.approx(82, abs=3)
    assert ty["effective_servers"].sum() * hours == pytest.approx(ty["mean_effective"].sum() * hours, abs=hours)
    eff = sc.to_scenario(bank_weekday)
    duty = sc.to_scenario(bank_weekday, capacity="on_duty")
    def agent_hours(s):
        return sum((x["end"] - x["start"]) * x["servers"] for x in s["stations"][0]["shifts"]) / 60
    assert agent_hours(eff) < agent_hours(duty) - 5
    # After-call work goes into the service with on-duty capacity only.
    m_eff = eff["stations"][0]["service"]["PS"]["mean"]
    m_duty = duty["stations"][0]["service"]["PS"]["mean"]
    assert m_duty == pytest.approx(m_eff + bank_weekday.acw.mean / 60, rel=1e-4)
    assert eff["day_to_day"]["cv"] == pytest.approx(bank_weekday.day_cv, rel=1e-4)
    # Daily mean services of the bank's weekdays vary beyond their sampling noise (cv ~0.07).
    assert 0.03 < bank_weekday.service_day_cv < 0.12
    assert eff["day_to_day"]["service_cv"] == pytest.approx(bank_weekday.service_day_cv, rel=1e-4)
    assert "service_cv" not in sc.to_scenario(bank_weekday, service_day_to_day=False)["day_to_day"]
    # day_to_day=False still writes no day-level variation at all (the previous model).
    assert "day_to_day" not in sc.to_scenario(bank_weekday, day_to_day=False)
    only = sc.to_scenario(bank_weekday, day_to_day=False, service_day_to_day=True)["day_to_day"]
    assert only["cv"] == 0.0 and only["service_cv"] > 0
    with pytest.raises(ValueError, match="capacity"):
        sc.to_scenario(bank_weekday, capacity="rostered")


def test_out_of_sample_needs_disjoint_days(bank):
    with pytest.raises(ValueError, match="also calibration days"):
        sc.out_of_sample(bank, [0, 1], [1, 2], replications=2)


def test_availability_and_coverage_plots(bank_weekday):
    fig = agents_on_duty_plot({"30-min": bank_weekday, "again": bank_weekday}, period=3600)
    # On duty for both readings, serving for the first; hourly steps over the day (+ the end).
    lines = fig.axes[0].lines
    assert len(lines) == 3 and len(lines[0].get_xdata()) == 25
    hourly = bank_weekday.staffing.groupby(bank_weekday.staffing["start"] // 3600)["on_duty"].mean()
    assert np.allclose(lines[0].get_ydata()[:-1], hourly.to_numpy())
    fig = availability_plot(bank_weekday.typical)
    assert len(fig.axes[0].lines) == 3 and fig.axes[0].get_ylabel() == "agents"
    table = pd.DataFrame({"run": ["a", "a", "b", "b"], "metric": ["p_abandon", "mean_wait"] * 2,
                          "coverage": [0.9, 0.8, 0.7, 0.6]})
    fig = coverage_table_plot(table)
    assert len(fig.axes[0].patches) == 4
