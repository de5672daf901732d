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
