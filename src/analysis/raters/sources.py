"""Sources of 360 ratings: self, supervisor and subordinate ratings against peers', from the model's
fixed effects (adjusted for who rates whom) and as plain within-ratee differences with ratee-clustered
intervals; and how far the sources agree."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.stats.intervals import z_value
from analysis.stats.mixed import CrossedFit


def source_effects(fit: CrossedFit, alpha: float = 0.05) -> pd.DataFrame:
    """Each source against peers, from the model (adjusted for who rates whom)."""
    rows = []
    z = z_value(alpha)
    for term, est in fit.fixed_effects.items():
        if term.startswith("rater_role[T."):
            se = fit.fixed_effects_se[term]
            rows.append({"source": term[len("rater_role[T."):-1], "versus": "peer", "estimate": est, "se": se,
                         "ci_low": est - z * se, "ci_high": est + z * se, "method": "crossed model"})
    return pd.DataFrame(rows)


def source_differences(feedback: pd.DataFrame, reference: str = "peer", alpha: float = 0.05) -> pd.DataFrame:
    """Within-ratee differences of mean scores between sources, with ratee-clustered intervals."""
    fb = feedback.assign(score=feedback["score"].astype(float))
    means = fb.groupby(["ratee_id", "period", "rater_role"])["score"].mean().unstack()
    rows = []
    z = z_value(alpha)
    for source in [c for c in means.columns if c != reference]:
        if reference not in means:
            break
        d = (means[source] - means[reference]).dropna()
        if len(d) < 2:
            continue
        # one value per ratee-period; ratees seen in two periods are averaged first (the cluster)
        per_ratee = d.groupby(level="ratee_id").mean()
        est, se = per_ratee.mean(), per_ratee.std(ddof=1) / np.sqrt(len(per_ratee))
        rows.append({"source": source, "versus": reference, "estimate": est, "se": se,
                     "ci_low": est - z * se, "ci_high": est + z * se, "n_ratees": len(per_ratee),
                     "method": "within-ratee difference"})
    return pd.DataFrame(rows)


def source_agreement(feedback: pd.DataFrame) -> pd.DataFrame:
    """Correlation and mean absolute difference of ratee means between pairs of sources."""
    fb = feedback.assign(score=feedback["score"].astype(float))
    means = fb.groupby(["ratee_id", "period", "rater_role"])["score"].mean().unstack()
    rows = []
    cols = list(means.columns)
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            both = means[[a, b]].dropna()
            if len(both) < 3:
                continue
            rows.append({"source_a": a, "source_b": b, "n_ratees": len(both),
                         "correlation": both[a].corr(both[b]),
                         "mean_abs_difference": (both[a] - both[b]).abs().mean()})
    return pd.DataFrame(rows)
