"""What changed since the previous report (pipeline.changes) and the brief's section on it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis.pipeline import changes
from analysis.report.brief import changes_block
from analysis.report.facts import Facts

UNITS = [("U1", "Dinas Pendidikan", "Alak"), ("U2", "Dinas Kesehatan", "Alak"), ("U3", "RSUD", "Palu"),
         ("U4", "Puskesmas Palu", "Palu")]


def make_run(root: Path, run_id: str, started: str, compliant: dict[str, bool], values: dict, *,
             status: str = "success", name: str = "default", period: str = "2025") -> Path:
    folder = root / run_id
    (folder / "results").mkdir(parents=True)
    (folder / "tables").mkdir()
    (folder / "manifest.json").write_text(json.dumps({"run_id": run_id, "status": status, "started_at": started,
                                                      "params": {"name": name}}))
    rows = [{"unit_id": u, "unit_name": n, "region": r, "period": p, "compliant": compliant[u]}
            for u, n, r in UNITS for p in ("2024", period)]
    pd.DataFrame(rows).to_csv(folder / "tables" / "distribution_compliance.csv", index=False)
    for notebook, v in values.items():
        (folder / "results" / f"{notebook}.json").write_text(json.dumps({"values": v}))
    return folder


def values(lenient: int, gap: float, reached: int, ikm: float) -> dict:
    return {"01_appraisal_outcomes": {"compliance": {"share_non_compliant": 0.1}},
            "02_rater_bias": {"flags": {"flagged": {"lenient": lenient, "severe": 9, "central_tendency": 3,
                                                    "halo": 7}}},
            "03_competency_gaps": {"gaps": {"share_with_gap": gap},
                                   "plans": {"plan": {"people_reached": reached, "needs_covered": 50, "needs": 100}}},
            "04_rollout_evaluation": {"ikm": {"overall_att": {"estimate": ikm, "ci_low": ikm - 0.3,
                                                              "ci_high": ikm + 0.3}}}}


def test_units_newly_breaking_and_within_the_bounds_are_counted_by_region_and_named(tmp_path):
    then = make_run(tmp_path, "r1", "2026-05-01T02:00:00Z", {"U1": True, "U2": False, "U3": True, "U4": True},
                    values(12, 0.6, 2800, 1.5))
    now = make_run(tmp_path, "r2", "2026-06-01T02:00:00Z", {"U1": False, "U2": True, "U3": False, "U4": True},
                   values(15, 0.55, 2900, 1.7), period="2025")
    got = changes.compare(then, now)
    b = got["bounds"]
    assert b["newly_breaking"] == 2 and b["newly_within"] == 1 and b["units_compared"] == 4
    assert b["by_region"] == [{"region": "Alak", "newly_breaking": 1, "newly_within": 1},
                              {"region": "Palu", "newly_breaking": 1, "newly_within": 0}]
    assert [u["unit_name"] for u in b["units_newly_breaking"]] == ["Dinas Pendidikan", "RSUD"]
    assert b["breaking"] == {"then": 1, "now": 2, "difference": 1}
    assert got["raters"]["lenient"] == {"then": 12, "now": 15, "difference": 3}
    assert abs(got["share_with_gap"]["difference"] + 0.05) < 1e-12
    assert got["plan_people_reached"] == {"then": 2800, "now": 2900, "difference": 100}
    assert abs(got["ikm_effect"]["difference"] - 0.2) < 1e-12 and got["ikm_effect"]["then"]["ci_low"] == 1.2


def test_the_previous_report_is_the_latest_success_of_the_same_params_name(tmp_path):
    v = values(1, 0.5, 1, 1.0)
    ok = {u: True for u, _, _ in UNITS}
    make_run(tmp_path, "a", "2026-01-01T00:00:00Z", ok, v)
    b = make_run(tmp_path, "b", "2026-02-01T00:00:00Z", ok, v)
    make_run(tmp_path, "c", "2026-03-01T00:00:00Z", ok, v, status="failed")
    make_run(tmp_path, "d", "2026-04-01T00:00:00Z", ok, v, name="provinsi")
    current = make_run(tmp_path, "e", "2026-05-01T00:00:00Z", ok, v)
    assert changes.previous_comparable(tmp_path, current, "default").folder == b.resolve()
    assert changes.previous_comparable(tmp_path, current, "kota") is None
    written = changes.write_changes(current, tmp_path, "default")
    doc = json.loads(written.read_text())
    assert doc["notebook"] == "06_changes" and doc["values"]["previous_run"] == "b"
    assert changes.write_changes(current, tmp_path, "kota") is None  # a first report: no file


def _facts(lang: str, v: dict) -> Facts:
    return Facts({"06_changes": {"status": "ok", "values": v}}, lang, min_cell=5)


def test_the_brief_section_gives_both_values_and_the_difference(tmp_path):
    then = make_run(tmp_path, "r1", "2026-05-01T02:00:00Z", {"U1": True, "U2": False, "U3": True, "U4": True},
                    values(12, 0.6, 2800, 1.5))
    now = make_run(tmp_path, "r2", "2026-06-01T02:00:00Z", {"U1": False, "U2": True, "U3": False, "U4": True},
                   values(3, 0.55, 2900, 1.7))
    v = {"previous_run": "r1", "previous_started_at": "2026-05-01T02:00:00Z", **changes.compare(then, now)}
    block = changes_block(_facts("id", v))
    text = " ".join(str(x) for x in block.bullets)
    assert block.title == "Sejak laporan sebelumnya (2026-05-01)"
    assert "Dinas Pendidikan" in text and "RSUD" in text
    assert "60,0%" in text and "55,0%" in text and "-5,0 poin persen" in text  # Indonesian numbers
    assert "2.800" in text and "2.900" in text and "+100" in text
    assert "&lt;5" in text and "+9" not in text and "-9" not in text  # 3 lenient raters: small, no difference
    en = " ".join(str(x) for x in changes_block(_facts("en", v)).bullets)
    assert "Since the previous report" in changes_block(_facts("en", v)).title and "-5.0 pp" in en
    assert changes_block(Facts({}, "id")) is None  # no previous report: no section


def test_a_unit_without_an_org_predikat_is_not_newly_within(tmp_path):
    v = values(1, 0.5, 1, 1.0)
    then = make_run(tmp_path, "r1", "2026-05-01T02:00:00Z", {"U1": False, "U2": True, "U3": True, "U4": True}, v)
    now = make_run(tmp_path, "r2", "2026-06-01T02:00:00Z", {"U1": None, "U2": True, "U3": True, "U4": True}, v)
    b = changes.compare(then, now)["bounds"]
    assert b["newly_within"] == 0 and b["units_compared"] == 3
