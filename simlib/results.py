"""Results of an experiment: per-replication metrics and their summaries.

The engine returns plain dictionaries; this module turns them into tidy
pandas tables (``DESIGN.md`` §Metrics): one row per replication × scope ×
metric, and a summary with the mean, standard deviation, t-interval and
number of replications per (scope, metric).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from simlib.engine import ReplicationRecord
from simlib.metrics import t_interval
from simlib.scenario import Scenario

__all__ = ["Results", "SUMMARY_COLUMNS"]

#: Columns of :meth:`Results.summary`.
SUMMARY_COLUMNS = ["scope", "metric", "mean", "std", "ci_low", "ci_high", "n"]

Metrics = dict[str, dict[str, float]]


@dataclass(frozen=True)
class Results:
    """What :func:`simlib.run` returns."""

    scenario: Scenario
    #: Root seed of the experiment.
    seed: int
    #: What each replication produced, in replication order.
    records: Sequence[ReplicationRecord] = field(repr=False)

    @property
    def runs(self) -> list[Metrics]:
        """Whole-window metrics ``{scope: {metric: value}}`` of each replication."""
        return [r.metrics for r in self.records]

    @property
    def n_replications(self) -> int:
        """Number of replications."""
        return len(self.records)

    def replications(self) -> pd.DataFrame:
        """One row per replication × scope × metric: ``replication, scope, metric, value``."""
        rows = [
            (record.replication, scope, metric, value)
            for record in self.records
            for scope, metrics in record.metrics.items()
            for metric, value in metrics.items()
        ]
        return pd.DataFrame(rows, columns=["replication", "scope", "metric", "value"])

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Mean, std, ``level`` t-interval and n for every (scope, metric)."""
        return summarise(self.runs, level)

    def value(self, scope: str, metric: str) -> float:
        """Mean over replications of one metric (a shortcut for notebooks)."""
        return t_interval([run[scope][metric] for run in self.runs]).mean


def summarise(runs: Sequence[Metrics], level: float = 0.95) -> pd.DataFrame:
    """Summary table of a list of per-replication metric dicts."""
    if not runs:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    rows = []
    for scope, metrics in runs[0].items():
        for metric in metrics:
            iv = t_interval([run[scope][metric] for run in runs], level)
            rows.append((scope, metric, iv.mean, iv.std, iv.ci_low, iv.ci_high, iv.n))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
