"""The seed settings' own quality dimensions (issue 14, item 8), each moving with its
operational driver under common random numbers: the care home's safety, call-bell
response and dignity; the shared service centre's accuracy, timeliness against the SLA,
SLA lateness and rework.
"""

from __future__ import annotations

import numpy as np
import pytest
from support import SCENARIOS, replication_values

import simlib
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
    (CARE, ("safety", "call_bell_response", "dignity", "emergency_response"), 720),
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
        assert table.loc[covered, name].notna().all() and table.loc[~covered, name].isna().all()
        for (rep, cls), group in table[covered].groupby(["replication", "class"]):
            assert group[name].mean() == pytest.approx(res.runs[rep][cls][name], rel=1e-12), (name, cls)
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
