"""Employees and units from what an export says of a person and of a post, whichever export it is.

The rules that e-Kinerja and SIASN share are here once: the position class and job family (by the
rule tables of ``jabatan``), the employment type (PPPK from the kind of employee or the legal
status), gender and birth date (from the NIP, which the contract requires them to agree with; a
column that disagrees is reported), and unit ids made from names when an export has no unit code.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.core.codes import fold
from analysis.data import nip as nips
from analysis.data.nip import MIN_AGE_AT_APPOINTMENT
from analysis.imports.jabatan import Rules, classify
from analysis.imports.report import ImportReport

EMPLOYEE_COLUMNS = ["employee_id", "unit_id", "position_class", "job_family", "employment_type", "gender",
                    "birth_date", "hire_date", "grade", "education"]


def unit_id_from_name(names: pd.Series) -> pd.Series:
    """An id for a unit known only by its name (``DINAS KESEHATAN`` -> ``DINAS_KESEHATAN``)."""
    present = names.notna()
    mapping = {u: fold(str(u)).upper() or None for u in pd.unique(names[present])}
    out = names.map(mapping).astype("object")
    return out.where(out.notna(), None)


@dataclass
class Context:
    """What a layout needs besides its rows: the report, the file, the rules."""

    report: ImportReport
    file: str
    rules: Rules
    column_name: object  # field -> header text, for report lines
    bound: frozenset[str] = frozenset()  # the fields the file has a column for

    def aside(self, rows: pd.Series | pd.Index, field: str | None, reason: str, values=None,
              failed: pd.Series | None = None) -> None:
        """Count rows set aside; a line for each, unless the cell was already reported as unreadable."""
        rows = pd.Index(rows)
        if not len(rows):
            return
        column = self.column_name(field) if field else None
        self.report.file(self.file).set_aside[reason] += len(rows)
        if failed is not None:
            keep = ~failed.reindex(rows).fillna(False).to_numpy(dtype=bool)
            rows = rows[keep]
            values = None if values is None else pd.Series(list(values)).to_numpy()[keep]
        if len(rows):
            self.report.add(self.file, list(rows), column, reason, None if values is None else list(values))


def employees_of(df: pd.DataFrame, ctx: Context, type_given: bool) -> pd.DataFrame:
    """Employee rows (EMPLOYEE_COLUMNS, index = the rows they came from) of a frame of typed fields;
    rows whose position class or employment type cannot be told are set aside."""
    summary = ctx.report.file(ctx.file)
    decided = classify(df, ctx.rules)
    unknown = decided["position_class"].isna()
    what = df["position"].where(df["position"].notna(), df.get("position_type")) if "position" in df else None
    if unknown.any():
        values = what[unknown] if what is not None else None
        ctx.aside(df.index[unknown], "position", "unknown_position_class", values)
        if values is not None:
            for value, n in values.fillna("(empty)").value_counts().items():
                summary.unmapped[(f"{ctx.column_name('position')} -> position class", str(value))] += int(n)
    guessed = ~decided["family_known"].astype(bool) & ~unknown
    if guessed.any() and what is not None:
        for value, n in what[guessed].fillna("(empty)").value_counts().items():
            summary.unmapped[(f"{ctx.column_name('position')} -> job family "
                              f"({ctx.rules.default_family})", str(value))] += int(n)
    kind = df["employment_type"] if "employment_type" in df else pd.Series(None, index=df.index, dtype="object")
    if "legal_status" in df:
        # (compared as booleans: a missing status says nothing, whatever the column's dtype)
        pppk = (df["legal_status"] == "PPPK").fillna(False).astype(bool)
        kind = kind.astype(object).where(~pppk, "PPPK")
    if not type_given:
        kind = kind.where(kind.notna(), "PNS")
    no_kind = kind.isna() & ~unknown
    ctx.aside(df.index[no_kind], "employment_type", "unknown_employment_type")
    keep = ~unknown & ~no_kind
    d = df[keep]
    out = pd.DataFrame({
        "employee_id": d["employee_id"],
        "unit_id": d["unit_id"],
        "position_class": decided.loc[keep, "position_class"],
        "job_family": decided.loc[keep, "job_family"],
        "employment_type": kind[keep],
        "gender": nips.genders(d["employee_id"]).to_numpy(),
        "birth_date": nips.birth_dates(d["employee_id"]).to_numpy(),
        "hire_date": d["hire_date"] if "hire_date" in d else pd.NaT,
        "grade": d["grade"] if "grade" in d else None,
        "education": d["education"] if "education" in d else None,
    }, index=d.index)
    _report_disagreements(d, out, ctx)
    return out[EMPLOYEE_COLUMNS]


def _report_disagreements(given: pd.DataFrame, out: pd.DataFrame, ctx: Context) -> None:
    """Gender and birth date are written as the NIP says; a column that says otherwise is reported,
    and a hire date before the age the NIP allows is left out (the contract would reject it)."""
    if "gender" in given:
        bad = (given["gender"].notna() & (given["gender"] != out["gender"])).fillna(False).astype(bool)
        ctx.report.add(ctx.file, list(given.index[bad]), ctx.column_name("gender"), "gender_disagrees_with_nip",
                       list(given.loc[bad, "gender"]))
    if "birth_date" in given:
        bad = (given["birth_date"].notna() & (given["birth_date"] != out["birth_date"])).fillna(False).astype(bool)
        ctx.report.add(ctx.file, list(given.index[bad]), ctx.column_name("birth_date"),
                       "birth_date_disagrees_with_nip",
                       [d.date().isoformat() for d in given.loc[bad, "birth_date"]])
    hire = pd.to_datetime(out["hire_date"])
    too_early = hire.notna() & (hire.dt.year < out["birth_date"].dt.year + MIN_AGE_AT_APPOINTMENT)
    if too_early.any():
        ctx.report.add(ctx.file, list(out.index[too_early]), ctx.column_name("hire_date"),
                       "impossible_hire_date_left_out", [d.date().isoformat() for d in hire[too_early]])
        out.loc[too_early, "hire_date"] = pd.NaT


UNIT_COLUMNS = ["unit_id", "unit_name", "parent_unit_id", "parent_unit", "region", "instansi"]


def units_of(df: pd.DataFrame) -> pd.DataFrame:
    """The units a frame of typed fields names (one row per unit_id, the last row's facts)."""
    cols = {c: (df[c] if c in df else pd.Series(None, index=df.index, dtype="object")) for c in UNIT_COLUMNS}
    units = pd.DataFrame(cols, index=df.index)
    units = units[units["unit_id"].notna()]
    return units.groupby("unit_id", sort=False).last().reset_index()[UNIT_COLUMNS]
