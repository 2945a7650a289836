"""The broken-input corpus: the valid base dataset with exactly one thing broken.

Each case changes the base tables (``tests/corpus/builders.base_tables``) or
writes one raw file over them, and names the report row it must produce:
(severity, table, row, column, check). Rows are spreadsheet rows: the base
files are plain CSVs with the header on row 1, so the n-th data row (0-based
``i``) is row ``i + 2``. ``row`` is None only for problems with a whole file
(missing, empty, unreadable, ambiguous, no header found); ``column`` is None
only where no column applies (a whole file, a header without data, a row
with more fields than the header). Problems with the header itself (a
missing column, an unknown column, a header without data rows) are reported
on the header row. A duplicate key is reported on every row that shares it,
its column being the key columns joined by '+'.

Since each case breaks one thing, the tests also check that no error of any
other check is reported.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

import numpy as np
import pandas as pd

from .builders import NIPS, base_tables, write_dataset

Tables = dict[str, pd.DataFrame]
RawFile = Union[bytes, Callable[[Path], None]]


@dataclass(frozen=True)
class Expect:
    severity: str
    table: str
    row: int | None
    column: str | None
    check: str


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Tables], dict[str, RawFile] | None]
    expect: Expect
    doc: str = ""

    @property
    def exit_code(self) -> int:
        return 1 if self.expect.severity == "error" else 0


def row(i: int) -> int:
    """Spreadsheet row of the i-th (0-based) data row of a plain CSV."""
    return i + 2


def make_case(case: Case, folder: Path) -> Path:
    """Write the base dataset with the case's one change to ``folder``."""
    tables = base_tables()
    raw = case.build(tables) or {}
    write_dataset(folder, tables)
    for name, content in raw.items():
        path = folder / name
        if callable(content):
            content(path)
        else:
            path.write_bytes(content)
    return folder


# --- helpers -----------------------------------------------------------------

def set_cell(t: Tables, table: str, i: int, column: str, value: str) -> None:
    t[table].loc[i, column] = value


def replace_nip(t: Tables, old: str, new: str) -> None:
    """Change one NIP everywhere it appears, so only the NIP itself is wrong."""
    for df in t.values():
        for col in df.columns:
            df[col] = df[col].where(df[col] != old, new)


def drop_table(name: str):
    def build(t: Tables):
        del t[name]
    return build


def cell(table: str, i: int, column: str, value: str):
    def build(t: Tables):
        set_cell(t, table, i, column, value)
    return build


def nip_of_operator(new: str):
    # the operator (employees row 7 -> spreadsheet row 9) appears in employees,
    # appraisals and nowhere else
    def build(t: Tables):
        replace_nip(t, NIPS["operator"], new)
    return build


def csv_bytes(df: pd.DataFrame, **kw) -> bytes:
    return df.to_csv(index=False, **kw).encode("utf-8")


def xlsx_of(df: pd.DataFrame, sheet: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        df.to_excel(path, index=False, sheet_name=sheet)
    return write


def _duplicate_row(table: str, i: int):
    def build(t: Tables):
        df = t[table]
        t[table] = pd.concat([df, df.iloc[[i]]], ignore_index=True)
    return build


def _dup_feedback(t: Tables):
    # the same rater rating the same ratee on the same aspect twice, another score
    df = t["feedback_360"]
    extra = df.iloc[[1]].copy()
    extra["score"] = "2"
    t["feedback_360"] = pd.concat([df, extra], ignore_index=True)


def _self_rating_other_rater(t: Tables):
    # row 0 is the guru rating himself; make its rater the operator (who has
    # no other rating of the guru, so no duplicate key either)
    set_cell(t, "feedback_360", 0, "rater_id", NIPS["operator"])


def _appraisal_of_unknown_employee(t: Tables):
    df = t["appraisals"]
    extra = df.iloc[[0]].copy()
    extra["employee_id"] = "199404042021012009"  # a valid NIP, not in employees
    t["appraisals"] = pd.concat([df, extra], ignore_index=True)


def _drop_column(table: str, column: str):
    def build(t: Tables):
        t[table] = t[table].drop(columns=column)
    return build


def _empty_file(name: str):
    def build(t: Tables):
        return {name: b""}
    return build


def _header_only(table: str):
    def build(t: Tables):
        return {f"{table}.csv": csv_bytes(t[table].iloc[0:0])}
    return build


def _random_xlsx(t: Tables):
    del t["units"]
    rng = np.random.default_rng(7)
    return {"units.xlsx": rng.bytes(3000)}


def _binary_csv(t: Tables):
    # a real spreadsheet saved under a .csv name (a zip archive, full of NULs)
    buf = io.BytesIO()
    t["employees"].to_excel(buf, index=False)
    return {"employees.csv": buf.getvalue()}


def _corrupt_parquet(t: Tables):
    del t["appraisals"]
    buf = io.BytesIO()
    base_tables()["appraisals"].to_parquet(buf, index=False)
    data = buf.getvalue()
    # keep the magic bytes at both ends, garble the middle
    middle = bytes(b ^ 0x5A for b in data[4:-8])
    return {"appraisals.parquet": data[:4] + middle + data[-8:]}


def _extra_field(t: Tables):
    # employees data row 2 (spreadsheet row 4) has one field more than the header
    text = t["employees"].to_csv(index=False)
    lines = text.split("\n")
    lines[3] = lines[3] + ",surplus"
    return {"employees.csv": "\n".join(lines).encode("utf-8")}


def _two_files(t: Tables):
    return {"units.xlsx": xlsx_of(t["units"], "units")}


def _no_header(t: Tables):
    df = t["units"].copy()
    df.columns = ["kode", "nama", "wilayah", "jenis"]
    return {"units.csv": csv_bytes(df)}


def _unknown_column(t: Tables):
    t["units"]["kepala_unit"] = "x"


# --- the corpus --------------------------------------------------------------

E, W = "error", "warning"
EMP_OP = row(7)  # the operator's row in employees.csv

CASES: list[Case] = [
    # missing tables
    Case("missing_table_units", drop_table("units"), Expect(E, "units", None, None, "missing_table")),
    Case("missing_table_employees", drop_table("employees"), Expect(E, "employees", None, None, "missing_table")),
    Case("missing_table_appraisals", drop_table("appraisals"), Expect(E, "appraisals", None, None, "missing_table")),
    # structure
    Case("missing_required_column", _drop_column("employees", "position_class"),
         Expect(E, "employees", 1, "position_class", "missing_column"),
         doc="a missing column is reported on the header row"),
    Case("no_header_found", _no_header, Expect(E, "units", None, None, "no_header"),
         doc="no row names the contract's columns, so there is no row or column to name"),
    Case("unknown_column_is_warning", _unknown_column, Expect(W, "units", 1, "kepala_unit", "unknown_column")),
    # wrong types
    Case("text_in_number_column", cell("targets", 0, "target", "delapan puluh"),
         Expect(E, "targets", row(0), "target", "wrong_type")),
    Case("decimal_in_integer_score", cell("feedback_360", 1, "score", "3.5"),
         Expect(E, "feedback_360", row(1), "score", "wrong_type")),
    Case("decimal_comma_in_integer_level", cell("competency_standards", 2, "required_level", "2,5"),
         Expect(E, "competency_standards", row(2), "required_level", "wrong_type")),
    Case("unparseable_period", cell("appraisals", 3, "period", "tahun lalu"),
         Expect(E, "appraisals", row(3), "period", "wrong_type")),
    Case("unparseable_date", cell("competency_assessments", 1, "assessed_on", "bulan lalu"),
         Expect(E, "competency_assessments", row(1), "assessed_on", "wrong_type")),
    Case("impossible_date", cell("employees", 2, "hire_date", "31/02/2015"),
         Expect(E, "employees", row(2), "hire_date", "wrong_type")),
    Case("unparseable_bool", cell("targets", 1, "is_main", "mungkin"),
         Expect(E, "targets", row(1), "is_main", "wrong_type")),
    # empty required cell
    Case("empty_required_cell", cell("employees", 4, "unit_id", ""),
         Expect(E, "employees", row(4), "unit_id", "missing_value")),
    Case("empty_ikm_is_warning", cell("service_outcomes", 2, "ikm", ""),
         Expect(W, "service_outcomes", row(2), "ikm", "missing_value")),
    # out of range
    Case("score_360_is_6", cell("feedback_360", 4, "score", "6"),
         Expect(E, "feedback_360", row(4), "score", "out_of_range")),
    Case("ikm_120", cell("service_outcomes", 1, "ikm", "120"),
         Expect(E, "service_outcomes", row(1), "ikm", "out_of_range")),
    Case("required_level_0", cell("competency_standards", 0, "required_level", "0"),
         Expect(E, "competency_standards", row(0), "required_level", "out_of_range")),
    Case("negative_realization", cell("targets", 2, "realization", "-5"),
         Expect(E, "targets", row(2), "realization", "out_of_range")),
    Case("zero_target", cell("targets", 3, "target", "0"),
         Expect(E, "targets", row(3), "target", "out_of_range")),
    Case("assessed_level_5_5", cell("competency_assessments", 0, "level", "5,5"),
         Expect(E, "competency_assessments", row(0), "level", "out_of_range")),
    # unknown codes
    Case("unknown_hasil_kerja", cell("appraisals", 1, "hasil_kerja", "Luar Biasa"),
         Expect(E, "appraisals", row(1), "hasil_kerja", "unknown_code")),
    Case("unknown_position_class", cell("employees", 5, "position_class", "Kepala Seksi"),
         Expect(E, "employees", row(5), "position_class", "unknown_code")),
    Case("unknown_aspect", cell("feedback_360", 3, "aspect", "jujur"),
         Expect(E, "feedback_360", row(3), "aspect", "unknown_code")),
    Case("unknown_rater_role", cell("feedback_360", 2, "rater_role", "boss"),
         Expect(E, "feedback_360", row(2), "rater_role", "unknown_code")),
    Case("unknown_training_mode", cell("training_catalog", 0, "mode", "campuran"),
         Expect(E, "training_catalog", row(0), "mode", "unknown_code")),
    Case("unknown_training_form", cell("training_catalog", 2, "form", "webinar"),
         Expect(E, "training_catalog", row(2), "form", "unknown_code")),
    Case("unknown_org_predikat", cell("org_ratings", 0, "org_predikat", "Sempurna"),
         Expect(E, "org_ratings", row(0), "org_predikat", "unknown_code")),
    # duplicate keys
    Case("duplicate_unit", _duplicate_row("units", 1),
         Expect(E, "units", row(3), "unit_id", "duplicate_key")),
    Case("duplicate_appraisal_employee_period", _duplicate_row("appraisals", 2),
         Expect(E, "appraisals", row(7), "employee_id+period", "duplicate_key")),
    Case("duplicate_feedback_360", _dup_feedback,
         Expect(E, "feedback_360", row(7), "period+ratee_id+rater_id+aspect", "duplicate_key")),
    # references
    Case("dangling_employee_unit", cell("employees", 3, "unit_id", "U99"),
         Expect(E, "employees", row(3), "unit_id", "dangling_reference")),
    Case("dangling_standard_competency", cell("competency_standards", 3, "competency_code", "M.07"),
         Expect(E, "competency_standards", row(3), "competency_code", "dangling_reference")),
    Case("dangling_catalog_competency", cell("training_catalog", 1, "competency_code", "T.guru.9"),
         Expect(E, "training_catalog", row(1), "competency_code", "dangling_reference")),
    Case("appraisal_of_unknown_employee_is_warning", _appraisal_of_unknown_employee,
         Expect(W, "appraisals", row(7), "employee_id", "dangling_reference"),
         doc="the row is set aside and named in the report"),
    Case("unknown_rater_is_warning", cell("appraisals", 0, "rater_id", "197005051995031011"),
         Expect(W, "appraisals", row(0), "rater_id", "dangling_reference")),
    # NIPs
    Case("nip_17_digits", nip_of_operator("19910909201606100"),
         Expect(E, "employees", EMP_OP, "employee_id", "invalid_nip")),
    Case("nip_birth_month_13", nip_of_operator("199113092016061008"),
         Expect(E, "employees", EMP_OP, "employee_id", "invalid_nip")),
    Case("nip_february_30", nip_of_operator("199102302016061008"),
         Expect(E, "employees", EMP_OP, "employee_id", "invalid_nip")),
    Case("nip_sex_digit_3", nip_of_operator("199109092016063008"),
         Expect(E, "employees", EMP_OP, "employee_id", "invalid_nip")),
    Case("nip_appointed_before_15", nip_of_operator("199109092000061008"),
         Expect(E, "employees", EMP_OP, "employee_id", "invalid_nip")),
    Case("nip_appointment_month_00", nip_of_operator("199109092016001008"),
         Expect(E, "employees", EMP_OP, "employee_id", "invalid_nip")),
    Case("nip_as_excel_float", nip_of_operator("1.99109092016061e+17"),
         Expect(E, "employees", EMP_OP, "employee_id", "invalid_nip")),
    Case("nip_disagrees_with_gender", cell("employees", 7, "gender", "P"),
         Expect(E, "employees", EMP_OP, "gender", "nip_gender_mismatch")),
    Case("nip_disagrees_with_birth_date", cell("employees", 7, "birth_date", "1991-09-19"),
         Expect(E, "employees", EMP_OP, "birth_date", "nip_birth_date_mismatch")),
    # rules across columns
    Case("self_rating_by_someone_else", _self_rating_other_rater,
         Expect(E, "feedback_360", row(0), "rater_id", "self_rating_mismatch")),
    Case("self_appraisal", cell("appraisals", 1, "rater_id", NIPS["guru"]),
         Expect(E, "appraisals", row(1), "rater_id", "self_appraisal")),
    Case("form_mode_mismatch", cell("training_catalog", 1, "mode", "klasikal"),
         Expect(E, "training_catalog", row(1), "form", "form_mode_mismatch"),
         doc="reported on form: the form fixes the mode (LAN 10/2018), the message names both"),
    Case("min_above_max_participants", cell("training_catalog", 0, "min_participants", "40"),
         Expect(E, "training_catalog", row(0), "min_participants", "min_above_max")),
    Case("competency_kind_contradicts_code", cell("competencies", 1, "kind", "teknis"),
         Expect(E, "competencies", row(1), "kind", "kind_mismatch")),
    # files
    Case("empty_file_0_bytes", _empty_file("units.csv"), Expect(E, "units", None, None, "empty_file")),
    Case("header_only_required_table", _header_only("appraisals"),
         Expect(E, "appraisals", 1, None, "no_rows"),
         doc="reported on the header row, the last row the file has"),
    Case("random_bytes_named_xlsx", _random_xlsx, Expect(E, "units", None, None, "unreadable")),
    Case("binary_file_named_csv", _binary_csv, Expect(E, "employees", None, None, "unreadable")),
    Case("corrupt_parquet", _corrupt_parquet, Expect(E, "appraisals", None, None, "unreadable")),
    Case("csv_row_with_extra_field", _extra_field, Expect(E, "employees", 4, None, "malformed_row"),
         doc="no column: the extra field has none. The row is left out (and said so), the rest is read"),
    Case("two_files_for_one_table", _two_files, Expect(E, "units", None, None, "ambiguous_file")),
]
