"""Tests of the synthetic dataset generator (analysis.synth)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import synth
from analysis.core import codes
from analysis.data import nip
from analysis.data.contract import TABLES
from analysis.data.validation import load_dataset
from analysis.synth import SynthConfig, generate, write, writer

N = 1500
SEED = 7
MATRIX = {  # PermenPANRB 6/2022, written out again here on purpose (independent of the generator)
    ("di_atas", "di_atas"): "sangat_baik", ("di_atas", "sesuai"): "baik", ("di_atas", "di_bawah"): "kurang",
    ("sesuai", "di_atas"): "baik", ("sesuai", "sesuai"): "baik", ("sesuai", "di_bawah"): "kurang",
    ("di_bawah", "di_atas"): "butuh_perbaikan", ("di_bawah", "sesuai"): "butuh_perbaikan",
    ("di_bawah", "di_bawah"): "sangat_kurang",
}


@pytest.fixture(scope="module")
def generated():
    return generate(SynthConfig(employees=N, seed=SEED))


@pytest.fixture(scope="module")
def folder(generated, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "dataset"
    write(*generated, out, fmt="csv")
    return out


@pytest.fixture(scope="module")
def loaded(folder):
    return load_dataset(folder)


@pytest.fixture(scope="module")
def truth(folder) -> dict:
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))


# --- determinism, size, validity ----------------------------------------------------

def test_same_seed_gives_identical_tables(generated):
    tables, truth = generate(SynthConfig(employees=N, seed=SEED))
    assert list(tables) == list(generated[0])
    for name, df in tables.items():
        pd.testing.assert_frame_equal(df, generated[0][name], obj=name)
    assert json.dumps(truth, sort_keys=True) == json.dumps(generated[1], sort_keys=True)


def test_different_seed_gives_different_tables(generated):
    tables, _ = generate(SynthConfig(employees=N, seed=SEED + 1))
    assert not tables["employees"]["employee_id"].equals(generated[0]["employees"]["employee_id"])
    assert not tables["feedback_360"]["score"].equals(generated[0]["feedback_360"]["score"])


def test_exactly_n_employees(generated, loaded):
    assert len(generated[0]["employees"]) == N
    assert len(loaded.tables["employees"]) == N
    assert generated[1]["generator"]["employees"] == N


def test_too_few_employees_is_refused():
    with pytest.raises(ValueError):
        generate(SynthConfig(employees=100))


def test_every_table_written_and_loaded(generated, folder, loaded):
    # the sample has no training history: its runs show the plans as they are without one
    tables = set(TABLES) - {"training_history"}
    assert set(generated[0]) == tables
    assert {p.name for p in folder.iterdir()} == {f"{t}.csv" for t in tables} | {"truth.json"}
    assert set(loaded.tables) == tables
    for name, df in generated[0].items():  # optional columns are filled too
        assert list(df.columns) == [c.name for c in TABLES[name].columns], name


def test_validates_with_only_the_planted_warnings(loaded, truth):
    report = loaded.report
    assert report.n_errors == 0, report.summary().to_string()
    problems = report.to_frame()
    assert len(problems) == len(truth["planted_warnings"]) == 3
    assert set(problems["check"]) == {"dangling_reference"}
    assert set(problems["table"]) == {"appraisals"} and set(problems["column"]) == {"employee_id"}
    assert set(problems["value"]) == {w["employee_id"] for w in truth["planted_warnings"]}


def test_csv_text_format(folder):
    raw = (folder / "employees.csv").read_bytes()
    text = raw.decode("utf-8")  # UTF-8
    header = text.splitlines()[0]
    assert header.replace('"', "").split(",")[:3] == ["employee_id", "unit_id", "position_class"]
    emp = pd.read_csv(folder / "employees.csv", dtype=str, keep_default_na=False)
    assert emp["employee_id"].str.fullmatch(r"\d{18}").all()  # NIPs as text, never floats
    assert emp["birth_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    so = pd.read_csv(folder / "service_outcomes.csv", dtype=str, keep_default_na=False)
    assert (so["processing_days"] == "").any()  # missing values are empty cells
    ro = pd.read_csv(folder / "rollout.csv", dtype=str, keep_default_na=False)
    assert (ro["adopted_period"] == "").any()
    fb = pd.read_csv(folder / "feedback_360.csv", dtype=str, keep_default_na=False)
    assert fb["rater_id"].str.fullmatch(r"\d{18}").all()


# --- people -----------------------------------------------------------------------

def test_nips_valid_and_agree_with_gender_and_birth_date(loaded):
    emp = loaded.tables["employees"]
    ids = emp["employee_id"]
    assert ids.is_unique
    assert nip.check(ids).isna().all()
    assert (nip.genders(ids) == emp["gender"]).all()
    assert (nip.birth_dates(ids) == emp["birth_date"]).all()
    appt = ids.str.slice(8, 14)
    assert (emp["hire_date"].dt.strftime("%Y%m") == appt).all()
    assert (emp["hire_date"].dt.day == 1).all()
    age = 2025 - emp["birth_date"].dt.year
    assert age.between(21, 58).all()
    at_appointment = emp["hire_date"].dt.year - emp["birth_date"].dt.year
    assert at_appointment.between(20, 35).all()
    pppk = emp["employment_type"] == "PPPK"
    assert emp.loc[pppk, "hire_date"].dt.year.between(2019, 2024).all()
    assert emp.loc[pppk, "grade"].isin(["V", "VII", "VIII", "IX", "X", "XI"]).all()
    assert emp.loc[~pppk, "grade"].str.fullmatch(r"I[IV]+/[a-d]").all()
    assert emp["name"].notna().all() and emp["education"].isin(["SMA", "D3", "S1", "S2", "S3"]).all()


def test_position_class_shares_realistic(loaded):
    emp = loaded.tables["employees"]
    fam = emp["job_family"].value_counts(normalize=True)
    cls = emp["position_class"].value_counts(normalize=True)
    assert 0.35 < fam["guru"] < 0.55 and 0.12 < fam["kesehatan"] < 0.28
    assert fam["guru"] + fam["kesehatan"] > 0.5
    assert 0.12 < cls["pelaksana"] < 0.30
    assert cls.reindex(list(codes.STRUCTURAL_CLASSES)).fillna(0).sum() < 0.10
    assert (emp["position_class"] == "jpt_madya").sum() == 1
    assert 0.15 < (emp["employment_type"] == "PPPK").mean() < 0.35
    assert set(emp["job_family"]) <= {"guru", "kesehatan", "administrasi", "keuangan", "perencanaan", "teknik",
                                      "penyuluhan", "kependudukan", "pemerintahan", "pengawasan", "kepegawaian"}
    units = loaded.tables["units"]
    assert set(units["region"]) == {"Alak", "Palu", "Rakumpit", "Andir", "Polonia"}
    assert units["unit_id"].str.fullmatch(r"U\d{4}").all()
    assert {"setda", "dinas", "badan", "inspektorat", "rsud", "kecamatan", "kelurahan", "puskesmas",
            "sekolah"} == set(units["unit_type"])


def test_every_employee_but_the_sekda_has_one_supervisor(loaded):
    emp = loaded.tables["employees"].set_index("employee_id")
    app = loaded.tables["appraisals"]
    sekda = emp.index[emp["position_class"] == "jpt_madya"][0]
    assert sekda not in set(app["employee_id"])
    for period in ("2023", "2024", "2025"):
        a = app[app["period"] == period]
        expected = set(emp.index[emp["hire_date"] <= pd.Timestamp(f"{period}-09-30")]) - {sekda}
        assert set(a["employee_id"]) == expected  # one appraisal (one rater) each, key is unique
        assert a["rater_id"].isin(emp.index).all() and (a["rater_id"] != a["employee_id"]).all()
        team = a.groupby("rater_id").size()
        assert team.max() <= 25 and team.median() >= 4
        # units have at least five appraised employees
        assert (a["employee_id"].map(emp["unit_id"]).value_counts() >= 5).all()
        assert a["employee_id"].map(emp["unit_id"]).nunique() == len(loaded.tables["units"])


def test_some_staff_change_team_leader_within_their_unit(loaded):
    emp = loaded.tables["employees"].set_index("employee_id")
    app = loaded.tables["appraisals"]
    r = app.pivot(index="employee_id", columns="period", values="rater_id").dropna()
    moved = r["2023"] != r["2024"]
    assert 0.03 < moved.mean() < 0.15
    old_unit = r.loc[moved, "2023"].map(emp["unit_id"])
    new_unit = r.loc[moved, "2024"].map(emp["unit_id"])
    assert (old_unit == new_unit).all()


def test_unit_heads_are_rated_from_outside_their_unit(loaded):
    emp = loaded.tables["employees"].set_index("employee_id")
    units = loaded.tables["units"].set_index("unit_id")
    app = loaded.tables["appraisals"]
    a = app[app["period"] == "2025"].copy()
    a["unit"] = a["employee_id"].map(emp["unit_id"])
    a["rater_unit"] = a["rater_id"].map(emp["unit_id"])
    outside = a[a["unit"] != a["rater_unit"]]
    # exactly one person per unit (its head) is rated from outside, the sekda's unit aside
    per_unit = outside.groupby("unit").size()
    assert (per_unit == 1).all()
    assert len(per_unit) == len(units) - 1
    kinds = units.loc[outside["unit"], "unit_type"].to_numpy()
    school_heads = outside[kinds == "sekolah"]
    assert (school_heads["employee_id"].map(emp["position_class"]) == "ahli_madya").all()
    assert (school_heads["employee_id"].map(emp["job_family"]) == "guru").all()
    rater_unit_names = units.loc[school_heads["rater_unit"], "unit_name"]
    assert rater_unit_names.str.contains("Pendidikan").all()


# --- appraisals and targets --------------------------------------------------------

def test_targets_realistic(loaded):
    tg = loaded.tables["targets"]
    g = tg.groupby(["employee_id", "period"])
    assert g.size().between(3, 6).all()
    assert np.allclose(g["weight"].sum(), 100)
    main = tg["indicator_id"].isin(["IKI-01", "IKI-02"])
    assert (tg["is_main"] == main).all()
    assert 0.12 < (tg["direction"] == "lower").mean() < 0.30
    ratio = np.where(tg["direction"] == "higher", tg["realization"] / tg["target"], tg["target"] / tg["realization"])
    assert 0.95 < np.median(ratio) < 1.05 and (ratio == 1).mean() > 0.2


def test_predikat_reported_and_innovation(loaded, truth):
    app = loaded.tables["appraisals"]
    pred = pd.Series([MATRIX[k] for k in zip(app["hasil_kerja"], app["perilaku_kerja"])], index=app.index)
    mismatch = app[pred != app["predikat_reported"]]
    assert len(mismatch) == len(truth["reported_mismatches"])
    assert 0.005 < len(mismatch) / len(app) < 0.04
    assert set(zip(mismatch["employee_id"], mismatch["period"])) == {
        (m["employee_id"], m["period"]) for m in truth["reported_mismatches"]}
    assert not app.loc[pred != "sangat_baik", "innovation"].any()
    assert 0.03 < app.loc[pred == "sangat_baik", "innovation"].mean() < 0.2


def _recount(loaded) -> set:
    """Distribution-rule violations recounted from the written tables (SE MenPANRB 3/2023)."""
    emp = loaded.tables["employees"].set_index("employee_id")
    app = loaded.tables["appraisals"]
    df = pd.DataFrame({"unit_id": app["employee_id"].map(emp["unit_id"]), "period": app["period"],
                       "p": [MATRIX[k] for k in zip(app["hasil_kerja"], app["perilaku_kerja"])]})
    org = loaded.tables["org_ratings"].set_index(["unit_id", "period"])["org_predikat"]
    found = set()
    for (unit, period), grp in df.groupby(["unit_id", "period"]):
        n = len(grp)
        c = grp["p"].value_counts()
        sb, b, bp, k, sk = (int(c.get(x, 0)) for x in codes.PREDIKAT)
        o = org[(unit, period)]
        tests = {
            "istimewa": {"max_sangat_baik_70": sb * 100 <= 70 * n},
            "baik": {"max_baik_70": b * 100 <= 70 * n, "min_bp_or_kurang_1": bp + k >= 1},
            "butuh_perbaikan": {"min_butuh_perbaikan_60": bp * 100 >= 60 * n, "max_sangat_baik_10": sb * 100 <= 10 * n},
            "kurang": {"min_kurang_60": k * 100 >= 60 * n, "min_butuh_perbaikan_10": bp * 100 >= 10 * n,
                       "max_sangat_baik_10": sb * 100 <= 10 * n},
            "sangat_kurang": {"min_sangat_kurang_60": sk * 100 >= 60 * n, "min_kurang_or_bp_10": (k + bp) * 100 >= 10 * n,
                              "max_sangat_baik_0": sb == 0},
        }[o]
        broken = tuple(sorted(name for name, ok in tests.items() if not ok))
        if broken:
            found.add((unit, period, o, broken))
    return found


def test_distribution_violations_match_an_independent_recount(loaded, truth):
    listed = {(v["unit_id"], v["period"], v["org_predikat"], tuple(sorted(v["bounds"])))
              for v in truth["distribution_violations"]}
    assert listed == _recount(loaded)
    share = len(listed) / len(loaded.tables["org_ratings"])
    assert 0.03 < share < 0.15
    org = loaded.tables["org_ratings"]["org_predikat"].value_counts(normalize=True)
    assert org["baik"] > 0.5


# --- 360 feedback and raters ---------------------------------------------------------

def test_feedback_scores_and_design(loaded):
    fb = loaded.tables["feedback_360"]
    assert fb["score"].between(1, 5).all() and (fb["score"] == fb["score"].round()).all()
    assert set(fb["aspect"]) == set(codes.ASPECTS) and set(fb["period"]) == {"2024", "2025"}
    share34 = fb["score"].isin([3, 4]).mean()
    assert 0.6 < share34 < 0.95
    pairs = fb.groupby(["period", "ratee_id", "rater_id"]).agg(n=("aspect", "nunique"), role=("rater_role", "first"))
    assert (pairs["n"] == 7).all()
    roles = pairs.groupby(["period", "ratee_id"])["role"].value_counts().unstack(fill_value=0)
    assert (roles["self"] == 1).all() and (roles["supervisor"] <= 1).all()
    assert (roles["peer"] <= 3).all() and (roles["subordinate"] <= 3).all()
    means = fb.groupby("rater_role")["score"].mean()
    assert means["self"] > means["peer"] > means["supervisor"]


def test_planted_raters_exist_and_show(loaded, truth):
    fb = loaded.tables["feedback_360"]
    n_ratees = fb.groupby("rater_id")["ratee_id"].nunique()
    kinds = ("lenient", "severe", "halo", "central")
    seen: set = set()
    for kind in kinds:
        rows = truth["raters"][kind]
        ids = [r["rater_id"] for r in rows]
        assert not seen & set(ids)  # a rater has at most one planted kind
        seen |= set(ids)
        assert sum(r["n_ratees_360"] >= 10 for r in rows) >= 2, kind
        assert [r["n_ratees_360"] for r in rows] == n_ratees.reindex(ids).tolist()
    others = fb[fb["rater_role"] != "self"]
    dev = others["score"] - others.groupby(["period", "ratee_id"])["score"].transform("mean")
    by_rater = dev.groupby(others["rater_id"]).mean()
    assert by_rater.reindex([r["rater_id"] for r in truth["raters"]["lenient"]]).mean() > 0.2
    assert by_rater.reindex([r["rater_id"] for r in truth["raters"]["severe"]]).mean() < -0.2
    spread = fb.groupby(["period", "rater_id", "ratee_id"])["score"].std().groupby("rater_id").mean()
    assert spread.reindex([r["rater_id"] for r in truth["raters"]["halo"]]).mean() < 0.5 * spread.mean()
    central = fb[fb["rater_id"].isin([r["rater_id"] for r in truth["raters"]["central"]])]
    assert central["score"].isin([3, 4]).mean() > 0.97
    assert 0.3 < truth["self_inflation"]["observed_mean_shift"] < 0.5


def test_gender_gap_units_are_listed_and_eligible(loaded, truth):
    emp = loaded.tables["employees"]
    gap = truth["gender_gap"]
    assert gap["units"] and gap["disadvantaged"] == "P"
    counts = emp[emp["unit_id"].isin(gap["units"])].groupby("unit_id")["gender"].value_counts().unstack()
    assert (counts.sum(axis=1) >= 30).all() and (counts >= 8).all().all()


# --- competencies --------------------------------------------------------------------

def test_competency_profiles_have_gaps_exactly_on_their_competencies(loaded, truth):
    emp = loaded.tables["employees"].set_index("employee_id")
    ca = loaded.tables["competency_assessments"]
    std = loaded.tables["competency_standards"]
    assert ((ca["level"] * 2) == (ca["level"] * 2).round()).all() and ca["level"].between(1, 5).all()
    latest = ca.sort_values("assessed_on").groupby(["employee_id", "competency_code"])["level"].last().reset_index()
    latest["position_class"] = latest["employee_id"].map(emp["position_class"])
    latest["job_family"] = latest["employee_id"].map(emp["job_family"])
    specific = std[std["job_family"] != "*"]
    generic = std[std["job_family"] == "*"].drop(columns="job_family")
    a = latest.merge(specific, on=["position_class", "job_family", "competency_code"], how="left")
    a = a.merge(generic, on=["position_class", "competency_code"], how="left", suffixes=("", "_any"))
    a["required"] = a["required_level"].fillna(a["required_level_any"])
    assert a["required"].notna().all()
    a["gap"] = a["required"] - a["level"]
    profiles = truth["competency_profiles"]
    member = {e: p for p, ids in profiles["employees"].items() for e in ids}
    assert set(member) == set(emp.index)
    a["profile"] = a["employee_id"].map(member)
    for pid, spec in profiles["profiles"].items():
        comps = spec["competencies"]
        sub = a[a["profile"] == pid]
        assert len(sub), pid
        if pid == "P5":
            in_profile = sub["competency_code"].str.startswith("T.")
        else:
            in_profile = sub["competency_code"].isin(comps)
        assert (sub.loc[in_profile, "gap"].between(1.0, 2.0)).all(), pid
        assert (sub.loc[~in_profile, "gap"] <= 0).all(), pid
    assert (a.loc[a["profile"] == "none", "gap"] <= 0).all()
    assert {"P1", "P2", "P3", "P4", "P5"} == set(profiles["profiles"])
    assert profiles["profiles"]["P1"]["name_en"] == "Communication & Teamwork"
    assigned = sum(len(v) for k, v in profiles["employees"].items() if k != "none")
    assert 0.45 < assigned / len(emp) < 0.7
    never = set(profiles["not_assessed"])
    assert 0.01 < len(never) / len(emp) < 0.06 and not never & set(ca["employee_id"])


# --- rollout and service outcomes ------------------------------------------------------

def test_rollout_and_service_periods(loaded, truth):
    ro = loaded.tables["rollout"]
    cohorts = {"2023Q1", "2023Q3", "2024Q1", "2024Q3", "2025Q1"}
    adopted = ro["adopted_period"].dropna()
    assert set(adopted) <= cohorts
    assert 0.12 < ro["adopted_period"].isna().mean() < 0.4
    assert ro.loc[ro["adopted_period"].notna(), "scheme"].notna().all()
    so = loaded.tables["service_outcomes"]
    quarters = [f"{y}Q{q}" for y in range(2022, 2026) for q in range(1, 5)]
    assert sorted(set(so["period"])) == quarters
    assert len(so) == len(loaded.tables["units"]) * 16
    assert so["ikm"].between(25, 100).all() and so["iku_attainment"].between(0, 200).all()
    out = truth["rollout"]["outcomes"]["ikm"]
    att = {int(k): v for k, v in out["att_by_event_time"].items()}
    assert min(att) == -12 and max(att) == 11
    assert all(v == 0 for k, v in att.items() if k < 0)
    assert 0.5 * 0.6 <= att[0] <= 0.5 * 1.4 and att[11] > att[0]
    assert sum(truth["rollout"]["cohorts"].values()) == len(adopted)


def test_training_catalog(loaded):
    cat = loaded.tables["training_catalog"]
    assert 60 <= len(cat) <= 90
    assert (cat["mode"] == cat["form"].map(codes.TRAINING_FORMS)).all()
    core = list(codes.MANAGERIAL_COMPETENCIES) + list(codes.SOCIOCULTURAL_COMPETENCIES)
    for code in core:
        forms = set(cat.loc[cat["competency_code"] == code, "form"])
        assert forms & {"pelatihan", "workshop"} and forms & {"coaching", "mentoring", "e_learning"}
    assert (cat["min_participants"] <= cat["max_participants"]).all()
    assert cat.loc[cat["form"] == "e_learning", "cost_per_participant"].between(100_000, 250_000).all()


# --- writing ----------------------------------------------------------------------------

def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_write_is_atomic(generated, tmp_path, monkeypatch):
    tables, truth = generated
    out = tmp_path / "data"
    write(tables, truth, out)
    before = _digest(out)
    calls = {"n": 0}
    real = writer.write_csv

    def failing(df, path):
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError("disk full")
        real(df, path)

    monkeypatch.setattr(writer, "write_csv", failing)
    changed = dict(tables, units=tables["units"].assign(unit_name="X"))
    with pytest.raises(OSError):
        write(changed, truth, out)
    assert _digest(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["data"]  # no temporary folder left behind
    monkeypatch.setattr(writer, "write_csv", real)
    write(changed, truth, out)  # a successful write replaces the folder
    assert _digest(out) != before
    assert [p.name for p in tmp_path.iterdir()] == ["data"]


@pytest.fixture(scope="module")
def small():
    return generate(SynthConfig(employees=synth.MIN_EMPLOYEES, seed=SEED))


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_formats_round_trip(small, tmp_path, fmt):
    tables, truth = small
    write(tables, truth, tmp_path / "d", fmt=fmt)
    ds = load_dataset(tmp_path / "d")
    assert ds.report.n_errors == 0, ds.report.summary().to_string()
    assert ds.report.n_warnings == len(truth["planted_warnings"])
    for name, df in tables.items():
        expected = len(df) - (len(truth["planted_warnings"]) if name == "appraisals" else 0)
        assert len(ds.tables[name]) == expected, name
    emp = ds.tables["employees"]
    pd.testing.assert_series_equal(emp["employee_id"].astype(str).reset_index(drop=True),
                                   tables["employees"]["employee_id"].astype(str).reset_index(drop=True),
                                   check_names=False)
    fb = ds.tables["feedback_360"]
    assert (fb["score"].to_numpy() == tables["feedback_360"]["score"].to_numpy()).all()
    assert json.loads((tmp_path / "d" / "truth.json").read_text()) == json.loads(json.dumps(truth))


def test_command_line(tmp_path, capsys):
    from analysis.cli import main

    out = tmp_path / "d"
    assert main(["synth", "--out", str(out), "--employees", str(synth.MIN_EMPLOYEES), "--seed", "3"]) == 0
    assert (out / "truth.json").exists() and (out / "employees.csv").exists()
    assert "truth.json" in capsys.readouterr().out
    assert main(["synth", "--out", str(tmp_path / "e"), "--employees", "10"]) == 2
    assert not (tmp_path / "e").exists()
    assert "at least" in capsys.readouterr().out
