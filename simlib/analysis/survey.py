"""Survey generator: Likert answers from simulated customers' experiences.

The experience model gives every simulated customer a latent perception on
a 1-7 scale for each quality dimension (the five SERVQUAL dimensions of
Parasuraman, Zeithaml & Berry 1988, the nine Brady & Cronin 2001
sub-dimensions) and, for SERVQUAL, an expectation per dimension
(``exp_<dimension>``). :func:`survey` samples customers and lets them answer
a questionnaire: SERVQUAL (expectations ``e01``-``e22`` and perceptions
``p01``-``p22``), SERVPERF (perceptions only, Cronin & Taylor 1992), the
Brady-Cronin hierarchical instrument (``q01``-``q27``) or any
:class:`~simlib.servqual.Instrument` whose dimension names are columns of
the customer table. Because the generator knows what produced the answers,
it returns the ground truth with them (:class:`Survey`): the true loadings,
the latent scores, the thresholds and the sampled customers, so that an
EFA, a CFA or gap scores can be checked against the truth.

Measurement model
-----------------
For respondent ``i``, an item ``j`` of dimension ``d`` and an answer kind
(perception ``p`` or expectation ``e``), with ``L_id`` the latent score
(the customer table's column, moved linearly from 1-7 onto the
instrument's scale if that differs):

1. *Standardise* the latent over the sampled respondents:
   ``z_id = (L_id - m_d) / sd_d`` (sample mean ``m_d`` and SD ``sd_d``).
2. *Continuous item response* (a congeneric factor model with standardised
   loading ``lambda_j``, Joreskog 1971)::

       y*_ij = lambda_j * z_id + sqrt(1 - lambda_j**2) * eps_ij,  eps ~ N(0, 1)

   so ``lambda_j`` is the correlation of ``y*`` with its dimension: the
   true standardised loading, and items of different dimensions correlate
   ``lambda_j * lambda_k * corr(L_d, L_d')``.
3. *Back to the answer scale*: ``x*_ij = m_d + s_d * y*_ij``, i.e. the
   dimension's mean plus the loading-scaled deviation of the customer's
   latent from it plus noise. The spread ``s_d`` is
   :attr:`MeasurementModel.spread` or, by default, ``max(sd_d, min_spread)``:
   the latent's own SD, but never below one scale point, because integer
   answers to a near-constant item would not carry a factor structure.
4. *Thresholds*: the answer is ``lo + #{k : x*_ij > c_jk}`` with cut
   points ``c_jk = lo + k - 0.5 + delta_j`` (k = 1 .. hi - lo), i.e. rounding
   to the nearest category and clipping at the scale ends. Clipping alone
   biases the item mean towards the middle (a 6.4 expectation answered with
   spread 1 averages about 6.1), which would shrink gap scores. With
   ``thresholds="mean_preserving"`` (default) the shift ``delta_j`` is
   solved so that the *expected* item mean over the noise equals ``m_d``
   exactly: item means track the latent means, so gaps P - E computed from
   items reflect the simulated gaps. ``"midpoint"`` keeps ``delta_j = 0``
   (plain rounding and clipping, with its ceiling effect).
5. *Reverse keys*: items the instrument flags as negatively worded (the
   1988 SERVQUAL wording) are answered on the reversed scale,
   ``lo + hi - x``; their true loadings are reported negative, as an EFA of
   the raw answers would find them. ``Instrument.reverse_score`` (or
   :func:`simlib.servqual.gap_scores`) recodes them back.

Loadings are a property of the instrument, not of one survey: by default
each item's ``lambda_j`` is drawn once from ``loading_range`` (0.65-0.85,
typical published SERVQUAL loadings) with a generator seeded by
``structure_seed``, so every survey of an instrument has the same true
loadings; :attr:`MeasurementModel.loadings` fixes some or all of them.
Expectation items use the same loadings as the perception items and
independent noise. A dimension whose latent does not vary among the
respondents has no common factor: its answers are the latent location plus
noise and its true loadings are reported as 0.

Distinguishable dimensions need latents that are not too highly
correlated. With the default loadings and 2,000 respondents a 5-factor
oblimin or promax EFA recovers the SERVQUAL pattern (Tucker congruence
>= 0.95 for every factor) with latent correlations up to about 0.85
between every pair of dimensions, or 0.9 between a single pair with the
others at 0.4 (0.95 for that pair fails); with 500 respondents up to about
0.7, with 300 about 0.6 (``tests/quality/test_survey.py`` checks 0.5 and
0.8 at 2,000).

Sampling
--------
Respondents are drawn from the customers that have all needed scores
(to survey, say, only customers who were served, filter the table first:
``survey(results.customers().query("not abandoned"), ...)``),
without replacement when there are enough of them (with replacement, and
a warning, otherwise; ``replace`` forces either). Nonresponse is random by
default. ``response_bias = b`` makes the response propensity proportional
to ``exp(-b * z_satisfaction)``: with ``b = 1`` a customer one SD less
satisfied than average is e (about 2.7) times as likely to answer -- the
complaint-driven bias of voluntary feedback. The random numbers come from
``numpy.random.SeedSequence(seed)``, split into separate streams for the
sampling, the perception noise and the expectation noise, so the same seed
gives the same survey, and a SERVPERF and a SERVQUAL survey with the same
seed give the same perception answers.

References
----------
Parasuraman, A., Zeithaml, V. A., & Berry, L. L. (1988). SERVQUAL: a
multiple-item scale for measuring consumer perceptions of service quality.
*Journal of Retailing* 64(1), 12-40.
Cronin, J. J., & Taylor, S. A. (1992). Measuring service quality: a
reexamination and extension. *Journal of Marketing* 56(3), 55-68.
Brady, M. K., & Cronin, J. J. (2001). Some new thoughts on conceptualizing
perceived service quality: a hierarchical approach. *Journal of Marketing*
65(3), 34-49.
Joreskog, K. G. (1971). Statistical analysis of sets of congeneric tests.
*Psychometrika* 36(2), 109-133.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import ndtr

from simlib.servqual.instruments import (
    BRADY_CRONIN,
    SERVPERF22,
    SERVQUAL22,
    SERVQUAL22_1988,
    Instrument,
)
from simlib.servqual.scoring import GapScores, gap_scores

__all__ = [
    "INSTRUMENTS",
    "BRADY_CRONIN_COLUMNS",
    "LATENT_SCALE",
    "MeasurementModel",
    "Survey",
    "survey",
]

#: Instruments known by name to :func:`survey`.
INSTRUMENTS: dict[str, Instrument] = {
    "servqual22": SERVQUAL22,
    "servqual22_1991": SERVQUAL22,
    "servqual22_1988": SERVQUAL22_1988,
    "servperf": SERVPERF22,
    "servperf22": SERVPERF22,
    "brady_cronin": BRADY_CRONIN,
}

#: Brady-Cronin instrument sub-dimension -> customer-table column. The
#: instrument's outcome ``tangibles`` is the engine's ``tangibles_outcome``
#: (the table's ``tangibles`` is the SERVQUAL dimension).
BRADY_CRONIN_COLUMNS: dict[str, str] = {
    "attitude": "attitude",
    "behavior": "behaviour",
    "expertise": "expertise",
    "ambient_conditions": "ambient",
    "design": "design",
    "social_factors": "social",
    "waiting_time": "waiting",
    "tangibles": "tangibles_outcome",
    "valence": "valence",
}

#: Scale of the latent scores in the customer table.
LATENT_SCALE: tuple[float, float] = (1.0, 7.0)

#: Customer-table columns copied to :attr:`Survey.customers` when present.
_ID_COLUMNS = ("replication", "customer", "class")

#: Column of the latent for each answer kind, from the dimension's column.
_KIND_PREFIX = {"p": "", "e": "exp_"}

#: Seed-sequence children, in this fixed order (append only).
_STREAMS = ("sampling", "p", "e")

Thresholds = Literal["mean_preserving", "midpoint"]


@dataclass(frozen=True)
class MeasurementModel:
    """Parameters of the survey measurement model (see the module docstring).

    Parameters
    ----------
    loading_range
        ``(low, high)``: each item's standardised loading is drawn uniformly
        from this range, once per instrument. Both in (0, 1).
    loadings
        Optional item id -> loading in (0, 1), overriding the drawn value of
        those items (the other items keep theirs).
    structure_seed
        Seed of the loading draw; it is separate from the survey seed so the
        true loadings are the same in every survey of an instrument.
    spread
        SD of the continuous item response in scale points. ``None``: the
        latent dimension's SD among the respondents, at least
        ``min_spread``.
    min_spread
        Floor of the default spread, in scale points (> 0).
    thresholds
        ``"mean_preserving"`` (cut points shifted so the expected item mean
        equals the latent mean despite clipping) or ``"midpoint"`` (round
        to the nearest category and clip).
    """

    loading_range: tuple[float, float] = (0.65, 0.85)
    loadings: Mapping[Any, float] | None = field(default=None, hash=False)
    structure_seed: int = 1988
    spread: float | None = None
    min_spread: float = 1.0
    thresholds: Thresholds = "mean_preserving"

    def __post_init__(self) -> None:
        lo, hi = self.loading_range
        if not 0 < lo <= hi < 1:
            raise ValueError(
                f"loading_range: expected 0 < low <= high < 1, got {self.loading_range!r}"
            )
        object.__setattr__(self, "loading_range", (float(lo), float(hi)))
        if self.loadings is not None:
            bad = {k: v for k, v in dict(self.loadings).items() if not 0 < v < 1}
            if bad:
                raise ValueError(f"loadings: every loading must lie in (0, 1), got {bad}")
            object.__setattr__(self, "loadings", dict(self.loadings))
        if self.spread is not None and not self.spread > 0:
            raise ValueError(f"spread: must be positive or None, got {self.spread!r}")
        if not self.min_spread > 0:
            raise ValueError(f"min_spread: must be positive, got {self.min_spread!r}")
        if self.thresholds not in ("mean_preserving", "midpoint"):
            raise ValueError(
                f"thresholds: expected 'mean_preserving' or 'midpoint', got {self.thresholds!r}"
            )

    def item_loadings(self, instrument: Instrument) -> pd.Series:
        """Standardised loading of every item of ``instrument`` (before reverse keying).

        Returns
        -------
        pandas.Series
            Indexed by item id, in the instrument's item order.
        """
        ids = instrument.item_ids
        rng = np.random.default_rng(self.structure_seed)
        # Draw for all items first, so overriding one item leaves the others unchanged.
        lam = pd.Series(rng.uniform(*self.loading_range, size=len(ids)), index=ids)
        if self.loadings:
            unknown = [k for k in self.loadings if k not in lam.index]
            if unknown:
                raise ValueError(
                    f"loadings: items {unknown} are not in instrument {instrument.name!r}"
                )
            for k, v in self.loadings.items():
                lam[k] = float(v)
        lam.index.name = "item"
        return lam.rename("loading")


@dataclass(frozen=True)
class Survey:
    """A generated survey and the truth that generated it.

    Attributes
    ----------
    responses : pandas.DataFrame
        One row per respondent (index ``respondent``), one integer column
        per item and answer kind, named by the instrument's template
        (``e01``..``e22``, ``p01``..``p22`` for SERVQUAL), in the
        instrument's kind order. Reverse-keyed items as answered.
    true_loadings : pandas.DataFrame
        Perception items (``p01``..) x dimensions: the true standardised
        loadings, zero off the pattern (negative for reverse-keyed items;
        zero for a dimension that did not vary among the respondents).
    latent : pandas.DataFrame
        Respondents x the true latent scores on the instrument's scale:
        one column per dimension (perceptions) and ``exp_<dimension>`` per
        dimension for expectations when the instrument asks for them.
    customers : pandas.DataFrame
        Respondents x the identifying columns (``replication, customer,
        class`` where present) of the sampled customers, plus ``row``, the
        position in the customer table.
    thresholds : pandas.DataFrame
        Item columns x cut points ``c1``.. on the continuous answer scale.
    instrument : Instrument
    model : MeasurementModel
    seed : int
    response_bias : float
    """

    responses: pd.DataFrame
    true_loadings: pd.DataFrame
    latent: pd.DataFrame
    customers: pd.DataFrame
    thresholds: pd.DataFrame
    instrument: Instrument
    model: MeasurementModel
    seed: int
    response_bias: float = 0.0
    _loadings_by_kind: Mapping[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def items(self, kind: str = "p") -> pd.DataFrame:
        """The answers of one kind (``"p"`` perceptions, ``"e"`` expectations)."""
        self._check_kind(kind)
        return self.responses[self.instrument.columns(kind)]

    def loadings(self, kind: str = "p") -> pd.DataFrame:
        """True loadings of the items of one kind (``true_loadings`` for ``"p"``)."""
        self._check_kind(kind)
        return self._loadings_by_kind[kind]

    def latent_correlations(self, kind: str = "p") -> pd.DataFrame:
        """Correlations of the true latent scores of one kind among the respondents."""
        self._check_kind(kind)
        return self.latent[self._latent_names(kind)].corr()

    def gap_scores(self) -> GapScores:
        """Gap scores P - E from the answers (:func:`simlib.servqual.gap_scores`)."""
        if "e" not in self.instrument.kinds:
            raise ValueError(f"{self.instrument.name} asks no expectations: there are no gaps")
        return gap_scores(self.responses, self.instrument, missing="raise")

    def true_gaps(self) -> pd.DataFrame:
        """Per dimension, the respondents' mean latent expectation, perception and gap.

        Returns
        -------
        pandas.DataFrame
            Index: dimensions; columns ``expectation, perception, gap``
            (on the instrument's scale), comparable with
            ``gap_scores().dimension_summary()``.
        """
        if "e" not in self.instrument.kinds:
            raise ValueError(f"{self.instrument.name} asks no expectations: there are no gaps")
        dims = list(self.instrument.dimensions)
        p = self.latent[dims].mean().to_numpy()
        e = self.latent[[f"exp_{d}" for d in dims]].mean().to_numpy()
        return pd.DataFrame({"expectation": e, "perception": p, "gap": p - e}, index=dims)

    def _latent_names(self, kind: str) -> list[str]:
        return [f"{_KIND_PREFIX[kind]}{d}" for d in self.instrument.dimensions]

    def _check_kind(self, kind: str) -> None:
        if kind not in self.instrument.kinds:
            raise ValueError(
                f"{self.instrument.name} has no answers of kind {kind!r}; "
                f"it has {list(self.instrument.kinds)}"
            )


# --------------------------------------------------------------------- helpers


def _resolve_instrument(instrument: str | Instrument) -> Instrument:
    if isinstance(instrument, Instrument):
        return instrument
    key = str(instrument).strip().lower().replace("-", "_")
    if key not in INSTRUMENTS:
        names = ", ".join(repr(k) for k in INSTRUMENTS)
        raise ValueError(
            f"instrument: expected one of {names} or an Instrument, got {instrument!r}"
        )
    return INSTRUMENTS[key]


def _customer_table(results: Any) -> pd.DataFrame:
    if isinstance(results, pd.DataFrame):
        return results
    customers = getattr(results, "customers", None)
    if callable(customers):
        table = customers()
        if isinstance(table, pd.DataFrame):
            return table
    raise TypeError(
        "survey: expected a Results object with a customers() table or a DataFrame, "
        f"got {type(results).__name__}"
    )


def _latent_columns(instrument: Instrument, columns: Mapping[str, str] | None) -> dict[str, str]:
    if columns is None:
        if instrument == BRADY_CRONIN:
            return dict(BRADY_CRONIN_COLUMNS)
        columns = {}
    unknown = [d for d in columns if d not in instrument.dimensions]
    if unknown:
        raise ValueError(f"columns: {unknown} are not dimensions of {instrument.name!r}")
    return {d: str(columns.get(d, d)) for d in instrument.dimensions}


def _solve_shift(
    centre: np.ndarray, sigma: float, cuts0: np.ndarray, lo: float, target: float
) -> float:
    """Shift of the cut points making the expected answer mean equal ``target``.

    The expected answer of respondent i is ``lo + sum_k Phi((centre_i - c_k) / sigma)``;
    its sample mean falls monotonically as the cuts move up.
    """

    def excess(delta: float) -> float:
        p = ndtr((centre[:, None] - (cuts0 + delta)[None, :]) / sigma)
        return float(lo + p.sum(axis=1).mean() - target)

    width = float(len(cuts0) + 1)
    a, b = -3 * width, 3 * width
    fa, fb = excess(a), excess(b)
    if fa <= 0:  # target at or beyond the scale's top: push every cut down as far as allowed
        return a
    if fb >= 0:
        return b
    return float(brentq(excess, a, b, xtol=1e-10))


def _sample(
    frame: pd.DataFrame,
    respondents: int,
    replace: bool | None,
    bias: float,
    rng: np.random.Generator,
) -> np.ndarray:
    n = len(frame)
    if replace is None:
        replace = respondents > n
        if replace:
            warnings.warn(
                f"survey: {respondents} respondents from {n} customers; sampling with "
                "replacement (a customer drawn twice answers twice, with fresh noise)",
                stacklevel=3,
            )
    elif not replace and respondents > n:
        raise ValueError(
            f"respondents: {respondents} asked for without replacement, "
            f"but only {n} customers have the needed scores"
        )
    p = None
    if bias != 0:
        s = frame["satisfaction"].to_numpy(dtype=float)
        sd = s.std()
        z = (s - s.mean()) / sd if sd > 0 else np.zeros_like(s)
        w = np.exp(-bias * z)
        p = w / w.sum()
    return rng.choice(n, size=respondents, replace=replace, p=p)


# ------------------------------------------------------------------------- API


def survey(
    results: Any,
    instrument: str | Instrument = "servqual22",
    respondents: int = 500,
    seed: int = 0,
    *,
    model: MeasurementModel | None = None,
    response_bias: float = 0.0,
    replace: bool | None = None,
    columns: Mapping[str, str] | None = None,
) -> Survey:
    """Sample simulated customers and generate their questionnaire answers.

    Parameters
    ----------
    results
        A :class:`~simlib.Results` (its ``customers()`` table is used) or
        such a table directly: one row per customer, latent scores on the
        1-7 scale in one column per dimension (and ``exp_<dimension>`` for
        expectations).
    instrument
        ``"servqual22"`` (1991 wording, E and P), ``"servqual22_1988"``
        (reverse-keyed items), ``"servperf"`` (P only), ``"brady_cronin"``
        (27 items ``q01``..``q27`` on the nine sub-dimensions, read from the
        columns in :data:`BRADY_CRONIN_COLUMNS`), or an
        :class:`~simlib.servqual.Instrument` whose dimension names are
        customer-table columns (answer kinds ``"p"`` and/or ``"e"``).
    respondents
        Number of respondents (>= 1).
    seed
        Seed of the survey's random numbers; same seed, same survey.
    model
        The measurement model (default :class:`MeasurementModel`).
    response_bias
        Nonresponse bias ``b``: response propensity proportional to
        ``exp(-b * z_satisfaction)``; 0 (default) is random response,
        positive makes dissatisfied customers likelier to answer. Needs a
        ``satisfaction`` column when not 0.
    replace
        Sample customers with replacement. ``None`` (default): only when
        there are fewer customers than respondents (with a warning).
    columns
        Optional dimension -> customer-table column, for tables whose
        column names differ from the instrument's dimension names.

    Returns
    -------
    Survey
        Answers and ground truth.

    Raises
    ------
    ValueError
        Unknown instrument, respondents < 1, a customer table that lacks
        needed columns or has no customer with all needed scores, latent
        scores off the 1-7 scale, or answer kinds other than ``e``/``p``.
    TypeError
        ``results`` is neither a Results object nor a DataFrame.
    """
    inst = _resolve_instrument(instrument)
    if isinstance(respondents, bool) or not isinstance(respondents, int | np.integer):
        raise ValueError(f"respondents: expected an integer >= 1, got {respondents!r}")
    if respondents < 1:
        raise ValueError(f"respondents: expected an integer >= 1, got {respondents}")
    model = model if model is not None else MeasurementModel()
    if not np.isfinite(response_bias):
        raise ValueError(f"response_bias: must be a finite number, got {response_bias!r}")
    odd = [k for k in inst.kinds if k not in _KIND_PREFIX]
    if odd or "p" not in inst.kinds:
        raise ValueError(
            f"{inst.name}: can generate answer kinds 'p' (perceptions, required) and 'e' "
            f"(expectations), got {list(inst.kinds)}"
        )
    lo, hi = inst.scale
    if lo != int(lo) or hi != int(hi):
        raise ValueError(f"{inst.name}: scale ends must be whole numbers, got {inst.scale}")

    table = _customer_table(results)
    dim_cols = _latent_columns(inst, columns)
    needed = {(k, d): f"{_KIND_PREFIX[k]}{c}" for k in inst.kinds for d, c in dim_cols.items()}
    required = list(dict.fromkeys(needed.values()))
    if response_bias != 0:
        required.append("satisfaction")
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ValueError(
            f"customer table lacks columns needed by {inst.name}: {', '.join(missing)}"
        )
    values = table[required].apply(pd.to_numeric, errors="coerce")
    # A customer without a score for some dimension had no such experience
    # (e.g. never reached service): not in the sampling frame.
    frame_rows = np.flatnonzero(values.notna().all(axis=1).to_numpy())
    if len(frame_rows) == 0:
        raise ValueError("customer table: no customer has all the scores the survey needs")
    frame = values.iloc[frame_rows]
    latent_vals = frame[list(dict.fromkeys(needed.values()))].to_numpy(dtype=float)
    if (latent_vals < LATENT_SCALE[0] - 1e-9).any() or (latent_vals > LATENT_SCALE[1] + 1e-9).any():
        raise ValueError("customer table: latent scores must lie on the 1-7 scale")

    streams = dict(zip(_STREAMS, np.random.SeedSequence(seed).spawn(len(_STREAMS)), strict=True))
    picked = _sample(
        frame,
        respondents,
        replace,
        float(response_bias),
        np.random.default_rng(streams["sampling"]),
    )
    rows = frame_rows[picked]
    index = pd.RangeIndex(respondents, name="respondent")

    ids = [c for c in _ID_COLUMNS if c in table.columns]
    customers = table.iloc[rows][ids].reset_index(drop=True).set_axis(index)
    customers.insert(len(ids), "row", rows)

    lam = model.item_loadings(inst)
    sign = np.array([-1.0 if i in inst.reverse else 1.0 for i in inst.item_ids])
    n_cuts = int(hi - lo)
    cuts0 = lo + np.arange(1, n_cuts + 1) - 0.5
    scale_factor = (hi - lo) / (LATENT_SCALE[1] - LATENT_SCALE[0])

    answers: dict[str, np.ndarray] = {}
    latent: dict[str, np.ndarray] = {}
    loadings_by_kind: dict[str, pd.DataFrame] = {}
    threshold_rows: dict[str, np.ndarray] = {}
    dims = list(inst.dimensions)
    for kind in inst.kinds:
        rng = np.random.default_rng(streams[kind])
        eps = rng.standard_normal((respondents, len(lam)))
        load = pd.DataFrame(0.0, index=inst.columns(kind), columns=dims)
        j = 0
        for d in dims:
            score = (
                lo
                + (table[needed[(kind, d)]].to_numpy(dtype=float)[rows] - LATENT_SCALE[0])
                * scale_factor
            )
            latent[f"{_KIND_PREFIX[kind]}{d}"] = score
            m, sd = float(score.mean()), float(score.std())
            varies = sd > 1e-12 * max(1.0, abs(m))
            z = (score - m) / sd if varies else np.zeros_like(score)
            s = model.spread if model.spread is not None else max(sd, model.min_spread)
            target = min(max(m, lo), hi)
            for item in inst[d]:
                lj = float(lam[item])
                col = inst.column(item, kind)
                centre = m + s * lj * z
                sigma = s * np.sqrt(1 - lj**2)
                if not varies:
                    # No common factor: the answer is the location plus full-spread noise.
                    centre, sigma = np.full_like(z, m), s
                delta = (
                    _solve_shift(centre, sigma, cuts0, lo, target)
                    if model.thresholds == "mean_preserving"
                    else 0.0
                )
                cuts = cuts0 + delta
                x_star = centre + sigma * eps[:, j]
                x = lo + (x_star[:, None] > cuts[None, :]).sum(axis=1)
                if sign[j] < 0:
                    x = lo + hi - x
                answers[col] = x.astype(np.int64)
                threshold_rows[col] = cuts
                load.loc[col, d] = sign[j] * lj if varies else 0.0
                j += 1
        loadings_by_kind[kind] = load

    columns_out = [inst.column(i, k) for k in inst.kinds for i in inst.item_ids]
    responses = pd.DataFrame({c: answers[c] for c in columns_out}, index=index)
    thresholds = pd.DataFrame.from_dict(
        threshold_rows, orient="index", columns=[f"c{k}" for k in range(1, n_cuts + 1)]
    )
    thresholds = thresholds.loc[columns_out]
    latent_order = [f"{_KIND_PREFIX[k]}{d}" for k in ("p", "e") if k in inst.kinds for d in dims]
    return Survey(
        responses=responses,
        true_loadings=loadings_by_kind["p"],
        latent=pd.DataFrame({c: latent[c] for c in latent_order}, index=index),
        customers=customers,
        thresholds=thresholds,
        instrument=inst,
        model=model,
        seed=seed,
        response_bias=float(response_bias),
        _loadings_by_kind=loadings_by_kind,
    )
