"""Survey realism: do simulated answers look like real service-quality data?

A survey generator can recover its own truth and still produce data no
real survey resembles (issue 14: items of different dimensions nearly
uncorrelated, no ceiling on expectations, satisfaction nearly determined by
the dimensions). :func:`realism_stats` measures a survey on the statistics
where real SERVQUAL-type data have a recognisable signature, and
:func:`realism_table` puts simulated and real surveys side by side with the
range the real sets span. Statistics (perceptions ``P``, expectations ``E``):

* ``between-dimension item r (P)``: mean Pearson correlation of P items of
  different dimensions (the halo and general-factor signature);
* ``CFA factor r (P)``: mean factor correlation of the instrument's CFA
  (:func:`simlib.analysis.survey.mean_factor_correlation`; NaN where the CFA
  cannot say: a one-item dimension, no convergence, a correlation beyond 1);
* ``first eigenvalue share (P)``: the largest eigenvalue of the P items'
  correlation matrix over the number of items;
* ``item-mean SD within dimension (P)``: SD of the item means around their
  dimension's mean, in points of a 7-point scale (``(hi - lo) / 6`` scale
  points = 1);
* ``top-category share (P)`` / ``(E)``: share of answers in the scale's
  top category, averaged over items (the ceiling on expectations);
* ``alpha (P)`` / ``(E)``: mean Cronbach's alpha of the dimensions;
* ``E-P r (same item)``: mean correlation of an item's E and P answers;
* ``satisfaction top-box share``: share of the top category of the
  overall-satisfaction item;
* ``satisfaction R^2 on dimensions``: OLS R^2 of satisfaction on the P
  dimension means.

A statistic a survey cannot give (no expectations, no satisfaction item,
continuous data for category use) is NaN. :func:`real_surveys` returns the
three bundled real sets (kiosk, bb1992, SQ; ``data/servqual/README.md``) in
this form.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from simlib.analysis.survey import SurveyData, mean_factor_correlation, satisfaction_r2
from simlib.datasets import kiosk_instrument_path, load_bb1992, load_bliemel, load_kiosk
from simlib.servqual.instruments import SERVPERF22, Instrument
from simlib.servqual.reliability import cronbach_alpha

__all__ = [
    "REALISM_ROWS",
    "DEFAULT_TOLERANCE",
    "real_surveys",
    "realism_stats",
    "realism_table",
    "within_real_range",
]

#: The rows of a realism table, in order.
REALISM_ROWS: tuple[str, ...] = (
    "between-dimension item r (P)",
    "CFA factor r (P)",
    "first eigenvalue share (P)",
    "item-mean SD within dimension (P)",
    "top-category share (P)",
    "top-category share (E)",
    "alpha (P)",
    "alpha (E)",
    "E-P r (same item)",
    "satisfaction top-box share",
    "satisfaction R^2 on dimensions",
)

#: Allowance around the real range (absolute, in each row's unit) within which a simulated
#: statistic counts as realistic: sampling error of the statistic at the real sets' sizes
#: (n = 207-502) is of this order (assumption; e.g. the SE of a mean correlation of .3 over
#: a few hundred respondents is about .04, of a share of .27 about .02-.03).
DEFAULT_TOLERANCE: Mapping[str, float] = {
    "between-dimension item r (P)": 0.05,
    "CFA factor r (P)": 0.05,
    "first eigenvalue share (P)": 0.05,
    "item-mean SD within dimension (P)": 0.10,
    "top-category share (P)": 0.05,
    "top-category share (E)": 0.05,
    "alpha (P)": 0.05,
    "alpha (E)": 0.05,
    "E-P r (same item)": 0.05,
    "satisfaction top-box share": 0.05,
    "satisfaction R^2 on dimensions": 0.10,
}


def real_surveys() -> dict[str, SurveyData]:
    """The three bundled real surveys as :class:`SurveyData`.

    * ``kiosk``: Kim (2019) K-SERVQUAL kiosk study, 24 items E and P on 1-7
      (our six-dimension grouping, ``data/servqual/kiosk_instrument.yaml``),
      satisfaction ``overall_satisfied`` on 1-5; the 207 complete answers;
    * ``bb1992``: 22 SERVQUAL perceptions simulated from Babakus & Boller's
      (1992) correlation matrix, standardised (no categories, no
      satisfaction);
    * ``SQ``: Bliemel, Adolphs & Henseler (2004), 22 SERVQUAL perceptions
      and satisfaction, 6-point, stored as 0-100 in steps of 20 and read
      here as 0-5.
    """
    kiosk_inst = Instrument.from_yaml(kiosk_instrument_path())
    kiosk = load_kiosk()
    bb_inst = Instrument(
        name="bb1992", dimensions=SERVPERF22.dimensions, scale=(-5, 5), template="Q{id}",
        kinds=("p",), reference="Babakus & Boller (1992), via FCO::bb1992",
    )
    sq_inst = Instrument(
        name="SQ", dimensions=SERVPERF22.dimensions, scale=(0, 5), template="a{id:02d}",
        kinds=("p",), reference="Bliemel, Adolphs & Henseler (2004), via cSEM::SQ",
    )
    sq = load_bliemel() / 20.0
    return {
        "kiosk": SurveyData(kiosk, kiosk_inst, satisfaction="overall_satisfied",
                            satisfaction_scale=(1, 5), name="kiosk"),
        "bb1992": SurveyData(load_bb1992(), bb_inst, categorical=False, name="bb1992"),
        "SQ": SurveyData(sq, sq_inst, satisfaction="sat", satisfaction_scale=(0, 5), name="SQ"),
    }


def _between_within(corr: np.ndarray, groups: np.ndarray) -> float:
    other = groups[:, None] != groups[None, :]
    return float(corr[other].mean()) if other.any() else float("nan")


def realism_stats(data: SurveyData) -> pd.Series:
    """The realism statistics (:data:`REALISM_ROWS`) of one survey."""
    inst = data.instrument
    out = pd.Series(np.nan, index=list(REALISM_ROWS), name=data.name or inst.name)
    p = data.items("p")
    groups = np.array([inst.dimension_of(i) for i in inst.item_ids])
    corr = p.corr().to_numpy()
    out["between-dimension item r (P)"] = _between_within(corr, groups)
    out["CFA factor r (P)"] = mean_factor_correlation(data)
    out["first eigenvalue share (P)"] = float(np.linalg.eigvalsh(corr)[-1] / corr.shape[0])
    lo, hi = inst.scale
    kinds = [k for k in ("p", "e") if k in inst.kinds]

    def alpha(kind: str) -> float:
        items = data.items(kind)
        return float(np.mean([cronbach_alpha(items[inst.columns(kind, d)]).alpha
                              for d in inst.dimensions if len(inst[d]) > 1]))

    out["alpha (P)"] = alpha("p")
    if data.categorical:
        means = p.mean()
        dev = [means[inst.columns("p", d)] - means[inst.columns("p", d)].mean()
               for d in inst.dimensions]
        out["item-mean SD within dimension (P)"] = float(
            np.sqrt(np.mean(np.square(pd.concat(dev)))) * 6 / (hi - lo))
        for kind in kinds:
            out[f"top-category share ({kind.upper()})"] = float((data.items(kind) == hi).mean().mean())
    if "e" in inst.kinds:
        out["alpha (E)"] = alpha("e")
        e = data.items("e")
        out["E-P r (same item)"] = float(np.nanmean([
            np.corrcoef(e[inst.column(i, "e")], p[inst.column(i, "p")])[0, 1] for i in inst.item_ids
        ]))
    if data.satisfaction is not None and data.satisfaction_scale is not None:
        s = pd.to_numeric(data.complete()[data.satisfaction], errors="coerce").dropna()
        out["satisfaction top-box share"] = float((s == data.satisfaction_scale[1]).mean())
        out["satisfaction R^2 on dimensions"] = satisfaction_r2(data)
    return out


def realism_table(
    simulated: Mapping[str, SurveyData],
    real: Mapping[str, SurveyData] | None = None,
) -> pd.DataFrame:
    """Simulated and real surveys side by side on :data:`REALISM_ROWS`.

    Parameters
    ----------
    simulated
        Name -> a simulated survey (``Survey.data()``), e.g. one per real set
        the measurement model was fitted to.
    real
        Name -> a real survey; default :func:`real_surveys`.

    Returns
    -------
    pandas.DataFrame
        Rows: the statistics; columns: the real sets, ``real low`` and
        ``real high`` (the range over the real sets that have the
        statistic), then the simulated sets.
    """
    if not simulated:
        raise ValueError("realism_table: no simulated survey given")
    real = real if real is not None else real_surveys()
    if not real:
        raise ValueError("realism_table: no real survey given")
    overlap = set(simulated) & set(real)
    if overlap:
        raise ValueError(f"realism_table: names used for both real and simulated: {sorted(overlap)}")
    cols = {name: realism_stats(d) for name, d in real.items()}
    frame = pd.DataFrame(cols)
    frame["real low"] = frame.min(axis=1, skipna=True)
    frame["real high"] = frame.max(axis=1, skipna=True)
    for name, d in simulated.items():
        frame[name] = realism_stats(d)
    frame.index.name = "statistic"
    return frame


def within_real_range(
    table: pd.DataFrame,
    columns: list[str] | None = None,
    tolerance: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Whether each simulated statistic lies in the real range widened by ``tolerance``.

    Rows the real sets do not have (NaN range) or the simulated survey does not
    have are NaN (neither in nor out); ``tolerance`` defaults to
    :data:`DEFAULT_TOLERANCE`.
    """
    tol = pd.Series({**DEFAULT_TOLERANCE, **dict(tolerance or {})}).reindex(table.index).fillna(0.0)
    if columns is None:
        start = list(table.columns).index("real high") + 1
        columns = list(table.columns[start:])
    lo, hi = table["real low"] - tol, table["real high"] + tol
    out = {}
    for c in columns:
        v = table[c]
        ok = (v >= lo) & (v <= hi)
        out[c] = ok.astype(object).where(v.notna() & table["real low"].notna(), np.nan)
    return pd.DataFrame(out)
