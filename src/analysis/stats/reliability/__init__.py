"""Inter-rater reliability: intraclass correlations, Krippendorff's alpha, reliability from variance components.

ICC: the six forms of Shrout & Fleiss (1979) from the two-way ANOVA of a
complete targets x raters table, with the F-based intervals exactly as R
``psych::ICC`` computes them (McGraw & Wong 1996 for the approximate df of
ICC(2,.)). ICC(1,.) treats every rating of a target as exchangeable (one-way);
ICC(2,.) counts differences in rater severity as error (absolute agreement,
raters random); ICC(3,.) ignores them (consistency, raters fixed). ``k`` forms
are the reliability of the mean of the k raters (Spearman-Brown).

Krippendorff's alpha (Krippendorff 2011, "Computing Krippendorff's
alpha-reliability"): alpha = 1 - (n - 1) * sum_ck o_ck d_ck / sum_ck n_c n_k d_ck,
with o the coincidence matrix (each ordered pair of values from different
coders in unit u adds 1 / (m_u - 1)), n_c its margins and n the number of
pairable values. Units with fewer than two values are not pairable and are
left out. The sums are taken without building o where a closed form exists
(nominal, interval, and ordinal = interval on mid-ranks of the pairable
values), so 100,000 units cost milliseconds.

For unbalanced data (every ratee with different raters, as in 360 feedback)
ANOVA ICCs do not apply; fit a crossed mixed model elsewhere and turn its
variance components into reliabilities with ``reliability_from_components``.
"""

from __future__ import annotations

from analysis.stats.reliability.components import raters_needed, reliability_from_components
from analysis.stats.reliability.icc import DESCRIPTIONS, FORMS, ICCResult, icc, icc_by_group, icc_matrix
from analysis.stats.reliability.krippendorff import (
    LEVELS,
    AlphaResult,
    coincidence_matrix,
    krippendorff_alpha,
    krippendorff_alpha_ci,
    krippendorff_alpha_matrix,
    krippendorff_alpha_matrix_ci,
)

__all__ = [
    "DESCRIPTIONS", "FORMS", "LEVELS", "AlphaResult", "ICCResult", "coincidence_matrix", "icc", "icc_by_group",
    "icc_matrix", "krippendorff_alpha", "krippendorff_alpha_ci", "krippendorff_alpha_matrix",
    "krippendorff_alpha_matrix_ci", "raters_needed", "reliability_from_components",
]
