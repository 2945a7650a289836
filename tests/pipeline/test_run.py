"""The runner and `workbench run`: run folders, manifest, exit codes, failure and interruption."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from analysis.core.runfolder import TMP_PREFIX
from analysis.pipeline import kernels, steps
from analysis.pipeline import run as runmod
from analysis.pipeline.run import mark_abandoned, run_pipeline
from conftest import ROOT
from corpus.builders import base_tables, write_dataset

DEFAULT = ROOT / "params" / "default.yaml"
MANIFEST_KEYS = {"run_id", "status", "error", "started_at", "finished_at", "duration_seconds", "command",
                 "params_file", "params_sha256", "params", "pseudonym_key", "dataset", "validation", "steps",
                 "outputs", "code", "environment"}
TEST_KEY = hashlib.sha256(b"workbench test key").hexdigest()  # a key as strong as a generated one


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", TEST_KEY)


def quiet(_msg: str) -> None:
    pass


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("ds") / "data")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, dataset):
    """Two runs of the same data and params, through the command line: the first with every kernel a
    fresh interpreter, the second with kernels forked from the run's fork server (``pipeline.kernels``),
    so that their identical tables and results also show the two ways of starting a kernel agree."""
    os.environ["WORKBENCH_PSEUDONYM_KEY"] = TEST_KEY
    out = tmp_path_factory.mktemp("outputs")
    procs = []
    for fork in ("0", "1"):
        procs.append(subprocess.run(
            [sys.executable, "-m", "analysis", "run", "--params", str(DEFAULT), "--data", str(dataset),
             "--out", str(out)], capture_output=True, text=True, timeout=600,
            env={**os.environ, kernels.ENABLE_ENV: fork}))
        # two runs in one second get <run_id> and <run_id>-2 (sorted in the order they ran)
    return out, procs


def run_dirs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir() and not p.is_symlink())


def test_successful_run_prints_its_folder_and_exits_0(two_runs):
    out, procs = two_runs
    for p in procs:
        assert p.returncode == 0, p.stdout + p.stderr
        assert "Traceback" not in p.stdout + p.stderr
        n = len(steps.STEPS)
        for i, step in enumerate(steps.STEPS, 1):
            assert f"[{i}/{n}] {step.name}" in p.stdout
        assert re.search(r"Run folder: .*_default", p.stdout)
        assert re.search(r"Policy brief: .*brief_id\.pdf, .*brief_en\.pdf", p.stdout)


def test_run_folder_holds_what_the_design_lists(two_runs):
    out, _ = two_runs
    run = run_dirs(out)[-1]
    for rel in ("manifest.json", "validation.csv", "params.yaml", "notebooks/01_appraisal_outcomes.ipynb",
                "results/01_appraisal_outcomes.json", "tables/distribution_compliance.csv",
                "figures/distribution_bounds_by_unit.png", "data/appraisals.parquet"):
        assert (run / rel).is_file(), rel
    assert not list(out.glob(f"{TMP_PREFIX}*"))
    assert (out / "latest").resolve() == run.resolve()


def test_manifest_records_what_produced_the_run(two_runs, dataset):
    out, _ = two_runs
    m = json.loads((run_dirs(out)[-1] / "manifest.json").read_text())
    assert MANIFEST_KEYS <= set(m)
    assert m["status"] == "success" and m["error"] is None
    assert m["steps"][0]["name"] == "01_appraisal_outcomes" and m["steps"][0]["status"] == "ok"
    assert m["steps"][0]["seconds"] > 0
    files = m["dataset"]["files"]
    assert files["employees"]["sha256"] == runmod.mf.hashlib.sha256((dataset / "employees.csv").read_bytes()).hexdigest()
    assert files["appraisals"]["rows"] == len(base_tables()["appraisals"])
    assert m["validation"]["errors"] == 0
    assert len(m["code"]["commit"] or "") in (0, 40) and "dirty" in m["code"]
    assert m["environment"]["packages"]["pandas"]
    assert m["params"]["privacy"]["min_cell"] == 5
    assert m["pseudonym_key"] == {"source": "WORKBENCH_PSEUDONYM_KEY",
                                  "fingerprint": runmod.privacy.key_fingerprint(TEST_KEY.encode())}


def test_same_inputs_and_params_give_the_same_tables_and_results(two_runs):
    out, _ = two_runs
    a, b = run_dirs(out)[-2:]
    # the first run's kernels were fresh interpreters, the second's forked from its fork server
    forked = [json.loads((d / "manifest.json").read_text())["kernels_forked"] for d in (a, b)]
    assert forked == [0, 5]
    for sub in ("tables", "results", "plans"):
        files = sorted(p.relative_to(a) for p in (a / sub).rglob("*") if p.is_file())
        assert files
        for rel in files:
            if rel.name == "05_policy_brief.json":
                continue  # the second brief has a section the first cannot have: compared below
            assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    # the brief is the same but for its section on the changes since the previous report
    brief_a, brief_b = (json.loads((d / "results" / "05_policy_brief.json").read_text()) for d in (a, b))
    for lang, written in brief_b["values"]["languages"].items():
        assert "changes" in written["sections"] and "changes" not in brief_a["values"]["languages"][lang]["sections"]
        written["sections"].pop("changes")
        written["keys_used"] = [k for k in written["keys_used"] if not k.startswith("06_changes:")]
        for doc in (written, brief_a["values"]["languages"][lang]):
            doc.pop("pages")  # the section may take a page more
    assert brief_a == brief_b
    # what the second run adds: what changed since the first (nothing), which the first could not have
    extra = sorted(str(p.relative_to(b)) for sub in ("tables", "results", "plans") for p in (b / sub).rglob("*")
                   if p.is_file() and not (a / p.relative_to(b)).exists())
    assert extra == ["results/06_changes.json"]
    changes = json.loads((b / "results" / "06_changes.json").read_text())["values"]
    assert changes["previous_run"] == a.name
    assert changes["bounds"]["newly_breaking"] == 0 and changes["bounds"]["newly_within"] == 0
    assert changes["share_with_gap"]["difference"] == 0


def test_compliance_table_has_the_columns_the_issue_names(two_runs):
    out, _ = two_runs
    comp = pd.read_csv(run_dirs(out)[-1] / "tables" / "distribution_compliance.csv")
    assert {"unit_id", "period", "org_predikat", "compliant"} <= set(comp.columns)
    assert any(c.startswith("shortfall_") for c in comp.columns)


def test_circulated_outputs_carry_no_nip_or_name(two_runs):
    out, _ = two_runs
    run = run_dirs(out)[-1]
    emp = base_tables()["employees"]
    secrets = set(emp["employee_id"]) | set(emp.get("name", pd.Series(dtype=str)).dropna())
    for path in list((run / "tables").glob("*.csv")) + list((run / "results").glob("*.json")) + \
            list((run / "plans").glob("*.csv")):
        text = path.read_text()
        for s in secrets:
            assert s not in text, f"{s} in {path.name}"
    assert "TERBATAS" in (run / "plans" / "RESTRICTED.txt").read_text()
    for path in (run / "plans").glob("*.csv"):
        rows = pd.read_csv(path)
        assert list(rows.columns)[0] == "classification"
        assert (rows["classification"] == "TERBATAS / RESTRICTED").all()


def test_invalid_data_exits_2_keeps_a_failed_folder_and_never_becomes_latest(tmp_path, dataset):
    bad = tmp_path / "bad"
    t = base_tables()
    t["appraisals"].loc[0, "hasil_kerja"] = "Luar Biasa"
    write_dataset(bad, t)
    out = tmp_path / "out"
    res = run_pipeline(DEFAULT, data=bad, out_root=out, echo=quiet)
    assert res.exit_code == 2 and res.status == "invalid_data"
    assert res.run_dir.name.endswith(".failed")
    m = json.loads((res.run_dir / "manifest.json").read_text())
    assert m["status"] == "invalid_data" and "error" in m["error"]
    report = pd.read_csv(res.run_dir / "validation.csv")
    assert ((report["table"] == "appraisals") & (report["column"] == "hasil_kerja")).any()
    assert not (res.run_dir / "results").exists() and not (res.run_dir / "tables").exists()
    assert not (out / "latest").exists()


def test_missing_dataset_folder_is_bad_data(tmp_path):
    res = run_pipeline(DEFAULT, data=tmp_path / "nowhere", out_root=tmp_path / "out", echo=quiet)
    assert res.exit_code == 2


def test_bad_params_exit_2_before_anything_is_written(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("extends: %s\nfdr: 2\n" % DEFAULT)
    messages = []
    res = run_pipeline(p, out_root=tmp_path / "out", echo=messages.append)
    assert res.exit_code == 2 and res.run_dir is None
    assert "fdr" in "\n".join(messages)
    assert not (tmp_path / "out").exists()


def test_unknown_notebook_in_only_is_bad_params(tmp_path):
    res = run_pipeline(DEFAULT, only="07", out_root=tmp_path / "out", echo=quiet)
    assert res.exit_code == 2


def test_period_not_in_the_data_is_bad_params(tmp_path, dataset):
    p = tmp_path / "p.yaml"
    p.write_text(f"extends: {DEFAULT}\nperiods: ['2019']\n")
    res = run_pipeline(p, data=dataset, out_root=tmp_path / "out", echo=quiet)
    assert res.exit_code == 2 and "2019" in res.message


def test_failing_notebook_exits_1_names_it_and_is_kept_as_failed(tmp_path, dataset, monkeypatch):
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('run_dir = "."', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell('raise ValueError("the unit table has no region")'),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, nbdir / "01_appraisal_outcomes.ipynb")
    monkeypatch.setattr(runmod, "notebooks_dir", lambda: nbdir)
    out = tmp_path / "out"
    messages = []
    res = run_pipeline(DEFAULT, data=dataset, out_root=out, echo=messages.append)
    assert res.exit_code == 1 and res.status == "failed"
    assert res.run_dir.name.endswith(".failed")
    text = "\n".join(messages)
    assert "01_appraisal_outcomes" in text and "ValueError: the unit table has no region" in text
    assert "Traceback" not in text
    m = json.loads((res.run_dir / "manifest.json").read_text())
    assert m["steps"][0]["status"] == "failed" and "ValueError" in m["steps"][0]["error"]
    assert not (out / "latest").exists()


def test_step_without_its_tables_is_skipped_and_the_run_goes_on(tmp_path, dataset, monkeypatch):
    fake = steps.Step("09_needs_feedback", requires=("feedback_360",))
    monkeypatch.setattr(steps, "STEPS", (fake,))
    data = tmp_path / "d"
    t = {k: v for k, v in base_tables().items() if k != "feedback_360"}
    write_dataset(data, t)
    res = run_pipeline(DEFAULT, data=data, out_root=tmp_path / "out", echo=quiet)
    assert res.exit_code == 0
    doc = json.loads((res.run_dir / "results" / "09_needs_feedback.json").read_text())
    assert doc["status"] == "skipped" and "feedback_360" in doc["reason"]
    m = json.loads((res.run_dir / "manifest.json").read_text())
    assert m["steps"][0]["status"] == "skipped"


def test_notebook_says_which_sections_it_skipped_when_optional_tables_are_absent(tmp_path):
    data = tmp_path / "d"
    write_dataset(data, {k: v for k, v in base_tables().items() if k in ("units", "employees", "appraisals")})
    res = run_pipeline(DEFAULT, data=data, out_root=tmp_path / "out", echo=quiet)
    assert res.exit_code == 0, res.message
    doc = json.loads((res.run_dir / "results" / "01_appraisal_outcomes.json").read_text())
    assert doc["status"] == "ok"
    assert doc["sections"]["compliance"].startswith("skipped") and "org_ratings" in doc["sections"]["compliance"]
    assert doc["sections"]["schemes"].startswith("skipped")
    # the brief is still written, and says which of its sections had no notebook to read
    for nb in ("03_competency_gaps", "04_rollout_evaluation"):
        assert json.loads((res.run_dir / "results" / f"{nb}.json").read_text())["status"] == "skipped"
    brief = json.loads((res.run_dir / "results" / "05_policy_brief.json").read_text())["values"]["languages"]
    for lang in ("id", "en"):
        assert brief[lang]["sections"]["training"] == brief[lang]["sections"]["rollout"] == "skipped"
        assert brief[lang]["sections"]["appraisal"] == "ok"
        assert (res.run_dir / "brief" / f"brief_{lang}.pdf").read_bytes()[:5] == b"%PDF-"
    assert "rollout" in (res.run_dir / "brief" / "brief_en.html").read_text()


# SIGTERM and SIGINT during a notebook, and two runs into one folder: tests/pipeline/test_faults.py


def test_folder_of_a_run_that_was_killed_becomes_interrupted(tmp_path):
    out = tmp_path / "out"
    tmp = out / f"{TMP_PREFIX}20260101T000000Z_default"
    tmp.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp / ".pid").write_text(str(dead.pid))
    (tmp / "manifest.json").write_text(json.dumps({"status": "running", "error": None}))
    renamed = mark_abandoned(out)
    assert [p.name for p in renamed] == ["20260101T000000Z_default.interrupted"]
    assert json.loads((renamed[0] / "manifest.json").read_text())["status"] == "interrupted"


def test_folder_of_a_run_still_going_is_left_alone(tmp_path):
    out = tmp_path / "out"
    tmp = out / f"{TMP_PREFIX}20260101T000000Z_default"
    tmp.mkdir(parents=True)
    (tmp / ".pid").write_text(str(os.getpid()))
    assert mark_abandoned(out) == [] and tmp.exists()


def test_a_long_notebook_says_which_cell_is_running(tmp_path):
    import json as _json

    from analysis.pipeline.run import Heartbeat, running_cell

    nb = tmp_path / "03.ipynb"
    cells = [{"cell_type": "markdown", "source": "# Gaps", "metadata": {}},
             {"cell_type": "code", "source": "gap = sections.gaps_section(...)",
              "metadata": {"papermill": {"status": "completed"}}},
             {"cell_type": "code", "source": "plans = sections.plans_section(gap, target)\nshown = 1",
              "metadata": {"papermill": {"status": "running"}}},
             {"cell_type": "code", "source": "ctx.save_results('03')", "metadata": {"papermill": {"status": "pending"}}}]
    nb.write_text(_json.dumps({"cells": cells}), encoding="utf-8")
    assert running_cell(nb) == "cell 2 of 3: plans = sections.plans_section(gap, target)"
    assert running_cell(tmp_path / "missing.ipynb") is None
    said = []
    with Heartbeat(nb, "[3/5] 03", said.append, every=0.05):
        import time as _time
        _time.sleep(0.3)
    assert said and all(m.startswith("[3/5] 03: still running after") and m.endswith("plans_section(gap, target)")
                        for m in said)
