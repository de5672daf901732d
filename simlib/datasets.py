"""Loaders for the survey data sets bundled in the repository's ``data/`` folder.

Each loader returns a fresh :class:`pandas.DataFrame`. Sources, codebooks and
licences are in ``data/servqual/README.md``:

* :func:`load_kiosk` – real paired expectation/perception survey of
  self-service kiosks (K-SERVQUAL, 24 items, 7-point; Kim 2019, MIT);
* :func:`load_bliemel` – SERVQUAL perceptions of a durable-goods
  manufacturer's customers (Bliemel, Adolphs & Henseler 2004; cSEM ``SQ``,
  GPL-3);
* :func:`load_bb1992` – 22 SERVQUAL items simulated from Babakus & Boller's
  (1992) correlation matrix (FCO ``bb1992``, GPL ≥ 3);
* :func:`load_holzinger_swineford` – Holzinger & Swineford's (1939) mental
  ability tests, the reference data of lavaan's tutorial (copy of the file
  shipped with semopy, MIT);
* :func:`load_political_democracy` – Bollen's (1989) industrialization and
  political democracy panel, the data of lavaan's SEM tutorial (lavaan, GPL).

and the call log of the "Anonymous Bank" (Israel, February 1999) in
``data/callcentre/`` (:func:`load_bank`; see ``data/callcentre/README.md``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

__all__ = [
    "data_path",
    "POLITICAL_DEMOCRACY_MODEL",
    "load_kiosk",
    "load_bliemel",
    "load_bb1992",
    "load_holzinger_swineford",
    "load_political_democracy",
    "kiosk_instrument_path",
    "load_bank",
]


def data_path(*parts: str) -> Path:
    """Path inside the repository's ``data/`` folder.

    Looks in ``$SIMLIB_DATA`` if set, then next to the package
    (``simlib/../data``, which is where an editable install or a source
    checkout keeps it).

    Raises
    ------
    FileNotFoundError
        When no ``data/`` folder holding the requested file is found.
    """
    candidates = []
    env = os.environ.get("SIMLIB_DATA")
    if env:
        candidates.append(Path(env))
    candidates.append(Path(__file__).resolve().parent.parent / "data")
    candidates.append(Path.cwd() / "data")
    for base in candidates:
        target = base.joinpath(*parts)
        if target.exists():
            return target
    raise FileNotFoundError(
        f"data file {'/'.join(parts) or 'data/'} not found in "
        f"{', '.join(str(c) for c in candidates)}; set SIMLIB_DATA to the data folder"
    )


def _read(name: str, **kw) -> pd.DataFrame:
    return pd.read_csv(data_path("servqual", name), **kw)


def load_kiosk(published_sample_only: bool = False) -> pd.DataFrame:
    """Kiosk K-SERVQUAL survey: 211 respondents x 165 columns.

    Parameters
    ----------
    published_sample_only
        Keep only the 194 respondents the original authors analysed.

    Notes
    -----
    Columns: ``e01..e24`` expectations, ``p01..p24`` perceptions, ``imp01..``
    importance, ``sat01..`` satisfaction (all 1–7), ``kanoNN_functional`` /
    ``kanoNN_dysfunctional`` (29 features; ``like, must-be, neutral,
    live-with, dislike``), outcomes (1–5), ``sex, age, use_frequency``.
    """
    df = _read("kiosk_kservqual.csv", index_col="respondent")
    if published_sample_only:
        df = df.loc[df["in_published_sample"].astype(bool)]
    return df


def load_bliemel() -> pd.DataFrame:
    """SERVQUAL perceptions ``a01..a22`` and ``sat`` (0–100 in steps of 20), n = 411."""
    return _read("sq_bliemel2004.csv")


def load_bb1992() -> pd.DataFrame:
    """Standardized SERVQUAL items ``Q1..Q22`` simulated after Babakus & Boller (1992), n = 502."""
    return _read("bb1992_servqual.csv")


def load_holzinger_swineford() -> pd.DataFrame:
    """Holzinger–Swineford (1939): 301 pupils, tests ``x1..x9``, ``school``, ``sex``, ..."""
    return _read("holzinger_swineford1939.csv", index_col=0)


#: The lavaan tutorial's structural model of :func:`load_political_democracy`
#: (industrialization → democracy 1960 → democracy 1965, correlated residuals of
#: the indicators measured twice); published fit: chi2 38.125 on 35 df.
POLITICAL_DEMOCRACY_MODEL = """
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
"""


def load_political_democracy() -> pd.DataFrame:
    """Bollen's (1989) industrialization and political democracy data: 75 countries.

    ``y1..y4`` democracy indicators in 1960, ``y5..y8`` the same in 1965,
    ``x1..x3`` industrialization in 1960 (lavaan's ``PoliticalDemocracy``).
    """
    return _read("political_democracy.csv")


def kiosk_instrument_path() -> Path:
    """YAML definition of the kiosk instrument (dimensions used in notebook 05)."""
    return data_path("servqual", "kiosk_instrument.yaml")


def load_bank(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Raw "Anonymous Bank" call log, February 1999: 33,344 calls, one row per call.

    Sources and columns are in ``data/callcentre/README.md``;
    :func:`simlib.calibrate.ingest_bank` turns the log into a call table.

    Parameters
    ----------
    path
        CSV file; defaults to ``data/callcentre/anonymous_bank_1999_02.csv``
        (found as by :func:`data_path`).

    Returns
    -------
    pandas.DataFrame
        Columns as documented in ``data/callcentre/README.md`` (times of day
        as ``h:mm:ss`` strings).
    """
    p = Path(path) if path is not None else data_path("callcentre", "anonymous_bank_1999_02.csv")
    if not p.exists():
        raise FileNotFoundError(f"bank data not found at {p}; pass path= to the CSV")
    return pd.read_csv(
        p,
        dtype={"customer_id": "float64", "type": "string", "outcome": "string", "server": "string"},
    )
