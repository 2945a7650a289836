"""PP 30/2019 arithmetic: achievement, SKP, behaviour points, weights, bands; the capaian view."""

import numpy as np
import pandas as pd
import pytest

from analysis.core.params import Appraisal
from analysis.outcomes import pp30

S = Appraisal()


def targets(rows):
    return pd.DataFrame(rows, columns=["employee_id", "period", "indicator_id", "target", "realization",
                                       "weight", "direction"])


@pytest.mark.parametrize("target, real, direction, expected", [
    (100, 90, "higher", 0.9),
    (100, 130, "higher", 1.2),   # capped at 120%
    (10, 8, "lower", 1.2),       # 10/8 = 1.25, capped
    (10, 12.5, "lower", 0.8),    # lower is better: inverted
    (5, 0, "lower", 1.2),        # nothing realised where lower is better: best possible, capped
    (100, 0, "higher", 0.0),
    (0, 0, "higher", 1.0),       # a target of 0 realised exactly: met
    (0, 3, "higher", 1.2),       # a target of 0 exceeded: capped
])
def test_indicator_achievement(target, real, direction, expected):
    t = targets([["E1", "2024", "I1", target, real, 1, direction]])
    assert pp30.indicator_achievement(t, 1.2)["achievement"].iloc[0] == pytest.approx(expected)


def test_cap_is_a_parameter():
    t = targets([["E1", "2024", "I1", 100, 150, 1, "higher"]])
    assert pp30.indicator_achievement(t, 1.5)["achievement"].iloc[0] == pytest.approx(1.5)


def test_skp_score_is_the_weighted_mean_in_points():
    t = targets([["E1", "2024", "I1", 100, 100, 60, "higher"],
                 ["E1", "2024", "I2", 100, 80, 40, "higher"]])
    s = pp30.skp_scores(pp30.indicator_achievement(t)).iloc[0]
    assert s["skp_score"] == pytest.approx(100 * (0.6 * 1.0 + 0.4 * 0.8))
    assert s["share_met"] == pytest.approx(0.5)
    assert not s["equal_weights"]


def test_a_met_zero_target_counts_fully_in_the_skp_score():
    # 0/0 was NaN, left out of the weighted sum while its weight counted: SKP 50 instead of 100
    t = targets([["E1", "2024", "I1", 0, 0, 50, "higher"],
                 ["E1", "2024", "I2", 100, 100, 50, "higher"]])
    s = pp30.skp_scores(pp30.indicator_achievement(t)).iloc[0]
    assert s["skp_score"] == pytest.approx(100.0) and s["share_met"] == pytest.approx(1.0)


def test_missing_weight_makes_the_group_equally_weighted():
    t = targets([["E1", "2024", "I1", 100, 100, np.nan, "higher"],
                 ["E1", "2024", "I2", 100, 80, 40, "higher"]])
    s = pp30.skp_scores(pp30.indicator_achievement(t)).iloc[0]
    assert s["skp_score"] == pytest.approx(90.0)
    assert s["equal_weights"]


def _outcomes():
    return pd.DataFrame({"employee_id": ["E1", "E2"], "period": ["2024", "2024"],
                         "perilaku_kerja": ["sesuai", "di_atas"], "predikat": ["baik", "baik"],
                         "innovation": pd.array([False, True], dtype="boolean")})


def _feedback():
    rows = []
    for role, rater, score in [("self", "E1", 5), ("supervisor", "S", 3), ("peer", "P1", 4)]:
        for aspect in ("akuntabel", "loyal"):
            rows.append(["2024", "E1", rater, role, aspect, score])
    for role, rater, score in [("self", "E2", 5), ("supervisor", "S", 4)]:
        rows.append(["2024", "E2", rater, role, "akuntabel", score])
    return pd.DataFrame(rows, columns=["period", "ratee_id", "rater_id", "rater_role", "aspect", "score"])


def test_behaviour_uses_360_only_with_peer_or_subordinate_input():
    b = pp30.behaviour_scores(_outcomes(), _feedback(), S).set_index("employee_id")
    # E1: supervisor 3 and peer 4 (self ignored): mean 3.5 -> halfway between 90 and 105
    assert b.loc["E1", "behaviour_source"] == "360"
    assert b.loc["E1", "behaviour_points"] == pytest.approx(97.5)
    # E2: only self and supervisor gave input: the perilaku rating decides
    assert b.loc["E2", "behaviour_source"] == "rating"
    assert b.loc["E2", "behaviour_points"] == S.behaviour_points["di_atas"]


def test_final_score_weights_70_30_or_60_40_with_360_input():
    t = targets([["E1", "2024", "I1", 100, 100, 1, "higher"], ["E2", "2024", "I1", 100, 110, 1, "higher"]])
    scores = pp30.numeric_scores(_outcomes(), t, _feedback(), S).set_index("employee_id")
    assert scores.loc["E1", "final_score"] == pytest.approx(0.6 * 100 + 0.4 * 97.5)
    assert scores.loc["E2", "final_score"] == pytest.approx(0.7 * 110 + 0.3 * 110)


@pytest.mark.parametrize("score, innovation, band", [
    (120, True, "sangat_baik"), (110, True, "sangat_baik"), (110, False, "baik"),
    (109.99, True, "baik"), (90, False, "baik"), (89.99, False, "cukup"), (70, False, "cukup"),
    (69.99, False, "kurang"), (50, False, "kurang"), (49.99, False, "sangat_kurang"), (0, False, "sangat_kurang"),
])
def test_pp30_bands_at_their_limits(score, innovation, band):
    got = pp30.pp30_band(pd.Series([score]), pd.Series([innovation]), S)
    assert got.iloc[0] == band


def test_missing_score_has_no_band():
    assert pp30.pp30_band(pd.Series([np.nan]), pd.Series([True]), S).iloc[0] is None


@pytest.mark.parametrize("skp, perilaku, hasil, predikat", [
    (115, "di_atas", "di_atas", "sangat_baik"),
    (110, "sesuai", "di_atas", "baik"),
    (95, "sesuai", "sesuai", "baik"),
    (85, "sesuai", "di_bawah", "butuh_perbaikan"),
    (85, "di_bawah", "di_bawah", "sangat_kurang"),
])
def test_capaian_view_rates_results_by_achievement(skp, perilaku, hasil, predikat):
    df = pd.DataFrame({"skp_score": [skp], "perilaku_kerja": [perilaku]})
    out = pp30.capaian_view(df, S).iloc[0]
    assert (out["hasil_capaian"], out["predikat_capaian"]) == (hasil, predikat)
