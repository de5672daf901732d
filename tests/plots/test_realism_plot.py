"""The realism figure draws one bar per statistic and one mark per survey and statistic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from simlib.plots.servqual import plot_realism


def table() -> pd.DataFrame:
    t = pd.DataFrame({"A": [0.3, 0.5, np.nan], "B": [0.5, 0.7, 0.2]}, index=["r1", "r2", "r3"])
    t["real low"], t["real high"] = t[["A", "B"]].min(axis=1), t[["A", "B"]].max(axis=1)
    t["sim1"] = [0.4, 0.6, 0.25]
    t["sim2"] = [0.1, np.nan, 0.2]
    return t


def test_bars_span_the_real_range_and_every_survey_is_marked() -> None:
    fig = plot_realism(table())
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    bars = ax.containers[0]
    np.testing.assert_allclose([b.get_x() for b in bars], [0.3, 0.5, 0.2])
    np.testing.assert_allclose([b.get_width() for b in bars], [0.204, 0.204, 0.004])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(labels) == ["real range", "real sets", "sim1", "sim2"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["r1", "r2", "r3"]


def test_a_table_without_the_range_is_refused() -> None:
    with pytest.raises(ValueError, match="real low"):
        plot_realism(table().drop(columns="real low"))
