"""Service quality from the customer's side: experience model, gaps and surveys.

* :mod:`~simlib.quality.survey` - a survey generator that lets simulated
  customers answer SERVQUAL, SERVPERF or Brady-Cronin questionnaires through
  a documented measurement model and returns the ground truth with the
  answers;
* :mod:`~simlib.quality.congruence` - Tucker's congruence coefficient, to
  check recovered factors against the true ones.
"""

from .congruence import matched_congruence, tucker_congruence
from .survey import MeasurementModel, Survey, survey

__all__ = [
    "MeasurementModel",
    "Survey",
    "matched_congruence",
    "survey",
    "tucker_congruence",
]
