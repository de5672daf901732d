"""Data checks for survey responses.

Survey files break analyses in a few recurring ways: an item column is
missing or misspelt, a value lies outside the answer scale (a "9 = don't
know" code, a typo), a cell holds text, or answers are missing. Each of these
is refused here with a one-line message that names the column and the rows,
before any statistic is computed. Missing answers are never imputed silently:
the policy is explicit, and the default (listwise deletion) warns with the
number of rows it dropped.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "SurveyDataError",
    "MissingItemsError",
    "NonNumericError",
    "OutOfScaleError",
    "MissingValuesError",
    "MissingValuesWarning",
    "check_items",
]

MissingPolicy = Literal["listwise", "raise"]


class SurveyDataError(ValueError):
    """Base class of the data-check errors (a ``ValueError``)."""


class MissingItemsError(SurveyDataError):
    """Item columns required by the analysis are absent from the data."""


class NonNumericError(SurveyDataError):
    """An item column holds values that are not numbers."""


class OutOfScaleError(SurveyDataError):
    """An item column holds values outside the instrument's scale."""


class MissingValuesError(SurveyDataError):
    """Missing answers were found and the policy is ``"raise"``."""


class MissingValuesWarning(UserWarning):
    """Rows with missing answers were dropped (listwise deletion)."""


def _rows(index: pd.Index, limit: int = 5) -> str:
    labels = [str(i) for i in index[:limit]]
    more = f" and {len(index) - limit} more" if len(index) > limit else ""
    return ", ".join(labels) + more


def check_items(
    data: pd.DataFrame,
    items: Sequence[str],
    *,
    scale: tuple[float, float] | None = None,
    missing: MissingPolicy = "listwise",
    min_rows: int = 2,
) -> pd.DataFrame:
    """Validate item columns and return them as a float DataFrame.

    Parameters
    ----------
    data
        Respondents in rows.
    items
        Column names the analysis needs, in the order wanted.
    scale
        ``(low, high)`` answer range (inclusive); ``None`` skips the range check.
    missing
        ``"listwise"`` (default): drop every row with a missing answer in any
        of ``items`` and warn with the count; ``"raise"``: refuse.
    min_rows
        Fewest complete rows accepted.

    Returns
    -------
    pandas.DataFrame
        The item columns (float), complete rows only, original index kept.

    Raises
    ------
    MissingItemsError, NonNumericError, OutOfScaleError, MissingValuesError
        With a one-line message naming the column(s) and rows.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    items = list(items)
    absent = [c for c in items if c not in data.columns]
    if absent:
        raise MissingItemsError(
            f"items missing from the data: {', '.join(map(str, absent))}"
        )
    out = pd.DataFrame(index=data.index)
    for col in items:
        raw = data[col]
        if raw.dtype == bool:
            raise NonNumericError(f"column {col!r}: boolean values are not item answers")
        num = pd.to_numeric(raw, errors="coerce")
        bad = num.isna() & raw.notna()
        if bad.any():
            idx = raw.index[bad.to_numpy()]
            raise NonNumericError(
                f"column {col!r}: non-numeric values in rows {_rows(idx)} "
                f"(e.g. {raw[idx[0]]!r})"
            )
        out[col] = num.astype(float)
    if scale is not None:
        lo, hi = scale
        for col in items:
            v = out[col]
            bad = (v < lo) | (v > hi)
            if bad.any():
                idx = v.index[bad.to_numpy()]
                raise OutOfScaleError(
                    f"column {col!r}: values outside the scale {lo}–{hi} in rows "
                    f"{_rows(idx)} (e.g. {v[idx[0]]:g})"
                )
    incomplete = out.isna().any(axis=1)
    if incomplete.any():
        idx = out.index[incomplete.to_numpy()]
        cols = [c for c in items if out[c].isna().any()]
        if missing == "raise":
            raise MissingValuesError(
                f"missing values in columns {', '.join(cols)} (rows {_rows(idx)}); "
                "choose missing='listwise' to drop them"
            )
        if missing != "listwise":
            raise ValueError(f"missing: expected 'listwise' or 'raise', got {missing!r}")
        warnings.warn(
            f"listwise deletion dropped {int(incomplete.sum())} of {len(out)} rows with "
            f"missing values (columns {_rows(pd.Index(cols))})",
            MissingValuesWarning,
            stacklevel=2,
        )
        out = out.loc[~incomplete]
    if len(out) < min_rows:
        raise SurveyDataError(f"only {len(out)} complete rows; at least {min_rows} needed")
    return out


def as_numeric_frame(data: pd.DataFrame, missing: MissingPolicy = "listwise") -> pd.DataFrame:
    """Check every column of ``data`` (no scale check); helper for the analyses."""
    return check_items(data, list(data.columns), missing=missing)


def _cov_n(x: np.ndarray) -> np.ndarray:
    """Covariance with divisor n (the ML estimate lavaan uses)."""
    xc = x - x.mean(axis=0)
    return xc.T @ xc / x.shape[0]
