"""Scenario edits: what-ifs made on a scenario's dict form before it is validated again.

A :class:`~simlib.spec.scenario.Scenario` is immutable; a variant is made by
editing its file form (:meth:`Scenario.to_dict`) and loading the result, so
every variant is validated like a file. The edits that several parts of
simlib make live here, once: a value at a dotted path (:func:`get_path`,
:func:`set_path`, behind :meth:`Scenario.with_overrides`), the service-level
target (:func:`set_service_level`), demand scaled (:func:`scale_arrivals`,
:func:`scale_demand`), a station's staffing replaced (:func:`set_staffing`)
and shift arithmetic on a station's staffing as steps ``(start, end,
servers)``: servers on duty at a time (:func:`servers_at`), per-interval
levels merged into shifts (:func:`merge_shifts`), servers added over a window
(:func:`add_servers`) and two stations' shifts added (:func:`sum_shifts`).

Every function edits the dict in place or returns new scenario-form values;
none validates (loading the edited dict does).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from simlib.spec.validation import ScenarioError

__all__ = [
    "get_path",
    "set_path",
    "set_service_level",
    "scale_arrivals",
    "scale_demand",
    "set_staffing",
    "staffing_steps",
    "servers_at",
    "merge_shifts",
    "add_servers",
    "sum_shifts",
]

#: One piece of a station's staffing: servers on duty over ``[start, end)``.
Step = tuple[float, float, int]


# --------------------------------------------------------------------------- dotted paths


def _resolve_item(container: Any, key: str, path: str) -> Any:
    if isinstance(container, list):
        for item in container:
            if isinstance(item, dict) and item.get("name") == key:
                return item
        if key.lstrip("-").isdigit() and -len(container) <= int(key) < len(container):
            return container[int(key)]
        names = [i.get("name") for i in container if isinstance(i, dict)]
        raise ScenarioError(path, f"no item named {key!r} (have {names})")
    if isinstance(container, dict):
        if key not in container:
            raise ScenarioError(path, f"no key {key!r} (have {sorted(container)})")
        return container[key]
    raise ScenarioError(path, f"cannot descend into {type(container).__name__}")


def get_path(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` in a scenario dict (list items by name or index)."""
    node: Any = data
    keys = path.split(".")
    for i, key in enumerate(keys):
        node = _resolve_item(node, key, ".".join(keys[: i + 1]))
    return node


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at a dotted ``path`` in a scenario dict (in place).

    The last key may be new (e.g. setting ``queue_capacity`` that was absent);
    every key before it must exist. Setting ``servers`` removes ``shifts`` and
    vice versa, and setting one of rate/profile/trace removes the others, so an
    override replaces the alternative it stands for.
    """
    keys = path.split(".")
    node: Any = data
    for i, key in enumerate(keys[:-1]):
        node = _resolve_item(node, key, ".".join(keys[: i + 1]))
    last = keys[-1]
    if isinstance(node, list):
        item = _resolve_item(node, last, path)
        node[node.index(item)] = value
        return
    if not isinstance(node, dict):
        raise ScenarioError(path, f"cannot set a key inside {type(node).__name__}")
    alternatives = [("servers", "shifts"), ("rate", "profile", "trace")]
    for group in alternatives:
        if last in group:
            for other in group:
                if other != last:
                    node.pop(other, None)
    node[last] = value


def set_service_level(data: dict[str, Any], target: Mapping[str, Any]) -> None:
    """Set ``targets.service_level`` to ``{threshold, target}``, keeping other targets, in place."""
    data["targets"] = {**dict(data.get("targets") or {}), "service_level": dict(target)}


# --------------------------------------------------------------------------- demand


def scale_arrivals(arrivals: dict[str, Any], factor: float) -> tuple[str, Any, Any] | None:
    """Multiply a class's arrival rate (or profile rates) by ``factor``, in place.

    Returns
    -------
    (key, old, new) or None
        The key changed (``"rate"`` or ``"profile.rates"``) with its old and new
        value; None for a replayed trace, which is data, not a rate.
    """
    if "rate" in arrivals:
        old = arrivals["rate"]
        arrivals["rate"] = old * factor
        return "rate", old, arrivals["rate"]
    if "profile" in arrivals:
        old = list(arrivals["profile"]["rates"])
        arrivals["profile"]["rates"] = [r * factor for r in old]
        return "profile.rates", old, arrivals["profile"]["rates"]
    return None


def scale_demand(data: dict[str, Any], factor: float) -> list[str]:
    """Multiply every class's arrival rate (or profile rates) by ``factor``, in place.

    Parameters
    ----------
    data : dict
        A scenario dict (:meth:`Scenario.to_dict`); edited in place.
    factor : float
        Positive demand multiplier; 1 leaves the scenario unchanged.

    Returns
    -------
    list of str
        Notes on what could not be scaled: classes that replay a recorded
        trace of arrival times keep their arrivals (a trace is data, not a rate).

    Raises
    ------
    ValueError
        If ``factor`` is not a positive finite number.
    """
    if not (isinstance(factor, int | float) and math.isfinite(factor) and factor > 0):
        raise ValueError(f"demand scale must be a positive number, got {factor!r}")
    notes: list[str] = []
    for cls in data["classes"]:
        if scale_arrivals(cls["arrivals"], factor) is None and factor != 1:
            notes.append(f"class {cls['name']!r} replays recorded arrivals (a trace), "
                         "which the demand scale cannot change")
    return notes


# --------------------------------------------------------------------------- staffing


def set_staffing(station: dict[str, Any], staffing: int | list[dict[str, Any]]) -> None:
    """Replace a station dict's staffing with constant ``servers`` or a list of shifts."""
    station.pop("servers", None)
    station.pop("shifts", None)
    station["servers" if isinstance(staffing, int) else "shifts"] = staffing


def staffing_steps(station: Mapping[str, Any], horizon: float) -> list[Step]:
    """A station dict's staffing as steps; constant servers are one step over ``[0, horizon)``."""
    if "servers" in station:
        return [(0.0, horizon, station["servers"])]
    return [(s["start"], s["end"], s["servers"]) for s in station["shifts"]]


def servers_at(steps: Sequence[Step], t: float) -> int:
    """Servers on duty at ``t``: the step covering it, or the last step's after the end."""
    return next((n for s, e, n in steps if s <= t < e), steps[-1][2])


def merge_shifts(
    starts: Iterable[float], ends: Iterable[float], servers: Iterable[int]
) -> list[dict[str, Any]]:
    """Scenario shifts from per-interval servers on contiguous intervals, equal neighbours merged."""
    shifts: list[dict[str, Any]] = []
    for a, b, n in zip(starts, ends, servers, strict=True):
        if shifts and shifts[-1]["servers"] == n:
            shifts[-1]["end"] = b
        else:
            shifts.append({"start": a, "end": b, "servers": n})
    return shifts


def _cuts(steps: Sequence[Step], *more: float) -> list[float]:
    return sorted({float(s) for s, _, _ in steps} | {float(e) for _, e, _ in steps} | set(more))


def add_servers(
    station: dict[str, Any], extra: int, start: float, end: float, horizon: float
) -> None:
    """Add ``extra`` servers to a station dict during ``[start, end)``, in place.

    Shifts that straddle ``start`` or ``end`` are split there; a constant
    ``servers`` count becomes shifts.

    Raises
    ------
    ValueError
        If an interval would get fewer than 0 servers.
    """
    steps = staffing_steps(station, horizon)
    cuts = _cuts(steps, start, end)
    levels = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        n = int(servers_at(steps, a)) + (extra if start <= a < end else 0)
        if n < 0:
            raise ValueError(
                f"extra: {extra} leaves {n} servers in [{a:g}, {b:g}) at station {station['name']!r}"
            )
        levels.append(n)
    set_staffing(station, merge_shifts(cuts[:-1], cuts[1:], levels))


def sum_shifts(a: Mapping[str, Any], b: Mapping[str, Any], horizon: float) -> list[dict[str, Any]]:
    """Shifts of two station dicts added (constant servers count as one shift)."""
    pa, pb = staffing_steps(a, horizon), staffing_steps(b, horizon)
    end = min(pa[-1][1], pb[-1][1])
    cuts = [c for c in sorted({x for s in pa + pb for x in s[:2]} | {0.0}) if c <= end]
    levels = [servers_at(pa, lo) + servers_at(pb, lo) for lo in cuts[:-1]]
    return merge_shifts(cuts[:-1], cuts[1:], levels)
