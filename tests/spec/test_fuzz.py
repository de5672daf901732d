"""Fuzzing the scenario contract (issue 17, item 1): every mutation of a bundled
scenario ends in a one-line ScenarioError naming a key path, or in a valid short run.

Hypothesis is not installed in the project's environment, so a seeded
generator (numpy, fixed seeds: every failure reproduces) mutates the bundled
scenarios: numbers scaled or moved by one (plausible
edits, mostly valid), values replaced by hostile ones (huge, tiny, negative, NaN, wrong
types, deep nesting, long text), keys deleted or added, lists emptied. A
valid mutant is run for one short replication under a small work budget; a
model the budgets refuse (WorkBudgetError, RunawayError) is also a
one-line ending. Anything else — a traceback of another type, a multi-line
message, a hang — fails the test with the seed that made it.
"""

from __future__ import annotations

import copy
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from simlib.engine import RunawayError, simulate
from simlib.experiments.budget import WorkBudgetError, check_work
from simlib.spec.scenario import ScenarioError, from_dict

SCENARIOS = sorted((Path(__file__).parents[2] / "data" / "scenarios").glob("*.yaml"))
CASES_PER_SCENARIO = 60

HOSTILE: list[Any] = [
    0, -1, 1, 2, 10**400, 10**18, -(10**30), 1e-300, 1e300, -1e300, math.nan, math.inf,
    -math.inf, 0.5, 1.5, True, None, "", "x", "014", "system ", "exit", "a/b", " " * 3,
    [], [1, 2], {}, {"dist": "exponential", "mean": 1e-300}, {"dist": "nope"},
    {"dist": "erlang", "mean": 1, "k": 10**300}, "y" * 5000, [[[[[[[[[]]]]]]]]],
]


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path into a nested value."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*prefix, i))
    return out


def mutate(data: dict, rng: np.random.Generator) -> dict:
    data = copy.deepcopy(data)
    for _ in range(int(rng.integers(1, 4))):
        where = paths(data)
        path = where[int(rng.integers(len(where)))]
        parent: Any = data
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        action = rng.random()
        old = parent[key]
        if isinstance(old, int | float) and not isinstance(old, bool) and rng.random() < 0.6:
            # a plausible edit: scaled, or one more or less
            new = old * float(rng.choice([0.5, 0.9, 1.1, 2.0]))
            parent[key] = int(old + rng.choice([-1, 1])) if isinstance(old, int) else new
        elif action < 0.7:
            parent[key] = copy.deepcopy(HOSTILE[int(rng.integers(len(HOSTILE)))])
        elif action < 0.85 and isinstance(parent, dict):
            del parent[key]
        elif isinstance(parent, dict):
            parent[f"extra_{int(rng.integers(100))}"] = 1
        else:
            parent.clear()
    return data


def shortened(data: dict) -> dict:
    """Keep the runs short: a fuzzed valid scenario is simulated for at most 50 time units."""
    if isinstance(data.get("horizon"), int | float) and not isinstance(data["horizon"], bool):
        data["horizon"] = min(data["horizon"], 50)
    if isinstance(data.get("warmup"), int | float) and not isinstance(data["warmup"], bool):
        data["warmup"] = min(data["warmup"], 10)
    return data


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_mutant_ends_in_one_line_or_a_short_run(path):
    base = yaml.safe_load(path.read_text(encoding="utf-8"))
    folder = str(path.parent)
    outcomes = {"refused": 0, "ran": 0, "budget": 0}
    for case in range(CASES_PER_SCENARIO):
        rng = np.random.default_rng([17, SCENARIOS.index(path), case])
        data = shortened(mutate(base, rng))
        try:
            scn = from_dict(data, base_dir=folder, default_name=path.stem)
        except ScenarioError as exc:
            text = str(exc)
            assert "\n" not in text and len(text) < 500, (path.stem, case, text)
            outcomes["refused"] += 1
            continue
        try:
            check_work([scn], 1, max_work=2e5)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                record = simulate(scn, seed=case, max_customers=20_000, warn=False)
        except (WorkBudgetError, RunawayError) as exc:
            assert "\n" not in str(exc), (path.stem, case, str(exc))
            outcomes["budget"] += 1
            continue
        assert "system" in record.metrics, (path.stem, case)
        outcomes["ran"] += 1
    assert outcomes["refused"] > 0 and outcomes["ran"] > 0 and sum(outcomes.values()) == CASES_PER_SCENARIO, outcomes
