"""How a station's servers work: pre-emptive priority, server speeds and processor sharing.

Three station options beyond the queue disciplines of :mod:`simlib.spec.scenario`:

* ``discipline: preemptive`` is ``priority`` with pre-emption: an arrival that finds every
  server busy interrupts the customer in service with the largest class ``priority`` (the
  one that started last among equals) when its own priority is strictly smaller. The
  interrupted customer goes back to the head of its class's queue (interrupted customers
  keep their order of arrival). ``preemption`` says what its service does when it is taken
  up again: ``resume`` (the default) continues the remaining work, ``restart`` does the
  same work again from the start (the requirement drawn at arrival), ``resample`` starts a
  new requirement drawn from the station's service distribution.
* ``speeds: [s1, ..., sc]`` gives each of the ``servers`` its own speed (positive, finite):
  a requirement ``x`` takes ``x / s`` on a server of speed ``s``, and the next customer is
  taken by the fastest idle server (the first listed among equally fast ones).
* ``discipline: ps`` is processor sharing: nobody queues; while ``n`` customers are present
  on ``c`` servers each is served at rate ``min(1, c / n)``.

The engine side is :mod:`simlib.engine.servers`; docs/scenario.md lists the keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simlib.spec.validation import ScenarioError, is_number, show

__all__ = ["PREEMPTION", "parse_server_options"]

#: What an interrupted service does when it is taken up again.
PREEMPTION = ("resume", "restart", "resample")

#: Disciplines a station with ``speeds`` supports.
SPEED_DISCIPLINES = ("fifo", "priority", "preemptive")


def parse_server_options(
    raw: Mapping[str, Any], path: str, discipline: str, servers: int | None, shifted: bool,
) -> tuple[str | None, tuple[float, ...] | None]:
    """The station's ``(preemption, speeds)``, validated (errors name ``path``).

    ``preemption`` is None unless the discipline is ``preemptive``; ``speeds`` is None
    unless given. ``servers`` is the constant number of servers (None with shifts or
    ``servers: inf``); ``shifted`` is True when the station has ``shifts``.
    """
    preemption = None
    if "preemption" in raw:
        if discipline != "preemptive":
            raise ScenarioError(f"{path}.preemption", "is allowed only with discipline: preemptive")
        preemption = raw["preemption"]
        if preemption not in PREEMPTION:
            raise ScenarioError(f"{path}.preemption",
                                f"must be one of {', '.join(PREEMPTION)}, got {show(preemption)}")
    elif discipline == "preemptive":
        preemption = "resume"
    if "speeds" not in raw:
        return preemption, None
    spath = f"{path}.speeds"
    if shifted:
        raise ScenarioError(spath, "is not allowed with shifts (give servers: a number)")
    if servers is None:
        raise ScenarioError(spath, "is not allowed with servers: inf")
    if discipline not in SPEED_DISCIPLINES:
        raise ScenarioError(spath, f"needs discipline {', '.join(SPEED_DISCIPLINES)}, "
                                   f"got {show(discipline)}")
    speeds = raw["speeds"]
    if not isinstance(speeds, list) or len(speeds) != servers:
        raise ScenarioError(spath, f"must be a list of {servers} speeds, one per server, got {show(speeds)}")
    for i, s in enumerate(speeds):
        if not is_number(s) or not s > 0:
            raise ScenarioError(f"{spath}[{i}]", f"must be a positive finite number, got {show(s)}")
    return preemption, tuple(float(s) for s in speeds)
