"""Executors, sweeps, paired comparisons and precision-driven replications.

The central property is that results do not depend on where replications
run: jobs=1, local worker processes and a real Dask cluster must give the
same numbers bit for bit. Dask tests start one real ``LocalCluster`` per
module (not a mock).
"""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings

import pandas as pd
import pytest
from support import SCENARIOS

import simlib
from simlib.experiments import execution
from simlib.experiments.runner import PrecisionWarning, variant_seed
from simlib.spec.scenario import ScenarioError

CALL_CENTRE = SCENARIOS / "call_centre.yaml"
SERVERS = "stations.agents.servers"
RATE = "classes.caller.arrivals.rate"


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as c:
        yield c


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if any replication is simulated in this process."""
    def refuse(*args, **kwargs):
        raise AssertionError("a replication was simulated")
    monkeypatch.setattr(execution, "simulate_task", refuse)


def short(servers: int = 14, horizon: float = 240):
    return simlib.load_scenario(CALL_CENTRE).with_overrides(
        {SERVERS: servers, "horizon": horizon, "warmup": 30})


# --------------------------------------------------------------------------- executors


def test_results_are_identical_for_jobs_1_jobs_2_and_dask(cluster):
    scn = short()
    one = simlib.run(scn, replications=6, seed=3, jobs=1, progress=False)
    two = simlib.run(scn, replications=6, seed=3, jobs=2, progress=False)
    dask = simlib.run(scn, replications=6, seed=3, executor="dask",
                      address=cluster.scheduler_address, progress=False)
    # Bit for bit: the per-replication dicts compare equal, not approximately.
    assert one.runs == two.runs == dask.runs
    pd.testing.assert_frame_equal(one.summary(), dask.summary(), check_exact=True)
    assert [r.replication for r in dask.records] == list(range(6))
    # And a different seed does give different numbers (the check can fail).
    assert simlib.run(scn, replications=6, seed=4, jobs=1, progress=False).runs != one.runs


def test_sweeps_are_identical_on_every_executor(cluster):
    grid = {SERVERS: [13, 14], RATE: [3.0, 3.3]}
    kw = dict(replications=3, seed=5, progress=False)
    local = simlib.sweep(short(), grid, jobs=1, **kw)
    pool = simlib.sweep(short(), grid, jobs=2, **kw)
    dask = simlib.sweep(short(), grid, executor="dask", address=cluster.scheduler_address, **kw)
    pd.testing.assert_frame_equal(local.table, pool.table, check_exact=True)
    pd.testing.assert_frame_equal(local.table, dask.table, check_exact=True)


def test_dask_without_an_address_starts_and_closes_a_local_cluster():
    from distributed import Client

    res = simlib.run(short(), replications=2, seed=1, executor="dask", jobs=1, progress=False)
    assert res.runs == simlib.run(short(), replications=2, seed=1, jobs=1, progress=False).runs
    with pytest.raises(ValueError):
        Client.current()  # no client left behind


def test_executor_arguments_are_checked():
    with pytest.raises(ValueError, match="jobs must be an integer >= 1"):
        simlib.run(short(), replications=2, jobs=0)
    with pytest.raises(ValueError, match="executor must be"):
        simlib.run(short(), replications=2, executor="spark")
    with pytest.raises(ValueError, match="address is for executor='dask'"):
        simlib.run(short(), replications=2, address="tcp://localhost:8786")


def test_an_execution_object_is_the_keywords_in_one_place(cluster):
    scn = short()
    kw = dict(replications=4, seed=3)
    one = simlib.run(scn, jobs=1, progress=False, **kw)
    assert execution.Execution.of(jobs=2, progress=False) == execution.Execution(2, progress=False)
    for ex in (execution.Execution(jobs=1, progress=False),
               execution.Execution(jobs=2, progress=False),
               execution.Execution(executor="dask", address=cluster.scheduler_address,
                                   progress=False)):
        assert simlib.run(scn, execution=ex, **kw).runs == one.runs
    grid = {SERVERS: [13, 14]}
    assert simlib.sweep(scn, grid, execution=execution.Execution(jobs=2, progress=False),
                        **kw).table.equals(simlib.sweep(scn, grid, jobs=1, progress=False,
                                                        **kw).table)
    with pytest.raises(ValueError, match="give execution= or jobs, not both"):
        simlib.run(scn, execution=execution.Execution(jobs=1), jobs=2, **kw)
    with pytest.raises(ValueError, match="jobs must be an integer >= 1"):
        execution.Execution(jobs=0)


def test_default_jobs_runs_short_experiments_here(monkeypatch):
    # A few milliseconds of work must not pay for starting processes.
    def no_pool(*args, **kwargs):
        raise AssertionError("a process pool was started")
    monkeypatch.setattr(execution, "ProcessPoolExecutor", no_pool)
    res = simlib.run(short(), replications=3, seed=1, progress=False)
    assert res.n_replications == 3
    with pytest.raises(AssertionError, match="process pool"):
        simlib.run(short(), replications=3, seed=1, jobs=2, progress=False)


def test_a_killed_dask_worker_loses_nothing(cluster, tmp_path):
    from distributed import Client

    grid = {SERVERS: [12, 13, 14, 15]}
    kw = dict(replications=24, seed=8, progress=False)
    scn = short(horizon=1500)
    out = tmp_path / "store"
    errors: list[BaseException] = []
    tables: list[pd.DataFrame] = []

    def target():
        try:
            tables.append(simlib.sweep(scn, grid, executor="dask",
                                       address=cluster.scheduler_address, out=out, **kw).table)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with Client(cluster.scheduler_address) as client:
        pids = list(client.run(os.getpid).values())
        thread = threading.Thread(target=target)
        thread.start()
        deadline = time.monotonic() + 60
        while len(list(out.glob("points/*/r*.parquet"))) < 8 and time.monotonic() < deadline:
            time.sleep(0.02)
        stored_at_kill = len(list(out.glob("points/*/r*.parquet")))
        os.kill(pids[0], signal.SIGKILL)
        thread.join(120)
    assert not errors, errors
    assert 0 < stored_at_kill < 96, "the worker was not killed in the middle of the run"
    expected = simlib.sweep(scn, grid, jobs=1, **kw).table
    pd.testing.assert_frame_equal(tables[0], expected, check_exact=True)
    assert len(list(out.glob("points/*/r*.parquet"))) == 96


# --------------------------------------------------------------------------- sweeps


def test_sweep_table_has_a_column_per_path_and_matches_single_runs():
    grid = {SERVERS: [12, 14], RATE: [3.0, 3.5]}
    swept = simlib.sweep(short(), grid, replications=4, seed=2, jobs=1, progress=False)
    table = swept.table
    assert list(table.columns) == [SERVERS, RATE, "scope", "metric", "mean", "std",
                                   "ci_low", "ci_high", "n", "method"]
    points = table[[SERVERS, RATE]].drop_duplicates().values.tolist()
    assert points == [[12, 3.0], [12, 3.5], [14, 3.0], [14, 3.5]]
    one = simlib.run(short(12).with_overrides({RATE: 3.5}), replications=4, seed=2, jobs=1,
                     progress=False).summary()
    got = table[(table[SERVERS] == 12) & (table[RATE] == 3.5)].drop(columns=[SERVERS, RATE])
    pd.testing.assert_frame_equal(got.reset_index(drop=True), one, check_exact=True)
    # the sweep keeps every point's replications: nothing downstream simulates again
    assert len(swept) == 4 and swept.paths == (SERVERS, RATE)
    pd.testing.assert_frame_equal(swept.at({SERVERS: 12, RATE: 3.5}).summary(), one)
    assert [dict(p) for p, _ in swept] == [{SERVERS: a, RATE: b} for a, b in points]
    assert repr(swept) == repr(table) and swept._repr_html_() == table._repr_html_()
    wider = swept.summary(0.99)
    assert (wider["ci_high"] - wider["ci_low"] >= table["ci_high"] - table["ci_low"]).all()
    with pytest.raises(ValueError, match="give"):
        swept.at(12)
    with pytest.raises(KeyError, match="no point"):
        swept.at({SERVERS: 13, RATE: 3.5})


def test_sweep_points_share_random_numbers():
    # Common random numbers: staffing does not change who arrives, so the
    # number of arrivals in each replication is the same at every point.
    table = simlib.sweep(short(), {SERVERS: [12, 13, 14]}, replications=3, seed=9, jobs=1,
                         progress=False).table
    arrivals = table[(table.scope == "system") & (table.metric == "arrivals")]
    assert arrivals["mean"].nunique() == 1 and arrivals["std"].nunique() == 1
    waits = table[(table.scope == "system") & (table.metric == "mean_wait")]["mean"]
    assert waits.is_monotonic_decreasing and waits.nunique() == 3


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"stations.contact.servers": [12]}, "no item named 'contact'"),
        ({SERVERS: [13, 0]}, "stations"),
        ({SERVERS: 13}, "give a list of values"),
        ({SERVERS: []}, "at least one value"),
        ({SERVERS: [13, 13]}, "given twice"),
        ({}, "at least one path"),
    ],
)
def test_a_bad_grid_is_refused_before_anything_runs(no_simulation, tmp_path, grid, message):
    with pytest.raises(ValueError, match=message) as info:
        simlib.sweep(short(), grid, replications=2, jobs=1, out=tmp_path / "s")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "s").exists()


def test_a_bad_value_is_a_scenario_error_naming_the_path():
    with pytest.raises(ScenarioError, match=r"servers.*must be a positive integer"):
        simlib.sweep(short(), {SERVERS: [13, -1]}, replications=2, jobs=1)


# --------------------------------------------------------------------------- compare


def test_compare_gives_paired_differences_to_the_base():
    variants = {"13 agents": {SERVERS: 13}, "16 agents": {SERVERS: 16}}
    comparison = simlib.compare(short(), variants, replications=5, seed=4, jobs=1,
                                progress=False)
    table = comparison.table
    assert list(table.columns) == ["variant", "scope", "metric", "diff", "ci_low", "ci_high", "n"]
    assert list(table["variant"].unique()) == list(variants)
    base = simlib.run(short(), 5, seed=4, jobs=1, progress=False).runs
    fewer = simlib.run(short(13), 5, seed=4, jobs=1, progress=False).runs
    diffs = [f["system"]["mean_wait"] - b["system"]["mean_wait"] for f, b in zip(fewer, base, strict=True)]
    row = table[(table.variant == "13 agents") & (table.scope == "system")
                & (table.metric == "mean_wait")].iloc[0]
    assert row["diff"] == pytest.approx(sum(diffs) / 5, rel=1e-12)
    assert row["ci_low"] < row["diff"] < row["ci_high"] and row["n"] == 5
    assert row["diff"] > 0  # fewer agents, longer waits
    more = table[(table.variant == "16 agents") & (table.metric == "mean_wait")]
    assert (more["diff"] < 0).all()
    # the comparison keeps every scenario's replications
    assert comparison.results().runs == base and comparison.results("13 agents").runs == fewer
    assert repr(comparison) == repr(table)
    with pytest.raises(KeyError, match="no variant"):
        comparison.results("12 agents")


def test_compare_reuses_the_replications_of_a_base_run(monkeypatch):
    base = simlib.run(short(), 4, seed=4, jobs=1, progress=False)
    variants = {"13 agents": {SERVERS: 13}}
    expected = simlib.compare(short(), variants, replications=4, seed=4, jobs=1, progress=False)
    seen = []
    real = execution.simulate_task

    def spy(scenario, seed, replication, options):
        seen.append(scenario.station("agents").servers)
        return real(scenario, seed, replication, options)

    monkeypatch.setattr(execution, "simulate_task", spy)
    again = simlib.compare(base, variants, replications=4, seed=4, jobs=1, progress=False)
    assert seen == [13] * 4  # only the variant is simulated
    pd.testing.assert_frame_equal(again.table, expected.table, check_exact=True)
    with pytest.raises(ValueError, match="run with seed 4"):
        simlib.compare(base, variants, replications=4, seed=5, jobs=1, progress=False)


def test_common_random_numbers_at_least_halve_the_interval_width():
    variants = {"15 agents": {SERVERS: 15}}
    kw = dict(replications=20, seed=11, jobs=1, progress=False)
    crn = simlib.compare(CALL_CENTRE, variants, **kw)
    independent = simlib.compare(CALL_CENTRE, variants, common_random_numbers=False, **kw)

    def width(table):
        table = table.table
        row = table[(table.scope == "system") & (table.metric == "service_level")].iloc[0]
        return row["ci_high"] - row["ci_low"]

    assert width(crn) <= 0.5 * width(independent)


def test_independent_seeds_change_the_variants_but_not_the_base(monkeypatch):
    seen = []
    real = execution.simulate_task

    def spy(scenario, seed, replication, options):
        seen.append((scenario.station("agents").servers, seed, replication))
        return real(scenario, seed, replication, options)

    monkeypatch.setattr(execution, "simulate_task", spy)
    simlib.compare(short(), {"a": {SERVERS: 13}, "b": {SERVERS: 15}}, replications=2, seed=7,
                   common_random_numbers=False, jobs=1, progress=False)
    seeds = {servers: seed for servers, seed, _ in seen}
    assert seeds[14] == 7  # the base keeps the experiment's seed
    assert seeds[13] == variant_seed(7, 1) and seeds[15] == variant_seed(7, 2)
    assert len({7, seeds[13], seeds[15]}) == 3


def test_compare_refuses_bad_variants_before_running(no_simulation):
    with pytest.raises(ScenarioError, match="variant 'bad'"):
        simlib.compare(short(), {"ok": {SERVERS: 13}, "bad": {SERVERS: "many"}}, replications=2)
    with pytest.raises(ValueError, match="at least one variant"):
        simlib.compare(short(), {}, replications=2)


# --------------------------------------------------------------------------- precision


def test_auto_replications_stop_when_the_interval_is_tight_enough():
    scn = short(12)
    res = simlib.run(scn, "auto", seed=1, precision=0.1, metric="agents.mean_wait",
                     jobs=1, progress=False)
    n = res.n_replications
    summary = res.summary().set_index(["scope", "metric"])
    row = summary.loc[("agents", "mean_wait")]
    assert row["n"] == n > 10
    assert (row["ci_high"] - row["ci_low"]) / 2 <= 0.1 * row["mean"]
    # The count does not depend on the executor.
    assert simlib.run(scn, "auto", seed=1, precision=0.1, metric="agents.mean_wait", jobs=2,
                      progress=False).runs == res.runs


def test_auto_replications_warn_when_the_maximum_is_not_enough():
    with pytest.warns(PrecisionWarning, match="20 replications"):
        res = simlib.run(short(), "auto", seed=1, precision=0.001, max_replications=20,
                         jobs=1, progress=False)
    assert res.n_replications == 20
    with pytest.raises(ValueError, match="unknown metric"):
        simlib.run(short(), "auto", metric="mean_weight")
    with pytest.raises(ValueError, match="unknown scope"):
        simlib.run(short(), "auto", metric="kitchen.mean_wait")


def test_auto_replications_in_a_sweep_give_each_point_what_it_needs():
    table = simlib.sweep(short(), {SERVERS: [12, 16]}, replications="auto", precision=0.1,
                         seed=1, jobs=1, progress=False).table
    n = table[(table.scope == "system") & (table.metric == "mean_wait")].set_index(SERVERS)["n"]
    assert n[12] != n[16]


# --------------------------------------------------------------------------- progress


def test_the_library_prints_nothing(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        simlib.run(short(), replications=3, seed=1, jobs=1)  # under a second: no bar
        simlib.sweep(short(), {SERVERS: [13, 14]}, replications=2, jobs=1, progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_bar_appears_for_long_runs_unless_disabled(monkeypatch, capsys):
    monkeypatch.setattr(execution, "_PROGRESS_DELAY", 0.0)
    simlib.run(short(), replications=3, seed=1, jobs=1)
    assert "3/3" in capsys.readouterr().err
    simlib.run(short(), replications=3, seed=1, jobs=1, progress=False)
    assert capsys.readouterr().err == ""
