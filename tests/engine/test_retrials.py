"""Retrials (class key ``retrials``) against the M/M/c queue with abandonment and an orbit.

Customers arrive at rate lambda to ``c`` exponential servers; a waiting customer abandons at
rate theta (exponential patience) and then, with probability ``p``, goes into orbit and tries
again after an exponential delay of rate gamma, as often as it takes. The number at the
station ``n`` and in orbit ``m`` form a continuous-time Markov chain:

- ``(n, m) -> (n + 1, m)`` at rate lambda (an arrival) and ``m gamma`` (a retrial);
- ``(n, m) -> (n - 1, m)`` at ``min(n, c) mu + (1 - p)(n - c)^+ theta`` (service, abandonment
  for good);
- ``(n, m) -> (n - 1, m + 1)`` at ``p (n - c)^+ theta`` (abandonment into orbit).

Its stationary distribution, on a truncated state space solved with numpy here, gives by rate
balance: the station's mean number present ``E[n]``; its abandonment per visit ``theta
E[(n-c)^+] / (lambda + gamma E[m])``; a customer's final abandonment ``(1 - p) theta
E[(n-c)^+] / lambda``; retrials per customer ``gamma E[m] / lambda``; and customers in the
system, orbit included, ``E[n] + E[m]``. ``support.assert_oracle`` checks all five (theory
inside the 99% intervals; a 3% bias in any detected with probability >= 0.9).
"""

from __future__ import annotations

import numpy as np
import pytest
from support import assert_oracle, known_controls, replication_values

import simlib
from simlib.engine.network import ServiceNetwork
from simlib.spec.scenario import from_dict

LAM, MU, C, THETA, P, GAMMA = 1.8, 1.0, 2, 1.0, 0.5, 0.5


def orbit_chain(n_max: int = 45, m_max: int = 45) -> dict[str, float]:
    """The oracle values from the truncated chain's stationary distribution."""
    size = (n_max + 1) * (m_max + 1)

    def at(n: int, m: int) -> int:
        return n * (m_max + 1) + m

    q = np.zeros((size, size))
    for n in range(n_max + 1):
        for m in range(m_max + 1):
            i = at(n, m)
            waiting = max(n - C, 0)
            if n < n_max:
                q[i, at(n + 1, m)] += LAM
                if m > 0:
                    q[i, at(n + 1, m - 1)] += m * GAMMA
            if n > 0:
                q[i, at(n - 1, m)] += min(n, C) * MU + (1 - P) * waiting * THETA
                if m < m_max:
                    q[i, at(n - 1, m + 1)] += P * waiting * THETA
                else:
                    q[i, at(n - 1, m)] += P * waiting * THETA
    np.fill_diagonal(q, -q.sum(axis=1))
    a = q.T.copy()
    a[-1] = 1.0  # replace one balance equation by the normalisation
    b = np.zeros(size)
    b[-1] = 1.0
    pi = np.linalg.solve(a, b).reshape(n_max + 1, m_max + 1)
    n = np.arange(n_max + 1)
    m = np.arange(m_max + 1)
    assert pi[-1].sum() < 1e-9 and pi[:, -1].sum() < 1e-9  # the truncation is harmless
    en, em = float(n @ pi.sum(axis=1)), float(m @ pi.sum(axis=0))
    queued = float(np.maximum(n - C, 0) @ pi.sum(axis=1))
    return {
        "s.mean_in_system": en,
        "s.p_abandon": THETA * queued / (LAM + GAMMA * em),
        "c.p_abandon": (1 - P) * THETA * queued / LAM,
        "c.mean_retrials": GAMMA * em / LAM,
        "c.mean_in_system": en + em,
    }


def spec(horizon: float = 5_000.0, **retrials) -> dict:
    return {
        "name": "orbit", "horizon": horizon, "warmup": 200.0,
        "classes": [{"name": "c", "arrivals": {"rate": LAM},
                     "patience": {"dist": "exponential", "mean": 1 / THETA},
                     "retrials": {"probability": P, "delay": {"dist": "exponential", "mean": 1 / GAMMA},
                                  **retrials}}],
        "stations": [{"name": "s", "servers": C, "service": {"dist": "exponential", "mean": 1 / MU}}],
    }


@pytest.mark.statistical
def test_mmc_with_abandonment_and_retrials_matches_the_chain():
    """lambda 1.8, two servers of mean 1, patience mean 1, half of those who abandon retry
    after a mean 2; 20 replications of 5 000. Power: a 3% bias in any checked metric is
    detected with probability >= 0.9 (asserted by assert_oracle)."""
    theory = orbit_chain()
    res = simlib.run(spec(), replications=20, seed=51, progress=False)
    controls = known_controls(res, {("c", "arrivals"): LAM * 5_000.0, ("s", "mean_service"): 1 / MU})
    assert_oracle({label: (replication_values(res, *label.split(".")), value)
                   for label, value in theory.items()}, controls)


def blocking(**retrials) -> dict:
    """One server busy for 10 with no waiting room; a customer every time unit."""
    return {
        "name": "busy", "horizon": 200.0,
        "classes": [{"name": "c", "arrivals": {"interarrival": {"dist": "deterministic", "value": 1}},
                     "retrials": {"probability": 1.0, "delay": {"dist": "deterministic", "value": 0.5},
                                  **retrials}}],
        "stations": [{"name": "s", "servers": 1, "queue_capacity": 0,
                      "service": {"dist": "deterministic", "value": 10}}],
    }


def attempts_per_customer(data: dict) -> tuple[dict, np.ndarray]:
    net = ServiceNetwork(from_dict(data), 1, 0, record=True)
    m = net.run()
    idents = np.array([row[0] for row in net.visits])
    return m, np.bincount(idents)[np.unique(idents)]


def test_max_attempts_bounds_the_attempts_and_metrics_count_unique_customers():
    m, attempts = attempts_per_customer(blocking(max_attempts=3))
    assert attempts.max() == 3 and attempts.min() >= 1
    assert m["s"]["arrivals"] > m["c"]["arrivals"]  # the station counts every attempt
    assert m["c"]["arrivals"] == pytest.approx(200, abs=1)  # the class counts each customer once
    assert 1.5 < m["c"]["mean_retrials"] <= 2.0
    assert m["c"]["p_blocked"] > 0.8  # the last attempt's outcome


def test_after_limits_the_outcomes_that_retry_and_probability_zero_changes_nothing():
    m, attempts = attempts_per_customer(blocking(after=["abandoned"]))
    assert attempts.max() == 1 and m["c"]["mean_retrials"] == 0
    never = ServiceNetwork(from_dict(spec(500.0, probability=0.0)), 4, 0).run()
    plain_spec = spec(500.0)
    del plain_spec["classes"][0]["retrials"]
    plain = ServiceNetwork(from_dict(plain_spec), 4, 0).run()
    assert never["c"].pop("mean_retrials") == 0 and never["system"].pop("mean_retrials") == 0
    assert never == plain
    assert "mean_retrials" not in plain["c"]


def test_customers_in_orbit_at_the_drain_limit_are_censored():
    """Every attempt is blocked for ever (no servers after the first shift): counted customers
    in orbit at the drain limit count as censored, admitted, not as blocked."""
    data = blocking()
    data["stations"][0] = {"name": "s", "queue_capacity": 0, "service": {"dist": "deterministic", "value": 1},
                           "shifts": [{"start": 0, "end": 1, "servers": 1},
                                      {"start": 1, "end": 200, "servers": 0}]}
    net = ServiceNetwork(from_dict(data), 1, 0)
    m = net.run()
    assert net.censored > 150
    assert m["c"]["p_blocked"] == 0 and m["c"]["mean_retrials"] > 100


#: Callers at 9 a minute with a 1-minute mean patience, half of whom try again (up to 3
#: attempts) about 2 minutes after abandoning.
IMPATIENT_RETRYING_CALLERS = {"name": "c", "arrivals": {"rate": 9.0},
                              "patience": {"dist": "exponential", "mean": 1.0},
                              "retrials": {"probability": 0.5, "max_attempts": 3,
                                           "delay": {"dist": "exponential", "mean": 2.0}}}

def customers_with_a_retry_never_in_two_places(net: ServiceNetwork) -> int:
    """Assert that no customer's visits overlap; count those with more than two visits."""
    by_customer: dict[int, list[tuple[float, float]]] = {}
    for ident, _, _, t_in, _, t_end, _ in net.visits:
        by_customer.setdefault(ident, []).append((t_in, t_end))
    for spells in by_customer.values():
        spells.sort()
        for (_, end), (start, _) in zip(spells, spells[1:], strict=False):
            assert end <= start
    return sum(len(spells) > 2 for spells in by_customer.values())


@pytest.mark.parametrize("discipline", ["fifo", "priority", "random"])
def test_a_customer_who_tries_again_is_never_served_from_its_old_place_in_a_queue(discipline):
    # Queues drop abandoned customers lazily. A customer who abandoned at the front, came
    # back, was served and now waits at the back must not be taken by the front through its
    # old entry (which crashed the run or served it at two stations at once), nor take its
    # old place in the line: its visits never overlap, and each starts after it came back.
    spec = {"name": "retry-tandem", "time_unit": "minute", "horizon": 240.0, "warmup": 30.0,
            "classes": [IMPATIENT_RETRYING_CALLERS],
            "stations": [
                {"name": "front", "servers": 10, "discipline": discipline,
                 "service": {"dist": "exponential", "mean": 1.0}},
                {"name": "back", "servers": 10, "service": {"dist": "exponential", "mean": 0.9}}],
            "routing": {"front": {"back": 1.0}}}
    retried = 0
    for seed in range(5, 12):  # seed 5 (fifo) crashed before the fix
        net = ServiceNetwork(from_dict(spec), seed, 0, record=True)
        net.run()
        retried += customers_with_a_retry_never_in_two_places(net)
    assert retried > 100  # enough customers came back for the check to bite


def test_a_customer_who_tries_again_at_a_pooled_station_is_served_once_per_attempt():
    # Agent pools keep one queue per class and drop abandoned calls lazily, as plain queues
    # do. A call that abandoned the pooled front, came back, was served and now waits at the
    # back must not be taken by a front agent through its old entry (a second service of one
    # attempt, booked at the station where it waits), nor take its old place in the line.
    exp = {"dist": "exponential", "mean": 1.0}
    spec = {"name": "retry-pools", "time_unit": "minute", "horizon": 240.0, "warmup": 30.0,
            "classes": [IMPATIENT_RETRYING_CALLERS],
            "stations": [
                {"name": "front", "pools": [{"name": "A", "servers": 6, "service": {"c": exp}},
                                            {"name": "B", "servers": 4, "service": {"c": exp}}],
                 "policies": {"c": {"pools": ["A", "B"], "overflow_after": 0.2}}},
                {"name": "back", "servers": 10, "service": {"dist": "exponential", "mean": 0.9}}],
            "routing": {"front": {"back": 1.0}}}
    retried = 0
    for seed in range(5, 12):
        net = ServiceNetwork(from_dict(spec), seed, 0, record=True)
        m = net.run()
        retried += customers_with_a_retry_never_in_two_places(net)
        # Every counted visit to the front ends once: completed, abandoned or still there.
        front = net.stations[0]
        there = sum(c.station is front for c in net.present.values())
        assert front.n_arrivals >= front.n_completed + front.n_abandoned
        assert front.n_arrivals <= front.n_completed + front.n_abandoned + there
        assert m["front/A"]["handled"] + m["front/B"]["handled"] == front.n_completed
    assert retried > 100  # enough customers came back for the check to bite
