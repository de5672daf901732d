"""Instruments, data checks, scoring, IPA, Kano and the data loaders."""

import warnings

import numpy as np
import pandas as pd
import pytest

from simlib import datasets
from simlib.servqual import (
    BRADY_CRONIN,
    SERVPERF22,
    SERVQUAL22,
    SERVQUAL22_1988,
    DegenerateDataError,
    Instrument,
    InstrumentError,
    MissingItemsError,
    MissingValuesError,
    MissingValuesWarning,
    NonNumericError,
    OutOfScaleError,
    bartlett,
    cfa,
    check_items,
    difference_score_reliability,
    efa,
    gap_scores,
    ipa,
    kano,
    kano_category,
    kmo,
    reliability_table,
    servperf,
    weighted_servqual,
    zone_of_tolerance,
)


def test_servqual22_structure():
    assert SERVQUAL22["tangibles"] == [1, 2, 3, 4]
    assert SERVQUAL22["reliability"] == [5, 6, 7, 8, 9]
    assert SERVQUAL22["responsiveness"] == [10, 11, 12, 13]
    assert SERVQUAL22["assurance"] == [14, 15, 16, 17]
    assert SERVQUAL22["empathy"] == [18, 19, 20, 21, 22]
    assert len(SERVQUAL22.item_ids) == 22 and not SERVQUAL22.reverse
    assert SERVQUAL22_1988.reverse == frozenset([10, 11, 12, 13, 18, 19, 20, 21, 22])
    assert SERVPERF22.kinds == ("p",)
    assert set(BRADY_CRONIN.higher_order) == {
        "interaction_quality", "physical_environment_quality", "outcome_quality"}
    assert SERVQUAL22.columns("e", "tangibles") == ["e01", "e02", "e03", "e04"]


def test_yaml_instrument_and_errors(tmp_path):
    text = "name: t\nscale: [1, 5]\ndimensions:\n  a: [1, 2]\n  b: [3, 4]\nreverse: [2]\n"
    ins = Instrument.from_yaml(text)
    assert ins["b"] == [3, 4] and ins.scale == (1.0, 5.0)
    df = pd.DataFrame({"p01": [1, 5], "p02": [1, 5], "p03": [2, 2], "p04": [3, 3]})
    assert list(ins.reverse_score(df)["p02"]) == [5, 1]
    f = tmp_path / "i.yaml"
    f.write_text(text)
    assert Instrument.from_yaml(f) == ins
    with pytest.raises(InstrumentError, match="unknown keys"):
        Instrument.from_yaml(text + "colour: red\n")
    with pytest.raises(InstrumentError, match="both"):
        Instrument.from_dict({"name": "x", "dimensions": {"a": [1], "b": [1]}})
    with pytest.raises(InstrumentError, match="reverse"):
        Instrument.from_dict({"name": "x", "dimensions": {"a": [1]}, "reverse": [9]})
    inst = Instrument.from_yaml(datasets.kiosk_instrument_path())
    assert len(inst.item_ids) == 24


def test_instrument_definition_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        Instrument.from_yaml("missing.yaml")
    with pytest.raises(FileNotFoundError, match="nope.yml"):
        Instrument.from_yaml(tmp_path / "nope.yml")
    with pytest.raises(InstrumentError, match=r"template '\{kind\}\{id:02d\}' cannot format "
                                              r"item id 'q1'"):
        Instrument.from_dict({"name": "x", "dimensions": {"a": ["q1", "q2"]}})
    ok = Instrument.from_dict({"name": "x", "dimensions": {"a": ["q1", "q2"]},
                               "template": "{kind}_{id}"})
    assert ok.columns("p") == ["p_q1", "p_q2"]
    with pytest.raises(InstrumentError, match="scale"):
        Instrument.from_dict({"name": "x", "dimensions": {"a": [1, 2]}, "scale": "1-7"})
    with pytest.raises(InstrumentError, match="scale"):
        Instrument(name="x", dimensions={"a": [1, 2]}, scale=(1,))
    with pytest.raises(InstrumentError, match=r"dimensions.a: expected a list of item ids, got 3"):
        Instrument.from_yaml("name: x\ndimensions: {a: 3}\n")
    with pytest.raises(InstrumentError, match="dimension 'a' must list item ids"):
        Instrument(name="x", dimensions={"a": 3})


def test_check_messages_name_column_and_rows():
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["1", "x", "3"], "c": [1, 9, 2]})
    with pytest.raises(MissingItemsError, match="zz"):
        check_items(df, ["a", "zz"])
    with pytest.raises(NonNumericError, match=r"column 'b'.*rows 1"):
        check_items(df, ["b"])
    with pytest.raises(OutOfScaleError, match=r"column 'c'.*1–7.*rows 1"):
        check_items(df, ["c"], scale=(1, 7))
    df2 = pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0], "b": [1.0, 2.0, 3.0, 4.0]})
    with pytest.warns(MissingValuesWarning, match="dropped 1 of 4"):
        out = check_items(df2, ["a", "b"])
    assert list(out.index) == [0, 2, 3]
    with pytest.raises(MissingValuesError, match="rows 1"):
        check_items(df2, ["a", "b"], missing="raise")


def _toy():
    ins = Instrument.from_dict({"name": "toy", "scale": [1, 7],
                                "dimensions": {"d1": [1, 2], "d2": [3, 4, 5]}})
    df = pd.DataFrame({
        "e01": [6, 7], "p01": [5, 7], "e02": [6, 6], "p02": [6, 4],
        "e03": [5, 5], "p03": [6, 5], "e04": [7, 7], "p04": [4, 6],
        "e05": [4, 6], "p05": [4, 3],
        "a01": [3, 3], "d01": [6, 7], "a02": [3, 3], "d02": [6, 6], "a03": [3, 3],
        "d03": [5, 6], "a04": [5, 5], "d04": [7, 7], "a05": [2, 2], "d05": [6, 6],
    })
    return ins, df


def test_gap_scores_by_hand():
    ins, df = _toy()
    g = gap_scores(df, ins)
    # respondent 0: gaps -1, 0, 1, -3, 0 -> d1 = -0.5, d2 = -2/3
    assert list(g.item_gaps.iloc[0]) == [-1, 0, 1, -3, 0]
    assert g.dimension_gaps.iloc[0].tolist() == pytest.approx([-0.5, -2 / 3])
    assert g.servqual_dimension_mean.iloc[0] == pytest.approx((-0.5 - 2 / 3) / 2)
    assert g.servqual_item_mean.iloc[0] == pytest.approx(-3 / 5)
    w = weighted_servqual(g, {"d1": 30, "d2": 10})
    assert w.iloc[0] == pytest.approx(0.75 * -0.5 + 0.25 * -2 / 3)
    sp = servperf(df, ins)
    assert sp["servperf"].iloc[0] == pytest.approx(np.mean([5, 6, 6, 4, 4]))
    z = zone_of_tolerance(df, ins)
    assert z.loc[4, "msa"] == pytest.approx(5 - 5) and z.loc[4, "position"] == "within"
    # item 5: A = 2, D = 6, P = (4 + 3) / 2 = 3.5 -> MSA 1.5, MSS -2.5, within
    assert z.loc[5, "msa"] == pytest.approx(1.5) and z.loc[5, "mss"] == pytest.approx(-2.5)
    assert z.loc[5, "position"] == "within"
    # P01 = 7 > D = 6.5 -> above; P02 = 2 < A = 3 -> below
    z2 = zone_of_tolerance(df.assign(p01=[7, 7], p02=[2, 2]), ins)
    assert z2.loc[1, "position"] == "above" and z2.loc[1, "mss"] == pytest.approx(0.5)
    assert z2.loc[2, "position"] == "below" and z2.loc[2, "msa"] == pytest.approx(-1.0)
    with pytest.raises(MissingItemsError):
        zone_of_tolerance(df.drop(columns=["a01"]), ins)


def test_difference_score_reliability_by_hand():
    # Hand-worked example (Johns 1981's formula). With the mean-zero vectors
    # a = (-1,-1,1,1), b = (-1,1,-1,1), c = (1,-1,-1,1) (orthogonal, each with
    # sum of squares 4, so variance 4/3 with ddof = 1):
    #   E items: 4 + a and 4 + a + b  -> var 4/3, 8/3, cov 4/3, alpha_E = 0.8
    #   P items: 4 + c and 4 + c + a  -> alpha_P = 0.8
    #   sums: S_E = 2a + b, S_P = 2c + a, both variance 20/3, cov 8/3, r = 0.4
    #   rel = (0.8 * 20/3 + 0.8 * 20/3 - 2 * 0.4 * 20/3) / (40/3 - 0.8 * 20/3)
    #       = 0.8 / 1.2 = 2/3
    ins = Instrument.from_dict({"name": "hand", "scale": [1, 7], "dimensions": {"d": [1, 2]}})
    df = pd.DataFrame({"e01": [3, 3, 5, 5], "e02": [2, 4, 4, 6],
                       "p01": [5, 3, 3, 5], "p02": [4, 2, 4, 6]})
    row = difference_score_reliability(gap_scores(df, ins)).loc["d"]
    assert row.alpha_e == pytest.approx(0.8)
    assert row.alpha_p == pytest.approx(0.8)
    assert row.r_pe == pytest.approx(0.4)
    assert row.reliability_gap == pytest.approx(2 / 3)


def test_difference_score_reliability_on_kiosk(kiosk):
    inst = Instrument.from_yaml(datasets.kiosk_instrument_path())
    with pytest.warns(MissingValuesWarning, match="dropped 4"):
        g = gap_scores(kiosk, inst)
    row = difference_score_reliability(g).loc["security"]
    assert row.reliability_gap < max(row.alpha_e, row.alpha_p)


def test_zone_of_tolerance_warns_once():
    ins, df = _toy()
    df = pd.concat([df, df.iloc[[0]]], ignore_index=True).astype(float)
    df.loc[1, "a01"] = np.nan
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        z = zone_of_tolerance(df, ins)
    got = [w for w in rec if issubclass(w.category, MissingValuesWarning)]
    assert len(got) == 1 and "dropped 1 of 3" in str(got[0].message)
    assert got[0].filename == __file__
    assert z.loc[1, "adequate"] == 3


def test_infinite_values_are_refused_without_a_scale():
    df = pd.DataFrame({"a": [1.0, np.inf, 3.0, -np.inf], "b": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(NonNumericError, match=r"column 'a': infinite values in rows 1, 3"):
        check_items(df, ["a", "b"])


def test_missing_policy_is_validated():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, 4.0]})
    with pytest.raises(ValueError, match="missing: expected 'listwise' or 'raise'"):
        check_items(df, ["a", "b"], missing="drop")


def test_constant_and_collinear_columns_are_named(hs):
    x = hs[[f"x{i}" for i in range(1, 10)]]
    const = x.assign(x2=4.0)
    dup = x.assign(x10=x["x3"])
    combo = x.assign(x10=x["x1"] + 2 * x["x2"])
    model3 = {"v": ["x1", "x2", "x3"], "t": ["x4", "x5", "x6"]}
    with pytest.raises(DegenerateDataError, match=r"constant columns.*: x2$"):
        cfa(const, model3)
    with pytest.raises(DegenerateDataError, match=r"constant columns.*x2"):
        reliability_table(const, model3)
    with pytest.raises(DegenerateDataError, match="column x10 duplicates x3"):
        cfa(dup, {"v": ["x1", "x2", "x3", "x10"]})
    for fn in (kmo, bartlett, lambda d: efa(d, 2)):
        with pytest.raises(DegenerateDataError, match="column x10 duplicates x3"):
            fn(dup)
    with pytest.raises(DegenerateDataError, match="x10 is a linear combination of x1, x2"):
        kmo(combo)


def test_kano_table_and_coefficients():
    assert kano_category("like", "dislike") == "O"
    assert kano_category("like", "neutral") == "A"
    assert kano_category("neutral", "dislike") == "M"
    assert kano_category("neutral", "neutral") == "I"
    assert kano_category("dislike", "like") == "R"
    assert kano_category("like", "like") == "Q"
    df = pd.DataFrame({
        "f_functional": ["like", "like", "neutral", "like", "must-be"],
        "f_dysfunctional": ["dislike", "neutral", "dislike", "dislike", "live-with"],
    })
    t = kano(df, ["f"])
    assert t.loc["f", "category"] == "O"
    assert t.loc["f", "better"] == pytest.approx(3 / 5)
    assert t.loc["f", "worse"] == pytest.approx(-3 / 5)
    with pytest.raises(NonNumericError, match="f_functional"):
        kano(df.assign(f_functional="love"), ["f"])


def test_kano_missing_answers():
    df = pd.DataFrame({
        "f_functional": ["like", None, "like"], "f_dysfunctional": ["dislike", "neutral", None],
        "g_functional": [None, None, None], "g_dysfunctional": ["like", None, "dislike"],
    })
    with pytest.warns(MissingValuesWarning, match="5 answer pairs.*2 features"):
        t = kano(df, ["f", "g"])
    assert t.loc["f", "n"] == 1 and t.loc["f", "category"] == "O"
    # no valid answer pair: no category (not "M"), coefficients NaN
    assert t.loc["g", "n"] == 0
    assert t.loc["g", "category"] is None and t.loc["g", "category_name"] is None
    assert np.isnan(t.loc["g", "better"]) and np.isnan(t.loc["g", "worse"])
    with pytest.raises(ValueError, match="missing: expected 'listwise' or 'raise'"):
        kano(df, ["f"], missing="drop")


def test_ipa_quadrants():
    df = pd.DataFrame({"i1": [7, 7], "p1": [2, 2], "i2": [7, 7], "p2": [7, 7],
                       "i3": [1, 1], "p3": [2, 2], "i4": [1, 1], "p4": [7, 7]})
    t = ipa(df, ["i1", "i2", "i3", "i4"], ["p1", "p2", "p3", "p4"], labels=list("abcd"))
    assert list(t["quadrant"]) == ["concentrate here", "keep up the good work",
                                   "low priority", "possible overkill"]


def test_loaders():
    k = datasets.load_kiosk()
    assert k.shape == (211, 164)
    assert len(datasets.load_kiosk(published_sample_only=True)) == 194
    assert datasets.load_bliemel().shape == (411, 23)
    assert datasets.load_bb1992().shape == (502, 22)
    hs = datasets.load_holzinger_swineford()
    assert hs.shape == (301, 15) and hs["school"].nunique() == 2
    with pytest.raises(FileNotFoundError):
        datasets.data_path("servqual", "nope.csv")
