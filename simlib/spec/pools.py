"""Agent pools: multi-skill routing at a station, as frozen typed objects.

A contact centre rarely has one kind of agent. A station may instead have
*pools* of agents (a generalist pool, a specialist pool, ...), each with its
own number of agents (or shift schedule) and its own service time per class
it is trained for. Each class has a *routing policy*: the pools it may use,
in order of preference, and an overflow delay ``overflow_after``: a call
first waits for its primary (first listed) pool only, and once it has waited
that long any listed pool may take it (0: any listed pool at once). A pool's
*skills* are the classes whose policy lists it.

Which free agent takes a call is the station's ``selection`` rule:
``pool_order`` (the first listed pool with a free agent) or ``longest_idle``
(the agent idle the longest among the pools the call may use, ties to the
listed order). When an agent frees, it takes the waiting call it may serve
that comes first by the station's discipline (FIFO: the longest waiting
across the classes it is eligible for; priority: the smallest priority,
then FIFO).

This module validates the ``pools``/``selection``/``policies`` keys of a
station (one-line :class:`~simlib.spec.validation.ScenarioError` naming the
key path) and builds the :class:`PoolSet`; :mod:`simlib.spec.scenario` calls
:func:`parse_pools` and stores the result on the station, and
:mod:`simlib.engine.pools` simulates it. The format is in docs/scenario.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from simlib.spec.distributions import Distribution
from simlib.spec.validation import Node, ScenarioError, show, show_names

__all__ = [
    "SELECTIONS",
    "POOL_DISCIPLINES",
    "ShiftLike",
    "Pool",
    "RoutingPolicy",
    "PoolSet",
    "parse_pools",
    "pool_scope",
    "servers_at",
    "server_time",
]

#: Server-selection rules: which free agent takes a call.
SELECTIONS = ("longest_idle", "pool_order")

#: Queue disciplines a pooled station supports.
POOL_DISCIPLINES = ("fifo", "priority")


class ShiftLike(Protocol):
    """A number of servers over ``[start, end)`` (:class:`simlib.spec.scenario.Shift`)."""

    @property
    def start(self) -> float: ...

    @property
    def end(self) -> float: ...

    @property
    def servers(self) -> int: ...


def servers_at(servers: int | None, shifts: Sequence[ShiftLike] | None, t: float) -> int:
    """Servers scheduled at observed time ``t``: constant ``servers``, or by ``shifts``.

    The warm-up (``t < 0``) uses the first shift; after the last shift ends its servers stay.
    """
    if shifts is None:
        assert servers is not None
        return servers
    if t < 0:
        return shifts[0].servers
    for s in shifts:
        if s.start <= t < s.end:
            return s.servers
    return shifts[-1].servers


def server_time(servers: int | None, shifts: Sequence[ShiftLike] | None, start: float, end: float) -> float:
    """Server-time scheduled over ``[start, end)`` of observed time."""
    if shifts is None:
        assert servers is not None
        return servers * (end - start)
    return sum(s.servers * max(0.0, min(s.end, end) - max(s.start, start)) for s in shifts)


def pool_scope(station: str, pool: str) -> str:
    """The results scope of a pool: ``station/pool``."""
    return f"{station}/{pool}"


@dataclass(frozen=True)
class Pool:
    """A group of agents with the same skills and service times."""

    name: str
    #: Constant number of agents (None when ``shifts`` is given).
    servers: int | None
    #: Shift schedule (None when ``servers`` is given).
    shifts: tuple[ShiftLike, ...] | None
    #: Service time by class name, for the classes this pool serves (its skills).
    service: Mapping[str, Distribution] = field(repr=False)
    #: True when the scenario gave this pool's service times per class.
    service_per_class: bool = False

    def servers_at(self, t: float) -> int:
        """Agents scheduled at observed time ``t`` (the warm-up uses the first shift)."""
        return servers_at(self.servers, self.shifts, t)

    def server_time(self, start: float, end: float) -> float:
        """Agent-time scheduled over ``[start, end)`` of observed time."""
        return server_time(self.servers, self.shifts, start, end)


@dataclass(frozen=True)
class RoutingPolicy:
    """Which pools a class may use, in order, and when it may overflow."""

    #: Pool names, primary first.
    pools: tuple[str, ...]
    #: Time a call waits for its primary pool before any listed pool may take it (0: at once).
    overflow_after: float = 0.0


@dataclass(frozen=True)
class PoolSet:
    """The agent pools of a station, the class policies and the selection rule."""

    pools: tuple[Pool, ...]
    #: Class name -> policy, for every class that can visit the station.
    policies: Mapping[str, RoutingPolicy]
    #: ``longest_idle`` or ``pool_order``.
    selection: str = "longest_idle"

    def pool(self, name: str) -> Pool:
        """The pool called ``name``."""
        for p in self.pools:
            if p.name == name:
                return p
        raise KeyError(name)

    def skills(self, pool: str) -> tuple[str, ...]:
        """The classes whose policy lists ``pool``, in policy order."""
        return tuple(k for k, pol in self.policies.items() if pool in pol.pools)

    @property
    def servers(self) -> int | None:
        """Total constant agents, None when a pool works shifts."""
        if any(p.servers is None for p in self.pools):
            return None
        return sum(p.servers for p in self.pools if p.servers is not None)

    def schedule(self) -> list[tuple[float, float, int]] | None:
        """The station's total agents as ``(start, end, servers)`` segments, None when constant.

        Segments break wherever any pool's shift changes; the schedule ends
        with the earliest last shift end (every pool covers the horizon).
        """
        if self.servers is not None:
            return None
        starts = sorted({s.start for p in self.pools if p.shifts for s in p.shifts})
        end = min(p.shifts[-1].end for p in self.pools if p.shifts)
        starts = [t for t in starts if t < end]
        ends = [*starts[1:], end]
        return [(a, b, sum(p.servers_at(a) for p in self.pools)) for a, b in zip(starts, ends, strict=True)]


def _names(value: Any, path: str, known: Sequence[str], what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ScenarioError(path, f"must be a non-empty list of {what} names, got {show(value)}")
    for j, name in enumerate(value):
        if name not in known:
            raise ScenarioError(f"{path}[{j}]", f"unknown {what} {show(name)} ({what}s: {', '.join(known)})")
        if name in value[:j]:
            raise ScenarioError(f"{path}[{j}]", f"{what} {name!r} is listed twice")
    return tuple(value)


def parse_pools(
    raw: Mapping[str, Any],
    path: str,
    class_names: Sequence[str],
    visitors: set[str],
    discipline: str,
    parse_distribution: Callable[[Any, str, str], Distribution],
    parse_shifts: Callable[[Any, str], tuple[ShiftLike, ...]],
    base_dir: str,
) -> PoolSet:
    """Validate a station's ``pools``, ``selection`` and ``policies`` keys.

    ``raw`` is the station mapping at ``path``; ``visitors`` the classes that
    can reach the station (each needs a policy); ``parse_shifts(value, path)``
    validates a shift list against the horizon.
    """
    node = Node(raw, path)
    if "service" in raw:
        raise ScenarioError(node.sub("service"), "a station with pools gives service times per pool")
    if "servers" in raw or "shifts" in raw:
        key = "servers" if "servers" in raw else "shifts"
        raise ScenarioError(node.sub(key), "a station with pools gives servers or shifts per pool")
    if "policies" not in raw:
        raise ScenarioError(node.sub("policies"), "is required with pools")
    if discipline not in POOL_DISCIPLINES:
        raise ScenarioError(
            node.sub("discipline"),
            f"a station with pools supports {' or '.join(POOL_DISCIPLINES)}, got {show(discipline)}",
        )
    selection = raw.get("selection", "longest_idle")
    if selection not in SELECTIONS:
        raise ScenarioError(node.sub("selection"), f"must be {' or '.join(SELECTIONS)}, got {show(selection)}")

    raw_pools = raw["pools"]
    ppath = node.sub("pools")
    if not isinstance(raw_pools, list) or not raw_pools:
        raise ScenarioError(ppath, f"must be a non-empty list of pools, got {show(raw_pools)}")
    names: list[str] = []
    for i, rp in enumerate(raw_pools):
        pnode = Node(rp, f"{ppath}[{i}]")
        pname = pnode.string("name")
        if "/" in pname:
            raise ScenarioError(pnode.sub("name"), f"must not contain '/', got {pname!r}")
        if pname in names:
            raise ScenarioError(pnode.sub("name"), f"duplicate pool name {pname!r}")
        names.append(pname)

    rpol = raw["policies"]
    polpath = node.sub("policies")
    polnode = Node(rpol, polpath)
    policies: dict[str, RoutingPolicy] = {}
    for cname in rpol:
        cpath = polnode.sub(str(cname))
        if cname not in class_names:
            raise ScenarioError(cpath, f"unknown class (classes: {show_names(class_names)})")
        cnode = Node(rpol[cname], cpath)
        cnode.check_keys(("pools", "overflow_after"), required=("pools",))
        listed = _names(rpol[cname]["pools"], cnode.sub("pools"), names, "pool")
        overflow = cnode.number("overflow_after", minimum=0) if "overflow_after" in rpol[cname] else 0.0
        policies[cname] = RoutingPolicy(listed, overflow)
    missing = sorted(visitors - set(policies))
    if missing:
        raise ScenarioError(polpath, f"no policy for class {missing[0]!r}, which visits this station")

    pools: list[Pool] = []
    for i, rp in enumerate(raw_pools):
        pnode = Node(rp, f"{ppath}[{i}]")
        pnode.check_keys(("name", "servers", "shifts", "service"), required=("name", "service"))
        pname = names[i]
        if ("servers" in rp) == ("shifts" in rp):
            raise ScenarioError(pnode.path, "give exactly one of servers, shifts")
        servers = pnode.integer("servers", minimum=1) if "servers" in rp else None
        shifts = parse_shifts(rp["shifts"], pnode.sub("shifts")) if "shifts" in rp else None
        skills = [k for k, pol in policies.items() if pname in pol.pools]
        service_raw = rp["service"]
        spath = pnode.sub("service")
        service: dict[str, Distribution] = {}
        if isinstance(service_raw, Mapping) and "dist" in service_raw:
            _refuse_profile(service_raw, spath)
            dist = parse_distribution(service_raw, spath, base_dir)
            service = {k: dist for k in skills}
            per_class = False
        else:
            snode = Node(service_raw, spath)
            for cname, draw in service_raw.items():
                if cname not in class_names:
                    raise ScenarioError(
                        snode.sub(str(cname)),
                        f"unknown class (classes: {show_names(class_names)}), or give one {{dist: ...}}",
                    )
                if cname not in skills:
                    raise ScenarioError(snode.sub(cname), "no policy of this class lists this pool")
                _refuse_profile(draw, snode.sub(cname))
                service[cname] = parse_distribution(draw, snode.sub(cname), base_dir)
            lacking = [k for k in skills if k not in service]
            if lacking:
                raise ScenarioError(spath, f"no service time for class {lacking[0]!r}, whose policy lists this pool")
            per_class = True
        if not skills:
            raise ScenarioError(pnode.sub("name"), f"pool {pname!r} is listed in no class's policy")
        pools.append(Pool(pname, servers, shifts, service, per_class))
    return PoolSet(tuple(pools), policies, selection)


def _refuse_profile(raw: Any, path: str) -> None:
    """Refuse a time-of-day profile on a pool's service by name (the engine profiles only a
    station's own service; without this the profile is reported as an unknown key)."""
    if isinstance(raw, Mapping) and "profile" in raw:
        raise ScenarioError(f"{path}.profile", "time-varying service is not available for agent "
                            "pools; give the pool a fixed distribution (a station without pools "
                            "may have a profile)")
