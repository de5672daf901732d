"""Time-varying specifications: service means by time of day and day-to-day arrival variation.

Real service systems change over the day: calls are shorter at opening and
late in the evening than at the peaks, and whole days are busier or quieter
than the rate profile says. Two scenario keys describe this (docs/scenario.md):

* ``profile: {period: P, means: [m0, m1, ...]}`` on a service distribution
  (station-level or per class): a service that *starts* at observed time
  ``t`` is drawn from the base distribution scaled so its mean is
  ``means[floor((t mod (P*len(means))) / P)]``; the coefficient of variation
  is the base distribution's. The base ``mean`` stays in the file (the
  class's all-day fit). The parsed form is a :class:`Profiled` distribution:
  it is a :class:`~simlib.spec.distributions.Distribution` whose moments and
  draws are the base's, and :meth:`Profiled.mean_at` / :meth:`Profiled.mean_over`
  give the mean at a time or averaged over an interval. The engine draws the
  base value (so random streams are consumed as without the profile) and
  multiplies it by ``mean_at(t) / base.mean`` when the service starts.
* ``day_to_day: {cv: v, period: P, service_cv: w}`` at the top of the scenario
  (:class:`DayToDay`): for each period a gamma multiplier with mean 1 and
  coefficient of variation ``v`` multiplies every class's Poisson arrival rate
  (gamma-Poisson, i.e. negative-binomial, counts per period); with
  ``service_cv`` > 0 a second, independent gamma multiplier (mean 1, cv ``w``)
  per period multiplies every service that starts in it: whole days of slower
  or faster calls, beyond the sampling noise of one day's mean.

:func:`service_mean` is the one place that answers "what is the mean service
time over ``[start, end)``" for any distribution, profiled or not; analytic
loads (simlib.experiments.capacity, simlib.planning) ask it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from simlib.spec.distributions import Distribution
from simlib.spec.units import DAY, SECONDS_PER_UNIT, unit_name
from simlib.spec.validation import MAX_MAGNITUDE, Node, ScenarioError, is_number, show

__all__ = [
    "MeanProfile",
    "Profiled",
    "DayToDay",
    "parse_service",
    "parse_day_to_day",
    "service_mean",
    "weighted_service_mean",
]


@dataclass(frozen=True)
class MeanProfile:
    """Mean service time by cell of a repeating grid: ``means[i]`` on ``[i*P, (i+1)*P)``."""

    #: Length of one cell, in time units.
    period: float
    #: Mean service time in each cell, in time units.
    means: tuple[float, ...]

    @property
    def cycle(self) -> float:
        """Length of one full cycle of the grid."""
        return self.period * len(self.means)

    def index_at(self, t: float) -> int:
        """The cell holding observed time ``t`` (the grid repeats; negative ``t`` wraps back)."""
        i = int((t % self.cycle) // self.period)
        return i if i < len(self.means) else len(self.means) - 1  # t mod cycle rounded up

    def mean_at(self, t: float) -> float:
        """The mean service time of a service starting at observed time ``t``."""
        return self.means[self.index_at(t)]

    def integral(self, t: float) -> float:
        """``int_0^t mean_at(u) du`` (negative for ``t < 0``)."""
        cycles = math.floor(t / self.cycle)
        rest = t - cycles * self.cycle
        full = int(rest // self.period)
        part = sum(self.means[:full]) * self.period
        if full < len(self.means):
            part += self.means[full] * (rest - full * self.period)
        return cycles * sum(self.means) * self.period + part

    def edges(self, start: float, end: float) -> np.ndarray:
        """The cell boundaries inside ``(start, end)``, with ``start`` and ``end``."""
        first = math.floor(start / self.period) + 1
        inner = np.arange(first, math.ceil(end / self.period)) * self.period
        inner = inner[(inner > start) & (inner < end)]
        return np.concatenate([[start], inner, [end]])


@dataclass(frozen=True)
class Profiled(Distribution):
    """A service distribution whose mean follows a :class:`MeanProfile` (the cv is the base's).

    ``mean``, ``variance``, ``sample`` and ``quantile`` are the base
    distribution's (the all-day fit); the time-varying draw is
    ``base draw * mean_at(t) / base.mean``.
    """

    base: Distribution
    profile: MeanProfile
    name = "profiled"

    @property
    def mean(self) -> float:
        return self.base.mean

    @property
    def variance(self) -> float:
        return self.base.variance

    @property
    def is_random(self) -> bool:
        return self.base.is_random

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.base.sample(rng, size)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return self.base.quantile(u)

    def points(self, n: int) -> np.ndarray:
        return self.base.points(n)

    def to_dict(self) -> dict:
        return {**self.base.to_dict(),
                "profile": {"period": self.profile.period, "means": list(self.profile.means)}}

    def scaled(self, factor: float) -> Distribution:
        return Profiled(self.base.scaled(factor),
                        MeanProfile(self.profile.period, tuple(m * factor for m in self.profile.means)))

    def less_variable(self, reduction: float) -> Distribution:
        return Profiled(self.base.less_variable(reduction), self.profile)

    def mean_at(self, t: float) -> float:
        """The mean of a service starting at observed time ``t``."""
        return self.profile.mean_at(t)

    def factor_at(self, t: float) -> float:
        """The multiplier of a base draw for a service starting at ``t``."""
        return self.profile.mean_at(t) / self.base.mean

    def mean_over(self, start: float, end: float) -> float:
        """The time-average of ``mean_at`` over ``[start, end)``."""
        if end <= start:
            return self.mean_at(start)
        return (self.profile.integral(end) - self.profile.integral(start)) / (end - start)


def service_mean(dist: Distribution, start: float, end: float) -> float:
    """The mean service time over ``[start, end)`` of observed time.

    The time-average of the profile for a :class:`Profiled` distribution, else
    the distribution's mean. Weight by arrivals yourself where they vary
    within the interval (see :func:`weighted_service_mean`).
    """
    if isinstance(dist, Profiled):
        return dist.mean_over(start, end)
    return dist.mean


def weighted_service_mean(
    dist: Distribution, rate_at: Callable[[float], float], start: float, end: float,
    breaks: float | None = None,
) -> float:
    """The arrival-weighted mean service time over ``[start, end)``.

    ``int rate(t) mean(t) dt / int rate(t) dt`` for a piecewise-constant
    ``rate_at`` whose pieces have length ``breaks`` (None: constant). The
    distribution's mean when it has no profile.
    """
    if not isinstance(dist, Profiled):
        return dist.mean
    cuts = set(dist.profile.edges(start, end).tolist())
    if breaks is not None:
        cuts |= set(MeanProfile(breaks, (1.0,)).edges(start, end).tolist())
    edges = np.array(sorted(cuts))
    mids = (edges[:-1] + edges[1:]) / 2
    weights = np.array([rate_at(m) for m in mids]) * np.diff(edges)
    if weights.sum() <= 0:
        return dist.mean_over(start, end)
    means = np.array([dist.mean_at(m) for m in mids])
    return float(weights @ means / weights.sum())


def parse_service(value: Any, path: str, base_dir: str,
                  parse: Callable[[Any, str, str], Distribution]) -> Distribution:
    """A service distribution with an optional ``profile`` key (``parse`` reads the rest)."""
    node = Node(value, path)
    rest = {k: v for k, v in value.items() if k != "profile"} if "profile" in value else value
    base = parse(rest, path, base_dir)
    if not node.has("profile"):  # absent or null
        return base
    prof = Node(value["profile"], node.sub("profile"))
    prof.check_keys(("period", "means"), required=("period", "means"))
    period = prof.number("period", positive=True)
    means = value["profile"]["means"]
    if not isinstance(means, list) or not means:
        raise ScenarioError(prof.sub("means"), f"must be a non-empty list of mean service times, got {show(means)}")
    for i, m in enumerate(means):
        if not is_number(m) or not 0 < m <= MAX_MAGNITUDE:
            raise ScenarioError(f"{prof.sub('means')}[{i}]",
                                f"must be a positive number up to {MAX_MAGNITUDE:g}, got {show(m)}")
    if not base.mean > 0:
        raise ScenarioError(path, "a profiled service needs a base distribution with a positive mean")
    return Profiled(base, MeanProfile(period, tuple(float(m) for m in means)))


@dataclass(frozen=True)
class DayToDay:
    """Gamma multipliers (mean 1) per period: ``cv`` on all Poisson rates, ``service_cv`` on
    all service times that start in the period."""

    #: Coefficient of variation of the arrival multiplier (0 = no variation).
    cv: float
    #: Length of one period with a common multiplier, in time units.
    period: float
    #: Coefficient of variation of the service multiplier (0 = none).
    service_cv: float = 0.0

    def multipliers(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` independent arrival multipliers, one per period."""
        return _gamma_multipliers(self.cv, rng, size)

    def service_multipliers(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` independent service multipliers, one per period."""
        return _gamma_multipliers(self.service_cv, rng, size)


def _gamma_multipliers(cv: float, rng: np.random.Generator, size: int) -> np.ndarray:
    if cv == 0:
        return np.ones(size)
    shape = 1.0 / cv**2
    return rng.gamma(shape, 1.0 / shape, size)


def parse_day_to_day(value: Any, path: str, time_unit: str) -> DayToDay:
    """``{cv, period, service_cv}``; ``period`` defaults to one day in ``time_unit``,
    ``service_cv`` to 0."""
    node = Node(value, path)
    node.check_keys(("cv", "period", "service_cv"), required=("cv",))
    cv = node.number("cv", minimum=0)
    if cv > 10:
        raise ScenarioError(node.sub("cv"), f"must be at most 10, got {cv:g}")
    service_cv = node.number("service_cv", minimum=0) if node.has("service_cv") else 0.0
    if service_cv > 10:
        raise ScenarioError(node.sub("service_cv"), f"must be at most 10, got {service_cv:g}")
    if node.has("period"):
        period = node.number("period", positive=True)
    else:
        unit = unit_name(time_unit)
        if unit is None:
            raise ScenarioError(
                node.sub("period"),
                f"is required: the time unit {time_unit!r} has no known length of a day",
            )
        period = DAY / SECONDS_PER_UNIT[unit]
    return DayToDay(cv, period, service_cv)
