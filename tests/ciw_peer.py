"""Ciw as a peer: run a Ciw network and measure it as simlib does (import with ``from ciw_peer import ...``).

Ciw (installed with the development extras) is an independent simulator of queueing networks.
These helpers run one of its replications and turn its data records into the simlib metrics
the peer tests compare (docs/metrics.md): customers and visits are counted when they arrive in
the observed window ``[warmup, warmup + horizon)``; the run goes on for ``drain`` time units
after the window so that counted customers finish (a test chooses a drain long enough for its
load). Ciw keeps its own global generator, which each replication seeds.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import ciw
import numpy as np


def ciw_records(network: Any, seed: int, until: float) -> list[Any]:
    """Ciw's data records of one replication of ``network`` run until ``until``."""
    ciw.seed(seed)  # Ciw's own generator; each replication sets it
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(until)
    return sim.get_all_records()


def station_metrics(records: list[Any], node: int, warmup: float, horizon: float) -> dict[str, float]:
    """Visit metrics of Ciw node ``node`` (1-based): arrivals, p_blocked, mean_wait, mean_service
    and mean_in_system.

    ``mean_wait`` is over admitted (served) visits, as simlib's without abandonment;
    ``mean_in_system`` integrates every served visit's stay (arrival to exit) over the window.
    """
    end = warmup + horizon
    stays = sum(max(0.0, min(r.exit_date, end) - max(r.arrival_date, warmup))
                for r in records if r.node == node and r.record_type == "service")
    mine = [r for r in records if r.node == node and warmup <= r.arrival_date < end]
    served = [r for r in mine if r.record_type == "service"]
    rejected = [r for r in mine if r.record_type == "rejection"]
    n = len(served) + len(rejected)
    return {
        "arrivals": float(n),
        "p_blocked": len(rejected) / n if n else np.nan,
        "mean_wait": float(np.mean([r.waiting_time for r in served])) if served else np.nan,
        "mean_service": float(np.mean([r.service_time for r in served])) if served else np.nan,
        "mean_in_system": stays / horizon,
    }


def customer_metrics(records: list[Any], warmup: float, horizon: float,
                     by: str = "original_customer_class") -> dict[str, dict[str, float]]:
    """Customer metrics per class (``by``: the record field naming it) and for ``system``.

    A customer is counted when its first record's arrival falls in the window; ``mean_wait``
    sums its waits over visits ÷ customers not blocked, ``p_blocked`` is customers whose last
    record is a rejection ÷ customers, ``mean_sojourn`` is first arrival to exit of customers
    who left served.
    """
    journeys: dict[int, list[Any]] = defaultdict(list)
    for r in records:
        journeys[r.id_number].append(r)
    end = warmup + horizon
    groups: dict[str, list[list[Any]]] = defaultdict(list)
    for visits in journeys.values():
        visits.sort(key=lambda r: (r.arrival_date, r.exit_date))
        if warmup <= visits[0].arrival_date < end:
            groups[getattr(visits[0], by)].append(visits)
            groups["system"].append(visits)
    out = {}
    for scope, customers in groups.items():
        blocked = [c for c in customers if c[-1].record_type == "rejection"]
        admitted = [c for c in customers if c[-1].record_type != "rejection"]
        out[scope] = {
            "arrivals": float(len(customers)),
            "p_blocked": len(blocked) / len(customers),
            "mean_wait": float(np.mean([sum(r.waiting_time for r in c if r.record_type == "service")
                                        for c in admitted])),
            "mean_sojourn": float(np.mean([c[-1].exit_date - c[0].arrival_date for c in admitted])),
        }
    return out
