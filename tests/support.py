"""Shared test helpers: scenario builders and interval checks (import with ``from support import ...``)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "data" / "scenarios"


def single_station(
    rate: float = 0.8,
    service: dict[str, Any] | None = None,
    servers: int = 1,
    horizon: float = 10_000.0,
    warmup: float = 500.0,
    **station: Any,
) -> dict[str, Any]:
    """A one-class, one-station scenario dict (an M/G/c queue by default exponential)."""
    spec: dict[str, Any] = {
        "name": "test",
        "horizon": horizon,
        "warmup": warmup,
        "classes": [{"name": "c", "arrivals": {"rate": rate}}],
        "stations": [
            {
                "name": "s",
                "servers": servers,
                "service": service or {"dist": "exponential", "mean": 1.0},
                **station,
            }
        ],
    }
    return copy.deepcopy(spec)


def replication_values(results: Any, scope: str, metric: str) -> np.ndarray:
    return np.array([run[scope][metric] for run in results.runs], dtype=float)


def interval(values: np.ndarray, level: float = 0.99) -> tuple[float, float]:
    n = len(values)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return values.mean() - half, values.mean() + half


def assert_covers(results: Any, scope: str, metric: str, expected: float, level: float = 0.99) -> None:
    """The analytic value lies inside the simulated ``level`` t-interval."""
    lo, hi = interval(replication_values(results, scope, metric), level)
    assert lo <= expected <= hi, f"{scope}.{metric}: theory {expected:.5g} outside [{lo:.5g}, {hi:.5g}]"


def assert_all_covered(
    results: Any, scope: str, theory: dict[str, float], metrics: tuple[str, ...], level: float = 0.99
) -> None:
    """Every listed metric's analytic value lies inside its simulated interval.

    The family of checks holds at ``level`` jointly (Bonferroni), so checking
    many metrics of one run does not make a correct engine fail by chance.
    """
    per_check = 1 - (1 - level) / len(metrics)
    for metric in metrics:
        assert_covers(results, scope, metric, theory[metric], per_check)


def figures_shown_as_text(outputs: Any) -> list[str]:
    """The ``<Figure size ...>`` texts among notebook cell outputs that carry no image.

    A matplotlib figure displayed where no PNG formatter is active (no inline
    backend) reaches the notebook as its text repr only; JupyterLab then
    prints ``<Figure size 1000x400 with 2 Axes>`` instead of drawing it.
    ``outputs`` are a cell's outputs, as stored in an ``.ipynb`` file or as
    collected by nbval while the cell runs.
    """
    found = []
    for out in outputs or ():
        data = out.get("data") or {}
        text = data.get("text/plain", "")
        text = "".join(text) if isinstance(text, list) else str(text)
        if text.lstrip().startswith("<Figure size") and "image/png" not in data:
            found.append(text.strip())
    return found
