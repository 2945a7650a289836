"""The broken-input corpus: one broken thing each, one precise report row each.

Every case starts from the valid base dataset of ``tests/corpus/builders.py``
and breaks exactly one thing (``tests/corpus/cases.py``). For each, the
``validate`` command must exit 1 (0 when the case is only a warning) and print
no traceback, and its report file must name the problem by (severity, table,
row, column, check), with no error of another check. The report file is the
whole report ``load_dataset`` gives, row for row (tested on its own), so the
dataset is validated once per case, by the command.

The command runs in its own process per case, forked from one interpreter
that has imported the package (``corpus.forked``: a fresh ``python -m analysis``
spends most of its time importing); the base dataset's and the missing
folder's cases start a new interpreter, so the command's start-up stays tested.
"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from analysis.data.validation import load_dataset
from corpus.builders import NIPS, base_tables, run_cli, write_dataset
from corpus.cases import CASES, Case, make_case
from corpus.forked import ForkedCli

CASE_IDS = [c.id for c in CASES]


def _matches(frame: pd.DataFrame, case: Case) -> pd.DataFrame:
    """Rows of a report file (read as text) that are exactly the case's expected problem."""
    e = case.expect
    return frame[(frame["severity"] == e.severity) & (frame["table"] == e.table)
                 & (frame["row"] == ("" if e.row is None else str(e.row)))
                 & (frame["column"] == (e.column or "")) & (frame["check"] == e.check)]


# --- the base dataset --------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_base_dataset_is_clean(tmp_path, fmt):
    write_dataset(tmp_path, fmt=fmt)
    ds = load_dataset(tmp_path)
    frame = ds.report.to_frame()
    assert frame.empty, frame.to_string()
    assert ds.report.n_errors == 0 and ds.report.n_warnings == 0
    assert ds.row_counts() == {name: len(df) for name, df in base_tables().items()}
    # spreadsheet rows: header on row 1, data from row 2
    assert list(ds.tables["employees"].index) == list(range(2, 10))


def test_base_dataset_cli_exits_0(tmp_path):
    data = write_dataset(tmp_path / "data")
    proc = run_cli(data, tmp_path / "report.csv")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert pd.read_csv(tmp_path / "report.csv").empty


def test_corpus_is_large_and_ids_unique():
    assert len(CASES) >= 30
    assert len(set(CASE_IDS)) == len(CASE_IDS)


# --- the corpus ----------------------------------------------------------------

@pytest.fixture(scope="module")
def cli():
    """The command, run in children of one interpreter that imported the package once."""
    forked = ForkedCli()
    yield forked
    forked.close()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_broken_input(case: Case, cli, tmp_path):
    folder = make_case(case, tmp_path / "data")
    report_path = tmp_path / "validation.csv"
    proc = cli.run(["validate", "--data", folder, "--report", report_path])

    # 1. the command: no traceback, exit 1 for an error (0 for a warning: the dataset is usable)
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out
    assert proc.returncode == case.exit_code, out

    # 2. its report file, which holds the whole report (``load_dataset``'s, row for row): the precise
    # row, with a message, and no error of another kind
    frame = pd.read_csv(report_path, dtype=str, keep_default_na=False)
    hit = _matches(frame, case)
    assert len(hit) >= 1, f"expected {case.expect} in\n{frame.to_string()}"
    assert hit["message"].str.len().gt(0).all()
    errors = frame[frame["severity"] == "error"]
    if case.expect.severity == "warning":
        assert errors.empty, errors.to_string()
    else:  # one thing broken: no error of another kind
        unexpected = errors[errors["check"] != case.expect.check]
        assert unexpected.empty, unexpected.to_string()


def test_the_report_file_is_the_whole_report(cli, tmp_path):
    """What the corpus reads from the command's report file is ``load_dataset``'s report, row for row
    (errors and warnings)."""
    for case_id in ("duplicate_unit", "unknown_column_is_warning", "csv_mixing_utf8_and_windows_1252",
                    "duplicate_feedback_360"):
        case = _case(case_id)
        folder = make_case(case, tmp_path / case_id)
        report_path = tmp_path / f"{case_id}.csv"
        cli.run(["validate", "--data", folder, "--report", report_path])
        written = pd.read_csv(report_path, dtype=str, keep_default_na=False)
        expected = load_dataset(folder).report.to_frame()
        assert len(written) == len(expected) >= 1
        for col in ("severity", "table", "column", "check", "message"):
            assert written[col].tolist() == expected[col].fillna("").astype(str).tolist(), col
        assert written["row"].tolist() == ["" if pd.isna(r) else str(r) for r in expected["row"]]


def test_the_forked_command_is_the_fresh_interpreters(cli, tmp_path):
    """The forked children answer as ``python -m analysis`` does: same exit code, output and report."""
    folder = make_case(_case("duplicate_unit"), tmp_path / "data")
    for argv in (["validate", "--data", str(folder), "--report", str(tmp_path / "r.csv")], ["validatex"]):
        forked = cli.run(argv)
        fresh = subprocess.run([sys.executable, "-m", "analysis", *argv], capture_output=True, text=True, timeout=120)
        assert (forked.returncode, forked.stdout, forked.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)
    assert forked.returncode == 2 and "invalid choice" in forked.stderr


# --- details some cases promise -------------------------------------------------

def _case(case_id: str) -> Case:
    return next(c for c in CASES if c.id == case_id)


def test_appraisal_of_unknown_employee_is_set_aside_and_named(tmp_path):
    ds = load_dataset(make_case(_case("appraisal_of_unknown_employee_is_warning"), tmp_path))
    assert 9 not in ds.tables["appraisals"].index  # set aside ...
    assert len(ds.tables["appraisals"]) == len(base_tables()["appraisals"])
    frame = ds.report.to_frame()
    named = frame[(frame["check"] == "dangling_reference") & (frame["row"] == 9)]
    assert named["value"].tolist() == ["199404042021012009"]  # ... and named
    assert "set aside" in named["message"].iloc[0]
    assert ds.report.summary_dict()["warnings"] == 1


def test_unknown_rater_row_is_kept(tmp_path):
    ds = load_dataset(make_case(_case("unknown_rater_is_warning"), tmp_path))
    assert 2 in ds.tables["appraisals"].index


def test_malformed_row_leaves_the_rest_of_the_file_read(tmp_path):
    ds = load_dataset(make_case(_case("csv_row_with_extra_field"), tmp_path))
    emp = ds.tables["employees"]
    assert 4 not in emp.index and len(emp) == 7
    frame = ds.report.to_frame()
    bad = frame[frame["check"] == "malformed_row"]
    assert bad["value"].tolist() == ["surplus"]


def test_two_problems_in_one_file_are_both_reported(tmp_path):
    t = base_tables()
    t["employees"].loc[1, "position_class"] = "kepala"
    t["employees"].loc[6, "gender"] = "L"
    ds = load_dataset(write_dataset(tmp_path, t))
    got = set(map(tuple, ds.report.to_frame()[["row", "column", "check"]].astype(str).to_numpy()))
    assert got == {("3", "position_class", "unknown_code"), ("8", "gender", "nip_gender_mismatch")}


def test_duplicate_key_names_the_other_row(tmp_path):
    ds = load_dataset(make_case(_case("duplicate_unit"), tmp_path))
    frame = ds.report.to_frame()
    dup = frame[frame["check"] == "duplicate_key"]
    assert dup["row"].tolist() == [3, 5]
    assert "also on row 5" in dup["message"].iloc[0]
    assert dup["value"].tolist() == ["U02", "U02"]


def test_nip_problems_say_why(tmp_path):
    reasons = {
        "nip_17_digits": "18 digits",
        "nip_birth_month_13": "not a calendar date",
        "nip_february_30": "not a calendar date",
        "nip_sex_digit_3": "sex digit",
        "nip_appointed_before_15": "15 years",
        "nip_as_excel_float": "stored as a number",
    }
    for case_id, reason in reasons.items():
        ds = load_dataset(make_case(_case(case_id), tmp_path / case_id))
        frame = ds.report.to_frame()
        msg = frame.loc[frame["check"] == "invalid_nip", "message"]
        assert len(msg) == 1 and reason in msg.iloc[0], (case_id, msg.tolist())


def test_missing_data_folder_is_reported(tmp_path):
    ds = load_dataset(tmp_path / "nope")
    frame = ds.report.to_frame()
    assert frame["check"].tolist() == ["missing_folder"]
    proc = run_cli(tmp_path / "nope", tmp_path / "r.csv")
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr


def test_nips_of_the_base_are_distinct():
    assert len(set(NIPS.values())) == len(NIPS)
