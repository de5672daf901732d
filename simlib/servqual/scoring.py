"""SERVQUAL-family scores: gaps, weighted SERVQUAL, SERVPERF, zone of tolerance.

The gap model (Parasuraman, Zeithaml & Berry 1985, 1988) scores service
quality as perception minus expectation, ``G = P - E``, per item; negative
gaps mean the service falls short. Dimension gaps average the item gaps of a
dimension. The unweighted SERVQUAL score is reported both ways found in the
literature: the mean of the five dimension gaps (each dimension counts
equally) and the mean of the 22 item gaps (each item counts equally; the two
differ because dimensions have 4 or 5 items). The weighted SERVQUAL score
weights dimension gaps by importance points (Parasuraman et al. 1991: 100
points allocated over the five dimensions). SERVPERF (Cronin & Taylor 1992)
uses perceptions only.

Zone of tolerance (Zeithaml, Berry & Parasuraman 1993): with adequate (A)
and desired (D) expectations, the measure of service adequacy is
``MSA = P - A`` and of service superiority ``MSS = P - D``; perceptions
between A and D are "within the zone".

Difference scores are less reliable than their components (Johns 1981;
Peter, Churchill & Brown 1993). :func:`difference_score_reliability` reports
the reliability of each dimension's gap from the reliabilities of E and P and
their correlation:
``r_DD = (var_P r_PP + var_E r_EE - 2 r_PE sd_P sd_E) / (var_P + var_E - 2 r_PE sd_P sd_E)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .checks import MissingItemsError, MissingPolicy, check_items
from .instruments import Instrument
from .reliability import cronbach_alpha

__all__ = [
    "GapScores",
    "gap_scores",
    "weighted_servqual",
    "servperf",
    "zone_of_tolerance",
    "difference_score_reliability",
]


@dataclass(frozen=True)
class GapScores:
    """Gap scores of one sample.

    Attributes
    ----------
    item_gaps : pandas.DataFrame
        Respondents x item ids, P - E.
    dimension_gaps : pandas.DataFrame
        Respondents x dimensions, mean item gap of the dimension.
    expectations, perceptions : pandas.DataFrame
        Respondents x item ids (reverse keys already recoded).
    instrument : Instrument
    """

    item_gaps: pd.DataFrame
    dimension_gaps: pd.DataFrame
    expectations: pd.DataFrame
    perceptions: pd.DataFrame
    instrument: Instrument

    @property
    def servqual_dimension_mean(self) -> pd.Series:
        """Per respondent: unweighted SERVQUAL = mean of the dimension gaps."""
        return self.dimension_gaps.mean(axis=1).rename("servqual_dimension_mean")

    @property
    def servqual_item_mean(self) -> pd.Series:
        """Per respondent: unweighted SERVQUAL = mean of the item gaps."""
        return self.item_gaps.mean(axis=1).rename("servqual_item_mean")

    def overall(self) -> dict[str, float]:
        """Sample means of both unweighted SERVQUAL scores and of SERVPERF."""
        return {
            "servqual_dimension_mean": float(self.servqual_dimension_mean.mean()),
            "servqual_item_mean": float(self.servqual_item_mean.mean()),
            "servperf": float(self.perceptions.mean(axis=1).mean()),
            "n": int(len(self.item_gaps)),
        }

    def item_summary(self) -> pd.DataFrame:
        """Per item: mean E, mean P, mean gap, its SD and a paired t-test of P = E."""
        rows = {}
        for i in self.item_gaps.columns:
            g = self.item_gaps[i]
            t, p = stats.ttest_rel(self.perceptions[i], self.expectations[i])
            rows[i] = {
                "dimension": self.instrument.dimension_of(i),
                "expectation": self.expectations[i].mean(),
                "perception": self.perceptions[i].mean(),
                "gap": g.mean(), "gap_sd": g.std(ddof=1), "t": t, "pvalue": p,
            }
        out = pd.DataFrame.from_dict(rows, orient="index")
        out.index.name = "item"
        return out

    def dimension_summary(self) -> pd.DataFrame:
        """Per dimension: mean E, mean P, mean gap and its SD."""
        rows = {}
        for d, ids in self.instrument.dimensions.items():
            ids = list(ids)
            rows[d] = {
                "expectation": self.expectations[ids].mean(axis=1).mean(),
                "perception": self.perceptions[ids].mean(axis=1).mean(),
                "gap": self.dimension_gaps[d].mean(),
                "gap_sd": self.dimension_gaps[d].std(ddof=1),
            }
        return pd.DataFrame.from_dict(rows, orient="index")


def _kind_frame(data, instrument: Instrument, kind: str, missing: MissingPolicy) -> pd.DataFrame:
    cols = instrument.columns(kind)
    x = check_items(data, cols, scale=instrument.scale, missing=missing)
    x = instrument.reverse_score(x, kind)
    return x.set_axis(instrument.item_ids, axis=1)


def gap_scores(
    data: pd.DataFrame,
    instrument: Instrument,
    *,
    expectation: str = "e",
    perception: str = "p",
    missing: MissingPolicy = "listwise",
) -> GapScores:
    """Item and dimension gaps P - E.

    Parameters
    ----------
    data
        Respondents in rows with expectation and perception columns named by
        ``instrument.template`` (``e01``/``p01`` by default).
    instrument
        Which items form which dimension; reverse keys are recoded first.
    expectation, perception
        The ``kind`` parts of the column names.
    missing
        ``"listwise"`` (default) drops respondents missing any E or P item,
        with a warning; ``"raise"`` refuses.
    """
    cols = instrument.columns(expectation) + instrument.columns(perception)
    x = check_items(data, cols, scale=instrument.scale, missing=missing)
    e = _kind_frame(x, instrument, expectation, "raise")
    p = _kind_frame(x, instrument, perception, "raise")
    gaps = p - e
    dim = pd.DataFrame({d: gaps[list(ids)].mean(axis=1)
                        for d, ids in instrument.dimensions.items()})
    return GapScores(item_gaps=gaps, dimension_gaps=dim, expectations=e, perceptions=p,
                     instrument=instrument)


def weighted_servqual(
    gaps: GapScores, weights: Mapping[str, float] | pd.DataFrame
) -> pd.Series:
    """Importance-weighted SERVQUAL score per respondent.

    Parameters
    ----------
    gaps
        Result of :func:`gap_scores`.
    weights
        One weight per dimension (a mapping, e.g. the sample's mean of a
        100-point allocation) or per respondent (a DataFrame with one column
        per dimension, aligned on the index). Weights are normalised to sum
        to 1 for each respondent.
    """
    dims = list(gaps.instrument.dimensions)
    if isinstance(weights, pd.DataFrame):
        absent = [d for d in dims if d not in weights.columns]
        if absent:
            raise MissingItemsError(f"weights lack dimensions: {', '.join(absent)}")
        w = weights.loc[gaps.dimension_gaps.index, dims].astype(float)
    else:
        absent = [d for d in dims if d not in weights]
        if absent:
            raise MissingItemsError(f"weights lack dimensions: {', '.join(absent)}")
        w = pd.DataFrame([[float(weights[d]) for d in dims]] * len(gaps.dimension_gaps),
                         index=gaps.dimension_gaps.index, columns=dims)
    if (w < 0).to_numpy().any():
        raise ValueError("weights must be non-negative")
    total = w.sum(axis=1)
    if (total <= 0).any():
        raise ValueError("weights must not all be zero")
    w = w.div(total, axis=0)
    return (gaps.dimension_gaps[dims] * w).sum(axis=1).rename("servqual_weighted")


def servperf(
    data: pd.DataFrame, instrument: Instrument, *, kind: str = "p", missing: MissingPolicy = "listwise"
) -> pd.DataFrame:
    """SERVPERF scores: per respondent, each dimension's mean perception and the overall mean.

    Returns
    -------
    pandas.DataFrame
        One column per dimension plus ``servperf`` (mean of all items).
    """
    p = _kind_frame(data, instrument, kind, missing)
    out = pd.DataFrame({d: p[list(ids)].mean(axis=1)
                        for d, ids in instrument.dimensions.items()})
    out["servperf"] = p.mean(axis=1)
    return out


def zone_of_tolerance(
    data: pd.DataFrame,
    instrument: Instrument,
    *,
    adequate: str = "a",
    desired: str = "d",
    perception: str = "p",
    missing: MissingPolicy = "listwise",
) -> pd.DataFrame:
    """Zone of tolerance per item (needs adequate, desired and perception columns).

    Returns
    -------
    pandas.DataFrame
        Per item: ``adequate, desired, perception`` means, ``msa`` (P - A),
        ``mss`` (P - D), ``zone_width`` (D - A) and ``position`` (``below``,
        ``within`` or ``above`` the zone).

    Raises
    ------
    MissingItemsError
        If the data have no adequate/desired columns.
    """
    # One check of all three kinds, so listwise deletion warns once with the total.
    cols = [c for k in (adequate, desired, perception) for c in instrument.columns(k)]
    x = check_items(data, cols, scale=instrument.scale, missing=missing)
    a = _kind_frame(x, instrument, adequate, "raise")
    d = _kind_frame(x, instrument, desired, "raise")
    p = _kind_frame(x, instrument, perception, "raise")
    out = pd.DataFrame({
        "dimension": [instrument.dimension_of(i) for i in instrument.item_ids],
        "adequate": a.mean(), "desired": d.mean(), "perception": p.mean(),
    })
    out["msa"] = out["perception"] - out["adequate"]
    out["mss"] = out["perception"] - out["desired"]
    out["zone_width"] = out["desired"] - out["adequate"]
    out["position"] = np.where(out["msa"] < 0, "below",
                               np.where(out["mss"] > 0, "above", "within"))
    out.index.name = "item"
    return out


def difference_score_reliability(gaps: GapScores) -> pd.DataFrame:
    """Reliability of each dimension's gap score (Johns 1981).

    Returns
    -------
    pandas.DataFrame
        Per dimension: ``alpha_e``, ``alpha_p`` (Cronbach), ``r_pe``
        (correlation of the E and P sum scores) and ``reliability_gap``.
    """
    rows = {}
    for dname, ids in gaps.instrument.dimensions.items():
        ids = list(ids)
        if len(ids) < 2:
            continue
        e = gaps.expectations[ids]
        p = gaps.perceptions[ids]
        ae = cronbach_alpha(e).alpha
        ap = cronbach_alpha(p).alpha
        se, sp = e.sum(axis=1), p.sum(axis=1)
        r = float(np.corrcoef(se, sp)[0, 1])
        ve, vp = se.var(ddof=1), sp.var(ddof=1)
        cross = 2 * r * np.sqrt(ve * vp)
        rel = (vp * ap + ve * ae - cross) / (vp + ve - cross)
        rows[dname] = {"alpha_e": ae, "alpha_p": ap, "r_pe": r, "reliability_gap": rel}
    return pd.DataFrame.from_dict(rows, orient="index")
