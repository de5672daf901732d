"""Per-customer experience: what happened to a customer becomes perceptions and satisfaction.

When a customer leaves, the quality layer (:mod:`simlib.engine.quality`)
hands :func:`evaluate` a :class:`Visit` — the waits by kind, the crowding on
arrival, the staff encounters, the failures and how far their recoveries
restored them, the outcome of the visit — and individual noise; it returns an
:class:`Experience`: the nine Brady–Cronin sub-dimensions, the three primary
dimensions, overall perceived quality, the five SERVQUAL perceptions and
satisfaction. The parameters are the fields of
:class:`~simlib.spec.quality.QualitySpec`; the model behind them and the
sources of its numbers are in :mod:`simlib.spec.quality` and
docs/quality-model.md.

How a sub-dimension is scored (before individual noise with standard deviation
``heterogeneity`` is added and the result clipped to 1–7):

========================  =====================================================
attitude                  1 + 6 · courtesy · (1 − stress · overload)
behaviour                 1 + 6 · (courtesy + competence)/2 · (1 − stress · overload)
expertise                 1 + 6 · (competence + training)/2, a failed encounter's
                          times 1 − severity · ``recovery.expertise_loss`` · (1 − r)
ambient, design           ``environment.ambient``, ``environment.design``
social (crowding)         ``crowding.base`` − ``crowding.sensitivity`` · max(0, present − ``crowding.comfortable``)
waiting                   m + v squashed into 1–7 (:func:`waiting_score`): m is the
                          expected responsiveness level, v the value of the perceived
                          wait against the zone of tolerance (:meth:`WaitingSpec.value`)
tangibles (outcome)       ``environment.tangibles``
valence                   ``valence`` table; after a failure of severity s whose recovery
                          restored a share r: served − s · ((1 − r) · (served − unrecovered)
                          + r · (served − recovered))
========================  =====================================================

The reference wait E is (1 − ``promise_weight``) · expected wait +
``promise_weight`` · promised wait; the zone of tolerance runs from the
desired wait D to the adequate wait A (the class's, or ``waiting.desired`` ·
E and ``waiting.adequate`` · E). The perceived wait is (``pre_process`` ·
pre-process wait · (1 − ``announced``) + ``in_process`` · in-process wait +
``recovery`` · recovery wait) · (1 − ``occupied``). Because the waiting score
is centred on the expected responsiveness level, a wait inside the zone — in
particular the expected wait — leaves no responsiveness gap: expectations
count once.

``overload`` = min(1, max(0, load − ``stress_threshold``) / ``stress_range``) is
how far the load a server feels at service start — the other customers in
service plus those waiting, per scheduled server — exceeds the level beyond
which stress shows in staff behaviour (defaults 0.8 and 0.2: stress starts at
0.8 and is full at 1.0; Sonnentag & Frese 2003 on workload and performance;
the knee is a parameter of this model, not a law). Staff scores are averaged
over a customer's service encounters — the recovery encounter is not one of
them: it is its own episode and acts through the restored share r. A
customer who was never served (abandoned or blocked) has no evidence about
the staff and scores the interaction at the scale midpoint, 4.

Satisfaction = perceived quality + ``disconfirmation`` · δ for δ ≥ 0 and
``disconfirmation`` · ``disconfirmation_asymmetry`` · δ for δ < 0, where δ is
the ``dimension_weights``-weighted mean of perception − expectation over the
SERVQUAL dimensions. The recovery paradox's bonus is added only after a
customer's first failure, of severity at most ``max_severity``, recovered
with r ≥ ``min_restoration``; unless ``repurchase`` is set, the decision to
return sees the satisfaction without it (:attr:`Experience.loyalty`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from simlib.spec.quality import SERVQUAL_FROM_HIERARCHY, SUBDIMENSIONS, QualitySpec

__all__ = ["Experience", "Visit", "evaluate", "waiting_score", "reference_wait"]


@dataclass
class Visit:
    """What happened to one customer, as the experience model needs it."""

    #: Expected level of each SERVQUAL dimension (1–7).
    expectations: tuple[float, ...]
    #: What the customer expected and was promised to wait (time units).
    expected_wait: float
    promised_wait: float | None
    #: Waits before the first service, between services, on a recovery detour.
    wait_pre: float
    wait_in: float
    wait_recovery: float
    #: Customers in the system when this one arrived (crowding).
    present: int
    #: One ``(attitude, behaviour, expertise)`` score in 0–1 per service encounter
    #: (recovery encounters excluded).
    encounters: Sequence[tuple[float, float, float]]
    #: ``served``, ``recovered``, ``unrecovered``, ``abandoned`` or ``blocked``.
    outcome: str
    #: One ``(encounter index, severity, restored share r)`` per failure.
    failures: Sequence[tuple[int, float, float]] = ()
    #: Failures met on earlier visits (the paradox needs a first failure).
    prior_failures: int = 0
    #: Zone of tolerance in time units; None = the ``waiting`` block's multiples.
    desired_wait: float | None = None
    adequate_wait: float | None = None
    #: Weights of the SERVQUAL dimensions in disconfirmation; None = the spec's.
    dimension_weights: tuple[float, ...] | None = None


@dataclass
class Experience:
    """One customer's perceptions and decisions (1–7 scales unless stated)."""

    sub: dict[str, float]
    primary: dict[str, float]
    servqual: dict[str, float]
    expectations: tuple[float, ...]
    perceived_quality: float
    satisfaction: float
    #: Satisfaction as the decision to return sees it (without a paradox bonus
    #: unless ``recovery_paradox.repurchase``).
    loyalty: float = 0.0
    #: The wait as perceived (weighted, modified) and whether the paradox applied.
    perceived_wait: float = 0.0
    paradox: bool = False
    complained: bool = False
    returns: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _clip(x: float) -> float:
    return 1.0 if x < 1.0 else 7.0 if x > 7.0 else x


def reference_wait(spec: QualitySpec, expected_wait: float, promised_wait: float | None) -> float:
    """The wait a customer holds the service to: the expectation moved towards the promise."""
    if promised_wait is None:
        return expected_wait
    return (1 - spec.promise_weight) * expected_wait + spec.promise_weight * promised_wait


def waiting_score(level: float, value: float) -> float:
    """The waiting score: ``level`` moved by ``value`` points, squashed smoothly into 1–7.

    ``level ± room · u / (1 + u)`` with ``u = |value| / room`` and ``room`` the
    distance to 7 (gains) or 1 (losses): slope 1 at ``value`` = 0, strictly
    monotone and approaching the scale end only hyperbolically, so a longer
    wait always costs something visible (no floor reached at a finite wait).
    """
    room = 7.0 - level if value >= 0 else level - 1.0
    if room <= 0:
        return level
    u = abs(value) / room
    step = room * u / (1 + u)
    return level + step if value >= 0 else level - step


def evaluate(spec: QualitySpec, visit: Visit, noise: Sequence[float]) -> Experience:
    """Perceptions, overall quality and satisfaction of one customer.

    ``noise`` holds at least 16 standard normal draws: nine for the
    sub-dimensions, five for the SERVQUAL dimensions (individual differences),
    one for the customer's general disposition (``halo``) and one for
    satisfaction's own residual (``satisfaction_noise``).
    """
    h = spec.heterogeneity
    outcome = visit.outcome
    rec = spec.recovery
    encounters = visit.encounters
    if encounters:
        n = len(encounters)
        expertise_share = [1.0] * n
        for index, severity, restored in visit.failures:
            if 0 <= index < n:
                expertise_share[index] *= 1 - severity * rec.expertise_loss * (1 - restored)
        attitude = 1 + 6 * sum(e[0] for e in encounters) / n
        behaviour = 1 + 6 * sum(e[1] for e in encounters) / n
        expertise = 1 + 6 * sum(e[2] * f for e, f in zip(encounters, expertise_share, strict=True)) / n
    else:  # never met staff: no evidence either way, so the scale midpoint
        attitude = behaviour = expertise = 4.0
    w = spec.waiting
    reference = reference_wait(spec, visit.expected_wait, visit.promised_wait)
    desired = visit.desired_wait if visit.desired_wait is not None else w.desired * reference
    adequate = visit.adequate_wait if visit.adequate_wait is not None else w.adequate * reference
    perceived_wait = (
        w.pre_process * visit.wait_pre * (1 - w.announced)
        + w.in_process * visit.wait_in + w.recovery * visit.wait_recovery
    ) * (1 - w.occupied)
    value = w.value(perceived_wait, reference, desired, adequate, spec.wait_sensitivity)
    level = visit.expectations[2] if len(visit.expectations) > 2 else 4.0
    waiting = waiting_score(level, value)
    social = spec.crowding_base - spec.crowding_sensitivity * max(
        0, visit.present - spec.crowding_comfortable
    )
    if outcome in ("recovered", "unrecovered"):
        served = spec.valence_served
        loss = max(
            (s * ((1 - r) * (served - spec.valence_unrecovered) + r * (served - spec.valence_recovered))
             for _, s, r in visit.failures),
            default=0.0,
        )
        valence = served - loss
    else:
        valence = {
            "served": spec.valence_served,
            "abandoned": spec.valence_abandoned,
            "blocked": spec.valence_blocked,
        }[outcome]
    raw = (attitude, behaviour, expertise, spec.ambient, spec.design, social, waiting,
           spec.tangibles, valence)
    names = ("attitude", "behaviour", "expertise", "ambient", "design", "social", "waiting",
             "tangibles_outcome", "valence")
    mood = spec.halo * noise[14] if len(noise) > 14 else 0.0
    sub = {name: _clip(x + h * z + mood) for name, x, z in zip(names, raw, noise, strict=False)}
    primary = {
        p: sum(sub[s] for s in members) / len(members) for p, members in SUBDIMENSIONS.items()
    }
    wq = spec.weights
    perceived = (wq[0] * primary["interaction"] + wq[1] * primary["environment"]
                 + wq[2] * primary["outcome"]) / sum(wq)
    servqual = {}
    for i, (dim, members) in enumerate(SERVQUAL_FROM_HIERARCHY.items()):
        base = sum(sub[s] for s in members) / len(members)
        servqual[dim] = _clip(base + spec.dimension_noise * noise[9 + i])
    dw = visit.dimension_weights or spec.dimension_weights
    delta = sum(
        wd * (p - e) for wd, p, e in zip(dw, servqual.values(), visit.expectations, strict=False)
    ) / sum(dw)
    slope = spec.disconfirmation * (1.0 if delta >= 0 else spec.disconfirmation_asymmetry)
    residual = spec.satisfaction_noise * noise[15] if len(noise) > 15 else 0.0
    satisfaction = _clip(perceived + slope * delta + residual)
    par = spec.paradox
    paradox = (
        par.bonus > 0 and outcome == "recovered" and len(visit.failures) == 1
        and visit.prior_failures == 0
        and visit.failures[0][1] <= par.max_severity and visit.failures[0][2] >= par.min_restoration
    )
    reported = _clip(satisfaction + par.bonus) if paradox else satisfaction
    loyalty = reported if par.repurchase else satisfaction
    return Experience(sub, primary, servqual, visit.expectations, perceived, reported,
                      loyalty=loyalty, perceived_wait=perceived_wait, paradox=paradox)
