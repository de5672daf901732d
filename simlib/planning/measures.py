"""Improvement measures: named, parameterised scenario transformations.

A service manager improves a system through a handful of levers
(docs/theory.md#service-management-systems): more capacity, training and
standards, pooling of queues, self-service channels, appointment systems that
smooth demand, empowered recovery and honest expectations. Each lever here is a
:class:`Measure`: a function that transforms a scenario *dict* through
documented dotted paths, plus the mechanism by which it acts and a source for
that mechanism, so no number is changed without a stated reason. Applying a
measure returns the new scenario and a change log (:class:`Change`: path, old,
new, why); measures compose by applying them in sequence (:func:`apply_measures`).

Evaluation uses common random numbers: :func:`measure_overrides` gives the
``{top-level key: value}`` overrides that :func:`simlib.compare` accepts, and
:func:`cost_benefit` simulates base and variants with the same seed and
reports paired cost differences with confidence intervals next to the
measures' own costs. :func:`tornado` varies one parameter at a time between
a low and a high value to show which matters most.

Quality effects. Training also lowers failures and raises assurance, and
expectation management changes what is promised; those act on the quality
model (issue 5: ``quality``, ``staff``, ``failures`` blocks), which
scenarios may not have. Such effects live in :data:`QUALITY_EFFECTS`, a
registry keyed by measure name, applied when the scenario has a ``quality``,
``staff`` or ``failures`` block: training raises ``staff.<station>.training``
(fewer failures through the logistic failure model, higher expertise and
assurance, faster service through ``speed_effect``); better recovery raises
``failures.<origin>.recovery_success`` for failures sent to the recovery
station; expectation management sets ``quality.expectations.promised_wait``.

References
----------
- W. Whitt (1992), "Understanding the efficiency of multi-server service
  systems", *Management Science* 38(5):708-723 (pooling, economies of scale).
- R. B. Wallace, W. Whitt (2005), "A staffing algorithm for call centers
  with skill-based routing", *M&SOM* 7(4):276-294 (a little cross-training
  gives most of the pooling benefit).
- M. L. Meuter, A. L. Ostrom, R. I. Roundtree, M. J. Bitner (2000),
  "Self-service technologies", *Journal of Marketing* 64(3):50-64.
- W. E. Sasser (1976), "Match supply and demand in service industries",
  *Harvard Business Review* 54(6):133-140; T. Cayirli, E. Veral (2003),
  "Outpatient scheduling in health care: a review of literature", *POM*
  12(4):519-549 (appointments smooth arrivals).
- S. S. Tax, S. W. Brown (1998), "Recovering and learning from service
  failure", *Sloan Management Review* 40(1):75-88; D. E. Bowen, E. E. Lawler
  (1992), "The empowerment of service workers", *Sloan Management Review*
  33(3):31-39.
- V. A. Zeithaml, L. L. Berry, A. Parasuraman (1993), "The nature and
  determinants of customer expectations of service", *JAMS* 21(1):1-12;
  D. H. Maister (1985), "The psychology of waiting lines".
- J. L. Heskett et al. (1994), "Putting the service-profit chain to work",
  *Harvard Business Review* 72(2):164-174 (training → capability → quality).
- P. S. Adler, B. Goldoftas, D. I. Levine (1999) and the learning-curve
  literature; for standard work reducing variability: M. Hammer (1990);
  here cited via the service-management system of
  docs/theory.md#service-management-systems (SOPs).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simlib.experiments.results import Comparison, Results
from simlib.experiments.runner import ScenarioLike, compare, run
from simlib.experiments.statistics import t_interval
from simlib.planning.costs import COST_COMPONENTS, Prices, prices, replication_costs
from simlib.spec.distributions import parse_distribution
from simlib.spec.edits import get_path, scale_arrivals, sum_shifts
from simlib.spec.quality import STAFF_REFERENCE
from simlib.spec.scenario import Scenario, from_dict, load_scenario
from simlib.spec.timevarying import parse_service
from simlib.spec.validation import count, fraction, non_negative, positive

__all__ = [
    "Change",
    "Measure",
    "MEASURES",
    "QUALITY_EFFECTS",
    "apply_measures",
    "cost_benefit",
    "describe_measures",
    "measure_overrides",
    "price_comparison",
    "register_measure",
    "tornado",
]

Step = str | tuple[str, Mapping[str, Any]] | Mapping[str, Any]
Transform = Callable[[dict[str, Any], Mapping[str, Any]], tuple[list["Change"], list[str]]]


@dataclass(frozen=True)
class Change:
    """One value changed by a measure.

    Attributes
    ----------
    measure : str
        Name of the measure.
    path : str
        Dotted path in the scenario dict (items by name).
    old, new : Any
        Value before and after.
    why : str
        The mechanism, in a few words.
    """

    measure: str
    path: str
    old: Any
    new: Any
    why: str


@dataclass(frozen=True)
class Measure:
    """An improvement measure: what it changes, how, why and according to whom.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"training"``.
    title : str
        Short human title.
    mechanism : str
        How the measure acts on the service system.
    source : str
        Where the mechanism is documented.
    parameters : mapping
        ``{parameter: (default, description with unit)}``.
    transform : callable
        ``f(data, params) -> (changes, notes)``; edits ``data`` in place.
    """

    name: str
    title: str
    mechanism: str
    source: str
    parameters: Mapping[str, tuple[Any, str]]
    transform: Transform = field(repr=False)

    def params(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """Defaults overridden by ``given``; unknown parameters are refused."""
        given = dict(given or {})
        unknown = set(given) - set(self.parameters)
        if unknown:
            raise ValueError(
                f"measure {self.name!r}: unknown parameter(s) {sorted(unknown)}; "
                f"allowed {sorted(self.parameters)}"
            )
        out = {k: v[0] for k, v in self.parameters.items()}
        out.update(given)
        return out


#: Registered measures by name.
MEASURES: dict[str, Measure] = {}

#: Quality-model effects by measure name: ``f(data, params) -> (changes, notes)``.
#: The quality model (issue 5) registers its effects here; each is applied
#: after the measure's own transform, only when the scenario dict has a
#: ``quality``, ``staff`` or ``failures`` block.
QUALITY_EFFECTS: dict[str, list[Transform]] = {}

_QUALITY_BLOCKS = ("quality", "staff", "failures")


def register_measure(
    name: str, title: str, mechanism: str, source: str, parameters: Mapping[str, tuple[Any, str]]
) -> Callable[[Transform], Transform]:
    """Decorator registering a transform as a :class:`Measure` in :data:`MEASURES`."""

    def wrap(func: Transform) -> Transform:
        MEASURES[name] = Measure(name, title, mechanism, source, dict(parameters), func)
        return func

    return wrap


# --------------------------------------------------------------------------- helpers


def _station(data: dict[str, Any], name: str | None, measure: str) -> dict[str, Any]:
    stations = data["stations"]
    if name is None:
        return stations[0]
    for st in stations:
        if st["name"] == name:
            return st
    names = ", ".join(s["name"] for s in stations)
    raise ValueError(f"measure {measure!r}: no station {name!r} (stations: {names})")


def _fraction(measure: str, name: str, value: Any, upper_open: bool = True) -> float:
    return fraction(f"measure {measure!r}", name, value, high_open=upper_open)


def _dists(station: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(path suffix, distribution dict) of a station's service times."""
    service = station["service"]
    if "dist" in service:
        return [("service", service)]
    return [(f"service.{cls}", d) for cls, d in service.items()]


def _scaled(dist: dict[str, Any], factor: float) -> dict[str, Any]:
    """The scenario form of ``dist`` with every duration multiplied by ``factor``."""
    if "file" in dist:
        raise ValueError("measures: cannot rescale an empirical distribution read from a file")
    return parse_service(dist, "", ".", parse_distribution).scaled(factor).to_dict()


def _less_variable(dist: dict[str, Any], reduction: float) -> dict[str, Any]:
    """The scenario form of ``dist`` with its cv cut by ``reduction``, the mean kept."""
    if "file" in dist:
        return dist  # a file's values stay as written
    return parse_service(dist, "", ".", parse_distribution).less_variable(reduction).to_dict()


def _routing_to_exit(
    data: dict[str, Any], source: str, targets: Sequence[str], reduction: float, measure: str,
    why: str,
) -> list[Change]:
    """Scale routing probabilities source→target by (1 - reduction), moving the mass to exit."""
    table = (data.get("routing") or {}).get(source)
    changes: list[Change] = []
    if not table:
        return changes
    for target in targets:
        p = table.get(target, 0.0)
        if p <= 0:
            continue
        new = p * (1.0 - reduction)
        table[target] = new
        old_exit = table.get("exit", 0.0)
        table["exit"] = old_exit + (p - new)
        changes.append(Change(measure, f"routing.{source}.{target}", p, new, why))
        changes.append(Change(measure, f"routing.{source}.exit", old_exit, table["exit"], why))
    return changes


def _class_list(data: dict[str, Any], classes: Sequence[str] | None, measure: str) -> list[dict]:
    if classes is None:
        return list(data["classes"])
    out = []
    for name in classes:
        found = [c for c in data["classes"] if c["name"] == name]
        if not found:
            raise ValueError(f"measure {measure!r}: no class {name!r}")
        out.extend(found)
    return out


# --------------------------------------------------------------------------- the measures


@register_measure(
    "add_staff",
    "Add staff",
    "More servers on duty raise capacity: utilisation falls and, because delay grows "
    "steeply near full utilisation, waits and abandonment fall faster than linearly.",
    "Erlang (1917); Halfin & Whitt (1981); Gans, Koole & Mandelbaum (2003).",
    {
        "station": (None, "station to staff (default: the first)"),
        "servers": (1, "servers added to the constant staffing or to every open shift"),
    },
)
def _add_staff(data: dict[str, Any], p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    st = _station(data, p["station"], "add_staff")
    k = count("measure 'add_staff'", "servers", p["servers"])
    why = "capacity"
    if "servers" in st:
        old = st["servers"]
        st["servers"] = old + k
        return [Change("add_staff", f"stations.{st['name']}.servers", old, old + k, why)], []
    changes = []
    for i, shift in enumerate(st["shifts"]):
        if shift["servers"] > 0:  # closed hours stay closed
            old = shift["servers"]
            shift["servers"] = old + k
            changes.append(Change("add_staff", f"stations.{st['name']}.shifts.{i}.servers",
                                  old, old + k, why))
    return changes, []


@register_measure(
    "training",
    "Training and standard work",
    "Trained staff handle a case faster (learning curve) and more uniformly "
    "(standard operating procedures cut variability, which shortens queues by the "
    "Pollaczek-Khinchine / Allen-Cunneen factor (1 + cv^2)/2), and make fewer errors, "
    "so fewer cases go to recovery. With a quality model, competence and assurance rise.",
    "Heskett et al. (1994) service-profit chain; Allen-Cunneen approximation (Allen 1990); "
    "docs/theory.md#service-management-systems (SOPs, staff training).",
    {
        "station": (None, "station whose staff are trained (default: the first)"),
        "service_time_reduction": (0.1, "relative cut in mean service time, [0, 1)"),
        "variability_reduction": (0.2, "relative cut in the service-time cv, [0, 1]"),
        "failure_reduction": (0.3, "relative cut in the routing probability to recovery, [0, 1]"),
        "recovery_stations": (None, "stations that count as failure routes "
                                    "(default: names containing 'recovery')"),
        "training_gain": (0.2, "rise of the staff training attribute (0-1 scale, capped at 1) "
                               "in scenarios with a staff or failures block"),
    },
)
def _training(data: dict[str, Any], p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    m = "training"
    st = _station(data, p["station"], m)
    r = _fraction(m, "service_time_reduction", p["service_time_reduction"])
    v = _fraction(m, "variability_reduction", p["variability_reduction"], upper_open=False)
    f = _fraction(m, "failure_reduction", p["failure_reduction"], upper_open=False)
    changes: list[Change] = []
    notes: list[str] = []
    staffed = st["name"] in (data.get("staff") or {})
    if staffed and r > 0:
        notes.append(f"training: {st['name']!r} has staff attributes, so the speed-up acts "
                     "through staff.training (speed_effect), not service_time_reduction")
    for suffix, dist in _dists(st):
        path = f"stations.{st['name']}.{suffix}"
        old = copy.deepcopy(dist)
        new = _less_variable(dist, v) if v > 0 else copy.deepcopy(dist)
        if r > 0 and not staffed:
            new = _scaled(new, 1.0 - r)
        if new != old:
            dist.clear()
            dist.update(new)
            changes.append(Change(m, path, old, new, "faster, more uniform handling"))
    recovery = p["recovery_stations"]
    if recovery is None:
        recovery = [s["name"] for s in data["stations"] if "recovery" in s["name"].lower()]
    route_changes = _routing_to_exit(data, st["name"], recovery, f, m, "fewer errors to recover")
    if f > 0 and not route_changes and st["name"] not in (data.get("failures") or {}):
        notes.append(f"training: no routing from {st['name']!r} to a recovery station; "
                     "failure reduction not applied")
    return changes + route_changes, notes


@register_measure(
    "pooling",
    "Cross-training / pooling two queues",
    "Two separate queues each with their own servers become one queue served by all "
    "(cross-trained) servers: no customer waits while a server of the other queue is "
    "idle, so the same staff give shorter waits (economies of scale). Cross-trained "
    "staff may be slower on unfamiliar work (efficiency_loss).",
    "Whitt (1992); Wallace & Whitt (2005).",
    {
        "stations": ((), "the two station names to pool"),
        "name": (None, "name of the pooled station (default: 'A+B')"),
        "efficiency_loss": (0.0, "relative increase in mean service time, >= 0"),
    },
)
def _pooling(data: dict[str, Any], p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    m = "pooling"
    names = list(p["stations"])
    if len(names) != 2 or names[0] == names[1]:
        raise ValueError(f"measure {m!r}: give stations=[A, B], two different stations")
    a, b = (_station(data, n, m) for n in names)
    routing = data.get("routing") or {}
    for n in names:
        if n in routing or any(n in t for t in routing.values()):
            raise ValueError(f"measure {m!r}: station {n!r} appears in routing; pooling "
                             "supports parallel stations reached by class routes")
    loss = non_negative(f"measure {m!r}", "efficiency_loss", p["efficiency_loss"])
    pooled_name = p["name"] or f"{names[0]}+{names[1]}"
    horizon = float(data["horizon"])
    service: dict[str, Any] = {}
    for st in (a, b):
        visitors = [c["name"] for c in data["classes"]
                    if (c.get("route") or [data["stations"][0]["name"]]).count(st["name"])]
        for cls in visitors:
            if cls in service:
                raise ValueError(f"measure {m!r}: class {cls!r} visits both stations")
            dist = st["service"] if "dist" in st["service"] else st["service"][cls]
            service[cls] = _scaled(dist, 1.0 + loss) if loss else copy.deepcopy(dist)
    pooled: dict[str, Any] = {"name": pooled_name, "service": service}
    if "servers" in a and "servers" in b:
        pooled["servers"] = a["servers"] + b["servers"]
    else:
        pooled["shifts"] = sum_shifts(a, b, horizon)
    cap_a, cap_b = a.get("queue_capacity"), b.get("queue_capacity")
    if cap_a is not None and cap_b is not None:
        pooled["queue_capacity"] = cap_a + cap_b
    if "priority" in (a.get("discipline"), b.get("discipline")):
        pooled["discipline"] = "priority"
    elif "credit" in (a.get("discipline"), b.get("discipline")):
        pooled["discipline"] = "credit"
    data["stations"] = [s for s in data["stations"] if s is not b]
    data["stations"][data["stations"].index(a)] = pooled
    for c in data["classes"]:
        if c.get("route"):
            c["route"] = [pooled_name if s in names else s for s in c["route"]]
    why = "one queue for all servers"
    return [Change(m, "stations", names, pooled_name, why)], []


@register_measure(
    "self_service",
    "Self-service channel (kiosk, app)",
    "A share of customers complete their task in a self-service channel and never join "
    "the staffed queue; the arrival rate to the staffed station falls by that share.",
    "Meuter, Ostrom, Roundtree & Bitner (2000).",
    {
        "share": (0.2, "share of demand deflected, [0, 1)"),
        "classes": (None, "classes that can use self-service (default: all)"),
    },
)
def _self_service(data: dict[str, Any], p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    m = "self_service"
    share = _fraction(m, "share", p["share"])
    changes = []
    for c in _class_list(data, p["classes"], m):
        scaled = scale_arrivals(c["arrivals"], 1 - share)
        if scaled is not None:
            key, old, new = scaled
            changes.append(Change(m, f"classes.{c['name']}.arrivals.{key}", old, new,
                                  "demand deflected"))
        else:
            raise ValueError(f"measure {m!r}: class {c['name']!r} replays a trace; give a rate or profile")
    return changes, []


@register_measure(
    "demand_smoothing",
    "Appointment scheduling / demand smoothing",
    "Appointments, reservations and off-peak incentives move arrivals from peak to "
    "off-peak intervals; total demand is kept, each open interval's rate (rate > 0) "
    "moves towards the mean over the open intervals by `share`, so peak staffing falls. "
    "Closed intervals (rate 0: nights, weekends) stay closed: no appointments are "
    "booked when nobody is there to serve them.",
    "Sasser (1976); Cayirli & Veral (2003).",
    {
        "share": (0.5, "how far each rate moves towards the mean, [0, 1]"),
        "classes": (None, "classes that take appointments (default: all)"),
    },
)
def _demand_smoothing(data: dict[str, Any], p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    m = "demand_smoothing"
    share = _fraction(m, "share", p["share"], upper_open=False)
    changes, notes = [], []
    for c in _class_list(data, p["classes"], m):
        arr = c["arrivals"]
        if "profile" not in arr:
            notes.append(f"demand_smoothing: class {c['name']!r} has a constant rate; nothing to smooth")
            continue
        old = list(arr["profile"]["rates"])
        # Only open intervals share the demand: the mean over all intervals would move
        # arrivals into closed hours (nights, weekends) that have no servers. The
        # intervals are equally long, so the mean over the open ones keeps the total.
        open_rates = [r for r in old if r > 0]
        mean = float(np.mean(open_rates)) if open_rates else 0.0
        arr["profile"]["rates"] = [r - share * (r - mean) if r > 0 else r for r in old]
        changes.append(Change(m, f"classes.{c['name']}.arrivals.profile.rates", old,
                              arr["profile"]["rates"], "peaks moved off-peak"))
    return changes, notes


@register_measure(
    "better_recovery",
    "Better recovery (empowered front line)",
    "Front-line staff empowered to fix failures on the spot resolve them faster (no "
    "escalation) and resolve more of them for good (less rework): the recovery station's "
    "service time falls and its routing back into production shifts to exit.",
    "Tax & Brown (1998); Bowen & Lawler (1992); Hart, Heskett & Sasser (1990).",
    {
        "station": ("recovery", "the recovery station"),
        "service_time_reduction": (0.3, "relative cut in recovery service time, [0, 1)"),
        "rework_reduction": (0.5, "relative cut in the probability of rework after recovery, [0, 1]"),
        "success_gain": (0.5, "share of the remaining gap to certain recovery closed "
                              "(failures blocks that send failures to this station)"),
    },
)
def _better_recovery(data: dict[str, Any], p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    m = "better_recovery"
    st = _station(data, p["station"], m)
    r = _fraction(m, "service_time_reduction", p["service_time_reduction"])
    w = _fraction(m, "rework_reduction", p["rework_reduction"], upper_open=False)
    changes = []
    for suffix, dist in _dists(st):
        old = copy.deepcopy(dist)
        new = _scaled(dist, 1.0 - r)
        if new != old:
            dist.clear()
            dist.update(new)
            changes.append(Change(m, f"stations.{st['name']}.{suffix}", old, copy.deepcopy(dist),
                                  "decided on the spot"))
    table = (data.get("routing") or {}).get(st["name"], {})
    rework = [t for t in table if t not in ("exit", st["name"])]
    changes += _routing_to_exit(data, st["name"], rework, w, m, "resolved for good")
    return changes, []


@register_measure(
    "expectation_management",
    "Expectation management (what is promised)",
    "Communicating realistic waits (gap 4 of the gap model) lowers the expectation "
    "against which service is judged; announced, explained waits feel shorter and are "
    "abandoned less. Acts on the quality model's expectations; optionally on patience.",
    "Zeithaml, Berry & Parasuraman (1993); Maister (1985); PZB (1985) gap 4.",
    {
        "promised_wait": (None, "wait promised to customers, time units (quality model)"),
        "patience_change": (0.0, "relative change in mean patience from announcing waits, > -1"),
        "classes": (None, "classes addressed (default: all)"),
    },
)
def _expectation_management(
    data: dict[str, Any], p: Mapping[str, Any]
) -> tuple[list[Change], list[str]]:
    m = "expectation_management"
    changes, notes = [], []
    k = p["patience_change"]
    if not isinstance(k, int | float) or k <= -1:
        raise ValueError(f"measure {m!r}: patience_change must be > -1, got {k!r}")
    if k:
        for c in _class_list(data, p["classes"], m):
            if c.get("patience"):
                old = copy.deepcopy(c["patience"])
                c["patience"] = _scaled(c["patience"], 1.0 + k)
                changes.append(Change(m, f"classes.{c['name']}.patience", old,
                                      copy.deepcopy(c["patience"]), "waits announced"))
    if "quality" not in data:
        notes.append("expectation_management: the scenario has no quality block, so "
                     "expectations are not modelled; only patience_change (if any) applies")
    return changes, notes


# --------------------------------------------------------------------------- quality effects
# How the measures act on the quality model (simlib.spec.quality) when a scenario has one.


def _training_quality(data: dict[str, Any], p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    m = "training"
    st = _station(data, p["station"], m)
    gain = _fraction(m, "training_gain", p["training_gain"], upper_open=False)
    name = st["name"]
    staff = data.setdefault("staff", {})
    entry = staff.setdefault(name, {})
    old = entry.get("training", STAFF_REFERENCE)
    new = min(1.0, old + gain)
    if new == old:
        return [], []
    entry["training"] = new
    return [Change(m, f"staff.{name}.training", old, new,
                   "trained staff: faster, fewer failures (logistic model), higher expertise "
                   "and assurance")], []


def _recovery_quality(data: dict[str, Any], p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    m = "better_recovery"
    st = _station(data, p["station"], m)
    gain = _fraction(m, "success_gain", p["success_gain"], upper_open=False)
    changes = []
    for origin, block in (data.get("failures") or {}).items():
        if block.get("to") != st["name"]:
            continue
        old = block.get("recovery_success", 0.8)
        new = old + gain * (1 - old)
        if new != old:
            block["recovery_success"] = new
            changes.append(Change(m, f"failures.{origin}.recovery_success", old, new,
                                  "empowered staff resolve more failures for good"))
    return changes, []


def _expectation_quality(data: dict[str, Any], p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    m = "expectation_management"
    promised = p["promised_wait"]
    quality = data.get("quality")
    if promised is None or quality is None:
        return [], ([] if quality is None else [
            "expectation_management: no promised_wait given, so the promise is unchanged"])
    positive(f"measure {m!r}", "promised_wait", promised)
    expectations = quality.setdefault("expectations", {})
    flat = not expectations or any(
        k in expectations for k in ("expected_wait", "promised_wait", "reliability", "empathy")
    )
    targets = [("quality.expectations", expectations)] if flat else [
        (f"quality.expectations.{c}", block) for c, block in expectations.items()
        if p["classes"] is None or c in p["classes"]
    ]
    changes = []
    for path, block in targets:
        old = block.get("promised_wait")
        block["promised_wait"] = float(promised)
        changes.append(Change(m, f"{path}.promised_wait", old, float(promised),
                              "customers hold service to what is promised (gap 4)"))
    return changes, []


QUALITY_EFFECTS["training"] = [_training_quality]
QUALITY_EFFECTS["better_recovery"] = [_recovery_quality]
QUALITY_EFFECTS["expectation_management"] = [_expectation_quality]


# --------------------------------------------------------------------------- applying


def _parse_step(step: Step) -> tuple[Measure, dict[str, Any]]:
    if isinstance(step, str):
        name, params = step, {}
    elif isinstance(step, tuple) and len(step) == 2:
        name, params = step[0], dict(step[1] or {})
    elif isinstance(step, Mapping) and "measure" in step:
        params = {k: v for k, v in step.items() if k != "measure"}
        name = step["measure"]
    else:
        raise ValueError(f"measures: a step is a name, (name, params) or {{measure: name, ...}}, got {step!r}")
    if name not in MEASURES:
        raise ValueError(f"measures: unknown measure {name!r} (known: {', '.join(sorted(MEASURES))})")
    measure = MEASURES[name]
    return measure, measure.params(params)


def apply_measures(
    scenario: ScenarioLike, steps: Step | Sequence[Step]
) -> tuple[Scenario, list[Change], list[str]]:
    """Apply measures in order and validate the result.

    Parameters
    ----------
    scenario : Scenario, mapping or path
    steps : step or sequence of steps
        Each step is a measure name, ``(name, {param: value})`` or
        ``{"measure": name, param: value}``.

    Returns
    -------
    scenario : Scenario
        The transformed, validated scenario.
    changes : list of Change
        Every value changed, in order.
    notes : list of str
        What was not applied and why (e.g. no quality block).
    """
    scn = load_scenario(scenario)
    if isinstance(steps, str | tuple) or (isinstance(steps, Mapping)):
        steps = [steps]
    data = scn.to_dict()
    changes: list[Change] = []
    notes: list[str] = []
    for step in steps:
        measure, params = _parse_step(step)
        c, n = measure.transform(data, params)
        changes += c
        notes += n
        effects = QUALITY_EFFECTS.get(measure.name, [])
        if effects and any(b in data for b in _QUALITY_BLOCKS):
            for effect in effects:
                c, n = effect(data, params)
                changes += c
                notes += n
    new = from_dict(data, base_dir=scn.base_dir, default_name=scn.name,
                    allow_paths=scn.allow_paths)
    return new, changes, notes


def measure_overrides(scenario: ScenarioLike, steps: Step | Sequence[Step]) -> dict[str, Any]:
    """Top-level ``{key: value}`` overrides equivalent to the measures (for :func:`simlib.compare`)."""
    scn = load_scenario(scenario)
    return _overrides(scn, apply_measures(scn, steps)[0])


def _overrides(base: Scenario, new: Scenario) -> dict[str, Any]:
    """Top-level ``{key: value}`` overrides that turn ``base`` into ``new``."""
    before, after = base.to_dict(), new.to_dict()
    return {k: v for k, v in after.items() if before.get(k) != v}


def describe_measures(names: Sequence[str] | None = None) -> pd.DataFrame:
    """The registry as a table: ``measure, title, mechanism, source, parameters``."""
    rows = []
    for name in names or sorted(MEASURES):
        m = MEASURES[name]
        params = "; ".join(f"{k}={v[0]!r}: {v[1]}" for k, v in m.parameters.items())
        rows.append((m.name, m.title, m.mechanism, m.source, params))
    return pd.DataFrame(rows, columns=["measure", "title", "mechanism", "source", "parameters"])


def cost_benefit(
    scenario: ScenarioLike | Results,
    variants: Mapping[str, Step | Sequence[Step]],
    costs: Prices = None,
    replications: int = 20,
    seed: int = 0,
    *,
    investment: Mapping[str, float] | None = None,
    jobs: int | None = 1,
    level: float = 0.95,
) -> pd.DataFrame:
    """Operating cost of each variant against the base, with paired intervals.

    Base and variants run in one :func:`simlib.compare` with the same seed
    (common random numbers: the same arrivals and service requirements in
    replication ``r`` wherever the streams' owners are unchanged), so the
    saving's interval is paired; :func:`price_comparison` prices it.

    Parameters
    ----------
    scenario : Scenario, mapping, path or Results
        The base; a run of it (``Results`` with ``seed``) is used as it is.
    variants : mapping
        ``{name: steps}`` (see :func:`apply_measures`).
    costs : Economics, mapping or None
        Prices (:class:`simlib.spec.economics.Economics`); None: the base
        scenario's ``economics`` block.
    replications, seed : int
    investment : mapping, optional
        ``{name: cost of the measures per observed horizon}`` (e.g. training
        cost per day); subtracted from the saving.
    jobs : int or None, default 1
    level : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        As :func:`price_comparison`.
    """
    base = scenario.scenario if isinstance(scenario, Results) else load_scenario(scenario)
    c = prices(base, costs)
    _check_investment(investment, variants)
    if "base" in variants:
        raise ValueError("cost_benefit: 'base' is reserved for the base scenario")
    overrides = {name: measure_overrides(base, steps) for name, steps in variants.items()}
    comparison = compare(scenario if isinstance(scenario, Results) else base, overrides,
                         replications, seed, jobs=jobs, progress=False)
    return price_comparison(comparison, c, investment=investment, level=level)


def _check_investment(investment: Mapping[str, float] | None, variants: Mapping[str, Any]) -> None:
    unknown = set(investment or {}) - set(variants)
    if unknown:
        raise ValueError(f"cost_benefit: investment for unknown variant(s) {sorted(unknown)}")


def price_comparison(
    comparison: Comparison,
    costs: Prices = None,
    *,
    investment: Mapping[str, float] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Operating cost of each variant of a comparison that has run already; nothing is simulated.

    Parameters
    ----------
    comparison : Comparison
        A :func:`simlib.compare` (e.g. of :func:`measure_overrides` variants).
    costs : Economics, mapping or None
        Prices; None: the base scenario's ``economics`` block.
    investment : mapping, optional
        ``{variant: cost of the measures per observed horizon}``; subtracted
        from the saving.
    level : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        One row per scenario (``base`` first): ``variant``, mean cost
        components per horizon, ``service_level`` (if targeted),
        ``mean_wait``, ``p_abandon``, ``saving`` with ``saving_low``,
        ``saving_high`` (base total - variant total, paired), ``investment``
        and ``net_benefit`` (saving - investment).
    """
    _check_investment(investment, comparison.variants)
    c = prices(comparison.base.scenario, costs)
    investment = dict(investment or {})
    runs = {"base": comparison.base, **comparison.variants}
    per_rep = {name: replication_costs(res, c) for name, res in runs.items()}
    base_total = per_rep["base"]["total"].to_numpy()
    rows = []
    for name, res in runs.items():
        metrics = res.summary().query("scope == 'system'").set_index("metric")["mean"]
        row: dict[str, Any] = {"variant": name}
        for comp in COST_COMPONENTS:
            row[comp] = float(per_rep[name][comp].mean())
        for metric in ("service_level", "mean_wait", "p_abandon"):
            if metric in metrics:
                row[metric] = float(metrics[metric])
        iv = t_interval(base_total - per_rep[name]["total"].to_numpy(), level)
        row["saving"], row["saving_low"], row["saving_high"] = iv.mean, iv.ci_low, iv.ci_high
        if name == "base":
            row["saving_low"] = row["saving_high"] = 0.0
        row["investment"] = float(investment.get(name, 0.0))
        row["net_benefit"] = row["saving"] - row["investment"]
        rows.append(row)
    return pd.DataFrame(rows)


def _factor_scenario(base: Scenario, spec: Mapping[str, Any], value: Any) -> Scenario:
    if "measure" in spec:
        return apply_measures(base, (spec["measure"], {**spec.get("params", {}),
                                                        spec["parameter"]: value}))[0]
    path = spec["path"]
    if spec.get("scale"):
        current = get_path(base.to_dict(), path)
        value = [v * value for v in current] if isinstance(current, list) else current * value
    return base.with_overrides({path: value})


def tornado(
    scenario: ScenarioLike | Results,
    factors: Mapping[str, Mapping[str, Any]],
    quantity: str = "total",
    *,
    costs: Prices = None,
    replications: int = 20,
    seed: int = 0,
    jobs: int | None = 1,
) -> pd.DataFrame:
    """One-at-a-time sensitivity of a result to each factor (data for a tornado chart).

    Parameters
    ----------
    scenario : Scenario, mapping, path or Results
        The base; a run of it (``Results`` with ``seed``) is used as it is.
    factors : mapping
        ``{label: spec}``; spec is ``{"path": dotted.path, "low": x, "high":
        y}`` (values; with ``"scale": True`` they multiply the current value,
        lists element-wise) or ``{"measure": name, "parameter": p, "low": x,
        "high": y, "params": {...}}`` (a measure applied at both values).
    quantity : str, default "total"
        A cost component (needs ``costs``) or a metric, ``"metric"`` (system
        scope) or ``"scope.metric"``.
    costs : Economics or mapping, optional
        Prices of a cost quantity; default: the scenario's ``economics`` block.
    replications, seed, jobs
        As in :func:`simlib.compare`; every scenario runs with the same seed,
        and each distinct scenario is simulated once.

    Returns
    -------
    pandas.DataFrame
        ``factor, low, high, base, at_low, at_high, swing`` sorted by
        ``swing = |at_high - at_low|``, largest first.
    """
    given: Results | None = None
    if isinstance(scenario, Results):
        given, base = scenario, scenario.scenario
    else:
        base = load_scenario(scenario)
    is_cost = quantity in COST_COMPONENTS
    if is_cost and costs is None and base.economics is None:
        raise ValueError(f"tornado: quantity {quantity!r} is a cost; pass costs=")
    c = prices(base, costs) if is_cost else None
    scope, metric = quantity.split(".", 1) if "." in quantity else ("system", quantity)

    # Every distinct scenario is simulated once, all in one comparison with the base:
    # a low or high value equal to the base's, or two factors meeting, cost nothing.
    names: dict[str, list[str]] = {}  # factor -> [name of its low, name of its high]
    variants: dict[str, dict[str, Any]] = {}
    for label, spec in factors.items():
        if "low" not in spec or "high" not in spec:
            raise ValueError(f"tornado: factor {label!r} needs low and high")
        names[label] = []
        for end in ("low", "high"):
            o = _overrides(base, _factor_scenario(base, spec, spec[end]))
            name = next((n for n, v in variants.items() if v == o), None)
            if name is None and o:
                name = f"{label}: {end}"
                variants[name] = o
            names[label].append(name or "base")
    if variants:
        comparison = compare(given if given is not None else base, variants, replications, seed,
                             jobs=jobs, progress=False)
        runs = {"base": comparison.base, **comparison.variants}
    else:
        runs = {"base": given if given is not None else run(base, replications, seed, jobs=jobs,
                                                              progress=False)}

    def value(res: Results) -> float:
        if is_cost:
            return float(replication_costs(res, c)[quantity].mean())
        values = [r[scope][metric] for r in res.runs]
        return float(np.nanmean(values))

    at = {name: value(res) for name, res in runs.items()}
    rows = []
    for label, spec in factors.items():
        lo, hi = (at[n] for n in names[label])
        rows.append((label, spec["low"], spec["high"], at["base"], lo, hi, abs(hi - lo)))
    out = pd.DataFrame(rows, columns=["factor", "low", "high", "base", "at_low", "at_high", "swing"])
    return out.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
