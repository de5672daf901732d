"""Summary statistics over replications.

A replication yields one value per (scope, metric); the experiment's answer is
the mean over independent replications with a Student-t confidence interval,
which is valid because replications use independent random streams
(docs/architecture.md#randomness-and-reproducibility). Replications whose value
is undefined (NaN, e.g. a mean wait when nobody arrived) are left out of that
metric's ``n``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Interval", "t_interval", "METRICS"]

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


@dataclass(frozen=True)
class Interval:
    """Mean over replications with a two-sided t-interval."""

    mean: float
    std: float
    ci_low: float
    ci_high: float
    n: int

    @property
    def half_width(self) -> float:
        """Half the interval's width."""
        return (self.ci_high - self.ci_low) / 2


def t_interval(values: Sequence[float] | np.ndarray, level: float = 0.95) -> Interval:
    """Mean, standard deviation and ``level`` t-interval of replication values.

    NaN values are ignored. With one value the interval is undefined (NaN);
    with identical values it has zero width.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, math.nan, 1)
    std = float(x.std(ddof=1))
    # Imported here: scipy.stats costs half a second, which worker processes
    # that only simulate should not pay.
    from scipy import stats

    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * std / math.sqrt(n)
    return Interval(mean, std, mean - half, mean + half, n)
