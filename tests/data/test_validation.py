"""load_dataset: typed tables, the report and its layout, optional tables, set-aside rows."""

from __future__ import annotations

import hashlib
import random

import pandas as pd
import pytest

from analysis.data.contract import REQUIRED_TABLES, TABLES
from analysis.data.problems import COLUMNS, Problem, ValidationReport
from analysis.data.validation import load_dataset
from corpus.builders import NIPS, base_tables, report_rows, run_cli, write_dataset


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    folder = write_dataset(tmp_path_factory.mktemp("base"))
    return folder, load_dataset(folder)


def test_required_tables_are_those_of_the_contract():
    assert set(REQUIRED_TABLES) == {"units", "employees", "appraisals"}
    assert set(base_tables()) == set(TABLES)


def test_typed_tables(base):
    _, ds = base
    assert ds.ok
    emp = ds.tables["employees"]
    assert emp.index.name == "row" and list(emp.index) == list(range(2, 10))
    assert pd.api.types.is_datetime64_any_dtype(emp["birth_date"])
    assert emp["employee_id"].tolist() == list(NIPS.values())
    assert ds.tables["feedback_360"]["score"].dtype == "Int64"
    assert ds.tables["appraisals"]["innovation"].dtype == "boolean"
    assert ds.tables["targets"]["target"].dtype == "float64"
    assert ds.tables["competency_standards"]["job_family"].tolist() == ["*", "guru", "*", "*"]
    assert ds.tables["rollout"]["adopted_period"].tolist() == ["2024Q1", "2024Q3", None]
    assert ds.tables["training_catalog"]["cost_per_participant"].tolist() == [1_500_000, 0, 250_000]


def test_file_information_for_the_manifest(base):
    folder, ds = base
    info = ds.report.files["employees"]
    assert info["file"] == "employees.csv" and info["format"] == "csv"
    assert info["sha256"] == hashlib.sha256((folder / "employees.csv").read_bytes()).hexdigest()
    assert info["rows"] == info["rows_used"] == 8
    assert info["header_row"] == 1 and info["separator"] == ","
    assert set(ds.report.files) == set(TABLES)


def test_optional_tables_may_be_missing(tmp_path):
    optional = [n for n in TABLES if n not in REQUIRED_TABLES]
    write_dataset(tmp_path, skip=tuple(optional))
    ds = load_dataset(tmp_path)
    assert ds.report.to_frame().empty
    assert set(ds.tables) == set(REQUIRED_TABLES)


def test_header_only_optional_table_is_a_warning_and_treated_as_absent(tmp_path):
    t = base_tables()
    t["targets"] = t["targets"].iloc[0:0]
    write_dataset(tmp_path, t)
    ds = load_dataset(tmp_path)
    assert report_rows(ds.report.to_frame(), ("severity", "table", "row", "check")) == [
        ["warning", "targets", 1, "no_rows"]]
    assert "targets" not in ds.tables and ds.ok


def test_reference_to_a_missing_optional_table(tmp_path):
    write_dataset(tmp_path, skip=("competencies",))
    frame = load_dataset(tmp_path).report.to_frame()
    assert report_rows(frame, ("severity", "table", "row", "column", "check", "value")) == [
        ["error", "competency_assessments", None, "competency_code", "missing_reference_table", "competencies"],
        ["error", "competency_standards", None, "competency_code", "missing_reference_table", "competencies"],
        ["error", "training_catalog", None, "competency_code", "missing_reference_table", "competencies"],
    ]


def test_rows_pointing_at_unknown_units_are_set_aside_and_counted(tmp_path):
    t = base_tables()
    t["org_ratings"].loc[1, "unit_id"] = "U77"
    t["service_outcomes"].loc[3, "unit_id"] = "U77"
    write_dataset(tmp_path, t)
    ds = load_dataset(tmp_path)
    assert ds.ok
    assert report_rows(ds.report.to_frame(), ("severity", "table", "row", "column", "check")) == [
        ["warning", "org_ratings", 3, "unit_id", "dangling_reference"],
        ["warning", "service_outcomes", 5, "unit_id", "dangling_reference"],
    ]
    assert list(ds.tables["org_ratings"].index) == [2, 4]
    assert ds.report.files["service_outcomes"]["rows"] == 4
    assert ds.report.files["service_outcomes"]["rows_used"] == 3
    assert ds.report.summary_dict() == {
        "errors": 0, "warnings": 2,
        "by_check": [
            {"severity": "warning", "table": "org_ratings", "column": "unit_id", "check": "dangling_reference",
             "count": 1},
            {"severity": "warning", "table": "service_outcomes", "column": "unit_id",
             "check": "dangling_reference", "count": 1},
        ],
    }


def test_a_cell_that_cannot_be_read_is_not_also_reported_empty(tmp_path):
    t = base_tables()
    t["feedback_360"].loc[0, "score"] = "enam"
    t["appraisals"].loc[0, "hasil_kerja"] = "Luar Biasa"
    t["appraisals"].loc[1, "perilaku_kerja"] = ""
    write_dataset(tmp_path, t)
    frame = load_dataset(tmp_path).report.to_frame()
    assert report_rows(frame) == [
        ["appraisals", 2, "hasil_kerja", "unknown_code"],
        ["appraisals", 3, "perilaku_kerja", "missing_value"],
        ["feedback_360", 2, "score", "wrong_type"],
    ]


def test_rater_who_is_the_ratee_must_have_role_self(tmp_path):
    t = base_tables()
    t["feedback_360"].loc[6, "rater_id"] = NIPS["kasi"]  # the kasi rating himself as 'subordinate'
    write_dataset(tmp_path, t)
    frame = load_dataset(tmp_path).report.to_frame()
    assert report_rows(frame) == [["feedback_360", 8, "rater_role", "self_rating_mismatch"]]


def test_report_layout_and_order(tmp_path):
    t = base_tables()
    t["units"].loc[0, "region"] = ""
    t["employees"].loc[2, "gender"] = "P"
    t["org_ratings"].loc[0, "unit_id"] = "U77"
    t["employees"]["catatan"] = "x"
    write_dataset(tmp_path, t)
    ds = load_dataset(tmp_path)
    frame = ds.report.to_frame()
    assert list(frame.columns) == COLUMNS
    # errors first, then by table and row
    assert report_rows(frame, ("severity", "table", "row", "check")) == [
        ["error", "employees", 4, "nip_gender_mismatch"],
        ["error", "units", 2, "missing_value"],
        ["warning", "employees", 1, "unknown_column"],
        ["warning", "org_ratings", 2, "dangling_reference"],
    ]
    assert frame["row"].dtype == "Int64"
    assert not ds.ok and ds.report.n_errors == 2 and ds.report.n_warnings == 2
    path = tmp_path / "out" / "report.csv"
    path.parent.mkdir()
    ds.report.write_csv(path)
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(back.columns) == COLUMNS and len(back) == 4
    assert back["row"].tolist() == ["4", "2", "1", "2"]


def test_empty_report():
    r = ValidationReport()
    assert r.ok and r.n_errors == 0
    assert list(r.to_frame().columns) == COLUMNS and r.to_frame().empty
    assert r.summary_dict() == {"errors": 0, "warnings": 0, "by_check": []}
    r.add(Problem("units", None, None, "missing_table", None, "gone"))
    assert not r.ok and r.to_frame()["row"].isna().all()


def test_warning_only_dataset_cli_exits_0_and_writes_report_in_new_folder(tmp_path):
    t = base_tables()
    t["service_outcomes"].loc[0, "iku_attainment"] = ""
    write_dataset(tmp_path / "data", t)
    (tmp_path / "data" / "catatan.txt").write_text("-")
    report = tmp_path / "new" / "deeper" / "validation.csv"
    proc = run_cli(tmp_path / "data", report)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    back = pd.read_csv(report, dtype=str, keep_default_na=False)
    assert sorted(back["check"]) == ["missing_value", "unknown_file"]
    assert set(back["severity"]) == {"warning"}


def test_random_garbage_in_any_cell_never_raises(tmp_path):
    """One cell of any table replaced by junk: a report, never an exception."""
    junk = ["", " ", "\u00a0", '"', '""', "'", ";", ",", "\t", "|", "\\", "NaN", "None", "null", "#N/A",
            "-", "0", "-1", "1e400", "9" * 40, "٣", "１２", "é" * 300, "=SUM(A1:A3)", "2024-02-30", "Q9/2024",
            "\u200b", "1.98503152010011e+17", "*", "M.99", "T..1"]
    rng = random.Random(20240315)
    t0 = base_tables()
    for i in range(12):
        t = base_tables()
        name = rng.choice(list(t0))
        df = t[name]
        r, c = rng.randrange(len(df)), rng.choice(list(df.columns))
        value = rng.choice(junk)
        df.loc[r, c] = value
        folder = write_dataset(tmp_path / str(i), t)
        ds = load_dataset(folder)  # must not raise
        frame = ds.report.to_frame()
        assert set(frame["table"]) <= set(TABLES) | {"-"}, (name, c, value)
        assert frame["message"].str.len().gt(0).all()
