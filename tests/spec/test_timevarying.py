"""Scenario keys for time-varying service, the credit discipline and day-to-day variation."""

from __future__ import annotations

import pytest
from support import single_station

from simlib.spec.scenario import ScenarioError, load_scenario
from simlib.spec.timevarying import DayToDay, MeanProfile, Profiled, service_mean


def _profiled(profile: object, **service: object) -> dict:
    return single_station(service={"dist": "gamma", "mean": 2.0, "cv": 0.5, **service,
                                   "profile": profile})


def test_profile_parses_to_a_profiled_distribution_and_round_trips():
    scn = load_scenario(_profiled({"period": 10, "means": [1, 3]}))
    dist = scn.stations[0].service["c"]
    assert isinstance(dist, Profiled)
    assert dist.mean == 2.0 and dist.cv == pytest.approx(0.5)  # the base (all-day fit) stays
    assert [dist.mean_at(t) for t in (0, 9.99, 10, 25, -1, -15)] == [1, 1, 3, 1, 3, 1]
    assert dist.factor_at(12) == pytest.approx(1.5)
    assert dist.mean_over(0, 20) == pytest.approx(2.0)
    assert dist.mean_over(5, 20) == pytest.approx((5 * 1 + 10 * 3) / 15)
    assert service_mean(dist, 0, 10) == pytest.approx(1.0)
    assert service_mean(dist.base, 0, 10) == 2.0
    assert dist.to_dict()["profile"] == {"period": 10.0, "means": [1.0, 3.0]}
    assert load_scenario(scn.to_dict()) == scn
    scaled = dist.scaled(2.0)
    assert isinstance(scaled, Profiled) and scaled.profile.means == (2.0, 6.0)


def test_profile_per_class_and_null_profile():
    data = single_station()
    data["stations"][0]["service"] = {
        "c": {"dist": "exponential", "mean": 1.0, "profile": {"period": 5, "means": [0.5]}}}
    assert isinstance(load_scenario(data).stations[0].service["c"], Profiled)
    data["stations"][0]["service"] = {"dist": "exponential", "mean": 1.0, "profile": None}
    assert not isinstance(load_scenario(data).stations[0].service["c"], Profiled)


@pytest.mark.parametrize(
    ("profile", "path"),
    [
        ({"period": 0, "means": [1]}, "stations[0].service.profile.period"),
        ({"period": -1, "means": [1]}, "stations[0].service.profile.period"),
        ({"period": 1, "means": []}, "stations[0].service.profile.means"),
        ({"period": 1, "means": 3}, "stations[0].service.profile.means"),
        ({"period": 1, "means": [1, 0]}, "stations[0].service.profile.means[1]"),
        ({"period": 1, "means": [1, float("inf")]}, "stations[0].service.profile.means[1]"),
        ({"period": 1, "means": ["a"]}, "stations[0].service.profile.means[0]"),
        ({"period": 1}, "stations[0].service.profile.means"),
        ({"period": 1, "means": [1], "cv": 2}, "stations[0].service.profile.cv"),
        (7, "stations[0].service.profile"),
    ],
)
def test_bad_profiles_name_the_key_path(profile, path):
    with pytest.raises(ScenarioError) as err:
        load_scenario(_profiled(profile))
    assert err.value.path == path
    assert "\n" not in str(err.value)


def test_bad_per_class_profile_names_the_class():
    data = single_station()
    data["stations"][0]["service"] = {
        "c": {"dist": "exponential", "mean": 1.0, "profile": {"period": 5, "means": [-1]}}}
    with pytest.raises(ScenarioError, match=r"^stations\[0\]\.service\.c\.profile\.means\[0\]: "):
        load_scenario(data)


def test_mean_profile_integral_and_edges():
    p = MeanProfile(2.0, (1.0, 4.0, 2.0))
    assert p.cycle == 6.0
    assert p.integral(6.0) == pytest.approx(14.0)
    assert p.integral(7.0) == pytest.approx(15.0)
    assert p.integral(-1.0) == pytest.approx(-2.0)
    assert list(p.edges(1.0, 5.0)) == [1.0, 2.0, 4.0, 5.0]


def test_credit_discipline_and_class_key():
    data = single_station(discipline="credit")
    data["classes"][0]["credit"] = 1.5
    scn = load_scenario(data)
    assert scn.stations[0].discipline == "credit" and scn.classes[0].credit == 1.5
    assert load_scenario(single_station()).classes[0].credit == 0.0
    for bad in (-1, "x", float("nan"), True):
        data["classes"][0]["credit"] = bad
        with pytest.raises(ScenarioError, match=r"^classes\[0\]\.credit: "):
            load_scenario(data)


def test_day_to_day_key():
    data = single_station()
    data["day_to_day"] = {"cv": 0.3}
    assert load_scenario(data).day_to_day == DayToDay(0.3, 1440.0)  # a day in minutes
    data["time_unit"] = "hour"
    assert load_scenario(data).day_to_day == DayToDay(0.3, 24.0)
    data["day_to_day"] = {"cv": 0.3, "period": 100}
    assert load_scenario(data).day_to_day == DayToDay(0.3, 100.0)
    data["day_to_day"] = {"cv": 0.3, "period": 100, "service_cv": 0.05}
    assert load_scenario(data).day_to_day == DayToDay(0.3, 100.0, 0.05)
    data["time_unit"] = "shift"
    data["day_to_day"] = {"cv": 0.3}
    with pytest.raises(ScenarioError, match=r"^day_to_day\.period: is required"):
        load_scenario(data)
    data["time_unit"] = "minute"
    for bad, path in (({"cv": -0.1}, "day_to_day.cv"), ({"cv": 11}, "day_to_day.cv"),
                      ({}, "day_to_day.cv"), ({"cv": 0.1, "period": 0}, "day_to_day.period"),
                      ({"cv": 0.1, "days": 2}, "day_to_day.days"), (3, "day_to_day"),
                      ({"cv": 0.1, "service_cv": -0.1}, "day_to_day.service_cv"),
                      ({"cv": 0.1, "service_cv": 11}, "day_to_day.service_cv"),
                      ({"cv": 0.1, "service_cv": "x"}, "day_to_day.service_cv")):
        data["day_to_day"] = bad
        with pytest.raises(ScenarioError) as err:
            load_scenario(data)
        assert err.value.path == path


def _fine_grid_scenario(**top):
    data = {"name": "t", "horizon": 100, "classes": [{"name": "a", "arrivals": {"rate": 1}}],
            "stations": [{"name": "s", "servers": 2, "service": {
                "dist": "exponential", "mean": 1, "profile": {"period": 10, "means": [1, 2]}}}]}
    data.update(top)
    return data


@pytest.mark.parametrize("edit, where", [
    (lambda d: d["stations"][0]["service"]["profile"].update(period=1e-300),
     r"stations\[0\]\.service\.profile\.period: 1e-300 is too short"),
    (lambda d: d.update(day_to_day={"cv": 0.2, "period": 1e-300}),
     r"day_to_day\.period: 1e-300 is too short"),
    (lambda d: d["stations"][0]["service"]["profile"].update(means=[1, 1e300]),
     r"profile\.means\[1\]: must be a positive number up to"),
])
def test_grids_too_fine_for_the_run_and_absurd_means_are_refused(edit, where):
    # Planning walks a profile cell by cell over the run: a period that underflows
    # would allocate without bound instead of failing.
    data = _fine_grid_scenario()
    load_scenario(data)
    edit(data)
    with pytest.raises(ScenarioError, match=where):
        load_scenario(data)
