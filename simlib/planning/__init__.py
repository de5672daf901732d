"""Planning: staffing rules, shift schedules, staffing plans, costs and improvement measures.

:mod:`~simlib.planning.staffing` (Erlang staffing, square-root staffing,
shift scheduling, SIPP/lagged-SIPP/MOL/ISA plans checked by simulation),
:mod:`~simlib.planning.costs` (cost curves) and
:mod:`~simlib.planning.measures` (improvement measures applied to a scenario).
"""

from types import ModuleType

from simlib.lazy import submodule, submodule_names


def __getattr__(name: str) -> ModuleType:  # PEP 562: the modules load on first use
    return submodule(__name__, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *submodule_names(__path__)})
