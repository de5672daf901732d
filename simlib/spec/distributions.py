"""Probability distributions for durations: service, patience, interarrival times.

A distribution here is a small frozen specification that knows its own mean and
variance (so analytic formulas and validation can use them) and draws a batch
of values from a :class:`numpy.random.Generator`. Batches matter: the engine
consumes pre-drawn blocks from named random streams because a scalar draw from
a numpy Generator costs several times more than taking the next value of a
block, and block draws keep runs reproducible.

Every distribution is parameterised the way a planner talks about it: by its
mean (in the scenario's time unit) and, where relevant, its coefficient of
variation ``cv`` = standard deviation / mean.

Scenario syntax (see docs/scenario.md#distributions)::

    {dist: exponential, mean: 3}
    {dist: deterministic, value: 3}
    {dist: erlang, mean: 3, k: 4}
    {dist: gamma, mean: 3, cv: 0.5}
    {dist: lognormal, mean: 3, cv: 1.0}
    {dist: uniform, low: 1, high: 5}
    {dist: triangular, low: 1, mode: 2, high: 6}
    {dist: empirical, values: [...]}   or   {dist: empirical, file: x.csv, column: t}
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Distribution",
    "Exponential",
    "Deterministic",
    "Erlang",
    "Gamma",
    "Lognormal",
    "Uniform",
    "Triangular",
    "Empirical",
    "DISTRIBUTIONS",
]


class Distribution:
    """Base class: a non-negative random duration with known moments."""

    #: Name used in scenario files (``dist:`` key).
    name: str = ""

    @property
    def mean(self) -> float:
        """Expected value, in the scenario's time unit."""
        raise NotImplementedError

    @property
    def variance(self) -> float:
        """Variance, in squared time units."""
        raise NotImplementedError

    @property
    def cv(self) -> float:
        """Coefficient of variation (standard deviation / mean)."""
        return math.sqrt(self.variance) / self.mean if self.mean > 0 else 0.0

    @property
    def second_moment(self) -> float:
        """E[X²], used by Pollaczek–Khinchine and Cobham formulas."""
        return self.variance + self.mean**2

    @property
    def is_random(self) -> bool:
        """False when every draw is the same (no random numbers are consumed)."""
        return True

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` independent values."""
        raise NotImplementedError

    def to_dict(self) -> dict:
        """The scenario-file form of this distribution."""
        raise NotImplementedError


@dataclass(frozen=True)
class Exponential(Distribution):
    """Exponential (memoryless) durations: the M in M/M/c."""

    mean_: float
    name = "exponential"

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return self.mean_**2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean_, size)

    def to_dict(self) -> dict:
        return {"dist": "exponential", "mean": self.mean_}


@dataclass(frozen=True)
class Deterministic(Distribution):
    """A constant duration (the D in M/D/1)."""

    value: float
    name = "deterministic"

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0

    @property
    def is_random(self) -> bool:
        return False

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value)

    def to_dict(self) -> dict:
        return {"dist": "deterministic", "value": self.value}


@dataclass(frozen=True)
class Erlang(Distribution):
    """Sum of ``k`` exponential phases with total mean ``mean`` (cv = 1/sqrt(k))."""

    mean_: float
    k: int
    name = "erlang"

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return self.mean_**2 / self.k

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.gamma(self.k, self.mean_ / self.k, size)

    def to_dict(self) -> dict:
        return {"dist": "erlang", "mean": self.mean_, "k": self.k}


@dataclass(frozen=True)
class _MeanCv(Distribution):
    """A two-parameter family given by its mean and coefficient of variation."""

    mean_: float
    cv_: float

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return (self.cv_ * self.mean_) ** 2

    def to_dict(self) -> dict:
        return {"dist": self.name, "mean": self.mean_, "cv": self.cv_}


@dataclass(frozen=True)
class Gamma(_MeanCv):
    """Gamma durations given by mean and coefficient of variation."""

    name = "gamma"

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = 1.0 / self.cv_**2
        return rng.gamma(shape, self.mean_ / shape, size)


@dataclass(frozen=True)
class Lognormal(_MeanCv):
    """Lognormal durations given by mean and cv (typical of call handling times)."""

    name = "lognormal"

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p(self.cv_**2)
        mu = math.log(self.mean_) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size)


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform durations on [low, high]."""

    low: float
    high: float
    name = "uniform"

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)

    def to_dict(self) -> dict:
        return {"dist": "uniform", "low": self.low, "high": self.high}


@dataclass(frozen=True)
class Triangular(Distribution):
    """Triangular durations (low, mode, high): the planner's three-point estimate."""

    low: float
    mode: float
    high: float
    name = "triangular"

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def variance(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18

    @property
    def is_random(self) -> bool:
        return self.high > self.low

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if self.high == self.low:
            return np.full(size, self.low)
        return rng.triangular(self.low, self.mode, self.high, size)

    def to_dict(self) -> dict:
        return {"dist": "triangular", "low": self.low, "mode": self.mode, "high": self.high}


@dataclass(frozen=True)
class Empirical(Distribution):
    """Resampling (with replacement) of observed durations."""

    values: tuple[float, ...]
    #: Where the values came from (file and column), kept for round-tripping to YAML.
    source: tuple[str, str] | None = None
    name = "empirical"

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def variance(self) -> float:
        return float(np.var(self.values))

    @property
    def is_random(self) -> bool:
        return len(set(self.values)) > 1

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.asarray(self.values, dtype=float)[rng.integers(0, len(self.values), size)]

    def to_dict(self) -> dict:
        if self.source is not None:
            return {"dist": "empirical", "file": self.source[0], "column": self.source[1]}
        return {"dist": "empirical", "values": list(self.values)}


#: Scenario name → (class, parameter names in the scenario file).
DISTRIBUTIONS: dict[str, tuple[type[Distribution], tuple[str, ...]]] = {
    "exponential": (Exponential, ("mean",)),
    "deterministic": (Deterministic, ("value",)),
    "erlang": (Erlang, ("mean", "k")),
    "gamma": (Gamma, ("mean", "cv")),
    "lognormal": (Lognormal, ("mean", "cv")),
    "uniform": (Uniform, ("low", "high")),
    "triangular": (Triangular, ("low", "mode", "high")),
    "empirical": (Empirical, ("values",)),
}
