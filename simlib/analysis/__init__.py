"""Analysis: what is measured on simulated customers.

:mod:`~simlib.analysis.gaps` (the five gaps of the gap model, measured on a
run), :mod:`~simlib.analysis.survey` (simulated customers answer SERVQUAL,
SERVPERF or Brady-Cronin questionnaires through a documented measurement model,
with the ground truth returned beside the answers, and rating effects fitted
to real data with ``MeasurementModel.fit_to``), :mod:`~simlib.analysis.realism`
(simulated and real surveys side by side) and
:mod:`~simlib.analysis.congruence` (Tucker's congruence, to check recovered
factors against the true ones).
"""

from simlib.analysis.congruence import matched_congruence, tucker_congruence
from simlib.analysis.gaps import gaps
from simlib.analysis.realism import real_surveys, realism_stats, realism_table, within_real_range
from simlib.analysis.survey import MeasurementModel, Survey, SurveyData, survey

__all__ = [
    "MeasurementModel",
    "Survey",
    "SurveyData",
    "gaps",
    "matched_congruence",
    "real_surveys",
    "realism_stats",
    "realism_table",
    "survey",
    "tucker_congruence",
    "within_real_range",
]
