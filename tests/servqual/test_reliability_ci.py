"""Reliability intervals, omega-hierarchical and semTools' HTMT against R.

Reference values: ``tests/servqual/reference/reliability_reference.csv``, printed by
``reliability_reference.R`` beside it (psych 2.2.9, semTools 0.5.6; R is not needed
to run these tests). The bootstrap interval of omega has no R counterpart with the
same resamples; it is checked for reproducibility, coverage of the estimate and
agreement with the interval from an independent refit of every resample by ``cfa``.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simlib.datasets import data_path
from simlib.servqual import (
    SERVQUAL22,
    cfa,
    cronbach_alpha,
    htmt,
    omega_ci,
    omega_hierarchical,
    reliability_table,
)

REF = pd.read_csv(Path(__file__).parent / "reference" / "reliability_reference.csv",
                  comment="#", keep_default_na=False)

KIOSK = {"accuracy": [1, 2, 3, 23], "enjoyment": [4, 5, 6, 22, 24], "autonomy": [7, 8, 9],
         "efficiency": [10, 11, 12, 17, 18], "flexibility": [13, 14, 15, 16],
         "security": [19, 20, 21]}


def _servqual(fmt):
    return {d: [fmt.format(i) for i in SERVQUAL22[d]] for d in SERVQUAL22.dimensions}


SETS = {
    "hs": ("holzinger_swineford1939.csv",
           {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
            "speed": ["x7", "x8", "x9"]}),
    "bb1992": ("bb1992_servqual.csv", _servqual("Q{}")),
    "bliemel": ("sq_bliemel2004.csv", _servqual("a{:02d}")),
    "kiosk": ("kiosk_kservqual.csv", {d: [f"p{i:02d}" for i in v] for d, v in KIOSK.items()}),
}


def _data(name):
    file, model = SETS[name]
    cols = [c for v in model.values() for c in v]
    return pd.read_csv(data_path("servqual", file))[cols].dropna(), model


def _ref(name, what, a="", b=""):
    row = REF[(REF.dataset == name) & (REF.what == what) & (REF.a == a) & (REF.b == b)]
    assert len(row) == 1, (name, what, a, b)
    return float(row.value.iloc[0])


@pytest.mark.parametrize("name", list(SETS))
def test_alpha_feldt_and_duhachek_match_psych(name):
    x, model = _data(name)
    for d, its in model.items():
        a = cronbach_alpha(x[its])
        assert a.alpha == pytest.approx(_ref(name, "alpha", d), abs=1e-8)
        assert a.ci_low == pytest.approx(_ref(name, "feldt_low", d), abs=1e-8)
        assert a.ci_high == pytest.approx(_ref(name, "feldt_high", d), abs=1e-8)
        assert a.ase == pytest.approx(_ref(name, "ase", d), rel=1e-7)
        z = 1.959963984540054
        assert a.duhachek_low == pytest.approx(a.alpha - z * a.ase, abs=1e-12)
        assert a.duhachek_high == pytest.approx(a.alpha + z * a.ase, abs=1e-12)


@pytest.mark.parametrize("name", list(SETS))
def test_omega_hierarchical_matches_psych_omega(name):
    x, model = _data(name)
    om = omega_hierarchical(x, len(model))
    # psych's minres stops at its optim tolerance: agreement to ~5e-6.
    assert om.omega_h == pytest.approx(_ref(name, "omega_h"), abs=2e-5)
    assert om.omega_total == pytest.approx(_ref(name, "omega_tot"), abs=1e-5)
    assert om.g_loadings.index.tolist() == list(x.columns)


@pytest.mark.parametrize("name", list(SETS))
@pytest.mark.parametrize(("absolute", "htmt2"), [(True, True), (True, False), (False, False)])
def test_htmt_matches_semtools(name, absolute, htmt2):
    x, model = _data(name)
    h = htmt(x, model, absolute=absolute, htmt2=htmt2)
    what = f"htmt_abs{int(absolute)}_geo{int(htmt2)}"
    facs = list(model)
    for i in range(len(facs)):
        for j in range(i):
            assert h.loc[facs[i], facs[j]] == pytest.approx(
                _ref(name, what, facs[i], facs[j]), abs=1e-9)
            assert h.loc[facs[j], facs[i]] == h.loc[facs[i], facs[j]]


def test_htmt_default_is_semtools_default_and_signed_equals_cfa_htmt():
    x, model = _data("bb1992")
    assert htmt(x, model).equals(htmt(x, model, absolute=True, htmt2=True))
    res = cfa(x, model)
    np.testing.assert_allclose(htmt(x, model, absolute=False, htmt2=False).to_numpy(),
                               res.htmt.to_numpy(), atol=1e-12)
    # An item left reverse-keyed: the absolute HTMT is unchanged, the signed one is not.
    flipped = x.assign(Q2=-x["Q2"])
    for geo in (True, False):
        np.testing.assert_allclose(htmt(flipped, model, htmt2=geo), htmt(x, model, htmt2=geo),
                                   atol=1e-12)
    assert not np.allclose(htmt(flipped, model, absolute=False, htmt2=False), res.htmt)
    with pytest.raises(ValueError, match="absolute=True"):
        htmt(flipped, model, absolute=False, htmt2=True)


def test_omega_bootstrap_ci_is_seeded_and_equals_cfa_refits(hs):
    x = hs[["x1", "x2", "x3", "x4"]]
    a = omega_ci(x, n_boot=30, seed=5)
    assert a == omega_ci(x, n_boot=30, seed=5)
    assert a != omega_ci(x, n_boot=30, seed=6)
    assert a.ci_low < a.omega < a.ci_high and a.n_failed == 0 and a.n == 301
    # Independent computation: the same resamples refitted by the public cfa().
    rng = np.random.default_rng(5)
    arr = x.to_numpy()
    vals = [float(cfa(pd.DataFrame(arr[rng.integers(0, len(arr), len(arr))],
                                   columns=x.columns), {"f": list(x.columns)}).omega["f"])
            for _ in range(30)]
    lo, hi = np.quantile(vals, [0.025, 0.975])
    assert (a.ci_low, a.ci_high) == pytest.approx((lo, hi), abs=1e-6)


def test_reliability_table_reports_both_alpha_intervals_and_omega_ci(hs):
    model = SETS["hs"][1]
    tab = reliability_table(hs, model, n_boot=20, seed=1).dimensions
    for d, its in model.items():
        a = cronbach_alpha(hs[its])
        assert tab.loc[d, "alpha_duhachek_low"] == pytest.approx(a.duhachek_low)
        assert tab.loc[d, "alpha_ci_low"] == pytest.approx(a.ci_low)
        assert tab.loc[d, "omega_ci_low"] < tab.loc[d, "omega_total"] < tab.loc[d, "omega_ci_high"]
    assert "omega_ci_low" not in reliability_table(hs, model, joint_cfa=False).dimensions
