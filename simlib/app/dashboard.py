"""The planner dashboard: a what-if page for staffing and improvement measures.

A capacity planner picks a scenario from ``data/scenarios/``, scales its
demand, sets the staff of each shift of the first station (or asks for a
staffing plan that meets a service-level target), switches improvement
measures on and off, presses *Run* and reads the KPIs (service level, wait,
abandonment, utilisation and, where the scenario has a quality and cost
model, satisfaction, cost and profit) as a table and, when demand or staff
vary over the day, per interval as a table and a figure.

The page is served with Voilà from ``notebooks/10_planner_dashboard.ipynb``
(``make app``); every piece of logic lives here so that the notebook is one
line and the logic is unit-tested without a browser. The module is in two
layers:

* plain functions that build the scenario to run (:func:`scale_demand`,
  :func:`staff_fields`, :func:`with_staff`, :func:`build_scenario`), run it
  replication by replication (:func:`simulate_with_progress`) and render the
  results (:func:`kpi_table_html`, :func:`interval_table_html`,
  :func:`interval_figure`);
* :class:`PlannerDashboard`, the ipywidgets page that wires them together.

Invalid input (e.g. zero servers) is refused by the scenario validation and
shown in the page as its one-line message, never as a traceback. Widgets
carry stable CSS classes (``simlib-run``, ``simlib-staff-input``, …) and the
KPI table carries ``data-metric``/``data-value`` attributes, so the browser
test (``tests/test_dashboard.py``) reads numbers, not layout.

Like :mod:`simlib.app.widgets`, this module imports ipywidgets and is imported
only by notebooks, the app and tests.
"""

from __future__ import annotations

import html
import io
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
from IPython.display import display
from matplotlib.figure import Figure

from simlib.datasets import data_path
from simlib.engine import simulate
from simlib.experiments.results import Results
from simlib.planning.measures import MEASURES, apply_measures, describe_measures
from simlib.planning.staffing import PLAN_METHODS, staffing_plan
from simlib.spec.scenario import Scenario, ScenarioError, from_dict, load_scenario
from simlib.spec.targets import ServiceLevelTarget

__all__ = [
    "KPI_METRICS",
    "INTERVAL_METRICS",
    "StaffField",
    "PlannerDashboard",
    "scenario_files",
    "scale_demand",
    "staff_fields",
    "with_staff",
    "build_scenario",
    "day_interval",
    "simulate_with_progress",
    "kpi_table_html",
    "interval_table_html",
    "interval_figure",
    "planned_staff",
]

log = logging.getLogger(__name__)

#: KPIs of the summary table, in display order: metric → (label, kind);
#: ``kind`` is ``share`` (shown in %), ``time`` (scenario time unit) or ``number``.
#: Metrics a scenario does not produce (satisfaction and money need the
#: quality and economics blocks) are left out of the table.
KPI_METRICS: dict[str, tuple[str, str]] = {
    "service_level": ("Service level", "share"),
    "mean_wait": ("Mean wait", "time"),
    "p_abandon": ("Abandonment", "share"),
    "utilization": ("Utilisation", "share"),
    "satisfaction": ("Satisfaction (1-7)", "number"),
    "revenue": ("Revenue", "number"),
    "cost": ("Cost", "number"),
    "profit": ("Profit", "number"),
}

#: Per-interval KPIs (the engine records these per interval; see Results.intervals).
INTERVAL_METRICS: tuple[str, ...] = ("service_level", "mean_wait", "p_abandon", "utilization")

#: Most intervals a per-interval view shows; finer grids are coarsened.
_MAX_INTERVALS = 48

#: Most change notes listed under the inputs (a measure on many shifts makes many).
_MAX_NOTES = 12

#: Replications per iteration of the simulation-based ISA staffing plan:
#: enough for a stable estimate of P(N >= s) per interval, few enough to
#: answer within seconds on the bundled scenarios.
_ISA_REPLICATIONS = 40

_TABLE_STYLE = (
    "<style>"
    ".simlib-table{border-collapse:collapse;font-size:13px;margin:4px 0}"
    ".simlib-table th,.simlib-table td{border-bottom:1px solid #ddd;padding:3px 10px;"
    "text-align:right}"
    ".simlib-table th:first-child,.simlib-table td:first-child{text-align:left}"
    ".simlib-table thead th{border-bottom:2px solid #888}"
    "</style>"
)


# --------------------------------------------------------------------------- scenarios


def scenario_files(folder: str | Path | None = None) -> dict[str, Path]:
    """The scenario files a planner can pick, by name (file stem), sorted.

    Parameters
    ----------
    folder : str or Path, optional
        Folder of ``*.yaml`` / ``*.yml`` files; default the repository's
        ``data/scenarios`` (found next to the package, or via ``$SIMLIB_DATA``).

    Returns
    -------
    dict of str to Path
    """
    base = Path(folder) if folder is not None else data_path("scenarios")
    files = sorted([*base.glob("*.yaml"), *base.glob("*.yml")])
    return {f.stem: f for f in files}


def scale_demand(data: dict[str, Any], factor: float) -> list[str]:
    """Multiply every class's arrival rate (or profile rates) by ``factor``, in place.

    Parameters
    ----------
    data : dict
        A scenario dict (:meth:`Scenario.to_dict`); edited in place.
    factor : float
        Positive demand multiplier; 1 leaves the scenario unchanged.

    Returns
    -------
    list of str
        Notes on what could not be scaled: classes that replay a recorded
        trace of arrival times keep their arrivals (a trace is data, not a rate).

    Raises
    ------
    ValueError
        If ``factor`` is not a positive finite number.
    """
    if not (isinstance(factor, int | float) and math.isfinite(factor) and factor > 0):
        raise ValueError(f"demand scale must be a positive number, got {factor!r}")
    notes: list[str] = []
    for cls in data["classes"]:
        arrivals = cls["arrivals"]
        if "rate" in arrivals:
            arrivals["rate"] = arrivals["rate"] * factor
        elif "profile" in arrivals:
            arrivals["profile"]["rates"] = [r * factor for r in arrivals["profile"]["rates"]]
        elif factor != 1:
            notes.append(f"class {cls['name']!r} replays recorded arrivals (a trace), "
                         "which the demand scale cannot change")
    return notes


@dataclass(frozen=True)
class StaffField:
    """One staff input of the first station: constant servers, or one shift.

    Attributes
    ----------
    start, end : float or None
        The shift's observed time span; None for constant servers.
    servers : int
        Servers on duty.
    """

    start: float | None
    end: float | None
    servers: int

    def label(self, unit: str) -> str:
        """Human label, e.g. ``0-180 min`` or ``servers``."""
        if self.start is None or self.end is None:
            return "servers"
        short = {"minute": "min", "hour": "h", "second": "s"}.get(unit, unit)
        return f"{self.start:g}-{self.end:g} {short}"


def staff_fields(scenario: Scenario) -> list[StaffField]:
    """The staff inputs of the scenario's first station (one per shift, or one)."""
    station = scenario.stations[0]
    if station.shifts is None:
        assert station.servers is not None
        return [StaffField(None, None, station.servers)]
    return [StaffField(s.start, s.end, s.servers) for s in station.shifts]


def with_staff(data: dict[str, Any], fields: Sequence[StaffField]) -> None:
    """Set the first station's servers (one constant field) or shifts, in place.

    Parameters
    ----------
    data : dict
        A scenario dict; edited in place (validated later, when it is loaded).
    fields : sequence of StaffField
        One field without a time span (constant servers) or one per shift.
    """
    station = data["stations"][0]
    station.pop("servers", None)
    station.pop("shifts", None)
    if len(fields) == 1 and fields[0].start is None:
        station["servers"] = fields[0].servers
    else:
        station["shifts"] = [{"start": f.start, "end": f.end, "servers": f.servers}
                             for f in fields]


def build_scenario(
    base: Scenario,
    *,
    demand_scale: float = 1.0,
    staff: Sequence[StaffField] | None = None,
    service_level: Mapping[str, float] | None = None,
    measures: Sequence[str | tuple[str, Mapping[str, Any]]] = (),
) -> tuple[Scenario, list[str]]:
    """The scenario a dashboard run simulates, validated, and notes on it.

    Demand is scaled first, then the staff is set, then the measures are
    applied in the order given (so ``add_staff`` adds to the staff set here).

    Parameters
    ----------
    base : Scenario
        The scenario as loaded from its file.
    demand_scale : float
        Multiplier of every arrival rate (see :func:`scale_demand`).
    staff : sequence of StaffField, optional
        Servers of the first station (see :func:`with_staff`); default as in ``base``.
    service_level : mapping, optional
        ``{"threshold": t, "target": x}``: the service-level target the
        ``service_level`` KPI is measured against; default the scenario's.
    measures : sequence
        Improvement measures: names or ``(name, params)`` (:func:`simlib.planning.measures.apply_measures`).

    Returns
    -------
    scenario : Scenario
    notes : list of str
        What the page should tell the planner: unscalable traces, the values
        each measure changed and what it could not apply.

    Raises
    ------
    ScenarioError
        If the result is not a valid scenario (e.g. zero servers); the
        message is one line naming the key path.
    ValueError
        If a measure cannot be applied to this scenario, or the scale is invalid.
    """
    data = base.to_dict()
    notes = scale_demand(data, demand_scale)
    if staff is not None:
        with_staff(data, staff)
    if service_level is not None:
        data["targets"] = {**(data.get("targets") or {}), "service_level": dict(service_level)}
    scenario = from_dict(data, base_dir=base.base_dir, default_name=base.name)
    if measures:
        scenario, changes, measure_notes = apply_measures(scenario, list(measures))
        notes += [f"{c.measure}: {c.path} {_short(c.old)} → {_short(c.new)} ({c.why})"
                  for c in changes]
        notes += measure_notes
    return scenario, notes


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list) and value and all(isinstance(v, int | float) for v in value):
        return "[" + ", ".join(f"{v:.3g}" for v in value[:4]) + (", …]" if len(value) > 4 else "]")
    text = repr(value)
    return text if len(text) <= 50 else text[:47] + "..."


def day_interval(scenario: Scenario) -> float | None:
    """Interval length for per-interval KPIs, or None when nothing varies over the day.

    The shortest arrival-profile period when a class has a profile shorter
    than the horizon; otherwise, when a station works in shifts, the largest
    length that divides every shift boundary (capped at ``_MAX_INTERVALS``
    intervals); otherwise None.
    """
    periods = [c.arrivals.profile.period for c in scenario.classes
               if c.arrivals.profile is not None and c.arrivals.profile.period < scenario.horizon]
    if periods:
        period = min(periods)
    else:
        bounds = sorted({b for st in scenario.stations if st.shifts
                         for s in st.shifts for b in (s.start, s.end)} - {0.0})
        if not bounds:
            return None
        if all(float(b).is_integer() for b in bounds):
            period = float(math.gcd(*(int(b) for b in bounds)))
        else:
            period = scenario.horizon / 12
    if scenario.horizon / period > _MAX_INTERVALS:
        period = scenario.horizon / _MAX_INTERVALS
    return float(period)


def planned_staff(scenario: Scenario, method: str, service_level: Mapping[str, float],
                  seed: int = 0) -> list[StaffField]:
    """Staff fields from :func:`simlib.planning.staffing.staffing_plan` for the first station.

    Parameters
    ----------
    scenario : Scenario
        The scenario to plan for (demand already scaled).
    method : {"sipp", "lagged-sipp", "mol", "isa"}
    service_level : mapping
        ``{"threshold": t, "target": x}``: every method, ``isa`` included,
        plans for this service level in every interval.
    seed : int
        Root seed of ``isa``'s simulations.

    Returns
    -------
    list of StaffField
        One constant field when the plan has one interval, else one per
        planned shift (equal neighbouring intervals merged).
    """
    target = ServiceLevelTarget(float(service_level["threshold"]), float(service_level["target"]))
    plan = staffing_plan(scenario, method=method, target=target, replications=_ISA_REPLICATIONS,
                         seed=seed)
    fields = staff_fields(plan.scenario)
    if len(fields) == 1:  # one interval over the whole horizon: a constant staff
        return [StaffField(None, None, fields[0].servers)]
    return fields


# --------------------------------------------------------------------------- running


def simulate_with_progress(
    scenario: Scenario,
    replications: int,
    seed: int,
    *,
    interval: float | None = None,
    on_replication: Callable[[int, int], None] | None = None,
) -> Results:
    """Run replications one by one in this process, reporting each.

    Replication ``r`` is the same pure function of (scenario, seed, r) that
    :func:`simlib.run` evaluates, so the results equal
    ``simlib.run(scenario, replications, seed, interval=interval)`` exactly;
    running them here one at a time lets the page move its progress bar.

    Parameters
    ----------
    scenario : Scenario
    replications : int
        At least 1.
    seed : int
        Root seed, at least 0.
    interval : float, optional
        Also record per-interval metrics of this length.
    on_replication : callable, optional
        ``f(done, total)`` called after each replication.

    Returns
    -------
    Results
    """
    for name, value, low in (("replications", replications, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    records = []
    for r in range(int(replications)):
        records.append(simulate(scenario, int(seed), r, interval=interval))
        if on_replication is not None:
            on_replication(r + 1, int(replications))
    return Results(scenario, int(seed), records)


# --------------------------------------------------------------------------- rendering


def _fmt(value: float, kind: str) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "time":
        return f"{value:.2f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def kpi_table_html(
    results: Results,
    *,
    previous: pd.DataFrame | None = None,
    run_id: int = 0,
) -> str:
    """The system KPIs as an HTML table ``<table class="simlib-kpis">``.

    Each value cell carries ``data-metric`` and ``data-value`` (full
    precision), so tests and scripts read numbers rather than formatted text.

    Parameters
    ----------
    results : Results
    previous : pandas.DataFrame, optional
        The summary of the previous run, shown as a column for comparison.
    run_id : int
        Written as ``data-run`` on the table: it changes with every run.
    """
    unit = results.scenario.time_unit
    summary = results.summary()
    system = summary[summary["scope"] == "system"].set_index("metric")
    prev = None
    if previous is not None:
        prev = previous[previous["scope"] == "system"].set_index("metric")
    head = ["KPI", "mean", "95% interval"] + (["previous run"] if prev is not None else [])
    rows = []
    for metric, (label, kind) in KPI_METRICS.items():
        if metric not in system.index:
            continue
        row = system.loc[metric]
        name = f"{label} ({unit})" if kind == "time" else label
        cells = [
            f"<td>{html.escape(name)}</td>",
            f'<td class="simlib-value" data-metric="{metric}" data-value="{float(row["mean"])!r}">'
            f"{_fmt(row['mean'], kind)}</td>",
            f"<td>{_fmt(row['ci_low'], kind)} – {_fmt(row['ci_high'], kind)}</td>",
        ]
        if prev is not None:
            old = prev["mean"].get(metric, math.nan)
            cells.append(f'<td class="simlib-previous" data-metric="{metric}">{_fmt(old, kind)}</td>')
        rows.append(f'<tr data-metric="{metric}">{"".join(cells)}</tr>')
    n = results.n_replications
    caption = (f"{html.escape(results.scenario.name)}: whole observed period "
               f"({results.scenario.horizon:g} {html.escape(unit)}s), {n} replication"
               f"{'s' if n != 1 else ''}, seed {results.seed}")
    return (
        f'{_TABLE_STYLE}<table class="simlib-kpis simlib-table" data-run="{run_id}" '
        f'data-replications="{n}"><caption style="text-align:left">{caption}</caption>'
        f"<thead><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _interval_frame(results: Results) -> pd.DataFrame:
    """Per-interval means: one row per interval, staff and the INTERVAL_METRICS as columns.

    Waiting, service level and abandonment are the system's; utilisation and
    staff are the first (staffed) station's.
    """
    iv = results.intervals()
    station = results.scenario.stations[0]
    pick = ((iv["scope"] == "system") & iv["metric"].isin(["service_level", "mean_wait", "p_abandon"])) | (
        (iv["scope"] == station.name) & (iv["metric"] == "utilization"))
    # pivot, not pivot_table: NaN means (an interval without arrivals) must stay rows.
    table = iv[pick].pivot(index=["start", "end"], columns="metric", values="mean")
    table = table.sort_index().reset_index()
    table["staff"] = [station.servers_at(s) for s in table["start"]]
    return table[["start", "end", "staff", *[m for m in INTERVAL_METRICS if m in table.columns]]]


def interval_table_html(results: Results) -> str:
    """Per-interval KPIs as ``<table class="simlib-intervals">`` (cells carry ``data-metric``)."""
    table = _interval_frame(results)
    metrics = [m for m in INTERVAL_METRICS if m in table.columns]
    unit = results.scenario.time_unit
    head = "".join(
        f"<th>{html.escape(KPI_METRICS[m][0])}</th>" for m in metrics
    )
    rows = []
    for _, r in table.iterrows():
        cells = "".join(
            f'<td data-metric="{m}" data-value="{float(r[m])!r}">{_fmt(r[m], KPI_METRICS[m][1])}</td>'
            for m in metrics
        )
        rows.append(f'<tr data-start="{r["start"]:g}"><td>{r["start"]:g}–{r["end"]:g}</td>'
                    f'<td data-metric="staff">{int(r["staff"])}</td>{cells}</tr>')
    return (
        f'{_TABLE_STYLE}<table class="simlib-intervals simlib-table">'
        f'<caption style="text-align:left">Per interval (observed time in {html.escape(unit)}s; '
        f"staff and utilisation of {html.escape(results.scenario.stations[0].name)})</caption>"
        f"<thead><tr><th>interval</th><th>staff</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def interval_figure(results: Results) -> Figure:
    """KPIs over the day: wait, service level and abandonment, utilisation with staff.

    Points are interval means over replications with their 95% intervals
    (system scope, except utilisation, which is the first station's and is
    drawn with its scheduled staff).
    """
    scn = results.scenario
    iv = results.intervals()
    station = scn.stations[0]
    fig = Figure(figsize=(9, 6.5), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)

    def series(scope: str, metric: str) -> pd.DataFrame:
        return iv[(iv["scope"] == scope) & (iv["metric"] == metric)].sort_values("start")

    def draw(ax: Any, scope: str, metric: str, label: str, color: str, scale: float = 1.0) -> None:
        s = series(scope, metric)
        mid = (s["start"] + s["end"]).to_numpy(float) / 2
        ax.plot(mid, s["mean"] * scale, "o-", color=color, label=label, ms=3)
        ax.fill_between(mid, s["ci_low"] * scale, s["ci_high"] * scale, color=color, alpha=0.2,
                        lw=0)

    draw(axes[0], "system", "mean_wait", "mean wait", "C0")
    axes[0].set_ylabel(f"mean wait ({scn.time_unit})")
    draw(axes[1], "system", "service_level", "service level", "C2", 100)
    draw(axes[1], "system", "p_abandon", "abandonment", "C3", 100)
    if scn.service_level is not None:
        axes[1].axhline(100 * scn.service_level.target, color="black", ls="--", lw=1,
                        label=f"target (within {scn.service_level.threshold:g})")
    axes[1].set_ylabel("% of arrivals")
    axes[1].legend(fontsize="small", loc="best")
    draw(axes[2], station.name, "utilization", f"utilisation of {station.name}", "C1", 100)
    axes[2].set_ylabel("utilisation (%)")
    staff_ax = axes[2].twinx()
    grid = np.linspace(0.0, scn.horizon, 500)
    staff_ax.step(grid, [station.servers_at(t) for t in grid], where="post", color="C7",
                  label="staff")
    staff_ax.set_ylabel("staff on duty")
    staff_ax.set_ylim(bottom=0)
    lines = axes[2].get_lines() + staff_ax.get_lines()
    axes[2].legend(lines, [ln.get_label() for ln in lines], fontsize="small", loc="best")
    axes[2].set_xlabel(f"observed time ({scn.time_unit})")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(f"{scn.name}: KPIs per interval (mean and 95% interval over "
                 f"{results.n_replications} replications)", fontsize="medium")
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- the page


class PlannerDashboard:
    """The planner page: inputs on top, KPIs, per-interval figure and table below.

    Parameters
    ----------
    scenario_dir : str or Path, optional
        Folder of scenario files; default the repository's ``data/scenarios``.
    scenario : str, optional
        Scenario (file stem) selected at start; default ``call_centre`` when
        present, else the first file.

    Attributes
    ----------
    widget : ipywidgets.VBox
        The whole page; :meth:`show` displays it.
    scenario, demand, replications, seed, run_button, plan_button, method,
    target, threshold, progress, status, error, notes, kpis, intervals, plot
        The individual widgets (tests drive them directly).
    error_text : str
        The one-line message in :attr:`error`, as plain text ("" when none).
    staff_inputs : list of ipywidgets.IntText
        One per shift of the first station, or one for constant servers;
        rebuilt when the scenario changes or a staffing plan is applied.
    measure_boxes : dict of str to ipywidgets.Checkbox
        One per registered improvement measure (default parameters);
        measures that cannot apply to the scenario are disabled.
    """

    def __init__(self, scenario_dir: str | Path | None = None, scenario: str | None = None) -> None:
        self.files = scenario_files(scenario_dir)
        if not self.files:
            raise ValueError(f"no scenario files (*.yaml) in {scenario_dir or data_path('scenarios')}")
        start = scenario or ("call_centre" if "call_centre" in self.files else next(iter(self.files)))
        if start not in self.files:
            raise ValueError(f"no scenario {start!r} (have {', '.join(self.files)})")
        self.base: Scenario | None = None
        self.results: Results | None = None
        self._fields: list[StaffField] = []
        self._previous: pd.DataFrame | None = None
        self._runs = 0
        #: The message shown in the error area, as plain text ("" when none).
        self.error_text = ""

        wide = {"description_width": "initial"}
        self.scenario = widgets.Dropdown(options=list(self.files), value=None,
                                         description="Scenario", style=wide)
        self.scenario_info = widgets.HTML()
        self.demand = widgets.FloatSlider(value=1.0, min=0.5, max=2.0, step=0.05,
                                          description="Demand ×", readout_format=".2f",
                                          continuous_update=False, style=wide)
        self.demand_note = widgets.HTML()
        self.staff_box = widgets.VBox()
        self.staff_inputs: list[widgets.IntText] = []
        self.method = widgets.Dropdown(options=list(PLAN_METHODS), value="mol",
                                       description="Plan method", style=wide)
        self.target = widgets.FloatText(value=0.8, step=0.05, description="Service level ≥",
                                        style=wide, layout=widgets.Layout(width="180px"))
        self.threshold = widgets.FloatText(value=1.0, description="within", style=wide,
                                           layout=widgets.Layout(width="260px"))
        self.plan_button = widgets.Button(description="Plan staff for target", icon="calendar",
                                          tooltip="Fill the staff fields from a staffing plan "
                                                  "(sipp, lagged-sipp, mol: analytic; isa: simulated)")
        self.measure_boxes: dict[str, widgets.Checkbox] = {}
        for row in describe_measures().itertuples():
            box = widgets.Checkbox(value=False, description=row.title, indent=False,
                                   tooltip=row.mechanism, layout=widgets.Layout(width="auto"))
            box.add_class(f"simlib-measure-{row.measure}")
            self.measure_boxes[row.measure] = box
        self.replications = widgets.IntText(value=10, description="Replications", style=wide,
                                            layout=widgets.Layout(width="170px"))
        self.seed = widgets.IntText(value=1, description="Seed", style=wide,
                                    layout=widgets.Layout(width="130px"))
        self.run_button = widgets.Button(description="Run", button_style="primary", icon="play")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="Progress",
                                            style=wide)
        self.status = widgets.HTML()
        self.error = widgets.HTML()
        self.notes = widgets.HTML()
        self.kpis = widgets.HTML()
        self.intervals = widgets.HTML()
        self.plot = widgets.Image(format="png", layout=widgets.Layout(max_width="900px"))

        for w, css in [(self.scenario, "simlib-scenario"), (self.demand, "simlib-demand"),
                       (self.staff_box, "simlib-staff"), (self.method, "simlib-method"),
                       (self.target, "simlib-target"), (self.threshold, "simlib-threshold"),
                       (self.plan_button, "simlib-plan"), (self.replications, "simlib-replications"),
                       (self.seed, "simlib-seed"), (self.run_button, "simlib-run"),
                       (self.progress, "simlib-progress"), (self.status, "simlib-status"),
                       (self.error, "simlib-error"), (self.notes, "simlib-notes"),
                       (self.kpis, "simlib-kpis-box"), (self.intervals, "simlib-intervals-box"),
                       (self.plot, "simlib-plot")]:
            w.add_class(css)

        self.scenario.observe(self._on_scenario, names="value")
        self.run_button.on_click(lambda _b: self.run())
        self.plan_button.on_click(lambda _b: self.plan())
        self.widget = self._layout()
        self.scenario.value = start  # triggers _on_scenario

    # ------------------------------------------------------------------ layout

    def _layout(self) -> widgets.VBox:
        def section(title: str, *children: widgets.Widget) -> widgets.VBox:
            return widgets.VBox([widgets.HTML(f"<b>{title}</b>"), *children],
                                layout=widgets.Layout(padding="4px 12px 4px 0",
                                                      min_width="300px", flex="1 1 300px"))

        inputs = widgets.HBox(
            [
                section("1 · Scenario and demand", self.scenario, self.scenario_info,
                        self.demand, self.demand_note),
                section("2 · Staff of the first station", self.staff_box,
                        widgets.HTML("<i>or plan it for a service-level target:</i>"),
                        widgets.HBox([self.target, self.threshold]), self.method,
                        self.plan_button),
                section("3 · Improvement measures", *self.measure_boxes.values()),
                section("4 · Run", self.replications, self.seed, self.run_button,
                        self.progress, self.status),
            ],
            layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"),
        )
        page = widgets.VBox([inputs, self.error, self.notes, self.kpis, self.plot, self.intervals])
        page.add_class("simlib-dashboard")
        return page

    def show(self) -> None:
        """Display the page (in a notebook or in Voilà)."""
        display(self.widget)

    # ------------------------------------------------------------------ state

    def _set_error(self, message: str) -> None:
        self.error_text = message
        self.error.value = (
            f'<div class="simlib-error-message" style="color:#a40000;background:#fdecea;'
            f'padding:6px 10px;border-left:4px solid #a40000">{html.escape(message)}</div>'
            if message else ""
        )

    def _set_plot(self, fig: Figure | None) -> None:
        # An Image widget without data shows a broken-image icon: hide it instead.
        self.plot.value = _png(fig) if fig is not None else b""
        self.plot.layout.display = None if fig is not None else "none"

    def _set_staff(self, fields: Sequence[StaffField]) -> None:
        """Rebuild the staff inputs for these fields (one per shift, or one)."""
        self._fields = list(fields)
        unit = self.base.time_unit if self.base is not None else ""
        self.staff_inputs = []
        for i, f in enumerate(self._fields):
            box = widgets.IntText(value=f.servers, description=f.label(unit),
                                  style={"description_width": "110px"},
                                  layout=widgets.Layout(width="220px"))
            box.add_class("simlib-staff-input")
            box.add_class(f"simlib-staff-{i}")
            self.staff_inputs.append(box)
        self.staff_box.children = tuple(self.staff_inputs)

    def _on_scenario(self, change: Mapping[str, Any]) -> None:
        self.select(change["new"])

    def select(self, name: str) -> None:
        """Load scenario ``name`` and reset the inputs that depend on it.

        An invalid file leaves the page without a scenario and says why.
        """
        if self.scenario.value != name:
            self.scenario.value = name  # observed: comes back here
            return
        self._set_error("")
        self.results = None
        self._previous = None
        self.kpis.value = self.intervals.value = self.notes.value = ""
        self._set_plot(None)
        try:
            self.base = load_scenario(self.files[name])
        except (ScenarioError, ValueError, OSError) as exc:
            self.base = None
            self._set_staff([])
            self.scenario_info.value = ""
            self._set_error(f"{name}: {_one_line(exc)}")
            return
        scn = self.base
        station = scn.stations[0]
        classes = ", ".join(c.name for c in scn.classes)
        varies = "varies over the day" if day_interval(scn) else "is constant over the horizon"
        self.scenario_info.value = (
            f"<small>{html.escape(scn.description or scn.name)}<br>"
            f"Horizon {scn.horizon:g} {html.escape(scn.time_unit)}s; classes: {html.escape(classes)}; "
            f"staffed station: <b>{html.escape(station.name)}</b>; demand or staff {varies}.</small>"
        )
        traces = [c.name for c in scn.classes if c.arrivals.trace is not None]
        self.demand_note.value = (
            f"<small>Recorded arrivals ({html.escape(', '.join(traces))}) are replayed as they "
            "are: the demand scale does not change them.</small>" if traces else ""
        )
        self._set_staff(staff_fields(scn))
        self.demand.value = 1.0
        if scn.service_level is not None:
            self.target.value = scn.service_level.target
            # Rounded for reading (0.3333333333 min is 20 s); 6 digits keep the target.
            self.threshold.value = round(scn.service_level.threshold, 6)
        self.threshold.description = f"within ({scn.time_unit}s)"
        for name_, box in self.measure_boxes.items():
            box.value = False
            try:
                apply_measures(scn, [name_])
            except (ScenarioError, ValueError) as exc:
                box.disabled = True
                box.tooltip = f"Not applicable here: {_one_line(exc)}"
            else:
                box.disabled = False
                box.tooltip = MEASURES[name_].mechanism
        self.progress.value = 0
        self.status.value = ""

    def staff(self) -> list[StaffField]:
        """The staff fields with the values typed into the page."""
        unit = self.base.time_unit if self.base is not None else ""
        fields = []
        for f, box in zip(self._fields, self.staff_inputs, strict=True):
            if not isinstance(box.value, int):  # an emptied field reaches the kernel as None
                raise ValueError(f"staff {f.label(unit)}: give a whole number, got {box.value!r}")
            fields.append(StaffField(f.start, f.end, int(box.value)))
        return fields

    def service_level(self) -> dict[str, float]:
        """The service-level target typed into the page."""
        threshold = float(self.threshold.value)
        sl = self.base.service_level if self.base is not None else None
        if sl is not None and round(sl.threshold, 6) == threshold:
            threshold = sl.threshold  # the field shows it rounded; keep the file's value
        return {"threshold": threshold, "target": float(self.target.value)}

    def selected_measures(self) -> list[str]:
        """Names of the measures switched on, in registry order."""
        return [n for n, box in self.measure_boxes.items() if box.value and not box.disabled]

    def build(self) -> tuple[Scenario, list[str]]:
        """The scenario the inputs describe (see :func:`build_scenario`)."""
        if self.base is None:
            raise ValueError("no valid scenario is selected")
        return build_scenario(self.base, demand_scale=float(self.demand.value), staff=self.staff(),
                              service_level=self.service_level(),
                              measures=self.selected_measures())

    # ------------------------------------------------------------------ actions

    def plan(self) -> None:
        """Fill the staff inputs from a staffing plan for the service-level target."""
        self._set_error("")
        self.plan_button.disabled = True
        self.status.value = f"Planning staff with {html.escape(self.method.value)}…"
        try:
            if self.base is None:
                raise ValueError("no valid scenario is selected")
            # Plan for the scaled demand; measures are applied on top of the plan.
            scaled, _ = build_scenario(self.base, demand_scale=float(self.demand.value),
                                       service_level=self.service_level())
            fields = planned_staff(scaled, self.method.value, self.service_level(),
                                   seed=int(self.seed.value))
            self._set_staff(fields)
            self.status.value = (f"Staff planned with {html.escape(self.method.value)} "
                                 f"({len(fields)} field{'s' if len(fields) != 1 else ''}).")
        except (ScenarioError, ValueError) as exc:
            self.status.value = ""
            self._set_error(_one_line(exc))
        except Exception as exc:  # a page must not die on a bug: say what happened
            log.exception("staffing plan failed")
            self.status.value = ""
            self._set_error(f"Unexpected error ({type(exc).__name__}): {_one_line(exc)}")
        finally:
            self.plan_button.disabled = False

    def run(self) -> Results | None:
        """Simulate the scenario the inputs describe and show the KPIs.

        Returns the results, or None when the input was invalid (the message
        is then in :attr:`error`).
        """
        self._set_error("")
        self.run_button.disabled = True
        try:
            scn, notes = self.build()
            reps, seed = int(self.replications.value), int(self.seed.value)
            period = day_interval(scn)
            self.progress.max = max(1, reps)
            self.progress.value = 0
            self.status.value = f"Running {reps} replications…"

            def tick(done: int, total: int) -> None:
                self.progress.value = done
                self.status.value = f"Replication {done} of {total}"

            results = simulate_with_progress(scn, reps, seed, interval=period, on_replication=tick)
        except (ScenarioError, ValueError) as exc:
            self.status.value = ""
            self._set_error(_one_line(exc))
            return None
        except Exception as exc:  # a page must not die on a bug: say what happened
            log.exception("dashboard run failed")
            self.status.value = ""
            self._set_error(f"Unexpected error ({type(exc).__name__}): {_one_line(exc)}")
            return None
        finally:
            self.run_button.disabled = False
        self._runs += 1
        self.results = results
        table = kpi_table_html(results, previous=self._previous, run_id=self._runs)
        self._previous = results.summary()
        if period is not None:
            self.intervals.value = interval_table_html(results)
            self._set_plot(interval_figure(results))
        else:
            self.intervals.value = ("<small>Demand and staff are constant over the horizon: "
                                    "no per-interval view.</small>")
            self._set_plot(None)
        shown = notes[:_MAX_NOTES] + (
            [f"… and {len(notes) - _MAX_NOTES} more"] if len(notes) > _MAX_NOTES else [])
        self.notes.value = (
            "<small><b>Changes applied:</b><ul>"
            + "".join(f"<li>{html.escape(n)}</li>" for n in shown) + "</ul></small>"
            if notes else ""
        )
        # The KPI table goes last: its new data-run tells a watcher (the browser
        # test, a script) that every output of this run is on the page.
        self.kpis.value = table
        self.status.value = f"Done: run {self._runs}, {reps} replications."
        return results
