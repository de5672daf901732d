"""The simulation engine: one replication of a scenario, numpy and SimPy only.

The engine depends only on the scenario specification, the distributions and
the random streams; it imports no pandas and no plotting code. One run flows
through its modules in this order:

1. **scenario** (:mod:`simlib.spec`): the validated, frozen description of
   classes, stations, routing, staffing and the optional quality blocks.
2. **network** (:mod:`~simlib.engine.network`): :func:`build_network` turns it
   into a :class:`ServiceNetwork` — run-time state per station and class,
   random streams per owner (:mod:`~simlib.engine.rng`), and the quality layer
   (:mod:`~simlib.engine.quality`, scoring customers with
   :mod:`~simlib.engine.experience`) when the scenario has one. Running it
   schedules :class:`~simlib.engine.events.Step` events on a SimPy clock;
   every visit ends with an :class:`~simlib.engine.events.Outcome`.
3. **tallies** (:mod:`~simlib.engine.tallies`): as events happen the network
   adds them to streaming sums; when the run ends they become the metrics of
   every station, class and the system.
4. **record** (:mod:`~simlib.engine.records`): :func:`simulate` packs the
   metrics — with the per-interval metrics and the event log made from the
   named :class:`Visit` and :class:`Departure` rows when asked for — into one
   :class:`ReplicationRecord`, the unit executors move between processes and
   stores write to disk.
5. **results** (:mod:`simlib.experiments`): replications' records are
   collected into :class:`~simlib.experiments.results.Results` tables.
"""

from simlib.engine.events import Hooks, Host, Outcome, Step
from simlib.engine.network import MAX_CUSTOMERS, DeadlockError, RunawayError, ServiceNetwork
from simlib.engine.records import (
    Departure,
    Interval,
    ReplicationRecord,
    TraceEvent,
    Visit,
    departure_array,
    visit_array,
)
from simlib.engine.replication import build_network, simulate

__all__ = [
    "MAX_CUSTOMERS",
    "DeadlockError",
    "Departure",
    "Hooks",
    "Host",
    "Interval",
    "Outcome",
    "ReplicationRecord",
    "RunawayError",
    "ServiceNetwork",
    "Step",
    "TraceEvent",
    "Visit",
    "build_network",
    "departure_array",
    "simulate",
    "visit_array",
]
