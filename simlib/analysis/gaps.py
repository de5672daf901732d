"""The five gaps of Parasuraman, Zeithaml & Berry (1985), measured on a simulation run.

The gap model explains a shortfall in perceived quality (gap 5) by four
shortfalls inside the provider. A scenario makes each of them measurable:

1. **Knowledge gap** — customer expectations vs management's perception of
   them: ``quality.management.expected_wait`` (and per-dimension levels)
   minus what the simulated customers actually expected.
2. **Standards gap** — management's perception vs the service standard it
   sets: ``quality.management.standard_wait`` minus what management thinks
   customers expect (a standard looser than perceived expectations is
   positive).
3. **Delivery gap** — the standard vs the service delivered: the delivered
   mean wait minus the standard wait, and the achieved service level minus
   its target (``targets.service_level``).
4. **Communication gap** — delivery vs what external communication promised:
   delivered mean wait minus the promised wait, and the share of customers
   who waited longer than promised.
5. **Customer gap** — perceived minus expected service per SERVQUAL dimension
   and on average (the SERVQUAL score; negative means expectations unmet).

Each measure is computed per replication and summarised with a 95%
t-interval over replications. Measures whose inputs the scenario does not
give are reported as NaN with the reason in ``definition``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simlib.experiments.statistics import t_interval
from simlib.spec.quality import DIMENSIONS

if TYPE_CHECKING:
    from simlib.experiments.results import Results

__all__ = ["gaps", "GAP_NAMES"]

GAP_NAMES = {
    1: "knowledge gap",
    2: "standards gap",
    3: "delivery gap",
    4: "communication gap",
    5: "customer gap",
}


def gaps(results: Results) -> pd.DataFrame:
    """The five gaps of a run: ``gap, name, measure, value, ci_low, ci_high, n, unit, definition``."""
    spec = results.scenario.quality
    if spec is None:
        raise ValueError("the scenario has no quality block, so there are no gaps to measure")
    table = results.customers()
    unit = results.scenario.time_unit
    per_rep = dict(tuple(table.groupby("replication")))
    rows: list[tuple] = []

    def add(gap: int, measure: str, values: list[float], unit_: str, definition: str) -> None:
        iv = t_interval(values)
        rows.append((gap, GAP_NAMES[gap], measure, iv.mean, iv.ci_low, iv.ci_high, iv.n, unit_, definition))

    def each(fn) -> list[float]:  # fn: a per-replication customer table -> one number
        return [float(fn(df)) for df in per_rep.values()]

    nan_reason = "NaN: the scenario gives no quality.management.{}"
    mgmt_wait = spec.management_expected_wait
    add(1, "expected_wait", each(lambda d: (mgmt_wait if mgmt_wait is not None else math.nan) - d.expected_wait.mean()),
        unit, "management's perceived expected wait - customers' mean expected wait"
        if mgmt_wait is not None else nan_reason.format("expected_wait"))
    for i, dim in enumerate(DIMENSIONS):
        level = spec.management_levels[i] if spec.management_levels is not None else math.nan
        add(1, f"expectation_{dim}", each(lambda d, dim=dim, level=level: level - d[f"exp_{dim}"].mean()),
            "points (1-7)", f"management's perceived {dim} expectation - customers' mean expectation"
            if spec.management_levels is not None else nan_reason.format(dim))
    standard = spec.standard_wait
    value = (standard - mgmt_wait) if standard is not None and mgmt_wait is not None else math.nan
    add(2, "standard_wait", [value] * max(1, len(per_rep)), unit,
        "standard wait - management's perceived expected wait (positive: a looser standard than customers are believed to want)"
        if not math.isnan(value) else "NaN: needs quality.management.standard_wait and expected_wait")
    # Blocked customers never queued: their zero wait would flatter delivery.
    add(3, "wait_vs_standard",
        each(lambda d: d.wait[~d.blocked].mean() - (standard if standard is not None else math.nan)),
        unit, "delivered mean wait of admitted customers - standard wait"
        if standard is not None else nan_reason.format("standard_wait"))
    sl = results.scenario.service_level
    if sl is not None:
        add(3, "service_level_vs_target",
            [run["system"]["service_level"] - sl.target for run in results.runs], "share",
            "achieved service level - target")
    promised = {c: e.promised_wait for c, e in spec.expectations.items()}
    if any(p is not None for p in promised.values()):
        def promised_rows(d: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
            # Only admitted customers of classes that were promised something count.
            p = d["class"].map(promised).astype(float).to_numpy()
            keep = ~np.isnan(p) & ~d.blocked.to_numpy()
            return d.wait.to_numpy()[keep], p[keep]

        def broken(d: pd.DataFrame) -> float:
            w, p = promised_rows(d)
            return float(np.mean(w - p)) if len(w) else math.nan

        def share(d: pd.DataFrame) -> float:
            w, p = promised_rows(d)
            return float(np.mean(w > p)) if len(w) else math.nan

        add(4, "wait_vs_promise", each(broken), unit,
            "delivered mean wait - promised wait, customers who were promised a wait "
            "(positive: the promise is broken)")
        add(4, "share_waiting_longer_than_promised", each(share), "share",
            "customers who were promised a wait and waited longer")
    else:
        add(4, "wait_vs_promise", [math.nan], unit, "NaN: no class has quality.expectations.promised_wait")
    for dim in DIMENSIONS:
        add(5, dim, each(lambda d, dim=dim: (d[dim] - d[f"exp_{dim}"]).mean()), "points (1-7)",
            f"perceived - expected {dim}")
    add(5, "servqual", each(lambda d: np.mean([(d[x] - d[f"exp_{x}"]).mean() for x in DIMENSIONS])),
        "points (1-7)", "mean over the five dimensions of perceived - expected (unweighted SERVQUAL)")
    return pd.DataFrame(
        rows, columns=["gap", "name", "measure", "value", "ci_low", "ci_high", "n", "unit", "definition"]
    )
