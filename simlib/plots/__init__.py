"""Plots: every matplotlib figure of simlib, one module per area.

Each function returns a :class:`matplotlib.figure.Figure`.
:mod:`~simlib.plots.queueing` (simulation against theory, utilisation curves,
Little's law, summary bars, :func:`save_figure`, :func:`figure_png`),
:mod:`~simlib.plots.experiments`, :mod:`~simlib.plots.staffing`,
:mod:`~simlib.plots.quality`, :mod:`~simlib.plots.servqual`,
:mod:`~simlib.plots.calibration` and :mod:`~simlib.plots.animation` (an
offline JavaScript animation of a run and swim-lane charts).
"""

from types import ModuleType

from simlib.lazy import submodule, submodule_names
from simlib.plots.queueing import (
    figure_png,
    littles_law,
    save_figure,
    simulated_vs_theory,
    summary_bars,
    utilisation_curve,
)

__all__ = ["figure_png", "littles_law", "save_figure", "simulated_vs_theory", "summary_bars", "utilisation_curve"]


def __getattr__(name: str) -> ModuleType:  # PEP 562: the modules load on first use
    return submodule(__name__, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *submodule_names(__path__)})
