"""From text cells to typed columns, reporting every cell that cannot be read.

Numbers follow Indonesian habits as well as English ones:
- ``3,5`` is 3.5 (decimal comma); ``1.500.000`` is 1,500,000 (thousands dots);
- when a value has both, the last separator is the decimal one
  (``1.234,5`` and ``1,234.5`` are both 1234.5);
- a single dot followed by exactly three digits (``1.500``) is a thousands
  separator in money columns, and in any column whose other values use decimal
  commas; elsewhere it is a decimal point;
- ``Rp``, spaces and non-breaking spaces are ignored; ``%`` is dropped.
Dates are ISO (``2024-03-15``) or day first (``15/03/2024``, ``15-03-2024``,
``15.03.2024``), or Excel serial day numbers.

Every cell that is not free text (identifiers, NIPs, codes, periods, numbers,
dates) is first put in Unicode NFKC form (``normalise_unicode``): full-width
digits and letters typed with an Asian keyboard layout (``１９８５…``, ``Ｕ０１``)
become the ASCII ones, so the same NIP or unit id is the same value however it
was typed (and gets the same pseudonym). Free text (names) is left as written.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata

import numpy as np
import pandas as pd

from analysis.core import codes, periods
from analysis.data import nip
from analysis.data.contract import Column, Table
from analysis.data.distinct import Distinct
from analysis.data.problems import shorten

_BOOL = {
    "true": True, "false": False, "ya": True, "tidak": False, "y": True, "t": False,
    "yes": True, "no": False, "n": False, "1": True, "0": False, "benar": True, "salah": False,
    "ada": True, "tidak_ada": False, "1_0": True, "0_0": False,
}
_THOUSANDS_DOTS = r"^-?\d{1,3}(?:\.\d{3})+$"
_THOUSANDS_COMMAS = r"^-?\d{1,3}(?:,\d{3})+$"


def problem_rows(table: str, column: str, rows: pd.Index, values: pd.Series, check: str,
                 message: str, severity: str = "error") -> pd.DataFrame:
    return pd.DataFrame({
        "severity": severity, "table": table, "row": rows.to_numpy(), "column": column,
        "check": check, "value": values.to_numpy(), "message": message,
    })


def normalise_unicode(values: pd.Series) -> pd.Series:
    """Text cells in Unicode NFKC form (``１２`` -> ``12``); ASCII cells, and the rest, as they are.

    Each distinct non-ASCII text is normalised once.
    """
    s = values.astype("object")
    present = s.notna()
    if not present.any():
        return s
    mapping = {u: unicodedata.normalize("NFKC", u) for u in pd.unique(s[present])
               if isinstance(u, str) and not u.isascii()}
    mapping = {k: v for k, v in mapping.items() if k != v}
    if not mapping:
        return s
    out = s.copy()
    hit = s.isin(list(mapping))
    out[hit] = s[hit].map(mapping)
    return out


def parse_number(values: pd.Series, money: bool = False, comma_decimals: bool | None = None) -> pd.Series:
    """Float values of text cells; NaN where a cell is not a number (or is empty).

    Each distinct text is read once (a column repeats few values), by the
    rules of the module docstring. ``comma_decimals``: whether the column writes
    decimals with a comma, when the caller knows it from more cells than these
    (the other parts of a partitioned table); else decided from these.
    """
    s = values.astype("object")
    present = s.notna()
    result = pd.Series(np.nan, index=s.index, dtype="float64")
    if not present.any():
        return result
    uniques = pd.unique(s[present])
    cleaned = [_clean_number(u) for u in uniques]
    # does this column write decimals with a comma anywhere? then '1.500' is 1500
    if comma_decimals is None:
        comma_decimals = any(_decimal_comma(t) for t in cleaned)
    thousands_ok = money or comma_decimals
    texts = [_number_text(t, money, thousands_ok) for t in cleaned]
    numbers = pd.to_numeric(pd.Series(texts, dtype="object"), errors="coerce").astype("float64")
    mapping = dict(zip(uniques, numbers.to_numpy()))
    result[present] = s[present].map(mapping).astype("float64")
    return result


NUMBER_KINDS = ("float", "money", "int")  # the kinds whose cells parse_number reads


def number_convention(values: pd.Series, money: bool = False) -> tuple[bool, bool]:
    """Of a column of number texts: whether some cell writes decimals with a comma, and whether some
    cell reads differently with and without that convention ('1.500': 1500 or 1.5). A table read in
    parts agrees on the convention when no part has a cell of the second kind in a column another
    part writes with decimal commas."""
    uniques = pd.unique(values.dropna().astype("object"))
    cleaned = [_clean_number(u) for u in uniques]
    comma = any(_decimal_comma(t) for t in cleaned)
    ambiguous = not money and any(_number_text(t, False, True) != _number_text(t, False, False) for t in cleaned)
    return comma, ambiguous


def _clean_number(value) -> str:
    return _JUNK.sub("", _RP.sub("", str(value), count=1))


_RP = re.compile(r"(?i)^\s*rp\.?")
_JUNK = re.compile(r"[\s\u00a0%]")
_DOTS_RE = re.compile(_THOUSANDS_DOTS)
_COMMAS_RE = re.compile(_THOUSANDS_COMMAS)


def _decimal_comma(t: str) -> bool:
    """A value that can only be read with a decimal comma ('3,5', '1.234,5')."""
    if "," not in t:
        return False
    if "." in t:
        return t.rfind(",") > t.rfind(".")
    return not _COMMAS_RE.match(t)


def _number_text(t: str, money: bool, thousands_ok: bool) -> str:
    """A cleaned cell rewritten with '.' as the only (decimal) separator; 'x' if impossible."""
    has_comma, has_dot = "," in t, "." in t
    if has_comma and has_dot:  # both: the last one is the decimal separator
        if t.rfind(",") > t.rfind("."):
            return t.replace(".", "").replace(",", ".")
        return t.replace(",", "")
    if has_comma:
        grouped = bool(_COMMAS_RE.match(t))
        if grouped and money:
            return t.replace(",", "")
        if t.count(",") > 1:
            return t.replace(",", "") if grouped else "x"
        return t.replace(",", ".")
    if has_dot:  # several dots, or one with three digits in money (or comma-decimal) columns
        dotted = bool(_DOTS_RE.match(t))
        several = t.count(".") > 1
        if dotted and (several or thousands_ok):
            return t.replace(".", "")
        if several:
            return "x"  # '1.2.3' is not a number
    return t


_MONTH_NAMES = (
    ("januari", "january", "jan"), ("februari", "february", "feb", "pebruari", "peb"),
    ("maret", "march", "mar"), ("april", "apr"), ("mei", "may"), ("juni", "june", "jun"),
    ("juli", "july", "jul"), ("agustus", "august", "agu", "agt", "aug"),
    ("september", "sep", "sept"), ("oktober", "october", "okt", "oct"),
    ("november", "nov", "nop", "nopember"), ("desember", "december", "des", "dec"),
)
_MONTHS = {name: i + 1 for i, names in enumerate(_MONTH_NAMES) for name in names}


def adoption_periods(values: pd.Series) -> pd.Series:
    """Periods as they are; dates (an export of the decree date, say) become the first whole month
    from that date: 2023-07-01 → 2023-07, 2023-07-15 → 2023-08. Unreadable: None."""
    parsed = periods.normalise_periods(values)
    todo = parsed.isna() & values.notna()
    if todo.any():
        d = parse_date(values[todo])
        ok = d.notna()
        start = d[ok].dt.to_period("M") + (d[ok].dt.day > 1).astype(int).to_numpy()
        parsed.loc[start.index] = start.astype(str).to_numpy()
    return parsed


def parse_date(values: pd.Series, first: tuple[str, ...] = ()) -> pd.Series:
    """Dates from ISO, day-first, named-month or Excel-serial text; NaT where unreadable. The formats
    ``first`` (an import profile's) are tried before the others: they decide 01-02-2024."""
    s = values.astype("object")
    result = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    present = s.notna()
    if not present.any():
        return result
    t = s[present].astype(str).str.strip()
    todo = pd.Series(True, index=t.index)
    for fmt in (*first, "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y",
                "%Y/%m/%d", "%Y%m%d", "%d/%m/%y"):
        if not todo.any():
            break
        parsed = pd.to_datetime(t[todo], format=fmt, errors="coerce")
        ok = parsed.notna()
        result[parsed[ok].index] = parsed[ok]
        todo[parsed[ok].index] = False
    if todo.any():
        # "15 Maret 2024", "15-Mar-2024", "15 March 2024": month names in Bahasa Indonesia or English
        named = t[todo].str.lower().str.extract(r"^(\d{1,2})[\s\-/.]+([a-z]+)\.?[\s\-/.]+(\d{4})$")
        month = named[1].map(_MONTHS)
        ok = month.notna()
        if ok.any():
            text = named.loc[ok, 2] + "-" + month[ok].astype(int).astype(str) + "-" + named.loc[ok, 0]
            parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
            good = parsed.notna()
            result[parsed[good].index] = parsed[good]
            todo[parsed[good].index] = False
    if todo.any():
        # Excel serial day numbers (1955-2064), as a typed Excel cell may arrive
        serial = pd.to_numeric(t[todo], errors="coerce")
        ok = serial.between(20000, 60000) & (serial == serial.round())
        if ok.any():
            result[serial[ok].index] = pd.Timestamp("1899-12-30") + pd.to_timedelta(serial[ok], unit="D")
    return result


def parse_bool(values: pd.Series) -> pd.Series:
    s = values.astype("object")
    keys = codes.normalise_key(s)
    return keys.map(_BOOL).astype("boolean")


def parse_column(table: Table, column: Column, values: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
    """Typed values of one column, and the problems with cells that could not be read."""
    typed, problems = parse_distinct(table, column, values)
    return typed.column(), problems


def parse_distinct(table: Table, column: Column, values: pd.Series,
                   comma_decimals: bool | None = None) -> tuple[Distinct, pd.DataFrame]:
    """``parse_column``, with the typed column as its distinct values and each cell's code.

    Each distinct text is typed once (see ``distinct``) and its result given to every cell that
    holds it; a cell that cannot be read is reported on its own row. ``comma_decimals``: as
    ``parse_number``'s, for a number column."""
    cells = Distinct.of(values)
    distinct = cells.values if column.kind == "text" else normalise_unicode(cells.values)
    parsed, failing = _parse(column, distinct, comma_decimals)
    present = distinct.notna()
    problems = [_failures(table.name, column.name, cells, distinct, present & missing, check, message)
                for missing, check, message in failing]
    problems = [p for p in problems if len(p)]
    return dataclasses.replace(cells, values=parsed), pd.concat(problems) if problems else pd.DataFrame()


def _failures(table: str, name: str, cells: Distinct, values: pd.Series, bad: pd.Series, check: str,
              message: str) -> pd.DataFrame:
    """A problem for each cell holding one of the ``bad`` values; each message quotes its cell
    (``name "x" must be…``)."""
    if not bad.any():
        return pd.DataFrame()
    rule = message[len(name) + 1:] if message.startswith(name + " ") else message
    texts = pd.Series(None, index=values.index, dtype="object")
    texts[bad] = [f'{name} "{shorten(v)}" {rule}' for v in values[bad]]
    where = cells.spread_mask(bad)
    return problem_rows(table, name, cells.index[where], cells.at(values, where), check,
                        cells.at(texts, where).to_numpy())


# a way a cell can fail: (which values failed, check, message)
Failing = tuple[pd.Series, str, str]


def _parse(column: Column, values: pd.Series, comma_decimals: bool | None = None) -> tuple[pd.Series, list[Failing]]:
    """Typed values (of cells already in NFKC form, except free text), and how they can fail."""
    name, kind = column.name, column.kind
    if kind in ("id", "text"):
        return values.astype("object"), []
    if kind == "nip":
        return nip.clean(values), []
    if kind == "key":
        if column.allow_star:
            star = values.astype("object").eq("*")
            keyed = codes.normalise_key(values)
            return keyed.where(~star, "*"), []
        return codes.normalise_key(values), []
    if kind == "competency":
        return codes.normalise_competency_code(values), []
    if kind == "code":
        allowed = codes.CODE_LISTS[column.codes]
        parsed = codes.normalise(values, column.codes)
        return parsed, [(parsed.isna(), "unknown_code", f"{name} must be one of: {', '.join(allowed)}")]
    if kind == "period":
        parsed = periods.normalise_periods(values)
        return parsed, [(parsed.isna(), "wrong_type",
                         f"{name} must be a period such as 2024, 2024Q1, 2024S1 or 2024-03")]
    if kind == "period_or_date":
        parsed = adoption_periods(values)
        return parsed, [(parsed.isna(), "wrong_type",
                         f"{name} must be a period such as 2024Q1 or 2024-03, or a date")]
    if kind in ("float", "money"):
        parsed = parse_number(values, money=kind == "money", comma_decimals=comma_decimals)
        return parsed, [(parsed.isna(), "wrong_type", f"{name} must be a number")]
    if kind == "int":
        num = parse_number(values, comma_decimals=comma_decimals)
        not_int = num.notna() & (num != num.round())
        parsed = num.where(~not_int).round().astype("Int64")
        return parsed, [(num.isna(), "wrong_type", f"{name} must be a whole number"),
                        (not_int, "wrong_type", f"{name} must be a whole number, not a decimal")]
    if kind == "date":
        parsed = parse_date(values)
        return parsed, [(parsed.isna(), "wrong_type", f"{name} must be a date (YYYY-MM-DD or DD/MM/YYYY)")]
    if kind == "bool":
        parsed = parse_bool(values)
        return parsed, [(parsed.isna(), "wrong_type", f"{name} must be yes/no (ya/tidak, true/false, 1/0)")]
    raise ValueError(f"unknown column kind {kind}")
