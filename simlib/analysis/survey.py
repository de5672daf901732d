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

Rating effects
--------------
Real SERVQUAL answers share far more than the dimensions they measure
(issue 14: items of different dimensions correlate .27-.51 in the bundled
real sets, the CFA factors .55-.79). Four effects, each with its own seeded
stream, make simulated answers look like real ones (all off in
:meth:`MeasurementModel.plain`, which reproduces the issue-5 generator):

* *Halo* (Thorndike 1920; Wirtz & Bateson 1995 for service ratings): each
  respondent has a general impression ``g_i ~ N(0, 1)`` and the dimension
  factor is ``f_id = sqrt(1 - h) z_id + sqrt(h) g_i``, so the factors
  correlate ``(1 - h) rho + h`` where the simulated latents correlate
  ``rho``. The true loadings keep their pattern: the generated data follow
  a correlated-factor model, which is what an EFA or CFA recovers.
* *Acquiescence* (Baumgartner & Steenkamp 2001): a respondent-level
  agreement tendency ``c_i`` with share ``a`` of every answer's variance,
  ``y* = sqrt(1 - a) (lambda f + sqrt(1 - lambda**2) eps) + sqrt(a) c``.
  The reported true loadings are ``sqrt(1 - a) lambda``.
* *Expectation-perception correlation* at three levels: the general
  expectation level correlates ``ep_correlation`` with ``g``; a share
  ``ep_dimension_correlation`` of the standardised perception latent enters
  the dimension's expectation factor; the E and P answers to the same item
  share item noise with correlation ``ep_item_correlation``.
* *Item means and the ceiling*: items of a dimension sit at their own
  offsets (SD ``item_mean_sd`` of the range, drawn per instrument), the
  answer spread is ``relative_spread`` of the range per kind, and
  ``leniency`` moves the answer location of a kind (set by ``fit_to`` so
  that the top-category shares match a real survey); expectations near the
  top of the scale then pile up in the top category as they do in real
  data.

Overall satisfaction
--------------------
When the customer table has a ``satisfaction`` column and
``satisfaction_scale`` is set, the survey also asks an overall-satisfaction
item (:attr:`Survey.outcomes`): the latent satisfaction, standardised,
with the halo, loading ``satisfaction_loading`` and acquiescence, on its own
scale (default 1-5). The loading below 1 keeps satisfaction answers from
being a near-deterministic function of the dimension answers (the latent
satisfaction of the experience model is: R^2 about .95).

Fitting to real data
--------------------
:meth:`MeasurementModel.fit_to` (:func:`fit_measurement_model`) estimates
the parameters from a real survey (:class:`SurveyData`) and, given a
reference simulation, calibrates them so that a survey of the reference
reproduces the real survey's statistics; see
:mod:`simlib.analysis.realism` for the side-by-side table.

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
Thorndike, E. L. (1920). A constant error in psychological ratings.
*Journal of Applied Psychology* 4(1), 25-29.
Wirtz, J., & Bateson, J. E. G. (1995). An experimental investigation of halo
effects in satisfaction measures of service attributes. *International
Journal of Service Industry Management* 6(3), 84-102.
Baumgartner, H., & Steenkamp, J.-B. E. M. (2001). Response styles in
marketing research: a cross-national investigation. *Journal of Marketing
Research* 38(2), 143-156.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import brentq, minimize
from scipy.special import ndtr, ndtri

from simlib.servqual.cfa import cfa
from simlib.servqual.efa import efa
from simlib.servqual.instruments import (
    BRADY_CRONIN,
    SERVPERF22,
    SERVQUAL22,
    SERVQUAL22_1988,
    Instrument,
)
from simlib.servqual.reliability import cronbach_alpha
from simlib.servqual.scoring import GapScores, gap_scores

__all__ = [
    "ANSWER_KINDS",
    "INSTRUMENTS",
    "BRADY_CRONIN_COLUMNS",
    "LATENT_SCALE",
    "MeasurementModel",
    "Survey",
    "SurveyData",
    "fit_measurement_model",
    "ep_correlations",
    "item_correlations",
    "mean_factor_correlation",
    "satisfaction_r2",
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
_STREAMS = ("sampling", "p", "e", "general", "general_e", "acquiescence", "satisfaction")

Thresholds = Literal["mean_preserving", "midpoint"]

#: Answer kinds the model has parameters for: perceptions, expectations and
#: the overall-satisfaction item.
ANSWER_KINDS: tuple[str, ...] = ("p", "e", "satisfaction")

# Defaults of the rating effects. Each is the median (rounded) of the fits to
# the three bundled real sets (kiosk, bb1992, SQ; docs/quality-model.md,
# "Survey realism") or an assumption, as labelled in MeasurementModel's docstring.
DEFAULT_HALO = 0.50
DEFAULT_EXPECTATION_HALO: float | None = 0.48
DEFAULT_ACQUIESCENCE = 0.05
DEFAULT_EP_CORRELATION = 0.11
DEFAULT_EP_DIMENSION_CORRELATION = 0.56
DEFAULT_EP_ITEM_CORRELATION = 0.27
DEFAULT_EXPECTATION_LOADING_RANGE: tuple[float, float] | None = (0.5, 0.95)
DEFAULT_ITEM_MEAN_SD = 0.06
DEFAULT_SATISFACTION_SCALE: tuple[int, int] | None = (1, 5)
DEFAULT_SATISFACTION_LOADING = 0.75
DEFAULT_RELATIVE_SPREAD: dict[str, float] = {"p": 0.255, "e": 0.27, "satisfaction": 0.22}
DEFAULT_LOCATION: dict[str, float] = {"p": 0.74, "e": 0.93, "satisfaction": 0.75}


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
    halo
        Share ``h`` of each dimension factor's variance that is the
        respondent's general impression (the rating halo); ``[0, 0.95]``.
        Default 0.66: median of the fits to the three bundled sets.
    expectation_halo
        The same for the expectation factors (``None``: ``halo``). Default
        0.48: the kiosk fit (the only bundled set with expectations).
    acquiescence
        Share ``a`` of every answer's variance that is the respondent's
        agreement tendency, common to all items and kinds; ``[0, 0.5]``.
        Default 0.05: *assumption* (not identified without reverse-keyed
        item pairs, which none of the bundled sets has).
    ep_correlation, ep_dimension_correlation, ep_item_correlation
        Expectation-perception links at three levels: the correlation of
        the general expectation level with the general impression; the
        share of a dimension's perception carried into its expectation
        factor (expectations asked after the service are coloured by it);
        the correlation of the E and P answers' item noise (the same
        wording read the same way). Defaults 0.11, 0.56, 0.27: the kiosk fit.
    expectation_loading_range
        Loadings of the expectation items (the perception loadings moved
        linearly onto this range); ``None``: the perception loadings.
        Default (0.5, 0.95): the kiosk fit.
    item_mean_sd
        SD of the item offsets within a dimension, as a fraction of the
        scale range (item-specific means). Default 0.06: between the kiosk
        (0.074) and SQ (0.050) fits.
    relative_spread
        Answer kind (``"p"``, ``"e"``, ``"satisfaction"``) -> SD of the
        continuous answer as a fraction of the scale range; overrides
        ``spread``. Default ``{"p": 0.255, "e": 0.27, "satisfaction": 0.22}``:
        kiosk and SQ fits (P: between 0.272 and 0.238; E, satisfaction on
        1-5: kiosk).
    leniency
        Answer kind -> shift of the answer location as a fraction of the
        range (respondents answer above or below their latent evaluation).
        Default ``None`` (no shift): set by :meth:`fit_to` with a reference.
    location
        Answer kind -> the location (fraction of the range) a fitted real
        survey's answers have; used only to set ``leniency`` against a
        reference. Default ``{"p": 0.74, "e": 0.93, "satisfaction": 0.75}``
        (kiosk and SQ fits; E and satisfaction on 1-5: kiosk).
    satisfaction_scale
        Range of the generated overall-satisfaction item (``None``: no
        item). Default (1, 5), as the kiosk's ``overall_satisfied``
        (*assumption* that a 5-point overall item is used).
    satisfaction_loading
        Loading of the satisfaction answer on the customer's latent
        satisfaction (with halo); below 1 so that satisfaction is not a
        function of the dimensions. Default 0.75: between the kiosk (0.61)
        and SQ (0.94) fits.
    fitted_to
        Name of the data set :meth:`fit_to` estimated the model from.

    The rating-effect defaults come from ``fit_to`` on the three bundled
    sets with a run of ``bank_value_chain.yaml`` as reference
    (docs/quality-model.md, "Survey realism"); :meth:`plain` switches all
    rating effects off.
    """

    loading_range: tuple[float, float] = (0.65, 0.85)
    loadings: Mapping[Any, float] | None = field(default=None, hash=False)
    structure_seed: int = 1988
    spread: float | None = None
    min_spread: float = 1.0
    thresholds: Thresholds = "mean_preserving"
    halo: float = DEFAULT_HALO
    expectation_halo: float | None = DEFAULT_EXPECTATION_HALO
    acquiescence: float = DEFAULT_ACQUIESCENCE
    ep_correlation: float = DEFAULT_EP_CORRELATION
    ep_dimension_correlation: float = DEFAULT_EP_DIMENSION_CORRELATION
    ep_item_correlation: float = DEFAULT_EP_ITEM_CORRELATION
    expectation_loading_range: tuple[float, float] | None = DEFAULT_EXPECTATION_LOADING_RANGE
    item_mean_sd: float = DEFAULT_ITEM_MEAN_SD
    relative_spread: Mapping[str, float] | None = field(
        default_factory=lambda: dict(DEFAULT_RELATIVE_SPREAD), hash=False)
    leniency: Mapping[str, float] | None = field(default=None, hash=False)
    location: Mapping[str, float] | None = field(
        default_factory=lambda: dict(DEFAULT_LOCATION), hash=False)
    satisfaction_scale: tuple[int, int] | None = DEFAULT_SATISFACTION_SCALE
    satisfaction_loading: float = DEFAULT_SATISFACTION_LOADING
    fitted_to: str = ""

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
        _check_share("halo", self.halo, upper=0.95)
        if self.expectation_halo is not None:
            _check_share("expectation_halo", self.expectation_halo, upper=0.95)
        _check_share("acquiescence", self.acquiescence, upper=0.5)
        if not (np.isfinite(self.ep_correlation) and -1 < self.ep_correlation < 1):
            raise ValueError(f"ep_correlation: must lie in (-1, 1), got {self.ep_correlation!r}")
        for name in ("ep_dimension_correlation", "ep_item_correlation"):
            _check_share(name, getattr(self, name), upper=0.95)
        if self.expectation_loading_range is not None:
            elo, ehi = self.expectation_loading_range
            if not 0 < elo <= ehi < 1:
                raise ValueError(
                    "expectation_loading_range: expected 0 < low <= high < 1, "
                    f"got {self.expectation_loading_range!r}"
                )
            object.__setattr__(self, "expectation_loading_range", (float(elo), float(ehi)))
        _check_share("item_mean_sd", self.item_mean_sd, upper=0.5)
        for name in ("relative_spread", "leniency", "location"):
            value = getattr(self, name)
            if value is None:
                continue
            value = {str(k): float(v) for k, v in dict(value).items()}
            odd = [k for k in value if k not in ANSWER_KINDS]
            if odd:
                raise ValueError(f"{name}: keys must be among {list(ANSWER_KINDS)}, got {odd}")
            for k, v in value.items():
                ok = (0 < v <= 1) if name == "relative_spread" else (
                    -1 <= v <= 1 if name == "leniency" else 0 <= v <= 1)
                if not (np.isfinite(v) and ok):
                    raise ValueError(f"{name}.{k}: out of range, got {v!r}")
            object.__setattr__(self, name, value)
        if self.satisfaction_scale is not None:
            sl, sh = self.satisfaction_scale
            if sl != int(sl) or sh != int(sh) or not sl < sh:
                raise ValueError(
                    "satisfaction_scale: expected two whole numbers low < high or None, "
                    f"got {self.satisfaction_scale!r}"
                )
            object.__setattr__(self, "satisfaction_scale", (int(sl), int(sh)))
        if not 0 < self.satisfaction_loading < 1:
            raise ValueError(
                f"satisfaction_loading: must lie in (0, 1), got {self.satisfaction_loading!r}"
            )

    @classmethod
    def plain(cls, **changes: Any) -> MeasurementModel:
        """The model without rating effects: no halo, acquiescence, item offsets.

        It is the generator of simlib 0.x (issue 5): dimension factors are the
        simulated latents themselves, so items of different dimensions
        correlate only as much as the simulated latents do. It reproduces
        the numbers of that generator for the same seed.
        """
        base: dict[str, Any] = dict(
            halo=0.0, acquiescence=0.0, ep_correlation=0.0, ep_dimension_correlation=0.0,
            ep_item_correlation=0.0, item_mean_sd=0.0, relative_spread=None, location=None,
            satisfaction_scale=None, expectation_loading_range=None, expectation_halo=None,
        )
        base.update(changes)
        return cls(**base)

    def kind_halo(self, kind: str) -> float:
        """Share of a dimension factor's variance that is the general impression."""
        if kind == "e" and self.expectation_halo is not None:
            return float(self.expectation_halo)
        return float(self.halo)

    def item_offsets(self, instrument: Instrument) -> pd.Series:
        """Offset of each item's mean from its dimension's, as a fraction of the scale range.

        Drawn once per instrument (``structure_seed``), ``N(0, item_mean_sd)``
        and centred within each dimension, so a dimension's mean answer is
        its latent mean while its items differ (some items of a dimension are
        easier to endorse than others).
        """
        rng = np.random.default_rng([self.structure_seed, 1])
        raw = pd.Series(rng.standard_normal(len(instrument.item_ids)), index=instrument.item_ids)
        out = pd.Series(0.0, index=raw.index)
        if self.item_mean_sd > 0:
            for d in instrument.dimensions:
                ids = list(instrument[d])
                v = raw[ids]
                out[ids] = self.item_mean_sd * (v - v.mean()) if len(ids) > 1 else 0.0
        out.index.name = "item"
        return out.rename("offset")

    @classmethod
    def fit_to(
        cls,
        data: SurveyData | pd.DataFrame,
        instrument: Instrument | str | None = None,
        *,
        satisfaction: str | None = None,
        reference: Any = None,
        target: Instrument | str = "servqual22",
        base: MeasurementModel | None = None,
    ) -> MeasurementModel:
        """Estimate the model's parameters from a real survey (see :func:`fit_measurement_model`).

        ``MeasurementModel.fit_to(real_surveys()["kiosk"], reference=results)``
        returns a model whose surveys of ``results`` look like the kiosk data.
        """
        return fit_measurement_model(
            data, instrument, satisfaction=satisfaction, reference=reference, target=target,
            base=base,
        )

    def item_loadings(self, instrument: Instrument, kind: str = "p") -> pd.Series:
        """Standardised loading of every item of ``instrument`` (before reverse keying).

        The expectation items (``kind="e"``) use the perception loadings unless
        ``expectation_loading_range`` is set: then each is moved linearly from
        ``loading_range`` onto it (same rank order of the items).

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
        if kind == "e" and self.expectation_loading_range is not None:
            (a, b), (c, d) = self.loading_range, self.expectation_loading_range
            frac = (lam - a) / (b - a) if b > a else lam * 0 + 0.5
            lam = (c + frac.clip(0, 1) * (d - c)).clip(0.05, 0.95)
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
    factors : pandas.DataFrame
        Respondents x the true factor scores behind the answers: one column
        per dimension (and ``exp_<dimension>``), the simulated latent mixed
        with the general impression, plus ``general`` (``general_e``) and
        ``acquiescence``.
    outcomes : pandas.DataFrame
        Respondents x ``satisfaction``: the overall-satisfaction answers
        (nullable integers on ``model.satisfaction_scale``), when the
        customer table has a ``satisfaction`` column and the model asks it;
        no columns otherwise.
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
    factors: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    outcomes: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    _loadings_by_kind: Mapping[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def data(self, name: str = "simulated") -> SurveyData:
        """The answers (and the satisfaction item, if generated) as :class:`SurveyData`."""
        frame = self.responses
        sat = None
        if "satisfaction" in self.outcomes.columns:
            frame = frame.assign(satisfaction=self.outcomes["satisfaction"].astype("float64"))
            sat = "satisfaction"
        return SurveyData(frame, self.instrument, satisfaction=sat,
                          satisfaction_scale=self.model.satisfaction_scale if sat else None,
                          categorical=True, name=name)

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


def _check_share(name: str, value: float, *, upper: float) -> None:
    if not (isinstance(value, int | float | np.number) and np.isfinite(value) and 0 <= value <= upper):
        raise ValueError(f"{name}: must lie in [0, {upper:g}], got {value!r}")


def _kind_value(mapping: Mapping[str, float] | None, kind: str, default: float) -> float:
    if mapping is None or kind not in mapping:
        return default
    return float(mapping[kind])


def _spread(model: MeasurementModel, kind: str, width: float, sd: float) -> float:
    """SD of the continuous answer in scale points, for one answer kind and dimension."""
    rel = _kind_value(model.relative_spread, kind, float("nan"))
    if np.isfinite(rel):
        return rel * width
    if model.spread is not None:
        return float(model.spread)
    return max(sd, model.min_spread * width / (LATENT_SCALE[1] - LATENT_SCALE[0]))


def _satisfaction_answers(
    latent: np.ndarray,
    model: MeasurementModel,
    general: np.ndarray,
    style: np.ndarray,
    rng: np.random.Generator,
) -> pd.array:
    """Answers to the overall-satisfaction item (nullable integers; missing latent -> <NA>)."""
    assert model.satisfaction_scale is not None
    sl, sh = model.satisfaction_scale
    width = float(sh - sl)
    eps = rng.standard_normal(len(latent))
    ok = np.isfinite(latent)
    out = pd.array([pd.NA] * len(latent), dtype="Int64")
    if not ok.any():
        return out
    score = sl + (latent[ok] - LATENT_SCALE[0]) * width / (LATENT_SCALE[1] - LATENT_SCALE[0])
    m, sd = float(score.mean()), float(score.std())
    z = (score - m) / sd if sd > 0 else np.zeros_like(score)
    h, acq, lam = model.kind_halo("p"), float(model.acquiescence), float(model.satisfaction_loading)
    f = np.sqrt(1 - h) * z + np.sqrt(h) * general[ok]
    s = _spread(model, "satisfaction", width, sd)
    loc = m + _kind_value(model.leniency, "satisfaction", 0.0) * width
    centre = loc + s * np.sqrt(1 - acq) * lam * f + s * np.sqrt(acq) * style[ok]
    sigma = s * np.sqrt(1 - acq) * np.sqrt(1 - lam**2)
    cuts0 = sl + np.arange(1, int(width) + 1) - 0.5
    delta = (
        _solve_shift(centre, sigma, cuts0, sl, min(max(loc, sl), sh))
        if model.thresholds == "mean_preserving"
        else 0.0
    )
    x = sl + ((centre + sigma * eps[ok])[:, None] > (cuts0 + delta)[None, :]).sum(axis=1)
    out[np.flatnonzero(ok)] = x.astype(np.int64)
    return out


# ---------------------------------------------------------------- fitting


@dataclass(frozen=True)
class SurveyData:
    """A survey's answers with the instrument that reads them (real or simulated).

    Attributes
    ----------
    responses : pandas.DataFrame
        One row per respondent; the instrument's item columns (and the
        satisfaction column, if any).
    instrument : Instrument
    satisfaction : str or None
        Column of an overall-satisfaction item, if the survey has one.
    satisfaction_scale : (int, int) or None
        Its answer range (default: the instrument's scale).
    categorical : bool or None
        Whether the answers are categories of the scale (Likert answers);
        ``None`` detects it (whole numbers inside the scale). Standardised
        or averaged data (``bb1992``) are not: statistics of category use
        are not computed from them and ``fit_to`` does not fit the
        parameters that only categories reveal.
    name : str
    """

    responses: pd.DataFrame
    instrument: Instrument
    satisfaction: str | None = None
    satisfaction_scale: tuple[int, int] | None = None
    categorical: bool | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.responses, pd.DataFrame):
            raise TypeError(
                f"SurveyData {self.name!r}: responses must be a DataFrame, "
                f"got {type(self.responses).__name__}"
            )
        if not isinstance(self.instrument, Instrument):
            raise TypeError(f"SurveyData {self.name!r}: instrument must be an Instrument")
        if "p" not in self.instrument.kinds:
            raise ValueError(f"SurveyData {self.name!r}: the instrument asks no perceptions")
        cols = [c for k in self.instrument.kinds for c in self.instrument.columns(k)]
        if self.satisfaction is not None:
            cols.append(self.satisfaction)
        missing = [c for c in cols if c not in self.responses.columns]
        if missing:
            raise ValueError(f"SurveyData {self.name!r}: columns missing: {', '.join(missing)}")
        bad = [c for c in cols if not pd.api.types.is_numeric_dtype(self.responses[c])]
        if bad:
            raise ValueError(f"SurveyData {self.name!r}: non-numeric columns: {', '.join(bad)}")
        if self.categorical is None:
            x = self.responses[[c for k in self.instrument.kinds
                                for c in self.instrument.columns(k)]].to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            lo, hi = self.instrument.scale
            whole = bool(np.all(x == np.round(x)) and np.all((x >= lo) & (x <= hi)))
            object.__setattr__(self, "categorical", whole)
        if self.satisfaction is not None and self.satisfaction_scale is None:
            lo, hi = self.instrument.scale
            object.__setattr__(self, "satisfaction_scale", (int(lo), int(hi)))

    def items(self, kind: str = "p") -> pd.DataFrame:
        """Answers of one kind, respondents with any missing answer of the survey dropped."""
        return self.complete()[self.instrument.columns(kind)].astype(float)

    def complete(self) -> pd.DataFrame:
        """The respondents who answered every item of the instrument (listwise)."""
        cols = [c for k in self.instrument.kinds for c in self.instrument.columns(k)]
        return self.responses.loc[self.responses[cols].notna().all(axis=1)]


def _ordinal_normal(x: np.ndarray, lo: int, hi: int) -> tuple[float, float]:
    """Mean and SD of a normal whose rounding to ``lo..hi`` (clipped) gives ``x``'s categories.

    Maximum likelihood with cut points at the category midpoints, the
    generator's ``"midpoint"`` thresholds: the inverse of step 4 of the model.
    """
    cats = np.arange(lo, hi + 1)
    counts = np.array([(x == c).sum() for c in cats], dtype=float)
    upper = np.append(cats[:-1] + 0.5, np.inf)
    lower = np.insert(cats[:-1] + 0.5, 0, -np.inf)

    def nll(theta: np.ndarray) -> float:
        mu, sigma = theta[0], np.exp(theta[1])
        p = ndtr((upper - mu) / sigma) - ndtr((lower - mu) / sigma)
        return float(-(counts * np.log(np.maximum(p, 1e-300))).sum())

    start = np.array([x.mean(), np.log(max(x.std(), 0.2))])
    res = minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-9})
    mu, sigma = float(res.x[0]), float(np.exp(res.x[1]))
    width = hi - lo
    return float(np.clip(mu, lo - width, hi + width)), float(np.clip(sigma, 0.05 * width, 2 * width))


def _mean_offdiag(m: pd.DataFrame | np.ndarray) -> float:
    a = np.asarray(m, dtype=float)
    k = a.shape[0]
    return float((a.sum() - np.trace(a)) / (k * (k - 1))) if k > 1 else float("nan")


def _dimension_loadings(x: pd.DataFrame) -> np.ndarray:
    """Standardised loadings of a one-factor model of one dimension's items."""
    if x.shape[1] == 1:
        return np.array([0.95])
    if x.shape[1] == 2:
        r = float(np.clip(x.corr().to_numpy()[0, 1], 0.01, 0.99))
        return np.full(2, np.sqrt(r))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lam = efa(x, 1, method="minres", rotation=None).loadings.to_numpy()[:, 0]
    return np.abs(lam) if lam.sum() >= 0 else -lam


def _kind_fit(data: SurveyData, kind: str, acq: float) -> dict[str, Any]:
    """Loadings and factor correlations of one kind's items, and the halo share.

    Loadings: a one-factor minres fit per dimension. Factor correlations:
    the correlations of the dimensions' sum scores, corrected for their
    composite reliability (Spearman's correction), which is fast and close to
    the CFA's on SERVQUAL-type data.
    """
    inst = data.instrument
    items = data.items(kind)
    ell_parts, sums, rel = [], [], []
    for d in inst.dimensions:
        x = items[inst.columns(kind, d)]
        lam_d = np.clip(_dimension_loadings(x), 0.05, 0.99)
        ell_parts.append(lam_d)
        sums.append(x.sum(axis=1).to_numpy())
        rel.append(lam_d.sum() ** 2 / (lam_d.sum() ** 2 + (1 - lam_d**2).sum()))
    ell = np.concatenate(ell_parts)
    r = np.corrcoef(np.array(sums))
    phi_m = r / np.sqrt(np.outer(rel, rel))
    phi = float(np.clip(_mean_offdiag(phi_m), 0.0, 0.99))
    lam2 = np.clip((ell**2 - acq) / (1 - acq), 0.3**2, 0.95**2)
    halo = (phi * float(np.mean(ell**2)) - acq) / ((1 - acq) * float(np.mean(lam2)))
    return {"lambda": np.sqrt(lam2), "phi": phi, "halo": float(np.clip(halo, 0.0, 0.95))}


def _reference_latents(reference: Any, instrument: Instrument) -> pd.DataFrame:
    table = _customer_table(reference)
    cols = _latent_columns(instrument, None)
    need = [f"{_KIND_PREFIX[k]}{c}" for k in instrument.kinds for c in cols.values()]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ValueError(f"reference: customer table lacks columns {', '.join(missing)}")
    keep = need + (["satisfaction"] if "satisfaction" in table.columns else [])
    return table[keep].apply(pd.to_numeric, errors="coerce").dropna(subset=need)


def fit_measurement_model(
    data: SurveyData | pd.DataFrame,
    instrument: Instrument | str | None = None,
    *,
    satisfaction: str | None = None,
    reference: Any = None,
    target: Instrument | str = "servqual22",
    base: MeasurementModel | None = None,
) -> MeasurementModel:
    """Estimate a :class:`MeasurementModel` from a real survey.

    What each parameter is estimated from (all on the perceptions, and on
    the expectations when the survey has them):

    * ``loading_range``: 10th and 90th percentile of the CFA's standardised
      loadings (the instrument's own dimensions), net of acquiescence;
    * ``halo`` / ``expectation_halo``: the mean CFA factor correlation,
      net of acquiescence, minus what the simulated latents' own correlation
      gives when ``reference`` is given (else they are taken as
      uncorrelated): ``h = (phi - rho) / (1 - rho)``;
    * ``ep_correlation``: the mean same-item E-P correlation, net of
      acquiescence, divided by what the two halos carry;
    * ``relative_spread``, ``item_mean_sd``, ``location``: an ordinal-normal
      fit per item (cut points at the category midpoints): the median SD,
      the SD of the item means within their dimension, the mean location,
      as fractions of the scale range (categorical data only);
    * ``satisfaction_scale``, ``relative_spread["satisfaction"]``,
      ``location["satisfaction"]``: the satisfaction item's range and
      ordinal-normal fit; ``satisfaction_loading`` so that the satisfaction
      answers' R^2 on the dimension means matches the real R^2 (solved on
      ``reference`` when given, else ``sqrt(R^2 / mean alpha)``);
    * ``leniency`` (only with ``reference``): the shift that puts the
      reference simulation's mean latent of each kind at the real location,
      so a survey of the reference scenario sits where the real survey sits
      and other scenarios differ from it by what the simulation changes.

    Acquiescence is not identified without reverse-keyed item pairs (none
    of the bundled sets has them): it keeps ``base.acquiescence``. The
    thresholds are ``"midpoint"`` (those of the fit). Parameters the data
    cannot reveal keep ``base``'s values.

    Parameters
    ----------
    data
        A :class:`SurveyData`, or a DataFrame with ``instrument``.
    instrument
        The instrument of a DataFrame (an Instrument or a name of
        :data:`INSTRUMENTS`).
    satisfaction
        Overall-satisfaction column of a DataFrame.
    reference
        Optional simulated customers (a Results or its customer table)
        answering ``target``: used for the halo, the leniency and the
        satisfaction loading as described above.
    target
        The instrument the fitted model will generate (for ``reference``).
    base
        Model whose values the unestimable parameters keep (default
        :class:`MeasurementModel`).

    Raises
    ------
    ValueError
        Missing or non-numeric columns, fewer than 50 complete respondents,
        an instrument without perceptions or with one dimension.
    """
    if isinstance(data, pd.DataFrame):
        if instrument is None:
            raise ValueError("fit_to: a DataFrame needs its instrument (instrument=...)")
        data = SurveyData(data, _resolve_instrument(instrument), satisfaction=satisfaction)
    elif not isinstance(data, SurveyData):
        raise TypeError(f"fit_to: expected SurveyData or a DataFrame, got {type(data).__name__}")
    base = base if base is not None else MeasurementModel()
    n = len(data.complete())
    if n < 50:
        raise ValueError(f"fit_to {data.name!r}: {n} complete respondents; at least 50 needed")
    inst = data.instrument
    if len(inst.dimensions) < 2:
        raise ValueError(f"fit_to {data.name!r}: instrument {inst.name!r} has one dimension; the "
                         "halo (an impression shared across dimensions) needs at least two")
    acq = float(base.acquiescence)
    fits = {k: _kind_fit(data, k, acq) for k in inst.kinds}
    lam = fits["p"]["lambda"]
    changes: dict[str, Any] = {
        "loading_range": (float(np.quantile(lam, 0.1)), float(np.quantile(lam, 0.9))),
        "thresholds": "midpoint",
        "fitted_to": data.name or inst.name,
    }
    target_inst = _resolve_instrument(target)
    ref = _reference_latents(reference, target_inst) if reference is not None else None
    dims = list(target_inst.dimensions)

    def rho_sim(kind: str) -> float:
        if ref is None:
            return 0.0
        cols = [f"{_KIND_PREFIX[kind]}{d}" for d in _latent_columns(target_inst, None).values()]
        c = ref[cols].corr().to_numpy()
        return float(np.clip(_mean_offdiag(np.nan_to_num(c)), 0.0, 0.9))

    halos = {}
    for k in inst.kinds:
        phi_true = fits[k]["halo"]
        r0 = rho_sim(k) if k in target_inst.kinds else 0.0
        halos[k] = float(np.clip((phi_true - r0) / (1 - r0), 0.0, 0.95))
    changes["halo"] = halos["p"]
    if "e" in inst.kinds:
        lam_e = fits["e"]["lambda"]
        changes["expectation_halo"] = halos["e"]
        changes["expectation_loading_range"] = (
            float(np.quantile(lam_e, 0.1)), float(np.quantile(lam_e, 0.9)))
        changes.update(_ep_fit(data, acq, float(np.mean(lam_e)), float(np.mean(lam)),
                               halos["e"], halos["p"]))
    rel = dict(base.relative_spread or {})
    loc = dict(base.location or {})
    if data.categorical:
        lo, hi = (int(v) for v in inst.scale)
        width = hi - lo
        within = []
        complete = data.complete()
        for k in inst.kinds:
            mus, sigmas = {}, []
            for i in inst.item_ids:
                mu, sigma = _ordinal_normal(complete[inst.column(i, k)].to_numpy(float), lo, hi)
                mus[i] = mu
                sigmas.append(sigma)
            rel[k] = float(np.median(sigmas)) / width
            loc[k] = float(np.clip((np.mean(list(mus.values())) - lo) / width, 0.0, 1.0))
            for d in inst.dimensions:
                v = np.array([mus[i] for i in inst[d]]) / width
                within.extend(v - v.mean())
        changes["item_mean_sd"] = float(np.clip(np.sqrt(np.mean(np.square(within))), 0, 0.5))
    sat_r2 = float("nan")
    if data.satisfaction is not None and data.satisfaction_scale is not None:
        sl, sh = data.satisfaction_scale
        complete = data.complete()
        x = complete[data.satisfaction].to_numpy(float)
        ok = np.isfinite(x)
        changes["satisfaction_scale"] = (int(sl), int(sh))
        if np.all(x[ok] == np.round(x[ok])):
            mu, sigma = _ordinal_normal(x[ok], int(sl), int(sh))
            rel["satisfaction"] = sigma / (sh - sl)
            loc["satisfaction"] = float(np.clip((mu - sl) / (sh - sl), 0.0, 1.0))
        sat_r2 = satisfaction_r2(data)
    changes["relative_spread"] = rel or None
    changes["location"] = loc or None
    model = replace(base, **changes)
    if ref is not None:
        model = _anchor(model, ref, target_inst, dims)
    return _fit_satisfaction_loading(model, data, sat_r2, ref, target_inst)


def ep_correlations(data: SurveyData) -> tuple[float, float, float]:
    """Mean E-P correlation of items of different dimensions, of the same dimension, of the same item."""
    inst = data.instrument
    e, p = data.items("e"), data.items("p")
    k = len(inst.item_ids)
    c = np.corrcoef(e.T.to_numpy(), p.T.to_numpy())[:k, k:]
    g = np.array([inst.dimension_of(i) for i in inst.item_ids])
    same_dim = (g[:, None] == g[None, :]) & ~np.eye(k, dtype=bool)
    r_item = float(np.nanmean(np.diag(c)))
    r_dim = float(np.nanmean(c[same_dim])) if same_dim.any() else r_item
    r_other = float(np.nanmean(c[g[:, None] != g[None, :]])) if k > 1 else r_dim
    return r_other, r_dim, r_item


def _ep_fit(
    data: SurveyData, acq: float, lam_e: float, lam_p: float, h_e: float, h_p: float
) -> dict[str, float]:
    """E-P correlations at three levels -> the three E-P parameters.

    Mean E-P correlation of items of different dimensions (general level
    only), of different items of the same dimension (plus the dimension
    level) and of the same item (plus the shared item noise)::

        r_other = a + (1 - a) le lp sqrt(he hp) r
        r_dim   = r_other + (1 - a) le lp sqrt((1 - he)(1 - hp)) q
        r_item  = r_dim + (1 - a) sqrt(1 - le^2) sqrt(1 - lp^2) c
    """
    r_other, r_dim, r_item = ep_correlations(data)
    scale = (1 - acq) * lam_e * lam_p

    def solve(gap: float, carried: float) -> float:
        return float(np.clip(gap / carried, 0.0, 0.95)) if carried > 0 else 0.0

    return {
        "ep_correlation": solve(r_other - acq, scale * np.sqrt(h_e * h_p)),
        "ep_dimension_correlation": solve(r_dim - r_other, scale * np.sqrt((1 - h_e) * (1 - h_p))),
        "ep_item_correlation": solve(
            r_item - r_dim, (1 - acq) * np.sqrt((1 - lam_e**2) * (1 - lam_p**2))),
    }


def _anchor(
    model: MeasurementModel, ref: pd.DataFrame, target: Instrument, dims: list[str]
) -> MeasurementModel:
    """Leniency per kind: the reference's mean latent moved to the fitted location."""
    if model.location is None:
        return model
    cols = _latent_columns(target, None)
    span = LATENT_SCALE[1] - LATENT_SCALE[0]
    len_ = dict(model.leniency or {})
    for k, where in model.location.items():
        if k == "satisfaction":
            if "satisfaction" not in ref.columns:
                continue
            sim = float(ref["satisfaction"].mean())
        elif k in target.kinds:
            sim = float(ref[[f"{_KIND_PREFIX[k]}{cols[d]}" for d in dims]].to_numpy().mean())
        else:
            continue
        len_[k] = float(np.clip(where - (sim - LATENT_SCALE[0]) / span, -1.0, 1.0))
    return replace(model, leniency=len_)


def satisfaction_r2(data: SurveyData) -> float:
    """R^2 of the satisfaction answers regressed (OLS) on the perception dimension means."""
    if data.satisfaction is None:
        return float("nan")
    complete = data.complete()
    y = pd.to_numeric(complete[data.satisfaction], errors="coerce").to_numpy(float)
    x = np.column_stack([
        complete[data.instrument.columns("p", d)].astype(float).mean(axis=1)
        for d in data.instrument.dimensions
    ])
    ok = np.isfinite(y) & np.isfinite(x).all(axis=1)
    if ok.sum() < x.shape[1] + 3 or np.std(y[ok]) == 0:
        return float("nan")
    design = np.column_stack([np.ones(ok.sum()), x[ok]])
    beta, *_ = np.linalg.lstsq(design, y[ok], rcond=None)
    resid = y[ok] - design @ beta
    return float(1 - resid.var() / y[ok].var())


def mean_factor_correlation(data: SurveyData) -> float:
    """Mean factor correlation of the instrument's perception CFA; NaN where the CFA cannot
    say (a dimension of one item, fewer than two dimensions, no convergence, a factor
    correlation outside [-1, 1]), and the caller falls back on the item correlations. A
    latent matrix just short of positive definite still counts (bb1992's: eigenvalue
    -0.004): its correlations are near 1, not meaningless."""
    inst = data.instrument
    if len(inst.dimensions) < 2 or any(len(inst[d]) < 2 for d in inst.dimensions):
        return float("nan")
    with warnings.catch_warnings():
        # Convergence and admissibility are read off the fit below, not from warnings.
        warnings.simplefilter("ignore")
        fit = cfa(data.items("p"), inst.model("p"))
    phi = fit.factor_correlations.to_numpy(dtype=float)
    if not fit.fit["converged"] or not np.all(np.abs(phi) <= 1.0 + 1e-9):  # NaN fails too
        return float("nan")
    return _mean_offdiag(phi)


def item_correlations(data: SurveyData, kind: str = "p") -> tuple[float, float]:
    """Mean correlation of items of one kind within and between dimensions."""
    inst = data.instrument
    corr = data.items(kind).corr().to_numpy()
    g = np.array([inst.dimension_of(i) for i in inst.item_ids])
    within = (g[:, None] == g[None, :]) & ~np.eye(len(g), dtype=bool)
    between = g[:, None] != g[None, :]
    return (float(corr[within].mean()) if within.any() else float("nan"),
            float(corr[between].mean()) if between.any() else float("nan"))


def _probit_top(data: SurveyData, kind: str) -> float:
    """Normal quantile of the share of answers in the top category (kind or satisfaction)."""
    if kind == "satisfaction":
        assert data.satisfaction is not None and data.satisfaction_scale is not None
        x = pd.to_numeric(data.complete()[data.satisfaction], errors="coerce").dropna()
        share = float((x == data.satisfaction_scale[1]).mean())
    else:
        share = float((data.items(kind) == data.instrument.scale[1]).to_numpy().mean())
    return float(ndtri(np.clip(share, 0.005, 0.995)))


def _scaled_range(rng: tuple[float, float], factor: float) -> tuple[float, float]:
    lo, hi = (float(np.clip(v * factor, 0.1, 0.95)) for v in rng)
    return (min(lo, hi), hi)


def _fit_satisfaction_loading(
    model: MeasurementModel,
    data: SurveyData,
    r2: float,
    ref: pd.DataFrame | None,
    target: Instrument,
) -> MeasurementModel:
    """Calibrate on the reference: loadings, halo and the satisfaction loading.

    The closed forms of :func:`fit_measurement_model` ignore that the
    generated answers are categorised (which attenuates correlations, most at
    the ceiling) and that the simulated latents correlate. With a reference,
    two proportional corrections on a survey of it make the generated
    within-dimension item correlations, the CFA's mean factor correlation (the
    between-dimension item correlation where a CFA of the real or the simulated
    answers cannot be had, see :func:`mean_factor_correlation`) and the
    satisfaction R^2 match the real ones. The halo is matched on the factor
    correlation rather than on the between-dimension item correlation: real
    items share the general factor unequally, so matching the items' mean
    left the CFA factor correlation 0.03-0.10 above the real one on the
    bundled sets, while matching the factors leaves the items' mean
    0.01-0.02 below. Without, the satisfaction loading is
    ``sqrt(R^2 / mean alpha)``.
    """
    if np.isfinite(r2):
        alphas = [
            cronbach_alpha(data.items("p")[data.instrument.columns("p", d)]).alpha
            for d in data.instrument.dimensions
            if len(data.instrument[d]) > 1
        ]
        lam_s = float(np.clip(np.sqrt(max(r2, 0.01) / float(np.mean(alphas))), 0.1, 0.95))
        model = replace(model, satisfaction_loading=lam_s)
    if ref is None:
        return model
    kinds = [k for k in data.instrument.kinds if k in target.kinds]
    want = {k: item_correlations(data, k) for k in kinds}
    acq = float(model.acquiescence)
    want_phi = mean_factor_correlation(data) if "p" in kinds else float("nan")
    n = min(len(ref), 1500)
    for step in range(2):
        sim = survey(ref, target, respondents=n, seed=9000 + step, model=model,
                     replace=len(ref) < n).data()
        got = {k: item_correlations(sim, k) for k in kinds}
        changes: dict[str, Any] = {}
        for k in kinds:
            f = float(np.sqrt(max(want[k][0], 0.01) / max(got[k][0], 0.01)))
            key = "loading_range" if k == "p" else "expectation_loading_range"
            current = getattr(model, key) or model.loading_range
            changes[key] = _scaled_range(current, f)
        if "p" in kinds:
            # The factor correlation when both CFAs answer, else the between-dimension items'.
            got_phi = mean_factor_correlation(sim) if np.isfinite(want_phi) else float("nan")
            want_h, got_h = ((want_phi, got_phi) if np.isfinite(got_phi)
                             else (want["p"][1], got["p"][1]))
            if got_h - acq > 0.005:
                changes["halo"] = float(np.clip(
                    model.halo * (want_h - acq) / (got_h - acq), 0.0, 0.95))
        if "e" in kinds and "p" in kinds:
            # Categorised answers carry less E-P correlation than the closed form assumes.
            want_ep, got_ep = ep_correlations(data), ep_correlations(sim)
            for key, level in (("ep_correlation", 0), ("ep_dimension_correlation", 1),
                               ("ep_item_correlation", 2)):
                w = want_ep[level] - (want_ep[level - 1] if level else acq)
                g_ = got_ep[level] - (got_ep[level - 1] if level else acq)
                if g_ > 0.005 and w > 0:
                    changes[key] = float(np.clip(getattr(model, key) * w / g_, 0.0, 0.95))
        if data.categorical:
            # The share of top answers of each kind at the real one: the ceiling. The
            # latent anchoring of ``_anchor`` is only a start, as the simulated latents
            # are not normal (matching the mean answer instead leaves the top share
            # off by up to .06).
            len_ = dict(model.leniency or {})
            pairs = [(k, k) for k in kinds]
            if data.satisfaction is not None and sim.satisfaction is not None:
                pairs.append(("satisfaction", "satisfaction"))
            for k, _ in pairs:
                step_z = _probit_top(data, k) - _probit_top(sim, k)
                spread_k = _kind_value(model.relative_spread, k, 0.25)
                len_[k] = float(np.clip(len_.get(k, 0.0) + step_z * spread_k, -1.0, 1.0))
            changes["leniency"] = len_
        if np.isfinite(r2) and "satisfaction" in ref.columns:
            got_r2 = satisfaction_r2(sim)
            if np.isfinite(got_r2) and got_r2 > 0:
                changes["satisfaction_loading"] = float(np.clip(
                    model.satisfaction_loading * np.sqrt(r2 / got_r2), 0.1, 0.95))
        model = replace(model, **changes)
    return model


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
        Answers and ground truth; with a ``satisfaction`` column in the
        table (and ``model.satisfaction_scale`` set, the default) also the
        overall-satisfaction answers in :attr:`Survey.outcomes`.

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
    lam_by_kind = {k: model.item_loadings(inst, k) for k in inst.kinds}
    offsets = model.item_offsets(inst)
    sign = np.array([-1.0 if i in inst.reverse else 1.0 for i in inst.item_ids])
    n_cuts = int(hi - lo)
    cuts0 = lo + np.arange(1, n_cuts + 1) - 0.5
    scale_factor = (hi - lo) / (LATENT_SCALE[1] - LATENT_SCALE[0])
    width = float(hi - lo)
    acq = float(model.acquiescence)
    # Respondent-level rating effects, each from its own stream (appended to _STREAMS).
    general = np.random.default_rng(streams["general"]).standard_normal(respondents)
    own_e = np.random.default_rng(streams["general_e"]).standard_normal(respondents)
    r_ep = float(model.ep_correlation)
    general_by_kind = {"p": general, "e": r_ep * general + np.sqrt(1 - r_ep**2) * own_e}
    style = np.random.default_rng(streams["acquiescence"]).standard_normal(respondents)

    answers: dict[str, np.ndarray] = {}
    latent: dict[str, np.ndarray] = {}
    factors: dict[str, np.ndarray] = {}
    loadings_by_kind: dict[str, pd.DataFrame] = {}
    threshold_rows: dict[str, np.ndarray] = {}
    dims = list(inst.dimensions)
    # Item noise, one stream per kind; the E and P answers to one item share part of it.
    noise = {
        kind: np.random.default_rng(streams[kind]).standard_normal((respondents, len(lam)))
        for kind in inst.kinds
    }
    c_item = float(model.ep_item_correlation)
    if c_item != 0 and "e" in noise and "p" in noise:
        noise["e"] = c_item * noise["p"] + np.sqrt(1 - c_item**2) * noise["e"]
    standard: dict[tuple[str, str], tuple[np.ndarray, float, float, bool]] = {}
    for kind in inst.kinds:
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
            standard[(kind, d)] = (z, m, sd, varies)
    q_dim = float(model.ep_dimension_correlation)
    for kind in inst.kinds:
        eps = noise[kind]
        lam = lam_by_kind[kind]
        load = pd.DataFrame(0.0, index=inst.columns(kind), columns=dims)
        h = model.kind_halo(kind)
        shift = _kind_value(model.leniency, kind, 0.0) * width
        j = 0
        for d in dims:
            z, m, sd, varies = standard[(kind, d)]
            if kind == "e" and q_dim != 0 and ("p", d) in standard and standard[("p", d)][3]:
                # Expectations asked after the service are coloured by the perception.
                z = np.sqrt(1 - q_dim**2) * z + q_dim * standard[("p", d)][0]
                varies = True
            # The dimension factor: the simulated latent plus the general impression (halo).
            has_factor = varies or h > 0
            f = np.sqrt(1 - h) * z + np.sqrt(h) * general_by_kind[kind] if varies else (
                general_by_kind[kind] if h > 0 else z)
            factors[f"{_KIND_PREFIX[kind]}{d}"] = f
            s = _spread(model, kind, width, sd)
            for item in inst[d]:
                lj = float(lam[item])
                col = inst.column(item, kind)
                loc = m + shift + float(offsets[item]) * width
                lam_eff = np.sqrt(1 - acq) * lj
                centre = loc + s * lam_eff * f + s * np.sqrt(acq) * style
                sigma = s * np.sqrt(1 - acq) * np.sqrt(1 - lj**2)
                if not has_factor:
                    # No common factor: the answer is the location plus full-spread noise.
                    centre = np.full_like(z, loc) + s * np.sqrt(acq) * style
                    sigma = s * np.sqrt(1 - acq)
                target = min(max(loc, lo), hi)
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
                load.loc[col, d] = sign[j] * lam_eff if has_factor else 0.0
                j += 1
        loadings_by_kind[kind] = load

    columns_out = [inst.column(i, k) for k in inst.kinds for i in inst.item_ids]
    responses = pd.DataFrame({c: answers[c] for c in columns_out}, index=index)
    thresholds = pd.DataFrame.from_dict(
        threshold_rows, orient="index", columns=[f"c{k}" for k in range(1, n_cuts + 1)]
    )
    thresholds = thresholds.loc[columns_out]
    latent_order = [f"{_KIND_PREFIX[k]}{d}" for k in ("p", "e") if k in inst.kinds for d in dims]
    factor_frame = pd.DataFrame({c: factors[c] for c in latent_order}, index=index)
    factor_frame["general"] = general
    if "e" in inst.kinds:
        factor_frame["general_e"] = general_by_kind["e"]
    factor_frame["acquiescence"] = style
    outcomes = pd.DataFrame(index=index)
    if model.satisfaction_scale is not None and "satisfaction" in table.columns:
        sat = pd.to_numeric(table["satisfaction"], errors="coerce").to_numpy(dtype=float)[rows]
        outcomes["satisfaction"] = _satisfaction_answers(
            sat, model, general, style, np.random.default_rng(streams["satisfaction"])
        )
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
        factors=factor_frame,
        outcomes=outcomes,
        _loadings_by_kind=loadings_by_kind,
    )
