"""The dependency lists in pyproject.toml and environment.yml agree."""

from __future__ import annotations

import re
import tomllib

import yaml
from support import ROOT

# Conda and PyPI spell a few names differently.
_CONDA_NAMES = {"pyyaml": "pyyaml"}


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)", requirement)
    assert match, requirement
    name = match.group(1).lower().replace("_", "-")
    return _CONDA_NAMES.get(name, name), match.group(3).replace(" ", "")


def test_environment_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = dict(_split(r) for r in project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared.update(_split(r) for r in extra)

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    mirrored: dict[str, str] = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for pip_dep in dep["pip"]:
                if not pip_dep.startswith("-"):
                    mirrored.update([_split(pip_dep)])
        else:
            name, spec = _split(dep)
            if name not in ("python", "pip"):
                mirrored[name] = spec
    assert mirrored == declared


def test_python_version_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert f"python{project['requires-python']}" in env["dependencies"]


def _make_rules() -> dict[str, tuple[list[str], list[str]]]:
    """``{target: (prerequisites, recipe lines)}`` of the Makefile, variables left unexpanded."""
    rules: dict[str, tuple[list[str], list[str]]] = {}
    current = None
    for line in (ROOT / "Makefile").read_text().splitlines():
        if line.startswith("\t") and current is not None:
            rules[current][1].append(line.strip())
        elif ":" in line and not line.startswith(("#", " ")) and ":=" not in line and "?=" not in line:
            target, _, prereqs = line.partition(":")
            current = target.strip()
            rules[current] = (prereqs.replace("|", " ").split(), [])
        else:
            current = None
    return rules


def test_make_demo_installs_the_runtime_only_and_test_the_dev_extras():
    rules = _make_rules()
    assert rules["demo"][0] == ["$(RUNTIME_STAMP)"]
    assert rules["test"][0] == ["$(DEV_STAMP)"]
    runtime = " ".join(rules["$(RUNTIME_STAMP)"][1])
    dev = " ".join(rules["$(DEV_STAMP)"][1])
    assert "install --quiet -e ." in runtime and "[dev]" not in runtime
    assert '-e ".[dev]"' in dev
    # The dev install satisfies the demo too: it refreshes both stamps.
    assert "$(RUNTIME_STAMP)" in rules["$(DEV_STAMP)"][1][-1]
