"""Work budgets: what an experiment will cost, estimated and refused before it runs.

The work of a replication is the number of station visits it simulates:
for each customer class, the expected arrivals over warm-up and horizon
(rate × time, a rate profile's integral, or a trace's length) times the
expected visits per arrival (:func:`~simlib.experiments.capacity.visits_per_arrival`:
a route's length or the traffic equations, so a routing loop that customers
rarely leave counts every lap). An experiment's work is that times its
replications, summed over its points (a sweep's grid, a comparison's variants).

Above :data:`MAX_WORK` visits (a few hours of one core; the bundled scenarios
need under 10⁶ per replication) :func:`check_work` refuses the experiment
before anything runs, with the estimate and the option that raises the limit
(``max_work=`` in Python, ``--max-work`` on the command line). Rework after
failures and returning customers are not counted, so the estimate is a
lower bound. The engine's own guard, ``max_customers``
(:data:`simlib.engine.MAX_CUSTOMERS`), stops a replication whose queues
grow without bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from simlib.experiments.capacity import visits_per_arrival
from simlib.spec.scenario import Arrivals, Scenario
from simlib.spec.validation import real

__all__ = ["MAX_WORK", "WorkBudgetError", "expected_arrivals", "work_per_replication",
           "check_work"]

#: Most station visits an experiment may simulate, all points and replications together.
MAX_WORK = 1e9


class WorkBudgetError(ValueError):
    """An experiment whose estimated work exceeds the budget (one-line message)."""


def _profile_arrivals(arrivals: Arrivals, start: float, end: float) -> float:
    """Expected arrivals of a rate profile over ``[start, end)`` of observed time."""
    profile = arrivals.profile
    assert profile is not None
    warm = profile.rates[-1] * max(0.0, -start)  # the warm-up uses the last rate
    cycle = profile.cycle
    full, rest = divmod(end, cycle)
    total = full * profile.period * sum(profile.rates)
    for rate in profile.rates:
        step = min(rest, profile.period)
        total += rate * step
        rest -= step
        if rest <= 0:
            break
    return warm + total


def expected_arrivals(scenario: Scenario, warmup: bool = True) -> dict[str, float]:
    """Expected external arrivals per replication of each class, warm-up included or not."""
    start = -scenario.warmup if warmup else 0.0
    out = {}
    for c in scenario.classes:
        a = c.arrivals
        if a.rate is not None:
            size = a.batch.mean if a.batch is not None else 1.0
            out[c.name] = a.rate * size * (scenario.horizon - start)
        elif a.profile is not None:
            out[c.name] = _profile_arrivals(a, start, scenario.horizon)
        elif a.interarrival is not None:
            out[c.name] = (scenario.horizon - start) / a.interarrival.mean
        else:
            assert a.trace is not None
            out[c.name] = float(sum(1 for t in a.trace if start <= t < scenario.horizon))
    return out


def work_per_replication(scenario: Scenario) -> float:
    """Expected station visits in one replication of ``scenario``."""
    visits = visits_per_arrival(scenario)
    return sum(n * sum(visits[name].values()) for name, n in expected_arrivals(scenario).items())


def check_work(scenarios: Sequence[Scenario], replications: int,
               max_work: float = MAX_WORK) -> float:
    """The estimated work of ``replications`` of every scenario; refused above ``max_work``.

    Raises
    ------
    WorkBudgetError
        One line with the estimate, its parts and the option that raises the limit.
    """
    limit = real("", "max_work", max_work)
    if limit <= 0:
        raise ValueError(f"max_work must be positive, got {max_work!r}")
    per = [work_per_replication(s) for s in scenarios]
    total = sum(per) * replications
    if not total <= limit:  # also refuses NaN
        worst = max(range(len(per)), key=lambda i: per[i])
        scn = scenarios[worst]
        arrivals = sum(expected_arrivals(scn).values())
        points = f" over {len(per)} points" if len(per) > 1 else ""
        raise WorkBudgetError(
            f"{scn.name}: about {total:.3g} station visits to simulate ({arrivals:.3g} arrivals "
            f"× {per[worst] / arrivals if arrivals else math.inf:.3g} visits each per "
            f"replication × {replications} replications{points}), more than the budget of "
            f"{limit:.3g}; shorten the horizon or lower the rates, or raise max_work= "
            "(--max-work) if this is intended")
    return total
