"""simlib: a workbench for service management.

Describe a service system as a scenario (YAML or dict), simulate it on a SimPy
clock, and compare the numbers with queueing theory::

    import simlib
    scn = simlib.load_scenario("data/scenarios/call_centre.yaml")
    res = simlib.run(scn, replications=20, seed=1)
    res.summary()

Every subpackage is an attribute (``simlib.planning.staffing``,
``simlib.servqual.cfa``, ``simlib.plots``, ...), imported on first use, so that
``import simlib`` stays fast and loads no matplotlib.
"""

from types import ModuleType

from simlib.experiments.results import Results
from simlib.experiments.runner import compare, run, sweep
from simlib.lazy import submodule, submodule_names
from simlib.spec.scenario import Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"

__all__ = ["load_scenario", "run", "sweep", "compare", "Results", "Scenario", "ScenarioError", "__version__"]


def __getattr__(name: str) -> ModuleType:
    return submodule(__name__, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *submodule_names(__path__)})
