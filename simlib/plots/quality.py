"""Figures of the quality model: the value chain, the hierarchy, recovery and the gaps.

Every function takes a tidy table from :mod:`simlib.studies.quality` (or
:func:`simlib.analysis.gaps`) and returns a :class:`matplotlib.figure.Figure`
built without pyplot, so nothing is shown and no global figure state is
touched; a notebook displays it or writes it with
:func:`simlib.plots.queueing.save_figure`. Simulated values are means over
replications drawn with their 95 % intervals, so a reader sees at once which
differences the replications resolve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simlib.plots.staffing import tornado_chart
from simlib.spec.quality import SUBDIMENSIONS
from simlib.studies.quality import OUTCOMES, VALUE_CHAIN, CausalGapStudy, GapClosingStudy

__all__ = [
    "QUALITY_LABELS",
    "plot_value_chain",
    "plot_hierarchy",
    "plot_satisfaction_by_outcome",
    "plot_gaps",
    "plot_staffing_to_standard",
    "plot_gap_closing",
    "plot_assumption_tornado",
    "plot_causal_chain",
]

#: Axis labels of the quality-model metrics.
QUALITY_LABELS: dict[str, str] = {
    "utilization": "utilisation",
    "mean_wait": "mean wait in queue",
    "p_failure": "P(service failure)",
    "p_abandon": "P(abandon)",
    "responsiveness": "responsiveness (1-7)",
    "reliability": "reliability (1-7)",
    "satisfaction": "satisfaction (1-7)",
    "perceived_quality": "perceived quality (1-7)",
    "p_complaint": "P(complaint)",
    "p_return": "P(return)",
    "arrivals": "arrivals (new + returning)",
    "revenue": "revenue",
    "cost": "cost",
    "profit": "profit",
    "gap5": "gap 5: SERVQUAL score (P - E)",
}

_PRIMARY_COLOURS = {"interaction": "C0", "environment": "C2", "outcome": "C1"}


def _yerr(mean: np.ndarray, low: np.ndarray, high: np.ndarray) -> list[np.ndarray]:
    # One replication has no interval (NaN): draw the point without a bar.
    return [np.nan_to_num(mean - low, nan=0.0), np.nan_to_num(high - mean, nan=0.0)]


def _require(table: pd.DataFrame, columns: set[str], who: str) -> None:
    missing = columns - set(table.columns)
    if missing:
        raise ValueError(f"{who}: table lacks columns {sorted(missing)}")


def _grid(n: int, ncols: int, size: tuple[float, float]) -> tuple[Figure, list[Axes]]:
    ncols = max(1, min(n, ncols))
    nrows = -(-n // ncols)
    fig = Figure(figsize=(size[0] * ncols + 0.4, size[1] * nrows + 0.6), layout="constrained")
    axes = list(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


# --------------------------------------------------------------------------- value chain


def plot_value_chain(
    study: pd.DataFrame,
    links: Sequence[tuple[str, str]] | None = None,
    *,
    ncols: int = 4,
    time_unit: str | None = None,
    currency: str | None = None,
    title: str | None = None,
) -> Figure:
    """The service-profit chain along a staffing sweep: one panel per link, in chain order.

    Parameters
    ----------
    study
        The output of :func:`~simlib.studies.quality.value_chain_study`
        (``servers, stage, scope, metric, mean, ci_low, ci_high``).
    links
        ``(scope, metric)`` panels to draw, in order; default every link of
        the study in :data:`~simlib.studies.quality.VALUE_CHAIN` order.
    ncols
        Panels per row.
    time_unit, currency
        Appended to the labels of waits and of money.
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per link, titled ``n · stage``, with the mean and 95 %
        interval at each staffing level; the profit panel marks its maximum.
    """
    _require(study, {"servers", "stage", "scope", "metric", "mean", "ci_low", "ci_high"},
             "plot_value_chain")
    if links is None:
        present = set(zip(study["scope"], study["metric"], strict=True))
        order = [(scope, metric) for _, scope, metric in VALUE_CHAIN]
        # The swept station replaces the chain's generic "service" scope.
        station = [s for s in study["scope"].unique() if s != "system"]
        order = [(station[0] if s == "service" and station else s, m) for s, m in order]
        links = [link for link in order if link in present]
    links = list(links)
    if not links:
        raise ValueError("plot_value_chain: no links to draw")
    fig, axes = _grid(len(links), ncols, (3.0, 2.5))
    for i, (ax, (scope, metric)) in enumerate(zip(axes, links, strict=True), start=1):
        rows = study[(study["scope"] == scope) & (study["metric"] == metric)].sort_values("servers")
        if rows.empty:
            raise ValueError(f"plot_value_chain: no rows for {scope}.{metric}")
        x = rows["servers"].to_numpy(float)
        mean = rows["mean"].to_numpy(float)
        ax.errorbar(x, mean, yerr=_yerr(mean, rows["ci_low"].to_numpy(float),
                                        rows["ci_high"].to_numpy(float)),
                    fmt="o-", color="C0", capsize=3, ms=4)
        label = QUALITY_LABELS.get(metric, metric)
        if metric == "mean_wait" and time_unit:
            label += f" ({time_unit})"
        if metric in {"revenue", "cost", "profit"} and currency:
            label += f" ({currency})"
        ax.set_ylabel(label, fontsize="small")
        ax.set_title(f"{i} · {rows['stage'].iloc[0]} [{scope}]", fontsize="small")
        ax.set_xticks(x)
        ax.set_xlabel("servers", fontsize="small")
        ax.grid(alpha=0.3)
        if metric == "profit":
            best = int(np.nanargmax(mean))
            ax.plot(x[best], mean[best], marker="*", ms=14, color="C3", ls="none",
                    label=f"max at {x[best]:g}")
            ax.legend(fontsize="x-small")
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------- hierarchy


def plot_hierarchy(table: pd.DataFrame, title: str | None = None) -> Figure:
    """Brady & Cronin's hierarchy as horizontal bars: sub-dimensions under their primary.

    Parameters
    ----------
    table
        The output of :func:`~simlib.studies.quality.hierarchy_table`.
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: a bar per sub-dimension (coloured by its primary
        dimension), a hatched bar per primary dimension, and dashed lines at
        perceived quality and satisfaction; 95 % intervals as whiskers.
    """
    _require(table, {"level", "primary", "dimension", "mean", "ci_low", "ci_high"},
             "plot_hierarchy")
    fig = Figure(figsize=(7.0, 5.2), layout="constrained")
    ax = fig.subplots()
    labels: list[str] = []
    positions: list[float] = []
    pos = 0.0
    for primary in SUBDIMENSIONS:
        colour = _PRIMARY_COLOURS[primary]
        rows = table[(table["primary"] == primary) & (table["level"] == "sub-dimension")]
        head = table[(table["primary"] == primary) & (table["level"] == "primary")]
        for frame, is_primary in ((head, True), (rows, False)):
            for _, r in frame.iterrows():
                err = _yerr(np.array([r["mean"]]), np.array([r["ci_low"]]),
                            np.array([r["ci_high"]]))
                ax.barh(pos, r["mean"], xerr=err, color=colour, capsize=3,
                        alpha=0.55 if is_primary else 0.9, hatch="//" if is_primary else None,
                        edgecolor="black", linewidth=0.5)
                name = str(r["dimension"]).replace("_", " ")
                labels.append(name.upper() if is_primary else name)
                positions.append(pos)
                pos += 1
        pos += 0.5  # a gap between primary dimensions
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()
    overall = table[table["level"] == "overall"].set_index("dimension")["mean"]
    for name, style in (("perceived_quality", "--"), ("satisfaction", ":")):
        if name in overall:
            ax.axvline(overall[name], color="black", ls=style, lw=1.2,
                       label=f"{name.replace('_', ' ')} {overall[name]:.2f}")
    ax.set_xlim(1, 7)
    ax.set_xlabel("mean score over customers (1-7), 95% interval over replications")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    ax.set_title(title or "Brady & Cronin hierarchy (primary dimensions hatched)", fontsize="medium")
    return fig


# --------------------------------------------------------------------------- recovery


def plot_satisfaction_by_outcome(table: pd.DataFrame, title: str | None = None) -> Figure:
    """Mean satisfaction after each outcome, optionally with the recovery paradox off and on.

    Parameters
    ----------
    table
        :func:`~simlib.studies.quality.satisfaction_by_outcome` or
        :func:`~simlib.studies.quality.recovery_paradox_study` (one bar group
        per ``recovery_paradox`` value).
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Left: satisfaction with 95 % intervals per outcome (a dashed line at
        the smoothly served customers' level); right: the share who return.
    """
    _require(table, {"outcome", "satisfaction", "ci_low", "ci_high", "p_return"},
             "plot_satisfaction_by_outcome")
    groups = (list(table.groupby("recovery_paradox", sort=True))
              if "recovery_paradox" in table else [(None, table)])
    outcomes = [o for o in OUTCOMES if o in set(table["outcome"])]
    fig = Figure(figsize=(10.0, 3.8), layout="constrained")
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    width = 0.8 / len(groups)
    x = np.arange(len(outcomes))
    for j, (key, part) in enumerate(groups):
        rows = part.set_index("outcome").reindex(outcomes)
        mean = rows["satisfaction"].to_numpy(float)
        label = None if key is None else f"recovery paradox {'on' if key else 'off'}"
        offset = (j - (len(groups) - 1) / 2) * width
        ax.bar(x + offset, mean, width, yerr=_yerr(mean, rows["ci_low"].to_numpy(float),
                                                   rows["ci_high"].to_numpy(float)),
               capsize=3, color=f"C{j}", label=label)
        ax2.bar(x + offset, rows["p_return"].to_numpy(float), width, color=f"C{j}", label=label)
        if "served" in rows.index and key in (None, False):
            ax.axhline(rows.loc["served", "satisfaction"], color="black", ls="--", lw=1)
    for a in (ax, ax2):
        a.set_xticks(x, outcomes)
        a.grid(axis="y", alpha=0.3)
    ax.set_ylim(1, 7)
    ax.set_ylabel("mean satisfaction (1-7), 95% interval")
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("share who return")
    if len(groups) > 1:
        ax.legend(fontsize="small", loc="lower left")
    fig.suptitle(title or "Satisfaction and returns by what happened to the customer")
    return fig


# --------------------------------------------------------------------------- gaps


def plot_gaps(gaps: pd.DataFrame, title: str | None = None) -> Figure:
    """The five gaps of one run, one panel per unit (time, 1-7 points, shares).

    Parameters
    ----------
    gaps
        :func:`simlib.analysis.gaps` (``gap, measure, value, ci_low, ci_high, unit``).
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per unit with a horizontal bar per measure, coloured by gap,
        with its 95 % interval; NaN measures (inputs the scenario does not
        give) are left out.
    """
    _require(gaps, {"gap", "measure", "value", "ci_low", "ci_high", "unit"}, "plot_gaps")
    rows = gaps[gaps["value"].notna()]
    units = list(dict.fromkeys(rows["unit"]))
    if not units:
        raise ValueError("plot_gaps: every measure is NaN")
    heights = [max(2.0, 0.35 * (rows["unit"] == u).sum() + 1.0) for u in units]
    fig = Figure(figsize=(4.6 * len(units), max(heights)), layout="constrained")
    axes = fig.subplots(1, len(units), squeeze=False)[0]
    for ax, unit in zip(axes, units, strict=True):
        part = rows[rows["unit"] == unit]
        y = np.arange(len(part))
        mean = part["value"].to_numpy(float)
        ax.barh(y, mean, xerr=_yerr(mean, part["ci_low"].to_numpy(float),
                                    part["ci_high"].to_numpy(float)),
                color=[f"C{int(g) - 1}" for g in part["gap"]], capsize=3)
        ax.set_yticks(y, [f"gap {g}: {m}" for g, m in zip(part["gap"], part["measure"], strict=True)],
                      fontsize="small")
        ax.invert_yaxis()
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel(unit)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title or "The five gaps (95% intervals over replications)")
    return fig


def plot_staffing_to_standard(
    staffing: pd.DataFrame,
    standards: Mapping[str, float],
    *,
    scope: str = "system",
    metric: str = "mean_wait",
    time_unit: str | None = None,
    title: str | None = None,
) -> Figure:
    """Delivered wait against staffing, with the wait standards a manager could staff to.

    Parameters
    ----------
    staffing
        A staffing study with ``servers, scope, metric, mean, ci_low, ci_high``
        (:func:`~simlib.studies.quality.value_chain_study`).
    standards
        ``{label: wait}`` drawn as horizontal lines, e.g. management's
        standard and customers' expected wait; the fewest servers meeting
        each is marked.
    scope, metric
        The delivered measure.
    time_unit
        Appended to the axis label.
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: the delivered wait with 95 % intervals, one line per standard.
    """
    _require(staffing, {"servers", "scope", "metric", "mean", "ci_low", "ci_high"},
             "plot_staffing_to_standard")
    rows = staffing[(staffing["scope"] == scope) & (staffing["metric"] == metric)].sort_values("servers")
    if rows.empty:
        raise ValueError(f"plot_staffing_to_standard: no rows for {scope}.{metric}")
    fig = Figure(figsize=(6.0, 3.8), layout="constrained")
    ax = fig.subplots()
    x = rows["servers"].to_numpy(float)
    mean = rows["mean"].to_numpy(float)
    ax.errorbar(x, mean, yerr=_yerr(mean, rows["ci_low"].to_numpy(float),
                                    rows["ci_high"].to_numpy(float)),
                fmt="o-", capsize=3, color="black", label="delivered (95% interval)")
    for k, (label, value) in enumerate(standards.items(), start=1):
        ok = np.flatnonzero(mean <= value)
        where = f", met from {x[ok[0]]:g} servers" if ok.size else ", never met"
        ax.axhline(value, color=f"C{k}", ls="--", label=f"{label} {value:.2f}{where}")
        if ok.size:
            ax.plot(x[ok[0]], mean[ok[0]], "o", ms=12, mfc="none", color=f"C{k}")
    ax.set_xticks(x)
    ax.set_xlabel("servers")
    label = QUALITY_LABELS.get(metric, metric) + (f" ({time_unit})" if time_unit else "")
    ax.set_ylabel(f"{scope} {label}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    ax.set_title(title or "Staffing to a standard", fontsize="medium")
    return fig


def _shortfall(gap: int, values: np.ndarray) -> np.ndarray:
    """How bad a headline gap is: its sign means "better" or "worse" differently per gap."""
    if gap in (1, 2):
        return np.abs(values)  # any misjudgement or misfit of the standard
    if gap in (3, 4):
        return np.clip(values, 0, None)  # waits longer than the standard or the promise
    return np.clip(-values, 0, None)  # perceptions below expectations


def plot_gap_closing(
    study: GapClosingStudy | tuple[pd.DataFrame, pd.DataFrame],
    metrics: Sequence[str] = ("gap5", "satisfaction", "profit"),
    title: str | None = None,
) -> Figure:
    """What closing each gap does: the headline gaps of every variant and its effects.

    Parameters
    ----------
    study
        A :class:`~simlib.studies.quality.GapClosingStudy`, or its
        ``(gaps, effects)`` tables.
    metrics
        System metrics whose paired differences (variant − base) are drawn,
        one panel each (``gap5`` is the SERVQUAL score).
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Left: a table-like heat map of the headline gap per variant (rows)
        and gap (columns), annotated with the values and shaded by the
        shortfall (gaps 1-2: any difference; gaps 3-4: a wait longer than
        the standard or the promise; gap 5: perceptions below expectations);
        then one panel per metric with the difference from the base and its
        95 % interval.
    """
    gaps, effects = (study.gaps, study.effects) if isinstance(study, GapClosingStudy) else study
    _require(gaps, {"variant", "gap", "value"}, "plot_gap_closing")
    _require(effects, {"variant", "scope", "metric", "diff", "ci_low", "ci_high"},
             "plot_gap_closing")
    variants = list(dict.fromkeys(gaps["variant"]))
    wide = gaps.pivot(index="variant", columns="gap", values="value").reindex(variants)
    fig = Figure(figsize=(4.8 + 2.6 * len(metrics), 0.45 * len(variants) + 1.8),
                 layout="constrained")
    axes = fig.subplots(1, 1 + len(metrics), gridspec_kw={"width_ratios": [1.6] + [1] * len(metrics)})
    ax = axes[0]
    values = wide.to_numpy(float)
    shortfall = np.column_stack([_shortfall(int(g), values[:, j]) for j, g in enumerate(wide.columns)])
    # Shade relative to each gap's own range: the units differ between gaps.
    scale = np.nanmax(shortfall, axis=0)
    scale[~np.isfinite(scale) | (scale == 0)] = 1.0
    ax.imshow(shortfall / scale, cmap="Reds", vmin=0, vmax=1.3, aspect="auto")
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, "NaN" if np.isnan(v) else f"{v:+.2f}", ha="center", va="center",
                fontsize="small")
    ax.set_xticks(range(wide.shape[1]), [f"gap {g}" for g in wide.columns])
    ax.set_yticks(range(len(variants)), variants, fontsize="small")
    ax.set_title("headline gap per variant", fontsize="small")
    y = np.arange(len(variants))
    for a, metric in zip(axes[1:], metrics, strict=True):
        rows = (effects[(effects["scope"] == "system") & (effects["metric"] == metric)]
                .set_index("variant").reindex(variants))
        diff = rows["diff"].to_numpy(float)
        a.errorbar(diff, y, xerr=_yerr(diff, rows["ci_low"].to_numpy(float),
                                       rows["ci_high"].to_numpy(float)),
                   fmt="o", capsize=3, color="C0")
        a.axvline(0, color="grey", lw=1)
        a.set_yticks(y, [""] * len(y))
        a.set_ylim(len(variants) - 0.5, -0.5)
        a.set_title(f"Δ {QUALITY_LABELS.get(metric, metric)}", fontsize="small")
        a.grid(axis="x", alpha=0.3)
    fig.suptitle(title or "Closing the gaps: gap sizes and effects vs the base (95% paired intervals)")
    return fig


def plot_assumption_tornado(table: pd.DataFrame, quantity: str = "satisfaction") -> Figure:
    """Tornado chart of :func:`simlib.studies.quality.assumption_sensitivity`.

    One bar per assumption, from the base value to the output at the low and
    the high end of the assumption's documented range, largest swing on top.
    """
    return tornado_chart(table, QUALITY_LABELS.get(quantity, quantity))


def plot_causal_chain(study: CausalGapStudy, title: str | None = None) -> Figure:
    """The causal gap model, link by link, for every variant of a :func:`~simlib.studies.quality.causal_gap_study`.

    Parameters
    ----------
    study
        A :class:`~simlib.studies.quality.CausalGapStudy`.
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One row per variant (the base on top), one panel per link, left to
        right as the causes run: management's perceived expected wait and the
        standard it sets (gaps 1-2); the servers hired; the SOP training
        delivered; the planned, delivered and promised wait (gaps 3-4); and
        the paired change of gap 5 (SERVQUAL score) and satisfaction from the
        base with 95 % intervals.
    """
    if not isinstance(study, CausalGapStudy):
        raise TypeError(f"plot_causal_chain: expected a CausalGapStudy, got {type(study).__name__}")
    chain = study.chain
    variants = list(chain["variant"])
    y = np.arange(len(variants))
    fig = Figure(figsize=(15, 0.45 * len(variants) + 2.8), layout="constrained")
    axes = fig.subplots(1, 6, sharey=True)
    ax = axes[0]
    ax.plot(chain["perceived_wait"], y, "s", color="C1", label="perceived expected wait")
    ax.plot(chain["standard_wait"], y, "o", color="C0", label="standard")
    ax.axvline(study.customer_expected_wait, color="grey", ls="--", lw=1,
               label="customers' expected wait")
    ax.set_title("1-2 belief → standard", fontsize="small")
    ax.set_xlabel("wait")
    ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=1)
    axes[1].barh(y, chain["servers"], color="C2")
    axes[1].set_xlim(chain["servers"].min() - 1, chain["servers"].max() + 0.5)
    axes[1].set_title("standard → servers", fontsize="small")
    axes[2].barh(y, chain["training"], color="C4")
    axes[2].set_xlim(max(0.0, chain["training"].min() - 0.1), min(1.0, chain["training"].max() + 0.05))
    axes[2].set_title("reliability standard → SOP training", fontsize="small")
    ax = axes[3]
    ax.plot(chain["planned_wait"], y, "o", mfc="none", color="C0", label="planned")
    ax.plot(chain["delivered_wait"], y, "o", color="C0", label="delivered")
    ax.plot(chain["promised_wait"], y, "x", color="C3", label="promised")
    ax.set_title("3-4 delivered and promised wait", fontsize="small")
    ax.set_xlabel("wait")
    ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=3)
    for a, metric in zip(axes[4:], ("gap5", "satisfaction"), strict=True):
        rows = (study.effects[(study.effects["scope"] == "system") & (study.effects["metric"] == metric)]
                .set_index("variant").reindex(variants))
        diff = rows["diff"].to_numpy(float)
        diff[0] = 0.0 if variants[0] == "base" else diff[0]
        a.errorbar(diff, y, xerr=_yerr(diff, rows["ci_low"].to_numpy(float),
                                       rows["ci_high"].to_numpy(float)),
                   fmt="o", capsize=3, color="C0")
        a.axvline(0, color="grey", lw=1)
        a.set_title(f"5 Δ{'gap 5' if metric == 'gap5' else metric} vs base (95% CI)", fontsize="small")
    axes[0].set_yticks(y, variants, fontsize="small")
    axes[0].set_ylim(len(variants) - 0.5, -0.5)
    for a in axes:
        a.grid(axis="x", alpha=0.3)
    fig.suptitle(title or "The causal gap model: what closing a gap changes, link by link")
    return fig
