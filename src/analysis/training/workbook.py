"""The workshop plan as an Excel workbook a trainer can use as it is.

Sheets: a summary (what the plan is, budget, cost, gap closed, people reached, JP, and the
funded workshops); the budget (one cost line per classroom cohort and per non-classroom
programme and region: participants x fee, trainer-days x rate, venue-days x rate, each line and
the totals as formulas, so that a trainer who changes a number sees the totals follow; the budget
and what is left); one sheet per funded classroom cohort with its schedule fields and roster;
the funded non-classroom places; and who is left out and why.

Privacy. Rosters name people: the caller passes pseudonymised ids (or NIPs when
pseudonymisation is switched off), and with ``restricted=True`` every sheet carries the
"TERBATAS / RESTRICTED" banner, because the workbook holds rosters and its sheets get copied
around. With ``restricted=False`` (a version for circulation) the sheets that name people are
left out, and the left-out list becomes counts by reason, region and competency with counts
below ``min_cell`` blanked.

The cell values depend only on the inputs (sorted orders, no dates), so the same plan gives the
same workbook, byte for byte (the document's dates are fixed).

Spreadsheet safety. Names, providers, regions and competency names come from the data and may
begin with ``=``: every cell is written as the text it is, treated as ``core.cells.write_cell``
treats it (characters a worksheet cannot hold become U+FFFD, a text that would start a formula
gets the quote prefix), and only the budget's own sums and products are formulas.

Writing. The workbooks are written with XlsxWriter in ``constant_memory`` mode: each sheet row by
row, in order, each row flushed to a temporary file in a private folder beside the result, so
that memory stays flat for 100,000 employees and restricted rows never go to the system's
temporary folder. Column widths are measured from the values as they are written. The file
appears at its path only when complete (written under a temporary name, then renamed).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from collections import namedtuple
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from analysis.core import i18n
from analysis.core.cells import starts_formula
from analysis.core.codes import label
from analysis.core.disclosure import protect
from analysis.core.jsonsafe import scalar
from analysis.core.privacy import RESTRICTED_LABEL
from analysis.training.workshops import REASONS, WorkshopPlan, need_table

RUPIAH = '"Rp" #,##0'
ONE_DECIMAL = "0.0"
TWO_DECIMALS = "0.00"
INTEGER = "0"
# the cell styles (XlsxWriter format properties); a number format and the quote prefix are added per cell
_STYLES = {
    "banner": {"bold": True, "font_color": "#9C0006", "pattern": 1, "bg_color": "#F8CBAD"},
    "banner_fill": {"pattern": 1, "bg_color": "#F8CBAD"},
    "title": {"bold": True, "font_size": 14},
    "subtitle": {},  # one line, as it is (no wrapping: the default)
    "header": {"bold": True, "pattern": 1, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top"},
    "bold": {"bold": True},
}
_BANNER_COLUMNS = 8  # the banner's fill runs over A:H
_FORMULA_WIDTH = 16  # the width counted for a cell holding one of the budget's formulas


def text(key: str, lang: str, **fields) -> str:
    """Text from the translation table (messages.yaml)."""
    return i18n.t(key, lang, **fields)


_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_TRAILING = re.compile(r"[\s']+\Z")  # spaces, and apostrophes (Excel refuses a name ending with one)


def _utf16_cut(s: str, n: int) -> str:
    """``s`` cut to at most ``n`` UTF-16 code units (how Excel counts), never inside a surrogate pair."""
    if len(s) <= n // 2 or len(s.encode("utf-16-le")) <= 2 * n:
        return s[:n]
    return s.encode("utf-16-le")[:2 * n].decode("utf-16-le", errors="ignore")


def sheet_name(base: str, used: set[str]) -> str:
    """An Excel-safe sheet name (<= 31 characters, no []:*?/\\, not beginning or ending with an
    apostrophe, unique ignoring case)."""
    name = _UNWRITABLE.sub("-", _BAD_SHEET_CHARS.sub("-", str(base))).replace("\ufffe", "-").replace("\uffff", "-")
    name = name.strip().strip("'") or "Sheet"
    name = _TRAILING.sub("", _utf16_cut(name, 31)) or "Sheet"
    candidate, k = name, 2
    while candidate.lower() in used:
        suffix = f" ({k})"
        candidate = _utf16_cut(name, 31 - len(suffix)).rstrip() + suffix
        k += 1
    used.add(candidate.lower())
    return candidate


def _quoted(sheet: str) -> str:
    """A sheet name as it goes between the quotes of a reference ('O''Brien'!A1)."""
    return sheet.replace("'", "''")


# --- cell writing ---------------------------------------------------------------------------
# Text from the data is written as text (XlsxWriter's write_string, its options that would turn
# strings into formulas, links or numbers switched off), treated as core.cells.write_cell treats it;
# only the budget's own formulas are written with write_formula.

_OPTIONS = {
    "constant_memory": True,  # rows flushed in order: memory does not grow with the rows
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": False,
}
_FIXED = (2000, 1, 1, 0, 0, 0)
_MAX_TEXT = 32767  # characters in a cell (Excel's limit, in UTF-16 code units)
_MAX_ROW, _MAX_COLUMN = 1_048_576, 16_384  # a worksheet's size
# what write_cell replaces by U+FFFD (control characters but tab, LF and CR), and lone surrogates, which
# no file can hold either
_UNWRITABLE = re.compile(ILLEGAL_CHARACTERS_RE.pattern + r"|[\ud800-\udfff]")
# a text needing more than write_string: those characters, a carriage return, a formula's first character
_SPECIAL = re.compile(r"[\x00-\x08\x0b-\x1f\ud800-\udfff]|^[=+\-@\t]")
_DATE_FORMATS = {datetime: "yyyy-mm-dd h:mm:ss", date: "yyyy-mm-dd", time: "h:mm:ss", timedelta: "[hh]:mm:ss"}


def _text(value: str) -> tuple[str, bool]:
    """A text from the data as it is written, and whether it gets the quote prefix: what
    ``core.cells.write_cell`` stored (characters a worksheet cannot hold as U+FFFD, at most 32,767
    characters, the quote prefix where a spreadsheet would read a formula), with its carriage returns
    as line feeds, as anyone reading the openpyxl workbook saw them (an XML reader turns a written CR
    or CR LF into LF)."""
    value = _UNWRITABLE.sub("\ufffd", value)
    if len(value) > _MAX_TEXT // 2:
        value = _utf16_cut(value[:_MAX_TEXT], _MAX_TEXT)
    quote = starts_formula(value)
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value, quote


def _width(value, rupiah: bool) -> int:
    """The characters a value takes as shown (the widest line of a text)."""
    if isinstance(value, str):
        return len(value) if "\n" not in value else max(len(s) for s in value.split("\n"))
    if rupiah and isinstance(value, (int, float)):
        return len(f"Rp {value:,.0f}")
    if isinstance(value, float):
        return len(f"{value:,.2f}")
    return max(len(s) for s in str(value).split("\n"))


def _widest(values, fmt: str | None) -> int | None:
    """The widest of a column's values (None where all are missing)."""
    rupiah = fmt == RUPIAH
    widest = None
    for v in values:
        if v is None:
            continue
        n = (len(v) if "\n" not in v else _width(v, rupiah)) if type(v) is str else _width(v, rupiah)
        if widest is None or n > widest:
            widest = n
    return widest


class _Book:
    """An XlsxWriter workbook written under a temporary name in a private folder beside ``path``,
    moved to ``path`` once complete (``with _Book(path) as book: ...``)."""

    def __init__(self, path: Path):
        self.path = path
        self._dir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        self._tmp = self._dir / path.name
        self._formats: dict[tuple, object] = {}
        self.sheets: list[_Sheet] = []
        try:
            self.wb = xlsxwriter.Workbook(str(self._tmp), {**_OPTIONS, "tmpdir": str(self._dir)})
            # the same content gives the same bytes: a fixed date in the document properties (XlsxWriter
            # gives every zip entry a fixed date of its own)
            self.wb.set_properties({"author": "asn-workbench", "created": datetime(*_FIXED)})
            self.unstyled = self.wb.add_format()  # for links, which XlsxWriter would show blue, underlined
        except BaseException:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise

    def __enter__(self) -> _Book:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                for s in self.sheets:
                    s.finish()
                self.wb.close()
                os.replace(self._tmp, self.path)
            else:
                for s in self.sheets:
                    s.release()
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)  # the sheets' row files, and the file if it failed

    def sheet(self, name: str) -> _Sheet:
        if self.sheets:
            self.sheets[-1].finish()
        s = _Sheet(self, self.wb.add_worksheet(name))
        self.sheets.append(s)
        return s

    def fmt(self, style: str | None = None, num: str | None = None, quote: bool = False):
        """The cell format for a style, a number format and the quote prefix (None: no format)."""
        key = (style, num, quote)
        if key not in self._formats:
            props = dict(_STYLES[style]) if style else {}
            if num:
                props["num_format"] = num
            if quote:
                props["quote_prefix"] = True
            self._formats[key] = self.wb.add_format(props) if props else None
        return self._formats[key]


class _Sheet:
    """One worksheet, written row after row (rows and columns numbered from 1, as in Excel), with the
    widest value of each column at or below ``measure_from`` (titles and key figures above it are
    not counted)."""

    def __init__(self, book: _Book, ws):
        self.book, self.ws = book, ws
        self.measure_from: int | None = None
        self.widths: dict[int, int] = {}
        self.least: dict[int, int] = {}
        self._finished = False

    @staticmethod
    def _check(row: int, column: int) -> None:
        """An error, as openpyxl gave, where XlsxWriter would leave the cell out without a word."""
        if not (1 <= row <= _MAX_ROW and 1 <= column <= _MAX_COLUMN):
            raise ValueError(f"a worksheet has rows 1 to {_MAX_ROW:,} and columns 1 to {_MAX_COLUMN:,}: "
                             f"no cell at row {row:,}, column {column:,}")

    def _measure(self, row: int, column: int, n: int | None) -> None:
        if n is not None and self.measure_from is not None and row >= self.measure_from:
            if n > self.widths.get(column, -1):
                self.widths[column] = n

    def cell(self, row: int, column: int, value, style: str | None = None, num: str | None = None) -> None:
        """One cell holding ``value`` from the data (a text stays text; None, NaN and "" leave it empty)."""
        self._check(row, column)
        value = scalar(value)
        if value is not None:
            self._measure(row, column, _width(value, num == RUPIAH))
        self._put(row - 1, column - 1, value, self.book.fmt(style, num), style, num)

    def _put(self, r: int, c: int, v, fmt, style, num) -> None:
        ws = self.ws
        t = type(v)
        if t is str or isinstance(v, str):
            if not v:
                if fmt is not None:
                    ws.write_blank(r, c, None, fmt)
                return
            v, quote = _text(str(v))
            if quote:
                fmt = self.book.fmt(style, num, True)
            if v.startswith("<r>") and v.endswith("</r>"):
                # XlsxWriter keeps a text of this form as rich-text XML, unescaped: written in three
                # parts instead, it is escaped like any other
                ws.write_rich_string(r, c, v[0], v[1], v[2:], *([fmt] if fmt is not None else []))
            else:
                ws.write_string(r, c, v, fmt)
        elif v is None:
            if fmt is not None:
                ws.write_blank(r, c, None, fmt)
        elif isinstance(v, (bool, np.bool_)):
            ws.write_boolean(r, c, bool(v), fmt)
        elif isinstance(v, (int, float, Decimal)):
            ws.write_number(r, c, v, fmt)
        elif isinstance(v, (datetime, date, time, timedelta)):
            kind = next(k for k in _DATE_FORMATS if isinstance(v, k))
            ws.write_datetime(r, c, v, self.book.fmt(style, num or _DATE_FORMATS[kind]))
        elif isinstance(v, bytes):
            self._put(r, c, v.decode("utf-8"), fmt, style, num)
        else:
            raise ValueError(f"Cannot convert {v!r} to Excel")

    def formula(self, row: int, column: int, formula: str, value: float, style: str | None = None,
                num: str | None = None) -> None:
        """One of the workbook's own formulas, with ``value`` as its result until Excel recalculates."""
        self._check(row, column)
        self._measure(row, column, _FORMULA_WIDTH)
        self.ws.write_formula(row - 1, column - 1, formula, self.book.fmt(style, num), value)

    def block(self, first_row: int, columns: list[list], formats: list[str | None],
              links: dict[int, str] | None = None, link_column: int = 2) -> int:
        """Rows from ``first_row`` given column by column (plain values: None for missing ones); the
        cells of ``link_column`` in the rows numbered in ``links`` (from 0) link to the place named
        there. Returns the row after the last one."""
        if not columns or not len(columns[0]):
            return first_row
        self._check(first_row + len(columns[0]) - 1, len(columns))
        for j, (values, num) in enumerate(zip(columns, formats), start=1):
            self._measure(first_row, j, _widest(values, num))
        plain = [self.book.fmt(None, num) for num in formats]
        ws, put = self.ws, self._put
        write_string, write_number, write_boolean = ws.write_string, ws.write_number, ws.write_boolean
        special = _SPECIAL.search
        r = first_row - 1
        for i, values in enumerate(zip(*columns)):
            for c, v in enumerate(values):
                t = type(v)
                if t is str:
                    if v and len(v) <= _MAX_TEXT // 2 and not v.startswith("<r>") and special(v) is None:
                        write_string(r, c, v, plain[c])
                    else:
                        put(r, c, v, plain[c], None, formats[c])
                elif t is float or t is int:
                    write_number(r, c, v, plain[c])
                elif t is bool:
                    write_boolean(r, c, v, plain[c])
                else:
                    put(r, c, v, plain[c], None, formats[c])
            if links and i in links:
                self.link(r + 1, link_column, links[i], values[link_column - 1])
            r += 1
        return r + 1

    def rows(self, first_row: int, rows, formats: list[str | None], links: dict[int, str] | None = None) -> int:
        """Rows from ``first_row``, each a list of values; returns the row after the last one."""
        rows = [[scalar(v) for v in values] for values in rows]
        return self.block(first_row, [list(c) for c in zip(*rows)], formats, links)

    def link(self, row: int, column: int, place: str, shown: str) -> None:
        """A cell showing ``shown`` that leads to ``place`` in the workbook (``'Sheet'!A1``), unstyled."""
        if self.ws.write_url(row - 1, column - 1, f"internal:{place}", self.book.unstyled, shown):
            self.cell(row, column, shown)  # past Excel's limit on links (65,530 a sheet): the text alone

    def freeze(self, row: int) -> None:
        """Freeze the rows above ``row``."""
        self.ws.freeze_panes(row - 1, 0)

    def finish(self, minimum: int = 6, maximum: int = 60) -> None:
        """Set the column widths (the widest value + 2, within [minimum, maximum], at least ``least``)
        and let go of the sheet's temporary row file (XlsxWriter would keep one per sheet open)."""
        if self._finished:
            return
        self._finished = True
        widths = {c: max(minimum, min(maximum, n + 2)) for c, n in self.widths.items()}
        for c, n in self.least.items():
            widths[c] = max(widths.get(c, 0), n)
        for c, w in sorted(widths.items()):
            # a width of w characters is w x 7 pixels for Excel's default font: given in pixels, it is
            # stored as w exactly (XlsxWriter's set_column would add Excel's 5 pixels of padding)
            self.ws.set_column_pixels(c - 1, c - 1, 7 * w)
        self.release()

    def release(self) -> None:
        """Close the sheet's temporary row file: in constant_memory mode XlsxWriter keeps one open per
        sheet until the workbook is closed (then reopens it), which a plan with hundreds of cohorts
        would otherwise pay in open files. Without that (private) method, the file stays open."""
        opt_close = getattr(self.ws, "_opt_close", None)
        if opt_close is not None and getattr(self.ws, "constant_memory", False):
            opt_close()


# --- sheet parts ----------------------------------------------------------------------------


def _start(s: _Sheet, title: str, lang: str, restricted: bool, subtitle: str | None = None) -> int:
    """Banner (restricted), title and optional subtitle; returns the next free row."""
    row = 1
    if restricted:
        s.cell(1, 1, f"{RESTRICTED_LABEL} - {text('wb.banner', lang)}", "banner")
        for c in range(2, _BANNER_COLUMNS + 1):
            s.cell(1, c, None, "banner_fill")
        row = 2
    s.cell(row, 1, title, "title")
    row += 1
    if subtitle:
        s.cell(row, 1, subtitle, "subtitle")
        row += 1
    return row + 1


def _header(s: _Sheet, row: int, labels: list[str]) -> None:
    """The bold, filled header row; the column widths count from the sheet's first one on."""
    if s.measure_from is None:
        s.measure_from = row
    for j, lab in enumerate(labels, start=1):
        s.cell(row, j, lab, "header")


# --- content --------------------------------------------------------------------------------


def cluster_label(cluster, name_id, name_en, lang: str) -> str:
    if cluster is None or cluster is pd.NA or (isinstance(cluster, float) and np.isnan(cluster)):
        return text("wb.no_cluster", lang)
    name = name_en if lang == "en" else name_id
    return f"K{int(cluster)} {name}" if isinstance(name, str) and name else f"K{int(cluster)}"


def competency_label(code, name_id, name_en, lang: str) -> str:
    name = name_en if lang == "en" else name_id
    return f"{code} {name}" if isinstance(name, str) and name else str(code)


# all the workbook reads of the candidates
DAY_RATE_COLUMNS = ["trainer_days", "venue_days", "cost_trainers", "cost_venue"]


def day_rates(candidates: pd.DataFrame) -> tuple[float, float]:
    """Trainer and venue day rates implied by the candidates' cost lines (``DAY_RATE_COLUMNS``)."""
    td, vd = candidates["trainer_days"].sum(), candidates["venue_days"].sum()
    tr = float(candidates["cost_trainers"].sum() / td) if td > 0 else 0.0
    vr = float(candidates["cost_venue"].sum() / vd) if vd > 0 else 0.0
    return tr, vr


def nonclassroom_lines(selected: pd.DataFrame) -> pd.DataFrame:
    """Funded non-classroom options per programme and region (their costs are linear in n)."""
    nc = selected[selected["mode"] != "klasikal"]
    if nc.empty:
        return pd.DataFrame(columns=["program_id", "program_name", "provider", "form", "region", "n", "jp", "days",
                                     "trainer_days", "venue_days", "cost_per_participant", "cost"])
    return (nc.groupby(["program_id", "region"], sort=True)
            .agg(program_name=("program_name", "first"), provider=("provider", "first"), form=("form", "first"),
                 n=("n", "sum"), jp=("jp", "first"), days=("days", "first"), trainer_days=("trainer_days", "sum"),
                 venue_days=("venue_days", "sum"), cost_per_participant=("cost_per_participant", "first"),
                 cost=("cost", "sum"))
            .reset_index())


def write_workbook(plan: WorkshopPlan, candidates: pd.DataFrame, needs: pd.DataFrame, path: str | Path,
                   lang: str = "id", min_cell: int = 5, restricted: bool = True) -> Path:
    """Write the plan workbook to ``path`` (see the module docstring); returns the path."""
    if lang not in i18n.LANGUAGES:
        raise ValueError(f"language must be one of {i18n.LANGUAGES}, not {lang!r}")
    path = Path(path)
    sel = plan.selected.sort_values("option_id", kind="stable").reset_index(drop=True)
    classroom = sel[sel["mode"] == "klasikal"].reset_index(drop=True)
    nonclass = nonclassroom_lines(sel)
    trainer_rate, venue_rate = day_rates(candidates if len(candidates) else sel)
    people = _people_lookup(needs, lang)
    used: set[str] = set()

    # sheet names first, so the summary can point to each cohort's sheet
    names = {key: sheet_name(text(f"wb.sheet.{key}", lang), used)
             for key in ("summary", "budget", "nonclassroom", "left_out")}
    cohort_sheets = [sheet_name(f"{i + 1:02d} {r.program_id} {r.region}", used) if restricted else None
                     for i, r in enumerate(classroom.itertuples())]

    path.parent.mkdir(parents=True, exist_ok=True)
    with _Book(path) as book:
        _summary(book.sheet(names["summary"]), plan, classroom, nonclass, cohort_sheets, lang, restricted)
        _budget(book.sheet(names["budget"]), plan, classroom, nonclass, trainer_rate, venue_rate, lang, restricted)
        if restricted:
            for sheet, r in zip(cohort_sheets, classroom.itertuples()):
                _cohort(book.sheet(sheet), r, people, lang)
            _nonclassroom(book.sheet(names["nonclassroom"]), sel, people, lang)
        _left_out(book.sheet(names["left_out"]), plan, lang, min_cell, restricted)
    return path


def _summary(s: _Sheet, plan: WorkshopPlan, classroom: pd.DataFrame, nonclass: pd.DataFrame,
             cohort_sheets: list, lang: str, restricted: bool) -> None:
    row = _start(s, text("wb.title", lang), lang, restricted, text("wb.what", lang))
    d = plan.to_dict()
    left = d["left_out"]
    keys = [
        (text("wb.key.budget", lang), plan.budget, RUPIAH),
        (text("wb.key.cost", lang), plan.cost, RUPIAH),
        (text("wb.key.remaining", lang), plan.remaining, RUPIAH),
        (text("wb.key.gap_closed", lang), plan.value, ONE_DECIMAL),
        (text("wb.key.people", lang), plan.people, INTEGER),
        (text("wb.key.needs", lang), d["needs"], INTEGER),
        (text("wb.key.covered", lang), d["needs_covered"], INTEGER),
        (text("wb.key.jp", lang), plan.jp, ONE_DECIMAL),
        (text("wb.key.cohorts", lang), d["classroom_cohorts"], INTEGER),
        (text("wb.key.places", lang), int(nonclass["n"].sum()) if len(nonclass) else 0, INTEGER),
    ]
    keys += [(text("wb.key.left", lang, reason=text(f"wb.reason_short.{r}", lang)), left[r], INTEGER)
             for r in REASONS]
    keys.append((text("wb.key.optimal", lang), text("wb.yes" if plan.optimal else "wb.no", lang), None))
    for k, (lab, value, fmt) in enumerate(keys):  # two figures a row: label, value, label, value
        col = 1 if k % 2 == 0 else 4
        s.cell(row, col, lab, "bold")
        s.cell(row, col + 1, value, num=fmt)
        if k % 2 == 1:
            row += 1
    row += 1 if len(keys) % 2 == 0 else 2
    s.cell(row, 1, text("wb.funded_table", lang), "bold")
    row += 1
    cols = ["no", "sheet", "program_id", "program", "provider", "form", "region", "cluster", "competency",
            "participants", "days", "jp", "trainer_days", "cost"]
    header_row = row
    _header(s, row, [text(f"wb.col.{c}", lang) for c in cols])
    rows = []
    for i, (r, sheet) in enumerate(zip(classroom.itertuples(), cohort_sheets), start=1):
        rows.append([i, sheet, r.program_id, r.program_name, r.provider, label("training_form", r.form, lang),
                     r.region, cluster_label(r.cluster, r.cluster_name_id, r.cluster_name_en, lang),
                     competency_label(r.competency_code, r.competency_name_id, r.competency_name_en, lang),
                     r.n, r.days, r.jp, r.trainer_days, r.cost])
    start = len(rows)
    for j, r in enumerate(nonclass.itertuples(), start=start + 1):
        rows.append([j, None, r.program_id, r.program_name, r.provider, label("training_form", r.form, lang),
                     r.region, None, None, r.n, r.days, r.jp, r.trainer_days, r.cost])
    if not rows:
        rows.append([None, text("wb.none", lang)] + [None] * (len(cols) - 2))
    fmts = [INTEGER, None, None, None, None, None, None, None, None, INTEGER, INTEGER, ONE_DECIMAL, TWO_DECIMALS,
            RUPIAH]
    links = {i: f"'{_quoted(sheet)}'!A1" for i, sheet in enumerate(cohort_sheets) if sheet}
    s.rows(header_row + 1, rows, fmts, links=links)
    s.freeze(header_row + 1)
    s.least = {1: 30, 4: 30}  # the key figures' labels


def _budget(s: _Sheet, plan: WorkshopPlan, classroom: pd.DataFrame, nonclass: pd.DataFrame,
            trainer_rate: float, venue_rate: float, lang: str, restricted: bool) -> None:
    row = _start(s, text("wb.budget.title", lang), lang, restricted)
    cols = ["no", "item", "form", "participants", "fee", "trainer_days", "trainer_rate", "venue_days",
            "venue_rate", "total"]
    header_row = row
    _header(s, row, [text(f"wb.col.{c}", lang) for c in cols])
    fmts = [INTEGER, None, None, INTEGER, RUPIAH, TWO_DECIMALS, RUPIAH, TWO_DECIMALS, RUPIAH, RUPIAH]
    lines = []
    for r in classroom.itertuples():
        item = text("wb.budget.cohort_item", lang, program=f"{r.program_id} {r.program_name}", region=r.region,
                    cluster=cluster_label(r.cluster, r.cluster_name_id, r.cluster_name_en, lang),
                    k=r.cohort, of=r.n_cohorts)
        lines.append((item, r.form, r.n, r.cost_per_participant, r.trainer_days, r.venue_days))
    for r in nonclass.itertuples():
        item = text("wb.budget.nonclassroom_item", lang, program=f"{r.program_id} {r.program_name}",
                    region=r.region, n=int(r.n))
        lines.append((item, r.form, r.n, r.cost_per_participant, r.trainer_days, r.venue_days))
    first = header_row + 1
    r_i = first
    totals = {"D": 0.0, "F": 0.0, "H": 0.0, "J": 0.0}  # the formulas' results, stored beside them
    for i, (item, form, n, fee, tdays, vdays) in enumerate(lines, start=1):
        values = [i, item, label("training_form", form, lang), int(n), float(fee), float(tdays), trainer_rate,
                  float(vdays), venue_rate]
        for j, v in enumerate(values, start=1):
            s.cell(r_i, j, v, num=fmts[j - 1])
        # the line's total is the workbook's own formula; every other cell holds data
        total = values[3] * values[4] + values[5] * values[6] + values[7] * values[8]
        s.formula(r_i, 10, f"=D{r_i}*E{r_i}+F{r_i}*G{r_i}+H{r_i}*I{r_i}", total, num=fmts[9])
        for col, v in (("D", values[3]), ("F", values[5]), ("H", values[7]), ("J", total)):
            totals[col] += v
        r_i += 1
    last = max(r_i - 1, first)
    total_row = r_i if lines else first + 1
    s.cell(total_row, 2, text("wb.budget.total", lang), "bold")
    for col, j, fmt in (("D", 4, INTEGER), ("F", 6, TWO_DECIMALS), ("H", 8, TWO_DECIMALS), ("J", 10, RUPIAH)):
        s.formula(total_row, j, f"=SUM({col}{first}:{col}{last})", totals[col], "bold", fmt)
    s.cell(total_row + 2, 2, text("wb.budget.budget", lang), "bold")
    s.cell(total_row + 2, 10, float(plan.budget), num=RUPIAH)
    s.cell(total_row + 3, 2, text("wb.budget.left", lang), "bold")
    s.formula(total_row + 3, 10, f"=J{total_row + 2}-J{total_row}", float(plan.budget) - totals["J"], "bold",
              RUPIAH)
    s.freeze(header_row + 1)


def _people_lookup(needs: pd.DataFrame, lang: str) -> dict[tuple, list]:
    """(employee, competency) -> [unit, region, position class, gap, basis] as shown in rosters."""
    if not len(needs):
        return {}
    nt = need_table(needs)
    basis = {"current": text("wb.basis.current", lang), "target": text("wb.basis.target", lang)}
    position = _labeller("position_class", lang)
    cols = [nt[c].tolist() for c in ("employee_id", "competency_code", "unit_id", "region", "position_class", "gap",
                                      "basis")]
    return {(e, c): [u, r, position(pc) if isinstance(pc, str) else None, None if pd.isna(g) else float(g),
                     basis.get(b) if isinstance(b, str) else None]
            for e, c, u, r, pc, g, b in zip(*cols)}


def _labeller(kind: str, lang: str):
    """``label(kind, code, lang)``, each code looked up once."""
    seen: dict = {}

    def get(code):
        if code not in seen:
            seen[code] = label(kind, code, lang)
        return seen[code]
    return get


def _itertuples(df: pd.DataFrame):
    """``df.itertuples()``, each column converted at once (iterating a column of pandas' Arrow-backed
    strings goes value by value in Python); an Int64 column gives Python ints instead of numpy's."""
    row = namedtuple("Row", ["Index", *map(str, df.columns)], rename=True)
    return map(row._make, zip(df.index.tolist(), *(df.iloc[:, j].tolist() for j in range(df.shape[1]))))


def person_rows(ids: list, code: str, people: dict, lang: str) -> list[list]:
    return [[e, *people.get((e, code), [None] * 5)] for e in ids]


def _cohort(s: _Sheet, r, people: dict, lang: str) -> None:
    cluster = cluster_label(r.cluster, r.cluster_name_id, r.cluster_name_en, lang)
    row = _start(s, text("wb.cohort.title", lang, program=f"{r.program_id} {r.program_name}", region=r.region,
                         cluster=cluster, k=r.cohort, of=r.n_cohorts), lang, True)
    sched = ["program_id", "provider", "form", "competency", "region", "cluster", "participants", "days", "jp",
             "trainer_days", "cost", "start", "venue"]
    _header(s, row, [text(f"wb.col.{c}", lang) for c in sched])
    s.rows(row + 1, [[r.program_id, r.provider, label("training_form", r.form, lang),
                      competency_label(r.competency_code, r.competency_name_id, r.competency_name_en, lang),
                      r.region, cluster, r.n, r.days, r.jp, r.trainer_days, r.cost, None, None]],
           [None, None, None, None, None, None, INTEGER, INTEGER, ONE_DECIMAL, TWO_DECIMALS, RUPIAH, None, None])
    row += 3
    s.cell(row, 1, text("wb.cohort.roster", lang), "bold")
    row += 1
    roster = ["no", "employee", "unit", "region", "position_class", "gap", "basis", "attended"]
    _header(s, row, [text(f"wb.col.{c}", lang) for c in roster])
    rows = [[i, *p, None] for i, p in enumerate(person_rows(list(r.participants), r.competency_code, people, lang),
                                                start=1)]
    s.rows(row + 1, rows, [INTEGER, None, None, None, None, ONE_DECIMAL, None, None])
    s.freeze(row + 1)


def _nonclassroom(s: _Sheet, sel: pd.DataFrame, people: dict, lang: str) -> None:
    row = _start(s, text("wb.nonclassroom.title", lang), lang, True)
    cols = ["no", "employee", "unit", "region", "position_class", "gap", "basis", "competency", "program_id",
            "program", "form", "provider", "jp", "cost"]
    _header(s, row, [text(f"wb.col.{c}", lang) for c in cols])
    nc = sel[sel["mode"] != "klasikal"].explode("participants")
    nc = nc.sort_values(["region", "competency_code", "program_id", "participants"], kind="stable")
    rows = []
    form = _labeller("training_form", lang)
    for i, r in enumerate(_itertuples(nc), start=1):
        person = person_rows([r.participants], r.competency_code, people, lang)[0]
        rows.append([i, *person, competency_label(r.competency_code, r.competency_name_id, r.competency_name_en,
                                                   lang),
                     r.program_id, r.program_name, form(r.form), r.provider, r.jp, r.cost / r.n])
    if not rows:
        rows.append([None, text("wb.none", lang)] + [None] * (len(cols) - 2))
    s.rows(row + 1, rows, [INTEGER, None, None, None, None, ONE_DECIMAL, None, None, None, None, None, None,
                           ONE_DECIMAL, RUPIAH])
    s.freeze(row + 1)


def _left_out(s: _Sheet, plan: WorkshopPlan, lang: str, min_cell: int, restricted: bool) -> None:
    lo = plan.left_out.copy()
    lo["_reason"] = pd.Categorical(lo["reason"], categories=list(REASONS), ordered=True)
    subtitle = None if restricted else text("wb.left_out.suppressed", lang, n=min_cell)
    row = _start(s, text("wb.left_out.title", lang), lang, restricted, subtitle)
    if restricted:
        cols = ["no", "employee", "unit", "region", "position_class", "cluster", "competency", "gap", "basis",
                "reason"]
        _header(s, row, [text(f"wb.col.{c}", lang) for c in cols])
        lo = lo.sort_values(["_reason", "region", "competency_code", "employee_id"], kind="stable")
        position = _labeller("position_class", lang)
        basis = {b: text(f"wb.basis.{b}", lang) for b in ("current", "target")}
        reason = {r: text(f"wb.reason.{r}", lang) for r in lo["reason"].unique()}
        rows = [[i, r.employee_id, r.unit_id, r.region,
                 position(r.position_class) if isinstance(r.position_class, str) else None,
                 cluster_label(r.cluster, r.cluster_name_id, r.cluster_name_en, lang),
                 competency_label(r.competency_code, r.competency_name_id, r.competency_name_en, lang),
                 None if pd.isna(r.gap) else float(r.gap),
                 None if not isinstance(r.basis, str) else basis["current" if r.basis == "current" else "target"],
                 reason[r.reason]]
                for i, r in enumerate(_itertuples(lo), start=1)]
        fmts = [INTEGER, None, None, None, None, None, None, ONE_DECIMAL, None, None]
    else:
        cols = ["reason", "region", "competency", "count"]
        _header(s, row, [text(f"wb.col.{c}", lang) for c in cols])
        counts = (lo.groupby(["_reason", "region", "competency_code"], observed=True, sort=True)
                  .size().rename("n").reset_index().rename(columns={"_reason": "reason_code"}))
        counts = protect(counts, min_cell, value_cols=["n"], counts=True)
        rows = [[text(f"wb.reason.{r.reason_code}", lang), r.region, r.competency_code,
                 None if pd.isna(r.n) else int(r.n)] for r in counts.itertuples()]
        fmts = [None, None, None, INTEGER]
    if not rows:
        rows.append([None, text("wb.none", lang)] + [None] * (len(cols) - 2))
    s.rows(row + 1, rows, fmts)
    s.freeze(row + 1)


def pseudonymised(plan: WorkshopPlan, candidates: pd.DataFrame, needs: pd.DataFrame,
                  fn) -> tuple[WorkshopPlan, pd.DataFrame, pd.DataFrame]:
    """The plan, its candidates and the needs with every employee id mapped by ``fn``
    (a function of a Series of ids), for a workbook that names people by pseudonym. Of the
    candidates only the cost lines the workbook reads are kept (``DAY_RATE_COLUMNS``): they name
    nobody, and mapping the participants of all 250,000 candidates at 100,000 employees was most of
    notebook 03's peak memory."""
    import dataclasses

    ids = pd.Series(pd.unique(needs["employee_id"].dropna()))
    mapping = dict(zip(ids, fn(ids)))

    def lists(col: pd.Series) -> pd.Series:
        return col.map(lambda xs: [mapping.get(x, x) for x in xs])

    def ids_in(df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy()
        if "employee_id" in out:
            out["employee_id"] = out["employee_id"].map(lambda x: mapping.get(x, x))
        if "participants" in out:
            out["participants"] = lists(out["participants"])
        return out

    new_plan = dataclasses.replace(plan, selected=ids_in(plan.selected), coverage=ids_in(plan.coverage),
                                   left_out=ids_in(plan.left_out))
    return new_plan, candidates[DAY_RATE_COLUMNS], ids_in(needs)


def write_table(df: pd.DataFrame, path: str | Path, title: str, lang: str = "id", restricted: bool = True,
                money: tuple[str, ...] = (), one_decimal: tuple[str, ...] = ()) -> Path:
    """One formatted sheet of a table (banner, title, bold frozen header, widths, Rupiah)."""
    path = Path(path)
    with _Book(path) as book:
        s = book.sheet(sheet_name(title, set()))
        row = _start(s, title, lang, restricted)
        _header(s, row, [str(c) for c in df.columns])
        formats = [RUPIAH if c in money else (ONE_DECIMAL if c in one_decimal else None) for c in df.columns]
        s.block(row + 1, [_plain_column(df.iloc[:, j]) for j in range(df.shape[1])], formats)
        s.freeze(row + 1)
    return path


def _plain_column(col: pd.Series) -> list:
    """A column's values as plain Python scalars, missing and non-finite ones as None (``scalar`` of
    each value, faster for numpy's numbers and booleans)."""
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "iub":
        return col.to_numpy().tolist()
    if isinstance(col.dtype, np.dtype) and col.dtype.kind == "f":
        values = col.to_numpy()
        out = values.tolist()
        if not np.isfinite(values).all():
            out = [v if math.isfinite(v) else None for v in out]
        return out
    return [scalar(v) for v in col.tolist()]
