"""The one small-cell policy (core.disclosure): small groups, small counts, secondary suppression."""

import numpy as np
import pandas as pd

from analysis.core.disclosure import people_counts, protect


def test_small_groups_show_no_values_and_are_marked():
    t = pd.DataFrame({"unit": ["A", "B"], "n": [3, 40], "n_x": [1, 20], "n_y": [2, 20],
                      "share_x": [1 / 3, 0.5], "share_y": [2 / 3, 0.5]})
    out = protect(t, 5, n_col="n")
    assert out.loc[0, ["n", "n_x", "n_y", "share_x", "share_y"]].isna().all()
    assert out["suppressed"].tolist() == [True, False] and out.loc[0, "unit"] == "A"


def test_a_small_count_inside_a_large_group_is_blanked_with_its_share_and_a_second_cell():
    # distribution_compliance-like: n=38 of which n_kurang=1: blanking 1 alone would leave it as
    # 38 - (the others); the next smallest count goes too
    t = pd.DataFrame({"unit": ["A"], "n": [38], "n_baik": [30], "n_cukup": [7], "n_kurang": [1],
                      "share_baik": [30 / 38], "share_cukup": [7 / 38], "share_kurang": [1 / 38]})
    out = protect(t, 5, n_col="n")
    assert np.isnan(out.loc[0, "n_kurang"]) and np.isnan(out.loc[0, "share_kurang"])
    assert np.isnan(out.loc[0, "n_cukup"]) and np.isnan(out.loc[0, "share_cukup"])  # secondary
    assert out.loc[0, "n_baik"] == 30 and out.loc[0, "n"] == 38
    # no blanked cell is the difference of shown ones
    assert out.loc[0, ["n_baik", "n_cukup", "n_kurang"]].isna().sum() != 1


def test_parts_that_do_not_add_up_need_no_secondary_suppression_and_zero_is_shown():
    # flags can overlap: the counts are not a partition of n
    t = pd.DataFrame({"unit": ["A"], "n": [40], "n_lenient": [2], "n_severe": [0], "n_halo": [7]})
    out = protect(t, 5, n_col="n")
    assert np.isnan(out.loc[0, "n_lenient"]) and out.loc[0, "n_severe"] == 0 and out.loc[0, "n_halo"] == 7


def test_counts_of_units_or_periods_are_not_people():
    t = pd.DataFrame({"outcome": ["ikm"], "n_units": [3], "n_post_periods": [2], "n_controls": [4], "mde": [1.0]})
    assert people_counts(t) == []
    pd.testing.assert_frame_equal(protect(t, 5), t)


def test_a_column_computed_from_a_blanked_count_goes_with_it():
    t = pd.DataFrame({"unit": ["A", "B"], "n": [90, 90], "limit": [63, 63], "count": [3, 70], "shortfall": [0, 7]})
    out = protect(t, 5, n_col="n")
    assert np.isnan(out.loc[0, "count"]) and np.isnan(out.loc[0, "shortfall"])
    assert out.loc[1, "count"] == 70 and out.loc[1, "shortfall"] == 7


def test_crosstabs_keep_their_row_labels_and_blank_small_cells():
    # the agreement crosstabs used to blank their numeric row labels 1-4 as if they were counts
    t = pd.DataFrame({"rank_6_2022": [5, 4, 3, 2, 1], "5": [9, 0, 0, 0, 0], "4": [4297, 10078, 1941, 325, 63],
                      "3": [2, 108, 257, 160, 54]})
    out = protect(t, 5, counts=True)
    assert out["rank_6_2022"].tolist() == [5, 4, 3, 2, 1]
    assert np.isnan(out.loc[0, "3"]) and out.loc[0, "5"] == 9


def test_crosstab_with_margins_gets_secondary_suppression_along_rows_and_columns():
    t = pd.DataFrame({"from": ["a", "b", "total"], "x": [2, 50, 52], "y": [30, 40, 70], "total": [32, 90, 122]})
    out = protect(t, 5, counts=True)
    inner = out.loc[out["from"] != "total", ["x", "y"]]
    # the 2 is blanked; its row (total 32) and its column (total 52) each get a second blank
    assert inner.isna().sum(axis=1).ne(1).all() and inner.isna().sum(axis=0).ne(1).all()
