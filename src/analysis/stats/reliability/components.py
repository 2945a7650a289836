"""Reliability from variance components, for unbalanced designs (every ratee with different raters,
as in 360 feedback) where ANOVA ICCs do not apply: fit a crossed mixed model and turn its variance
components into reliabilities."""

from __future__ import annotations

import numpy as np


def reliability_from_components(var_target: float, var_rater: float, var_residual: float,
                                k: float) -> dict[str, float]:
    """Reliability of one rating and of the mean of k ratings, from variance components.

    For unbalanced data, where a crossed mixed model (targets and raters as
    random effects) has been fitted elsewhere:
      agreement (rater severity is error, like ICC(2,.)):
        single = s2_t / (s2_t + s2_r + s2_e),  average = s2_t / (s2_t + (s2_r + s2_e) / k)
      consistency (rater severity ignored, like ICC(3,.)):
        single = s2_t / (s2_t + s2_e),         average = s2_t / (s2_t + s2_e / k)
    With the ANOVA components of a balanced table (``ICCResult.variance_components``)
    these are exactly ICC(2,1), ICC(2,k), ICC(3,1), ICC(3,k). ``k`` need not be a
    whole number (e.g. the typical number of raters per target in unbalanced data).
    """
    comps = {"var_target": var_target, "var_rater": var_rater, "var_residual": var_residual}
    for name, v in comps.items():
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite variance >= 0, got {v}")
    if not np.isfinite(k) or k <= 0:
        raise ValueError(f"k (number of ratings averaged) must be > 0, got {k}")
    t, r, e = float(var_target), float(var_rater), float(var_residual)

    def ratio(err: float) -> float:
        return t / (t + err) if t + err > 0 else float("nan")

    return {
        "k": float(k),
        "single_agreement": ratio(r + e),
        "average_agreement": ratio((r + e) / k),
        "single_consistency": ratio(e),
        "average_consistency": ratio(e / k),
    }


def raters_needed(single: float, target: float) -> float:
    """Raters whose mean reaches reliability ``target`` when one rater's is ``single`` (Spearman-Brown):
    the smallest k with k r / (1 + (k - 1) r) >= target; 1 when one rater already does."""
    if not 0 < single < target:
        return 1.0
    return float(np.ceil(target * (1 - single) / ((1 - target) * single)))
