"""Tests of simlib.plots.quality: figure contents from small hand-made tables (no simulation)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure

from simlib.plots import quality as plots
from simlib.plots.queueing import save_figure
from simlib.spec.quality import SUBDIMENSIONS
from simlib.studies.quality import VALUE_CHAIN


def _errorbars(ax) -> list[ErrorbarContainer]:
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def _chain() -> pd.DataFrame:
    rows = []
    for s in (5, 6, 7):
        for stage, scope, metric in VALUE_CHAIN:
            mean = float(s) if metric != "profit" else float(-((s - 6) ** 2))
            rows.append((s, stage, scope, metric, mean, mean - 0.1, mean + 0.1, 3))
    return pd.DataFrame(rows, columns=["servers", "stage", "scope", "metric", "mean", "ci_low",
                                       "ci_high", "n"])


def test_value_chain_one_panel_per_link_and_profit_maximum() -> None:
    fig = plots.plot_value_chain(_chain(), time_unit="min")
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == len(VALUE_CHAIN)
    assert visible[0].get_title().startswith("1 · capacity")
    profit = visible[-1]
    assert "max at 6" in profit.get_legend().get_texts()[0].get_text()
    for ax in visible:
        assert len(_errorbars(ax)) == 1


def test_value_chain_selected_links_and_missing_columns() -> None:
    fig = plots.plot_value_chain(_chain(), links=[("system", "satisfaction")])
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 1
    with pytest.raises(ValueError, match="lacks columns"):
        plots.plot_value_chain(_chain().drop(columns="stage"))
    with pytest.raises(ValueError, match="no rows"):
        plots.plot_value_chain(_chain(), links=[("system", "nothing")])


def _hierarchy() -> pd.DataFrame:
    rows = [("sub-dimension", p, s, 5.0, 4.9, 5.1, 3) for p, ms in SUBDIMENSIONS.items() for s in ms]
    rows += [("primary", p, p, 5.0, 4.9, 5.1, 3) for p in SUBDIMENSIONS]
    rows += [("overall", "overall", "perceived_quality", 5.2, 5.1, 5.3, 3),
             ("overall", "overall", "satisfaction", 5.1, 5.0, 5.2, 3)]
    return pd.DataFrame(rows, columns=["level", "primary", "dimension", "mean", "ci_low",
                                       "ci_high", "n"])


def test_hierarchy_has_twelve_bars_and_overall_lines() -> None:
    fig = plots.plot_hierarchy(_hierarchy())
    ax = fig.axes[0]
    bars = [p for c in ax.containers if isinstance(c, BarContainer) for p in c.patches]
    assert len(bars) == 12  # 9 sub-dimensions + 3 primary dimensions
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "INTERACTION" and "attitude" in labels
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("perceived quality 5.20" in t for t in legend)


def _outcomes(paradox: bool | None) -> pd.DataFrame:
    rows = [("served", 100, 0.8, 5.3, 5.2, 5.4, 3, 0.77), ("recovered", 10, 0.1, 5.0, 4.8, 5.2, 3, 0.7),
            ("abandoned", 10, 0.1, 4.2, 4.0, 4.4, 3, 0.5)]
    table = pd.DataFrame(rows, columns=["outcome", "customers", "share", "satisfaction", "ci_low",
                                        "ci_high", "n", "p_return"])
    if paradox is None:
        return table
    return table.assign(recovery_paradox=paradox)


def test_satisfaction_by_outcome_groups_by_paradox() -> None:
    both = pd.concat([_outcomes(False), _outcomes(True)], ignore_index=True)
    fig = plots.plot_satisfaction_by_outcome(both)
    left, right = fig.axes[:2]
    bars = [c for c in left.containers if isinstance(c, BarContainer)]
    assert len(bars) == 2 and all(len(b.patches) == 3 for b in bars)
    assert [t.get_text() for t in left.get_xticklabels()] == ["served", "recovered", "abandoned"]
    assert {t.get_text() for t in left.get_legend().get_texts()} == {
        "recovery paradox off", "recovery paradox on"}
    single = plots.plot_satisfaction_by_outcome(_outcomes(None))
    assert len([c for c in single.axes[0].containers if isinstance(c, BarContainer)]) == 1
    assert right.get_ylim() == (0.0, 1.0)


def _gaps() -> pd.DataFrame:
    rows = [(1, "expected_wait", 5.0, 4.9, 5.1, "minute"), (2, "standard_wait", -2.0, -2.0, -2.0, "minute"),
            (3, "service_level_vs_target", 0.05, 0.03, 0.07, "share"),
            (4, "wait_vs_promise", np.nan, np.nan, np.nan, "minute"),
            (5, "servqual", -0.15, -0.18, -0.12, "points (1-7)")]
    return pd.DataFrame(rows, columns=["gap", "measure", "value", "ci_low", "ci_high", "unit"])


def test_gaps_one_panel_per_unit_without_nan_measures() -> None:
    fig = plots.plot_gaps(_gaps())
    assert len(fig.axes) == 3
    assert [ax.get_xlabel() for ax in fig.axes] == ["minute", "share", "points (1-7)"]
    minutes = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert minutes == ["gap 1: expected_wait", "gap 2: standard_wait"]  # the NaN measure is left out


def test_staffing_to_standard_marks_where_each_standard_is_met() -> None:
    curve = pd.DataFrame({"servers": [4, 5, 6], "scope": "system", "metric": "mean_wait",
                          "mean": [9.0, 4.0, 2.0], "ci_low": [8.0, 3.5, 1.8], "ci_high": [10.0, 4.5, 2.2]})
    fig = plots.plot_staffing_to_standard(curve, {"standard": 8.0, "expected": 1.0})
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("met from 5 servers" in t for t in legend)
    assert any("never met" in t for t in legend)


def test_gap_closing_heat_map_and_effect_panels(tmp_path: Path) -> None:
    variants = ["base", "a", "b"]
    gaps = pd.DataFrame([(v, g, val) for v, vals in zip(variants, ([4.0, -2.0, -1.0, 1.0, -0.5],
                                                                     [0.0, 2.0, -1.0, 1.0, -0.5],
                                                                     [0.0, 0.0, 0.5, -0.5, -0.2]), strict=True)
                         for g, val in zip(range(1, 6), vals, strict=True)],
                        columns=["variant", "gap", "value"])
    effects = pd.DataFrame([(v, "system", m, d, d - 0.1, d + 0.1, 3)
                            for v, d in (("a", 0.0), ("b", 0.3))
                            for m in ("gap5", "satisfaction", "profit")],
                           columns=["variant", "scope", "metric", "diff", "ci_low", "ci_high", "n"])
    fig = plots.plot_gap_closing((gaps, effects))
    heat, *panels = fig.axes[:4]
    assert [t.get_text() for t in heat.get_yticklabels()] == variants
    texts = [t.get_text() for t in heat.texts]
    assert len(texts) == 15 and "+4.00" in texts
    for ax in panels:
        assert len(_errorbars(ax)) == 1
    # The base has no effect: its point is NaN, the variants' are drawn.
    offsets = _errorbars(panels[1])[0].lines[0].get_xdata()
    assert np.isnan(offsets[0]) and offsets[2] == pytest.approx(0.3)
    assert save_figure(fig, "gap_closing", tmp_path).exists()


def test_assumption_tornado_two_bars_per_assumption_from_the_base() -> None:
    table = pd.DataFrame({"factor": ["quality.halo", "quality.stress"], "low": [0.3, 0.25],
                          "high": [0.8, 0.75], "base": [5.0, 5.0], "at_low": [4.8, 5.1],
                          "at_high": [5.3, 4.95], "swing": [0.5, 0.15]})
    fig = plots.plot_assumption_tornado(table)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    bars = [p for c in ax.containers if isinstance(c, BarContainer) for p in c.patches]
    assert len(bars) == 4
    assert sorted(round(b.get_x(), 9) for b in bars) == [5.0] * 4  # every bar starts at the base
    assert ax.get_xlabel() == "satisfaction (1-7)"
