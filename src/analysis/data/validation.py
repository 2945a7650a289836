"""Load and validate a dataset folder against the data contract.

``load_dataset(folder)`` reads every table file, types its cells, runs the
schema checks, the checks that span columns (NIP against gender and birth
date, a self-rating's rater…) and the references between tables, and returns
the typed tables with a ``ValidationReport``. Nothing is dropped unseen: rows
set aside because they point at an unknown employee or unit are listed in the
report as warnings.

An optional table whose file is empty (0 bytes, blank, or a header without
rows) is treated as absent, with a warning; a required one is an error.
Identifiers that differ only in case (``U0001`` and ``u0001``) are an error:
they are almost certainly the same unit written two ways, and would otherwise
be counted as two.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core import codes
from analysis.data import nip, parsing, schemas
from analysis.data.contract import REQUIRED_TABLES, TABLES, Table
from analysis.data.distinct import Distinct
from analysis.data.problems import Problem, ValidationReport, shorten
from analysis.data.reading import RawTable, ReadError, find_files, read_table

# Age at appointment (hire_date against birth_date, or the NIP's birth date when there is none):
# younger than nip.MIN_AGE_AT_APPOINTMENT cannot be true (an error, as in the NIP check);
# younger than ADULT_AGE is possible only by exception (a warning). ASN applicants must be 18.
ADULT_AGE = 18


@dataclass
class Dataset:
    """Typed, checked tables (index = spreadsheet row number) and what was found."""

    folder: Path
    tables: dict[str, pd.DataFrame]
    report: ValidationReport

    @property
    def ok(self) -> bool:
        return self.report.ok

    def row_counts(self) -> dict[str, int]:
        return {name: int(len(df)) for name, df in self.tables.items()}


def load_dataset(folder: Path | str) -> Dataset:
    """Read and validate every table of a dataset folder."""
    folder = Path(folder)
    report = ValidationReport()
    if not folder.is_dir():
        report.add(Problem("-", None, None, "missing_folder", str(folder),
                           f"dataset folder {folder} does not exist"))
        return Dataset(folder, {}, report)
    files, folder_problems = find_files(folder)
    for p in folder_problems:
        report.add(p)
    # tables whose file is there but cannot be used (two files, an .xls) are already reported
    ambiguous = {p.table for p in folder_problems if p.severity == "error" and p.table in TABLES}

    raw: dict[str, RawTable] = {}
    for name in TABLES:
        if name not in files:
            if name in REQUIRED_TABLES and name not in ambiguous:
                report.add(missing_table(name, folder))
            continue
        table = read_whole(name, files[name], report)
        if table is not None:
            report.files[name] = table.info()
            raw[name] = table

    typed: dict[str, pd.DataFrame] = {}
    # each typed column also as its distinct values and each row's code (see ``distinct``): the
    # checks that look at one value at a time look at each distinct value once
    cells: dict[str, dict[str, Distinct]] = {}
    for name, table in raw.items():
        result = type_table(TABLES[name], table, report)
        if result is not None:
            typed[name], cells[name] = result

    check_references(typed, report, cells)
    _set_aside(typed, report, cells)
    for name, df in typed.items():
        report.files[name]["rows_used"] = int(len(df))
    return Dataset(folder, typed, report)


def missing_table(name: str, folder: Path) -> Problem:
    return Problem(name, None, None, "missing_table", None,
                   f"required table {name} is missing: expected {name}.csv, {name}.xlsx or {name}.parquet "
                   f"in {folder}")


def read_whole(name: str, path: Path, report: ValidationReport) -> RawTable | None:
    """A table's file (or folder of parts) read, or None with the problem reported."""
    try:
        return read_table(name, path)
    except ReadError as exc:
        problem = exc.problem
        if problem.check == "empty_file" and not TABLES[name].required:
            # the same rule as a header without rows: an empty optional table is absent
            problem = dataclasses.replace(
                problem, severity="warning",
                message=problem.message + "; the table is optional and is treated as absent")
        report.add(problem)
        return None


def type_table(spec: Table, table: RawTable, report: ValidationReport
               ) -> tuple[pd.DataFrame, dict[str, Distinct]] | None:
    """The table typed and checked (None when it has no rows or lacks a required column)."""
    missing = header_problems(spec, table, report)
    if table.data.empty:
        severity = "error" if spec.required else "warning"
        report.add(no_rows(spec, table.path.name, table.header_row, severity))
        return None
    if missing:
        return None
    return type_rows(spec, table.data, report)


def no_rows(spec: Table, fname: str, header_row: int, severity: str) -> Problem:
    return Problem(spec.name, header_row, None, "no_rows", None,
                   f"{fname} has a header (row {header_row}) but no data rows"
                   + ("" if spec.required else "; the table is treated as absent"), severity)


def header_problems(spec: Table, table: RawTable, report: ValidationReport) -> list[str]:
    """Report what is wrong with the table's header (and rows the reader could not match to it);
    returns the required columns it lacks."""
    fname = table.path.name
    for problem in table.problems:  # rows the reader could not match to the header
        report.add(problem)
    for col in table.ignored_columns:
        report.add(Problem(spec.name, table.header_row, col, "unknown_column", col,
                           f"{fname}: column '{shorten(col)}' is not part of table {spec.name} and is ignored",
                           "warning"))
    missing = [c for c in spec.required_columns if c not in table.data.columns]
    for col in missing:
        report.add(Problem(spec.name, table.header_row, col, "missing_column", None,
                           f"{fname}: required column {col} is missing from the header (row {table.header_row})"))
    return missing


def type_rows(spec: Table, data: pd.DataFrame, report: ValidationReport,
              comma_decimals: dict[str, bool] | None = None) -> tuple[pd.DataFrame, dict[str, Distinct]]:
    """The rows typed, and each column's distinct values; every problem of a row or a cell (and of
    the key within these rows) reported. ``comma_decimals``: per number column, whether the table
    writes decimals with a comma, when these rows are part of a table (``parsing.parse_number``)."""
    typed = pd.DataFrame(index=data.index)
    cells: dict[str, Distinct] = {}
    bad_cells: list[pd.DataFrame] = []
    for col in spec.columns:
        if col.name not in data.columns:
            continue
        cells[col.name], problems = parsing.parse_distinct(spec, col, data[col.name],
                                                           (comma_decimals or {}).get(col.name))
        values = cells[col.name].column()
        typed[col.name] = values
        if len(problems):
            report.add_frame(problems)
            bad_cells.append(problems[["row", "column"]])
        if col.missing == "warning":
            empty = values.isna() & data[col.name].isna()
            if empty.any():
                report.add_frame(pd.DataFrame({
                    "severity": "warning", "table": spec.name, "row": values.index[empty],
                    "column": col.name, "check": "missing_value", "value": None,
                    "message": f"{col.name} is empty; the row is kept and this value is treated as missing",
                }))
    schema_problems = schemas.check(spec, typed, cells)
    if len(schema_problems) and bad_cells:
        # a cell that could not be read is already reported; do not report it again as empty
        seen = pd.concat(bad_cells)
        seen_keys = set(zip(seen["row"], seen["column"]))
        keep = [(r, c) not in seen_keys or chk != "missing_value"
                for r, c, chk in zip(schema_problems["row"], schema_problems["column"], schema_problems["check"])]
        schema_problems = schema_problems[keep]
    report.add_frame(schema_problems)
    report.add_frame(check_case_variants(spec, typed))
    for check in _TABLE_CHECKS.get(spec.name, ()):
        report.add_frame(check(typed))
    return typed, cells


def check_case_variants(spec: Table, df: pd.DataFrame) -> pd.DataFrame:
    """Keys whose identifiers differ only in case (``U0001`` and ``u0001``): each row, naming the others.

    Taken as the same thing written two ways, not as two: an error, so that one of them is corrected.
    """
    ids = [c for c in spec.key if spec.column_map[c].kind == "id"]
    if not ids or not all(k in df for k in spec.key):
        return pd.DataFrame()
    if not any(_has_case_variants(df[c]) for c in ids):
        return pd.DataFrame()  # no two identifiers differ only in case, so no key does
    sub = df[list(spec.key)].dropna()
    if sub.empty:
        return pd.DataFrame()
    original = sub[ids[0]].astype(str)
    for c in ids[1:]:
        original = original + " / " + sub[c].astype(str)
    folded = sub.copy()
    for c in ids:
        folded[c] = sub[c].astype(str).str.casefold()
    folded["_original"] = original
    variants = folded.groupby(list(spec.key), sort=False)["_original"].transform("nunique")
    hit = variants > 1
    if not hit.any():
        return pd.DataFrame()
    group = folded.loc[hit, list(spec.key)].astype(str).agg("\x1f".join, axis=1)
    column = "+".join(ids)
    messages = []
    for row, label in group.items():
        others = group[(group == label) & (group.index != row)]
        other_values = sorted({original[r] for r in others.index if original[r] != original[row]})
        messages.append(
            f"{column} {shorten(original[row])} differs only in case from "
            + ", ".join(shorten(v) for v in other_values[:5])
            + f" (row{'s' if len(others) > 1 else ''} " + ", ".join(map(str, list(others.index)[:10]))
            + (" …" if len(others) > 10 else "") + "): identifiers that differ only in case are taken to "
            "be the same; write them the same way")
    return _frame(spec.name, group.index, column, "id_case_variant", original[group.index], messages)


def _has_case_variants(values: pd.Series) -> bool:
    """Whether two of the distinct identifiers of a column differ only in case."""
    texts = {str(v) for v in pd.unique(values.dropna())}
    return len({t.casefold() for t in texts}) < len(texts)


def _frame(table: str, rows: pd.Index, column: str, check: str, values, messages,
           severity: str = "error") -> pd.DataFrame:
    return pd.DataFrame({"severity": severity, "table": table, "row": list(rows), "column": column,
                         "check": check, "value": list(values), "message": messages})


def _check_employees(df: pd.DataFrame) -> pd.DataFrame:
    out = []
    problems = nip.check(df["employee_id"])
    bad = problems.notna()
    if bad.any():
        out.append(_frame("employees", df.index[bad], "employee_id", "invalid_nip",
                          df.loc[bad, "employee_id"], ("invalid NIP: " + problems[bad]).tolist()))
    valid = ~bad & df["employee_id"].notna()
    if "gender" in df:
        g = nip.genders(df["employee_id"])
        mism = valid & df["gender"].notna() & g.notna() & (g != df["gender"])
        if mism.any():
            msgs = [f"gender {x} disagrees with the NIP's sex digit ({n[14]} = "
                    f"{'male' if n[14] == '1' else 'female'})"
                    for x, n in zip(df.loc[mism, "gender"], df.loc[mism, "employee_id"])]
            out.append(_frame("employees", df.index[mism], "gender", "nip_gender_mismatch",
                              df.loc[mism, "gender"], msgs))
    if "birth_date" in df:
        b = nip.birth_dates(df["employee_id"])
        mism = valid & df["birth_date"].notna() & b.notna() & (b != df["birth_date"])
        if mism.any():
            msgs = [f"birth_date {x:%Y-%m-%d} disagrees with the NIP's birth date {y:%Y-%m-%d}"
                    for x, y in zip(df.loc[mism, "birth_date"], b[mism])]
            out.append(_frame("employees", df.index[mism], "birth_date", "nip_birth_date_mismatch",
                              df.loc[mism, "birth_date"].dt.strftime("%Y-%m-%d"), msgs))
    if "hire_date" in df:
        out.append(_check_hire_age(df, valid))
    return pd.concat(out) if out else pd.DataFrame()


def _check_hire_age(df: pd.DataFrame, valid_nip: pd.Series) -> pd.DataFrame:
    """hire_date against the birth date (birth_date, else the NIP's): before birth or before
    nip.MIN_AGE_AT_APPOINTMENT cannot be true (error); before ADULT_AGE is a warning."""
    from_nip = nip.birth_dates(df["employee_id"].where(valid_nip))
    birth = df["birth_date"].where(df["birth_date"].notna(), from_nip) if "birth_date" in df else from_nip
    source = "birth_date" if "birth_date" in df else "the NIP's birth date"
    hire = df["hire_date"]
    known = hire.notna() & birth.notna()
    if not known.any():
        return pd.DataFrame()
    h, b = hire[known], birth[known]
    age = (h.dt.year - b.dt.year) - ((h.dt.month * 100 + h.dt.day) < (b.dt.month * 100 + b.dt.day)).astype(int)
    out = []
    for mask, check, severity, text in (
        (h < b, "impossible_dates", "error", "is before {src} {b}: both cannot be true"),
        ((h >= b) & (age < nip.MIN_AGE_AT_APPOINTMENT), "impossible_dates", "error",
         f"is at age {{age}} ({{src}} {{b}}): no one is appointed before {nip.MIN_AGE_AT_APPOINTMENT}"),
        ((age >= nip.MIN_AGE_AT_APPOINTMENT) & (age < ADULT_AGE), "hired_under_18", "warning",
         f"is at age {{age}} ({{src}} {{b}}): an appointment before {ADULT_AGE} is an exception; check both dates"),
    ):
        if not mask.any():
            continue
        msgs = [f"hire_date {x:%Y-%m-%d} " + text.format(src=source, b=f"{y:%Y-%m-%d}", age=a)
                for x, y, a in zip(h[mask], b[mask], age[mask])]
        out.append(_frame("employees", h.index[mask], "hire_date", check, h[mask].dt.strftime("%Y-%m-%d"),
                          msgs, severity))
    return pd.concat(out) if out else pd.DataFrame()


def _check_appraisals(df: pd.DataFrame) -> pd.DataFrame:
    same = df["rater_id"].notna() & (df["rater_id"] == df["employee_id"])
    if not same.any():
        return pd.DataFrame()
    return _frame("appraisals", df.index[same], "rater_id", "self_appraisal", df.loc[same, "rater_id"],
                  "the rater is the appraised employee: an appraisal is given by the supervisor")


def _check_feedback(df: pd.DataFrame) -> pd.DataFrame:
    out = []
    same = df["rater_id"] == df["ratee_id"]
    self_role = df["rater_role"] == "self"
    m = self_role & ~same & df["rater_id"].notna()
    if m.any():
        out.append(_frame("feedback_360", df.index[m], "rater_id", "self_rating_mismatch",
                          df.loc[m, "rater_id"], "rater_role is self but rater_id is not the ratee"))
    m = same & ~self_role & df["rater_role"].notna()
    if m.any():
        out.append(_frame("feedback_360", df.index[m], "rater_role", "self_rating_mismatch",
                          df.loc[m, "rater_role"], "rater_id is the ratee, so rater_role must be self"))
    return pd.concat(out) if out else pd.DataFrame()


def _check_competencies(df: pd.DataFrame) -> pd.DataFrame:
    implied = df["competency_code"].map(lambda c: codes.competency_kind_of(c) if isinstance(c, str) else None)
    m = implied.notna() & df["kind"].notna() & (implied != df["kind"])
    if not m.any():
        return pd.DataFrame()
    msgs = [f"competency {shorten(c)} is {k} by its code, not {x}"
            for c, k, x in zip(df.loc[m, "competency_code"], implied[m], df.loc[m, "kind"])]
    return _frame("competencies", df.index[m], "kind", "kind_mismatch", df.loc[m, "kind"], msgs)


def _check_catalog(df: pd.DataFrame) -> pd.DataFrame:
    out = []
    implied = df["form"].map(codes.TRAINING_FORMS)
    m = implied.notna() & df["mode"].notna() & (implied != df["mode"])
    if m.any():
        msgs = [f"form {f} is {k}, not {x} (LAN 10/2018)"
                for f, k, x in zip(df.loc[m, "form"], implied[m], df.loc[m, "mode"])]
        out.append(_frame("training_catalog", df.index[m], "form", "form_mode_mismatch", df.loc[m, "form"], msgs))
    lo, hi = df["min_participants"], df["max_participants"]
    m = (lo.notna() & hi.notna() & (lo > hi)).fillna(False).astype(bool)
    if m.any():
        msgs = [f"min_participants {a} is more than max_participants {b}" for a, b in zip(lo[m], hi[m])]
        out.append(_frame("training_catalog", df.index[m], "min_participants", "min_above_max", lo[m], msgs))
    return pd.concat(out) if out else pd.DataFrame()


def _check_training_history(df: pd.DataFrame) -> pd.DataFrame:
    """A course cannot end before it starts."""
    if "end" not in df:
        return pd.DataFrame()
    m = (df["start"].notna() & df["end"].notna() & (df["end"] < df["start"])).astype(bool)
    if not m.any():
        return pd.DataFrame()
    msgs = [f"end {e:%Y-%m-%d} is before start {s:%Y-%m-%d}: both cannot be true"
            for s, e in zip(df.loc[m, "start"], df.loc[m, "end"])]
    return _frame("training_history", df.index[m], "end", "impossible_dates",
                  df.loc[m, "end"].dt.strftime("%Y-%m-%d"), msgs)


_TABLE_CHECKS = {
    "employees": (_check_employees,),
    "appraisals": (_check_appraisals,),
    "feedback_360": (_check_feedback,),
    "competencies": (_check_competencies,),
    "training_catalog": (_check_catalog,),
    "training_history": (_check_training_history,),
}


def unknown_values(column: Distinct, known: pd.Index) -> np.ndarray:
    """The rows whose value is there but is not one of ``known`` (each distinct value looked up once)."""
    values = column.values
    return column.spread_mask(values.notna() & ~values.isin(known))


def check_references(typed: dict[str, pd.DataFrame], report: ValidationReport,
                     cells: dict[str, dict[str, Distinct]]) -> None:
    """Every reference between the tables: a value the target lacks is reported (``dangling_problems``)."""
    for name, df in typed.items():
        for ref in TABLES[name].references:
            if ref.column not in df:
                continue
            if ref.table not in typed:
                if ref.table in REQUIRED_TABLES:
                    continue  # already reported as a missing or broken required table
                report.add(missing_reference_table(name, ref))
                continue
            known = pd.Index(typed[ref.table][ref.target].dropna().unique())
            dangling = unknown_values(cells[name][ref.column], known)
            if dangling.any():
                report.add_frame(dangling_problems(name, ref, df.index[dangling], df[ref.column][dangling], known))


def missing_reference_table(name: str, ref) -> Problem:
    return Problem(name, None, ref.column, "missing_reference_table", ref.table,
                   f"{name}.{ref.column} refers to table {ref.table}, which is not in the dataset", ref.severity)


def dangling_problems(name: str, ref, rows: pd.Index, values: pd.Series, known: pd.Index) -> pd.DataFrame:
    """The report's lines for values of ``name.ref.column`` that ``known`` (the target's values) lacks."""
    what = "the row is set aside" if ref.action == "exclude" else "the row is kept"
    # a value that is there but for its case is said so (U0001 / u0001)
    by_case = {str(k).casefold(): k for k in known}
    msgs = [f"{ref.column} {shorten(v)} is not in {ref.table}.{ref.target}"
            + (f" (it has {shorten(by_case[str(v).casefold()])}, which differs only in case)"
               if str(v).casefold() in by_case else "")
            + ("" if ref.severity == "error" else f"; {what}")
            for v in values]
    return _frame(name, rows, ref.column, "dangling_reference", values, msgs, ref.severity)


def _set_aside(typed: dict[str, pd.DataFrame], report: ValidationReport,
               cells: dict[str, dict[str, Distinct]]) -> None:
    """Remove the rows that warnings set aside (they are named in the report)."""
    for name, df in list(typed.items()):
        drop = pd.Series(False, index=df.index)
        for ref in TABLES[name].references:
            if ref.action != "exclude" or ref.column not in df or ref.table not in typed:
                continue
            known = pd.Index(typed[ref.table][ref.target].dropna().unique())
            drop |= unknown_values(cells[name][ref.column], known)
        if drop.any():
            typed[name] = df[~drop]
