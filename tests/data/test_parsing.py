"""Typing of text cells: numbers (Indonesian and English habits), dates, booleans, columns."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analysis.data import parsing
from analysis.data.contract import TABLES
from analysis.data.parsing import parse_bool, parse_column, parse_date, parse_number

NAN = float("nan")

# (text, money column?, value); NaN = not a number. The rules are those of the
# module docstring of analysis.parsing.
NUMBER_CASES = [
    # plain
    ("0", False, 0.0),
    ("42", False, 42.0),
    ("-5", False, -5.0),
    ("3.5", False, 3.5),
    ("0.25", False, 0.25),
    # decimal comma
    ("3,5", False, 3.5),
    ("-0,75", False, -0.75),
    ("78,50", False, 78.5),
    # thousands dots (several dots are always thousands)
    ("1.500.000", False, 1_500_000.0),
    ("1.500.000", True, 1_500_000.0),
    ("-1.500.000", True, -1_500_000.0),
    # both separators: the last one is the decimal separator
    ("1.234,5", False, 1234.5),
    ("1,234.5", False, 1234.5),
    ("1.234.567,89", True, 1_234_567.89),
    ("1,234,567.89", True, 1_234_567.89),
    # a single dot and three digits: thousands in money, a decimal point elsewhere
    ("1.500", True, 1500.0),
    ("1.500", False, 1.5),
    ("250.000", True, 250_000.0),
    ("12.5", True, 12.5),  # not three digits: a decimal point even in money
    # a single comma and three digits: thousands in money, a decimal comma elsewhere
    ("1,500", True, 1500.0),
    ("1,500", False, 1.5),
    ("1,500,000", False, 1_500_000.0),
    # Rp, spaces, non-breaking spaces and % are ignored
    ("Rp 2.500.000", True, 2_500_000.0),
    ("Rp. 2.500.000,00", True, 2_500_000.0),
    ("rp2500000", True, 2_500_000.0),
    ("RP 0", True, 0.0),
    ("1 500 000", True, 1_500_000.0),
    ("\u00a03,5\u00a0", False, 3.5),
    ("95%", False, 95.0),
    ("101,5 %", False, 101.5),
    # not numbers
    ("1.2.3", False, NAN),
    ("1,2,3", False, NAN),
    ("12,34,567", True, NAN),
    ("abc", False, NAN),
    ("delapan puluh", False, NAN),
    ("3,5,", False, NAN),
    ("Rp", True, NAN),
    ("--5", False, NAN),
]


@pytest.mark.parametrize("text,money,expected", NUMBER_CASES,
                         ids=[f"{t!r}{'-money' if m else ''}" for t, m, _ in NUMBER_CASES])
def test_parse_number(text, money, expected):
    got = parse_number(pd.Series([text], dtype="object"), money=money).iloc[0]
    if np.isnan(expected):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(expected)


def test_single_dot_is_thousands_in_a_column_that_uses_decimal_commas():
    # '3,5' elsewhere in the column shows the export writes decimals with commas
    s = pd.Series(["3,5", "1.500", "2"], dtype="object")
    assert parse_number(s).tolist() == [3.5, 1500.0, 2.0]
    s = pd.Series(["1.234,5", "1.500"], dtype="object")
    assert parse_number(s).tolist() == [1234.5, 1500.0]
    # without such a value, the dot is a decimal point
    s = pd.Series(["3.5", "1.500", "2"], dtype="object")
    assert parse_number(s).tolist() == [3.5, 1.5, 2.0]
    # a grouped value ('1,500') is not evidence of decimal commas
    s = pd.Series(["1,500", "2.250"], dtype="object")
    assert parse_number(s).tolist() == [1.5, 2.25]


def test_parse_number_keeps_index_and_missing_cells():
    s = pd.Series(["3,5", None, "x", "7"], index=[5, 6, 9, 12], dtype="object")
    got = parse_number(s)
    assert list(got.index) == [5, 6, 9, 12]
    assert got.dtype == "float64"
    assert got.iloc[0] == 3.5 and np.isnan(got.iloc[1]) and np.isnan(got.iloc[2]) and got.iloc[3] == 7


def test_parse_number_of_nothing():
    assert parse_number(pd.Series([], dtype="object")).empty
    got = parse_number(pd.Series([None, None], dtype="object"))
    assert got.isna().all() and got.dtype == "float64"


def test_parse_number_repeated_values_are_read_once_each_the_same():
    s = pd.Series(["1.500.000", "3,5", "1.500.000"] * 1000, dtype="object")
    got = parse_number(s, money=True)
    assert got.iloc[::3].eq(1_500_000).all() and got.iloc[1::3].eq(3.5).all()


# --- dates -------------------------------------------------------------------

def _serial(d: date) -> str:
    return str((d - date(1899, 12, 30)).days)


DATE_CASES = [
    ("2024-03-15", "2024-03-15"),
    ("2024-3-5", "2024-03-05"),
    ("15/03/2024", "2024-03-15"),
    ("03/05/2024", "2024-05-03"),  # day first
    ("5/3/2024", "2024-03-05"),
    ("15-03-2024", "2024-03-15"),
    ("15.03.2024", "2024-03-15"),
    ("2024/03/15", "2024-03-15"),
    ("20240315", "2024-03-15"),
    ("15/03/85", "1985-03-15"),
    ("2024-03-15 00:00:00", "2024-03-15"),
    (" 2024-03-15 ", "2024-03-15"),
    (_serial(date(1985, 3, 15)), "1985-03-15"),  # Excel serial day numbers
    (_serial(date(2024, 2, 29)), "2024-02-29"),
    (_serial(date(2024, 2, 29)) + ".0", "2024-02-29"),
    # not dates
    ("31/02/2024", None),
    ("2024-13-01", None),
    ("29/02/2023", None),
    ("kemarin", None),
    ("12345", None),  # a number, but not a plausible serial (1933)
    ("45366.5", None),  # a serial with a time of day is not a date
    ("1.5", None),
]


@pytest.mark.parametrize("text,expected", DATE_CASES, ids=[c[0] for c in DATE_CASES])
def test_parse_date(text, expected):
    got = parse_date(pd.Series([text], dtype="object")).iloc[0]
    if expected is None:
        assert pd.isna(got)
    else:
        assert got == pd.Timestamp(expected)


def test_parse_date_mixed_column_keeps_index():
    s = pd.Series(["15/03/1985", None, "1985-03-15", "x"], index=[2, 3, 4, 5], dtype="object")
    got = parse_date(s)
    assert list(got.index) == [2, 3, 4, 5]
    assert pd.api.types.is_datetime64_any_dtype(got)
    assert got[2] == got[4] == pd.Timestamp("1985-03-15")
    assert pd.isna(got[3]) and pd.isna(got[5])


# --- booleans ----------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("ya", True), ("Ya", True), ("YA", True), ("tidak", False), ("Tidak", False),
    ("true", True), ("FALSE", False), ("yes", True), ("no", False), ("1", True), ("0", False),
    ("1.0", True), ("0.0", False), ("Y", True), ("T", False), ("benar", True), ("salah", False),
    ("ada", True), ("tidak ada", False), ("mungkin", None), ("2", None), (None, None),
])
def test_parse_bool(text, expected):
    got = parse_bool(pd.Series([text], dtype="object")).iloc[0]
    if expected is None:
        assert pd.isna(got)
    else:
        assert got is expected or got == expected


def test_parse_bool_dtype():
    assert parse_bool(pd.Series(["ya", None], dtype="object")).dtype == "boolean"


# --- whole columns -------------------------------------------------------------

def _col(table, name, values, index=None):
    spec = TABLES[table]
    s = pd.Series(values, index=index if index is not None else range(2, 2 + len(values)), dtype="object")
    return parse_column(spec, spec.column_map[name], s)


def test_parse_column_reports_cells_that_cannot_be_read_with_their_rows():
    values, problems = _col("feedback_360", "score", ["4", "3.5", None, "enam", "5"])
    assert values.dtype == "Int64"
    assert values.tolist()[0] == 4 and values.tolist()[4] == 5
    assert problems[["row", "column", "check", "value"]].values.tolist() == [
        [5, "score", "wrong_type", "enam"],
        [3, "score", "wrong_type", "3.5"],
    ]
    assert set(problems["severity"]) == {"error"} and set(problems["table"]) == {"feedback_360"}
    assert "not a decimal" in problems.loc[problems["value"] == "3.5", "message"].iloc[0]


def test_parse_column_leaves_empty_cells_to_the_schema():
    for table, column in [("targets", "target"), ("employees", "birth_date"), ("appraisals", "period"),
                          ("appraisals", "hasil_kerja"), ("appraisals", "innovation")]:
        values, problems = _col(table, column, [None, None])
        assert values.isna().all()
        assert len(problems) == 0


@pytest.mark.parametrize("table,column,good,bad,check", [
    ("appraisals", "hasil_kerja", "Di Atas Ekspektasi", "Luar Biasa", "unknown_code"),
    ("appraisals", "period", "2024 Q1", "tahun lalu", "wrong_type"),
    ("employees", "birth_date", "15/03/1985", "1985-02-30", "wrong_type"),
    ("targets", "target", "1.500", "delapan", "wrong_type"),
    ("training_catalog", "cost_per_participant", "Rp 1.500.000", "gratis", "wrong_type"),
    ("targets", "is_main", "ya", "mungkin", "wrong_type"),
])
def test_parse_column_kinds(table, column, good, bad, check):
    values, problems = _col(table, column, [good, bad])
    assert not pd.isna(values.iloc[0])
    assert pd.isna(values.iloc[1])
    assert problems[["row", "column", "check", "value"]].values.tolist() == [[3, column, check, bad]]


def test_parse_column_text_kinds_never_fail():
    values, problems = _col("employees", "employee_id", ["19850315 201001 2 002", "'198503152010012002", "abc"])
    assert values.tolist() == ["198503152010012002", "198503152010012002", "abc"]  # NIP checks come later
    assert len(problems) == 0
    values, _ = _col("employees", "job_family", ["Guru ", "Tenaga Kesehatan"])
    assert values.tolist() == ["guru", "tenaga_kesehatan"]
    values, _ = _col("competency_standards", "job_family", ["*", "Guru"])
    assert values.tolist() == ["*", "guru"]
    values, _ = _col("competencies", "competency_code", ["m1", "sk.1", "T.Guru.01"])
    assert values.tolist() == ["M.01", "SK.01", "T.guru.1"]


def test_money_column_reads_single_dot_thousands():
    values, problems = _col("training_catalog", "cost_per_participant", ["250.000", "1.500"])
    assert values.tolist() == [250_000.0, 1500.0]
    values, problems = _col("training_catalog", "jp", ["1.500"])
    assert values.tolist() == [1.5]


def test_module_docstring_documents_the_ambiguity_rules():
    doc = parsing.__doc__
    for phrase in ("decimal comma", "thousands", "last separator", "money"):
        assert phrase in doc


@pytest.mark.parametrize("raw, expected", [
    ("15 Maret 2024", "2024-03-15"), ("1-Agu-2023", "2023-08-01"), ("3 Desember 1999", "1999-12-03"),
    ("2 Mei 2024", "2024-05-02"), ("15 March 2024", "2024-03-15"), ("7 Nop 2021", "2021-11-07"),
])
def test_parse_date_reads_indonesian_and_english_month_names(raw, expected):
    assert parse_date(pd.Series([raw])).iloc[0] == pd.Timestamp(expected)


def test_parse_date_rejects_a_named_month_day_that_does_not_exist():
    assert pd.isna(parse_date(pd.Series(["31 Februari 2020"])).iloc[0])
