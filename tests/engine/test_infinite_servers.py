"""Infinite-server (self-service) stations, ``servers: inf``, against M/M/inf and M/G/inf.

The number present in an M/G/inf station is Poisson with mean ``rate * E[S]`` whatever the
service distribution, and nobody waits. The mean number present and the mean time in system
are checked with ``support.assert_oracle`` (the theory inside the 99% interval, and a 3% bias
in either detected with probability >= 0.9); ``p_wait`` must be exactly 0.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from support import assert_oracle, known_controls, replication_values, single_station

import simlib
from simlib.spec.validation import ScenarioError

RATE = 3.0

SERVICES = {
    "exponential": {"dist": "exponential", "mean": 2.0},
    "lognormal": {"dist": "lognormal", "mean": 2.0, "cv": 1.5},
    "deterministic": {"dist": "deterministic", "value": 2.0},
}


@pytest.mark.statistical
@pytest.mark.parametrize("name", list(SERVICES))
def test_mginf_mean_occupancy_is_rate_times_mean_service(name):
    """M/G/inf with rate 3 and mean service 2 (6 present on average), 12 replications of
    2 000 time units. Power: a 3% bias in the mean number present or the mean time in system
    is detected with probability >= 0.9 (asserted by assert_oracle)."""
    spec = single_station(rate=RATE, service=SERVICES[name], servers="inf", horizon=2_000.0,
                          warmup=50.0)
    res = simlib.run(spec, replications=12, seed=31)
    assert np.all(replication_values(res, "s", "p_wait") == 0.0)
    assert np.all(np.isnan(replication_values(res, "s", "utilization")))
    controls = known_controls(res, {("s", "arrivals"): RATE * 2_000.0})
    assert_oracle({"s.mean_in_system": (replication_values(res, "s", "mean_in_system"), 6.0),
                   "s.mean_sojourn": (replication_values(res, "s", "mean_sojourn"), 2.0)},
                  controls)


def test_yaml_inf_and_the_string_inf_both_load():
    for servers in ("inf", math.inf):
        st = simlib.load_scenario(single_station(servers=servers)).stations[0]
        assert st.infinite and st.server_time(0, 10) == 0.0 and st.max_servers == 0


@pytest.mark.parametrize("extra, message", [
    ({"servers": "infinite"}, "stations[0].servers: must be a positive integer"),
    ({"servers": "inf", "queue_capacity": 3}, "stations[0].queue_capacity: not allowed with servers: inf"),
    ({"servers": "inf", "discipline": "priority"}, "stations[0].discipline: not allowed with servers: inf"),
])
def test_bad_infinite_station_is_refused_with_its_path(extra, message):
    spec = single_station(**extra)
    with pytest.raises(ScenarioError) as err:
        simlib.load_scenario(spec)
    assert message in str(err.value) and "\n" not in str(err.value)
