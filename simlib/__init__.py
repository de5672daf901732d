"""simlib: a workbench for service management.

Describe a service system as a scenario (YAML or dict), simulate it on a SimPy
clock, and compare the numbers with queueing theory::

    import simlib
    scn = simlib.load_scenario("data/scenarios/call_centre.yaml")
    res = simlib.run(scn, replications=20, seed=1)
    res.summary()
"""

from simlib.experiments.results import Results
from simlib.experiments.runner import compare, run, sweep
from simlib.spec.scenario import Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"

__all__ = ["load_scenario", "run", "sweep", "compare", "Results", "Scenario", "ScenarioError", "__version__"]
