"""Every path that works on a column's distinct values equals the cell-by-cell path it replaced.

The CSV reader keeps each column as a Categorical (each distinct text once, a code per cell), and
trimming, the cell limit, typing, the schema and the references then look at each distinct value
once. Each property below draws columns with repeated values, missing cells, whitespace of every
kind, non-ASCII text and (where a workbook gives them) numbers, and checks the result against the
cell-by-cell path: for typing, ``parse_column`` as it was before (kept here verbatim).
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core import codes, periods
from analysis.data import nip, parsing, reading, schemas, validation
from analysis.data.contract import TABLES, Column, Table
from analysis.data.distinct import Distinct
from analysis.data.parsing import adoption_periods, normalise_unicode, parse_bool, parse_date, parse_number
from analysis.data.problems import shorten
from analysis.data.reading import ReadError

_EVERY_SPACE = [chr(c) for c in range(0x3001) if chr(c).isspace()]
_ODD = ["\u00a0", "\u200b", "é", "Ü", "ß", "𝄞", "１"]
_TEXT = st.text(alphabet=st.sampled_from(_EVERY_SPACE + list("aB1.,-' ") + _ODD), max_size=6)


def _index(n: int, gaps: list[int]) -> pd.Index:
    """Spreadsheet row numbers with gaps (blank rows left out), as the reader gives them."""
    steps = [1 + g % 3 for g in gaps] + [1] * n
    return pd.Index(2 + np.concatenate([[0], np.cumsum(steps)])[:n], dtype="int64", name="row")


def _as_reader_gives(values: list, index: pd.Index | None = None, name=None) -> pd.Series:
    """A column as the CSV reader gives it: a Categorical, a missing cell NaN."""
    return pd.Series(pd.Categorical(values), index=index, name=name)


def _none_for_missing(s: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in s.astype(object)]


def _assert_same_column(got: pd.Series, expected: pd.Series) -> None:
    pd.testing.assert_series_equal(got, expected, check_exact=True)
    if expected.dtype == object:  # None stays None, NaN stays NaN
        assert [type(v) for v in got] == [type(v) for v in expected]


# --- reading: the parser's categories are its texts ------------------------------------------------

_CSV_CHARS = list('ab1 ,;\t|"\n\'') + ["\r", "\u00a0", "é", "\ufeff", "𝄞", "\x00"]


def _csv_outcome(read):
    try:
        return read().astype(object)
    except Exception as exc:  # noqa: BLE001 (whatever the error, the same one, with the same message)
        return type(exc), str(exc)


def _assert_same_csv(text: str, sep: str, skiprows: int) -> None:
    as_text = _csv_outcome(lambda: pd.read_csv(io.StringIO(text), sep=sep, skiprows=skiprows, dtype=str,
                                               **reading.CSV_OPTIONS))
    as_categories = _csv_outcome(lambda: reading.parse_csv(text.encode("utf-8"), sep, skiprows))
    if isinstance(as_text, tuple):
        assert as_categories == as_text
    else:
        pd.testing.assert_frame_equal(as_categories, as_text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(_CSV_CHARS), max_size=80), st.sampled_from(reading.SEPARATORS),
       st.integers(0, 2))
def test_csv_read_as_categories_has_the_cells_read_as_text(text, sep, skiprows):
    _assert_same_csv(text, sep, skiprows)


def test_csv_read_as_categories_in_chunks_has_the_cells_read_as_text():
    """A file the parser reads in several chunks, each with its own categories."""
    rng = np.random.default_rng(1)
    words = np.array(["U0001", "u0001", " x ", "", "1.500", "é", '"a,b"', "2024Q1", "\u00a0"])
    lines = [",".join(rng.choice(words, size=4)) for _ in range(120_000)]
    _assert_same_csv("unit_id,a,b,c\n" + "\n".join(lines) + "\n", ",", 0)


# --- reading: trimming, blank rows, the cell limit ---------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), _TEXT), max_size=40))
def test_strip_of_a_categorical_equals_strip_cell_by_cell(values):
    got = reading.strip_column(_as_reader_gives(values))
    assert isinstance(got.dtype, pd.CategoricalDtype)
    assert _none_for_missing(got) == [reading.strip_cell(v) for v in values]
    assert got.cat.categories.is_unique and "" not in set(got.cat.categories)


_HEADERS = st.lists(st.sampled_from(["unit_id", " Unit ID ", "unit_name", "region", "REGION", "unit_type", "",
                                     "catatan", "x" * 6]), min_size=1, max_size=5)


@settings(max_examples=300, deadline=None)
@given(_HEADERS, st.lists(st.lists(st.one_of(st.just(""), _TEXT, st.sampled_from(["U1", " U1", "xxxxxx"])),
                                   min_size=5, max_size=5), max_size=25),
       st.sampled_from([4, reading.MAX_CELL_CHARS]))
def test_assemble_of_categorical_columns_equals_assemble_of_text_columns(header, rows, limit):
    """The reader's steps after the parser (cell limit, header, unknown and empty columns, trimming,
    blank rows) give the same table, or the same error, from Categoricals as from text."""
    width = max(len(header), 1)
    rows = [r[:width] for r in rows]
    index = pd.RangeIndex(2, 2 + len(rows))
    as_text = pd.DataFrame(rows, columns=range(width), index=index, dtype="object")
    as_categories = pd.DataFrame({i: pd.Categorical(as_text[i].tolist() + [h]) for i, h in enumerate(header)}
                                 ).iloc[:-1].set_axis(index)  # the header's text among the categories, as read
    spec, path = TABLES["units"], Path(__file__)

    def assemble(body):
        try:
            with mock.patch.object(reading, "MAX_CELL_CHARS", limit):
                table = reading.assemble_table(spec, path, header, body, 1, "csv")
        except ReadError as exc:
            return exc.problem
        data = table.data.astype(object).where(table.data.notna(), None)
        return data, table.ignored_columns, table.blank_rows

    expected = assemble(as_text)
    for body in (as_categories, as_text.astype("str")):  # as read now, and as the parser read it before
        got = assemble(body)
        if not isinstance(expected, tuple):
            assert got == expected
            continue
        pd.testing.assert_frame_equal(got[0], expected[0], check_exact=True)
        assert got[1:] == expected[1:]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet="ab é", max_size=7)), max_size=30), st.integers(0, 6))
def test_first_long_cell_of_a_categorical_equals_the_cell_by_cell_search(values, limit):
    with mock.patch.object(reading, "MAX_CELL_CHARS", limit):
        got = reading.first_long_cell(_as_reader_gives(values + ["x" * 8]).iloc[:-1])  # a long text no cell holds
        expected = reading.first_long_cell(pd.Series(values, dtype=object))
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("a \n\t") + ["\u00a0", "\u3000", "\r"]), max_size=40), st.integers(0, 5))
def test_first_lines_and_the_empty_test_equal_split_and_strip(text, n):
    assert reading.first_lines(text, n) == text.split("\n", n)[:n]
    assert (not text or text.isspace()) == (not text.strip())


# --- typing: parse_column on distinct values equals parse_column cell by cell ------------------------

def _old_parse_column(table: Table, column: Column, values: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
    """parse_column before the distinct values (commit 3f1401e), verbatim."""
    name, kind = column.name, column.kind
    if kind != "text":
        values = normalise_unicode(values)
    present = values.notna()
    empty = pd.DataFrame()

    def failures(parsed_missing: pd.Series, check: str, message: str) -> pd.DataFrame:
        bad = present & parsed_missing
        if not bad.any():
            return empty
        rule = message[len(name) + 1:] if message.startswith(name + " ") else message
        texts = [f'{name} "{shorten(v)}" {rule}' for v in values[bad]]
        return parsing.problem_rows(table.name, name, values.index[bad], values[bad], check, texts)

    if kind in ("id", "text"):
        return values.astype("object"), empty
    if kind == "nip":
        return nip.clean(values), empty
    if kind == "key":
        if column.allow_star:
            star = values.astype("object").eq("*")
            keyed = codes.normalise_key(values)
            return keyed.where(~star, "*"), empty
        return codes.normalise_key(values), empty
    if kind == "competency":
        return codes.normalise_competency_code(values), empty
    if kind == "code":
        allowed = codes.CODE_LISTS[column.codes]
        parsed = codes.normalise(values, column.codes)
        return parsed, failures(parsed.isna(), "unknown_code",
                                f"{name} must be one of: {', '.join(allowed)}")
    if kind == "period":
        parsed = periods.normalise_periods(values)
        return parsed, failures(parsed.isna(), "wrong_type",
                                f"{name} must be a period such as 2024, 2024Q1, 2024S1 or 2024-03")
    if kind == "period_or_date":
        parsed = adoption_periods(values)
        return parsed, failures(parsed.isna(), "wrong_type",
                                f"{name} must be a period such as 2024Q1 or 2024-03, or a date")
    if kind in ("float", "money"):
        parsed = parse_number(values, money=kind == "money")
        return parsed, failures(parsed.isna(), "wrong_type", f"{name} must be a number")
    if kind == "int":
        num = parse_number(values)
        not_int = num.notna() & (num != num.round())
        parsed = num.where(~not_int).round().astype("Int64")
        probs = [failures(num.isna(), "wrong_type", f"{name} must be a whole number"),
                 failures(not_int, "wrong_type", f"{name} must be a whole number, not a decimal")]
        return parsed, pd.concat([p for p in probs if len(p)]) if any(len(p) for p in probs) else empty
    if kind == "date":
        parsed = parse_date(values)
        return parsed, failures(parsed.isna(), "wrong_type",
                                f"{name} must be a date (YYYY-MM-DD or DD/MM/YYYY)")
    if kind == "bool":
        parsed = parse_bool(values)
        return parsed, failures(parsed.isna(), "wrong_type", f"{name} must be yes/no (ya/tidak, true/false, 1/0)")
    raise ValueError(f"unknown column kind {kind}")


# texts as exports write them, for every kind of column (after trimming: no surrounding spaces)
_WRITTEN = [
    "1.500", "3,5", "Rp 1.500.000", "1,234.5", "1.234,5", "１２", "95%", "1e5", "delapan", "-4", "0", "7.0",
    "3.5", "1.2.3", "12,34,567", "3\u00a0000", "250.000", "1,500",
    "15/03/1985", "15 Maret 1985", "1985-02-30", "45000", "45000.5", "19850315", "2 Mei 2024", "1985-03-15 00:00:00",
    "１９８５-０３-１５", "2024 Q1", "2024q2", "2024-03", "2024S1", "２０２４", "2023-07-15", "tahun lalu", "2024",
    "Di Atas Ekspektasi", "di_atas", "Luar Biasa", "ＰＮＳ", "p3k", "Laki-laki", "X", "atasan langsung", "Diklat",
    "ya", "Tidak", "TRUE", "mungkin", "u0001", "U0001", "Ｕ０００２", "*", "m1", "sk.1", "T.Guru.01",
    "19850315 201001 2 002", "'198503152010012002", "1.98503152010012E+17", "198503152010012000.0",
    "１９８５０３１５２０１００１２００２", "199109092016061008", "Café", "名前", "𝄞", "a\u00a0b", "=1+1",
]
_COLUMNS = [(t.name, c.name) for t in TABLES.values() for c in t.columns]


def _pools(*extra):
    """A few values (a column repeats few), drawn into cells with missing ones among them."""
    value = st.one_of(st.sampled_from(_WRITTEN), _TEXT.filter(str.strip), *extra)
    return st.lists(value, min_size=1, max_size=6).flatmap(
        lambda pool: st.lists(st.sampled_from(pool + [None]), max_size=40))


def _assert_same_parse(parse, spec: Table, column: Column, given_as: pd.Series, cells: pd.Series) -> None:
    """parse(given_as) types and reports as the old parse_column did cell by cell (or fails as it did)."""
    try:
        expected = _old_parse_column(spec, column, cells)
    except Exception as exc:  # noqa: BLE001 ("inf" in a whole-number column cannot be typed, before as now)
        with pytest.raises(type(exc)):
            parse(spec, column, given_as)
        return
    got_values, got_problems = parse(spec, column, given_as)
    _assert_same_column(got_values, expected[0])
    pd.testing.assert_frame_equal(got_problems, expected[1], check_exact=True)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_COLUMNS), _pools(), st.lists(st.integers(1, 5), max_size=40))
def test_parse_column_of_distinct_texts_equals_parse_column_cell_by_cell(where, values, gaps):
    spec = TABLES[where[0]]
    column = spec.column_map[where[1]]
    index = _index(len(values), gaps)
    cells = pd.Series(values, index=index, dtype=object, name=column.name)
    for given_as in (cells, _as_reader_gives(values, index, column.name)):
        _assert_same_parse(parsing.parse_column, spec, column, given_as, cells)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_COLUMNS),
       _pools(st.integers(-10**18, 10**18), st.floats(allow_nan=True), st.booleans(), st.just(float("nan")),
              st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1))),
       st.lists(st.integers(1, 5), max_size=40))
def test_parse_column_of_a_workbooks_numbers_and_dates_equals_parse_column_cell_by_cell(where, values, gaps):
    """Cells that are not all text (numbers, dates, NaN: what a workbook or a caller may hand in) are
    typed one by one, as before."""
    spec = TABLES[where[0]]
    column = spec.column_map[where[1]]
    cells = pd.Series(values, index=_index(len(values), gaps), dtype=object, name=column.name)
    _assert_same_parse(parsing.parse_column, spec, column, cells, cells)


@settings(max_examples=200, deadline=None)
@given(_pools(st.integers(0, 3), st.just(float("nan"))))
def test_distinct_values_give_back_every_cell_and_its_equals(values):
    for given_as, expected in ((pd.Series(values, dtype=object), pd.Series(values, dtype=object)),
                               (_as_reader_gives([v for v in values if not isinstance(v, (int, float))]), None)):
        column = Distinct.of(given_as)
        if expected is None:  # a Categorical: its missing cells are None
            expected = pd.Series(_none_for_missing(given_as), dtype=object)
        _assert_same_column(column.column(), expected)
        groups, want = column.group_codes(), pd.factorize(expected)[0]
        assert (pd.Series(groups).groupby(want).nunique() == 1).all()  # equal values, one code
        assert (pd.Series(want).groupby(groups).nunique() == 1).all()  # one code, equal values


# --- the schema, case variants, references ----------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0, 1, 5, 2**31, 2**40]), min_size=1, max_size=4), st.integers(0, 40),
       st.integers(0, 2**32 - 1))
def test_repeated_codes_are_found_as_duplicated_finds_them(tops, n, seed):
    """Codes from -1 (missing) to a top one; with large tops the combined numbers are renumbered."""
    rng = np.random.default_rng(seed)
    columns = [rng.choice(np.array([-1, 0, top // 2, top], dtype=np.int64), size=n) for top in tops]
    expected = bool(pd.DataFrame(dict(enumerate(columns))).duplicated().any())
    assert schemas.key_repeats(columns) == expected


_SCHEMA_TABLES = ["feedback_360", "service_outcomes", "employees", "training_catalog", "units", "targets"]
_SMALL = {  # few values per column, so that keys repeat and ranges fail
    "nip": ["199109092016061008", "198503152010012002", "1985031520100120002"],
    "id": ["U1", "u1", "U2", "ß", "SS", "ss"], "period": ["2024", "2024Q1", "2024 q1", "x"],
    "code": None, "int": ["0", "1", "5", "6", "-1", "1,5"], "float": ["0", "25", "100", "150", "-0,5", "abc"],
    "money": ["0", "Rp 1.500", "-1"], "date": ["2024-01-01", "1/1/2024", "x"], "bool": ["ya", "t", "?"],
    "key": ["Guru", "guru", "*"], "text": ["a", "b"], "competency": ["M.01", "m1", "T.x.1"],
    "period_or_date": ["2024Q1"],
}


def _typed_table(spec: Table, data) -> tuple[pd.DataFrame, dict[str, Distinct]]:
    """A typed table as validation types it: each column parsed, with its distinct values."""
    columns = [c for c in spec.columns if c.name in data]
    index = pd.RangeIndex(2, 2 + len(data[columns[0].name]), name="row")
    cells = {c.name: parsing.parse_distinct(spec, c, _as_reader_gives(data[c.name], index, c.name))[0]
             for c in columns}
    return pd.DataFrame({name: d.column() for name, d in cells.items()}, index=index), cells


def _in_range(column: Column, texts: list[str]) -> list[str]:
    lo, hi = column.min, column.max
    return [t for t in texts if (lo is None or float(t) > lo or float(t) == lo and not column.min_exclusive)
            and (hi is None or float(t) <= hi)]


_EITHER = st.booleans()
_CLEAN = {"nip": _SMALL["nip"][:2], "id": ["U1", "U2", "u3"], "period": ["2024", "2024Q1"], "bool": ["ya", "t"],
          "date": ["2024-01-01"], "key": ["guru"], "competency": ["M.01"], "text": ["a"], "period_or_date": ["2024Q1"]}


@st.composite
def _raw_table(draw, tables=tuple(_SCHEMA_TABLES), clean=_EITHER):
    """A table's cells: dirty (missing values, values out of range, repeated keys) or, half the time,
    clean (then the quick pass must say so, and the schema agree)."""
    spec = TABLES[draw(st.sampled_from(tables))]
    clean = draw(clean)
    n = draw(st.integers(1, 2 if clean else 12))
    data = {}
    for c in spec.columns:
        if c.optional and draw(st.booleans()):
            continue
        if c.kind == "code":
            pool = [codes.CODE_LISTS[c.codes][0], codes.CODE_LISTS[c.codes][-1]] + ([] if clean else ["??"])
        elif c.kind in ("int", "float", "money") and clean:
            pool = _in_range(c, ["1", "2", "5", "25", "100"])
        else:
            pool = (_CLEAN if clean else _SMALL)[c.kind]
        if not clean or c.missing != "error":
            pool = pool + [None]
        unique = clean and c.name == spec.key[0]
        data[c.name] = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n, unique=unique))
    return spec, data


@settings(max_examples=60, deadline=None)  # pandera takes a tenth of a second a table
@given(_raw_table())
def test_schema_check_with_its_quick_pass_equals_the_schema_alone(drawn):
    spec, data = drawn
    typed, cells = _typed_table(spec, data)
    with mock.patch.object(schemas, "passes_checks", return_value=False):
        expected = schemas.check(spec, typed)
    got = schemas.check(spec, typed, cells)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    if schemas.passes_checks(spec, typed, cells):
        assert expected.empty


@settings(max_examples=100, deadline=None)
@given(_raw_table(tables=("units", "targets", "training_catalog"), clean=st.just(False)))
def test_case_variants_with_their_quick_test_equal_the_full_search(drawn):
    spec, data = drawn
    typed, _ = _typed_table(spec, data)
    with mock.patch.object(validation, "_has_case_variants", return_value=True):
        expected = validation.check_case_variants(spec, typed)
    pd.testing.assert_frame_equal(validation.check_case_variants(spec, typed), expected, check_exact=True)


@settings(max_examples=200, deadline=None)
@given(_pools(), st.lists(st.sampled_from(["U1", "u1", "U0001", "Café", "ß"]), max_size=4))
def test_dangling_references_on_distinct_values_equal_isin_cell_by_cell(values, known):
    spec = TABLES["org_ratings"]
    typed, _ = parsing.parse_distinct(spec, spec.column_map["unit_id"], _as_reader_gives(values))
    column = typed.column()
    expected = (column.notna() & ~column.isin(pd.Index(known))).to_numpy()
    assert (validation.unknown_values(typed, pd.Index(known)) == expected).all()


@pytest.mark.parametrize("rows", [0, 1])
def test_distinct_of_an_empty_or_all_missing_column(rows):
    column = Distinct.of(_as_reader_gives([None] * rows))
    assert column.column().tolist() == [None] * rows and len(column.group_codes()) == rows
