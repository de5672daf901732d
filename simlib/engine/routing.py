"""Routing decisions beyond a probability table: join the shortest queue, and class change.

Both plug into the network where it already branches, so a scenario without them runs the
same code as before. A join-shortest-queue station's ``route_to`` (the tuple of next stations
that a one-target routing table indexes with ``[0]``) is a :class:`ShortestQueue` whose item
``0`` is the candidate with the fewest customers at that moment. Class change after service
is a layer (:class:`ClassChange`, the :class:`~simlib.engine.events.Hooks` protocol) whose
``after_service`` draws the class the customer continues as; the scenario format refuses it
together with the quality model, which is the other layer.

Retrials (a class's ``retrials``) are the network's own: :class:`Retrial` holds one class's
rule and its generators, and the network consults it only when a customer of that class
abandons or is blocked.

Counting (docs/metrics.md#class-change): the network counts a customer's class metrics under
its class at arrival (``arrived_as``); the class it has now (``kind``) chooses its later
service times, priority, patience and pool policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simlib.engine.events import Host, Metrics
from simlib.engine.rng import BlockSampler
from simlib.spec.behaviour import Retrials
from simlib.spec.distributions import Uniform

__all__ = ["ShortestQueue", "ClassChange", "has_class_change", "Retrial"]


class ShortestQueue:
    """The next station of a join-shortest-queue station, chosen when indexed.

    ``among`` are the candidates' run-time states (``busy``, ``n_waiting``); with ``present``
    the count is those waiting plus those in service, else those waiting. Ties go to a
    uniformly chosen tied candidate (``draw`` given) or to the first tied one in the list.
    """

    __slots__ = ("among", "present", "draw")

    def __init__(self, among: Sequence[Any], present: bool, draw: BlockSampler | None) -> None:
        self.among = tuple(among)
        self.present = present
        self.draw = draw

    def __len__(self) -> int:
        return 1

    def __getitem__(self, i: int) -> Any:
        if i != 0:
            raise IndexError(i)
        best: list[Any] = []
        fewest = None
        present = self.present
        for st in self.among:
            n = st.n_waiting + st.busy if present else st.n_waiting
            if fewest is None or n < fewest:
                fewest, best = n, [st]
            elif n == fewest:
                best.append(st)
        if len(best) == 1 or self.draw is None:
            return best[0]
        return best[int(self.draw.next() * len(best))]


def has_class_change(scenario: Any) -> bool:
    """True when some station of ``scenario`` has a ``class_change`` block."""
    return any(s.class_change for s in scenario.stations)


class ClassChange:
    """The layer that changes a customer's class after a service (stations' ``class_change``).

    Each station with a block draws from its own generator (owner ``class:<station>`` of the
    ``routing`` stream), one uniform per service of a class that has a row there.
    """

    def __init__(self, host: Host) -> None:
        classes = host.classes
        by_name = {k.name: k for k in classes}
        #: Per station index, per class index: (cumulative probabilities, classes) or None.
        self.rows: list[list[tuple[tuple[float, ...], tuple[Any, ...]] | None] | None] = []
        self.draws: list[BlockSampler | None] = []
        for st in host.stations:
            table = st.spec.class_change
            if not table:
                self.rows.append(None)
                self.draws.append(None)
                continue
            rows: list[tuple[tuple[float, ...], tuple[Any, ...]] | None] = []
            for k in classes:
                row = table.get(k.name)
                if row is None:
                    rows.append(None)
                    continue
                targets = [(by_name[t], p) for t, p in row.items() if p > 0]
                cum, acc = [], 0.0
                for _, p in targets:
                    acc += p
                    cum.append(acc)
                cum[-1] = float("inf")  # guards against rounding in the probabilities
                rows.append((tuple(cum), tuple(t for t, _ in targets)))
            self.rows.append(rows)
            self.draws.append(host.streams.sampler("routing", f"class:{st.name}", Uniform(0.0, 1.0)))

    #: Class change never sets a customer's patience, nor tells servers apart.
    own_patience = False
    names_servers = False

    def admit(self, kind: Any) -> bool:
        return True

    def on_new(self, customer: Any, returning: Any) -> None:
        pass

    def on_arrive(self, customer: Any, station: Any) -> None:
        pass

    def patience(self, customer: Any, limit: float | None) -> float | None:
        return limit

    def on_start(self, customer: Any, station: Any) -> None:
        pass

    def on_release(self, customer: Any, station: Any) -> None:
        pass

    def after_service(self, customer: Any, station: Any) -> tuple[Any, Any]:
        rows = self.rows[station.index]
        if rows is not None:
            row = rows[customer.kind.index]
            if row is not None:
                cum, targets = row
                draw = self.draws[station.index]
                assert draw is not None
                u = draw.next()
                i = 0
                while u >= cum[i]:
                    i += 1
                if targets[i] is not customer.kind:
                    customer.kind = targets[i]
                    customer.own = None  # its own draws were for the old class's stations
        return None, station

    def on_leave(self, customer: Any, now: float, outcome: int) -> None:
        pass

    def add_metrics(self, metrics: Metrics) -> None:
        pass


class Retrial:
    """One class's retrial rule at run time: its probability, delay and draws.

    ``draw`` decides whether to try again (owner ``retrial:<class>`` of the ``routing``
    stream, one uniform per abandonment or blocking after which a retrial is allowed) and
    ``delay`` is the time in orbit (owner ``retrial-delay:<class>`` of the ``routing`` stream).
    """

    __slots__ = ("probability", "max_attempts", "after_abandon", "after_block", "draw", "delay")

    def __init__(self, spec: Retrials, draw: BlockSampler, delay: BlockSampler) -> None:
        self.probability = spec.probability
        self.max_attempts = spec.max_attempts
        self.after_abandon = "abandoned" in spec.after
        self.after_block = "blocked" in spec.after
        self.draw = draw
        self.delay = delay

    def again(self, attempts: int, abandoned: bool) -> bool:
        """Whether a customer who has made ``attempts`` attempts tries once more."""
        if not (self.after_abandon if abandoned else self.after_block):
            return False
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return False
        return self.draw.next() < self.probability
