"""Fairness of supervisor ratings: differences by who is rated that results do not explain.

The outcome is the supervisor's appraisal rating on a numeric scale (the mean
of hasil kerja and perilaku kerja coded di_bawah 1, sesuai 2, di_atas 3), and,
where 360 feedback exists, the supervisor's mean 360 score. Unit heads are
left out: their hasil kerja is set by their unit's own rating, not by a rater. It is compared
across the ratee's gender, age band, position class and employment type with
measured achievement (the SKP score from targets), the unit and the period
held fixed, by least squares with standard errors clustered by rater (a
rater's ratings are not independent of each other). The rater-gender ×
ratee-gender interaction asks whether a gap depends on who rates. Within each
unit the gender gap is estimated separately and the units are tested together
with Benjamini–Hochberg false-discovery control.

What it can and cannot say: a significant gap means people who differ in
gender (or age…) but have the same measured achievement in the same unit and
period are rated differently. It does not show why: measured achievement
is incomplete (targets can be set differently), and unmeasured differences in
behaviour, workload or assignment may explain part of a gap. A gap that is
not significant is not proof of fairness; the interval says how large a gap
the data cannot rule out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.core.groups import group_positions
from analysis.core.jsonsafe import to_json_safe
from analysis.core.periods import parse_period
from analysis.core.results import Results
from analysis.outcomes import pp30, predikat
from analysis.raters.spec import RATING_VALUE
from analysis.stats.multitest import bh
from analysis.stats.regression import inference_df, ols_clustered, ols_clustered_design, simple_design, t_critical

MIN_APPRAISALS = 50  # below this (or with fewer raters) group comparisons say nothing useful
MIN_RATERS = 5
AGE_BANDS = [(0, 30, "<30"), (30, 40, "30-39"), (40, 50, "40-49"), (50, 200, "50+")]
GROUP_TERMS = {
    "gender": "C(gender, Treatment('L'))",
    "age_band": "C(age_band, Treatment('30-39'))",
    "position_class": "C(position_class, Treatment('pelaksana'))",
    "employment_type": "C(employment_type, Treatment('PNS'))",
}


# what ``unit_gender_gaps`` reads of the fairness data
UNIT_GAP_COLUMNS = ["unit_id", "employee_id", "gender", "rating_score", "skp_score", "skp_band", "period",
                    "supervisor_360"]


def _period_end(period: str) -> pd.Timestamp:
    p = parse_period(period)
    month = p.start_month + p.months - 1
    return pd.Timestamp(year=p.year, month=month, day=1) + pd.offsets.MonthEnd(0)


def fairness_data(outcomes: pd.DataFrame, employees: pd.DataFrame, targets: pd.DataFrame | None,
                  feedback: pd.DataFrame | None = None, cap: float = 1.2,
                  thresholds: dict[str, float] | None = None) -> pd.DataFrame:
    """One row per appraisal with outcome, ratee groups, achievement, rater and rater gender.

    ``thresholds`` (params ``appraisal.capaian_thresholds``) add the achievement band
    (``skp_band``): ratings follow those thresholds, so achievement is held fixed by band as well as
    linearly; with a linear term alone, a group with higher achievement shows a "gap" that is only
    the steps at the thresholds."""
    df = outcomes.dropna(subset=["hasil_kerja", "perilaku_kerja"]).copy()
    heads = predikat.unit_heads(df[["employee_id", "rater_id", "period"]], employees)
    head_keys = set(zip(heads["employee_id"], heads["period"]))
    df = df[[k not in head_keys for k in zip(df["employee_id"], df["period"])]]
    df["rating_score"] = (df["hasil_kerja"].map(RATING_VALUE) + df["perilaku_kerja"].map(RATING_VALUE)) / 2
    emp = employees.set_index("employee_id")
    if "birth_date" in emp:
        ends = df["period"].map({p: _period_end(p) for p in df["period"].unique()})
        birth = df["employee_id"].map(emp["birth_date"])
        age = (ends - birth).dt.days / 365.25
        df["age_band"] = pd.cut(age, [b[0] for b in AGE_BANDS] + [200], right=False,
                                labels=[b[2] for b in AGE_BANDS]).astype("object")
    if "gender" in emp:
        df["rater_gender"] = df["rater_id"].map(emp["gender"])
    if targets is not None and len(targets):
        skp = pp30.skp_scores(pp30.indicator_achievement(targets, cap))[["employee_id", "period", "skp_score"]]
        df = df.merge(skp, on=["employee_id", "period"], how="left")
    else:
        df["skp_score"] = np.nan
    if thresholds:
        s = df["skp_score"]
        df["skp_band"] = np.select([s >= thresholds["di_atas"], s >= thresholds["sesuai"], s.notna()],
                                   ["di_atas", "sesuai", "di_bawah"], default=None).astype(object)
    if feedback is not None and len(feedback):
        sup = feedback[feedback["rater_role"] == "supervisor"]
        m = sup.groupby(["ratee_id", "period"])["score"].mean().astype(float).rename("supervisor_360")
        df = df.merge(m.reset_index().rename(columns={"ratee_id": "employee_id"}), on=["employee_id", "period"],
                      how="left")
    return df


def _control_terms(data: pd.DataFrame) -> list[str]:
    """Achievement (linear, and by band where known) and period; the unit is absorbed."""
    parts = ["skp_score"]
    if "skp_band" in data and data["skp_band"].nunique() > 1:
        parts.append("C(skp_band)")
    if data["period"].nunique() > 1:
        parts.append("C(period)")
    return parts


def _controls(data: pd.DataFrame) -> str:
    return " + ".join(_control_terms(data))


def group_differences(data: pd.DataFrame, outcome: str = "rating_score", alpha: float = 0.05) -> pd.DataFrame:
    """Adjusted differences of the outcome by ratee group, each against its reference group."""
    cols = [c for c in GROUP_TERMS if c in data and data[c].notna().any()]
    d = data.dropna(subset=[outcome, "skp_score", "rater_id", *cols])
    cols = [c for c in cols if d[c].nunique() > 1]
    formula = f"{outcome} ~ " + " + ".join([GROUP_TERMS[c] for c in cols] + [_controls(d)])
    res = ols_clustered(formula, d, "rater_id", absorb="unit_id")
    z = t_critical(res, alpha)  # t on G - 1, as the p-values
    rows = []
    for term in res.params.index:
        for col in cols:
            prefix = GROUP_TERMS[col]
            if term.startswith(prefix + "[T."):
                level = term[len(prefix) + 3:-1]
                ref = prefix.split("Treatment('")[1].rstrip("'))")
                est, se = res.params[term], res.bse[term]
                rows.append({"outcome": outcome, "factor": col, "level": level, "reference": ref,
                             "estimate": est, "se": se, "ci_low": est - z * se, "ci_high": est + z * se,
                             "p": res.pvalues[term], "n": int(res.nobs),
                             "n_raters": int(d["rater_id"].nunique()),
                             "n_level": int((d[col] == level).sum())})
    out = pd.DataFrame(rows)
    if len(out):
        out["q"] = bh(out["p"])
    return out


def gender_interaction(data: pd.DataFrame, outcome: str = "rating_score", alpha: float = 0.05) -> pd.DataFrame:
    """Female-minus-male gap when the rater is male and when the rater is female, and their difference."""
    d = data.dropna(subset=[outcome, "skp_score", "gender", "rater_gender", "rater_id"])
    if d["gender"].nunique() < 2 or d["rater_gender"].nunique() < 2:
        return pd.DataFrame()
    d = d.assign(female=(d["gender"] == "P").astype(float), rater_female=(d["rater_gender"] == "P").astype(float))
    res = ols_clustered(f"{outcome} ~ female * rater_female + {_controls(d)}", d, "rater_id", absorb="unit_id")
    z = t_critical(res, alpha)  # t on G - 1, as the p-values
    cov = res.cov_params()
    rows = []
    for label, vec in (("gap with male raters", {"female": 1.0}),
                       ("gap with female raters", {"female": 1.0, "female:rater_female": 1.0}),
                       ("difference (female - male raters)", {"female:rater_female": 1.0})):
        w = pd.Series(0.0, index=res.params.index)
        for k, v in vec.items():
            w[k] = v
        est = float(w @ res.params)
        se = float(np.sqrt(max(w @ cov @ w, 0.0)))
        p = 2 * stats.t.sf(abs(est / se), inference_df(res)) if se > 0 else np.nan
        rows.append({"outcome": outcome, "contrast": label, "estimate": est, "se": se,
                     "ci_low": est - z * se, "ci_high": est + z * se, "p": p, "n": int(res.nobs)})
    return pd.DataFrame(rows)


def _standardised(g: pd.DataFrame, col: str) -> pd.Series:
    sd = g[col].std()
    return (g[col] - g[col].mean()) / sd if sd and sd > 0 else g[col] * np.nan


def unit_gender_gaps(data: pd.DataFrame, min_each: int = 8, fdr: float = 0.10,
                     alpha: float = 0.05) -> pd.DataFrame:
    """Female-minus-male gap within each unit, same achievement and period, FDR-controlled.

    ``estimate`` is in standard deviations of the unit's ratings (the appraisal rating and,
    where the unit has 360 feedback, the supervisor's 360 score, fitted together);
    ``gap_rating`` is the plain adjusted gap on the appraisal scale (1-3), for reading.
    """
    d = data.dropna(subset=["rating_score", "skp_score", "gender"])
    # only the columns the regressions use, each as an array taken one unit at a time by position: a
    # frame per unit and its copies were most of the time with thousands of units
    d = d[[c for c in UNIT_GAP_COLUMNS if c in d]].reset_index(drop=True)
    cols = {c: d[c].to_numpy() for c in d.columns if c != "unit_id"}
    person = pd.factorize(d["employee_id"])[0]
    rows = []
    for unit, at in group_positions(d["unit_id"]):
        _, first = np.unique(person[at], return_index=True)  # each person once, as drop_duplicates keeps them
        genders = cols["gender"][at[np.sort(first)]]
        n_f, n_m = int((genders == "P").sum()), int((genders == "L").sum())
        row = {"unit_id": unit, "n_female": n_f, "n_male": n_m, "n": len(at)}
        g = pd.DataFrame({c: v[at] for c, v in cols.items()})
        if min(n_f, n_m) < min_each or g["rating_score"].std() == 0:
            rows.append(row | {"tested": False})
            continue
        g["female"] = (cols["gender"][at] == "P").astype(float)
        res, plain, outcomes = _unit_fits(g, min_each)
        tcrit = t_critical(res, alpha)
        est, se = res.params["female"], res.bse["female"]
        rows.append(row | {"tested": True, "outcomes": outcomes, "estimate": est, "se": se,
                           "ci_low": est - tcrit * se, "ci_high": est + tcrit * se, "p": res.pvalues["female"],
                           "gap_rating": plain.params["female"]})
    out = pd.DataFrame(rows)
    if "p" not in out:
        out["p"] = np.nan
    out["q"] = bh(out["p"])
    out["flag"] = (out["q"] <= fdr).fillna(False)
    return out.sort_values("p").reset_index(drop=True)


def _unit_fits(g: pd.DataFrame, min_each: int):
    """One unit's regressions (``unit_gender_gaps``): the appraisal rating and, where there are enough, the
    supervisor's 360 scores, standardised and fitted together; the plain gap on the rating scale; and how
    many outcomes the first fitted."""
    parts = [g.assign(y=_standardised(g, "rating_score"), kind="appraisal")]
    if "supervisor_360" in g and g["supervisor_360"].notna().sum() >= 2 * min_each:
        fb = g.dropna(subset=["supervisor_360"])
        parts.append(fb.assign(y=_standardised(fb, "supervisor_360"), kind="feedback"))
    stacked = pd.concat(parts).dropna(subset=["y"])
    # an intercept per outcome and period that occurs (360 may not cover every period),
    # and an achievement slope per outcome
    stacked["kind_period"] = stacked["kind"] + "_" + stacked["period"].astype(str)
    terms = ["female", "C(kind):skp_score" if len(parts) > 1 else "skp_score"]
    if "skp_band" in stacked and stacked["skp_band"].nunique() > 1:
        terms.append("C(skp_band)")
    if stacked["kind_period"].nunique() > 1:
        terms.append("C(kind_period)")
    # thousands of units: the design is built directly (patsy's own matrices, by test)
    stacked = stacked.reset_index(drop=True)
    res = ols_clustered_design(*simple_design(stacked, "y", terms), stacked, "employee_id")
    plain = ols_clustered_design(*simple_design(g, "rating_score", ["female", *_control_terms(g)]), g,
                                 "employee_id")
    return res, plain, len(parts)


@dataclass(frozen=True, eq=False)
class Fairness(Results):
    """Supervisor ratings by ratee group with achievement held fixed, the gender × rater-gender
    interaction, and the per-unit gender gaps."""

    differences: pd.DataFrame  # per outcome, factor and level: adjusted difference from the reference
    interaction: pd.DataFrame
    units: pd.DataFrame  # per unit: gap, test, flag (tested units only are circulated)
    fdr: float

    title = "Fairness of supervisor ratings (achievement, unit and period held fixed)"

    @property
    def tested(self) -> pd.DataFrame:
        return self.units[self.units["tested"]]

    def gender_gap(self) -> pd.Series | None:
        """The female-minus-male difference in the appraisal rating score, or None without both genders."""
        g = self.differences
        g = g[(g["factor"] == "gender") & (g["outcome"] == "rating_score")] if len(g) else g
        return g.iloc[0] if len(g) else None

    def significant(self) -> pd.DataFrame:
        """Groups whose difference is significant at the false-discovery rate."""
        return self.differences.loc[self.differences["q"] <= self.fdr, ["outcome", "factor", "level", "estimate"]]

    def to_frame(self) -> pd.DataFrame:
        return self.differences

    def to_dict(self) -> dict:
        return to_json_safe({"differences": self.differences, "interaction": self.interaction,
                             "units_tested": int(len(self.tested)), "units_flagged": int(self.units["flag"].sum())})


def assess(data: pd.DataFrame, alpha: float, fdr: float, min_group: int) -> Fairness:
    """Every fairness estimate on ``fairness_data``: the appraisal rating and, where at least 100
    supervisors' 360 ratings exist, the 360 supervisor score."""
    diffs = [group_differences(data, "rating_score", alpha)]
    inter = [gender_interaction(data, "rating_score", alpha)]
    if "supervisor_360" in data and data["supervisor_360"].notna().sum() > 100:
        diffs.append(group_differences(data, "supervisor_360", alpha))
        inter.append(gender_interaction(data, "supervisor_360", alpha))
    return Fairness(pd.concat(diffs, ignore_index=True), pd.concat(inter, ignore_index=True),
                    unit_gender_gaps(data, min_group, fdr, alpha), fdr)
