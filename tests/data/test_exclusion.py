"""Partial data on purpose (params validation.on_error: exclude): rows with errors and their dependents
set aside, the rest analysed; too much set aside, or an error without a row, still stops."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from analysis.data.exclusion import exclude_rows
from analysis.data.validation import load_dataset
from analysis.pipeline import steps
from analysis.pipeline.run import run_pipeline
from analysis.report.brief import exclusion_notice
from analysis.report.facts import Facts
from conftest import ROOT
from corpus.builders import base_tables, write_dataset

BAD_EMPLOYEE = "198503152010012002"  # the second employee of the corpus: a birth date that is no date


def broken(folder):
    t = base_tables()
    emp = t["employees"].copy()
    emp.loc[1, "birth_date"] = "bukan tanggal"
    t["employees"] = emp
    write_dataset(folder, t)
    return folder


def test_a_bad_employee_is_set_aside_with_everything_that_depends_on_them(tmp_path):
    ds = load_dataset(broken(tmp_path / "data"))
    assert not ds.ok
    ex = exclude_rows(ds.tables, ds.report.to_frame(), max_share=0.5)
    assert ex.ok
    assert BAD_EMPLOYEE not in set(ex.tables["employees"]["employee_id"])
    for name in ("appraisals", "competency_assessments"):
        assert BAD_EMPLOYEE not in set(ex.tables[name]["employee_id"])
    assert BAD_EMPLOYEE not in set(ex.tables["appraisals"]["rater_id"])  # what they rated goes too
    assert BAD_EMPLOYEE not in set(ex.tables["feedback_360"]["rater_id"])
    assert len(ex.tables["units"]) == len(ds.tables["units"])  # what does not depend on them stays
    reasons = dict(zip(zip(ex.excluded["table"], ex.excluded["row"]), ex.excluded["reason"]))
    assert reasons[("employees", 3)] == "wrong_type"
    assert reasons[("appraisals", 2)] == "depends on employees (employee_id)"
    assert ex.counts["employees"] == {"read": 8, "excluded": 1, "share": 0.125}
    assert sum(c["excluded"] for c in ex.counts.values()) == len(ex.excluded)


def test_too_much_set_aside_or_an_error_without_a_row_still_stops(tmp_path):
    ds = load_dataset(broken(tmp_path / "data"))
    ex = exclude_rows(ds.tables, ds.report.to_frame(), max_share=0.05)  # 1 of 8 employees is 12.5%
    assert not ex.ok and "employees 1 of 8 (12.5%)" in ex.stop
    frame = pd.concat([ds.report.to_frame(), pd.DataFrame([{
        "severity": "error", "table": "targets", "row": pd.NA, "column": "realisation", "check": "missing_column",
        "value": None, "message": "required column realisation is missing"}])], ignore_index=True)
    ex = exclude_rows(ds.tables, frame, max_share=1.0)
    assert not ex.ok and "name no row" in ex.stop and "missing" in ex.stop


def test_a_key_another_row_still_gives_is_not_lost():
    units = pd.DataFrame({"unit_id": ["U1", "U1", "U2"], "unit_name": ["A", "A", "B"]}, index=[2, 3, 4])
    employees = pd.DataFrame({"employee_id": ["E1", "E2"], "unit_id": ["U1", "U2"]}, index=[2, 3])
    report = pd.DataFrame([{"severity": "error", "table": "units", "row": 3, "column": "unit_id",
                            "check": "duplicate_key", "value": "U1", "message": "U1 twice"}])
    ex = exclude_rows({"units": units, "employees": employees}, report, max_share=1.0)
    assert list(ex.tables["employees"]["employee_id"]) == ["E1", "E2"]  # U1 is still there (row 2)


@pytest.fixture
def quick(monkeypatch, test_key):
    monkeypatch.setattr(steps, "STEPS", (steps.Step("09_needs_nothing", requires=("rollout_plans",)),))


def test_a_run_with_exclude_analyses_the_rest_and_records_what_it_set_aside(tmp_path, quick):
    data = broken(tmp_path / "data")
    doc = yaml.safe_load((ROOT / "params" / "default.yaml").read_text()) | {
        "validation": {"on_error": "exclude", "max_excluded_share": 0.5}}
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(doc))
    said = []
    res = run_pipeline(p, data=data, out_root=tmp_path / "out", echo=said.append)
    assert res.exit_code == 0 and res.status == "success", said
    m = json.loads((res.run_dir / "manifest.json").read_text())
    assert m["exclusion"]["rows"] == 6 and m["exclusion"]["by_table"]["employees"]["excluded"] == 1
    listed = (res.run_dir / "plans" / "excluded_rows.csv").read_text()
    assert BAD_EMPLOYEE not in listed and "wrong_type" in listed  # pseudonymised, and why
    assert (res.run_dir / "plans" / "RESTRICTED.txt").exists()
    run = json.loads((res.run_dir / "results" / "00_run.json").read_text())["values"]
    assert run["excluded"] == {"appraisals": 2, "competency_assessments": 1, "employees": 1, "feedback_360": 2}
    kept = pd.read_parquet(res.run_dir / "data" / "employees.parquet")
    assert len(kept) == 7 and any("set aside" in s for s in said)
    # the same data with the default (stop) is refused, as before
    assert run_pipeline(ROOT / "params" / "default.yaml", data=data, out_root=tmp_path / "out2",
                        echo=lambda m: None).status == "invalid_data"


def test_the_brief_says_on_its_first_page_what_was_set_aside():
    f = Facts({"00_run": {"status": "ok", "values": {"excluded": {"employees": 1, "appraisals": 2}}}}, "id")
    text = str(exclusion_notice(f))
    assert "3 baris" in text and "employees" in text and "appraisals" in text and "excluded_rows.csv" in text
    assert exclusion_notice(Facts({"00_run": {"status": "ok", "values": {}}}, "id")) is None
