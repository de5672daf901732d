"""Routing beyond fixed probabilities: join the shortest queue, and class change after service.

A station's ``join_shortest_queue`` block replaces its ``routing`` table: after service a
customer goes to whichever of the listed stations has the fewest customers, counted either as
all those ``present`` (waiting and in service, the default) or only those ``waiting``; ``ties``
are broken at ``random`` (uniformly among the tied stations, from the station's own generator)
or by the ``first`` tied station in the list. A station's ``class_change`` block gives, per
class, the probabilities that a customer of that class continues as each class after its
service there (a row of a class-change matrix; a class without a row keeps its class).

A station's ``blocking`` says what happens to a customer routed to it from another station
when it is full (every server busy and ``queue_capacity`` customers waiting): ``loss`` (the
default) turns the customer away, ``after_service`` keeps it on the server it has just
finished with upstream, which is blocked (serves nobody) until a place frees here; customers
blocked on one station move in in the order they became blocked. Arrivals from outside are
lost either way. :func:`parse_blocking` checks it.

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
    "BLOCKING",
    "COUNTS",
    "TIES",
    "ShortestQueue",
    "parse_shortest_queue",
    "parse_class_change",
    "parse_system_capacity",
    "parse_blocking",
]

#: What a full station does with a customer routed to it from another station.
BLOCKING = ("loss", "after_service")

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


def parse_blocking(raw: Mapping[str, Any], path: str) -> str:
    """A station's ``blocking`` (``loss`` when absent), validated (errors name ``path.blocking``).

    ``after_service`` needs a finite capacity (``queue_capacity``) and a constant number of
    servers in one group (not ``shifts``, ``pools`` or ``servers: inf``), first come first
    served or by non-pre-emptive priority: a full station is then full until one of its own
    customers leaves, which is what deadlock detection relies on.
    """
    bpath = f"{path}.blocking"
    blocking = raw.get("blocking", "loss")
    if blocking not in BLOCKING:
        raise ScenarioError(bpath, f"must be one of {', '.join(BLOCKING)}, got {show(blocking)}")
    if blocking == "loss":
        return blocking
    if "queue_capacity" not in raw:
        raise ScenarioError(bpath, "after_service needs a finite capacity: give queue_capacity")
    for key in ("shifts", "pools"):
        if key in raw:
            raise ScenarioError(bpath, f"after_service is not allowed with {key}")
    discipline = raw.get("discipline", "fifo")
    if discipline in ("preemptive", "ps"):
        raise ScenarioError(bpath, f"after_service is not allowed with discipline: {discipline}")
    return blocking
