"""Tests of staffing rules and shift scheduling against published examples and hand optima."""

from __future__ import annotations

import math

import pytest

from simlib.planning import staffing as st
from simlib.theory import queueing as q

# Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example":
# 100 calls per 30 minutes, AHT 180 s, 80% answered within 20 s, max occupancy 85%,
# shrinkage 30%. Reproduced in the pyworkforce 0.5.2 documentation
# (tutorials/erlangc_example.html): raw_positions 14, positions 20, service_level 0.888,
# occupancy 0.714, waiting_probability 0.174. Time unit: minutes.
CCH = {"arrival_rate": 100 / 30, "mean_service": 3.0, "target": 0.8, "threshold": 20 / 60}


def test_required_servers_call_centre_helper_example() -> None:
    assert st.required_servers(**CCH) == 14
    assert st.required_servers(**CCH, max_occupancy=0.85) == 14
    # 14 / (1 - 0.3) = 20 exactly; rounding noise must not give 21
    assert st.required_servers(**CCH, max_occupancy=0.85, shrinkage=0.3) == 20


def test_required_servers_occupancy_cap_binds() -> None:
    # A = 10 Erlangs: occupancy <= 0.6 needs ceil(10 / 0.6) = 17 servers, more than the SL needs
    assert st.required_servers(**CCH, max_occupancy=0.6) == 17
    # shrinkage alone: ceil(14 / 0.75) = 19
    assert st.required_servers(**CCH, shrinkage=0.25) == 19


@pytest.mark.parametrize(
    ("lam", "s", "target", "t"), [(2.0, 3.0, 0.9, 0.25), (50.0, 0.2, 0.8, 0.05)]
)
def test_required_servers_is_the_smallest_erlang_c_staffing(
    lam: float, s: float, target: float, t: float
) -> None:
    n = st.required_servers(lam, s, target, t)
    assert q.erlang_c(lam, s, n, threshold=t)["service_level"] >= target
    # one server fewer is still a stable queue (n - 1 > offered load), whose Erlang C service
    # level misses the target: so n is the smallest staffing, not merely a sufficient one
    assert n - 1 > lam * s
    assert q.erlang_c(lam, s, n - 1, threshold=t)["service_level"] < target


def test_required_servers_erlang_a() -> None:
    patience = 2.0
    n = st.required_servers(**CCH, mean_patience=patience)
    sl = q.erlang_a(
        CCH["arrival_rate"], CCH["mean_service"], n, patience, threshold=CCH["threshold"]
    )
    sl_less = q.erlang_a(
        CCH["arrival_rate"], CCH["mean_service"], n - 1, patience, threshold=CCH["threshold"]
    )
    assert sl["service_level"] >= 0.8 > sl_less["service_level"]
    # abandonment thins the queue: Erlang A needs fewer agents than Erlang C here
    # (Garnett, Mandelbaum & Reiman 2002; Mandelbaum & Zeltyn 2007, sec. 2)
    assert n < 14
    # very patient customers: back to the Erlang C answer
    assert st.required_servers(**CCH, mean_patience=1e6) == 14
    # an overloaded interval can still be staffed below the load: Erlang A is always stable
    assert st.required_servers(10.0, 1.0, 0.05, 0.0, mean_patience=0.1) < 10


def test_required_servers_errors() -> None:
    with pytest.raises(ValueError, match=r"required_servers: target must be in \(0, 1\)"):
        st.required_servers(1.0, 1.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="required_servers: shrinkage"):
        st.required_servers(1.0, 1.0, 0.8, 0.1, shrinkage=1.0)
    with pytest.raises(ValueError, match="required_servers: max_occupancy"):
        st.required_servers(1.0, 1.0, 0.8, 0.1, max_occupancy=0.0)
    with pytest.raises(ValueError, match="required_servers: threshold"):
        st.required_servers(1.0, 1.0, 0.8, -0.1)


def test_square_root_staffing() -> None:
    # beta solves the Halfin-Whitt (1981) equation alpha = [1 + beta Phi(beta)/phi(beta)]^-1
    n, beta = st.square_root_staffing(1000.0, 1.0, 0.2)
    phi = math.exp(-beta * beta / 2) / math.sqrt(2 * math.pi)
    big_phi = 0.5 * (1 + math.erf(beta / math.sqrt(2)))
    assert 1 / (1 + beta * big_phi / phi) == pytest.approx(0.2, rel=1e-10)
    assert n == math.ceil(1000 + beta * math.sqrt(1000))
    # asymptotically exact: the M/M/n delay probability at this n is close to the target,
    # and the rule is within one server of the exact Erlang C staffing
    # (Borst, Mandelbaum & Reiman 2004).
    for load in (10.0, 100.0, 1000.0):
        n, _ = st.square_root_staffing(load, 1.0, 0.2)
        exact = math.floor(load) + 1
        while q.erlang_c(load, 1.0, exact)["p_wait"] > 0.2:
            exact += 1
        assert abs(n - exact) <= 1
    # beta grows as the delay target tightens
    assert (
        st.square_root_staffing(100.0, 1.0, 0.05)[1] > st.square_root_staffing(100.0, 1.0, 0.5)[1]
    )
    with pytest.raises(ValueError, match="square_root_staffing: p_wait_target"):
        st.square_root_staffing(10.0, 1.0, 0.0)


# ---------------------------------------------------------------- shift scheduling

EARLY = {"name": "early", "start": 0, "length": 4, "cost": 4}
LATE = {"name": "late", "start": 2, "length": 4, "cost": 4}
FULL = {"name": "full", "start": 0, "length": 6, "cost": 5}


def test_schedule_shifts_hand_optimum() -> None:
    # Requirements [2, 2, 4, 4, 2, 2]. With e early, l late, f full shifts the constraints
    # are e + f >= 2, e + l + f >= 4, l + f >= 2 and the cost is 4e + 4l + 5f:
    # f = 0 -> 16 (e = l = 2), f = 1 -> 17, f = 2 -> 18, f = 3 -> 19, f = 4 -> 20.
    # The unique optimum is two early and two late shifts at cost 16.
    res = st.schedule_shifts([2, 2, 4, 4, 2, 2], [EARLY, LATE, FULL])
    assert res.counts == {"early": 2, "late": 2, "full": 0}
    assert res.cost == pytest.approx(16.0)
    assert res.optimal
    assert list(res.coverage["staffed"]) == [2, 2, 4, 4, 2, 2]
    assert res.coverage["under"].sum() == 0 and res.coverage["over"].sum() == 0
    rep = res.report().set_index("measure")["value"]
    assert rep["efficiency"] == pytest.approx(1.0)
    assert list(res.table["count"]) == [2, 2, 0]


def test_schedule_shifts_full_day_becomes_cheaper() -> None:
    # Make the full shift cheap (cost 3 < 4): four full shifts (cost 12) then beat any mix
    # (f = 4, e = l = 0 -> 12; f = 3 -> 9 + 4 = 13; f = 2 -> 6 + 8 = 14).
    res = st.schedule_shifts([2, 2, 4, 4, 2, 2], [EARLY, LATE, {**FULL, "cost": 3}])
    assert res.counts == {"early": 0, "late": 0, "full": 4}
    rep = res.report().set_index("measure")["value"]
    assert rep["over_staffing"] == 8  # two extra people in 4 intervals
    assert rep["intervals_over"] == 4


def test_schedule_shifts_breaks() -> None:
    # A 3-interval shift with its middle interval off covers [1, 0, 1]; the requirement
    # [1, 1, 1] then also needs one single-interval shift for interval 1: cost 3 + 1.
    split = {"name": "split", "start": 0, "length": 3, "cost": 3, "breaks": [1]}
    single = {"name": "single", "start": 1, "length": 1, "cost": 1}
    res = st.schedule_shifts([1, 1, 1], [split, single])
    assert res.counts == {"split": 1, "single": 1}
    assert list(res.coverage["staffed"]) == [1, 1, 1]


def test_schedule_shifts_cyclic_night_shift() -> None:
    night = {"name": "night", "start": 3, "length": 2, "cost": 1}  # intervals 3 and 0
    day = {"name": "day", "start": 1, "length": 2, "cost": 1}
    with pytest.raises(ValueError, match="cyclic=True"):
        st.schedule_shifts([1, 0, 0, 1], [night, day])
    res = st.schedule_shifts([1, 0, 0, 1], [night, day], cyclic=True)
    assert res.counts == {"night": 1, "day": 0}
    assert list(res.coverage["staffed"]) == [1, 0, 0, 1]


def test_schedule_shifts_max_and_understaffing() -> None:
    only = {"name": "only", "start": 0, "length": 2, "cost": 1, "max": 1}
    with pytest.raises(ValueError, match="no feasible schedule"):
        st.schedule_shifts([2, 2], [only])
    res = st.schedule_shifts([2, 2], [only], understaffing_cost=10.0)
    assert res.counts == {"only": 1}
    assert list(res.coverage["under"]) == [1, 1]
    assert res.cost == pytest.approx(1 + 2 * 10.0)
    assert res.report().set_index("measure")["value"]["under_staffing"] == 2


def test_schedule_shifts_validation() -> None:
    with pytest.raises(
        ValueError, match="interval 2 requires 1 servers but no shift type works in it"
    ):
        st.schedule_shifts([1, 1, 1], [{"name": "a", "start": 0, "length": 2, "cost": 1}])
    with pytest.raises(ValueError, match=r"shift_types\[0\]: unknown key"):
        st.schedule_shifts([1], [{"name": "a", "start": 0, "length": 1, "wage": 1}])
    with pytest.raises(ValueError, match="unique"):
        st.schedule_shifts([1], [{"name": "a", "start": 0, "length": 1}] * 2)
    with pytest.raises(ValueError, match=r"requirements\[1\]"):
        st.schedule_shifts([1, -1], [{"name": "a", "start": 0, "length": 2}])
    with pytest.raises(ValueError, match="breaks"):
        st.schedule_shifts([1], [{"name": "a", "start": 0, "length": 1, "breaks": [1]}])


def test_schedule_from_required_servers() -> None:
    # the two steps together: per-interval Erlang C requirements, then shifts
    rates = [1.0, 2.0, 4.0, 4.0, 2.0, 1.0]
    req = [st.required_servers(r, 3.0, 0.8, 1 / 3) for r in rates]
    res = st.schedule_shifts(req, [EARLY, LATE, FULL])
    assert (res.coverage["staffed"] >= res.coverage["required"]).all()
    assert res.coverage["under"].sum() == 0
