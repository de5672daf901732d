"""Data checks for survey responses.

Survey files break analyses in a few recurring ways: an item column is
missing or misspelt, a value lies outside the answer scale (a "9 = don't
know" code, a typo, an overflowed 1e155), a cell holds text, a column is
empty or constant, a column name or a row label occurs twice, or answers are
missing. Each of these is refused here with a one-line message that names the
column and the rows, before any statistic is computed. Missing answers are never imputed silently:
the policy is explicit, and the default (listwise deletion) warns with the
number of rows it dropped.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
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
    "ConvergenceWarning",
    "IdentificationWarning",
    "DegenerateDataError",
    "check_items",
    "check_not_degenerate",
    "MAX_ABS",
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


class DegenerateDataError(SurveyDataError):
    """Item columns are constant or exactly collinear (e.g. a duplicated column)."""


class ConvergenceWarning(UserWarning):
    """An iterative estimator stopped before reaching its convergence criterion."""


class IdentificationWarning(UserWarning):
    """The information matrix is (near-)singular: the model may not be identified."""


_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def user_stacklevel() -> int:
    """``stacklevel`` for ``warnings.warn`` that points at the first frame outside
    this package, i.e. at the user's call rather than at an internal helper."""
    frame: FrameType | None = sys._getframe(1)  # the function that is about to warn
    level = 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(
        _PACKAGE_DIR
    ):
        frame = frame.f_back
        level += 1
    return level


def _rows(index: pd.Index, limit: int = 5) -> str:
    labels = [str(i) for i in index[:limit]]
    more = f" and {len(index) - limit} more" if len(index) > limit else ""
    return ", ".join(labels) + more


MAX_ABS = 1e12
"""Largest absolute item value accepted: beyond it a value is a data error (an
overflowed code, 1e155), and its square would swamp every covariance."""


def _check_scale(scale: tuple[float, float] | None) -> tuple[float, float] | None:
    if scale is None:
        return None
    try:
        lo, hi = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise ValueError(f"scale: expected (low, high) numbers, got {scale!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"scale: expected finite low < high, got {scale!r}")
    return lo, hi


def _column_values(raw: pd.Series, col: object) -> np.ndarray:
    """One column as float, refusing booleans and text (slow path for odd dtypes)."""
    if raw.dtype == bool:
        raise NonNumericError(f"column {col!r}: boolean values are not item answers")
    num = pd.to_numeric(raw, errors="coerce")
    bad = num.isna().to_numpy() & raw.notna().to_numpy()
    if bad.any():
        idx = raw.index[bad]
        raise NonNumericError(
            f"column {col!r}: non-numeric values in rows {_rows(idx)} "
            f"(e.g. {raw[idx[0]]!r})"
        )
    return num.to_numpy(dtype=float)


def check_items(
    data: pd.DataFrame,
    items: Sequence[str],
    *,
    scale: tuple[float, float] | None = None,
    missing: MissingPolicy = "listwise",
    min_rows: int = 2,
    allow_constant: bool = True,
) -> pd.DataFrame:
    """Validate item columns and return them as a float DataFrame.

    Parameters
    ----------
    data
        Respondents in rows.
    items
        Column names the analysis needs, in the order wanted.
    scale
        ``(low, high)`` answer range (inclusive); ``None`` skips the range check
        (values beyond ``MAX_ABS`` in absolute value are refused either way).
    missing
        ``"listwise"`` (default): drop every row with a missing answer in any
        of ``items`` and warn with the count; ``"raise"``: refuse.
    min_rows
        Fewest complete rows accepted.
    allow_constant
        ``False`` refuses a column whose complete answers are all equal
        (:class:`DegenerateDataError`), for analyses that divide by variances.

    Returns
    -------
    pandas.DataFrame
        The item columns (float), complete rows only, original index kept.

    Raises
    ------
    MissingItemsError, NonNumericError, OutOfScaleError, MissingValuesError, SurveyDataError
        With a one-line message naming the column(s) and rows: absent,
        duplicated or all-empty columns, duplicate row labels, text,
        infinite values (``NonNumericError``), values outside ``scale`` or
        beyond ``MAX_ABS`` (``OutOfScaleError``), missing answers.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    items = list(items)
    lohi = _check_scale(scale)
    if missing not in ("listwise", "raise"):
        raise ValueError(f"missing: expected 'listwise' or 'raise', got {missing!r}")
    absent = [c for c in items if c not in data.columns]
    if absent:
        raise MissingItemsError(
            f"items missing from the data: {', '.join(map(str, absent))}"
        )
    cols = data.columns
    if not cols.is_unique:
        dup = list(dict.fromkeys(c for c in items if int((cols == c).sum()) > 1))
        if dup:
            raise SurveyDataError(
                f"column names occur more than once in the data: {_rows(pd.Index(dup))}; "
                "rename or drop the copies"
            )
    twice = pd.Index(items)[pd.Index(items).duplicated()].unique()
    if len(twice):
        raise SurveyDataError(f"items listed more than once: {_rows(twice)}")
    index = data.index
    if not index.is_unique:
        raise SurveyDataError(
            f"duplicate row labels {_rows(index[index.duplicated()].unique())}: each "
            "respondent needs a distinct label (reset_index() renumbers them)"
        )
    if cols.is_unique:
        # the items are often all the columns, in order: no pandas take (a copy) then
        sub = data if list(cols) == items else data[items]
    else:
        sub = data.iloc[:, [cols.get_loc(c) for c in items]]
    dtypes = sub.dtypes
    if all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
           for t in dtypes):
        if all(isinstance(t, np.dtype) for t in dtypes):  # numpy dtypes: NaN is the missing value
            # a copy of the caller's frame, never a view into it
            arr = sub.to_numpy(dtype=float, copy=sub is data)
        else:  # nullable extension dtypes: pd.NA becomes NaN
            arr = sub.to_numpy(dtype=float, na_value=np.nan)
    else:
        arr = np.empty((len(sub), len(items)))
        for j, col in enumerate(items):
            arr[:, j] = _column_values(sub.iloc[:, j], col)
    nan = np.isnan(arr)
    empty = nan.all(axis=0) if len(arr) else np.ones(len(items), dtype=bool)
    if empty.any():
        raise SurveyDataError(
            f"columns with no answers at all: {_rows(pd.Index(np.asarray(items)[empty]))}"
        )
    def refuse(mask: np.ndarray, error: type[SurveyDataError], what: str, tail: str = "") -> None:
        """Raise ``error`` for the first column with a True in ``mask``."""
        if mask.any():
            j = int(np.flatnonzero(mask.any(axis=0))[0])
            first = float(arr[mask[:, j], j][0])
            raise error(f"column {items[j]!r}: {what} in rows {_rows(index[mask[:, j]])} "
                        f"(e.g. {first:g}){tail}")

    # column extremes ignoring NaN, without temporaries the size of the data; the masks
    # that name the rows are built only when a check fails
    col_max = np.fmax.reduce(arr, axis=0, initial=-np.inf)
    col_min = np.fmin.reduce(arr, axis=0, initial=np.inf)
    with np.errstate(invalid="ignore"):
        if (col_max > MAX_ABS).any() or (col_min < -MAX_ABS).any():  # infinities included
            refuse(np.isinf(arr), NonNumericError, "infinite values")
            refuse(np.abs(arr) > MAX_ABS, OutOfScaleError,
                   f"absurd values (|x| > {MAX_ABS:g})")
        if lohi is not None and ((col_min < lohi[0]).any() or (col_max > lohi[1]).any()):
            lo, hi = lohi
            refuse((arr < lo) | (arr > hi), OutOfScaleError,
                   f"values outside the scale {lo:g}–{hi:g}",
                   "; set codes such as 'don't know' to missing")
    incomplete = nan.any(axis=1)
    if incomplete.any():
        idx = index[incomplete]
        bad_cols = [c for c, m in zip(items, nan.any(axis=0), strict=True) if m]
        if missing == "raise":
            raise MissingValuesError(
                f"missing values in columns {', '.join(map(str, bad_cols))} (rows {_rows(idx)}); "
                "choose missing='listwise' to drop them"
            )
        warnings.warn(
            f"listwise deletion dropped {int(incomplete.sum())} of {len(arr)} rows with "
            f"missing values (columns {_rows(pd.Index(bad_cols))})",
            MissingValuesWarning,
            stacklevel=user_stacklevel(),
        )
        arr = arr[~incomplete]
        index = index[~incomplete]
    if len(arr) < min_rows:
        raise SurveyDataError(f"only {len(arr)} complete rows; at least {min_rows} needed")
    if not allow_constant:
        const = np.ptp(arr, axis=0) == 0
        if const.any():
            raise DegenerateDataError(
                f"constant columns (every answer {arr[0, const][0]:g}) cannot be analysed: "
                f"{_rows(pd.Index(np.asarray(items, dtype=object)[const]))}"
            )
    return pd.DataFrame(arr, index=index, columns=pd.Index(items))


def check_not_degenerate(x: pd.DataFrame, *, where: str = "",
                         cov: np.ndarray | None = None) -> None:
    """Refuse constant and exactly collinear item columns.

    Covariance-based analyses (CFA, EFA, KMO, Bartlett, reliability,
    invariance) need a positive-definite covariance matrix; a constant column
    (zero variance) or a column that is an exact linear combination of
    others (a duplicated column, a sum score next to its items) makes it
    singular. Collinearity is found by a rank check on the correlation
    matrix: going through the columns in order, a column whose squared
    multiple correlation with the earlier (independent) columns is 1 (to
    1e-10) is reported together with the columns it is a combination of.

    Parameters
    ----------
    x
        Complete numeric item columns (as returned by :func:`check_items`).
    where
        Optional context for the message, e.g. ``"in group 'a'"``.
    cov
        The columns' covariance matrix when the caller has it (any divisor):
        spares a pass over the data when the columns are clearly independent.

    Raises
    ------
    DegenerateDataError
        One line naming the constant or collinear columns.
    """
    ctx = f" {where}" if where else ""
    arr = x.to_numpy(dtype=float)
    cols = [str(c) for c in x.columns]
    sd = arr.std(axis=0)
    scale = np.maximum(np.abs(arr).max(axis=0, initial=0.0), 1.0)
    const = [c for c, s, m in zip(cols, sd, scale, strict=True) if s <= 1e-12 * m]
    if const:
        raise DegenerateDataError(
            f"constant columns{ctx} (zero variance) cannot be analysed: {', '.join(const)}"
        )
    if arr.shape[0] <= arr.shape[1]:
        raise DegenerateDataError(
            f"{arr.shape[0]} complete rows{ctx} for {arr.shape[1]} items: the covariance "
            "matrix is singular; more rows than items are needed"
        )
    if cov is not None:
        sd_cov = np.sqrt(np.diag(cov))
        r = cov / np.outer(sd_cov, sd_cov)
    else:
        r = np.corrcoef(arr, rowvar=False)
    # Cholesky's squared pivots are the 1 - R^2 of each column on the earlier ones: when all
    # are far above the threshold nothing is collinear; otherwise the column-by-column
    # check below (on the data's own correlations) decides and names the columns.
    try:
        if float(np.min(np.diag(np.linalg.cholesky(r)))) ** 2 > 1e-6:
            return
    except np.linalg.LinAlgError:
        pass
    if cov is not None:
        r = np.corrcoef(arr, rowvar=False)
    basis: list[int] = []
    for j in range(len(cols)):
        if basis:
            sub = r[np.ix_(basis, basis)]
            coef = np.linalg.solve(sub, r[basis, j])
            resid = 1.0 - float(r[basis, j] @ coef)  # 1 - R^2 of column j on the basis
            if resid <= 1e-10:
                names = [cols[b] for b, c in zip(basis, coef, strict=True) if abs(c) > 1e-8]
                what = (f"duplicates {names[0]}" if len(names) == 1
                        else f"is a linear combination of {', '.join(names)}")
                raise DegenerateDataError(
                    f"column {cols[j]}{ctx} {what} (exactly collinear; the correlation "
                    "matrix is singular): drop one of them"
                )
        basis.append(j)


def as_numeric_frame(data: pd.DataFrame, missing: MissingPolicy = "listwise") -> pd.DataFrame:
    """Check every column of ``data`` (no scale check); helper for the analyses."""
    return check_items(data, list(data.columns), missing=missing)


def _cov_n(x: np.ndarray) -> np.ndarray:
    """Covariance with divisor n (the ML estimate lavaan uses)."""
    xc = x - x.mean(axis=0)
    return xc.T @ xc / x.shape[0]
