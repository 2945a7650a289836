"""Numbers as each language writes them (core.numbers), and the translation tables' numeric fields."""

import math

import numpy as np
import pandas as pd
import pytest

from analysis.core.i18n import t
from analysis.core.numbers import MISSING, format_text, localize, number


@pytest.mark.parametrize("value, kind, digits, en, id_", [
    (17293, "int", 1, "17,293", "17.293"),
    (1336.44, "num", 1, "1,336.4", "1.336,4"),
    (0.2368, "pct", 1, "23.7%", "23,7%"),
    (-0.0172, "signed", 3, "-0.017", "-0,017"),
    (0.015, "signed_pct", 1, "+1.5 pp", "+1,5 poin persen"),
    (2.5e9, "idr", 1, "Rp 2.5 billion", "Rp 2,5 miliar"),
    (8.25e8, "idr", 1, "Rp 825 million", "Rp 825 juta"),
    (2201872000, "rupiah", 1, "Rp 2,201,872,000", "Rp 2.201.872.000"),
    (7.1e-07, "p", 1, "< 0.001", "< 0,001"),
    (0.04131, "p", 1, "0.0413", "0,0413"),
])
def test_number_in_both_languages(value, kind, digits, en, id_):
    assert number(value, kind, "en", digits) == en
    assert number(value, kind, "id", digits) == id_


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, math.inf])
def test_missing_numbers_are_one_mark(missing):
    assert number(missing, "num", "id") == MISSING


def test_localize_swaps_separators_only_in_indonesian():
    assert localize("1,234,567.89", "id") == "1.234.567,89"
    assert localize("1,234,567.89", "en") == "1,234,567.89"


def test_templates_write_numbers_as_the_language_does_and_leave_text_alone():
    template = "{n:,} of {m:,} ({share:.1%}); mean {x:.2f}; code {code}; year {year}"
    fields = dict(n=17293, m=np.int64(20000), share=np.float64(0.86465), x=0.31, code="U0024.1", year=2025)
    assert format_text(template, "en", **fields) == "17,293 of 20,000 (86.5%); mean 0.31; code U0024.1; year 2025"
    assert format_text(template, "id", **fields) == "17.293 dari 20.000 (86,5%); mean 0,31; code U0024.1; year 2025" \
        .replace("dari", "of")


def test_translation_table_sentences_use_indonesian_numbers():
    text = t("nb01.predikat", "id", n=17293, employees=5988, periods=3, latest="2025", sb=0.25, b=0.618,
             bp=0.102, k=0.022, sk=0.009)
    assert "17.293 penilaian dari 5.988 pegawai" in text and "25,0% Sangat Baik" in text
    assert "17,293" not in text and "25.0%" not in text
    assert "17,293 appraisals" in t("nb01.predikat", "en", n=17293, employees=5988, periods=3, latest="2025",
                                    sb=0.25, b=0.618, bp=0.102, k=0.022, sk=0.009)


def test_no_minus_zero_and_no_nan_in_sentences():
    assert number(-0.0001, "num", "id", 1) == "0,0" and number(-0.0001, "pct", "en", 1) == "0.0%"
    assert number(-4e5, "idr", "id") == "Rp 0 juta"
    assert number(-0.26, "num", "en", 1) == "-0.3"  # a real negative keeps its sign
    assert format_text("{x:.1%} / {y:.2f} / {z:.1f}", "id", x=float("nan"), y=np.float32("inf"), z=-0.01) \
        == f"{MISSING} / {MISSING} / 0,0"
