"""Staggered-adoption difference-in-differences: did a scheme adopted at different times change an outcome?

- ``staggered``: Callaway & Sant'Anna (2021) via moderndid, with aggregations and simultaneous bands;
- ``inference``: multiplier-bootstrap bands and pre-adoption tests from influence functions;
- ``heterogeneity``: effects by a unit attribute and the test of their equality;
- ``twfe``: the naive two-way fixed-effects regression and its Goodman-Bacon decomposition;
- ``power``: minimum detectable effect and units needed, by placebo simulation;
- ``panel``: periods as integers, balance, cohorts.

Nothing here knows about ASN: units, periods and outcomes are column names.
"""

from __future__ import annotations

from analysis.stats.did.heterogeneity import MIN_UNITS, GroupComparison, by_group, equality_test
from analysis.stats.did.inference import Pretest, multiplier_weights, sup_t_critical, sup_t_pretest, wald
from analysis.stats.did.panel import NEVER, first_period_from, prepare, quarter_label, quarter_number
from analysis.stats.did.power import (
    MinimumDetectableEffect,
    UnitsNeeded,
    minimum_detectable_effect,
    power_table,
    units_needed,
)
from analysis.stats.did.staggered import AGGREGATIONS, CONTROLS, METHODS, Aggregate, RolloutFit, staggered_did
from analysis.stats.did.twfe import BaconDecomposition, TwoWayFE, bacon_decomposition, twfe

__all__ = [
    "AGGREGATIONS", "CONTROLS", "METHODS", "MIN_UNITS", "NEVER", "Aggregate", "BaconDecomposition", "GroupComparison", "MinimumDetectableEffect", "Pretest",
    "RolloutFit", "TwoWayFE", "UnitsNeeded", "bacon_decomposition", "by_group", "equality_test",
    "first_period_from", "minimum_detectable_effect", "multiplier_weights", "power_table", "prepare",
    "quarter_label", "quarter_number", "staggered_did", "sup_t_critical", "sup_t_pretest", "twfe",
    "units_needed", "wald",
]
