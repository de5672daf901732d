"""Tests of simlib.studies.teaching: study tables, their theory columns and their statistics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from support import SCENARIOS, single_station

import simlib
from simlib.studies import teaching
from simlib.theory import queueing

CALL_CENTRE = SCENARIOS / "call_centre.yaml"
SUMMARY_COLS = ["metric", "mean", "std", "ci_low", "ci_high", "n", "theory"]


@pytest.fixture(scope="module")
def mm1_study() -> pd.DataFrame:
    # Two utilisations, 30 replications of 4,000 time units: about 0.5 s.
    return teaching.utilisation_study([0.5, 0.8], replications=30, seed=7, horizon=4_000)


def test_mmc_scenario_has_requested_utilisation() -> None:
    scn = teaching.mmc_scenario(0.75, servers=4, mean_service=2.0, horizon=100)
    assert scn.classes[0].arrivals.rate == pytest.approx(0.75 * 4 / 2.0)
    assert scn.stations[0].servers == 4
    assert scn.warmup == pytest.approx(10.0)
    with pytest.raises(ValueError, match="rho"):
        teaching.mmc_scenario(1.0)


def test_utilisation_study_shape_and_columns(mm1_study: pd.DataFrame) -> None:
    assert list(mm1_study.columns) == ["rho", "servers", *SUMMARY_COLS]
    assert sorted(mm1_study["rho"].unique()) == [0.5, 0.8]
    assert set(mm1_study["metric"]) == set(teaching.STUDY_METRICS)
    assert len(mm1_study) == 2 * len(teaching.STUDY_METRICS)
    assert (mm1_study["n"] == 30).all()


def test_utilisation_study_theory_is_mm1(mm1_study: pd.DataFrame) -> None:
    for row in mm1_study.itertuples(index=False):
        expected = queueing.mm1(row.rho, 1.0)[row.metric]
        assert row.theory == pytest.approx(expected, rel=1e-12), (row.rho, row.metric)


def test_utilisation_study_reports_the_simulation_of_each_utilisation(
    mm1_study: pd.DataFrame,
) -> None:
    """The study's intervals are those of the M/M/1 run at each utilisation (same root seed).

    Whether that simulation agrees with the M/M/1 theory is the engine's oracle test
    (tests/engine/test_engine_validation.py::test_mm1, which states and asserts its power); 30
    replications of 4,000 time units could not detect a 3% bias here (+-10% at utilisation 0.8).
    """
    for rho in (0.5, 0.8):
        summary = simlib.run(teaching.mmc_scenario(rho, horizon=4_000), 30, 7).summary()
        expected = summary[(summary["scope"] == "server")].set_index("metric")
        got = mm1_study[mm1_study["rho"] == rho].set_index("metric")
        cols = ["mean", "std", "ci_low", "ci_high", "n"]
        pd.testing.assert_frame_equal(got[cols], expected.loc[got.index, cols], check_names=False)


def test_utilisation_theory_pooling() -> None:
    curve = teaching.utilisation_theory([0.5, 0.9], servers=(1, 10))
    assert list(curve.columns) == ["rho", "servers", "metric", "theory"]
    wait = curve[curve["metric"] == "mean_wait"].set_index(["servers", "rho"])["theory"]
    assert wait[(1, 0.9)] == pytest.approx(9.0)
    assert wait[(1, 0.5)] == pytest.approx(1.0)
    # Pooling: ten servers at the same utilisation wait far less.
    assert wait[(10, 0.9)] < wait[(1, 0.9)] / 5
    assert wait[(10, 0.9)] == pytest.approx(queueing.erlang_c(9.0, 1.0, 10)["mean_wait"])


def test_erlang_c_theory_of_call_centre() -> None:
    scn = simlib.load_scenario(CALL_CENTRE)
    theory = teaching.erlang_c_theory(scn)
    # Call Centre Helper's worked example: 88.8% in 20 s, 17.4% wait, ASA 7.8 s.
    assert theory["service_level"] == pytest.approx(0.888, abs=5e-4)
    assert theory["p_wait"] == pytest.approx(0.174, abs=5e-4)
    assert theory["asa"] * 60 == pytest.approx(7.8, abs=0.05)


def test_erlang_c_theory_refuses_non_markovian() -> None:
    lognormal = simlib.load_scenario(
        single_station(service={"dist": "lognormal", "mean": 1.0, "cv": 0.5})
    )
    with pytest.raises(ValueError, match="not an M/M/c queue"):
        teaching.erlang_c_theory(lognormal)
    impatient = single_station()
    impatient["classes"][0]["patience"] = {"dist": "exponential", "mean": 3.0}
    with pytest.raises(ValueError, match="abandons"):
        teaching.erlang_c_theory(simlib.load_scenario(impatient))


def test_compare_with_theory_flags_coverage() -> None:
    scn = simlib.load_scenario(CALL_CENTRE)
    res = simlib.run(scn, replications=5, seed=3)
    table = teaching.compare_with_theory(res, {"utilization": 0.7142857, "p_wait": 5.0})
    assert list(table["metric"]) == ["p_wait", "utilization"]
    assert list(table["covered"]) == [False, True]
    assert table.loc[1, "mean"] == pytest.approx(res.value("agents", "utilization"))


def test_staffing_study_levels_and_unstable_theory() -> None:
    scn = simlib.load_scenario(CALL_CENTRE).with_overrides({"horizon": 120, "warmup": 30})
    table = teaching.staffing_study(scn, [9, 13, 14], replications=3, seed=2)
    assert list(table.columns) == ["servers", *SUMMARY_COLS]
    assert "service_level" in set(table["metric"])
    sl = table[table["metric"] == "service_level"].set_index("servers")["theory"]
    # Nine agents cannot carry a load of ten Erlangs: no steady state, no theory.
    assert math.isnan(sl[9])
    assert sl[13] == pytest.approx(0.7956, abs=5e-4)
    assert sl[14] > sl[13]


def test_littles_law_table_holds_per_replication() -> None:
    runs = {
        f"rho={rho}": simlib.run(teaching.mmc_scenario(rho, horizon=3_000), replications=4, seed=5)
        for rho in (0.5, 0.8)
    }
    table = teaching.littles_law_table(runs)
    assert len(table) == 8
    assert list(table["label"].unique()) == ["rho=0.5", "rho=0.8"]
    assert (table["replication"].to_numpy() == np.tile(np.arange(4), 2)).all()
    # L = lambda W up to edge effects of a finite run (a few per cent).
    np.testing.assert_allclose(table["mean_queue"], table["lambda_wq"], rtol=0.05)
    np.testing.assert_allclose(table["mean_in_system"], table["lambda_w"], rtol=0.05)
