"""Resource budgets and once-per-run warnings (issue 17).

An experiment estimated above the work budget is refused before it runs,
with the estimate and the option that raises it; a queue growing without
bound stops the replication (max_customers); a window too short for any
arrival, and metrics NaN in every replication, are each said once.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import yaml

import simlib
from simlib.app.cli import main
from simlib.engine import RunawayError, simulate
from simlib.experiments import MissingMetricWarning, WindowWarning
from simlib.experiments.budget import (
    MAX_WORK,
    WorkBudgetError,
    check_work,
    expected_arrivals,
    work_per_replication,
)
from simlib.spec.scenario import load_scenario

SCENARIOS = sorted((Path(__file__).parents[2] / "data" / "scenarios").glob("*.yaml"))


def mm1(rate=0.5, horizon=100.0, **extra):
    return {"name": "mm1", "horizon": horizon, "warmup": 0,
            "classes": [{"name": "c", "arrivals": {"rate": rate}}],
            "stations": [{"name": "s", "servers": 1,
                          "service": {"dist": "exponential", "mean": 1.0}}], **extra}


def test_the_estimate_counts_arrivals_visits_and_replications():
    scn = load_scenario(mm1(rate=2.0, horizon=50.0, warmup=10.0))
    assert work_per_replication(scn) == pytest.approx(2.0 * 60)
    loop = mm1()
    loop["stations"].append({"name": "t", "servers": 1, "service": {"dist": "exponential", "mean": 1}})
    loop["routing"] = {"s": {"t": 1.0}, "t": {"s": 0.75, "exit": 0.25}}  # 4 laps of 2 visits
    assert work_per_replication(load_scenario(loop)) == pytest.approx(0.5 * 100 * 8)
    prof = mm1()
    prof["classes"][0]["arrivals"] = {"profile": {"period": 30, "rates": [1.0, 3.0]}}
    assert work_per_replication(load_scenario(prof)) == pytest.approx(30 + 90 + 30 + 10 * 3)
    assert check_work([scn], 10) == pytest.approx(1200)


def test_bundled_scenarios_are_far_inside_the_budget():
    for path in SCENARIOS:
        # a 100-point sweep of 1,000 replications each still fits
        assert work_per_replication(load_scenario(path)) * 1000 * 100 < MAX_WORK, path


def test_too_much_work_is_refused_before_running_with_the_option():
    with pytest.raises(WorkBudgetError, match=r"6\.67e\+09 station visits.*max_work="):
        simlib.run(mm1(rate=3.33333333, horizon=1e9), replications=2, progress=False)
    loop = mm1()
    loop["stations"].append({"name": "t", "servers": 1, "service": {"dist": "exponential", "mean": 1e-6}})
    loop["routing"] = {"s": {"t": 1.0}, "t": {"s": 1 - 1e-7, "exit": 1e-7}}
    with pytest.raises(WorkBudgetError, match=r"visits each"):
        simlib.run(loop, replications=1, progress=False)
    with pytest.raises(WorkBudgetError):
        simlib.sweep(mm1(horizon=1e8), {"stations.s.servers": [1, 2]}, replications=20,
                     progress=False)
    # raised, it runs
    res = simlib.run(mm1(), replications=2, progress=False, jobs=1, max_work=1e12)
    assert res.n_replications == 2


def test_auto_replications_stop_at_the_budget():
    with pytest.warns(simlib.experiments.PrecisionWarning, match="work budget"):
        res = simlib.run(mm1(rate=0.9, horizon=200), replications="auto", precision=0.001,
                         min_replications=4, max_work=4 * 0.9 * 200 * 2.5, progress=False, jobs=1)
    assert 4 <= res.n_replications < 10


def test_a_runaway_queue_stops_the_replication():
    scn = load_scenario(mm1(rate=20.0, horizon=1000))
    with pytest.raises(RunawayError, match=r"more than 500 customers.*max_customers="):
        simulate(scn, seed=1, max_customers=500)
    err = RunawayError("x", 5, 1.0)
    import pickle
    assert str(pickle.loads(pickle.dumps(err))) == str(err)


def cli(tmp_path, data, *args):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return main(["run", str(path), "-r", "2", "-q", "--jobs", "1", *args])


def test_cli_exit_2_with_one_line_for_budget_and_runaway(tmp_path, capsys):
    assert cli(tmp_path, mm1(rate=2.0, horizon=1e9)) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--max-work" in err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli(tmp_path, mm1(rate=20.0, horizon=1000), "--max-customers", "300") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("simlib: error: mm1: more than 300 customers"), err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the arrival rate of 1e6: the budget refuses 2 replications, the guard stops 1
        assert cli(tmp_path, mm1(rate=1e6, horizon=540)) == 2
        assert "budget" in capsys.readouterr().err
        assert cli(tmp_path, mm1(rate=1e6, horizon=480), "-r", "1", "--max-work", "1e12",
                   "--max-customers", "20000") == 2
        assert "more than 20,000 customers" in capsys.readouterr().err


def test_a_tiny_window_and_nan_metrics_warn_once(recwarn):
    simlib.run(mm1(horizon=1e-3), replications=3, progress=False, jobs=1)
    window = [w for w in recwarn if issubclass(w.category, WindowWarning)]
    missing = [w for w in recwarn if issubclass(w.category, MissingMetricWarning)]
    assert len(window) == 1 and "expects 0.0005 arrivals" in str(window[0].message)
    assert len(missing) == 1 and "mean_wait" in str(missing[0].message)
    assert window[0].filename == __file__
    recwarn.clear()
    simlib.run(mm1(), replications=3, progress=False, jobs=1)
    assert not [w for w in recwarn if issubclass(w.category, WindowWarning | MissingMetricWarning)]


def test_auto_replications_refuse_an_unstable_model():
    with pytest.raises(ValueError, match=r"needs a stable model.*'s' is loaded to 150%"):
        simlib.run(mm1(rate=1.5), replications="auto", progress=False)
    with pytest.raises(ValueError, match=r"stations.s.servers=1"):
        simlib.sweep(mm1(rate=1.5), {"stations.s.servers": [1, 2]}, replications="auto",
                     progress=False)
    # abandonment or a queue capacity keeps it stable: allowed
    patient = mm1(rate=1.5)
    patient["classes"][0]["patience"] = {"dist": "exponential", "mean": 2.0}
    res = simlib.run(patient, replications="auto", precision=0.2, min_replications=3,
                     progress=False, jobs=1)
    assert res.n_replications >= 3


def test_expected_arrivals_of_renewal_and_batch_arrivals():
    scn = load_scenario({
        "name": "t", "horizon": 200, "warmup": 10,
        "classes": [
            {"name": "renewal", "arrivals": {"interarrival": {"dist": "erlang", "k": 2, "mean": 0.5}}},
            {"name": "batches", "arrivals": {
                "rate": 0.2, "batch": {"values": [1, 3], "probabilities": [0.5, 0.5]}}}],
        "stations": [{"name": "s", "servers": 3, "service": {"dist": "exponential", "mean": 1}}]})
    # 210 time units: 1/0.5 renewal arrivals per unit, 0.2 batches of mean size 2.
    assert expected_arrivals(scn) == pytest.approx({"renewal": 420.0, "batches": 84.0})
