"""Service quality from the customer's side: experience model, gaps and surveys.

* :mod:`~simlib.quality.survey` - a survey generator that lets simulated
  customers answer SERVQUAL, SERVPERF or Brady-Cronin questionnaires through
  a documented measurement model and returns the ground truth with the
  answers;
* :mod:`~simlib.quality.congruence` - Tucker's congruence coefficient, to
  check recovered factors against the true ones;
* :mod:`~simlib.quality.gaps` - the five gaps of the gap model, measured on a
  run (``Results.gaps()``);
* :mod:`~simlib.quality.studies` - the experiments of notebooks 03 and 04:
  the value chain along a staffing sweep, the Brady-Cronin hierarchy,
  satisfaction by outcome and the recovery paradox, a SERVQUAL structure
  check, and closing the gaps one at a time;
* :mod:`~simlib.quality.plots` - their figures (import it explicitly:
  ``from simlib.quality import plots``; it loads matplotlib).
"""

from .congruence import matched_congruence, tucker_congruence
from .studies import (
    GapClosingStudy,
    StructureCheck,
    best_point,
    customer_outcome,
    gap_closing_study,
    headline_gaps,
    hierarchy_table,
    recovery_paradox_study,
    satisfaction_by_outcome,
    servqual_structure_check,
    staff_to_standard,
    value_chain_study,
)
from .survey import MeasurementModel, Survey, survey

__all__ = [
    "GapClosingStudy",
    "MeasurementModel",
    "StructureCheck",
    "Survey",
    "best_point",
    "customer_outcome",
    "gap_closing_study",
    "headline_gaps",
    "hierarchy_table",
    "matched_congruence",
    "recovery_paradox_study",
    "satisfaction_by_outcome",
    "servqual_structure_check",
    "staff_to_standard",
    "survey",
    "tucker_congruence",
    "value_chain_study",
]
