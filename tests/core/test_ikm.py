"""The IKM rule of PermenPANRB 14/2017: NRR, the weighted index, the 25-100 conversion, the bands."""

import math

import numpy as np
import pandas as pd
import pytest

from analysis.core import ikm


def test_hand_worked_ikm():
    # Four respondents, nine unsur (rows = respondents, columns u1..u9):
    #   r1: 4 4 3 3 4 4 3 3 4
    #   r2: 3 4 3 2 4 3 3 3 4
    #   r3: 4 3 3 3 3 4 4 3 3
    #   r4: 3 3 2 .  4 3 4 2 3      (. = no answer to u4)
    # NRR = sum of the answers / number of answers given:
    #   u1 (4+3+4+3)/4 = 3.50   u2 (4+4+3+3)/4 = 3.50   u3 (3+3+3+2)/4 = 2.75
    #   u4 (3+2+3)/3   = 2.6667 u5 (4+4+3+4)/4 = 3.75   u6 (4+3+4+3)/4 = 3.50
    #   u7 (3+3+4+4)/4 = 3.50   u8 (3+3+3+2)/4 = 2.75   u9 (4+4+3+3)/4 = 3.50
    # sum of NRR = 3.5+3.5+2.75+2.6667+3.75+3.5+3.5+2.75+3.5 = 29.41667
    # index (1-4) = sum x 1/9 = 3.268519 ; IKM = 3.268519 x 25 = 81.7130 -> printed 81.71, band B (76.61-88.30)
    answers = pd.DataFrame([
        [4, 4, 3, 3, 4, 4, 3, 3, 4],
        [3, 4, 3, 2, 4, 3, 3, 3, 4],
        [4, 3, 3, 3, 3, 4, 4, 3, 3],
        [3, 3, 2, np.nan, 4, 3, 4, 2, 3],
    ], columns=list(ikm.UNSUR))
    n = ikm.nrr(answers)
    assert n.tolist() == pytest.approx([3.5, 3.5, 2.75, 8 / 3, 3.75, 3.5, 3.5, 2.75, 3.5])
    value = ikm.ikm_from_nrr(n)
    assert value == pytest.approx(25 * (29 + 5 / 12) / 9)
    assert value == pytest.approx(81.7130, abs=1e-4)
    assert ikm.printed(value) == 81.71
    assert ikm.band(value) == "B" and ikm.band_label("B") == "Baik"


def test_all_fours_is_100_and_all_ones_is_25():
    assert ikm.ikm_from_nrr(pd.Series(4.0, index=list(ikm.UNSUR))) == pytest.approx(100.0)
    assert ikm.ikm_from_nrr(pd.Series(1.0, index=list(ikm.UNSUR))) == pytest.approx(25.0)
    # the regulation's printed weight 0.111 gives 99.9 for the same answers: that is the difference
    assert ikm.ikm_from_nrr(pd.Series(4.0, index=list(ikm.UNSUR)), weight=0.111) == pytest.approx(99.9)


def test_an_unsur_nobody_answered_leaves_the_ikm_undefined():
    n = pd.Series([3.0] * 8 + [np.nan], index=list(ikm.UNSUR))
    assert math.isnan(ikm.ikm_from_nrr(n))
    frame = pd.DataFrame([[3.0] * 9, [3.0] * 8 + [np.nan]], columns=list(ikm.UNSUR))
    got = ikm.ikm_from_nrr(frame)
    assert got.iloc[0] == pytest.approx(75.0) and math.isnan(got.iloc[1])


@pytest.mark.parametrize("value, expected", [
    (100.0, "A"), (88.31, "A"), (88.305, "A"),  # printed 88.31
    (88.3049, "B"), (88.30, "B"), (76.61, "B"), (76.605, "B"),  # 76.605 is printed 76.61
    (76.6049, "C"), (76.60, "C"), (65.00, "C"), (64.995, "C"),  # 64.995 is printed 65.00
    (64.99, "D"), (25.0, "D"),
    (24.99, None), (100.01, None), (None, None), (float("nan"), None),
])
def test_band_edges_as_printed(value, expected):
    assert ikm.band(value) == expected


def test_bands_on_the_1_to_4_scale_agree_with_the_regulation():
    # the annex's bounds on the 1-4 scale, times 25, are the bounds on the 25-100 scale
    assert ikm.band(3.5324 * 25) == "A" and ikm.band(3.532 * 25) == "B"
    assert ikm.band(3.0644 * 25) == "B" and ikm.band(3.064 * 25) == "C"
    assert ikm.band(2.60 * 25) == "C" and ikm.band(2.5996 * 25) == "D"
    assert ikm.band(4.00 * 25) == "A" and ikm.band(1.00 * 25) == "D"


def test_bands_of_a_series_keep_its_index():
    s = pd.Series([90.0, None, 70.0], index=["x", "y", "z"])
    assert ikm.bands(s).to_dict() == {"x": "A", "y": None, "z": "C"}


@pytest.mark.parametrize("population, sample", [
    (10, 10), (15, 14), (50, 44), (100, 80), (200, 132), (500, 217), (1000, 278), (5000, 357),
    (10_000, 370), (1_000_000, 384),
])
def test_krejcie_morgan_reproduces_the_table(population, sample):
    assert ikm.krejcie_morgan(population) == sample


def test_default_minimum_is_the_table_maximum():
    assert ikm.DEFAULT_MIN_RESPONDENTS == 384
    with pytest.raises(ValueError):
        ikm.krejcie_morgan(0)
