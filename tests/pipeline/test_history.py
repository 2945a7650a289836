"""Scheduled-run behaviour: run history, --if-changed, retention and notifications (pipeline.history,
pipeline.notify), on real runs of a one-step pipeline whose notebook is skipped (no kernel: fast)."""

from __future__ import annotations

import json
import os
import sys

import pytest
import yaml

from analysis.cli import main
from analysis.core.params import Retention, load_params
from analysis.pipeline import history, steps
from analysis.pipeline.run import run_pipeline
from conftest import ROOT
from corpus.builders import base_tables, write_dataset

DEFAULT = ROOT / "params" / "default.yaml"


@pytest.fixture(autouse=True)
def _quick_pipeline(monkeypatch, test_key):
    """One step that needs a table the data lacks: the run validates, skips it and succeeds in seconds."""
    monkeypatch.setattr(steps, "STEPS", (steps.Step("09_needs_feedback", requires=("feedback_360",)),))


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    write_dataset(folder, {k: v for k, v in base_tables().items() if k != "feedback_360"})
    return folder


def params_file(tmp_path, **extra) -> str:
    doc = yaml.safe_load(DEFAULT.read_text(encoding="utf-8")) | extra
    path = tmp_path / f"p{len(list(tmp_path.glob('p*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return str(path)


def run(params, data, out, **kw):
    return run_pipeline(params, data=data, out_root=out, echo=lambda m: None, **kw)


def test_if_changed_does_nothing_when_inputs_and_params_are_the_same(tmp_path, data):
    out = tmp_path / "out"
    first = run(DEFAULT, data, out)
    assert first.exit_code == 0 and first.status == "success"
    said = []
    same = run_pipeline(DEFAULT, data=data, out_root=out, echo=said.append, if_changed=True)
    assert same.exit_code == 0 and same.status == "unchanged" and same.run_dir == first.run_dir.resolve()
    assert any("Nothing changed" in m and first.run_dir.name in m for m in said)
    assert len(history.read_runs(out)) == 1  # no new folder
    # a changed input file, or changed params, make it run
    employees = data / "employees.csv"
    employees.write_text(employees.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert run(DEFAULT, data, out, if_changed=True).status == "success"
    assert run(params_file(tmp_path, alpha=0.01), data, out, if_changed=True).status == "success"
    assert run(DEFAULT, data, out, if_changed=False).status == "success"  # without the flag: always
    assert len(history.read_runs(out)) == 4


def test_history_lists_runs_newest_first_with_status_and_fingerprints(tmp_path, data, capsys):
    out = tmp_path / "out"
    ok = run(DEFAULT, data, out)
    bad = tmp_path / "bad"
    write_dataset(bad, {k: v for k, v in base_tables().items() if k != "employees"})
    failed = run(DEFAULT, bad, out)
    assert failed.status == "invalid_data"
    records = history.read_runs(out)
    assert [r.status for r in records] == ["invalid_data", "success"]
    assert records[1].run_id == ok.run_dir.name and records[1].seconds > 0
    assert records[1].data_fingerprint and records[0].data_fingerprint != records[1].data_fingerprint
    assert records[0].error and "error" in records[0].error
    assert main(["history", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.index("invalid_data") < text.index("success") and ok.run_dir.name in text
    assert main(["history", "--out", str(out), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in rows] == ["invalid_data", "success"] and "share_with_gap" in rows[0]


def test_headlines_come_from_the_results_files(tmp_path):
    folder = tmp_path / "r"
    (folder / "results").mkdir(parents=True)
    (folder / "results" / "02_rater_bias.json").write_text(json.dumps(
        {"values": {"flags": {"flagged": {"lenient": 3, "severe": 4, "central_tendency": 0, "halo": 1}}}}))
    (folder / "results" / "03_competency_gaps.json").write_text(json.dumps(
        {"values": {"gaps": {"share_with_gap": 0.25}, "plans": {"plan": {"people_reached": 120}}}}))
    got = history.headlines(folder)
    assert got["raters_lenient"] == 3 and got["raters_halo"] == 1 and got["share_with_gap"] == 0.25
    assert got["plan_people_reached"] == 120
    assert got["ikm_effect"] is None and got["share_units_breaking_bounds"] is None  # a notebook not run


def _fake_run(root, name, status, started):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"run_id": name.split(".")[0], "status": status,
                                                       "started_at": started}))
    return folder


def test_retention_keeps_the_newest_latest_and_the_trend(tmp_path):
    root = tmp_path / "out"
    good = [_fake_run(root, f"2026010{i}T000000Z_default", "success", f"2026-01-0{i}T00:00:00Z")
            for i in range(1, 7)]
    bad = [_fake_run(root, f"2026011{i}T000000Z_default.failed", "failed", f"2026-01-1{i}T00:00:00Z")
           for i in range(1, 4)]
    running = _fake_run(root, ".tmp-20260120T000000Z_default", "running", "2026-01-20T00:00:00Z")
    (root / "latest").symlink_to(good[0].name)  # latest pointing at the oldest: never removed
    records = history.read_runs(root)
    plan = history.prune_plan(records, Retention(keep_successful=2, keep_failed=1, trend_runs=3),
                              history.latest_target(root))
    assert sorted(r.folder.name for r in plan) == sorted([good[1].name, good[2].name, bad[0].name, bad[1].name])
    # dry run removes nothing; then the removal
    assert {r.folder.name for r in history.prune(root, Retention(keep_successful=2, keep_failed=1, trend_runs=3),
                                                 dry_run=True)} == {r.folder.name for r in plan}
    assert all(r.folder.exists() for r in plan)
    history.prune(root, Retention(keep_successful=2, keep_failed=1, trend_runs=3))
    left = sorted(p.name for p in root.iterdir())
    assert left == sorted([".tmp-20260120T000000Z_default", "latest", good[0].name, good[3].name, good[4].name,
                           good[5].name, bad[2].name])
    assert running.exists()
    assert history.prune_plan(history.read_runs(root), Retention(), None) == []  # the default keeps all


def test_prune_command_shows_what_it_would_remove(tmp_path, capsys):
    root = tmp_path / "out"
    for i in range(1, 4):
        _fake_run(root, f"2026010{i}T000000Z_default", "success", f"2026-01-0{i}T00:00:00Z")
    p = params_file(tmp_path, retention={"keep_successful": 2, "trend_runs": 2})
    assert main(["prune", "--params", p, "--out", str(root), "--dry-run"]) == 0
    assert "Would remove 20260101T000000Z_default" in capsys.readouterr().out
    assert (root / "20260101T000000Z_default").exists()
    assert main(["prune", "--params", p, "--out", str(root)]) == 0
    assert not (root / "20260101T000000Z_default").exists()
    assert main(["prune", "--params", str(DEFAULT), "--out", str(root)]) == 0
    assert "nothing to remove" in capsys.readouterr().out


def test_a_run_applies_its_retention(tmp_path, data):
    out = tmp_path / "out"
    p = params_file(tmp_path, retention={"keep_successful": 1, "trend_runs": 2})
    for _ in range(3):
        assert run(p, data, out).status == "success"
    assert len([r for r in history.read_runs(out) if r.succeeded]) == 2  # the trend's two


def test_notifier_gets_the_run_in_its_environment_and_cannot_change_its_status(tmp_path, data):
    out = tmp_path / "out"
    seen = tmp_path / "seen.json"
    dump = f"{sys.executable} -c \"import json,os; json.dump({{k: v for k, v in os.environ.items() " \
           f"if k.startswith('WORKBENCH_')}}, open('{seen}', 'w'))\""
    ok = run(params_file(tmp_path, notify={"on_success": dump}), data, out)
    env = json.loads(seen.read_text())
    assert env["WORKBENCH_STATUS"] == "success" and env["WORKBENCH_RUN_DIR"] == str(ok.run_dir)
    assert env["WORKBENCH_RUN_ID"] == ok.run_dir.name and env["WORKBENCH_ERROR"] == ""
    # on failure: the one-line error; a failing notifier is logged and the run's status stays
    bad = tmp_path / "bad"
    write_dataset(bad, {k: v for k, v in base_tables().items() if k != "employees"})
    said = []
    failing = params_file(tmp_path, notify={"on_failure": f"{dump} && exit 7", "on_success": "exit 3"})
    res = run_pipeline(failing, data=bad, out_root=out, echo=said.append)
    assert res.status == "invalid_data" and res.exit_code == 2
    env = json.loads(seen.read_text())
    assert env["WORKBENCH_STATUS"] == "invalid_data" and "error" in env["WORKBENCH_ERROR"]
    assert any("notifier failed" in m for m in said)
    assert run(failing, data, out).status == "success"  # its on_success exits 3: still a success
    log = (out / "notify.log").read_text()
    assert "exit 7" in log and "exit 3" in log


def test_a_hanging_notifier_is_stopped_at_its_timeout(tmp_path, data):
    p = params_file(tmp_path, notify={"on_success": f"{sys.executable} -c \"import time; time.sleep(30)\"",
                                      "timeout_seconds": 1})
    said = []
    res = run_pipeline(p, data=data, out_root=tmp_path / "out", echo=said.append)
    assert res.status == "success" and any("stopped after 1 s" in m for m in said)


def test_retention_and_notify_params_are_checked():
    from analysis.core.params import ParamsError

    for bad in ({"retention": {"keep_successful": 0}}, {"notify": {"on_success": ""}},
                {"notify": {"timeout_seconds": 0}}, {"retention": {"trend_runs": 1}}):
        with pytest.raises(ParamsError):
            load_params(None, overrides=bad)
    assert os.environ.get("WORKBENCH_STATUS") is None  # the runner's process environment is untouched


def test_every_run_rewrites_the_history_page(tmp_path, data):
    out = tmp_path / "out"
    ok = run(DEFAULT, data, out)
    bad = tmp_path / "bad"
    write_dataset(bad, {k: v for k, v in base_tables().items() if k != "employees"})
    failed = run(DEFAULT, bad, out)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert ok.run_dir.name in page and failed.run_dir.name in page
    assert f'href="{ok.run_dir.name}/manifest.json"' in page  # relative links: works from file://
    assert "invalid_data" in page and failed.message.split(":")[0] in page
    assert "Riwayat laporan" in page and "report history" in page  # both languages
    assert "<script" not in page and "http://" not in page and "https://" not in page  # nothing fetched
    employees = base_tables()["employees"]
    assert not any(str(e) in page for e in employees["employee_id"])  # no NIP
    assert not list(out.glob(".index.html*"))


def test_odd_folders_in_the_output_folder_never_break_a_run(tmp_path, data):
    out = tmp_path / "out"
    for name, text in (("junk-list", "[]"), ("junk-null", "null"), ("junk-types", json.dumps(
            {"status": "success", "params": "x", "dataset": {"files": [1]}, "started_at": 5, "error": 12,
             "duration_seconds": "abc"})), ("junk-bad", "{not json")):
        (out / name).mkdir(parents=True)
        (out / name / "manifest.json").write_text(text)
    (out / "a-file.txt").write_text("not a run")
    (out / "dangling").symlink_to(tmp_path / "nowhere")
    first = run(DEFAULT, data, out)
    assert first.status == "success" and first.exit_code == 0
    assert run(DEFAULT, data, out, if_changed=True).status == "unchanged"
    ids = [r.run_id for r in history.read_runs(out)]
    assert first.run_dir.name in ids and "junk-list" not in ids and "junk-bad" not in ids
    assert main(["history", "--out", str(out)]) == 0


def test_a_run_cut_off_before_its_rename_is_not_the_latest_success(tmp_path, data):
    out = tmp_path / "out"
    ok = run(DEFAULT, data, out)
    (out / "latest").unlink()
    ok.run_dir.rename(out / f".tmp-{ok.run_dir.name}")  # killed between the manifest and the rename
    assert [r.status for r in history.read_runs(out)] == ["interrupted"]
    assert run(DEFAULT, data, out, if_changed=True).status == "success"  # runs, not "unchanged"


def test_if_changed_runs_when_other_notebooks_are_asked_for(tmp_path, data, monkeypatch):
    out = tmp_path / "out"
    assert run(DEFAULT, data, out).status == "success"
    monkeypatch.setattr(steps, "STEPS", (steps.Step("09_needs_feedback", requires=("feedback_360",)),
                                         steps.Step("10_needs_more", requires=("feedback_360",))))
    assert run(DEFAULT, data, out, if_changed=True).status == "success"


def test_retention_never_removes_the_run_that_just_ended(tmp_path, data):
    out = tmp_path / "out"
    bad = tmp_path / "bad"
    write_dataset(bad, {k: v for k, v in base_tables().items() if k != "employees"})
    res = run(params_file(tmp_path, retention={"keep_failed": 0}), bad, out)
    assert res.status == "invalid_data" and res.run_dir.exists()


def test_the_notifier_never_sees_the_key_and_odd_output_cannot_break_the_run(tmp_path, data):
    seen = tmp_path / "env.json"
    dump = f"{sys.executable} -c \"import json,os; json.dump(dict(os.environ), open('{seen}', 'w'))\"; " \
           "printf '\\377\\376'; printf '\\377' >&2; exit 4"
    said = []
    res = run_pipeline(params_file(tmp_path, notify={"on_success": dump}), data=data, out_root=tmp_path / "out",
                       echo=said.append)
    assert res.status == "success" and any("notifier failed" in m for m in said)
    env = json.loads(seen.read_text())
    assert "WORKBENCH_PSEUDONYM_KEY" not in env and env["WORKBENCH_STATUS"] == "success"


def test_a_timeout_stops_the_notifiers_whole_pipeline(tmp_path, data):
    import time

    marker = tmp_path / "still-running"
    slow = f"{sys.executable} -c \"import time; time.sleep(4); open('{marker}', 'w')\" | cat"
    t0 = time.monotonic()
    res = run_pipeline(params_file(tmp_path, notify={"on_success": slow, "timeout_seconds": 1}), data=data,
                       out_root=tmp_path / "out", echo=lambda m: None)
    assert res.status == "success"
    time.sleep(4.5 - (time.monotonic() - t0) if time.monotonic() - t0 < 4.5 else 0)
    assert not marker.exists()  # the sleeping child was stopped with its shell


def test_prune_waits_for_no_run_it_would_race(tmp_path, capsys):
    import fcntl

    root = tmp_path / "out"
    for i in range(1, 4):
        _fake_run(root, f"2026010{i}T000000Z_default", "success", f"2026-01-0{i}T00:00:00Z")
    p = params_file(tmp_path, retention={"keep_successful": 1, "trend_runs": 2})
    fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.pwrite(fd, b"4242\n", 0)
        assert main(["prune", "--params", p, "--out", str(root)]) == 3
        assert "process 4242" in capsys.readouterr().out
        assert (root / "20260101T000000Z_default").exists()  # nothing removed under a running run
    finally:
        os.close(fd)
    assert main(["prune", "--params", p, "--out", str(root)]) == 0
    assert not (root / "20260101T000000Z_default").exists()
