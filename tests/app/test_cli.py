"""The ``simlib`` command: run, sweep and compare, with one-line errors (exit 2)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from support import ROOT, SCENARIOS, single_station

import simlib
from simlib.app.cli import main

CALL_CENTRE = SCENARIOS / "call_centre.yaml"
SERVERS = "stations.agents.servers"


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "cc.yaml"
    path.write_text(simlib.load_scenario(CALL_CENTRE)
                    .with_overrides({"horizon": 240, "warmup": 30}).to_yaml())
    return path


def one_line_error(capsys, *needles):
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("simlib:"), captured.err
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def test_run_still_prints_the_summary(capsys):
    assert main(["run", str(CALL_CENTRE), "-r", "3", "-s", "1", "-f", "json", "--jobs", "1"]) == 0
    records = json.loads(capsys.readouterr().out)
    expected = simlib.run(CALL_CENTRE, 3, seed=1, jobs=1).summary()
    assert pd.DataFrame(records)["mean"].tolist() == expected["mean"].tolist()


def test_run_with_auto_replications_reports_how_many(capsys, scenario):
    assert main(["run", str(scenario), "-r", "auto", "--precision", "0.2", "--jobs", "1"]) == 0
    heading = capsys.readouterr().out.splitlines()[0]
    n = simlib.run(scenario, "auto", precision=0.2, jobs=1).n_replications
    assert f"{n} replications" in heading


def test_sweep_prints_the_sweep_table_and_writes_the_store(capsys, scenario, tmp_path):
    out = tmp_path / "store"
    argv = ["sweep", str(scenario), "--set", f"{SERVERS}=13,14", "--set",
            "classes.caller.arrivals.rate=3.0,3.5", "-r", "3", "-s", "2", "-f", "csv",
            "--out", str(out), "--jobs", "1", "--quiet"]
    assert main(argv) == 0
    printed = pd.read_csv(io.StringIO(capsys.readouterr().out))
    grid = {SERVERS: [13, 14], "classes.caller.arrivals.rate": [3.0, 3.5]}
    expected = simlib.sweep(scenario, grid, replications=3, seed=2, jobs=1).table
    assert list(printed.columns) == list(expected.columns)
    assert printed["mean"].tolist() == pytest.approx(expected["mean"].tolist(), rel=1e-12)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), expected,
                                  check_exact=True)
    assert main(argv) == 0  # resumable: same arguments again
    capsys.readouterr()
    assert main([*argv[:4], "-r", "3", "-s", "9", "--out", str(out), "--quiet"]) == 2
    one_line_error(capsys, "seed 2, this run has seed 9")


def test_compare_reads_variants_from_yaml(capsys, scenario, tmp_path):
    variants = tmp_path / "variants.yaml"
    variants.write_text("13 agents:\n  stations.agents.servers: 13\n"
                        "faster:\n  stations.agents.service.mean: 2.5\n")
    assert main(["compare", str(scenario), str(variants), "-r", "4", "-f", "json", "-j", "1"]) == 0
    table = pd.DataFrame(json.loads(capsys.readouterr().out))
    expected = simlib.compare(scenario, {"13 agents": {SERVERS: 13},
                                         "faster": {"stations.agents.service.mean": 2.5}},
                              replications=4, jobs=1).table
    assert list(table.columns) == list(expected.columns)
    assert table["diff"].tolist() == pytest.approx(expected["diff"].tolist(), rel=1e-12)
    assert main(["compare", str(scenario), str(variants), "-r", "4", "-j", "1",
                 "--independent"]) == 0
    assert "independent seeds" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["sweep", "{s}", "--set", "stations.contact.servers=12,13"], ["no item named 'contact'"]),
        (["sweep", "{s}", "--set", f"{SERVERS}=13,-2"], ["must be a positive integer"]),
        (["sweep", "{s}", "--set", SERVERS], ["PATH=V1,V2"]),
        (["sweep", "{s}"], ["--set"]),
        (["sweep", "{s}", "--set", f"{SERVERS}=13", "--jobs", "2", "--dask", "tcp://x:1"],
         ["not allowed with"]),
        (["sweep", "{s}", "--set", f"{SERVERS}=13", "-r", "0"], ["must be >= 1"]),
        (["compare", "{s}", "missing.yaml"], ["variants file not found"]),
        (["compare", "{s}", "{v}"], ["give a mapping"]),
        (["sweep", "nowhere.yaml", "--set", f"{SERVERS}=13"], ["scenario file not found"]),
        (["run", "{d}"], ["is a directory, not a scenario file"]),
        (["compare", "{s}", "{d}"], ["is a directory, not a variants file"]),
    ],
)
def test_errors_are_one_line_with_exit_status_2(capsys, scenario, tmp_path, argv, needles):
    bad_variants = tmp_path / "bad.yaml"
    bad_variants.write_text("- just a list\n")
    argv = [a.format(s=scenario, v=bad_variants, d=tmp_path) for a in argv]
    try:
        status = main([*argv, "--quiet"])
    except SystemExit as exc:  # argparse errors
        status = exc.code
    assert status == 2
    one_line_error(capsys, *needles)


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"simlib {simlib.__version__}"


def test_an_overloaded_station_is_one_warning_line_and_the_run_still_reports(capsys, tmp_path):
    # 10 Erlangs on 9 agents: unstable without patience.
    path = tmp_path / "over.yaml"
    spec = single_station(rate=10 / 3, service={"dist": "exponential", "mean": 3.0}, servers=9,
                          horizon=60, warmup=0)
    path.write_text(simlib.load_scenario(spec).to_yaml())
    assert main(["run", str(path), "-r", "2", "-j", "1", "-q"]) == 0
    captured = capsys.readouterr()
    warned = [ln for ln in captured.err.splitlines() if "capacity" in ln]
    assert len(warned) == 1 and warned[0].startswith("simlib: warning: ")
    assert "station 's'" in warned[0] and "10 Erlangs on 9 servers" in warned[0]
    assert "Traceback" not in captured.err and "mean_wait" in captured.out


def test_censoring_in_a_bundled_scenario_is_said_once(capsys):
    argv = ["run", str(SCENARIOS / "shared_service_centre.yaml"), "-r", "4", "-j", "1", "-q"]
    assert main(argv) == 0
    lines = [ln for ln in capsys.readouterr().err.splitlines() if "drain limit" in ln]
    assert len(lines) == 1 and "of 4 replications" in lines[0]


def test_a_closed_pipe_ends_quietly():
    command = [sys.executable, "-m", "simlib.app.cli", "run", str(SCENARIOS / "call_centre.yaml"),
               "-r", "2", "-j", "1", "-q"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=ROOT)
    proc.stdout.close()  # the reader is gone before anything is printed, as with `| head -0`
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 141, err
    assert b"Traceback" not in err and b"BrokenPipeError" not in err
