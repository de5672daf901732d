"""Analytic queueing oracles: exact or classical approximate steady-state results.

A queueing model turns three ingredients (how customers arrive, how long
service takes, how many servers work in parallel) into operational measures:
how many wait, how long, how busy the servers are. For the Markovian models
(Poisson arrivals, exponential service and patience) the number of customers
present is a birth-death process whose stationary distribution is known in
closed form, so the measures are *exact*; for general distributions classical
formulas (Pollaczek-Khinchine) are exact for one server and approximations
(Allen-Cunneen) are used for several.

Every oracle here returns a ``dict[str, float]`` keyed by the metric names of
the simulator (docs/metrics.md), so that a simulated summary can be
compared with theory key by key:

``p_wait``
    share of admitted arrivals that wait longer than zero;
``mean_wait``
    mean time in queue of admitted arrivals (an abandoning customer counts
    its time until abandoning);
``asa``
    mean time in queue of the customers who were served;
``service_level``
    share of admitted arrivals whose service starts within ``threshold``
    (abandoned ones count as failures); only when a threshold is given;
``p_abandon``, ``p_blocked``
    shares of admitted arrivals that abandon / of all arrivals refused;
``utilization``
    busy server time / server time;
``throughput``
    services completed per time unit;
``mean_queue``, ``mean_in_system``
    time-average number waiting / present;
``mean_sojourn``
    mean time from arrival to departure of customers who completed service;
``mean_service``
    mean service time.

Only the measures a model defines are returned. Times are in the time unit of
the scenario and rates are per that time unit; any consistent unit works.
Steady state is assumed: an unstable input (offered load at or above the
number of servers where there is no abandonment or blocking) raises a
``ValueError`` that says so, as does any invalid argument; no function returns
NaN.

References
----------
- A. K. Erlang (1917), "Solution of some problems in the theory of
  probabilities of significance in automatic telephone exchanges",
  *Elektroteknikeren* 13 (Erlang B and C).
- C. Palm (1943), "Intensitätsschwankungen im Fernsprechverkehr",
  *Ericsson Technics* 44 (the M/M/n+M queue, "Erlang A").
- O. Garnett, A. Mandelbaum, M. Reiman (2002), "Designing a call center with
  impatient customers", *Manufacturing & Service Operations Management*
  4(3):208-227.
- A. Mandelbaum, S. Zeltyn (2007), "Service engineering in action: the
  Palm/Erlang-A queue, with applications to call centers", in *Advances in
  Services Innovations*, Springer, 17-45.
- F. Pollaczek (1930), A. Khinchine (1932): the M/G/1 mean waiting time.
- L. Kleinrock (1975), *Queueing Systems, Vol. 1: Theory*, Wiley, sec. 6.4
  (the GI/M/1 queue: geometric queue seen at arrivals, exponential wait).
- A. Cobham (1954), "Priority assignment in waiting line problems",
  *Operations Research* 2(1):70-76.
- J. R. Jackson (1957), "Networks of waiting lines", *Operations Research*
  5(4):518-521.
- A. O. Allen (1990), *Probability, Statistics, and Queueing Theory with
  Computer Science Applications*, 2nd ed., Academic Press (the
  Allen-Cunneen approximation for GI/G/c).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

__all__ = [
    "allen_cunneen",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "gim1",
    "jackson",
    "mg1",
    "mm1",
    "mmck",
    "offered_load",
    "priority_mg1",
    "traffic_rates",
]

# Stationary probabilities below exp(-_LOG_NEGLIGIBLE) relative to the largest
# one do not change any result in double precision; used to truncate the
# infinite state space of the Erlang A birth-death process.
_LOG_NEGLIGIBLE = 45.0
# Hard cap on the number of Erlang A queue states, so that an absurd input
# (tiny abandonment rate with a heavy overload) fails clearly instead of
# exhausting memory.
_MAX_QUEUE_STATES = 20_000_000


# --------------------------------------------------------------------------
# argument checks: one place, one wording, always naming the argument
# --------------------------------------------------------------------------


def _as_float(func: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{func}: {name} must be a real number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{func}: {name} must be finite, got {value!r}")
    return x


def _positive(func: str, name: str, value: Any) -> float:
    x = _as_float(func, name, value)
    if x <= 0:
        raise ValueError(f"{func}: {name} must be positive, got {value!r}")
    return x


def _non_negative(func: str, name: str, value: Any) -> float:
    x = _as_float(func, name, value)
    if x < 0:
        raise ValueError(f"{func}: {name} must be non-negative, got {value!r}")
    return x


def _count(func: str, name: str, value: Any, minimum: int = 1) -> int:
    """An integer >= minimum; integral floats such as 10.0 are accepted."""
    if isinstance(value, bool):
        raise ValueError(f"{func}: {name} must be an integer >= {minimum}, got {value!r}")
    if isinstance(value, numbers.Integral):
        n = int(value)
    elif (
        isinstance(value, numbers.Real)
        and math.isfinite(float(value))
        and float(value).is_integer()
    ):
        n = int(float(value))
    else:
        raise ValueError(f"{func}: {name} must be an integer >= {minimum}, got {value!r}")
    if n < minimum:
        raise ValueError(f"{func}: {name} must be an integer >= {minimum}, got {value!r}")
    return n


def _threshold(func: str, threshold: Any) -> float | None:
    if threshold is None:
        return None
    return _non_negative(func, "threshold", threshold)


def _check_stable(func: str, load: float, servers: int) -> None:
    if load >= servers:
        raise ValueError(
            f"{func}: offered load {load:.6g} >= servers {servers}; the queue is unstable"
        )


# --------------------------------------------------------------------------
# basic quantities
# --------------------------------------------------------------------------


def _logsumexp(log_terms: np.ndarray) -> float:
    """log(sum(exp(x))) without overflow; plain numpy, since scipy's version carries
    array-API overhead that dominates these short vectors."""
    top = float(np.max(log_terms))
    return top + math.log(float(np.sum(np.exp(log_terms - top))))


def _delay_metrics(lam: float, s: float, servers: int, p_wait: float, wq: float) -> dict[str, float]:
    """Metrics of a queue without abandonment or blocking from its delay probability and
    mean wait; the means follow by Little's law (offered load lam * s busy servers)."""
    a = lam * s
    return {
        "p_wait": p_wait,
        "mean_wait": wq,
        "asa": wq,
        "p_abandon": 0.0,
        "p_blocked": 0.0,
        "utilization": a / servers,
        "mean_queue": lam * wq,
        "mean_in_system": lam * wq + a,
        "mean_sojourn": wq + s,
        "throughput": lam,
        "mean_service": s,
    }


def offered_load(arrival_rate: float, mean_service: float) -> float:
    """Offered load (work arriving per time unit), in Erlangs.

    Parameters
    ----------
    arrival_rate : float
        Customers per time unit of the scenario, > 0.
    mean_service : float
        Mean service time, in time units of the scenario, > 0.

    Returns
    -------
    float
        ``arrival_rate * mean_service``: the mean number of busy servers an
        infinite-server system would have (dimensionless, Erlangs).
    """
    lam = _positive("offered_load", "arrival_rate", arrival_rate)
    s = _positive("offered_load", "mean_service", mean_service)
    return lam * s


def erlang_b(load: float, servers: int) -> float:
    """Erlang B (loss) formula: blocking probability of the M/G/c/c queue.

    Uses the recursion ``B(0) = 1``, ``B(k) = A B(k-1) / (k + A B(k-1))``,
    which is numerically stable for any load and number of servers (no
    factorials or powers are formed).

    Parameters
    ----------
    load : float
        Offered load ``A`` in Erlangs (arrival rate x mean service time), >= 0.
    servers : int
        Number of servers (lines, beds, agents), >= 1.

    Returns
    -------
    float
        Probability that an arriving customer finds all servers busy and is
        lost. Insensitive to the service-time distribution beyond its mean.

    Examples
    --------
    >>> round(erlang_b(10.0, 15), 4)
    0.0365
    """
    a = _non_negative("erlang_b", "load", load)
    n = _count("erlang_b", "servers", servers)
    b = 1.0
    for k in range(1, n + 1):
        ab = a * b
        b = ab / (k + ab)
    return b


def _erlang_c_probability(load: float, servers: int) -> float:
    """Erlang C delay probability from Erlang B; requires load < servers."""
    b = erlang_b(load, servers)
    return servers * b / (servers - load * (1.0 - b))


# --------------------------------------------------------------------------
# M/M/c (Erlang C) and M/M/1
# --------------------------------------------------------------------------


def erlang_c(
    arrival_rate: float,
    mean_service: float,
    servers: int,
    threshold: float | None = None,
) -> dict[str, float]:
    """Steady-state measures of the M/M/c queue (Erlang C, unlimited patience).

    With offered load ``A = lambda * s``, ``mu = 1/s`` and ``c`` servers:

    - ``p_wait = C(c, A) = c B / (c - A (1 - B))`` with ``B`` Erlang B;
    - ``mean_wait = asa = C / (c mu - lambda)``;
    - ``service_level = 1 - C exp(-(c mu - lambda) t)`` for ``threshold = t``
      (the FCFS waiting time is 0 with probability ``1 - C`` and otherwise
      exponential with rate ``c mu - lambda``);
    - ``utilization = A / c``, ``mean_queue = lambda * mean_wait``,
      ``mean_in_system = mean_queue + A``, ``mean_sojourn = mean_wait + s``.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate, customers per time unit, > 0.
    mean_service : float
        Mean (exponential) service time, time units, > 0.
    servers : int
        Number of servers, >= 1; must exceed the offered load.
    threshold : float, optional
        Service-level threshold, time units, >= 0. When given, the result has
        ``service_level``.

    Returns
    -------
    dict[str, float]
        ``p_wait, mean_wait, asa, p_abandon (0), p_blocked (0), utilization,
        mean_queue, mean_in_system, mean_sojourn, throughput, mean_service``
        and ``service_level`` if ``threshold`` is given.

    Raises
    ------
    ValueError
        If an argument is invalid or the offered load is >= ``servers``.
    """
    func = "erlang_c"
    lam = _positive(func, "arrival_rate", arrival_rate)
    s = _positive(func, "mean_service", mean_service)
    c = _count(func, "servers", servers)
    t = _threshold(func, threshold)
    a = lam * s
    _check_stable(func, a, c)

    pw = _erlang_c_probability(a, c)
    drain = c / s - lam  # rate at which a queue in front of a waiting customer empties
    wq = pw / drain
    out = _delay_metrics(lam, s, c, pw, wq)
    if t is not None:
        out["service_level"] = 1.0 - pw * math.exp(-drain * t)
    return out


def mm1(
    arrival_rate: float, mean_service: float, threshold: float | None = None
) -> dict[str, float]:
    """Steady-state measures of the M/M/1 queue (Erlang C with one server).

    Closed forms with ``rho = lambda * s``: ``p_wait = rho``,
    ``mean_wait = rho s / (1 - rho)``, ``mean_in_system = rho / (1 - rho)``,
    ``mean_sojourn = s / (1 - rho)``.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate, customers per time unit, > 0.
    mean_service : float
        Mean (exponential) service time, time units, > 0; ``rho < 1``.
    threshold : float, optional
        Service-level threshold, time units, >= 0.

    Returns
    -------
    dict[str, float]
        The same keys as :func:`erlang_c`.
    """
    try:
        return erlang_c(arrival_rate, mean_service, 1, threshold)
    except ValueError as exc:
        raise ValueError(str(exc).replace("erlang_c:", "mm1:", 1)) from None


# --------------------------------------------------------------------------
# M/M/c+M (Erlang A, Palm)
# --------------------------------------------------------------------------


def _erlang_a_distribution(
    lam: float, mu: float, c: int, theta: float
) -> tuple[np.ndarray, np.ndarray]:
    """Stationary distribution of the M/M/c+M birth-death process.

    Returns ``(p_head, p_queue)``: ``p_head[n] = P(N = n)`` for ``n < c`` and
    ``p_queue[k] = P(N = c + k)`` for ``k = 0..K`` where the tail beyond ``K``
    is negligible in double precision.
    """
    a = lam / mu
    n = np.arange(c + 1, dtype=float)
    # log pi_n (unnormalised) = n log A - log n!  for n <= c (no abandonment yet)
    log_head = n * math.log(a) - special.gammaln(n + 1.0)
    log_pc = log_head[-1]

    # Above c the death rate is c mu + k theta, so pi_{c+k} = pi_{c+k-1} lam/(c mu + k theta):
    # the ratios fall below 1 after k_peak and then the tail decays faster than geometric.
    k_peak = max(0.0, (lam - c * mu) / theta)
    size = int(min(_MAX_QUEUE_STATES, max(256.0, 2.0 * k_peak + 256.0)))
    while True:
        k = np.arange(1, size + 1, dtype=float)
        log_ratio = math.log(lam) - np.log(c * mu + k * theta)
        log_tail = log_pc + np.cumsum(log_ratio)
        log_max = max(float(log_head.max()), float(log_tail.max()))
        last_ratio = lam / (c * mu + (size + 1) * theta)
        # Past the peak the ratios decrease, so the mass beyond the last state is at
        # most last_term * r / (1 - r): stop once that is negligible.
        if last_ratio < 1.0:
            log_rest = log_tail[-1] + math.log(last_ratio) - math.log1p(-last_ratio)
            if log_rest - log_max < -_LOG_NEGLIGIBLE:
                break
        if size >= _MAX_QUEUE_STATES:
            raise ValueError(
                "erlang_a: the queue would need more than "
                f"{_MAX_QUEUE_STATES} states; mean_patience is too long for this overload"
            )
        size = min(_MAX_QUEUE_STATES, 2 * size)

    log_all = np.concatenate([log_head, log_tail])
    log_norm = _logsumexp(log_all)
    p = np.exp(log_all - log_norm)
    return p[:c], p[c:]


def erlang_a(
    arrival_rate: float,
    mean_service: float,
    servers: int,
    mean_patience: float,
    threshold: float | None = None,
) -> dict[str, float]:
    """Exact steady-state measures of the M/M/c+M queue (Palm / Erlang A).

    Poisson arrivals (rate ``lambda``), exponential service (rate
    ``mu = 1/s``), ``c`` servers, FCFS, and every waiting customer abandons
    after an exponential patience (rate ``theta = 1/mean_patience``). The
    number present ``N`` is a birth-death process with birth rate ``lambda``
    and death rate ``min(n, c) mu + max(n - c, 0) theta``, so

    ``pi_n = pi_0 A^n / n!`` for ``n <= c`` and
    ``pi_{c+k} = pi_c prod_{j=1..k} lambda / (c mu + j theta)``.

    The infinite sum is truncated where the remaining terms are below double
    precision; the system is stable for every load. By PASTA an arrival sees
    ``pi``. With ``Q = (N - c)^+``:

    - ``p_wait = P(N >= c)``;
    - ``mean_queue = E[Q]``; ``mean_wait = E[Q] / lambda`` (Little, over all
      admitted arrivals, abandoning ones counted until they abandon);
    - ``p_abandon = theta E[Q] / lambda`` (abandonment flow / arrival flow);
    - an arrival that finds ``c + k`` present is at queue position
      ``m = k + 1``. Write ``a = c mu / theta``. At position ``i`` the
      customer moves up at rate ``c mu + (i - 1) theta`` and abandons at rate
      ``theta``; the products telescope, giving
      ``P(served | m) = a / (a + m)`` and, because the sum of the
      exponential stage times ``sum_{i=1..m} Exp(theta (a + i))`` has the law
      of ``-log(B) / theta`` with ``B ~ Beta(a + 1, m)``,

      ``P(served, W <= t | m) = a / (a + m) * I_{1 - exp(-theta t)}(m, a + 1)``

      (``I`` the regularised incomplete beta function) and
      ``E[W; served | m] = a / (a + m) * (psi(a + m + 1) - psi(a + 1)) / theta``
      (``psi`` the digamma function);
    - ``service_level = P(N < c) + sum_k pi_{c+k} P(served, W <= t | k + 1)``:
      service starts within ``t``; customers who abandon, before or after
      ``t``, count as failures;
    - ``asa = E[W; served] / P(served)``;
    - ``utilization = E[min(N, c)] / c``, ``throughput = lambda (1 - p_abandon)``,
      ``mean_in_system = E[N]``, ``mean_sojourn = asa + s`` (served customers).

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate, customers per time unit, > 0.
    mean_service : float
        Mean (exponential) service time, time units, > 0.
    servers : int
        Number of servers, >= 1.
    mean_patience : float
        Mean (exponential) patience of a waiting customer, time units, > 0.
        ``math.inf`` is refused; use :func:`erlang_c` for infinite patience.
    threshold : float, optional
        Service-level threshold, time units, >= 0.

    Returns
    -------
    dict[str, float]
        ``p_wait, mean_wait, asa, p_abandon, p_blocked (0), utilization,
        mean_queue, mean_in_system, mean_sojourn, throughput, mean_service``
        and ``service_level`` if ``threshold`` is given.

    Raises
    ------
    ValueError
        If an argument is invalid.

    Notes
    -----
    As ``mean_patience`` grows (with load < servers) the measures tend to
    those of :func:`erlang_c`; as it shrinks they tend to Erlang B (waiting
    customers leave at once).
    """
    func = "erlang_a"
    lam = _positive(func, "arrival_rate", arrival_rate)
    s = _positive(func, "mean_service", mean_service)
    c = _count(func, "servers", servers)
    patience = _positive(func, "mean_patience", mean_patience)
    t = _threshold(func, threshold)
    mu = 1.0 / s
    theta = 1.0 / patience

    p_head, p_queue = _erlang_a_distribution(lam, mu, c, theta)
    k = np.arange(p_queue.size, dtype=float)
    m = k + 1.0  # queue position of an arrival that finds c + k present
    a = c * mu / theta

    p_no_wait = float(p_head.sum())
    p_wait = float(p_queue.sum())
    mean_queue = float(np.dot(k, p_queue))
    busy = float(np.dot(np.arange(c, dtype=float), p_head)) + c * p_wait
    p_abandon = theta * mean_queue / lam
    mean_wait = mean_queue / lam

    p_served_given_m = a / (a + m)
    p_served = p_no_wait + float(np.dot(p_queue, p_served_given_m))
    wait_served = float(
        np.dot(
            p_queue, p_served_given_m * (special.digamma(a + m + 1.0) - special.digamma(a + 1.0))
        )
        / theta
    )
    asa = wait_served / p_served

    out = {
        "p_wait": p_wait,
        "mean_wait": mean_wait,
        "asa": asa,
        "p_abandon": p_abandon,
        "p_blocked": 0.0,
        "utilization": busy / c,
        "mean_queue": mean_queue,
        "mean_in_system": busy + mean_queue,
        "mean_sojourn": asa + s,
        "throughput": lam * (1.0 - p_abandon),
        "mean_service": s,
    }
    if t is not None:
        x = -math.expm1(-theta * t)  # 1 - exp(-theta t) without cancellation
        within = special.betainc(m, a + 1.0, x) if x > 0 else np.zeros_like(m)
        out["service_level"] = p_no_wait + float(np.dot(p_queue, p_served_given_m * within))
    return out


# --------------------------------------------------------------------------
# M/M/c/K
# --------------------------------------------------------------------------


def mmck(
    arrival_rate: float,
    mean_service: float,
    servers: int,
    capacity: int,
    threshold: float | None = None,
) -> dict[str, float]:
    """Exact steady-state measures of the M/M/c/K queue (finite waiting room).

    At most ``K = capacity`` customers are present (``K - c`` waiting); an
    arrival finding ``K`` present is blocked. ``pi_n`` is proportional to
    ``A^n / n!`` for ``n <= c`` and to ``pi_c (A / c)^(n - c)`` above. By PASTA:

    - ``p_blocked = pi_K``; admitted arrivals see ``pi_n / (1 - pi_K)``, n < K;
    - ``p_wait = P(N >= c | admitted)`` (0 when ``K == c``: Erlang B);
    - ``throughput = lambda (1 - pi_K)``, ``utilization = throughput s / c``;
    - ``mean_wait = asa = E[(N - c)^+] / throughput`` (Little, admitted
      arrivals), ``mean_sojourn = E[N] / throughput``;
    - ``service_level = P(W <= t | admitted)``: an admitted arrival finding
      ``n >= c`` present waits an Erlang(``n - c + 1``, ``c mu``) time.

    Always stable: any positive load is allowed.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate, customers per time unit, > 0.
    mean_service : float
        Mean (exponential) service time, time units, > 0.
    servers : int
        Number of servers, >= 1.
    capacity : int
        Most customers present (in service plus waiting), >= ``servers``.
    threshold : float, optional
        Service-level threshold, time units, >= 0.

    Returns
    -------
    dict[str, float]
        ``p_blocked, p_wait, mean_wait, asa, p_abandon (0), utilization,
        mean_queue, mean_in_system, mean_sojourn, throughput, mean_service``
        and ``service_level`` if ``threshold`` is given.
    """
    func = "mmck"
    lam = _positive(func, "arrival_rate", arrival_rate)
    s = _positive(func, "mean_service", mean_service)
    c = _count(func, "servers", servers)
    cap = _count(func, "capacity", capacity)
    if cap < c:
        raise ValueError(f"mmck: capacity {cap} must be >= servers {c}")
    t = _threshold(func, threshold)
    a = lam * s

    n = np.arange(cap + 1, dtype=float)
    log_p = np.where(
        n <= c,
        n * math.log(a) - special.gammaln(np.minimum(n, c) + 1.0),
        c * math.log(a) - special.gammaln(c + 1.0) + (n - c) * math.log(a / c),
    )
    p = np.exp(log_p - _logsumexp(log_p))

    p_block = float(p[-1])
    admitted = p[:-1] / (1.0 - p_block)
    queue_len = np.maximum(n - c, 0.0)
    mean_queue = float(np.dot(queue_len, p))
    mean_in_system = float(np.dot(n, p))
    throughput = lam * (1.0 - p_block)
    wq = mean_queue / throughput
    out = {
        "p_blocked": p_block,
        "p_wait": float(admitted[c:].sum()),
        "mean_wait": wq,
        "asa": wq,
        "p_abandon": 0.0,
        "utilization": throughput * s / c,
        "mean_queue": mean_queue,
        "mean_in_system": mean_in_system,
        "mean_sojourn": mean_in_system / throughput,
        "throughput": throughput,
        "mean_service": s,
    }
    if t is not None:
        ahead = np.arange(1, cap - c + 1, dtype=float)  # services to wait for, states c..K-1
        within = special.gammainc(ahead, c * t / s) if t > 0 else np.zeros_like(ahead)
        out["service_level"] = float(admitted[:c].sum() + np.dot(admitted[c:], within))
    return out


# --------------------------------------------------------------------------
# M/G/1, GI/M/1 and GI/G/c
# --------------------------------------------------------------------------


def mg1(arrival_rate: float, mean_service: float, cv_service: float) -> dict[str, float]:
    """Steady-state means of the M/G/1 queue (Pollaczek-Khinchine).

    ``mean_wait = rho s (1 + cv^2) / (2 (1 - rho))`` with ``rho = lambda s``;
    exact for any service distribution with that mean and coefficient of
    variation. ``p_wait = rho`` (an arrival waits iff the server is busy).

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate, customers per time unit, > 0.
    mean_service : float
        Mean service time, time units, > 0; ``rho < 1``.
    cv_service : float
        Coefficient of variation of service time (std / mean), >= 0:
        0 deterministic (M/D/1), 1 exponential (M/M/1).

    Returns
    -------
    dict[str, float]
        ``p_wait, mean_wait, asa, p_abandon (0), p_blocked (0), utilization,
        mean_queue, mean_in_system, mean_sojourn, throughput, mean_service``.
    """
    func = "mg1"
    lam = _positive(func, "arrival_rate", arrival_rate)
    s = _positive(func, "mean_service", mean_service)
    cv = _non_negative(func, "cv_service", cv_service)
    rho = lam * s
    _check_stable(func, rho, 1)
    wq = rho * s * (1.0 + cv * cv) / (2.0 * (1.0 - rho))
    return _delay_metrics(lam, s, 1, rho, wq)


def gim1(
    arrival_rate: float,
    mean_service: float,
    laplace_interarrival: Callable[[float], float],
    threshold: float | None = None,
) -> dict[str, float]:
    """Steady-state measures of the GI/M/1 queue (renewal arrivals, exponential service).

    With ``A*(s) = E[exp(-s T)]`` the Laplace transform of the inter-arrival
    time ``T`` and ``mu = 1 / mean_service``, the number present at an arrival
    is geometric with parameter ``sigma``, the root in (0, 1) of
    ``sigma = A*(mu (1 - sigma))`` (unique when ``rho = lambda / mu < 1``).
    Then ``p_wait = sigma``, the wait of a delayed customer is exponential with
    rate ``mu (1 - sigma)``: ``mean_wait = sigma / (mu (1 - sigma))`` and
    ``P(W <= t) = 1 - sigma exp(-mu (1 - sigma) t)``; the time averages follow
    by Little's law. Poisson arrivals (``A*(s) = lambda / (lambda + s)``) give
    ``sigma = rho``: the M/M/1 queue.

    Parameters
    ----------
    arrival_rate : float
        Arrival rate ``1 / E[T]``, customers per time unit, > 0.
    mean_service : float
        Mean (exponential) service time, time units, > 0; ``rho < 1``.
    laplace_interarrival : callable
        ``s -> E[exp(-s T)]`` for ``s >= 0``, the inter-arrival time's
        Laplace transform (e.g. ``(k lam / (k lam + s))**k`` for Erlang-k,
        ``exp(-s / lam)`` for deterministic arrivals).
    threshold : float, optional
        Time units, >= 0; adds ``service_level = P(W <= threshold)``.

    Returns
    -------
    dict[str, float]
        ``p_wait, mean_wait, asa, p_abandon (0), p_blocked (0), utilization,
        mean_queue, mean_in_system, mean_sojourn, throughput, mean_service``
        and, with a threshold, ``service_level``.
    """
    func = "gim1"
    lam = _positive(func, "arrival_rate", arrival_rate)
    s = _positive(func, "mean_service", mean_service)
    t = _threshold(func, threshold)
    if not callable(laplace_interarrival):
        raise ValueError(f"{func}: laplace_interarrival must be a function, got {laplace_interarrival!r}")
    _check_stable(func, lam * s, 1)
    mu = 1.0 / s

    def excess(sigma: float) -> float:
        value = laplace_interarrival(mu * (1.0 - sigma))
        if not (isinstance(value, numbers.Real) and 0.0 <= float(value) <= 1.0):
            raise ValueError(
                f"{func}: laplace_interarrival({mu * (1.0 - sigma):.6g}) must be in [0, 1], "
                f"got {value!r}"
            )
        return float(value) - sigma

    # excess > 0 below the root and < 0 between it and the trivial root 1
    # (its slope at 1 is 1/rho - 1 > 0), so bisection on a bracket [0, 1 - 2^-k].
    lo, hi = 0.0, 0.5
    while excess(hi) >= 0.0:
        lo, hi = hi, 0.5 * (1.0 + hi)
        if hi >= 1.0:
            raise ValueError(f"{func}: no root of sigma = A*(mu (1 - sigma)) below 1; "
                             "check the transform's mean against arrival_rate")
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if excess(mid) > 0.0 else (lo, mid)
    sigma = 0.5 * (lo + hi)
    decay = mu * (1.0 - sigma)
    out = _delay_metrics(lam, s, 1, sigma, sigma / decay)
    if t is not None:
        out["service_level"] = 1.0 - sigma * math.exp(-decay * t)
    return out


def allen_cunneen(
    arrival_rate: float,
    mean_service: float,
    servers: int,
    cv_arrival: float,
    cv_service: float,
) -> dict[str, float]:
    """Allen-Cunneen approximation for the GI/G/c queue.

    ``mean_wait ~ W_q(M/M/c) * (ca^2 + cs^2) / 2``: the Erlang C mean wait
    scaled by the variability of inter-arrival and service times. Exact for
    M/M/c (``ca = cs = 1``) and for M/G/1 (``c = 1, ca = 1``:
    Pollaczek-Khinchine). ``p_wait`` is the Erlang C delay probability, the
    usual companion approximation. ``utilization``, ``throughput`` and the
    Little-law derived means follow from the approximate ``mean_wait``.

    Parameters
    ----------
    arrival_rate : float
        Arrival rate, customers per time unit, > 0.
    mean_service : float
        Mean service time, time units, > 0.
    servers : int
        Number of servers, >= 1; must exceed the offered load.
    cv_arrival : float
        Coefficient of variation of inter-arrival times, >= 0 (1 = Poisson).
    cv_service : float
        Coefficient of variation of service times, >= 0 (1 = exponential).

    Returns
    -------
    dict[str, float]
        ``p_wait, mean_wait, asa, p_abandon (0), p_blocked (0), utilization,
        mean_queue, mean_in_system, mean_sojourn, throughput, mean_service``.
    """
    func = "allen_cunneen"
    lam = _positive(func, "arrival_rate", arrival_rate)
    s = _positive(func, "mean_service", mean_service)
    c = _count(func, "servers", servers)
    ca = _non_negative(func, "cv_arrival", cv_arrival)
    cs = _non_negative(func, "cv_service", cv_service)
    a = lam * s
    _check_stable(func, a, c)
    pw = _erlang_c_probability(a, c)
    wq = pw / (c / s - lam) * (ca * ca + cs * cs) / 2.0
    return _delay_metrics(lam, s, c, pw, wq)


# --------------------------------------------------------------------------
# non-preemptive priority M/G/1 (Cobham)
# --------------------------------------------------------------------------


def priority_mg1(
    arrival_rates: Sequence[float],
    mean_services: Sequence[float],
    second_moments: Sequence[float],
) -> list[dict[str, float]]:
    """Per-class means of the non-preemptive priority M/G/1 queue (Cobham 1954).

    Class 0 has the highest priority; within a class service is FCFS and a
    service in progress is never interrupted. With ``rho_i = lambda_i s_i``,
    ``sigma_k = rho_0 + ... + rho_k`` and the mean residual work
    ``W0 = sum_i lambda_i E[S_i^2] / 2``:

    ``mean_wait_k = W0 / ((1 - sigma_{k-1}) (1 - sigma_k))``, ``sigma_{-1} = 0``.

    Parameters
    ----------
    arrival_rates : sequence of float
        Poisson arrival rate of each class, customers per time unit, >= 0,
        with a positive total.
    mean_services : sequence of float
        Mean service time of each class, time units, > 0.
    second_moments : sequence of float
        ``E[S^2]`` of each class, time units squared, >= ``mean^2``
        (``(1 + cv^2) mean^2``; ``2 mean^2`` for exponential service).

    Returns
    -------
    list of dict[str, float]
        One dict per class, in priority order, with ``p_wait`` (total
        ``rho``: an arrival waits iff the server is busy), ``mean_wait``,
        ``asa``, ``mean_queue``, ``mean_sojourn``, ``mean_in_system``,
        ``utilization`` (the class's share ``rho_k`` of server time),
        ``throughput`` and ``mean_service``.

    Raises
    ------
    ValueError
        If the lengths differ, an argument is invalid or the total load
        is >= 1.
    """
    func = "priority_mg1"
    lams = list(arrival_rates)
    means = list(mean_services)
    m2s = list(second_moments)
    if not lams:
        raise ValueError(f"{func}: arrival_rates must hold at least one class")
    if not len(lams) == len(means) == len(m2s):
        raise ValueError(
            f"{func}: arrival_rates, mean_services and second_moments must have the same "
            f"length, got {len(lams)}, {len(means)}, {len(m2s)}"
        )
    lam = [_non_negative(func, f"arrival_rates[{i}]", x) for i, x in enumerate(lams)]
    s = [_positive(func, f"mean_services[{i}]", x) for i, x in enumerate(means)]
    m2 = [_positive(func, f"second_moments[{i}]", x) for i, x in enumerate(m2s)]
    for i, (si, m2i) in enumerate(zip(s, m2, strict=True)):
        # E[S^2] >= E[S]^2 (variance >= 0); allow rounding in user input
        if m2i < si * si * (1.0 - 1e-12):
            raise ValueError(
                f"{func}: second_moments[{i}] = {m2i:.6g} is below mean_services[{i}]^2 = "
                f"{si * si:.6g}; E[S^2] must be >= E[S]^2"
            )
    if sum(lam) <= 0:
        raise ValueError(f"{func}: arrival_rates must have a positive total")
    rho = [li * si for li, si in zip(lam, s, strict=True)]
    total = sum(rho)
    _check_stable(func, total, 1)

    w0 = sum(li * m2i for li, m2i in zip(lam, m2, strict=True)) / 2.0
    out: list[dict[str, float]] = []
    sigma_prev = 0.0
    for li, si, ri in zip(lam, s, rho, strict=True):
        sigma = sigma_prev + ri
        wq = w0 / ((1.0 - sigma_prev) * (1.0 - sigma))
        out.append(
            {
                "p_wait": total,
                "mean_wait": wq,
                "asa": wq,
                "mean_queue": li * wq,
                "mean_sojourn": wq + si,
                "mean_in_system": li * (wq + si),
                "utilization": ri,
                "throughput": li,
                "mean_service": si,
            }
        )
        sigma_prev = sigma
    return out


def traffic_rates(external_rates: Sequence[float], routing: ArrayLike) -> np.ndarray:
    """Total arrival rates of an open network: the solution of ``lambda = gamma + P^T lambda``.

    Customers arrive from outside at station ``j`` at rate ``gamma_j`` and go
    from ``i`` to ``j`` with probability ``P[i, j]`` (the rest of row ``i``
    leaves). The traffic equations hold for any service times and any number
    of servers; with ``gamma`` a unit vector the answer is the expected number
    of visits to each station per customer entering there.

    Parameters
    ----------
    external_rates : sequence of float
        ``gamma_j`` >= 0, one per station.
    routing : array_like, shape (n, n)
        Routing probabilities, rows = from, columns = to; row sums <= 1.

    Returns
    -------
    numpy.ndarray
        ``lambda_j``, the total arrival rate at each station.

    Raises
    ------
    ValueError
        If shapes or values are invalid or customers can never leave (the
        traffic equations have no solution).
    """
    func = "traffic_rates"
    gamma = np.array([_non_negative(func, f"external_rates[{j}]", x)
                      for j, x in enumerate(external_rates)])
    if gamma.size == 0:
        raise ValueError(f"{func}: external_rates must hold at least one station")
    return _solve_traffic(func, gamma, routing)


def _solve_traffic(func: str, gamma: np.ndarray, routing: ArrayLike) -> np.ndarray:
    n = gamma.size
    try:
        p = np.asarray(routing, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{func}: routing must be a numeric matrix") from None
    if p.shape != (n, n):
        raise ValueError(f"{func}: routing must have shape ({n}, {n}), got {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
        raise ValueError(f"{func}: routing entries must be probabilities in [0, 1]")
    row_sums = p.sum(axis=1)
    bad = np.flatnonzero(row_sums > 1.0 + 1e-9)
    if bad.size:
        raise ValueError(f"{func}: routing row {int(bad[0])} sums to {row_sums[bad[0]]:.6g} > 1")

    system_matrix = np.eye(n) - p.T
    # A closed loop (a set of stations customers can never leave) makes I - P^T singular.
    if np.linalg.cond(system_matrix) > 1e12:
        raise ValueError(
            f"{func}: routing traps customers in a loop they never leave; "
            "the traffic equations have no solution"
        )
    lam = np.linalg.solve(system_matrix, gamma)
    lam = np.where(lam < 1e-14 * gamma.sum(), 0.0, lam)  # round-off from unreachable stations
    if np.any(lam < 0):
        raise ValueError(f"{func}: routing gives negative flows; check the matrix")
    return lam


# --------------------------------------------------------------------------
# open Jackson network of M/M/c stations
# --------------------------------------------------------------------------


def jackson(
    external_rates: Sequence[float],
    mean_services: Sequence[float],
    servers: Sequence[int],
    routing: ArrayLike,
) -> dict[str, Any]:
    """Open Jackson network of M/M/c stations (Jackson 1957).

    Customers arrive from outside at station ``j`` at Poisson rate
    ``gamma_j``; after service at ``i`` they go to ``j`` with probability
    ``P[i, j]`` and leave with probability ``1 - sum_j P[i, j]``. The total
    arrival rates solve the traffic equations ``lambda = gamma + P^T lambda``
    and, by Jackson's theorem, each station behaves in steady state as an
    independent M/M/c queue (:func:`erlang_c`) with arrival rate ``lambda_j``.

    The ``system`` dict reports, with ``Gamma = sum_j gamma_j``:
    ``mean_in_system = L = sum_j L_j``, ``mean_queue = sum_j Lq_j``,
    ``mean_sojourn = L / Gamma`` and ``mean_wait = Lq / Gamma`` (total time
    from entering to leaving the network, and total time in queues, per
    customer, by Little's law), and ``throughput = Gamma``.

    Parameters
    ----------
    external_rates : sequence of float
        ``gamma_j``, customers per time unit arriving from outside at each
        station, >= 0, with a positive total.
    mean_services : sequence of float
        Mean (exponential) service time at each station, time units, > 0.
    servers : sequence of int
        Servers at each station, >= 1; each station's load must be below it.
    routing : array_like, shape (n, n)
        Routing probabilities, rows = from, columns = to; entries in
        [0, 1], row sums <= 1 (the rest leaves the network).

    Returns
    -------
    dict
        ``{"stations": [dict, ...], "system": dict, "arrival_rates": [...]}``:
        per-station :func:`erlang_c` dicts (``throughput`` equals the
        station's total arrival rate), the network-level dict and the solved
        total arrival rates ``lambda_j``. A station that no customer reaches
        gets zeros for its queue measures.

    Raises
    ------
    ValueError
        If shapes or values are invalid, customers can never leave (the
        traffic equations have no solution), or a station is unstable.
    """
    func = "jackson"
    gam_in = list(external_rates)
    n = len(gam_in)
    if n == 0:
        raise ValueError(f"{func}: external_rates must hold at least one station")
    if len(mean_services) != n or len(servers) != n:
        raise ValueError(
            f"{func}: external_rates, mean_services and servers must have the same length, "
            f"got {n}, {len(mean_services)}, {len(servers)}"
        )
    gamma = np.array([_non_negative(func, f"external_rates[{j}]", x) for j, x in enumerate(gam_in)])
    s = [_positive(func, f"mean_services[{j}]", x) for j, x in enumerate(mean_services)]
    c = [_count(func, f"servers[{j}]", x) for j, x in enumerate(servers)]
    if gamma.sum() <= 0:
        raise ValueError(f"{func}: external_rates must have a positive total")
    lam = _solve_traffic(func, gamma, routing)

    stations: list[dict[str, float]] = []
    for j in range(n):
        if lam[j] == 0.0:
            stations.append(
                {
                    "p_wait": 0.0,
                    "mean_wait": 0.0,
                    "asa": 0.0,
                    "p_abandon": 0.0,
                    "p_blocked": 0.0,
                    "utilization": 0.0,
                    "mean_queue": 0.0,
                    "mean_in_system": 0.0,
                    "mean_sojourn": s[j],
                    "throughput": 0.0,
                    "mean_service": s[j],
                }
            )
            continue
        load = float(lam[j]) * s[j]
        if load >= c[j]:
            raise ValueError(
                f"{func}: station {j} offered load {load:.6g} >= servers {c[j]} "
                f"(total arrival rate {lam[j]:.6g}); the queue is unstable"
            )
        stations.append(erlang_c(float(lam[j]), s[j], c[j]))

    total_in = float(gamma.sum())
    big_l = sum(st["mean_in_system"] for st in stations)
    big_lq = sum(st["mean_queue"] for st in stations)
    system = {
        "mean_in_system": big_l,
        "mean_queue": big_lq,
        "mean_sojourn": big_l / total_in,
        "mean_wait": big_lq / total_in,
        "throughput": total_in,
    }
    return {"stations": stations, "system": system, "arrival_rates": [float(x) for x in lam]}
