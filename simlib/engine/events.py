"""The engine's vocabulary: scheduled steps, visit outcomes and the hooks of a layer.

A replication is a sequence of *steps* on a SimPy clock: an arrival, the end
of a service, a patience running out, a shift change. Each :class:`Step` is a
SimPy event that calls one function when it fires, so the network needs no
generator process per customer. A customer's visit to a station ends with one
:class:`Outcome` — completed, abandoned or blocked — and the outcome of the
last visit is the reason the customer left the system.

Optional models that ride on the network (the quality model of
:mod:`simlib.engine.quality` is one) are *layers*. The network calls a layer
at fixed points of a customer's journey (:class:`Hooks`); the layer sees the
network through what :class:`Host` describes. Both are protocols, so the
network does not depend on any layer and a layer does not depend on the
network's module: either side can change as long as the protocol holds.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any, Protocol

import simpy
from simpy.events import NORMAL, Event

from simlib.engine.rng import StreamFactory
from simlib.spec.scenario import Scenario

__all__ = ["Step", "Outcome", "Hooks", "Host", "Metrics"]

#: ``{scope: {metric: value}}``: the metrics of one replication or one interval.
Metrics = dict[str, dict[str, float]]


class Outcome(IntEnum):
    """How a visit ended, and so why a customer left the system.

    An :class:`~enum.IntEnum`: the network and its records keep the plain
    integer values (cheap on the hot path, and light on the garbage collector),
    which compare equal to the members, in Python and in numpy arrays alike.
    """

    #: Service started and ended (the route may continue elsewhere).
    COMPLETED = 0
    #: Patience ran out while waiting.
    ABANDONED = 1
    #: The queue was full on arrival.
    BLOCKED = 2


class Step(Event):
    """An event that fires ``callback(event)`` after ``delay``; ``event.value`` is its payload.

    Equivalent to ``Timeout(env, delay, value)`` plus ``callbacks.append(...)``
    in one constructor call: this runs for every event of the simulation.
    """

    def __init__(
        self, env: simpy.Environment, delay: float, callback: Callable[[Event], Any], value: Any
    ) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = value
        self._ok = True
        env.schedule(self, NORMAL, delay)


class Hooks(Protocol):
    """What a layer receives from the network, in the order of a customer's journey.

    ``customer`` is the network's per-customer state (``ident``, ``kind`` — the
    customer's class —, ``counted``, ``visit_counted``, ``t_arrive``,
    ``wait_total``, and a free slot ``q`` for the layer's own state);
    ``station`` is a station's run-time state (``index``, ``name``, ``busy``,
    ``n_waiting``, ``capacity`` and its tallies).
    """

    def admit(self, kind: Any) -> bool:
        """A spontaneous new customer of class ``kind`` is about to arrive: False turns
        them away before they exist (word of mouth deterred them)."""
        ...

    def on_new(self, customer: Any, returning: Any) -> None:
        """A customer was created; ``returning`` is what a returning customer brings back."""

    def on_arrive(self, customer: Any, station: Any) -> None:
        """The customer arrived at ``station`` (before joining its queue or service)."""

    #: True when the layer sets some customers' patience; the network calls
    #: :meth:`patience` only then (nothing is spent on it otherwise).
    own_patience: bool

    def patience(self, customer: Any, limit: float | None) -> float | None:
        """The customer's patience at this visit: ``limit`` is the class's draw (None when the
        class has no patience), which the layer may replace (a segment's own patience)."""
        ...

    def on_start(self, customer: Any, station: Any) -> None:
        """The customer's service at ``station`` starts."""

    #: True when the layer tells servers apart (named carers, :mod:`simlib.engine.carers`);
    #: the network calls :meth:`on_release` only then (nothing is spent on it otherwise).
    names_servers: bool

    def on_release(self, customer: Any, station: Any) -> None:
        """The customer's service at a plain ``station`` ended and its server is free again:
        called before that server takes the next waiting customer (whose :meth:`on_start`
        may then choose it), and before :meth:`after_service`."""

    def after_service(self, customer: Any, station: Any) -> tuple[Any, Any]:
        """The service at ``station`` ended: ``(detour, origin)``.

        ``detour`` is a station to send the customer to at once (a recovery),
        or None to route on; routing then continues from ``origin``.
        """
        ...

    def on_leave(self, customer: Any, now: float, outcome: int) -> None:
        """The customer leaves the system at ``now`` because of ``outcome`` (an :class:`Outcome` value)."""

    def add_metrics(self, metrics: Metrics) -> None:
        """Add the layer's metrics to every scope of the replication's metrics."""


class Host(Protocol):
    """What a layer sees of the network it rides on."""

    #: The clock; a layer schedules its own :class:`Step` events on it.
    env: simpy.Environment
    #: The scenario being simulated.
    scenario: Scenario
    #: Random streams of the replication.
    streams: StreamFactory
    #: Run-time state of the stations and the classes, in scenario order.
    stations: list[Any]
    classes: list[Any]
    #: Customers in the system by ident.
    present: dict[int, Any]
    #: Idents of customers who came back (for the event log), and the visit records
    #: (None when the replication keeps no records).
    returning: set[int]
    visits: list[tuple] | None
    #: Start and end of the observed window in simulation time.
    window_start: float
    window_end: float

    def new_customer(self, kind: Any, returning: Any = None) -> None:
        """Bring a customer of class ``kind`` into the system now."""
        ...
