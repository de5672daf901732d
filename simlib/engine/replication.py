"""One replication from start to finish: build the network, run it, keep the record.

A replication is fixed by a scenario, the experiment's root seed and the
replication number. :func:`build_network` sets up the
:class:`~simlib.engine.network.ServiceNetwork` with the layers its scenario
needs (the quality layer of :mod:`simlib.engine.quality` when the scenario has
a quality, failures, retention or economics block); :func:`simulate` runs it
and packs what it produced — the metrics from its tallies and, on request,
the per-interval metrics and the event log made from its records — into one
:class:`~simlib.engine.records.ReplicationRecord`. This is the only module
that knows both the network and the layers, so neither depends on the other.
"""

from __future__ import annotations

import logging
import math

from simlib.engine.network import MAX_CUSTOMERS, ServiceNetwork, needs_layer
from simlib.engine.quality import QualityLayer
from simlib.engine.records import ReplicationRecord, event_log, interval_metrics
from simlib.spec.scenario import Scenario

__all__ = ["build_network", "simulate"]

_log = logging.getLogger("simlib")


def build_network(
    scenario: Scenario,
    seed: int,
    replication: int = 0,
    drain_limit: float = 1.0,
    record: bool = False,
    max_customers: int = MAX_CUSTOMERS,
) -> ServiceNetwork:
    """The network of one replication, with the quality layer when the scenario needs it.

    Parameters are those of :class:`~simlib.engine.network.ServiceNetwork`.
    Attach extra SimPy processes to ``network.env`` before ``network.run()``.
    """
    layer = QualityLayer if needs_layer(scenario) else None
    return ServiceNetwork(scenario, seed, replication, drain_limit, record, layer=layer,
                          max_customers=max_customers)


def simulate(
    scenario: Scenario,
    seed: int,
    replication: int = 0,
    interval: float | None = None,
    trace: bool = False,
    warn: bool = True,
    max_customers: int = MAX_CUSTOMERS,
) -> ReplicationRecord:
    """Run replication ``replication`` of an experiment with root ``seed``.

    Parameters
    ----------
    interval
        When given, also compute the metrics per interval of this length
        (time units) of the observed window.
    trace
        Also return the event log (one row per customer event,
        docs/traces.md#event-log-layout).
    warn
        Log a warning (logger ``simlib``) when customers were still present at
        the drain limit; ``record.censored`` counts them either way, so that
        :func:`simlib.run` can warn once for all its replications.
    max_customers
        Stop with :class:`~simlib.engine.network.RunawayError` when more
        customers than this are in the system at once (a queue growing without
        bound); the default, :data:`~simlib.engine.network.MAX_CUSTOMERS`, is
        far above any stable model's.
    """
    if interval is not None and not (interval > 0 and math.isfinite(interval)):
        raise ValueError(f"interval must be a positive number of time units, got {interval!r}")
    network = build_network(scenario, seed, replication, record=interval is not None or trace,
                            max_customers=max_customers)
    metrics = network.run()
    if warn and network.censored:
        _log.warning(
            "%s: %d customers were still present at the drain limit (%g time units after "
            "the window) and are censored: their waits count up to that time. The system "
            "is probably overloaded or closes with customers waiting.",
            scenario.name, network.censored, network.drain_until - network.window_end,
        )
    layer = network.layer
    customers = None
    if isinstance(layer, QualityLayer) and layer.quality is not None:
        customers = tuple(layer.rows)
    intervals: tuple = ()
    events = None
    if interval is not None:
        intervals = interval_metrics(scenario, network.visits or (), network.departures or (),
                                     interval)
    if trace:
        events = event_log(scenario, network.visits or (), network.returning)
    return ReplicationRecord(replication, metrics, intervals, events, customers,
                             network.censored)
