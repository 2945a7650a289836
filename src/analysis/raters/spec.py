"""The rater model of the 360 feedback: score ~ aspect + rater_role (+ period) + (1|ratee) + (1|rater).

The crossed model (``analysis.stats.mixed``) separates a rater's effect from the level of the people
they rate; everything about raters is read from its fit. Ratings of the appraisal itself are coded
di_bawah 1, sesuai 2, di_atas 3 (``RATING_VALUE``).
"""

from __future__ import annotations

import pandas as pd

from analysis.stats.mixed import CrossedFit, fit_crossed

RATING_VALUE = {"di_bawah": 1.0, "sesuai": 2.0, "di_atas": 3.0}
VALUE_RATING = {1: "di_bawah", 2: "sesuai", 3: "di_atas"}
# the reliability the mean rating of a person should reach (Nunnally's 0.70 for decisions about groups);
# the results say how many raters it takes, and the brief recommends more raters below it
RELIABILITY_TARGET = 0.70


def feedback_model(feedback: pd.DataFrame, method: str = "reml", **kwargs) -> CrossedFit:
    """score ~ aspect + rater_role (+ period) + (1|ratee) + (1|rater) on 360 feedback.

    ``feedback`` may be a Dask DataFrame (``engine: dask``): the fit is then gathered partition by
    partition (``stats.mixed.partitioned``), and is the same."""
    fixed = ["aspect", "rater_role"]
    periods = feedback["period"].nunique()
    if int(periods.compute() if hasattr(periods, "compute") else periods) > 1:
        fixed.append("period")
    data = feedback[["score", "ratee_id", "rater_id", *fixed]]
    data = data.assign(score=data["score"].astype(float))
    return fit_crossed(data, "score", ["ratee_id", "rater_id"], fixed, method=method, **kwargs)


def rater_counts(feedback: pd.DataFrame) -> pd.DataFrame:
    """Ratings and distinct ratees (other than themselves) per rater."""
    others = feedback[feedback["rater_id"] != feedback["ratee_id"]]
    out = pd.DataFrame({
        "n_ratings": feedback.groupby("rater_id").size(),
        "n_ratees": others.groupby("rater_id")["ratee_id"].nunique(),
    }).fillna(0).astype(int)
    out.index.name = "rater_id"
    return out


def adjust_feedback(feedback: pd.DataFrame, fit: CrossedFit) -> pd.DataFrame:
    """360 ratings with each rater's estimated effect removed (``score`` becomes the adjusted
    score; the original is kept as ``score_raw``). Self-ratings are left as they are: a
    person's leniency towards others says nothing about how they see themselves."""
    effect = fit.random_effects["rater_id"]["estimate"]
    out = feedback.copy()
    out["score_raw"] = out["score"].astype(float)
    shift = out["rater_id"].map(effect).fillna(0.0).where(out["rater_role"] != "self", 0.0)
    out["score"] = out["score_raw"] - shift
    return out
