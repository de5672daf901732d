"""Teaching studies: simulate textbook queues and line them up with theory.

A queueing course rests on a handful of results: the M/M/1 and M/M/c (Erlang
C) formulas, Little's law ``L = lambda W`` and the "hockey stick" (waiting
grows like ``rho / (1 - rho)`` as the utilisation ``rho`` approaches one, and
pooled servers postpone the bend). Each function here runs the experiments
behind one of those lessons and returns a *tidy* pandas table, so that a
notebook only calls a function and plots the table (``simlib.plots.queueing``) and the
same numbers can be tested.

Tables of simulated studies have one row per (parameter value, metric) with
the summary columns of docs/metrics.md#summaries (``mean, std, ci_low, ci_high,
n``, a 95% t-interval over replications) and a ``theory`` column from
:mod:`simlib.theory.queueing`. Time is in the scenario's unit (minutes in the bundled
scenarios); with ``mean_service = 1`` the M/M/1 study measures time in mean
service times.

References
----------
- A. K. Erlang (1917), Elektroteknikeren 13 (Erlang C).
- J. D. C. Little (1961), "A proof for the queuing formula L = lambda W",
  *Operations Research* 9(3):383-387.
- L. Kleinrock (1975), *Queueing Systems, Vol. 1: Theory*, Wiley.
- N. Gans, G. Koole, A. Mandelbaum (2003), "Telephone call centers:
  tutorial, review, and research prospects", *MSOM* 5(2):79-141.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from simlib.experiments.results import Results
from simlib.experiments.runner import run
from simlib.spec.distributions import Exponential
from simlib.spec.scenario import Scenario, load_scenario
from simlib.theory import queueing

__all__ = [
    "STUDY_METRICS",
    "mmc_scenario",
    "erlang_c_theory",
    "compare_with_theory",
    "utilisation_study",
    "utilisation_theory",
    "staffing_study",
    "littles_law_table",
]

#: Metrics compared with theory by default (those Erlang C defines and the
#: simulator reports; ``service_level`` is added when a threshold is known).
STUDY_METRICS: tuple[str, ...] = (
    "p_wait",
    "mean_wait",
    "utilization",
    "mean_queue",
    "mean_in_system",
    "mean_sojourn",
)

_SUMMARY = ["mean", "std", "ci_low", "ci_high", "n"]


def mmc_scenario(
    rho: float,
    servers: int = 1,
    mean_service: float = 1.0,
    horizon: float = 5_000.0,
    warmup: float | None = None,
    threshold: float | None = None,
) -> Scenario:
    """An M/M/c scenario with per-server utilisation ``rho``.

    Parameters
    ----------
    rho : float
        Offered load per server, ``lambda * mean_service / servers``, in (0, 1).
    servers : int
        Number of parallel servers ``c``.
    mean_service : float
        Mean exponential service time, time units.
    horizon : float
        Observed length of one replication, time units.
    warmup : float, optional
        Simulated, discarded start; default a tenth of the horizon, because an
        empty-and-idle start biases the waits downwards.
    threshold : float, optional
        Service-level threshold, time units (adds the ``service_level`` metric).

    Returns
    -------
    Scenario
        One class ``customer``, one station ``server``.
    """
    if not 0 < rho < 1:
        raise ValueError(f"mmc_scenario: rho must be in (0, 1), got {rho!r}")
    spec: dict[str, Any] = {
        "name": f"M/M/{servers} rho={rho:g}",
        "horizon": horizon,
        "warmup": horizon / 10 if warmup is None else warmup,
        "classes": [{"name": "customer", "arrivals": {"rate": rho * servers / mean_service}}],
        "stations": [
            {
                "name": "server",
                "servers": servers,
                "service": {"dist": "exponential", "mean": mean_service},
            }
        ],
    }
    if threshold is not None:
        spec["targets"] = {"service_level": {"threshold": threshold, "target": 0.8}}
    return load_scenario(spec)


def erlang_c_theory(scenario: Scenario, station: str | None = None) -> dict[str, float]:
    """Erlang C values for a scenario that *is* an M/M/c queue.

    Parameters
    ----------
    scenario : Scenario
        One station with a constant number of servers, exponential service
        (the same for every class), Poisson classes with constant rates, no
        patience, no queue limit and no routing.
    station : str, optional
        Station name; default the first (and only) station.

    Returns
    -------
    dict[str, float]
        :func:`simlib.theory.queueing.erlang_c` at the scenario's total arrival rate,
        with ``service_level`` when the scenario has a service-level target.

    Raises
    ------
    ValueError
        If the scenario is not an M/M/c queue (theory would not apply) or is
        unstable.
    """
    st = scenario.station(station) if station is not None else scenario.stations[0]
    problems = []
    if len(scenario.stations) != 1 or scenario.routing:
        problems.append("more than one station or routing")
    if st.servers is None:
        problems.append("shifts instead of a constant number of servers")
    if st.queue_capacity is not None:
        problems.append("a queue limit")
    dists: list[Any] = []
    for d in st.service.values():  # per-class entries may repeat one distribution
        if d not in dists:
            dists.append(d)
    if len(dists) != 1 or not isinstance(dists[0], Exponential):
        problems.append("non-exponential or class-dependent service")
    for c in scenario.classes:
        if c.arrivals.rate is None:
            problems.append(f"class {c.name!r} has no constant Poisson rate")
        if c.patience is not None:
            problems.append(f"class {c.name!r} abandons")
    if problems:
        raise ValueError(f"erlang_c_theory: not an M/M/c queue ({'; '.join(problems)})")
    rate = math.fsum(float(c.arrivals.rate) for c in scenario.classes)  # type: ignore[arg-type]
    mean_service = dists[0].mean
    threshold = scenario.service_level.threshold if scenario.service_level else None
    assert st.servers is not None
    return queueing.erlang_c(rate, mean_service, st.servers, threshold)


def compare_with_theory(
    results: Results,
    theory: Mapping[str, float],
    scope: str | None = None,
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Simulated summary of one scope next to theoretical values.

    Parameters
    ----------
    results : Results
        Output of :func:`simlib.run`.
    theory : mapping
        Metric name → theoretical value (e.g. :func:`erlang_c_theory`).
    scope : str, optional
        Scope to report; default the first station.
    metrics : sequence of str, optional
        Metrics to report; default every metric in both the summary and ``theory``.

    Returns
    -------
    pandas.DataFrame
        ``metric, mean, std, ci_low, ci_high, n, theory, covered`` where
        ``covered`` says whether the 95% interval contains the theory value.
    """
    scope = scope or results.scenario.stations[0].name
    summary = results.summary()
    rows = summary[summary["scope"] == scope].set_index("metric")
    if metrics is None:
        metrics = [m for m in rows.index if m in theory]
    table = rows.loc[list(metrics), _SUMMARY].reset_index()
    table["theory"] = [float(theory[m]) for m in metrics]
    table["covered"] = (table["ci_low"] <= table["theory"]) & (table["theory"] <= table["ci_high"])
    return table


def _study_rows(
    results: Results, theory: Mapping[str, float], scope: str, metrics: Sequence[str]
) -> pd.DataFrame:
    summary = results.summary()
    rows = summary[(summary["scope"] == scope) & summary["metric"].isin(metrics)]
    rows = rows[["metric", *_SUMMARY]].copy()
    # NaN where theory does not exist (e.g. an unstable staffing level), so the
    # table stays rectangular and plots simply skip the point.
    rows["theory"] = [float(theory.get(m, math.nan)) for m in rows["metric"]]
    return rows


def utilisation_study(
    rhos: Iterable[float],
    replications: int = 10,
    seed: int = 1,
    horizon: float = 5_000.0,
    servers: int = 1,
    mean_service: float = 1.0,
    metrics: Sequence[str] = STUDY_METRICS,
) -> pd.DataFrame:
    """Simulate the M/M/c queue at several utilisations and add the theory.

    Every utilisation uses the same root ``seed``, so the replications share
    random streams (common random numbers) and the curve is smoother than
    independent runs would give.

    Parameters
    ----------
    rhos : iterable of float
        Per-server utilisations, each in (0, 1). Near 1 the queue needs long
        horizons: its relaxation time grows like ``1 / (1 - sqrt(rho))**2``.
    replications : int
        Independent replications per utilisation.
    seed : int
        Root seed.
    horizon : float
        Observed time per replication, time units (warm-up: a tenth of it).
    servers : int
        Servers ``c`` (1 gives the M/M/1 queue).
    mean_service : float
        Mean service time, time units.
    metrics : sequence of str
        Metrics to keep.

    Returns
    -------
    pandas.DataFrame
        ``rho, servers, metric, mean, std, ci_low, ci_high, n, theory``.
    """
    frames = []
    for rho in rhos:
        scn = mmc_scenario(rho, servers, mean_service, horizon)
        res = run(scn, replications=replications, seed=seed)
        rows = _study_rows(res, erlang_c_theory(scn), "server", metrics)
        rows.insert(0, "servers", servers)
        rows.insert(0, "rho", float(rho))
        frames.append(rows)
    return pd.concat(frames, ignore_index=True)


def utilisation_theory(
    rhos: Iterable[float],
    servers: Iterable[int] = (1,),
    mean_service: float = 1.0,
) -> pd.DataFrame:
    """Erlang C curves against utilisation, for one or more server counts.

    With the utilisation held fixed, more servers mean a much shorter wait
    (the pooling effect); a fine grid of ``rhos`` draws the hockey stick.

    Parameters
    ----------
    rhos : iterable of float
        Per-server utilisations in (0, 1).
    servers : iterable of int
        Server counts, one curve each.
    mean_service : float
        Mean service time, time units.

    Returns
    -------
    pandas.DataFrame
        ``rho, servers, metric, theory``: every metric :func:`queueing.erlang_c` returns.
    """
    rows: list[tuple[float, int, str, float]] = []
    for c in servers:
        for rho in rhos:
            values = queueing.erlang_c(rho * c / mean_service, mean_service, c)
            rows.extend((float(rho), int(c), m, v) for m, v in values.items())
    return pd.DataFrame(rows, columns=["rho", "servers", "metric", "theory"])


def staffing_study(
    scenario: Scenario | Mapping[str, Any] | str,
    servers_range: Iterable[int],
    replications: int = 10,
    seed: int = 1,
    station: str | None = None,
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Simulate a scenario with several staffing levels, next to Erlang C.

    Parameters
    ----------
    scenario : Scenario, dict or path
        The base scenario; only the station's ``servers`` changes.
    servers_range : iterable of int
        Staffing levels to simulate.
    replications : int
        Replications per level (the same seed for all: common random numbers,
        so differences between levels are sharper than their CIs suggest).
    seed : int
        Root seed.
    station : str, optional
        Station to staff; default the first.
    metrics : sequence of str, optional
        Metrics to keep; default :data:`STUDY_METRICS` plus ``service_level``
        when the scenario has a target.

    Returns
    -------
    pandas.DataFrame
        ``servers, metric, mean, std, ci_low, ci_high, n, theory``; ``theory``
        is Erlang C where the scenario is an M/M/c queue and stable, else NaN.
    """
    base = load_scenario(scenario)
    name = station or base.stations[0].name
    if metrics is None:
        metrics = (*STUDY_METRICS, "service_level") if base.service_level else STUDY_METRICS
    frames = []
    for c in servers_range:
        scn = base.with_overrides({f"stations.{name}.servers": int(c)})
        try:
            theory: Mapping[str, float] = erlang_c_theory(scn, name)
        except ValueError:
            theory = {}
        res = run(scn, replications=replications, seed=seed)
        rows = _study_rows(res, theory, name, metrics)
        rows.insert(0, "servers", int(c))
        frames.append(rows)
    return pd.concat(frames, ignore_index=True)


def littles_law_table(runs: Mapping[str, Results], scope: str = "system") -> pd.DataFrame:
    """Little's law, replication by replication: ``L`` against ``lambda * W``.

    Little's law holds for any stable system, whatever the distributions:
    the time-average number waiting equals the arrival rate times the mean
    wait (``L_q = lambda W_q``) and likewise for the number present and the
    time in system. In a finite run the two sides differ only by edge
    effects (customers present at the start or end), so the points of a
    plot lie on the diagonal.

    Parameters
    ----------
    runs : mapping of str to Results
        Labelled experiments (e.g. one per utilisation).
    scope : str
        Scope to read (``system`` or a station name).

    Returns
    -------
    pandas.DataFrame
        ``label, replication, arrival_rate, mean_wait, lambda_wq, mean_queue,
        mean_sojourn, lambda_w, mean_in_system``; the arrival rate is the
        observed arrivals divided by the horizon.
    """
    frames = []
    for label, res in runs.items():
        reps = res.replications()
        wide = reps[reps["scope"] == scope].pivot(
            index="replication", columns="metric", values="value"
        )
        rate = wide["arrivals"] / res.scenario.horizon
        frames.append(
            pd.DataFrame(
                {
                    "label": label,
                    "replication": wide.index.to_numpy(),
                    "arrival_rate": rate.to_numpy(),
                    "mean_wait": wide["mean_wait"].to_numpy(),
                    "lambda_wq": (rate * wide["mean_wait"]).to_numpy(),
                    "mean_queue": wide["mean_queue"].to_numpy(),
                    "mean_sojourn": wide["mean_sojourn"].to_numpy(),
                    "lambda_w": (rate * wide["mean_sojourn"]).to_numpy(),
                    "mean_in_system": wide["mean_in_system"].to_numpy(),
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    table["replication"] = table["replication"].astype(np.int64)
    return table
