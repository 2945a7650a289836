"""Bad files: a named error (file, row, column, problem), no traceback, nothing written."""

from __future__ import annotations

import export_fixtures as fx
import openpyxl
import pytest

from analysis.cli import main
from corpus.builders import LongText, raw_xlsx


def run_import(tmp_path, capsys, *inputs, extra=()):
    out = tmp_path / "out"
    code = main(["import", "--out", str(out), *extra, *map(str, inputs)])
    text = capsys.readouterr().out
    return code, text, out


def assert_nothing_written(tmp_path):
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith((".out", "out"))]
    assert leftovers == []


def test_unknown_layout(tmp_path, capsys):
    src = tmp_path / "gaji.csv"
    src.write_text("bulan;nip;gaji_pokok\n2024-01;199001202015031002;3500000\n", encoding="utf-8")
    code, text, _ = run_import(tmp_path, capsys, fx.write_siasn(tmp_path / "siasn.csv"), src)
    assert code == 2
    assert text.startswith("Cannot import: gaji.csv:") and "--profile" in text and "Nothing was written" in text
    assert "Traceback" not in text
    assert_nothing_written(tmp_path)


def test_broken_xlsx(tmp_path, capsys):
    src = tmp_path / "penilaian.xlsx"
    src.write_bytes(b"PK\x03\x04 this is not a whole workbook")
    code, text, _ = run_import(tmp_path, capsys, src)
    assert code == 2 and "penilaian.xlsx" in text and "cannot be read as xlsx" in text
    assert_nothing_written(tmp_path)


def test_a_formula_without_its_value(tmp_path, capsys):
    src = fx.write_ekinerja_xlsx(tmp_path / "penilaian.xlsx")
    wb = openpyxl.load_workbook(src)
    wb.active["M10"] = "=IF(1,\"DIATAS EKSPEKTASI\")"  # written by a program that does not calculate
    wb.save(src)
    code, text, _ = run_import(tmp_path, capsys, src)
    assert code == 2
    assert "penilaian.xlsx, row 10, column M" in text and "formula" in text
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_cell_of_40000_characters(tmp_path, capsys, fmt):
    rows = [list(r) for r in fx.EKINERJA_ROWS]
    if fmt == "csv":
        rows[2][9] = "x" * 40_000  # skp_jabatan of the third data row
        src = fx.write_ekinerja_csv(tmp_path / "penilaian.csv", rows)
    else:  # openpyxl cuts what it writes at Excel's limit: the package is written by hand
        rows[2][9] = LongText(40_000, "x")
        sheet = [[t] for t in fx.TITLE] + [[]] * 4 + [fx.EKINERJA_COLUMNS] + rows
        src = raw_xlsx(tmp_path / "penilaian.xlsx", [[v if v != "" else None for v in r] for r in sheet])
    code, text, _ = run_import(tmp_path, capsys, src, extra=("--region", "Kota Contoh"))
    row = 4 if fmt == "csv" else 11
    assert code == 2
    assert f"{src.name}, row {row}, column skp_jabatan: " in text and "40,000 characters" in text
    assert_nothing_written(tmp_path)


def test_a_failed_import_leaves_an_earlier_one_as_it_was(tmp_path, capsys):
    code, _, out = run_import(tmp_path, capsys, fx.write_siasn(tmp_path / "siasn.csv"))
    assert code == 0
    before = sorted(p.name for p in out.iterdir())
    (tmp_path / "bad.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    code, _, _ = run_import(tmp_path, capsys, tmp_path / "bad.csv")
    assert code == 2 and sorted(p.name for p in out.iterdir()) == before


def test_a_folder_of_other_files_is_never_overwritten(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me", encoding="utf-8")
    code, text, _ = run_import(tmp_path, capsys, fx.write_siasn(tmp_path / "siasn.csv"))
    assert code == 2 and "folder of other files" in text and (out / "mine.txt").read_text() == "keep me"


def test_a_bad_profile_is_a_sentence(tmp_path, capsys):
    profile = tmp_path / "p.yaml"
    profile.write_text("name: p\nlayout: training\nfields: {employee_id: [nip], name: [n], start: [s]}\nx: 1\n")
    code, text, _ = run_import(tmp_path, capsys, fx.write_siasn(tmp_path / "siasn.csv"), extra=("--profile",
                                                                                                 str(profile)))
    assert code == 2 and f"{profile}: x: unknown key" in text and "Traceback" not in text


def test_the_console_masks_nips_the_report_names_them(tmp_path, capsys):
    src = tmp_path / "siasn.csv"
    fx.write_siasn(src)
    text = src.read_text().replace(f"'{fx.PPPK}", "'199505052022132005")  # month 13: not a NIP
    src.write_text(text)
    code, out_text, out = run_import(tmp_path, capsys, src)
    assert code == 0
    assert "199505052022132005" not in out_text
    assert "199505052022132005" in (out / "import_report.csv").read_text()
    assert "set aside: invalid_nip x1" in out_text
