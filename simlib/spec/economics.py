"""Money (the scenario's ``economics`` block): revenue, wages and the costs of poor service."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Economics"]


@dataclass(frozen=True)
class Economics:
    """Money (``economics`` block), in one currency per scenario.

    Totals are per replication (the observed window). Wages are charged to
    stations; customer costs and revenue to classes; the system has both.
    """

    #: Revenue per customer whose service was completed (currency per customer).
    revenue_per_service: float = 0.0
    #: Wage per scheduled server-hour (currency per hour).
    wage_per_server_hour: float = 0.0
    #: Cost of each abandonment (currency per customer).
    cost_per_abandonment: float = 0.0
    #: Cost of handling each complaint (currency per complaint).
    cost_per_complaint: float = 0.0
    #: Margin lost with each lost customer (currency per customer): with a retention block a
    #: customer who decides not to come back; without one, one who abandons or is blocked.
    cost_per_lost_customer: float = 0.0
    #: Hours per scenario time unit (from ``time_unit`` unless given).
    hours_per_time_unit: float = 1 / 60
