"""Interactive what-if panels (ipywidgets), for notebooks and the Voilà app only.

:func:`staffing_panel` is a single-interval staffing planner: sliders for the
arrival rate, handling time, patience, service-level target and threshold and
the staff cost per hour redraw the staffing curve (service level, abandonment
and utilisation against servers, from Erlang C or, with patience, Erlang A)
and the hourly cost curve with its cost-optimal level. The figures come from
:func:`staffing_figure`, which notebooks also call directly so that their
defaults render without a browser (CI runs them headless).

The library imports ipywidgets only here, and this module is imported only
by notebooks and the app.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from simlib.planning import staffing
from simlib.planning.costs import analytic_cost_curve
from simlib.plots.queueing import figure_png
from simlib.plots.staffing import analytic_staffing_figure
from simlib.spec.economics import Economics
from simlib.spec.units import SECONDS_PER_UNIT

__all__ = ["PanelSettings", "staffing_figure", "staffing_panel", "staffing_table"]


@dataclass(frozen=True)
class PanelSettings:
    """Inputs of the staffing panel (time unit: minutes, money per hour).

    Attributes
    ----------
    arrival_rate : float
        Calls per minute.
    handle_time : float
        Mean handling time, minutes.
    patience : float
        Mean patience, minutes; 0 means customers never abandon (Erlang C).
    target : float
        Service-level share, e.g. 0.8.
    threshold : float
        Acceptable wait, seconds (e.g. 20).
    cost_per_hour : float
        Staff cost per agent-hour.
    waiting_cost_per_hour : float
        Cost of one customer-hour of waiting.
    abandonment_cost : float
        Cost of one abandoned call (callback, lost goodwill).
    """

    arrival_rate: float = 100 / 30
    handle_time: float = 3.0
    patience: float = 0.0
    target: float = 0.8
    threshold: float = 20.0
    cost_per_hour: float = 25.0
    waiting_cost_per_hour: float = 30.0
    abandonment_cost: float = 2.0


def staffing_table(settings: PanelSettings) -> tuple[pd.DataFrame, int]:
    """Per staffing level: service level, abandonment, utilisation and hourly costs.

    Returns
    -------
    table : pandas.DataFrame
        :func:`simlib.planning.costs.analytic_cost_curve` over a range around the load.
    required : int
        Smallest staffing meeting the service-level target.
    """
    s = settings
    patience = s.patience if s.patience > 0 else None
    threshold = s.threshold / SECONDS_PER_UNIT["minute"]  # seconds to minutes
    required = staffing.required_servers(s.arrival_rate, s.handle_time, s.target, threshold,
                                         mean_patience=patience)
    load = s.arrival_rate * s.handle_time
    low = max(1, int(load * 0.8))
    high = max(required + 6, int(load * 1.5) + 2)
    costs = Economics(wage_per_server_hour=s.cost_per_hour,
                      cost_per_waiting_hour=s.waiting_cost_per_hour,
                      cost_per_abandonment=s.abandonment_cost)
    table = analytic_cost_curve(s.arrival_rate, s.handle_time, range(low, high + 1), costs,
                                mean_patience=patience, threshold=threshold, time_unit="minute")
    return table, required


def staffing_figure(settings: PanelSettings | None = None) -> Figure:
    """The panel's figure for ``settings`` (defaults: Call Centre Helper's example)."""
    s = settings or PanelSettings()
    table, _ = staffing_table(s)
    return analytic_staffing_figure(table, target=s.target)


def staffing_panel(settings: PanelSettings | None = None) -> Any:
    """An ipywidgets panel that redraws the staffing and cost curves on every change.

    Returns
    -------
    ipywidgets.VBox
        Sliders, a one-line summary and the figure (rendered as a PNG into an
        ``ipywidgets.Output``, so it shows whatever matplotlib backend is active).
    """
    import ipywidgets as w  # the widget stack loads only when a panel is built
    from IPython.display import Image, display  # (with ipywidgets): only a built panel is shown

    s = settings or PanelSettings()
    style = {"description_width": "170px"}
    layout = w.Layout(width="480px")
    sliders = {
        "arrival_rate": w.FloatSlider(value=s.arrival_rate, min=0.2, max=20, step=0.1,
                                      description="arrivals per minute"),
        "handle_time": w.FloatSlider(value=s.handle_time, min=0.5, max=15, step=0.1,
                                     description="handle time (min)"),
        "patience": w.FloatSlider(value=s.patience, min=0, max=20, step=0.5,
                                  description="patience (min, 0 = none)"),
        "target": w.FloatSlider(value=s.target, min=0.5, max=0.99, step=0.01,
                                description="service-level target"),
        "threshold": w.FloatSlider(value=s.threshold, min=0, max=120, step=5,
                                   description="threshold (s)"),
        "cost_per_hour": w.FloatSlider(value=s.cost_per_hour, min=5, max=100, step=1,
                                       description="staff cost per hour"),
    }
    for slider in sliders.values():
        slider.style, slider.layout, slider.continuous_update = style, layout, False
    summary = w.HTML()
    out = w.Output()

    def redraw(_: Any = None) -> None:
        current = PanelSettings(**{**asdict(s), **{k: v.value for k, v in sliders.items()}})
        table, required = staffing_table(current)
        finite = table[table["total"] < float("inf")]
        best = int(finite.loc[finite["total"].idxmin(), "servers"]) if len(finite) else None
        summary.value = (f"<b>{required}</b> servers meet the target; "
                         f"cost-optimal: <b>{best}</b> (offered load "
                         f"{current.arrival_rate * current.handle_time:.1f} Erlangs)")
        fig = analytic_staffing_figure(table, target=current.target)
        with out:
            out.clear_output(wait=True)
            # A PNG, not the Figure: a bare Figure needs the inline backend's
            # formatter, without which the panel printed "<Figure size ...>".
            display(Image(data=figure_png(fig)))

    for slider in sliders.values():
        slider.observe(redraw, names="value")
    redraw()
    return w.VBox([*sliders.values(), summary, out])
