"""Analysis: what is measured on simulated customers.

:mod:`~simlib.analysis.gaps` (the five gaps of the gap model, measured on a
run), :mod:`~simlib.analysis.survey` (simulated customers answer SERVQUAL,
SERVPERF or Brady-Cronin questionnaires through a documented measurement model,
with the ground truth returned beside the answers) and
:mod:`~simlib.analysis.congruence` (Tucker's congruence, to check recovered
factors against the true ones).
"""

from simlib.analysis.congruence import matched_congruence, tucker_congruence
from simlib.analysis.gaps import gaps
from simlib.analysis.survey import MeasurementModel, Survey, survey

__all__ = ["MeasurementModel", "Survey", "gaps", "matched_congruence", "survey", "tucker_congruence"]
