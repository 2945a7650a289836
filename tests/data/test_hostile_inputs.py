"""Hostile and broken files (issue 10): limits that are checked before memory fills, text read in
the right encoding and in one Unicode form, dates that cannot be true, formulas without values,
empty optional tables, a console without NIPs, values quoted short.

The corpus (``tests/corpus/cases.py``) holds one report row per broken thing; these tests check
what the corpus cannot: memory and values read, the limits and their documentation, the console.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from analysis.data import reading
from analysis.data.problems import NIP_MASK, QUOTE_CHARS, ValidationReport, console_text, shorten
from analysis.data.reading import ReadError, read_table
from analysis.data.validation import load_dataset
from conftest import ROOT
from corpus.builders import NIPS, Formula, LongText, base_tables, raw_xlsx, run_cli, table_rows, write_dataset

# --- limits: in one place, documented, named in the errors --------------------------------------

def test_every_limit_is_documented_with_its_value():
    text = (ROOT / "docs" / "data-format.md").read_text(encoding="utf-8")
    section = text.split("## Limits", 1)[1].split("\n## ", 1)[0]
    assert f"{reading.MAX_CELL_CHARS:,}" in section
    assert f"{reading.MAX_COLUMNS:,}" in section
    assert f"{reading.MAX_ROWS:,}" in section
    assert f"{reading.MAX_CELLS:,}" in section
    assert f"{reading.MAX_FILE_BYTES // 1024**3} GiB" in section
    assert f"{reading.MAX_XLSX_PART_BYTES // 1024**2} MiB" in section
    assert f"{QUOTE_CHARS}" in section
    assert set(reading.LIMITS.values()) == {reading.MAX_CELL_CHARS, reading.MAX_COLUMNS, reading.MAX_ROWS,
                                            reading.MAX_CELLS, reading.MAX_FILE_BYTES, reading.MAX_XLSX_PART_BYTES}


def _limit_problem(path: Path, table: str):
    with pytest.raises(ReadError) as err:
        read_table(table, path)
    return err.value.problem


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_too_many_rows_and_cells_are_named_in_every_format(tmp_path, monkeypatch, fmt):
    df = base_tables()["units"]
    big = pd.concat([df] * 5, ignore_index=True)  # 15 data rows, 4 columns
    path = tmp_path / f"units.{fmt}"
    if fmt == "xlsx":
        raw_xlsx(path, table_rows(big), sheet="units")
    elif fmt == "csv":
        big.to_csv(path, index=False)
    else:
        big.to_parquet(path, index=False)
    monkeypatch.setattr(reading, "MAX_ROWS", 10)
    p = _limit_problem(path, "units")
    assert (p.check, p.row, p.severity) == ("too_many_rows", 11, "error")
    assert "10 rows" in p.message and "Limits" in p.message
    monkeypatch.setattr(reading, "MAX_ROWS", 1000)
    monkeypatch.setattr(reading, "MAX_CELLS", 30)
    p = _limit_problem(path, "units")
    assert p.check == "too_many_cells" and "30 cells" in p.message
    monkeypatch.setattr(reading, "MAX_CELLS", 1000)
    assert len(read_table("units", path).data) == 15


def test_a_cell_of_200_MB_in_a_small_xlsx_is_refused_without_reading_it(tmp_path):
    """The issue's file: 200 MB of text in a ~200 KB workbook once made a 629 MB table. The text is
    counted in the package before openpyxl reads it: the process stays far below its size."""
    rows = table_rows(base_tables()["employees"])
    rows[4][10] = LongText(200_000_000)
    path = raw_xlsx(tmp_path / "employees.xlsx", rows, sheet="employees")
    assert path.stat().st_size < 1_000_000
    script = textwrap.dedent(f"""
        import resource
        from pathlib import Path
        from analysis.data.reading import ReadError, read_table
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            read_table("employees", Path({str(path)!r}))
        except ReadError as exc:
            p = exc.problem
            print(p.check, p.row, p.column, len(p.value), "200,000,000" in p.message)
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    first, grown = out.stdout.split("\n")[:2]
    assert first == f"cell_too_long 5 name {QUOTE_CHARS + 1} True"
    assert int(grown) < 100, f"the read grew the process by {grown} MB"


def test_a_row_numbered_beyond_excel_stops_the_read_at_excels_last_row(tmp_path):
    rows = {i: dict(enumerate(r, start=1)) for i, r in enumerate(table_rows(base_tables()["units"]), start=1)}
    rows[999_999_999_999] = {1: "x"}
    p = _limit_problem(raw_xlsx(tmp_path / "units.xlsx", rows, sheet="units"), "units")
    assert (p.check, p.row) == ("too_many_rows", 1_048_577) and "1,048,576" in p.message


def test_a_declared_dimension_of_the_whole_sheet_is_not_trusted(tmp_path):
    rows = table_rows(base_tables()["units"])
    path = raw_xlsx(tmp_path / "units.xlsx", rows, sheet="units", dimension="A1:XFD1048576")
    table = read_table("units", path)
    assert list(table.data.index) == [2, 3, 4]
    assert list(table.data.columns) == ["unit_id", "unit_name", "region", "unit_type"]


def test_a_stray_cell_within_the_limits_is_an_ignored_column(tmp_path):
    rows = {i: dict(enumerate(r, start=1)) for i, r in enumerate(table_rows(base_tables()["units"]), start=1)}
    rows[1_048_576] = {26: "x"}
    write_dataset(tmp_path, skip=("units",))
    raw_xlsx(tmp_path / "units.xlsx", rows, sheet="units")
    ds = load_dataset(tmp_path)
    frame = ds.report.to_frame()
    assert frame[["severity", "check", "column"]].values.tolist() == [
        ["warning", "unknown_column", "(unnamed column 26)"]]
    assert list(ds.tables["units"].index) == [2, 3, 4]


@pytest.mark.parametrize("where", [0, 6])
def test_a_long_csv_field_is_one_error_naming_its_row_and_column_wherever_it_is(tmp_path, where):
    t = base_tables()
    t["employees"].loc[where, "name"] = "x" * (reading.MAX_CELL_CHARS + 1)
    write_dataset(tmp_path, t)
    frame = load_dataset(tmp_path).report.to_frame()
    assert frame[["table", "row", "column", "check"]].values.tolist() == [
        ["employees", where + 2, "name", "cell_too_long"]]
    assert "32,767" in frame["message"].iloc[0]
    t["employees"].loc[where, "name"] = "x" * reading.MAX_CELL_CHARS  # at the limit: fine
    write_dataset(tmp_path, t)
    assert load_dataset(tmp_path).report.to_frame().empty


def test_a_long_cell_in_a_title_row_is_named(tmp_path):
    rows = [["LAPORAN"], [LongText(reading.MAX_CELL_CHARS + 5)], *table_rows(base_tables()["units"])]
    p = _limit_problem(raw_xlsx(tmp_path / "units.xlsx", rows, sheet="units", shared_strings=False), "units")
    assert (p.check, p.row, p.column) == ("cell_too_long", 2, "(A)")


# --- formulas --------------------------------------------------------------------------------

def test_formulas_with_saved_values_are_read_and_empty_text_results_are_not_flagged(tmp_path):
    rows = table_rows(base_tables()["units"])
    rows[1][0] = Formula('="U"&"01"', "U01")  # Excel saved the value (list index 0 = column A)
    rows[2][1] = Formula('="Dinas "&"Kesehatan"', "Dinas Kesehatan")
    rows[2][2] = Formula('=IF(1,"","")', "")  # an empty text: a value, saved
    table = read_table("units", raw_xlsx(tmp_path / "units.xlsx", rows, sheet="units"))
    assert table.data["unit_id"].tolist() == ["U01", "U02", "U03"]
    assert table.data.loc[3, "unit_name"] == "Dinas Kesehatan"
    assert table.data.loc[3, "region"] is None


def test_formulas_without_values_are_said_once_with_the_sheet_and_first_cell(tmp_path):
    rows = table_rows(base_tables()["units"])
    for r in rows[1:]:
        r[1] = Formula("=A1")
    p = _limit_problem(raw_xlsx(tmp_path / "units.xlsx", rows, sheet="Unit kerja"), "units")
    assert p.check == "formulas_without_values" and p.value == "B2"
    assert "sheet Unit kerja" in p.message and "3 cell(s)" in p.message and "save it" in p.message


# --- text --------------------------------------------------------------------------------------

def test_mixed_encodings_are_read_line_by_line_and_the_odd_lines_named(tmp_path):
    lines = ["unit_id,unit_name,region", "U01,Dinas Pendidikan Café,Kota", "U02,Dinas Kesehatan Señor,Kota",
             "U03,Kecamatan Selatan Ñ,Selatan"]
    raw = "\n".join(lines[:3]).encode("utf-8") + b"\n" + lines[3].encode("cp1252") + b"\n"
    (tmp_path / "units.csv").write_bytes(raw)
    table = read_table("units", tmp_path / "units.csv")
    assert table.data["unit_name"].tolist() == ["Dinas Pendidikan Café", "Dinas Kesehatan Señor",
                                                "Kecamatan Selatan Ñ"]
    assert table.encoding == "utf-8, some lines Windows-1252"
    assert [(p.row, p.column, p.check, p.severity) for p in table.problems] == [
        (4, "unit_name", "mixed_encoding", "warning")]
    # mostly Windows-1252 with one UTF-8 line: the other way round
    raw = (lines[0] + "\n").encode() + "\n".join(lines[1:3]).encode("cp1252") + b"\n" + lines[3].encode("utf-8")
    (tmp_path / "units.csv").write_bytes(raw)
    table = read_table("units", tmp_path / "units.csv")
    assert table.data["unit_name"].tolist()[2] == "Kecamatan Selatan Ñ"
    assert [(p.row, p.column) for p in table.problems] == [(4, "unit_name")]
    assert "UTF-8" in table.problems[0].message


def test_a_file_in_one_single_byte_encoding_is_not_reported(tmp_path):
    (tmp_path / "units.csv").write_bytes("unit_id,unit_name,region\nU01,Café,Kota\nU02,Señor,Kota\n"
                                         .encode("cp1252"))
    table = read_table("units", tmp_path / "units.csv")
    assert table.problems == [] and table.encoding == "cp1252"
    assert table.data["unit_name"].tolist() == ["Café", "Señor"]


FULL_WIDTH = str.maketrans("0123456789U", "０１２３４５６７８９Ｕ")


def test_full_width_digits_in_nips_unit_ids_and_codes_are_the_ascii_ones(tmp_path):
    t = base_tables()
    guru = NIPS["guru"]
    t["appraisals"].loc[1, "employee_id"] = guru.translate(FULL_WIDTH)  # typed with an IME
    t["feedback_360"].loc[0, "rater_id"] = guru.translate(FULL_WIDTH)
    t["employees"].loc[3, "unit_id"] = "U02".translate(FULL_WIDTH)
    t["appraisals"].loc[2, "period"] = "２０２４"
    t["employees"].loc[0, "employment_type"] = "ＰＮＳ"
    t["employees"].loc[2, "name"] = "Ａｇｕｓ"  # free text: left as written
    write_dataset(tmp_path, t)
    ds = load_dataset(tmp_path)
    assert ds.report.to_frame().empty, ds.report.to_frame().to_string()
    assert ds.tables["appraisals"].loc[3, "employee_id"] == guru
    assert ds.tables["feedback_360"].loc[2, "rater_id"] == guru
    assert ds.tables["employees"].loc[5, "unit_id"] == "U02"
    assert ds.tables["employees"].loc[4, "name"] == "Ａｇｕｓ"
    # one person, one pseudonym
    from analysis.core.privacy import pseudonymise

    ids = pd.Series([guru, ds.tables["appraisals"].loc[3, "employee_id"]])
    assert pseudonymise(ids, b"k").nunique() == 1


def test_ids_differing_only_in_case_name_each_other_and_references_say_so(tmp_path):
    t = base_tables()
    t["units"].loc[3] = ["u01", "Dinas Pendidikan (cabang)", "Kota", "dinas"]
    t["employees"].loc[1, "unit_id"] = "u02"
    write_dataset(tmp_path, t)
    frame = load_dataset(tmp_path).report.to_frame()
    case = frame[frame["check"] == "id_case_variant"]
    assert case[["row", "value"]].values.tolist() == [[2, "U01"], [5, "u01"]]
    assert "u01 (row 5)" in case["message"].iloc[0] and "U01 (row 2)" in case["message"].iloc[1]
    ref = frame[frame["check"] == "dangling_reference"]
    assert "U02, which differs only in case" in ref["message"].iloc[0]


# --- dates --------------------------------------------------------------------------------------

def test_hire_age_uses_the_nips_birth_date_when_there_is_no_birth_date(tmp_path):
    t = base_tables()
    t["employees"] = t["employees"].drop(columns="birth_date")
    t["employees"].loc[0, "hire_date"] = "1979-12-31"  # kadis, born 1980-01-01 by the NIP
    t["employees"].loc[1, "hire_date"] = "2002-03-15"  # sekretaris, 17 on the day (born 1985-03-15)
    t["employees"].loc[2, "hire_date"] = "2008-07-20"  # guru, 18 on the day: fine
    write_dataset(tmp_path, t)
    frame = load_dataset(tmp_path).report.to_frame()
    assert frame[["severity", "row", "check"]].values.tolist() == [
        ["error", 2, "impossible_dates"], ["warning", 3, "hired_under_18"]]
    assert "the NIP's birth date 1980-01-01" in frame["message"].iloc[0]


# --- the console, the report, quotes --------------------------------------------------------------

def test_console_shows_rows_not_nips_and_the_report_keeps_them(tmp_path):
    t = base_tables()
    outsider = "197005051995031011"
    t["appraisals"].loc[0, "rater_id"] = outsider  # a warning naming the NIP
    t["appraisals"] = pd.concat([t["appraisals"], t["appraisals"].iloc[[2]]], ignore_index=True)  # duplicate
    write_dataset(tmp_path / "data", t)
    report = tmp_path / "report.csv"
    proc = run_cli(tmp_path / "data", report)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out
    assert not re.search(r"\d{15}", out), out
    assert NIP_MASK in out and "row 2" in out and "row 9" in out
    back = pd.read_csv(report, dtype=str, keep_default_na=False)
    assert outsider in " ".join(back["message"]) and outsider in back["value"].tolist()
    assert NIPS["perawat"] in " ".join(back["message"])


def test_console_text_masks_nip_like_numbers_only():
    assert console_text("rater_id 197005051995031011 is not in employees") == f"rater_id {NIP_MASK} is not in employees"
    assert console_text("NIP 19850315 201001 1 001 and 1.99109092016061e+17") == f"NIP {NIP_MASK} and {NIP_MASK}"
    kept = "birth_date 1991-09-19 disagrees with 1991-09-09; cost 1.500.000; rows 3, 5; 2024Q1"
    assert console_text(kept) == kept


def test_console_text_gives_the_pseudonym_when_the_key_is_at_hand():
    from analysis.core.privacy import pseudonymise

    nip = "197005051995031011"
    expected = pseudonymise(pd.Series([nip]), b"k").iloc[0]
    assert console_text(f"rater_id {nip} is not in employees", b"k") == f"rater_id {expected} is not in employees"
    assert console_text("19700505 199503 1 011", b"k") == expected  # the same NIP, written with spaces
    assert console_text("1.99109092016061e+17", b"k") == NIP_MASK  # not a NIP any more: masked


def test_print_summary_hides_nips_and_says_where_they_are(capsys):
    from analysis.data.problems import Problem

    r = ValidationReport()
    r.add(Problem("appraisals", 7, "rater_id", "dangling_reference", "197005051995031011",
                  "rater_id 197005051995031011 is not in employees.employee_id; the row is kept", "warning"))
    r.print_summary(print)
    out = capsys.readouterr().out
    assert "197005051995031011" not in out and "row 7" in out and "keep it restricted" in out


def test_values_from_the_data_are_quoted_short_in_messages_and_the_value_column(tmp_path):
    t = base_tables()
    t["appraisals"].loc[1, "hasil_kerja"] = "Luar Biasa " * 1000
    t["employees"].loc[1, "unit_id"] = "Z" * 5000
    t["units"]["catatan " * 50] = "x"
    write_dataset(tmp_path, t)
    frame = load_dataset(tmp_path).report.to_frame()
    assert len(frame) == 3
    assert frame["value"].str.len().max() <= QUOTE_CHARS + 1
    assert frame["message"].str.len().max() < 250, frame["message"].tolist()
    assert all("…" in m for m in frame["message"])
    assert shorten("abc") == "abc" and shorten("x" * 100) == "x" * QUOTE_CHARS + "…"


def test_validate_shows_pseudonyms_when_the_key_is_at_hand(tmp_path, monkeypatch, capsys):
    import argparse
    import hashlib

    from analysis.cli import cmd_validate
    from analysis.core.privacy import pseudonymise

    key = hashlib.sha256(b"validate console key").hexdigest()
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", key)
    t = base_tables()
    outsider = "197005051995031011"
    t["appraisals"].loc[0, "rater_id"] = outsider
    write_dataset(tmp_path / "data", t)
    cmd_validate(argparse.Namespace(data=str(tmp_path / "data"), report=str(tmp_path / "r.csv"), params=None))
    out = capsys.readouterr().out
    assert outsider not in out and pseudonymise(pd.Series([outsider]), key.encode()).iloc[0] in out
