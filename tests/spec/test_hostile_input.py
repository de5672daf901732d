"""Hostile scenario input ends in a one-line ScenarioError naming the key path (issue 17).

Each case was a traceback, a hang or a silent acceptance before: huge integers
and magnitudes, profiles too fine for their horizon, names that look reserved,
deep nesting, exits too rare to reach, and trace files that are binary, have
giant fields, impossible names, are directories or lie outside the scenario's folder.
"""

from __future__ import annotations

import copy
import math

import pytest
import yaml

from simlib.engine import simulate
from simlib.spec.quality import logistic
from simlib.spec.scenario import ScenarioError, load_scenario


def base():
    return {
        "name": "t", "horizon": 100, "warmup": 10,
        "classes": [{"name": "c", "arrivals": {"rate": 1.0}}],
        "stations": [{"name": "s", "servers": 2, "service": {"dist": "exponential", "mean": 1.0}}],
    }


def refused(data, path: str, fragment: str = "", **kwargs) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(data, **kwargs)
    text = str(info.value)
    assert "\n" not in text and len(text) < 400, text
    assert text.startswith(path), text
    assert fragment in text, text
    return text


def edit(fn):
    data = base()
    fn(data)
    return data


HUGE = 10**400


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        (lambda d: d["stations"][0].update(servers=HUGE), "stations[0].servers", "about 401 digits"),
        (lambda d: d["stations"][0].update(servers=10**18), "stations[0].servers", "at most"),
        (lambda d: d["stations"][0].update(queue_capacity=HUGE), "stations[0].queue_capacity", "at most"),
        (lambda d: d["stations"][0].update(service={"dist": "erlang", "mean": 1, "k": HUGE}),
         "stations[0].service.k", "at most"),
        (lambda d: d["stations"][0].update(service={"dist": "exponential", "mean": 1e300}),
         "stations[0].service.mean", "at most 1e+15"),
        (lambda d: d.update(horizon=1e300), "horizon", "at most 1e+15"),
        (lambda d: d["classes"][0].update(arrivals={"rate": 1e300}), "classes[0].arrivals.rate", "at most"),
        (lambda d: d["classes"][0].update(arrivals={"profile": {"period": 1e-320, "rates": [1, 2]}}),
         "classes[0].arrivals.profile.period", "too short"),
        (lambda d: d["classes"][0].update(arrivals={"profile": {"period": 1e300, "rates": [1, 2]}}),
         "classes[0].arrivals.profile.period", "at most"),
        (lambda d: d["classes"][0].update(arrivals={"profile": {"period": 1, "rates": [1e300]}}),
         "classes[0].arrivals.profile.rates[0]", "at most"),
        (lambda d: d.update(quality={}, retention={"base": 0.5, "slope": 1e300, "delay": {"dist": "exponential", "mean": 50}}), "retention.slope",
         "at most"),
        (lambda d: d["classes"][0].update(name="system "), "classes[0].name", "spaces"),
        (lambda d: d["stations"][0].update(name=" s"), "stations[0].name", "spaces"),
        (lambda d: d["classes"][0].update(name="a\x00b"), "classes[0].name", "control"),
    ],
)
def test_out_of_range_numbers_and_names_are_one_line(change, path, fragment):
    refused(edit(change), path, fragment)


def test_an_exit_too_rare_to_reach_counts_as_none():
    data = base()
    data["stations"].append({"name": "t", "servers": 1, "service": {"dist": "exponential", "mean": 1}})
    data["routing"] = {"s": {"t": 1.0}, "t": {"s": 1 - 1e-300, "exit": 1e-300}}
    refused(data, "routing.", "below 1e-09 counts as none")
    data["routing"]["t"] = {"s": 0.5, "exit": 0.5}
    load_scenario(data)


def test_deep_nesting_is_refused_without_recursion(tmp_path):
    deep: object = 1
    for _ in range(100_000):
        deep = [deep]
    refused(edit(lambda d: d.update(description=deep)), "", "nested more than")
    path = tmp_path / "deep.yaml"
    path.write_text("name: x\nhorizon: 10\nclasses: " + "[" * 20_000 + "]" * 20_000 + "\n")
    refused(path, "", "nested more than")


def test_big_slopes_and_effects_do_not_overflow():
    assert logistic(1e300) == 1.0 and logistic(-1e300) == 0.0
    assert logistic(0.3) == 1 / (1 + math.exp(-0.3))  # the former formula, bit for bit
    data = edit(lambda d: d.update(
        quality={}, retention={"base": 0.5, "slope": 1e12, "delay": {"dist": "exponential", "mean": 50}},
        failures={"s": {"probability": 0.1, "to": "repeat", "load_effect": 1e12}}))
    record = simulate(load_scenario(data), seed=1)
    assert record.metrics["system"]["arrivals"] > 0


@pytest.fixture
def folder(tmp_path):
    scn = tmp_path / "scn"
    scn.mkdir()
    return scn


def write(folder, data):
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def with_trace(name):
    return edit(lambda d: d["classes"][0].update(arrivals={"trace": name}))


def test_trace_files_that_cannot_be_read_are_one_line(folder):
    (folder / "bin.csv").write_bytes(b"\xff\xfe\x00time\n1\n")
    refused(write(folder, with_trace("bin.csv")), "classes[0].arrivals.trace", "not UTF-8")
    (folder / "wide.csv").write_text("time\n" + "1" * 130_000 + "\n")
    refused(write(folder, with_trace("wide.csv")), "classes[0].arrivals.trace", "130,000 characters")
    (folder / "huge.csv").write_text('time\n"' + "x" * 200_000 + '"\n')
    refused(write(folder, with_trace("huge.csv")), "classes[0].arrivals.trace", "CSV")
    refused(write(folder, with_trace("a" * 300 + ".csv")), "classes[0].arrivals.trace",
            "longer than the file system allows")
    (folder / "adir").mkdir()
    refused(write(folder, with_trace("adir")), "classes[0].arrivals.trace", "is a directory")


def test_files_outside_the_scenario_folder_need_allow_paths(folder, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon\n")
    path = write(folder, with_trace("../secret.csv"))
    text = refused(path, "classes[0].arrivals.trace", "outside the scenario's folder")
    assert "allow_paths" in text
    # Allowed, the file is read, and its refusal does not echo what it holds.
    text = refused(path, "classes[0].arrivals.trace", "line 2 is not a number",
                   allow_paths=[tmp_path])
    assert "root" not in text and "daemon" not in text
    # A symbolic link inside the folder pointing out of it is outside too.
    (folder / "link.csv").symlink_to(secret)
    refused(write(folder, with_trace("link.csv")), "classes[0].arrivals.trace", "outside")
    (tmp_path / "ok.csv").write_text("time\n1\n2\n")
    scn = load_scenario(write(folder, with_trace("../ok.csv")), allow_paths=[tmp_path])
    assert scn.classes[0].arrivals.trace == (1.0, 2.0)
    # Variants keep the permission.
    assert scn.with_overrides({"horizon": 50}).classes[0].arrivals.trace == (1.0, 2.0)


def test_a_dict_may_name_any_file_unless_confined(tmp_path, monkeypatch):
    (tmp_path / "ok.csv").write_text("time\n1\n2\n")
    data = with_trace(str(tmp_path / "ok.csv"))
    assert load_scenario(copy.deepcopy(data)).classes[0].arrivals.trace == (1.0, 2.0)
    other = tmp_path / "inner"
    other.mkdir()
    monkeypatch.chdir(other)  # a dict's folder is the working folder
    refused(data, "classes[0].arrivals.trace", "outside", allow_paths=[])


def test_the_command_refuses_outside_files_unless_allowed(folder, tmp_path, capsys):
    from simlib.app.cli import main

    (tmp_path / "ok.csv").write_text("time\n" + "\n".join(str(t) for t in range(1, 60)) + "\n")
    path = write(folder, with_trace("../ok.csv"))
    assert main(["run", str(path), "-r", "2", "-q", "--jobs", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--allow-paths" in err
    assert main(["run", str(path), "-r", "2", "-q", "--jobs", "1",
                 "--allow-paths", str(tmp_path)]) == 0
