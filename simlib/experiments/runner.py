"""Experiments: replications, sweeps and paired comparisons, on any executor.

An experiment has one root seed; replication ``r`` of every scenario variant
draws its random numbers from ``SeedSequence(seed, spawn_key=(r,))``
(docs/architecture.md#randomness-and-reproducibility). Three things follow, and this module is built
on them:

* **Executors do not change results.** A replication is a pure function of
  (scenario, seed, r), so running the (point, replication) tasks in this
  process, in local worker processes (``jobs=N``) or on a Dask cluster
  (``executor="dask"``) gives the same numbers bit for bit; results are put
  back in replication order before anything is summarised.
* **Common random numbers.** Points of a sweep and variants of a comparison
  see the same arrivals and service requirements in replication ``r``, so
  their differences are measured on the same "days" and paired intervals are
  much narrower than independent ones (Law 2015, *Simulation Modeling and
  Analysis*, §11.2).
* **Resumable stores.** Each finished task can be written to disk as it
  completes (:mod:`simlib.experiments.store`); rerunning loads it instead of recomputing.

Replications are independent and identically distributed, so the mean of a
metric over replications has a Student-t confidence interval. With
``replications="auto"`` replications are added until the interval's
half-width is within a relative ``precision`` of the mean (the sequential
procedure of Law 2015, §9.4.1), up to a maximum.

Two problems are reported once per experiment rather than once per
replication: a station whose offered load reaches its capacity
(:class:`CapacityWarning`, checked before anything runs, see
:mod:`simlib.experiments.capacity`), and customers still present at the
drain limit, whose waits are censored there (:class:`CensoringWarning`,
with the number of replications and customers concerned).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import reprlib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from simlib.engine import ReplicationRecord
from simlib.experiments.budget import (
    MAX_WORK,
    check_work,
    expected_arrivals,
    work_per_replication,
)
from simlib.experiments.capacity import offered_loads
from simlib.experiments.execution import Execution, ExecutorName, Point, Task
from simlib.experiments.results import COMPARE_COLUMNS, Comparison, Results, SweepResults
from simlib.experiments.statistics import METRICS, t_interval
from simlib.experiments.store import ResultStore
from simlib.spec.scenario import Scenario, ScenarioError, load_scenario
from simlib.spec.validation import count

__all__ = [
    "run",
    "sweep",
    "compare",
    "variant_seed",
    "PrecisionWarning",
    "CapacityWarning",
    "CensoringWarning",
    "WindowWarning",
    "MissingMetricWarning",
    "COMPARE_COLUMNS",
]

log = logging.getLogger(__name__)

ScenarioLike = Scenario | Mapping[str, Any] | str | os.PathLike[str]
Replications = int | Literal["auto"]



class PrecisionWarning(UserWarning):
    """``replications="auto"`` stopped at the maximum before reaching the precision."""


class CapacityWarning(UserWarning):
    """A station's offered load reaches or exceeds its (time-averaged) servers."""


class CensoringWarning(UserWarning):
    """Customers were still present at the drain limit: their waits are censored."""


class WindowWarning(UserWarning):
    """The observation window expects so few arrivals that metrics are NaN or noise."""


class MissingMetricWarning(UserWarning):
    """A system metric is NaN (undefined) in every replication."""


#: Fewer expected arrivals in the observed window than this triggers a WindowWarning.
MIN_WINDOW_ARRIVALS = 10


# --------------------------------------------------------------------------- collecting


@dataclass(frozen=True)
class _Precision:
    """Stopping rule of ``replications="auto"``."""

    scope: str
    metric: str
    precision: float
    minimum: int
    maximum: int

    def reached(self, records: Sequence[ReplicationRecord], level: float = 0.95) -> bool:
        iv = t_interval([r.metrics.get(self.scope, {}).get(self.metric, math.nan)
                         for r in records], level)
        return iv.n >= 2 and iv.half_width <= self.precision * abs(iv.mean)

    def next_count(self, records: Sequence[ReplicationRecord], level: float = 0.95) -> int:
        """How many replications to have after the next round.

        The half-width shrinks like ``1/sqrt(n)``, so ``n * (h / target)^2``
        estimates the replications needed. The answer depends only on the
        values seen, never on the executor, so the final count is reproducible.
        """
        n = len(records)
        iv = t_interval([r.metrics.get(self.scope, {}).get(self.metric, math.nan)
                         for r in records], level)
        target = self.precision * abs(iv.mean)
        if iv.n < 2 or not target > 0 or not math.isfinite(iv.half_width):
            wanted = 2 * n
        else:
            wanted = math.ceil(n * (iv.half_width / target) ** 2 * 1.1)
        # Grow by at least one and at most four-fold per round: early estimates are rough.
        return min(self.maximum, max(n + 1, min(wanted, 4 * n)))


def _collect(
    points: Sequence[Point],
    replications: Replications,
    *,
    precision: _Precision | None,
    execution: Execution,
    store: ResultStore | None,
    engine_options: Mapping[str, Any],
    desc: str,
    known: Mapping[int, Sequence[ReplicationRecord]] | None = None,
    max_work: float = MAX_WORK,
) -> list[list[ReplicationRecord]]:
    """Records of every point, each list in replication order.

    ``known`` records (by point index) are used as they are; stored
    replications are loaded; missing ones are run on the executor and
    written to the store as each finishes.
    """
    found: list[dict[int, ReplicationRecord]] = [{} for _ in points]
    if store is not None:
        for p in points:
            store.register_point(p.key, p.overrides, p.seed)
    for i, records in (known or {}).items():
        found[i].update((r.replication, r) for r in records)
        if store is not None:
            on_disk = store.stored(points[i].key)
            for rec in records:
                if rec.replication not in on_disk:
                    store.save(points[i].key, rec)
    if replications == "auto":
        assert precision is not None
        counts = [precision.minimum] * len(points)
    else:
        counts = [int(replications)] * len(points)
    active = set(range(len(points)))
    # replications="auto" stops growing where the next round would pass the work budget
    per = [work_per_replication(p.scenario) for p in points] if precision is not None else []
    budget_hit = False
    bar = execution.progress_bar(0, desc)
    try:
        with execution.open() as ex:
            while active:
                tasks: list[Task] = []
                for i in sorted(active):
                    have = found[i]
                    wanted = [r for r in range(counts[i]) if r not in have]
                    if store is not None:
                        on_disk = store.stored(points[i].key)
                        for r in [r for r in wanted if r in on_disk]:
                            have[r] = store.load(points[i].key, r)
                    tasks.extend(Task(i, r) for r in range(counts[i]) if r not in have)
                bar.add_total(len(tasks))
                for task, record in ex.run(tasks, points, engine_options):
                    if store is not None:
                        store.save(points[task.point].key, record)
                    found[task.point][task.replication] = record
                    bar.update()
                if precision is None:
                    break
                for i in list(active):
                    records = [found[i][r] for r in range(counts[i])]
                    if precision.reached(records) or counts[i] >= precision.maximum:
                        active.discard(i)
                    else:
                        counts[i] = precision.next_count(records)
                if active and sum(c * w for c, w in zip(counts, per, strict=True)) > max_work:
                    for i in active:
                        counts[i] = len(found[i])
                    active.clear()
                    budget_hit = True
    finally:
        bar.close()
    out = [[found[i][r] for r in range(counts[i])] for i in range(len(points))]
    _warn_censored(points, out)
    _warn_missing(points, out)
    if precision is not None:
        for p, records in zip(points, out, strict=True):
            label = _label(p)
            if budget_hit and not precision.reached(records):
                warnings.warn(
                    f"{label}: {len(records)} replications do not reach ±{precision.precision:g} "
                    f"relative precision on {precision.scope}.{precision.metric}; more would "
                    f"pass the work budget max_work={max_work:.3g}", PrecisionWarning,
                    stacklevel=3)
            elif precision.reached(records):
                log.info("%s: %d replications reach ±%g on %s.%s", label, len(records),
                         precision.precision, precision.scope, precision.metric)
            else:
                warnings.warn(
                    f"{label}: {len(records)} replications (the maximum) do not reach "
                    f"±{precision.precision:g} relative precision on "
                    f"{precision.scope}.{precision.metric}", PrecisionWarning, stacklevel=3)
    return out


# Short labels for points in warnings: a swept profile's rates are a long list.
_SHORT = reprlib.Repr()
_SHORT.maxlist = _SHORT.maxdict = 4
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 3, 40, 40


def _label(point: Point) -> str:
    return (", ".join(f"{k}={_SHORT.repr(v)}" for k, v in point.overrides.items())
            or point.scenario.name)


def _warn_censored(points: Sequence[Point], records: Sequence[Sequence[ReplicationRecord]]) -> None:
    """One :class:`CensoringWarning` for all replications (and points) that censored customers."""
    hit = [(p, [r.censored for r in recs if r.censored]) for p, recs in zip(points, records,
                                                                              strict=True)]
    hit = [(p, counts) for p, counts in hit if counts]
    if not hit:
        return
    total = sum(len(recs) for recs in records)
    reps = sum(len(counts) for _, counts in hit)
    customers = sum(sum(counts) for _, counts in hit)
    where = f" ({'; '.join(_label(p) for p, _ in hit)})" if len(points) > 1 else ""
    warnings.warn(
        f"{points[0].scenario.name}: in {reps} of {total} replications{where} customers were "
        f"still present at the drain limit ({customers} in all, "
        f"{customers / reps:.3g} per such replication) and are censored: their waits count up "
        "to that time. The system is probably overloaded or closes with customers waiting.",
        CensoringWarning, stacklevel=4)


def _warn_window(points: Sequence[Point]) -> None:
    """One :class:`WindowWarning` when a point's window expects fewer than a few arrivals."""
    for p in points:
        n = sum(expected_arrivals(p.scenario, warmup=False).values())
        if n < MIN_WINDOW_ARRIVALS:
            where = f" ({_label(p)})" if len(points) > 1 else ""
            warnings.warn(
                f"{p.scenario.name}{where}: the observation window (horizon "
                f"{p.scenario.horizon:g} {p.scenario.time_unit}s) expects {n:.3g} arrivals per "
                "replication: metrics will be undefined (NaN) or rest on a handful of customers",
                WindowWarning, stacklevel=3)
            return


def _warn_missing(points: Sequence[Point], records: Sequence[Sequence[ReplicationRecord]]) -> None:
    """One :class:`MissingMetricWarning` naming system metrics NaN in every replication."""
    for p, recs in zip(points, records, strict=True):
        if not recs:
            continue
        names = [m for m, v in recs[0].metrics.get("system", {}).items()
                 if isinstance(v, float) and math.isnan(v)
                 and all(math.isnan(r.metrics["system"].get(m, math.nan)) for r in recs)]
        if names:
            where = f" ({_label(p)})" if len(points) > 1 else ""
            warnings.warn(
                f"{p.scenario.name}{where}: {', '.join(names[:6])}"
                f"{', ...' if len(names) > 6 else ''} undefined (NaN) in all {len(recs)} "
                "replications: no customer finished what they measure in the window",
                MissingMetricWarning, stacklevel=4)
            return


def _overload_text(scn: Scenario) -> str | None:
    """Every station of ``scn`` whose offered load reaches capacity, and what follows; or None."""
    over = [s for s in offered_loads(scn) if s.utilisation >= 1 - 1e-9]
    if not over:
        return None
    relief = any(c.patience is not None for c in scn.classes) or any(
        scn.station(s.station).queue_capacity is not None for s in over) or (
        scn.system_capacity is not None)
    stations = "; ".join(
        f"station {s.station!r} is offered {s.offered_load:.3g} Erlangs on {s.servers:.3g} "
        f"servers{' (time-averaged over its shifts)' if scn.station(s.station).shifts else ''}, "
        f"a load of {s.utilisation:.0%}" for s in over)
    consequence = ("customers abandon or are blocked instead of being served"
                   if relief else "the queue grows for as long as the run lasts, so waits "
                   "depend on the horizon rather than settling")
    return f"{stations} of capacity: {consequence}"


def _refuse_unstable_auto(points: Sequence[Point]) -> None:
    """``replications="auto"`` cannot reach a precision on a queue that grows for ever."""
    for p in points:
        scn = p.scenario
        if any(c.patience is not None for c in scn.classes) or scn.system_capacity is not None:
            continue  # abandonment (or a system capacity) keeps the queue finite
        over = [s for s in offered_loads(scn) if s.utilisation >= 1 - 1e-9
                and scn.station(s.station).queue_capacity is None]
        if over:
            where = f" ({_label(p)})" if len(points) > 1 else ""
            raise ValueError(
                f"{scn.name}{where}: replications='auto' needs a stable model, but station "
                f"{over[0].station!r} is loaded to {over[0].utilisation:.0%} of capacity with "
                "no abandonment or queue capacity: its waits grow with the horizon, so no "
                "number of replications estimates them; give a number of replications")


def _warn_overloaded(points: Sequence[Point]) -> None:
    """One :class:`CapacityWarning` per run, sweep or comparison, naming the overloaded stations.

    For several points it names the points where it happens and describes the first.
    """
    found = [(p, text) for p in points if (text := _overload_text(p.scenario)) is not None]
    if not found:
        return
    name = points[0].scenario.name
    if len(points) == 1:
        message = f"{name}: {found[0][1]}."
    else:
        where = "; ".join(_label(p) for p, _ in found[:5]) + ("; ..." if len(found) > 5 else "")
        message = (f"{name}: at {len(found)} of {len(points)} points ({where}) a station's "
                   f"offered load reaches capacity; at the first, {found[0][1]}.")
    warnings.warn(message, CapacityWarning, stacklevel=3)


def _check_budget(points: Sequence[Point], replications: Replications,
                  rule: _Precision | None, max_work: float) -> None:
    """Refuse an experiment whose first round of replications passes the work budget."""
    first = rule.minimum if rule is not None else int(replications)
    check_work([p.scenario for p in points], first, max_work)


def _precision_rule(
    scenario: Scenario,
    replications: Any,
    precision: float,
    metric: str,
    min_replications: int,
    max_replications: int,
) -> _Precision | None:
    if replications != "auto":
        count("", "replications", replications, 1)
        return None
    if not (isinstance(precision, int | float) and 0 < precision < 1):
        raise ValueError(f"precision must be a relative half-width in (0, 1), got {precision!r}")
    minimum = count("", "min_replications", min_replications, 2)
    maximum = count("", "max_replications", max_replications, minimum)
    scope, _, name = metric.rpartition(".")
    scope = scope or "system"
    if name not in METRICS:
        raise ValueError(f"metric: unknown metric {name!r} (metrics: {', '.join(METRICS)})")
    scopes = ["system", *(s.name for s in scenario.stations), *(c.name for c in scenario.classes)]
    if scope not in scopes:
        raise ValueError(f"metric: unknown scope {scope!r} (scopes: {', '.join(scopes)})")
    # Some metrics exist only for some scopes or scenarios: stop before running to the maximum.
    if name == "service_level" and scenario.service_level is None:
        raise ValueError("metric: service_level needs targets.service_level in the scenario")
    if name == "utilization" and scope in {c.name for c in scenario.classes}:
        raise ValueError(f"metric: utilization is reported for stations and the system, not class {scope!r}")
    return _Precision(scope, name, float(precision), minimum, maximum)


def _open_store(execution: Execution, kind: str, scenario: Scenario, seed: int,
                engine_options: Mapping[str, Any], **details: Any) -> ResultStore | None:
    out = execution.store
    if out is None:
        return None
    if engine_options.get("trace"):
        # Event logs are for inspection and are not part of the stored rows;
        # a resumed run would silently come back without them.
        raise ValueError("trace=True cannot be combined with out= (event logs are not stored)")
    return ResultStore.open(out, kind=kind, scenario=scenario, seed=seed,
                            engine_options=engine_options, **details)


# --------------------------------------------------------------------------- run


def run(
    scenario: ScenarioLike,
    replications: Replications = 10,
    seed: int = 0,
    *,
    jobs: int | None = None,
    executor: ExecutorName = "local",
    address: Any = None,
    out: str | os.PathLike[str] | None = None,
    progress: bool = True,
    execution: Execution | None = None,
    precision: float = 0.05,
    metric: str = "mean_wait",
    min_replications: int = 10,
    max_replications: int = 1000,
    max_work: float = MAX_WORK,
    **engine_options: Any,
) -> Results:
    """Simulate independent replications of a scenario.

    Parameters
    ----------
    scenario
        A :class:`~simlib.spec.scenario.Scenario`, a scenario dict or a YAML path.
    replications
        Number of replications (each observes ``horizon`` time units), or
        ``"auto"``: add replications until the 95% half-width of ``metric``
        is within ``precision`` × its mean, between ``min_replications`` and
        ``max_replications``. ``Results.n_replications`` tells how many it
        took; a :class:`PrecisionWarning` says when the maximum was not enough.
    seed
        Root seed; the same seed gives identical results on every executor.
    jobs, executor, address, progress
        Where and how the replications run, as the fields of
        :class:`~simlib.experiments.execution.Execution`: ``jobs`` worker
        processes (``None``, the default: every core once the work, timed on
        the first replication, repays starting them; ``1``: this process),
        ``executor`` ``"local"`` or ``"dask"``, the Dask ``address`` (``None``
        starts a ``LocalCluster``; a scheduler address or a
        ``distributed.Client``), and a progress bar for runs over a second.
    out
        A result-store directory (:mod:`simlib.experiments.store`; the
        ``store`` of the Execution): each finished replication is written as
        it completes, a rerun loads what is stored, and the summary is
        written as ``results.parquet``.
    execution
        An :class:`~simlib.experiments.execution.Execution` holding all of
        the above; give either it or those keywords.
    precision, metric, min_replications, max_replications
        The stopping rule of ``replications="auto"``; ``metric`` is a metric
        name (system scope) or ``"scope.metric"``, e.g. ``"agents.mean_wait"``.
    max_work
        Budget of station visits (:mod:`simlib.experiments.budget`): an
        experiment estimated above it is refused before it runs
        (:class:`~simlib.experiments.budget.WorkBudgetError`); with
        ``replications="auto"`` the replications stop growing at it (with a
        :class:`PrecisionWarning`).
    **engine_options
        Passed on to :func:`simlib.engine.simulate`.

    Returns
    -------
    Results
        ``.summary()`` and ``.replications()`` give tidy tables.

    Warns
    -----
    CapacityWarning
        Once, before anything runs, when a station's offered load reaches or
        exceeds its servers (:func:`simlib.experiments.capacity.offered_loads`).
    CensoringWarning
        Once, with counts, when customers were still present at the drain
        limit in some replications.
    PrecisionWarning
        When ``replications="auto"`` stops at the maximum.
    """
    ex = Execution.of(execution, jobs=jobs, executor=executor, address=address,
                      progress=progress, out=out)
    scn = load_scenario(scenario)
    count("", "seed", seed, 0)
    rule = _precision_rule(scn, replications, precision, metric, min_replications,
                           max_replications)
    point = Point({}, scn, int(seed))
    _check_budget([point], replications, rule, max_work)
    if rule is not None:
        _refuse_unstable_auto([point])
    _warn_window([point])
    _warn_overloaded([point])
    store = _open_store(ex, "run", scn, seed, engine_options, replications=replications,
                        **({"precision": precision, "metric": metric} if rule else {}))
    [records] = _collect([point], replications, precision=rule, execution=ex, store=store,
                       engine_options=engine_options, desc=scn.name, max_work=max_work)
    results = Results(scn, int(seed), records)
    if store is not None:
        store.write_results(results.summary())
    return results


# --------------------------------------------------------------------------- sweep


def _plain_value(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _grid_points(scn: Scenario, grid: Any) -> tuple[list[str], list[dict[str, Any]]]:
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError("grid: give {dotted.path: [values, ...]} with at least one path")
    paths: list[str] = []
    values: list[list[Any]] = []
    for path, vals in grid.items():
        if not isinstance(path, str) or not path:
            raise ValueError(f"grid: keys are dotted paths such as 'stations.contact.servers', "
                             f"got {path!r}")
        if isinstance(vals, str | bytes | Mapping) or not isinstance(
            vals, Sequence | np.ndarray | range
        ):
            raise ValueError(f"grid[{path!r}]: give a list of values, got {vals!r}")
        vals = [_plain_value(v) for v in vals]
        if not vals:
            raise ValueError(f"grid[{path!r}]: give at least one value")
        for a, b in itertools.combinations(vals, 2):
            if a == b:
                raise ValueError(f"grid[{path!r}]: value {a!r} is given twice")
        paths.append(path)
        values.append(vals)
    return paths, [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*values)]


def _build_points(scn: Scenario, overrides: Sequence[Mapping[str, Any]],
                  seeds: Sequence[int]) -> list[Point]:
    # Every point is validated like a scenario file before anything runs.
    return [Point(dict(o), scn.with_overrides(o) if o else scn, int(s))
            for o, s in zip(overrides, seeds, strict=True)]


def sweep(
    scenario: ScenarioLike,
    grid: Mapping[str, Sequence[Any]],
    replications: Replications = 10,
    seed: int = 0,
    *,
    jobs: int | None = None,
    executor: ExecutorName = "local",
    address: Any = None,
    out: str | os.PathLike[str] | None = None,
    progress: bool = True,
    execution: Execution | None = None,
    precision: float = 0.05,
    metric: str = "mean_wait",
    min_replications: int = 10,
    max_replications: int = 1000,
    level: float = 0.95,
    max_work: float = MAX_WORK,
    **engine_options: Any,
) -> SweepResults:
    """Simulate every combination of parameter values with common random numbers.

    Parameters
    ----------
    scenario
        The base scenario.
    grid
        ``{dotted.path: [values, ...]}``, e.g.
        ``{"stations.contact.servers": [12, 13, 14], "classes.standard.arrivals.rate": [3.0, 3.5]}``;
        paths are those of :meth:`Scenario.with_overrides`. The points are the
        Cartesian product, in the order given. Each point is validated before
        anything runs; a bad path or value raises
        :class:`~simlib.spec.scenario.ScenarioError` naming it.
    replications, seed, jobs, executor, address, progress, execution, precision, metric, min_replications, max_replications
        As in :func:`run`. Every point uses the same root seed, so replication
        ``r`` of each point sees the same random numbers (common random
        numbers); with ``"auto"`` each point gets the replications it needs.
    out
        A result-store directory; rerunning with the same arguments resumes,
        and the final table is written as ``results.parquet``.
    level
        Confidence level of the intervals.
    **engine_options
        Passed on to :func:`simlib.engine.simulate`.

    Returns
    -------
    SweepResults
        The ``Results`` of every point (``.at(value)``); its ``table`` (what
        it shows in a notebook) has one column per swept path (named by the
        path) followed by the columns of :meth:`Results.summary`; one row per
        point × scope × metric.
    """
    ex = Execution.of(execution, jobs=jobs, executor=executor, address=address,
                      progress=progress, out=out)
    scn = load_scenario(scenario)
    count("", "seed", seed, 0)
    rule = _precision_rule(scn, replications, precision, metric, min_replications,
                           max_replications)
    paths, overrides = _grid_points(scn, grid)
    points = _build_points(scn, overrides, [seed] * len(overrides))
    _check_budget(points, replications, rule, max_work)
    if rule is not None:
        _refuse_unstable_auto(points)
    _warn_window(points)
    _warn_overloaded(points)
    store = _open_store(ex, "sweep", scn, seed, engine_options,
                        grid={p: list(dict.fromkeys(o[p] for o in overrides)) for p in paths},
                        replications=replications,
                        **({"precision": precision, "metric": metric} if rule else {}))
    records = _collect(points, replications, precision=rule, execution=ex, store=store,
                       engine_options=engine_options, desc=f"{scn.name} sweep",
                       max_work=max_work)
    result = SweepResults(
        paths=tuple(paths), points=tuple(p.overrides for p in points),
        results=tuple(Results(p.scenario, p.seed, recs) for p, recs in zip(points, records,
                                                                             strict=True)),
        level=level,
    )
    if store is not None:
        store.write_results(result.table)
    return result


# --------------------------------------------------------------------------- compare


def variant_seed(seed: int, index: int) -> int:
    """Root seed of variant ``index`` (1, 2, … in the order given) without common random numbers.

    Derived deterministically from the experiment's seed
    (``SeedSequence([seed, index])``), so an independent-seeds comparison is
    reproducible too; the base (index 0) keeps ``seed`` itself.
    """
    if index == 0:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1, np.uint32)[0])


def compare(
    base: ScenarioLike | Results,
    variants: Mapping[str, Mapping[str, Any]],
    replications: int = 10,
    seed: int = 0,
    *,
    common_random_numbers: bool = True,
    level: float = 0.95,
    jobs: int | None = None,
    executor: ExecutorName = "local",
    address: Any = None,
    out: str | os.PathLike[str] | None = None,
    progress: bool = True,
    execution: Execution | None = None,
    max_work: float = MAX_WORK,
    **engine_options: Any,
) -> Comparison:
    """Paired comparison of scenario variants with a base scenario.

    For each variant, replication ``r`` is paired with replication ``r`` of
    the base; the per-replication differences (variant − base) give a mean
    difference and a paired t-interval. With common random numbers both see
    the same arrivals and service requirements, so the noise common to both
    cancels and the interval is much narrower than with independent seeds.

    Parameters
    ----------
    base
        The base scenario, or a run of it (:class:`Results`, e.g. a point of a
        sweep) whose replications are used instead of simulating them again:
        it must have been run with ``seed`` and the same engine options.
    variants
        ``{name: {dotted.path: value, ...}}``: each variant is the base with
        these overrides, validated before anything runs.
    replications, seed
        Replications per scenario and the root seed.
    max_work
        The work budget, as in :func:`run`.
    common_random_numbers
        ``True`` (default): every variant runs with ``seed``. ``False``:
        variant ``i`` (1, 2, …) runs with :func:`variant_seed` ``(seed, i)``,
        independent of the base, for teaching and for measuring what common
        random numbers save; the base's replications are unchanged.
    level
        Confidence level of the intervals.
    jobs, executor, address, out, progress, execution, **engine_options
        As in :func:`run`.

    Returns
    -------
    Comparison
        The ``Results`` of the base and of every variant; its ``table``
        (what it shows in a notebook) is
        ``variant, scope, metric, diff, ci_low, ci_high, n`` for every
        variant and every (scope, metric) that both scenarios report; ``n``
        counts the replications where both values are defined.
    """
    ex = Execution.of(execution, jobs=jobs, executor=executor, address=address,
                      progress=progress, out=out)
    known: Results | None = None
    if isinstance(base, Results):
        known, scn = base, base.scenario
    else:
        scn = load_scenario(base)
    count("", "seed", seed, 0)
    if known is not None and known.seed != seed:
        raise ValueError(f"compare: the base results were run with seed {known.seed}, "
                         f"not {seed}; give seed={known.seed}")
    if replications == "auto":
        raise ValueError("compare: replications must be an integer (\"auto\" is for run and sweep)")
    count("", "replications", replications, 2)
    if not isinstance(variants, Mapping) or not variants:
        raise ValueError("variants: give {name: {dotted.path: value, ...}} with at least one variant")
    for name, overrides in variants.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"variants: names must be non-empty strings, got {name!r}")
        if not isinstance(overrides, Mapping):
            raise ValueError(f"variants[{name!r}]: give {{dotted.path: value}}, got {overrides!r}")
    names = list(variants)
    points_overrides: list[Mapping[str, Any]] = [{}] + [dict(variants[n]) for n in names]
    seeds = [int(seed)] + [int(seed) if common_random_numbers else variant_seed(seed, i)
                           for i in range(1, len(names) + 1)]
    try:
        points = _build_points(scn, points_overrides, seeds)
    except ScenarioError as exc:
        # Name the variant: several may override the same path.
        bad = next(n for n in names if _fails(scn, variants[n]))
        raise ScenarioError(exc.path, f"{exc.problem} (variant {bad!r})") from None
    _check_budget(points, replications, None, max_work)
    _warn_window(points)
    _warn_overloaded(points)
    store = _open_store(ex, "compare", scn, seed, engine_options,
                        variants={n: dict(variants[n]) for n in names},
                        replications=replications,
                        common_random_numbers=bool(common_random_numbers))
    records = _collect(points, replications, precision=None, execution=ex, store=store,
                       engine_options=engine_options, desc=f"{scn.name} compare",
                       known={0: known.records} if known is not None else None)
    results = [Results(p.scenario, p.seed, recs) for p, recs in zip(points, records, strict=True)]
    result = Comparison(base=results[0], variants=dict(zip(names, results[1:], strict=True)),
                        level=level)
    if store is not None:
        store.write_results(result.table)
    return result


def _fails(scn: Scenario, overrides: Mapping[str, Any]) -> bool:
    try:
        scn.with_overrides(overrides)
    except ScenarioError:
        return True
    return False
