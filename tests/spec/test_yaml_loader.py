"""Scenario YAML is read once, the YAML 1.2 way, and within bounds."""

from __future__ import annotations

import pytest
import yaml
from support import SCENARIOS

import simlib
from simlib.spec import yaml_loader
from simlib.spec.validation import ScenarioError
from simlib.spec.yaml_loader import load_yaml

BASE = """\
name: tiny
horizon: 100
classes:
  - name: walk_in
    arrivals: {rate: 1.0}
stations:
  - name: desk
    servers: 2
    service: {dist: exponential, mean: 0.5}
"""


def write(tmp_path, text: str):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_a_duplicate_key_is_refused_with_both_lines(tmp_path):
    text = BASE.replace("    servers: 2\n", "    servers: 14\n    servers: 2\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml: invalid YAML at line 9: duplicate key "
                                            r"'servers' \(first at line 8\)"):
        simlib.load_scenario(write(tmp_path, text))


@pytest.mark.parametrize(("written", "read"), [("014", 14), ("0o14", 12), ("0x0E", 14),
                                               ("14", 14), ("+3", 3)])
def test_integers_are_read_the_yaml_1_2_way(written, read):
    assert load_yaml(f"servers: {written}\n", "x") == {"servers": read}


@pytest.mark.parametrize(("written", "read"), [("1e-3", 1e-3), ("1.5", 1.5), (".5", 0.5),
                                               ("-2E2", -200.0), ("1.", 1.0)])
def test_floats_are_read_the_yaml_1_2_way(written, read):
    assert load_yaml(f"x: {written}\n", "x") == {"x": read}


@pytest.mark.parametrize("written", ["1:30", "1_000", "0b101", "1__0"])
def test_yaml_1_1_number_forms_are_text(written):
    assert load_yaml(f"x: {written}\n", "x") == {"x": written}


def test_a_sexagesimal_number_is_refused_by_validation_not_read_as_90(tmp_path):
    text = BASE.replace("horizon: 100", "horizon: 1:30")
    with pytest.raises(ScenarioError, match="horizon"):
        simlib.load_scenario(write(tmp_path, text))


def test_an_octal_looking_server_count_means_what_it_says(tmp_path):
    scn = simlib.load_scenario(write(tmp_path, BASE.replace("servers: 2", "servers: 014")))
    assert scn.station("desk").servers == 14


def test_an_integer_too_long_to_read_is_one_line(tmp_path):
    text = BASE.replace("servers: 2", "servers: " + "9" * 5000)
    with pytest.raises(ScenarioError, match="not an integer that can be read: '9999"):
        simlib.load_scenario(write(tmp_path, text))


def billion_laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + f"\nname: *a{levels - 1}\n"


def test_an_alias_bomb_is_refused_quickly_with_its_size(tmp_path):
    bomb = billion_laughs(9)  # 10**9 strings from one kilobyte
    assert len(bomb) < 1200
    with pytest.raises(ScenarioError, match="expands to more than 1,000,000 values"):
        simlib.load_scenario(write(tmp_path, bomb))


def test_a_few_aliases_are_still_fine():
    data = load_yaml(billion_laughs(3), "x")
    assert len(data["name"]) == 10 and len(data["name"][0][0]) == 10


def test_deep_nesting_is_one_line_at_any_depth(tmp_path):
    for depth in (yaml_loader.MAX_DEPTH + 1, 5000, 100_000):
        with pytest.raises(ScenarioError, match="nested more than 64 levels deep"):
            simlib.load_scenario(write(tmp_path, "name: " + "[" * depth + "]" * depth + "\n"))


def test_an_oversized_document_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(yaml_loader, "MAX_DOCUMENT_CHARS", 1000)
    with pytest.raises(ScenarioError, match="more than the 1,000 a scenario may have"):
        simlib.load_scenario(write(tmp_path, BASE + "#" * 2000 + "\n"))


def test_every_bundled_scenario_reads_as_plain_yaml_reads_it():
    # none of the bundled files relies on a YAML 1.1 number form or repeats a key
    for path in sorted(SCENARIOS.glob("*.yaml")):
        text = path.read_text()
        assert load_yaml(text, path.name) == yaml.safe_load(text), path.name


def test_merge_keys_still_merge():
    data = load_yaml("base: &b {servers: 2, mean: 1}\ndesk: {<<: *b, servers: 3}\n", "x")
    assert data["desk"] == {"servers": 3, "mean": 1}


@pytest.mark.parametrize("text", ["horizon: 2024-02-30\n", "? !!set {a: null}\n: 1\n"])
def test_values_python_cannot_build_are_one_line(tmp_path, text):
    with pytest.raises(ScenarioError, match="s.yaml: invalid YAML"):
        simlib.load_scenario(write(tmp_path, text))
