"""Figures for calibration: QQ plots, survival and hazard of patience, rate profiles.

Every function returns a :class:`matplotlib.figure.Figure` built without
pyplot (so nothing is shown and no global figure state is touched); a
notebook displays it or saves it to ``figures/``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simlib.calibrate.patience import ErlangACheck, PatienceFit
from simlib.calibrate.service import ServiceFit
from simlib.spec.units import SECONDS_PER_UNIT

if TYPE_CHECKING:
    from simlib.calibrate.plan import CalibratedPlan
    from simlib.calibrate.scenario import Calibration
    from simlib.calibrate.validate import Validation

__all__ = [
    "qq_plot",
    "survival_plot",
    "hazard_plot",
    "profile_plot",
    "erlang_a_plot",
    "validation_plot",
    "difference_plot",
    "agents_on_duty_plot",
    "availability_plot",
    "coverage_table_plot",
    "calibrated_plan_plot",
]

#: Seconds in an hour: log times are seconds, the axes show hours of the day.
_HOUR = SECONDS_PER_UNIT["hour"]


def qq_plot(
    fit: ServiceFit,
    dists: Sequence[str] | None = None,
    *,
    log: bool = True,
    max_points: int = 2000,
    unit: str = "s",
) -> Figure:
    """Quantile-quantile plots of the data against each fitted distribution.

    Parameters
    ----------
    fit
        Output of :func:`~simlib.calibrate.fit_service`.
    dists
        Distributions to show (default all fitted, best first).
    log
        Logarithmic axes (service times span orders of magnitude).
    max_points
        Plot at most this many evenly spaced quantiles.
    unit
        Axis label unit of the durations.
    """
    names = list(dists) if dists is not None else list(fit.table["dist"])
    fig = Figure(figsize=(3.2 * len(names), 3.4), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    x = fit.data
    idx = np.unique(np.linspace(0, x.size - 1, min(max_points, x.size)).astype(int))
    probs = (idx + 0.5) / x.size
    for ax, name in zip(axes, names, strict=True):
        d = fit.fits[name]
        theo = d.frozen().ppf(probs)
        ax.scatter(theo, x[idx], s=4, alpha=0.6)
        lo, hi = max(min(theo.min(), x.min()), 1e-9), max(theo.max(), x.max())
        ax.plot([lo, hi], [lo, hi], color="black", lw=0.8)
        if log:
            ax.set_xscale("log")
            ax.set_yscale("log")
        best = " (best)" if name == fit.best else ""
        ax.set_title(f"{name}{best}\nAIC {d.aic:.0f}, KS {d.ks:.3f}", fontsize=9)
        ax.set_xlabel(f"fitted quantile [{unit}]")
    axes[0].set_ylabel(f"observed quantile [{unit}]")
    return fig


def survival_plot(fit: PatienceFit, *, unit: str = "s", show_exponential: bool = True) -> Figure:
    """Kaplan–Meier survival of patience with its band and the exponential fit."""
    fig = Figure(figsize=(5, 3.6), layout="constrained")
    ax = fig.subplots()
    s = fit.survival
    ax.step(s["time"], s["survival"], where="post", label="Kaplan–Meier")
    ax.fill_between(s["time"], s["ci_low"], s["ci_high"], step="post", alpha=0.25)
    if show_exponential:
        t = np.linspace(0, float(s["time"].max()), 200)
        ax.plot(t, np.exp(-t / fit.mean), ls="--", label=f"exponential, mean {fit.mean:.0f} {unit}")
    ax.set_xlabel(f"patience [{unit}]")
    ax.set_ylabel("P(patience > t)")
    ax.set_ylim(0, 1.02)
    ax.legend()
    return fig


def hazard_plot(fit: PatienceFit, *, unit: str = "s") -> Figure:
    """Binned abandonment hazard with the constant hazard of the exponential MLE."""
    fig = Figure(figsize=(5, 3.6), layout="constrained")
    ax = fig.subplots()
    h = fit.hazard
    ax.bar(
        h["start"],
        h["hazard"],
        width=h["end"] - h["start"],
        align="edge",
        alpha=0.7,
        label="abandonments ÷ time at risk",
    )
    ax.axhline(fit.rate, color="black", ls="--", label=f"exponential MLE 1/{fit.mean:.0f} {unit}")
    ax.set_xlabel(f"time in queue [{unit}]")
    ax.set_ylabel(f"hazard [1/{unit}]")
    ax.legend()
    return fig


def profile_plot(
    profiles: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    per: float = SECONDS_PER_UNIT["hour"],
    per_label: str = "hour",
) -> Figure:
    """Arrival-rate profile(s) with confidence bands.

    Parameters
    ----------
    profiles
        One :func:`~simlib.calibrate.arrival_profile` table, or label → table.
    per
        Rates are shown per this many seconds (default per hour).
    per_label
        Its name on the axis.
    """
    if isinstance(profiles, pd.DataFrame):
        profiles = {"": profiles}
    fig = Figure(figsize=(7, 3.6), layout="constrained")
    ax = fig.subplots()
    for label, p in profiles.items():
        x = np.r_[p["start"].to_numpy(), p["end"].iloc[-1]] / _HOUR
        rate = np.r_[p["rate"].to_numpy(), p["rate"].iloc[-1]] * per
        ax.step(x, rate, where="post", label=label or None)
        ax.fill_between(
            x,
            np.r_[p["ci_low"], p["ci_low"].iloc[-1]] * per,
            np.r_[p["ci_high"], p["ci_high"].iloc[-1]] * per,
            step="post",
            alpha=0.2,
        )
    ax.set_xlabel("time of day [h]")
    ax.set_ylabel(f"arrivals per {per_label}")
    ax.set_xlim(0, 24)
    if any(profiles):
        ax.legend()
    return fig


def erlang_a_plot(check: ErlangACheck, *, unit: str = "s") -> Figure:
    """P(abandon) against mean wait per interval, with the line 1/mean patience."""
    fig = Figure(figsize=(5, 3.6), layout="constrained")
    ax = fig.subplots()
    t = check.table
    ax.scatter(t["mean_wait"], t["p_abandon"], s=10 + 40 * t["n"] / t["n"].max())
    x = np.linspace(0, float(t["mean_wait"].max()) * 1.05, 50)
    ax.plot(
        x,
        x / check.mean_patience,
        color="black",
        ls="--",
        label=f"E[wait] / {check.mean_patience:.0f} {unit} (patience MLE)",
    )
    ax.set_xlabel(f"mean wait [{unit}]")
    ax.set_ylabel("P(abandon)")
    ax.legend()
    return fig


#: Axis labels of the validated metrics.
_METRIC_LABELS = {
    "p_abandon": "abandonment share",
    "mean_wait": "mean wait [s]",
    "service_level": "service level",
}


def validation_plot(
    validation: Validation, metrics: Sequence[str] | None = None, *, label: str = "model"
) -> Figure:
    """Observed values per interval against the simulated band, one panel per metric.

    Parameters
    ----------
    validation
        Output of :func:`~simlib.calibrate.validate`.
    metrics
        Metrics to show (default all validated).
    label
        Legend name of the model.

    Returns
    -------
    matplotlib.figure.Figure
        Time of day [h] on the x-axis; the shaded band is the simulated
        ``level`` range of the D-day statistic, the line its mean; observed
        points inside the band are filled, points outside are red crosses;
        the title gives the coverage (intervals inside / intervals counted).
    """
    names = list(metrics) if metrics is not None else list(validation.coverage.index)
    fig = Figure(figsize=(7.5, 2.5 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    pct = f"{100 * validation.level:g}%"
    for ax, name in zip(axes, names, strict=True):
        t = validation.table[validation.table["metric"] == name]
        x = np.r_[t["start"].to_numpy(), t["end"].iloc[-1]] / _HOUR
        ax.fill_between(
            x,
            np.r_[t["band_low"], t["band_low"].iloc[-1]],
            np.r_[t["band_high"], t["band_high"].iloc[-1]],
            step="post",
            alpha=0.25,
            label=f"{label}: {pct} band of {validation.days_per_group}-day values",
        )
        ax.step(x, np.r_[t["sim_mean"], t["sim_mean"].iloc[-1]], where="post", lw=1, label=f"{label}: mean")
        mid = ((t["start"] + t["end"]) / 2 / _HOUR).to_numpy()
        shown = t["counted"].to_numpy()
        ins = shown & t["inside"].to_numpy()
        out = shown & ~t["inside"].to_numpy()
        ax.plot(mid[ins], t["observed"].to_numpy()[ins], "o", ms=4, color="black", label="observed, inside")
        ax.plot(mid[out], t["observed"].to_numpy()[out], "x", ms=5, color="tab:red", label="observed, outside")
        cov = validation.coverage.get(name, np.nan)
        n = int(t["counted"].sum())
        ax.set_title(f"{name}: {cov:.0%} of {n} intervals inside", fontsize=9)
        ax.set_ylabel(_METRIC_LABELS.get(name, name))
    axes[-1].set_xlabel("time of day [h]")
    axes[-1].set_xlim(0, 24)
    axes[0].legend(fontsize=7, loc="upper left")
    return fig


def difference_plot(table: pd.DataFrame, metrics: Sequence[str] | None = None) -> Figure:
    """Per-interval effect of a what-if with its paired confidence interval.

    Parameters
    ----------
    table
        Output of :func:`~simlib.calibrate.interval_difference`.
    metrics
        Metrics to show (default all in the table).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per metric: base and variant means per interval (time of
        day [h]) and, on a twin axis, the difference variant − base with its
        interval as error bars.
    """
    names = list(metrics) if metrics is not None else list(dict.fromkeys(table["metric"]))
    fig = Figure(figsize=(7.5, 2.5 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names, strict=True):
        t = table[table["metric"] == name]
        mid = ((t["start"] + t["end"]) / 2 / _HOUR).to_numpy()
        ax.plot(mid, t["base"], "-", color="tab:gray", label="base")
        ax.plot(mid, t["variant"], "-", color="tab:blue", label="variant")
        d = t["diff"].to_numpy()
        err = np.vstack([d - t["ci_low"].to_numpy(), t["ci_high"].to_numpy() - d])
        twin = ax.twinx()
        twin.errorbar(mid, d, yerr=err, fmt=".", color="tab:red", ms=3, lw=0.8, label="variant − base")
        twin.axhline(0, color="tab:red", lw=0.5, ls=":")
        twin.set_ylabel("difference", color="tab:red")
        ax.set_ylabel(_METRIC_LABELS.get(name, name))
        ax.legend(fontsize=7, loc="upper left")
        twin.legend(fontsize=7, loc="upper right")
    axes[-1].set_xlabel("time of day [h]")
    axes[-1].set_xlim(0, 24)
    return fig


def agents_on_duty_plot(calibrations: Mapping[str, Calibration], period: float | None = None) -> Figure:
    """Agents on duty (and, for the first calibration, agents serving) over the day.

    Parameters
    ----------
    calibrations
        ``{label: Calibration}``, e.g. the same days read with a 30- and a 5-minute overlap rule.
    period
        Seconds: each calibration's staffing is averaged onto this grid so that the readings
        compare on the same steps (default: each on its own ``staffing_period``).

    Returns
    -------
    matplotlib.figure.Figure
        Mean agents per interval over the calibration days, one step line per reading.
    """
    fig = Figure(figsize=(7, 3.4), layout="constrained")
    ax = fig.subplots()
    for i, (label, cal) in enumerate(calibrations.items()):
        staffing = cal.staffing
        grid = staffing["start"] // period * period if period else staffing["start"]
        mean = staffing.groupby(grid)[["on_duty", "busy"]].mean()
        step = period or cal.staffing_period
        x = np.r_[mean.index.to_numpy(float), mean.index[-1] + step] / _HOUR
        for col, name, line in (("on_duty", f"{label}: on duty", "-"),
                                ("busy", f"{label}: serving", "--")):
            if col == "busy" and i:
                continue
            y = mean[col].to_numpy(float)
            ax.step(x, np.r_[y, y[-1]], where="post", label=name, color=f"C{i}", ls=line)
    ax.set_xlabel("time of day [h]")
    ax.set_ylabel("agents (mean over the days)")
    ax.set_xlim(0, 24)
    ax.legend(fontsize=8)
    return fig


def availability_plot(typical: pd.DataFrame) -> Figure:
    """Agents on duty, effective agents and the rounded levels the scenario uses, over the day.

    Parameters
    ----------
    typical
        ``Calibration.typical`` (``start, end, mean_on_duty, mean_effective,
        effective_servers``; seconds since midnight).
    """
    fig = Figure(figsize=(7, 3.4), layout="constrained")
    ax = fig.subplots()
    x = np.r_[typical["start"].to_numpy(), typical["end"].iloc[-1]] / _HOUR
    for col, label, style in (
        ("mean_on_duty", "on duty (overlap rule)", {"color": "0.4"}),
        ("mean_effective", "effective (available while callers wait)", {"color": "C0"}),
        ("effective_servers", "scenario servers (rounded, agent-hours kept)", {"color": "C1", "alpha": 0.6}),
    ):
        if col in typical.columns:
            y = typical[col].to_numpy(float)
            ax.step(x, np.r_[y, y[-1]], where="post", label=label, **style)
    ax.set_xlabel("time of day [h]")
    ax.set_ylabel("agents")
    ax.set_xlim(0, 24)
    ax.legend(fontsize=8)
    return fig


def coverage_table_plot(table: pd.DataFrame) -> Figure:
    """Coverage per metric of several validations (e.g. both directions, two seeds).

    Parameters
    ----------
    table
        Columns ``run`` (label), ``metric``, ``coverage`` (0-1).
    """
    fig = Figure(figsize=(7, 3.2), layout="constrained")
    ax = fig.subplots()
    runs = list(dict.fromkeys(table["run"]))
    metrics = list(dict.fromkeys(table["metric"]))
    width = 0.8 / max(len(runs), 1)
    for i, run in enumerate(runs):
        sub = table[table["run"] == run].set_index("metric").reindex(metrics)
        ax.bar(np.arange(len(metrics)) + i * width, sub["coverage"], width, label=run)
    ax.axhline(0.8, color="k", ls="--", lw=1, label="target 80 %")
    ax.axhline(0.95, color="0.5", ls=":", lw=1, label="nominal 95 %")
    ax.set_xticks(np.arange(len(metrics)) + width * (len(runs) - 1) / 2, metrics)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of half-hours inside the band")
    ax.legend(fontsize=7, ncol=2)
    return fig


def calibrated_plan_plot(plan: CalibratedPlan, checks: Mapping[str, pd.DataFrame], *,
                         min_arrivals: float = 20.0) -> Figure:
    """A staffing plan on the calibrated model: each roster's simulated metric, and the rosters.

    Parameters
    ----------
    plan
        The :class:`~simlib.calibrate.CalibratedPlan` (its table gives the rosters drawn below).
    checks
        ``{label: CalibratedPlan.check(...) table}``, e.g. the plan and the bank's own roster.
    min_arrivals
        Intervals with fewer simulated callers a day are not drawn (their metric is noise).

    Returns
    -------
    matplotlib.figure.Figure
        Top: the target metric per interval with its 95 % interval and the target line;
        bottom: agents to roster, effective agents and the observed agents on duty. Both
        legends sit below their axes, where no data are.
    """
    fig = Figure(figsize=(8, 6.4), layout="constrained")
    ax_metric, ax_agents = fig.subplots(2, 1, sharex=True)
    target = plan.target
    drawn: list[float] = []
    for i, (label, check) in enumerate(checks.items()):
        rows = check[check["arrivals"] >= min_arrivals]
        mid = (rows["start"] + rows["end"]) / 2 / _HOUR
        drawn.extend(mid)
        ax_metric.errorbar(mid, rows["mean"], yerr=[rows["mean"] - rows["ci_low"],
                                                    rows["ci_high"] - rows["mean"]],
                           fmt="o-", ms=3, lw=1, capsize=2, color=f"C{i}", label=label)
    ax_metric.axhline(target.value, color="k", ls="--", lw=1, label=f"target {target.value:g}")
    ax_metric.set_ylabel(f"simulated {target.metric}")
    ax_metric.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.04))
    table = plan.table
    x = np.r_[table["start"].to_numpy(), table["end"].iloc[-1]] / _HOUR
    for col, label in (("agents", "plan: agents to roster"),
                       ("effective", "plan: effective agents"),
                       ("observed_on_duty", "observed: agents on duty (mean)")):
        y = table[col].to_numpy(float)
        ax_agents.step(x, np.r_[y, y[-1]], where="post", label=label)
    if drawn:
        # Both axes show the hours whose metric is drawn: the quiet night is cut off.
        ax_agents.set_xlim(min(drawn) - 0.5, max(drawn) + 0.5)
    ax_agents.set_xlabel("time of day [h]")
    ax_agents.set_ylabel("agents")
    ax_agents.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    return fig
