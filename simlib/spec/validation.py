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

import contextlib
import contextvars
import csv
import errno
import math
import numbers
import os
import reprlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "ScenarioError",
    "show_names",
    "Node",
    "is_number",
    "is_integer",
    "show",
    "MAX_MAGNITUDE",
    "MAX_INTEGER",
    "MAX_FIELD_CHARS",
    "allowed_paths",
    "resolve_file",
    "read_column",
    "real",
    "positive",
    "non_negative",
    "count",
    "fraction",
    "probability",
]


#: Largest magnitude a scenario number may have (times, rates, coefficients, money):
#: far beyond any real value, small enough that sums, squares and exponentials of the
#: model's arithmetic stay finite.
MAX_MAGNITUDE = 1e15
#: Largest integer a scenario count may have (servers, Erlang phases, queue capacity):
#: below 2**53, so it converts to a float exactly.
MAX_INTEGER = 10**15
#: Longest field read from a CSV file named in a scenario, in characters.
MAX_FIELD_CHARS = 10_000


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
        if abs(x) > MAX_MAGNITUDE:
            raise ScenarioError(self.sub(key), f"must be at most {MAX_MAGNITUDE:g} in magnitude, "
                                               f"got {show(x)}")
        if positive and x <= 0:
            raise ScenarioError(self.sub(key), f"must be positive, got {show(x)}")
        if minimum is not None and x < minimum:
            raise ScenarioError(self.sub(key), f"must be at least {minimum}, got {show(x)}")
        return float(x)

    def integer(self, key: str, *, minimum: int, maximum: int = MAX_INTEGER) -> int:
        x: Any = self.value.get(key)
        if not is_integer(x) or x < minimum:
            kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
            raise ScenarioError(self.sub(key), f"must be {kind}, got {show(x)}")
        if x > maximum:
            raise ScenarioError(self.sub(key), f"must be at most {maximum:,}, got {show(x)}")
        return int(x)

    def string(self, key: str, default: str | None = None) -> str:
        x = self.value.get(key, default)
        if not isinstance(x, str) or not x:
            raise ScenarioError(self.sub(key), f"must be a non-empty string, got {show(x)}")
        return x


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 3, 70, 70, 70


def show(x: Any) -> str:
    if x is None:
        return "nothing"
    if isinstance(x, int) and not isinstance(x, bool) and abs(x) > 10**60:
        return f"an integer of about {int(x.bit_length() * math.log10(2)) + 1} digits"
    # reprlib bounds the depth and length of what it shows (deep or huge nested values).
    text = _SHORT.repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def show_names(names: Sequence[str], limit: int = 8) -> str:
    """A short list of names for an error message: each cut to 40 characters, at most ``limit``."""
    shown = [n if len(n) <= 40 else n[:37] + "..." for n in list(names)[:limit]]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f", and {more} more" if more > 0 else "")


#: Folders outside the scenario's own that files named in it may come from (set while a
#: scenario is validated, by :func:`allowed_paths`).
_ALLOWED: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "simlib_allowed_paths", default=()
)


@contextlib.contextmanager
def allowed_paths(folders: Sequence[str]) -> Iterator[None]:
    """Let :func:`resolve_file` accept files under ``folders`` too, within this block."""
    token = _ALLOWED.set(tuple(folders))
    try:
        yield
    finally:
        _ALLOWED.reset(token)


def _inside(full: Path, folder: str) -> bool:
    try:
        full.relative_to(Path(folder).resolve())
    except ValueError:
        return False
    return True


def _file_name(file: str) -> str:
    return file if len(file) <= 200 and file.isprintable() else show(file)


def resolve_file(file: Any, path: str, base_dir: str) -> Path:
    """The file a scenario names at ``path``, checked to be a readable file in an allowed folder.

    A relative name is resolved against ``base_dir`` (the scenario's folder).
    The resolved file (symbolic links followed) must lie inside ``base_dir`` or
    a folder given to :func:`allowed_paths`; otherwise, or when it is missing,
    a directory or a name the file system cannot hold, a one-line
    :class:`ScenarioError` says so (naming the file as written, never its contents).
    """
    if not isinstance(file, str) or not file:
        raise ScenarioError(path, f"file must be a path, got {show(file)}")
    if "\0" in file:
        raise ScenarioError(path, "file name contains a NUL character")
    name = _file_name(file)
    try:
        full = (Path(file) if os.path.isabs(file) else Path(base_dir) / file).resolve()
        kind = "dir" if full.is_dir() else "file" if full.is_file() else "missing"
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise ScenarioError(path, f"file name {name} is longer than the file system "
                                      "allows") from None
        raise ScenarioError(path, f"cannot open {name}: {exc.strerror}") from None
    if not any(_inside(full, folder) for folder in (base_dir, *_ALLOWED.get())):
        raise ScenarioError(
            path, f"{name} is outside the scenario's folder {base_dir}; give allow_paths= "
                  "(--allow-paths DIR) to read files from elsewhere")
    if kind == "dir":
        raise ScenarioError(path, f"{name} is a directory, not a file")
    if kind == "missing":
        raise ScenarioError(path, f"file not found: {full}")
    return full


def read_column(file: Any, column: str | None, path: str, base_dir: str) -> list[float]:
    """Numbers from one column of a CSV file, with row-numbered errors.

    The file is found with :func:`resolve_file`. It must be UTF-8 text with
    fields of at most :data:`MAX_FIELD_CHARS` characters. Messages name the
    line and column of a bad cell but never echo the file's contents.
    """
    full = resolve_file(file, path, base_dir)
    name = _file_name(file)
    values: list[float] = []
    try:
        with full.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                raise ScenarioError(path, f"{name} is empty")
            header = [h.strip() for h in header]
            label = f"column {column!r}" if column is not None else "column 'time'"
            if column is None:
                if "time" not in header and len(header) == 1:
                    label = "column 1"  # its header is file content: not echoed
                column = "time" if "time" in header or len(header) != 1 else header[0]
            if column not in header:
                raise ScenarioError(path, f"{name} has no column {show(column)} in its first line "
                                          f"({len(header)} columns)")
            j = header.index(column)
            for row_number, row in enumerate(reader, start=2):
                if not row or all(not c.strip() for c in row):
                    continue
                cell = row[j].strip() if j < len(row) else ""
                if len(cell) > MAX_FIELD_CHARS:
                    raise ScenarioError(path, f"{name} line {row_number} has a field of "
                                              f"{len(cell):,} characters (at most "
                                              f"{MAX_FIELD_CHARS:,})")
                try:
                    x = float(cell)
                except ValueError:
                    raise ScenarioError(
                        path, f"{name} {label} line {row_number} is not a number"
                    ) from None
                if not math.isfinite(x) or abs(x) > MAX_MAGNITUDE:
                    raise ScenarioError(
                        path, f"{name} {label} line {row_number} is not a finite "
                              f"number of magnitude at most {MAX_MAGNITUDE:g}"
                    )
                values.append(x)
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, f"{name} is not UTF-8 text (byte {exc.start + 1} cannot be "
                                  "decoded)") from None
    except csv.Error as exc:
        raise ScenarioError(path, f"{name} is not a readable CSV file: {str(exc)[:80]}") from None
    except OSError as exc:
        raise ScenarioError(path, f"cannot read {name}: {exc.strerror}") from None
    if not values:
        raise ScenarioError(path, f"{name} {label} has no values")
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
