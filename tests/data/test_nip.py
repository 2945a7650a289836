"""NIP: cleaning export spellings, the checks of its parts, and what it encodes."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analysis.data import nip

TODAY = date(2025, 6, 1)
VALID = "198503152010012002"  # born 1985-03-15, appointed 2010-01, female, sequence 002

INVALID = [
    ("19850315201001200", "exactly 18 digits"),
    ("1985031520100120021", "exactly 18 digits"),
    ("19850315201001200A", "exactly 18 digits"),
    ("", "exactly 18 digits"),
    ("198513152010012002", "not a calendar date"),  # month 13
    ("198500152010012002", "not a calendar date"),  # month 00
    ("198502302010012002", "not a calendar date"),  # 30 February
    ("198502292010012002", "not a calendar date"),  # 1985 is not a leap year
    ("198503002010012002", "not a calendar date"),  # day 00
    ("198504312010012002", "not a calendar date"),  # 31 April
    ("198503152010013002", "sex digit"),
    ("198503152010010002", "sex digit"),
    ("198503152010132002", "appointment month"),
    ("198503152010002002", "appointment month"),
    ("198503151995012002", "less than 15 years"),
    ("198503152099012002", "in the future"),
    ("189901012010012002", "before 1900"),
    ("1.98503152010012e+17", "stored as a number"),
    ("1.98503152010012E+17", "stored as a number"),
    ("198503152010012000.0", "stored as a number"),
]


@pytest.mark.parametrize("value", [VALID, "198402292010012002", "199502282020011006", "200001012018011999"])
def test_valid_nips(value):
    assert nip.check(pd.Series([value]), today=TODAY).tolist() == [None]


@pytest.mark.parametrize("value,reason", INVALID, ids=[v or "empty" for v, _ in INVALID])
def test_invalid_nips(value, reason):
    got = nip.check(pd.Series([value]), today=TODAY).iloc[0]
    assert got is not None and reason in got


def test_first_problem_is_the_one_reported():
    # sex digit 3 and appointed at 10: the sex digit is reported
    assert "sex digit" in nip.check(pd.Series(["198503151995013002"]), today=TODAY).iloc[0]


def test_check_is_vectorised_and_keeps_index():
    values = pd.Series([VALID, None, INVALID[0][0], "198513152010012002"], index=[2, 3, 5, 8], dtype="object")
    got = nip.check(values, today=TODAY)
    assert list(got.index) == [2, 3, 5, 8]
    assert got[2] is None and got[3] is None  # a missing NIP is the schema's business
    assert nip.check(pd.Series(["1", None], dtype="object")).tolist() == ["must be exactly 18 digits", None]
    assert nip.check(pd.Series([None], dtype="object")).tolist() == [None]
    assert "18 digits" in got[5] and "calendar" in got[8]


def test_vectorised_check_of_many_nips_agrees_with_one_by_one():
    rng = np.random.default_rng(3)
    n = 200_000
    birth = pd.to_datetime("1960-01-01") + pd.to_timedelta(rng.integers(0, 40 * 365, n), unit="D")
    ay = np.minimum(birth.year.to_numpy() + rng.integers(18, 40, n), 2024)
    values = pd.Series(nip.make(birth.to_numpy(), ay, rng.integers(1, 13, n), rng.integers(1, 3, n),
                                rng.integers(1, 1000, n)))
    # spoil every tenth: a cycle of impossible NIPs
    bad = [v for v, _ in INVALID]
    values.iloc[::10] = [bad[i % len(bad)] for i in range(len(values.iloc[::10]))]
    got = nip.check(values, today=TODAY)
    assert got.iloc[1::10].isna().all() and got.iloc[::10].notna().all()
    sample = values.iloc[:200]
    assert got.iloc[:200].tolist() == [nip.check(pd.Series([v]), today=TODAY).iloc[0] for v in sample]


@pytest.mark.parametrize("raw", [
    "19850315 201001 2 002", "19850315\u00a0201001\u00a02\u00a0002", "'198503152010012002",
    " 198503152010012002 ", "19850315-201001-2-002", "19850315.201001.2.002",
])
def test_clean_repairs_export_spellings(raw):
    assert nip.clean(pd.Series([raw])).tolist() == [VALID]


def test_clean_keeps_excel_numbers_as_written_and_missing_as_missing():
    s = pd.Series(["1.98503152010012e+17", "198503152010012000.0", None], dtype="object")
    assert nip.clean(s).tolist() == ["1.98503152010012e+17", "198503152010012000.0", None]


def test_parts_birth_dates_and_genders():
    p = nip.parts(VALID)
    assert (p.birth_date, p.appointment_year, p.appointment_month, p.sex_digit, p.sequence) == (
        date(1985, 3, 15), 2010, 1, 2, 2)
    with pytest.raises(ValueError):
        nip.parts("123")
    s = pd.Series([VALID, "199109092016061008", "19910909", None, "199109092016063008"], dtype="object")
    assert nip.genders(s).tolist() == ["P", "L", None, None, None]
    b = nip.birth_dates(s)
    assert b.iloc[0] == pd.Timestamp("1985-03-15") and b.iloc[1] == pd.Timestamp("1991-09-09")
    assert pd.isna(b.iloc[3])


def test_make_builds_valid_nips():
    birth = np.array(["1985-03-15", "1999-12-31"], dtype="datetime64[D]")
    made = nip.make(birth, np.array([2010, 2021]), np.array([1, 12]), np.array([2, 1]), np.array([2, 999]))
    assert made.tolist() == [VALID, "199912312021121999"]
    assert nip.check(pd.Series(made), today=TODAY).isna().all()

