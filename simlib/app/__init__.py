"""Applications: the command line, the notebook widgets, the planner dashboard and the demo.

Interface code lives here and only here; nothing below imports it.
"""

from types import ModuleType

from simlib.lazy import submodule, submodule_names


def __getattr__(name: str) -> ModuleType:  # PEP 562: the modules load on first use
    return submodule(__name__, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *submodule_names(__path__)})
