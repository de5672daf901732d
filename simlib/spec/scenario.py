"""Scenarios: what a service system is, as frozen typed objects.

A scenario describes customer classes (how they arrive, how patient they are,
their priority and path), stations (servers or a shift schedule, service
times, queue capacity and discipline), routing between stations and optional
targets. It is written as YAML (or given as the equivalent dict) and
validated completely on loading: every problem is reported as one line that
names the key path, e.g. ``stations[0].servers: must be a positive integer,
got -3``. Unknown keys are errors, so a typo never silently falls back to a
default. The format is specified in docs/scenario.md.

Once loaded, a :class:`Scenario` is immutable; variants are made with
:func:`Scenario.with_overrides` (dotted paths such as
``stations.contact.servers``), which re-validates the result.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simlib.spec.behaviour import (
    Balking,
    BatchSize,
    Retrials,
    parse_balking,
    parse_batch,
    parse_retrials,
)
from simlib.spec.distributions import Distribution, parse_distribution
from simlib.spec.economics import Economics
from simlib.spec.edits import set_path
from simlib.spec.pools import PoolSet, parse_pools, server_time, servers_at
from simlib.spec.quality import (
    FailureSpec,
    QualitySpec,
    RetentionSpec,
    StaffSpec,
    WordOfMouthSpec,
    check_carers,
    parse_blocks,
)
from simlib.spec.routing import (
    ShortestQueue,
    parse_blocking,
    parse_class_change,
    parse_shortest_queue,
    parse_system_capacity,
)
from simlib.spec.servers import parse_server_options
from simlib.spec.targets import ServiceLevelTarget
from simlib.spec.timevarying import DayToDay, Profiled, parse_day_to_day, parse_service
from simlib.spec.validation import (
    MAX_MAGNITUDE,
    ScenarioError,
    allowed_paths,
    is_integer,
    is_number,
    read_column,
    show,
    show_names,
)
from simlib.spec.validation import Node as _Node
from simlib.spec.yaml_loader import check_nesting, load_yaml

__all__ = [
    "ScenarioError",
    "RateProfile",
    "Intensity",
    "Arrivals",
    "CustomerClass",
    "Shift",
    "Station",
    "ServiceLevelTarget",
    "Scenario",
    "load_scenario",
    "parse_distribution",
    "EXIT",
]

#: Routing target meaning "leave the system".
EXIT = "exit"

#: Queue disciplines of a station without pools (``preemptive`` and ``ps``: simlib.spec.servers).
DISCIPLINES = ("fifo", "priority", "credit", "lifo", "random", "preemptive", "ps")

#: Scope name of the whole system in results; no class or station may use it.
SYSTEM = "system"

#: Tolerance for routing probabilities summing to one.
_PROB_TOL = 1e-6

#: A routing probability of leaving below this counts as no exit (docs/scenario.md#routing):
#: customers would circulate about 1/p times, which no run can simulate.
MIN_EXIT_PROBABILITY = 1e-9

#: Most rate-profile intervals over warm-up and horizon (a period too short for its horizon).
MAX_PROFILE_INTERVALS = 10_000_000


# --------------------------------------------------------------------------- specifications


@dataclass(frozen=True)
class RateProfile:
    """Piecewise-constant arrival rates.

    Rate ``i`` holds on ``[i*period, (i+1)*period)`` of observed time; the
    profile repeats when it is shorter than the horizon; the warm-up uses the
    last rate of the cycle.
    """

    #: Length of one interval, in time units.
    period: float
    #: Customers per time unit in each interval.
    rates: tuple[float, ...]

    @property
    def cycle(self) -> float:
        """Length of one full cycle of the profile."""
        return self.period * len(self.rates)

    def rate_at(self, t: float) -> float:
        """The rate at observed time ``t`` (negative ``t`` is the warm-up)."""
        if t < 0:
            return self.rates[-1]
        return self.rates[int(t // self.period) % len(self.rates)]

    def scaled(self, factor: float) -> RateProfile:
        """Every rate multiplied by ``factor``."""
        return RateProfile(self.period, tuple(factor * r for r in self.rates))

    def intensity(self, horizon: float, warmup: float = 0.0) -> Intensity:
        """The cumulative intensity of this profile over ``[-warmup, horizon]``."""
        return Intensity(self.period, self.rates, horizon, warmup)


class Intensity:
    """Cumulative arrival intensity of a rate profile, as the engine generates it.

    ``Lambda(x)`` is the expected number of arrivals in ``[0, x]`` of observed
    time (negative for ``x < 0``) and ``G(x) = int_0^x Lambda(u) du``. The
    rate is the profile's, cycling; during the warm-up ``[-warmup, 0)`` it is
    the last rate of the cycle and before the warm-up zero, exactly as
    :mod:`simlib.engine` simulates, so that analytic loads describe the
    simulated model and not an idealised one.
    """

    def __init__(self, period: float, rates: Sequence[float], horizon: float, warmup: float) -> None:
        self.period = float(period)
        n_seg = int(math.ceil(horizon / period - 1e-12)) + 1
        k = np.arange(n_seg)
        self.rates = np.asarray(rates, dtype=float)[k % len(rates)]
        self.starts = k * self.period
        lam = np.concatenate([[0.0], np.cumsum(self.rates * self.period)])
        self.lam_at = lam[:-1]
        g = np.concatenate(
            [[0.0], np.cumsum(self.lam_at * self.period + 0.5 * self.rates * self.period**2)]
        )
        self.g_at = g[:-1]
        self.r_warm = float(rates[-1])
        self.warmup = float(warmup)

    def cumulative(self, x: np.ndarray | float) -> np.ndarray:
        """``Lambda(x)``: expected arrivals in ``[0, x]`` (negative before 0)."""
        x = np.asarray(x, dtype=float)
        k = np.clip((x // self.period).astype(int), 0, len(self.starts) - 1)
        pos = self.lam_at[k] + self.rates[k] * (x - self.starts[k])
        neg = self.r_warm * np.maximum(x, -self.warmup)
        return np.where(x >= 0, pos, neg)

    def integral(self, x: np.ndarray | float) -> np.ndarray:
        """``G(x) = int_0^x Lambda(u) du``."""
        x = np.asarray(x, dtype=float)
        k = np.clip((x // self.period).astype(int), 0, len(self.starts) - 1)
        d = x - self.starts[k]
        pos = self.g_at[k] + self.lam_at[k] * d + 0.5 * self.rates[k] * d * d
        w, r = self.warmup, self.r_warm
        inside = 0.5 * r * x * x
        before = 0.5 * r * w * w - r * w * (x + w)
        neg = np.where(x >= -w, inside, before)
        return np.where(x >= 0, pos, neg)


@dataclass(frozen=True)
class Arrivals:
    """How one customer class arrives: exactly one of rate, profile, trace or interarrival."""

    #: Poisson arrival rate (customers per time unit).
    rate: float | None = None
    #: Piecewise-constant Poisson rates over the day.
    profile: RateProfile | None = None
    #: Replayed arrival times (observed time; negative values fall in the warm-up).
    trace: tuple[float, ...] | None = None
    #: (file, column) the trace was read from, for writing the scenario back.
    trace_source: tuple[str, str] | None = None
    #: Renewal arrivals: independent gaps from this distribution, drawn afresh per replication.
    interarrival: Distribution | None = None
    #: Batch sizes with ``rate`` (batches per time unit); None = one customer at a time.
    batch: BatchSize | None = None

    def mean_rate(self, horizon: float) -> float:
        """Average arrival rate (customers) over the observed horizon."""
        if self.rate is not None:
            return self.rate * (self.batch.mean if self.batch is not None else 1.0)
        if self.profile is not None:
            return float(self.profile.intensity(horizon).cumulative(horizon)) / horizon
        if self.interarrival is not None:
            return 1.0 / self.interarrival.mean
        assert self.trace is not None
        return sum(1 for t in self.trace if 0 <= t < horizon) / horizon


@dataclass(frozen=True)
class CustomerClass:
    """A customer segment."""

    name: str
    arrivals: Arrivals
    #: Time a customer is willing to wait in a queue; None = never abandons.
    patience: Distribution | None = None
    #: Smaller is served first at stations with ``discipline: priority``.
    priority: int = 0
    #: Fixed path through stations; None = enter the first station and follow routing.
    route: tuple[str, ...] | None = None
    #: Waiting-time credit (time units) at stations with ``discipline: credit``: the
    #: queue is ordered by the time joined minus the credit, ties first come first served.
    credit: float = 0.0
    #: Trying again after abandoning or being blocked (simlib.spec.behaviour); None = never.
    retrials: Retrials | None = None


@dataclass(frozen=True)
class Shift:
    """A number of servers on duty over ``[start, end)`` of observed time."""

    start: float
    end: float
    servers: int


@dataclass(frozen=True)
class Station:
    """A service step: servers, a queue and service times."""

    name: str
    #: Constant number of servers (None when ``shifts`` is given or the station is infinite).
    servers: int | None
    #: Shift schedule (None when ``servers`` is given).
    shifts: tuple[Shift, ...] | None
    #: Service time by class name (the same object for every class when not per class).
    service: Mapping[str, Distribution] = field(repr=False)
    #: True when the scenario gave service times per class.
    service_per_class: bool = False
    #: Most customers waiting; None = unlimited. An arrival finding it full is blocked.
    queue_capacity: int | None = None
    #: ``fifo``, ``priority`` (non-preemptive), ``credit`` (ordered by time joined
    #: minus the class's credit, non-preemptive), ``lifo`` (the last to join is served
    #: first, non-preemptive), ``random`` (a waiting customer chosen at random),
    #: ``preemptive`` (priority with pre-emption, see ``preemption``) or ``ps``
    #: (processor sharing); simlib.spec.servers describes the last two.
    discipline: str = "fifo"
    #: Agent pools and routing policies (simlib.spec.pools); None = one group of servers.
    #: With pools, ``servers``/``shifts`` are the pools' totals and ``service`` is each
    #: class's primary pool's.
    pools: PoolSet | None = None
    #: ``servers: inf``: an infinite-server (self-service) station, every arrival served at
    #: once; no servers are scheduled (server time 0, utilization NaN) and nobody queues.
    infinite: bool = False
    #: Join probabilities by the number waiting (simlib.spec.behaviour); None = all join.
    balking: Balking | None = None
    #: With ``discipline: preemptive``: ``resume``, ``restart`` or ``resample``; else None.
    preemption: str | None = None
    #: One speed per server (a requirement x takes x / speed); None = every server speed 1.
    speeds: tuple[float, ...] | None = None
    #: ``{class: {class: probability}}``: the class a customer continues as after its service
    #: here (simlib.spec.routing); None = every class keeps its class.
    class_change: Mapping[str, Mapping[str, float]] | None = None
    #: Route to the listed station with the fewest customers instead of a routing table
    #: (simlib.spec.routing); None = the routing table.
    join_shortest_queue: ShortestQueue | None = None
    #: What the station does when full with a customer routed to it from another station:
    #: ``loss`` (turned away) or ``after_service`` (held on its upstream server,
    #: simlib.spec.routing).
    blocking: str = "loss"

    def servers_at(self, t: float) -> int:
        """Servers scheduled at observed time ``t`` (the warm-up uses the first shift; 0 when infinite)."""
        if self.infinite:
            return 0
        return servers_at(self.servers, self.shifts, t)

    def server_time(self, start: float, end: float) -> float:
        """Server-time scheduled over ``[start, end)`` of observed time (0 when infinite)."""
        if self.infinite:
            return 0.0
        return server_time(self.servers, self.shifts, start, end)

    @property
    def max_servers(self) -> int:
        """The largest number of servers ever scheduled (0 when infinite)."""
        if self.infinite:
            return 0
        if self.shifts is None:
            assert self.servers is not None
            return self.servers
        return max(s.servers for s in self.shifts)


@dataclass(frozen=True)
class Scenario:
    """A validated service system; build it with :func:`load_scenario`."""

    name: str
    classes: tuple[CustomerClass, ...]
    stations: tuple[Station, ...]
    #: Observed length of one replication, in time units.
    horizon: float
    #: Simulated before observation and excluded from statistics.
    warmup: float = 0.0
    time_unit: str = "minute"
    description: str = ""
    #: station → {next station or "exit": probability}.
    routing: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    service_level: ServiceLevelTarget | None = None
    #: Quality model (simlib.spec.quality): expectations and perception parameters.
    quality: QualitySpec | None = None
    #: Staff attributes by station name.
    staff: Mapping[str, StaffSpec] = field(default_factory=dict)
    #: Service failures by station name.
    failures: Mapping[str, FailureSpec] = field(default_factory=dict)
    #: Whether and when customers come back.
    retention: RetentionSpec | None = None
    #: Word of mouth: referred and deterred new customers.
    word_of_mouth: WordOfMouthSpec | None = None
    #: Revenue and costs.
    economics: Economics | None = None
    #: Random day-level multiplier of the Poisson arrival rates (None = none).
    day_to_day: DayToDay | None = None
    #: Most customers present in the whole system at once; an arrival from outside that finds
    #: that many is blocked (None = no limit).
    system_capacity: int | None = None
    #: The validated input as a plain dict (the scenario-file form).
    source: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: Folder that relative file names in the scenario are resolved against.
    base_dir: str = field(default=".", repr=False, compare=False)
    #: Folders besides ``base_dir`` that files named in the scenario may come from.
    allow_paths: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.economics is not None and math.isnan(self.economics.hours_per_time_unit):
            # NaN: the block gave no hours_per_time_unit.
            # The engine prices server time in hours: fix the conversion for this time unit.
            object.__setattr__(self, "economics", self.economics.for_time_unit(self.time_unit))

    def station(self, name: str) -> Station:
        """The station called ``name``."""
        for s in self.stations:
            if s.name == name:
                return s
        raise KeyError(name)

    def customer_class(self, name: str) -> CustomerClass:
        """The class called ``name``."""
        for c in self.classes:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The scenario as a plain dict, as it would be written to YAML."""
        return copy.deepcopy(dict(self.source))

    def to_yaml(self) -> str:
        """The scenario as YAML text."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Scenario:
        """A validated copy with values replaced at dotted paths.

        Paths name list items by their ``name`` (or index), e.g.
        ``{"stations.contact.servers": 12, "classes.standard.arrivals.rate": 3.0}``.
        """
        data = self.to_dict()
        for path, value in overrides.items():
            set_path(data, path, value)
        try:
            return from_dict(data, base_dir=self.base_dir, default_name=self.name,
                             allow_paths=self.allow_paths)
        except ScenarioError as exc:
            given = ", ".join(f"{k}={v!r}" for k, v in overrides.items())
            raise ScenarioError(exc.path, f"{exc.problem} (with {given})") from None


# --------------------------------------------------------------------------- validation


def _file_spec(value: Any, path: str) -> tuple[Any, str | None]:
    if isinstance(value, str):
        return value, None
    node = _Node(value, path)
    node.check_keys(("file", "column"), required=("file",))
    column = node.string("column") if node.has("column") else None
    return node.value["file"], column


def _parse_arrivals(value: Any, path: str, base_dir: str, warmup: float) -> Arrivals:
    node = _Node(value, path)
    kinds = ("rate", "profile", "trace", "interarrival")
    node.check_keys((*kinds, "batch"))
    given = [k for k in kinds if k in value]
    if len(given) != 1:
        raise ScenarioError(path, "give exactly one of rate, profile, trace, interarrival")
    if "batch" in value and "rate" not in value:
        raise ScenarioError(node.sub("batch"), "is allowed only with rate")
    if "interarrival" in value:
        gap = parse_distribution(value["interarrival"], node.sub("interarrival"), base_dir)
        if not gap.mean > 0:
            raise ScenarioError(node.sub("interarrival"), f"must have a positive mean, got {gap.mean:g}")
        return Arrivals(interarrival=gap)
    if "rate" in value:
        batch = parse_batch(value["batch"], node.sub("batch")) if "batch" in value else None
        return Arrivals(rate=node.number("rate", positive=True), batch=batch)
    if "profile" in value:
        prof = _Node(value["profile"], node.sub("profile"))
        prof.check_keys(("period", "rates"), required=("period", "rates"))
        period = prof.number("period", positive=True)
        rates = value["profile"]["rates"]
        if not isinstance(rates, list) or not rates:
            raise ScenarioError(prof.sub("rates"), "must be a non-empty list of rates")
        for i, r in enumerate(rates):
            if not is_number(r) or not 0 <= r <= MAX_MAGNITUDE:
                raise ScenarioError(f"{prof.sub('rates')}[{i}]",
                                    f"must be a rate >= 0 (at most {MAX_MAGNITUDE:g}), got {show(r)}")
        if not any(r > 0 for r in rates):
            raise ScenarioError(prof.sub("rates"), "at least one rate must be positive")
        return Arrivals(profile=RateProfile(period, tuple(float(r) for r in rates)))
    file, column = _file_spec(value["trace"], node.sub("trace"))
    times = read_column(file, column, node.sub("trace"), base_dir)
    for i in range(1, len(times)):
        if times[i] < times[i - 1]:
            raise ScenarioError(
                node.sub("trace"),
                f"arrival times must not decrease: value {i + 1} ({times[i]}) < value {i} ({times[i - 1]})",
            )
    if times[0] < -warmup:
        raise ScenarioError(
            node.sub("trace"), f"first arrival {times[0]} is before the warm-up starts ({-warmup})"
        )
    return Arrivals(trace=tuple(times), trace_source=(file, column or "time"))


def _parse_shifts(value: Any, path: str, horizon: float) -> tuple[Shift, ...]:
    if not isinstance(value, list) or not value:
        raise ScenarioError(path, f"must be a non-empty list of shifts, got {show(value)}")
    shifts: list[Shift] = []
    for i, raw in enumerate(value):
        node = _Node(raw, f"{path}[{i}]")
        node.check_keys(("start", "end", "servers"), required=("start", "end", "servers"))
        start = node.number("start", minimum=0)
        end = node.number("end", positive=True)
        servers = node.integer("servers", minimum=0)
        if end <= start:
            raise ScenarioError(node.sub("end"), f"must be after start ({start}), got {end}")
        if i == 0 and start != 0:
            raise ScenarioError(node.sub("start"), f"the first shift must start at 0, got {start}")
        if i > 0:
            prev = shifts[-1].end
            if start < prev:
                raise ScenarioError(
                    node.sub("start"), f"overlaps the previous shift, which ends at {prev}"
                )
            if start > prev:
                raise ScenarioError(
                    node.sub("start"), f"leaves a gap after the previous shift, which ends at {prev}"
                )
        shifts.append(Shift(start, end, servers))
    if shifts[-1].end < horizon:
        raise ScenarioError(
            path, f"shifts end at {shifts[-1].end}, before the horizon {horizon}"
        )
    if not any(s.servers > 0 for s in shifts):
        raise ScenarioError(path, "at least one shift must have servers")
    return tuple(shifts)


def _reachable(
    first: str, routing: Mapping[str, Mapping[str, float]]
) -> set[str]:
    seen = {first}
    stack = [first]
    while stack:
        for nxt, p in routing.get(stack.pop(), {}).items():
            if nxt != EXIT and p > 0 and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _check_grid(path: str, period: float, span: float) -> None:
    """Refuse a time grid (a profile's or day_to_day's period) with too many cells in ``span``.

    The engine and planning walk such grids cell by cell over the run.
    """
    if span / period > MAX_PROFILE_INTERVALS:
        raise ScenarioError(path, f"{period:g} is too short: warm-up and horizon span "
                                  f"{span / period:.3g} intervals (at most {MAX_PROFILE_INTERVALS:,})")


def _pooled_station(
    raw: Mapping[str, Any],
    node: _Node,
    class_names: Sequence[str],
    visitors: set[str],
    discipline: str,
    horizon: float,
    base_dir: str,
) -> Station:
    """A station with agent pools (simlib.spec.pools): totals and primary services derived."""
    pools = parse_pools(
        raw, node.path, class_names, visitors, discipline, parse_distribution,
        lambda value, path: _parse_shifts(value, path, horizon), base_dir,
    )
    schedule = pools.schedule()
    shifts = None if schedule is None else tuple(Shift(a, b, n) for a, b, n in schedule)
    service = {k: pools.pool(pol.pools[0]).service[k] for k, pol in pools.policies.items()}
    per_class = len(pools.pools) > 1 or pools.pools[0].service_per_class
    queue_capacity = node.integer("queue_capacity", minimum=0) if node.has("queue_capacity") else None
    return Station(
        raw["name"], pools.servers, shifts, service, per_class, queue_capacity, discipline, pools
    )


def _name(node: _Node) -> str:
    name = node.string("name")
    if name != name.strip() or not name.isprintable():
        # "system " would look like the reserved scope "system" in every table.
        raise ScenarioError(node.sub("name"), f"must not start or end with spaces or hold control "
                                              f"characters, got {show(name)}")
    return name


def from_dict(data: Any, base_dir: str = ".", default_name: str = "scenario",
              allow_paths: Sequence[str | os.PathLike[str]] = ()) -> Scenario:
    """Validate a scenario dict and build the :class:`Scenario`.

    Files it names are resolved against ``base_dir`` and must lie inside it or
    inside one of the ``allow_paths`` folders
    (:func:`simlib.spec.validation.resolve_file`).
    """
    check_nesting(data)
    folders = tuple(str(Path(p).resolve()) for p in allow_paths)
    with allowed_paths(folders):
        scenario = _from_dict(data, base_dir, default_name)
    object.__setattr__(scenario, "allow_paths", folders)
    return scenario


def _from_dict(data: Any, base_dir: str, default_name: str) -> Scenario:
    if not isinstance(data, Mapping):
        raise ScenarioError(
            "", f"a scenario must be a mapping of keys (name, horizon, classes, stations, ...), got {show(data)}"
        )
    top = _Node(data, "")
    top.check_keys(
        (
            "name",
            "description",
            "time_unit",
            "horizon",
            "warmup",
            "classes",
            "stations",
            "routing",
            "targets",
            "quality",
            "staff",
            "failures",
            "retention",
            "word_of_mouth",
            "economics",
            "day_to_day",
            "system_capacity",
        ),
        required=("horizon", "classes", "stations"),
    )
    name = top.string("name") if "name" in data else default_name
    description = data.get("description", "") or ""
    if not isinstance(description, str):
        raise ScenarioError("description", "must be text")
    time_unit = top.string("time_unit") if "time_unit" in data else "minute"
    horizon = top.number("horizon", positive=True)
    warmup = top.number("warmup", minimum=0) if "warmup" in data else 0.0

    raw_stations = data["stations"]
    if not isinstance(raw_stations, list) or not raw_stations:
        raise ScenarioError("stations", "must be a non-empty list of stations")
    station_names: list[str] = []
    for i, raw in enumerate(raw_stations):
        node = _Node(raw, f"stations[{i}]")
        sname = _name(node)
        if sname == EXIT:
            raise ScenarioError(node.sub("name"), f"{EXIT!r} is reserved for leaving the system")
        if sname == SYSTEM:
            raise ScenarioError(node.sub("name"), f"{SYSTEM!r} is reserved for the whole-system scope")
        if sname in station_names:
            raise ScenarioError(node.sub("name"), f"duplicate station name {sname!r}")
        station_names.append(sname)

    raw_classes = data["classes"]
    if not isinstance(raw_classes, list) or not raw_classes:
        raise ScenarioError("classes", "must be a non-empty list of customer classes")
    classes: list[CustomerClass] = []
    for i, raw in enumerate(raw_classes):
        node = _Node(raw, f"classes[{i}]")
        node.check_keys(
            ("name", "arrivals", "patience", "priority", "route", "credit", "retrials"),
            required=("name", "arrivals"),
        )
        cname = _name(node)
        if any(c.name == cname for c in classes):
            raise ScenarioError(node.sub("name"), f"duplicate class name {cname!r}")
        if cname == SYSTEM:
            raise ScenarioError(node.sub("name"), f"{SYSTEM!r} is reserved for the whole-system scope")
        if cname in station_names:
            # Metrics are reported per scope name, so a class cannot share a station's name.
            raise ScenarioError(node.sub("name"), f"{cname!r} is already a station name")
        arrivals = _parse_arrivals(raw["arrivals"], node.sub("arrivals"), base_dir, warmup)
        if arrivals.profile is not None:
            _check_grid(node.sub("arrivals.profile.period"), arrivals.profile.period, warmup + horizon)
        patience = (
            parse_distribution(raw["patience"], node.sub("patience"), base_dir)
            if node.has("patience")
            else None
        )
        priority = 0
        if "priority" in raw:
            x = raw["priority"]
            if not is_integer(x):
                raise ScenarioError(node.sub("priority"), f"must be an integer, got {show(x)}")
            priority = int(x)
        route = None
        if node.has("route"):
            r = raw["route"]
            if not isinstance(r, list) or not r:
                raise ScenarioError(node.sub("route"), "must be a non-empty list of station names")
            for j, s in enumerate(r):
                if s not in station_names:
                    raise ScenarioError(
                        f"{node.sub('route')}[{j}]",
                        f"unknown station {show(s)} (stations: {', '.join(station_names)})",
                    )
            route = tuple(r)
        credit = node.number("credit", minimum=0) if node.has("credit") else 0.0
        retrials = None
        if node.has("retrials"):
            layered = [b for b in ("quality", "staff", "failures", "retention", "word_of_mouth",
                                   "economics") if data.get(b) is not None]
            if layered:
                raise ScenarioError(node.sub("retrials"), f"not allowed with the {layered[0]} block "
                                                          "(the quality model has no retrials)")
            retrials = parse_retrials(raw["retrials"], node.sub("retrials"), parse_distribution,
                                      base_dir)
        classes.append(CustomerClass(cname, arrivals, patience, priority, route, credit, retrials))
    class_names = [c.name for c in classes]

    routing: dict[str, dict[str, float]] = {}
    # Join-shortest-queue stations: their candidates enter the routing table with equal
    # shares, so that the reachability checks and the load estimates see them.
    shortest: dict[str, ShortestQueue] = {}
    for i, raw in enumerate(raw_stations):
        if isinstance(raw, Mapping) and raw.get("join_shortest_queue") is not None:
            jpath = f"stations[{i}].join_shortest_queue"
            if raw["name"] in (data.get("routing") or {}):
                raise ScenarioError(jpath, f"not allowed with a routing entry for {raw['name']!r} "
                                           "(give one of them)")
            shortest[raw["name"]] = parse_shortest_queue(raw["join_shortest_queue"], jpath,
                                                         station_names)
    if data.get("routing") is not None:
        rnode = _Node(data["routing"], "routing")
        for sname, targets in data["routing"].items():
            path = f"routing.{sname}"
            if sname not in station_names:
                raise ScenarioError(
                    path, f"unknown station (stations: {', '.join(station_names)})"
                )
            tnode = _Node(targets, path)
            probs: dict[str, float] = {}
            for target in targets:
                if target != EXIT and target not in station_names:
                    raise ScenarioError(
                        tnode.sub(str(target)),
                        f"unknown station (stations: {', '.join(station_names)}, or {EXIT})",
                    )
                p = tnode.number(target, minimum=0)
                if p > 1:
                    raise ScenarioError(tnode.sub(target), f"must be a probability <= 1, got {p}")
                probs[target] = p
            total = sum(probs.values())
            if abs(total - 1) > _PROB_TOL:
                raise ScenarioError(path, f"probabilities must sum to 1, got {total:g}")
            routing[sname] = probs
        del rnode
    for sname, jsq in shortest.items():
        routing[sname] = {t: 1.0 / len(jsq.among) for t in jsq.among}

    # Every station that routing can reach must have a way out, or customers
    # circulate for ever (and zero service times would stop the clock).
    can_exit = {s for s in station_names
                if s not in routing or routing[s].get(EXIT, 0) >= MIN_EXIT_PROBABILITY}
    changed = True
    while changed:
        changed = False
        for s in station_names:
            if s not in can_exit and any(p >= MIN_EXIT_PROBABILITY and t in can_exit
                                         for t, p in routing[s].items()):
                can_exit.add(s)
                changed = True
    for s in sorted(_reachable(station_names[0], routing) - can_exit):
        raise ScenarioError(f"routing.{s}", "customers routed here can never reach exit (an exit "
                                            f"probability below {MIN_EXIT_PROBABILITY:g} counts "
                                            "as none)")

    # Which stations each class can visit decides which per-class service times are needed.
    visits: dict[str, set[str]] = {s: set() for s in station_names}
    for c in classes:
        stations_of_c = (
            set(c.route) if c.route is not None else _reachable(station_names[0], routing)
        )
        for s in stations_of_c:
            visits[s].add(c.name)

    stations: list[Station] = []
    for i, raw in enumerate(raw_stations):
        node = _Node(raw, f"stations[{i}]")
        node.check_keys(
            ("name", "servers", "shifts", "service", "queue_capacity", "discipline", "pools",
             "selection", "policies", "balking", "preemption", "speeds", "class_change",
             "join_shortest_queue", "blocking"),
            required=("name",),
        )
        sname = raw["name"]
        blocking = parse_blocking(raw, node.path)
        change = None
        if node.has("class_change"):
            cpath = node.sub("class_change")
            change = parse_class_change(raw["class_change"], cpath, class_names)
            routed = [c.name for c in classes if c.route is not None]
            if routed:
                raise ScenarioError(cpath, f"not allowed when a class has a route (class "
                                           f"{routed[0]!r}): routing tables serve every class")
            layered = [b for b in ("quality", "staff", "failures", "retention", "word_of_mouth",
                                   "economics") if data.get(b) is not None]
            if layered:
                raise ScenarioError(cpath, f"not allowed with the {layered[0]} block (the quality "
                                           "model keeps a customer's class)")
        discipline = raw.get("discipline", "fifo")
        if "balking" in raw and ("pools" in raw or raw.get("servers") in ("inf", math.inf)):
            raise ScenarioError(node.sub("balking"), "not allowed with pools or servers: inf")
        balking = parse_balking(raw["balking"], node.sub("balking")) if "balking" in raw else None
        if "pools" in raw:
            for key in ("preemption", "speeds"):
                if key in raw:
                    raise ScenarioError(node.sub(key), "is not allowed with pools")
            stations.append(replace(
                _pooled_station(raw, node, class_names, visits[sname], discipline, horizon,
                                base_dir),
                class_change=change, join_shortest_queue=shortest.get(sname)))
            continue
        for key in ("selection", "policies"):
            if key in raw:
                raise ScenarioError(node.sub(key), "is allowed only with pools")
        if "service" not in raw:
            raise ScenarioError(node.sub("service"), "is required")
        if ("servers" in raw) == ("shifts" in raw):
            raise ScenarioError(node.path, "give exactly one of servers, shifts")
        infinite = raw.get("servers") in ("inf", math.inf)
        if infinite:
            servers = None
            for key in ("queue_capacity", "discipline"):
                if key in raw:
                    raise ScenarioError(node.sub(key), "not allowed with servers: inf (nobody queues)")
        else:
            servers = node.integer("servers", minimum=1) if "servers" in raw else None
        shifts = _parse_shifts(raw["shifts"], node.sub("shifts"), horizon) if "shifts" in raw else None
        service_raw = raw["service"]
        spath = node.sub("service")
        if isinstance(service_raw, Mapping) and "dist" in service_raw:
            dist = parse_service(service_raw, spath, base_dir, parse_distribution)
            service = {c: dist for c in class_names}
            per_class = False
        else:
            snode = _Node(service_raw, spath)
            service = {}
            for cname, draw in service_raw.items():
                if cname not in class_names:
                    raise ScenarioError(
                        snode.sub(str(cname)),
                        f"unknown class (classes: {show_names(class_names)}), or give one {{dist: ...}}",
                    )
                service[cname] = parse_service(draw, snode.sub(cname), base_dir, parse_distribution)
            missing = sorted(visits[sname] - set(service))
            if missing:
                raise ScenarioError(spath, f"no service time for class {missing[0]!r}, which visits this station")
            per_class = True
        queue_capacity = (
            node.integer("queue_capacity", minimum=0) if node.has("queue_capacity") else None
        )
        if discipline not in DISCIPLINES:
            raise ScenarioError(
                node.sub("discipline"), f"must be one of {', '.join(DISCIPLINES)}, got {show(discipline)}"
            )
        if discipline == "ps":
            for key in ("queue_capacity", "balking"):
                if key in raw:
                    raise ScenarioError(node.sub(key), "not allowed with discipline: ps (nobody queues)")
        preemption, speeds = parse_server_options(raw, node.path, discipline, servers, shifts is not None)
        stations.append(
            Station(sname, servers, shifts, service, per_class, queue_capacity, discipline,
                    infinite=infinite, balking=balking, preemption=preemption, speeds=speeds,
                    class_change=change, join_shortest_queue=shortest.get(sname),
                    blocking=blocking)
        )

    target = None
    if data.get("targets") is not None:
        tnode = _Node(data["targets"], "targets")
        tnode.check_keys(("service_level",))
        if tnode.has("service_level"):
            sl = _Node(data["targets"]["service_level"], "targets.service_level")
            sl.check_keys(("threshold", "target"), required=("threshold", "target"))
            threshold = sl.number("threshold", minimum=0)
            share = sl.number("target", positive=True)
            if share > 1:
                raise ScenarioError(sl.sub("target"), f"must be a share <= 1, got {share}")
            target = ServiceLevelTarget(threshold, share)

    blocks = parse_blocks(
        data, class_names, station_names, time_unit, parse_distribution, base_dir
    )
    check_carers(blocks["quality"], stations)  # continuity needs a station of nameable carers
    day_to_day = (
        parse_day_to_day(data["day_to_day"], "day_to_day", time_unit)
        if top.has("day_to_day") else None
    )
    # Service profiles and day-to-day periods are bounded as arrival profiles are.
    grids: list[tuple[str, float]] = [("day_to_day.period", day_to_day.period)] if day_to_day else []
    for i, st in enumerate(stations):
        services = [(f"stations[{i}].service", st.service)]
        if st.pools is not None:
            services += [(f"stations[{i}].pools.{pool.name}.service", pool.service)
                         for pool in st.pools.pools]
        for path, by_class in services:
            for dist in by_class.values():
                if isinstance(dist, Profiled):
                    grids.append((f"{path}.profile.period", dist.profile.period))
    for path, period in grids:
        _check_grid(path, period, warmup + horizon)

    return Scenario(
        name=name,
        classes=tuple(classes),
        stations=tuple(stations),
        horizon=horizon,
        warmup=warmup,
        time_unit=time_unit,
        description=description,
        routing=routing,
        service_level=target,
        **blocks,
        day_to_day=day_to_day,
        system_capacity=parse_system_capacity(data) if top.has("system_capacity") else None,
        source=copy.deepcopy(dict(data)),
        base_dir=base_dir,
    )


def load_scenario(source: str | os.PathLike[str] | Mapping[str, Any] | Scenario, *,
                  allow_paths: Sequence[str | os.PathLike[str]] | None = None) -> Scenario:
    """Load and validate a scenario from a YAML file, a dict, or pass a Scenario through.

    Files named in a scenario file (traces, empirical distributions) are
    resolved against the file's folder and must lie inside it, or inside one
    of the ``allow_paths`` folders. A dict is resolved against the working
    folder and, being built by the calling program, may name any file unless
    ``allow_paths`` is given.

    Raises
    ------
    ScenarioError
        With a one-line message naming the key path and the problem.
    """
    if isinstance(source, Scenario):
        return source
    if isinstance(source, Mapping):
        return from_dict(source, base_dir=os.getcwd(),
                         allow_paths=[Path(os.sep)] if allow_paths is None else allow_paths)
    path = Path(source)
    if path.is_dir():
        raise ScenarioError("", f"{path} is a directory, not a scenario file (give a .yaml file)")
    if not path.is_file():
        raise ScenarioError("", f"scenario file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("", f"{path}: not a UTF-8 text file") from None
    data = load_yaml(text, str(path))
    if data is None:
        raise ScenarioError("", f"{path} is empty")
    return from_dict(data, base_dir=str(path.parent.resolve()), default_name=path.stem,
                     allow_paths=allow_paths or ())
