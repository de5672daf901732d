"""Money: the prices of capacity, of poor service and of the revenue it earns.

One concept serves the whole package. A scenario's optional ``economics``
block parses into :class:`Economics`; the engine's quality layer reads it to
report ``revenue``, ``cost`` and ``profit`` per replication, and the cost
functions of :mod:`simlib.planning.costs` (cost curves, cost-benefit, tornado
charts) take the same object, or a mapping with the same keys, as their
prices. Amounts are in one currency of your choice. Rates are per hour, as
practitioners quote them (a wage per server-hour, a waiting cost per
customer-hour), and every other price is per event (per customer served,
abandoning, blocked, complaining or lost). Every price defaults to 0, so a
block or a mapping names only what it prices.

Which price each consumer charges:

==========================  ====================  ==============================
price                       engine (``revenue``,  planning
                            ``cost``, ``profit``  (:mod:`simlib.planning.costs`)
                            metrics)
==========================  ====================  ==============================
``wage_per_server_hour``    yes (per station)     ``staff``
``cost_per_waiting_hour``   no                    ``waiting``
``cost_per_abandonment``    yes                   ``abandonment``
``cost_per_blocked``        no                    ``blocked``
``cost_per_complaint``      yes                   no
``cost_per_lost_customer``  yes                   ``lost``
``revenue_per_service``     yes                   no
==========================  ====================  ==============================

Lost customers are priced alike in both: with a retention model a customer
who decides not to come back, without one a customer who abandons or is
blocked.

Hours. Scenario times are in the scenario's ``time_unit``; the units table
(:mod:`simlib.spec.units`) converts the usual labels (second, minute, hour,
day = 24 hours, and their spellings). ``hours_per_time_unit`` overrides it (a "day" that is a working
day of 8 hours) and is required when the label is not in the table. A
scenario's block is resolved against its time unit when it is parsed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simlib.spec.units import HOURS_PER_UNIT, UNIT_NAMES, unit_name
from simlib.spec.validation import Node, ScenarioError

__all__ = ["Economics"]

#: Names the planning prices had before they joined the scenario's, for error messages.
_FORMER_NAMES = {
    "staff_per_hour": "wage_per_server_hour",
    "waiting_per_hour": "cost_per_waiting_hour",
    "per_abandonment": "cost_per_abandonment",
    "per_blocked": "cost_per_blocked",
    "per_lost_customer": "cost_per_lost_customer",
}


@dataclass(frozen=True)
class Economics:
    """Prices in one currency (the ``economics`` block; see the module notes).

    Build it directly, from a mapping with :meth:`from_mapping`, or from a
    scenario file. Every price must be a number >= 0; a negative or
    non-numeric value raises :class:`~simlib.spec.validation.ScenarioError`
    (a ``ValueError``) naming it.
    """

    #: Revenue per customer whose service was completed (money per customer).
    revenue_per_service: float = 0.0
    #: Cost of one scheduled server for one hour: wage plus overhead (money per server-hour).
    wage_per_server_hour: float = 0.0
    #: Cost of one customer waiting one hour: their time, goodwill, occupied lines
    #: (money per customer-hour).
    cost_per_waiting_hour: float = 0.0
    #: Handling cost of one abandonment, e.g. a callback (money per customer).
    cost_per_abandonment: float = 0.0
    #: Handling cost of one customer turned away by a full queue (money per customer).
    cost_per_blocked: float = 0.0
    #: Cost of handling one complaint (money per complaint).
    cost_per_complaint: float = 0.0
    #: Margin lost with each lost customer (money per customer; see the module notes).
    cost_per_lost_customer: float = 0.0
    #: Hours in one scenario time unit; NaN (default, "not given"): from the scenario's
    #: ``time_unit`` via :data:`simlib.spec.units.HOURS_PER_UNIT` (a scenario's block is
    #: always resolved, so the engine reads a number).
    hours_per_time_unit: float = math.nan

    def __post_init__(self) -> None:
        node = Node(dataclasses.asdict(self), "economics")
        for name in _PRICES:
            object.__setattr__(self, name, node.number(name, minimum=0))
        if not _unset(self.hours_per_time_unit):
            object.__setattr__(self, "hours_per_time_unit",
                               node.number("hours_per_time_unit", positive=True))

    def hours(self, time_unit: str) -> float:
        """Hours in one time unit called ``time_unit`` (``hours_per_time_unit`` when set).

        Raises
        ------
        ScenarioError
            If the label is not a known unit and ``hours_per_time_unit`` is not set.
        """
        if not _unset(self.hours_per_time_unit):
            return self.hours_per_time_unit
        unit = unit_name(time_unit)
        if unit is None:
            raise ScenarioError(
                "economics.hours_per_time_unit",
                f"is required because time_unit {time_unit!r} is not a known unit "
                f"(known: {', '.join(UNIT_NAMES)})",
            )
        return HOURS_PER_UNIT[unit]

    def for_time_unit(self, time_unit: str) -> Economics:
        """The same prices with ``hours_per_time_unit`` fixed for ``time_unit``."""
        return dataclasses.replace(self, hours_per_time_unit=self.hours(time_unit))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | Economics,
                     path: str = "economics") -> Economics:
        """Build from a mapping of prices (unknown keys are refused); an Economics is returned as is."""
        if isinstance(values, Economics):
            return values
        node = Node(values, path)
        for key in node.value:
            if key in _FORMER_NAMES:
                raise ScenarioError(node.sub(key), f"unknown key; the price is called "
                                                   f"{_FORMER_NAMES[key]!r}")
        node.check_keys(_FIELDS)
        return cls(**dict(values))


def _unset(hours: object) -> bool:
    """Whether ``hours_per_time_unit`` was left at its default (NaN)."""
    return isinstance(hours, float) and math.isnan(hours)


_FIELDS = tuple(f.name for f in dataclasses.fields(Economics))
_PRICES = tuple(name for name in _FIELDS if name != "hours_per_time_unit")
