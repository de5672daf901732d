"""Figures for the survey analytics; every function returns a matplotlib Figure.

Nothing here calls ``show()``: notebooks display or save the figure.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["plot_ipa", "plot_gaps", "plot_scree", "plot_loadings", "plot_kano",
           "plot_zone_of_tolerance", "plot_realism"]

_ = matplotlib  # backend chosen by the caller


def plot_ipa(table: pd.DataFrame, *, title: str = "Importance–performance analysis") -> Figure:
    """Scatter of attributes with the quadrant cross-hairs of :func:`~simlib.servqual.ipa`."""
    fig, ax = plt.subplots(figsize=(7, 6))
    colours = {"concentrate here": "tab:red", "keep up the good work": "tab:green",
               "low priority": "tab:grey", "possible overkill": "tab:blue"}
    for q, sub in table.groupby("quadrant"):
        ax.scatter(sub["performance"], sub["importance"], label=q, color=colours.get(q, "k"))
    for name, row in table.iterrows():
        ax.annotate(str(name), (row["performance"], row["importance"]), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    ax.axvline(table.attrs.get("performance_cut", table["performance"].mean()), color="k", lw=0.8)
    ax.axhline(table.attrs.get("importance_cut", table["importance"].mean()), color="k", lw=0.8)
    ax.set_xlabel("performance (mean)")
    ax.set_ylabel("importance (mean)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_gaps(summary: pd.DataFrame, *, title: str = "Expectations vs perceptions") -> Figure:
    """Expectation and perception means with the gap, per item or dimension.

    ``summary`` is :meth:`GapScores.item_summary` or :meth:`GapScores.dimension_summary`.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, max(3, 0.28 * len(summary) + 1)),
                                   sharey=True)
    y = np.arange(len(summary))
    ax1.plot(summary["expectation"], y, "o", label="expectation E")
    ax1.plot(summary["perception"], y, "s", label="perception P")
    ax1.set_yticks(y, [str(i) for i in summary.index])
    ax1.invert_yaxis()
    ax1.set_xlabel("mean rating")
    ax1.legend(fontsize=8)
    colours = np.where(summary["gap"] < 0, "tab:red", "tab:green")
    ax2.barh(y, summary["gap"], color=colours)
    ax2.axvline(0, color="k", lw=0.8)
    ax2.set_xlabel("gap P − E")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_scree(pa: pd.DataFrame, *, title: str = "Parallel analysis") -> Figure:
    """Observed vs random eigenvalues from :func:`~simlib.servqual.parallel_analysis`."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    x = pa.index.to_numpy()
    ax.plot(x, pa["observed_pc"], "o-", label="components, observed")
    ax.plot(x, pa["random_pc"], "--", label="components, random")
    ax.plot(x, pa["observed_fa"], "s-", label="factors, observed")
    ax.plot(x, pa["random_fa"], ":", label="factors, random")
    ax.axhline(1.0, color="grey", lw=0.6)
    ax.set_xlabel("factor / component")
    ax.set_ylabel("eigenvalue")
    ax.set_title(f"{title}: {pa.attrs.get('n_factors')} factors, "
                 f"{pa.attrs.get('n_components')} components")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_loadings(loadings: pd.DataFrame, *, title: str = "Factor loadings",
                  cut: float = 0.3) -> Figure:
    """Heat map of a loading table (item x factor), values |l| ≥ ``cut`` printed."""
    fig, ax = plt.subplots(figsize=(1.2 * loadings.shape[1] + 3, 0.3 * loadings.shape[0] + 1.5))
    im = ax.imshow(loadings.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(loadings.shape[1]), loadings.columns)
    ax.set_yticks(range(loadings.shape[0]), loadings.index)
    for i in range(loadings.shape[0]):
        for j in range(loadings.shape[1]):
            v = loadings.iat[i, j]
            if abs(v) >= cut:
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, shrink=0.6)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_kano(table: pd.DataFrame, *, title: str = "Kano better–worse diagram") -> Figure:
    """Better vs |worse| coefficients of :func:`~simlib.servqual.kano`, one dot per feature."""
    fig, ax = plt.subplots(figsize=(7, 6))
    for cat, sub in table.groupby("category_name"):
        ax.scatter(-sub["worse"], sub["better"], label=cat)
    for name, row in table.iterrows():
        ax.annotate(str(name), (-row["worse"], row["better"]), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    ax.axvline(0.5, color="k", lw=0.8)
    ax.axhline(0.5, color="k", lw=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("|worse|: dissatisfaction if absent")
    ax.set_ylabel("better: satisfaction if present")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_zone_of_tolerance(zone: pd.DataFrame, *, title: str = "Zone of tolerance") -> Figure:
    """Adequate–desired band and perception per item (:func:`zone_of_tolerance`)."""
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(zone) + 1.5))
    y = np.arange(len(zone))
    ax.barh(y, zone["desired"] - zone["adequate"], left=zone["adequate"], color="0.85",
            label="zone (adequate–desired)")
    ax.plot(zone["perception"], y, "o", label="perception")
    ax.set_yticks(y, [str(i) for i in zone.index])
    ax.invert_yaxis()
    ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_realism(table: pd.DataFrame, *, title: str = "Simulated vs real surveys") -> Figure:
    """The real range of each realism statistic as a bar, real and simulated values as marks.

    ``table`` is a :func:`simlib.analysis.realism_table`: real-set columns,
    ``real low``, ``real high``, then simulated columns.
    """
    cols = list(table.columns)
    if "real low" not in cols or "real high" not in cols:
        raise ValueError("plot_realism: expected a realism_table with 'real low' and 'real high'")
    real = cols[: cols.index("real low")]
    sims = cols[cols.index("real high") + 1:]
    fig, ax = plt.subplots(figsize=(9.5, 0.45 * len(table) + 1.5))
    y = np.arange(len(table))[::-1]
    lo, hi = table["real low"].to_numpy(float), table["real high"].to_numpy(float)
    ax.barh(y, np.nan_to_num(hi - lo) + 0.004, left=np.nan_to_num(lo), height=0.5,
            color="0.85", label="real range")
    for k, c in enumerate(real):
        ax.scatter(table[c], y, marker="|", s=120, color="0.3", label="real sets" if k == 0 else None)
    markers = ["o", "s", "^", "D", "v", "P"]
    for k, c in enumerate(sims):
        ax.scatter(table[c], y + 0.12 * (k - (len(sims) - 1) / 2), marker=markers[k % len(markers)],
                   s=22, label=str(c), zorder=3)
    ax.set_yticks(y)
    ax.set_yticklabels([str(i) for i in table.index], fontsize=8)
    ax.set_xlabel("value")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig
