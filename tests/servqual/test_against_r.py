"""EFA, invariance and reliability against R output (psych, lavaan, semTools), to printed precision.

Reference values were printed by ``tests/servqual/reference/psych_lavaan_reference.R``
with R 4.2.2, psych 2.2.9, lavaan 0.6.14, semTools 0.5.6 and GPArotation on the Holzinger & Swineford
(1939) data (lavaan's ``HolzingerSwineford1939``): ``fa(x1:x9, 3, fm, rotate)`` and
``cfa(model, group = "school", group.equal = ...)``. The script is kept so anyone can
regenerate them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from simlib.datasets import load_holzinger_swineford
from simlib.servqual import cfa, efa, invariance, omega_total

ITEMS = [f"x{i}" for i in range(1, 10)]

# psych::fa loadings (items x factors, psych's column order) and factor correlations.
PSYCH = {
    ("minres", "oblimin"): (
        [[0.1964, 0.5916, 0.0309], [0.0430, 0.5089, -0.1223], [-0.0623, 0.6859, 0.0190],
         [0.8461, 0.0163, 0.0077], [0.8855, -0.0646, 0.0067], [0.8053, 0.0796, -0.0130],
         [0.0438, -0.1523, 0.7365], [-0.0340, 0.1251, 0.6865], [0.0318, 0.3823, 0.4564]],
        [[1, 0.3229, 0.2133], [0.3229, 1, 0.2608], [0.2133, 0.2608, 1]],
    ),
    ("ml", "promax"): (
        [[0.1530, 0.0362, 0.6093], [0.0130, -0.1162, 0.5250], [-0.1146, 0.0290, 0.7028],
         [0.8438, 0.0049, 0.0097], [0.8976, 0.0065, -0.0822], [0.8074, -0.0113, 0.0684],
         [0.0441, 0.7427, -0.2148], [-0.0488, 0.7225, 0.0492], [0.0054, 0.4792, 0.3351]],
        [[1, 0.2580, 0.3926], [0.2580, 1, 0.3488], [0.3926, 0.3488, 1]],
    ),
    ("pa", "varimax"): (
        [[0.2793, 0.6129, 0.1523], [0.1022, 0.4942, -0.0300], [0.0382, 0.6595, 0.1291],
         [0.8322, 0.1607, 0.0992], [0.8587, 0.0883, 0.0892], [0.7991, 0.2137, 0.0855],
         [0.0931, -0.0808, 0.7047], [0.0510, 0.1700, 0.7021], [0.1298, 0.4143, 0.5219]],
        None,
    ),
}


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return load_holzinger_swineford()


@pytest.mark.parametrize("method, rotation", list(PSYCH), ids=lambda v: str(v))
def test_efa_matches_psych_fa_to_two_decimals(hs, method, rotation):
    loadings, phi = PSYCH[(method, rotation)]
    expected = np.array(loadings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = efa(hs[ITEMS], 3, method=method, rotation=rotation)
    got = fit.loadings.to_numpy()
    # Same factor order as psych (by variance explained) and positive column sums.
    np.testing.assert_allclose(got, expected, atol=0.005)
    if phi is not None:
        np.testing.assert_allclose(np.asarray(fit.factor_correlations), np.array(phi), atol=0.005)


def test_invariance_matches_lavaan_at_every_step(hs):
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    table = invariance(hs, model, group="school")
    expected = pd.DataFrame(
        {
            "chi2": [115.8513, 124.0435, 164.1028, 181.5113],
            "df": [48, 54, 60, 69],
            "cfi": [0.9234, 0.9209, 0.8825, 0.8730],
            "tli": [0.8851, 0.8946, 0.8590, 0.8675],
            "rmsea": [0.0969, 0.0928, 0.1074, 0.1041],
            "srmr": [0.0679, 0.0717, 0.0824, 0.0883],
        },
        index=["configural", "metric", "scalar", "strict"],
    )
    got = table.loc[expected.index, expected.columns].astype(float)
    # lavaan printed with sprintf("%.4f"): agreement to half a unit of the last digit.
    np.testing.assert_array_equal(got["df"], expected["df"])
    for col in ("chi2", "cfi", "tli", "rmsea", "srmr"):
        np.testing.assert_allclose(got[col], expected[col], atol=0.00005, err_msg=col)


def test_reliability_and_validity_match_semtools(hs):
    # semTools 0.5.6 on lavaan's cfa() of the tutorial model: AVE(), compRelSEM(), htmt()
    # (HTMT2, the package default), lavInspect(fit, "cor.lv"); printed with sprintf("%.4f").
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    fit = cfa(hs, model)
    np.testing.assert_allclose(fit.ave.to_numpy(), [0.3706, 0.7210, 0.4245], atol=0.00005)
    np.testing.assert_allclose(fit.omega.to_numpy(), [0.6120, 0.8851, 0.6858], atol=0.00005)
    htmt = fit.htmt2.to_numpy()
    np.testing.assert_allclose([htmt[1, 0], htmt[2, 0], htmt[2, 1]], [0.3841, 0.3868, 0.2797], atol=0.00005)
    phi = np.asarray(fit.factor_correlations)
    np.testing.assert_allclose([phi[1, 0], phi[2, 0], phi[2, 1]], [0.4585, 0.4705, 0.2830], atol=0.00005)
    # compRelSEM of a one-factor congeneric CFA per dimension, printed to 4 decimals.
    for items, omega in ((["x1", "x2", "x3"], 0.6326), (["x4", "x5", "x6"], 0.8859),
                         (["x7", "x8", "x9"], 0.6961)):
        assert omega_total(hs[items]) == pytest.approx(omega, abs=0.00005)
