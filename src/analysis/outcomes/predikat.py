"""Appraisal outcomes under PermenPANRB 6/2022.

Hasil kerja and perilaku kerja are each rated di_atas / sesuai / di_bawah;
the employee predikat follows from the pair through the regulation's matrix
(no numeric weights). For a unit head, hasil kerja follows the unit's own
predikat (istimewa -> di_atas, baik -> sesuai, lower -> di_bawah).
"""

from __future__ import annotations

import pandas as pd

from analysis.core.codes import PREDIKAT

# (hasil kerja, perilaku kerja) -> predikat, PermenPANRB 6/2022.
MATRIX: dict[tuple[str, str], str] = {
    ("di_atas", "di_atas"): "sangat_baik",
    ("di_atas", "sesuai"): "baik",
    ("di_atas", "di_bawah"): "kurang",
    ("sesuai", "di_atas"): "baik",
    ("sesuai", "sesuai"): "baik",
    ("sesuai", "di_bawah"): "kurang",
    ("di_bawah", "di_atas"): "butuh_perbaikan",
    ("di_bawah", "sesuai"): "butuh_perbaikan",
    ("di_bawah", "di_bawah"): "sangat_kurang",
}

# A unit head's hasil kerja is the unit's own rating.
HEAD_HASIL_FROM_ORG = {
    "istimewa": "di_atas", "baik": "sesuai", "butuh_perbaikan": "di_bawah",
    "kurang": "di_bawah", "sangat_kurang": "di_bawah",
}

# Order used wherever predikat are ranked (5 = best). Kurang/Misconduct sits
# below Butuh Perbaikan as in the regulation's listing: misconduct outweighs results.

EMPLOYEE_COLUMNS = ["unit_id", "position_class", "job_family", "employment_type", "gender"]


def predikat(hasil_kerja: pd.Series, perilaku_kerja: pd.Series) -> pd.Series:
    """Employee predikat from the two ratings (None where a rating is missing)."""
    pairs = pd.Series(list(zip(hasil_kerja, perilaku_kerja)), index=hasil_kerja.index)
    return pairs.map(MATRIX).astype("object").where(lambda s: s.notna(), None)


def appraisal_outcomes(appraisals: pd.DataFrame, employees: pd.DataFrame,
                       units: pd.DataFrame) -> pd.DataFrame:
    """One row per employee and period: ratings, predikat, unit and region, reported mismatch."""
    out = with_people(appraisals.reset_index(drop=True), employees, units, validate=True)
    return in_order(with_predikat(out))


def with_people(appraisals: pd.DataFrame, employees: pd.DataFrame, units: pd.DataFrame,
                validate: bool = False) -> pd.DataFrame:
    """The appraisals with their employee's unit and details (``EMPLOYEE_COLUMNS``) and the unit's region,
    in the appraisals' order (on Dask, per partition: ``outcomes.distributed``)."""
    cols = [c for c in EMPLOYEE_COLUMNS if c in employees.columns]
    check = {"validate": "many_to_one"} if validate else {}
    out = appraisals.merge(employees[["employee_id", *cols]], on="employee_id", how="left", **check)
    return out.merge(units[["unit_id", "region"]], on="unit_id", how="left", **check)


def with_predikat(out: pd.DataFrame) -> pd.DataFrame:
    """Predikat from the two ratings, and whether a reported predikat differs from it (row by row)."""
    out = out.copy(deep=False)  # copy-on-write: the caller's frame (a Dask partition) is never changed
    out["predikat"] = predikat(out["hasil_kerja"], out["perilaku_kerja"])
    if "predikat_reported" in out:
        has = out["predikat_reported"].notna()
        out["reported_mismatch"] = (has & (out["predikat_reported"] != out["predikat"])).where(has)
    else:
        out["predikat_reported"] = None
        out["reported_mismatch"] = pd.NA
    out["reported_mismatch"] = out["reported_mismatch"].astype("boolean")
    if "innovation" not in out:
        out["innovation"] = pd.NA
    out["innovation"] = out["innovation"].astype("boolean")
    return out


def in_order(out: pd.DataFrame) -> pd.DataFrame:
    """By period, unit and employee (one row per employee and period: the order is the same whatever
    order the rows came in)."""
    return out.sort_values(["period", "unit_id", "employee_id"], kind="stable").reset_index(drop=True)


def reported_mismatches(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Cross-tabulation of reported predikat (rows) against the matrix (columns), where reported."""
    has = outcomes[outcomes["predikat_reported"].notna()]
    tab = pd.crosstab(pd.Categorical(has["predikat_reported"], PREDIKAT),
                      pd.Categorical(has["predikat"], PREDIKAT), dropna=False)
    tab.index.name, tab.columns.name = "reported", "matrix"
    return tab


def predikat_distribution(outcomes: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """Counts and shares of each predikat, per group (default: per period)."""
    by = by or ["period"]
    counts = (outcomes.groupby(by, observed=True)["predikat"].value_counts()
              .unstack(fill_value=0).reindex(columns=list(PREDIKAT), fill_value=0))
    counts.columns = [f"n_{c}" for c in counts.columns]
    counts.insert(0, "n", counts.sum(axis=1))
    for c in PREDIKAT:
        counts[f"share_{c}"] = counts[f"n_{c}"] / counts["n"]
    return counts.reset_index()


def unit_heads(appraisals: pd.DataFrame, employees: pd.DataFrame) -> pd.DataFrame:
    """Employees who head their unit in a period: they rate colleagues of their own unit
    and are rated from outside it (or not at all). The data has no head flag; this is the
    appraisal chain's own evidence."""
    unit_of = employees.set_index("employee_id")["unit_id"]
    a = appraisals[["employee_id", "rater_id", "period"]].copy()
    a["unit"] = a["employee_id"].map(unit_of)
    a["rater_unit"] = a["rater_id"].map(unit_of)
    rates_own = a[a["unit"] == a["rater_unit"]][["rater_id", "period", "unit"]].drop_duplicates()
    rates_own.columns = ["employee_id", "period", "unit_id"]
    rated_from_outside = a[(a["rater_unit"] != a["unit"]) | a["rater_unit"].isna()][["employee_id", "period"]]
    heads = rates_own.merge(rated_from_outside, on=["employee_id", "period"])
    return heads.sort_values(["period", "unit_id", "employee_id"]).reset_index(drop=True)


def head_consistency(outcomes: pd.DataFrame, heads: pd.DataFrame, org_ratings: pd.DataFrame) -> pd.DataFrame:
    """Unit heads whose hasil kerja differs from the one their unit's rating implies."""
    h = heads.merge(outcomes[["employee_id", "period", "hasil_kerja"]], on=["employee_id", "period"])
    h = h.merge(org_ratings[["unit_id", "period", "org_predikat"]], on=["unit_id", "period"], how="inner")
    h["expected_hasil_kerja"] = h["org_predikat"].map(HEAD_HASIL_FROM_ORG)
    h["consistent"] = h["hasil_kerja"] == h["expected_hasil_kerja"]
    return h
