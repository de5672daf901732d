"""Result store integrity: one writer at a time, checked files, input digests, bounded files.

Two writers are real processes (the lock is the operating system's), started
together; a crash is a real SIGKILL. Damaged files are made by hand: cut
short, edited in place, copied from another replication, point or store.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import warnings

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from support import ROOT, SCENARIOS

import simlib
from simlib.engine import simulate
from simlib.experiments import store as store_module
from simlib.experiments.store import RESULTS, ResultStore, StoreError, StoreWarning

CALL_CENTRE = SCENARIOS / "call_centre.yaml"
SERVERS = "stations.agents.servers"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def short(horizon: float = 240):
    return simlib.load_scenario(CALL_CENTRE).with_overrides({"horizon": horizon, "warmup": 30})


def files(out):
    return sorted(out.glob("points/*/*.parquet"))


def run_python(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=ENV,
                          capture_output=True, text=True, timeout=timeout)


HOLD = """
    import sys, time, pathlib, simlib
    from simlib.experiments.store import ResultStore
    scn = simlib.load_scenario(sys.argv[1]).with_overrides({"horizon": 240, "warmup": 30})
    store = ResultStore.open(sys.argv[2], kind="run", scenario=scn, seed=1)
    pathlib.Path(sys.argv[3]).write_text("holding")
    time.sleep(float(sys.argv[4]))
"""


def start_holder(tmp_path, out, seconds: float) -> subprocess.Popen:
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(HOLD), str(CALL_CENTRE),
                             str(out), str(ready), str(seconds)], env=ENV)
    for _ in range(600):
        if ready.exists() or proc.poll() is not None:
            break
        subprocess.run(["sleep", "0.05"])
    assert ready.exists(), "the holding process did not open the store"
    return proc


def test_a_second_writer_is_refused_while_the_first_runs(tmp_path):
    out = tmp_path / "s"
    holder = start_holder(tmp_path, out, seconds=60)
    try:
        with pytest.raises(StoreError, match=rf"another experiment is writing this store \(pid "
                                             rf"{holder.pid} on "):
            simlib.run(short(), replications=2, seed=1, jobs=1, out=out, progress=False)
    finally:
        holder.kill()
        holder.wait(10)


def test_a_crashed_writer_leaves_no_lock_behind(tmp_path):
    out = tmp_path / "s"
    holder = start_holder(tmp_path, out, seconds=60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(10)
    assert (out / ".lock").exists()  # the file stays; the lock died with its process
    res = simlib.run(short(), replications=2, seed=1, jobs=1, out=out, progress=False)
    assert res.summary()["n"].max() == 2


SWEEP = """
    import sys, simlib
    from simlib.experiments.store import StoreError
    scn = simlib.load_scenario(sys.argv[1]).with_overrides(
        {"horizon": float(sys.argv[3]), "warmup": 30})
    try:
        simlib.sweep(scn, {"stations.agents.servers": [13, 14]}, replications=3, seed=1,
                     jobs=1, out=sys.argv[2], progress=False)
    except StoreError as exc:
        print("refused:", exc)
        sys.exit(3)
"""


@pytest.mark.slow
def test_two_different_sweeps_started_together_never_share_a_store(tmp_path):
    for trial in range(4):
        out = tmp_path / f"s{trial}"
        procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(SWEEP), str(CALL_CENTRE),
                                   str(out), str(h)], env=ENV, stdout=subprocess.PIPE, text=True)
                 for h in (240, 300)]
        codes = [p.wait(120) for p in procs]
        assert sorted(codes) == [0, 3], f"trial {trial}: exit codes {codes}"
        winner = (240, 300)[codes.index(0)]
        stored = ResultStore.open(out, kind="sweep", scenario=short(winner), seed=1)
        assert {r for p in stored.path.glob("points/*") for r in stored.stored(p.name)} == {0, 1, 2}
        stored.close()


def test_the_same_process_may_reopen_and_close_releases_the_lock(tmp_path):
    scn = short()
    first = ResultStore.open(tmp_path / "s", kind="run", scenario=scn, seed=1)
    second = ResultStore.open(tmp_path / "s", kind="run", scenario=scn, seed=1)
    second.close()
    refused = run_python(HOLD, str(CALL_CENTRE), str(tmp_path / "s"), str(tmp_path / "r"), "0")
    assert refused.returncode != 0 and "another experiment is writing" in refused.stderr
    first.close()
    taken = run_python(HOLD, str(CALL_CENTRE), str(tmp_path / "s"), str(tmp_path / "r"), "0")
    assert taken.returncode == 0, taken.stderr


def test_a_changed_input_file_is_a_changed_experiment(tmp_path):
    (tmp_path / "talk.csv").write_text("time\n2.0\n3.5\n4.0\n")
    scenario = tmp_path / "s.yaml"
    data = short().to_dict()
    data["stations"][0]["service"] = {"dist": "empirical", "file": "talk.csv"}
    scenario.write_text(yaml.safe_dump(data))
    out = tmp_path / "store"
    simlib.run(scenario, replications=2, seed=1, jobs=1, out=out, progress=False)
    manifest = yaml.safe_load((out / "manifest.yaml").read_text())
    assert list(manifest["inputs"]) == ["talk.csv"] and len(manifest["inputs"]["talk.csv"]) == 64
    simlib.run(scenario, replications=2, seed=1, jobs=1, out=out, progress=False)  # unchanged
    (tmp_path / "talk.csv").write_text("time\n2.0\n3.5\n9.0\n")
    with pytest.raises(StoreError, match="another version of the file talk.csv"):
        simlib.run(scenario, replications=2, seed=1, jobs=1, out=out, progress=False)


def rewrite_value(path, factor: float) -> None:
    """Edit the numbers of a Parquet file in place, keeping it valid and its name."""
    table = pq.read_table(path)
    values = pa.array([v * factor for v in table.column("value").to_pylist()], pa.float64())
    table = table.set_column(table.schema.get_field_index("value"), "value", values)
    pq.write_table(table, path)


@pytest.mark.parametrize("damage", ["truncated", "edited", "other replication", "other point",
                                    "other store"])
def test_a_damaged_or_foreign_file_is_set_aside_and_recomputed(tmp_path, damage):
    grid = {SERVERS: [13, 14]}
    out = tmp_path / "s"
    expected = simlib.sweep(short(), grid, replications=3, seed=1, jobs=1, out=out,
                            progress=False).table.reset_index(drop=True)
    victim = files(out)[0]
    if damage == "truncated":
        victim.write_bytes(victim.read_bytes()[:100])
    elif damage == "edited":
        rewrite_value(victim, 1.5)
    elif damage == "other replication":
        donor = next(f for f in victim.parent.glob("*.parquet") if f != victim)
        shutil.copy(donor, victim.with_name(victim.name[:7] + donor.name[7:]))
        victim.unlink()
    elif damage == "other point":
        donor_dir = next(d for d in (out / "points").iterdir() if d != victim.parent)
        donor = next(f for f in donor_dir.glob("*.parquet") if f.name[:7] == victim.name[:7])
        victim.unlink()
        shutil.copy(donor, victim.parent / donor.name)
    else:
        other = tmp_path / "other"
        simlib.sweep(short(), grid, replications=3, seed=2, jobs=1, out=other, progress=False)
        donor = next(f for f in files(other) if f.name[:7] == victim.name[:7])
        victim.unlink()
        shutil.copy(donor, victim.parent / donor.name)
    with pytest.warns(StoreWarning, match="was set aside because"):
        again = simlib.sweep(short(), grid, replications=3, seed=1, jobs=1, out=out,
                             progress=False).table.reset_index(drop=True)
    pd.testing.assert_frame_equal(again, expected, check_exact=True)
    assert len(list((out / "quarantine").iterdir())) == 1


def test_replications_are_compacted_into_batches_and_read_back_exactly(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "BATCH_SIZE", 4)
    out = tmp_path / "s"
    first = simlib.run(short(), replications=10, seed=2, jobs=1, out=out, progress=False)
    names = sorted(f.name for f in files(out))
    assert [n.split("-")[0] for n in names] == ["b000000", "b000004", "r000008", "r000009"]
    assert names[0].startswith("b000000-000003-") and names[1].startswith("b000004-000007-")
    again = simlib.run(short(), replications=10, seed=2, jobs=1, out=out, progress=False)
    pd.testing.assert_frame_equal(again.summary(), first.summary(), check_exact=True)
    assert (out / RESULTS).exists()


def test_a_compaction_cut_short_leaves_duplicates_that_are_read_once(tmp_path, monkeypatch):
    out = tmp_path / "s"
    first = simlib.run(short(), replications=4, seed=2, jobs=1, out=out, progress=False)
    singles = {f.name: f.read_bytes() for f in files(out)}
    monkeypatch.setattr(store_module, "BATCH_SIZE", 4)
    # Reopen and compact: then put the singles back as a killed compaction would leave them.
    store = ResultStore.open(out, kind="run", scenario=short(), seed=2, replications=4)
    key = next((out / "points").iterdir()).name
    store.save(key, store.load(key, 3))
    store.close()
    assert [f.name[0] for f in files(out)] == ["b"]
    folder = files(out)[0].parent
    for name, data in singles.items():
        (folder / name).write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StoreWarning)  # duplicates are not damage
        again = simlib.run(short(), replications=4, seed=2, jobs=1, out=out, progress=False)
    pd.testing.assert_frame_equal(again.summary(), first.summary(), check_exact=True)
    assert [f.name[0] for f in files(out)] == ["b"]  # the leftover singles are gone
    # Compaction goes on as before: four more replications make a second batch.
    more = simlib.run(short(), replications=8, seed=2, jobs=1, out=out, progress=False)
    assert [f.name[:15] for f in files(out)] == ["b000000-000003-", "b000004-000007-"]
    assert more.summary()["n"].max() == 8


def test_replications_with_gaps_still_fill_whole_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "BATCH_SIZE", 4)
    scn = short()
    store = ResultStore.open(tmp_path / "s", kind="run", scenario=scn, seed=1)
    records = {r: simulate(scn, 1, r) for r in range(0, 20, 2)}  # 0, 2, ..., 18
    for record in records.values():
        store.save("k", record)
    names = sorted(f.name for f in (tmp_path / "s" / "points" / "k").iterdir())
    # two batches of four (0-6 and 8-14, gaps and all) and two singles waiting for the next
    assert [n.split("-")[0] for n in names] == ["b000000", "b000008", "r000016", "r000018"]
    assert names[0].startswith("b000000-000006-") and names[1].startswith("b000008-000014-")
    assert store.stored("k") == set(records)
    assert all(store.load("k", r) == rec for r, rec in records.items())
    store.close()
