"""Figures of experiments: staffing curves, warm-up curves, paired comparisons.

Every function returns a matplotlib :class:`~matplotlib.figure.Figure` and
never shows it, so notebooks decide whether to display or save. Intervals
are drawn as error bars or bands so that a reader sees at once which
differences the replications can resolve.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simlib.experiments.results import SUMMARY_COLUMNS, Comparison, Results, SweepResults
from simlib.experiments.statistics import metric_interval

__all__ = ["plot_staffing_curve", "plot_warmup", "plot_comparison", "plot_running_interval"]

_SUMMARY = set(SUMMARY_COLUMNS)


def plot_staffing_curve(
    table: SweepResults | pd.DataFrame,
    parameter: str,
    metric: str = "mean_wait",
    scope: str = "system",
    target: float | None = None,
    ylabel: str | None = None,
) -> Figure:
    """A metric against a swept parameter, with confidence intervals.

    Parameters
    ----------
    table
        The output of :func:`simlib.sweep` (or its ``table``).
    parameter
        The swept dotted path on the x axis (e.g. ``"stations.agents.servers"``);
        other swept paths give one line each.
    metric, scope
        What to plot.
    target
        Optional horizontal target line (e.g. a service-level goal).
    ylabel
        Label of the y axis (default: the metric's name).
    """
    if isinstance(table, SweepResults):
        table = table.table
    rows = table[(table["scope"] == scope) & (table["metric"] == metric)]
    others = [c for c in table.columns if c not in _SUMMARY and c != parameter]
    fig, ax = plt.subplots(figsize=(6, 4))
    groups = rows.groupby(others, sort=False) if others else [((), rows)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{c.rsplit('.', 1)[-1]}={v}" for c, v in zip(others, key, strict=True))
        part = part.sort_values(parameter)
        err = np.vstack([part["mean"] - part["ci_low"], part["ci_high"] - part["mean"]])
        ax.errorbar(part[parameter], part["mean"], yerr=err, marker="o", capsize=4,
                    label=label or None)
    if target is not None:
        ax.axhline(target, color="grey", linestyle="--", label="target")
    ax.set_xlabel(parameter)
    ax.set_ylabel(ylabel or metric)
    ax.set_title(f"{scope} {metric}: mean and 95% interval per point")
    if others or target is not None:
        ax.legend()
    fig.tight_layout()
    return fig


def plot_warmup(
    study: pd.DataFrame,
    steady_state: float | None = None,
    warmup: float | None = None,
    ylabel: str = "mean wait",
) -> Figure:
    """Welch's plot: interval means since an empty start, their smoothing and intervals.

    Parameters
    ----------
    study
        The output of :func:`simlib.experiments.warmup.warmup_study`.
    steady_state
        Optional steady-state value (from theory or a long run) as a line.
    warmup
        Optional chosen warm-up length, drawn as a vertical line.
    ylabel
        Label of the y axis.
    """
    mid = (study["start"] + study["end"]) / 2
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.fill_between(mid, study["ci_low"], study["ci_high"], alpha=0.25,
                    label="95% interval over replications")
    ax.plot(mid, study["mean"], marker=".", linewidth=1, label="mean over replications")
    ax.plot(mid, study["smoothed"], linewidth=2.5, label="Welch moving average")
    if steady_state is not None:
        ax.axhline(steady_state, color="black", linestyle="--", label="steady state")
    if warmup is not None:
        ax.axvline(warmup, color="grey", linestyle=":", label="chosen warm-up")
    ax.set_xlabel("time since an empty start")
    ax.set_ylabel(ylabel)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_comparison(
    tables: Mapping[str, Comparison | pd.DataFrame],
    metric: str = "mean_wait",
    scope: str = "system",
) -> Figure:
    """Paired differences (variant − base) with intervals, one marker per table.

    Parameters
    ----------
    tables
        ``{label: simlib.compare(...) output}`` (or its ``table``), e.g.
        ``{"common random numbers": crn, "independent seeds": ind}``.
    metric, scope
        What to plot.
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    n = len(tables)
    for j, (label, table) in enumerate(tables.items()):
        if isinstance(table, Comparison):
            table = table.table
        rows = table[(table["scope"] == scope) & (table["metric"] == metric)]
        y = np.arange(len(rows)) + (j - (n - 1) / 2) * 0.2
        err = np.vstack([rows["diff"] - rows["ci_low"], rows["ci_high"] - rows["diff"]])
        ax.errorbar(rows["diff"], y, xerr=err, fmt="o", capsize=4, label=label)
        ax.set_yticks(np.arange(len(rows)), rows["variant"])
    ax.axvline(0, color="grey", linewidth=1)
    ax.set_xlabel(f"{scope} {metric}: variant − base (95% interval)")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_running_interval(
    results: Results, scope: str = "system", metric: str = "mean_wait", level: float = 0.95
) -> Figure:
    """The mean and its confidence interval as replications accumulate.

    Shows the interval narrowing like ``1/sqrt(n)``: four times the
    replications for half the width. The band is the interval of
    :func:`~simlib.experiments.statistics.metric_interval` (inside [0, 1] for
    shares, >= 0 for waits and counts); the legend names its method.
    """
    values = [run[scope][metric] for run in results.runs]
    ns = np.arange(2, len(values) + 1)
    ivs = [metric_interval(values[:n], metric, level) for n in ns]
    methods = ", ".join(dict.fromkeys(iv.method for iv in ivs))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.fill_between(ns, [iv.ci_low for iv in ivs], [iv.ci_high for iv in ivs], alpha=0.3,
                    label=f"{level:.0%} interval ({methods})")
    ax.plot(ns, [iv.mean for iv in ivs], marker=".", label="mean of the first n")
    ax.scatter(np.arange(1, len(values) + 1), values, s=10, color="grey", label="one replication")
    ax.set_xlabel("replications n")
    ax.set_ylabel(f"{scope} {metric}")
    ax.legend()
    fig.tight_layout()
    return fig
