"""Experiments: replications, sweeps and comparisons of scenarios, and their results.

:mod:`~simlib.experiments.runner` runs replications of the engine
(sequentially, in processes or on Dask; the numbers do not depend on which),
:mod:`~simlib.experiments.execution` says where and how (an ``Execution``),
:mod:`~simlib.experiments.results` holds what they return,
:mod:`~simlib.experiments.statistics` the summary statistics over
replications (intervals that respect each metric's range),
:mod:`~simlib.experiments.capacity` the offered load of each station, :mod:`~simlib.experiments.store` the resumable result store and
:mod:`~simlib.experiments.warmup` the warm-up analysis.
"""

from types import ModuleType

from simlib.experiments.execution import Execution
from simlib.experiments.results import Comparison, Results, SweepResults
from simlib.experiments.runner import (
    COMPARE_COLUMNS,
    CapacityWarning,
    CensoringWarning,
    MissingMetricWarning,
    PrecisionWarning,
    WindowWarning,
    compare,
    run,
    sweep,
    variant_seed,
)
from simlib.lazy import submodule, submodule_names

__all__ = [
    "COMPARE_COLUMNS", "CapacityWarning", "CensoringWarning", "Comparison", "Execution",
    "MissingMetricWarning", "PrecisionWarning", "Results", "SweepResults", "WindowWarning",
    "compare", "run", "sweep", "variant_seed",
]


def __getattr__(name: str) -> ModuleType:  # PEP 562: the modules load on first use
    return submodule(__name__, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *submodule_names(__path__)})
