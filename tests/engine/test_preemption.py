"""Pre-emptive priority (``discipline: preemptive``) against M/M/1 theory, a hand trace and Ciw.

Two classes share one exponential server; class ``hi`` (priority 0) interrupts class ``lo``
(priority 1). Class ``hi`` never waits for ``lo``, so it sees an M/M/1 queue of its own:
its path is the same, customer by customer, as a run with class ``hi`` alone on the same
random streams (checked exactly). Class ``lo``'s mean sojourn under pre-emptive resume is
(Conway, Maxwell & Miller 1967; Kleinrock, Queueing Systems II, 1976, section 3.7)::

    E[T2] = E[S2] / (1 - rho1) + (lambda1 E[S1^2] + lambda2 E[S2^2]) / 2 / ((1 - rho1)(1 - rho))

and with equal exponential rates mu, ``E[S^2] = 2 / mu^2``, this is
``(1/mu) / ((1 - rho1)(1 - rho))``. A derivation of the equal-rate case without the
general formula: the total number present changes by +1 at rate lambda and by -1 at rate
mu whenever anyone is present (every service is exponential with rate mu, and pre-emption
never idles the server), so it is the M/M/1 birth-death chain with ``E[N] = rho / (1 - rho)``;
class 1 alone is M/M/1 with ``E[N1] = rho1 / (1 - rho1)``; so
``E[N2] = rho/(1-rho) - rho1/(1-rho1) = rho2 / ((1-rho)(1-rho1))`` and by Little's law
``E[T2] = E[N2] / lambda2 = (1/mu) / ((1-rho1)(1-rho))``. With unequal rates the general
formula gives class 2's mean wait ``E[T2] - 1/mu2`` (a visit's wait is all its time in
queue, docs/metrics.md).

Power (``support.assert_oracle``: the theory inside the 99% interval, a 3% bias detected
with probability >= 0.9) comes from control variates with known means: the arrival counts,
the mean services, and class ``lo``'s mean wait in a non-pre-emptive priority run on the
same random numbers (Cobham 1954: ``R / ((1 - rho1)(1 - rho))`` with ``R`` the mean residual
work above), which moves with class ``lo``'s pre-emptive wait and sojourn (correlation
about 0.996).

Restart against Ciw 3.2 (``priority_classes=(..., ["restart"])``: the interrupted customer
does its whole original service time again, as ``preemption: restart`` does), on
deterministic service where restart and resume differ; ``support.assert_peer_agreement``
over 100 replications of each.
"""

from __future__ import annotations

from functools import cache

import ciw
import numpy as np
import pytest
from support import assert_oracle, assert_peer_agreement, known_controls, replication_values

import simlib
from simlib.engine.network import ServiceNetwork
from simlib.spec.scenario import load_scenario

HORIZON, WARMUP, REPS = 5_000.0, 200.0, 10


def two_class(l1: float, l2: float, service: dict, discipline: str = "preemptive",
              horizon: float = HORIZON, warmup: float = WARMUP, classes=("hi", "lo"),
              **station) -> dict:
    rates = {"hi": l1, "lo": l2}
    return {
        "name": "preempt", "horizon": horizon, "warmup": warmup,
        "classes": [{"name": k, "arrivals": {"rate": rates[k]}, "priority": i}
                    for i, k in enumerate(("hi", "lo")) if k in classes],
        "stations": [{"name": "s", "servers": 1, "discipline": discipline,
                      "service": {k: service[k] for k in classes}, **station}],
    }


def exponential(m1: float, m2: float) -> dict:
    return {"hi": {"dist": "exponential", "mean": m1}, "lo": {"dist": "exponential", "mean": m2}}


@cache
def paired(l1: float, l2: float, m1: float, m2: float) -> tuple:
    """The pre-emptive run, the non-pre-emptive priority run and class hi alone, on the same seeds."""
    service = exponential(m1, m2)
    return tuple(simlib.run(two_class(l1, l2, service, discipline, classes=classes),
                            replications=REPS, seed=5, progress=False)
                 for discipline, classes in (("preemptive", ("hi", "lo")), ("priority", ("hi", "lo")),
                                             ("preemptive", ("hi",))))


def lo_theory(l1: float, l2: float, m1: float, m2: float) -> dict[str, float]:
    """Class lo's mean sojourn and wait under pre-emptive resume (the general formula)."""
    rho1, rho = l1 * m1, l1 * m1 + l2 * m2
    residual = (l1 * 2 * m1**2 + l2 * 2 * m2**2) / 2
    sojourn = m2 / (1 - rho1) + residual / ((1 - rho1) * (1 - rho))
    return {"mean_sojourn": sojourn, "mean_wait": sojourn - m2}


def cobham_wait(l1: float, l2: float, m1: float, m2: float) -> float:
    """Class lo's mean wait under non-pre-emptive priority, M/M/1 (Cobham)."""
    rho1, rho = l1 * m1, l1 * m1 + l2 * m2
    return (l1 * 2 * m1**2 + l2 * 2 * m2**2) / 2 / ((1 - rho1) * (1 - rho))


def controls(l1: float, l2: float, m1: float, m2: float) -> np.ndarray:
    pre, priority, _ = paired(l1, l2, m1, m2)
    known = known_controls(pre, {("hi", "arrivals"): l1 * HORIZON, ("lo", "arrivals"): l2 * HORIZON,
                                 ("hi", "mean_service"): m1, ("lo", "mean_service"): m2})
    crn = replication_values(priority, "lo", "mean_wait") / cobham_wait(l1, l2, m1, m2) - 1
    return np.column_stack([known, crn])


CASES = {"equal_mu": (0.2, 0.3, 1.0, 1.0), "unequal_mu": (0.4, 0.3, 0.5, 1.0)}


@pytest.mark.statistical
@pytest.mark.parametrize("case", list(CASES))
def test_high_class_sees_its_own_mm1_queue(case):
    """Class hi's waits and sojourns equal, replication by replication, those of a run with
    class hi alone on the same streams (an exact check: the low class never delays it)."""
    pre, _, alone = paired(*CASES[case])
    for metric in ("mean_sojourn", "mean_wait", "arrivals"):
        np.testing.assert_allclose(replication_values(pre, "hi", metric),
                                   replication_values(alone, "hi", metric), rtol=1e-9)
    assert np.all(replication_values(pre, "s", "preemptions") > 0)


@pytest.mark.statistical
def test_low_class_mean_sojourn_equal_rates():
    """M/M/1, lambda = (0.2, 0.3), mu = 1: E[T2] = (1/mu)/((1 - rho1)(1 - rho)) = 2.5; 10
    replications of 5 000 time units. Power: a 3% bias in class lo's mean sojourn is
    detected with probability >= 0.9 (asserted by assert_oracle, with the controls above)."""
    args = CASES["equal_mu"]
    l1, l2, m1, _ = args
    closed = m1 / ((1 - l1 * m1) * (1 - (l1 + l2) * m1))
    assert closed == pytest.approx(lo_theory(*args)["mean_sojourn"], rel=1e-12)
    pre = paired(*args)[0]
    assert_oracle({"lo.mean_sojourn": (replication_values(pre, "lo", "mean_sojourn"), closed)},
                  controls(*args))


@pytest.mark.statistical
def test_low_class_mean_wait_unequal_rates():
    """M/M/1, lambda = (0.4, 0.3), mean services (0.5, 1): class lo's mean wait
    E[T2] - 1/mu2 = 1.25 from the general formula; 10 replications of 5 000 time units.
    Power: a 3% bias is detected with probability >= 0.9 (asserted by assert_oracle)."""
    args = CASES["unequal_mu"]
    pre = paired(*args)[0]
    assert_oracle({"lo.mean_wait": (replication_values(pre, "lo", "mean_wait"),
                                    lo_theory(*args)["mean_wait"])}, controls(*args))


def trace_run(tmp_csv, mode: str, warmup: float = 0.0) -> tuple[dict, list]:
    """lo arrives at 0, hi at 0.5 (simulation time), both need 1.0 on one server."""
    lo = tmp_csv("lo.csv", f"time\n{0.0 - warmup}\n")
    hi = tmp_csv("hi.csv", f"time\n{0.5 - warmup}\n")
    spec = two_class(1, 1, {k: {"dist": "deterministic", "value": 1.0} for k in ("hi", "lo")},
                     horizon=10.0, warmup=warmup, preemption=mode)
    spec["classes"][0]["arrivals"] = {"trace": str(hi)}
    spec["classes"][1]["arrivals"] = {"trace": str(lo)}
    net = ServiceNetwork(load_scenario(spec), seed=1, record=True)
    out = net.run()
    assert net.visits is not None
    return out, net.visits


@pytest.mark.parametrize("mode, end", [("resume", 2.0), ("restart", 2.5), ("resample", 2.5)])
def test_an_interrupted_service_by_hand(tmp_csv, mode, end):
    """lo starts at 0, is interrupted at 0.5 by hi (served 0.5 to 1.5) and finishes its
    remaining 0.5 (resume) or its whole 1.0 again (restart; resample draws 1.0 again)."""
    out, visits = trace_run(tmp_csv, mode)
    assert out["s"]["preemptions"] == 1.0
    assert out["hi"]["mean_sojourn"] == pytest.approx(1.0) and out["hi"]["mean_wait"] == 0.0
    service = end - 1.0  # the time in service: the lost 0.5 counts under restart
    assert out["lo"]["mean_sojourn"] == pytest.approx(end)
    assert out["lo"]["mean_wait"] == pytest.approx(1.0)  # from 0.5 to 1.5 in queue
    assert out["lo"]["mean_service"] == pytest.approx(service)
    assert out["lo"]["p_wait"] == 1.0
    assert out["s"]["utilization"] == pytest.approx(end / 10.0)
    assert out["s"]["mean_queue"] == pytest.approx(0.1)
    lo_visit = [v for v in visits if v[1] == 1][0]
    # recorded start = end - time in service, so start - arrival is the visit's wait
    assert lo_visit[3:6] == pytest.approx((0.0, end - service, end))


def test_an_interrupted_visit_across_the_window_start_counts_exactly(tmp_csv):
    """The same trace with the window opening at 1.0: hi's service 1.0-1.5 and lo's
    1.5-2.0 are busy time in it (utilization 1.0 / 10), lo's wait 1.0-1.5 is queue."""
    out, _ = trace_run(tmp_csv, "resume", warmup=1.0)
    assert out["s"]["utilization"] == pytest.approx(0.1)
    assert out["s"]["mean_queue"] == pytest.approx(0.05)
    assert out["s"]["arrivals"] == 0.0


def test_equal_priorities_never_interrupt():
    spec = two_class(0.5, 0.3, exponential(1.0, 1.0), horizon=2_000.0, warmup=0.0)
    spec["classes"][1]["priority"] = 0
    out = simlib.run(spec, replications=1, seed=2, progress=False).runs[0]
    assert out["s"]["preemptions"] == 0.0


# --------------------------------------------------------------------------- Ciw

CIW_RATES, CIW_SERVICE, CIW_WARMUP, CIW_HORIZON, CIW_REPS = (0.15, 0.2), 1.0, 100.0, 800.0, 100


def ciw_sojourns(seed: int) -> dict[str, float]:
    """Ciw's per-class mean sojourn of the customers arriving in the window (drained)."""
    ciw.seed(seed)  # Ciw's own generator
    deterministic = [ciw.dists.Deterministic(CIW_SERVICE)]
    network = ciw.create_network(
        arrival_distributions={"hi": [ciw.dists.Exponential(CIW_RATES[0])],
                               "lo": [ciw.dists.Exponential(CIW_RATES[1])]},
        service_distributions={"hi": deterministic, "lo": deterministic},
        number_of_servers=[1],
        priority_classes=({"hi": 0, "lo": 1}, ["restart"]),
    )
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(CIW_WARMUP + 1.5 * CIW_HORIZON)
    records = [r for r in sim.get_all_records()
               if r.record_type == "service" and CIW_WARMUP <= r.arrival_date < CIW_WARMUP + CIW_HORIZON]
    return {f"{k}.mean_sojourn": float(np.mean([r.exit_date - r.arrival_date for r in records
                                                if r.customer_class == k])) for k in ("hi", "lo")}


@pytest.mark.statistical
def test_restart_agrees_with_ciw():
    """Deterministic service 1.0, lambda = (0.15, 0.2), pre-emptive restart: simlib and Ciw,
    100 replications of 800 time units each. Power: a 10% difference in either class's mean
    sojourn is detected with probability >= 0.9 (asserted by assert_peer_agreement)."""
    service = {k: {"dist": "deterministic", "value": CIW_SERVICE} for k in ("hi", "lo")}
    spec = two_class(*CIW_RATES, service, horizon=CIW_HORIZON, warmup=CIW_WARMUP,
                     preemption="restart")
    res = simlib.run(spec, replications=CIW_REPS, seed=11, progress=False)
    ours = {f"{k}.mean_sojourn": replication_values(res, k, "mean_sojourn") for k in ("hi", "lo")}
    peer_rows = [ciw_sojourns(seed) for seed in range(CIW_REPS)]
    peer = {label: np.array([row[label] for row in peer_rows]) for label in ours}
    assert_peer_agreement(ours, peer)
    # and restart is not resume: the lost work makes lo's sojourn longer on the same seeds
    resume = simlib.run({**spec, "stations": [{**spec["stations"][0], "preemption": "resume"}]},
                        replications=CIW_REPS, seed=11, progress=False)
    assert replication_values(resume, "lo", "mean_sojourn").mean() < ours["lo.mean_sojourn"].mean()
