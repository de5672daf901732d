"""Intervals over replications that respect each metric's range, with rare events.

The coverage checks draw replication shares from a binomial model with a known
truth (``k_r ~ Binomial(N, p)``, share ``k_r / N``), so the share of intervals
that contain ``p`` can be compared with the nominal level.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import simlib
from simlib.experiments.statistics import (
    metric_interval,
    metric_kind,
    positive_interval,
    share_interval,
    t_interval,
)


def test_metrics_are_classified_by_their_range():
    for share in ("p_wait", "service_level", "p_abandon", "p_blocked", "utilization",
                  "utilisation", "p_complaint"):
        assert metric_kind(share) == "share"
    for positive in ("mean_wait", "asa", "mean_queue", "mean_sojourn", "arrivals", "throughput"):
        assert metric_kind(positive) == "non-negative"
    for real in ("profit", "satisfaction", "gap5"):
        assert metric_kind(real) == "real"


def test_a_share_that_is_zero_in_most_replications_stays_inside_0_1():
    values = [0.0] * 9 + [0.01]
    t = t_interval(values)
    assert t.ci_low < 0  # what the plain t interval did
    iv = metric_interval(values, "p_abandon")
    assert iv.method == "wilson"
    assert 0 < iv.ci_low < iv.mean < iv.ci_high < 1
    assert iv.mean == pytest.approx(t.mean)


def test_a_share_near_one_stays_below_one():
    iv = metric_interval([1.0] * 9 + [0.99], "service_level")
    assert iv.method == "wilson" and iv.ci_high <= 1 and iv.ci_low < iv.mean


def test_a_share_of_exactly_zero_or_one_gets_the_exact_binomial_bound():
    zero = metric_interval([0.0] * 10, "p_blocked", trials=1000)
    assert zero.method == "exact"
    assert zero.ci_low == 0 and zero.ci_high == pytest.approx(1 - 0.025 ** (1 / 1000))
    one = metric_interval([1.0] * 10, "service_level", trials=1000)
    assert one.method == "exact" and one.ci_high == 1
    assert one.ci_low == pytest.approx(0.025 ** (1 / 1000))
    # Without a count (or for a time share) the interval is stated as constant.
    assert metric_interval([0.0] * 5, "p_wait").method == "constant"
    assert metric_interval([1.0] * 5, "utilization", trials=100).method == "constant"


def test_a_mean_wait_near_zero_has_a_positive_interval():
    values = [0.0, 0.0, 0.02, 0.0, 0.0, 0.0, 0.3, 0.0, 0.01, 0.0]
    assert t_interval(values).ci_low < 0
    iv = metric_interval(values, "mean_wait")
    assert iv.method == "log-t"
    assert 0 < iv.ci_low < iv.mean < iv.ci_high
    # On the log scale the interval is symmetric: mean = geometric mean of its ends.
    assert iv.mean == pytest.approx(math.sqrt(iv.ci_low * iv.ci_high))


def test_values_out_of_range_fall_back_to_the_t_interval_and_say_so():
    assert share_interval([0.5, 1.2, 0.9]).method == "t"
    assert positive_interval([-1.0, 2.0, 3.0]).method == "t"
    assert metric_interval([-1.0, 1.0], "profit").method == "t"


def test_undefined_values_are_left_out_and_one_value_has_no_interval():
    iv = metric_interval([math.nan, 0.2], "p_wait")
    assert iv.n == 1 and math.isnan(iv.ci_low) and iv.mean == 0.2
    assert metric_interval([math.nan], "mean_wait").n == 0


def _coverage(p: float, customers: int, replications: int, trials: int = 2000) -> float:
    rng = np.random.default_rng(12345)
    hits = 0
    for _ in range(trials):
        shares = rng.binomial(customers, p, size=replications) / customers
        iv = metric_interval(shares, "p_abandon", trials=customers * replications)
        hits += iv.ci_low <= p <= iv.ci_high
    return hits / trials


@pytest.mark.parametrize(
    ("p", "customers", "replications"),
    [(0.002, 100, 10),  # 0.2 events per replication: zero in most of them
     (0.002, 100, 5),   # often zero in all of them: the exact bound
     (0.01, 1000, 10),
     (0.3, 100, 10)],
)
def test_share_intervals_cover_a_binomial_truth_near_the_nominal_level(p, customers, replications):
    coverage = _coverage(p, customers, replications)
    # 2000 intervals: the standard error of a 95% coverage is 0.5 percentage points.
    assert 0.93 <= coverage <= 0.995, coverage


def test_wait_intervals_cover_a_zero_inflated_truth():
    # Each of 100 customers waits with probability 0.01, an exponential wait of mean 2.
    rng = np.random.default_rng(7)
    truth, hits, trials = 0.01 * 2.0, 0, 2000
    for _ in range(trials):
        means = [rng.exponential(2.0, size=rng.binomial(100, 0.01)).sum() / 100
                 for _ in range(10)]
        iv = metric_interval(means, "mean_wait")
        hits += iv.ci_low <= truth <= iv.ci_high
    assert 0.91 <= hits / trials <= 0.99, hits / trials


def test_summary_states_the_method_and_keeps_every_interval_in_range():
    scn = {
        "name": "rare", "horizon": 120, "warmup": 10,
        "targets": {"service_level": {"threshold": 0.5, "target": 0.8}},
        "classes": [{"name": "c", "arrivals": {"rate": 0.5},
                     "patience": {"dist": "exponential", "mean": 30.0}}],
        "stations": [{"name": "s", "servers": 3, "queue_capacity": 2,
                      "service": {"dist": "exponential", "mean": 1.0}}],
    }
    summary = simlib.run(scn, replications=6, seed=3, jobs=1, progress=False).summary()
    assert "method" in summary.columns
    defined = summary.dropna(subset=["ci_low"])
    shares = defined[defined["metric"].map(metric_kind) == "share"]
    positive = defined[defined["metric"].map(metric_kind) == "non-negative"]
    assert ((shares["ci_low"] >= 0) & (shares["ci_high"] <= 1)).all()
    assert (positive["ci_low"] >= 0).all()
    assert set(shares["method"]) <= {"wilson", "exact", "constant"}
    assert set(positive["method"]) <= {"log-t", "constant"}
    assert (defined["ci_low"] <= defined["mean"]).all()
    assert (defined["mean"] <= defined["ci_high"]).all()
