"""Service targets: what a planned or simulated service system must achieve.

A target names one metric of the engine (see
:data:`simlib.experiments.statistics.METRICS`) and the bound it must respect,
so that "the target" means the same thing to a staffing plan, to a check by
simulation and to a dashboard:

* :class:`ServiceLevelTarget` - at least share ``target`` of the arrivals
  served within ``threshold`` time units (abandoned customers count as
  failures); the metric ``service_level``. This is also the
  ``targets.service_level`` block of a scenario file.
* :class:`AsaTarget` - the average speed of answer, the mean wait of the
  customers served, at most ``max_wait`` time units; the metric ``asa``.
* :class:`AbandonmentTarget` - at most share ``max_share`` of the arrivals
  abandon; the metric ``p_abandon``.
* :class:`DelayTarget` - at most share ``max_share`` of the arrivals wait at
  all, ``P(W > 0)``; the metric ``p_wait`` (the delay-probability target
  ``alpha`` of Jennings et al. 1996 and Feldman et al. 2008).

The classes are frozen and check their values when built, so an invalid
target is refused where it is written, with a one-line message. A bare
number is never read as a target: ``0.8`` could be a service level or a
delay probability, and :func:`as_target` refuses it naming the choices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AbandonmentTarget",
    "AsaTarget",
    "DelayTarget",
    "ServiceLevelTarget",
    "TARGET_TYPES",
    "Target",
    "as_target",
]


def _number(owner: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be a finite number, got {value!r}")
    return float(value)


def _share(owner: str, name: str, value: Any, *, allow_one: bool) -> float:
    x = _number(owner, name, value)
    if not (0 < x < 1 or (allow_one and x == 1)):
        raise ValueError(f"{owner}: {name} must be in (0, {'1]' if allow_one else '1)'}, got {value!r}")
    return x


@dataclass(frozen=True)
class ServiceLevelTarget:
    """Share ``target`` of customers to be served within ``threshold`` time units.

    Attributes
    ----------
    threshold : float
        Acceptable wait, time units of the scenario, >= 0 (20 s is 1/3 minute).
    target : float
        Required share, in (0, 1].
    """

    threshold: float
    target: float

    def __post_init__(self) -> None:
        t = _number("ServiceLevelTarget", "threshold", self.threshold)
        if t < 0:
            raise ValueError(f"ServiceLevelTarget: threshold must be >= 0, got {self.threshold!r}")
        object.__setattr__(self, "threshold", t)
        object.__setattr__(self, "target", _share("ServiceLevelTarget", "target", self.target,
                                                  allow_one=True))

    metric = "service_level"
    #: True: the metric must be at least :attr:`value`; False: at most.
    at_least = True

    @property
    def value(self) -> float:
        """The bound on :attr:`metric`."""
        return self.target

    def met(self, x: float) -> bool:
        """Whether a value of the metric meets the target."""
        return x >= self.target - 1e-12

    def describe(self, unit: str = "") -> str:
        """One line, e.g. ``service level >= 80% within 0.333 minute``."""
        return f"service level >= {100 * self.target:g}% within {self.threshold:.4g} {unit}".rstrip()


@dataclass(frozen=True)
class AsaTarget:
    """Average speed of answer (mean wait of served customers) at most ``max_wait`` time units."""

    max_wait: float

    def __post_init__(self) -> None:
        w = _number("AsaTarget", "max_wait", self.max_wait)
        if w <= 0:
            raise ValueError(f"AsaTarget: max_wait must be > 0, got {self.max_wait!r}")
        object.__setattr__(self, "max_wait", w)

    metric = "asa"
    at_least = False

    @property
    def value(self) -> float:
        """The bound on :attr:`metric`."""
        return self.max_wait

    def met(self, x: float) -> bool:
        """Whether a value of the metric meets the target."""
        return x <= self.max_wait + 1e-12

    def describe(self, unit: str = "") -> str:
        """One line, e.g. ``ASA <= 0.5 minute``."""
        return f"ASA <= {self.max_wait:.4g} {unit}".rstrip()


@dataclass(frozen=True)
class _ShareCap:
    """A share of the arrivals that must stay at or below ``max_share``, in (0, 1)."""

    max_share: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_share", _share(type(self).__name__, "max_share",
                                                     self.max_share, allow_one=False))

    at_least = False

    @property
    def value(self) -> float:
        """The bound on the target's metric."""
        return self.max_share

    def met(self, x: float) -> bool:
        """Whether a value of the metric meets the target."""
        return x <= self.max_share + 1e-12


@dataclass(frozen=True)
class AbandonmentTarget(_ShareCap):
    """At most share ``max_share`` of the arrivals abandon."""

    metric = "p_abandon"

    def describe(self, unit: str = "") -> str:
        """One line, e.g. ``abandonment <= 5%``."""
        return f"abandonment <= {100 * self.max_share:g}%"


@dataclass(frozen=True)
class DelayTarget(_ShareCap):
    """At most share ``max_share`` of the arrivals wait at all: ``P(W > 0) <= max_share``."""

    metric = "p_wait"

    def describe(self, unit: str = "") -> str:
        """One line, e.g. ``P(wait > 0) <= 20%``."""
        return f"P(wait > 0) <= {100 * self.max_share:g}%"


#: A service target of any kind.
Target = ServiceLevelTarget | AsaTarget | AbandonmentTarget | DelayTarget

#: The target classes, in the order messages list them.
TARGET_TYPES: tuple[type, ...] = (ServiceLevelTarget, AsaTarget, AbandonmentTarget, DelayTarget)

_CHOICES = ("ServiceLevelTarget(threshold, target), AsaTarget(max_wait), "
            "AbandonmentTarget(max_share) or DelayTarget(max_share)")


def as_target(value: Any, owner: str = "target") -> Target:
    """``value`` if it is a target object; otherwise a one-line ``ValueError`` naming the choices.

    Parameters
    ----------
    value : object
        The candidate target.
    owner : str
        Prefix of the message (e.g. the function that was given the value).
    """
    if isinstance(value, TARGET_TYPES):
        return value  # type: ignore[return-value]
    raise ValueError(f"{owner}: target must be one of {_CHOICES} (simlib.spec.targets), "
                     f"got {value!r}")
