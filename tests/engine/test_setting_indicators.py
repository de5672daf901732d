"""The seed settings' own quality dimensions (issue 14, item 8), each moving with its
operational driver under common random numbers: the care home's safety, call-bell
response and dignity; the shared service centre's accuracy, timeliness against the SLA,
SLA lateness and rework; and the care home's continuity of care (residents and named
carers, simlib.engine.carers) against its exact probability under random assignment.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from support import SCENARIOS, replication_values

import simlib
from simlib.engine import build_network
from simlib.engine.quality import customer_columns
from simlib.spec.quality import IndicatorSpec
from simlib.spec.validation import ScenarioError

CARE = SCENARIOS / "care_home.yaml"
SSC = SCENARIOS / "shared_service_centre.yaml"


def load(path) -> dict:
    return simlib.load_scenario(path).to_dict()


def run(data: dict, replications: int = 2) -> simlib.Results:
    return simlib.run(simlib.load_scenario(data), replications=replications, seed=4, progress=False)


def values(res: simlib.Results, metric: str) -> np.ndarray:
    return replication_values(res, "system", metric)


def test_care_home_dimensions_follow_staffing_and_failures():
    base = load(CARE)
    short = load(CARE)
    for shift in short["stations"][0]["shifts"]:
        shift["servers"] = max(1, shift["servers"] // 3)
    risky = load(CARE)
    risky["failures"]["caregivers"]["probability"] = 0.2
    b, s, r = run(base), run(short), run(risky)
    for metric in ("call_bell_response", "dignity"):
        assert np.all(values(s, metric) < values(b, metric)), metric
    assert np.all(values(r, "safety") < values(b, "safety"))
    assert np.all(values(s, "safety") < values(b, "safety"))  # unanswered call bells


def test_shared_service_centre_dimensions_follow_exceptions_and_clerks():
    base = load(SSC)
    messy = load(SSC)
    messy["routing"]["processing"] = {"exceptions": 0.3, "exit": 0.7}
    thin = load(SSC)
    for shift in thin["stations"][0]["shifts"]:
        shift["servers"] = min(shift["servers"], 1)
    b, m, t = run(base), run(messy), run(thin)
    assert np.all(values(m, "accuracy") < values(b, "accuracy"))
    assert np.all(values(m, "rework") > values(b, "rework"))
    assert np.all(values(t, "timeliness") < values(b, "timeliness"))
    assert np.all(values(t, "sla_lateness") > values(b, "sla_lateness"))


def test_scores_per_customer():
    wait = IndicatorSpec("w", "wait_within", standard=10)
    assert wait.score(10, 50, True, False, 1, 1, {"a"}) == 1 and wait.score(11, 50, True, False, 1, 1, {"a"}) == 0
    assert wait.score(2, 5, False, False, 1, 1, {"a"}) == 0  # left unserved
    assert IndicatorSpec("l", "lateness", standard=24).score(0, 30, True, False, 1, 1, set()) == 6
    assert IndicatorSpec("t", "time_within", standard=24).score(0, 30, True, False, 1, 1, set()) == 0
    ftr = IndicatorSpec("a", "first_time_right", station="exceptions")
    assert ftr.score(0, 1, True, False, 1, 1, {"processing"}) == 1
    assert ftr.score(0, 1, True, False, 3, 2, {"processing", "exceptions"}) == 0
    assert ftr.score(0, 1, True, True, 1, 1, {"processing"}) == 0
    assert IndicatorSpec("r", "rework").score(0, 1, True, False, 3, 2, set()) == 1


@pytest.mark.parametrize("block, key", [
    ({"x": {"kind": "nope"}}, "quality.indicators.x.kind"),
    ({"x": {"kind": "lateness"}}, "quality.indicators.x.standard"),
    ({"x": {"kind": "rework", "classes": ["ghost"]}}, "quality.indicators.x.classes"),
    ({"x": {"kind": "first_time_right", "station": "ghost"}}, "quality.indicators.x.station"),
    ({"reliability": {"kind": "rework"}}, "quality.indicators.reliability"),
    ({"wait": {"kind": "rework"}}, "quality.indicators.wait"),  # a customer-table column
])
def test_bad_indicators_are_refused(block, key):
    data = load(SSC)
    data["quality"]["indicators"] = block
    with pytest.raises(ScenarioError, match=key.replace(".", r"\.")):
        simlib.load_scenario(data)


@pytest.mark.parametrize("path, names, horizon", [
    (CARE, ("safety", "call_bell_response", "dignity", "emergency_response", "continuity"), 720),
    (SSC, ("accuracy", "timeliness", "sla_lateness", "rework"), None),
])
def test_indicator_scores_are_columns_of_the_customer_table(path, names, horizon):
    """Each indicator is a column of Results.customers(): the customer's score, NaN for a
    class it does not cover; per class and replication its mean is the summary's metric."""
    data = load(path)
    data["horizon"] = horizon or data["horizon"]
    res = run(data)
    table = res.customers()
    assert list(table.columns[-len(names):]) == list(names)
    spec = {ind.name: ind for ind in res.scenario.quality.indicators}
    for name in names:
        covered = table["class"].isin(spec[name].classes or table["class"].unique())
        assert table.loc[~covered, name].isna().all()
        # continuity is NaN at a resident's first service (and for a customer never served)
        assert spec[name].kind == "continuity" or table.loc[covered, name].notna().all()
        for (rep, cls), group in table[covered].groupby(["replication", "class"]):
            assert group[name].mean() == pytest.approx(res.runs[rep][cls][name], rel=1e-12, nan_ok=True), (name, cls)
    assert sum(table[name].nunique() > 1 for name in names) >= 2  # scores vary by customer
    kinds = {ind.kind for ind in spec.values()}
    if "wait_within" in kinds:
        ind = next(i for i in spec.values() if i.kind == "wait_within")
        covered = table["class"].isin(ind.classes or table["class"].unique())
        served = ~(table.abandoned | table.blocked)
        # a served customer with no queue time met the standard
        assert (table.loc[covered & served & (table.wait == 0), ind.name] == 1).all()


def test_an_indicator_named_like_a_metric_is_refused():
    # "mean_wait" is not a customer column, so only the metrics can tell that it is taken.
    data = load(CARE)
    data["quality"]["indicators"] = {"mean_wait": {"kind": "wait_within", "standard": 10}}
    data["horizon"], data["warmup"] = 240, 0
    with pytest.raises(ValueError, match=r"^quality\.indicators\.mean_wait: is the name of a metric"):
        run(data, replications=1)


# --------------------------------------------------------------------------- continuity of care


def carers_scenario(carers: int, residents: int, horizon: float, prefer: str = "any") -> dict:
    """Requests every time unit, served in half of one by one of ``carers`` carers: every
    request finds them all idle, so each service draws its carer uniformly among all."""
    return {
        "name": "carers", "horizon": horizon, "warmup": 0,
        "classes": [{"name": "request",
                     "arrivals": {"interarrival": {"dist": "deterministic", "value": 1.0}}}],
        "stations": [{"name": "home", "servers": carers,
                      "service": {"dist": "deterministic", "value": 0.5}}],
        "quality": {"residents": residents,
                    "indicators": {"continuity": {"kind": "continuity", "station": "home",
                                                  "prefer": prefer}}},
    }


def with_prefer(prefer: str) -> simlib.Scenario:
    data = load(CARE)
    data["quality"]["indicators"]["continuity"]["prefer"] = prefer
    return simlib.load_scenario(data)


def served_here(scenario: simlib.Scenario, replication: int) -> tuple[list, list[tuple], list]:
    """One recorded replication: the caregivers' log (one row per service), the experience
    rows and their columns."""
    network = build_network(scenario, 4, replication, record=True)
    network.run()
    layer = network.layer
    caregivers = next(st.index for st in network.stations if st.name == "caregivers")
    return layer.carers[caregivers].log, layer.rows, list(customer_columns(scenario.quality))


def scores_from_log(log: list) -> dict[int, tuple[bool, bool] | None]:
    """Per customer, recomputed from the log: (carer had served the resident before, carer
    served the resident's previous service) at the customer's first service; None at the
    resident's first."""
    seen: dict[int, list[int]] = {}
    first: dict[int, tuple[bool, bool] | None] = {}
    for ident, resident, carer, _, _ in log:
        history = seen.setdefault(resident, [])
        if ident not in first:
            first[ident] = (carer in history, carer == history[-1]) if history else None
        history.append(carer)
    return first


@pytest.mark.statistical
def test_continuity_at_the_kth_visit_matches_random_assignment():
    """With c equally likely carers drawn independently at each service, a resident's k-th
    service is by a carer seen before with probability 1 - (1 - 1/c)^(k-1).

    Power: visits k = 2..5 are tested together, each two-sided at 0.01/4 (z = 3.02). A
    0.03 absolute error is detected with power > 0.9 when n_k >= p(1-p)(3.02 + 1.28)^2 /
    0.03^2, at most 5,136 (p = 1/2); here p_k = 0.25, 0.44, 0.58, 0.68 need 3,852, 5,053,
    5,010 and 4,440, and 14 replications of 400 residents with about 10 services each give
    about 5,400 per k (asserted below, so the stated power holds)."""
    c, level, power, error = 4, 0.01, 0.9, 0.03
    scenario = simlib.load_scenario(carers_scenario(c, residents=400, horizon=4000))
    res = simlib.run(scenario, replications=14, seed=11, progress=False)
    table = res.customers().sort_values(["replication", "customer"])
    visit = table.groupby(["replication", "resident"]).cumcount() + 1
    assert table.loc[visit == 1, "continuity"].isna().all()
    assert table.loc[visit > 1, "continuity"].notna().all()
    ks = (2, 3, 4, 5)
    z_a, z_p = stats.norm.ppf(1 - level / len(ks) / 2), stats.norm.ppf(power)
    for k in ks:
        x = table.loc[visit == k, "continuity"].to_numpy()
        p = 1 - (1 - 1 / c) ** (k - 1)
        assert len(x) >= p * (1 - p) * (z_a + z_p) ** 2 / error**2, k  # the stated power
        z = (x.mean() - p) / math.sqrt(p * (1 - p) / len(x))
        assert abs(z) < z_a, (k, x.mean(), p)


def test_preferring_the_previous_carer_raises_continuity_under_common_random_numbers():
    """The same replications with prefer any and prefer previous: the same customers with
    the same waits (carers are identical, and both rules draw the same carer uniforms),
    and more services by the resident's previous carer — about 0.11 against 0.47 in the
    care home, with a spread of a few hundredths per replication, so all five show it."""
    col = None
    for r in range(5):
        share = {}
        waits = {}
        for prefer in ("any", "previous"):
            log, rows, columns = served_here(with_prefer(prefer), r)
            col = {name: i for i, name in enumerate(columns)}
            first = scores_from_log(log)
            scored = [v for v in first.values() if v is not None]
            share[prefer] = np.mean([previous for _, previous in scored])
            waits[prefer] = [(row[col["customer"]], row[col["wait"]]) for row in rows]
            # the indicator scores what the log shows, customer by customer
            for row in rows:
                outcome = first.get(row[col["customer"]])
                expect = math.nan if outcome is None else float(outcome[prefer == "previous"])
                assert row[col["continuity"]] == pytest.approx(expect, nan_ok=True)
        assert waits["any"] == waits["previous"], r
        assert share["previous"] > share["any"] + 0.1, (r, share)


@pytest.mark.parametrize("prefer", ["any", "previous"])
def test_no_carer_serves_two_customers_at_once(prefer):
    """Every carer's services in the log are disjoint in time, each carer was on duty
    (below the shift's number of caregivers) when chosen, and every service start at the
    station is in the log (failed services repeated there included)."""
    scenario = with_prefer(prefer)
    network = build_network(scenario, 4, 0, record=True)
    network.run()
    station = next(st for st in network.stations if st.name == "caregivers")
    log = network.layer.carers[station.index].log
    spec = scenario.stations[station.index]
    by_carer: dict[int, list[tuple[float, float]]] = {}
    for _, _, carer, start, end in log:
        assert carer < spec.servers_at(start - scenario.warmup), (carer, start)
        by_carer.setdefault(carer, []).append((start, end))
    assert len(by_carer) == max(s.servers for s in spec.shifts)  # every post is worked
    for carer, spells in by_carer.items():
        spells.sort()
        for (_, end), (start, _) in zip(spells, spells[1:], strict=False):
            assert end <= start, (carer, end, start)  # an unfinished service has end NaN: last
    completed = sum(1 for v in network.visits if v[2] == station.index and v[6] == 0)
    in_service = sum(1 for c in network.present.values() if c.station is station and not c.waiting)
    assert len(log) == completed + in_service
    assert sum(math.isnan(row[4]) for row in log) == in_service


def test_results_do_not_move_with_residents_or_continuity():
    """Residents and carers draw from their own streams, and carers are identical: the care
    home's every other metric is the same, to the last digit, without them, with residents
    only, and with either rule of continuity; the resident column is there only with
    residents, with values 1..N."""
    plain = load(CARE)
    del plain["quality"]["residents"], plain["quality"]["indicators"]["continuity"]
    residents_only = load(CARE)
    del residents_only["quality"]["indicators"]["continuity"]
    runs = [run(d) for d in (plain, residents_only, with_prefer("any").to_dict(),
                             with_prefer("previous").to_dict())]
    base = runs[0].runs
    for other in runs[1:]:
        for rep, metrics in enumerate(other.runs):
            for scope, values_ in metrics.items():
                same = {m: v for m, v in values_.items() if m != "continuity"}
                assert same == pytest.approx(base[rep][scope], nan_ok=True, rel=0, abs=0), scope
    assert "resident" not in runs[0].customers().columns
    residents = runs[1].customers()["resident"]
    assert residents.between(1, 60).all() and residents.nunique() > 50


@pytest.mark.parametrize("edit, path, message", [
    (lambda q: q.pop("residents"), "quality.indicators.continuity", "needs quality.residents"),
    (lambda q: q["indicators"]["continuity"].pop("station"), "quality.indicators.continuity.station",
     "is required"),
    (lambda q: q["indicators"]["continuity"].update(station="ghost"),
     "quality.indicators.continuity.station", "unknown station"),
    (lambda q: q["indicators"]["continuity"].update(prefer="same"),
     "quality.indicators.continuity.prefer", "must be one of any, previous"),
    (lambda q: q["indicators"]["continuity"].update(standard=3),
     "quality.indicators.continuity.standard", "not used"),
    (lambda q: q["indicators"]["safety"].update(prefer="previous"),
     "quality.indicators.safety.prefer", "only with kind continuity"),
    (lambda q: q.update(residents=0), "quality.residents", "must be a positive integer"),
    (lambda q: q.update(residents=2.5), "quality.residents", "must be a positive integer"),
    (lambda q: q["indicators"]["continuity"].update(station="nurse"), None, None),  # allowed
])
def test_bad_continuity_is_refused_in_one_line(edit, path, message):
    data = load(CARE)
    edit(data["quality"])
    if path is None:
        simlib.load_scenario(data)
        return
    with pytest.raises(ScenarioError) as err:
        simlib.load_scenario(data)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("station, why", [
    ({"servers": "inf"}, "servers: inf"),
    ({"servers": 2, "discipline": "ps"}, "discipline is ps"),
    ({"servers": 2, "speeds": [1.0, 2.0]}, "speeds"),
])
def test_continuity_needs_a_station_of_identical_servers(station, why):
    data = carers_scenario(2, residents=5, horizon=10)
    data["stations"][0] = {"name": "home", "service": {"dist": "exponential", "mean": 1}, **station}
    with pytest.raises(ScenarioError, match=rf"^quality\.indicators\.continuity\.station: .*{why}"):
        simlib.load_scenario(data)


def test_a_carer_held_by_a_full_station_downstream_is_not_chosen_until_released():
    """With the nurse's station full and blocking after service, a caregiver who finished an
    emergency is held on it: the carer stays busy (no second resident starts with them) until
    the nurse takes the emergency, and is then free again."""
    data = load(CARE)
    data["quality"]["indicators"]["continuity"]["prefer"] = "previous"
    nurse = next(st for st in data["stations"] if st["name"] == "nurse")
    nurse.update(queue_capacity=0, blocking="after_service")
    scenario = simlib.load_scenario(data)
    network = build_network(scenario, 4, 0, record=True)
    network.run()
    assert network.metrics()["caregivers"]["mean_time_blocked"] > 0  # someone was held
    station = next(st for st in network.stations if st.name == "caregivers")
    by_carer: dict[int, list[tuple[float, float]]] = {}
    for _, _, carer, start, end in network.layer.carers[station.index].log:
        by_carer.setdefault(carer, []).append((start, end))
    for carer, spells in by_carer.items():
        spells.sort()
        for (_, end), (start, _) in zip(spells, spells[1:], strict=False):
            assert end <= start, (carer, end, start)
