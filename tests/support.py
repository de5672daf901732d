"""Shared test helpers: scenario builders and interval checks (import with ``from support import ...``)."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "data" / "scenarios"


def single_station(
    rate: float = 0.8,
    service: dict[str, Any] | None = None,
    servers: int = 1,
    horizon: float = 10_000.0,
    warmup: float = 500.0,
    **station: Any,
) -> dict[str, Any]:
    """A one-class, one-station scenario dict (an M/G/c queue by default exponential)."""
    spec: dict[str, Any] = {
        "name": "test",
        "horizon": horizon,
        "warmup": warmup,
        "classes": [{"name": "c", "arrivals": {"rate": rate}}],
        "stations": [
            {
                "name": "s",
                "servers": servers,
                "service": service or {"dist": "exponential", "mean": 1.0},
                **station,
            }
        ],
    }
    return copy.deepcopy(spec)


def replication_values(results: Any, scope: str, metric: str) -> np.ndarray:
    return np.array([run[scope][metric] for run in results.runs], dtype=float)


#: Every oracle test states and asserts its power: a relative bias of ``BIAS`` in any one
#: checked metric (the engine's expected value off by 3% from the theory) puts the theory value
#: outside that metric's interval with probability at least ``POWER``.
BIAS = 0.03
POWER = 0.9

#: The joint confidence level of one test's checks: a correct engine fails a test by chance
#: with probability at most 1%.
LEVEL = 0.99


@dataclass(frozen=True)
class OracleCheck:
    """One metric's simulated interval against its analytic value."""

    label: str
    theory: float
    mean: float
    half: float
    bound: float  # the largest half-width that gives the stated power
    df: int

    @property
    def covered(self) -> bool:
        return abs(self.mean - self.theory) <= self.half

    @property
    def powered(self) -> bool:
        return self.half <= self.bound

    def __str__(self) -> str:
        rel, need = self.half / abs(self.theory), self.bound / abs(self.theory)
        return (f"{self.label}: theory {self.theory:.5g}, simulated {self.mean:.5g}"
                f" +- {self.half:.3g}"
                f" (+-{rel:.2%}; power needs <= +-{need:.2%}; df {self.df})")


def known_controls(results: Any, expected: Mapping[tuple[str, str], float]) -> np.ndarray:
    """Control variates: per replication, each ``(scope, metric)``'s relative deviation from its
    known expectation (arrival counts, mean service times), one column per control."""
    columns = [replication_values(results, scope, metric) / mean - 1
               for (scope, metric), mean in expected.items()]
    return np.column_stack(columns) if columns else np.empty((results.n_replications, 0))


def controlled_interval(
    values: np.ndarray, controls: np.ndarray, level: float
) -> tuple[float, float, int]:
    """Control-variate estimate of E[values], its ``level`` t half-width and degrees of freedom.

    The regression (Lavenberg & Welch 1981) of the replication values on controls with known
    zero mean: the intercept is the estimate, unbiased whatever the coefficients, and under
    joint normality its t-interval has ``n - 1 - q`` degrees of freedom. Without controls it
    is the plain t-interval over replications.
    """
    design = np.column_stack([np.ones(len(values)), controls])
    coef, *_ = np.linalg.lstsq(design, values, rcond=None)
    resid = values - design @ coef
    df = len(values) - design.shape[1]
    se = math.sqrt(resid @ resid / df * np.linalg.inv(design.T @ design)[0, 0])
    return float(coef[0]), float(stats.t.ppf(0.5 + level / 2, df)) * se, df


def oracle_checks(
    samples: Mapping[str, tuple[np.ndarray, float]],
    controls: np.ndarray | None = None,
    level: float = LEVEL,
) -> list[OracleCheck]:
    """Each sample's (label -> (replication values, theory)) interval, Bonferroni over all."""
    if controls is None:
        controls = np.empty((len(next(iter(samples.values()))[0]), 0))
    per_check = 1 - (1 - level) / len(samples)
    checks = []
    for label, (values, theory) in samples.items():
        mean, half, df = controlled_interval(np.asarray(values, dtype=float), controls, per_check)
        checks.append(_with_bound(label, theory, mean, half, df, per_check))
    return checks


def _with_bound(label: str, theory: float, mean: float, half: float, df: int,
                per_check: float) -> OracleCheck:
    """The check with its power bound.

    When the engine's expected value is ``theory * (1 +- BIAS)`` the estimate is (nearly)
    normal about it with standard error ``half / t_a``, so the theory value falls outside the
    interval with probability >= ``POWER`` when ``BIAS * |theory| - half >= t_p * half / t_a``,
    i.e. ``half <= BIAS * |theory| * t_a / (t_a + t_p)`` (``t_a``, ``t_p``: the t quantiles of
    the interval's level and of the power).
    """
    t_a, t_p = stats.t.ppf(0.5 + per_check / 2, df), stats.t.ppf(POWER, df)
    return OracleCheck(label, theory, mean, half, BIAS * abs(theory) * t_a / (t_a + t_p), df)


def oracle_samples(results: Any, scope: str, theory: Mapping[str, float],
                   metrics: tuple[str, ...]) -> dict[str, tuple[np.ndarray, float]]:
    """``{"scope.metric": (replication values, theory value)}`` for :func:`assert_oracle`."""
    return {f"{scope}.{m}": (replication_values(results, scope, m), theory[m]) for m in metrics}


def assert_oracle(
    samples: Mapping[str, tuple[np.ndarray, float]], controls: np.ndarray | None = None
) -> list[OracleCheck]:
    """The experiment has the stated power and every theory value lies in its interval.

    Then, the meta-test that shows the check can fail: the same check (same family, same
    controls) must reject each metric's replication values multiplied by ``1 +- BIAS``, as
    from an engine whose expected value is off by that much.
    """
    checks = oracle_checks(samples, controls)
    print(*checks, sep="\n")
    weak = [str(c) for c in checks if not c.powered]
    assert not weak, "too few replications for the stated power:\n" + "\n".join(weak)
    missed = [str(c) for c in checks if not c.covered]
    assert not missed, "theory outside the simulated interval:\n" + "\n".join(missed)
    for i, (label, (values, theory)) in enumerate(samples.items()):
        for factor in (1 + BIAS, 1 - BIAS):
            biased = oracle_checks({**samples, label: (np.asarray(values) * factor, theory)},
                                   controls)[i]
            assert not biased.covered, f"a {factor - 1:+.0%} bias passes: {biased}"
    return checks


def figures_shown_as_text(outputs: Any) -> list[str]:
    """The ``<Figure size ...>`` texts among notebook cell outputs that carry no image.

    A matplotlib figure displayed where no PNG formatter is active (no inline
    backend) reaches the notebook as its text repr only; JupyterLab then
    prints ``<Figure size 1000x400 with 2 Axes>`` instead of drawing it.
    ``outputs`` are a cell's outputs, as stored in an ``.ipynb`` file or as
    collected by nbval while the cell runs.
    """
    found = []
    for out in outputs or ():
        data = out.get("data") or {}
        text = data.get("text/plain", "")
        text = "".join(text) if isinstance(text, list) else str(text)
        if text.lstrip().startswith("<Figure size") and "image/png" not in data:
            found.append(text.strip())
    return found


#: The peer family's detectable relative difference (in any one metric) and its level.
PEER_BIAS, PEER_ALPHA = 0.10, 0.01


def holm_rejects(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray],
                 alpha: float = PEER_ALPHA) -> list[str]:
    """Labels whose Welch test rejects equal means, Holm-corrected at ``alpha``."""
    p = {label: stats.ttest_ind(a[label], b[label], equal_var=False).pvalue for label in a}
    order = sorted(p, key=p.__getitem__)
    rejected = []
    for i, label in enumerate(order):
        if p[label] > alpha / (len(order) - i):
            break
        rejected.append(label)
    return rejected


def assert_peer_agreement(ours: Mapping[str, np.ndarray], peer: Mapping[str, np.ndarray],
                          bias: float = PEER_BIAS, alpha: float = PEER_ALPHA) -> None:
    """simlib and a peer (Ciw, or a SimPy model written in a test) agree, metric by metric.

    Holm-corrected Welch tests of equal means over the replications of each. The family
    states its power: a relative difference of ``bias`` in any one metric is detected with
    probability >= ``POWER`` (a Bonferroni bound, which Holm beats); a metric whose spread
    is too wide for that fails the test as underpowered. It also shows it can fail: each
    metric shifted by ``bias`` either way is rejected.
    """
    labels = list(peer)
    z = stats.norm.ppf(1 - alpha / (2 * len(labels))) + stats.norm.ppf(POWER)
    weak = []
    for label in labels:
        a, b = np.asarray(ours[label], float), np.asarray(peer[label], float)
        se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        detectable = z * se / abs(b.mean())
        print(f"{label}: simlib {a.mean():.4g}, peer {b.mean():.4g}, detects {detectable:.2%}")
        if detectable > bias:
            weak.append(f"{label} ({detectable:.2%})")
    assert not weak, f"too few replications for the stated power: {weak}"
    rejected = holm_rejects(ours, peer, alpha)
    assert not rejected, f"simlib and the peer differ in {rejected}"
    for label in labels:
        for factor in (1 + bias, 1 - bias):
            shifted = {**ours, label: np.asarray(ours[label], float) * factor}
            assert label in holm_rejects(shifted, peer, alpha), f"a {bias:.0%} shift in {label} passes"
