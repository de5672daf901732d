"""Result stores: lossless, resumable, atomic and refusing to mix experiments.

The kill test runs a real ``simlib sweep --out DIR`` in a subprocess, kills it
with SIGKILL while replications are being written, and checks that the
resumed sweep computes only what was missing and ends with exactly the table
of an uninterrupted run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml
from support import ROOT, SCENARIOS

import simlib
from simlib.engine import ReplicationRecord, simulate
from simlib.experiments import execution
from simlib.experiments.store import MANIFEST, RESULTS, ResultStore, StoreError, point_key

CALL_CENTRE = SCENARIOS / "call_centre.yaml"
SERVERS = "stations.agents.servers"


def short(horizon: float = 240):
    return simlib.load_scenario(CALL_CENTRE).with_overrides({"horizon": horizon, "warmup": 30})


@pytest.fixture
def counted(monkeypatch):
    """Count the replications simulated in this process."""
    calls: list[tuple[int, int]] = []
    real = execution.simulate_task

    def spy(scenario, seed, replication, options):
        calls.append((scenario.station("agents").servers, replication))
        return real(scenario, seed, replication, options)

    monkeypatch.setattr(execution, "simulate_task", spy)
    return calls


def files(out):
    return sorted(out.glob("points/*/r*.parquet"))


def test_a_stored_record_reads_back_exactly(tmp_path):
    scn = short()
    store = ResultStore.open(tmp_path / "s", kind="run", scenario=scn, seed=3)
    record = simulate(scn, 3, 2, interval=60.0)
    assert record.intervals  # per-interval metrics travel too
    store.save("k", record)
    back = ResultStore.open(tmp_path / "s", kind="run", scenario=scn, seed=3).load("k", 2)
    assert back == record
    assert list(back.metrics["system"]) == list(record.metrics["system"])  # order kept


def test_a_rerun_loads_what_is_stored_and_computes_only_what_is_missing(tmp_path, counted):
    out = tmp_path / "sweep"
    grid = {SERVERS: [13, 14]}
    first = simlib.sweep(short(), grid, replications=4, seed=1, jobs=1, out=out,
                         progress=False).table
    assert len(counted) == 8 and len(files(out)) == 8
    pd.testing.assert_frame_equal(pd.read_parquet(out / RESULTS), first, check_exact=True)
    counted.clear()
    again = simlib.sweep(short(), grid, replications=4, seed=1, jobs=1, out=out,
                         progress=False).table
    assert counted == []
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    # Lose two replications: exactly those are recomputed.
    files(out)[0].unlink()
    files(out)[3].unlink()
    counted.clear()
    third = simlib.sweep(short(), grid, replications=4, seed=1, jobs=1, out=out,
                         progress=False).table
    assert len(counted) == 2
    pd.testing.assert_frame_equal(third, first, check_exact=True)
    # More replications and a new grid value: only the new work runs.
    counted.clear()
    simlib.sweep(short(), {SERVERS: [13, 14, 15]}, replications=5, seed=1, jobs=1, out=out,
                 progress=False)
    assert sorted(counted) == [(13, 4), (14, 4)] + [(15, r) for r in range(5)]


def test_a_run_killed_with_sigkill_resumes_to_the_uninterrupted_table(tmp_path, counted):
    scenario = tmp_path / "cc.yaml"
    scenario.write_text(short(horizon=1500).to_yaml())
    out = tmp_path / "store"
    args = ["sweep", str(scenario), "--set", f"{SERVERS}=12,13,14,15", "--replications", "12",
            "--seed", "5", "--quiet", "--format", "csv"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "simlib.app.cli", *args, "--out", str(out),
                             "--jobs", "2"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(files(out)) < 6 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        # The workers the killed run started: end them too (they belong to this test).
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    survived = len(files(out))
    assert 0 < survived < 48, "the run was not killed in the middle"
    assert not (out / RESULTS).exists()
    for f in files(out):  # every stored file is complete and readable
        pd.read_parquet(f)

    from simlib.app.cli import main

    assert main([*args, "--out", str(out), "--jobs", "1"]) == 0
    assert len(counted) == 48 - survived
    resumed = pd.read_parquet(out / RESULTS)
    expected = simlib.sweep(scenario, {SERVERS: [12, 13, 14, 15]}, replications=12, seed=5,
                            jobs=1, progress=False).table
    pd.testing.assert_frame_equal(resumed, expected, check_exact=True)


def test_another_scenario_or_seed_is_refused(tmp_path, counted):
    out = tmp_path / "s"
    simlib.run(short(), replications=2, seed=1, jobs=1, out=out, progress=False)
    counted.clear()
    with pytest.raises(StoreError, match=r"another scenario \(differs at horizon\)"):
        simlib.run(short(horizon=300), replications=2, seed=1, jobs=1, out=out)
    with pytest.raises(StoreError, match="seed 1, this run has seed 2"):
        simlib.run(short(), replications=2, seed=2, jobs=1, out=out)
    with pytest.raises(StoreError, match="engine_options"):
        simlib.run(short(), replications=2, seed=1, jobs=1, out=out, interval=60.0)
    with pytest.raises(StoreError, match="kind 'run', this run has kind 'sweep'"):
        simlib.sweep(short(), {SERVERS: [13]}, replications=2, seed=1, jobs=1, out=out)
    assert counted == []
    # The same experiment is still accepted.
    simlib.run(short(), replications=2, seed=1, jobs=1, out=out, progress=False)


def test_a_directory_that_is_not_a_store_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not empty and holds no manifest"):
        simlib.run(short(), replications=2, seed=1, jobs=1, out=tmp_path)
    with pytest.raises(ValueError, match="trace=True cannot be combined with out="):
        simlib.run(short(), replications=2, jobs=1, out=tmp_path / "t", trace=True)


def test_the_manifest_describes_the_experiment(tmp_path):
    out = tmp_path / "s"
    simlib.sweep(short(), {SERVERS: [13, 14]}, replications=2, seed=4, jobs=1, out=out,
                 progress=False)
    manifest = yaml.safe_load((out / MANIFEST).read_text())
    assert manifest["kind"] == "sweep" and manifest["seed"] == 4
    assert simlib.load_scenario(manifest["scenario"]).to_dict() == short().to_dict()
    assert manifest["grid"] == {SERVERS: [13, 14]}
    assert manifest["replications"] == 2
    assert manifest["simlib_version"] == simlib.__version__
    assert "git_commit" in manifest
    key = point_key({SERVERS: 13}, 4)
    assert yaml.safe_load((out / "points" / key / "point.yaml").read_text()) == {
        "overrides": {SERVERS: 13}, "seed": 4}


def test_leftover_temporary_files_are_ignored_and_removed(tmp_path):
    scn = short()
    store = ResultStore.open(tmp_path, kind="run", scenario=scn, seed=0)
    store.save("k", simulate(scn, 0, 0))
    partial = tmp_path / "points" / "k" / ".r000001.parquet.999.tmp"
    partial.write_bytes(b"PAR1 half a file")
    again = ResultStore.open(tmp_path, kind="run", scenario=scn, seed=0)
    assert again.stored("k") == {0}
    assert not partial.exists()
    assert isinstance(again.load("k", 0), ReplicationRecord)


def test_customer_rows_are_not_silently_partial_after_a_resume(tmp_path):
    scn = simlib.load_scenario(SCENARIOS / "care_home.yaml")
    first = simlib.run(scn, replications=2, seed=1, out=tmp_path / "st", progress=False, jobs=1)
    assert len(first.customers()) > 0
    resumed = simlib.run(scn, replications=2, seed=1, out=tmp_path / "st", progress=False, jobs=1)
    with pytest.raises(ValueError, match="customer rows are missing"):
        resumed.customers()
