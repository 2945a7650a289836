"""The contract tables from what every file of an import gave, put together.

SIASN is the employee master: an employee it names is written as SIASN says; e-Kinerja adds the
employees and units only it names. A unit's region is the region column a profile maps, else
``--region``, else the agency (instansi) the export names (or, when the exports name a single
agency, that one); an appraisal or training record of an
employee who could not be imported is set aside (the contract would set it aside anyway). SKM
respondents are matched to the imported units by unit id, else by unit name.
"""

from __future__ import annotations

import pandas as pd

from analysis.imports.fields import UNSUR
from analysis.imports.mapping import folded
from analysis.imports.people import EMPLOYEE_COLUMNS, Context
from analysis.imports.report import ImportFailure, ImportReport

CONTRACT_COLUMNS = {
    "units": ["unit_id", "unit_name", "region"],
    "employees": EMPLOYEE_COLUMNS,
    "appraisals": ["employee_id", "period", "rater_id", "hasil_kerja", "perilaku_kerja", "predikat_reported"],
    "training_history": ["employee_id", "start", "end", "name", "form", "jp", "provider"],
    "service_outcomes": ["unit_id", "period", "ikm", "iku_attainment"],
    "unit_hierarchy": ["unit_id", "parent_unit_id", "parent_unit_name"],
}


def _concat(parts: list[pd.DataFrame | None]) -> pd.DataFrame | None:
    parts = [p for p in parts if p is not None and len(p)]
    return pd.concat(parts, ignore_index=True) if parts else None


def units_table(parts: list[pd.DataFrame | None], region: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(units, hierarchy). The first file to name a unit gives its facts (SIASN before e-Kinerja)."""
    units = _concat(parts)
    if units is None:
        return pd.DataFrame(columns=CONTRACT_COLUMNS["units"]), pd.DataFrame(columns=CONTRACT_COLUMNS["unit_hierarchy"])
    units = units.drop_duplicates("unit_id", keep="first").reset_index(drop=True)
    chosen = units["region"].where(units["region"].notna(), region)
    chosen = chosen.where(chosen.notna(), units["instansi"])
    agencies = units["instansi"].dropna().unique()
    if len(agencies) == 1:  # one agency named by the exports: its units are all in it
        chosen = chosen.where(chosen.notna(), agencies[0])
    missing = chosen.isna()
    if missing.any():
        first = units.loc[missing, "unit_id"].iloc[0]
        raise ImportFailure("-", None, "region", "no_region",
                            f"{int(missing.sum())} unit(s) have no region (the first: {first}): give one with "
                            "--region, or map a region column in the profile")
    names = units["unit_name"].where(units["unit_name"].notna(), units["unit_id"])
    out = pd.DataFrame({"unit_id": units["unit_id"], "unit_name": names, "region": chosen})
    # the parent: its id where the export gives one, else the unit whose name it is
    by_name = dict(zip(folded(names), units["unit_id"]))
    parent_id = units["parent_unit_id"].where(units["parent_unit_id"].notna(),
                                              folded(units["parent_unit"]).map(by_name))
    has_parent = parent_id.notna() | units["parent_unit"].notna()
    hierarchy = pd.DataFrame({"unit_id": units["unit_id"], "parent_unit_id": parent_id,
                              "parent_unit_name": units["parent_unit"]})[has_parent]
    return out, hierarchy.reset_index(drop=True)


def keep_known_employees(table: pd.DataFrame | None, employees: pd.DataFrame, contexts: dict[str, Context],
                         column: str = "employee_id") -> pd.DataFrame | None:
    """Rows about an employee who is not in ``employees`` set aside, in the file they came from."""
    if table is None:
        return None
    known = table[column].isin(employees["employee_id"])
    for file, part in table[~known].groupby("_file", sort=False):
        contexts[file].aside(part["_row"], column, "employee_not_imported", part[column])
    return table[known]


def resolve_units(rows: pd.DataFrame, units: pd.DataFrame, contexts: dict[str, Context]) -> pd.DataFrame:
    """SKM respondents' unit_id: the id as given when it is a unit's, else the unit of that name."""
    if units.empty:  # nothing to match against: the ids as given
        ids = rows["unit_id"]
    else:
        known = set(units["unit_id"])
        by_name = dict(zip(folded(units["unit_name"]), units["unit_id"])) | {
            k: v for k, v in zip(folded(units["unit_id"]), units["unit_id"])}
        given = rows["unit_id"].where(rows["unit_id"].isin(known), None)
        by_id_text = folded(rows["unit_id"]).map(by_name)
        by_unit_name = folded(rows["unit_name"]).map(by_name)
        ids = given.where(given.notna(), by_id_text)
        ids = ids.where(ids.notna(), by_unit_name)
    unknown = ids.isna()
    for file, part in rows[unknown].groupby("_file", sort=False):
        what = part["unit_id"].where(part["unit_id"].notna(), part["unit_name"])
        contexts[file].aside(part["_row"], "unit_name" if part["unit_id"].isna().all() else "unit_id",
                             "unknown_unit", what)
    return rows[~unknown].assign(unit_id=ids[~unknown])


def service_outcomes(rows: pd.DataFrame, report: ImportReport,
                     population: int | dict[str, int] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(service_outcomes rows, the IKM table) from SKM respondents. The IKM computation is
    ``imports.skm``'s (PermenPANRB 14/2017); units under the regulation's minimum of respondents are
    marked in the report, never dropped. ``iku_attainment`` is a required column of the contract that
    an SKM does not give: it is written empty (a warning when validated, not an error). ``population``
    (params ``import.skm_population``) sets the minimum of respondents; without it, 384 for every unit."""
    from analysis.imports import skm

    respondents = rows[["unit_id", "period", *UNSUR]].astype({u: "float64" for u in UNSUR})
    table = skm.ikm_table(respondents.reset_index(drop=True), min_respondents=skm.minimum_respondents(population))
    outcomes = skm.service_outcomes_rows(table).copy()
    outcomes["iku_attainment"] = None
    few = table[table["below_min_respondents"].astype(bool)]
    if len(few):
        first_file = rows.groupby(["unit_id", "period"])["_file"].first()
        for rec in few.itertuples(index=False):
            report.add(first_file.get((rec.unit_id, rec.period), "-"), None, "respondents",
                       "below_min_respondents",
                       f"{rec.unit_id} {rec.period}: {rec.respondents} respondents, "
                       f"the regulation asks {rec.min_respondents}")
    return outcomes, table


def assemble(results: dict[str, dict[str, pd.DataFrame | None]], skm_rows: pd.DataFrame | None,
             contexts: dict[str, Context], report: ImportReport, region: str | None,
             skm_population: int | dict[str, int] | None = None) -> dict[str, pd.DataFrame]:
    """The contract tables (only those the files gave), plus ``unit_hierarchy``."""
    siasn, ekinerja, training = results.get("siasn", {}), results.get("ekinerja", {}), results.get("training", {})
    units, hierarchy = units_table([siasn.get("units"), ekinerja.get("units")], region)
    tables: dict[str, pd.DataFrame] = {}
    if len(units):
        tables["units"] = units
    employees = _concat([siasn.get("employees"), ekinerja.get("employees")])
    if employees is not None:
        employees = employees.drop_duplicates("employee_id", keep="first")
        tables["employees"] = employees[EMPLOYEE_COLUMNS]
    empty_staff = pd.DataFrame({"employee_id": pd.Series(dtype="object")})
    appraisals = keep_known_employees(ekinerja.get("appraisals"), employees if employees is not None else empty_staff,
                                      contexts)
    if appraisals is not None and len(appraisals):
        tables["appraisals"] = appraisals
    history = training.get("training_history")
    if history is not None and employees is not None:
        history = keep_known_employees(history, employees, contexts)
    if history is not None and len(history):
        tables["training_history"] = history
    if skm_rows is not None and len(skm_rows):
        resolved = resolve_units(skm_rows, units, contexts)
        if len(resolved):
            tables["service_outcomes"], _ = service_outcomes(resolved, report, skm_population)
    if len(hierarchy):
        tables["unit_hierarchy"] = hierarchy
    return {name: df[CONTRACT_COLUMNS[name]].reset_index(drop=True) for name, df in tables.items()}
