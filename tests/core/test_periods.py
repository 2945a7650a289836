"""Periods: the spellings exports use, canonical forms, and time order."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.core.periods import (
    Period,
    normalise_periods,
    parse_period,
    period_index,
    quarter_of,
    sort_periods,
)

PARSE_CASES = [
    ("2024", "2024"), (2024, "2024"), (2024.0, "2024"), ("2024.0", "2024"), ("2024.00", "2024"), (" 2024 ", "2024"),
    ("2024Q1", "2024Q1"), ("2024 Q1", "2024Q1"), ("2024-Q2", "2024Q2"), ("2024/q3", "2024Q3"),
    ("Q1/2024", "2024Q1"), ("Q4 2024", "2024Q4"), ("q1-2024", "2024Q1"), ("Quarter 2 2024", "2024Q2"),
    ("2024S1", "2024S1"), ("2024 S2", "2024S2"), ("Semester 1 2024", "2024S1"), ("S2/2024", "2024S2"),
    ("2024-03", "2024-03"), ("2024/3", "2024-03"), ("03/2024", "2024-03"), ("3-2024", "2024-03"),
    ("2024-12", "2024-12"),
]
NOT_PERIODS = [
    None, float("nan"), "", "tahun lalu", "2024Q5", "Q0/2024", "2024S3", "2024-13", "2024-00", "13/2024",
    "24", "202401", "2024-03-15", "2024/2025", "1800", "3000", "0000Q1", "1024-03", "2024.5",
]


@pytest.mark.parametrize("text,canonical", PARSE_CASES, ids=[repr(c[0]) for c in PARSE_CASES])
def test_parse_period(text, canonical):
    p = parse_period(text)
    assert p is not None and str(p) == canonical
    assert parse_period(str(p)) == p  # the canonical form reads back the same


@pytest.mark.parametrize("text", NOT_PERIODS, ids=[repr(t) for t in NOT_PERIODS])
def test_not_periods(text):
    assert parse_period(text) is None


def test_period_parts():
    assert parse_period("2024Q3") == Period(2024, 7, "Q")
    assert parse_period("2024S2") == Period(2024, 7, "S")
    assert parse_period("2024-11").months == 1 and parse_period("2024").months == 12
    assert parse_period("2024Q2").index - parse_period("2023Q2").index == 12


def test_order_is_by_start_then_length():
    ps = [parse_period(x) for x in ["2024", "2024Q2", "2023Q4", "2024-01", "2024Q1", "2024S1", "2023"]]
    assert [str(p) for p in sorted(ps)] == ["2023", "2023Q4", "2024-01", "2024Q1", "2024S1", "2024", "2024Q2"]


def test_sort_periods_gives_canonical_strings_in_time_order():
    assert sort_periods(["2024Q2", "2023Q4", "2024Q1"]) == ["2023Q4", "2024Q1", "2024Q2"]
    assert sort_periods(["Q2/2024", "2024 Q1", "2023.0"]) == ["2023", "2024Q1", "2024Q2"]
    # spellings of one period are one period
    assert sort_periods(["2024Q1", "2024 Q1", "Q1/2024"]) == ["2024Q1"]
    # what is not a period goes last, as written
    assert sort_periods(["x", "2024", "2023"]) == ["2023", "2024", "x"]
    assert sort_periods([]) == []


def test_normalise_periods():
    s = pd.Series(["2024 Q1", None, "Q1/2024", "junk", "2024.0"], index=[2, 3, 4, 5, 6], dtype="object")
    got = normalise_periods(s)
    assert got.tolist() == ["2024Q1", None, "2024Q1", None, "2024"]
    assert list(got.index) == [2, 3, 4, 5, 6]


def test_period_index_and_quarter_of():
    s = pd.Series(["2024Q1", "2024Q3", "2025", None, "junk"], dtype="object")
    idx = period_index(s)
    assert idx.iloc[1] - idx.iloc[0] == 6 and idx.iloc[2] - idx.iloc[0] == 12
    assert pd.isna(idx.iloc[3]) and pd.isna(idx.iloc[4])
    assert quarter_of(pd.Timestamp("2024-05-31")) == "2024Q2"
    assert quarter_of(pd.Timestamp("2024-12-01")) == "2024Q4"
