"""The broken-input corpus: the valid base dataset with exactly one thing broken.

Each case changes the base tables (``tests/corpus/builders.base_tables``) or
writes one raw file over them, and names the report row it must produce:
(severity, table, row, column, check). Rows are spreadsheet rows: the base
files are plain CSVs with the header on row 1, so the n-th data row (0-based
``i``) is row ``i + 2``. ``row`` is None only for problems with a whole file
(missing, empty, unreadable, ambiguous, no header found, too large, formulas
without saved values); ``column`` is None only where no column applies (a
whole file, a header without data, a row with more fields than the header).
Problems with the header itself (a missing column, an unknown column, a
header without data rows) are reported on the header row. A duplicate key is
reported on every row that shares it, its column being the key columns joined
by '+'. A cell beyond the columns a table may have is named by its letter
(``XFD``), being in no column of the table.

Hostile files (sizes, encodings, formulas: issue 10) are built by hand where
pandas and openpyxl would not write them (``builders.raw_xlsx``).

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

from .builders import NIPS, Formula, LongText, base_tables, raw_xlsx, table_rows, write_dataset

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


# --- hostile files: sizes, text, formulas (docs/data-format.md, "Limits") -------------

def _as_raw_xlsx(table: str, change=None, **kw):
    """The table as a hand-made .xlsx (in place of its CSV), its rows first changed by ``change``."""
    def build(t: Tables):
        rows = table_rows(t.pop(table))
        if change:
            rows = change(rows) or rows
        return {f"{table}.xlsx": lambda path: raw_xlsx(path, rows, sheet=table, **kw)}
    return build


def _stray_cell_at_xfd1048576(rows):
    # the file: a valid sheet, one stray cell in the last cell of the sheet, and the
    # dimension it declares stretched to match
    rows = {i: dict(enumerate(r, start=1)) for i, r in enumerate(rows, start=1)}
    rows[1_048_576] = {16_384: "x"}
    return rows


def _long_name(n: int, char: str = "A"):
    def change(rows):
        rows[1 + 3][10] = LongText(n, char)  # employees data row 3, column 10 = name
    return change


def _formulas_for_ids(rows):
    # employee_id computed by a formula, saved by a program that does not calculate: no values
    for r in rows[1:]:
        r[0] = Formula(f'=TEXT({r[0]},"0")')


def _csv_long_field(i: int, n: int = 200_000):
    def build(t: Tables):
        set_cell(t, "employees", i, "name", "B" * n)
    return build


def _csv_long_field_below_line_30(t: Tables):
    # 30 blank lines under the header (blank rows are allowed) put the first data row on line 32,
    # below the lines read to find the header
    set_cell(t, "employees", 0, "name", "B" * 200_000)
    header, rest = t["employees"].to_csv(index=False).split("\n", 1)
    return {"employees.csv": (header + "\n" * 31 + rest).encode("utf-8")}


def _csv_too_wide_row(t: Tables):
    # employees data row 3 (spreadsheet row 5) runs on for 300 filled fields
    lines = t["employees"].to_csv(index=False).split("\n")
    lines[4] = lines[4] + "," + ",".join(["z"] * 289)
    return {"employees.csv": "\n".join(lines).encode("utf-8")}


def _parquet_too_wide(t: Tables):
    del t["units"]
    df = base_tables()["units"]
    for j in range(300):
        df[f"extra_{j}"] = "x"
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return {"units.parquet": buf.getvalue()}


def _xlsx_with_huge_part(t: Tables):
    # a 70 MB styles part in a small file (a zip bomb in a part openpyxl reads whole)
    rows = table_rows(t.pop("units"))

    def write(path: Path) -> None:
        import zipfile

        raw_xlsx(path, rows, sheet="units")
        with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf, zf.open("xl/styles.xml", "w") as out:
            out.write(b"<styleSheet>")
            for _ in range(70):
                out.write(b" " * (1 << 20))
            out.write(b"</styleSheet>")
    return {"units.xlsx": write}


def _mixed_encodings(t: Tables):
    # a UTF-8 file (accented names) with one line pasted in from a Windows-1252 file
    t["employees"].loc[1, "name"] = "Siti Aminah Hernández"
    t["employees"].loc[2, "name"] = "Agus Salim Muñoz"
    t["employees"].loc[4, "name"] = "Rudi Hartono Peña"
    lines = t["employees"].to_csv(index=False).split("\n")
    t["employees"].loc[5, "name"] = "Andi Wijaya Café"
    bad = t["employees"].iloc[[5]].to_csv(index=False, header=False).rstrip("\n")
    out = [line.encode("utf-8") for line in lines]
    out[6] = bad.encode("cp1252")  # employees data row 5 = spreadsheet row 7
    return {"employees.csv": b"\n".join(out)}


def _unit_id_differing_in_case(t: Tables):
    t["units"].loc[3] = ["u01", "Dinas Pendidikan (cabang)", "Kota", "dinas"]


def _blank_file(name: str):
    def build(t: Tables):
        return {name: b"  \r\n\r\n \n"}
    return build


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
    # an empty optional table is absent, whether 0 bytes, blank or a header without rows
    Case("empty_optional_table_0_bytes_is_warning", _empty_file("rollout.csv"),
         Expect(W, "rollout", None, None, "empty_file"),
         doc="the same rule as a header without rows: treated as absent, with a warning"),
    Case("blank_optional_table_is_warning", _blank_file("org_ratings.csv"),
         Expect(W, "org_ratings", None, None, "empty_file")),
    Case("header_only_optional_table_is_warning", _header_only("targets"),
         Expect(W, "targets", 1, None, "no_rows")),
    # sizes and bombs: named errors, before memory fills
    Case("xlsx_stray_cell_at_XFD1048576", _as_raw_xlsx("employees", _stray_cell_at_xfd1048576,
                                                       dimension="A1:XFD1048576"),
         Expect(E, "employees", 1_048_576, "XFD", "too_many_columns"),
         doc="a few KB that once took the reader to 4.7 GB: read by the cells that are there, the "
             "dimension tag not trusted; the column is the cell's letter (it is no column of the table)"),
    Case("xlsx_cell_over_32767_characters", _as_raw_xlsx("employees", _long_name(40_000, "é"),
                                                         shared_strings=False),
         Expect(E, "employees", row(3), "name", "cell_too_long"),
         doc="an inline string of 40,000 characters: read, then refused"),
    Case("xlsx_shared_string_of_5_million_characters", _as_raw_xlsx("employees", _long_name(5_000_000)),
         Expect(E, "employees", row(3), "name", "cell_too_long"),
         doc="found by counting the package's texts before openpyxl reads any of them"),
    Case("xlsx_part_unpacking_to_70_MB", _xlsx_with_huge_part, Expect(E, "units", None, None, "file_too_large")),
    Case("xlsx_formulas_without_saved_values", _as_raw_xlsx("employees", _formulas_for_ids),
         Expect(E, "employees", None, None, "formulas_without_values"),
         doc="said once for the workbook, not as 8 empty employee_id cells"),
    Case("csv_field_over_128KiB_in_first_data_line", _csv_long_field(0),
         Expect(E, "employees", row(0), "name", "cell_too_long"),
         doc="csv's own 128 KiB field limit once made this file unreadable with no row named"),
    Case("csv_field_over_128KiB_further_down", _csv_long_field(6),
         Expect(E, "employees", row(6), "name", "cell_too_long")),
    Case("csv_field_over_128KiB_below_line_30", _csv_long_field_below_line_30,
         Expect(E, "employees", 32, "name", "cell_too_long"),
         doc="the same rule wherever the cell is: below the header scan it was once accepted"),
    Case("csv_row_wider_than_256_columns", _csv_too_wide_row,
         Expect(E, "employees", row(3), "KN", "too_many_columns"),
         doc="11 + 289 filled fields: the row's last filled cell is the 300th, column KN"),
    Case("parquet_wider_than_256_columns", _parquet_too_wide, Expect(E, "units", 1, "KR", "too_many_columns"),
         doc="4 + 300 columns, the last one KR; known from the file's metadata before its data is read"),
    # text
    Case("csv_mixing_utf8_and_windows_1252", _mixed_encodings,
         Expect(W, "employees", row(5), "name", "mixed_encoding"),
         doc="the line is read in its own encoding (no cafÃ©) and named"),
    Case("unit_ids_differing_only_in_case", _unit_id_differing_in_case,
         Expect(E, "units", row(3), "unit_id", "id_case_variant"),
         doc="U01 and u01: reported on both rows, each naming the other"),
    # dates that cannot both be true
    Case("hire_date_before_birth_date", cell("employees", 0, "hire_date", "1950-01-01"),
         Expect(E, "employees", row(0), "hire_date", "impossible_dates")),
    Case("hired_at_age_4", cell("employees", 5, "hire_date", "1999-06-01"),
         Expect(E, "employees", row(5), "hire_date", "impossible_dates"),
         doc="younger than 15, the youngest age the NIP check allows"),
    Case("hired_at_age_16_is_warning", cell("employees", 7, "hire_date", "2008-01-02"),
         Expect(W, "employees", EMP_OP, "hire_date", "hired_under_18")),
]
