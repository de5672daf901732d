"""Tests of the analytic queueing oracles against published values and identities.

Each published number cites its source in a comment. Where no printed value
was available (Erlang A), the oracle is checked against independent
computations (a generic numerical solution of the Markov chain, a
matrix-exponential transient solution of the tagged customer's wait) and
against its known limits (Erlang C, Erlang B).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import linalg, optimize

from simlib.experiments.statistics import METRICS as SIMULATED_METRICS
from simlib.theory import queueing as q

# The oracles speak the simulator's metric names (docs/metrics.md).
METRICS = set(SIMULATED_METRICS)


def _all_finite(d: dict[str, float]) -> bool:
    return all(isinstance(v, float) and math.isfinite(v) for v in d.values())


# ---------------------------------------------------------------- Erlang B


@pytest.mark.parametrize(
    ("load", "servers", "expected", "tol"),
    [
        # Erlang B table value B(10 Erlang, 15 lines) = 0.0365 (standard Erlang B tables,
        # e.g. ITU-T Teletraffic Engineering Handbook, Table of Erlang's B-formula).
        (10.0, 15, 0.0365, 5e-5),
        # erlang.com calculator manual, "How much traffic can a trunk group handle":
        # 15 lines at 1% blocking carry 8.108 Erlangs.
        (8.108, 15, 0.0100, 5e-6),
        # Wolfram Mathematica "Compute Loss Probabilities for a Queue": 30 lines,
        # 25 Erlangs, "the blocking probability is approximately 0.05".
        (25.0, 30, 0.05, 5e-3),
    ],
)
def test_erlang_b_published(load: float, servers: int, expected: float, tol: float) -> None:
    assert q.erlang_b(load, servers) == pytest.approx(expected, abs=tol)


def test_erlang_b_direct_formula_and_edge_cases() -> None:
    # B(A, c) = (A^c/c!) / sum_k A^k/k!
    a, c = 7.3, 9
    direct = (a**c / math.factorial(c)) / sum(a**k / math.factorial(k) for k in range(c + 1))
    assert q.erlang_b(a, c) == pytest.approx(direct, rel=1e-12)
    assert q.erlang_b(0.0, 3) == 0.0
    assert q.erlang_b(2.0, 1) == pytest.approx(2.0 / 3.0)  # A / (1 + A)
    # large systems stay finite and in (0, 1) where factorials would overflow
    big = q.erlang_b(5000.0, 5100)
    assert 0.0 < big < 0.01


# ---------------------------------------------------------------- Erlang C


def test_erlang_c_call_centre_helper_example() -> None:
    # Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example":
    # 100 calls per 30 min, AHT 180 s (A = 10 Erlangs), target 80% in 20 s. Reproduced by
    # pyworkforce 0.5.2 docs (tutorials/erlangc_example): 14 raw positions,
    # service_level 0.888, occupancy 0.714, waiting_probability 0.174.
    # Time unit here: minutes.
    r = q.erlang_c(100 / 30, 3.0, 14, threshold=20 / 60)
    assert r["p_wait"] == pytest.approx(0.174, abs=5e-4)
    assert r["service_level"] == pytest.approx(0.888, abs=5e-4)
    assert r["utilization"] == pytest.approx(0.714, abs=5e-4)
    # Same article, the first iteration with 11 agents: P(wait) = 0.6821, SL = 39%.
    r11 = q.erlang_c(100 / 30, 3.0, 11, threshold=20 / 60)
    assert r11["p_wait"] == pytest.approx(0.6821, abs=5e-5)
    assert r11["service_level"] == pytest.approx(0.39, abs=5e-3)


def test_erlang_c_closed_forms_and_little() -> None:
    lam, s, c = 4.0, 2.0, 10  # A = 8
    a = lam * s
    r = q.erlang_c(lam, s, c, threshold=0.5)
    # textbook formula with factorials (Erlang 1917)
    top = a**c / math.factorial(c) * c / (c - a)
    pw = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    assert r["p_wait"] == pytest.approx(pw, rel=1e-12)
    assert r["mean_wait"] == pytest.approx(pw * s / (c - a), rel=1e-12)
    assert r["asa"] == r["mean_wait"]
    assert r["service_level"] == pytest.approx(1 - pw * math.exp(-(c / s - lam) * 0.5))
    # Little's law and flow balance
    assert r["mean_queue"] == pytest.approx(lam * r["mean_wait"])
    assert r["mean_in_system"] == pytest.approx(lam * r["mean_sojourn"])
    assert r["utilization"] == pytest.approx(r["throughput"] * s / c)
    assert set(r) <= METRICS and _all_finite(r)
    # threshold 0: service level = P(no wait)
    assert q.erlang_c(lam, s, c, threshold=0.0)["service_level"] == pytest.approx(1 - pw)
    assert "service_level" not in q.erlang_c(lam, s, c)


def test_erlang_c_unstable_message() -> None:
    with pytest.raises(
        ValueError, match=r"erlang_c: offered load 10\.5 >= servers 10; the queue is unstable"
    ):
        q.erlang_c(10.5, 1.0, 10)
    with pytest.raises(ValueError, match="unstable"):
        q.erlang_c(10.0, 1.0, 10)  # rho = 1 exactly


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"arrival_rate": -1.0, "mean_service": 1.0, "servers": 3}, "arrival_rate"),
        ({"arrival_rate": 0.0, "mean_service": 1.0, "servers": 3}, "arrival_rate"),
        ({"arrival_rate": float("nan"), "mean_service": 1.0, "servers": 3}, "arrival_rate"),
        ({"arrival_rate": 1.0, "mean_service": 0.0, "servers": 3}, "mean_service"),
        ({"arrival_rate": 1.0, "mean_service": 1.0, "servers": 2.5}, "servers"),
        ({"arrival_rate": 1.0, "mean_service": 1.0, "servers": 0}, "servers"),
        ({"arrival_rate": 1.0, "mean_service": 1.0, "servers": True}, "servers"),
        ({"arrival_rate": 1.0, "mean_service": 1.0, "servers": "3"}, "servers"),
        ({"arrival_rate": 1.0, "mean_service": 1.0, "servers": 3, "threshold": -1}, "threshold"),
    ],
)
def test_erlang_c_invalid_arguments(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=rf"erlang_c: {name}"):
        q.erlang_c(**kwargs)


def test_servers_accepts_integral_float() -> None:
    assert q.erlang_c(1.0, 1.0, 3.0) == q.erlang_c(1.0, 1.0, 3)


def test_erlang_b_invalid() -> None:
    with pytest.raises(ValueError, match="erlang_b: load"):
        q.erlang_b(-1.0, 3)
    with pytest.raises(ValueError, match="erlang_b: servers"):
        q.erlang_b(1.0, 0)


# ---------------------------------------------------------------- M/M/1, M/G/1


def test_mm1_closed_forms() -> None:
    # M/M/1 (e.g. Kleinrock 1975, Queueing Systems I, ch. 3): L = rho/(1-rho),
    # W = s/(1-rho), Wq = rho s/(1-rho), P(Wq > t) = rho exp(-(mu-lambda) t).
    lam, s = 0.8, 1.0
    rho = lam * s
    r = q.mm1(lam, s, threshold=2.0)
    assert r["p_wait"] == pytest.approx(rho)
    assert r["mean_in_system"] == pytest.approx(rho / (1 - rho))
    assert r["mean_sojourn"] == pytest.approx(s / (1 - rho))
    assert r["mean_wait"] == pytest.approx(rho * s / (1 - rho))
    assert r["mean_queue"] == pytest.approx(rho**2 / (1 - rho))
    assert r["service_level"] == pytest.approx(1 - rho * math.exp(-(1 / s - lam) * 2.0))
    with pytest.raises(ValueError, match="mm1: offered load"):
        q.mm1(1.0, 1.0)


def test_mg1_md1_and_mm1() -> None:
    # Pollaczek-Khinchine for M/D/1: Lq = rho^2 / (2 (1 - rho)).
    lam, s = 0.9, 1.0
    r = q.mg1(lam, s, 0.0)
    assert r["mean_queue"] == pytest.approx(0.81 / 0.2)
    assert r["mean_wait"] == pytest.approx(r["mean_queue"] / lam)
    # cv = 1 gives M/M/1
    exp_ = q.mg1(lam, s, 1.0)
    mm = q.mm1(lam, s)
    for key in ("mean_wait", "mean_queue", "mean_in_system", "mean_sojourn", "p_wait"):
        assert exp_[key] == pytest.approx(mm[key])
    with pytest.raises(ValueError, match="mg1: cv_service"):
        q.mg1(0.5, 1.0, -0.1)
    with pytest.raises(ValueError, match="mg1: offered load 1.2 >= servers 1"):
        q.mg1(1.2, 1.0, 1.0)


def test_allen_cunneen_exact_cases() -> None:
    # M/M/c: ca = cs = 1 gives Erlang C exactly.
    ac = q.allen_cunneen(4.0, 2.0, 10, 1.0, 1.0)
    ec = q.erlang_c(4.0, 2.0, 10)
    for key in ac:
        assert ac[key] == pytest.approx(ec[key])
    # c = 1, Poisson arrivals: Pollaczek-Khinchine exactly.
    ac1 = q.allen_cunneen(0.7, 1.0, 1, 1.0, 0.5)
    assert ac1["mean_wait"] == pytest.approx(q.mg1(0.7, 1.0, 0.5)["mean_wait"])
    # the scaling factor
    half = q.allen_cunneen(4.0, 2.0, 10, 0.0, 1.0)
    assert half["mean_wait"] == pytest.approx(0.5 * ec["mean_wait"])
    with pytest.raises(ValueError, match="allen_cunneen: cv_arrival"):
        q.allen_cunneen(1.0, 1.0, 2, -1.0, 1.0)


# ---------------------------------------------------------------- GI/M/1


def test_gim1_with_poisson_arrivals_is_mm1() -> None:
    for lam, s in [(0.8, 1.0), (0.3, 2.5), (0.95, 1.0)]:
        g = q.gim1(lam, s, lambda x, lam=lam: lam / (lam + x), threshold=0.7)
        m = q.mm1(lam, s, threshold=0.7)
        assert set(g) == set(m) and _all_finite(g)
        for key in m:
            assert g[key] == pytest.approx(m[key], rel=1e-10), key


def _cubic_sigma_e2m1(lam: float, mu: float) -> float:
    """E2/M/1: sigma (2 lam + mu (1 - sigma))^2 = 4 lam^2, a cubic solved by numpy.roots
    (an independent route to the root; sigma = 1 is the other root in [0, 1])."""
    a, b = 2 * lam + mu, -mu  # 2 lam + mu (1 - sigma) = a + b sigma
    coeffs = [b * b, 2 * a * b, a * a, -4 * lam * lam]  # sigma (a + b sigma)^2 - 4 lam^2
    roots = np.roots(coeffs)
    real = sorted(r.real for r in roots if abs(r.imag) < 1e-12 and 0 < r.real < 1 - 1e-9)
    return real[0]


def test_gim1_erlang_and_deterministic_arrivals() -> None:
    lam, s = 0.8, 1.0
    sigma = _cubic_sigma_e2m1(lam, 1 / s)
    e2 = q.gim1(lam, s, lambda x: (2 * lam / (2 * lam + x)) ** 2, threshold=1.0)
    assert e2["p_wait"] == pytest.approx(sigma, rel=1e-12)
    assert e2["mean_wait"] == pytest.approx(sigma * s / (1 - sigma), rel=1e-12)
    assert e2["service_level"] == pytest.approx(1 - sigma * math.exp(-(1 - sigma) / s), rel=1e-12)
    assert e2["mean_queue"] == pytest.approx(lam * e2["mean_wait"], rel=1e-12)  # Little
    # D/M/1 at rho = 0.5: sigma = exp(-2 (1 - sigma)), solved independently by scipy's brentq.
    d = q.gim1(0.5, 1.0, lambda x: math.exp(-x / 0.5))
    root = optimize.brentq(lambda g: math.exp(-2 * (1 - g)) - g, 1e-9, 0.9, xtol=1e-15)
    assert d["p_wait"] == pytest.approx(root, rel=1e-12)
    assert d["mean_wait"] == pytest.approx(root / (1 - root), rel=1e-12)
    # Less variable arrivals wait less than Poisson ones; Allen-Cunneen (ca^2 = 1/2, 0)
    # is an approximation of the same queue, within 15% here.
    mm = q.mm1(lam, s)["mean_wait"]
    d8 = q.gim1(lam, s, lambda x: math.exp(-x / lam))
    assert d8["mean_wait"] < e2["mean_wait"] < mm
    ac = q.allen_cunneen(lam, s, 1, math.sqrt(0.5), 1.0)["mean_wait"]
    assert ac == pytest.approx(e2["mean_wait"], rel=0.15)


def test_gim1_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="gim1: offered load"):
        q.gim1(1.0, 1.0, lambda x: 1 / (1 + x))
    with pytest.raises(ValueError, match="gim1: laplace_interarrival must be a function"):
        q.gim1(0.5, 1.0, 0.3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"gim1: laplace_interarrival\(.*\) must be in \[0, 1\]"):
        q.gim1(0.5, 1.0, lambda x: 2.0)
    with pytest.raises(ValueError, match="gim1: arrival_rate must be positive"):
        q.gim1(0.0, 1.0, lambda x: 1.0)


def test_allen_cunneen_with_exponential_times_is_erlang_c_for_many_sizes() -> None:
    for lam, s, c in [(0.8, 1.0, 1), (9.0, 1.0, 10), (100.0 / 30, 3.0, 14)]:
        ac = q.allen_cunneen(lam, s, c, 1.0, 1.0)
        ec = q.erlang_c(lam, s, c)
        for key in ac:
            assert ac[key] == pytest.approx(ec[key], rel=1e-12), key


# ---------------------------------------------------------------- M/M/c/K


def test_mmck_with_no_waiting_room_is_erlang_b() -> None:
    for a, c in [(10.0, 15), (3.0, 2), (25.0, 30)]:
        r = q.mmck(a / 2.0, 2.0, c, c)
        assert r["p_blocked"] == pytest.approx(q.erlang_b(a, c), rel=1e-12)
        assert r["p_wait"] == 0.0
        assert r["mean_wait"] == 0.0
        # carried load = A (1 - B)
        assert r["mean_in_system"] == pytest.approx(a * (1 - q.erlang_b(a, c)))


def test_mmck_tends_to_erlang_c() -> None:
    c_res = q.erlang_c(4.0, 2.0, 10, threshold=0.3)
    k_res = q.mmck(4.0, 2.0, 10, 400, threshold=0.3)
    assert k_res["p_blocked"] < 1e-15
    for key in (
        "p_wait",
        "mean_wait",
        "mean_queue",
        "mean_in_system",
        "service_level",
        "utilization",
    ):
        assert k_res[key] == pytest.approx(c_res[key], rel=1e-9)


def test_mmck_mm1k_closed_form_and_little() -> None:
    # M/M/1/K (e.g. Gross & Harris, Fundamentals of Queueing Theory, sec. 2.5):
    # p_n = (1 - rho) rho^n / (1 - rho^(K+1)).
    lam, s, k = 1.5, 1.0, 5  # overloaded: still stable
    rho = lam * s
    p = [(1 - rho) * rho**n / (1 - rho ** (k + 1)) for n in range(k + 1)]
    r = q.mmck(lam, s, 1, k)
    assert r["p_blocked"] == pytest.approx(p[k])
    assert r["mean_in_system"] == pytest.approx(sum(n * pn for n, pn in enumerate(p)))
    assert r["utilization"] == pytest.approx(1 - p[0])
    assert r["p_wait"] == pytest.approx(sum(p[1:k]) / (1 - p[k]))
    assert r["mean_sojourn"] == pytest.approx(r["mean_in_system"] / r["throughput"])
    assert r["mean_sojourn"] == pytest.approx(r["mean_wait"] + s)
    with pytest.raises(ValueError, match="mmck: capacity 2 must be >= servers 3"):
        q.mmck(1.0, 1.0, 3, 2)


# ---------------------------------------------------------------- Erlang A


def _generic_birth_death(lam: float, mu: float, c: int, theta: float, size: int) -> np.ndarray:
    """Stationary distribution by solving pi Q = 0 on a truncated generator."""
    qm = np.zeros((size, size))
    for n in range(size):
        if n + 1 < size:
            qm[n, n + 1] = lam
        if n > 0:
            qm[n, n - 1] = min(n, c) * mu + max(n - c, 0) * theta
        qm[n, n] = -qm[n].sum()
    a = np.vstack([qm.T, np.ones(size)])
    b = np.zeros(size + 1)
    b[-1] = 1.0
    return np.linalg.lstsq(a, b, rcond=None)[0]


def _tagged_customer(
    mu: float, c: int, theta: float, positions: int, t: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For a customer at queue position m = 1..positions: P(served), P(served by t),
    E[W; served], from the absorbing Markov chain of its position (independent of
    the closed forms used in the library)."""
    m = positions
    # states 0..m-1 = positions 1..m, then served (m) and abandoned (m+1)
    gen = np.zeros((m + 2, m + 2))
    for i in range(m):
        pos = i + 1
        if pos == 1:
            gen[i, m] = c * mu
        else:
            gen[i, i - 1] = c * mu + (pos - 1) * theta
        gen[i, m + 1] = theta
        gen[i, i] = -gen[i].sum()
    p_t = linalg.expm(gen * t)
    served_by_t = p_t[:m, m]
    # absorption probabilities and E[T 1{served}] from the transient block
    tt = -gen[:m, :m]
    served = np.linalg.solve(tt, gen[:m, m])
    wait_served = np.linalg.solve(tt, served)  # E[T; served] = (-T)^{-1} g
    return served, served_by_t, wait_served


@pytest.mark.parametrize(
    ("lam", "s", "c", "patience", "t"),
    [
        (3.0, 1.0, 3, 2.0, 0.25),  # heavy load, rho = 1
        (9.0, 0.5, 4, 0.5, 0.1),  # overloaded (A = 4.5 > c = 4): stable through abandonment
        (1.0, 2.0, 3, 10.0, 1.0),  # light load, patient customers
    ],
)
def test_erlang_a_against_independent_markov_chain(
    lam: float, s: float, c: int, patience: float, t: float
) -> None:
    mu, theta = 1.0 / s, 1.0 / patience
    size = 200
    pi = _generic_birth_death(lam, mu, c, theta, size)
    n = np.arange(size)
    queue = np.maximum(n - c, 0)
    served_m, served_by_t_m, wait_served_m = _tagged_customer(mu, c, theta, size - c, t)
    pq = pi[c:]
    p_served = pi[:c].sum() + pq @ served_m
    expected = {
        "p_wait": pi[c:].sum(),
        "mean_queue": queue @ pi,
        "mean_wait": (queue @ pi) / lam,
        "p_abandon": 1.0 - p_served,
        "service_level": pi[:c].sum() + pq @ served_by_t_m,
        "asa": (pq @ wait_served_m) / p_served,
        "utilization": (np.minimum(n, c) @ pi) / c,
        "mean_in_system": n @ pi,
    }
    r = q.erlang_a(lam, s, c, patience, threshold=t)
    for key, value in expected.items():
        assert r[key] == pytest.approx(value, rel=1e-7, abs=1e-12), key
    assert set(r) <= METRICS and _all_finite(r)


def test_erlang_a_identities() -> None:
    lam, s, c, patience = 48.0, 1.0, 50, 2.0
    r = q.erlang_a(lam, s, c, patience, threshold=0.1)
    theta = 1 / patience
    # abandonment flow = theta E[Q] (Mandelbaum & Zeltyn 2007, sec. 4.6: P{Ab} = theta E[W])
    assert r["p_abandon"] == pytest.approx(theta * r["mean_wait"])
    assert r["mean_queue"] == pytest.approx(lam * r["mean_wait"])
    # carried load = served flow x s
    assert r["utilization"] * c == pytest.approx(r["throughput"] * s)
    # Little for the whole system: served customers stay W_served + s, abandoning ones W_ab
    # => E[N] = lam (P(served) (asa + s) + P(ab) E[W | ab]); check via E[W] decomposition
    p_served = 1 - r["p_abandon"]
    wait_ab = (r["mean_wait"] - p_served * r["asa"]) / r["p_abandon"]
    assert wait_ab > 0
    assert r["mean_in_system"] == pytest.approx(
        lam * (p_served * r["mean_sojourn"] + r["p_abandon"] * wait_ab)
    )
    # SL(0) is P(no wait); SL grows with the threshold and stays below P(served)
    assert q.erlang_a(lam, s, c, patience, threshold=0)["service_level"] == pytest.approx(
        1 - r["p_wait"]
    )
    sl = [q.erlang_a(lam, s, c, patience, threshold=x)["service_level"] for x in (0.0, 0.1, 1, 100)]
    assert all(x < y for x, y in zip(sl, sl[1:], strict=False))
    assert sl[-1] == pytest.approx(p_served, rel=1e-9)


def test_erlang_a_limits() -> None:
    # patience -> infinity: Erlang C (Garnett, Mandelbaum & Reiman 2002, sec. 2)
    ec = q.erlang_c(100 / 30, 3.0, 14, threshold=20 / 60)
    ea = q.erlang_a(100 / 30, 3.0, 14, 1e7, threshold=20 / 60)
    for key in ("p_wait", "mean_wait", "asa", "service_level", "mean_queue", "utilization"):
        assert ea[key] == pytest.approx(ec[key], rel=1e-4), key
    assert ea["p_abandon"] < 1e-6
    # patience -> 0: waiting customers leave at once: Erlang B
    eb = q.erlang_a(8.0, 1.0, 10, 1e-9)
    assert eb["p_abandon"] == pytest.approx(q.erlang_b(8.0, 10), rel=1e-6)
    assert eb["p_wait"] == pytest.approx(q.erlang_b(8.0, 10), rel=1e-6)


def test_erlang_a_large_and_overloaded_systems_are_finite() -> None:
    r = q.erlang_a(2000.0, 1.0, 1800, 0.5, threshold=0.05)  # 11% overload
    assert _all_finite(r)
    # in the efficiency-driven regime the abandonment fraction ~ 1 - c/A (GMR 2002)
    assert r["p_abandon"] == pytest.approx(1 - 1800 / 2000, abs=0.01)
    with pytest.raises(ValueError, match="erlang_a: mean_patience"):
        q.erlang_a(1.0, 1.0, 2, 0.0)
    with pytest.raises(ValueError, match="erlang_a: mean_patience"):
        q.erlang_a(1.0, 1.0, 2, math.inf)


# ---------------------------------------------------------------- priority M/G/1


def test_priority_mg1_single_class_is_pk_and_conservation_law() -> None:
    one = q.priority_mg1([0.7], [1.0], [1.0 * (1 + 0.25)])
    assert one[0]["mean_wait"] == pytest.approx(q.mg1(0.7, 1.0, 0.5)["mean_wait"])
    # Cobham (1954) two classes, exponential services (E[S^2] = 2 s^2):
    lam, s = [0.3, 0.4], [1.0, 0.5]
    m2 = [2 * x * x for x in s]
    res = q.priority_mg1(lam, s, m2)
    w0 = sum(li * mi for li, mi in zip(lam, m2, strict=True)) / 2  # 0.3 + 0.2 = 0.5
    assert res[0]["mean_wait"] == pytest.approx(w0 / (1 - 0.3))
    assert res[1]["mean_wait"] == pytest.approx(w0 / ((1 - 0.3) * (1 - 0.5)))
    # Kleinrock's conservation law: sum rho_k W_k = rho W0 / (1 - rho), independent of priorities
    rho = [li * si for li, si in zip(lam, s, strict=True)]
    total = sum(rho)
    assert sum(r * d["mean_wait"] for r, d in zip(rho, res, strict=True)) == pytest.approx(
        total * w0 / (1 - total)
    )
    reversed_res = q.priority_mg1(lam[::-1], s[::-1], m2[::-1])
    assert sum(r * d["mean_wait"] for r, d in zip(rho[::-1], reversed_res, strict=True)) == (
        pytest.approx(total * w0 / (1 - total))
    )


def test_priority_mg1_errors() -> None:
    with pytest.raises(ValueError, match="same length"):
        q.priority_mg1([1.0], [1.0, 2.0], [2.0])
    with pytest.raises(ValueError, match=r"second_moments\[0\]"):
        q.priority_mg1([0.1], [1.0], [0.5])
    with pytest.raises(ValueError, match="priority_mg1: offered load"):
        q.priority_mg1([0.6, 0.6], [1.0, 1.0], [2.0, 2.0])


# ---------------------------------------------------------------- Jackson network


def test_jackson_tandem_and_feedback() -> None:
    # Tandem of two M/M/1 stations: each is M/M/1 with the same lambda (Jackson 1957).
    res = q.jackson([1.0, 0.0], [0.5, 0.8], [1, 1], [[0.0, 1.0], [0.0, 0.0]])
    assert res["arrival_rates"] == pytest.approx([1.0, 1.0])
    l_expected = 0.5 / 0.5 + 0.8 / 0.2  # rho/(1-rho) per station
    assert res["system"]["mean_in_system"] == pytest.approx(l_expected)
    assert res["system"]["mean_sojourn"] == pytest.approx(0.5 / 0.5 + 0.8 / 0.2)
    # Single M/M/1 with Bernoulli feedback p: lambda = gamma / (1 - p); sojourn per
    # customer = L / gamma (e.g. Kleinrock 1975, sec. 4.8).
    gamma, p, s = 1.0, 0.5, 0.3
    fb = q.jackson([gamma], [s], [1], np.array([[p]]))
    lam = gamma / (1 - p)
    rho = lam * s
    assert fb["arrival_rates"][0] == pytest.approx(lam)
    assert fb["system"]["mean_sojourn"] == pytest.approx(rho / (1 - rho) / gamma)
    assert fb["system"]["mean_wait"] == pytest.approx(rho**2 / (1 - rho) / gamma)
    assert fb["stations"][0]["throughput"] == pytest.approx(lam)


def test_jackson_errors() -> None:
    with pytest.raises(ValueError, match="routing row 0 sums to 1.2 > 1"):
        q.jackson([1.0, 0.0], [0.1, 0.1], [1, 1], [[0.7, 0.5], [0.0, 0.0]])
    with pytest.raises(ValueError, match=r"routing entries must be probabilities"):
        q.jackson([1.0], [0.1], [1], [[-0.1]])
    with pytest.raises(ValueError, match="never leave"):
        q.jackson([1.0, 0.0], [0.1, 0.1], [1, 1], [[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="station 1 offered load"):
        q.jackson([1.0, 0.0], [0.1, 2.0], [1, 1], [[0.0, 1.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="shape"):
        q.jackson([1.0, 1.0], [0.1, 0.1], [1, 1], [[0.0]])


def test_jackson_unreached_station() -> None:
    res = q.jackson([1.0, 0.0], [0.5, 0.5], [1, 1], np.zeros((2, 2)))
    assert res["stations"][1]["throughput"] == 0.0
    assert res["system"]["mean_in_system"] == pytest.approx(1.0)  # only the M/M/1 at rho 0.5


def test_offered_load() -> None:
    assert q.offered_load(200 / 60, 3.0) == pytest.approx(10.0)
    with pytest.raises(ValueError, match="offered_load: mean_service"):
        q.offered_load(1.0, -3.0)
