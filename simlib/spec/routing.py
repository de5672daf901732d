"""Routing beyond fixed probabilities: join the shortest queue, and class change after service.

A station's ``join_shortest_queue`` block replaces its ``routing`` table: after service a
customer goes to whichever of the listed stations has the fewest customers, counted either as
all those ``present`` (waiting and in service, the default) or only those ``waiting``; ``ties``
are broken at ``random`` (uniformly among the tied stations, from the station's own generator)
or by the ``first`` tied station in the list. A station's ``class_change`` block gives, per
class, the probabilities that a customer of that class continues as each class after its
service there (a row of a class-change matrix; a class without a row keeps its class).

The whole-system limit on customers present (``system_capacity``) is a top-level key read by
:mod:`simlib.spec.scenario`; its check is :func:`parse_system_capacity`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simlib.spec.validation import (
    MAX_INTEGER,
    Node,
    ScenarioError,
    is_integer,
    is_number,
    show,
    show_names,
)

__all__ = [
    "COUNTS",
    "TIES",
    "ShortestQueue",
    "parse_shortest_queue",
    "parse_class_change",
    "parse_system_capacity",
]

#: What ``join_shortest_queue`` counts at each candidate station.
COUNTS = ("present", "waiting")
#: How ``join_shortest_queue`` breaks ties.
TIES = ("random", "first")

#: How far a class-change row may sum from 1.
TOLERANCE = 1e-6


@dataclass(frozen=True)
class ShortestQueue:
    """Route to the listed station with the fewest customers (``count``), ties by ``ties``."""

    among: tuple[str, ...]
    count: str = "present"
    ties: str = "random"

    def to_dict(self) -> dict[str, Any]:
        return {"among": list(self.among), "count": self.count, "ties": self.ties}


def parse_shortest_queue(value: Any, path: str, stations: Sequence[str]) -> ShortestQueue:
    """A station's ``join_shortest_queue`` block, validated (errors name ``path``)."""
    node = Node(value, path)
    node.check_keys(("among", "count", "ties"), required=("among",))
    among = value["among"]
    apath = node.sub("among")
    if not isinstance(among, list) or len(among) < 2:
        raise ScenarioError(apath, f"must be a list of at least 2 station names, got {show(among)}")
    for i, s in enumerate(among):
        if s not in stations:
            raise ScenarioError(f"{apath}[{i}]", f"unknown station {show(s)} "
                                                 f"(stations: {show_names(stations)})")
        if s in among[:i]:
            raise ScenarioError(f"{apath}[{i}]", f"{s!r} is listed twice")
    count = value.get("count", "present")
    if count not in COUNTS:
        raise ScenarioError(node.sub("count"), f"must be one of {', '.join(COUNTS)}, got {show(count)}")
    ties = value.get("ties", "random")
    if ties not in TIES:
        raise ScenarioError(node.sub("ties"), f"must be one of {', '.join(TIES)}, got {show(ties)}")
    return ShortestQueue(tuple(among), count, ties)


def parse_class_change(value: Any, path: str, classes: Sequence[str]) -> dict[str, dict[str, float]]:
    """A station's ``class_change`` block: ``{from class: {to class: probability}}``, validated.

    Each row's probabilities lie in [0, 1] and sum to 1 (within 1e-6); classes not listed in a
    row have probability 0, classes without a row keep their class.
    """
    node = Node(value, path)
    if not value:
        raise ScenarioError(path, "must give at least one class's row")
    rows: dict[str, dict[str, float]] = {}
    for origin, row in value.items():
        rpath = node.sub(str(origin))
        if origin not in classes:
            raise ScenarioError(rpath, f"unknown class (classes: {show_names(classes)})")
        rnode = Node(row, rpath)
        probs: dict[str, float] = {}
        for target, p in row.items():
            if target not in classes:
                raise ScenarioError(rnode.sub(str(target)), f"unknown class (classes: {show_names(classes)})")
            if not is_number(p) or not 0.0 <= p <= 1.0:
                raise ScenarioError(rnode.sub(target), f"must be a probability in [0, 1], got {show(p)}")
            probs[target] = float(p)
        total = sum(probs.values())
        if abs(total - 1.0) > TOLERANCE:
            raise ScenarioError(rpath, f"probabilities must sum to 1, got {total:g}")
        rows[origin] = probs
    return rows


def parse_system_capacity(data: Mapping[str, Any], key: str = "system_capacity") -> int:
    """The top-level ``system_capacity``: an integer >= 1, the most customers present at once."""
    x = data[key]
    if not is_integer(x) or x < 1:
        raise ScenarioError(key, f"must be a positive integer (customers present at once), got {show(x)}")
    if x > MAX_INTEGER:
        raise ScenarioError(key, f"must be at most {MAX_INTEGER:,}, got {show(x)}")
    return int(x)
