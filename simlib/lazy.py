"""Lazy submodules: a package's modules are its attributes, imported the first time they are read.

``import simlib`` loads the specification and the experiment runner only; ``simlib.plots``,
``simlib.planning.staffing`` and the other modules are imported when first used (PEP 562), so
that ``import simlib`` stays fast and loads no matplotlib, yet every module is reachable as an
attribute. A package opts in with a module ``__getattr__`` and ``__dir__`` that call
:func:`submodule` and :func:`submodule_names`. This module imports nothing from simlib.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Iterable
from types import ModuleType

__all__ = ["submodule", "submodule_names"]


def submodule(package: str, name: str) -> ModuleType:
    """The module ``package.name``, imported now if needed; AttributeError if there is none.

    Private names are never imported (tools such as IPython probe for ``_repr_*_`` attributes).
    """
    if not name.startswith("_") and importlib.util.find_spec(f"{package}.{name}") is not None:
        return importlib.import_module(f"{package}.{name}")
    raise AttributeError(f"module {package!r} has no attribute {name!r}")


def submodule_names(path: Iterable[str]) -> list[str]:
    """The public modules and subpackages in a package's ``__path__`` (for ``dir()``)."""
    return sorted(m.name for m in pkgutil.iter_modules(list(path)) if not m.name.startswith("_"))
