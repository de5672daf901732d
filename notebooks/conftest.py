"""Checks on notebooks as nbval runs them (``pytest notebooks --nbval-lax``).

nbval compares no outputs in lax mode, so a figure that reaches the notebook
as the text ``<Figure size 1000x400 with 2 Axes>`` instead of an image would
pass unnoticed. This hook looks at the outputs nbval collected for each cell
after it ran and fails the cell when a figure came out as text without a PNG.

Kernels draw with ipykernel's inline backend even when the test run sets
``MPLBACKEND=Agg`` (as ``make test`` does for ``tests/``): with Agg inherited,
pyplot figures would never be shown and bare ``Figure`` results would print
as text, so the notebooks would be tested without their images.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The check lives with the other plain test helpers in tests/support.py, which
# is importable only when pytest also collects tests/ (it puts tests/ on the path).
_TESTS = str(Path(__file__).resolve().parents[1] / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from support import figures_shown_as_text  # noqa: E402

_INLINE = "module://matplotlib_inline.backend_inline"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    # nbval starts a notebook's kernel while setting up its first cell, and the
    # kernel inherits this process's environment; ipykernel picks the inline
    # backend only when MPLBACKEND is unset, so give the kernel that backend.
    saved = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = _INLINE
    try:
        return (yield)
    finally:
        if saved is None:
            del os.environ["MPLBACKEND"]
        else:
            os.environ["MPLBACKEND"] = saved


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    result = yield
    outputs = getattr(item, "test_outputs", None)  # set by nbval's IPyNbCell.runtest
    shown = figures_shown_as_text(outputs)
    if shown:
        raise AssertionError(
            f"a figure was displayed as text, not as an image: {shown[0]} (a Figure as the last "
            "expression needs the inline backend: run %matplotlib inline first, or display "
            "IPython.display.Image(data=simlib.plots.figure_png(fig)))"
        )
    return result
