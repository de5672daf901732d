"""Named carers: which individual server serves each customer at a station.

A plain station's servers are a count (how many are busy); continuity of care asks *who*
served a resident, so at a station that a ``continuity`` indicator names
(:mod:`simlib.spec.quality`) the quality layer keeps a :class:`CarerRoster`. Its carers
are numbered 0..c-1; carer ``i`` is on duty while the station has more than ``i`` servers
(a post on the rota: with shifts, the first carers stay on when the number of servers
falls, and a carer beyond the new number finishes the service in hand and goes off duty,
as the network's servers do). Every service start chooses one idle carer on duty — there
is always one, since the network starts a service only when fewer servers than scheduled
are busy — and the end of the service frees that carer again before the next waiting
customer is taken (the network's ``on_release`` hook,
:class:`~simlib.engine.events.Hooks`), so no carer serves two customers at once.

Whom the station assigns:

* ``prefer: any`` (the default): a carer drawn uniformly among the idle carers on duty;
* ``prefer: previous`` (for the indicator's classes): the carer of the resident's most
  recent service start at the station, when that carer is idle and on duty at the moment
  of choice; otherwise (the carer is busy — with another customer or with the same
  resident's other request —, off duty, or the resident is new here) a carer drawn
  uniformly among the idle ones, as under ``any``. Nobody waits for their own carer: the
  queue's order and every wait are those of the plain station.

One uniform of the ``carers`` stream (owner: the station) is drawn at every service start
whichever rule applies, so the two rules see the same draws (common random numbers), and
since carers are identical in speed the choice changes no wait or service: a scenario's
other results are those without continuity.

The history of a resident is every service start at the station, of any class and in
the warm-up too. A customer's continuity is taken at their first service start at the
station, against the history before it: whether the chosen carer has served the resident
before (``any``) and whether they served the resident's most recent earlier service
(``previous``); None — scored NaN — for the resident's first service there.
"""

from __future__ import annotations

import math
from typing import Any

from simlib.engine.rng import BlockSampler

__all__ = ["CarerRoster"]


class CarerRoster:
    """The carers of one station: who is busy, whom each resident has had, and each
    customer's continuity at their first service here.

    ``station`` is the network's station state (its ``capacity`` is the number of servers
    scheduled now); ``draw`` yields uniforms on [0, 1); ``prefer_previous`` holds the class
    indices whose customers get their previous carer when that carer is idle; ``log`` keeps
    one row per service when given a list (the replication keeps records).
    """

    def __init__(self, station: Any, draw: BlockSampler, prefer_previous: set[int],
                 log: list[list[Any]] | None = None) -> None:
        self.station = station
        self.draw = draw
        self.prefer_previous = prefer_previous
        self.busy: set[int] = set()
        #: Carer serving each customer in service here, by customer ident, with its log row.
        self.serving: dict[int, tuple[int, list[Any] | None]] = {}
        #: Per resident: the carers who have served them, and the one who served them last.
        self.seen: dict[int, set[int]] = {}
        self.last: dict[int, int] = {}
        #: Per customer ident: (carer seen before, carer was the previous one) at the
        #: customer's first service here, None at the resident's first service here.
        self.first: dict[int, tuple[bool, bool] | None] = {}
        #: Rows ``[customer ident, resident, carer, start, end]`` (end NaN while in service).
        self.log = log

    def start(self, ident: int, kind: int, resident: int, now: float) -> int:
        """Choose the carer of a service that starts now and return it."""
        u = self.draw.next()  # drawn at every start, so both rules see the same draws
        on_duty = self.station.capacity
        previous = self.last.get(resident)
        if (previous is not None and kind in self.prefer_previous and previous < on_duty
                and previous not in self.busy):
            carer = previous
        else:
            idle = [i for i in range(int(on_duty)) if i not in self.busy]
            carer = idle[int(u * len(idle))]
        history = self.seen.get(resident)
        if ident not in self.first:
            self.first[ident] = None if not history else (carer in history, carer == previous)
        if history is None:
            history = self.seen[resident] = set()
        history.add(carer)
        self.last[resident] = carer
        self.busy.add(carer)
        row = None
        if self.log is not None:
            row = [ident, resident, carer, now, math.nan]
            self.log.append(row)
        self.serving[ident] = (carer, row)
        return carer

    def release(self, ident: int, now: float) -> None:
        """The service of customer ``ident`` ended: its carer is idle again."""
        carer, row = self.serving.pop(ident)
        self.busy.discard(carer)
        if row is not None:
            row[4] = now

    def continuity(self, ident: int, prefer: str) -> float:
        """Customer ``ident``'s continuity score under ``prefer``: NaN when the customer was
        not served here or it was the resident's first service here."""
        outcome = self.first.get(ident)
        if outcome is None:
            return math.nan
        return float(outcome[1] if prefer == "previous" else outcome[0])

    def forget(self, ident: int) -> None:
        """The customer left the system: their first service here is no longer needed."""
        self.first.pop(ident, None)
