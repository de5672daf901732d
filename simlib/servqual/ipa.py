"""Importance–performance analysis (IPA; Martilla & James 1977).

Each attribute is placed by its mean importance (vertical) and mean
performance (horizontal). Cross-hairs at the grand means (data-centred, the
common choice; scale midpoints are an option) cut the plane into four
quadrants with a management reading:

* **concentrate here** – important, performing poorly;
* **keep up the good work** – important, performing well;
* **low priority** – unimportant, performing poorly;
* **possible overkill** – unimportant, performing well.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .checks import MissingPolicy, check_items

__all__ = ["ipa", "QUADRANTS"]

QUADRANTS = ("concentrate here", "keep up the good work", "low priority", "possible overkill")


def ipa(
    data: pd.DataFrame,
    importance: Sequence[str],
    performance: Sequence[str],
    *,
    labels: Sequence[str] | None = None,
    centre: Literal["mean", "midpoint"] = "mean",
    scale: tuple[float, float] | None = None,
    missing: MissingPolicy = "listwise",
) -> pd.DataFrame:
    """Importance–performance table with quadrants.

    Parameters
    ----------
    data
        Respondents in rows.
    importance, performance
        Column names, paired by position (attribute i = ``importance[i]``
        and ``performance[i]``).
    labels
        Attribute names (default: the performance column names).
    centre
        ``"mean"``: cross-hairs at the grand means; ``"midpoint"``: at the
        scale midpoint (needs ``scale``).
    scale
        Answer range, used for the range check and the midpoint.

    Returns
    -------
    pandas.DataFrame
        Per attribute: ``importance, performance, gap`` (performance −
        importance) and ``quadrant``; ``attrs["importance_cut"]`` and
        ``attrs["performance_cut"]`` hold the cross-hairs.
    """
    importance, performance = list(importance), list(performance)
    if len(importance) != len(performance):
        raise ValueError(
            f"importance and performance need the same number of columns, "
            f"got {len(importance)} and {len(performance)}"
        )
    x = check_items(data, importance + performance, scale=scale, missing=missing)
    labels = list(labels) if labels is not None else performance
    imp = x[importance].mean().to_numpy()
    perf = x[performance].mean().to_numpy()
    if centre == "mean":
        ic, pc = imp.mean(), perf.mean()
    elif centre == "midpoint":
        if scale is None:
            raise ValueError("centre='midpoint' needs scale=(low, high)")
        ic = pc = (scale[0] + scale[1]) / 2
    else:
        raise ValueError(f"centre: expected 'mean' or 'midpoint', got {centre!r}")
    quad = np.where(
        imp >= ic,
        np.where(perf < pc, QUADRANTS[0], QUADRANTS[1]),
        np.where(perf < pc, QUADRANTS[2], QUADRANTS[3]),
    )
    out = pd.DataFrame({"importance": imp, "performance": perf, "gap": perf - imp,
                        "quadrant": quad}, index=pd.Index(labels, name="attribute"))
    out.attrs["importance_cut"] = float(ic)
    out.attrs["performance_cut"] = float(pc)
    out.attrs["n"] = len(x)
    return out
