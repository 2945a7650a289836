"""The older numeric scheme (PP 30/2019) and the achievement-based (capaian) view.

PP 30/2019: score = 70% SKP (target achievement) + 30% behaviour, or 60/40
when peers and direct subordinates give input (360-style). Achievement per
indicator = realisation / target, inverted when lower is better, capped
(commonly at 120%); the SKP score is the weighted mean in points (0-120).
Bands: Sangat Baik 110-120 with an innovation; Baik 90-120; Cukup 70-<90;
Kurang 50-<70; Sangat Kurang <50.

Behaviour points come from the 360 feedback (mean of supervisor, peer and
subordinate scores, mapped to points by ``feedback_points``) when it exists,
otherwise from the perilaku kerja rating (``behaviour_points``).

The capaian view rates hasil kerja by measured achievement alone (SKP points
against ``capaian_thresholds``) and derives the predikat with the
PermenPANRB 6/2022 matrix, as an achievement-based scheme such as Palu's does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core.codes import PP30_BANDS
from analysis.core.params import Appraisal
from analysis.outcomes.predikat import predikat

KEYS = ["employee_id", "period"]
# the columns of the targets that SKP scores are computed from (``indicator_achievement``, ``skp_scores``)
SKP_COLUMNS = [*KEYS, "target", "realization", "weight", "direction"]


def indicator_achievement(targets: pd.DataFrame, cap: float = 1.2) -> pd.DataFrame:
    """Targets with the achievement ratio per indicator (inverted where lower is better, capped)."""
    t = targets.reset_index(drop=True).copy()
    target = t["target"].astype(float)
    real = t["realization"].astype(float)
    lower = t["direction"] == "lower"
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(lower, target / real, real / target)
    # lower is better and nothing realised (0 days, 0 complaints): the best possible outcome
    ratio = np.where(lower & (real == 0), np.inf, ratio)
    # higher is better with a target of 0: realising 0 meets it exactly (0/0 would be NaN, dropped from
    # the weighted sum while its weight still counted); realising more exceeds it (x/0 = inf, capped)
    ratio = np.where(~lower & (target == 0) & (real == 0), 1.0, ratio)
    t["achievement_raw"] = ratio
    t["achievement"] = np.clip(ratio, 0, cap)
    t["met"] = ratio >= 1
    return t


def skp_scores(achievement: pd.DataFrame) -> pd.DataFrame:
    """SKP points (0-120) per employee and period: weighted mean of capped achievement x 100.

    Indicators without a weight get equal weights within their employee-period
    (when any weight of the group is missing, the whole group is equally weighted).
    """
    a = achievement.copy()
    if "weight" not in a:
        a["weight"] = np.nan
    a["_w"] = a["weight"].astype(float)
    # whole-column group operations, not a Python function per group (17,000 groups on the sample)
    missing = a["_w"].isna()
    any_missing = missing.groupby([a[k] for k in KEYS]).transform("any").astype(bool)
    a.loc[any_missing, "_w"] = 1.0
    a["_wx"] = a["_w"] * a["achievement"]
    g = a.groupby(KEYS)
    out = pd.DataFrame({
        "skp_score": 100 * g["_wx"].sum() / g["_w"].sum(),
        "n_indicators": g.size(),
        "share_met": g["met"].mean(),
        "equal_weights": a["weight"].isna().groupby([a[k] for k in KEYS]).any(),
    }).reset_index()
    return out


def _interp_points(mean_score: pd.Series, points: dict[int, float]) -> pd.Series:
    xs = sorted(points)
    return pd.Series(np.interp(mean_score, xs, [points[x] for x in xs]), index=mean_score.index)


def behaviour_scores(appraisals: pd.DataFrame, feedback: pd.DataFrame | None,
                     settings: Appraisal) -> pd.DataFrame:
    """Behaviour points per employee and period, and whether 360 input (peers or subordinates) exists."""
    out = appraisals[KEYS + ["perilaku_kerja"]].copy()
    out["behaviour_points"] = out["perilaku_kerja"].map(settings.behaviour_points).astype(float)
    out["behaviour_source"] = "rating"
    out["has_360"] = False
    if feedback is not None and len(feedback):
        others = feedback[feedback["rater_role"] != "self"]
        by = others.groupby(["ratee_id", "period"])
        from_others = others["rater_role"].isin(["peer", "subordinate"])
        fb = pd.DataFrame({
            "mean_360": by["score"].mean().astype(float),
            "peer_or_sub": from_others.groupby([others["ratee_id"], others["period"]]).any(),
        }).reset_index().rename(columns={"ratee_id": "employee_id"})
        out = out.merge(fb, on=KEYS, how="left")
        use = out["peer_or_sub"].fillna(False).astype(bool)
        out.loc[use, "behaviour_points"] = _interp_points(out.loc[use, "mean_360"], settings.feedback_points)
        out.loc[use, "behaviour_source"] = "360"
        out["has_360"] = use
        out = out.drop(columns=["peer_or_sub"])
    else:
        out["mean_360"] = np.nan
    return out


def pp30_band(score: pd.Series, innovation: pd.Series, settings: Appraisal) -> pd.Series:
    """PP 30/2019 band of each final score (None where the score is missing)."""
    b = settings.bands
    innov = innovation.fillna(False).astype(bool) if settings.innovation_required else True
    out = np.select(
        [score >= b["sangat_baik"], score >= b["baik"], score >= b["cukup"], score >= b["kurang"], score.notna()],
        ["sangat_baik", "baik", "cukup", "kurang", "sangat_kurang"], default=None,
    ).astype(object)
    # 110+ without an innovation is Baik (the band Sangat Baik needs both)
    out = np.where((out == "sangat_baik") & ~np.asarray(innov), "baik", out)
    return pd.Series(out, index=score.index, dtype="object")


def numeric_scores(outcomes: pd.DataFrame, targets: pd.DataFrame, feedback: pd.DataFrame | None,
                   settings: Appraisal) -> pd.DataFrame:
    """PP 30/2019 final score and band per employee and period that has targets.

    Columns: skp_score, behaviour_points, behaviour_source, has_360, weight_skp,
    weight_behaviour, final_score, band, plus the outcome columns for grouping.
    """
    skp = skp_scores(indicator_achievement(targets, settings.achievement_cap))
    beh = behaviour_scores(outcomes, feedback, settings)
    df = outcomes.merge(skp, on=KEYS, how="inner").merge(
        beh.drop(columns=["perilaku_kerja"]), on=KEYS, how="left")
    w = np.where(df["has_360"], settings.weights_360.skp, settings.weights.skp)
    df["weight_skp"] = w
    df["weight_behaviour"] = 1 - w
    df["final_score"] = w * df["skp_score"] + (1 - w) * df["behaviour_points"]
    df["band"] = pp30_band(df["final_score"], df["innovation"], settings)
    return df


def capaian_view(scores: pd.DataFrame, settings: Appraisal) -> pd.DataFrame:
    """Hasil kerja from measured achievement alone, and the predikat it gives with perilaku kerja."""
    th = settings.capaian_thresholds
    s = scores["skp_score"]
    hasil = np.select([s >= th["di_atas"], s >= th["sesuai"], s.notna()], ["di_atas", "sesuai", "di_bawah"],
                      default=None).astype(object)
    out = scores.copy()
    out["hasil_capaian"] = hasil
    out["predikat_capaian"] = predikat(out["hasil_capaian"], out["perilaku_kerja"])
    return out


def band_distribution(scores: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """Counts and shares of PP 30/2019 bands per group."""
    by = by or ["period"]
    counts = (scores.groupby(by)["band"].value_counts().unstack(fill_value=0)
              .reindex(columns=list(PP30_BANDS), fill_value=0))
    counts.columns = [f"n_{c}" for c in counts.columns]
    counts.insert(0, "n", counts.sum(axis=1))
    for c in PP30_BANDS:
        counts[f"share_{c}"] = counts[f"n_{c}"] / counts["n"]
    return counts.reset_index()
