"""Rater flags: leniency and severity, central tendency, halo.

The crossed model (``raters.model.feedback_model``, fitted by ``analysis.stats.mixed``) separates a
rater's effect from the level of the people they rate. On top of it:

- **Leniency / severity.** Each rater's conditional mean with its prediction
  error variance (PEV). A conditional mean is shrunk towards 0 by its
  reliability λ = 1 − PEV/σ²_rater, so the test uses the *deregressed* effect
  û/λ, whose standard error when the rater's true effect is u is √(PEV/λ).
  The null hypothesis is that the rater's effect is at most ``min_effect``
  points in size (a difference too small to act on); the p-value of that
  interval null has both tails, Φ̄((|d|−m)/s) + Φ̄((|d|+m)/s) (Wellek 2010),
  with the variance components treated as known, and is Benjamini–Hochberg-
  adjusted over the raters with at least ``min_ratees`` ratees.
  ``min_effect = 0`` gives the plain two-sided test of no effect.
- **Central tendency / range restriction.** For each rater, their mean
  (leniency-adjusted) score for each ratee is regressed on the mean the
  *other* raters give the same ratee. A rater who uses the full scale follows
  the others with the slope every rater has on average; one who avoids the
  ends of the scale follows them with a flatter slope. The others' mean is a
  noisy measure of each ratee's level, which attenuates the slope by its
  reliability within the rater's own set of ratees (lowest where the ratees
  differ little, as in homogeneous teams): each slope, and the pooled one, is
  divided by that reliability before the one-sided t-test of the rater's
  slope against the pooled slope, BH-adjusted. Eligibility counts distinct
  people rated.
- **Halo.** One impression across all aspects means the rater's scores vary
  between ratees but hardly across aspects of one ratee. The ratio of the
  rater's between-ratee to within-ratee mean squares (one-way ANOVA, aspects
  as replicates) is compared with the ratio the other raters of the same
  ratees show: under no halo, F_rater / E[F_others] follows an F distribution
  with (n−1, n(k−1)) degrees of freedom. A rater who compresses everything
  (central tendency) shrinks both mean squares and is not mistaken for halo.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.core.i18n import t
from analysis.core.results import Results
from analysis.stats.intervals import z_value
from analysis.stats.mixed import CrossedFit
from analysis.stats.multitest import bh

# --- leniency / severity -------------------------------------------------------------


def leniency(fit: CrossedFit, counts: pd.DataFrame, min_ratees: int = 10, fdr: float = 0.10,
             min_effect: float = 0.2, alpha: float = 0.05, rater: str = "rater_id") -> pd.DataFrame:
    """Each rater's effect with its interval, and lenient/severe flags at the given FDR."""
    re = fit.random_effects[rater].copy()
    var_r = fit.variance_components[rater]
    out = re.rename(columns={"n": "n_ratings_model"}).join(counts, how="left")
    out["n_ratees"] = out["n_ratees"].fillna(0).astype(int)
    z = z_value(alpha)
    out["ci_low"] = out["estimate"] - z * out["se"]
    out["ci_high"] = out["estimate"] + z * out["se"]
    pev = out["se"] ** 2
    lam = (1 - pev / var_r).clip(lower=1e-3, upper=1.0) if var_r > 0 else pd.Series(1e-3, index=out.index)
    out["reliability"] = lam
    out["deregressed"] = out["estimate"] / lam
    se_d = np.sqrt(pev / lam)
    out["z"] = (out["deregressed"].abs() - min_effect) / se_d
    out["eligible"] = out["n_ratees"] >= min_ratees
    # the test of the interval null |effect| <= min_effect (Wellek 2010): both tails, so that with
    # min_effect = 0 it is the plain two-sided test of no effect at its nominal level
    both_tails = stats.norm.sf(out["z"]) + stats.norm.sf((out["deregressed"].abs() + min_effect) / se_d)
    p = pd.Series(np.minimum(both_tails, 1.0), index=out.index).where(out["eligible"])
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
    fb["adj_sq"] = fb["adj"] ** 2
    fb["ext"] = fb["score"].isin([1.0, 5.0]).astype(float)
    g = fb.groupby(["rater_id", "ratee_id", "period"], sort=False)
    pairs = g.agg(mean=("adj", "mean"), raw_mean=("score", "mean"), k=("score", "size"),
                  sq=("sq", "sum"), adj_sq=("adj_sq", "sum"), extreme=("ext", "mean")).reset_index()
    pairs["ss_within"] = (pairs["sq"] - pairs["k"] * pairs["raw_mean"] ** 2).clip(lower=0)
    # the same with aspect, role, period and leniency removed (what the halo test compares)
    pairs["ss_within_adj"] = (pairs["adj_sq"] - pairs["k"] * pairs["mean"] ** 2).clip(lower=0)
    return pairs.drop(columns=["sq", "adj_sq"])


def _others_mean(pairs: pd.DataFrame, col: str) -> pd.Series:
    """For each pair: the mean of ``col`` over the other raters of the same ratee and period."""
    key = ["ratee_id", "period"]
    total = pairs.groupby(key)[col].transform("sum")
    count = pairs.groupby(key)[col].transform("count")
    return ((total - pairs[col]) / (count - 1)).where(count > 1)


def _pooled_within_variance(frame: pd.DataFrame, by: list[str], col: str) -> float:
    """The variance of ``col`` within groups, pooled over groups of two or more."""
    g = frame.groupby(by)[col]
    ss = (frame[col] - g.transform("mean")) ** 2
    df = (g.transform("count") - 1).groupby([frame[b] for b in by]).first().clip(lower=0).sum()
    return float(ss.sum() / df) if df > 0 else float("nan")


def group_sums_of_squares(values: pd.Series, keys: pd.Series) -> pd.Series:
    """Σ value² per key, as ``values.groupby(keys).apply(lambda s: (s ** 2).sum())`` gives it, to the
    last bit, without a Python call per group (60,000 raters at 100,000 employees: 10 s).

    NumPy sums each group pairwise, as ``Series.sum`` does (pandas' grouped sum is compensated and
    differs in the last bits): the groups of one size are summed together, as the rows of a matrix."""
    codes, uniques = pd.factorize(keys, sort=True)
    known = codes >= 0
    codes, squares = codes[known], values.to_numpy(float)[known] ** 2
    order = np.argsort(codes, kind="stable")
    squares, codes = squares[order], codes[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, dtype=int)
    sizes = np.diff(np.r_[starts, len(squares)])
    out = np.empty(len(starts))
    for size in np.unique(sizes):
        which = np.flatnonzero(sizes == size)
        out[which] = squares[starts[which][:, None] + np.arange(size)[None, :]].sum(axis=1)
    return pd.Series(out, index=pd.Index(uniques, name=keys.name), name=values.name)


def central_tendency(feedback: pd.DataFrame, fit: CrossedFit, min_ratees: int = 10,
                     fdr: float = 0.10) -> pd.DataFrame:
    """Slope of each rater's ratee means on the other raters' means for the same ratees."""
    pairs = _pair_table(feedback, fit)
    pairs["others"] = _others_mean(pairs, "mean")
    pairs["others_extreme"] = _others_mean(pairs, "extreme")
    # the others' mean is a noisy measure of the ratee's level: its error variance is the spread of
    # one rater's pair mean around the others' (pooled) over the number of other raters
    pair_var = _pooled_within_variance(pairs, ["ratee_id", "period"], "mean")
    pairs["others_error"] = pair_var / (pairs.groupby(["ratee_id", "period"])["mean"].transform("count") - 1)
    pairs = pairs.dropna(subset=["others"])
    # within-rater centring, then the pooled slope every rater shares on average
    pairs["x"] = pairs["others"] - pairs.groupby("rater_id")["others"].transform("mean")
    pairs["y"] = pairs["mean"] - pairs.groupby("rater_id")["mean"].transform("mean")
    g = pairs.groupby("rater_id")
    sxx = group_sums_of_squares(pairs["x"], pairs["rater_id"])
    sxy = pairs.assign(xy=pairs["x"] * pairs["y"]).groupby("rater_id")["xy"].sum()
    n = g.size()
    # regression attenuation (Fuller 1987): a rater whose ratees differ little in level, or whose
    # others' mean is noisy, has a flatter slope with no central tendency at all; each slope is
    # divided by the reliability of the others' mean within the rater's own set of ratees
    error = g["others_error"].mean()
    reliability = (1 - error / (sxx / n).where(sxx > 1e-12)).clip(lower=0.05, upper=1.0)
    pooled_reliability = float(np.clip(1 - pairs["others_error"].mean() / (pairs["x"] ** 2).mean(), 0.05, 1.0))
    pooled = float((pairs["x"] * pairs["y"]).sum() / (pairs["x"] ** 2).sum()) / pooled_reliability
    raw_slope = sxy / sxx.where(sxx > 1e-12)
    resid = pairs["y"] - pairs["rater_id"].map(raw_slope) * pairs["x"]
    rss = (resid ** 2).groupby(pairs["rater_id"]).sum()
    slope = raw_slope / reliability
    se = np.sqrt(rss / (n - 2).clip(lower=1) / sxx.where(sxx > 1e-12)) / reliability
    out = pd.DataFrame({
        # eligibility counts distinct people rated; the regression's rows are rater x ratee x period
        "n_ratees": g["ratee_id"].nunique(), "n_pairs": n,
        "slope": slope, "slope_se": se, "pooled_slope": pooled, "slope_raw": raw_slope,
        "others_reliability": reliability,
        "sd_rater": g["mean"].std(), "sd_others": g["others"].std(),
        "extreme_share": g["extreme"].mean(), "others_extreme_share": g["others_extreme"].mean(),
    })
    out["sd_ratio"] = out["sd_rater"] / out["sd_others"]
    t = (out["slope"] - pooled) / out["slope_se"]
    out["t"] = t
    out["eligible"] = out["n_ratees"] >= min_ratees
    p = pd.Series(stats.t.cdf(t, (out["n_pairs"] - 2).clip(lower=1)), index=out.index)
    out["p"] = p.where(out["eligible"] & out["slope_se"].gt(0))
    out["q"] = bh(out["p"])
    out["flag"] = np.where(out["q"] <= fdr, "central_tendency", "")
    out.index.name = "rater_id"
    return out.sort_values("slope")


def halo(feedback: pd.DataFrame, fit: CrossedFit, min_ratees: int = 10, fdr: float = 0.10,
         explained: Iterable[str] = ()) -> pd.DataFrame:
    """Does a rater tell a person's aspects apart less than the other raters of the same people?

    The test: for every person (and period) rated by two or more raters, rank the raters by their
    spread over aspects (the within-pair mean square, on scores with the aspect means removed).
    With no halo the raters of one person are exchangeable, so a rater's rank is uniform over the
    observed (mid-)ranks whatever that person's profile; summed over the rater's people, the ranks
    give a z statistic whose lower tail is the halo p-value (a rank test conditional on each person's
    values, so ties on integer scores and unequal numbers of raters are handled exactly). The
    person's true profile, which inflates every rater's spread alike, cancels; the between/within F
    statistics against the other raters' ICC are kept as descriptions (``f_ratio``).

    A narrow spread over aspects has two other causes, each with a flag of its own: compressing every
    score (central tendency) and scores piled at an end of a bounded scale (leniency or severity). The
    raters in ``explained`` (flagged for those) are not tested for halo (``explained_by_other_flag``).
    With ``explained`` empty every rater is tested, as in the calibration of the test's size.
    """
    pairs = _pair_table(feedback, fit)
    pairs = pairs[pairs["k"] >= 2].copy()
    # on scores with the aspect, role and period effects and each rater's leniency removed: aspect
    # means would otherwise count as within-ratee spread, and the other raters' leniency and roles as
    # between-ratee spread of the reference
    pairs["s1"] = pairs["k"].astype(float)
    pairs["s2"] = pairs["k"] * pairs["mean"]
    pairs["s3"] = pairs["k"] * pairs["mean"] ** 2
    pairs["ss_within"] = pairs["ss_within_adj"]
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
    # eligibility counts distinct people rated; the ANOVA's rows are rater x ratee x period
    out["n_pairs"] = own["np"].astype(int)
    out["n_ratees"] = pairs.groupby("rater_id")["ratee_id"].nunique().reindex(out.index).astype(int)
    out["f_others"], out["icc_others"] = ref["f"], ref["icc"]
    out = out[others["np"] > 1]
    k = out["k_mean"]
    # expected F of the rater if their between/within balance were the others' (descriptive)
    expected_f = 1 + k * out["icc_others"].clip(lower=0) / (1 - out["icc_others"].clip(upper=0.999))
    out["f_ratio"] = out["f"] / expected_f
    ranks = _spread_ranks(pairs)
    out = out.join(ranks)
    out["n_compared"] = out["n_compared"].fillna(0).astype(int)
    out["explained_by_other_flag"] = out.index.isin(set(explained))
    out["eligible"] = (out["n_ratees"] >= min_ratees) & ~out["explained_by_other_flag"]
    p = pd.Series(stats.norm.cdf(out["rank_z"]), index=out.index)
    out["p"] = p.where(out["eligible"] & out["rank_z"].notna())
    out["q"] = bh(out["p"])
    out["flag"] = np.where(out["q"] <= fdr, "halo", "")
    out.index.name = "rater_id"
    return out.sort_values("f_ratio", ascending=False)


def _spread_ranks(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per rater: z of the summed mid-ranks of their spread over aspects among each person's raters
    (centred on the permutation mean, scaled by the permutation variance given the observed values)."""
    key = ["ratee_id", "period"]
    msw = pairs["ss_within"] / pairs["df"]
    m = msw.groupby([pairs[c] for c in key]).transform("count")
    keep = m >= 2
    pr, msw, m = pairs[keep], msw[keep], m[keep]
    rank = msw.groupby([pr[c] for c in key]).rank(method="average")
    dev = rank - (m + 1) / 2
    var = (dev ** 2).groupby([pr[c] for c in key]).transform("mean")
    g = pr["rater_id"]
    s, v = dev.groupby(g).sum(), var.groupby(g).sum()
    z = (s / np.sqrt(v)).where(v > 0)
    return pd.DataFrame({"rank_z": z, "n_compared": pr.groupby("rater_id").size()})


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


# --- the flagged raters, as one table ----------------------------------------------------------

KINDS = ("lenient", "severe", "central_tendency", "halo")


@dataclass(frozen=True, eq=False)
class RaterFlags(Results):
    """Every rater's leniency, central-tendency and halo statistics, and the flags they raise."""

    leniency: pd.DataFrame  # per rater: effect, interval, deregressed effect, p, q, flag
    central: pd.DataFrame  # per rater: slope on the others' means, SD ratio, p, q, flag
    halo: pd.DataFrame  # per rater: F ratio against the others', ICC over aspects, p, q, flag
    flagged: pd.DataFrame  # one row per flag (restricted: it names raters)
    fdr: float

    title = "Rater flags"

    def counts(self) -> dict[str, int]:
        return {kind: int((self.flagged["kind"] == kind).sum()) for kind in KINDS}

    def to_frame(self) -> pd.DataFrame:
        return self.flagged

    def to_dict(self) -> dict:
        return {"fdr": self.fdr, "eligible_raters": int(self.leniency["eligible"].sum()), "flagged": self.counts(),
                "flagged_any": int(self.flagged["rater_id"].nunique())}

    def summary(self) -> str:
        d = self.to_dict()
        kinds = ", ".join(f"{k} {n}" for k, n in d["flagged"].items())
        return (f"{self.title} at a false-discovery rate of {self.fdr:.0%}: {d['eligible_raters']} raters eligible; "
                f"{kinds}; {d['flagged_any']} raters flagged at least once")


def flag_raters(fit: CrossedFit, feedback: pd.DataFrame, counts: pd.DataFrame, unit_of: pd.Series, *,
                min_ratees: int, fdr: float, min_effect: float, alpha: float) -> RaterFlags:
    """All four flags of every rater from the fitted rater model."""
    len_ = leniency(fit, counts, min_ratees, fdr, min_effect, alpha)
    ct = central_tendency(feedback, fit, min_ratees, fdr)
    explained = set(ct.index[ct["flag"] != ""]) | set(len_.index[len_["flag"] != ""])
    ha = halo(feedback, fit, min_ratees, fdr, explained)
    return RaterFlags(len_, ct, ha, flagged_raters(len_, ct, ha, unit_of), fdr)


def flagged_raters(leniency: pd.DataFrame, central: pd.DataFrame, halo: pd.DataFrame,
                   unit_of: pd.Series) -> pd.DataFrame:
    """One row per flag: rater, kind, the estimate behind it, its q-value and the rater's unit.

    ``estimate``/``se``/``statistic`` are, by kind: the rater effect, its se and the deregressed
    effect (lenient, severe); the slope, its se and the SD ratio (central tendency); the F ratio and
    the ICC over aspects (halo, no se). A restricted list: it names raters.
    """
    parts = []
    for kind in ("lenient", "severe"):
        sel = leniency[leniency["flag"] == kind]
        parts.append(pd.DataFrame({"rater_id": sel.index, "kind": kind, "estimate": sel["estimate"].to_numpy(),
                                   "se": sel["se"].to_numpy(), "statistic": sel["deregressed"].to_numpy(),
                                   "q_value": sel["q"].to_numpy(), "n_ratees": sel["n_ratees"].to_numpy()}))
    sel = central[central["flag"] != ""]
    parts.append(pd.DataFrame({"rater_id": sel.index, "kind": "central_tendency", "estimate": sel["slope"].to_numpy(),
                               "se": sel["slope_se"].to_numpy(), "statistic": sel["sd_ratio"].to_numpy(),
                               "q_value": sel["q"].to_numpy(), "n_ratees": sel["n_ratees"].to_numpy()}))
    sel = halo[halo["flag"] != ""]
    parts.append(pd.DataFrame({"rater_id": sel.index, "kind": "halo", "estimate": sel["f_ratio"].to_numpy(),
                               "se": np.nan, "statistic": sel["icc"].to_numpy(),
                               "q_value": sel["q"].to_numpy(), "n_ratees": sel["n_ratees"].to_numpy()}))
    flagged = pd.concat(parts, ignore_index=True)
    flagged["unit_id"] = flagged["rater_id"].map(unit_of)
    return flagged.sort_values(["kind", "q_value"]).reset_index(drop=True)


def flags_by_unit(leniency: pd.DataFrame, flagged: pd.DataFrame, unit_of: pd.Series,
                  units: pd.DataFrame) -> pd.DataFrame:
    """Per unit (with its region): raters eligible for the leniency test, and how many of each kind of flag."""
    eligible = leniency[leniency["eligible"]].assign(unit_id=lambda d: d.index.map(unit_of))
    by_unit = eligible.groupby("unit_id").size().rename("n").to_frame()
    for kind in KINDS:
        ids = set(flagged.loc[flagged["kind"] == kind, "rater_id"])
        hit = pd.Series(eligible.index.isin(ids).astype(int), index=eligible.index)
        by_unit[f"n_{kind}"] = hit.groupby(eligible["unit_id"]).sum()
    return by_unit.reset_index().merge(units[["unit_id", "region"]], on="unit_id", how="left")


def halo_central_summary(central: pd.DataFrame, halo: pd.DataFrame) -> pd.DataFrame:
    """Medians of the halo and central-tendency measures over raters (labels from the translation table)."""
    return pd.DataFrame({
        "measure": [t(f"raters.measure.{m}", "en") for m in ("halo_f_ratio", "central_slope", "central_sd_ratio")],
        "median": [halo["f_ratio"].median(), central["pooled_slope"].iloc[0] if len(central) else np.nan,
                   central["sd_ratio"].median()],
    })
