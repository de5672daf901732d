"""Survey analytics for service quality: SERVQUAL-family instruments and factor models.

Import what you need, e.g. ``from simlib.servqual import cfa``. The layers:

* :mod:`~simlib.servqual.instruments` – SERVQUAL (1988/1991), SERVPERF,
  Brady–Cronin, YAML-defined instruments;
* :mod:`~simlib.servqual.checks` – data checks with one-line errors and an
  explicit missing-data policy;
* :mod:`~simlib.servqual.scoring` – gaps, weighted SERVQUAL, SERVPERF, zone
  of tolerance, reliability of difference scores;
* :mod:`~simlib.servqual.reliability` – alpha (with CI), item–total
  statistics, omega, per-dimension tables;
* :mod:`~simlib.servqual.efa` – KMO, Bartlett, parallel analysis, EFA;
* :mod:`~simlib.servqual.cfa` – ML CFA with lavaan's fit measures, CR, AVE,
  Fornell–Larcker, HTMT;
* :mod:`~simlib.servqual.invariance` – configural/metric/scalar/strict;
* :mod:`~simlib.servqual.sem` – structural equation models in lavaan syntax
  (parser :mod:`~simlib.servqual.syntax`, engine
  :mod:`~simlib.servqual.structural`, report :mod:`~simlib.servqual.semreport`;
  ordinal items: :mod:`~simlib.servqual.polychoric` thresholds and polychoric
  correlations, :mod:`~simlib.servqual.polyserial` correlations of continuous items
  beside them, :mod:`~simlib.servqual.categorical` WLSMV);
* :mod:`~simlib.servqual.ipa`, :mod:`~simlib.servqual.kano` – IPA and Kano;
* figures live in :mod:`simlib.plots.servqual` (they load matplotlib).
"""

from .cfa import CFAModel, CFAResult, cfa, parse_model
from .checks import (
    ConvergenceWarning,
    DegenerateDataError,
    IdentificationWarning,
    MissingItemsError,
    MissingValuesError,
    MissingValuesWarning,
    NonNumericError,
    OutOfScaleError,
    SurveyDataError,
    check_items,
)
from .efa import (
    EFAResult,
    OmegaHierarchical,
    bartlett,
    efa,
    kmo,
    omega_hierarchical,
    parallel_analysis,
)
from .instruments import (
    BRADY_CRONIN,
    SERVPERF22,
    SERVQUAL22,
    SERVQUAL22_1988,
    SERVQUAL22_1991,
    Instrument,
    InstrumentError,
)
from .invariance import invariance
from .ipa import ipa
from .kano import kano, kano_category
from .polychoric import Polychoric, polychoric
from .reliability import (
    AlphaResult,
    OmegaResult,
    ReliabilityReport,
    cronbach_alpha,
    htmt,
    item_total,
    omega_ci,
    omega_total,
    reliability_table,
)
from .scoring import (
    GapScores,
    difference_score_reliability,
    gap_scores,
    servperf,
    weighted_servqual,
    zone_of_tolerance,
)
from .sem import ImproperSolutionWarning, SEMResult, sem

__all__ = [
    "AlphaResult", "BRADY_CRONIN", "CFAModel", "CFAResult", "ConvergenceWarning",
    "DegenerateDataError", "EFAResult", "GapScores", "IdentificationWarning",
    "ImproperSolutionWarning", "Instrument", "InstrumentError", "MissingItemsError", "MissingValuesError",
    "MissingValuesWarning", "NonNumericError", "OutOfScaleError", "ReliabilityReport",
    "SEMResult", "SERVPERF22", "SERVQUAL22", "SERVQUAL22_1988", "SERVQUAL22_1991", "SurveyDataError",
    "bartlett", "cfa", "check_items", "cronbach_alpha", "difference_score_reliability",
    "efa", "gap_scores", "invariance", "ipa", "item_total", "kano", "kano_category", "kmo",
    "omega_total", "parallel_analysis", "parse_model", "reliability_table", "sem", "servperf",
    "weighted_servqual", "zone_of_tolerance",
    "OmegaResult", "htmt", "omega_ci", "omega_hierarchical", "OmegaHierarchical",
    "Polychoric", "polychoric",
]
