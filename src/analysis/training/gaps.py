"""Competency gaps (PP 11/2017 art. 206): against the current and the target position,
and the performance gap.

An employee's gap in a competency is the level their position requires minus
the level last assessed (positive = short of the standard). The standard is
the row of ``competency_standards`` for the employee's position class and job
family, or for the class and any family (``*``); without that table, the
managerial and socio-cultural levels of ``params.required_levels`` apply.
A competency required but never assessed is reported as *not assessed*: it is
not a zero gap. When a competency was assessed several times, the latest
assessment counts (same day: their mean).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core.codes import MANAGERIAL_COMPETENCIES, SOCIOCULTURAL_COMPETENCIES

# The next step of each career ladder, for target-position gaps.
NEXT_CLASS = {
    "ahli_pertama": "ahli_muda", "ahli_muda": "ahli_madya", "ahli_madya": "ahli_utama",
    "pemula": "terampil", "terampil": "mahir", "mahir": "penyelia",
    "pelaksana": "pengawas", "pengawas": "administrator", "administrator": "jpt_pratama",
    "jpt_pratama": "jpt_madya", "jpt_madya": "jpt_utama",
}


def standards_from_params(levels: dict[str, int]) -> pd.DataFrame:
    """A standards table from params.required_levels (managerial and socio-cultural, any family)."""
    rows = [(cls, "*", code, lvl) for cls, lvl in levels.items()
            for code in MANAGERIAL_COMPETENCIES + SOCIOCULTURAL_COMPETENCIES]
    return pd.DataFrame(rows, columns=["position_class", "job_family", "competency_code", "required_level"])


def required_levels(people: pd.DataFrame, standards: pd.DataFrame,
                    class_col: str = "position_class") -> pd.DataFrame:
    """One row per employee and competency their (class, family) has a standard for.

    A row for the employee's own job family overrides the '*' row of the same competency.
    ``class_col`` lets the same function give the standards of a target class.
    """
    emp = people[["employee_id", class_col, "job_family"]].rename(columns={class_col: "position_class"})
    specific = emp.merge(standards[standards["job_family"] != "*"], on=["position_class", "job_family"])
    general = emp.merge(standards[standards["job_family"] == "*"].drop(columns="job_family"), on="position_class")
    general = general.merge(specific[["employee_id", "competency_code"]], how="left", indicator=True,
                            on=["employee_id", "competency_code"])
    general = general[general["_merge"] == "left_only"].drop(columns="_merge")
    out = pd.concat([specific, general], ignore_index=True)
    out["required_level"] = out["required_level"].astype(float)
    return out[["employee_id", "competency_code", "required_level"]]


def latest_assessments(assessments: pd.DataFrame) -> pd.DataFrame:
    """The latest assessed level per employee and competency, with how many assessments there were."""
    a = assessments[["employee_id", "competency_code", "assessed_on", "level"]].copy()
    last = a.groupby(["employee_id", "competency_code"])["assessed_on"].transform("max")
    latest = a[a["assessed_on"] == last]
    out = latest.groupby(["employee_id", "competency_code"]).agg(
        level=("level", "mean"), assessed_on=("assessed_on", "max")).reset_index()
    counts = a.groupby(["employee_id", "competency_code"]).size().rename("n_assessments").reset_index()
    return out.merge(counts, on=["employee_id", "competency_code"])


def competency_gaps(required: pd.DataFrame, latest: pd.DataFrame) -> pd.DataFrame:
    """Gap per employee and required competency: status gap / meets / not_assessed."""
    out = required.merge(latest, on=["employee_id", "competency_code"], how="left")
    out["gap_raw"] = out["required_level"] - out["level"]
    out["gap"] = out["gap_raw"].clip(lower=0)
    out["status"] = np.select([out["level"].isna(), out["gap"] > 0], ["not_assessed", "gap"], "meets")
    return out


def gaps_for(employees: pd.DataFrame, standards: pd.DataFrame | None, assessments: pd.DataFrame | None,
             default_levels: dict[str, int]) -> pd.DataFrame:
    """Current-position gaps, with the standard's source and the employee's attributes."""
    std = standards if standards is not None and len(standards) else standards_from_params(default_levels)
    req = required_levels(employees, std)
    latest = latest_assessments(assessments) if assessments is not None and len(assessments) else \
        pd.DataFrame(columns=["employee_id", "competency_code", "level", "assessed_on", "n_assessments"])
    return competency_gaps(req, latest)


def no_standard(employees: pd.DataFrame, standards: pd.DataFrame | None,
                default_levels: dict[str, int]) -> pd.DataFrame:
    """Employees whose position class (and family) has no standard at all: their gaps cannot be said."""
    std = standards if standards is not None and len(standards) else standards_from_params(default_levels)
    req = required_levels(employees, std)
    missing = employees[~employees["employee_id"].isin(req["employee_id"])]
    return missing.groupby(["position_class", "job_family"]).size().rename("employees").reset_index()


# --- target position -------------------------------------------------------------------


def promotion_candidates(outcomes: pd.DataFrame, employees: pd.DataFrame, explicit: list[str],
                         rule: str = "sangat_baik_two_years") -> pd.DataFrame:
    """Employees prepared for promotion: named in params, or by rule (top predikat in the two latest
    periods), with the class of the next step of their ladder."""
    from analysis.core.periods import sort_periods

    ids = set(explicit)
    if rule == "sangat_baik_two_years" and outcomes is not None and len(outcomes):
        last_two = sort_periods(outcomes["period"].unique())[-2:]
        if len(last_two) == 2:
            top = outcomes[outcomes["period"].isin(last_two) & (outcomes["predikat"] == "sangat_baik")]
            both = top.groupby("employee_id")["period"].nunique()
            ids |= set(both.index[both == 2])
    cand = employees[employees["employee_id"].isin(ids)][["employee_id", "position_class", "job_family"]].copy()
    cand["target_class"] = cand["position_class"].map(NEXT_CLASS)
    cand["source"] = np.where(cand["employee_id"].isin(explicit), "params", "rule")
    return cand


def target_gaps(candidates: pd.DataFrame, standards: pd.DataFrame | None, assessments: pd.DataFrame | None,
                default_levels: dict[str, int]) -> pd.DataFrame:
    """Gaps of promotion candidates against the standard of their target class."""
    cand = candidates.dropna(subset=["target_class"])
    if cand.empty:
        return pd.DataFrame(columns=["employee_id", "competency_code", "required_level", "level", "gap", "status"])
    std = standards if standards is not None and len(standards) else standards_from_params(default_levels)
    req = required_levels(cand, std, class_col="target_class")
    latest = latest_assessments(assessments) if assessments is not None and len(assessments) else \
        pd.DataFrame(columns=["employee_id", "competency_code", "level", "assessed_on", "n_assessments"])
    out = competency_gaps(req, latest)
    return out.merge(cand[["employee_id", "target_class"]], on="employee_id")


# --- performance gap ---------------------------------------------------------------------


def performance_gaps(outcomes: pd.DataFrame, skp: pd.DataFrame | None, threshold: float = 90.0) -> pd.DataFrame:
    """Per employee, in the latest period: hasil kerja below expectation, or SKP achievement below
    the threshold (points) when targets exist."""
    from analysis.core.periods import sort_periods

    latest = sort_periods(outcomes["period"].unique())[-1]
    out = outcomes.loc[outcomes["period"] == latest, ["employee_id", "period", "hasil_kerja"]].copy()
    if skp is not None and len(skp):
        out = out.merge(skp[["employee_id", "period", "skp_score"]], on=["employee_id", "period"], how="left")
    else:
        out["skp_score"] = np.nan
    out["below_expectation"] = out["hasil_kerja"] == "di_bawah"
    out["below_target"] = out["skp_score"] < threshold
    out["performance_gap"] = out["below_expectation"] | out["below_target"].fillna(False)
    return out


# --- summaries ---------------------------------------------------------------------------


def summary(gaps: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group: required competencies, assessed, with a gap, not assessed, mean gap where short."""
    g = gaps.assign(assessed=gaps["status"] != "not_assessed", short=gaps["status"] == "gap",
                    missing=gaps["status"] == "not_assessed")
    out = g.groupby(by).agg(
        n=("employee_id", "nunique"), required=("competency_code", "size"), assessed=("assessed", "sum"),
        with_gap=("short", "sum"), not_assessed=("missing", "sum"),
        mean_gap=("gap", lambda s: float(s[s > 0].mean()) if (s > 0).any() else 0.0),
    ).reset_index()
    out["share_gap"] = out["with_gap"] / out["assessed"].where(out["assessed"] > 0)
    return out


def employee_summary(gaps: pd.DataFrame) -> pd.DataFrame:
    """Per employee: competencies with a gap, total gap, not assessed."""
    g = gaps.assign(short=gaps["status"] == "gap", missing=gaps["status"] == "not_assessed")
    return g.groupby("employee_id").agg(n_gaps=("short", "sum"), total_gap=("gap", "sum"),
                                        max_gap=("gap", "max"), not_assessed=("missing", "sum")).reset_index()


def training_needs(gaps: pd.DataFrame, target: pd.DataFrame | None, labels: pd.Series | None,
                   cluster_names: pd.DataFrame | None, employees: pd.DataFrame, units: pd.DataFrame,
                   competencies: pd.DataFrame | None) -> pd.DataFrame:
    """One row per employee and competency with a gap: what the development plans work from.

    ``basis`` is "current" (the position held) or "target" (the next class, for promotion
    candidates; only where the target gap is larger than the current one). Cluster columns come
    from the gap clustering (empty for employees outside it).
    """
    cur = gaps[gaps["status"] == "gap"][["employee_id", "competency_code", "required_level", "level", "gap"]]
    cur = cur.assign(basis="current")
    parts = [cur]
    if target is not None and len(target):
        t = target[target["status"] == "gap"][["employee_id", "competency_code", "required_level", "level", "gap"]]
        t = t.merge(cur[["employee_id", "competency_code", "gap"]], on=["employee_id", "competency_code"],
                    how="left", suffixes=("", "_current"))
        t = t[t["gap"] > t["gap_current"].fillna(0)].drop(columns="gap_current").assign(basis="target")
        parts.append(t)
    needs = pd.concat(parts, ignore_index=True)
    emp_cols = [c for c in ("unit_id", "position_class", "job_family", "employment_type") if c in employees]
    needs = needs.merge(employees[["employee_id", *emp_cols]], on="employee_id", how="left")
    needs = needs.merge(units[["unit_id", "region"]], on="unit_id", how="left")
    if competencies is not None:
        needs = needs.merge(competencies[["competency_code", "name_id", "name_en", "kind"]]
                            .rename(columns={"name_id": "competency_name_id", "name_en": "competency_name_en"}),
                            on="competency_code", how="left")
    if labels is not None:
        needs["cluster"] = needs["employee_id"].map(labels).astype("Int64")
        if cluster_names is not None:
            names = cluster_names.set_index("cluster")
            needs["cluster_name_id"] = needs["cluster"].map(names["name_id"])
            needs["cluster_name_en"] = needs["cluster"].map(names["name_en"])
    return needs.sort_values(["employee_id", "gap"], ascending=[True, False], kind="stable").reset_index(drop=True)
