"""Competency gaps: arithmetic on edge cases, target and performance gaps, clusters of profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from analysis.core.params import Params
from analysis.synth.controls import profile_gaps, uniform_gaps
from analysis.training import clusters, gaps

LEVELS = Params().required_levels


def emp(rows):
    return pd.DataFrame(rows, columns=["employee_id", "unit_id", "position_class", "job_family", "employment_type"])


STANDARDS = pd.DataFrame([
    ("administrator", "*", "M.01", 3), ("administrator", "*", "M.02", 3),
    ("administrator", "keuangan", "M.02", 4),          # the family's own row overrides '*'
    ("administrator", "keuangan", "T.keuangan.1", 3),
    ("ahli_muda", "*", "M.01", 2),
], columns=["position_class", "job_family", "competency_code", "required_level"])


def assess(rows):
    df = pd.DataFrame(rows, columns=["employee_id", "assessed_on", "competency_code", "level"])
    df["assessed_on"] = pd.to_datetime(df["assessed_on"])
    return df


def test_family_standard_overrides_the_any_family_row():
    e = emp([["A", "U1", "administrator", "keuangan", "PNS"], ["B", "U1", "administrator", "umum", "PNS"]])
    req = gaps.required_levels(e, STANDARDS).set_index(["employee_id", "competency_code"])["required_level"]
    assert req[("A", "M.02")] == 4 and req[("B", "M.02")] == 3
    assert ("A", "T.keuangan.1") in req.index and ("B", "T.keuangan.1") not in req.index


def test_latest_assessment_counts_and_same_day_ones_are_averaged():
    a = assess([["A", "2023-01-01", "M.01", 1.0], ["A", "2024-05-01", "M.01", 2.5],
                ["A", "2024-05-01", "M.01", 3.5], ["A", "2022-01-01", "M.02", 4.0]])
    latest = gaps.latest_assessments(a).set_index("competency_code")
    assert latest.loc["M.01", "level"] == 3.0 and latest.loc["M.01", "n_assessments"] == 3
    assert latest.loc["M.02", "level"] == 4.0


def test_gap_is_required_minus_assessed_with_decimals_and_missing_is_not_zero():
    e = emp([["A", "U1", "administrator", "keuangan", "PNS"]])
    a = assess([["A", "2024-01-01", "M.01", 1.5], ["A", "2024-01-01", "M.02", 4.5]])
    g = gaps.gaps_for(e, STANDARDS, a, LEVELS).set_index("competency_code")
    assert g.loc["M.01", "gap"] == 1.5 and g.loc["M.01", "status"] == "gap"
    assert g.loc["M.02", "gap"] == 0 and g.loc["M.02", "gap_raw"] == -0.5 and g.loc["M.02", "status"] == "meets"
    assert g.loc["T.keuangan.1", "status"] == "not_assessed" and pd.isna(g.loc["T.keuangan.1", "gap"])


def test_class_without_a_standard_is_reported_not_silently_gapless():
    e = emp([["A", "U1", "pemula", "teknik", "PNS"], ["B", "U1", "ahli_muda", "guru", "PNS"]])
    missing = gaps.no_standard(e, STANDARDS, LEVELS)
    assert missing.to_dict("records") == [{"position_class": "pemula", "job_family": "teknik", "employees": 1}]
    assert set(gaps.gaps_for(e, STANDARDS, assess([]), LEVELS)["employee_id"]) == {"B"}


def test_without_a_standards_table_the_params_levels_apply_to_managerial_competencies():
    e = emp([["A", "U1", "administrator", "umum", "PNS"]])
    g = gaps.gaps_for(e, None, assess([["A", "2024-01-01", "M.05", 2.0]]), LEVELS)
    assert len(g) == 9 and set(g["required_level"]) == {3.0}
    assert g.set_index("competency_code").loc["M.05", "gap"] == 1.0


def test_promotion_candidates_by_rule_and_params_and_their_target_gaps():
    e = emp([["A", "U1", "ahli_muda", "guru", "PNS"], ["B", "U1", "ahli_muda", "guru", "PNS"],
             ["C", "U1", "ahli_muda", "guru", "PNS"]])
    out = pd.DataFrame({"employee_id": ["A", "A", "B", "B", "C"], "period": ["2024", "2025", "2024", "2025", "2025"],
                        "predikat": ["sangat_baik", "sangat_baik", "baik", "sangat_baik", "baik"]})
    cand = gaps.promotion_candidates(out, e, explicit=["C"])
    assert set(cand["employee_id"]) == {"A", "C"} and set(cand["target_class"]) == {"ahli_madya"}
    std = pd.concat([STANDARDS, pd.DataFrame([("ahli_madya", "*", "M.01", 3)], columns=STANDARDS.columns)])
    tg = gaps.target_gaps(cand, std, assess([["A", "2024-01-01", "M.01", 2.0]]), LEVELS)
    assert tg.set_index("employee_id").loc["A", "gap"] == 1.0


def test_performance_gap_from_ratings_and_targets():
    out = pd.DataFrame({"employee_id": ["A", "B", "C"], "period": ["2025"] * 3,
                        "hasil_kerja": ["di_bawah", "sesuai", "di_atas"]})
    skp = pd.DataFrame({"employee_id": ["A", "B", "C"], "period": ["2025"] * 3, "skp_score": [95, 85, 100]})
    pg = gaps.performance_gaps(out, skp).set_index("employee_id")["performance_gap"]
    assert pg.to_dict() == {"A": True, "B": True, "C": False}


def test_summary_counts_assessed_and_missing_separately():
    g = pd.DataFrame({"employee_id": ["A", "A", "B"], "competency_code": ["M.01", "M.02", "M.01"],
                      "gap": [1.0, np.nan, 0.0], "status": ["gap", "not_assessed", "meets"]})
    s = gaps.summary(g, ["competency_code"]).set_index("competency_code")
    assert s.loc["M.01", "assessed"] == 2 and s.loc["M.01", "with_gap"] == 1 and s.loc["M.01", "share_gap"] == 0.5
    assert s.loc["M.02", "not_assessed"] == 1 and pd.isna(s.loc["M.02", "share_gap"])


# --- clusters ------------------------------------------------------------------------------

def test_clusters_recover_planted_profiles_despite_missing_cells():
    m, truth = profile_gaps()
    res = clusters.cluster_gaps(m, 2, 8, n_bootstrap=10, seed=3)
    assert res.k == 4
    assert adjusted_rand_score(truth, res.labels) >= 0.9
    assert res.stability["ari_mean"] > 0.9 and all(v > 0.75 for v in res.stability["jaccard"].values())
    assert res.criterion.loc[res.criterion["chosen"], "k"].item() == 4
    assert res.labels.value_counts().iloc[0] == 180 and res.sizes().index.tolist() == [1, 2, 3, 4]


def test_missing_cells_are_imputed_from_the_cluster_not_set_to_zero():
    m, truth = profile_gaps(missing=0.0)
    target = m.index[0]  # profile 0: gaps in M.02 and M.03
    m.loc[target, "M.02"] = np.nan
    res = clusters.cluster_gaps(m, 4, 4, n_bootstrap=0, seed=1)
    assert res.filled.loc[target, "M.02"] > 1.0


def test_clustering_is_deterministic_by_seed():
    m, _ = profile_gaps()
    a = clusters.cluster_gaps(m, 2, 6, n_bootstrap=5, seed=7)
    b = clusters.cluster_gaps(m, 2, 6, n_bootstrap=5, seed=7)
    pd.testing.assert_series_equal(a.labels, b.labels)
    pd.testing.assert_frame_equal(a.criterion, b.criterion)
    assert a.stability == b.stability


def test_cluster_names_come_from_the_dominant_gaps_in_both_languages():
    m, _ = profile_gaps()
    comps = pd.DataFrame({"competency_code": ["M.02", "M.03", "M.04", "M.08", "M.05", "SK.01"],
                          "name_id": ["Kerjasama", "Komunikasi", "Orientasi pada Hasil", "Pengambilan Keputusan",
                                      "Pelayanan Publik", "Perekat Bangsa"],
                          "name_en": ["Teamwork", "Communication", "Results orientation", "Decision making",
                                      "Public service", "National unity"]})
    res = clusters.cluster_gaps(m, 4, 4, n_bootstrap=0, seed=1, names=comps)
    names = set(res.names["name_id"])
    assert "Kompetensi Teknis" in names
    assert any("Kerjasama" in n and "Komunikasi" in n and "&" in n for n in names)
    assert any("Communication" in n for n in res.names["name_en"])


def test_generated_sample_profiles_are_recovered(tmp_path):
    from analysis.data.validation import load_dataset
    from analysis.synth import SynthConfig, generate, write

    tables, truth = generate(SynthConfig(employees=3000, seed=5))
    write(tables, truth, tmp_path / "d")
    t = load_dataset(tmp_path / "d").tables
    g = gaps.gaps_for(t["employees"], t["competency_standards"], t["competency_assessments"], LEVELS)
    res = clusters.cluster_gaps(clusters.gap_matrix(g), 2, 10, n_bootstrap=5, seed=1, names=t["competencies"])
    profile = {e: p for p, ids in truth["competency_profiles"]["employees"].items() for e in ids}
    planted_labels = res.labels.index.map(profile)
    assert adjusted_rand_score(planted_labels, res.labels) >= 0.9


@pytest.mark.parametrize("missing", [0.1, 0.4])
def test_data_without_clusters_are_neither_stable_nor_structured(missing):
    # negative control: uniform gaps, no profiles; the imputed full-data clustering once made this "stable"
    res = clusters.cluster_gaps(uniform_gaps(4, missing=missing), 2, 8, n_bootstrap=20, seed=0)
    assert not res.stability["structure"] and res.stability["structure_p"] > 0.05
    assert res.stability["ari_mean"] < 0.5


def test_planted_profiles_are_found_to_have_structure():
    m, truth = profile_gaps(missing=0.2)
    res = clusters.cluster_gaps(m, 2, 8, n_bootstrap=20, seed=0)
    assert res.stability["structure"] and res.stability["structure_p"] <= 0.05
    assert res.stability["ari_mean"] > 0.9
