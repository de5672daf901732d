"""Kano classification of features from functional/dysfunctional answers.

The Kano model (Kano et al. 1984) asks about each feature twice: how one
feels if the product *has* it (functional) and if it *lacks* it
(dysfunctional), each answered with like / must-be / neutral / live-with /
dislike. The standard evaluation table maps the answer pair to a category:

========== ====== ======= ======= ========= =======
F \\ D      like   must-be neutral live-with dislike
========== ====== ======= ======= ========= =======
like       Q      A       A       A         O
must-be    R      I       I       I         M
neutral    R      I       I       I         M
live-with  R      I       I       I         M
dislike    R      R       R       R         Q
========== ====== ======= ======= ========= =======

A attractive, O one-dimensional, M must-be, I indifferent, R reverse,
Q questionable. A feature's category is the most frequent one among the
respondents (ties broken in the order M > O > A > I > R > Q, Berger et al.
1993's "M > O > A > I" rule). Customer-satisfaction coefficients (Berger et
al. 1993): ``better = (A + O) / (A + O + M + I)`` and
``worse = -(O + M) / (A + O + M + I)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .checks import (
    MissingItemsError,
    MissingPolicy,
    MissingValuesWarning,
    NonNumericError,
    SurveyDataError,
    user_stacklevel,
)

__all__ = ["KANO_TABLE", "ANSWERS", "CATEGORIES", "kano_category", "kano"]

ANSWERS = ("like", "must-be", "neutral", "live-with", "dislike")
CATEGORIES = {"A": "attractive", "O": "one-dimensional", "M": "must-be",
              "I": "indifferent", "R": "reverse", "Q": "questionable"}
_ROWS = {
    "like": "QAAAO",
    "must-be": "RIIIM",
    "neutral": "RIIIM",
    "live-with": "RIIIM",
    "dislike": "RRRRQ",
}
#: (functional, dysfunctional) -> category letter.
KANO_TABLE: dict[tuple[str, str], str] = {
    (f, d): _ROWS[f][j] for f in ANSWERS for j, d in enumerate(ANSWERS)
}
_TIE_ORDER = "MOAIRQ"


def kano_category(functional: str, dysfunctional: str) -> str:
    """Category letter (A, O, M, I, R, Q) of one answer pair."""
    try:
        return KANO_TABLE[(functional, dysfunctional)]
    except KeyError:
        raise ValueError(
            f"Kano answers must be among {ANSWERS}, got ({functional!r}, {dysfunctional!r})"
        ) from None


def kano(
    data: pd.DataFrame,
    features: Mapping[str, tuple[str, str]] | Sequence[str],
    *,
    functional_suffix: str = "_functional",
    dysfunctional_suffix: str = "_dysfunctional",
    missing: MissingPolicy = "listwise",
) -> pd.DataFrame:
    """Classify features and compute better/worse coefficients.

    Parameters
    ----------
    data
        Respondents in rows with text answers.
    features
        Either ``{feature: (functional_col, dysfunctional_col)}`` or a list of
        column stems (``"kano01"`` -> ``kano01_functional`` /
        ``kano01_dysfunctional``).
    missing
        ``"listwise"`` (per feature: respondents missing either answer are
        left out of that feature's counts, reported in ``n``, with one
        :class:`~simlib.servqual.checks.MissingValuesWarning` giving the
        number of answer pairs left out) or ``"raise"``.

    Returns
    -------
    pandas.DataFrame
        Per feature: counts ``A, O, M, I, R, Q``, ``n``, ``category`` (letter),
        ``category_name``, ``better``, ``worse``. A feature without any
        complete answer pair (``n = 0``) has ``category`` and
        ``category_name`` ``None`` and ``better``/``worse`` NaN.
    """
    if missing not in ("listwise", "raise"):
        raise ValueError(f"missing: expected 'listwise' or 'raise', got {missing!r}")
    if not isinstance(features, Mapping):
        features = {s: (s + functional_suffix, s + dysfunctional_suffix) for s in features}
    absent = [c for pair in features.values() for c in pair if c not in data.columns]
    if absent:
        raise MissingItemsError(f"Kano columns missing from the data: {', '.join(absent)}")
    rows = {}
    dropped: dict[str, int] = {}
    for feat, (fc, dc) in features.items():
        f = data[fc]
        d = data[dc]
        for col, s in ((fc, f), (dc, d)):
            bad = s.notna() & ~s.isin(ANSWERS)
            if bad.any():
                idx = list(s.index[bad.to_numpy()][:5])
                raise NonNumericError(
                    f"column {col!r}: answers outside {ANSWERS} in rows {idx} "
                    f"(e.g. {s[bad].iloc[0]!r})"
                )
        ok = f.notna() & d.notna()
        if (~ok).any() and missing == "raise":
            idx = list(f.index[(~ok).to_numpy()][:5])
            raise SurveyDataError(f"feature {feat!r}: missing answers in rows {idx}")
        if (~ok).any():
            dropped[feat] = int((~ok).sum())
        cats = [KANO_TABLE[(a, b)] for a, b in zip(f[ok], d[ok], strict=True)]
        counts = {c: cats.count(c) for c in "AOMIRQ"}
        n = len(cats)
        # No answers: no category (max() over all-zero counts would say "M").
        best = (max(_TIE_ORDER, key=lambda c: (counts[c], -_TIE_ORDER.index(c)))
                if n else None)
        denom = counts["A"] + counts["O"] + counts["M"] + counts["I"]
        better = (counts["A"] + counts["O"]) / denom if denom else np.nan
        worse = -(counts["O"] + counts["M"]) / denom if denom else np.nan
        rows[feat] = {**counts, "n": n, "category": best, "category_name": CATEGORIES.get(best) if best else None,
                      "better": better, "worse": worse}
    if dropped:
        worst = sorted(dropped, key=lambda col: dropped[col], reverse=True)[:3]
        warnings.warn(
            f"Kano: {sum(dropped.values())} answer pairs with a missing answer left out "
            f"across {len(dropped)} features (most: "
            f"{', '.join(f'{f} {dropped[f]}' for f in worst)})",
            MissingValuesWarning, stacklevel=user_stacklevel(),
        )
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "feature"
    return out
