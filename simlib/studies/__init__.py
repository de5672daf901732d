"""Studies: the experiments behind the notebooks.

:mod:`~simlib.studies.teaching` (queueing lessons: Erlang C against
simulation, utilisation and staffing studies, Little's law) and
:mod:`~simlib.studies.quality` (the value chain along a staffing sweep, the
Brady-Cronin hierarchy, the recovery paradox, a SERVQUAL structure check and
closing the gaps one at a time).
"""

from types import ModuleType

from simlib.lazy import submodule, submodule_names


def __getattr__(name: str) -> ModuleType:  # PEP 562: the modules load on first use
    return submodule(__name__, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *submodule_names(__path__)})
