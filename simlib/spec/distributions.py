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
    {dist: weibull, shape: 1.5, scale: 3}   or   {dist: weibull, mean: 3, cv: 0.7}
    {dist: hyperexponential, probabilities: [0.8, 0.2], means: [2, 7]}
    {dist: coxian, rates: [2, 0.5], continue: [0.3]}
    {dist: mixture, components: [{weight: 0.9, dist: lognormal, mean: 3, cv: 1},
                                 {weight: 0.1, dist: deterministic, value: 0.1}]}
    {dist: survival, times: [10, 30, 60], survival: [0.9, 0.6, 0.4], tail_mean: 120}

Families whose distribution function has no closed-form inverse
(hyperexponential, Coxian, mixture) invert it numerically, vectorised over
the probabilities, to a relative precision of about 1e-13; their draws do
not need the inverse (they pick a phase or component, then draw from it).
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
    "Weibull",
    "Hyperexponential",
    "Coxian",
    "Mixture",
    "Survival",
    "DISTRIBUTIONS",
    "parse_distribution",
]

#: Coefficients of variation a gamma, lognormal or Weibull (mean and cv) may have.
_CV_RANGE = (1e-3, 100.0)
#: Weibull shapes allowed (cv from about 430 down to 0.0006); beyond, moments over- or underflow.
_SHAPE_RANGE = (0.1, 2000.0)
#: How far probabilities or weights may sum from 1.
_SUM_TOLERANCE = 1e-6
#: Relative precision of numerically inverted distribution functions.
_INVERSE_RTOL = 1e-13


def _stats() -> Any:
    from scipy import stats  # about a second to import; only quantiles need it

    return stats


def _special() -> Any:
    from scipy import special  # part of scipy's import cost; only distribution functions need it

    return special


class Distribution:
    """Base class: a non-negative random duration with known moments."""

    #: Name used in scenario files (``dist:`` key).
    name: str = ""
    #: Parameter keys of the scenario form (besides ``dist``), all required.
    keys: ClassVar[tuple[str, ...]] = ()
    #: True when ``parse`` checks the keys itself (alternative forms, optional keys).
    own_keys: ClassVar[bool] = False

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

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """The distribution function ``P(X <= x)`` at durations ``x``."""
        raise NotImplementedError(f"no distribution function for {type(self).__name__}")

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

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return -np.expm1(-np.maximum(np.asarray(x, dtype=float), 0.0) / self.mean_)

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

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=float) >= self.value).astype(float)

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

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        return _special().gammainc(self.k, x * self.k / self.mean_)

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

    def cdf(self, x: np.ndarray) -> np.ndarray:
        shape = 1.0 / self.cv_**2
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        return _special().gammainc(shape, x * shape / self.mean_)


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

    def cdf(self, x: np.ndarray) -> np.ndarray:
        sigma2 = math.log1p(self.cv_**2)
        mu = math.log(self.mean_) - sigma2 / 2
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(x, 0.0)) - mu) / math.sqrt(sigma2)
        return _special().ndtr(z)


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

    def cdf(self, x: np.ndarray) -> np.ndarray:
        if self.high == self.low:
            return (np.asarray(x, dtype=float) >= self.low).astype(float)
        return np.clip((np.asarray(x, dtype=float) - self.low) / (self.high - self.low), 0.0, 1.0)

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

    def cdf(self, x: np.ndarray) -> np.ndarray:
        width = self.high - self.low
        if width == 0:
            return (np.asarray(x, dtype=float) >= self.low).astype(float)
        return _stats().triang.cdf(x, (self.mode - self.low) / width, loc=self.low, scale=width)

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
    own_keys = True

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

    def cdf(self, x: np.ndarray) -> np.ndarray:
        # The law sampled: each value with weight 1/n (a step function).
        ordered = np.sort(np.asarray(self.values, dtype=float))
        return np.searchsorted(ordered, x, side="right") / ordered.size

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


# --------------------------------------------------------------------------- helpers of the
# families below: lists of numbers in a scenario, numerical inversion, matrix exponentials


def _numbers(
    node: Node,
    key: str,
    *,
    positive: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    allow_empty: bool = False,
) -> tuple[float, ...]:
    """The list of numbers under ``key``, each checked; errors name the item (``key[2]``)."""
    raw = node.value.get(key)
    if not isinstance(raw, list) or (not raw and not allow_empty):
        what = "a list of numbers" if allow_empty else "a non-empty list of numbers"
        raise ScenarioError(node.sub(key), f"must be {what}, got {show(raw)}")
    out = []
    for i, x in enumerate(raw):
        where = f"{node.sub(key)}[{i}]"
        if not is_number(x):
            raise ScenarioError(where, f"must be a number, got {show(x)}")
        if positive and x <= 0:
            raise ScenarioError(where, f"must be positive, got {show(x)}")
        if minimum is not None and x < minimum:
            raise ScenarioError(where, f"must be at least {minimum:g}, got {show(x)}")
        if maximum is not None and x > maximum:
            raise ScenarioError(where, f"must be at most {maximum:g}, got {show(x)}")
        out.append(float(x))
    return tuple(out)


def _sums_to_one(values: tuple[float, ...], where: str, what: str = "") -> None:
    total = math.fsum(values)
    if abs(total - 1.0) > _SUM_TOLERANCE:
        head = f"{what} must" if what else "must"
        raise ScenarioError(where, f"{head} sum to 1 (within {_SUM_TOLERANCE:g}), got {total:.10g}")


def _same_length(node: Node, key: str, n: int, other: str) -> None:
    if len(node.value[key]) != n:
        raise ScenarioError(
            node.sub(key), f"must have as many entries as {other} ({n}), got {len(node.value[key])}"
        )


def _invert(
    u: np.ndarray, lower: np.ndarray, upper: np.ndarray, scale: float, residual: Any
) -> np.ndarray:
    """``inf{x : F(x) >= u}`` for ``u`` in (0, 1): bisection, or safeguarded Newton.

    ``residual(x, u)`` returns ``(r, slope)``: ``r`` increasing in ``x`` and of
    the sign of ``F(x) - u`` (families compute it as ``F - u`` below the median
    and ``(1 - u) - S`` above, each side from a form that keeps its relative
    precision), ``slope`` the density or None (then only bisection). ``lower``
    and ``upper`` are starting brackets; ``upper`` is doubled until ``r >= 0``.
    The answer is the upper end of a final bracket ``r(lo) < 0 <= r(hi)`` of
    relative width :data:`_INVERSE_RTOL`, or a Newton iterate whose step is that
    small.
    """
    lo = np.minimum(np.asarray(lower, dtype=float), np.asarray(upper, dtype=float))
    hi = np.maximum(np.asarray(upper, dtype=float), 0.0)
    hi = np.where(hi > 0, hi, scale)
    for _ in range(2100):  # from the mean to 2**2100 times it: beyond any double
        short = residual(hi, u)[0] < 0
        if not short.any():
            break
        lo = np.where(short, hi, lo)
        hi = np.where(short, 2.0 * hi, hi)
    lo = np.where(residual(lo, u)[0] < 0, lo, 0.0)  # a valid lower end
    x = 0.5 * (lo + hi)
    result = hi.copy()
    active = np.arange(u.size)  # the points still being solved
    for _ in range(200):
        xa, ua, la, ha = x[active], u[active], lo[active], hi[active]
        r, slope = residual(xa, ua)
        below = r < 0
        la = np.where(below, xa, la)
        ha = np.where(below, ha, xa)
        tol = _INVERSE_RTOL * ha + 1e-16 * scale
        closed = ha - la <= tol
        new_x = 0.5 * (la + ha)
        found = ha
        if slope is not None:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                step = xa - r / slope
            inside = (step > la) & (step < ha)
            # Newton converges quadratically: a step this small lands on the root
            landed = inside & (np.abs(step - xa) <= tol)
            found = np.where(landed & ~closed, step, ha)
            closed = closed | landed
            new_x = np.where(inside, step, new_x)
        result[active[closed]] = found[closed]
        lo[active], hi[active], x[active] = la, ha, new_x
        active = active[~closed]
        if not active.size:
            break
    result[active] = hi[active]
    return result


def _quantile_by_inversion(
    dist: Distribution, u: np.ndarray, lower: Any, upper: Any, residual: Any
) -> np.ndarray:
    """The quantile at ``u`` of any shape: 0 at u <= 0, inf at u >= 1, inverted between."""
    u = np.asarray(u, dtype=float)
    flat = u.ravel()
    out = np.where(flat >= 1.0, np.inf, 0.0)
    inside = (flat > 0.0) & (flat < 1.0)
    if inside.any():
        v = flat[inside]
        out[inside] = _invert(v, lower(v), upper(v), max(dist.mean, 1e-300), residual)
    return out.reshape(u.shape)


def _two_sided(f: np.ndarray, s: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``F - u`` below the median, ``(1 - u) - S`` above (``1 - u`` is exact there)."""
    return np.where(u <= 0.5, f - u, (1.0 - u) - s)


def _expm_rows(generator: np.ndarray, x: np.ndarray) -> np.ndarray:
    """First rows of ``exp(T x)`` for a sub-generator ``T`` and each ``x`` (shape: x + (n,)).

    Scaling and squaring on non-negative matrices: ``exp(A) = exp(-c) exp(A + cI)``
    with ``A + cI >= 0`` entrywise, so the Taylor terms never cancel and every
    entry, however small, keeps its relative precision. One scaling serves
    every ``x``: ``T x / 2^s`` with ``c x / 2^s <= 1/16`` for the largest ``x``
    (``||A + cI|| <= 1/8``, so 11 Taylor terms leave an error below 1e-19).
    """
    x = np.asarray(x, dtype=float)
    n = generator.shape[0]
    c = float(np.max(-np.diag(generator)))  # the largest rate
    top = float(np.max(c * x, initial=0.0))
    halvings = max(0, math.ceil(math.log2(16.0 * top))) if top > 0 else 0
    h = x / 2.0**halvings
    shifted = generator[None, :, :] * h[:, None, None] + (c * h)[:, None, None] * np.eye(n)
    total = np.broadcast_to(np.eye(n), shifted.shape).copy()
    for k in range(11, 0, -1):  # Horner: I + B (I + B/2 (I + B/3 (...)))
        total = np.eye(n) + shifted @ total / k
    total *= np.exp(-c * h)[:, None, None]
    for _ in range(halvings):
        total = total @ total
    return total[:, 0, :]


# --------------------------------------------------------------------------- families


def _weibull_moments(shape: float) -> tuple[float, float]:
    """(E[X], scv) of a Weibull of scale 1: Gamma(1 + 1/k) and Gamma(1+2/k)/Gamma(1+1/k)^2 - 1."""
    log_g1 = math.lgamma(1.0 + 1.0 / shape)
    return math.exp(log_g1), math.expm1(math.lgamma(1.0 + 2.0 / shape) - 2.0 * log_g1)


def _weibull_shape(cv: float) -> float:
    """The Weibull shape with coefficient of variation ``cv`` (the scv falls as the shape grows)."""
    target = math.log1p(cv * cv)
    lo, hi = math.log(_SHAPE_RANGE[0] / 2), math.log(_SHAPE_RANGE[1] * 2)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        k = math.exp(mid)
        excess = math.lgamma(1.0 + 2.0 / k) - 2.0 * math.lgamma(1.0 + 1.0 / k) - target
        lo, hi = (mid, hi) if excess > 0 else (lo, mid)
        if hi - lo < 1e-15:
            break
    return math.exp(0.5 * (lo + hi))


@dataclass(frozen=True)
class Weibull(Distribution):
    """Weibull durations, ``P(X > x) = exp(-(x / scale)^shape)``.

    Given by ``shape`` and ``scale``, or by ``mean`` and ``cv`` (the shape then
    solves ``Gamma(1 + 2/k) / Gamma(1 + 1/k)^2 = 1 + cv^2``); ``given`` keeps
    the mean and cv of the second form so that the scenario form is written
    back as it was read. Shape below 1: a hazard falling with time (patience
    that hardens), above 1: a rising hazard.
    """

    shape: float
    scale: float
    #: (mean, cv) when the distribution was given that way, else None.
    given: tuple[float, float] | None = None
    name = "weibull"
    keys = ("shape", "scale", "mean", "cv")
    own_keys = True

    @classmethod
    def from_mean_cv(cls, mean: float, cv: float) -> Weibull:
        """The Weibull with this mean and coefficient of variation."""
        shape = _weibull_shape(cv)
        return cls(shape, mean / _weibull_moments(shape)[0], given=(mean, cv))

    @classmethod
    def parse(cls, node: Node, base_dir: str) -> Distribution:
        node.check_keys(("dist",) + cls.keys)
        by_shape = node.has("shape") or node.has("scale")
        by_mean = node.has("mean") or node.has("cv")
        if by_shape == by_mean:
            raise ScenarioError(node.path, "weibull needs either shape and scale, or mean and cv")
        if by_shape:
            node.check_keys(("dist", "shape", "scale"), required=("shape", "scale"))
            shape = node.number("shape", positive=True)
            if not _SHAPE_RANGE[0] <= shape <= _SHAPE_RANGE[1]:
                raise ScenarioError(
                    node.sub("shape"),
                    f"must be between {_SHAPE_RANGE[0]:g} and {_SHAPE_RANGE[1]:g}, got {shape:g}",
                )
            return cls(shape, node.number("scale", positive=True))
        node.check_keys(("dist", "mean", "cv"), required=("mean", "cv"))
        mean = node.number("mean", positive=True)
        cv = node.number("cv", positive=True)
        if not _CV_RANGE[0] <= cv <= _CV_RANGE[1]:
            raise ScenarioError(
                node.sub("cv"), f"must be between {_CV_RANGE[0]:g} and {_CV_RANGE[1]:g}, got {cv:g}"
            )
        return cls.from_mean_cv(mean, cv)

    @property
    def mean(self) -> float:
        return self.scale * _weibull_moments(self.shape)[0]

    @property
    def variance(self) -> float:
        return self.mean**2 * _weibull_moments(self.shape)[1]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.scale * rng.weibull(self.shape, size)

    def to_dict(self) -> dict:
        if self.given is not None:
            return {"dist": "weibull", "mean": self.given[0], "cv": self.given[1]}
        return {"dist": "weibull", "shape": self.shape, "scale": self.scale}

    def quantile(self, u: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return self.scale * (-np.log1p(-np.asarray(u, dtype=float))) ** (1.0 / self.shape)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        return -np.expm1(-((x / self.scale) ** self.shape))

    def scaled(self, factor: float) -> Distribution:
        if self.given is not None:
            return Weibull.from_mean_cv(self.given[0] * factor, self.given[1])
        return Weibull(self.shape, self.scale * factor)

    def less_variable(self, reduction: float) -> Distribution:
        """A Weibull with the same mean and the cv times ``1 - reduction`` (exact; written in
        the mean-and-cv form); a constant at ``reduction = 1``; a cv that would fall below
        0.001 (the smallest the mean-and-cv form takes) is held at 0.001."""
        keep = 1.0 - reduction
        if keep <= 0:
            return Deterministic(self.mean)
        return Weibull.from_mean_cv(self.mean, max(self.cv * keep, _CV_RANGE[0]))


@dataclass(frozen=True)
class Hyperexponential(Distribution):
    """With probability ``probabilities[i]`` an exponential duration of mean ``means[i]``.

    The cv is at least 1: a mix of short and long jobs (quick queries and
    complex cases). ``E[X] = sum p_i m_i``, ``E[X^2] = 2 sum p_i m_i^2``.
    """

    probabilities: tuple[float, ...]
    means: tuple[float, ...]
    name = "hyperexponential"
    keys = ("probabilities", "means")

    @classmethod
    def parse(cls, node: Node, base_dir: str) -> Distribution:
        probabilities = _numbers(node, "probabilities", minimum=0.0, maximum=1.0)
        _sums_to_one(probabilities, node.sub("probabilities"))
        means = _numbers(node, "means", positive=True)
        _same_length(node, "means", len(probabilities), "probabilities")
        return cls(probabilities, means)

    @property
    def _p(self) -> np.ndarray:
        p = np.asarray(self.probabilities, dtype=float)
        return p / p.sum()

    @property
    def mean(self) -> float:
        return float(self._p @ np.asarray(self.means))

    @property
    def variance(self) -> float:
        m = np.asarray(self.means)
        return float(2.0 * (self._p @ m**2)) - self.mean**2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        phase = np.searchsorted(np.cumsum(self._p)[:-1], rng.random(size), side="right")
        return np.asarray(self.means)[phase] * rng.standard_exponential(size)

    def to_dict(self) -> dict:
        return {
            "dist": "hyperexponential",
            "probabilities": list(self.probabilities),
            "means": list(self.means),
        }

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        return -np.expm1(-x[..., None] / np.asarray(self.means)) @ self._p

    def quantile(self, u: np.ndarray) -> np.ndarray:
        means, p = np.asarray(self.means), self._p

        def residual(x: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            scaled = -x[:, None] / means
            decay = np.exp(scaled)
            return _two_sided(-np.expm1(scaled) @ p, decay @ p, v), decay @ (p / means)

        # The mixture's quantile lies between its phases' quantiles at the same u.
        return _quantile_by_inversion(
            self, u, lambda v: -np.log1p(-v) * means.min(), lambda v: -np.log1p(-v) * means.max(),
            residual,
        )

    def scaled(self, factor: float) -> Distribution:
        return Hyperexponential(self.probabilities, tuple(m * factor for m in self.means))

    def less_variable(self, reduction: float) -> Distribution:
        """The phase means pulled towards the overall mean so that the cv falls by the share
        ``reduction`` exactly (probabilities kept) while the new cv is at least 1; a
        hyperexponential cannot be less variable than an exponential, so below that the
        result is a gamma with the mean and the new cv, and a constant at ``reduction = 1``.
        """
        keep = 1.0 - reduction
        mean, scv = self.mean, self.scv
        target = scv * keep**2
        if keep <= 0:
            return Deterministic(mean)
        if keep == 1.0:
            return self
        if target < 1.0 or scv <= 1.0:
            return Gamma(mean, max(math.sqrt(target), _CV_RANGE[0]))
        # scv = 1 + 2 sum p (m_i - mean)^2 / mean^2: the spread of the means scales by a.
        a = math.sqrt((target - 1.0) / (scv - 1.0))
        means = tuple(mean + a * (m - mean) for m in self.means)
        return Hyperexponential(self.probabilities, means)


@dataclass(frozen=True)
class Coxian(Distribution):
    """A Coxian phase-type duration: phases in series, leaving after any one.

    Phase ``i`` lasts an exponential time of rate ``rates[i]``; after it the
    customer goes on to phase ``i + 1`` with probability ``continue_[i]``
    (scenario key ``continue``, one entry fewer than ``rates``) and is done
    otherwise; the last phase always ends it. Any phase-type distribution
    with real eigenvalues is a Coxian, so it fits any cv: an Erlang is a
    Coxian with equal rates and every continue probability 1. Moments are
    ``E[X^k] = k! a (-T)^-k 1`` for the initial vector ``a = (1, 0, ...)`` and
    the phase generator ``T``; the distribution function is ``1 - a exp(T x) 1``.
    """

    rates: tuple[float, ...]
    continue_: tuple[float, ...]
    name = "coxian"
    keys = ("rates", "continue")

    @classmethod
    def parse(cls, node: Node, base_dir: str) -> Distribution:
        rates = _numbers(node, "rates", positive=True)
        if len(rates) > 64:
            raise ScenarioError(node.sub("rates"), f"may have at most 64 phases, got {len(rates)}")
        go_on = _numbers(node, "continue", minimum=0.0, maximum=1.0, allow_empty=True)
        _same_length(node, "continue", len(rates) - 1, "rates, less one")
        return cls(rates, go_on)

    @property
    def _generator(self) -> np.ndarray:
        mu = np.asarray(self.rates, dtype=float)
        return np.diag(-mu) + np.diag(mu[:-1] * np.asarray(self.continue_, dtype=float), 1)

    @property
    def _exit(self) -> np.ndarray:
        """Rate of leaving from each phase: ``-T 1``."""
        mu = np.asarray(self.rates, dtype=float)
        stay = np.append(np.asarray(self.continue_, dtype=float), 0.0)
        return mu * (1.0 - stay)

    def _moment(self, k: int) -> float:
        """``E[X^k] = k! a (-T)^-k 1`` by k triangular solves."""
        v = np.ones(len(self.rates))
        for _ in range(k):
            v = np.linalg.solve(-self._generator, v)
        return math.factorial(k) * float(v[0])

    @property
    def mean(self) -> float:
        return self._moment(1)

    @property
    def variance(self) -> float:
        return max(self._moment(2) - self.mean**2, 0.0)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        mu = np.asarray(self.rates, dtype=float)
        times = rng.standard_exponential((size, mu.size)) / mu
        if mu.size == 1:
            return times[:, 0]
        go_on = rng.random((size, mu.size - 1)) < np.asarray(self.continue_)
        reached = np.concatenate([np.ones((size, 1), bool), np.cumprod(go_on, axis=1) > 0], axis=1)
        return np.sum(times * reached, axis=1)

    def to_dict(self) -> dict:
        return {"dist": "coxian", "rates": list(self.rates), "continue": list(self.continue_)}

    @property
    def _absorbing(self) -> np.ndarray:
        """The generator with the exit as a last, absorbing state: ``exp(Q x)[0, -1] = F(x)``
        (so ``F`` keeps its relative precision where it is tiny, unlike ``1 - S``)."""
        n = len(self.rates)
        q = np.zeros((n + 1, n + 1))
        q[:n, :n] = self._generator
        q[:n, n] = self._exit
        return q

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        rows = _expm_rows(self._absorbing, np.maximum(x.ravel(), 0.0))
        return rows[:, -1].clip(0.0, 1.0).reshape(x.shape)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        absorbing, exit_rates = self._absorbing, self._exit

        def residual(x: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            rows = _expm_rows(absorbing, x)
            inside = rows[:, :-1]
            return _two_sided(rows[:, -1], inside.sum(axis=1), v), inside @ exit_rates

        # X is at least its first phase, and about at most the sum of all phases.
        mu = np.asarray(self.rates, dtype=float)
        return _quantile_by_inversion(
            self, u, lambda v: -np.log1p(-v) / mu[0],
            lambda v: -np.log1p(-v) * np.sum(1 / mu) + self.mean, residual,
        )

    def scaled(self, factor: float) -> Distribution:
        return Coxian(tuple(r / factor for r in self.rates), self.continue_)

    def less_variable(self, reduction: float) -> Distribution:
        """The two-phase Coxian with the mean and the cv times ``1 - reduction`` (Marie's fit:
        rates ``2/m`` and ``1/(m cv^2)``, continue ``1/(2 cv^2)``; it needs ``cv^2 >= 1/2``);
        below that, the phases cannot be kept, and the result is a gamma with that mean and
        cv; a constant at ``reduction = 1``. The mean and cv are exact; the shape beyond the
        first two moments is not kept."""
        keep = 1.0 - reduction
        mean = self.mean
        if keep <= 0:
            return Deterministic(mean)
        if keep == 1.0:
            return self
        scv = self.scv * keep**2
        if scv >= 0.5:
            return Coxian((2.0 / mean, 1.0 / (mean * scv)), (1.0 / (2.0 * scv),))
        return Gamma(mean, max(math.sqrt(scv), _CV_RANGE[0]))


@dataclass(frozen=True)
class Mixture(Distribution):
    """With probability ``weights[i]`` a draw from ``components[i]`` (any supported family).

    ``E[X^k] = sum w_i E[X_i^k]``; the distribution function is the weighted
    sum of the components' (a Mixture of any kind can be a component).
    Scenario form: ``components: [{weight: w, dist: ..., <its keys>}, ...]``.
    """

    weights: tuple[float, ...]
    components: tuple[Distribution, ...]
    name = "mixture"
    keys = ("components",)

    @classmethod
    def parse(cls, node: Node, base_dir: str) -> Distribution:
        raw = node.value["components"]
        where = node.sub("components")
        if not isinstance(raw, list) or not raw:
            raise ScenarioError(
                where, f"must be a non-empty list of {{weight, dist, ...}}, got {show(raw)}"
            )
        weights, components = [], []
        for i, item in enumerate(raw):
            inner = Node(item, f"{where}[{i}]")
            if not inner.has("weight"):
                raise ScenarioError(inner.sub("weight"), "is required")
            weight = inner.number("weight", minimum=0.0)
            if weight > 1:
                raise ScenarioError(inner.sub("weight"), f"must be at most 1, got {weight:g}")
            rest = {k: v for k, v in item.items() if k != "weight"}
            weights.append(weight)
            components.append(parse_distribution(rest, inner.path, base_dir))
        _sums_to_one(tuple(weights), where, "the weights")
        return cls(tuple(weights), tuple(components))

    @property
    def _w(self) -> np.ndarray:
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    @property
    def mean(self) -> float:
        return float(self._w @ np.array([c.mean for c in self.components]))

    @property
    def variance(self) -> float:
        second = float(self._w @ np.array([c.second_moment for c in self.components]))
        return max(second - self.mean**2, 0.0)

    @property
    def is_random(self) -> bool:
        live = [c for c, w in zip(self.components, self.weights, strict=True) if w > 0]
        return any(c.is_random for c in live) or len({c.mean for c in live}) > 1

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        which = np.searchsorted(np.cumsum(self._w)[:-1], rng.random(size), side="right")
        out = np.empty(size)
        for i, component in enumerate(self.components):
            mine = which == i
            count = int(mine.sum())
            if count:
                out[mine] = component.sample(rng, count)
        return out

    def to_dict(self) -> dict:
        return {
            "dist": "mixture",
            "components": [
                {"weight": w, **c.to_dict()}
                for w, c in zip(self.weights, self.components, strict=True)
            ],
        }

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        total = np.zeros(x.shape)
        for w, c in zip(self._w, self.components, strict=True):
            if w > 0:
                total = total + w * np.asarray(c.cdf(x), dtype=float)
        return np.minimum(total, 1.0)

    def _component_quantiles(self, v: np.ndarray) -> np.ndarray:
        live = [c for c, w in zip(self.components, self.weights, strict=True) if w > 0]
        return np.array([c.quantile(v) for c in live])

    def quantile(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        out = _quantile_by_inversion(
            self, u, lambda v: self._component_quantiles(v).min(axis=0),
            lambda v: self._component_quantiles(v).max(axis=0),
            lambda x, v: (self.cdf(x) - v, None),
        )
        # the ends of the support: the components' own (e.g. a uniform's low end at u = 0)
        ends = np.isin(u, (0.0, 1.0))
        if ends.any():
            qs = self._component_quantiles(u[ends])
            out[ends] = np.where(u[ends] == 0.0, qs.min(axis=0), qs.max(axis=0))
        return out

    def scaled(self, factor: float) -> Distribution:
        return Mixture(self.weights, tuple(c.scaled(factor) for c in self.components))

    def less_variable(self, reduction: float) -> Distribution:
        """Both sources of spread cut by ``keep = 1 - reduction``: each component's mean is
        pulled to ``m + keep (m_i - m)`` (``m`` the overall mean, so it is kept) and its
        standard deviation becomes ``keep`` times its own (the component made less variable
        by ``1 - keep m_i / m_i'``, then rescaled to its new mean). The variance is then
        ``keep^2`` times the old one, exactly where each component holds its new cv exactly
        (an Erlang component rounds its phases up, so the cv falls a little more); a
        constant at ``reduction = 1``."""
        keep = 1.0 - reduction
        m = self.mean
        if keep <= 0:
            return Deterministic(m)
        parts: list[Distribution] = []
        for c in self.components:
            new_mean = m + keep * (c.mean - m)
            if c.mean <= 0:  # a component that is always 0 can only be moved as a constant
                parts.append(Deterministic(new_mean))
                continue
            cut = 1.0 - keep * c.mean / new_mean
            parts.append(c.less_variable(cut).scaled(new_mean / c.mean))
        return Mixture(self.weights, tuple(parts))


@dataclass(frozen=True)
class Survival(Distribution):
    """An empirical survival curve (Kaplan–Meier) with an exponential tail.

    ``S(t) = P(X > t)`` is 1 at 0, ``survival[i]`` at ``times[i]``, linear in
    between, and ``survival[-1] exp(-(t - times[-1]) / tail_mean)`` beyond the
    last time: the shape a Kaplan–Meier estimate of censored patience gives
    (its steps joined by straight lines), with a memoryless tail where the
    data thin out. The mean is the area under ``S`` and ``E[X^2] = 2 int t S(t)
    dt`` (exact: trapezoids and the tail's closed form); quantiles and draws
    invert ``S`` exactly.
    """

    times: tuple[float, ...]
    survival: tuple[float, ...]
    tail_mean: float
    name = "survival"
    keys = ("times", "survival", "tail_mean")

    @classmethod
    def parse(cls, node: Node, base_dir: str) -> Distribution:
        times = _numbers(node, "times", positive=True)
        for i in range(1, len(times)):
            if times[i] <= times[i - 1]:
                raise ScenarioError(
                    f"{node.sub('times')}[{i}]",
                    f"must be greater than the time before ({times[i - 1]:g}), got {times[i]:g}",
                )
        survival = _numbers(node, "survival", maximum=1.0)
        _same_length(node, "survival", len(times), "times")
        for i, s in enumerate(survival):
            if s <= 0:
                raise ScenarioError(f"{node.sub('survival')}[{i}]", f"must be in (0, 1], got {s:g}")
            if i and s > survival[i - 1]:
                raise ScenarioError(
                    f"{node.sub('survival')}[{i}]",
                    f"must not exceed the one before ({survival[i - 1]:g}), got {s:g}",
                )
        return cls(times, survival, node.number("tail_mean", positive=True))

    @property
    def _knots(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array((0.0,) + self.times), np.array((1.0,) + self.survival)

    @property
    def mean(self) -> float:
        t, s = self._knots
        return float(np.sum(np.diff(t) * (s[:-1] + s[1:]) / 2)) + s[-1] * self.tail_mean

    @property
    def second_moment(self) -> float:
        t, s = self._knots
        a, b, sa, sb = t[:-1], t[1:], s[:-1], s[1:]
        # int_a^b t S(t) dt for linear S, and int_tn^inf t S_n exp(-(t - tn)/theta) dt
        body = float(np.sum((b - a) / 6 * (a * (2 * sa + sb) + b * (sa + 2 * sb))))
        tail = s[-1] * (t[-1] * self.tail_mean + self.tail_mean**2)
        return 2.0 * (body + tail)

    @property
    def variance(self) -> float:
        return max(self.second_moment - self.mean**2, 0.0)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.quantile(rng.random(size))

    def to_dict(self) -> dict:
        return {
            "dist": "survival",
            "times": list(self.times),
            "survival": list(self.survival),
            "tail_mean": self.tail_mean,
        }

    def cdf(self, x: np.ndarray) -> np.ndarray:
        t, s = self._knots
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        body = np.interp(x, t, s)
        tail = s[-1] * np.exp(-(x - t[-1]) / self.tail_mean)
        return 1.0 - np.where(x <= t[-1], body, tail)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        t, s = self._knots
        level = 1.0 - np.asarray(u, dtype=float)  # the survival to reach
        # knots still above the level: S is non-increasing, so they come first
        j = np.searchsorted(-s, -level, side="left")
        inner = np.clip(j, 1, t.size - 1)
        sa, sb, ta, tb = s[inner - 1], s[inner], t[inner - 1], t[inner]
        with np.errstate(divide="ignore", invalid="ignore"):
            body = ta + (sa - level) / (sa - sb) * (tb - ta)
            tail = t[-1] + self.tail_mean * np.log(s[-1] / level)
        return np.where(j == 0, 0.0, np.where(j >= t.size, tail, body))

    def scaled(self, factor: float) -> Distribution:
        times = tuple(x * factor for x in self.times)
        return Survival(times, self.survival, self.tail_mean * factor)

    def less_variable(self, reduction: float) -> Distribution:
        """Exactly ``m + keep (X - m)`` (``keep = 1 - reduction``, ``m`` the mean): the curve
        shrunk towards the mean, which starts flat at 1 until ``(1 - keep) m`` (one more knot);
        the mean is kept and the cv is cut by the share ``reduction``; a constant at 1."""
        keep = 1.0 - reduction
        m = self.mean
        if keep <= 0:
            return Deterministic(m)
        if keep == 1.0:
            return self
        shift = (1.0 - keep) * m
        return Survival(
            (shift,) + tuple(shift + keep * x for x in self.times),
            (1.0,) + self.survival,
            keep * self.tail_mean,
        )


#: Scenario name → (class, parameter names in the scenario file).
DISTRIBUTIONS: dict[str, tuple[type[Distribution], tuple[str, ...]]] = {
    cls.name: (cls, cls.keys)
    for cls in (
        Exponential, Deterministic, Erlang, Gamma, Lognormal, Uniform, Triangular, Empirical,
        Weibull, Hyperexponential, Coxian, Mixture, Survival,
    )
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
    if not cls.own_keys:  # e.g. an empirical distribution has alternative keys
        node.check_keys(("dist",) + cls.keys, required=cls.keys)
    return cls.parse(node, base_dir)
