"""The planner dashboard: a what-if page for staffing and improvement measures.

A capacity planner picks a scenario from ``data/scenarios/``, scales its
demand, sets the staff of every shift of every station (or asks for a
staffing plan that meets the service-level target shown on the page),
switches improvement measures on and off, presses *Run* and reads the KPIs
(service level, waits, abandonment, utilisation and, where the scenario has
a quality and cost model, satisfaction, cost and profit) and an interval
grid in clock time: volume, handling time, required and scheduled agents,
over/under, service level, ASA, abandonment, occupancy, shrinkage, cost and
whether the target was met, downloadable as CSV or an Excel workbook.

Planners' units. Times of day are clock times (``09:00-10:00``) counted
from the *day starts at* field (default :data:`DEFAULT_DAY_START`, or
midnight when the horizon is a day or longer). Waits are shown in seconds
(grid) and m:ss (KPIs) whatever the scenario's time unit; the service-level
threshold is entered and reported in seconds and the target in percent.
Cost needs no economics block: agents are priced per paid hour and
abandonments per contact at :data:`DEFAULT_COSTS` (changeable on the page);
paid agents are the scheduled (on-duty) agents grossed up for the
shrinkage entered, ``scheduled / (1 - shrinkage)``.

Limits. Replications are capped at :data:`MAX_REPLICATIONS` and a run stops
after :data:`MAX_RUN_SECONDS` with the replications finished so far (the
page says so), so that nobody can tie the page up for hours; both are
arguments of :class:`PlannerDashboard`.

The page is served with Voilà from ``notebooks/10_planner_dashboard.ipynb``
(``make app``); every piece of logic lives here so that the notebook is one
line and the logic is unit-tested without a browser. The module is in two
layers:

* plain functions that build the scenario to run (:func:`scale_demand`,
  :func:`staff_fields`, :func:`with_staff`, :func:`build_scenario`,
  :func:`parse_staff`), run it replication by replication
  (:func:`simulate_with_progress`) and render the results
  (:func:`kpi_table_html`, :func:`interval_grid`, :func:`grid_html`,
  :func:`interval_figure`);
* :class:`PlannerDashboard`, the ipywidgets page that wires them together.

Invalid input (``14.5`` agents, zero servers, a target of 150%) is refused
with a one-line message in the page, never a traceback and never a silent
rounding. Widgets carry stable CSS classes (``simlib-run``,
``simlib-staff-input``, ...) and tables carry ``data-metric``/``data-value``
attributes, so the browser test (``tests/app/test_dashboard.py``) reads
numbers, not layout.

Like :mod:`simlib.app.widgets`, this module imports ipywidgets and is imported
only by notebooks, the app and tests.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
from IPython.display import display
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from simlib.datasets import data_path
from simlib.engine import simulate
from simlib.experiments.capacity import offered_loads
from simlib.experiments.results import Results
from simlib.planning.measures import MEASURES, apply_measures, describe_measures
from simlib.planning.staffing import PLAN_METHODS, staffing_plan
from simlib.spec.economics import Economics
from simlib.spec.edits import scale_demand, set_service_level, set_staffing
from simlib.spec.scenario import Scenario, ScenarioError, from_dict, load_scenario
from simlib.spec.targets import ServiceLevelTarget
from simlib.spec.units import SECONDS_PER_UNIT, unit_name

__all__ = [
    "DEFAULT_COSTS",
    "DEFAULT_DAY_START",
    "GRID_COLUMNS",
    "KPI_METRICS",
    "MAX_REPLICATIONS",
    "MAX_RUN_SECONDS",
    "Clock",
    "StaffField",
    "PlannerDashboard",
    "scenario_files",
    "scale_demand",
    "staff_fields",
    "station_staff",
    "with_staff",
    "build_scenario",
    "parse_staff",
    "day_interval",
    "grid_interval",
    "simulate_with_progress",
    "kpi_table_html",
    "interval_grid",
    "grid_html",
    "grid_csv",
    "grid_xlsx",
    "interval_figure",
    "planned_staff",
]

log = logging.getLogger(__name__)

#: KPIs of the summary table, in display order: metric -> (label, kind);
#: ``kind`` is ``share`` (shown in %), ``wait`` (shown as m:ss) or ``number``.
#: Metrics a scenario does not produce (satisfaction and money need the
#: quality and economics blocks) are left out of the table.
KPI_METRICS: dict[str, tuple[str, str]] = {
    "service_level": ("Service level", "share"),
    "asa": ("ASA (m:ss)", "wait"),
    "mean_wait": ("Mean wait, all arrivals (m:ss)", "wait"),
    "p_abandon": ("Abandonment", "share"),
    "utilization": ("Occupancy", "share"),
    "satisfaction": ("Satisfaction (1-7)", "number"),
    "revenue": ("Revenue", "number"),
    "cost": ("Cost (economics block)", "number"),
    "profit": ("Profit", "number"),
}

#: Columns of the interval grid (and of its CSV), in order.
GRID_COLUMNS: tuple[str, ...] = (
    "interval", "start", "end", "volume", "aht_s", "required", "scheduled", "over_under",
    "service_level", "asa_s", "abandonment", "occupancy", "shrinkage", "paid_agents", "cost",
    "target_met",
)

#: Column headings of the grid as the page shows them.
_GRID_LABELS: dict[str, str] = {
    "interval": "Interval", "volume": "Volume", "aht_s": "AHT (s)", "required": "Required",
    "scheduled": "Scheduled", "over_under": "Over/under", "service_level": "SL",
    "asa_s": "ASA (s)", "abandonment": "Abandon", "occupancy": "Occupancy",
    "shrinkage": "Shrinkage", "paid_agents": "Paid agents", "cost": "Cost",
    "target_met": "Target met",
}

#: Default prices (money units of your choice) when a scenario has no economics
#: block: 25 per paid agent-hour, 3 per abandoned contact, waiting not priced.
DEFAULT_COSTS = Economics(wage_per_server_hour=25.0, cost_per_abandonment=3.0)

#: Clock time at which the observed period starts when the horizon is shorter
#: than a day (a day-long or longer horizon starts at midnight).
DEFAULT_DAY_START = "08:00"

#: Most replications one run may ask for.
MAX_REPLICATIONS = 200

#: A run stops after this many seconds of simulation with the replications done.
MAX_RUN_SECONDS = 60.0

#: Most intervals a per-interval view shows; finer grids are coarsened.
_MAX_INTERVALS = 48

#: Most change notes listed under the inputs (a measure on many shifts makes many).
_MAX_NOTES = 12

#: Replications per iteration of the simulation-based ISA staffing plan:
#: enough for a stable estimate per interval, few enough to answer within
#: seconds on the bundled scenarios.
_ISA_REPLICATIONS = 40


_TABLE_STYLE = (
    "<style>"
    ".simlib-table{border-collapse:collapse;font-size:13px;margin:4px 0}"
    ".simlib-table th,.simlib-table td{border-bottom:1px solid #ddd;padding:3px 8px;"
    "text-align:right;white-space:nowrap}"
    ".simlib-table th:first-child,.simlib-table td:first-child{text-align:left}"
    ".simlib-table thead th{border-bottom:2px solid #888;position:sticky;top:0;background:#fff}"
    ".simlib-grid-scroll{max-width:100%;overflow-x:auto}"
    ".simlib-miss{color:#a40000;font-weight:bold}"
    ".simlib-dashboard{max-width:100%;box-sizing:border-box}"
    ".simlib-invalid input{border:2px solid #a40000 !important;background:#fdecea}"
    ".simlib-dashboard .widget-image{max-width:100%;height:auto}"
    # Flex items do not shrink below their content by default (min-width: auto), so a
    # wide table would widen the page on a phone instead of scrolling inside its box.
    ".simlib-dashboard,.simlib-dashboard .widget-box,.simlib-dashboard .widget-html,"
    ".simlib-dashboard .widget-html-content{min-width:0;max-width:100%}"
    ".simlib-grid-box .widget-html-content,.simlib-kpis-box .widget-html-content"
    "{overflow-x:auto}"
    "</style>"
)


# --------------------------------------------------------------------------- units


def seconds_per_unit(time_unit: str) -> float:
    """Seconds in one scenario time unit (``minute`` -> 60)."""
    # simlib.spec.units is the one table of units; "mins" or "hrs" are read as their singular
    key = unit_name(time_unit) or unit_name(time_unit.strip().lower().rstrip("s"))
    if key is None:
        raise ValueError(f"unknown time unit {time_unit!r} (known: {', '.join(SECONDS_PER_UNIT)})")
    return SECONDS_PER_UNIT[key]


def _mmss(seconds: float) -> str:
    """``83.4`` -> ``1:23``; an hour or more -> ``h:mm:ss``."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    total = int(round(max(seconds, 0.0)))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@dataclass(frozen=True)
class Clock:
    """Clock times of observed scenario time.

    Attributes
    ----------
    start : float
        Minutes after midnight at which observed time 0 falls.
    unit_seconds : float
        Seconds in one scenario time unit.
    """

    start: float
    unit_seconds: float

    @classmethod
    def parse(cls, text: str, time_unit: str) -> Clock:
        """From ``HH:MM`` (e.g. ``08:30``); a one-line ``ValueError`` otherwise."""
        m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text or "")
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise ValueError(f"day starts at: give a clock time HH:MM (e.g. 08:00), got {text!r}")
        return cls(60.0 * int(m.group(1)) + int(m.group(2)), seconds_per_unit(time_unit))

    def label(self, t: float, *, end: bool = False) -> str:
        """``HH:MM`` of observed time ``t``; later days get ``+1d``, ``+2d``, ...

        With ``end=True`` a time at midnight closes the day before (``24:00``).
        """
        minutes = int(round(self.start + t * self.unit_seconds / 60.0))
        day, rest = divmod(minutes, 24 * 60)
        if end and rest == 0 and minutes > 0:
            day, rest = day - 1, 24 * 60
        text = f"{rest // 60:02d}:{rest % 60:02d}"
        return text if day == 0 else f"{text} +{day}d"

    def span(self, a: float, b: float) -> str:
        """``16:30–17:30``; ``23:00–24:00`` for the last hour of a day."""
        return f"{self.label(a)}–{self.label(b, end=True)}"


def default_day_start(scenario: Scenario) -> str:
    """:data:`DEFAULT_DAY_START`, or ``00:00`` when the horizon is a day or longer."""
    hours = scenario.horizon * seconds_per_unit(scenario.time_unit) / 3600.0
    return "00:00" if hours >= 24 - 1e-9 else DEFAULT_DAY_START


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


@dataclass(frozen=True)
class StaffField:
    """One staff input of a station: constant servers, or one shift.

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

    def label(self, clock: Clock | None = None) -> str:
        """Human label: ``09:00–12:00`` with a clock, else ``0-180``; ``all day`` when constant."""
        if self.start is None or self.end is None:
            return "all day"
        if clock is not None:
            return clock.span(self.start, self.end)
        return f"{self.start:g}-{self.end:g}"


def staff_fields(scenario: Scenario, station: str | None = None) -> list[StaffField]:
    """The staff inputs of one station (default the first): one per shift, or one."""
    st = scenario.station(station) if station is not None else scenario.stations[0]
    if st.shifts is None:
        assert st.servers is not None
        return [StaffField(None, None, st.servers)]
    return [StaffField(s.start, s.end, s.servers) for s in st.shifts]


def station_staff(scenario: Scenario) -> dict[str, list[StaffField]]:
    """The staff inputs of every station, by station name (scenario order)."""
    return {st.name: staff_fields(scenario, st.name) for st in scenario.stations}


def with_staff(data: dict[str, Any], fields: Sequence[StaffField],
               station: str | None = None) -> None:
    """Set one station's servers (one constant field) or shifts, in place.

    Parameters
    ----------
    data : dict
        A scenario dict; edited in place (validated later, when it is loaded).
    fields : sequence of StaffField
        One field without a time span (constant servers) or one per shift.
    station : str, optional
        The station's name; default the first station.
    """
    stations = data["stations"]
    st = stations[0] if station is None else next(s for s in stations if s["name"] == station)
    if len(fields) == 1 and fields[0].start is None:
        set_staffing(st, fields[0].servers)
    else:
        set_staffing(st, [{"start": f.start, "end": f.end, "servers": f.servers} for f in fields])


def parse_staff(text: Any, where: str) -> int:
    """A staff count typed into the page: a whole number >= 0, or a one-line ``ValueError``.

    ``"14.5"`` is refused (an integer field would silently read it as 145),
    ``"14"`` and ``" 14 "`` give 14.
    """
    value = str(text).strip() if text is not None else ""
    if not re.fullmatch(r"\d+", value):
        raise ValueError(f"{where}: give a whole number of agents (0, 1, 2, ...), got {value!r}")
    return int(value)


def build_scenario(
    base: Scenario,
    *,
    demand_scale: float = 1.0,
    staff: Mapping[str, Sequence[StaffField]] | Sequence[StaffField] | None = None,
    service_level: ServiceLevelTarget | Mapping[str, float] | None = None,
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
    staff : mapping or sequence of StaffField, optional
        Staff by station name (see :func:`with_staff`), or the first
        station's fields; stations not given keep the staff of ``base``.
    service_level : ServiceLevelTarget or mapping, optional
        The target the ``service_level`` KPI is measured against (threshold
        in the scenario's time unit); default the scenario's.
    measures : sequence
        Improvement measures: names or ``(name, params)``
        (:func:`simlib.planning.measures.apply_measures`).

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
        by_station = staff if isinstance(staff, Mapping) else {base.stations[0].name: staff}
        for name, fields in by_station.items():
            with_staff(data, fields, name)
    if service_level is not None:
        set_service_level(data, service_level if isinstance(service_level, Mapping) else
                          {"threshold": service_level.threshold, "target": service_level.target})
    scenario = from_dict(data, base_dir=base.base_dir, default_name=base.name,
                         allow_paths=base.allow_paths)
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


def grid_interval(scenario: Scenario) -> float:
    """Interval of the grid: :func:`day_interval`, else one hour (at most ``_MAX_INTERVALS``)."""
    period = day_interval(scenario)
    if period is None:
        period = 3600.0 / seconds_per_unit(scenario.time_unit)
        if scenario.horizon / period > _MAX_INTERVALS:
            period = scenario.horizon / _MAX_INTERVALS
        period = min(period, scenario.horizon)
    return float(period)


def planned_staff(scenario: Scenario, method: str, target: ServiceLevelTarget,
                  station: str | None = None, seed: int = 0) -> list[StaffField]:
    """Staff fields from :func:`simlib.planning.staffing.staffing_plan` for one station.

    Parameters
    ----------
    scenario : Scenario
        The scenario to plan for (demand already scaled).
    method : {"sipp", "lagged-sipp", "mol", "isa"}
    target : ServiceLevelTarget
        The target the page shows (threshold in the scenario's time unit);
        every method, ``isa`` included, plans for it in every interval.
    station : str, optional
        Default the first station.
    seed : int
        Root seed of ``isa``'s simulations.

    Returns
    -------
    list of StaffField
        One constant field when the plan has one interval, else one per
        planned shift (equal neighbouring intervals merged).
    """
    plan = staffing_plan(scenario, method=method, target=target, station=station,
                         replications=_ISA_REPLICATIONS, seed=seed)
    fields = staff_fields(plan.scenario, plan.station)
    if len(fields) == 1:  # one interval over the whole horizon: a constant staff
        return [StaffField(None, None, fields[0].servers)]
    return fields


def _required(scenario: Scenario, station: str, method: str, target: ServiceLevelTarget,
              period: float) -> tuple[np.ndarray | None, str]:
    """Agents a staffing method requires per grid interval, and a note on how (or why not)."""
    analytic = method if method != "isa" else "mol"
    try:
        plan = staffing_plan(scenario, method=analytic, target=target, station=station,
                             interval=period)
    except ValueError as exc:
        return None, f"required agents not available: {_one_line(exc)}"
    how = f"required agents: {analytic.upper()} (Erlang C/A) for {_target_text(target, scenario)}"
    if method == "isa":
        how += "; ISA's requirement is the staff filled in by Plan"
    return plan.table["servers"].to_numpy(dtype=float), how


def _target_text(target: ServiceLevelTarget, scenario: Scenario) -> str:
    """``80% within 20 s`` (threshold in seconds, as entered)."""
    seconds = target.threshold * seconds_per_unit(scenario.time_unit)
    return f"{100 * target.target:g}% within {seconds:.6g} s"


# --------------------------------------------------------------------------- running


def simulate_with_progress(
    scenario: Scenario,
    replications: int,
    seed: int,
    *,
    interval: float | None = None,
    on_replication: Callable[[int, int], None] | None = None,
    max_seconds: float | None = None,
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
    max_seconds : float, optional
        Stop starting replications after this much wall-clock time; the
        results then hold fewer replications than asked for (at least one).

    Returns
    -------
    Results
    """
    for name, value, low in (("replications", replications, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    began = time.monotonic()
    records = []
    for r in range(int(replications)):
        # warn=False: the page states censoring once, as simlib.run does (see PlannerDashboard.run)
        records.append(simulate(scenario, int(seed), r, interval=interval, warn=False))
        if on_replication is not None:
            on_replication(r + 1, int(replications))
        if max_seconds is not None and time.monotonic() - began > max_seconds:
            break
    return Results(scenario, int(seed), records)


# --------------------------------------------------------------------------- rendering


def _fmt(value: float, kind: str, unit_seconds: float = 60.0) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "wait":
        return _mmss(value * unit_seconds)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def staff_summary_html(scenario: Scenario, clock: Clock) -> str:
    """The staff a run simulated, per station: ``tellers: 09:00–12:00 6 · 12:00–14:30 10``."""
    rows = []
    for st in scenario.stations:
        if st.shifts is None:
            text = f"{st.servers} all day"
        else:
            text = " · ".join(f"{clock.span(s.start, s.end)} <b>{s.servers}</b>" for s in st.shifts)
        rows.append(f'<li data-station="{html.escape(st.name)}">{html.escape(st.name)}: {text}</li>')
    return ('<div class="simlib-staff-summary"><small><b>Staff simulated</b> (on duty):'
            f'<ul style="margin:2px 0">{"".join(rows)}</ul></small></div>')


def kpi_table_html(
    results: Results,
    *,
    previous: pd.DataFrame | None = None,
    run_id: int = 0,
    cost: float | None = None,
) -> str:
    """The system KPIs as an HTML table ``<table class="simlib-kpis">``.

    Each value cell carries ``data-metric`` and ``data-value`` (full
    precision, scenario units), so tests and scripts read numbers rather
    than formatted text. Waits are shown as m:ss. The intervals are those of
    :meth:`Results.summary`.

    Parameters
    ----------
    results : Results
    previous : pandas.DataFrame, optional
        The summary of the previous run, shown as a column for comparison.
    run_id : int
        Written as ``data-run`` on the table: it changes with every run.
    cost : float, optional
        Cost of the observed period at the page's rates (grid total), shown
        as its own row.
    """
    scn = results.scenario
    unit_s = seconds_per_unit(scn.time_unit)
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
        cells = [
            f"<td>{html.escape(label)}</td>",
            f'<td class="simlib-value" data-metric="{metric}" data-value="{float(row["mean"])!r}">'
            f"{_fmt(row['mean'], kind, unit_s)}</td>",
            f"<td>{_fmt(row['ci_low'], kind, unit_s)} – {_fmt(row['ci_high'], kind, unit_s)}</td>",
        ]
        if prev is not None:
            old = prev["mean"].get(metric, math.nan)
            cells.append(f'<td class="simlib-previous" data-metric="{metric}">'
                         f"{_fmt(old, kind, unit_s)}</td>")
        rows.append(f'<tr data-metric="{metric}">{"".join(cells)}</tr>')
    if cost is not None:
        blank = "<td></td>" * (len(head) - 2)
        rows.append(f'<tr data-metric="grid_cost"><td>Cost at the page\'s rates</td>'
                    f'<td class="simlib-value" data-metric="grid_cost" data-value="{cost!r}">'
                    f"{cost:,.0f}</td>{blank}</tr>")
    n = results.n_replications
    target = ""
    if scn.service_level is not None:
        target = f"; target {_target_text(scn.service_level, scn)}"
    caption = (f"{html.escape(scn.name)}: whole observed period "
               f"({scn.horizon:g} {html.escape(scn.time_unit)}s), {n} replication"
               f"{'s' if n != 1 else ''}, seed {results.seed}{html.escape(target)}")
    return (
        f'{_TABLE_STYLE}<p style="margin:4px 0"><small>{caption}</small></p>'
        f'<div class="simlib-grid-scroll"><table class="simlib-kpis simlib-table" '
        f'data-run="{run_id}" data-replications="{n}">'
        f"<thead><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def interval_grid(
    results: Results,
    *,
    station: str | None = None,
    clock: Clock | None = None,
    required: Sequence[float] | np.ndarray | None = None,
    shrinkage: float = 0.0,
    costs: Economics = DEFAULT_COSTS,
) -> pd.DataFrame:
    """The planner's interval grid of one station: one row per recorded interval.

    Columns :data:`GRID_COLUMNS`: ``interval`` (clock span), ``start, end``
    (observed time, scenario units), ``volume`` (mean arrivals),
    ``aht_s`` (mean handling time, s), ``required`` (agents a staffing
    method needs; NaN when not given), ``scheduled`` (mean agents on duty
    over the interval), ``over_under`` (scheduled - required),
    ``service_level``, ``asa_s`` (mean wait of those served, s),
    ``abandonment``, ``occupancy`` (utilisation), ``shrinkage``,
    ``paid_agents`` (``scheduled / (1 - shrinkage)``), ``cost`` (paid agent
    hours and abandonments at ``costs``; waiting at ``costs.cost_per_waiting_hour``)
    and ``target_met`` (service level at or above the scenario's target).
    Shares are fractions (0-1).

    Raises
    ------
    ValueError
        If the run recorded no intervals, or ``shrinkage`` is not in [0, 1).
    """
    if not (0 <= shrinkage < 1):
        raise ValueError(f"shrinkage must be in [0, 100) %, got {100 * shrinkage:g} %")
    scn = results.scenario
    st = scn.station(station) if station is not None else scn.stations[0]
    clock = clock or Clock(0.0, seconds_per_unit(scn.time_unit))
    iv = results.intervals()
    iv = iv[iv["scope"] == st.name]
    # pivot, not pivot_table: NaN means (an interval without arrivals) must stay rows.
    wide = iv.pivot(index=["start", "end"], columns="metric", values="mean").sort_index()
    wide = wide.reset_index()
    start, end = wide["start"].to_numpy(float), wide["end"].to_numpy(float)
    width = end - start
    unit_s = clock.unit_seconds
    hours = width * unit_s / 3600.0
    scheduled = np.array([st.server_time(a, b) for a, b in zip(start, end, strict=True)])
    scheduled = scheduled / width
    req = (np.full(start.size, math.nan) if required is None
           else np.asarray(required, dtype=float)[: start.size])
    volume = wide["arrivals"].to_numpy(float)
    abandon = wide["p_abandon"].to_numpy(float)
    paid = scheduled / (1.0 - shrinkage)
    waiting_hours = volume * wide["mean_wait"].to_numpy(float) * unit_s / 3600.0
    cost = (paid * hours * costs.wage_per_server_hour
            + np.nan_to_num(volume * abandon) * costs.cost_per_abandonment
            + np.nan_to_num(waiting_hours) * costs.cost_per_waiting_hour)
    sl = wide["service_level"].to_numpy(float) if "service_level" in wide else np.full(start.size,
                                                                                       math.nan)
    target = scn.service_level.target if scn.service_level is not None else math.nan
    grid = pd.DataFrame({
        "interval": [clock.span(a, b) for a, b in zip(start, end, strict=True)],
        "start": start,
        "end": end,
        "volume": volume,
        "aht_s": wide["mean_service"].to_numpy(float) * unit_s,
        "required": req,
        "scheduled": scheduled,
        "over_under": scheduled - req,
        "service_level": sl,
        "asa_s": wide["asa"].to_numpy(float) * unit_s,
        "abandonment": abandon,
        "occupancy": wide["utilization"].to_numpy(float),
        "shrinkage": np.full(start.size, float(shrinkage)),
        "paid_agents": paid,
        "cost": cost,
        # An interval nobody arrived in has no service level to miss.
        "target_met": [bool(not math.isfinite(x) or x >= target - 1e-12) for x in sl],
    })
    return grid[list(GRID_COLUMNS)]


def _cell(col: str, value: Any) -> str:
    """One grid value as the page shows it."""
    if col == "target_met":
        return "yes" if value else '<span class="simlib-miss">NO</span>'
    if col == "interval":
        return html.escape(str(value))
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if col in ("service_level", "abandonment", "occupancy", "shrinkage"):
        return f"{100 * value:.1f}%"
    if col in ("aht_s", "asa_s"):
        return f"{value:.0f}"
    if col == "over_under":
        return f"{value:+.1f}"
    if col in ("scheduled", "paid_agents", "required", "volume"):
        return f"{value:.1f}" if not float(value).is_integer() else f"{value:.0f}"
    if col == "cost":
        return f"{value:,.0f}"
    return html.escape(str(value))


def grid_html(grid: pd.DataFrame, caption: str = "") -> str:
    """The grid as ``<table class="simlib-grid">`` inside a horizontally scrolling box.

    Every cell carries ``data-col`` and, for numbers, ``data-value``.
    """
    cols = [c for c in GRID_COLUMNS if c not in ("start", "end")]
    head = "".join(f'<th data-col="{c}">{html.escape(_GRID_LABELS[c])}</th>' for c in cols)
    rows = []
    for rec in grid.to_dict("records"):
        cells = []
        for c in cols:
            v = rec[c]
            data = (f' data-value="{float(v)!r}"'
                    if isinstance(v, int | float | np.floating) and not isinstance(v, bool) else "")
            miss = ' class="simlib-row-miss"' if c == "target_met" and not v else ""
            cells.append(f'<td data-col="{c}"{data}{miss}>{_cell(c, v)}</td>')
        rows.append(f'<tr data-start="{rec["start"]:g}">{"".join(cells)}</tr>')
    return (
        f'{_TABLE_STYLE}<p style="margin:4px 0"><small>{html.escape(caption)}</small></p>'
        f'<div class="simlib-grid-scroll"><table class="simlib-grid simlib-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def grid_csv(grid: pd.DataFrame) -> str:
    """The grid as CSV text (shares as fractions, times in seconds, agents as decimals)."""
    return grid.to_csv(index=False, float_format="%.6g", lineterminator="\n")


def grid_xlsx(grid: pd.DataFrame) -> bytes:
    """The grid as an Excel workbook (one sheet ``intervals``; the same columns and units as the CSV)."""
    buffer = io.BytesIO()
    grid.to_excel(buffer, sheet_name="intervals", index=False, engine="openpyxl")
    return buffer.getvalue()


_MIME = {"csv": "text/csv;charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def download_link_html(content: str | bytes, filename: str, label: str) -> str:
    """An ``<a download>`` link carrying a file as a data URL (works in Voilà without a server).

    The file's kind (``.csv`` or ``.xlsx``) comes from ``filename``; the link's
    class is ``simlib-download-<kind>``.
    """
    kind = filename.rsplit(".", 1)[-1]
    raw = content.encode("utf-8") if isinstance(content, str) else content
    data = base64.b64encode(raw).decode("ascii")
    return (f'<a class="simlib-download-{kind}" download="{html.escape(filename)}" '
            f'href="data:{_MIME[kind]};base64,{data}" '
            'style="display:inline-block;padding:4px 10px;margin-right:6px;border:1px solid #888;'
            f'border-radius:3px;text-decoration:none">⬇ {html.escape(label)}</a>')


def interval_figure(results: Results, *, station: str | None = None,
                    clock: Clock | None = None) -> Figure:
    """KPIs over the day in clock time: ASA (s), service level and abandonment, occupancy and staff.

    Points are interval means over replications with their 95% intervals
    (:meth:`Results.intervals`) for one station (default the first).
    """
    scn = results.scenario
    iv = results.intervals()
    st = scn.station(station) if station is not None else scn.stations[0]
    clock = clock or Clock(0.0, seconds_per_unit(scn.time_unit))
    unit_s = clock.unit_seconds
    fig = Figure(figsize=(9, 6.5), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)

    def series(metric: str) -> pd.DataFrame:
        return iv[(iv["scope"] == st.name) & (iv["metric"] == metric)].sort_values("start")

    def draw(ax: Any, metric: str, label: str, color: str, scale: float = 1.0) -> None:
        s = series(metric)
        mid = (s["start"] + s["end"]).to_numpy(float) / 2
        ax.plot(mid, s["mean"] * scale, "o-", color=color, label=label, ms=3)
        ax.fill_between(mid, s["ci_low"] * scale, s["ci_high"] * scale, color=color, alpha=0.2,
                        lw=0)

    draw(axes[0], "asa", "ASA", "C0", unit_s)
    axes[0].set_ylabel("ASA (s)")
    draw(axes[1], "service_level", "service level", "C2", 100)
    draw(axes[1], "p_abandon", "abandonment", "C3", 100)
    if scn.service_level is not None:
        axes[1].axhline(100 * scn.service_level.target, color="black", ls="--", lw=1,
                        label=f"target ({_target_text(scn.service_level, scn)})")
    axes[1].set_ylabel("% of arrivals")
    axes[1].legend(fontsize="small", loc="best")
    draw(axes[2], "utilization", f"occupancy of {st.name}", "C1", 100)
    axes[2].set_ylabel("occupancy (%)")
    staff_ax = axes[2].twinx()
    grid = np.linspace(0.0, scn.horizon, 500)
    staff_ax.step(grid, [st.servers_at(t) for t in grid], where="post", color="C7",
                  label="staff on duty")
    staff_ax.set_ylabel("staff on duty")
    staff_ax.set_ylim(0, 1.2 * max(st.max_servers, 1))  # headroom: the line is not the frame
    staff_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    lines = axes[2].get_lines() + staff_ax.get_lines()
    axes[2].legend(lines, [ln.get_label() for ln in lines], fontsize="small", loc="best")
    axes[2].xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: clock.label(x, end=x > 0)))
    # Ticks on whole clock hours: the first step of 1, 2, 3, 4, 6, 12, 24 h giving <= 9 ticks.
    hours = scn.horizon * unit_s / 3600.0
    step = next((h for h in (1, 2, 3, 4, 6, 12, 24) if hours / h <= 9), math.ceil(hours / 9))
    unit_hour = 3600.0 / unit_s
    first = (-clock.start / 60.0) % step * unit_hour  # observed time of the first whole step
    axes[2].set_xticks(np.arange(first, scn.horizon + 1e-9, step * unit_hour))
    axes[2].set_xlim(0, scn.horizon)
    axes[2].set_xlabel("clock time")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(f"{scn.name}, {st.name}: KPIs per interval (mean and 95% interval over "
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
    """The planner page: inputs on top; KPIs, the interval grid and a figure below.

    Parameters
    ----------
    scenario_dir : str or Path, optional
        Folder of scenario files; default the repository's ``data/scenarios``.
    scenario : str, optional
        Scenario (file stem) selected at start; default ``call_centre`` when
        present, else the first file.
    max_replications : int
        Most replications a run may ask for (:data:`MAX_REPLICATIONS`).
    max_seconds : float
        A run stops after this many seconds with the replications done
        (:data:`MAX_RUN_SECONDS`).

    Attributes
    ----------
    widget : ipywidgets.VBox
        The whole page; :meth:`show` displays it.
    scenario, demand, day_start, plan_station, method, target, threshold,
    plan_button, replications, seed, shrinkage, staff_cost, abandon_cost,
    run_button, progress, status, error, notes, staff_summary, kpis, grid,
    download, plot
        The individual widgets (tests drive them directly). ``target`` is in
        percent, ``threshold`` in seconds, ``shrinkage`` in percent.
    error_text : str
        The one-line message in :attr:`error`, as plain text ("" when none).
    station_inputs : dict of str to list of ipywidgets.Text
        Staff inputs by station name: one per shift, or one for constant
        servers; rebuilt when the scenario changes or a plan is applied.
    measure_boxes : dict of str to ipywidgets.Checkbox
        One per registered improvement measure (default parameters);
        measures that cannot apply to the scenario are disabled.
    grid_frame : pandas.DataFrame or None
        The interval grid of the last run (:func:`interval_grid`).
    """

    def __init__(self, scenario_dir: str | Path | None = None, scenario: str | None = None,
                 *, max_replications: int = MAX_REPLICATIONS,
                 max_seconds: float = MAX_RUN_SECONDS) -> None:
        self.files = scenario_files(scenario_dir)
        if not self.files:
            raise ValueError(f"no scenario files (*.yaml) in {scenario_dir or data_path('scenarios')}")
        start = scenario or ("call_centre" if "call_centre" in self.files else next(iter(self.files)))
        if start not in self.files:
            raise ValueError(f"no scenario {start!r} (have {', '.join(self.files)})")
        self.max_replications = int(max_replications)
        self.max_seconds = float(max_seconds)
        self.base: Scenario | None = None
        self.results: Results | None = None
        self.grid_frame: pd.DataFrame | None = None
        self._fields: dict[str, list[StaffField]] = {}
        self.station_inputs: dict[str, list[widgets.Text]] = {}
        self._previous: pd.DataFrame | None = None
        self._runs = 0
        #: The message shown in the error area, as plain text ("" when none).
        self.error_text = ""

        wide = {"description_width": "initial"}
        label = {"description_width": "150px"}
        box = widgets.Layout(width="260px")
        self.scenario = widgets.Dropdown(options=list(self.files), value=None,
                                         description="Scenario", style=wide)
        self.scenario_info = widgets.HTML()
        self.demand = widgets.FloatSlider(value=1.0, min=0.5, max=2.0, step=0.05,
                                          description="Demand ×", readout_format=".2f",
                                          continuous_update=False, style=wide,
                                          layout=widgets.Layout(width="100%", max_width="330px"))
        self.demand_note = widgets.HTML()
        self.day_start = widgets.Text(value=DEFAULT_DAY_START, description="Day starts at",
                                      placeholder="HH:MM", continuous_update=False, style=label,
                                      layout=box)
        self.staff_box = widgets.VBox()
        self.plan_station = widgets.Dropdown(description="Plan / report", style=label, layout=box)
        self.method = widgets.Dropdown(options=list(PLAN_METHODS), value="mol",
                                       description="Plan method", style=label, layout=box)
        self.target = widgets.FloatText(value=80.0, description="Service level (%) ≥",
                                        style=label, layout=box)
        self.threshold = widgets.FloatText(value=20.0, description="answered within (s)",
                                           style=label, layout=box)
        self.plan_button = widgets.Button(description="Plan staff for target", icon="calendar",
                                          tooltip="Fill the station's staff fields from a staffing "
                                                  "plan (sipp, lagged-sipp, mol: analytic; isa: "
                                                  "simulated) for the target above")
        self.measure_boxes: dict[str, widgets.Checkbox] = {}
        for row in describe_measures().itertuples():
            check = widgets.Checkbox(value=False, description=row.title, indent=False,
                                     tooltip=row.mechanism, layout=widgets.Layout(width="auto"))
            check.add_class(f"simlib-measure-{row.measure}")
            self.measure_boxes[row.measure] = check
        self.replications = widgets.Text(value="10", continuous_update=False,
                                         description=f"Replications (≤ {self.max_replications})",
                                         style=label, layout=box)
        self.seed = widgets.Text(value="1", description="Seed", continuous_update=False,
                                 style=label, layout=box)
        self.shrinkage = widgets.FloatText(value=30.0, description="Shrinkage (%)", style=label,
                                           layout=box)
        self.staff_cost = widgets.FloatText(value=DEFAULT_COSTS.wage_per_server_hour,
                                            description="Cost per paid hour", style=label,
                                            layout=box)
        self.abandon_cost = widgets.FloatText(value=DEFAULT_COSTS.cost_per_abandonment,
                                              description="Cost per abandon", style=label,
                                              layout=box)
        self.run_button = widgets.Button(description="Run", button_style="primary", icon="play")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="Progress",
                                            style=wide, layout=widgets.Layout(width="260px"))
        self.status = widgets.HTML()
        self.error = widgets.HTML()
        self.notes = widgets.HTML()
        self.staff_summary = widgets.HTML()
        self.kpis = widgets.HTML()
        full = widgets.Layout(width="100%")
        self.grid = widgets.HTML(layout=full)
        self.download = widgets.HTML()
        self.plot = widgets.Image(format="png", layout=widgets.Layout(width="100%",
                                                                      max_width="900px"))

        for w, css in [(self.scenario, "simlib-scenario"), (self.demand, "simlib-demand"),
                       (self.day_start, "simlib-day-start"), (self.staff_box, "simlib-staff"),
                       (self.plan_station, "simlib-plan-station"), (self.method, "simlib-method"),
                       (self.target, "simlib-target"), (self.threshold, "simlib-threshold"),
                       (self.plan_button, "simlib-plan"), (self.replications, "simlib-replications"),
                       (self.seed, "simlib-seed"), (self.shrinkage, "simlib-shrinkage"),
                       (self.staff_cost, "simlib-staff-cost"),
                       (self.abandon_cost, "simlib-abandon-cost"), (self.run_button, "simlib-run"),
                       (self.progress, "simlib-progress"), (self.status, "simlib-status"),
                       (self.error, "simlib-error"), (self.notes, "simlib-notes"),
                       (self.staff_summary, "simlib-staff-summary-box"),
                       (self.kpis, "simlib-kpis-box"), (self.grid, "simlib-grid-box"),
                       (self.download, "simlib-download"), (self.plot, "simlib-plot")]:
            w.add_class(css)

        self.scenario.observe(self._on_scenario, names="value")
        for w in (self.day_start, self.replications, self.seed, self.target, self.threshold,
                  self.shrinkage, self.staff_cost, self.abandon_cost):
            w.observe(lambda _c: self._show_input_problems(), names="value")
        self.day_start.observe(lambda _c: self._relabel_staff(), names="value")
        self.run_button.on_click(lambda _b: self.run())
        self.plan_button.on_click(lambda _b: self.plan())
        self.widget = self._layout()
        self.scenario.value = start  # triggers _on_scenario

    # ------------------------------------------------------------------ layout

    def _layout(self) -> widgets.VBox:
        def section(title: str, *children: widgets.Widget) -> widgets.VBox:
            return widgets.VBox([widgets.HTML(f"<b>{title}</b>"), *children],
                                layout=widgets.Layout(padding="4px 12px 4px 0",
                                                      min_width="280px", flex="1 1 300px"))

        inputs = widgets.HBox(
            [
                section("1 · Scenario and demand", self.scenario, self.scenario_info,
                        self.demand, self.demand_note, self.day_start),
                section("2 · Staff on duty per station", self.staff_box),
                section("3 · Target and plan", self.target, self.threshold, self.plan_station,
                        self.method, self.plan_button),
                section("4 · Improvement measures", *self.measure_boxes.values()),
                section("5 · Cost and run", self.shrinkage, self.staff_cost, self.abandon_cost,
                        self.replications, self.seed, self.run_button, self.progress,
                        self.status),
            ],
            layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start", width="100%"),
        )
        page = widgets.VBox([widgets.HTML(_TABLE_STYLE), inputs, self.error, self.notes,
                             self.staff_summary, self.kpis, self.download, self.grid, self.plot],
                            layout=widgets.Layout(width="100%", max_width="100%"))
        page.add_class("simlib-dashboard")
        return page

    def show(self) -> None:
        """Display the page (in a notebook or in Voilà)."""
        display(self.widget)

    # ------------------------------------------------------------------ state

    @property
    def staff_inputs(self) -> list[widgets.Text]:
        """Every staff input, station by station (scenario order)."""
        return [w for ws in self.station_inputs.values() for w in ws]

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

    def _clock(self) -> Clock:
        unit = self.base.time_unit if self.base is not None else "minute"
        return Clock.parse(self.day_start.value, unit)

    def _label_clock(self) -> Clock | None:
        try:
            return self._clock()
        except ValueError:
            return None

    def _set_staff(self, fields: Mapping[str, Sequence[StaffField]]) -> None:
        """Rebuild the staff inputs: one group per station, one field per shift (or one)."""
        self._fields = {name: list(fs) for name, fs in fields.items()}
        self.station_inputs = {}
        groups = []
        clock = self._label_clock()
        for k, (name, fs) in enumerate(self._fields.items()):
            inputs = []
            for i, f in enumerate(fs):
                w = widgets.Text(value=str(f.servers), description=f.label(clock),
                                 continuous_update=False, style={"description_width": "110px"},
                                 layout=widgets.Layout(width="190px"))
                w.add_class("simlib-staff-input")
                w.add_class(f"simlib-staff-{k}-{i}")
                w.observe(lambda _c: self._show_input_problems(), names="value")
                inputs.append(w)
            self.station_inputs[name] = inputs
            group = widgets.VBox([widgets.HTML(f"<i>{html.escape(name)}</i>"), *inputs])
            group.add_class("simlib-station")
            group.add_class(f"simlib-station-{k}")
            groups.append(group)
        self.staff_box.children = tuple(groups)

    def _relabel_staff(self) -> None:
        clock = self._label_clock()
        for name, ws in self.station_inputs.items():
            for f, w in zip(self._fields[name], ws, strict=True):
                w.description = f.label(clock)

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
        self.grid_frame = None
        self._previous = None
        self.kpis.value = self.grid.value = self.notes.value = self.download.value = ""
        self.staff_summary.value = ""
        self._set_plot(None)
        try:
            self.base = load_scenario(self.files[name])
        except (ScenarioError, ValueError, OSError) as exc:
            self.base = None
            self._set_staff({})
            self.scenario_info.value = ""
            self._set_error(f"{name}: {_one_line(exc)}")
            return
        scn = self.base
        classes = ", ".join(c.name for c in scn.classes)
        stations = ", ".join(st.name for st in scn.stations)
        varies = "varies over the day" if day_interval(scn) else "is constant over the horizon"
        self.scenario_info.value = (
            f"<small>{html.escape(scn.description or scn.name)}<br>"
            f"Horizon {scn.horizon:g} {html.escape(scn.time_unit)}s; classes: {html.escape(classes)}; "
            f"stations: <b>{html.escape(stations)}</b>; demand or staff {varies}.</small>"
        )
        traces = [c.name for c in scn.classes if c.arrivals.trace is not None]
        self.demand_note.value = (
            f"<small>Recorded arrivals ({html.escape(', '.join(traces))}) are replayed as they "
            "are: the demand scale does not change them.</small>" if traces else ""
        )
        self.day_start.value = default_day_start(scn)
        self._set_staff(station_staff(scn))
        self.plan_station.options = [st.name for st in scn.stations]
        self.plan_station.value = scn.stations[0].name
        self.demand.value = 1.0
        if scn.service_level is not None:
            self.target.value = round(100 * scn.service_level.target, 6)
            # Rounded for reading (0.3333333333 min is 20 s); the file's value is kept on use.
            self.threshold.value = round(scn.service_level.threshold
                                         * seconds_per_unit(scn.time_unit), 3)
        for name_, check in self.measure_boxes.items():
            check.value = False
            try:
                apply_measures(scn, [name_])
            except (ScenarioError, ValueError) as exc:
                check.disabled = True
                check.tooltip = f"Not applicable here: {_one_line(exc)}"
            else:
                check.disabled = False
                check.tooltip = MEASURES[name_].mechanism
        self.progress.value = 0
        self.status.value = ""
        self._show_input_problems()

    # ------------------------------------------------------------------ inputs

    def staff(self) -> dict[str, list[StaffField]]:
        """The staff typed into the page, by station; a one-line ``ValueError`` if any is invalid."""
        clock = self._label_clock()
        out: dict[str, list[StaffField]] = {}
        for name, ws in self.station_inputs.items():
            fields = []
            for f, w in zip(self._fields[name], ws, strict=True):
                n = parse_staff(w.value, f"staff of {name} {f.label(clock)}")
                fields.append(StaffField(f.start, f.end, n))
            out[name] = fields
        return out

    def service_level(self) -> ServiceLevelTarget:
        """The target typed into the page (percent and seconds), in the scenario's time unit."""
        if self.base is None:
            raise ValueError("no valid scenario is selected")
        pct, seconds = self.target.value, self.threshold.value
        if not (isinstance(pct, int | float) and 0 < pct < 100):
            raise ValueError(f"service-level target: give a percentage above 0 and below 100, "
                             f"got {pct!r}")
        if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"answered within: give seconds >= 0, got {seconds!r}")
        unit_s = seconds_per_unit(self.base.time_unit)
        threshold = seconds / unit_s
        sl = self.base.service_level
        if sl is not None and abs(sl.threshold * unit_s - seconds) < 5e-4:
            threshold = sl.threshold  # the field shows it rounded; keep the file's value
        return ServiceLevelTarget(threshold, pct / 100.0)

    def costs(self) -> tuple[Economics, float]:
        """The prices and the shrinkage (a fraction) typed into the page."""
        shrink = self.shrinkage.value
        if not (isinstance(shrink, int | float) and 0 <= shrink < 100):
            raise ValueError(f"shrinkage: give a percentage from 0 to below 100, got {shrink!r}")
        for what, v in (("cost per paid hour", self.staff_cost.value),
                        ("cost per abandon", self.abandon_cost.value)):
            if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
                raise ValueError(f"{what}: give an amount >= 0, got {v!r}")
        return (Economics(wage_per_server_hour=float(self.staff_cost.value),
                          cost_per_waiting_hour=DEFAULT_COSTS.cost_per_waiting_hour,
                          cost_per_abandonment=float(self.abandon_cost.value)), shrink / 100.0)

    def run_settings(self) -> tuple[int, int]:
        """Replications (1..max_replications) and seed typed into the page."""
        text = str(self.replications.value).strip()
        if not re.fullmatch(r"\d+", text) or not 1 <= int(text) <= self.max_replications:
            raise ValueError(f"replications: give a whole number from 1 to "
                             f"{self.max_replications}, got {text!r}")
        seed = str(self.seed.value).strip()
        if not re.fullmatch(r"\d+", seed):
            raise ValueError(f"seed: give a whole number >= 0, got {seed!r}")
        return int(text), int(seed)

    def input_problems(self) -> list[str]:
        """One line per invalid input on the page (empty when every input is valid)."""
        problems = []
        clock = self._label_clock()
        if clock is None:
            try:
                self._clock()
            except ValueError as exc:
                problems.append(_one_line(exc))
        for name, ws in self.station_inputs.items():
            for f, w in zip(self._fields[name], ws, strict=True):
                try:
                    parse_staff(w.value, f"staff of {name} {f.label(clock)}")
                except ValueError as exc:
                    problems.append(_one_line(exc))
                    w.add_class("simlib-invalid")
                else:
                    w.remove_class("simlib-invalid")
        for check in (self.service_level, self.costs, self.run_settings):
            try:
                check()
            except ValueError as exc:
                problems.append(_one_line(exc))
        return problems

    def _show_input_problems(self) -> None:
        """Show the first invalid input at once (as the user types), or clear the message."""
        if self.base is None:
            return
        problems = self.input_problems()
        self._set_error(problems[0] if problems else "")

    def selected_measures(self) -> list[str]:
        """Names of the measures switched on, in registry order."""
        return [n for n, check in self.measure_boxes.items() if check.value and not check.disabled]

    def build(self) -> tuple[Scenario, list[str]]:
        """The scenario the inputs describe (see :func:`build_scenario`)."""
        if self.base is None:
            raise ValueError("no valid scenario is selected")
        return build_scenario(self.base, demand_scale=float(self.demand.value), staff=self.staff(),
                              service_level=self.service_level(),
                              measures=self.selected_measures())

    # ------------------------------------------------------------------ actions

    def plan(self) -> None:
        """Fill the chosen station's staff inputs from a staffing plan for the page's target."""
        self._set_error("")
        self.plan_button.disabled = True
        method, station = self.method.value, self.plan_station.value
        self.status.value = f"Planning {html.escape(station)} with {html.escape(method)}…"
        try:
            if self.base is None:
                raise ValueError("no valid scenario is selected")
            target = self.service_level()
            _, seed = self.run_settings()
            # Plan for the scaled demand and the other stations as typed; measures come on top.
            scaled, _ = build_scenario(self.base, demand_scale=float(self.demand.value),
                                       staff=self.staff(), service_level=target)
            fields = planned_staff(scaled, method, target, station=station, seed=seed)
            self._set_staff({**self._fields, station: fields})
            self.status.value = (
                f"Staff of {html.escape(station)} planned with {html.escape(method)} for "
                f"{html.escape(_target_text(target, scaled))} "
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
        """Simulate the scenario the inputs describe and show the KPIs and the grid.

        Returns the results, or None when the input was invalid (the message
        is then in :attr:`error` and the last good results stay on the page).
        """
        self._set_error("")
        self.run_button.disabled = True
        try:
            problems = self.input_problems()
            if problems:
                raise ValueError(problems[0])
            scn, notes = self.build()
            target = self.service_level()  # the scenario's targets.service_level, as built
            reps, seed = self.run_settings()
            costs, shrinkage = self.costs()
            clock = self._clock()
            period = grid_interval(scn)
            self.progress.max = max(1, reps)
            self.progress.value = 0
            self.status.value = f"Running {reps} replications…"

            def tick(done: int, total: int) -> None:
                self.progress.value = done
                self.status.value = f"Replication {done} of {total}"

            results = simulate_with_progress(scn, reps, seed, interval=period, on_replication=tick,
                                             max_seconds=self.max_seconds)
            station = self.plan_station.value
            required, how = _required(scn, station, self.method.value, target, period)
            grid = interval_grid(results, station=station, clock=clock, required=required,
                                 shrinkage=shrinkage, costs=costs)
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
        self.results, self.grid_frame = results, grid
        done = results.n_replications
        if done < reps:
            notes = [f"run stopped after {self.max_seconds:g} s: {done} of {reps} replications "
                     "(the page's time limit)", *notes]
        censored = [r.censored for r in results.records if r.censored]
        if censored:
            notes = [f"in {len(censored)} of {done} replications {sum(censored)} customers were "
                     "still present at the drain limit and are censored (their waits count up to "
                     "then): the system is overloaded or closes with customers waiting", *notes]
        overloaded = [s for s in offered_loads(scn) if s.utilisation >= 1 - 1e-9]
        if overloaded:
            notes = [f"station {s.station!r} is offered {s.offered_load:.3g} Erlangs on "
                     f"{s.servers:.3g} servers ({s.utilisation:.0%} of capacity)"
                     for s in overloaded] + notes
        table = kpi_table_html(results, previous=self._previous, run_id=self._runs,
                               cost=float(grid["cost"].sum()))
        self._previous = results.summary()
        missed = int((~grid["target_met"]).sum())
        caption = (f"{station}, per {grid_interval(scn) * clock.unit_seconds / 60:g} minutes "
                   f"(means over {done} replications): target {_target_text(target, scn)}"
                   f" missed in {missed} of {len(grid)} intervals; {how}; paid agents = scheduled "
                   f"/ (1 - {100 * shrinkage:g}% shrinkage); cost = paid hours × "
                   f"{costs.wage_per_server_hour:g} + abandons × {costs.cost_per_abandonment:g}.")
        self.grid.value = grid_html(grid, caption)
        stem = f"{self.scenario.value}_{station}_intervals"
        self.download.value = (
            download_link_html(grid_csv(grid), f"{stem}.csv", "Download the grid (CSV)")
            + download_link_html(grid_xlsx(grid), f"{stem}.xlsx", "Excel"))
        self._set_plot(interval_figure(results, station=station, clock=clock))
        self.staff_summary.value = staff_summary_html(scn, clock)
        shown = notes[:_MAX_NOTES] + (
            [f"… and {len(notes) - _MAX_NOTES} more"] if len(notes) > _MAX_NOTES else [])
        self.notes.value = (
            "<small><b>Notes on this run:</b><ul>"
            + "".join(f"<li>{html.escape(n)}</li>" for n in shown) + "</ul></small>"
            if notes else ""
        )
        # The KPI table goes last: its new data-run tells a watcher (the browser
        # test, a script) that every output of this run is on the page.
        self.kpis.value = table
        self.status.value = f"Done: run {self._runs}, {done} replications."
        return results
