"""Tolerance of real exports: the export quirks of docs/data-format.md load with no error and the right values.

Each test writes the valid base dataset (``tests/corpus/builders.py``), then
replaces one or more tables by a file with export quirks, and checks that the
dataset still loads cleanly and that the typed values are those of the clean
base (or the stated ones).
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.styles import Font

from analysis.data.reading import find_files, read_table
from analysis.data.validation import load_dataset
from corpus.builders import NIPS, base_tables, report_rows, write_dataset


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The typed tables of the clean base dataset, to compare quirky loads with."""
    folder = write_dataset(tmp_path_factory.mktemp("clean"))
    ds = load_dataset(folder)
    assert ds.ok and ds.report.n_warnings == 0
    return ds.tables


def _load_clean(folder: Path):
    ds = load_dataset(folder)
    frame = ds.report.to_frame()
    assert frame.empty, frame.to_string()
    return ds


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same typed values, whatever the row numbers."""
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=True)


def _csv(df: pd.DataFrame, sep: str = ",", lines_before: list[str] = (), line_end: str = "\n",
         trailing: str = "", header: list[str] | None = None) -> str:
    head = header or list(df.columns)
    rows = [sep.join(head) + trailing] + [sep.join(map(str, r)) + trailing for r in df.to_numpy()]
    return line_end.join(list(lines_before) + rows) + line_end


# --- Excel -------------------------------------------------------------------

def _xlsx_with_title(path: Path, sheet: str, header: list[str], rows: list[list], title: str) -> None:
    """A sheet as exported by a reporting tool: merged title, blank row, header on row 3."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.cell(1, 1, title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    for j, name in enumerate(header, start=1):
        ws.cell(3, j, name)
    for i, r in enumerate(rows, start=4):
        for j, v in enumerate(r, start=1):
            c = ws.cell(i, j, v)
            if isinstance(v, str) and v.isdigit() and len(v) == 18:
                c.number_format = "@"  # NIP kept as text
            if isinstance(v, (date, datetime)):
                c.number_format = "dd/mm/yyyy"
    wb.save(path)


def _typed(df: pd.DataFrame, ints=(), floats=(), dates=(), bools=()) -> list[list]:
    out = []
    for rec in df.to_dict(orient="records"):
        row = []
        for k, v in rec.items():
            if v == "":
                v = None
            elif k in ints:
                v = int(v)
            elif k in floats:
                v = float(v)
            elif k in dates:
                v = datetime.strptime(v, "%Y-%m-%d")
            elif k in bools:
                v = v == "true"
            row.append(v)
        out.append(row)
    return out


def test_xlsx_with_merged_title_blank_row_and_typed_cells(tmp_path, clean):
    t = base_tables()
    write_dataset(tmp_path, t, skip=("employees", "feedback_360", "competency_assessments",
                                     "service_outcomes", "targets", "training_catalog"))
    specs = {
        "employees": dict(dates=("birth_date", "hire_date")),
        "feedback_360": dict(ints=("period", "score")),  # the year typed as a number
        "competency_assessments": dict(dates=("assessed_on",), floats=("level",)),
        "service_outcomes": dict(floats=("ikm", "iku_attainment", "processing_days"), ints=("complaints",)),
        "targets": dict(ints=("period",), floats=("target", "realization", "weight"), bools=("is_main",)),
        "training_catalog": dict(ints=("jp", "cost_per_participant", "min_participants", "max_participants")),
    }
    for name, kinds in specs.items():
        _xlsx_with_title(tmp_path / f"{name}.xlsx", name, list(t[name].columns), _typed(t[name], **kinds),
                         f"LAPORAN {name.upper()} TAHUN 2024")
    ds = _load_clean(tmp_path)
    for name in specs:
        _same(ds.tables[name], clean[name])
        # spreadsheet rows: title on 1, blank 2, header 3, data from 4
        assert ds.tables[name].index[0] == 4
        assert ds.report.files[name]["header_row"] == 3
    emp = ds.tables["employees"]
    assert emp.loc[5, "employee_id"] == NIPS["sekretaris"]
    assert emp.loc[5, "birth_date"] == pd.Timestamp("1985-03-15")
    assert ds.tables["feedback_360"]["score"].dtype == "Int64"
    assert ds.tables["competency_assessments"].loc[4, "level"] == 1.5


def test_xlsx_problem_is_reported_on_its_excel_row(tmp_path):
    t = base_tables()
    write_dataset(tmp_path, t, skip=("employees",))
    rows = _typed(t["employees"], dates=("birth_date", "hire_date"))
    rows[2][2] = "Kepala Sekolah"  # position_class of the guru, third data row
    _xlsx_with_title(tmp_path / "employees.xlsx", "Pegawai", list(t["employees"].columns), rows, "DAFTAR PEGAWAI")
    frame = load_dataset(tmp_path).report.to_frame()
    assert report_rows(frame, ("table", "row", "column", "check")) == [
        ["employees", 6, "position_class", "unknown_code"]]


def test_xlsx_nip_typed_as_number_is_reported(tmp_path):
    """A NIP that Excel holds as a number has lost its last digits: reported, not guessed."""
    t = base_tables()
    write_dataset(tmp_path, t, skip=("employees",))
    rows = _typed(t["employees"], dates=("birth_date", "hire_date"))
    rows[7][0] = float(rows[7][0])  # 1.99109092016061e+17 in the cell
    _xlsx_with_title(tmp_path / "employees.xlsx", "employees", list(t["employees"].columns), rows, "PEGAWAI")
    frame = load_dataset(tmp_path).report.to_frame()
    err = frame[frame["severity"] == "error"]
    assert report_rows(err, ("row", "column", "check")) == [[11, "employee_id", "invalid_nip"]]
    assert "stored as a number" in err["message"].iloc[0]


def test_xlsx_with_empty_rows_above_the_header_keeps_excel_rows(tmp_path):
    """Rows 1-2 entirely empty: the declared dimension starts at row 3, rows must not shift."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "units"
    for j, name in enumerate(["unit_id", "unit_name", "region"], start=1):
        ws.cell(3, j, name)
    ws.append(["U01", "Dinas Pendidikan", "Kota"])
    ws.append(["U02", None, "Kota"])  # a problem on Excel row 5
    ws.append(["U03", "Kecamatan Selatan", "Selatan"])
    wb.save(tmp_path / "units.xlsx")
    table = read_table("units", tmp_path / "units.xlsx")
    assert table.header_row == 3
    assert list(table.data.index) == [4, 5, 6]
    t = base_tables()
    write_dataset(tmp_path, t, skip=("units",))
    frame = load_dataset(tmp_path).report.to_frame()
    assert report_rows(frame, ("table", "row", "column", "check")) == [
        ["units", 5, "unit_name", "missing_value"]]


def test_xlsx_with_a_wrong_declared_dimension_is_read_whole(tmp_path):
    """Some exporters declare 'A1' as the sheet's size: every row and column is still read."""
    path = tmp_path / "units.xlsx"
    base_tables()["units"].to_excel(path, index=False, sheet_name="units")
    raw = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(raw, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:B2"/>', data)
            zout.writestr(item, data)
    path.write_bytes(raw.getvalue())
    table = read_table("units", path)
    assert list(table.data.columns) == ["unit_id", "unit_name", "region", "unit_type"]
    assert list(table.data.index) == [2, 3, 4]


def test_xlsx_sheet_is_chosen_by_table_name(tmp_path):
    path = tmp_path / "units.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame({"catatan": ["dibuat oleh SIMPEG"]}).to_excel(xw, sheet_name="Info", index=False)
        base_tables()["units"].to_excel(xw, sheet_name="Units", index=False)
    table = read_table("units", path)
    assert table.data["unit_id"].tolist() == ["U01", "U02", "U03"]
    assert table.separator == "sheet Units"


# --- CSV dialects and encodings -----------------------------------------------

def test_semicolon_csv_with_decimal_commas_and_thousand_dots(tmp_path, clean):
    t = base_tables()
    write_dataset(tmp_path, t, skip=("training_catalog", "service_outcomes", "competency_assessments"))
    cat = t["training_catalog"].copy()
    cat["cost_per_participant"] = ["1.500.000", "Rp 0", "Rp 250.000"]
    cat.loc[0, "jp"] = "24,0"
    (tmp_path / "training_catalog.csv").write_text(_csv(cat, ";"), encoding="utf-8")
    so = t["service_outcomes"].copy()
    so["ikm"] = ["78,5", "80,1", "82", "70"]
    so["iku_attainment"] = ["95", "101,5", "88", "75"]
    so["processing_days"] = ["4,5", "4", "6", "2"]
    (tmp_path / "service_outcomes.csv").write_text(_csv(so, ";"), encoding="utf-8")
    ca = t["competency_assessments"].copy()
    ca["level"] = ["1,5", "3", "2", "2,5"]
    (tmp_path / "competency_assessments.csv").write_text(_csv(ca, ";"), encoding="utf-8")
    ds = _load_clean(tmp_path)
    for name in ("training_catalog", "service_outcomes", "competency_assessments"):
        _same(ds.tables[name], clean[name])
        assert ds.report.files[name]["separator"] == ";"
    assert ds.tables["training_catalog"]["cost_per_participant"].tolist() == [1_500_000, 0, 250_000]


def test_money_with_rupiah_prefix_and_decimals(tmp_path):
    t = base_tables()
    write_dataset(tmp_path, t)
    cat = t["training_catalog"].copy()
    cat["cost_per_participant"] = ["Rp 2.500.000", "Rp. 1.250.000,00", "IDR 0"]
    (tmp_path / "training_catalog.csv").write_text(_csv(cat, ";"), encoding="utf-8")
    ds = load_dataset(tmp_path)
    frame = ds.report.to_frame()
    # 'IDR' is not a money prefix the contract knows: reported, never guessed
    assert report_rows(frame, ("row", "column", "check")) == [
        [4, "cost_per_participant", "wrong_type"]]
    assert ds.tables["training_catalog"]["cost_per_participant"].tolist()[:2] == [2_500_000, 1_250_000]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_latin1_and_cp1252_files_with_accented_names(tmp_path, encoding):
    t = base_tables()
    write_dataset(tmp_path, t)
    emp = t["employees"].copy()
    emp.loc[0, "name"] = "José Ñoño"
    emp.loc[1, "name"] = "Siti Ümmü"
    text = _csv(emp, ";")
    if encoding == "cp1252":
        emp.loc[2, "name"] = "Agus ‘Salim’ – Kepala"  # characters only cp1252 has
        text = _csv(emp, ";")
    (tmp_path / "employees.csv").write_bytes(text.encode(encoding))
    units = t["units"].copy()
    units.loc[2, "unit_name"] = "Kecamatan Peñasco"
    (tmp_path / "units.csv").write_bytes(_csv(units).encode(encoding))
    ds = _load_clean(tmp_path)
    names = ds.tables["employees"]["name"].tolist()
    assert names[0] == "José Ñoño" and names[1] == "Siti Ümmü"
    if encoding == "cp1252":
        assert names[2] == "Agus ‘Salim’ – Kepala"
    assert ds.tables["units"]["unit_name"].tolist()[2] == "Kecamatan Peñasco"
    assert ds.report.files["employees"]["encoding"] in ("cp1252", "latin-1")


def test_utf8_with_and_without_bom(tmp_path, clean):
    t = base_tables()
    write_dataset(tmp_path, t)
    emp = t["employees"].copy()
    emp.loc[0, "name"] = "José Ñoño"
    (tmp_path / "employees.csv").write_bytes(b"\xef\xbb\xbf" + _csv(emp).encode("utf-8"))
    (tmp_path / "units.csv").write_bytes(_csv(t["units"]).encode("utf-8"))
    ds = _load_clean(tmp_path)
    assert list(ds.tables["employees"].columns)[0] == "employee_id"  # the BOM is not in the name
    assert ds.tables["employees"]["name"].iloc[0] == "José Ñoño"
    _same(ds.tables["units"], clean["units"])


@pytest.mark.parametrize("sep", ["\t", "|", ";", ","], ids=["tab", "pipe", "semicolon", "comma"])
def test_separators(tmp_path, clean, sep):
    t = base_tables()
    write_dataset(tmp_path, t)
    for name in ("units", "employees", "appraisals"):
        (tmp_path / f"{name}.csv").write_text(_csv(t[name], sep), encoding="utf-8")
    ds = _load_clean(tmp_path)
    for name in ("units", "employees", "appraisals"):
        _same(ds.tables[name], clean[name])
        assert ds.report.files[name]["separator"] == sep


def test_commas_inside_values_of_a_semicolon_file(tmp_path):
    t = base_tables()
    write_dataset(tmp_path, t)
    units = t["units"].copy()
    units["unit_name"] = ["Dinas Pendidikan, Pemuda, dan Olahraga", "Dinas Kesehatan", "Kecamatan Selatan"]
    (tmp_path / "units.csv").write_text(_csv(units, ";"), encoding="utf-8")
    ds = _load_clean(tmp_path)
    assert ds.tables["units"]["unit_name"].iloc[0] == "Dinas Pendidikan, Pemuda, dan Olahraga"


def test_windows_line_endings(tmp_path, clean):
    t = base_tables()
    write_dataset(tmp_path, t)
    (tmp_path / "employees.csv").write_text(_csv(t["employees"], ";", line_end="\r\n"), encoding="utf-8",
                                            newline="")
    ds = _load_clean(tmp_path)
    _same(ds.tables["employees"], clean["employees"])


def test_stray_whitespace_and_nbsp_around_values_and_header_names(tmp_path, clean):
    t = base_tables()
    write_dataset(tmp_path, t)
    nb = "\u00a0"
    for name in ("employees", "appraisals", "service_outcomes"):
        df = t[name].map(lambda v: f" {v}{nb} " if v else v)
        header = [f"{nb}{c} " for c in df.columns]
        (tmp_path / f"{name}.csv").write_text(_csv(df, ";", header=header), encoding="utf-8")
    ds = _load_clean(tmp_path)
    for name in ("employees", "appraisals", "service_outcomes"):
        _same(ds.tables[name], clean[name])


def test_header_names_in_other_case_and_spacing(tmp_path, clean):
    t = base_tables()
    write_dataset(tmp_path, t)
    header = ["Employee ID", "UNIT_ID", "Position Class", "job-family", "Employment Type", "GENDER",
              "Birth Date", "hire_date ", "Grade", "Education", "Name"]
    (tmp_path / "employees.csv").write_text(_csv(t["employees"], header=header), encoding="utf-8")
    app = t["appraisals"]
    header = ["NIP", "Period", "NIP Penilai", "Hasil Kerja", "Perilaku Kerja", "Predikat Reported", "Innovation"]
    (tmp_path / "appraisals.csv").write_text(_csv(app, header=header), encoding="utf-8")
    ds = _load_clean(tmp_path)
    _same(ds.tables["employees"], clean["employees"])
    _same(ds.tables["appraisals"], clean["appraisals"])


def test_indonesian_labels_for_codes(tmp_path, clean):
    t = base_tables()
    write_dataset(tmp_path, t)
    app = t["appraisals"].copy()
    labels = {"di_atas": "Di Atas Ekspektasi", "sesuai": "Sesuai Ekspektasi", "di_bawah": "Di Bawah Ekspektasi"}
    pred = {"baik": "Baik", "sangat_baik": "Sangat Baik", "butuh_perbaikan": "Butuh Perbaikan",
            "sangat_kurang": "Kurang/Misconduct"}
    app["hasil_kerja"] = app["hasil_kerja"].map(labels)
    app["perilaku_kerja"] = app["perilaku_kerja"].map(labels).str.upper()
    app["predikat_reported"] = app["predikat_reported"].map(pred)
    (tmp_path / "appraisals.csv").write_text(_csv(app, ";"), encoding="utf-8")
    emp = t["employees"].copy()
    emp["position_class"] = emp["position_class"].str.replace("_", " ").str.title().str.replace("Jpt", "JPT")
    emp["gender"] = emp["gender"].map({"L": "Laki-laki", "P": "Perempuan"})
    emp["employment_type"] = emp["employment_type"].str.lower()
    (tmp_path / "employees.csv").write_text(_csv(emp, ";"), encoding="utf-8")
    assert emp.loc[0, "position_class"] == "JPT Pratama"
    fb = t["feedback_360"].copy()
    fb["rater_role"] = fb["rater_role"].map({"self": "Diri sendiri", "supervisor": "Atasan", "peer": "Rekan kerja",
                                             "subordinate": "Bawahan"})
    fb["aspect"] = fb["aspect"].str.title()
    (tmp_path / "feedback_360.csv").write_text(_csv(fb, ";"), encoding="utf-8")
    ds = _load_clean(tmp_path)
    _same(ds.tables["employees"], clean["employees"])
    _same(ds.tables["feedback_360"], clean["feedback_360"])
    got = ds.tables["appraisals"]
    assert got["hasil_kerja"].tolist() == clean["appraisals"]["hasil_kerja"].tolist()
    # 'Kurang/Misconduct' is the display label of 'kurang'
    assert got["predikat_reported"].iloc[4] == "kurang"


def test_nips_with_spaces_and_leading_apostrophe(tmp_path, clean):
    t = base_tables()
    write_dataset(tmp_path, t)

    def spaced(n):
        return f"{n[:8]} {n[8:14]} {n[14]} {n[15:]}"

    emp = t["employees"].copy()
    emp["employee_id"] = [spaced(n) if i % 2 else "'" + n for i, n in enumerate(emp["employee_id"])]
    assert emp.loc[1, "employee_id"] == "19850315 201001 2 002"
    (tmp_path / "employees.csv").write_text(_csv(emp, ";"), encoding="utf-8")
    app = t["appraisals"].copy()
    app["employee_id"] = app["employee_id"].map(spaced)
    app["rater_id"] = "'" + app["rater_id"]
    (tmp_path / "appraisals.csv").write_text(_csv(app, ";"), encoding="utf-8")
    ds = _load_clean(tmp_path)
    _same(ds.tables["employees"], clean["employees"])
    _same(ds.tables["appraisals"], clean["appraisals"])


def test_blank_lines_inside_the_data_keep_row_numbers(tmp_path, clean):
    t = base_tables()
    write_dataset(tmp_path, t)
    lines = _csv(t["employees"]).splitlines()
    lines.insert(3, "")          # a blank line: spreadsheet row 4
    lines.insert(6, ",,,,,,,,,,")  # a row of empty cells: spreadsheet row 7
    (tmp_path / "employees.csv").write_text("\n".join(lines) + "\n\n\n", encoding="utf-8")
    ds = _load_clean(tmp_path)
    _same(ds.tables["employees"], clean["employees"])
    assert list(ds.tables["employees"].index) == [2, 3, 5, 6, 8, 9, 10, 11]


@pytest.mark.parametrize("where", ["all_rows", "data_rows_only"])
def test_empty_trailing_columns(tmp_path, clean, where):
    t = base_tables()
    write_dataset(tmp_path, t)
    df = t["units"]
    lines = [";".join(df.columns) + (";;;" if where == "all_rows" else "")]
    lines += [";".join(r) + ";;;" for r in df.to_numpy()]
    (tmp_path / "units.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ds = _load_clean(tmp_path)
    _same(ds.tables["units"], clean["units"])
    assert list(ds.tables["units"].index) == [2, 3, 4]


def test_extra_filled_field_is_reported_on_its_row_below_title_rows(tmp_path):
    t = base_tables()
    write_dataset(tmp_path, t)
    lines = _csv(t["org_ratings"], ";", lines_before=["Predikat Kinerja Organisasi", "Tahun 2024"]).splitlines()
    lines[4] += ";catatan"  # second data row: spreadsheet row 5
    (tmp_path / "org_ratings.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ds = load_dataset(tmp_path)
    frame = ds.report.to_frame()
    assert report_rows(frame, ("table", "row", "column", "check", "value")) == [
        ["org_ratings", 5, None, "malformed_row", "catatan"]]
    # the row is left out (and said so); the rest of the file is read and checked
    assert "not read" in frame["message"].iloc[0]
    assert list(ds.tables["org_ratings"].index) == [4, 6]


def test_dropped_malformed_row_is_what_references_miss(tmp_path):
    t = base_tables()
    write_dataset(tmp_path, t)
    lines = _csv(t["units"]).splitlines()
    lines[2] += ",catatan"  # U02 on spreadsheet row 3
    (tmp_path / "units.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = load_dataset(tmp_path).report.to_frame()
    errors = frame[frame["severity"] == "error"]
    assert report_rows(errors[errors["table"] == "units"], ("row", "check")) == [[3, "malformed_row"]]
    # the employees of U02 are reported as pointing at a unit that was not read
    rest = errors[errors["table"] != "units"]
    assert set(rest["check"]) == {"dangling_reference"} and set(rest["value"]) == {"U02"}


def test_unclosed_quote_is_reported_with_its_row(tmp_path):
    t = base_tables()
    write_dataset(tmp_path, t)
    lines = _csv(t["units"]).splitlines()
    lines[2] = lines[2].replace("Dinas Kesehatan", '"Dinas Kesehatan')
    (tmp_path / "units.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = load_dataset(tmp_path).report.to_frame()
    assert report_rows(frame, ("table", "row", "check")) == [["units", 3, "malformed_row"]]


def test_periods_in_export_spellings(tmp_path, clean):
    t = base_tables()
    write_dataset(tmp_path, t)
    so = t["service_outcomes"].copy()
    so["period"] = ["2024 Q1", "Q2/2024", "2024-Q1", "q1 2024"]
    (tmp_path / "service_outcomes.csv").write_text(_csv(so), encoding="utf-8")
    app = t["appraisals"].copy()
    app["period"] = ["2024.0", "2024", " 2024 ", "2024.0", "2024", "2024", "2024.00"]
    (tmp_path / "appraisals.csv").write_text(_csv(app), encoding="utf-8")
    ro = t["rollout"].copy()
    ro["adopted_period"] = ["Q1/2024", "2024 Q3", ""]
    (tmp_path / "rollout.csv").write_text(_csv(ro), encoding="utf-8")
    ds = _load_clean(tmp_path)
    for name in ("service_outcomes", "appraisals", "rollout"):
        _same(ds.tables[name], clean[name])


def test_dates_day_first_and_excel_serials(tmp_path, clean):
    t = base_tables()
    write_dataset(tmp_path, t)
    emp = t["employees"].copy()
    serial = (date(1985, 3, 15) - date(1899, 12, 30)).days
    emp["birth_date"] = [pd.Timestamp(d).strftime("%d/%m/%Y") for d in emp["birth_date"]]
    emp.loc[1, "birth_date"] = str(serial)  # 15/03/1985 as an Excel serial
    emp["hire_date"] = [pd.Timestamp(d).strftime("%d-%m-%Y") for d in emp["hire_date"]]
    (tmp_path / "employees.csv").write_text(_csv(emp, ";"), encoding="utf-8")
    ca = t["competency_assessments"].copy()
    ca["assessed_on"] = ["10.02.2024", "05/03/2024", "2024/03/05", "45250"]  # 45250 = 2023-11-20
    (tmp_path / "competency_assessments.csv").write_text(_csv(ca, ";"), encoding="utf-8")
    ds = _load_clean(tmp_path)
    _same(ds.tables["employees"], clean["employees"])
    _same(ds.tables["competency_assessments"], clean["competency_assessments"])


def test_booleans_ya_tidak(tmp_path, clean):
    t = base_tables()
    write_dataset(tmp_path, t)
    app = t["appraisals"].copy()
    app["innovation"] = app["innovation"].map({"true": "Ya", "false": "tidak"})
    (tmp_path / "appraisals.csv").write_text(_csv(app), encoding="utf-8")
    tg = t["targets"].copy()
    tg["is_main"] = ["ya", "TIDAK", "1", "Y"]
    (tmp_path / "targets.csv").write_text(_csv(tg), encoding="utf-8")
    ds = _load_clean(tmp_path)
    _same(ds.tables["appraisals"], clean["appraisals"])
    _same(ds.tables["targets"], clean["targets"])
    assert ds.tables["appraisals"]["innovation"].tolist() == [False, False, True, False, False, False, False]


def test_two_title_rows_shift_reported_rows(tmp_path):
    t = base_tables()
    write_dataset(tmp_path, t)
    fb = t["feedback_360"].copy()
    fb.loc[2, "score"] = "7"  # third data row
    text = _csv(fb, ";", lines_before=["Rekap Penilaian 360 Derajat;;;;;", "Pemerintah Kabupaten Contoh;;;;;"])
    (tmp_path / "feedback_360.csv").write_text(text, encoding="utf-8")
    ds = load_dataset(tmp_path)
    frame = ds.report.to_frame()
    # title rows 1-2, header row 3, data from row 4: the third data row is row 6
    assert report_rows(frame, ("table", "row", "column", "check")) == [
        ["feedback_360", 6, "score", "out_of_range"]]
    assert ds.report.files["feedback_360"]["header_row"] == 3


def test_two_title_rows_in_xlsx_shift_reported_rows(tmp_path):
    t = base_tables()
    write_dataset(tmp_path, t, skip=("feedback_360",))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Rekap Penilaian 360 Derajat"])
    ws.append(["Pemerintah Kabupaten Contoh"])
    ws.append(list(t["feedback_360"].columns))
    for r in t["feedback_360"].to_numpy().tolist():
        ws.append(r[:-1] + [int(r[-1])])
    ws.cell(6, 6, 0)  # score of the third data row
    wb.save(tmp_path / "feedback_360.xlsx")
    frame = load_dataset(tmp_path).report.to_frame()
    assert report_rows(frame, ("table", "row", "column", "check")) == [
        ["feedback_360", 6, "score", "out_of_range"]]


# --- Parquet -----------------------------------------------------------------

def test_parquet_round_trip_of_typed_tables(tmp_path, clean):
    """Validated tables written to Parquet (typed columns) load back to the same values."""
    folder = tmp_path / "parquet"
    folder.mkdir()
    for name, df in clean.items():
        df.to_parquet(folder / f"{name}.parquet", index=False)
    ds = _load_clean(folder)
    for name, df in clean.items():
        _same(ds.tables[name], df)
        assert ds.tables[name].index[0] == 2
        assert ds.report.files[name]["format"] == "parquet"


def test_parquet_with_missing_values_and_problem_rows(tmp_path):
    t = base_tables()
    write_dataset(tmp_path, t)
    so = t["service_outcomes"].copy()
    so["ikm"] = [78.5, np.nan, 82.0, 130.0]
    so["complaints"] = pd.array([3, None, 10, 0], dtype="Int64")
    so["iku_attainment"] = so["iku_attainment"].astype(float)
    (tmp_path / "service_outcomes.csv").unlink()
    so.to_parquet(tmp_path / "service_outcomes.parquet", index=False)
    frame = load_dataset(tmp_path).report.to_frame()
    assert report_rows(frame, ("severity", "row", "column", "check")) == [
        ["error", 5, "ikm", "out_of_range"],
        ["warning", 3, "ikm", "missing_value"],
    ]


# --- the folder --------------------------------------------------------------

def test_folder_listing(tmp_path):
    write_dataset(tmp_path)
    (tmp_path / "truth.json").write_text("{}")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "~$employees.xlsx").write_bytes(b"lock")
    (tmp_path / "catatan.txt").write_text("notes")
    (tmp_path / "old").mkdir()
    (tmp_path / "Units.CSV").write_bytes((tmp_path / "units.csv").read_bytes())
    (tmp_path / "units.csv").unlink()
    files, problems = find_files(tmp_path)
    assert files["units"].name == "Units.CSV"
    assert [(p.check, p.severity, p.value) for p in problems] == [("unknown_file", "warning", "catatan.txt")]
    ds = load_dataset(tmp_path)
    assert ds.ok and ds.report.n_warnings == 1


def test_old_xls_format_is_an_error(tmp_path):
    write_dataset(tmp_path, skip=("units",))
    (tmp_path / "units.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    frame = load_dataset(tmp_path).report.to_frame()
    assert frame[["table", "check"]].values.tolist() == [["units", "unsupported_format"]]


def test_tables_written_with_their_row_index_load_without_an_unknown_column(tmp_path):
    """A run's validated Parquet tables keep their row numbers as the index; read back, that
    index is not data (and is not reported as an unknown column)."""
    from analysis.data.validation import load_dataset

    src = write_dataset(tmp_path / "csv")
    ds = load_dataset(src)
    out = tmp_path / "pq"
    out.mkdir()
    for name, df in ds.tables.items():
        df.to_parquet(out / f"{name}.parquet", index=True)
    again = load_dataset(out)
    assert again.report.n_errors == 0 and again.report.n_warnings == 0
    assert len(again.tables["appraisals"]) == len(ds.tables["appraisals"])


# --- trimming: the vectorised path equals str.strip cell by cell -------------------------------------

_EVERY_SPACE = [chr(c) for c in range(0x3001) if chr(c).isspace()]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(
    _EVERY_SPACE + list("ab=+-@1 ") + ["\u00a0", "\u200b", "\x00", "𝄞", "é"]), max_size=8)), max_size=60))
def test_strip_of_a_text_column_equals_strip_cell_by_cell(values):
    from analysis.data.reading import strip_cell, strip_column

    got = strip_column(pd.Series(values, dtype=object)).tolist()
    assert got == [strip_cell(v) for v in values]


def test_strip_keeps_cells_pyarrow_cannot_hold_and_non_text_cells():
    from analysis.data.reading import strip_column

    odd = pd.Series([" a\ud800 ", None, "  "], dtype=object)  # a lone surrogate
    assert strip_column(odd).tolist() == ["a\ud800", None, None]
    mixed = pd.Series([1.5, " x ", None], dtype=object)  # numbers from a workbook
    assert strip_column(mixed).tolist() == ["1.5", "x", None]
