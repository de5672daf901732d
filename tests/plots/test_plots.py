"""Tests of simlib.plots.queueing: figure contents, labels and saving (no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

import simlib
from simlib import plots
from simlib.engine import ReplicationRecord
from simlib.experiments import Results
from simlib.plots.experiments import plot_running_interval
from simlib.studies import teaching


def _study(x: str = "servers") -> pd.DataFrame:
    """A small hand-made study table (no simulation needed)."""
    rows = []
    for i, v in enumerate([12, 13, 14, 15]):
        for metric, base in (("service_level", 0.6), ("mean_wait", 1.0)):
            mean = base + 0.1 * i
            rows.append((v, metric, mean, 0.02, mean - 0.03, mean + 0.04, 10, mean + 0.01))
    cols = [x, "metric", "mean", "std", "ci_low", "ci_high", "n", "theory"]
    return pd.DataFrame(rows, columns=cols)


def _summary() -> pd.DataFrame:
    rows = [
        (scope, metric, mean, 0.1, mean - 0.05, mean + 0.05, 10)
        for scope, shift in (("a", 0.0), ("b", 0.1), ("system", 0.2))
        for metric, mean in (("p_wait", 0.2 + shift), ("utilization", 0.7 + shift))
    ]
    return pd.DataFrame(rows, columns=["scope", "metric", "mean", "std", "ci_low", "ci_high", "n"])


def _errorbars(ax) -> list[ErrorbarContainer]:
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def test_simulated_vs_theory_points_line_and_labels() -> None:
    table = _study()
    fig = plots.simulated_vs_theory(table, "servers", "service_level", target=0.8, xlabel="agents")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    (bars,) = _errorbars(ax)
    data_line = bars.lines[0]
    np.testing.assert_allclose(data_line.get_xdata(), [12, 13, 14, 15])
    np.testing.assert_allclose(data_line.get_ydata(), [0.6, 0.7, 0.8, 0.9])
    # Bars span exactly the interval, asymmetric: 0.03 below, 0.04 above.
    segs = bars.lines[2][0].get_segments()
    np.testing.assert_allclose([s[0][1] for s in segs], [0.57, 0.67, 0.77, 0.87])
    np.testing.assert_allclose([s[1][1] for s in segs], [0.64, 0.74, 0.84, 0.94])
    theory = [ln for ln in ax.get_lines() if ln.get_label() == "theory"]
    assert len(theory) == 1
    np.testing.assert_allclose(theory[0].get_ydata(), [0.61, 0.71, 0.81, 0.91])
    assert any(ln.get_label() == "target 0.8" for ln in ax.get_lines())
    assert ax.get_xlabel() == "agents"
    assert ax.get_ylabel() == "service level"


def test_simulated_vs_theory_one_panel_per_metric_and_missing_theory() -> None:
    table = _study("rho")
    table.loc[table["metric"] == "mean_wait", "theory"] = np.nan
    fig = plots.simulated_vs_theory(table, "rho", ["service_level", "mean_wait"], unit="min")
    assert len(fig.axes) == 2
    assert [len(_errorbars(ax)) for ax in fig.axes] == [1, 1]
    assert [ax.get_xlabel() for ax in fig.axes] == ["utilisation ρ"] * 2
    assert fig.axes[1].get_ylabel() == "mean wait in queue (min)"
    labels = [[ln.get_label() for ln in ax.get_lines()] for ax in fig.axes]
    assert "theory" in labels[0] and "theory" not in labels[1]


def test_simulated_vs_theory_rejects_unknown_metric_or_column() -> None:
    with pytest.raises(ValueError, match="no rows"):
        plots.simulated_vs_theory(_study(), "servers", "p_blocked")
    with pytest.raises(ValueError, match="lacks columns"):
        plots.simulated_vs_theory(_study(), "rho", "service_level")


def test_utilisation_curve_lines_per_server_count_and_points() -> None:
    rhos = np.linspace(0.05, 0.95, 19)
    curve = teaching.utilisation_theory(rhos, servers=(1, 2, 10))
    sim = _study("rho").assign(servers=1, rho=lambda d: d["rho"] / 20)
    fig = plots.utilisation_curve(curve, "mean_wait", simulated=sim, ymax=10)
    (ax,) = fig.axes
    theory = [ln for ln in ax.get_lines() if ln.get_label().startswith("theory")]
    assert [ln.get_label() for ln in theory] == ["theory, c = 1", "theory, c = 2", "theory, c = 10"]
    assert len(theory[0].get_xdata()) == 19
    # The hockey stick: the M/M/1 curve rises steeply and ends at rho/(1-rho) = 19.
    assert theory[0].get_ydata()[-1] == pytest.approx(19.0)
    assert len(_errorbars(ax)) == 1
    assert ax.get_ylim() == (0.0, 10.0)
    assert ax.get_xlabel() == "utilisation ρ"
    assert ax.get_ylabel() == "mean wait in queue"


def test_littles_law_series_and_diagonal() -> None:
    table = pd.DataFrame(
        {
            "label": ["x", "x", "y"],
            "lambda_wq": [0.5, 1.0, 4.0],
            "mean_queue": [0.52, 0.98, 4.1],
        }
    )
    fig = plots.littles_law(table)
    (ax,) = fig.axes
    assert len(ax.collections) == 2  # one scatter per label
    assert sum(len(c.get_offsets()) for c in ax.collections) == 3
    (diag,) = ax.get_lines()
    assert diag.get_label() == "y = x"
    np.testing.assert_allclose(diag.get_xdata(), diag.get_ydata())
    assert diag.get_xdata()[-1] >= 4.1
    assert "λW" in ax.get_xlabel() and "(L)" in ax.get_ylabel()


def test_summary_bars_panels_bars_and_theory() -> None:
    fig = plots.summary_bars(
        _summary(), ["p_wait", "utilization"], ["a", "b"], theory={"utilization": 0.72}
    )
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2
    heights = [[p.get_height() for p in ax.patches] for ax in visible]
    np.testing.assert_allclose(heights, [[0.2, 0.3], [0.7, 0.8]])
    assert [t.get_text() for t in visible[0].get_xticklabels()] == ["a", "b"]
    assert visible[0].get_title() == "P(wait > 0)"
    assert [ln.get_ydata()[0] for ln in visible[1].get_lines() if ln.get_label() == "theory"] == [
        0.72
    ]


def test_summary_bars_defaults_to_every_scope_and_hides_spare_panels() -> None:
    metrics = ["p_wait", "utilization", "p_wait", "utilization", "p_wait"]
    fig = plots.summary_bars(_summary(), metrics)
    assert len(fig.axes) == 8  # two rows of four
    assert sum(ax.get_visible() for ax in fig.axes) == 5
    assert len(fig.axes[0].patches) == 3


def test_save_figure_writes_png(tmp_path: Path) -> None:
    fig = plots.simulated_vs_theory(_study(), "servers", "service_level")
    folder = tmp_path / "nested" / "figures"
    path = plots.save_figure(fig, "01_test", folder)
    assert path == folder / "01_test.png"
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
    assert plots.save_figure(fig, "again.png", folder).name == "again.png"


@pytest.mark.parametrize("name", ["../escape", "a/b", "", " spaced"])
def test_save_figure_refuses_path_like_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="plain file name"):
        plots.save_figure(Figure(), name, tmp_path)


def test_module_does_not_import_pyplot() -> None:
    import subprocess
    import sys

    code = "import simlib.plots.queueing, sys; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_figure_png_is_a_png_whatever_the_backend() -> None:
    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([0, 1], [0, 1])
    assert plots.figure_png(fig).startswith(b"\x89PNG")


def test_running_interval_band_of_a_rare_share_stays_inside_0_1() -> None:
    scn = simlib.load_scenario({
        "name": "rare", "horizon": 10,
        "classes": [{"name": "c", "arrivals": {"rate": 1.0}}],
        "stations": [{"name": "s", "servers": 1, "service": {"dist": "exponential", "mean": 0.5}}],
    })
    shares = [0.0, 0.0, 0.0, 0.02, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    records = [ReplicationRecord(r, {"system": {"p_abandon": v, "arrivals": 50.0}})
               for r, v in enumerate(shares)]
    fig = plot_running_interval(Results(scn, 0, records), metric="p_abandon")
    band = fig.axes[0].collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() >= 0 and band.max() <= 1
    assert "wilson" in fig.axes[0].get_legend().get_texts()[0].get_text()
