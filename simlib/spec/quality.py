"""Interaction quality: how what happened to a customer becomes what they perceive.

This module holds the optional scenario blocks of the quality model (frozen
specifications and their parsing); the engine evaluates each customer's
experience from them (:mod:`simlib.engine.experience`). The model links
operations to perceived service quality along the service value chain
(docs/theory.md#the-service-value-chain and docs/theory.md#service-quality):

* **Hierarchical service quality** (Brady & Cronin 2001, *J. Marketing* 65):
  overall perceived quality rests on interaction quality (attitude,
  behaviour, expertise of the staff), physical environment quality (ambient
  conditions, design, social factors such as crowding) and outcome quality
  (waiting time, tangibles, valence: did the customer get what they came for).
* **SERVQUAL** (Parasuraman, Zeithaml & Berry 1988): the five dimensions are
  read off the hierarchy (:data:`SERVQUAL_FROM_HIERARCHY`), and each is
  compared with the customer's expectation of it (gap 5).
* **Expectation–disconfirmation** (Oliver 1980, *J. Marketing Research* 17):
  satisfaction is perceived quality moved up or down by how far perceptions
  beat or fall short of expectations.
* **Service failure and recovery** (Smith & Bolton 1998; Smith, Bolton &
  Wagner 1999, *J. Marketing Research* 36): a failure lowers reliability and
  outcome quality; the recovery is its own episode, not one more staff
  encounter, and restores a share of the loss that grows with the recovery
  staff's quality, the recovery's speed and its justice — explanation,
  apology, compensation (Tax, Brown & Chandrashekaran 1998). The recovery
  paradox (McCollough, Berry & Yadav 2000; De Matos, Henrique & Rossi 2007
  meta-analysis: found for satisfaction, not for repurchase) is a switch,
  off by default, and applies only to mild first failures with an excellent
  recovery (Magnini et al. 2007).
* **Waiting as people perceive it**: a reference-dependent value function
  (Kahneman & Tversky 1979; Tversky & Kahneman 1992) around a zone of
  tolerance between the desired and the adequate wait (Zeithaml, Berry &
  Parasuraman 1993), loss-averse and with diminishing sensitivity; waits
  before, during and after a failed process weighted apart, occupied and
  announced waits felt shorter (Maister 1985; Hui & Tse 1996; Kumar, Kalwani
  & Dada 1997). The expected wait is formed from the class's expectation,
  promises, past visits (exponential smoothing) and word of mouth, and
  responsiveness is scored once against it: meeting the expected wait leaves
  no responsiveness gap.
* **Service-profit chain** (Heskett et al. 1994): satisfaction drives
  complaints and the decision to return, with asymmetric effects of
  dissatisfaction (Anderson & Sullivan 1993; Mittal, Ross & Baldasare 1998)
  and an optional jump for completely satisfied customers (Jones & Sasser
  1995); returning customers update their expectations from experience
  (adaptive expectations, Boulding et al. 1993). Customers of a class may
  form a latent mixture of segments: each new customer belongs to segment s
  with probability π_s (``share``), and a segment has its own expectations,
  tolerance zones, dimension weights, retention curve and patience.

Every numeric default below is listed with its value and its source — or the
word *assumption* — in docs/quality-model.md#where-the-numbers-come-from
(a test keeps that table complete).

All perceptions are on a 1–7 scale (as SERVQUAL items). Every coefficient is
a named, documented parameter of a block below with a default; nothing is a
hidden constant. Staff attributes are on a 0–1 scale whose reference value
(:data:`STAFF_REFERENCE`, 0.7) is the default, so a ``staff`` block that
repeats the defaults changes nothing.

How perceptions are scored from these parameters is described in
:mod:`simlib.engine.experience`, which evaluates each customer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simlib.spec.distributions import Distribution
from simlib.spec.economics import Economics
from simlib.spec.validation import Node, ScenarioError, show, show_names

__all__ = [
    "DIMENSIONS",
    "SUBDIMENSIONS",
    "STAFF_REFERENCE",
    "CUSTOMER_COLUMNS",
    "SERVQUAL_FROM_HIERARCHY",
    "ClassExpectations",
    "WaitingSpec",
    "IndicatorSpec",
    "INDICATOR_KINDS",
    "CONTINUITY_PREFERENCES",
    "check_carers",
    "InternalSpec",
    "WordOfMouthSpec",
    "RecoverySpec",
    "ParadoxSpec",
    "SegmentSpec",
    "QualitySpec",
    "StaffSpec",
    "FailureSpec",
    "RetentionSpec",
    "parse_blocks",
    "logistic",
]

#: The five SERVQUAL dimensions, in the instrument's order.
DIMENSIONS: tuple[str, ...] = ("tangibles", "reliability", "responsiveness", "assurance", "empathy")

#: Brady & Cronin's nine sub-dimensions, grouped by primary dimension.
SUBDIMENSIONS: dict[str, tuple[str, ...]] = {
    "interaction": ("attitude", "behaviour", "expertise"),
    "environment": ("ambient", "design", "social"),
    "outcome": ("waiting", "tangibles_outcome", "valence"),
}

#: Which hierarchy sub-dimensions each SERVQUAL dimension is read from.
SERVQUAL_FROM_HIERARCHY: dict[str, tuple[str, ...]] = {
    "tangibles": ("ambient", "design", "tangibles_outcome"),
    "reliability": ("valence", "expertise"),
    "responsiveness": ("waiting",),
    "assurance": ("expertise", "behaviour"),
    "empathy": ("attitude",),
}

#: Columns of the per-customer experience rows (``Results.customers()``), before one column
#: per setting indicator (whose names must differ from these).
CUSTOMER_COLUMNS: tuple[str, ...] = (
    "customer", "class", *DIMENSIONS, *(f"exp_{d}" for d in DIMENSIONS),
    *(s for subs in SUBDIMENSIONS.values() for s in subs),
    "interaction", "environment", "outcome", "perceived_quality", "satisfaction",
    "abandoned", "blocked", "failed", "recovered", "complained", "returns", "returning",
    "wait", "expected_wait", "arrival", "segment", "perceived_wait", "restoration", "paradox",
)

#: Reference (default) level of every staff attribute on its 0–1 scale.
STAFF_REFERENCE = 0.7


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class ClassExpectations:
    """What customers of one class (or segment) expect before they arrive."""

    #: Wait the customer expects, in time units (the reference point of waiting).
    expected_wait: float = 2.0
    #: Wait that external communication promised (gap 4); None = nothing promised.
    promised_wait: float | None = None
    #: Expected level of each SERVQUAL dimension (1–7), in :data:`DIMENSIONS` order.
    levels: tuple[float, ...] = (5.0, 5.5, 5.0, 5.5, 5.0)
    #: Zone of tolerance in time units: waits up to ``desired_wait`` delight, waits
    #: beyond ``adequate_wait`` are losses. None = ``waiting.desired`` /
    #: ``waiting.adequate`` times the reference wait.
    desired_wait: float | None = None
    adequate_wait: float | None = None


@dataclass(frozen=True)
class WaitingSpec:
    """How a wait is perceived (``quality.waiting``).

    The perceived wait is the sum of the waits before the first service
    (pre-process), between services (in-process) and on a failure's recovery
    detour, each weighted, shortened by ``occupied`` (all waits) and
    ``announced`` (the pre-process wait). Against the reference wait E it
    falls below the desired wait D (a gain), inside the zone [D, A] (no
    effect) or beyond the adequate wait A (a loss); the value in scale points
    is ``wait_sensitivity · ((D − w)/E)^gain_exponent`` for a gain and
    ``−loss_aversion · wait_sensitivity · ((w − A)/E)^loss_exponent`` for a loss.
    """

    #: Desired and adequate wait as multiples of the reference wait (when the class gives none).
    desired: float = 0.5
    adequate: float = 1.5
    #: Loss aversion λ: a minute beyond the adequate wait weighs λ times a minute gained.
    loss_aversion: float = 2.25
    #: Exponents of the value function (< 1: diminishing sensitivity).
    gain_exponent: float = 0.88
    loss_exponent: float = 0.88
    #: Weights of pre-process, in-process and recovery waits in the perceived wait.
    pre_process: float = 1.0
    in_process: float = 1.0
    recovery: float = 1.0
    #: Share by which occupied waits feel shorter (0 = unoccupied, the default).
    occupied: float = 0.0
    #: Share by which an announced pre-process wait feels shorter (0 = not announced).
    announced: float = 0.0
    #: Weight of word of mouth (others' recent waits) in a new customer's expected wait.
    word_of_mouth: float = 0.0
    #: Smoothing constant of the word-of-mouth wait (weight of each departing customer).
    word_of_mouth_smoothing: float = 0.1

    def value(self, wait: float, reference: float, desired: float, adequate: float,
              sensitivity: float) -> float:
        """Value (scale points, ≤ 0 a loss) of a perceived ``wait`` against the zone."""
        if reference <= 0:
            return 0.0
        if wait < desired:
            return sensitivity * ((desired - wait) / reference) ** self.gain_exponent
        if wait > adequate:
            return -self.loss_aversion * sensitivity * ((wait - adequate) / reference) ** self.loss_exponent
        return 0.0


@dataclass(frozen=True)
class RecoverySpec:
    """How a recovery restores what a failure took (``quality.recovery``).

    The restored share of a failure's loss is ``r = success · Σ wᵢ xᵢ / Σ wᵢ``
    over x = (recovery staff quality, speed, explanation, apology,
    compensation), each on 0–1; speed is E / (E + t) for a recovery that took
    t time units after the failure, E the customer's reference wait.
    """

    quality_weight: float = 2.0
    speed_weight: float = 1.0
    explanation_weight: float = 1.0
    apology_weight: float = 1.0
    compensation_weight: float = 1.0
    #: Share of a failed encounter's perceived expertise lost (times severity, before recovery).
    expertise_loss: float = 0.5

    def restoration(self, success: bool, quality: float, speed: float, explanation: float,
                    apology: float, compensation: float) -> float:
        """The share r (0–1) of the failure's loss a recovery restores."""
        if not success:
            return 0.0
        w = (self.quality_weight, self.speed_weight, self.explanation_weight,
             self.apology_weight, self.compensation_weight)
        total = sum(w)
        if total <= 0:
            return 0.0
        x = (quality, speed, explanation, apology, compensation)
        return sum(a * b for a, b in zip(w, x, strict=True)) / total


@dataclass(frozen=True)
class ParadoxSpec:
    """The recovery paradox (``quality.recovery_paradox``), off when ``bonus`` is 0."""

    #: Satisfaction points added after a qualifying recovery.
    bonus: float = 0.0
    #: Only failures at most this severe qualify (mild failures).
    max_severity: float = 0.5
    #: Only recoveries restoring at least this share qualify (excellent recoveries).
    min_restoration: float = 0.8
    #: Whether the bonus also raises the probability of returning (De Matos et al. 2007: no).
    repurchase: bool = False


#: Kinds of setting-specific quality indicators and what each scores per customer.
INDICATOR_KINDS: dict[str, str] = {
    "wait_within": "1 if the first wait (before the first service) is at most `standard`, else 0 "
                   "(a customer who left unserved scores 0)",
    "time_within": "1 if the customer was served and left within `standard` of arriving, else 0",
    "lateness": "time in the system beyond `standard` (0 when within it)",
    "first_time_right": "1 if served without a failure and without a visit to `station` (if given), else 0",
    "rework": "visits beyond the first to any station (a repeated service is a visit)",
    "continuity": "1 if the carer of the customer's first service at `station` has served the "
                  "same resident before (`prefer: any`) or served the resident's previous service "
                  "there (`prefer: previous`), else 0; NaN for the resident's first service there "
                  "and for a customer not served there",
}

#: Values of ``prefer`` of a continuity indicator: what counts as continuity, and whom the
#: station's carers assign (``previous``: the previous carer when idle; see
#: :mod:`simlib.engine.carers`).
CONTINUITY_PREFERENCES: tuple[str, ...] = ("any", "previous")


@dataclass(frozen=True)
class IndicatorSpec:
    """A setting's own quality dimension (``quality.indicators.<name>``), scored from what
    happened to each customer of ``classes`` (None = every class); see :data:`INDICATOR_KINDS`."""

    name: str
    kind: str
    standard: float | None = None
    classes: tuple[str, ...] | None = None
    station: str | None = None
    #: Continuity only: ``any`` earlier carer of the resident counts, or only the ``previous`` one.
    prefer: str = "any"

    def __post_init__(self) -> None:
        path = f"quality.indicators.{self.name}"
        if self.kind not in INDICATOR_KINDS:
            raise ScenarioError(f"{path}.kind", f"must be one of {', '.join(INDICATOR_KINDS)}, "
                                                f"got {self.kind!r}")
        if self.prefer not in CONTINUITY_PREFERENCES:
            raise ScenarioError(f"{path}.prefer", f"must be one of "
                                                  f"{', '.join(CONTINUITY_PREFERENCES)}, got {self.prefer!r}")
        if self.kind == "continuity" and self.station is None:
            raise ScenarioError(f"{path}.station", "is required for kind continuity")

    def score(self, first_wait: float, sojourn: float, served: bool, failed: bool,
              visits: int, distinct: int, stations: set[str]) -> float:
        """This indicator's value for one customer."""
        kind, std = self.kind, self.standard if self.standard is not None else 0.0
        if kind == "wait_within":
            return float(served and first_wait <= std)
        if kind == "time_within":
            return float(served and sojourn <= std)
        if kind == "lateness":
            return max(0.0, sojourn - std)
        if kind == "first_time_right":
            return float(served and not failed and (self.station is None or self.station not in stations))
        # Continuity is scored by the station's carers (simlib.engine.carers), not from this visit.
        return float(visits - distinct)


@dataclass(frozen=True)
class SegmentSpec:
    """A segment of a class's customers (``quality.segments``)."""

    name: str
    #: Share of the class's new customers in this segment.
    share: float
    expectations: ClassExpectations
    #: Weights of the SERVQUAL dimensions in disconfirmation; None = the quality block's.
    dimension_weights: tuple[float, ...] | None = None
    #: The segment's satisfaction → return curve; None = the retention block's.
    retention: RetentionSpec | None = None
    #: The segment's patience (time until a waiting customer abandons); None = the class's.
    patience: Distribution | None = None


@dataclass(frozen=True)
class QualitySpec:
    """The ``quality`` block: expectations, environment and how perceptions form."""

    #: Expectations per class name.
    expectations: Mapping[str, ClassExpectations]
    #: Physical environment constants (1–7).
    ambient: float = 5.5
    design: float = 5.0
    tangibles: float = 5.0
    #: Crowding: people present (in the system) that feel comfortable, points lost per extra person, base score.
    crowding_comfortable: int = 5
    crowding_sensitivity: float = 0.2
    crowding_base: float = 6.0
    #: How much a promise shifts the wait customers hold service to (0 = ignored, 1 = fully).
    promise_weight: float = 0.5
    #: Weights of interaction, environment and outcome quality in overall perceived quality.
    weights: tuple[float, float, float] = (0.4, 0.2, 0.4)
    #: Satisfaction = perceived quality + disconfirmation · (weighted mean perception − expectation)
    #: when perceptions beat expectations, times ``disconfirmation_asymmetry`` when they fall short.
    disconfirmation: float = 0.5
    disconfirmation_asymmetry: float = 2.0
    #: Weights of the SERVQUAL dimensions in disconfirmation (:data:`DIMENSIONS` order).
    dimension_weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0)
    #: Standard deviation (scale points) of individual differences on every sub-dimension.
    heterogeneity: float = 0.5
    #: Standard deviation of individual differences added to each SERVQUAL dimension.
    dimension_noise: float = 0.4
    #: Standard deviation of a customer's general disposition (mood, halo), added to every
    #: sub-dimension alike, and of what satisfaction owes to nothing in the model.
    halo: float = 0.55
    satisfaction_noise: float = 0.75
    #: Share of attitude and behaviour lost under full overload (0–1).
    stress: float = 0.5
    #: Load per server beyond which stress starts, and the load range over which it grows to full.
    stress_threshold: float = 0.8
    stress_range: float = 0.2
    #: Scale points of the waiting value function per reference wait (gains; losses × λ).
    wait_sensitivity: float = 2.0
    #: Valence (1–7) by outcome; ``recovered`` is the valence of a fully restored severe failure.
    valence_served: float = 6.5
    valence_recovered: float = 5.5
    valence_unrecovered: float = 2.0
    valence_abandoned: float = 1.5
    valence_blocked: float = 1.0
    #: A customer below this satisfaction complains with probability ``complaint_propensity``.
    complaint_threshold: float = 3.5
    complaint_propensity: float = 0.5
    #: Management's view (for gaps 1–3): what it thinks customers expect, and its standards.
    management_expected_wait: float | None = None
    management_levels: tuple[float, ...] | None = None
    standard_wait: float | None = None
    #: How waits are perceived, how recoveries restore, the recovery paradox.
    waiting: WaitingSpec = WaitingSpec()
    recovery: RecoverySpec = RecoverySpec()
    paradox: ParadoxSpec = ParadoxSpec()
    #: Segments per class name (classes without segments are one segment).
    segments: Mapping[str, tuple[SegmentSpec, ...]] | None = None
    #: The setting's own quality dimensions (None = none).
    indicators: tuple[IndicatorSpec, ...] | None = None
    #: Number of residents: each new customer is one of residents 1..N, drawn uniformly
    #: (None = customers are not residents; continuity indicators need residents).
    residents: int | None = None

    @property
    def recovery_bonus(self) -> float:
        """Satisfaction points of the recovery paradox (0 = off)."""
        return self.paradox.bonus

    @property
    def recovery_paradox(self) -> bool:
        """True when qualifying recoveries raise satisfaction."""
        return self.paradox.bonus > 0


@dataclass(frozen=True)
class InternalSpec:
    """The service-profit chain's internal part at one station (``staff.<station>.internal``).

    Workload w is the staff's load (customers in service plus waiting, per
    scheduled server) seen at each service start, exponentially smoothed over
    ``window`` time units. Staff satisfaction is 1 − d with dissatisfaction
    d = min(1, max(0, w − ``comfortable``) / ``range``); dissatisfied staff
    are less courteous (courtesy × (1 − ``courtesy_loss`` · d)) and leave,
    their replacements less experienced (competence × (1 − ``turnover_loss`` · d)):
    Heskett et al. 1994; Schneider & Bowen 1985 give the direction, the sizes
    are assumptions.
    """

    #: Time constant of the smoothed workload (time units; the scenario's unit).
    window: float = 480.0
    #: Workload up to which staff are content, and the excess at which they are fully dissatisfied.
    comfortable: float = 0.8
    range: float = 0.7
    #: Relative loss of courtesy, and of competence through turnover, at full dissatisfaction.
    courtesy_loss: float = 0.3
    turnover_loss: float = 0.2

    def dissatisfaction(self, workload: float) -> float:
        """d in [0, 1] at this smoothed workload."""
        return min(1.0, max(0.0, workload - self.comfortable) / self.range)


@dataclass(frozen=True)
class StaffSpec:
    """The staff of one station (``staff`` block), attributes on a 0–1 scale."""

    competence: float = STAFF_REFERENCE
    courtesy: float = STAFF_REFERENCE
    training: float = STAFF_REFERENCE
    #: Relative change of service time per unit of (competence + training)/2 below the reference.
    speed_effect: float = 0.5
    #: Workload → staff satisfaction → courtesy and turnover (None = off).
    internal: InternalSpec | None = None

    @property
    def service_factor(self) -> float:
        """Multiplier on service times: skilled staff work faster (1 at the reference).

        Floored at 0.2 so that a large ``speed_effect`` cannot make service instantaneous.
        """
        skill = (self.competence + self.training) / 2
        return max(0.2, 1 + self.speed_effect * (STAFF_REFERENCE - skill))


@dataclass(frozen=True)
class FailureSpec:
    """Service failures at one station (``failures`` block)."""

    #: Failure probability at reference staff and utilisation at or below ``load_reference``.
    probability: float
    #: Where a failed service goes: a (recovery) station, or ``repeat`` the same station.
    to: str
    #: Probability that the recovery succeeds.
    recovery_success: float = 0.8
    #: Log-odds of failure per unit of competence / training above the reference (lower is fewer).
    competence_effect: float = 3.0
    training_effect: float = 3.0
    #: Log-odds of failure per unit of load above ``load_reference`` (rushed work fails); load
    #: is the other customers in service plus those waiting, per scheduled server.
    load_effect: float = 4.0
    load_reference: float = 0.8
    #: How bad a failure is (0–1): the share of the ``valence`` table's loss it causes.
    severity: float = 1.0
    #: Justice of the recovery (0–1 each: share of recoveries, or extent): an explanation,
    #: an apology, compensation (1 = the loss compensated in full).
    explanation: float = 0.0
    apology: float = 0.0
    compensation: float = 0.0

    def probability_at(self, staff: StaffSpec | None, load: float) -> float:
        """Failure probability for this staff at this utilisation (logistic model)."""
        p = min(max(self.probability, 1e-12), 1 - 1e-12)
        logit = math.log(p / (1 - p))
        if staff is not None:
            logit -= self.competence_effect * (staff.competence - STAFF_REFERENCE)
            logit -= self.training_effect * (staff.training - STAFF_REFERENCE)
        logit += self.load_effect * max(0.0, load - self.load_reference)
        return logistic(logit)


@dataclass(frozen=True)
class RetentionSpec:
    """Whether customers come back (``retention`` block).

    log-odds of returning = logit(``base``) + ``slope`` · (s − 4) for a
    satisfaction s ≥ 4, ``slope_below`` · (s − 4) below the midpoint
    (dissatisfaction weighs more: Anderson & Sullivan 1993; Mittal, Ross &
    Baldasare 1998), plus ``jump`` when s ≥ ``jump_threshold`` (the
    "completely satisfied" customers of Jones & Sasser 1995).
    """

    #: Probability of returning at satisfaction 4 (the scale midpoint).
    base: float = 0.5
    #: Log-odds of returning per satisfaction point at and above the midpoint.
    slope: float = 1.0
    #: Time until a returning customer arrives again.
    delay: Distribution | None = None
    #: Weight of the latest experience in updated expectations (0 = never learn).
    learning: float = 0.3
    #: Log-odds per satisfaction point below the midpoint; None = ``slope``.
    slope_below: float | None = None
    #: Log-odds added for completely satisfied customers (0 = no jump) and where that starts.
    jump: float = 0.0
    jump_threshold: float = 6.5

    def probability(self, satisfaction: float) -> float:
        """P(return | satisfaction)."""
        b = min(max(self.base, 1e-12), 1 - 1e-12)
        d = satisfaction - 4
        slope = self.slope if d >= 0 or self.slope_below is None else self.slope_below
        logit = math.log(b / (1 - b)) + slope * d
        if self.jump and satisfaction >= self.jump_threshold:
            logit += self.jump
        return logistic(logit)


def logistic(x: float) -> float:
    """``1 / (1 + exp(-x))`` without overflow for large ``|x|`` (large slopes and effects)."""
    if x < -700:  # exp(-x) would overflow; the result is exp(x), to double precision
        return math.exp(x)
    return 1 / (1 + math.exp(-x))


@dataclass(frozen=True)
class WordOfMouthSpec:
    """What customers tell others, and how it changes the arrival of new customers
    (``word_of_mouth`` block: the acquisition side of the service-profit chain).

    A customer whose satisfaction is at least ``satisfied`` brings, after a
    ``delay``, a Poisson number (mean ``referrals``) of referred new customers;
    one below ``dissatisfied`` deters a Poisson number (mean ``referrals`` ·
    ``negative_ratio``: dissatisfied customers tell more, Anderson 1998) of
    prospective new customers, each of whom removes the next spontaneous
    arrival of the class. Referred customers talk too, so with everyone
    satisfied the new-customer rate λ becomes λ / (1 − ``referrals``) in the
    long run.
    """

    #: Time from a customer's departure until a referred (or deterred) customer acts.
    delay: Distribution | None = None
    #: Expected new customers one satisfied customer brings.
    referrals: float = 0.1
    #: How many times as many people a dissatisfied customer tells.
    negative_ratio: float = 2.0
    #: Satisfaction at or above which a customer recommends (1-7 scale).
    satisfied: float = 5.5
    #: Satisfaction below which a customer warns others off (1-7 scale).
    dissatisfied: float = 3.5


# --------------------------------------------------------------------------- parsing

_DQ = QualitySpec(expectations={})
_DS = StaffSpec()
_DI = InternalSpec()
_DF = FailureSpec(probability=0.0, to="repeat")
_DR = RetentionSpec()
_DW = WordOfMouthSpec()


def _levels(node: Node, key: str, default: tuple[float, ...]) -> tuple[float, ...]:
    """SERVQUAL levels given as ``{dimension: level}``; missing dimensions keep their default."""
    if key not in node.value:
        return default
    sub = Node(node.value[key], node.sub(key))
    sub.check_keys(DIMENSIONS)
    out = []
    for dim, d in zip(DIMENSIONS, default, strict=True):
        out.append(_scale(sub, dim) if dim in sub.value else d)
    return tuple(out)


def _scale(node: Node, key: str) -> float:
    x = node.number(key)
    if not 1 <= x <= 7:
        raise ScenarioError(node.sub(key), f"must be on the 1-7 scale, got {x:g}")
    return x


def _unit(node: Node, key: str, default: float) -> float:
    if key not in node.value:
        return default
    x = node.number(key)
    if not 0 <= x <= 1:
        raise ScenarioError(node.sub(key), f"must be between 0 and 1, got {x:g}")
    return x


def _num(node: Node, key: str, default: float, minimum: float | None = 0.0) -> float:
    return node.number(key, minimum=minimum) if key in node.value else default


def _flag(node: Node, key: str, default: bool) -> bool:
    if key not in node.value:
        return default
    x = node.value[key]
    if not isinstance(x, bool):
        raise ScenarioError(node.sub(key), f"must be true or false, got {x!r}")
    return x


_EXPECTATION_KEYS = ("expected_wait", "promised_wait", "desired_wait", "adequate_wait", *DIMENSIONS)


def _optional_wait(node: Node, key: str, default: float | None) -> float | None:
    return node.number(key, minimum=0) if node.has(key) else default


def _parse_expectations(node: Node, default: ClassExpectations,
                        extra: Sequence[str] = ()) -> ClassExpectations:
    node.check_keys((*_EXPECTATION_KEYS, *extra))
    expected = node.number("expected_wait", positive=True) if "expected_wait" in node.value else default.expected_wait
    promised = (
        node.number("promised_wait", positive=True)
        if node.has("promised_wait")
        else default.promised_wait
    )
    levels = tuple(
        _scale(node, d) if d in node.value else lv for d, lv in zip(DIMENSIONS, default.levels, strict=True)
    )
    desired = _optional_wait(node, "desired_wait", default.desired_wait)
    adequate = _optional_wait(node, "adequate_wait", default.adequate_wait)
    if desired is not None and adequate is not None and desired > adequate:
        raise ScenarioError(node.sub("desired_wait"),
                            f"must not exceed adequate_wait ({adequate:g}), got {desired:g}")
    return ClassExpectations(expected, promised, levels, desired, adequate)


def _parse_waiting(raw: Any) -> WaitingSpec:
    node = Node(raw, "quality.waiting")
    d = WaitingSpec()
    keys = ("desired", "adequate", "loss_aversion", "gain_exponent", "loss_exponent",
            "pre_process", "in_process", "recovery", "occupied", "announced",
            "word_of_mouth", "word_of_mouth_smoothing")
    node.check_keys(keys)
    kw: dict[str, Any] = {}
    for k in ("desired", "adequate", "loss_aversion", "pre_process", "in_process", "recovery"):
        kw[k] = _num(node, k, getattr(d, k))
    for k in ("gain_exponent", "loss_exponent"):
        kw[k] = _num(node, k, getattr(d, k))
        if not 0 < kw[k] <= 1:
            raise ScenarioError(node.sub(k), f"must be in (0, 1] (diminishing sensitivity), got {kw[k]:g}")
    for k in ("occupied", "announced", "word_of_mouth", "word_of_mouth_smoothing"):
        kw[k] = _unit(node, k, getattr(d, k))
    if kw["desired"] > kw["adequate"]:
        raise ScenarioError(node.sub("desired"), f"must not exceed adequate ({kw['adequate']:g}), got {kw['desired']:g}")
    return WaitingSpec(**kw)


def _parse_recovery(raw: Any) -> RecoverySpec:
    node = Node(raw, "quality.recovery")
    d = RecoverySpec()
    keys = ("quality_weight", "speed_weight", "explanation_weight", "apology_weight",
            "compensation_weight", "expertise_loss")
    node.check_keys(keys)
    kw = {k: _num(node, k, getattr(d, k)) for k in keys[:-1]}
    return RecoverySpec(**kw, expertise_loss=_unit(node, "expertise_loss", d.expertise_loss))


def _parse_paradox(rp: Any) -> ParadoxSpec:
    d = ParadoxSpec()
    if isinstance(rp, bool):
        return ParadoxSpec(bonus=1.0 if rp else 0.0)
    rn = Node(rp, "quality.recovery_paradox")
    rn.check_keys(("bonus", "max_severity", "min_restoration", "repurchase"), required=("bonus",))
    return ParadoxSpec(
        bonus=rn.number("bonus", minimum=0),
        max_severity=_unit(rn, "max_severity", d.max_severity),
        min_restoration=_unit(rn, "min_restoration", d.min_restoration),
        repurchase=_flag(rn, "repurchase", d.repurchase),
    )


def _dimension_weights(node: Node, key: str, default: tuple[float, ...]) -> tuple[float, ...]:
    wn = Node(node.value[key], node.sub(key))
    wn.check_keys(DIMENSIONS)
    ws = tuple(_num(wn, k, d) for k, d in zip(DIMENSIONS, default, strict=True))
    if sum(ws) <= 0:
        raise ScenarioError(node.sub(key), "at least one weight must be positive")
    return ws


_CURVE_KEYS = ("base", "slope", "slope_below", "completely_satisfied")


def _curve(node: Node, default: RetentionSpec) -> dict[str, Any]:
    """The satisfaction → return curve keys of a retention block or a segment's."""
    kw: dict[str, Any] = {
        "base": _unit(node, "base", default.base),
        "slope": _num(node, "slope", default.slope),
        "slope_below": node.number("slope_below", minimum=0) if node.has("slope_below")
        else default.slope_below,
    }
    kw["jump"], kw["jump_threshold"] = default.jump, default.jump_threshold
    if node.has("completely_satisfied"):
        cs = Node(node.value["completely_satisfied"], node.sub("completely_satisfied"))
        cs.check_keys(("threshold", "jump"), required=("jump",))
        kw["jump"] = cs.number("jump", minimum=0)
        if "threshold" in cs.value:
            kw["jump_threshold"] = _scale(cs, "threshold")
    return kw


def _parse_segments(raw: Any, class_names: Sequence[str], expectations: Mapping[str, ClassExpectations],
                    retention_raw: Any, parse_distribution: Any,
                    base_dir: str) -> dict[str, tuple[SegmentSpec, ...]]:
    node = Node(raw, "quality.segments")
    out: dict[str, tuple[SegmentSpec, ...]] = {}
    for cname, items in node.value.items():
        path = node.sub(str(cname))
        if cname not in class_names:
            raise ScenarioError(path, f"unknown class (classes: {show_names(class_names)})")
        if not isinstance(items, Sequence) or isinstance(items, str) or not items:
            raise ScenarioError(path, "must be a non-empty list of segments")
        segs = []
        for i, item in enumerate(items):
            sn = Node(item, f"{path}[{i}]")
            name = sn.string("name") if "name" in sn.value else f"segment{i + 1}"
            if "share" not in sn.value:
                raise ScenarioError(sn.sub("share"), "is required")
            share = _unit(sn, "share", 0.0)
            exp = _parse_expectations(sn, expectations[cname],
                                      extra=("name", "share", "weights", "retention", "patience"))
            weights = _dimension_weights(sn, "weights", _DQ.dimension_weights) if sn.has("weights") else None
            retention = None
            if sn.has("retention"):
                if retention_raw is None:
                    raise ScenarioError(sn.sub("retention"), "needs a retention block")
                rn = Node(sn.value["retention"], sn.sub("retention"))
                rn.check_keys(_CURVE_KEYS)
                retention = RetentionSpec(**_curve(rn, _DR))
            patience = None
            if sn.has("patience"):
                patience = parse_distribution(sn.value["patience"], sn.sub("patience"), base_dir)
            segs.append(SegmentSpec(name, share, exp, weights, retention, patience))
        names = [s.name for s in segs]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ScenarioError(path, f"segment names must be unique, {show_names(twice)} repeated")
        total = sum(s.share for s in segs)
        if abs(total - 1) > 1e-9:
            raise ScenarioError(path, f"segment shares must sum to 1, got {total:g}")
        out[cname] = tuple(segs)
    return out


def _parse_indicators(raw: Any, class_names: Sequence[str]) -> tuple[IndicatorSpec, ...]:
    node = Node(raw, "quality.indicators")
    if not isinstance(raw, Mapping) or not raw:
        raise ScenarioError("quality.indicators", "must be a non-empty mapping {name: {kind, ...}}")
    out = []
    for name, block in raw.items():
        path = node.sub(str(name))
        if not isinstance(name, str) or not name.isidentifier() or name in DIMENSIONS:
            raise ScenarioError(path, "must be an identifier that is not a SERVQUAL dimension")
        if name in CUSTOMER_COLUMNS or name == "replication":
            raise ScenarioError(path, "must differ from the columns of the customer table "
                                      "(Results.customers()), which it becomes")
        n = Node(block, path)
        n.check_keys(("kind", "standard", "classes", "station", "prefer"), required=("kind",))
        kind = n.value["kind"]
        if kind not in INDICATOR_KINDS:
            raise ScenarioError(n.sub("kind"), f"must be one of {', '.join(INDICATOR_KINDS)}, got {kind!r}")
        if kind == "continuity" and n.has("standard"):
            raise ScenarioError(n.sub("standard"), "is not used by kind continuity")
        if kind != "continuity" and n.has("prefer"):
            raise ScenarioError(n.sub("prefer"), "is allowed only with kind continuity")
        prefer = n.value.get("prefer", "any")
        if prefer not in CONTINUITY_PREFERENCES:
            raise ScenarioError(n.sub("prefer"), f"must be one of {', '.join(CONTINUITY_PREFERENCES)}, "
                                                 f"got {show(prefer)}")
        needs = kind in ("wait_within", "time_within", "lateness")
        if needs and not n.has("standard"):
            raise ScenarioError(n.sub("standard"), f"is required for kind {kind}")
        standard = n.number("standard", minimum=0) if n.has("standard") else None
        classes = None
        if n.has("classes"):
            cl = n.value["classes"]
            if not isinstance(cl, list) or not cl or any(c not in class_names for c in cl):
                raise ScenarioError(n.sub("classes"), f"must be a list of classes ({show_names(class_names)}), got {cl!r}")
            classes = tuple(cl)
        station = n.string("station") if n.has("station") else None
        out.append(IndicatorSpec(name, kind, standard, classes, station, prefer))
    return tuple(out)


def check_carers(quality: QualitySpec | None, stations: Sequence[Any]) -> None:
    """Refuse a continuity indicator whose station has no nameable carers.

    Called by the scenario parser once the stations are built (``stations`` are its
    :class:`~simlib.spec.scenario.Station` objects): carers are the identical servers of a
    plain station, so pools, servers of different speeds, processor sharing, pre-emption
    and infinite servers are refused (their servers are not carers 0..c-1 who each serve
    one customer at a time).
    """
    by_name = {st.name: st for st in stations}
    for ind in (quality.indicators or ()) if quality is not None else ():
        if ind.kind != "continuity":
            continue
        path = f"quality.indicators.{ind.name}.station"
        st = by_name.get(ind.station)
        if st is None:
            raise ScenarioError(path, f"unknown station (stations: {', '.join(by_name)})")
        why = ("it has pools" if st.pools is not None
               else "it has servers: inf" if st.infinite
               else "its servers have speeds" if st.speeds is not None
               else f"its discipline is {st.discipline}" if st.discipline in ("ps", "preemptive")
               else None)
        if why is not None:
            raise ScenarioError(path, f"continuity needs a station of identical servers who serve "
                                      f"one customer at a time, and {ind.station!r} is not one: {why}")


def _parse_quality(raw: Any, class_names: Sequence[str], retention_raw: Any,
                   parse_distribution: Any, base_dir: str) -> QualitySpec:
    node = Node(raw, "quality")
    node.check_keys(
        ("expectations", "environment", "crowding", "promise_weight", "weights", "disconfirmation",
         "disconfirmation_asymmetry", "dimension_weights",
         "heterogeneity", "dimension_noise", "halo", "satisfaction_noise", "stress", "stress_threshold", "stress_range",
         "wait_sensitivity", "valence", "recovery_paradox", "complaints",
         "management", "waiting", "recovery", "segments", "indicators", "residents")
    )
    base = ClassExpectations()
    per_class: dict[str, ClassExpectations] = {}
    if node.has("expectations"):
        exp = Node(raw["expectations"], "quality.expectations")
        if any(k in exp.value for k in _EXPECTATION_KEYS):
            base = _parse_expectations(exp, base)  # one set for every class
        else:
            for cname, block in exp.value.items():
                if cname not in class_names:
                    raise ScenarioError(
                        exp.sub(str(cname)),
                        f"unknown class (classes: {show_names(class_names)}), or give the keys "
                        f"{', '.join(_EXPECTATION_KEYS)} for all classes",
                    )
                per_class[cname] = _parse_expectations(Node(block, exp.sub(cname)), base)
    expectations = {c: per_class.get(c, base) for c in class_names}
    kw: dict[str, Any] = {}
    if node.has("environment"):
        env = Node(raw["environment"], "quality.environment")
        env.check_keys(("ambient", "design", "tangibles"))
        for k in ("ambient", "design", "tangibles"):
            if k in env.value:
                kw[k] = _scale(env, k)
    if node.has("crowding"):
        cr = Node(raw["crowding"], "quality.crowding")
        cr.check_keys(("comfortable", "sensitivity", "base"))
        if "comfortable" in cr.value:
            kw["crowding_comfortable"] = cr.integer("comfortable", minimum=0)
        kw["crowding_sensitivity"] = _num(cr, "sensitivity", _DQ.crowding_sensitivity)
        if "base" in cr.value:
            kw["crowding_base"] = _scale(cr, "base")
    if "promise_weight" in raw:
        kw["promise_weight"] = _unit(node, "promise_weight", _DQ.promise_weight)
    for key in ("disconfirmation", "disconfirmation_asymmetry", "heterogeneity", "dimension_noise",
                "halo", "satisfaction_noise", "wait_sensitivity"):
        if key in raw:
            kw[key] = node.number(key, minimum=0)
    if "stress" in raw:
        kw["stress"] = _unit(node, "stress", _DQ.stress)
    if "stress_threshold" in raw:
        kw["stress_threshold"] = node.number("stress_threshold", minimum=0)
    if "stress_range" in raw:
        kw["stress_range"] = node.number("stress_range", positive=True)
    if node.has("weights"):
        wn = Node(raw["weights"], "quality.weights")
        wn.check_keys(("interaction", "environment", "outcome"))
        ws = tuple(_num(wn, k, d) for k, d in zip(("interaction", "environment", "outcome"), _DQ.weights, strict=True))
        if sum(ws) <= 0:
            raise ScenarioError("quality.weights", "at least one weight must be positive")
        kw["weights"] = ws
    if node.has("dimension_weights"):
        kw["dimension_weights"] = _dimension_weights(node, "dimension_weights", _DQ.dimension_weights)
    if node.has("valence"):
        vn = Node(raw["valence"], "quality.valence")
        keys = ("served", "recovered", "unrecovered", "abandoned", "blocked")
        vn.check_keys(keys)
        for k in keys:
            if k in vn.value:
                kw[f"valence_{k}"] = _scale(vn, k)
    if "recovery_paradox" in raw:
        kw["paradox"] = _parse_paradox(raw["recovery_paradox"])
    if node.has("waiting"):
        kw["waiting"] = _parse_waiting(raw["waiting"])
    if node.has("recovery"):
        kw["recovery"] = _parse_recovery(raw["recovery"])
    if node.has("segments"):
        kw["segments"] = _parse_segments(raw["segments"], class_names, expectations, retention_raw,
                                         parse_distribution, base_dir)
    if node.has("residents"):
        kw["residents"] = node.integer("residents", minimum=1)
    if node.has("indicators"):
        kw["indicators"] = _parse_indicators(raw["indicators"], class_names)
        for ind in kw["indicators"]:
            if ind.kind == "continuity" and "residents" not in kw:
                raise ScenarioError(f"quality.indicators.{ind.name}",
                                    "kind continuity needs quality.residents (who the residents are)")
    if node.has("complaints"):
        cn = Node(raw["complaints"], "quality.complaints")
        cn.check_keys(("threshold", "propensity"))
        if "threshold" in cn.value:
            kw["complaint_threshold"] = _scale(cn, "threshold")
        kw["complaint_propensity"] = _unit(cn, "propensity", _DQ.complaint_propensity)
    if node.has("management"):
        mn = Node(raw["management"], "quality.management")
        mn.check_keys(("expected_wait", "standard_wait", *DIMENSIONS))
        if mn.has("expected_wait"):
            kw["management_expected_wait"] = mn.number("expected_wait", positive=True)
        if mn.has("standard_wait"):
            kw["standard_wait"] = mn.number("standard_wait", minimum=0)
        if any(d in mn.value for d in DIMENSIONS):
            kw["management_levels"] = tuple(
                _scale(mn, d) if d in mn.value else lv for d, lv in zip(DIMENSIONS, base.levels, strict=True)
            )
    return QualitySpec(expectations=expectations, **kw)


def parse_blocks(
    data: Mapping[str, Any],
    class_names: Sequence[str],
    station_names: Sequence[str],
    time_unit: str,
    parse_distribution: Any,
    base_dir: str,
) -> dict[str, Any]:
    """Validate the optional quality-model blocks of a scenario dict.

    Returns the keyword arguments for :class:`~simlib.spec.scenario.Scenario`:
    ``quality``, ``staff``, ``failures``, ``retention``, ``word_of_mouth``, ``economics``.
    """
    out: dict[str, Any] = {"quality": None, "staff": {}, "failures": {}, "retention": None,
                           "word_of_mouth": None, "economics": None}
    if data.get("quality") is not None:
        out["quality"] = _parse_quality(data["quality"], class_names, data.get("retention"),
                                        parse_distribution, base_dir)
        for ind in out["quality"].indicators or ():
            if ind.station is not None and ind.station not in station_names:
                raise ScenarioError(f"quality.indicators.{ind.name}.station",
                                    f"unknown station (stations: {', '.join(station_names)})")
    if data.get("staff") is not None:
        sn = Node(data["staff"], "staff")
        for name, block in sn.value.items():
            if name not in station_names:
                raise ScenarioError(sn.sub(str(name)), f"unknown station (stations: {', '.join(station_names)})")
            node = Node(block, sn.sub(name))
            node.check_keys(("competence", "courtesy", "training", "speed_effect", "internal"))
            internal = None
            if node.has("internal"):
                inn = Node(block["internal"], node.sub("internal"))
                inn.check_keys(("window", "comfortable", "range", "courtesy_loss", "turnover_loss"))
                internal = InternalSpec(
                    window=inn.number("window", positive=True) if inn.has("window") else _DI.window,
                    comfortable=_num(inn, "comfortable", _DI.comfortable),
                    range=inn.number("range", positive=True) if inn.has("range") else _DI.range,
                    courtesy_loss=_unit(inn, "courtesy_loss", _DI.courtesy_loss),
                    turnover_loss=_unit(inn, "turnover_loss", _DI.turnover_loss),
                )
            out["staff"][name] = StaffSpec(
                internal=internal,
                competence=_unit(node, "competence", _DS.competence),
                courtesy=_unit(node, "courtesy", _DS.courtesy),
                training=_unit(node, "training", _DS.training),
                speed_effect=_num(node, "speed_effect", _DS.speed_effect),
            )
    if data.get("failures") is not None:
        fn = Node(data["failures"], "failures")
        for name, block in fn.value.items():
            if name not in station_names:
                raise ScenarioError(fn.sub(str(name)), f"unknown station (stations: {', '.join(station_names)})")
            node = Node(block, fn.sub(name))
            node.check_keys(
                ("probability", "to", "recovery_success", "competence_effect", "training_effect",
                 "load_effect", "load_reference", "severity", "explanation", "apology", "compensation"),
                required=("probability", "to"),
            )
            to = node.value["to"]
            if to != "repeat" and to not in station_names:
                raise ScenarioError(
                    node.sub("to"), f"must be a station or 'repeat' (stations: {', '.join(station_names)}), got {to!r}"
                )
            out["failures"][name] = FailureSpec(
                probability=_unit(node, "probability", 0.0),
                to=to,
                recovery_success=_unit(node, "recovery_success", _DF.recovery_success),
                competence_effect=_num(node, "competence_effect", _DF.competence_effect),
                training_effect=_num(node, "training_effect", _DF.training_effect),
                load_effect=_num(node, "load_effect", _DF.load_effect),
                load_reference=_unit(node, "load_reference", _DF.load_reference),
                severity=_unit(node, "severity", _DF.severity),
                explanation=_unit(node, "explanation", _DF.explanation),
                apology=_unit(node, "apology", _DF.apology),
                compensation=_unit(node, "compensation", _DF.compensation),
            )
    if data.get("retention") is not None:
        if out["quality"] is None:
            raise ScenarioError("retention", "needs a quality block (returning depends on satisfaction)")
        rn = Node(data["retention"], "retention")
        rn.check_keys(("delay", "learning", *_CURVE_KEYS), required=("delay",))
        out["retention"] = RetentionSpec(
            delay=parse_distribution(data["retention"]["delay"], "retention.delay", base_dir),
            learning=_unit(rn, "learning", _DR.learning),
            **_curve(rn, _DR),
        )
    if data.get("word_of_mouth") is not None:
        if out["quality"] is None:
            raise ScenarioError("word_of_mouth", "needs a quality block (what customers tell depends on satisfaction)")
        wn = Node(data["word_of_mouth"], "word_of_mouth")
        wn.check_keys(("delay", "referrals", "negative_ratio", "satisfied", "dissatisfied"), required=("delay",))
        satisfied = _scale(wn, "satisfied") if wn.has("satisfied") else _DW.satisfied
        dissatisfied = _scale(wn, "dissatisfied") if wn.has("dissatisfied") else _DW.dissatisfied
        if dissatisfied > satisfied:
            raise ScenarioError(wn.sub("dissatisfied"), f"must be <= satisfied ({satisfied:g}), got {dissatisfied:g}")
        referrals = _num(wn, "referrals", _DW.referrals)
        if referrals >= 1:
            raise ScenarioError(wn.sub("referrals"), f"must be below 1 (else referrals grow without bound), got {referrals:g}")
        out["word_of_mouth"] = WordOfMouthSpec(
            delay=parse_distribution(data["word_of_mouth"]["delay"], "word_of_mouth.delay", base_dir),
            referrals=referrals,
            negative_ratio=_num(wn, "negative_ratio", _DW.negative_ratio),
            satisfied=satisfied,
            dissatisfied=dissatisfied,
        )
    if data.get("economics") is not None:
        out["economics"] = Economics.from_mapping(data["economics"]).for_time_unit(time_unit)
    return out
