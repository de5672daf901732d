"""Per-customer experience: what happened to a customer becomes perceptions and satisfaction.

When a customer leaves, the quality layer (:mod:`simlib.engine.quality`)
hands :func:`evaluate` what the customer met — the waits, the crowding on
arrival, the staff encounters, the outcome of the visit — and individual
noise; it returns an :class:`Experience`: the nine Brady–Cronin
sub-dimensions, the three primary dimensions, overall perceived quality, the
five SERVQUAL perceptions and satisfaction. The parameters are the fields of
:class:`~simlib.spec.quality.QualitySpec`; the model behind them is described
in :mod:`simlib.spec.quality`.

How a sub-dimension is scored (before individual noise with standard deviation
``heterogeneity`` is added and the result clipped to 1–7):

========================  =====================================================
attitude                  1 + 6 · courtesy · (1 − stress · overload)
behaviour                 1 + 6 · (courtesy + competence)/2 · (1 − stress · overload)
expertise                 1 + 6 · (competence + training)/2
ambient, design           ``environment.ambient``, ``environment.design``
social (crowding)         ``crowding.base`` − ``crowding.sensitivity`` · max(0, present − ``crowding.comfortable``)
waiting                   7 − ``wait_sensitivity`` · wait / reference wait (default 3: waiting
                          the reference wait scores 4), where the reference wait is
                          (1 − ``promise_weight``) · expected_wait + ``promise_weight`` · promised_wait
tangibles (outcome)       ``environment.tangibles``
valence                   ``valence`` table: served, recovered, unrecovered, abandoned, blocked
========================  =====================================================

``overload`` = min(1, max(0, load − ``stress_threshold``) / ``stress_range``) is
how far the load a server feels at service start — the other customers in
service plus those waiting, per scheduled server — exceeds the level beyond
which stress shows in staff behaviour (defaults 0.8 and 0.2: stress starts at
0.8 and is full at 1.0; Sonnentag & Frese 2003 on workload and performance;
the knee is a parameter of this model, not a law). Staff
scores are averaged over a customer's service encounters; a customer who was
never served (abandoned or blocked) has no evidence about the staff and
scores the interaction at the scale midpoint, 4.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from simlib.spec.quality import SERVQUAL_FROM_HIERARCHY, SUBDIMENSIONS, QualitySpec

__all__ = ["Experience", "evaluate"]


@dataclass
class Experience:
    """One customer's perceptions and decisions (1–7 scales unless stated)."""

    sub: dict[str, float]
    primary: dict[str, float]
    servqual: dict[str, float]
    expectations: tuple[float, ...]
    perceived_quality: float
    satisfaction: float
    complained: bool = False
    returns: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _clip(x: float) -> float:
    return 1.0 if x < 1.0 else 7.0 if x > 7.0 else x


def evaluate(
    spec: QualitySpec,
    expectations: tuple[float, ...],
    expected_wait: float,
    promised_wait: float | None,
    wait: float,
    present_on_arrival: int,
    encounters: Sequence[tuple[float, float, float]],
    outcome: str,
    noise: Sequence[float],
) -> Experience:
    """Perceptions, overall quality and satisfaction of one customer.

    Parameters
    ----------
    expectations
        The customer's expected level of each SERVQUAL dimension (1–7).
    expected_wait, promised_wait
        What the customer expected to wait and what was promised (time units).
    wait
        Total time the customer spent in queues (time units).
    present_on_arrival
        Customers in the system when this one arrived (crowding).
    encounters
        One ``(attitude, behaviour, expertise)`` score in 0–1 per service encounter.
    outcome
        ``served``, ``recovered``, ``unrecovered``, ``abandoned`` or ``blocked``.
    noise
        At least 14 standard normal draws: nine for the sub-dimensions, five
        for the SERVQUAL dimensions (individual differences).
    """
    h = spec.heterogeneity
    if encounters:
        n = len(encounters)
        attitude = 1 + 6 * sum(e[0] for e in encounters) / n
        behaviour = 1 + 6 * sum(e[1] for e in encounters) / n
        expertise = 1 + 6 * sum(e[2] for e in encounters) / n
    else:  # never met staff: no evidence either way, so the scale midpoint
        attitude = behaviour = expertise = 4.0
    reference = expected_wait
    if promised_wait is not None:
        reference = (1 - spec.promise_weight) * expected_wait + spec.promise_weight * promised_wait
    waiting = (
        7 - spec.wait_sensitivity * wait / reference if reference > 0
        else (7.0 if wait <= 0 else 1.0)
    )
    social = spec.crowding_base - spec.crowding_sensitivity * max(
        0, present_on_arrival - spec.crowding_comfortable
    )
    valence = {
        "served": spec.valence_served,
        "recovered": spec.valence_recovered,
        "unrecovered": spec.valence_unrecovered,
        "abandoned": spec.valence_abandoned,
        "blocked": spec.valence_blocked,
    }[outcome]
    raw = (attitude, behaviour, expertise, spec.ambient, spec.design, social, waiting,
           spec.tangibles, valence)
    names = ("attitude", "behaviour", "expertise", "ambient", "design", "social", "waiting",
             "tangibles_outcome", "valence")
    sub = {name: _clip(x + h * z) for name, x, z in zip(names, raw, noise, strict=False)}
    primary = {
        p: sum(sub[s] for s in members) / len(members) for p, members in SUBDIMENSIONS.items()
    }
    w = spec.weights
    perceived = (w[0] * primary["interaction"] + w[1] * primary["environment"]
                 + w[2] * primary["outcome"]) / sum(w)
    servqual = {}
    for i, (dim, members) in enumerate(SERVQUAL_FROM_HIERARCHY.items()):
        base = sum(sub[s] for s in members) / len(members)
        servqual[dim] = _clip(base + spec.dimension_noise * noise[9 + i])
    disconfirmation = sum(servqual.values()) / 5 - sum(expectations) / 5
    satisfaction = perceived + spec.disconfirmation * disconfirmation
    if outcome == "recovered":
        satisfaction += spec.recovery_bonus
    return Experience(sub, primary, servqual, expectations, perceived, _clip(satisfaction))
