"""Round trip: simulate with trace=True, calibrate the trace, recover the inputs.

A simulated event log has the layout of a real one (docs/traces.md#event-log-layout), so
the calibration code that fits real call-centre logs must recover the
parameters a simulation was run with. The model is an M/G/c+M call centre:
Poisson arrivals, lognormal handling times, exponential patience.

How the trace is prepared, and why (the only steps between engine and calibration):

* keep one replication: customer ids restart at 0 in every replication, and
  the calibration functions know nothing of a ``replication`` column;
* keep the customers who arrive in the observed window ``[0, horizon)``: the
  warm-up has negative times (calibration would count them as a day -1) and
  the drain after the window would add a partial day, diluting per-day rates;
* convert minutes to seconds (``time * 60``), because the calibration's
  arrival profiles work in seconds of the day.
"""

from __future__ import annotations

import numpy as np
import pytest

import simlib
from simlib import calibrate

# Generating parameters, in minutes (the scenario's unit) and seconds.
RATE = 4.0          # calls per minute  = 1/15 per second
SERVICE = 2.5       # mean handling time, minutes = 150 s; lognormal, cv 1
CV = 1.0
PATIENCE = 2.0      # mean patience, minutes = 120 s; exponential
SERVERS = 10        # offered load 10 Erlangs on 10 agents: about 13% abandon
DAYS = 2
HORIZON = DAYS * 1440.0


@pytest.fixture(scope="module")
def simulated():
    spec = {
        "name": "roundtrip",
        "time_unit": "minute",
        "horizon": HORIZON,
        "warmup": 60,
        "classes": [{"name": "caller", "arrivals": {"rate": RATE},
                     "patience": {"dist": "exponential", "mean": PATIENCE}}],
        "stations": [{"name": "agents", "servers": SERVERS,
                      "service": {"dist": "lognormal", "mean": SERVICE, "cv": CV}}],
    }
    scn = simlib.load_scenario(spec)
    res = simlib.run(scn, replications=1, seed=2024, trace=True, progress=False)
    trace = res.trace()
    assert list(trace.columns)[1:] == ["customer", "class", "station", "event", "time"]
    arrived = trace[trace["event"] == "arrival"]
    observed = arrived.loc[(arrived["time"] >= 0) & (arrived["time"] < HORIZON), "customer"]
    window = trace[trace["customer"].isin(observed)]
    return res, window


def test_the_call_table_reproduces_the_engines_metrics(simulated):
    # Same customers, two computations: the engine's streaming tallies and the
    # calibration's extraction from the trace. They must agree exactly.
    res, window = simulated
    calls = calibrate.calls_from_events(window)
    m = res.runs[0]["agents"]
    admitted = calls[calls["outcome"] != "blocked"]
    served = calls[calls["outcome"] == "served"]
    assert len(calls) == m["arrivals"]
    assert (calls["outcome"] != "open").all()
    assert admitted["abandoned"].mean() == pytest.approx(m["p_abandon"], rel=1e-12)
    assert admitted["wait"].mean() == pytest.approx(m["mean_wait"], rel=1e-9)
    assert served["wait"].mean() == pytest.approx(m["asa"], rel=1e-9)
    assert served["service"].mean() == pytest.approx(m["mean_service"], rel=1e-9)
    assert (admitted["wait"] > 0).mean() == pytest.approx(m["p_wait"], rel=1e-12)


def test_calibration_recovers_the_generating_parameters(simulated):
    _, window = simulated
    seconds = window.assign(time=window["time"] * 60.0)  # calibration works in seconds
    cal = calibrate.fit_from_events(seconds, period=3600.0)
    assert cal.days == tuple(range(DAYS))

    # Arrival rate: about 11,500 calls, Poisson, so the relative standard error
    # of the rate is 1/sqrt(11,500) = 0.9%; 5% is more than 5 standard errors.
    profile = cal.profiles["caller"]
    assert profile["count"].sum() > 10_000
    rate = float(np.average(profile["rate"], weights=profile["end"] - profile["start"]))
    assert rate == pytest.approx(RATE / 60.0, rel=0.05)

    # Service: about 10,000 served calls. The lognormal wins by AIC (with this
    # many calls the log-likelihood gap to gamma and Weibull is in the
    # hundreds). Its MLE mean has a relative standard error of
    # sqrt((s^2 + s^4/2) / n) = 1.0% (s^2 = log(1 + cv^2) = 0.69), its cv about
    # 1.1%; 5% is 4-5 standard errors.
    service = cal.service["caller"]
    assert service.best == "lognormal"
    assert service.n > 9_000
    fit = service.best_fit
    assert fit.mean == pytest.approx(SERVICE * 60.0, rel=0.05)
    assert fit.cv == pytest.approx(CV, rel=0.05)
    # The wrong families lose clearly, not by a hair.
    aic = service.table.set_index("dist")["aic"]
    assert (aic.drop("lognormal") - aic["lognormal"]).min() > 20

    # Patience: the exponential MLE (total wait / abandonments) uses the waits
    # of served callers as censored observations. With r abandonments its
    # relative standard error is 1/sqrt(r); r is about 1,500 here (2.6%), so
    # 10% is almost 4 standard errors. Its exact (chi-square) 99.9% interval
    # must contain the truth as well.
    pat = cal.patience["caller"]
    assert pat.n_abandoned > 1_200
    assert pat.mean == pytest.approx(PATIENCE * 60.0, rel=0.10)
    calls = cal.calls
    queued = calls["wait"].notna()
    wide = calibrate.patience(calls.loc[queued, "wait"], calls.loc[queued, "abandoned"], level=0.999)
    assert wide.mean == pytest.approx(pat.mean)
    assert wide.ci_low <= PATIENCE * 60.0 <= wide.ci_high
    # Censoring matters: averaging only the abandoners' waits would be far off.
    naive = float(calls.loc[calls["abandoned"], "wait"].mean())
    assert naive < 0.7 * PATIENCE * 60.0


def test_a_wrong_time_unit_is_visible_in_the_fit(simulated):
    # The test can fail: feeding minutes as if they were seconds gives a
    # service mean 60 times too small (and arrival rates 60 times too high).
    _, window = simulated
    cal = calibrate.fit_from_events(window, period=3600.0)
    assert cal.service["caller"].best_fit.mean == pytest.approx(SERVICE, rel=0.05)
    assert cal.service["caller"].best_fit.mean != pytest.approx(SERVICE * 60.0, rel=0.5)


def test_trace_events_are_the_calibration_events(simulated):
    _, window = simulated
    assert set(window["event"].astype(str)) <= set(calibrate.EVENTS)
    # One customer's events in the order calibration expects them.
    abandoner = window.loc[window["event"] == "abandon", "customer"].iloc[0]
    events = list(window.loc[window["customer"] == abandoner, "event"])
    assert events == ["arrival", "queue", "abandon"]
    served = window.loc[window["event"] == "queue", "customer"]
    served = served[~served.isin(window.loc[window["event"] == "abandon", "customer"])].iloc[0]
    assert list(window.loc[window["customer"] == served, "event"]) == ["arrival", "queue", "start", "end"]
