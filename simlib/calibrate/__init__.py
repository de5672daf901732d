"""Calibration: from real (or simulated) call logs to fitted inputs and scenarios.

The workflow, one module per step:

1. :mod:`~simlib.calibrate.ingest` - map a raw log's columns
   (:class:`ColumnMap`) and validate it into a call table and the shared
   event layout (docs/traces.md#event-log-layout); :func:`load_bank` /
   :func:`ingest_bank` give the bundled "Anonymous Bank" month (Feb 1999).
2. :mod:`~simlib.calibrate.arrivals` - arrival-rate profiles per interval and
   day type with Poisson bands; tests of the Poisson assumption
   (Brown et al., 2005).
3. :mod:`~simlib.calibrate.service` - maximum-likelihood service-time fits
   (lognormal, gamma, exponential, Weibull) ranked by AIC.
4. :mod:`~simlib.calibrate.patience` - patience from censored waits:
   Kaplan-Meier (1958), hazard, exponential MLE, the Erlang-A relation
   (Mandelbaum & Zeltyn).
5. :mod:`~simlib.calibrate.staffing` - agents on duty per interval;
   :mod:`~simlib.calibrate.availability` - effective agents (available while
   callers wait) and after-call work.
6. :mod:`~simlib.calibrate.scenario` - :func:`calibrate` runs all of the
   above; :func:`to_scenario` writes a scenario dict (docs/scenario.md) (fitted or trace-driven);
   :func:`add_agents` makes a staffing what-if of a scenario.
7. :mod:`~simlib.calibrate.plan` - :func:`plan_staffing`: a staffing plan (ISA by
   default) on the calibrated scenario, in effective agents and in agents to
   roster (through each interval's :func:`agent_availability`), checked by
   simulation (:meth:`CalibratedPlan.check`).
8. :mod:`~simlib.calibrate.validate` - :func:`observed_intervals` and
   :func:`validate`: observed vs simulated abandonment, waiting and service
   level per interval, with the share of intervals inside the simulated band.

:func:`calls_from_events` extracts arrivals, waits, abandonments and service
times from any event table, so a simulated trace is fitted back with the same
code (:func:`fit_from_events`). Plots live in :mod:`simlib.plots.calibration`
(imported on demand, so that matplotlib is not loaded by the estimators).
"""

from simlib.calibrate.arrivals import (
    ISRAEL_DAY_TYPES,
    WESTERN_DAY_TYPES,
    Dispersion,
    PoissonTest,
    arrival_profile,
    daily_dispersion,
    day_to_day_cv,
    day_types,
    poisson_test,
    profile_by_day_type,
)
from simlib.calibrate.availability import (
    ACW_CAP,
    ACW_CAPS,
    AfterCallWork,
    after_call_work,
    effective_agents,
)
from simlib.calibrate.events import EVENTS, calls_from_events, events_from_calls
from simlib.calibrate.ingest import (
    BANK_CSV,
    BANK_MAPPING,
    ColumnMap,
    IngestError,
    IngestResult,
    ingest,
    ingest_bank,
    load_bank,
    read_log,
)
from simlib.calibrate.patience import (
    PATIENCE_FAMILIES,
    ErlangACheck,
    PatienceFit,
    PatienceModel,
    erlang_a_check,
    fit_patience,
    hazard_table,
    patience,
    survival_knots,
)
from simlib.calibrate.plan import CalibratedPlan, agent_availability, plan_staffing
from simlib.calibrate.priority import CreditEstimate, estimate_credit
from simlib.calibrate.scenario import (
    PRIORITY_SUFFIX,
    Calibration,
    add_agents,
    calibrate,
    fit_from_events,
    patience_spec,
    round_keeping_total,
    to_scenario,
)
from simlib.calibrate.service import (
    SHRINK_K,
    DistFit,
    ServiceFit,
    fit_service,
    fit_service_by_class,
    service_day_cv,
    service_profile,
)
from simlib.calibrate.staffing import agents_on_duty, shifts_from_staffing, typical_staffing
from simlib.calibrate.validate import (
    MIN_CALLS,
    VALIDATION_METRICS,
    Observed,
    Validation,
    interval_difference,
    observed_intervals,
    out_of_sample,
    validate,
)

__all__ = [
    "CalibratedPlan",
    "agent_availability",
    "plan_staffing",
    "CreditEstimate",
    "estimate_credit",
    "MIN_CALLS",
    "PRIORITY_SUFFIX",
    "out_of_sample",
    "patience_spec",
    "round_keeping_total",
    "ACW_CAP",
    "ACW_CAPS",
    "AfterCallWork",
    "after_call_work",
    "effective_agents",
    "day_to_day_cv",
    "PATIENCE_FAMILIES",
    "PatienceModel",
    "fit_patience",
    "survival_knots",
    "SHRINK_K",
    "service_profile",
    "service_day_cv",
    "BANK_CSV",
    "BANK_MAPPING",
    "EVENTS",
    "ISRAEL_DAY_TYPES",
    "VALIDATION_METRICS",
    "WESTERN_DAY_TYPES",
    "Calibration",
    "ColumnMap",
    "Dispersion",
    "DistFit",
    "ErlangACheck",
    "IngestError",
    "Observed",
    "IngestResult",
    "PatienceFit",
    "PoissonTest",
    "ServiceFit",
    "Validation",
    "add_agents",
    "agents_on_duty",
    "arrival_profile",
    "calibrate",
    "calls_from_events",
    "daily_dispersion",
    "day_types",
    "erlang_a_check",
    "events_from_calls",
    "fit_from_events",
    "fit_service",
    "fit_service_by_class",
    "hazard_table",
    "ingest",
    "ingest_bank",
    "interval_difference",
    "load_bank",
    "observed_intervals",
    "patience",
    "poisson_test",
    "profile_by_day_type",
    "read_log",
    "shifts_from_staffing",
    "to_scenario",
    "typical_staffing",
    "validate",
]
