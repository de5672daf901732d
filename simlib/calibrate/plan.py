"""Staffing plans on a calibrated model: how many agents to roster, checked by simulation.

The validated model of a log (:func:`~simlib.calibrate.to_scenario` with its
defaults: effective agents, service by hour, censored-ML patience, the
priority credit, day-to-day variation) counts **effective agents**, the
agents available while callers wait (docs/calibration.md#fidelity-what-the-log-says-beyond-arrivals-and-talk-time).
A plan made on it therefore says how many effective agents each interval
needs; a roster counts people on duty. :func:`plan_staffing` bridges the two
with the **availability** of each planning interval, measured on the
calibration days::

    availability_i = (effective agent-time in i) / (on-duty agent-time in i)

(the time averages of :func:`~simlib.calibrate.effective_agents` over the
interval's 5-minute slots and the chosen days; the whole day's ratio where no
agent was on duty). The ratio is the one that turns the observed roster into
the validated model: agents on duty x availability is the calibrated
capacity. Planned agents are ``ceil(effective / availability)``.

The plan itself is :func:`simlib.planning.staffing.staffing_plan` on the
calibrated scenario, by default the simulation-based iterative staffing
algorithm (ISA, Feldman, Mandelbaum, Massey & Whitt 2008), which simulates
everything the model has (time-varying service, credit priority,
non-exponential patience, the day-to-day multiplier) and so needs none of the
analytic methods' approximations for its prediction. :meth:`CalibratedPlan.check`
simulates the **roster** (agents x availability, rounded keeping the
agent-hours on the 5-minute grid, never below the planned effective agents)
with independent random numbers and reports each interval's metric, pooled
over the simulated days as the validation pools the observed ones, with a
confidence interval next to the target.

Caveat: availability is measured under the bank's own staffing. Idle agents
count as available whenever nobody waits, so in intervals where few callers
waited the ratio is close to 1 and would fall if the plan made the queue
busier; a plan that staffs well above the observed roster keeps the ratio's
meaning only approximately.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from simlib.calibrate.scenario import TIME_UNITS, Calibration, round_keeping_total, to_scenario
from simlib.calibrate.staffing import shifts_from_staffing
from simlib.experiments.runner import run
from simlib.planning.staffing import StaffingPlan, staffing_plan
from simlib.spec.edits import set_staffing
from simlib.spec.scenario import Scenario, from_dict, load_scenario
from simlib.spec.targets import AsaTarget, ServiceLevelTarget, Target, as_target
from simlib.spec.units import DAY
from simlib.spec.validation import count, fraction, positive

__all__ = ["CalibratedPlan", "agent_availability", "plan_staffing"]

#: Metrics measured in time (the plan reports them in seconds).
_DURATIONS = frozenset({"asa", "mean_wait"})


def agent_availability(cal: Calibration, period: float = 1800.0) -> pd.DataFrame:
    """Effective and on-duty agents per planning interval of the calibration days.

    Parameters
    ----------
    cal
        Output of :func:`~simlib.calibrate.calibrate`.
    period
        Planning interval (seconds), a multiple of ``cal.staffing_period``
        that divides a day.

    Returns
    -------
    pandas.DataFrame
        One row per interval: ``start, end`` (seconds since midnight),
        ``on_duty`` and ``effective`` (mean agents over the interval and the
        calibration days) and ``availability`` (their ratio; the whole day's
        ratio where nobody was on duty).
    """
    period = positive("agent_availability", "period", period)
    step = cal.staffing_period
    ratio = period / step
    if abs(ratio - round(ratio)) > 1e-9 or (DAY / period) % 1:
        raise ValueError(
            f"period: must be a multiple of the calibration's staffing period ({step:g} s) "
            f"that divides a day, got {period:g}"
        )
    ty = cal.typical
    slot = (ty["start"].to_numpy(float) // period).astype(np.int64)
    n = int(round(DAY / period))
    on = np.bincount(slot, weights=ty["mean_on_duty"].to_numpy(float), minlength=n) / ratio
    eff = np.bincount(slot, weights=ty["mean_effective"].to_numpy(float), minlength=n) / ratio
    whole = float(eff.sum() / on.sum()) if on.sum() > 0 else 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        avail = np.where(on > 0, eff / np.where(on > 0, on, 1.0), whole)
    starts = np.arange(n) * period
    return pd.DataFrame({"start": starts, "end": starts + period, "on_duty": on, "effective": eff,
                         "availability": np.clip(avail, 1e-6, 1.0)})


def _in_units(target: Target, scale: float) -> Target:
    """``target`` with its durations (seconds) in scenario units of ``scale`` seconds."""
    if isinstance(target, ServiceLevelTarget):
        return ServiceLevelTarget(target.threshold / scale, target.target)
    if isinstance(target, AsaTarget):
        return AsaTarget(target.max_wait / scale)
    return target


@dataclass(frozen=True)
class CalibratedPlan:
    """A staffing plan made on a calibrated model, in effective agents and in agents to roster.

    Attributes
    ----------
    plan
        The :class:`~simlib.planning.staffing.StaffingPlan` on the calibrated
        scenario (its ``servers`` are effective agents; ``plan.scenario`` runs them).
    table
        One row per planning interval: ``start, end`` (seconds since
        midnight), ``arrival_rate`` (calls per hour), ``effective`` (planned
        effective agents), ``availability``, ``agents`` (to roster:
        ``ceil(effective / availability)``), ``observed_on_duty`` and
        ``observed_effective`` (mean agents of the calibration days, for
        comparison) and ``predicted`` (the plan's own prediction of the
        target metric; seconds for a waiting time).
    scenario
        The calibrated scenario staffed with the roster's capacity (see :meth:`check`).
    target
        The target, durations in seconds.
    period
        Planning interval (seconds).
    staffing_period
        The grid (seconds) on which the roster's capacity is rounded: the
        calibration's staffing period.
    """

    plan: StaffingPlan = field(repr=False)
    table: pd.DataFrame = field(repr=False)
    scenario: Scenario = field(repr=False)
    target: Target
    period: float
    staffing_period: float = 300.0

    @property
    def agent_hours(self) -> float:
        """Agent-hours of the roster over the day."""
        return float(self.table["agents"].sum() * self.period / 3600.0)

    @property
    def capacity(self) -> np.ndarray:
        """Mean effective agents the roster gives each interval: ``agents x availability``."""
        return self.table["agents"].to_numpy(float) * self.table["availability"].to_numpy(float)

    def with_agents(self, agents: Any) -> CalibratedPlan:
        """The same plan with another roster (e.g. the observed one, or one agent fewer).

        Parameters
        ----------
        agents
            Agents to roster per planning interval (non-negative integers, one per row of
            :attr:`table`).

        Returns
        -------
        CalibratedPlan
            ``table["agents"]`` and :attr:`scenario` replaced; the plan's
            ``effective`` and ``predicted`` columns are kept for comparison.
        """
        a = np.asarray(agents)
        if a.shape != (len(self.table),) or not np.all(np.isfinite(a)) or np.any(a < 0) \
                or np.any(a % 1 != 0):
            raise ValueError(f"agents: need {len(self.table)} non-negative whole numbers, one per "
                             "planning interval")
        table = self.table.assign(agents=a.astype(np.int64))
        scn = _roster_scenario(self.plan.scenario, self.plan.station, table["agents"].to_numpy(),
                               table["availability"].to_numpy(float), self.period,
                               self.staffing_period)
        return replace(self, table=table, scenario=scn)

    def check(
        self,
        replications: int = 40,
        seed: int = 1,
        *,
        level: float = 0.95,
        jobs: int | None = 1,
    ) -> pd.DataFrame:
        """Simulate the roster and compare every interval's metric with the target.

        The roster's capacity is ``agents x availability`` per interval,
        rounded on the calibration's staffing grid (5 minutes) keeping the
        agent-hours (:func:`~simlib.calibrate.round_keeping_total`); for the
        plan's own roster ``agents x availability >= effective``, so no slot
        gets fewer servers than the plan (another roster, :meth:`with_agents`,
        may have fewer). The metric of an interval is pooled over the simulated days
        (total served within the threshold / total arrivals, as
        :func:`~simlib.calibrate.validate` pools the observed days), with a
        ratio-estimator confidence interval over the replications.

        Parameters
        ----------
        replications
            Simulated days.
        seed
            Root seed; use one different from the plan's for an independent check.
        level
            Confidence level.
        jobs
            Worker processes (see :func:`simlib.run`).

        Returns
        -------
        pandas.DataFrame
            ``start, end`` (seconds), ``agents``, ``capacity`` (mean effective
            agents of the roster), ``arrivals`` (mean per simulated day),
            ``mean, ci_low, ci_high`` (the target's metric;
            seconds for a waiting time), ``target`` and ``met`` (the pooled
            mean meets the target).
        """
        replications = count("check", "replications", replications, minimum=2, whole_floats=True)
        level = fraction("check", "level", level, low_open=True, high_open=True)
        scn = self.scenario
        scale = TIME_UNITS[scn.time_unit]
        res = run(scn, replications=replications, seed=seed, jobs=jobs, progress=False,
                  interval=self.period / scale)
        metric = self.target.metric
        n = len(self.table)
        w = np.zeros((replications, n))
        y = np.zeros((replications, n))
        arr = np.zeros((replications, n))
        station = self.plan.station
        f = scale if metric in _DURATIONS else 1.0
        for r, record in enumerate(res.records):
            for start, _end, block in record.intervals:
                k = int(round(start * scale / self.period))
                if not 0 <= k < n:
                    continue
                m = block[station]
                a = float(m["arrivals"])
                if metric == "asa":  # the mean wait of the served: weighted by the served
                    a *= 1.0 - float(np.nan_to_num(m["p_abandon"])) - float(np.nan_to_num(m["p_blocked"]))
                v = float(m[metric])
                w[r, k] = a
                arr[r, k] = float(m["arrivals"])
                y[r, k] = 0.0 if a == 0 or math.isnan(v) else v * f * a
        tot_w, tot_y = w.sum(axis=0), y.sum(axis=0)
        arrivals = arr.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(tot_w > 0, tot_y / tot_w, np.nan)
            # Ratio estimator: variance of the residuals y_r - R w_r, over the mean weight squared.
            resid = y - mean[None, :] * w
            se = np.sqrt(resid.var(axis=0, ddof=1) / replications) / (tot_w / replications)
        half = float(stats.t.ppf(0.5 + level / 2, replications - 1)) * se
        t = self.target
        met = np.array([bool(np.isnan(x) or t.met(float(x))) for x in mean])
        return pd.DataFrame(
            {
                "start": self.table["start"],
                "end": self.table["end"],
                "agents": self.table["agents"],
                "capacity": self.capacity,
                "arrivals": arrivals / replications,
                "mean": mean,
                "ci_low": mean - half,
                "ci_high": mean + half,
                "target": t.value,
                "met": met,
            }
        )


def plan_staffing(
    cal: Calibration,
    target: Target | None = None,
    *,
    method: str = "isa",
    period: float = 1800.0,
    replications: int = 40,
    seed: int = 0,
    jobs: int = 1,
    time_unit: Literal["second", "minute"] = "minute",
    scenario_options: Mapping[str, Any] | None = None,
    **plan_options: Any,
) -> CalibratedPlan:
    """Plan a typical day's agents on the calibrated (validated) model.

    Parameters
    ----------
    cal
        Output of :func:`~simlib.calibrate.calibrate`.
    target
        What every planning interval must achieve, **durations in seconds**:
        ``ServiceLevelTarget(threshold=20, target=0.8)`` (the default, the
        80/20 rule), ``AsaTarget(max_wait)``, ``AbandonmentTarget(max_share)``
        or ``DelayTarget(max_share)`` (:mod:`simlib.spec.targets`). The
        service level counts abandoned callers as failures, as
        :func:`~simlib.calibrate.observed_intervals` does.
    method
        A method of :func:`~simlib.planning.staffing.staffing_plan`; ``"isa"``
        (default) simulates the calibrated model itself, the analytic
        methods (``"mol"``, ``"sipp"``, ...) use Erlang A with the rate-weighted mean
        patience and ignore the credit and the day-to-day variation.
    period
        Planning interval (seconds).
    replications, seed, jobs
        ISA: simulated days per iteration, root seed, worker processes.
    time_unit
        Unit of the scenario (``to_scenario``).
    scenario_options
        Keyword arguments of :func:`~simlib.calibrate.to_scenario` (default:
        its defaults, the validated model); ``staffing="days"`` is refused
        (a plan is for one typical day).
    **plan_options
        Passed to :func:`~simlib.planning.staffing.staffing_plan`
        (``max_iterations``, ``tolerance``).

    Returns
    -------
    CalibratedPlan
        ``.table`` (effective agents, availability and agents to roster per
        interval), ``.plan``, ``.scenario``, ``.check(replications, seed)``.
    """
    if time_unit not in TIME_UNITS:
        raise ValueError(f"time_unit: expected one of {list(TIME_UNITS)}, got {time_unit!r}")
    options = dict(scenario_options or {})
    if options.get("staffing", "typical") != "typical" or "trace_dir" in options:
        raise ValueError("scenario_options: a plan is for one typical day; staffing='days' and "
                         "trace_dir are not allowed")
    if "servers" in options:
        raise ValueError("scenario_options: servers is what the plan chooses; leave it out")
    tgt = ServiceLevelTarget(20.0, 0.8) if target is None else as_target(target, "plan_staffing")
    scale = TIME_UNITS[time_unit]
    avail = agent_availability(cal, period)
    base = load_scenario(to_scenario(cal, time_unit=time_unit, **options))
    plan = staffing_plan(base, method, _in_units(tgt, scale), interval=period / scale,
                         replications=replications, seed=seed, jobs=jobs, **plan_options)
    eff = plan.table["servers"].to_numpy(np.int64)
    ratio = avail["availability"].to_numpy(float)
    agents = np.ceil(eff / ratio - 1e-9).astype(np.int64)
    predicted = plan.table[f"predicted_{tgt.metric}"].to_numpy(float)
    if tgt.metric in _DURATIONS:
        predicted = predicted * scale
    table = pd.DataFrame(
        {
            "start": avail["start"],
            "end": avail["end"],
            "arrival_rate": plan.table["arrival_rate"].to_numpy(float) * 3600.0 / scale,
            "effective": eff,
            "availability": ratio,
            "agents": agents,
            "observed_on_duty": avail["on_duty"],
            "observed_effective": avail["effective"],
            "predicted": predicted,
        }
    )
    roster = _roster_scenario(plan.scenario, plan.station, agents, ratio, period,
                              cal.staffing_period)
    return CalibratedPlan(plan=plan, table=table, scenario=roster, target=tgt, period=float(period),
                          staffing_period=float(cal.staffing_period))


def _roster_scenario(
    scn: Scenario, station: str, agents: np.ndarray, ratio: np.ndarray, period: float, step: float
) -> Scenario:
    """``scn`` with the station staffed by ``agents x availability`` on the ``step`` grid.

    Rounded keeping the running total (:func:`round_keeping_total`): a slot whose
    capacity is at least an integer ``m`` gets at least ``m`` servers.
    """
    scale = TIME_UNITS[scn.time_unit]
    per = int(round(period / step))
    level = np.repeat(agents * ratio, per)
    starts = np.arange(level.size) * step
    shifts = shifts_from_staffing(starts, starts + step, round_keeping_total(level), scale=scale,
                                  horizon=DAY / scale)
    data = scn.to_dict()
    for st in data["stations"]:
        if st["name"] == station:
            set_staffing(st, shifts)
    data["name"] = f"{scn.name}-roster"
    return from_dict(data, base_dir=scn.base_dir, default_name=scn.name, allow_paths=scn.allow_paths)
