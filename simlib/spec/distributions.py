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

Everything that depends on the family lives on its class, so no caller
branches on the kind: parsing and validating the scenario form
(:func:`parse_distribution`, ``cls.parse``) and writing it back
(:meth:`Distribution.to_dict`), moments (``mean``, ``variance``, ``cv``,
``scv``, ``second_moment``), quantiles (:meth:`Distribution.quantile`,
:meth:`Distribution.points`), and the edits improvement measures make
(:meth:`Distribution.scaled`: every duration times a factor;
:meth:`Distribution.less_variable`: the cv cut, the mean kept).

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
from typing import Any, ClassVar

import numpy as np

from simlib.spec.validation import Node, ScenarioError, is_number, read_column, show

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
    "parse_distribution",
]

#: Coefficients of variation a gamma or lognormal may have.
_CV_RANGE = (1e-3, 100.0)


def _stats() -> Any:
    from scipy import stats  # about a second to import; only quantiles need it

    return stats


class Distribution:
    """Base class: a non-negative random duration with known moments."""

    #: Name used in scenario files (``dist:`` key).
    name: str = ""
    #: Parameter keys of the scenario form (besides ``dist``), all required.
    keys: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def parse(cls, node: Node, base_dir: str) -> Distribution:
        """Build from the validated keys of its scenario form (``node`` holds the mapping)."""
        raise NotImplementedError

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
    def scv(self) -> float:
        """Squared coefficient of variation (variance / mean²), as in Kingman's formula."""
        return self.cv**2

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

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The inverse distribution function at probabilities ``u``."""
        raise NotImplementedError(f"no quantile function for {type(self).__name__}")

    def points(self, n: int) -> np.ndarray:
        """Equally weighted points standing for the distribution: ``F^-1((j + 1/2) / n)``."""
        return self.quantile((np.arange(n) + 0.5) / n)

    def scaled(self, factor: float) -> Distribution:
        """Every duration multiplied by ``factor`` (the mean scales, the cv is kept)."""
        raise NotImplementedError

    def less_variable(self, reduction: float) -> Distribution:
        """The coefficient of variation cut by the share ``reduction`` in [0, 1], the mean kept.

        Where the family cannot hold the new cv exactly it moves to the nearest
        one that can (an exponential becomes a gamma, an Erlang gains phases);
        ``reduction = 1`` leaves a constant.
        """
        raise NotImplementedError


@dataclass(frozen=True)
class Exponential(Distribution):
    """Exponential (memoryless) durations: the M in M/M/c."""

    mean_: float
    name = "exponential"
    keys = ("mean",)

    @classmethod
    def parse(cls, node: Node, base_dir: str) -> Distribution:
        return cls(node.number("mean", positive=True))

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

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return _stats().expon(scale=self.mean).ppf(u)

    def scaled(self, factor: float) -> Distribution:
        return Exponential(self.mean_ * factor)

    def less_variable(self, reduction: float) -> Distribution:
        keep = 1.0 - reduction
        return Gamma(self.mean_, keep) if keep > 0 else Deterministic(self.mean_)


@dataclass(frozen=True)
class Deterministic(Distribution):
    """A constant duration (the D in M/D/1)."""

    value: float
    name = "deterministic"
    keys = ("value",)

    @classmethod
    def parse(cls, node: Node, base_dir: str) -> Distribution:
        return cls(node.number("value", positive=True))

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

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value)

    def points(self, n: int) -> np.ndarray:
        return np.array([self.value])  # one point carries all the weight

    def scaled(self, factor: float) -> Distribution:
        return Deterministic(self.value * factor)

    def less_variable(self, reduction: float) -> Distribution:
        return self  # nothing to reduce


@dataclass(frozen=True)
class Erlang(Distribution):
    """Sum of ``k`` exponential phases with total mean ``mean`` (cv = 1/sqrt(k))."""

    mean_: float
    k: int
    name = "erlang"
    keys = ("mean", "k")

    @classmethod
    def parse(cls, node: Node, base_dir: str) -> Distribution:
        return cls(node.number("mean", positive=True), node.integer("k", minimum=1))

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

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return _stats().gamma(a=self.k, scale=self.mean / self.k).ppf(u)

    def scaled(self, factor: float) -> Distribution:
        return Erlang(self.mean_ * factor, self.k)

    def less_variable(self, reduction: float) -> Distribution:
        keep = 1.0 - reduction
        # cv = 1/sqrt(k): the fewest phases whose cv is at most keep/sqrt(k).
        k = math.ceil(self.k / keep**2) if keep > 0 else None
        return Erlang(self.mean_, k) if k else Deterministic(self.mean_)


@dataclass(frozen=True)
class _MeanCv(Distribution):
    """A two-parameter family given by its mean and coefficient of variation."""

    mean_: float
    cv_: float
    keys = ("mean", "cv")

    @classmethod
    def parse(cls, node: Node, base_dir: str) -> Distribution:
        mean = node.number("mean", positive=True)
        cv = node.number("cv", positive=True)
        if not _CV_RANGE[0] <= cv <= _CV_RANGE[1]:
            # Outside this range the samplers' parameters under- or overflow.
            raise ScenarioError(
                node.sub("cv"), f"must be between {_CV_RANGE[0]:g} and {_CV_RANGE[1]:g}, got {cv:g}"
            )
        return cls(mean, cv)

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return (self.cv_ * self.mean_) ** 2

    def to_dict(self) -> dict:
        return {"dist": self.name, "mean": self.mean_, "cv": self.cv_}

    def scaled(self, factor: float) -> Distribution:
        return type(self)(self.mean_ * factor, self.cv_)

    def less_variable(self, reduction: float) -> Distribution:
        keep = 1.0 - reduction
        return type(self)(self.mean_, self.cv_ * keep) if keep > 0 else Deterministic(self.mean_)


@dataclass(frozen=True)
class Gamma(_MeanCv):
    """Gamma durations given by mean and coefficient of variation."""

    name = "gamma"

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = 1.0 / self.cv_**2
        return rng.gamma(shape, self.mean_ / shape, size)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        shape = 1.0 / self.cv**2
        return _stats().gamma(a=shape, scale=self.mean / shape).ppf(u)


@dataclass(frozen=True)
class Lognormal(_MeanCv):
    """Lognormal durations given by mean and cv (typical of call handling times)."""

    name = "lognormal"

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p(self.cv_**2)
        mu = math.log(self.mean_) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        sigma = math.sqrt(math.log1p(self.cv**2))
        return _stats().lognorm(s=sigma, scale=self.mean * math.exp(-0.5 * sigma**2)).ppf(u)


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform durations on [low, high]."""

    low: float
    high: float
    name = "uniform"
    keys = ("low", "high")

    @classmethod
    def parse(cls, node: Node, base_dir: str) -> Distribution:
        low = node.number("low", minimum=0)
        high = node.number("high", positive=True)
        if high < low:
            raise ScenarioError(node.sub("high"), f"must be >= low ({low}), got {high}")
        return cls(low, high)

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

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return _stats().uniform(loc=self.low, scale=self.high - self.low).ppf(u)

    def scaled(self, factor: float) -> Distribution:
        return Uniform(self.low * factor, self.high * factor)

    def less_variable(self, reduction: float) -> Distribution:
        keep, mid = 1.0 - reduction, self.mean
        return Uniform(*(max(0.0, mid + (x - mid) * keep) for x in (self.low, self.high)))


@dataclass(frozen=True)
class Triangular(Distribution):
    """Triangular durations (low, mode, high): the planner's three-point estimate."""

    low: float
    mode: float
    high: float
    name = "triangular"
    keys = ("low", "mode", "high")

    @classmethod
    def parse(cls, node: Node, base_dir: str) -> Distribution:
        low = node.number("low", minimum=0)
        mode = node.number("mode", minimum=0)
        high = node.number("high", positive=True)
        if not low <= mode <= high:
            raise ScenarioError(node.path, f"needs low <= mode <= high, got {low}, {mode}, {high}")
        return cls(low, mode, high)

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

    def quantile(self, u: np.ndarray) -> np.ndarray:
        width = self.high - self.low
        if width == 0:
            return np.full(np.shape(u), self.low)
        return _stats().triang(c=(self.mode - self.low) / width, loc=self.low, scale=width).ppf(u)

    def scaled(self, factor: float) -> Distribution:
        return Triangular(self.low * factor, self.mode * factor, self.high * factor)

    def less_variable(self, reduction: float) -> Distribution:
        keep, mid = 1.0 - reduction, self.mean
        return Triangular(
            *(max(0.0, mid + (x - mid) * keep) for x in (self.low, self.mode, self.high))
        )


@dataclass(frozen=True)
class Empirical(Distribution):
    """Resampling (with replacement) of observed durations."""

    values: tuple[float, ...]
    #: Where the values came from (file and column), kept for round-tripping to YAML.
    source: tuple[str, str] | None = None
    name = "empirical"
    keys = ("values",)

    @classmethod
    def parse(cls, node: Node, base_dir: str) -> Distribution:
        value, path = node.value, node.path
        node.check_keys(("dist", "values", "file", "column"))
        if node.has("values") == node.has("file"):
            raise ScenarioError(path, "empirical needs exactly one of values or file")
        if node.has("values"):
            raw = value["values"]
            if not isinstance(raw, list) or not raw:
                raise ScenarioError(node.sub("values"), "must be a non-empty list of numbers")
            for i, x in enumerate(raw):
                if not is_number(x) or x < 0:
                    raise ScenarioError(
                        f"{node.sub('values')}[{i}]", f"must be a number >= 0, got {show(x)}"
                    )
            return cls(tuple(float(x) for x in raw))
        if node.has("column") and not isinstance(value["column"], str):
            raise ScenarioError(node.sub("column"), "must be a column name")
        column = value.get("column")
        values = read_column(value["file"], column, node.sub("file"), base_dir)
        for i, x in enumerate(values):
            if x < 0:
                raise ScenarioError(node.sub("file"), f"value {i + 1} is negative: {x}")
        return cls(tuple(values), source=(value["file"], column or "time"))

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

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return np.quantile(np.asarray(self.values, dtype=float), u)

    def points(self, n: int) -> np.ndarray:
        values = np.asarray(self.values, dtype=float)
        # A sample of modest size stands for itself; a large one by its quantiles.
        return values if values.size <= 4 * n else np.quantile(values, (np.arange(n) + 0.5) / n)

    def scaled(self, factor: float) -> Distribution:
        if self.source is not None:
            raise ValueError("measures: cannot rescale an empirical distribution read from a file")
        return Empirical(tuple(v * factor for v in self.values))

    def less_variable(self, reduction: float) -> Distribution:
        if self.source is not None:
            return self  # a file's values stay as written
        keep = 1.0 - reduction
        values = np.asarray(self.values, dtype=float)
        mean = values.mean()
        return Empirical(tuple(float(max(0.0, mean + (v - mean) * keep)) for v in values))


#: Scenario name → (class, parameter names in the scenario file).
DISTRIBUTIONS: dict[str, tuple[type[Distribution], tuple[str, ...]]] = {
    cls.name: (cls, cls.keys)
    for cls in (Exponential, Deterministic, Erlang, Gamma, Lognormal, Uniform, Triangular, Empirical)
}


def parse_distribution(value: Any, path: str, base_dir: str = ".") -> Distribution:
    """Build a :class:`Distribution` from its scenario form, validating every key.

    Parameters
    ----------
    value : mapping
        ``{dist: name, ...parameters}`` (see the module notes).
    path : str
        Key path of ``value`` in the scenario, for error messages.
    base_dir : str
        Folder that an empirical distribution's ``file`` is resolved against.

    Raises
    ------
    ScenarioError
        One line naming the key path and the problem.
    """
    node = Node(value, path)
    kind = value.get("dist")
    if not isinstance(kind, str) or kind not in DISTRIBUTIONS:
        raise ScenarioError(
            node.sub("dist"),
            f"unknown distribution {show(kind)} (choose from {', '.join(DISTRIBUTIONS)})",
        )
    cls = DISTRIBUTIONS[kind][0]
    if cls is not Empirical:  # an empirical distribution has alternative keys
        node.check_keys(("dist",) + cls.keys, required=cls.keys)
    return cls.parse(node, base_dir)
