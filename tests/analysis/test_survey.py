"""Survey generator checks (issue 5 item 5).

The customer tables are built here with the layout ``Results.customers()``
will have (seeded numpy Generators), with latent dimension scores that
correlate like those of a real service (0.3-0.6 between dimensions), so the
recovery checks are not run on conveniently independent factors.

These tests check the mechanics of the measurement model without rating
effects (``MeasurementModel.plain()``: no halo, acquiescence or item offsets,
the issue-5 generator, which it reproduces number for number). The rating
effects that make surveys look like real data (issue 14) are checked in
``test_survey_realism.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simlib.analysis import MeasurementModel, Survey, survey, tucker_congruence
from simlib.analysis.congruence import matched_congruence
from simlib.servqual import BRADY_CRONIN, SERVQUAL22, Instrument, efa

SQ_DIMS = ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]
BC_SUBS = [
    "attitude",
    "behaviour",
    "expertise",
    "ambient",
    "design",
    "social",
    "waiting",
    "tangibles_outcome",
    "valence",
]
P_COLS = [f"p{i:02d}" for i in range(1, 23)]
PLAIN = MeasurementModel.plain()
E_COLS = [f"e{i:02d}" for i in range(1, 23)]


def equicorrelation(k: int, rho: float) -> np.ndarray:
    c = np.full((k, k), rho)
    np.fill_diagonal(c, 1.0)
    return c


def customer_table(
    n: int = 3000,
    rho: float = 0.5,
    seed: int = 0,
    *,
    p_means: tuple[float, ...] = (5.2, 4.8, 4.5, 5.5, 5.0),
    e_means: tuple[float, ...] = (5.8, 6.3, 6.0, 6.2, 5.6),
    p_sd: float = 0.9,
    e_sd: float = 0.6,
) -> pd.DataFrame:
    """A table with the columns of the ``Results.customers()`` contract."""
    rng = np.random.default_rng(seed)
    clip = lambda x: np.clip(x, 1.0, 7.0)  # noqa: E731
    zp = rng.multivariate_normal(np.zeros(5), equicorrelation(5, rho), size=n)
    ze = rng.multivariate_normal(np.zeros(5), equicorrelation(5, rho), size=n)
    zb = rng.multivariate_normal(np.zeros(9), equicorrelation(9, 0.4), size=n)
    d: dict[str, object] = {
        "replication": np.repeat([0, 1], [n // 2, n - n // 2]),
        "customer": np.arange(n),
        "class": rng.choice(["standard", "vip"], size=n),
    }
    for k, dim in enumerate(SQ_DIMS):
        d[dim] = clip(p_means[k] + p_sd * zp[:, k])
        d[f"exp_{dim}"] = clip(e_means[k] + e_sd * ze[:, k])
    for k, sub in enumerate(BC_SUBS):
        d[sub] = clip(5.0 + 0.8 * zb[:, k])
    for prim, subs in {
        "interaction": BC_SUBS[:3],
        "environment": BC_SUBS[3:6],
        "outcome": BC_SUBS[6:],
    }.items():
        d[prim] = np.mean([d[s] for s in subs], axis=0)
    d["perceived_quality"] = np.mean([d["interaction"], d["environment"], d["outcome"]], axis=0)
    d["satisfaction"] = clip(d["perceived_quality"] + 0.3 * rng.standard_normal(n))
    d["wait"] = rng.exponential(2.0, n)
    for flag in ("abandoned", "failed", "recovered", "complained", "returns"):
        d[flag] = rng.random(n) < 0.1
    return pd.DataFrame(d)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return customer_table()


@pytest.fixture(scope="module")
def big(table) -> Survey:
    return survey(table, "servqual22", respondents=2000, seed=11, model=PLAIN)


# ------------------------------------------------------------------- layout


def test_servqual_layout_and_answer_range(big):
    r = big.responses
    assert list(r.columns) == E_COLS + P_COLS
    assert len(r) == 2000 and r.index.name == "respondent"
    assert all(pd.api.types.is_integer_dtype(t) for t in r.dtypes)
    assert r.to_numpy().min() >= 1 and r.to_numpy().max() <= 7
    # All seven categories are used somewhere: the scale is not collapsed.
    assert set(np.unique(r.to_numpy())) == set(range(1, 8))


def test_true_loadings_pattern(big):
    tl = big.true_loadings
    assert list(tl.index) == P_COLS
    assert list(tl.columns) == SQ_DIMS
    for dim, ids in SERVQUAL22.items():
        rows = [f"p{i:02d}" for i in ids]
        on = tl.loc[rows, dim]
        assert ((on >= 0.65) & (on <= 0.85)).all()
        assert (tl.loc[rows, [d for d in SQ_DIMS if d != dim]] == 0).all().all()
    # Expectation items share the loadings, on their own rows.
    np.testing.assert_array_equal(big.loadings("e").to_numpy(), tl.to_numpy())
    assert list(big.loadings("e").index) == E_COLS


def test_ground_truth_frames(big, table):
    assert list(big.latent.columns) == SQ_DIMS + [f"exp_{d}" for d in SQ_DIMS]
    assert list(big.customers.columns) == ["replication", "customer", "class", "row"]
    # The latent scores are those of the sampled customers.
    rows = big.customers["row"].to_numpy()
    np.testing.assert_allclose(big.latent["reliability"], table["reliability"].to_numpy()[rows])
    np.testing.assert_array_equal(big.customers["customer"], table["customer"].to_numpy()[rows])
    assert list(big.thresholds.columns) == [f"c{k}" for k in range(1, 7)]
    assert list(big.thresholds.index) == E_COLS + P_COLS


# ----------------------------------------------------------- factor structure


@pytest.mark.parametrize("rotation", ["oblimin", "promax"])
def test_efa_recovers_true_loadings(big, rotation):
    # The check is only meaningful with correlated dimensions, as the engine makes them.
    r = big.latent_correlations().to_numpy()[np.triu_indices(5, 1)]
    assert 0.4 < r.min() and r.max() < 0.6
    res = efa(big.items("p"), 5, method="minres", rotation=rotation)
    phi = matched_congruence(res.loadings, big.true_loadings)
    assert (phi >= 0.95).all(), phi
    # Every item's largest loading is on its own factor.
    match = {v: k for k, v in phi.attrs["match"].items()}
    primary = res.primary_factor().map(match)
    assert (primary == big.true_loadings.abs().idxmax(axis=1)).all()


def test_recovery_tolerates_highly_correlated_dimensions():
    # The tolerance the module docstring states: 0.8 between every pair of
    # dimensions is still recovered with 2,000 respondents.
    s = survey(customer_table(rho=0.8, seed=8), "servperf", respondents=2000, seed=8, model=PLAIN)
    assert s.latent_correlations().to_numpy()[np.triu_indices(5, 1)].min() > 0.7
    res = efa(s.responses, 5, rotation="oblimin")
    assert (matched_congruence(res.loadings, s.true_loadings) >= 0.95).all()


def test_congruence_check_is_not_vacuous(big):
    res = efa(big.items("p"), 5, rotation="oblimin")
    # The same loadings attached to the wrong items are not recovered.
    wrong = big.true_loadings.sample(frac=1.0, random_state=3).set_axis(P_COLS)
    assert matched_congruence(res.loadings, wrong).min() < 0.85


def test_items_correlate_with_their_latent_as_loaded(big):
    # corr(item, latent) = lambda for the continuous response; integer answers
    # attenuate it slightly (rounding, clipping) but never inflate it.
    for dim, ids in SERVQUAL22.items():
        for i in ids:
            col = f"p{i:02d}"
            r = np.corrcoef(big.responses[col], big.latent[dim])[0, 1]
            lam = big.true_loadings.loc[col, dim]
            assert lam - 0.08 < r < lam + 0.03, (col, r, lam)


def test_loadings_belong_to_the_instrument_not_the_survey(table):
    a = survey(table, respondents=50, seed=1, model=PLAIN)
    b = survey(table, respondents=80, seed=2, model=PLAIN)
    pd.testing.assert_frame_equal(a.true_loadings, b.true_loadings)
    c = survey(
        table, respondents=50, seed=1, model=PLAIN.plain(structure_seed=7, loadings={5: 0.9})
    )
    assert c.true_loadings.loc["p05", "reliability"] == 0.9
    assert not np.allclose(c.true_loadings.to_numpy(), a.true_loadings.to_numpy())


# ------------------------------------------------------------ reproducibility


def test_same_seed_same_survey_different_seed_different(table):
    a = survey(table, respondents=300, seed=5)
    b = survey(table, respondents=300, seed=5)
    c = survey(table, respondents=300, seed=6)
    pd.testing.assert_frame_equal(a.responses, b.responses)
    pd.testing.assert_frame_equal(a.customers, b.customers)
    assert not a.responses.equals(c.responses)
    assert not a.customers["row"].equals(c.customers["row"])


def test_servperf_and_servqual_share_perceptions_for_a_seed(table):
    sq = survey(table, "servqual22", respondents=200, seed=9)
    sp = survey(table, "servperf", respondents=200, seed=9)
    pd.testing.assert_frame_equal(sq.items("p"), sp.responses)


# ----------------------------------------------------------- means and gaps


def test_item_gaps_reflect_true_gaps(big):
    est = big.gap_scores().dimension_summary()
    truth = big.true_gaps()
    # Sampling error of a dimension mean over 2,000 answers is about 0.02.
    np.testing.assert_allclose(est["gap"], truth["gap"], atol=0.07)
    np.testing.assert_allclose(est["expectation"], truth["expectation"], atol=0.07)
    np.testing.assert_allclose(est["perception"], truth["perception"], atol=0.07)
    # The simulated gaps differ by dimension and the items keep their order.
    assert (est["gap"].rank() == truth["gap"].rank()).all()


def test_mean_preserving_thresholds_remove_the_ceiling_bias():
    # High expectations (6.6) near the top of the scale: plain rounding and
    # clipping pulls answers down and shrinks every gap.
    t = customer_table(e_means=(6.6,) * 5, e_sd=0.3, p_means=(5.0,) * 5, seed=4)
    kept = survey(t, respondents=2000, seed=1)
    rounded = survey(t, respondents=2000, seed=1, model=MeasurementModel(thresholds="midpoint"))
    truth = kept.true_gaps()["gap"]
    assert (kept.gap_scores().dimension_summary()["gap"] - truth).abs().max() < 0.07
    assert (rounded.gap_scores().dimension_summary()["gap"] - truth).min() > 0.15


def test_per_respondent_answers_follow_the_latent(big):
    # A respondent with a higher latent perception answers higher on average.
    means = big.items("p")[["p05", "p06", "p07", "p08", "p09"]].mean(axis=1)
    assert np.corrcoef(means, big.latent["reliability"])[0, 1] > 0.8


# -------------------------------------------------------------------- forms


def test_servperf_form(table):
    s = survey(table, "servperf", respondents=100, seed=1)
    assert list(s.responses.columns) == P_COLS
    assert list(s.latent.columns) == SQ_DIMS
    with pytest.raises(ValueError, match="no expectations"):
        s.gap_scores()
    with pytest.raises(ValueError, match="kind 'e'"):
        s.items("e")


def test_brady_cronin_form_and_recovery(table):
    s = survey(table, "brady_cronin", respondents=2000, seed=3)
    assert list(s.responses.columns) == [f"q{i:02d}" for i in range(1, 28)]
    assert list(s.true_loadings.columns) == list(BRADY_CRONIN.dimensions)
    rows = s.customers["row"].to_numpy()
    # The instrument's outcome "tangibles" reads the engine's tangibles_outcome,
    # not the SERVQUAL tangibles perception.
    np.testing.assert_allclose(s.latent["tangibles"], table["tangibles_outcome"].to_numpy()[rows])
    np.testing.assert_allclose(s.latent["behavior"], table["behaviour"].to_numpy()[rows])
    res = efa(s.responses, 9, rotation="oblimin")
    assert (matched_congruence(res.loadings, s.true_loadings) >= 0.95).all()


def test_reverse_keyed_items_are_answered_reversed(table):
    s = survey(table, "servqual22_1988", respondents=2000, seed=2, model=PLAIN)
    rev = [f"p{i:02d}" for i in sorted(s.instrument.reverse)]
    assert rev == [f"p{i:02d}" for i in (10, 11, 12, 13, 18, 19, 20, 21, 22)]
    assert (s.true_loadings.loc[rev].sum(axis=1) < 0).all()
    assert np.corrcoef(s.responses["p10"], s.latent["responsiveness"])[0, 1] < -0.5
    # Raw answers: means mirrored around 4; after recoding the gaps are right.
    assert abs(s.responses["p10"].mean() - (8 - s.latent["responsiveness"].mean())) < 0.1
    est = s.gap_scores().dimension_summary()["gap"]
    np.testing.assert_allclose(est, s.true_gaps()["gap"], atol=0.07)
    res = efa(s.items("p"), 5, rotation="oblimin")
    assert (matched_congruence(res.loadings, s.true_loadings) >= 0.95).all()


def test_user_defined_instrument_on_a_five_point_scale(table):
    kiosk = Instrument(
        name="kiosk",
        dimensions={"waiting": [1, 2, 3], "valence": [4, 5, 6]},
        scale=(1, 5),
        kinds=("p",),
    )
    s = survey(table, kiosk, respondents=500, seed=1)
    assert list(s.responses.columns) == [f"p{i:02d}" for i in range(1, 7)]
    assert s.responses.to_numpy().min() >= 1 and s.responses.to_numpy().max() <= 5
    # Latent 1-7 scores are moved linearly onto 1-5.
    rows = s.customers["row"].to_numpy()
    np.testing.assert_allclose(
        s.latent["waiting"], 1 + (table["waiting"].to_numpy()[rows] - 1) * 4 / 6
    )
    np.testing.assert_allclose(
        s.items("p")[["p01", "p02", "p03"]].mean().mean(), s.latent["waiting"].mean(), atol=0.1
    )


def test_columns_mapping_for_other_table_names(table):
    renamed = table.rename(columns={"waiting": "wait_quality"})
    inst = Instrument(name="w", dimensions={"waiting": [1, 2]}, kinds=("p",))
    s = survey(renamed, inst, respondents=50, seed=1, columns={"waiting": "wait_quality"})
    assert list(s.latent.columns) == ["waiting"]


def test_results_object_is_accepted(table):
    class FakeResults:
        def customers(self) -> pd.DataFrame:
            return table

    a = survey(FakeResults(), respondents=100, seed=4)
    b = survey(table, respondents=100, seed=4)
    pd.testing.assert_frame_equal(a.responses, b.responses)


def test_constant_latent_has_no_factor(table):
    flat = table.assign(tangibles=5.0)
    s = survey(flat, "servperf", respondents=300, seed=1, model=PLAIN)
    assert (s.true_loadings["tangibles"] == 0).all()
    assert abs(s.items("p")[["p01", "p02", "p03", "p04"]].to_numpy().mean() - 5.0) < 0.15


# ----------------------------------------------------------------- sampling


def test_sampling_without_replacement_when_possible(table):
    s = survey(table.iloc[:400], respondents=400, seed=1)
    assert s.customers["row"].is_unique
    with pytest.warns(UserWarning, match="with replacement"):
        s = survey(table.iloc[:100], respondents=150, seed=1)
    assert not s.customers["row"].is_unique
    with pytest.raises(ValueError, match="only 100 customers"):
        survey(table.iloc[:100], respondents=150, seed=1, replace=False)


def test_customers_without_scores_are_not_sampled(table):
    t = table.copy()
    t.loc[t.index[:1000], "empathy"] = np.nan
    s = survey(t, respondents=500, seed=1)
    assert (s.customers["row"] >= 1000).all()


def test_response_bias_oversamples_dissatisfied(table):
    plain = survey(table, respondents=800, seed=1)
    biased = survey(table, respondents=800, seed=1, response_bias=1.0)
    sat = table["satisfaction"].to_numpy()
    assert sat[biased.customers["row"]].mean() < sat[plain.customers["row"]].mean() - 0.2
    with pytest.raises(ValueError, match="satisfaction"):
        survey(table.drop(columns="satisfaction"), respondents=10, seed=1, response_bias=1.0)


# ------------------------------------------------------------------- errors


def test_unknown_instrument(table):
    with pytest.raises(ValueError, match="instrument: expected one of .*'servqual22'.*'nps'"):
        survey(table, "nps", respondents=10)


def test_missing_columns_are_named(table):
    with pytest.raises(
        ValueError, match="lacks columns needed by SERVQUAL-22.*: exp_empathy, empathy$"
    ):
        survey(table.drop(columns=["empathy", "exp_empathy"]), respondents=10)
    with pytest.raises(ValueError, match="lacks columns needed by Brady.*tangibles_outcome"):
        survey(table.drop(columns=["tangibles_outcome"]), "brady_cronin", respondents=10)


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_respondents_must_be_a_positive_integer(table, n):
    with pytest.raises(ValueError, match="respondents"):
        survey(table, respondents=n)


def test_bad_inputs(table):
    with pytest.raises(TypeError, match="Results object"):
        survey([1, 2, 3], respondents=10)
    with pytest.raises(ValueError, match="1-7 scale"):
        survey(table.assign(tangibles=table["tangibles"] * 10), respondents=10)
    with pytest.raises(ValueError, match="loading_range"):
        MeasurementModel(loading_range=(0.5, 1.2))
    with pytest.raises(ValueError, match="thresholds"):
        MeasurementModel(thresholds="nearest")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not in instrument"):
        survey(table, respondents=10, model=MeasurementModel(loadings={99: 0.7}))


# --------------------------------------------------------------- congruence


def test_tucker_congruence_values():
    x = np.array([0.8, 0.7, 0.6, 0.0])
    assert tucker_congruence(x, x) == pytest.approx(1.0)
    assert tucker_congruence(x, 0.5 * x) == pytest.approx(1.0)  # size does not matter
    assert tucker_congruence(x, -x) == pytest.approx(-1.0)
    assert tucker_congruence(x, np.array([0, 0, 0, 1.0])) == pytest.approx(0.0)
    # Hand computation: (0.8*0.7 + 0.7*0.8) / (0.8^2 + 0.7^2) = 1.12 / 1.13.
    a, b = np.array([0.8, 0.7]), np.array([0.7, 0.8])
    assert tucker_congruence(a, b) == pytest.approx(1.12 / 1.13)
    with pytest.raises(ValueError, match="all zero"):
        tucker_congruence(x, np.zeros(4))


def test_matched_congruence_undoes_order_and_sign():
    true = pd.DataFrame({"A": [0.8, 0.7, 0, 0], "B": [0, 0, 0.6, 0.9]}, index=list("wxyz"))
    est = pd.DataFrame({"F1": [0, 0.1, -0.6, -0.8], "F2": [0.7, 0.8, 0.1, 0]}, index=list("wxyz"))
    phi = matched_congruence(est, true)
    assert phi.attrs["match"] == {"A": "F2", "B": "F1"}
    assert phi.attrs["sign"] == {"A": 1, "B": -1}
    assert (phi > 0.95).all()
    full = tucker_congruence(est, true)
    assert list(full.index) == ["F1", "F2"] and list(full.columns) == ["A", "B"]
