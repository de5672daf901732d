"""Scenario loading and validation (docs/scenario.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from support import SCENARIOS, single_station

import simlib
from simlib.spec.distributions import Empirical, Erlang, Lognormal, Triangular, Uniform
from simlib.spec.scenario import ScenarioError, from_dict, load_scenario


def refuse(data, path_fragment: str, message_fragment: str = "") -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(path_fragment), text
    assert message_fragment in text, text
    return text


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_scenarios_load(path):
    scn = load_scenario(path)
    assert scn.classes and scn.stations
    # The round trip through YAML gives the same scenario.
    again = from_dict(yaml.safe_load(scn.to_yaml()), base_dir=scn.base_dir, default_name=scn.name)
    assert again == scn


def test_every_listed_key_is_understood(tmp_csv):
    trace = tmp_csv("arrivals.csv", "time\n0.5\n1.0\n2.5\n")
    values = tmp_csv("durations.csv", "minutes\n1\n2\n3\n")
    data = {
        "name": "all-keys",
        "description": "every key of the format",
        "time_unit": "minute",
        "horizon": 100,
        "warmup": 10,
        "classes": [
            {"name": "a", "arrivals": {"rate": 1.0}, "patience": {"dist": "exponential", "mean": 5},
             "priority": 1},
            {"name": "b", "arrivals": {"profile": {"period": 30, "rates": [1.0, 2.0]}}, "priority": 0,
             "route": ["front", "back"]},
            {"name": "c", "arrivals": {"trace": {"file": str(trace), "column": "time"}}},
            {"name": "d", "arrivals": {"trace": str(trace)}},
        ],
        "stations": [
            {"name": "front", "servers": 3, "discipline": "priority", "queue_capacity": 10,
             "service": {
                 "a": {"dist": "lognormal", "mean": 3.0, "cv": 1.0},
                 "b": {"dist": "erlang", "mean": 2.0, "k": 3},
                 "c": {"dist": "triangular", "low": 1, "mode": 2, "high": 4},
                 "d": {"dist": "empirical", "file": str(values), "column": "minutes"},
             }},
            {"name": "back", "shifts": [{"start": 0, "end": 50, "servers": 2},
                                        {"start": 50, "end": 100, "servers": 0}],
             "service": {"dist": "uniform", "low": 1, "high": 2}},
            {"name": "recovery", "servers": 1, "service": {"dist": "gamma", "mean": 2, "cv": 0.5}},
            {"name": "x", "servers": 1, "service": {"dist": "deterministic", "value": 1}},
            {"name": "y", "servers": 1, "service": {"dist": "empirical", "values": [1, 2, 2]}},
            {"name": "p", "servers": 2, "discipline": "preemptive", "preemption": "restart",
             "speeds": [1.5, 1.0], "service": {"dist": "exponential", "mean": 1}},
            {"name": "q", "servers": 2, "discipline": "ps", "service": {"dist": "exponential", "mean": 1}},
        ],
        "routing": {"front": {"recovery": 0.25, "exit": 0.75}, "recovery": {"front": 0.5, "exit": 0.5}},
        "targets": {"service_level": {"threshold": 0.5, "target": 0.8}},
    }
    scn = load_scenario(data)
    front = scn.station("front")
    assert isinstance(front.service["a"], Lognormal)
    assert isinstance(front.service["b"], Erlang) and front.service["b"].k == 3
    assert isinstance(front.service["c"], Triangular)
    assert isinstance(front.service["d"], Empirical) and front.service["d"].values == (1.0, 2.0, 3.0)
    assert isinstance(scn.station("back").service["a"], Uniform)
    assert scn.customer_class("c").arrivals.trace == (0.5, 1.0, 2.5)
    assert scn.customer_class("b").route == ("front", "back")
    assert scn.station("back").servers_at(60) == 0
    assert scn.service_level.threshold == 0.5
    assert scn.routing["front"] == {"recovery": 0.25, "exit": 0.75}
    assert scn.station("p").preemption == "restart" and scn.station("p").speeds == (1.5, 1.0)
    assert scn.station("q").discipline == "ps" and scn.station("q").preemption is None
    # And it simulates.
    res = simlib.run(scn, replications=2, seed=3)
    assert set(res.summary().scope) >= {"front", "back", "a", "b", "c", "d", "system"}


@pytest.mark.parametrize(
    "mutate, path, message",
    [
        (lambda d: d["classes"][0]["arrivals"].update(rate=-1), "classes[0].arrivals.rate", "must be positive, got -1"),
        (lambda d: d["classes"][0]["arrivals"].update(rate=0), "classes[0].arrivals.rate", "must be positive"),
        (lambda d: d["stations"][0].update(servers=-3), "stations[0].servers", "must be a positive integer, got -3"),
        (lambda d: d["stations"][0].update(servers=0), "stations[0].servers", "positive integer"),
        (lambda d: d["stations"][0].update(servers=2.5), "stations[0].servers", "positive integer"),
        (lambda d: d.update(horizon=0), "horizon", "must be positive"),
        (lambda d: d.update(warmup=-5), "warmup", "at least 0"),
        (lambda d: d["stations"][0].update(service={"dist": "exponential", "mean": 0}), "stations[0].service.mean", "positive"),
        (lambda d: d["stations"][0].update(service={"dist": "beta", "mean": 1}), "stations[0].service.dist", "unknown distribution 'beta'"),
        (lambda d: d["stations"][0].update(service={"dist": "gamma", "mean": 1, "cv": 0}), "stations[0].service.cv", "must be positive"),
        (lambda d: d["stations"][0].update(service={"dist": "lognormal", "mean": 1, "cv": -1}), "stations[0].service.cv", "must be positive"),
        (lambda d: d["stations"][0].update(service={"dist": "lognormal", "mean": 1}), "stations[0].service.cv", "is required"),
        (lambda d: d["stations"][0].update(service={"dist": "exponential", "mean": 1, "sd": 2}), "stations[0].service.sd", "unknown key"),
        (lambda d: d["classes"][0].update(patience={"dist": "exponential", "mean": -2}), "classes[0].patience.mean", "positive"),
        (lambda d: d["classes"][0].update(route=["s", "nowhere"]), "classes[0].route[1]", "unknown station 'nowhere'"),
        (lambda d: d.update(routing={"s": {"s": 0.5, "exit": 0.4}}), "routing.s", "sum to 1, got 0.9"),
        (lambda d: d.update(routing={"s": {"elsewhere": 1.0}}), "routing.s.elsewhere", "unknown station"),
        (lambda d: d.update(routing={"t": {"exit": 1.0}}), "routing.t", "unknown station"),
        (lambda d: d["classes"][0]["arrivals"].update(profile={"period": 10, "rates": [1]}), "classes[0].arrivals", "exactly one of rate, profile, trace"),
        (lambda d: d["classes"][0].update(arrivals={}), "classes[0].arrivals", "exactly one of rate, profile, trace"),
        (lambda d: d["classes"][0].update(arrivals={"profile": {"period": 10, "rates": [1, -1]}}), "classes[0].arrivals.profile.rates[1]", ">= 0"),
        (lambda d: d["stations"][0].update(discipline="lilo"), "stations[0].discipline", "one of fifo, priority, credit, lifo, random, preemptive, ps"),
        (lambda d: d["stations"][0].update(queue_capacity=-1), "stations[0].queue_capacity", "integer >= 0"),
        (lambda d: d["stations"][0].update(shifts=[{"start": 0, "end": 10, "servers": 1}]), "stations[0]", "exactly one of servers, shifts"),
        (lambda d: d.update(colour="blue"), "colour", "unknown key"),
        (lambda d: d["stations"][0].update(severs=3), "stations[0].severs", "unknown key"),
        (lambda d: d.update(targets={"service_level": {"threshold": 1, "target": 1.5}}), "targets.service_level.target", "<= 1"),
        (lambda d: d["stations"][0].update(service={"c": {"dist": "exponential", "mean": 1}, "ghost": {"dist": "exponential", "mean": 1}}), "stations[0].service.ghost", "unknown class"),
        (lambda d: d["classes"].append({"name": "c", "arrivals": {"rate": 1}}), "classes[1].name", "duplicate"),
        (lambda d: d.pop("stations"), "stations", "is required"),
    ],
)
def test_invalid_input_is_refused_with_the_key_path(mutate, path, message):
    data = single_station()
    mutate(data)
    refuse(data, path, message)


@pytest.mark.parametrize(
    "shifts, path, message",
    [
        ([{"start": 0, "end": 100, "servers": 2}, {"start": 90, "end": 10_000, "servers": 3}], "stations[0].shifts[1].start", "overlaps"),
        ([{"start": 0, "end": 100, "servers": 2}, {"start": 120, "end": 10_000, "servers": 3}], "stations[0].shifts[1].start", "gap"),
        ([{"start": 10, "end": 10_000, "servers": 2}], "stations[0].shifts[0].start", "must start at 0"),
        ([{"start": 0, "end": 5_000, "servers": 2}], "stations[0].shifts", "before the horizon"),
        ([{"start": 0, "end": 10_000, "servers": -1}], "stations[0].shifts[0].servers", "integer >= 0"),
        ([{"start": 0, "end": 10_000, "servers": 0}], "stations[0].shifts", "at least one shift"),
        ([{"start": 50, "end": 40, "servers": 1}], "stations[0].shifts[0].end", "after start"),
    ],
)
def test_bad_shifts_are_refused(shifts, path, message):
    data = single_station()
    del data["stations"][0]["servers"]
    data["stations"][0]["shifts"] = shifts
    refuse(data, path, message)


def test_trace_files_are_checked(tmp_csv, tmp_path):
    data = single_station()
    data["classes"][0]["arrivals"] = {"trace": str(tmp_path / "missing.csv")}
    refuse(data, "classes[0].arrivals.trace", "file not found")
    data["classes"][0]["arrivals"] = {"trace": str(tmp_csv("bad.csv", "time\n1\nabc\n3\n"))}
    refuse(data, "classes[0].arrivals.trace", "line 3 is not a number")  # the cell is not echoed
    data["classes"][0]["arrivals"] = {"trace": str(tmp_csv("down.csv", "time\n1\n5\n4\n"))}
    refuse(data, "classes[0].arrivals.trace", "must not decrease")
    data["classes"][0]["arrivals"] = {"trace": {"file": str(tmp_csv("t.csv", "t\n1\n")), "column": "time"}}
    refuse(data, "classes[0].arrivals.trace", "no column 'time'")


def test_relative_files_resolve_against_the_scenario_folder(tmp_path):
    (tmp_path / "times.csv").write_text("time\n1\n2\n3\n")
    data = single_station(horizon=10, warmup=0)
    data["classes"][0]["arrivals"] = {"trace": "times.csv"}
    path = tmp_path / "scn.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_scenario(path).classes[0].arrivals.trace == (1.0, 2.0, 3.0)


def test_a_class_visiting_a_station_needs_its_service_time():
    data = single_station()
    data["classes"].append({"name": "d", "arrivals": {"rate": 1}})
    data["stations"][0]["service"] = {"c": {"dist": "exponential", "mean": 1}}
    refuse(data, "stations[0].service", "no service time for class 'd'")


def test_yaml_errors_are_one_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("horizon: [1,\n")
    refuse(path, "", "invalid YAML")
    refuse(tmp_path / "absent.yaml", "", "not found")


def test_overrides_make_validated_variants():
    scn = load_scenario(SCENARIOS / "call_centre.yaml")
    more = scn.with_overrides({"stations.agents.servers": 16, "classes.caller.arrivals.rate": 3.0})
    assert more.station("agents").servers == 16
    assert more.customer_class("caller").arrivals.rate == 3.0
    assert scn.station("agents").servers == 14  # the original is untouched
    with pytest.raises(ScenarioError, match=r"stations\[0\].servers: must be a positive integer, got 0 \(with stations.agents.servers=0\)"):
        scn.with_overrides({"stations.agents.servers": 0})
    with pytest.raises(ScenarioError, match="no item named 'nobody'"):
        scn.with_overrides({"stations.nobody.servers": 3})
    shifted = scn.with_overrides({"stations.agents.shifts": [{"start": 0, "end": 480, "servers": 9}]})
    assert shifted.station("agents").servers is None and shifted.station("agents").servers_at(5) == 9


def test_cli_reports_invalid_scenarios_in_one_line_with_status_2(tmp_path):
    data = single_station()
    data["stations"][0]["servers"] = -3
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    proc = subprocess.run(
        [sys.executable, "-m", "simlib.app.cli", "run", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "stations[0].servers: must be a positive integer, got -3" in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "mutate, path, message",
    [
        (lambda d: d["classes"][0].update(name="s"), "classes[0].name", "already a station name"),
        (lambda d: d["classes"][0].update(name="system"), "classes[0].name", "reserved"),
        (lambda d: d["stations"][0].update(name="system", service={"dist": "exponential", "mean": 1}), "stations[0].name", "reserved"),
        (lambda d: d["stations"][0].update(service={"dist": ["exponential"]}), "stations[0].service.dist", "unknown distribution"),
        (lambda d: d.update(horizon=10**400), "horizon", "must be a number"),
        (lambda d: d["stations"][0].update(service={"dist": "lognormal", "mean": 1, "cv": 1e200}), "stations[0].service.cv", "at most 1e+15"),
        (lambda d: d["stations"][0].update(service={"dist": "gamma", "mean": 1, "cv": 1e-200}), "stations[0].service.cv", "between"),
        (lambda d: d.update(routing={"s": {"s": 1.0}}), "routing.s", "never reach exit"),
        # pre-emption, server speeds and processor sharing (simlib.spec.servers)
        (lambda d: d["stations"][0].update(preemption="resume"), "stations[0].preemption", "allowed only with discipline: preemptive"),
        (lambda d: d["stations"][0].update(discipline="preemptive", preemption="pause"), "stations[0].preemption", "one of resume, restart, resample, got 'pause'"),
        (lambda d: d["stations"][0].update(servers=2, speeds=[1.0]), "stations[0].speeds", "list of 2 speeds, one per server, got [1.0]"),
        (lambda d: d["stations"][0].update(servers=2, speeds="fast"), "stations[0].speeds", "list of 2 speeds"),
        (lambda d: d["stations"][0].update(servers=2, speeds=[1.0, 0]), "stations[0].speeds[1]", "positive finite number, got 0"),
        (lambda d: d["stations"][0].update(servers=2, speeds=[1.0, float("inf")]), "stations[0].speeds[1]", "positive finite number"),
        (lambda d: d["stations"][0].update(servers=2, speeds=[1.0, True]), "stations[0].speeds[1]", "positive finite number"),
        (lambda d: d["stations"][0].update(servers=1, discipline="lifo", speeds=[2.0]), "stations[0].speeds", "needs discipline fifo, priority, preemptive, got 'lifo'"),
        (lambda d: d["stations"][0].update(servers="inf", speeds=[2.0]), "stations[0].speeds", "not allowed with servers: inf"),
        (lambda d: (d["stations"][0].pop("servers"), d["stations"][0].update(shifts=[{"start": 0, "end": 10_000, "servers": 1}], speeds=[2.0])), "stations[0].speeds", "not allowed with shifts"),
        (lambda d: d["stations"][0].update(discipline="ps", queue_capacity=3), "stations[0].queue_capacity", "not allowed with discipline: ps"),
        (lambda d: d["stations"][0].update(discipline="ps", balking={"queue_lengths": [0], "join": [0.5]}), "stations[0].balking", "not allowed with discipline: ps"),
        (lambda d: d["stations"][0].update(discipline="ps", speeds=[2.0]), "stations[0].speeds", "needs discipline"),
    ],
)
def test_more_invalid_input_is_refused(mutate, path, message):
    data = single_station()
    mutate(data)
    refuse(data, path, message)


def test_file_level_problems_are_one_line(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    refuse(empty, "", "is empty")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    refuse(binary, "", "not a UTF-8 text file")
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    refuse(listed, "", "must be a mapping")


def test_numbers_in_exponent_form_and_numpy_integers_are_accepted(tmp_path):
    import numpy as np

    data = single_station()
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data).replace("rate: 0.8", "rate: 8e-1"))
    assert load_scenario(path).classes[0].arrivals.rate == pytest.approx(0.8)
    scn = load_scenario(data).with_overrides({"stations.s.servers": np.int64(3)})
    assert scn.station("s").servers == 3


def test_a_zero_probability_route_is_never_taken():
    data = single_station(horizon=2_000)
    data["stations"].append({"name": "t", "servers": 1, "service": {"d": {"dist": "exponential", "mean": 1}}})
    data["classes"].append({"name": "d", "arrivals": {"rate": 0.1}, "route": ["t"]})
    data["routing"] = {"s": {"exit": 0.9999991, "t": 0.0}}
    res = simlib.run(data, replications=3, seed=1, progress=False)
    assert all(run["t"]["arrivals"] == run["d"]["arrivals"] for run in res.runs)
