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
same workbook.

Spreadsheet safety. Names, providers, regions and competency names come from the data and may
begin with ``=``: every cell is written with ``core.cells.write_cell``, which keeps text as text,
and only the budget's own sums and products are formulas.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from analysis.core import i18n
from analysis.core.cells import write_cell
from analysis.core.codes import label
from analysis.core.disclosure import protect
from analysis.core.jsonsafe import scalar
from analysis.core.privacy import RESTRICTED_LABEL
from analysis.training.workshops import REASONS, WorkshopPlan, need_table

RUPIAH = '"Rp" #,##0'
ONE_DECIMAL = "0.0"
TWO_DECIMALS = "0.00"
INTEGER = "0"
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
BANNER_FILL = PatternFill("solid", fgColor="F8CBAD")
BANNER_FONT = Font(bold=True, color="9C0006")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)


def text(key: str, lang: str, **fields) -> str:
    """Text from the translation table (messages.yaml)."""
    return i18n.t(key, lang, **fields)


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


def _cluster_label(cluster, name_id, name_en, lang: str) -> str:
    if cluster is None or cluster is pd.NA or (isinstance(cluster, float) and np.isnan(cluster)):
        return text("wb.no_cluster", lang)
    name = name_en if lang == "en" else name_id
    return f"K{int(cluster)} {name}" if isinstance(name, str) and name else f"K{int(cluster)}"


def _competency_label(code, name_id, name_en, lang: str) -> str:
    name = name_en if lang == "en" else name_id
    return f"{code} {name}" if isinstance(name, str) and name else str(code)


def _rates(candidates: pd.DataFrame) -> tuple[float, float]:
    """Trainer and venue day rates implied by the candidates' cost lines."""
    td, vd = candidates["trainer_days"].sum(), candidates["venue_days"].sum()
    tr = float(candidates["cost_trainers"].sum() / td) if td > 0 else 0.0
    vr = float(candidates["cost_venue"].sum() / vd) if vd > 0 else 0.0
    return tr, vr


def _nonclassroom_lines(selected: pd.DataFrame) -> pd.DataFrame:
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
    nonclass = _nonclassroom_lines(sel)
    trainer_rate, venue_rate = _rates(candidates if len(candidates) else sel)
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
    return save_deterministic(wb, path)


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
                     r.region, _cluster_label(r.cluster, r.cluster_name_id, r.cluster_name_en, lang),
                     _competency_label(r.competency_code, r.competency_name_id, r.competency_name_en, lang),
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
                    cluster=_cluster_label(r.cluster, r.cluster_name_id, r.cluster_name_en, lang),
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


def _person_rows(ids: list, code: str, people: dict, lang: str) -> list[list]:
    return [[e, *people.get((e, code), [None] * 5)] for e in ids]


def _cohort(ws: Worksheet, r, people: dict, lang: str) -> None:
    cluster = _cluster_label(r.cluster, r.cluster_name_id, r.cluster_name_en, lang)
    row = _start(ws, text("wb.cohort.title", lang, program=f"{r.program_id} {r.program_name}", region=r.region,
                          cluster=cluster, k=r.cohort, of=r.n_cohorts), lang, True)
    sched = ["program_id", "provider", "form", "competency", "region", "cluster", "participants", "days", "jp",
             "trainer_days", "cost", "start", "venue"]
    _header(ws, row, [text(f"wb.col.{c}", lang) for c in sched])
    _rows(ws, row + 1, [[r.program_id, r.provider, label("training_form", r.form, lang),
                         _competency_label(r.competency_code, r.competency_name_id, r.competency_name_en, lang),
                         r.region, cluster, r.n, r.days, r.jp, r.trainer_days, r.cost, None, None]],
          [None, None, None, None, None, None, INTEGER, INTEGER, ONE_DECIMAL, TWO_DECIMALS, RUPIAH, None, None])
    row += 3
    write_cell(ws, row, 1, text("wb.cohort.roster", lang)).font = BOLD
    row += 1
    roster = ["no", "employee", "unit", "region", "position_class", "gap", "basis", "attended"]
    _header(ws, row, [text(f"wb.col.{c}", lang) for c in roster])
    rows = [[i, *p, None] for i, p in enumerate(_person_rows(list(r.participants), r.competency_code, people, lang),
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
        person = _person_rows([r.participants], r.competency_code, people, lang)[0]
        rows.append([i, *person, _competency_label(r.competency_code, r.competency_name_id, r.competency_name_en,
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
                 _cluster_label(r.cluster, r.cluster_name_id, r.cluster_name_en, lang),
                 _competency_label(r.competency_code, r.competency_name_id, r.competency_name_en, lang),
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


def pseudonymised(plan: WorkshopPlan, candidates: pd.DataFrame, needs: pd.DataFrame,
                  fn) -> tuple[WorkshopPlan, pd.DataFrame, pd.DataFrame]:
    """The plan, its candidates and the needs with every employee id mapped by ``fn``
    (a function of a Series of ids), for a workbook that names people by pseudonym."""
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
    return new_plan, ids_in(candidates), ids_in(needs)


def write_table(df: pd.DataFrame, path: str | Path, title: str, lang: str = "id", restricted: bool = True,
                money: tuple[str, ...] = (), one_decimal: tuple[str, ...] = ()) -> Path:
    """One formatted sheet of a table (banner, title, bold frozen header, widths, Rupiah)."""
    from openpyxl import Workbook

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
    return save_deterministic(wb, path)


_FIXED = (2000, 1, 1, 0, 0, 0)


def save_deterministic(wb, path: str | Path) -> Path:
    """Save a workbook so that the same content gives the same bytes: openpyxl stamps the time
    of saving in the document properties and in every zip entry; both are fixed here."""
    import zipfile
    from datetime import datetime

    path = Path(path)
    wb.properties.created = wb.properties.modified = datetime(*_FIXED)
    wb.save(path)
    import re

    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info.filename)) for info in src.infolist()]
    stamp = b"2000-01-01T00:00:00Z"
    # openpyxl writes the time of saving as "modified" whatever the properties say
    items = [(info, re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)", rb"\g<1>" + stamp + rb"\g<2>",
                           data) if info.filename == "docProps/core.xml" else data)
             for info, data in items]
    tmp = path.with_suffix(path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in items:
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, data)
    tmp.replace(path)
    return path
