"""Results of an experiment: per-replication metrics and their summaries.

The engine returns plain dictionaries; this module turns them into tidy
pandas tables (docs/metrics.md): one row per replication × scope × metric, and a summary with
the mean, standard deviation, confidence interval, number of replications and
the interval's method per (scope, metric). Intervals respect each metric's
range (shares inside [0, 1], waits and counts >= 0) by the methods of
:func:`simlib.experiments.statistics.metric_interval`, named in the
``method`` column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from simlib.engine import ReplicationRecord
from simlib.engine.quality import CUSTOMER_COLUMNS
from simlib.experiments.statistics import Interval, metric_interval, t_interval
from simlib.spec.scenario import Scenario

__all__ = ["Results", "SUMMARY_COLUMNS"]

#: Columns of :meth:`Results.summary`.
SUMMARY_COLUMNS = ["scope", "metric", "mean", "std", "ci_low", "ci_high", "n", "method"]

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
        """Mean, std, ``level`` interval, n and method for every (scope, metric).

        ``method`` says how the interval was computed: ``wilson`` (shares,
        inside [0, 1]), ``exact`` (a share that is 0 or 1 in every
        replication: Clopper–Pearson over the scope's customers), ``log-t``
        (non-negative quantities, >= 0), ``t`` (the rest) or ``constant``;
        see :mod:`simlib.experiments.statistics`.
        """
        return summarise(self.runs, level)

    def intervals(self, period: float | None = None, level: float = 0.95) -> pd.DataFrame:
        """Metrics per time interval of the observed window, over replications.

        Columns ``start, end, scope, metric, mean, std, ci_low, ci_high, n,
        method``, with intervals as in :meth:`summary`.
        Intervals are recorded during the run (``simlib.run(..., interval=P)``);
        ``period`` may be omitted, or must equal the recorded one.
        """
        recorded = [r for r in self.records if r.intervals]
        if not recorded:
            raise ValueError(
                "no per-interval metrics were recorded: run with interval=PERIOD "
                "(e.g. simlib.run(scenario, ..., interval=30))"
            )
        first = recorded[0].intervals[0]
        length = first.end - first.start
        if period is not None and abs(period - length) > 1e-9 * max(1.0, length):
            raise ValueError(
                f"intervals of {period:g} were asked for, but this run recorded {length:g}; "
                f"run again with interval={period:g}"
            )
        rows = []
        for i, (start, end, block) in enumerate(recorded[0].intervals):
            for scope, metrics in block.items():
                blocks = [r.intervals[i].metrics[scope] for r in recorded]
                for metric in metrics:
                    iv = _interval(blocks, metric, level)
                    rows.append((start, end, scope, metric, *_row(iv)))
        return pd.DataFrame(rows, columns=["start", "end", *SUMMARY_COLUMNS])

    def trace(self, observed: bool = False) -> pd.DataFrame:
        """The event log of the traced replications (docs/traces.md#event-log-layout).

        Columns ``replication, customer, class, station, event, time`` (time in
        observed time units; negative during the warm-up), sorted by replication
        and time. With ``observed=True`` only customers who arrived during the
        observed window are kept (all their events, also those after it), which
        is what a real log of that period would hold.
        """
        traced = [r for r in self.records if r.events is not None]
        if not traced:
            raise ValueError("no event trace was recorded: run with trace=True")
        rows = [(r.replication, *event) for r in traced for event in r.events]
        table = pd.DataFrame(
            rows, columns=["replication", "customer", "class", "station", "event", "time"]
        )
        if observed:
            first = table.groupby(["replication", "customer"])["time"].transform("min")
            table = table[(first >= 0) & (first < self.scenario.horizon)].reset_index(drop=True)
        return table

    def customers(self) -> pd.DataFrame:
        """Experience of every observed customer (scenarios with a quality block).

        One row per customer and replication with the SERVQUAL perceptions and
        expectations (1–7), Brady–Cronin sub-dimensions and primary dimensions,
        perceived quality, satisfaction and what happened (abandoned, blocked,
        failed, recovered, complained, returns, wait); see
        :mod:`simlib.spec.quality`.
        """
        with_rows = [r for r in self.records if r.customers is not None]
        if self.scenario.quality is None:
            raise ValueError("no customer experience was recorded: the scenario needs a quality block")
        if len(with_rows) < len(self.records):
            # Replications loaded from a result store carry metrics only.
            missing = [r.replication for r in self.records if r.customers is None]
            raise ValueError(
                f"customer rows are missing for replications {missing[:5]}"
                f"{'...' if len(missing) > 5 else ''} (loaded from a result store, which keeps "
                "metrics only); run them again without out= to get customers() and "
                "simlib.analysis.gaps()"
            )
        frames = [
            pd.DataFrame(list(r.customers), columns=list(CUSTOMER_COLUMNS)).assign(replication=r.replication)
            for r in with_rows
        ]
        table = pd.concat(frames, ignore_index=True)
        return table[["replication", *CUSTOMER_COLUMNS]]

    def value(self, scope: str, metric: str) -> float:
        """Mean over replications of one metric (a shortcut for notebooks)."""
        return t_interval([run[scope][metric] for run in self.runs]).mean


def summarise(runs: Sequence[Metrics], level: float = 0.95) -> pd.DataFrame:
    """Summary table of a list of per-replication metric dicts."""
    if not runs:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    rows = []
    for scope, metrics in runs[0].items():
        blocks = [run[scope] for run in runs]
        for metric in metrics:
            rows.append((scope, metric, *_row(_interval(blocks, metric, level))))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _interval(blocks: Sequence[Mapping[str, float]], metric: str, level: float) -> Interval:
    """The interval of ``metric`` over one scope's per-replication metrics.

    The scope's arrivals in the replications where the metric is defined are
    the customers a share is counted over, should it be 0 or 1 in all of them.
    """
    values = [b[metric] for b in blocks]
    trials = sum(b.get("arrivals", 0.0) for b in blocks if not math.isnan(b[metric]))
    return metric_interval(values, metric, level, trials=trials or None)


def _row(iv: Interval) -> tuple[float, float, float, float, int, str]:
    return iv.mean, iv.std, iv.ci_low, iv.ci_high, iv.n, iv.method
