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
* **Service failure and recovery** (Smith & Bolton 1998; the recovery paradox:
  McCollough, Berry & Yadav 2000; De Matos, Henrique & Rossi 2007
  meta-analysis): a well-recovered failure may leave customers more
  satisfied than no failure at all; here that is a switch, off by default.
* **Service-profit chain** (Heskett et al. 1994): satisfaction drives
  complaints and the decision to return; returning customers update their
  expectations from experience (adaptive expectations, Boulding et al. 1993).

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
from simlib.spec.validation import Node, ScenarioError

__all__ = [
    "DIMENSIONS",
    "SUBDIMENSIONS",
    "STAFF_REFERENCE",
    "SERVQUAL_FROM_HIERARCHY",
    "ClassExpectations",
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

#: Reference (default) level of every staff attribute on its 0–1 scale.
STAFF_REFERENCE = 0.7


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class ClassExpectations:
    """What customers of one class expect before they arrive."""

    #: Wait the customer expects, in time units.
    expected_wait: float = 2.0
    #: Wait that external communication promised (gap 4); None = nothing promised.
    promised_wait: float | None = None
    #: Expected level of each SERVQUAL dimension (1–7), in :data:`DIMENSIONS` order.
    levels: tuple[float, ...] = (5.0, 5.5, 5.0, 5.5, 5.0)


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
    #: Satisfaction = perceived quality + disconfirmation · (mean perception − mean expectation).
    disconfirmation: float = 0.5
    #: Standard deviation (scale points) of individual differences on every sub-dimension.
    heterogeneity: float = 0.5
    #: Standard deviation of individual differences added to each SERVQUAL dimension.
    dimension_noise: float = 0.4
    #: Share of attitude and behaviour lost under full overload (0–1).
    stress: float = 0.5
    #: Load per server beyond which stress starts, and the load range over which it grows to full.
    stress_threshold: float = 0.8
    stress_range: float = 0.2
    #: Scale points the waiting score loses per reference wait waited (7 at no wait).
    wait_sensitivity: float = 3.0
    #: Valence (1–7) by outcome.
    valence_served: float = 6.5
    valence_recovered: float = 5.5
    valence_unrecovered: float = 2.0
    valence_abandoned: float = 1.5
    valence_blocked: float = 1.0
    #: Recovery paradox: extra satisfaction points after a successful recovery (0 = off;
    #: ``recovery_paradox: true`` in a scenario means 1.0 point, ``{bonus: x}`` sets it).
    recovery_bonus: float = 0.0
    #: A customer below this satisfaction complains with probability ``complaint_propensity``.
    complaint_threshold: float = 3.5
    complaint_propensity: float = 0.5
    #: Management's view (for gaps 1–3): what it thinks customers expect, and its standards.
    management_expected_wait: float | None = None
    management_levels: tuple[float, ...] | None = None
    standard_wait: float | None = None

    @property
    def recovery_paradox(self) -> bool:
        """True when successful recoveries raise satisfaction."""
        return self.recovery_bonus > 0


@dataclass(frozen=True)
class StaffSpec:
    """The staff of one station (``staff`` block), attributes on a 0–1 scale."""

    competence: float = STAFF_REFERENCE
    courtesy: float = STAFF_REFERENCE
    training: float = STAFF_REFERENCE
    #: Relative change of service time per unit of (competence + training)/2 below the reference.
    speed_effect: float = 0.5

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
    """Whether customers come back (``retention`` block)."""

    #: Probability of returning at satisfaction 4 (the scale midpoint).
    base: float = 0.5
    #: Log-odds of returning per satisfaction point.
    slope: float = 1.0
    #: Time until a returning customer arrives again.
    delay: Distribution | None = None
    #: Weight of the latest experience in updated expectations (0 = never learn).
    learning: float = 0.3

    def probability(self, satisfaction: float) -> float:
        """P(return | satisfaction)."""
        b = min(max(self.base, 1e-12), 1 - 1e-12)
        return logistic(math.log(b / (1 - b)) + self.slope * (satisfaction - 4))


def logistic(x: float) -> float:
    """``1 / (1 + exp(-x))`` without overflow for large ``|x|`` (large slopes and effects)."""
    if x < -700:  # exp(-x) would overflow; the result is exp(x), to double precision
        return math.exp(x)
    return 1 / (1 + math.exp(-x))


# --------------------------------------------------------------------------- parsing


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


_EXPECTATION_KEYS = ("expected_wait", "promised_wait", *DIMENSIONS)


def _parse_expectations(node: Node, default: ClassExpectations) -> ClassExpectations:
    node.check_keys(_EXPECTATION_KEYS)
    expected = node.number("expected_wait", positive=True) if "expected_wait" in node.value else default.expected_wait
    promised = (
        node.number("promised_wait", positive=True)
        if node.has("promised_wait")
        else default.promised_wait
    )
    levels = tuple(
        _scale(node, d) if d in node.value else lv for d, lv in zip(DIMENSIONS, default.levels, strict=True)
    )
    return ClassExpectations(expected, promised, levels)


def _parse_quality(raw: Any, class_names: Sequence[str]) -> QualitySpec:
    node = Node(raw, "quality")
    node.check_keys(
        ("expectations", "environment", "crowding", "promise_weight", "weights", "disconfirmation",
         "heterogeneity", "dimension_noise", "stress", "stress_threshold", "stress_range",
         "wait_sensitivity", "valence", "recovery_paradox", "complaints",
         "management")
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
                        f"unknown class (classes: {', '.join(class_names)}), or give the keys "
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
        kw["crowding_sensitivity"] = _num(cr, "sensitivity", 0.2)
        if "base" in cr.value:
            kw["crowding_base"] = _scale(cr, "base")
    for key in ("promise_weight",):
        if key in raw:
            kw[key] = _unit(node, key, 0.5)
    for key in ("disconfirmation", "heterogeneity", "dimension_noise", "wait_sensitivity"):
        if key in raw:
            kw[key] = node.number(key, minimum=0)
    if "stress" in raw:
        kw["stress"] = _unit(node, "stress", 0.5)
    if "stress_threshold" in raw:
        kw["stress_threshold"] = node.number("stress_threshold", minimum=0)
    if "stress_range" in raw:
        kw["stress_range"] = node.number("stress_range", positive=True)
    if node.has("weights"):
        wn = Node(raw["weights"], "quality.weights")
        wn.check_keys(("interaction", "environment", "outcome"))
        ws = tuple(_num(wn, k, d) for k, d in zip(("interaction", "environment", "outcome"), (0.4, 0.2, 0.4), strict=True))
        if sum(ws) <= 0:
            raise ScenarioError("quality.weights", "at least one weight must be positive")
        kw["weights"] = ws
    if node.has("valence"):
        vn = Node(raw["valence"], "quality.valence")
        keys = ("served", "recovered", "unrecovered", "abandoned", "blocked")
        vn.check_keys(keys)
        for k in keys:
            if k in vn.value:
                kw[f"valence_{k}"] = _scale(vn, k)
    if "recovery_paradox" in raw:
        rp = raw["recovery_paradox"]
        if isinstance(rp, bool):
            kw["recovery_bonus"] = 1.0 if rp else 0.0
        else:
            rn = Node(rp, "quality.recovery_paradox")
            rn.check_keys(("bonus",), required=("bonus",))
            kw["recovery_bonus"] = rn.number("bonus", minimum=0)
    if node.has("complaints"):
        cn = Node(raw["complaints"], "quality.complaints")
        cn.check_keys(("threshold", "propensity"))
        if "threshold" in cn.value:
            kw["complaint_threshold"] = _scale(cn, "threshold")
        kw["complaint_propensity"] = _unit(cn, "propensity", 0.5)
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
    ``quality``, ``staff``, ``failures``, ``retention``, ``economics``.
    """
    out: dict[str, Any] = {"quality": None, "staff": {}, "failures": {}, "retention": None, "economics": None}
    if data.get("quality") is not None:
        out["quality"] = _parse_quality(data["quality"], class_names)
    if data.get("staff") is not None:
        sn = Node(data["staff"], "staff")
        for name, block in sn.value.items():
            if name not in station_names:
                raise ScenarioError(sn.sub(str(name)), f"unknown station (stations: {', '.join(station_names)})")
            node = Node(block, sn.sub(name))
            node.check_keys(("competence", "courtesy", "training", "speed_effect"))
            out["staff"][name] = StaffSpec(
                competence=_unit(node, "competence", STAFF_REFERENCE),
                courtesy=_unit(node, "courtesy", STAFF_REFERENCE),
                training=_unit(node, "training", STAFF_REFERENCE),
                speed_effect=_num(node, "speed_effect", 0.5),
            )
    if data.get("failures") is not None:
        fn = Node(data["failures"], "failures")
        for name, block in fn.value.items():
            if name not in station_names:
                raise ScenarioError(fn.sub(str(name)), f"unknown station (stations: {', '.join(station_names)})")
            node = Node(block, fn.sub(name))
            node.check_keys(
                ("probability", "to", "recovery_success", "competence_effect", "training_effect",
                 "load_effect", "load_reference"),
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
                recovery_success=_unit(node, "recovery_success", 0.8),
                competence_effect=_num(node, "competence_effect", 3.0),
                training_effect=_num(node, "training_effect", 3.0),
                load_effect=_num(node, "load_effect", 4.0),
                load_reference=_unit(node, "load_reference", 0.8),
            )
    if data.get("retention") is not None:
        if out["quality"] is None:
            raise ScenarioError("retention", "needs a quality block (returning depends on satisfaction)")
        rn = Node(data["retention"], "retention")
        rn.check_keys(("base", "slope", "delay", "learning"), required=("delay",))
        out["retention"] = RetentionSpec(
            base=_unit(rn, "base", 0.5),
            slope=_num(rn, "slope", 1.0),
            delay=parse_distribution(data["retention"]["delay"], "retention.delay", base_dir),
            learning=_unit(rn, "learning", 0.3),
        )
    if data.get("economics") is not None:
        out["economics"] = Economics.from_mapping(data["economics"]).for_time_unit(time_unit)
    return out
