"""Experiments: replications of a scenario, run and summarised.

An experiment has one root seed; replication ``r`` draws every random number
from ``SeedSequence(seed, spawn_key=(r,))`` (``DESIGN.md`` §Randomness), so
its result does not depend on which process or machine runs it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from simlib.engine import simulate
from simlib.results import Results
from simlib.scenario import Scenario, load_scenario

__all__ = ["run"]


def _check_count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def run(
    scenario: Scenario | Mapping[str, Any] | str | os.PathLike[str],
    replications: int = 10,
    seed: int = 0,
) -> Results:
    """Simulate ``replications`` independent replications of a scenario.

    Parameters
    ----------
    scenario
        A :class:`~simlib.scenario.Scenario`, a scenario dict or a YAML path.
    replications
        Number of independent replications (each observes ``horizon`` time units).
    seed
        Root seed; the same seed gives identical results.

    Returns
    -------
    Results
        ``.summary()`` and ``.replications()`` give tidy tables.
    """
    scn = load_scenario(scenario)
    _check_count("replications", replications, 1)
    _check_count("seed", seed, 0)
    records = [simulate(scn, seed, r) for r in range(replications)]
    return Results(scn, seed, records)
