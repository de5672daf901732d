"""Review leftovers of issue 17: censored counts survive a store, store files refuse
symbolic links and use unpredictable temporary names, the dashboard uses the one
unit table, and the date outlier rule works on short logs."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import simlib
from simlib.app.dashboard import seconds_per_unit
from simlib.calibrate.dates import far_from_the_rest
from simlib.engine import ReplicationRecord
from simlib.experiments import CensoringWarning
from simlib.experiments.store import LOCK, ResultStore, StoreError
from simlib.spec.units import SECONDS_PER_UNIT

OVERLOADED = {"name": "over", "horizon": 50, "warmup": 0,
              "classes": [{"name": "c", "arrivals": {"rate": 3.0}}],
              "stations": [{"name": "s", "servers": 1,
                            "service": {"dist": "exponential", "mean": 1.0}}]}


def test_censored_counts_round_trip_through_rows():
    rec = ReplicationRecord(3, {"system": {"mean_wait": 1.0}}, censored=7)
    back = ReplicationRecord.from_rows(rec.to_rows())
    assert back == rec and back.censored == 7
    plain = ReplicationRecord(3, {"system": {"mean_wait": 1.0}})
    assert len(plain.to_rows()) == 1  # records without censoring keep their rows


def test_a_resumed_run_still_warns_about_censoring(tmp_path):
    out = tmp_path / "store"
    with warnings.catch_warnings(record=True) as first:
        warnings.simplefilter("always")
        a = simlib.run(OVERLOADED, replications=3, out=out, progress=False, jobs=1)
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        b = simlib.run(OVERLOADED, replications=3, out=out, progress=False, jobs=1)
    assert [r.censored for r in a.records] == [r.censored for r in b.records]
    assert sum(r.censored for r in b.records) > 0
    for caught in (first, again):
        assert sum(issubclass(w.category, CensoringWarning) for w in caught) == 1


def test_the_lock_file_refuses_a_symbolic_link(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    out = tmp_path / "store"
    out.mkdir()
    (out / LOCK).symlink_to(target)
    with pytest.raises(StoreError, match="symbolic link"):
        ResultStore.open(out, kind="run", scenario=simlib.load_scenario(OVERLOADED), seed=0,
                         engine_options={})
    assert target.read_text() == "keep me\n"


def test_temporary_files_are_unpredictable_and_cleaned(tmp_path, monkeypatch):
    made: list[str] = []
    real = os.replace

    def spy(src, dst):
        made.append(Path(src).name)
        return real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    simlib.run(OVERLOADED, replications=2, out=tmp_path / "s", progress=False, jobs=1)
    assert made and all(name.startswith(".") and name.endswith(".tmp") for name in made)
    assert not any(str(os.getpid()) in name.split(".")[-2] for name in made)
    assert not list((tmp_path / "s").rglob("*.tmp"))


def test_dashboard_units_come_from_the_spec_table():
    for unit, seconds in SECONDS_PER_UNIT.items():
        assert seconds_per_unit(unit) == seconds
    assert seconds_per_unit("Minutes") == 60.0 and seconds_per_unit("mins") == 60.0
    with pytest.raises(ValueError, match="unknown time unit"):
        seconds_per_unit("fortnight")


def test_the_outlier_rule_fires_on_short_logs():
    days = np.concatenate([19_800 + np.arange(50.0) % 12, [-25_000.0]])  # one date in 1900
    flagged = far_from_the_rest(days)
    assert flagged.tolist() == [False] * 50 + [True]
    assert not far_from_the_rest(19_800 + np.arange(60.0)).any()
