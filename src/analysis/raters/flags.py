"""Rater effects: leniency and severity, central tendency, halo, sources, bias-adjusted outcomes.

The crossed model (``fit_crossed``, see ``analysis.crossed``) separates a
rater's effect from the level of the people they rate. On top of it:

- **Leniency / severity.** Each rater's conditional mean with its prediction
  error variance (PEV). A conditional mean is shrunk towards 0 by its
  reliability λ = 1 − PEV/σ²_rater, so the test uses the *deregressed* effect
  û/λ, whose standard error when the rater's true effect is u is √(PEV/λ).
  The null hypothesis is that the rater's effect is at most ``min_effect``
  points in size (a difference too small to act on); p-values are one-sided
  and Benjamini–Hochberg-adjusted over the raters with at least
  ``min_ratees`` ratees. ``min_effect = 0`` gives the plain test of no effect.
- **Central tendency / range restriction.** For each rater, their mean
  (leniency-adjusted) score for each ratee is regressed on the mean the
  *other* raters give the same ratee. A rater who uses the full scale follows
  the others with the slope every rater has on average; one who avoids the
  ends of the scale follows them with a flatter slope. One-sided t-test of
  the rater's slope against the pooled slope, BH-adjusted.
- **Halo.** One impression across all aspects means the rater's scores vary
  between ratees but hardly across aspects of one ratee. The ratio of the
  rater's between-ratee to within-ratee mean squares (one-way ANOVA, aspects
  as replicates) is compared with the ratio the other raters of the same
  ratees show: under no halo, F_rater / E[F_others] follows an F distribution
  with (n−1, n(k−1)) degrees of freedom. A rater who compresses everything
  (central tendency) shrinks both mean squares and is not mistaken for halo.
- **Sources.** Self, supervisor and subordinate ratings against peers', from
  the model's fixed effects (adjusted for who rates whom) and as plain
  within-ratee differences with ratee-clustered intervals.
- **Bias-adjusted appraisal outcomes.** The appraisal ratings (di_bawah,
  sesuai, di_atas coded 1, 2, 3) are fitted with the same crossed model (ratee
  and appraising supervisor, across periods); removing each supervisor's
  estimated effect and recoding gives the predikat each employee would have
  had from a neutral rater.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.core.codes import PREDIKAT
from analysis.outcomes.predikat import MATRIX, PREDIKAT_RANK
from analysis.stats.mixed import CrossedFit, fit_crossed

RATING_VALUE = {"di_bawah": 1.0, "sesuai": 2.0, "di_atas": 3.0}
VALUE_RATING = {1: "di_bawah", 2: "sesuai", 3: "di_atas"}


def bh(pvalues: pd.Series) -> pd.Series:
    """Benjamini–Hochberg q-values (NaN stays NaN)."""
    q = pd.Series(np.nan, index=pvalues.index)
    ok = pvalues.notna()
    if ok.any():
        q[ok] = multipletests(pvalues[ok].to_numpy(), method="fdr_bh")[1]
    return q


# --- the 360 model -------------------------------------------------------------------


def feedback_model(feedback: pd.DataFrame, method: str = "reml", **kwargs) -> CrossedFit:
    """score ~ aspect + rater_role (+ period) + (1|ratee) + (1|rater) on 360 feedback."""
    fixed = ["aspect", "rater_role"]
    if feedback["period"].nunique() > 1:
        fixed.append("period")
    data = feedback[["score", "ratee_id", "rater_id", *fixed]].copy()
    data["score"] = data["score"].astype(float)
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


# --- leniency / severity -------------------------------------------------------------


def leniency(fit: CrossedFit, counts: pd.DataFrame, min_ratees: int = 10, fdr: float = 0.10,
             min_effect: float = 0.2, alpha: float = 0.05, rater: str = "rater_id") -> pd.DataFrame:
    """Each rater's effect with its interval, and lenient/severe flags at the given FDR."""
    re = fit.random_effects[rater].copy()
    var_r = fit.variance_components[rater]
    out = re.rename(columns={"n": "n_ratings_model"}).join(counts, how="left")
    out["n_ratees"] = out["n_ratees"].fillna(0).astype(int)
    z = stats.norm.ppf(1 - alpha / 2)
    out["ci_low"] = out["estimate"] - z * out["se"]
    out["ci_high"] = out["estimate"] + z * out["se"]
    pev = out["se"] ** 2
    lam = (1 - pev / var_r).clip(lower=1e-3, upper=1.0) if var_r > 0 else pd.Series(1e-3, index=out.index)
    out["reliability"] = lam
    out["deregressed"] = out["estimate"] / lam
    se_d = np.sqrt(pev / lam)
    out["z"] = (out["deregressed"].abs() - min_effect) / se_d
    out["eligible"] = out["n_ratees"] >= min_ratees
    p = pd.Series(stats.norm.sf(out["z"]), index=out.index).where(out["eligible"])
    out["p"] = p
    out["q"] = bh(p)
    flag = out["q"] <= fdr
    out["flag"] = np.where(flag & (out["deregressed"] > 0), "lenient",
                           np.where(flag & (out["deregressed"] < 0), "severe", ""))
    return out.sort_values("estimate", ascending=False)


# --- per-pair summaries used by central tendency and halo --------------------------------


def _pair_table(feedback: pd.DataFrame, fit: CrossedFit) -> pd.DataFrame:
    """One row per (rater, ratee, period): mean adjusted score over aspects, aspect variance."""
    fb = feedback.loc[feedback["rater_id"] != feedback["ratee_id"],
                      ["rater_id", "ratee_id", "period", "aspect", "rater_role", "score"]].copy()
    fb["score"] = fb["score"].astype(float)
    fe = fit.fixed_effects
    adj = fb["score"] - fe["Intercept"]
    for col in ("aspect", "rater_role", "period"):
        effects = {v: fe.get(f"{col}[T.{v}]", 0.0) for v in fb[col].unique()}
        adj = adj - fb[col].map(effects).astype(float)
    lenient = fit.random_effects["rater_id"]["estimate"]
    fb["adj"] = adj - fb["rater_id"].map(lenient).fillna(0.0).astype(float)
    fb["sq"] = fb["score"] ** 2
    fb["ext"] = fb["score"].isin([1.0, 5.0]).astype(float)
    g = fb.groupby(["rater_id", "ratee_id", "period"], sort=False)
    pairs = g.agg(mean=("adj", "mean"), raw_mean=("score", "mean"), k=("score", "size"),
                  sq=("sq", "sum"), extreme=("ext", "mean")).reset_index()
    pairs["ss_within"] = (pairs["sq"] - pairs["k"] * pairs["raw_mean"] ** 2).clip(lower=0)
    return pairs.drop(columns="sq")


def _others_mean(pairs: pd.DataFrame, col: str) -> pd.Series:
    """For each pair: the mean of ``col`` over the other raters of the same ratee and period."""
    key = ["ratee_id", "period"]
    total = pairs.groupby(key)[col].transform("sum")
    count = pairs.groupby(key)[col].transform("count")
    return ((total - pairs[col]) / (count - 1)).where(count > 1)


def central_tendency(feedback: pd.DataFrame, fit: CrossedFit, min_ratees: int = 10,
                     fdr: float = 0.10) -> pd.DataFrame:
    """Slope of each rater's ratee means on the other raters' means for the same ratees."""
    pairs = _pair_table(feedback, fit)
    pairs["others"] = _others_mean(pairs, "mean")
    pairs["others_extreme"] = _others_mean(pairs, "extreme")
    pairs = pairs.dropna(subset=["others"])
    # within-rater centring, then the pooled slope every rater shares on average
    pairs["x"] = pairs["others"] - pairs.groupby("rater_id")["others"].transform("mean")
    pairs["y"] = pairs["mean"] - pairs.groupby("rater_id")["mean"].transform("mean")
    pooled = float((pairs["x"] * pairs["y"]).sum() / (pairs["x"] ** 2).sum())
    g = pairs.groupby("rater_id")
    sxx = g["x"].apply(lambda s: float((s ** 2).sum()))
    sxy = pairs.assign(xy=pairs["x"] * pairs["y"]).groupby("rater_id")["xy"].sum()
    n = g.size()
    slope = sxy / sxx.where(sxx > 1e-12)
    resid = pairs["y"] - pairs["rater_id"].map(slope) * pairs["x"]
    rss = (resid ** 2).groupby(pairs["rater_id"]).sum()
    se = np.sqrt(rss / (n - 2).clip(lower=1) / sxx.where(sxx > 1e-12))
    out = pd.DataFrame({
        "n_ratees": n, "slope": slope, "slope_se": se, "pooled_slope": pooled,
        "sd_rater": g["mean"].std(), "sd_others": g["others"].std(),
        "extreme_share": g["extreme"].mean(), "others_extreme_share": g["others_extreme"].mean(),
    })
    out["sd_ratio"] = out["sd_rater"] / out["sd_others"]
    t = (out["slope"] - pooled) / out["slope_se"]
    out["t"] = t
    out["eligible"] = out["n_ratees"] >= min_ratees
    p = pd.Series(stats.t.cdf(t, (out["n_ratees"] - 2).clip(lower=1)), index=out.index)
    out["p"] = p.where(out["eligible"] & out["slope_se"].gt(0))
    out["q"] = bh(out["p"])
    out["flag"] = np.where(out["q"] <= fdr, "central_tendency", "")
    out.index.name = "rater_id"
    return out.sort_values("slope")


def halo(feedback: pd.DataFrame, fit: CrossedFit, min_ratees: int = 10, fdr: float = 0.10) -> pd.DataFrame:
    """Between- vs within-ratee spread of each rater's aspect scores, against the other raters."""
    pairs = _pair_table(feedback, fit)
    pairs = pairs[pairs["k"] >= 2].copy()
    pairs["s1"] = pairs["k"].astype(float)
    pairs["s2"] = pairs["k"] * pairs["raw_mean"]
    pairs["s3"] = pairs["k"] * pairs["raw_mean"] ** 2
    pairs["df"] = pairs["k"] - 1.0
    pairs["np"] = 1.0
    sums = ["s1", "s2", "s3", "ss_within", "df", "np"]
    own = pairs.groupby("rater_id")[sums].sum()
    # the other raters of the same ratees: totals of every (ratee, period) the rater touches,
    # minus the rater's own pairs
    key_totals = pairs.groupby(["ratee_id", "period"])[sums].sum()
    touched = pairs[["rater_id", "ratee_id", "period"]].join(key_totals, on=["ratee_id", "period"])
    others = touched.groupby("rater_id")[sums].sum() - own
    out = _anova_sums(own).add_suffix("")
    ref = _anova_sums(others)
    out["n_ratees"] = own["np"].astype(int)
    out["f_others"], out["icc_others"] = ref["f"], ref["icc"]
    out = out[others["np"] > 1]
    k = out["k_mean"]
    # expected F of the rater if their between/within balance were the others'
    expected_f = 1 + k * out["icc_others"].clip(lower=0) / (1 - out["icc_others"].clip(upper=0.999))
    out["f_ratio"] = out["f"] / expected_f
    out["eligible"] = out["n_ratees"] >= min_ratees
    p = pd.Series(stats.f.sf(out["f_ratio"], out["df_between"], out["df_within"]), index=out.index)
    out["p"] = p.where(out["eligible"] & out["df_within"].gt(0))
    out["q"] = bh(out["p"])
    out["flag"] = np.where(out["q"] <= fdr, "halo", "")
    out.index.name = "rater_id"
    return out.sort_values("f_ratio", ascending=False)


def _anova_sums(t: pd.DataFrame) -> pd.DataFrame:
    """One-way ANOVA (groups = rater-ratee pairs, replicates = aspects) from pooled sums."""
    ssb = t["s3"] - t["s2"] ** 2 / t["s1"]
    dfb = (t["np"] - 1).clip(lower=1)
    msb = ssb / dfb
    msw = (t["ss_within"] / t["df"]).where(t["df"] > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (msb / msw).where(msw > 0, np.inf)
        kbar = t["s1"] / t["np"]
        icc = ((msb - msw) / (msb + (kbar - 1) * msw)).where(msw > 0, 1.0)
    return pd.DataFrame({"f": f, "icc": icc, "df_between": dfb, "df_within": t["df"], "k_mean": kbar,
                         "msb": msb, "msw": msw})


# --- sources --------------------------------------------------------------------------------


def source_effects(fit: CrossedFit, alpha: float = 0.05) -> pd.DataFrame:
    """Each source against peers, from the model (adjusted for who rates whom)."""
    rows = []
    z = stats.norm.ppf(1 - alpha / 2)
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
    z = stats.norm.ppf(1 - alpha / 2)
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


# --- bias-adjusted appraisal outcomes ------------------------------------------------------


@dataclass
class AdjustedOutcomes:
    fit: CrossedFit
    table: pd.DataFrame  # one row per employee and period: before and after
    before: pd.Series  # predikat counts
    after: pd.Series

    @property
    def changed(self) -> pd.DataFrame:
        return self.table[self.table["predikat"] != self.table["predikat_adjusted"]]

    def distribution(self) -> pd.DataFrame:
        out = pd.DataFrame({"before": self.before, "after": self.after}).reindex(list(PREDIKAT)).fillna(0)
        out["share_before"] = out["before"] / out["before"].sum()
        out["share_after"] = out["after"] / out["after"].sum()
        out.index.name = "predikat"
        return out


def adjusted_outcomes(outcomes: pd.DataFrame, method: str = "reml") -> AdjustedOutcomes:
    """Predikat with each appraising supervisor's estimated effect removed.

    ``outcomes`` is notebook 01's per-employee table (employee_id, period, rater_id,
    hasil_kerja, perilaku_kerja, predikat). Both ratings are coded 1-3 and fitted together:
    rating ~ dimension + period + (1|employee) + (1|rater) + (1|unit).
    """
    a = outcomes.dropna(subset=["rater_id", "hasil_kerja", "perilaku_kerja"])
    long = a.melt(id_vars=["employee_id", "period", "rater_id"], value_vars=["hasil_kerja", "perilaku_kerja"],
                  var_name="dimension", value_name="rating")
    long["value"] = long["rating"].map(RATING_VALUE)
    fixed = ["dimension"] + (["period"] if long["period"].nunique() > 1 else [])
    # supervisors work inside units whose own rating bounds their staff's predikat: the unit is
    # a third factor, so that a supervisor's effect is measured against the unit, not across units
    long["unit_id"] = long["employee_id"].map(a.drop_duplicates("employee_id").set_index("employee_id")["unit_id"])
    fit = fit_crossed(long, "value", ["employee_id", "rater_id", "unit_id"], fixed, method=method)
    effect = fit.random_effects["rater_id"]["estimate"]
    table = a[["employee_id", "period", "unit_id", "rater_id", "hasil_kerja", "perilaku_kerja", "predikat"]].copy()
    table["rater_effect"] = table["rater_id"].map(effect).fillna(0.0)
    for col in ("hasil_kerja", "perilaku_kerja"):
        adj = table[col].map(RATING_VALUE) - table["rater_effect"]
        table[f"{col}_adjusted"] = np.clip(np.round(adj), 1, 3).astype(int).map(VALUE_RATING)
    table["predikat_adjusted"] = [MATRIX[(h, p)] for h, p in zip(table["hasil_kerja_adjusted"],
                                                                  table["perilaku_kerja_adjusted"])]
    diff = table["predikat_adjusted"].map(PREDIKAT_RANK) - table["predikat"].map(PREDIKAT_RANK)
    table["change"] = np.select([diff > 0, diff < 0], ["up", "down"], "same")
    return AdjustedOutcomes(fit, table, table["predikat"].value_counts(), table["predikat_adjusted"].value_counts())


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


def band_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """PP 30/2019 band per employee and period before and after removing rater effects."""
    from analysis.outcomes.agreement import RANK_PP30

    keys = ["employee_id", "period"]
    b = before[keys + ["unit_id", "final_score", "band"]]
    a = after[keys + ["final_score", "band"]].rename(columns={"final_score": "final_score_adjusted",
                                                               "band": "band_adjusted"})
    out = b.merge(a, on=keys)
    diff = out["band_adjusted"].map(RANK_PP30) - out["band"].map(RANK_PP30)
    out["change"] = np.select([diff > 0, diff < 0], ["up", "down"], "same")
    return out
