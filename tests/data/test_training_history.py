"""The optional training_history table: typed, checked, and its rows about unknown employees set aside."""

from __future__ import annotations

import pandas as pd

from analysis.data.contract import TABLES
from analysis.data.validation import load_dataset
from corpus.builders import NIPS, base_tables, report_rows, write_dataset

UNKNOWN = "199901012020011099"  # a valid NIP of no one in employees


def _load(tmp_path, rows: list[list[str]] | None = None, columns: str = "employee_id start end name form jp provider"):
    tables = base_tables()
    if rows is not None:
        tables["training_history"] = pd.DataFrame(rows, columns=columns.split(), dtype="object")
    return load_dataset(write_dataset(tmp_path, tables))


def test_the_contract_has_the_table_with_its_columns():
    spec = TABLES["training_history"]
    assert not spec.required and spec.key == ()
    assert [c.name for c in spec.columns] == ["employee_id", "start", "end", "name", "form", "jp", "provider"]
    assert {c.name for c in spec.columns if c.optional} == {"end", "form", "provider"}
    assert spec.column_map["form"].codes == "training_form"


def test_base_rows_load_typed_and_clean(tmp_path):
    ds = _load(tmp_path)
    assert ds.ok and ds.report.to_frame().empty
    th = ds.tables["training_history"]
    assert th["employee_id"].tolist() == [NIPS["guru"], NIPS["perawat"], NIPS["kasi"]]
    assert pd.api.types.is_datetime64_any_dtype(th["start"]) and pd.api.types.is_datetime64_any_dtype(th["end"])
    assert th["jp"].tolist() == [24.0, 16.0, 10.0]
    assert th["form"].tolist() == ["bimtek", "pelatihan", "e_learning"]
    assert pd.isna(th["end"].iloc[1])


def test_a_row_about_an_unknown_employee_is_set_aside_with_a_warning(tmp_path):
    ds = _load(tmp_path, [
        [NIPS["guru"], "2024-02-05", "2024-02-07", "Bimtek", "bimtek", "24", "LPMP"],
        [UNKNOWN, "2024-03-01", "", "Seminar", "seminar", "4", ""],
    ])
    assert ds.ok
    assert report_rows(ds.report.to_frame()) == [["training_history", 3, "employee_id", "dangling_reference"]]
    row = ds.report.to_frame().iloc[0]
    assert row["severity"] == "warning" and "set aside" in row["message"]
    assert ds.tables["training_history"]["employee_id"].tolist() == [NIPS["guru"]]


def test_labels_and_minimal_columns_are_read(tmp_path):
    # only the required columns; form given as its label, a date as Indonesian text, JP with a decimal comma
    ds = _load(tmp_path, [
        [NIPS["guru"], "15 Maret 2024", "Diklat", "6,5"],
    ], columns="nip start name jp")
    assert ds.ok, ds.report.to_frame()
    th = ds.tables["training_history"]
    assert th["start"].iloc[0] == pd.Timestamp("2024-03-15") and th["jp"].iloc[0] == 6.5


def test_repeated_rows_are_not_an_error(tmp_path):
    row = [NIPS["guru"], "2024-02-05", "2024-02-07", "Bimtek", "bimtek", "24", "LPMP"]
    ds = _load(tmp_path, [row, list(row)])
    assert ds.ok and ds.report.to_frame().empty
    assert len(ds.tables["training_history"]) == 2  # folded when JP are counted, not here


def test_bad_values_are_reported(tmp_path):
    ds = _load(tmp_path, [
        [NIPS["guru"], "2024-02-07", "2024-02-05", "Bimtek", "bimtek", "24", ""],  # ends before it starts
        [NIPS["kasi"], "2024-02-05", "", "Kursus", "not_a_form", "8", ""],  # unknown form
        [NIPS["perawat"], "2024-02-05", "", "Pelatihan", "", "-3", ""],  # negative JP
        [NIPS["sekretaris"], "", "", "", "", "", ""],  # empty start, name, jp: warnings, the row is kept
    ])
    rows = report_rows(ds.report.to_frame(), ("table", "row", "column", "check"))
    assert ["training_history", 2, "end", "impossible_dates"] in rows
    assert ["training_history", 4, "jp", "out_of_range"] in rows
    assert any(r[1:3] == [3, "form"] for r in rows)
    frame = ds.report.to_frame()
    warned = frame[(frame["row"] == 5) & (frame["table"] == "training_history")]
    assert set(warned["column"]) == {"start", "name", "jp"} and set(warned["severity"]) == {"warning"}
    assert not ds.ok  # the errors stop a run, like any other table's
