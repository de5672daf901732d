"""Studies of the quality model: the value chain, the hierarchy, recovery and the five gaps.

Each function runs the experiments behind one question of notebooks 03 and
04 and returns tidy tables (means with 95 % t-intervals over replications),
so the notebooks only call, show and plot:

* :func:`value_chain_study` - the service-profit chain (Heskett et al. 1994)
  along a staffing sweep: capacity -> waits -> perceptions -> returns and
  demand -> revenue, cost and profit;
* :func:`hierarchy_table` - the Brady & Cronin (2001) hierarchy of one run;
* :func:`satisfaction_by_outcome` and :func:`recovery_paradox_study` -
  satisfaction after a smooth service, a recovered and an unrecovered
  failure, an abandonment (Smith & Bolton 1998; McCollough, Berry & Yadav 2000);
* :func:`servqual_structure_check` - a simulated SERVQUAL survey and whether
  EFA and CFA recover its five dimensions;
* :func:`headline_gaps` and :func:`gap_closing_study` - the five gaps of
  Parasuraman, Zeithaml & Berry (1985) and what closing each one does;
* :func:`causal_chain` and :func:`causal_gap_study` - the extended gap model
  (Zeithaml, Berry & Parasuraman 1988): closing a gap moves beliefs,
  standards, staffing and SOPs, the promise, and through them customers.

All runs of one study share the root seed, so replication ``r`` of every
variant sees the same arrivals and service requirements (common random
numbers) and differences are measured on the same simulated days.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simlib.analysis.congruence import matched_congruence
from simlib.analysis.gaps import gaps
from simlib.analysis.survey import Survey, survey
from simlib.experiments.results import Comparison, Results, SweepResults
from simlib.experiments.runner import ScenarioLike, compare, run, sweep
from simlib.experiments.statistics import t_interval
from simlib.planning.measures import tornado
from simlib.servqual import SERVQUAL22, CFAResult, EFAResult, cfa, efa
from simlib.spec.quality import DIMENSIONS, STAFF_REFERENCE, SUBDIMENSIONS, QualitySpec
from simlib.spec.scenario import Scenario, load_scenario

__all__ = [
    "VALUE_CHAIN",
    "OUTCOMES",
    "HEADLINE_GAPS",
    "value_chain_study",
    "best_point",
    "hierarchy_table",
    "customer_outcome",
    "satisfaction_by_outcome",
    "recovery_paradox_study",
    "StructureCheck",
    "servqual_structure_check",
    "headline_gaps",
    "staff_to_standard",
    "GapClosingStudy",
    "gap_closing_study",
    "CAUSAL_GAPS",
    "CAUSAL_VARIANTS",
    "CausalChain",
    "causal_chain",
    "CausalGapStudy",
    "causal_gap_study",
    "ASSUMPTIONS",
    "CHAIN_ASSUMPTIONS",
    "assumption_factors",
    "assumption_sensitivity",
    "chain_assumption_sensitivity",
]

#: The links of the service-profit chain a staffing sweep traces, in order:
#: ``(stage, scope, metric)``. ``service`` is replaced by the swept station.
VALUE_CHAIN: tuple[tuple[str, str, str], ...] = (
    ("capacity", "service", "utilization"),
    ("operations", "service", "mean_wait"),
    ("operations", "system", "mean_wait"),
    ("operations", "service", "p_failure"),
    ("operations", "system", "p_abandon"),
    ("perception", "system", "responsiveness"),
    ("perception", "system", "reliability"),
    ("perception", "system", "satisfaction"),
    ("behaviour", "system", "p_complaint"),
    ("behaviour", "system", "p_return"),
    ("behaviour", "system", "arrivals"),
    ("value", "system", "revenue"),
    ("value", "system", "cost"),
    ("value", "system", "profit"),
)

#: What can happen to a customer, in the order tables and figures show it.
OUTCOMES: tuple[str, ...] = ("served", "recovered", "unrecovered", "abandoned", "blocked")

#: One measure per gap for summaries: ``{gap: measure}`` of :func:`simlib.analysis.gaps`.
HEADLINE_GAPS: dict[int, str] = {
    1: "expected_wait",
    2: "standard_wait",
    3: "wait_vs_standard",
    4: "wait_vs_promise",
    5: "servqual",
}

_SERVERS = "stations.{}.servers"


# --------------------------------------------------------------------------- value chain


def value_chain_study(
    scenario: ScenarioLike,
    servers: Sequence[int],
    replications: int = 10,
    seed: int = 0,
    *,
    station: str = "service",
    jobs: int | None = None,
) -> pd.DataFrame:
    """The service-profit chain along a staffing sweep of one station.

    Parameters
    ----------
    scenario
        A scenario with ``quality``, ``retention`` and ``economics`` blocks
        (e.g. ``data/scenarios/bank_value_chain.yaml``).
    servers
        Numbers of servers of ``station`` to simulate (at least one).
    replications, seed
        Replications per point and the root seed (common random numbers
        across points).
    station
        The station whose staffing is swept.
    jobs
        Worker processes, as in :func:`simlib.run`.

    Returns
    -------
    pandas.DataFrame
        One row per number of servers and link of :data:`VALUE_CHAIN` that
        the scenario reports: ``servers, stage, scope, metric, mean,
        ci_low, ci_high, n`` (metrics in their own units: time units,
        shares, 1-7 points, customers, money per horizon).
    """
    swept = _staffing_sweep(load_scenario(scenario), servers, replications, seed, station, jobs)
    return _value_chain(swept, station)


def _staffing_sweep(scn: Scenario, servers: Sequence[int], replications: int, seed: int,
                    station: str, jobs: int | None) -> SweepResults:
    if station not in {st.name for st in scn.stations}:
        raise ValueError(f"station: {station!r} is not a station of {scn.name}")
    servers = [int(s) for s in servers]
    if not servers:
        raise ValueError("servers: give at least one number of servers")
    return sweep(scn, {_SERVERS.format(station): servers}, replications=replications, seed=seed,
                 jobs=jobs, progress=False)


def _value_chain(swept: SweepResults, station: str) -> pd.DataFrame:
    """The value-chain table of a staffing sweep of ``station`` (see :func:`value_chain_study`)."""
    path = _SERVERS.format(station)
    table = swept.table
    chain = pd.DataFrame(
        [(stage, station if scope == "service" else scope, metric)
         for stage, scope, metric in VALUE_CHAIN],
        columns=["stage", "scope", "metric"],
    )
    out = chain.merge(table.rename(columns={path: "servers"}), on=["scope", "metric"])
    out = out.sort_values(["servers"], kind="stable").reset_index(drop=True)
    return out[["servers", "stage", "scope", "metric", "mean", "ci_low", "ci_high", "n"]]


def best_point(study: pd.DataFrame, metric: str = "profit", scope: str = "system",
               parameter: str = "servers") -> int:
    """The swept value with the highest mean of one metric (e.g. the profit-maximising staff).

    Parameters
    ----------
    study
        The output of :func:`value_chain_study`.
    metric, scope
        What to maximise.
    parameter
        The swept column.
    """
    rows = study[(study["scope"] == scope) & (study["metric"] == metric)]
    if rows.empty:
        raise ValueError(f"the study has no {scope}.{metric}")
    return int(rows.loc[rows["mean"].idxmax(), parameter])


# --------------------------------------------------------------------------- hierarchy


def _per_replication(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    return table.groupby("replication")[list(columns)].mean()


def hierarchy_table(results: Results, level: float = 0.95) -> pd.DataFrame:
    """Brady & Cronin's hierarchy of one run: sub-dimensions, primary dimensions, overall.

    Each customer's scores are averaged within a replication; the table
    gives the mean over replications and its t-interval.

    Parameters
    ----------
    results
        A run of a scenario with a quality block.
    level
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``level, primary, dimension, mean, ci_low, ci_high, n``, where
        ``level`` is ``sub-dimension``, ``primary`` or ``overall``
        (perceived quality and satisfaction), all on the 1-7 scale.
    """
    customers = results.customers()
    rows = []

    def add(kind: str, primary: str, column: str) -> None:
        iv = t_interval(_per_replication(customers, [column])[column].to_numpy(), level)
        rows.append((kind, primary, column, iv.mean, iv.ci_low, iv.ci_high, iv.n))

    for primary, members in SUBDIMENSIONS.items():
        for sub in members:
            add("sub-dimension", primary, sub)
    for primary in SUBDIMENSIONS:
        add("primary", primary, primary)
    add("overall", "overall", "perceived_quality")
    add("overall", "overall", "satisfaction")
    return pd.DataFrame(rows, columns=["level", "primary", "dimension", "mean", "ci_low",
                                       "ci_high", "n"])


# --------------------------------------------------------------------------- failures and recovery


def customer_outcome(customers: pd.DataFrame) -> pd.Series:
    """What happened to each customer of a ``Results.customers()`` table (:data:`OUTCOMES`).

    The precedence is the engine's: leaving the queue (abandoned, blocked)
    before failure, and a failure is ``recovered`` or ``unrecovered``.
    """
    outcome = np.where(
        customers["abandoned"], "abandoned",
        np.where(customers["blocked"], "blocked",
                 np.where(customers["failed"],
                          np.where(customers["recovered"], "recovered", "unrecovered"),
                          "served")))
    return pd.Series(outcome, index=customers.index, name="outcome")


def satisfaction_by_outcome(results: Results, level: float = 0.95) -> pd.DataFrame:
    """Satisfaction and returns of the customers after each outcome.

    Parameters
    ----------
    results
        A run of a scenario with a quality block.
    level
        Confidence level of the interval of mean satisfaction (over
        replications: the mean of each replication's customers with that
        outcome).

    Returns
    -------
    pandas.DataFrame
        One row per outcome that occurred, in :data:`OUTCOMES` order:
        ``outcome, customers, share, satisfaction, ci_low, ci_high, n,
        p_return`` (``customers`` over all replications, ``share`` of all
        customers, ``p_return`` the share who decided to come back).
    """
    table = results.customers()
    table = table.assign(outcome=customer_outcome(table))
    total = len(table)
    rows = []
    for outcome in OUTCOMES:
        part = table[table["outcome"] == outcome]
        if part.empty:
            continue
        iv = t_interval(part.groupby("replication")["satisfaction"].mean().to_numpy(), level)
        rows.append((outcome, len(part), len(part) / total, iv.mean, iv.ci_low, iv.ci_high,
                     iv.n, float(part["returns"].mean())))
    return pd.DataFrame(rows, columns=["outcome", "customers", "share", "satisfaction",
                                       "ci_low", "ci_high", "n", "p_return"])


def recovery_paradox_study(
    scenario: ScenarioLike,
    replications: int = 10,
    seed: int = 0,
    *,
    bonus: float = 1.0,
    severity: float | None = None,
    justice: float | None = None,
    repurchase: bool = False,
    jobs: int | None = None,
) -> pd.DataFrame:
    """Satisfaction by outcome with the recovery paradox off and on (common random numbers).

    The paradox applies only to a customer's first failure, if it is mild
    (severity at most ``quality.recovery_paradox.max_severity``) and the
    recovery excellent (restored share at least ``min_restoration``); with the
    default severity 1 no failure qualifies and both runs agree.

    Parameters
    ----------
    scenario
        A scenario with a quality block and a ``failures`` block.
    replications, seed
        As in :func:`simlib.run`; both runs use the same seed.
    bonus
        Satisfaction points a qualifying recovery adds when the paradox is on.
    severity, justice
        When given, every ``failures`` block's ``severity``, and its
        ``explanation``, ``apology`` and ``compensation`` (0–1), in both runs.
    repurchase
        Whether the bonus also raises the probability of returning (default:
        no, as De Matos et al. 2007 found).
    jobs
        Worker processes.

    Returns
    -------
    pandas.DataFrame
        :func:`satisfaction_by_outcome` of both runs with a first column
        ``recovery_paradox`` (False, then True).
    """
    scn = load_scenario(scenario)
    if not scn.failures:
        raise ValueError(f"{scn.name} has no failures block: nothing is ever recovered")
    if not bonus > 0:
        raise ValueError(f"bonus: must be positive, got {bonus!r}")
    common: dict[str, Any] = {}
    for station in scn.failures:
        if severity is not None:
            common[f"failures.{station}.severity"] = severity
        if justice is not None:
            for key in ("explanation", "apology", "compensation"):
                common[f"failures.{station}.{key}"] = justice
    frames = []
    paradox = {"bonus": float(bonus), "repurchase": bool(repurchase)}
    for on, value in ((False, False), (True, paradox)):
        res = run(scn.with_overrides({**common, "quality.recovery_paradox": value}),
                  replications=replications, seed=seed, jobs=jobs, progress=False)
        frames.append(satisfaction_by_outcome(res).assign(recovery_paradox=on))
    out = pd.concat(frames, ignore_index=True)
    return out[["recovery_paradox", *[c for c in out.columns if c != "recovery_paradox"]]]


# --------------------------------------------------------------------------- survey structure


@dataclass(frozen=True)
class StructureCheck:
    """A simulated SERVQUAL survey and how well factor models recover its structure.

    Attributes
    ----------
    survey : Survey
        The answers and the truth that generated them.
    efa : EFAResult
        Five-factor EFA of the perception items.
    congruence : pandas.Series
        Tucker's congruence of each true dimension with its best-matching
        EFA factor (>= 0.95: the factor is the dimension; 0.85-0.94: fair).
    cfa : CFAResult
        CFA of the 1991 five-dimension model on the perception items.
    fit : pandas.Series
        The CFA's ``chi2, df, pvalue, cfi, tli, rmsea, srmr``.
    reliability : pandas.Series
        Composite reliability of each dimension from the CFA.
    """

    survey: Survey
    efa: EFAResult
    congruence: pd.Series
    cfa: CFAResult
    fit: pd.Series
    reliability: pd.Series = field(repr=False)


def servqual_structure_check(
    results: Results | pd.DataFrame,
    respondents: int = 1000,
    seed: int = 0,
) -> StructureCheck:
    """Survey simulated customers with SERVQUAL-22 and fit EFA and CFA to the perceptions.

    Parameters
    ----------
    results
        A run (or its ``customers()`` table) of a scenario with a quality block.
    respondents
        Respondents sampled (without replacement when there are enough customers).
    seed
        Seed of the survey.

    Returns
    -------
    StructureCheck
    """
    s = survey(results, instrument="servqual22", respondents=respondents, seed=seed)
    items = s.items("p").astype(float)
    fa = efa(items, len(DIMENSIONS), method="minres", rotation="oblimin")
    congruence = matched_congruence(fa.loadings, s.true_loadings)
    fit = cfa(items, SERVQUAL22.model("p"))
    indices = pd.Series(fit.fit)[["chi2", "df", "pvalue", "cfi", "tli", "rmsea", "srmr"]]
    return StructureCheck(s, fa, congruence, fit, indices, fit.composite_reliability)


# --------------------------------------------------------------------------- gaps


def headline_gaps(gaps: pd.DataFrame) -> pd.DataFrame:
    """One measure per gap (:data:`HEADLINE_GAPS`) from a :func:`simlib.analysis.gaps` table."""
    keep = [(g, m) for g, m in HEADLINE_GAPS.items()]
    index = pd.MultiIndex.from_frame(gaps[["gap", "measure"]])
    out = gaps[index.isin(keep)]
    return out.sort_values("gap", kind="stable").reset_index(drop=True)


def staff_to_standard(curve: pd.DataFrame, standard: float, parameter: str = "servers",
                      metric: str = "mean_wait", scope: str = "system") -> int:
    """The fewest servers whose mean delivered wait meets a wait standard.

    This is how a standard drives an operational decision: management staffs
    to the standard it set, not to what customers expect.

    Parameters
    ----------
    curve
        A staffing sweep with ``parameter, scope, metric, mean`` columns
        (:func:`value_chain_study` or :func:`simlib.sweep` renamed).
    standard
        The wait standard, in time units.
    parameter, metric, scope
        The swept column and the delivered measure compared with the standard.

    Raises
    ------
    ValueError
        When no simulated staffing level meets the standard.
    """
    rows = curve[(curve["scope"] == scope) & (curve["metric"] == metric)].sort_values(parameter)
    ok = rows[rows["mean"] <= standard]
    if ok.empty:
        raise ValueError(f"no staffing level in the curve delivers {scope}.{metric} <= {standard:g}; "
                         f"extend the range (best: {rows['mean'].min():.3g})")
    return int(ok[parameter].iloc[0])


def _management(scn: Scenario) -> tuple[QualitySpec, float, float]:
    """The quality block, management's perceived expected wait and its standard (gaps 1-2)."""
    q = scn.quality
    if q is None or q.management_expected_wait is None or q.standard_wait is None:
        raise ValueError("the scenario needs quality.management.expected_wait and standard_wait")
    return q, q.management_expected_wait, q.standard_wait


def _servqual_gap(results: Results) -> np.ndarray:
    """Gap 5 (unweighted SERVQUAL score) of each replication."""
    table = results.customers()
    per = {d: (table[d] - table[f"exp_{d}"]).groupby(table["replication"]).mean()
           for d in DIMENSIONS}
    return pd.DataFrame(per).mean(axis=1).to_numpy()


@dataclass(frozen=True)
class GapClosingStudy:
    """What closing each gap of the gap model does (:func:`gap_closing_study`).

    Attributes
    ----------
    base : Scenario
        The branch as management runs it: staffed to its own wait standard.
    base_servers, customer_servers : int
        Servers that meet management's standard, and customers' expected wait.
    customer_expected_wait, delivered_wait : float
        Measured in the base run: customers' mean expected wait and the mean
        wait delivered (time units).
    variants : dict
        ``{name: overrides}`` applied to ``base``.
    staffing : pandas.DataFrame
        The staffing sweep behind the decisions (:func:`value_chain_study`).
    gaps : pandas.DataFrame
        Headline gap measures of the base and every variant: ``variant, gap,
        name, measure, value, ci_low, ci_high, n, unit``.
    effects : pandas.DataFrame
        Variant − base with paired 95 % intervals: ``variant, scope, metric,
        diff, ci_low, ci_high, n``, from :func:`simlib.compare` plus the
        ``gap5`` (SERVQUAL score) rows computed from the paired runs.
    comparison : Comparison
        The base and every variant with their replications (customers, gaps).
    """

    base: Scenario
    base_servers: int
    customer_servers: int
    customer_expected_wait: float
    delivered_wait: float
    variants: dict[str, dict[str, Any]]
    staffing: pd.DataFrame = field(repr=False)
    gaps: pd.DataFrame = field(repr=False)
    effects: pd.DataFrame = field(repr=False)
    comparison: Comparison | None = field(default=None, repr=False)

    def summary(self, metrics: Sequence[str] = ("gap5", "satisfaction", "responsiveness",
                                                 "reliability", "p_return", "profit")) -> pd.DataFrame:
        """One row per variant: its headline gaps and its effects (diff and interval)."""
        wide = self.gaps.pivot(index="variant", columns="gap", values="value")
        wide.columns = [f"gap{g}" for g in wide.columns]
        wide = wide.reindex(["base", *self.variants])
        eff = self.effects[(self.effects["scope"] == "system")
                           & self.effects["metric"].isin(metrics)]
        for metric in metrics:
            rows = eff[eff["metric"] == metric].set_index("variant")
            wide[f"Δ{metric}"] = rows["diff"]
            wide[f"Δ{metric} 95% CI"] = [
                f"[{lo:.3g}, {hi:.3g}]" if v in rows.index else ""
                for v, lo, hi in zip(wide.index, rows["ci_low"].reindex(wide.index),
                                     rows["ci_high"].reindex(wide.index), strict=True)
            ]
        return wide.rename_axis("variant").reset_index()


def gap_closing_study(
    scenario: ScenarioLike,
    servers: Sequence[int],
    replications: int = 10,
    seed: int = 0,
    *,
    station: str = "service",
    training: float = 0.9,
    jobs: int | None = None,
) -> GapClosingStudy:
    """Close the gaps of the gap model one at a time and measure what changes.

    The base is the scenario staffed the way its management would staff it:
    the fewest servers of ``station`` whose delivered mean wait meets
    ``quality.management.standard_wait`` (:func:`staff_to_standard`). The
    customers' mean expected wait and the delivered wait are measured on a
    run of that base. The variants (all applied to the base):

    ``gap 1: learn expectations``
        ``quality.management.expected_wait`` = customers' expected wait.
    ``gap 2: standard = expectations``
        and ``quality.management.standard_wait`` = customers' expected wait.
    ``gap 3: staff to the standard``
        and the station staffed to the new standard.
    ``gap 3: train staff``
        ``staff.<station>.training`` = ``training`` (alone).
    ``gap 4: promise what is delivered``
        ``quality.expectations.promised_wait`` = the base's delivered wait (alone).
    ``all gaps``
        gaps 1-3 (staff and training) and a promise equal to that
        configuration's delivered wait.

    Gaps 1 and 2 are management quantities: closing them changes no
    operation, so under common random numbers their effect on customers is
    exactly zero. They matter only through the decision they drive (the
    staffing of ``gap 3: staff to the standard``).

    Parameters
    ----------
    scenario
        A scenario with a quality block that gives ``management.expected_wait``
        and ``management.standard_wait`` and a promised wait for every class.
    servers
        Staffing levels of ``station`` to consider (must contain levels
        that meet both standards).
    replications, seed
        Replications per variant and the root seed (common random numbers).
    station
        The station whose staffing and training are managed.
    training
        Training level of ``gap 3: train staff`` (0-1).
    jobs
        Worker processes.

    Returns
    -------
    GapClosingStudy
    """
    scn = load_scenario(scenario)
    q, _, standard0 = _management(scn)
    if any(e.promised_wait is None for e in q.expectations.values()):
        raise ValueError("every class needs quality.expectations.promised_wait (gap 4)")
    path = _SERVERS.format(station)
    swept = _staffing_sweep(scn, servers, replications, seed, station, jobs)
    staffing = _value_chain(swept, station)
    base_servers = staff_to_standard(staffing, standard0)
    # The base is a point of the sweep: its replications are used, not simulated again.
    base_res = swept.at(base_servers)
    base = base_res.scenario
    # Means of replication means, as gaps() measures them, so that a
    # closed gap reads zero.
    per_rep = _per_replication(base_res.customers(), ["expected_wait", "wait"]).mean()
    expected = float(per_rep["expected_wait"])
    delivered = float(per_rep["wait"])
    customer_servers = staff_to_standard(staffing, expected)
    learn = {"quality.management.expected_wait": expected}
    standard = {**learn, "quality.management.standard_wait": expected}
    staff = {**standard, path: customer_servers}
    train = {f"staff.{station}.training": training}
    variants: dict[str, dict[str, Any]] = {
        "gap 1: learn expectations": learn,
        "gap 2: standard = expectations": standard,
        "gap 3: staff to the standard": staff,
        "gap 3: train staff": train,
        "gap 4: promise what is delivered": {"quality.expectations.promised_wait": delivered},
    }
    # The honest promise of the fully improved branch is its own delivered wait.
    improved = base.with_overrides({**staff, **train})
    improved_res = run(improved, replications=replications, seed=seed, jobs=jobs, progress=False)
    variants["all gaps"] = {
        **staff, **train,
        "quality.expectations.promised_wait":
            float(_per_replication(improved_res.customers(), ["wait"])["wait"].mean()),
    }
    comparison = compare(base_res, variants, replications=replications, seed=seed, jobs=jobs,
                         progress=False)
    effects = comparison.table
    results = {"base": base_res, **comparison.variants}
    gap_rows = [headline_gaps(gaps(res)).drop(columns="definition").assign(variant=name)
                for name, res in results.items()]
    gaps_table = pd.concat(gap_rows, ignore_index=True)
    gaps_table = gaps_table[["variant", *[c for c in gaps_table.columns if c != "variant"]]]
    base_gap = _servqual_gap(base_res)
    extra = []
    for name in variants:
        iv = t_interval(_servqual_gap(results[name]) - base_gap)
        extra.append((name, "system", "gap5", iv.mean, iv.ci_low, iv.ci_high, iv.n))
    effects = pd.concat([effects, pd.DataFrame(extra, columns=effects.columns)],
                        ignore_index=True)
    return GapClosingStudy(
        base=base, base_servers=base_servers, customer_servers=customer_servers,
        customer_expected_wait=expected, delivered_wait=delivered, variants=variants,
        staffing=staffing, gaps=gaps_table, effects=effects, comparison=comparison,
    )


# --------------------------------------------------------------------------- causal gap model


#: The gaps :func:`causal_gap_study` can close.
CAUSAL_GAPS: tuple[str, ...] = ("gap1", "gap2", "gap3", "gap4")

#: Variants of :func:`causal_gap_study` by default: ``{name: gaps closed}``.
CAUSAL_VARIANTS: dict[str, tuple[str, ...]] = {
    "close gap 1": ("gap1",),
    "close gap 2": ("gap2",),
    "close gaps 1+2": ("gap1", "gap2"),
    "close gaps 1-3": ("gap1", "gap2", "gap3"),
    "close gap 4": ("gap4",),
    "close all": CAUSAL_GAPS,
}

_RELIABILITY = DIMENSIONS.index("reliability")


@dataclass(frozen=True)
class CausalChain:
    """One pass down the extended gap model (:func:`causal_chain`): belief → standard → delivery.

    Attributes
    ----------
    closed : tuple of str
        The gaps closed (of :data:`CAUSAL_GAPS`).
    perceived_wait, perceived_reliability : float
        Management's perception of customers' expected wait and reliability (gap 1).
    standard_wait, reliability_standard : float
        The standards it sets (gap 2).
    servers : int
        Servers of the station hired to meet the wait standard (from the staffing curve).
    planned_wait : float
        The mean wait management expects that staffing to deliver (read off the curve).
    training_target, training : float
        The SOP's training level and the level delivered (SOP adherence, gap 3).
    promised_wait : float
        What external communication promises (gap 4).
    overrides : dict
        The scenario keys this chain sets (applied to the scenario as given).
    """

    closed: tuple[str, ...]
    perceived_wait: float
    perceived_reliability: float
    standard_wait: float
    reliability_standard: float
    servers: int
    planned_wait: float
    training_target: float
    training: float
    promised_wait: float
    overrides: dict[str, Any]


def _planned_wait(curve: pd.DataFrame, servers: int) -> float:
    rows = curve[(curve["scope"] == "system") & (curve["metric"] == "mean_wait")
                 & (curve["servers"] == servers)]
    return float(rows["mean"].iloc[0])


def causal_chain(
    scenario: ScenarioLike,
    curve: pd.DataFrame,
    close: Sequence[str] = (),
    *,
    customer_wait: float,
    customer_reliability: float,
    station: str = "service",
    sop_gain: float = 0.2,
    adherence: float = 0.5,
    verified_curve: pd.DataFrame | None = None,
) -> CausalChain:
    """Derive the scenario management delivers from its beliefs and standards.

    The extended gap model (Zeithaml, Berry & Parasuraman 1988, *J. Marketing*
    52(2)), with the links written as equations (docs/quality-model.md#the-causal-gap-model).
    With ``W_m`` management's perceived expected wait and ``S_0`` the scenario's
    standard, the standards gap ``Δ2 = S_0 − W_m`` is a habit of the organisation:

    * gap 1 closed: ``W_m`` = ``customer_wait``, ``R_m`` = ``customer_reliability``
      (market research measures what customers expect); open: the
      ``quality.management`` values;
    * standard: ``S = W_m + Δ2`` (``Δ2 = 0`` when gap 2 is closed); the
      reliability standard is ``R_m`` (the scenario has no separate reliability standard);
    * staffing: the fewest servers of ``station`` whose mean wait on the
      staffing ``curve`` is at most ``S`` (:func:`staff_to_standard`);
    * SOP: training target ``T* = T_0 + sop_gain · (R_m − R_m0)`` clipped to
      [0, 1], with ``T_0`` the station's training and ``R_m0`` management's
      reliability belief as given; delivered ``T = T_0 + a (T* − T_0)`` with
      SOP adherence ``a`` = ``adherence`` (1 when gap 3 is closed);
    * gap 3 closed also means the staffing is checked against the delivered
      service: it is read off ``verified_curve`` (a staffing curve measured
      with the delivered training and promise) when given;
    * communication: the promise is the scenario's; gap 4 closed: the wait
      management plans to deliver (the curve's mean wait at the chosen staffing).

    Customers then form expectations from the promise (``quality.promise_weight``)
    and perceive what is delivered: gap 5 follows in the simulation.

    Parameters
    ----------
    scenario
        The scenario as given (with ``quality.management.expected_wait`` and
        ``standard_wait`` and a ``staff.<station>`` block or the defaults).
    curve
        Management's staffing curve: a staffing sweep in the format of
        :func:`value_chain_study` (``servers, scope, metric, mean``).
    close
        Gaps to close, of :data:`CAUSAL_GAPS`.
    customer_wait, customer_reliability
        What customers expect (measured, e.g. on a run of the base).
    station
        The station whose staffing and SOPs management sets.
    sop_gain
        Training points (0-1 scale) per point (1-7) of reliability standard (an assumption).
    adherence
        Share of an SOP change delivered while gap 3 is open (an assumption, 0-1).
    verified_curve
        Staffing curve measured with the delivered SOP and promise (used when gap 3 is closed).

    Returns
    -------
    CausalChain
    """
    scn = load_scenario(scenario)
    q, belief, standard0 = _management(scn)
    closed = tuple(close)
    unknown = [g for g in closed if g not in CAUSAL_GAPS]
    if unknown:
        raise ValueError(f"close: unknown gap(s) {unknown} (known: {', '.join(CAUSAL_GAPS)})")
    if not 0 <= adherence <= 1:
        raise ValueError(f"adherence: must be in [0, 1], got {adherence!r}")
    if station not in {st.name for st in scn.stations}:
        raise ValueError(f"station: {station!r} is not a station of {scn.name}")
    levels = q.management_levels if q.management_levels is not None else next(
        iter(q.expectations.values())).levels
    belief_rel0 = float(levels[_RELIABILITY])
    wait_m = float(customer_wait) if "gap1" in closed else belief
    rel_m = float(customer_reliability) if "gap1" in closed else belief_rel0
    delta2 = 0.0 if "gap2" in closed else standard0 - belief
    standard = max(wait_m + delta2, 0.0)
    staff = scn.staff.get(station)
    train0 = staff.training if staff is not None else STAFF_REFERENCE
    target = min(max(train0 + sop_gain * (rel_m - belief_rel0), 0.0), 1.0)
    share = 1.0 if "gap3" in closed else adherence
    training = train0 + share * (target - train0)
    used = verified_curve if ("gap3" in closed and verified_curve is not None) else curve
    servers = staff_to_standard(used, standard)
    planned = _planned_wait(used, servers)
    promise = next(iter(q.expectations.values())).promised_wait
    if "gap4" in closed:
        promise = planned
    if promise is None:
        raise ValueError("every class needs quality.expectations.promised_wait (gap 4)")
    overrides: dict[str, Any] = {
        _SERVERS.format(station): servers,
        f"staff.{station}.training": training,
        "quality.expectations.promised_wait": float(promise),
        "quality.management.expected_wait": wait_m,
        "quality.management.standard_wait": standard,
        "quality.management.reliability": min(max(rel_m, 1.0), 7.0),
    }
    return CausalChain(closed, wait_m, rel_m, standard, rel_m, servers, planned, target, training,
                       float(promise), overrides)


@dataclass(frozen=True)
class CausalGapStudy:
    """What closing gaps does through the causal links (:func:`causal_gap_study`).

    Attributes
    ----------
    base : Scenario
        The branch as management runs it (nothing closed: its beliefs,
        standard and the staffing that meets it).
    chains : dict
        ``{variant: CausalChain}``, ``"base"`` first.
    chain : pandas.DataFrame
        One row per variant: the links (perceived wait, standard, servers,
        planned wait, training, promise) and what was delivered and perceived
        (mean wait, expected and reference wait, reliability, gap 5, satisfaction).
    gaps : pandas.DataFrame
        Headline gap measures of every variant (as :class:`GapClosingStudy`).
    effects : pandas.DataFrame
        Variant − base with paired 95 % intervals (``gap5`` rows added).
    customer_expected_wait, customer_reliability : float
        What customers expect, measured on the base run.
    """

    base: Scenario
    chains: dict[str, CausalChain]
    chain: pd.DataFrame = field(repr=False)
    gaps: pd.DataFrame = field(repr=False)
    effects: pd.DataFrame = field(repr=False)
    customer_expected_wait: float = math.nan
    customer_reliability: float = math.nan
    comparison: Comparison | None = field(default=None, repr=False)


def _delivered(results: Results) -> dict[str, float]:
    """Per-run means of what customers went through, as replication means."""
    table = results.customers()
    per = _per_replication(table, ["wait", "expected_wait", "reliability", "responsiveness",
                                   "satisfaction"]).mean()
    return {"delivered_wait": float(per["wait"]), "expected_wait": float(per["expected_wait"]),
            "reliability": float(per["reliability"]), "responsiveness": float(per["responsiveness"]),
            "satisfaction": float(per["satisfaction"]),
            "gap5": float(np.mean(_servqual_gap(results)))}


def causal_gap_study(
    scenario: ScenarioLike,
    servers: Sequence[int],
    close: Mapping[str, Sequence[str]] | None = None,
    replications: int = 10,
    seed: int = 0,
    *,
    station: str = "service",
    sop_gain: float = 0.2,
    adherence: float = 0.5,
    jobs: int | None = None,
) -> CausalGapStudy:
    """Close gaps of the extended gap model and let the change run down the causal links.

    Unlike :func:`gap_closing_study`, which sets each closed gap's outcome by
    hand, here every variant is *derived* by :func:`causal_chain`: closing
    gap 1 moves management's belief, the belief moves the standard, the
    standard moves the staffing and the SOP (training), the delivered service
    and — when gap 4 is closed — the promise, which moves customers'
    expectations. The simulation then gives gap 5, satisfaction and profit.

    Steps: a staffing sweep of ``station`` over ``servers`` on the scenario as
    given is management's staffing curve; the base is the staffing that meets
    the scenario's own standard (a point of the sweep); customers' expected
    wait and reliability expectation are measured on the base run (market
    research); each variant closes the gaps ``close[name]`` (default
    :data:`CAUSAL_VARIANTS`). When gap 3 is closed, the staffing curve is
    measured again with that variant's training and promise (one more sweep),
    so the staffing meets the standard as delivered. All runs share ``seed``
    (common random numbers).

    Parameters
    ----------
    scenario
        A scenario with ``quality.management.expected_wait``,
        ``standard_wait`` and a promised wait.
    servers
        Staffing levels of ``station`` management may choose from.
    close
        ``{variant: gaps closed}``; default :data:`CAUSAL_VARIANTS`.
    replications, seed, jobs
        As in :func:`simlib.compare`.
    station, sop_gain, adherence
        As in :func:`causal_chain` (``sop_gain`` and ``adherence`` are assumptions).

    Returns
    -------
    CausalGapStudy
    """
    scn = load_scenario(scenario)
    plan = dict(CAUSAL_VARIANTS if close is None else close)
    swept = _staffing_sweep(scn, servers, replications, seed, station, jobs)
    curve = _value_chain(swept, station)
    _, _, standard0 = _management(scn)
    base_res = swept.at(staff_to_standard(curve, standard0))
    per = _per_replication(base_res.customers(), ["expected_wait", "exp_reliability"]).mean()
    measured = {"customer_wait": float(per["expected_wait"]),
                "customer_reliability": float(per["exp_reliability"])}
    opts: dict[str, Any] = {"station": station, "sop_gain": sop_gain, "adherence": adherence,
                            **measured}
    chains = {"base": causal_chain(scn, curve, (), **opts)}
    for name, gaps_closed in plan.items():
        chain = causal_chain(scn, curve, gaps_closed, **opts)
        if "gap3" in chain.closed:
            # Gap 3 closed: staff on a curve measured with the SOP and promise as delivered.
            delivered = {k: v for k, v in chain.overrides.items() if k != _SERVERS.format(station)}
            if "gap4" in chain.closed:
                delivered.pop("quality.expectations.promised_wait")
            again = _staffing_sweep(scn.with_overrides(delivered), servers, replications, seed,
                                    station, jobs)
            chain = causal_chain(scn, curve, gaps_closed, verified_curve=_value_chain(again, station),
                                 **opts)
        chains[name] = chain
    # The base is a point of the sweep (its overrides repeat the scenario's values).
    base = base_res.scenario
    variants = {name: {k: v for k, v in c.overrides.items()} for name, c in chains.items()
                if name != "base"}
    comparison = compare(base_res, variants, replications=replications, seed=seed, jobs=jobs,
                         progress=False)
    results = {"base": base_res, **comparison.variants}
    rows = []
    for name, c in chains.items():
        rows.append({"variant": name, "closed": "+".join(c.closed) or "-",
                     "perceived_wait": c.perceived_wait, "standard_wait": c.standard_wait,
                     "reliability_standard": c.reliability_standard, "servers": c.servers,
                     "planned_wait": c.planned_wait, "training": c.training,
                     "promised_wait": c.promised_wait, **_delivered(results[name])})
    gap_rows = [headline_gaps(gaps(res)).drop(columns="definition").assign(variant=name)
                for name, res in results.items()]
    gaps_table = pd.concat(gap_rows, ignore_index=True)
    gaps_table = gaps_table[["variant", *[c for c in gaps_table.columns if c != "variant"]]]
    effects = comparison.table
    base_gap = _servqual_gap(base_res)
    extra = []
    for name in variants:
        iv = t_interval(_servqual_gap(results[name]) - base_gap)
        extra.append((name, "system", "gap5", iv.mean, iv.ci_low, iv.ci_high, iv.n))
    effects = pd.concat([effects, pd.DataFrame(extra, columns=effects.columns)], ignore_index=True)
    return CausalGapStudy(base=base, chains=chains, chain=pd.DataFrame(rows), gaps=gaps_table,
                          effects=effects, customer_expected_wait=measured["customer_wait"],
                          customer_reliability=measured["customer_reliability"],
                          comparison=comparison)


# --------------------------------------------------------------------------- assumptions


#: The quality model's assumptions (defaults without a published value) and the range each is
#: varied over in :func:`assumption_sensitivity`: ``{scenario key: (low, high)}``. A ``*`` stands
#: for every station of the ``failures`` block (``failures.*``), of the ``staff`` block
#: (``staff.*``) or with an ``internal`` block (``staff.*.internal``). The same ranges are in the
#: table of docs/quality-model.md#where-the-numbers-come-from (a test keeps the two equal, and
#: that every default the table labels an assumption has a range there).
ASSUMPTIONS: dict[str, tuple[float, float]] = {
    "quality.disconfirmation": (0.25, 1.0),
    "quality.disconfirmation_asymmetry": (1.0, 3.0),
    "quality.heterogeneity": (0.3, 0.7),
    "quality.dimension_noise": (0.2, 0.6),
    "quality.halo": (0.3, 0.8),
    "quality.satisfaction_noise": (0.4, 1.0),
    "quality.wait_sensitivity": (1.0, 3.0),
    "quality.promise_weight": (0.25, 0.75),
    "quality.stress": (0.25, 0.75),
    "quality.stress_threshold": (0.7, 0.9),
    "quality.stress_range": (0.1, 0.4),
    "quality.environment.ambient": (4.5, 6.5),
    "quality.environment.design": (4.0, 6.0),
    "quality.environment.tangibles": (4.0, 6.0),
    "quality.crowding.comfortable": (3, 8),
    "quality.crowding.sensitivity": (0.1, 0.3),
    "quality.crowding.base": (5.5, 6.5),
    "quality.valence.served": (6.0, 7.0),
    "quality.valence.recovered": (4.5, 6.0),
    "quality.valence.unrecovered": (1.5, 3.0),
    "quality.valence.abandoned": (1.0, 2.5),
    "quality.valence.blocked": (1.0, 2.0),
    "quality.complaints.threshold": (3.0, 4.0),
    "quality.complaints.propensity": (0.3, 0.7),
    "quality.waiting.desired": (0.25, 0.75),
    "quality.waiting.adequate": (1.2, 2.0),
    "quality.waiting.pre_process": (1.0, 1.5),
    "quality.waiting.in_process": (0.75, 1.25),
    "quality.waiting.recovery": (1.0, 1.5),
    "quality.waiting.word_of_mouth_smoothing": (0.05, 0.2),
    "quality.recovery.expertise_loss": (0.2, 0.8),
    "quality.recovery.quality_weight": (1.0, 3.0),
    "quality.recovery.speed_weight": (0.5, 1.5),
    "quality.recovery.explanation_weight": (0.5, 1.5),
    "quality.recovery.apology_weight": (0.5, 1.5),
    "quality.recovery.compensation_weight": (0.5, 1.5),
    "quality.recovery_paradox.max_severity": (0.3, 0.7),
    "quality.recovery_paradox.min_restoration": (0.7, 0.9),
    "staff.*.speed_effect": (0.25, 0.75),
    "staff.*.internal.comfortable": (0.7, 0.9),
    "staff.*.internal.range": (0.5, 1.0),
    "staff.*.internal.courtesy_loss": (0.15, 0.45),
    "staff.*.internal.turnover_loss": (0.1, 0.3),
    "failures.*.severity": (0.5, 1.0),
    "failures.*.recovery_success": (0.6, 0.95),
    "failures.*.competence_effect": (1.5, 4.5),
    "failures.*.training_effect": (1.5, 4.5),
    "failures.*.load_effect": (2.0, 6.0),
    "failures.*.load_reference": (0.7, 0.9),
    "retention.base": (0.3, 0.7),
    "retention.slope": (0.5, 1.5),
    "retention.learning": (0.1, 0.5),
    "retention.completely_satisfied.threshold": (6.0, 7.0),
    "word_of_mouth.referrals": (0.05, 0.2),
    "word_of_mouth.negative_ratio": (1.0, 3.0),
    "word_of_mouth.satisfied": (5.0, 6.0),
    "word_of_mouth.dissatisfied": (3.0, 4.0),
}

#: Assumptions of the causal gap model (arguments of :func:`causal_chain`, not scenario keys)
#: and their ranges, varied by :func:`chain_assumption_sensitivity`.
CHAIN_ASSUMPTIONS: dict[str, tuple[float, float]] = {
    "sop_gain": (0.1, 0.4),
    "adherence": (0.25, 0.75),
}

#: Blocks a scenario must have for an assumption's key to apply (others are left out).
_NEEDS = {"retention.": "retention", "word_of_mouth.": "word_of_mouth"}


def _stations_for(scn: Scenario, key: str) -> list[str]:
    """The stations a ``*`` key expands to."""
    if key.startswith("failures."):
        return list(scn.failures)
    if key.startswith("staff.*.internal."):
        return [name for name, st in scn.staff.items() if st.internal is not None]
    return list(scn.staff)


def assumption_factors(scenario: ScenarioLike,
                       assumptions: Sequence[str] | None = None) -> tuple[Scenario, dict[str, dict[str, Any]]]:
    """The base scenario and the :func:`~simlib.planning.measures.tornado` factors of the assumptions.

    Assumptions whose block the scenario lacks (``retention``, ``word_of_mouth``,
    ``failures``, ``staff`` or a station's ``staff.<station>.internal``) are left
    out; a ``*`` expands to each station it stands for. The base gets the
    optional sub-blocks the factors' keys live in, holding the defaults (no value
    changes): empty ``quality.waiting`` / ``recovery`` / ``valence`` /
    ``environment`` / ``crowding`` / ``complaints`` mappings, the
    ``recovery_paradox`` switch written as ``{bonus: ...}`` and, with a
    retention block, ``completely_satisfied: {jump: 0}`` (no jump).
    """
    scn = load_scenario(scenario)
    if scn.quality is None:
        raise ValueError(f"{scn.name} has no quality block: there are no quality assumptions to vary")
    chosen = list(ASSUMPTIONS) if assumptions is None else list(assumptions)
    unknown = [a for a in chosen if a not in ASSUMPTIONS]
    if unknown:
        raise ValueError(f"assumptions: unknown {unknown} (known: {', '.join(ASSUMPTIONS)})")
    data = scn.to_dict()
    quality = data["quality"]
    for block in ("waiting", "recovery", "valence", "environment", "crowding", "complaints"):
        quality.setdefault(block, {})
    paradox = quality.get("recovery_paradox")
    if not isinstance(paradox, Mapping):
        quality["recovery_paradox"] = {"bonus": scn.quality.paradox.bonus}
    if data.get("retention") is not None:
        data["retention"].setdefault("completely_satisfied", {"jump": scn.retention.jump
                                                              if scn.retention else 0.0})
    base = load_scenario(data)
    factors: dict[str, dict[str, Any]] = {}
    for key in chosen:
        low, high = ASSUMPTIONS[key]
        if any(key.startswith(prefix) and data.get(block) is None for prefix, block in _NEEDS.items()):
            continue
        if "*" in key:
            for station in _stations_for(scn, key):
                path = key.replace("*", station)
                factors[path] = {"path": path, "low": low, "high": high}
            continue
        factors[key] = {"path": key, "low": low, "high": high}
    return base, factors


def assumption_sensitivity(
    scenario: ScenarioLike,
    quantity: str = "satisfaction",
    replications: int = 5,
    seed: int = 0,
    *,
    assumptions: Sequence[str] | None = None,
    jobs: int | None = 1,
) -> pd.DataFrame:
    """One-call sensitivity of a headline output to each assumption of the quality model.

    Every assumption in :data:`ASSUMPTIONS` (or the ``assumptions`` named) is
    set to the low and the high end of its documented range, one at a time,
    all runs with the same seed (common random numbers).

    Parameters
    ----------
    scenario
        A scenario with a quality block.
    quantity
        A metric, ``"metric"`` (system scope) or ``"scope.metric"``, e.g.
        ``"satisfaction"``, ``"p_return"``, ``"profit"``.
    replications, seed, jobs
        As in :func:`simlib.compare`.
    assumptions
        Scenario keys of :data:`ASSUMPTIONS` to vary (default: all that apply).

    Returns
    -------
    pandas.DataFrame
        The table of :func:`simlib.planning.measures.tornado` (``factor, low,
        high, base, at_low, at_high, swing``, largest swing first); draw it with
        :func:`simlib.plots.quality.plot_assumption_tornado`.
    """
    base, factors = assumption_factors(scenario, assumptions)
    return tornado(base, factors, quantity, replications=replications, seed=seed, jobs=jobs)


def chain_assumption_sensitivity(
    scenario: ScenarioLike,
    servers: Sequence[int],
    quantity: str = "satisfaction",
    close: Sequence[str] = ("gap1",),
    replications: int = 5,
    seed: int = 0,
    *,
    station: str = "service",
    jobs: int | None = 1,
) -> pd.DataFrame:
    """Sensitivity of the causal gap model to its own assumptions, ``sop_gain`` and ``adherence``.

    The SOP gain and adherence act only when a closed gap moves management's
    reliability belief, so the chain closing ``close`` (default gap 1) is
    derived by :func:`causal_chain` at the defaults and at each end of each
    range in :data:`CHAIN_ASSUMPTIONS`, one at a time, on the staffing curve and
    the customer expectations measured as in :func:`causal_gap_study`; every
    delivered scenario runs with the same seed (common random numbers). With
    gap 3 in ``close`` the staffing is read off the curve of the scenario as
    given (not measured again as in :func:`causal_gap_study`); adherence then
    has no effect.

    Parameters
    ----------
    scenario, servers, station
        As in :func:`causal_gap_study`.
    quantity
        A metric, ``"metric"`` (system scope) or ``"scope.metric"``.
    close
        The gaps the chain closes (of :data:`CAUSAL_GAPS`).
    replications, seed, jobs
        As in :func:`simlib.compare`.

    Returns
    -------
    pandas.DataFrame
        ``factor, low, high, base, at_low, at_high, swing`` (as
        :func:`assumption_sensitivity`), largest swing first.
    """
    scn = load_scenario(scenario)
    swept = _staffing_sweep(scn, servers, replications, seed, station, jobs)
    curve = _value_chain(swept, station)
    _, _, standard0 = _management(scn)
    base_res = swept.at(staff_to_standard(curve, standard0))
    per = _per_replication(base_res.customers(), ["expected_wait", "exp_reliability"]).mean()
    opts: dict[str, Any] = {"station": station, "customer_wait": float(per["expected_wait"]),
                            "customer_reliability": float(per["exp_reliability"])}
    settings: dict[str, dict[str, Any]] = {"default": {}}
    for name, (low, high) in CHAIN_ASSUMPTIONS.items():
        settings[f"{name}: low"] = {name: low}
        settings[f"{name}: high"] = {name: high}
    variants = {label: causal_chain(scn, curve, close, **opts, **kw).overrides
                for label, kw in settings.items()}
    comparison = compare(base_res, variants, replications=replications, seed=seed, jobs=jobs,
                         progress=False)
    scope, metric = quantity.split(".", 1) if "." in quantity else ("system", quantity)

    def value(label: str) -> float:
        return comparison.variants[label].value(scope, metric)

    rows = []
    for name, (low, high) in CHAIN_ASSUMPTIONS.items():
        at_low, at_high = value(f"{name}: low"), value(f"{name}: high")
        rows.append((name, low, high, value("default"), at_low, at_high, abs(at_high - at_low)))
    table = pd.DataFrame(rows, columns=["factor", "low", "high", "base", "at_low", "at_high", "swing"])
    return table.sort_values("swing", ascending=False, ignore_index=True)
