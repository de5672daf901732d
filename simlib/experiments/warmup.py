"""Warm-up: how long a run must be simulated before it is observed.

A simulation that starts empty (no customers, idle servers) is not in steady
state: early customers find short queues, so averages over the start are
biased low. The usual remedy is to simulate a *warm-up* period and discard
it (``warmup:`` in a scenario). How long? Welch's graphical method (Welch
1983; Law 2015, *Simulation Modeling and Analysis*, §9.5.1): run several
replications from empty, average the metric of each time interval over the
replications, smooth that curve with a moving average, and choose the
warm-up where the smoothed curve has levelled off.

:func:`warmup_study` produces that curve from per-interval metrics of the
engine; :func:`welch_moving_average` is the smoothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from simlib.experiments.runner import run
from simlib.experiments.statistics import metric_interval
from simlib.spec.scenario import Scenario, load_scenario
from simlib.spec.validation import count

__all__ = ["warmup_study", "welch_moving_average"]


def welch_moving_average(values: Sequence[float] | np.ndarray, window: int) -> np.ndarray:
    """Welch's moving average of a series (Law 2015, eq. 9.5).

    Point ``i`` (0-based) averages the ``2w+1`` values centred on it, or the
    ``2i+1`` values available near the start, so the start of the curve is
    not dragged towards later values.

    Parameters
    ----------
    values
        The interval means averaged over replications, in time order.
    window
        ``w >= 0``, the half-width of the window in intervals.

    Returns
    -------
    numpy.ndarray
        ``len(values) - window`` smoothed values.
    """
    count("", "window", window, minimum=0)
    x = np.asarray(values, dtype=float)
    m = len(x) - window
    if m < 1:
        raise ValueError(f"window {window} is too wide for {len(x)} values")
    out = np.empty(m)
    for i in range(m):
        half = min(i, window)
        out[i] = x[i - half : i + half + 1].mean()
    return out


def warmup_study(
    scenario: Scenario | Mapping[str, Any] | str | os.PathLike[str],
    bin_width: float,
    replications: int = 20,
    seed: int = 0,
    *,
    metric: str = "mean_wait",
    scope: str = "system",
    window: int = 2,
    level: float = 0.95,
    jobs: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """A metric by time since an empty start, averaged over replications.

    The scenario is run with ``warmup: 0`` (it starts empty) over its
    horizon, and ``metric`` is computed for each interval of ``bin_width``
    time units; customer-based metrics count the customers who arrive in the
    interval.

    Parameters
    ----------
    scenario
        The scenario; its own warm-up is ignored.
    bin_width
        Interval length, in the scenario's time unit.
    replications, seed, jobs, progress
        As in :func:`simlib.run`.
    metric, scope
        What to follow, e.g. ``"mean_wait"`` of ``"system"``.
    window
        Half-width (in intervals) of Welch's moving average.
    level
        Confidence level of the per-interval intervals.

    Returns
    -------
    pandas.DataFrame
        One row per interval: ``start, end, mean, ci_low, ci_high, n, method,
        smoothed``; the interval respects the metric's range, by the ``method``
        of :func:`simlib.experiments.statistics.metric_interval`, and
        ``smoothed`` is Welch's moving average, NaN for the last ``window``
        intervals.
    """
    scn = load_scenario(scenario).with_overrides({"warmup": 0})
    results = run(scn, replications, seed, jobs=jobs, progress=progress, interval=bin_width)
    bins: dict[tuple[float, float], list[float]] = {}
    for record in results.records:
        for start, end, block in record.intervals:
            bins.setdefault((start, end), []).append(block[scope][metric])
    rows = []
    for (start, end), values in sorted(bins.items()):
        iv = metric_interval(values, metric, level)
        rows.append((start, end, iv.mean, iv.ci_low, iv.ci_high, iv.n, iv.method))
    table = pd.DataFrame(rows, columns=["start", "end", "mean", "ci_low", "ci_high", "n", "method"])
    smoothed = np.full(len(table), np.nan)
    if len(table) > window:
        smoothed[: len(table) - window] = welch_moving_average(table["mean"].to_numpy(), window)
    table["smoothed"] = smoothed
    return table
