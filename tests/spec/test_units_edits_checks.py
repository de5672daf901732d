"""The one-home concepts of the specification layer: units, edits, intensity, argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from simlib.spec import edits, units, validation
from simlib.spec.scenario import RateProfile, Station, from_dict
from simlib.spec.scenario import Shift as S


def test_units_table_is_consistent():
    assert units.DAY == 86_400.0 and units.HALF_DAY == 43_200.0
    assert units.SECONDS_PER_UNIT["minute"] == 60.0
    assert units.HOURS_PER_UNIT == {"second": 1 / 3600, "minute": 1 / 60, "hour": 1.0, "day": 24.0}
    assert set(units.UNIT_NAMES.values()) == set(units.SECONDS_PER_UNIT)
    assert units.unit_name(" Minutes ") == "minute" and units.unit_name("fortnight") is None
    assert units.short_label("minute") == "min" and units.short_label("day") == "day"


def test_merge_shifts_and_servers_at():
    shifts = edits.merge_shifts([0, 10, 20, 30], [10, 20, 30, 40], [1, 2, 2, 1])
    assert shifts == [{"start": 0, "end": 10, "servers": 1}, {"start": 10, "end": 30, "servers": 2},
                      {"start": 30, "end": 40, "servers": 1}]
    steps = edits.staffing_steps({"shifts": shifts}, 40.0)
    assert [edits.servers_at(steps, t) for t in (0, 9.9, 10, 29.9, 30, 45)] == [1, 1, 2, 2, 1, 1]
    assert edits.staffing_steps({"servers": 3}, 8.0) == [(0.0, 8.0, 3)]


def test_add_servers_splits_the_shifts_it_straddles():
    station = {"name": "desk", "servers": 2}
    edits.add_servers(station, 1, 3.0, 5.0, 10.0)
    assert station == {"name": "desk", "shifts": [
        {"start": 0.0, "end": 3.0, "servers": 2}, {"start": 3.0, "end": 5.0, "servers": 3},
        {"start": 5.0, "end": 10.0, "servers": 2}]}
    with pytest.raises(ValueError, match=r"extra: -4 leaves -1 servers in \[3, 5\) at station 'desk'"):
        edits.add_servers(station, -4, 3.0, 5.0, 10.0)


def test_sum_shifts_adds_two_stations():
    a = {"shifts": [{"start": 0, "end": 4, "servers": 1}, {"start": 4, "end": 8, "servers": 2}]}
    b = {"servers": 3}
    assert edits.sum_shifts(a, b, 8.0) == [{"start": 0.0, "end": 4, "servers": 4},
                                          {"start": 4, "end": 8, "servers": 5}]


def test_set_path_and_set_staffing_replace_the_alternative():
    data = {"stations": [{"name": "desk", "shifts": [{"start": 0, "end": 1, "servers": 1}]}]}
    edits.set_path(data, "stations.desk.servers", 4)
    assert data["stations"][0] == {"name": "desk", "servers": 4}
    edits.set_staffing(data["stations"][0], [{"start": 0, "end": 1, "servers": 2}])
    assert data["stations"][0] == {"name": "desk", "shifts": [{"start": 0, "end": 1, "servers": 2}]}
    with pytest.raises(validation.ScenarioError, match="no item named 'x'"):
        edits.set_path(data, "stations.x.servers", 1)


def test_scale_arrivals_and_demand():
    rate, prof, trace = {"rate": 2.0}, {"profile": {"period": 1, "rates": [1.0, 3.0]}}, {"trace": "t.csv"}
    assert edits.scale_arrivals(rate, 0.5) == ("rate", 2.0, 1.0)
    assert edits.scale_arrivals(prof, 2.0) == ("profile.rates", [1.0, 3.0], [2.0, 6.0])
    assert edits.scale_arrivals(trace, 2.0) is None and trace == {"trace": "t.csv"}
    data = {"classes": [{"name": "a", "arrivals": {"rate": 1.0}}, {"name": "b", "arrivals": trace}]}
    assert edits.scale_demand(data, 3.0) == [
        "class 'b' replays recorded arrivals (a trace), which the demand scale cannot change"]
    assert data["classes"][0]["arrivals"]["rate"] == 3.0


def test_station_server_time_integrates_the_shifts():
    st = Station("desk", None, (S(0, 4, 1), S(4, 10, 3)), {})
    assert st.server_time(0, 10) == 4 * 1 + 6 * 3
    assert st.server_time(2, 6) == 2 * 1 + 2 * 3
    assert Station("desk", 2, None, {}).server_time(1, 4) == 6


def test_profile_intensity_integrates_the_rates():
    p = RateProfile(2.0, (1.0, 0.0, 3.0))
    lam = p.intensity(horizon=15.0, warmup=4.0)
    x = np.array([-5.0, -4.0, -1.0, 0.0, 1.0, 2.0, 5.0, 6.0, 12.0, 13.0])
    # Warm-up runs at the last rate (3) from -4; after 0 the profile cycles.
    expected = [-12.0, -12.0, -3.0, 0.0, 1.0, 2.0, 5.0, 8.0, 16.0, 17.0]
    np.testing.assert_allclose(lam.cumulative(x), expected)
    # G is the integral of Lambda: compare with a fine trapezoid rule.
    grid = np.linspace(0.0, 11.0, 110_001)
    assert lam.integral(np.array([11.0]))[0] == pytest.approx(
        np.trapezoid(lam.cumulative(grid), grid), rel=1e-8)
    assert p.scaled(2.0) == RateProfile(2.0, (2.0, 0.0, 6.0))


def test_mean_rate_of_a_profile():
    scn = from_dict({
        "horizon": 7.0,
        "classes": [{"name": "a", "arrivals": {"profile": {"period": 2.0, "rates": [1.0, 0.0, 3.0]}}}],
        "stations": [{"name": "s", "servers": 1, "service": {"dist": "exponential", "mean": 1}}],
    })
    assert scn.classes[0].arrivals.mean_rate(7.0) == pytest.approx((2 + 0 + 6 + 1) / 7.0)


def test_argument_checks_name_function_and_argument():
    assert validation.positive("f", "x", 2) == 2.0
    assert validation.count("f", "n", 3.0, whole_floats=True) == 3
    assert validation.fraction("f", "p", 1, high_open=False) == 1.0
    assert validation.probability("f", "p", 0) == 0.0
    cases = [
        (lambda: validation.positive("f", "x", 0), "f: x must be positive, got 0"),
        (lambda: validation.non_negative("f", "x", -1), "f: x must be non-negative, got -1"),
        (lambda: validation.real("f", "x", "a"), "f: x must be a real number, got 'a'"),
        (lambda: validation.real("f", "x", float("inf")), "f: x must be finite, got inf"),
        (lambda: validation.count("", "jobs", 0), "jobs must be an integer >= 1, got 0"),
        (lambda: validation.count("f", "n", 2.0), "f: n must be an integer >= 1, got 2.0"),
        (lambda: validation.count("f", "n", True), "f: n must be an integer >= 1, got True"),
        (lambda: validation.fraction("f", "p", 1, low_open=True, high_open=True),
         "f: p must be in (0, 1), got 1"),
        (lambda: validation.probability("f", "p", 1.5), "f: p must be in [0, 1], got 1.5"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError) as info:
            call()
        assert str(info.value) == message


def test_get_path_and_set_service_level():
    data = {"stations": [{"name": "desk", "servers": 2}], "targets": {"other": 1}}
    assert edits.get_path(data, "stations.desk.servers") == 2
    assert edits.get_path(data, "stations.0.name") == "desk"
    edits.set_service_level(data, {"threshold": 0.5, "target": 0.8})
    assert data["targets"] == {"other": 1, "service_level": {"threshold": 0.5, "target": 0.8}}
