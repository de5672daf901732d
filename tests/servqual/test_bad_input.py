"""Bad survey input on every entry point: one-line errors naming the column and rows.

Each case corrupts the Holzinger–Swineford items x1..x6 (values within 0–10) in one
way and calls every public entry point on it; the error class and the names in its
message are checked, and the message must be a single line.
"""

import numpy as np
import pandas as pd
import pytest

from simlib.servqual import (
    DegenerateDataError,
    MissingItemsError,
    NonNumericError,
    OutOfScaleError,
    SurveyDataError,
    bartlett,
    cfa,
    check_items,
    cronbach_alpha,
    efa,
    htmt,
    invariance,
    ipa,
    item_total,
    kmo,
    omega_hierarchical,
    omega_total,
    parallel_analysis,
    reliability_table,
    sem,
)

ITEMS = ["x1", "x2", "x3", "x4", "x5", "x6"]
MODEL = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"]}
SCALE = (0, 10)


def _items(d):
    return d.drop(columns="school")


ENTRY_POINTS = {
    "cfa": lambda d, s: cfa(d, MODEL, scale=s),
    "sem": lambda d, s: sem("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\ntextual ~ visual",
                            d, scale=s),
    "invariance": lambda d, s: invariance(d, MODEL, "school", steps=("configural",), scale=s),
    "efa": lambda d, s: efa(_items(d), 2, scale=s),
    "kmo": lambda d, s: kmo(_items(d), scale=s),
    "bartlett": lambda d, s: bartlett(_items(d), scale=s),
    "parallel_analysis": lambda d, s: parallel_analysis(_items(d), n_iter=3, scale=s),
    "cronbach_alpha": lambda d, s: cronbach_alpha(_items(d), scale=s),
    "item_total": lambda d, s: item_total(_items(d), scale=s),
    "omega_total": lambda d, s: omega_total(_items(d), scale=s),
    "omega_hierarchical": lambda d, s: omega_hierarchical(_items(d), 2, scale=s),
    "reliability_table": lambda d, s: reliability_table(d, MODEL, scale=s),
    "htmt": lambda d, s: htmt(d, MODEL, scale=s),
    "ipa": lambda d, s: ipa(d, ITEMS[:3], ITEMS[3:], scale=s),
}


@pytest.fixture(scope="module")
def base(hs):
    return hs[ITEMS + ["school"]].reset_index(drop=True)


def _set(d, col, rows, value):
    d = d.copy()
    d[col] = d[col].astype(object if isinstance(value, str) else float)
    d.loc[rows, col] = value
    return d


CASES = {
    # name: (corrupt, error class, regex the message must match, scale)
    "dont_know_code": (lambda d: _set(d, "x3", [5, 9], 99), OutOfScaleError,
                       r"column 'x3': values outside the scale 0–10 in rows 5, 9 \(e\.g\. 99\)",
                       SCALE),
    "below_scale": (lambda d: _set(d, "x5", [3], -1), OutOfScaleError,
                    r"column 'x5'.*outside the scale.*rows 3\b", SCALE),
    "all_empty": (lambda d: _set(d, "x3", list(d.index), np.nan), SurveyDataError,
                  r"no answers at all: x3", None),
    "constant": (lambda d: d.assign(x3=3.0), DegenerateDataError, r"constant.*x3", None),
    "duplicated_column": (lambda d: pd.concat([d, d[["x3"]]], axis=1), SurveyDataError,
                          r"column names occur more than once.*x3", None),
    "duplicate_rows": (lambda d: d.set_axis([0, *range(len(d) - 1)]), SurveyDataError,
                       r"duplicate row labels 0", None),
    "absurd": (lambda d: _set(d, "x3", [7], 1e155), OutOfScaleError,
               r"column 'x3': absurd values .* rows 7 \(e\.g\. 1e\+155\)", None),
    "infinite": (lambda d: _set(d, "x2", [4], np.inf), NonNumericError,
                 r"column 'x2': infinite values in rows 4 \(e\.g\. inf\)", None),
    "text": (lambda d: _set(d, "x4", [2], "n/a"), NonNumericError,
             r"column 'x4': non-numeric values in rows 2", None),
}

# IPA uses means only: a constant attribute is a legitimate answer pattern there.
SKIP = {("constant", "ipa")}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_bad_input_gives_one_line_error(base, entry, case):
    if (case, entry) in SKIP:
        pytest.skip("a constant column is valid input for ipa")
    corrupt, err, pattern, scale = CASES[case]
    with pytest.raises(err, match=pattern) as info:
        ENTRY_POINTS[entry](corrupt(base), scale)
    assert "\n" not in str(info.value)


def test_constant_column_is_valid_for_ipa(base):
    out = ipa(base.assign(x3=3.0), ITEMS[:3], ITEMS[3:], scale=SCALE)
    assert out["importance"].iloc[2] == 3.0


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_clean_data_within_the_scale_passes(base, entry):
    ENTRY_POINTS[entry](base, SCALE)


def test_dont_know_codes_no_longer_move_alpha_silently(base):
    # The example: five 99 codes moved alpha from .63 to .07 without a word.
    bad = _set(base, "x1", [0, 1, 2, 3, 4], 99)[MODEL["visual"]]
    assert cronbach_alpha(bad).alpha < 0.2  # without a scale the codes are numbers
    with pytest.raises(OutOfScaleError, match=r"'x1'.*rows 0, 1, 2, 3, 4"):
        cronbach_alpha(bad, scale=SCALE)


@pytest.mark.parametrize("scale", [(7, 1), (1, np.inf), ("a", 2), (1,)])
def test_bad_scale_is_refused(base, scale):
    with pytest.raises(ValueError, match="scale"):
        check_items(base, ITEMS, scale=scale)


def test_items_listed_twice_and_missing_items(base):
    with pytest.raises(SurveyDataError, match="more than once: x2"):
        check_items(base, ["x1", "x2", "x2"])
    with pytest.raises(MissingItemsError, match="x9"):
        check_items(base, ["x1", "x9"])


def test_check_items_keeps_values_index_and_listwise_deletion(base):
    d = _set(base, "x2", [3], np.nan)
    with pytest.warns(UserWarning, match="dropped 1 of 301"):
        out = check_items(d, ITEMS, scale=SCALE)
    assert list(out.columns) == ITEMS and 3 not in out.index and len(out) == 300
    np.testing.assert_array_equal(out.to_numpy(), d.drop(index=3)[ITEMS].to_numpy(float))
    mixed = base.assign(x1=base["x1"].astype(object))  # object dtype: the slow path
    pd.testing.assert_frame_equal(check_items(mixed, ITEMS), check_items(base, ITEMS))
