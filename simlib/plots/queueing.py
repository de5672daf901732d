"""Figures for simulation results: simulated against theory, utilisation, Little's law, KPIs.

A simulated number is an estimate: its mean over replications comes with a
confidence interval, so figures here draw simulated values as points with
error bars (the interval) and analytic values as lines. When theory lies
inside the bars, simulation and model agree; a systematic miss points to a
modelling difference (warm-up, abandonment, non-exponential times) or a bug.

Every function takes tidy tables (``simlib.studies.teaching`` studies,
:meth:`simlib.Results.summary`) and returns a :class:`matplotlib.figure.Figure`
built without pyplot, so nothing is shown, no global figure state is touched
and the module works without a display. A notebook displays the returned
figure; :func:`save_figure` writes it to ``figures/`` under a stable name.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "METRIC_LABELS",
    "simulated_vs_theory",
    "utilisation_curve",
    "littles_law",
    "summary_bars",
    "save_figure",
]

#: Axis labels of the metrics of docs/metrics.md (time in the scenario's unit).
METRIC_LABELS: dict[str, str] = {
    "arrivals": "arrivals",
    "throughput": "throughput (per time unit)",
    "p_wait": "P(wait > 0)",
    "mean_wait": "mean wait in queue",
    "asa": "average speed of answer",
    "service_level": "service level",
    "p_abandon": "P(abandon)",
    "p_blocked": "P(blocked)",
    "utilization": "utilisation",
    "mean_queue": "mean number waiting",
    "mean_in_system": "mean number in system",
    "mean_sojourn": "mean time in system",
    "mean_service": "mean service time",
}

_PARAM_LABELS = {"rho": "utilisation ρ", "servers": "number of servers"}
_SIM_STYLE = {"fmt": "o", "color": "C0", "capsize": 3, "label": "simulated (95% CI)"}
_THEORY_STYLE = {"color": "black", "lw": 1.2, "label": "theory"}


def _label(metric: str, unit: str | None = None) -> str:
    text = METRIC_LABELS.get(metric, metric)
    time_metrics = {"mean_wait", "asa", "mean_sojourn", "mean_service"}
    return f"{text} ({unit})" if unit and metric in time_metrics else text


def _errorbar(ax: Axes, x: np.ndarray, rows: pd.DataFrame, **style: object) -> None:
    """Points at the means with asymmetric bars to the interval ends."""
    mean = rows["mean"].to_numpy(float)
    # A single replication has no interval (NaN): draw the point without a bar.
    low = np.nan_to_num(mean - rows["ci_low"].to_numpy(float), nan=0.0)
    high = np.nan_to_num(rows["ci_high"].to_numpy(float) - mean, nan=0.0)
    ax.errorbar(x, mean, yerr=[low, high], **{**_SIM_STYLE, **style})  # type: ignore[arg-type]


def simulated_vs_theory(
    table: pd.DataFrame,
    x: str,
    metric: str | Sequence[str],
    *,
    target: float | Mapping[str, float] | None = None,
    xlabel: str | None = None,
    unit: str | None = None,
    title: str | None = None,
) -> Figure:
    """Simulated means with CIs (points) and theory (a line) against a parameter.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy study table with columns ``x``, ``metric``, ``mean``, ``ci_low``,
        ``ci_high`` and, optionally, ``theory`` (e.g.
        :func:`simlib.studies.teaching.staffing_study`); rows with NaN theory draw no line.
    x : str
        Column holding the parameter (``rho``, ``servers``, …).
    metric : str or sequence of str
        One metric, or several (one panel each, side by side).
    target : float or mapping, optional
        A horizontal dashed reference line (e.g. the service-level target), or
        metric → value.
    xlabel : str, optional
        Axis label for ``x`` (default derived from the column name).
    unit : str, optional
        Time unit appended to labels of time metrics (e.g. ``"min"``).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per metric, each with one error-bar series and, when theory
        exists, one theory line.
    """
    metrics = [metric] if isinstance(metric, str) else list(metric)
    missing = {x, "metric", "mean", "ci_low", "ci_high"} - set(table.columns)
    if missing:
        raise ValueError(f"simulated_vs_theory: table lacks columns {sorted(missing)}")
    fig = Figure(figsize=(4.2 * len(metrics), 3.4), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, m in zip(axes, metrics, strict=True):
        rows = table[table["metric"] == m].sort_values(x)
        if rows.empty:
            raise ValueError(f"simulated_vs_theory: no rows for metric {m!r}")
        xs = rows[x].to_numpy(float)
        _errorbar(ax, xs, rows)
        if "theory" in rows and rows["theory"].notna().any():
            ok = rows["theory"].notna().to_numpy()
            ax.plot(xs[ok], rows["theory"].to_numpy(float)[ok], **_THEORY_STYLE)
        ref = target.get(m) if isinstance(target, Mapping) else target
        if ref is not None:
            ax.axhline(ref, color="C3", ls="--", lw=1, label=f"target {ref:g}")
        ax.set_xlabel(xlabel or _PARAM_LABELS.get(x, x))
        ax.set_ylabel(_label(m, unit))
        if np.allclose(xs, np.round(xs)):
            # Integer parameters (servers) read better without fractional ticks.
            ax.set_xticks(xs)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def utilisation_curve(
    curve: pd.DataFrame,
    metric: str = "mean_wait",
    *,
    simulated: pd.DataFrame | None = None,
    ymax: float | None = None,
    unit: str | None = None,
    title: str | None = "The effect of utilisation on waiting",
) -> Figure:
    """The hockey stick: a waiting measure against utilisation, per server count.

    Parameters
    ----------
    curve : pandas.DataFrame
        Theory on a fine grid, columns ``rho, servers, metric, theory``
        (:func:`simlib.studies.teaching.utilisation_theory`); one line per server count.
    metric : str
        Metric to draw (``mean_wait``, ``p_wait``, ``mean_queue``, …).
    simulated : pandas.DataFrame, optional
        Simulated points with CIs, columns ``rho, servers, metric, mean,
        ci_low, ci_high`` (:func:`simlib.studies.teaching.utilisation_study`); one
        error-bar series per server count, coloured like its line.
    ymax : float, optional
        Upper y limit; the curve explodes near ``rho = 1``, so a cap keeps
        the bend readable.
    unit : str, optional
        Time unit for the y label (e.g. ``"mean service times"``).
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: a line per server count plus optional error-bar series.
    """
    fig = Figure(figsize=(5.2, 3.8), layout="constrained")
    ax = fig.subplots()
    rows = curve[curve["metric"] == metric]
    if rows.empty:
        raise ValueError(f"utilisation_curve: no theory rows for metric {metric!r}")
    colours = {}
    for i, (c, grp) in enumerate(rows.groupby("servers", sort=True)):
        grp = grp.sort_values("rho")
        colours[c] = f"C{i}"
        ax.plot(grp["rho"], grp["theory"], color=colours[c], lw=1.5, label=f"theory, c = {c}")
    if simulated is not None:
        sim = simulated[simulated["metric"] == metric]
        for c, grp in sim.groupby("servers", sort=True):
            grp = grp.sort_values("rho")
            _errorbar(
                ax,
                grp["rho"].to_numpy(float),
                grp,
                color=colours.get(c, "C7"),
                label=f"simulated, c = {c} (95% CI)",
            )
    ax.set_xlabel(_PARAM_LABELS["rho"])
    ax.set_ylabel(_label(metric, unit))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, ymax)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    if title:
        ax.set_title(title)
    return fig


def littles_law(
    table: pd.DataFrame,
    x: str = "lambda_wq",
    y: str = "mean_queue",
    *,
    label: str = "label",
    title: str | None = "Little's law: L = λW",
) -> Figure:
    """Time-average number against arrival rate × mean time, with the line y = x.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per run or replication (:func:`simlib.studies.teaching.littles_law_table`).
    x, y : str
        Columns for ``λW`` and ``L``: ``lambda_wq``/``mean_queue`` (queue) or
        ``lambda_w``/``mean_in_system`` (whole system).
    label : str
        Column grouping the points into series (one colour each); ignored
        when absent.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: one scatter series per label and the diagonal line.
    """
    fig = Figure(figsize=(4.6, 4.2), layout="constrained")
    ax = fig.subplots()
    groups = table.groupby(label, sort=False) if label in table else [(None, table)]
    for name, grp in groups:
        ax.scatter(grp[x], grp[y], s=16, alpha=0.8, label=None if name is None else str(name))
    hi = float(np.nanmax(np.r_[table[x].to_numpy(float), table[y].to_numpy(float)]))
    lo = min(0.0, float(np.nanmin(np.r_[table[x].to_numpy(float), table[y].to_numpy(float)])))
    ax.plot([lo, hi * 1.05], [lo, hi * 1.05], color="black", lw=1, label="y = x")
    ax.set_xlabel(f"arrival rate × {'mean wait' if x == 'lambda_wq' else 'mean time'}  (λW)")
    ax.set_ylabel(_label(y) + "  (L)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return fig


def summary_bars(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    scopes: Sequence[str] | None = None,
    *,
    theory: Mapping[str, float] | None = None,
    title: str | None = None,
) -> Figure:
    """A compact KPI figure: one panel per metric, one bar per scope, CI whiskers.

    Parameters
    ----------
    summary : pandas.DataFrame
        :meth:`simlib.Results.summary` (``scope, metric, mean, ci_low, ci_high``).
    metrics : sequence of str
        Metrics to show, one panel each.
    scopes : sequence of str, optional
        Scopes to show, in this order; default every scope in the summary.
    theory : mapping, optional
        Metric → value drawn as a dashed reference line across the panel.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        ``len(metrics)`` axes with ``len(scopes)`` bars each.
    """
    scopes = list(scopes) if scopes is not None else list(dict.fromkeys(summary["scope"]))
    ncol = min(len(metrics), 4)
    nrow = -(-len(metrics) // ncol)
    fig = Figure(figsize=(2.6 * ncol + 0.4, 2.6 * nrow + 0.3), layout="constrained")
    axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
    table = summary.set_index(["scope", "metric"])
    for ax, m in zip(axes, metrics, strict=False):
        rows = table.reindex([(s, m) for s in scopes])
        mean = rows["mean"].to_numpy(float)
        err = [
            np.nan_to_num(mean - rows["ci_low"].to_numpy(float), nan=0.0),
            np.nan_to_num(rows["ci_high"].to_numpy(float) - mean, nan=0.0),
        ]
        pos = np.arange(len(scopes))
        ax.bar(pos, mean, yerr=err, capsize=3, color=[f"C{i}" for i in range(len(scopes))])
        if theory is not None and m in theory:
            ax.axhline(theory[m], color="black", ls="--", lw=1, label="theory")
            ax.legend(fontsize="x-small")
        ax.set_xticks(
            pos,
            scopes,
            rotation=30 if len(scopes) > 3 else 0,
            ha="right" if len(scopes) > 3 else "center",
        )
        ax.set_title(_label(m), fontsize="medium")
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes, e.g. for ``IPython.display.Image(data=...)``.

    Rendering to bytes does not depend on matplotlib's backend, so a figure
    shown this way appears as an image in a notebook, an ipywidgets
    ``Output`` or Voilà even where the inline backend was never activated
    (where a bare ``Figure`` would print as ``<Figure size ...>``).
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def save_figure(fig: Figure, name: str, folder: str | Path = "figures", dpi: int = 120) -> Path:
    """Write a figure as PNG under a stable name, creating the folder.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to write.
    name : str
        File name without folder, e.g. ``"01_mm1_vs_theory"``; ``.png`` is
        appended when missing. Letters, digits, ``_ . -`` only, so names stay
        stable and portable.
    folder : str or Path
        Target folder (created with parents if needed).
    dpi : int
        Resolution.

    Returns
    -------
    pathlib.Path
        Path of the written file.
    """
    if not _SAFE_NAME.match(name):
        raise ValueError(f"save_figure: name must be a plain file name, got {name!r}")
    path = Path(folder) / (name if name.lower().endswith(".png") else f"{name}.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    # No Software entry: a matplotlib upgrade alone then does not change the file.
    fig.savefig(path, format="png", dpi=dpi, metadata={"Software": None})
    return path
