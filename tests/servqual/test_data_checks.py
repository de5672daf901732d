"""Instruments, data checks, scoring, IPA, Kano and the data loaders."""

import numpy as np
import pandas as pd
import pytest

from simlib import datasets
from simlib.servqual import (
    BRADY_CRONIN,
    SERVPERF22,
    SERVQUAL22,
    SERVQUAL22_1988,
    Instrument,
    InstrumentError,
    MissingItemsError,
    MissingValuesError,
    MissingValuesWarning,
    NonNumericError,
    OutOfScaleError,
    check_items,
    difference_score_reliability,
    gap_scores,
    ipa,
    kano,
    kano_category,
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
    assert z.loc[5, "position"] == "above" or z.loc[5, "msa"] >= 0
    with pytest.raises(MissingItemsError):
        zone_of_tolerance(df.drop(columns=["a01"]), ins)


def test_difference_score_reliability_formula(kiosk):
    inst = Instrument.from_yaml(datasets.kiosk_instrument_path())
    with pytest.warns(MissingValuesWarning, match="dropped 4"):
        g = gap_scores(kiosk, inst)
    tab = difference_score_reliability(g)
    row = tab.loc["security"]
    ids = list(inst["security"])
    se, sp = g.expectations[ids].sum(axis=1), g.perceptions[ids].sum(axis=1)
    ve, vp, r = se.var(), sp.var(), np.corrcoef(se, sp)[0, 1]
    c = 2 * r * np.sqrt(ve * vp)
    expected = (vp * row.alpha_p + ve * row.alpha_e - c) / (vp + ve - c)
    assert row.reliability_gap == pytest.approx(expected)
    assert row.reliability_gap < max(row.alpha_e, row.alpha_p)


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
