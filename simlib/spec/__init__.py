"""Specification: what a service system is, before anything is simulated.

A scenario (YAML or dict) is parsed and validated into frozen, typed records:
:mod:`~simlib.spec.scenario` (arrivals, classes, stations, shifts, routing),
:mod:`~simlib.spec.distributions` (the random quantities, which know their
moments), :mod:`~simlib.spec.quality` (the optional quality, staff, failure and
retention blocks), :mod:`~simlib.spec.economics` (money: the ``economics``
block and the prices planning uses), :mod:`~simlib.spec.targets`
(service-level, ASA, abandonment and delay-probability targets),
:mod:`~simlib.spec.units` (the one table of time units), :mod:`~simlib.spec.edits`
(what-ifs made on a scenario's dict form: dotted paths, demand, staffing and
shift arithmetic) and :mod:`~simlib.spec.validation` (the one-line
:class:`ScenarioError` and the argument checks). This layer imports nothing
else from simlib.
"""

from simlib.spec.scenario import Scenario, ScenarioError, from_dict, load_scenario

__all__ = ["Scenario", "ScenarioError", "from_dict", "load_scenario"]
