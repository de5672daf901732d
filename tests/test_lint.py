"""`make lint` passes: ruff on the code and tests, mypy on the package (issue 11, item 7).

Run here so that CI enforces it; the tools are in the dev extra.
"""

from __future__ import annotations

import subprocess
import sys

from support import ROOT


def run_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_ruff_passes():
    done = run_tool("ruff", "check", "simlib", "tests", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_passes_on_the_package():
    done = run_tool("mypy", "--no-incremental")  # files and settings: [tool.mypy] in pyproject.toml
    assert done.returncode == 0, done.stdout + done.stderr
