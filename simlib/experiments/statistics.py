"""Summary statistics over replications, with intervals that respect each metric's range.

A replication yields one value per (scope, metric); the experiment's answer is
the mean over independent replications with a confidence interval, which is
valid because replications use independent random streams
(docs/architecture.md#randomness-and-reproducibility). Replications whose
value is undefined (NaN, e.g. a mean wait when nobody arrived) are left out of
that metric's ``n``.

A plain Student-t interval ``mean ± t·s/√n`` can leave a metric's range: a
share that is 0 in most replications gets a negative lower end, a mean wait
near 0 too. :func:`metric_interval` therefore picks the interval by what the
metric is (:func:`metric_kind`), and says which one it used in
:attr:`Interval.method`:

``"wilson"`` (shares: ``p_wait``, ``service_level``, ``p_abandon``,
    ``p_blocked``, ``utilization``, every ``p_*``) — the Wilson score interval
    for a proportion, with the sample size replaced by the effective sample
    size ``n_eff = m(1-m)/se²`` of the replication means (``m`` the mean,
    ``se = s/√n``) and the normal quantile by Student's ``t`` with ``n-1``
    degrees of freedom. It lies inside [0, 1], is close to the t interval when
    the share is far from 0 and 1, and follows the skew of a rare event's
    share near 0 (Wilson 1927; the effective sample size is that of Korn &
    Graubard 1998 for clustered proportions).
``"exact"`` (a customer share that is exactly 0, or exactly 1, in every
    replication) — the Clopper–Pearson interval for 0 (or N) events among
    the ``N`` customers of the scope over all replications: ``[0, 1-(α/2)^(1/N)]``
    (or ``[(α/2)^(1/N), 1]``), about ``[0, 3.7/N]`` at 95%.
``"log-t"`` (non-negative quantities: waits, queue lengths, sojourn and
    service times, counts, throughput, costs) — the t interval on the log
    scale by the delta method, ``m·exp(±t·se/m)``: positive, skewed upwards
    like the sampling distribution of a mean of skewed waits, and equal to the
    t interval to first order when ``se/m`` is small.
``"t"`` (everything else: differences, scores, profit) — the Student-t
    interval of :func:`t_interval`; also used when a value falls outside the
    metric's range, so that nothing is ever moved into range silently.
``"constant"`` — every replication gave the same value and no count bounds
    it: a zero-width interval.

With fewer than two defined values the interval is NaN (method as above).
The coverage of these intervals is checked in ``tests/experiments/test_statistics.py``
by simulation against binomial shares with a known truth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

__all__ = [
    "Interval",
    "t_interval",
    "metric_interval",
    "share_interval",
    "positive_interval",
    "metric_kind",
    "METRICS",
    "SHARE_METRICS",
    "COUNTED_SHARES",
    "NON_NEGATIVE_METRICS",
]

#: The metrics of docs/metrics.md, in reporting order.
METRICS: tuple[str, ...] = (
    "arrivals",
    "throughput",
    "p_wait",
    "mean_wait",
    "asa",
    "service_level",
    "p_abandon",
    "p_blocked",
    "utilization",
    "mean_queue",
    "mean_in_system",
    "mean_sojourn",
    "mean_service",
)

#: Metrics that are shares in [0, 1] (besides every name starting with ``p_``).
SHARE_METRICS: frozenset[str] = frozenset(
    {"p_wait", "service_level", "p_abandon", "p_blocked", "utilization", "utilisation",
     "occupancy", "utilization_blocked"}
)

#: Shares counted over (about) the scope's arriving customers, whose count bounds
#: the interval when the share is 0 or 1 in every replication (method ``"exact"``).
COUNTED_SHARES: frozenset[str] = frozenset({"p_wait", "service_level", "p_abandon", "p_blocked"})

#: Metrics that cannot be negative (besides every name starting with ``mean_``).
NON_NEGATIVE_METRICS: frozenset[str] = frozenset(
    {"arrivals", "throughput", "asa", "cost", "revenue", "wages"}
)

Kind = Literal["share", "non-negative", "real"]


@dataclass(frozen=True)
class Interval:
    """Mean over replications with a two-sided confidence interval."""

    mean: float
    std: float
    ci_low: float
    ci_high: float
    n: int
    #: How the interval was computed (see the module's documentation).
    method: str = "t"

    @property
    def half_width(self) -> float:
        """Half the interval's width."""
        return (self.ci_high - self.ci_low) / 2


def metric_kind(metric: str) -> Kind:
    """``"share"``, ``"non-negative"`` or ``"real"``: the range of a metric's values."""
    if metric in SHARE_METRICS or metric.startswith("p_"):
        return "share"
    if metric in NON_NEGATIVE_METRICS or metric.startswith("mean_"):
        return "non-negative"
    return "real"


def _defined(values: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[~np.isnan(x)]


def _t_quantile(level: float, n: int) -> float:
    from scipy import stats  # half a second to import: workers that only simulate skip it

    return float(stats.t.ppf(0.5 + level / 2, n - 1))


def t_interval(values: Sequence[float] | np.ndarray, level: float = 0.95) -> Interval:
    """Mean, standard deviation and ``level`` t-interval of replication values.

    NaN values are ignored. With one value the interval is undefined (NaN);
    with identical values it has zero width. For a metric with a bounded range
    use :func:`metric_interval`.
    """
    x = _defined(values)
    n = int(x.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, math.nan, 1)
    std = float(x.std(ddof=1))
    half = _t_quantile(level, n) * std / math.sqrt(n)
    return Interval(mean, std, mean - half, mean + half, n)


def share_interval(
    values: Sequence[float] | np.ndarray, level: float = 0.95, trials: float | None = None
) -> Interval:
    """Mean of per-replication shares with an interval inside [0, 1].

    The Wilson score interval with the effective sample size (method
    ``"wilson"``); when every replication gave exactly 0 (or 1) and ``trials``
    — the customers the share was counted over, summed over replications — is
    known, the Clopper–Pearson interval for 0 (or all) of ``trials`` (method
    ``"exact"``). Values outside [0, 1] get the plain t interval (method ``"t"``).
    """
    x = _defined(values)
    iv = t_interval(x, level)
    if iv.n == 0 or np.any((x < 0) | (x > 1)):
        return iv
    if iv.n == 1:
        return replace(iv, method="wilson")
    m, alpha = iv.mean, 1 - level
    if iv.std == 0:
        if m in (0.0, 1.0) and trials is not None and trials >= 1:
            bound = (alpha / 2) ** (1 / trials)
            low, high = (0.0, 1 - bound) if m == 0.0 else (bound, 1.0)
            return replace(iv, ci_low=low, ci_high=high, method="exact")
        return replace(iv, method="constant")
    t = _t_quantile(level, iv.n)
    se2 = iv.std**2 / iv.n
    n_eff = m * (1 - m) / se2
    k = t * t / n_eff
    centre = (m + k / 2) / (1 + k)
    half = t / (1 + k) * math.sqrt(m * (1 - m) / n_eff + k / (4 * n_eff))
    return replace(iv, ci_low=max(0.0, centre - half), ci_high=min(1.0, centre + half),
                 method="wilson")


def positive_interval(values: Sequence[float] | np.ndarray, level: float = 0.95) -> Interval:
    """Mean of non-negative replication values with an interval that stays >= 0.

    The t interval on the log scale by the delta method, ``m·exp(±t·se/m)``
    (method ``"log-t"``); all-equal values give a zero-width interval (method
    ``"constant"``) and a negative value the plain t interval (method ``"t"``).
    """
    x = _defined(values)
    iv = t_interval(x, level)
    if iv.n == 0 or np.any(x < 0):
        return iv
    if iv.n == 1:
        return replace(iv, method="log-t")
    if iv.std == 0:
        return replace(iv, method="constant")
    factor = math.exp(_t_quantile(level, iv.n) * iv.std / math.sqrt(iv.n) / iv.mean)
    return replace(iv, ci_low=iv.mean / factor, ci_high=iv.mean * factor, method="log-t")


def metric_interval(
    values: Sequence[float] | np.ndarray,
    metric: str,
    level: float = 0.95,
    trials: float | None = None,
) -> Interval:
    """The interval that fits ``metric``'s range (see the module's documentation).

    ``trials`` (customers over all replications) is used only for the shares in
    :data:`COUNTED_SHARES` that are 0 or 1 in every replication.
    """
    kind = metric_kind(metric)
    if kind == "share":
        return share_interval(values, level, trials if metric in COUNTED_SHARES else None)
    if kind == "non-negative":
        return positive_interval(values, level)
    return t_interval(values, level)

