"""Validation helpers shared by every specification block, and the argument checks.

Specifications are validated on construction and every problem is one line
naming the key path (``stations[0].servers: must be a positive integer, got
-3``). :class:`Node` wraps one mapping of the input with its path and offers
typed accessors that raise :class:`ScenarioError` with that path.

Function arguments are checked the same way, once: :func:`real`,
:func:`positive`, :func:`non_negative`, :func:`count`, :func:`fraction` and
:func:`probability` return the value converted (float or int) or raise a
one-line :class:`ValueError` naming the function and the argument
(``required_servers: target must be in (0, 1), got 1.5``).
"""

from __future__ import annotations

import csv
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "ScenarioError",
    "Node",
    "is_number",
    "is_integer",
    "show",
    "read_column",
    "real",
    "positive",
    "non_negative",
    "count",
    "fraction",
    "probability",
]


class ScenarioError(ValueError):
    """An invalid scenario; the message is one line: ``key.path: problem``."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)


def is_number(x: Any) -> bool:
    """A finite real number (numpy scalars included, booleans excluded)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return False
    try:
        return math.isfinite(x)
    except OverflowError:  # an integer too large for a float
        return False


def is_integer(x: Any) -> bool:
    """A whole number (numpy integers and integral floats included, booleans excluded)."""
    if isinstance(x, bool):
        return False
    if isinstance(x, numbers.Integral):
        return True
    return isinstance(x, float) and x.is_integer()


class Node:
    """A mapping being validated, with its key path for error messages."""

    def __init__(self, value: Any, path: str) -> None:
        if not isinstance(value, Mapping):
            raise ScenarioError(path, f"must be a mapping, got {show(value)}")
        self.value = value
        self.path = path

    def sub(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def check_keys(self, allowed: Sequence[str], required: Sequence[str] = ()) -> None:
        for key in self.value:
            if key not in allowed:
                raise ScenarioError(
                    self.sub(str(key)), f"unknown key (allowed: {', '.join(allowed)})"
                )
        for key in required:
            if key not in self.value:
                raise ScenarioError(self.sub(key), "is required")

    def has(self, key: str) -> bool:
        return key in self.value and self.value[key] is not None

    def number(self, key: str, *, positive: bool = False, minimum: float | None = None) -> float:
        x: Any = self.value.get(key)
        if not is_number(x):
            raise ScenarioError(self.sub(key), f"must be a number, got {show(x)}")
        if positive and x <= 0:
            raise ScenarioError(self.sub(key), f"must be positive, got {show(x)}")
        if minimum is not None and x < minimum:
            raise ScenarioError(self.sub(key), f"must be at least {minimum}, got {show(x)}")
        return float(x)

    def integer(self, key: str, *, minimum: int) -> int:
        x: Any = self.value.get(key)
        if not is_integer(x) or x < minimum:
            kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
            raise ScenarioError(self.sub(key), f"must be {kind}, got {show(x)}")
        return int(x)

    def string(self, key: str, default: str | None = None) -> str:
        x = self.value.get(key, default)
        if not isinstance(x, str) or not x:
            raise ScenarioError(self.sub(key), f"must be a non-empty string, got {show(x)}")
        return x


def show(x: Any) -> str:
    if x is None:
        return "nothing"
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def read_column(file: Any, column: str | None, path: str, base_dir: str) -> list[float]:
    """Numbers from one column of a CSV file, with row-numbered errors."""
    if not isinstance(file, str) or not file:
        raise ScenarioError(path, f"file must be a path, got {show(file)}")
    full = Path(file) if os.path.isabs(file) else Path(base_dir) / file
    if not full.is_file():
        raise ScenarioError(path, f"file not found: {full}")
    with full.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header:
            raise ScenarioError(path, f"{file} is empty")
        header = [h.strip() for h in header]
        if column is None:
            column = "time" if "time" in header or len(header) != 1 else header[0]
        if column not in header:
            raise ScenarioError(path, f"{file} has no column {column!r} (columns: {header})")
        j = header.index(column)
        values: list[float] = []
        for row_number, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            cell = row[j].strip() if j < len(row) else ""
            try:
                x = float(cell)
            except ValueError:
                raise ScenarioError(
                    path, f"{file} column {column!r} line {row_number} is not a number: {cell!r}"
                ) from None
            if not math.isfinite(x):
                raise ScenarioError(
                    path, f"{file} column {column!r} line {row_number} is not finite: {cell!r}"
                )
            values.append(x)
    if not values:
        raise ScenarioError(path, f"{file} column {column!r} has no values")
    return values


# --------------------------------------------------------------------------- argument checks


def _invalid(where: str, name: str, problem: str, value: Any) -> ValueError:
    head = f"{where}: {name}" if where else name
    return ValueError(f"{head} must be {problem}, got {value!r}")


def real(where: str, name: str, value: Any) -> float:
    """``value`` as a float; it must be a finite real number (booleans refused).

    ``where`` names the function (or measure) checking it and prefixes the
    message; ``name`` is the argument.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _invalid(where, name, "a real number", value)
    x = float(value)
    if not math.isfinite(x):
        raise _invalid(where, name, "finite", value)
    return x


def positive(where: str, name: str, value: Any) -> float:
    """``value`` as a float; it must be a finite number > 0."""
    x = real(where, name, value)
    if x <= 0:
        raise _invalid(where, name, "positive", value)
    return x


def non_negative(where: str, name: str, value: Any) -> float:
    """``value`` as a float; it must be a finite number >= 0."""
    x = real(where, name, value)
    if x < 0:
        raise _invalid(where, name, "non-negative", value)
    return x


def count(where: str, name: str, value: Any, minimum: int = 1, *, whole_floats: bool = False) -> int:
    """``value`` as an int; it must be an integer >= ``minimum``.

    With ``whole_floats`` an integral float such as ``10.0`` is accepted too.
    """
    ok = not isinstance(value, bool) and (
        isinstance(value, numbers.Integral)
        or (
            whole_floats
            and isinstance(value, numbers.Real)
            and math.isfinite(float(value))
            and float(value).is_integer()
        )
    )
    if not ok or int(value) < minimum:
        raise _invalid(where, name, f"an integer >= {minimum}", value)
    return int(value)


def fraction(
    where: str, name: str, value: Any, *, low_open: bool = False, high_open: bool = False
) -> float:
    """``value`` as a float in [0, 1]; ``low_open``/``high_open`` exclude 0 or 1."""
    x = real(where, name, value)
    low_ok = x > 0 if low_open else x >= 0
    high_ok = x < 1 if high_open else x <= 1
    if not (low_ok and high_ok):
        interval = f"{'(' if low_open else '['}0, 1{')' if high_open else ']'}"
        raise _invalid(where, name, f"in {interval}", value)
    return x


def probability(where: str, name: str, value: Any) -> float:
    """``value`` as a float in [0, 1]."""
    return fraction(where, name, value)
