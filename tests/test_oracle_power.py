"""The power the oracle tests state, checked on synthetic experiments with a known answer.

``support.assert_oracle`` claims that when every interval meets its power bound a 3% bias in a
metric is detected with probability >= 0.9, and that a correct engine fails at most 1% of the
time. Here replication values are drawn from normal distributions whose mean is known, with
and without control variates, and the claims are counted over thousands of experiments.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from support import BIAS, LEVEL, POWER, oracle_checks

THEORY = 2.0
METRICS = 6  # checked together, as in test_mm1
N = 40
TRIALS = 2_000


def _experiments(shift: float, controls: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per trial: is metric 0 rejected, and does its interval meet the power bound?"""
    rng = np.random.default_rng(seed)
    per_check = 1 - (1 - LEVEL) / METRICS
    t_a = stats.t.ppf(0.5 + per_check / 2, N - 1 - controls)
    t_p = stats.t.ppf(POWER, N - 1 - controls)
    # the residual spread that puts the expected half-width right at the bound
    sd = BIAS * THEORY * np.sqrt(N) / (t_a + t_p)
    rejected, powered = np.empty(TRIALS, bool), np.empty(TRIALS, bool)
    for i in range(TRIALS):
        x = rng.normal(0.0, 0.01, (N, controls))  # controls with known zero mean
        values = THEORY * (1 + shift) + rng.normal(0.0, sd, N) + 50 * x.sum(axis=1)
        # one metric of the six, at its Bonferroni share of the family's level
        [check] = oracle_checks({"m": (values, THEORY)}, x, level=per_check)
        rejected[i], powered[i] = not check.covered, check.powered
    return rejected, powered


@pytest.mark.parametrize("controls", [0, 2])
def test_a_3_percent_bias_is_detected_with_the_stated_probability(controls):
    rejected, powered = _experiments(BIAS, controls, seed=1)
    assert 0.2 < powered.mean() < 0.8  # the design sits at the bound, both sides occur
    print(f"powered {powered.mean():.2f}, detected when powered {rejected[powered].mean():.3f}")
    assert rejected[powered].mean() >= POWER


@pytest.mark.parametrize("controls", [0, 2])
def test_a_correct_engine_fails_rarely(controls):
    rejected, _ = _experiments(0.0, controls, seed=2)
    print(f"false rejections {rejected.mean():.4f}")
    # each metric gets 1% / 6 of the family's error; allow three binomial standard errors
    alpha = (1 - LEVEL) / METRICS
    assert rejected.mean() <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / TRIALS)
