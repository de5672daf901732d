"""Customer behaviour at a station: balking.

A customer who balks sees the queue on arrival and leaves without joining it. The station's
``balking`` block gives the probability of joining as a step function of the number already
waiting (not counting those in service): ``join[i]`` holds from ``queue_lengths[i]`` waiting up
to the next listed length, the last one for every longer queue. Only a customer who would have
to wait decides; one who finds a free server always stays. A balking customer leaves the
system as a blocked one does (it counts in ``p_blocked``).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from simlib.spec.validation import Node, ScenarioError, is_integer, is_number, show

__all__ = ["Balking", "parse_balking"]


@dataclass(frozen=True)
class Balking:
    """Join probabilities by the number waiting seen at arrival."""

    #: Increasing numbers waiting, the first 0.
    queue_lengths: tuple[int, ...]
    #: The probability of joining from each length on, in [0, 1].
    join: tuple[float, ...]

    def join_probability(self, waiting: int) -> float:
        """The probability that an arrival who finds ``waiting`` customers queued joins."""
        return self.join[bisect_right(self.queue_lengths, waiting) - 1]

    def to_dict(self) -> dict[str, Any]:
        return {"queue_lengths": list(self.queue_lengths), "join": list(self.join)}


def parse_balking(value: Any, path: str) -> Balking:
    """The ``balking`` block of a station, validated (errors name ``path``)."""
    node = Node(value, path)
    node.check_keys(("queue_lengths", "join"), required=("queue_lengths", "join"))
    lengths, join = value["queue_lengths"], value["join"]
    lpath, jpath = node.sub("queue_lengths"), node.sub("join")
    if not isinstance(lengths, list) or not lengths:
        raise ScenarioError(lpath, f"must be a non-empty list of integers >= 0, got {show(lengths)}")
    if not isinstance(join, list) or len(join) != len(lengths):
        raise ScenarioError(jpath, f"must be a list of {len(lengths)} probabilities, one per queue length, "
                                   f"got {show(join)}")
    for i, n in enumerate(lengths):
        if not is_integer(n) or n < 0:
            raise ScenarioError(f"{lpath}[{i}]", f"must be an integer >= 0, got {show(n)}")
        if i == 0 and n != 0:
            raise ScenarioError(f"{lpath}[0]", f"must be 0 (the first step starts at an empty queue), got {show(n)}")
        if i > 0 and n <= lengths[i - 1]:
            raise ScenarioError(f"{lpath}[{i}]", f"must be larger than {lengths[i - 1]}, got {show(n)}")
    for i, p in enumerate(join):
        if not is_number(p) or not 0.0 <= p <= 1.0:
            raise ScenarioError(f"{jpath}[{i}]", f"must be a probability in [0, 1], got {show(p)}")
    return Balking(tuple(int(n) for n in lengths), tuple(float(p) for p in join))
