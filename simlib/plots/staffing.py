"""Figures for staffing plans, their simulated checks, cost curves and tornado charts.

A time-varying plan is read in two panels: the demand (arrival rate and the
offered load each method staffs for, showing how MOL lags the arrivals) and
the servers per interval. Its check by simulation draws each interval's
simulated delay probability or service level with its confidence interval
against the target, which is how the SIPP failure of Green, Kolesar and Whitt
(2007) becomes visible. Cost curves stack staff cost against the costs of
poor service and mark the cost-optimal and the service-level staffing. A
tornado chart ranks factors by how far the result swings between their low
and high values.

Every function returns a :class:`matplotlib.figure.Figure` built without
pyplot (nothing is shown; no global state); save it with
:func:`simlib.plots.queueing.save_figure`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = [
    "analytic_staffing_figure",
    "cost_benefit_figure",
    "cost_curve_figure",
    "plan_check_figure",
    "plan_figure",
    "tornado_chart",
]


def _steps(table: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.append(table["start"].to_numpy(), table["end"].iloc[-1])
    y = table[column].to_numpy(dtype=float)
    return x, np.append(y, y[-1])


def plan_figure(plans: Mapping[str, Any], time_unit: str = "") -> Figure:
    """Demand and staffing of one or more plans over the day.

    Parameters
    ----------
    plans : mapping
        ``{label: StaffingPlan}``.
    time_unit : str
        Axis label unit.

    Returns
    -------
    matplotlib.figure.Figure
        Top: arrival rate x mean service (dashed, the SIPP load) and each
        plan's offered load; bottom: servers per interval.
    """
    fig = Figure(figsize=(9, 6), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    for i, (label, plan) in enumerate(plans.items()):
        x, load = _steps(plan.table, "offered_load")
        top.step(x, load, where="post", color=f"C{i}", label=f"{label} load")
        x, n = _steps(plan.table, "servers")
        bottom.step(x, n, where="post", color=f"C{i}", label=label)
    top.set_ylabel("offered load (Erlangs)")
    top.legend(fontsize=8)
    bottom.set_ylabel("servers")
    bottom.set_xlabel(f"time{f' ({time_unit})' if time_unit else ''}")
    bottom.legend(fontsize=8)
    return fig


def plan_check_figure(checks: Mapping[str, pd.DataFrame], metric: str | None = None,
                      target: float | None = None, band: float | None = None) -> Figure:
    """Simulated per-interval metric of each plan with its confidence interval.

    Parameters
    ----------
    checks : mapping
        ``{label: StaffingPlan.check(...) table}``.
    metric : str, optional
        Metric to draw (default: the target metric, i.e. the rows with a target).
    target : float, optional
        Target line (default: read from the check table).
    band : float, optional
        Draws ``target ± band`` as a shaded band.
    """
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    for i, (label, chk) in enumerate(checks.items()):
        m = metric or chk.loc[chk["target"].notna(), "metric"].iloc[0]
        rows = chk[chk["metric"] == m]
        mid = (rows["start"] + rows["end"]) / 2
        offset = (i - (len(checks) - 1) / 2) * 0.08 * float((rows["end"] - rows["start"]).iloc[0])
        ax.errorbar(mid + offset, rows["mean"], yerr=[rows["mean"] - rows["ci_low"],
                                                      rows["ci_high"] - rows["mean"]],
                    fmt="o-", ms=3, lw=1, capsize=2, color=f"C{i}", label=label)
        if target is None and rows["target"].notna().any():
            target = float(rows["target"].dropna().iloc[0])
        metric = m
    if target is not None:
        ax.axhline(target, color="black", lw=1, ls="--", label="target")
        if band:
            ax.axhspan(target - band, target + band, color="grey", alpha=0.15)
    ax.set_xlabel("time")
    ax.set_ylabel(f"simulated {metric} per interval (95% CI)")
    ax.legend(fontsize=8)
    return fig


def cost_curve_figure(curve: Any, currency: str = "") -> Figure:
    """Cost components and total (with CIs) against staffing, optimal levels marked.

    Parameters
    ----------
    curve : CostCurve
        From :func:`simlib.planning.costs.cost_curve`.
    currency : str
        Label of the money unit.
    """
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    t = curve.table
    for comp, style in [("staff", "-"), ("waiting", "-"), ("abandonment", "-"),
                        ("lost", "-"), ("total", "-")]:
        rows = t[t["quantity"] == comp]
        if comp != "total" and (rows["mean"].abs() < 1e-12).all():
            continue
        lw = 2.5 if comp == "total" else 1.2
        ax.plot(rows["servers"], rows["mean"], style, lw=lw, label=comp,
                color="black" if comp == "total" else None)
        ax.fill_between(rows["servers"], rows["ci_low"], rows["ci_high"], alpha=0.15,
                        color="black" if comp == "total" else None)
    ax.axvline(curve.cost_optimal, color="C3", ls="--", label=f"cost-optimal: {curve.cost_optimal}")
    if curve.service_level_optimal is not None:
        ax.axvline(curve.service_level_optimal, color="C2", ls=":",
                   label=f"meets service level: {curve.service_level_optimal}")
    ax.set_xlabel(f"servers at {curve.station}")
    ax.set_ylabel(f"cost per horizon{f' ({currency})' if currency else ''}")
    ax.legend(fontsize=8)
    return fig


def analytic_staffing_figure(table: pd.DataFrame, target: float | None = None,
                             currency: str = "") -> Figure:
    """Service level, abandonment and hourly cost against servers (from
    :func:`simlib.planning.costs.analytic_cost_curve`)."""
    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    n = table["servers"]
    left.plot(n, table["service_level"], "o-", label="service level")
    left.plot(n, table["p_abandon"], "s-", label="P(abandon)")
    left.plot(n, table["utilization"], "^-", label="utilisation")
    if target is not None:
        left.axhline(target, color="black", ls="--", lw=1, label="target")
        ok = table[table["service_level"] >= target]
        if len(ok):
            left.axvline(int(ok["servers"].min()), color="C2", ls=":")
    left.set_xlabel("servers")
    left.set_ylim(0, 1.02)
    left.legend(fontsize=8)
    finite = table[np.isfinite(table["total"])]
    for comp in ("staff", "waiting", "abandonment", "lost", "total"):
        if comp in finite and (comp == "total" or finite[comp].abs().sum() > 0):
            right.plot(finite["servers"], finite[comp], lw=2.5 if comp == "total" else 1.2,
                       label=comp, color="black" if comp == "total" else None)
    if len(finite):
        best = int(finite.loc[finite["total"].idxmin(), "servers"])
        right.axvline(best, color="C3", ls="--", label=f"cost-optimal: {best}")
    right.set_xlabel("servers")
    right.set_ylabel(f"cost per hour{f' ({currency})' if currency else ''}")
    right.legend(fontsize=8)
    return fig


def tornado_chart(table: pd.DataFrame, quantity: str = "") -> Figure:
    """Horizontal bars from the base value to the value at each factor's low and high.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`simlib.planning.measures.tornado` (largest swing first).
    quantity : str
        Axis label.
    """
    t = table.iloc[::-1]
    fig = Figure(figsize=(8, 0.5 * len(t) + 1.5), layout="constrained")
    ax = fig.subplots()
    base = float(t["base"].iloc[0])
    y = np.arange(len(t))
    ax.barh(y, t["at_low"] - base, left=base, color="C0", label="low value")
    ax.barh(y, t["at_high"] - base, left=base, color="C1", label="high value")
    ax.axvline(base, color="black", lw=1)
    ax.set_yticks(y, [f"{f} [{lo} … {hi}]" for f, lo, hi in zip(t["factor"], t["low"], t["high"],
                                                                  strict=True)])
    ax.set_xlabel(quantity or "result")
    ax.legend(fontsize=8)
    return fig


def cost_benefit_figure(table: pd.DataFrame, currency: str = "") -> Figure:
    """Saving (paired 95% CI), investment and net benefit per variant (from
    :func:`simlib.planning.measures.cost_benefit`)."""
    t = table[table["variant"] != "base"]
    fig = Figure(figsize=(8, 0.6 * len(t) + 1.5), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(t))
    ax.barh(y - 0.2, t["saving"], height=0.4, color="C2", label="saving (95% CI)",
            xerr=[t["saving"] - t["saving_low"], t["saving_high"] - t["saving"]], capsize=3)
    ax.barh(y + 0.2, t["net_benefit"], height=0.4, color="C0", label="net of investment")
    ax.axvline(0, color="black", lw=1)
    ax.set_yticks(y, list(t["variant"]))
    ax.set_xlabel(f"per horizon{f' ({currency})' if currency else ''}")
    ax.legend(fontsize=8)
    return fig
