"""A survey of simulated customers has the documented, recoverable factor structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.multivariate.factor import Factor
from support import SCENARIOS

import simlib
from simlib.analysis import matched_congruence, survey


def test_five_factor_efa_recovers_the_true_loading_pattern():
    res = simlib.run(SCENARIOS / "bank_value_chain.yaml", replications=2, seed=4, progress=False)
    s = survey(res, instrument="servqual22", respondents=2_000, seed=11)
    perceptions = s.responses[[f"p{i:02d}" for i in range(1, 23)]].astype(float)
    fa = Factor(perceptions.to_numpy(), n_factor=5, method="ml").fit()
    fa.rotate("oblimin")
    estimated = pd.DataFrame(fa.loadings, index=s.true_loadings.index)
    congruence = matched_congruence(estimated, s.true_loadings)
    assert np.all(np.abs(congruence) >= 0.95), congruence


def test_same_seed_same_survey():
    res = simlib.run(SCENARIOS / "bank_value_chain.yaml", replications=1, seed=4, progress=False)
    a = survey(res, respondents=300, seed=5).responses
    b = survey(res, respondents=300, seed=5).responses
    c = survey(res, respondents=300, seed=6).responses
    assert a.equals(b) and not a.equals(c)
    assert set(np.unique(a.to_numpy())) <= set(range(1, 8))
