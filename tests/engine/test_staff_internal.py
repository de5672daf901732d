"""The service-profit chain's internal part (issue 14, item 4): staff workload → staff
satisfaction → courtesy and, through turnover, competence — under common random numbers.

Without retention, operations do not depend on perceptions, so switching the internal
chain on changes the staff scores only, customer by customer.
"""

from __future__ import annotations

import numpy as np
import pytest
from support import SCENARIOS, replication_values

import simlib
from simlib.spec.quality import InternalSpec
from simlib.spec.validation import ScenarioError

BANK = SCENARIOS / "bank_value_chain.yaml"
INTERNAL = {"window": 240, "comfortable": 0.5, "range": 1.0, "courtesy_loss": 0.4, "turnover_loss": 0.3}


def bank(servers: int, internal: dict | None) -> dict:
    data = simlib.load_scenario(BANK).to_dict()
    del data["retention"]
    data["stations"][1]["servers"] = servers
    if internal is not None:
        data["staff"]["service"]["internal"] = internal
    return data


def run(data: dict) -> simlib.Results:
    return simlib.run(simlib.load_scenario(data), replications=2, seed=9, progress=False)


def test_higher_load_lowers_staff_satisfaction_and_courtesy():
    busy, calm = run(bank(3, INTERNAL)), run(bank(8, INTERNAL))
    assert np.all(replication_values(busy, "service", "staff_satisfaction")
                  < replication_values(calm, "service", "staff_satisfaction"))
    assert np.all(replication_values(busy, "service", "staff_satisfaction") < 1)
    # Same load, chain off vs on (CRN): the same customers, each met staff no more courteous.
    off, on = run(bank(3, None)).customers(), busy.customers()
    assert len(off) == len(on) and (off.wait.to_numpy() == on.wait.to_numpy()).all()
    served = ~off.abandoned.to_numpy()
    assert np.all(on.attitude.to_numpy() <= off.attitude.to_numpy() + 1e-12)
    assert on.attitude[served].mean() < off.attitude[served].mean() - 0.02
    assert on.assurance[served].mean() < off.assurance[served].mean()
    assert "staff_satisfaction" not in run(bank(3, None)).runs[0]["service"]


def test_content_staff_change_nothing():
    # A workload never above `comfortable` leaves every score as without the chain.
    off = run(bank(8, None)).customers()
    on = run(bank(8, {**INTERNAL, "comfortable": 50.0})).customers()
    assert np.array_equal(off.attitude.to_numpy(), on.attitude.to_numpy())
    assert np.array_equal(off.satisfaction.to_numpy(), on.satisfaction.to_numpy())


def test_dissatisfaction_curve():
    spec = InternalSpec(comfortable=0.8, range=0.5)
    assert spec.dissatisfaction(0.5) == 0 and spec.dissatisfaction(1.05) == pytest.approx(0.5)
    assert spec.dissatisfaction(3.0) == 1


@pytest.mark.parametrize("edit, key", [
    ({"window": 0}, "staff.service.internal.window"),
    ({"courtesy_loss": 2}, "staff.service.internal.courtesy_loss"),
    ({"bogus": 1}, "staff.service.internal"),
])
def test_bad_internal_blocks_are_refused(edit, key):
    with pytest.raises(ScenarioError, match=key.replace(".", r"\.")):
        simlib.load_scenario(bank(3, {**INTERNAL, **edit}))
