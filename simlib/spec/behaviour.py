"""Customer behaviour: balking at a station, and arrival in batches.

A customer who balks sees the queue on arrival and leaves without joining it. The station's
``balking`` block gives the probability of joining as a step function of the number already
waiting (not counting those in service): ``join[i]`` holds from ``queue_lengths[i]`` waiting up
to the next listed length, the last one for every longer queue. Only a customer who would have
to wait decides; one who finds a free server always stays. A balking customer leaves the
system as a blocked one does (it counts in ``p_blocked``). Instead of the queue length, the
block may key the join probability to the **announced wait** (``announced_waits`` with a
``handle_time``): the wait the station announces to an arrival who finds ``q`` waiting and
every one of its ``s`` servers on duty busy, ``(q + 1) * handle_time / s``.

A class's ``arrivals: {rate, batch: {values, probabilities}}`` brings customers in groups:
at each epoch of the Poisson process with that rate a batch arrives whose size is one of the
``values`` (integers >= 1) with the given probabilities.

A class's ``retrials`` block lets a customer who abandoned, or was blocked (or balked), try
again: with ``probability`` it comes back to the same station after a ``delay`` (a
distribution), up to ``max_attempts`` attempts in all (no limit when omitted); ``after`` says
which outcomes lead to a retrial (``abandoned``, ``blocked``; both by default).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simlib.spec.distributions import Distribution
from simlib.spec.validation import MAX_MAGNITUDE, Node, ScenarioError, is_integer, is_number, show

__all__ = ["Balking", "parse_balking", "BatchSize", "parse_batch", "Retrials", "parse_retrials",
           "RETRIAL_OUTCOMES"]

#: The visit outcomes after which a customer may try again.
RETRIAL_OUTCOMES = ("abandoned", "blocked")

#: How far the batch-size probabilities may sum from 1.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Balking:
    """Join probabilities by the number waiting seen at arrival, or by the announced wait."""

    #: Increasing numbers waiting, the first 0 (empty when keyed to the announced wait).
    queue_lengths: tuple[int, ...]
    #: The probability of joining from each length (or announced wait) on, in [0, 1].
    join: tuple[float, ...]
    #: Increasing announced waits, the first 0, in time units (None = keyed to the length).
    announced_waits: tuple[float, ...] | None = None
    #: The handling time the announcement assumes per customer ahead, in time units.
    handle_time: float | None = None

    def join_probability(self, waiting: int) -> float:
        """The probability that an arrival who finds ``waiting`` customers queued joins."""
        return self.join[bisect_right(self.queue_lengths, waiting) - 1]

    def announced(self, waiting: int, servers: float) -> float:
        """The wait announced to an arrival who finds ``waiting`` queued and ``servers`` busy."""
        assert self.handle_time is not None
        return (waiting + 1) * self.handle_time / servers if servers > 0 else math.inf

    def join_for_wait(self, announced: float) -> float:
        """The probability that an arrival who is announced a wait of ``announced`` joins."""
        assert self.announced_waits is not None
        return self.join[bisect_right(self.announced_waits, announced) - 1]

    def to_dict(self) -> dict[str, Any]:
        if self.announced_waits is not None:
            return {"announced_waits": list(self.announced_waits), "join": list(self.join),
                    "handle_time": self.handle_time}
        return {"queue_lengths": list(self.queue_lengths), "join": list(self.join)}


def _paired_lists(value: Any, path: str, keys: tuple[str, str], minimum: int,
                  per: str) -> tuple[Node, list[int], list[float]]:
    """Two required keys: a non-empty list of integers >= ``minimum`` and one probability per item."""
    node = Node(value, path)
    node.check_keys(keys, required=keys)
    ints, probs = value[keys[0]], value[keys[1]]
    ipath, ppath = node.sub(keys[0]), node.sub(keys[1])
    if not isinstance(ints, list) or not ints:
        raise ScenarioError(ipath, f"must be a non-empty list of integers >= {minimum}, got {show(ints)}")
    if not isinstance(probs, list) or len(probs) != len(ints):
        raise ScenarioError(ppath, f"must be a list of {len(ints)} probabilities, one per {per}, "
                                   f"got {show(probs)}")
    for i, n in enumerate(ints):
        if not is_integer(n) or n < minimum:
            raise ScenarioError(f"{ipath}[{i}]", f"must be an integer >= {minimum}, got {show(n)}")
    for i, p in enumerate(probs):
        if not is_number(p) or not 0.0 <= p <= 1.0:
            raise ScenarioError(f"{ppath}[{i}]", f"must be a probability in [0, 1], got {show(p)}")
    return node, [int(n) for n in ints], [float(p) for p in probs]


def _parse_announced(value: Any, path: str) -> Balking:
    """A ``balking`` block keyed to the announced wait: ``announced_waits``, ``join``, ``handle_time``."""
    node = Node(value, path)
    keys = ("announced_waits", "join", "handle_time")
    node.check_keys(keys, required=keys)
    handle = node.number("handle_time", positive=True)
    waits, probs = value["announced_waits"], value["join"]
    wpath, jpath = node.sub("announced_waits"), node.sub("join")
    if not isinstance(waits, list) or not waits:
        raise ScenarioError(wpath, f"must be a non-empty list of waits >= 0, got {show(waits)}")
    if not isinstance(probs, list) or len(probs) != len(waits):
        raise ScenarioError(jpath, f"must be a list of {len(waits)} probabilities, one per "
                                   f"announced wait, got {show(probs)}")
    for i, w in enumerate(waits):
        if not is_number(w) or w < 0 or w > MAX_MAGNITUDE:
            raise ScenarioError(f"{wpath}[{i}]", f"must be a wait >= 0, got {show(w)}")
        if i == 0 and w != 0:
            raise ScenarioError(f"{wpath}[0]", f"must be 0 (the first step starts at no wait), got {show(w)}")
        if i > 0 and w <= waits[i - 1]:
            raise ScenarioError(f"{wpath}[{i}]", f"must be larger than {waits[i - 1]}, got {show(w)}")
    for i, p in enumerate(probs):
        if not is_number(p) or not 0.0 <= p <= 1.0:
            raise ScenarioError(f"{jpath}[{i}]", f"must be a probability in [0, 1], got {show(p)}")
    return Balking((), tuple(float(p) for p in probs), tuple(float(w) for w in waits), handle)


def parse_balking(value: Any, path: str) -> Balking:
    """The ``balking`` block of a station, validated (errors name ``path``)."""
    if isinstance(value, Mapping) and ("announced_waits" in value or "handle_time" in value):
        return _parse_announced(value, path)
    node, lengths, join = _paired_lists(value, path, ("queue_lengths", "join"), 0, "queue length")
    lpath = node.sub("queue_lengths")
    if lengths[0] != 0:
        raise ScenarioError(f"{lpath}[0]", f"must be 0 (the first step starts at an empty queue), got {lengths[0]}")
    for i in range(1, len(lengths)):
        if lengths[i] <= lengths[i - 1]:
            raise ScenarioError(f"{lpath}[{i}]", f"must be larger than {lengths[i - 1]}, got {lengths[i]}")
    return Balking(tuple(lengths), tuple(join))


@dataclass(frozen=True)
class BatchSize:
    """The number of customers arriving together: ``values[i]`` with ``probabilities[i]``."""

    values: tuple[int, ...]
    probabilities: tuple[float, ...]

    @property
    def mean(self) -> float:
        return sum(v * p for v, p in zip(self.values, self.probabilities, strict=True))

    @property
    def second_moment(self) -> float:
        return sum(v * v * p for v, p in zip(self.values, self.probabilities, strict=True))

    def cumulative(self) -> tuple[float, ...]:
        """Cumulative probabilities, the last one exactly 1 (for inversion of a uniform)."""
        acc, out = 0.0, []
        for p in self.probabilities:
            acc += p
            out.append(acc)
        out[-1] = 1.0
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        return {"values": list(self.values), "probabilities": list(self.probabilities)}


def parse_batch(value: Any, path: str) -> BatchSize:
    """The ``batch`` block of a class's arrivals, validated (errors name ``path``)."""
    node, values, probs = _paired_lists(value, path, ("values", "probabilities"), 1, "value")
    total = sum(probs)
    if abs(total - 1.0) > TOLERANCE:
        raise ScenarioError(node.sub("probabilities"), f"must sum to 1, got {total:g}")
    return BatchSize(tuple(values), tuple(probs))


@dataclass(frozen=True)
class Retrials:
    """Customers who abandoned or were blocked come back to the station after a delay."""

    #: The probability that a customer tries again after an outcome in ``after``.
    probability: float
    #: The time until it comes back.
    delay: Distribution
    #: Most attempts in all (the first included); None = no limit.
    max_attempts: int | None = None
    #: The outcomes after which it may try again (of RETRIAL_OUTCOMES).
    after: tuple[str, ...] = RETRIAL_OUTCOMES


def parse_retrials(value: Any, path: str, parse_distribution: Any, base_dir: str) -> Retrials:
    """A class's ``retrials`` block, validated (errors name ``path``)."""
    node = Node(value, path)
    node.check_keys(("probability", "delay", "max_attempts", "after"),
                    required=("probability", "delay"))
    p = node.number("probability", minimum=0)
    if p > 1:
        raise ScenarioError(node.sub("probability"), f"must be a probability in [0, 1], got {show(p)}")
    delay = parse_distribution(value["delay"], node.sub("delay"), base_dir)
    if not delay.mean > 0:
        raise ScenarioError(node.sub("delay"), f"must have a positive mean, got {delay.mean:g}")
    attempts = node.integer("max_attempts", minimum=2) if node.has("max_attempts") else None
    after = value.get("after", list(RETRIAL_OUTCOMES))
    apath = node.sub("after")
    if not isinstance(after, list) or not after:
        raise ScenarioError(apath, f"must be a non-empty list of {', '.join(RETRIAL_OUTCOMES)}, "
                                   f"got {show(after)}")
    for i, outcome in enumerate(after):
        if outcome not in RETRIAL_OUTCOMES or outcome in after[:i]:
            raise ScenarioError(f"{apath}[{i}]", f"must be one of {', '.join(RETRIAL_OUTCOMES)} "
                                                 f"(each once), got {show(outcome)}")
    return Retrials(p, delay, attempts, tuple(after))
