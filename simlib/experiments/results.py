"""Results of an experiment: per-replication metrics and their summaries.

The engine returns plain dictionaries; this module turns them into tidy
pandas tables (docs/metrics.md): one row per replication × scope × metric, and a summary with
the mean, standard deviation, confidence interval, number of replications and
the interval's method per (scope, metric). Intervals respect each metric's
range (shares inside [0, 1], waits and counts >= 0) by the methods of
:func:`simlib.experiments.statistics.metric_interval`, named in the
``method`` column.

Every result keeps its replication records, so whatever is computed
downstream (costs, gaps, customers, other metrics or confidence levels) is
computed from them and nothing is simulated twice: :class:`Results` is one
scenario's run (:func:`simlib.run`), :class:`SweepResults` holds the
``Results`` of every point of a sweep (:func:`simlib.sweep`) and
:class:`Comparison` those of a base and its variants (:func:`simlib.compare`).
The last two give the tables earlier versions returned as ``.table`` and
render as that table in notebooks.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from simlib.engine import ReplicationRecord
from simlib.engine.quality import customer_columns
from simlib.experiments.statistics import Interval, metric_interval, t_interval
from simlib.spec.scenario import Scenario

__all__ = ["Results", "SweepResults", "Comparison", "SUMMARY_COLUMNS", "COMPARE_COLUMNS"]

#: Columns of :meth:`Results.summary`.
SUMMARY_COLUMNS = ["scope", "metric", "mean", "std", "ci_low", "ci_high", "n", "method"]

#: Columns of :meth:`Comparison.differences`.
COMPARE_COLUMNS = ["variant", "scope", "metric", "diff", "ci_low", "ci_high", "n"]

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
        rows = [(r.replication, *event) for r in traced for event in (r.events or ())]
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
        failed, recovered, complained, returns, wait) and, with
        ``quality.indicators``, one column per indicator (the customer's score;
        NaN for a class it does not cover); see :mod:`simlib.spec.quality`.
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
        columns = customer_columns(self.scenario.quality)
        frames = [
            pd.DataFrame(list(r.customers or ()), columns=list(columns)).assign(replication=r.replication)
            for r in with_rows
        ]
        table = pd.concat(frames, ignore_index=True)
        return table[["replication", *columns]]

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


class _Tabular:
    """Shows an experiment's :attr:`table` where a notebook or a console shows the object."""

    table: pd.DataFrame

    def __repr__(self) -> str:
        return repr(self.table)

    def _repr_html_(self) -> str | None:
        return self.table._repr_html_()

    def __getattr__(self, name: str) -> Any:
        # Earlier versions returned the table itself: point code written for them to it.
        if not name.startswith("_") and hasattr(pd.DataFrame, name):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}; "
                                 f"the table is .table (.table.{name})")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __getitem__(self, key: Any) -> Any:
        raise TypeError(f"{type(self).__name__!r} object is not subscriptable; "
                        "the table is .table (.table[...])")


@dataclass(frozen=True, repr=False)
class SweepResults(_Tabular):
    """What :func:`simlib.sweep` returns: the :class:`Results` of every point of the grid.

    ``table`` (also what the object shows in a notebook) is the summary of
    every point: one column per swept path, then
    ``scope, metric, mean, std, ci_low, ci_high, n``. :meth:`at` gives one
    point's ``Results`` (records, customers, gaps, intervals) without
    simulating again.
    """

    #: The swept dotted paths, in the order of the grid.
    paths: tuple[str, ...]
    #: Each point's ``{path: value}``, in the order of the grid's Cartesian product.
    points: tuple[Mapping[str, Any], ...]
    #: Each point's replications, in the same order.
    results: tuple[Results, ...] = field(repr=False)
    #: Confidence level of ``table``.
    level: float = 0.95

    @cached_property
    def table(self) -> pd.DataFrame:
        """The summary of every point at ``level`` (see the class notes)."""
        return self.summary(self.level)

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """The summary of every point at another confidence level."""
        frames = []
        for point, res in zip(self.points, self.results, strict=True):
            table = res.summary(level)
            for j, path in enumerate(self.paths):
                table.insert(j, path, [point[path]] * len(table))
            frames.append(table)
        return pd.concat(frames, ignore_index=True)

    def __len__(self) -> int:
        return len(self.points)

    def __iter__(self) -> Iterator[tuple[Mapping[str, Any], Results]]:
        """``({path: value}, Results)`` of each point."""
        return iter(zip(self.points, self.results, strict=True))

    def at(self, point: Mapping[str, Any] | Any) -> Results:
        """The ``Results`` of one point: ``{path: value}``, or the value when one path is swept."""
        wanted = point if isinstance(point, Mapping) else None
        if wanted is None:
            if len(self.paths) != 1:
                raise ValueError(f"give {{path: value}} for the paths {list(self.paths)}")
            wanted = {self.paths[0]: point}
        for values, res in self:
            if all(values.get(k) == v for k, v in wanted.items()) and set(wanted) == set(values):
                return res
        raise KeyError(f"no point {dict(wanted)!r} in the sweep")


@dataclass(frozen=True, repr=False)
class Comparison(_Tabular):
    """What :func:`simlib.compare` returns: the :class:`Results` of a base and its variants.

    ``table`` (also what the object shows in a notebook) holds the paired
    differences ``variant, scope, metric, diff, ci_low, ci_high, n``
    (variant − base, replication ``r`` paired with replication ``r``);
    :meth:`results` gives any scenario's ``Results`` without simulating again.
    """

    #: The base scenario's replications.
    base: Results = field(repr=False)
    #: Each variant's replications, by name, in the order given.
    variants: Mapping[str, Results] = field(repr=False)
    #: Confidence level of ``table``.
    level: float = 0.95

    @cached_property
    def table(self) -> pd.DataFrame:
        """The paired differences at ``level`` (see the class notes)."""
        return self.differences(self.level)

    def differences(self, level: float = 0.95) -> pd.DataFrame:
        """The paired differences at another confidence level.

        Every (scope, metric) that both the base and the variant report is
        compared; ``n`` counts the replications where both values are defined.
        """
        base_runs = self.base.runs
        rows = []
        for name, res in self.variants.items():
            runs = res.runs
            for scope, metrics in base_runs[0].items():
                for metric in metrics:
                    if metric not in runs[0].get(scope, {}):
                        continue
                    diffs = [v[scope][metric] - b[scope][metric]
                             for v, b in zip(runs, base_runs, strict=True)]
                    iv = t_interval(diffs, level)
                    rows.append((name, scope, metric, iv.mean, iv.ci_low, iv.ci_high, iv.n))
        return pd.DataFrame(rows, columns=COMPARE_COLUMNS)

    def results(self, name: str = "base") -> Results:
        """The ``Results`` of ``"base"`` or of the variant called ``name``."""
        if name == "base" and name not in self.variants:
            return self.base
        if name not in self.variants:
            raise KeyError(f"no variant {name!r} (variants: {', '.join(self.variants)})")
        return self.variants[name]
