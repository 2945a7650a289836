"""What each layout makes of its typed rows: which rows count, and the contract rows they give.

Two steps per layout: ``*_rows`` keeps the rows of one chunk that can be used (the others set aside,
with the reason); ``*_tables`` decides across all the rows of every file of the layout (the SKP that
counts in a year of mutasi, a record given twice) and builds the contract rows. Every rule about which
row counts is here, and stated in docs/imports.md.
"""

from __future__ import annotations

import pandas as pd

from analysis.imports.fields import UNSUR
from analysis.imports.people import Context, employees_of, unit_id_from_name, units_of


def _missing(ctx: Context, df: pd.DataFrame, failed: pd.DataFrame, field: str, reason_bad: str,
             reason_empty: str) -> pd.Series:
    """Rows where a field is empty: set aside, as unreadable or as empty."""
    empty = df[field].isna()
    bad = empty & failed[field]
    ctx.aside(df.index[bad], field, reason_bad, failed=failed[field])
    ctx.aside(df.index[empty & ~bad], field, reason_empty)
    return empty


# --- A. e-Kinerja -------------------------------------------------------------------------------

def ekinerja_rows(df: pd.DataFrame, failed: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    acting = df["acting"].fillna(False).astype(bool)
    ctx.aside(df.index[acting], "acting", "acting_skp_plt_plh", df.loc[acting, "position"])
    df, failed = df[~acting], failed[~acting]
    drop = _missing(ctx, df, failed, "employee_id", "invalid_nip", "no_nip")
    df, failed = df[~drop], failed[~drop]
    # not yet assessed: neither rating given (the predikat is then '-' too)
    unrated = df["hasil_kerja"].isna() & df["perilaku_kerja"].isna() & ~failed["hasil_kerja"] \
        & ~failed["perilaku_kerja"]
    ctx.aside(df.index[unrated], "hasil_kerja", "not_yet_assessed")
    df, failed = df[~unrated], failed[~unrated]
    for field in ("hasil_kerja", "perilaku_kerja"):
        drop = _missing(ctx, df, failed, field, "unmapped_rating", "no_rating")
        df, failed = df[~drop], failed[~drop]
    drop = _missing(ctx, df, failed, "rater_id", "invalid_rater_nip", "no_rater")
    df, failed = df[~drop], failed[~drop]
    self_rated = df["rater_id"] == df["employee_id"]
    ctx.aside(df.index[self_rated], "rater_id", "rated_by_self")
    df, failed = df[~self_rated], failed[~self_rated]
    year = df["year"].where(df["year"].notna(), df["period_end"].dt.year.astype("Int64").astype("string")
                            .astype("object"))
    df = df.assign(year=year.where(year.notna(), None))
    no_year = df["year"].isna()
    ctx.aside(df.index[no_year], "year", "no_period")
    df = df[~no_year]
    drop = df["unit_id"].isna()
    ctx.aside(df.index[drop], "unit_id", "no_unit")
    df = df[~drop]
    no_predikat = int(df["predikat"].isna().sum())
    if no_predikat:
        ctx.report.file(ctx.file).notes.append(
            f"{no_predikat:,} rows have no predikat yet (hasil_akhir '-' or empty): kept, the predikat is "
            "computed from the two ratings")
    return df.assign(_file=ctx.file, _row=df.index)


def ekinerja_tables(rows: pd.DataFrame, contexts: dict[str, Context], master: frozenset[str] = frozenset()
                    ) -> dict[str, pd.DataFrame]:
    """The SKP that counts for an employee and year is the one with the last ``periode_akhir_skp``
    (after a mutasi, the SKP of the new post); the earlier ones are set aside as superseded. An
    employee is made from the newest SKP only when the employee master (``master``: every NIP of the
    SIASN rows, used or set aside) does not name them."""
    if rows.empty:
        return {}
    order = rows.assign(_end=rows["period_end"].fillna(pd.Timestamp.min)).sort_values(
        ["employee_id", "year", "_end", "_file", "_row"], kind="stable")
    last = ~order.duplicated(["employee_id", "year"], keep="last")
    for file, part in order[~last].groupby("_file", sort=False):
        contexts[file].aside(part["_row"], "period_end", "superseded_by_later_skp",
                             [d.date().isoformat() if pd.notna(d) else None for d in part["period_end"]])
    counted = order[last]
    appraisals = pd.DataFrame({
        "employee_id": counted["employee_id"], "period": counted["year"], "rater_id": counted["rater_id"],
        "hasil_kerja": counted["hasil_kerja"], "perilaku_kerja": counted["perilaku_kerja"],
        "predikat_reported": counted["predikat"], "_file": counted["_file"], "_row": counted["_row"],
    })
    # what the newest SKP of each employee says of them and of their unit
    newest = counted[~counted.duplicated("employee_id", keep="last") & ~counted["employee_id"].isin(master)]
    employees = []
    for file, part in newest.groupby("_file", sort=False):
        ctx = contexts[file]
        given = bool({"employment_type", "legal_status"} & ctx.bound)
        employees.append(employees_of(part.set_index("_row", drop=False), ctx, type_given=given))
    return {"appraisals": appraisals, "employees": pd.concat(employees) if employees else None,
            "units": units_of(counted)}


# --- B. SIASN -----------------------------------------------------------------------------------

def siasn_rows(df: pd.DataFrame, failed: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    drop = _missing(ctx, df, failed, "employee_id", "invalid_nip", "no_nip")
    df = df[~drop]
    made = df["unit_id"].isna() & df["unit_name"].notna()
    if made.any():
        df = df.assign(unit_id=df["unit_id"].where(~made, unit_id_from_name(df["unit_name"])))
    if "parent_unit" in df:
        made_parent = df["parent_unit_id"].isna() & df["parent_unit"].notna()
        df = df.assign(parent_unit_id=df["parent_unit_id"].where(~made_parent, unit_id_from_name(df["parent_unit"])))
    drop = df["unit_id"].isna()
    ctx.aside(df.index[drop], "unit_id", "no_unit")
    return compact(df[~drop].assign(_file=ctx.file, _row=df.index[~drop]))


def compact(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns held by pyarrow: a national export's kept rows in a fraction of the memory of
    Python strings (what is kept of each chunk waits for the other chunks)."""
    text = {c: "string[pyarrow]" for c in df.columns if df[c].dtype == object
            and pd.api.types.infer_dtype(df[c], skipna=True) in ("string", "empty")}
    return df.astype(text)


def siasn_tables(rows: pd.DataFrame, contexts: dict[str, Context], master: frozenset[str] = frozenset()
                 ) -> dict[str, pd.DataFrame]:
    """One row per NIP: the first a file gives (a second is a duplicate, set aside)."""
    if rows.empty:
        return {}
    dup = rows.duplicated("employee_id", keep="first")
    for file, part in rows[dup].groupby("_file", sort=False):
        contexts[file].aside(part["_row"], "employee_id", "duplicate_nip", part["employee_id"])
    rows = rows[~dup]
    employees = []
    for file, part in rows.groupby("_file", sort=False):
        ctx = contexts[file]
        given = bool({"employment_type", "legal_status"} & ctx.bound)
        employees.append(employees_of(part.set_index("_row", drop=False), ctx, type_given=given))
    return {"employees": pd.concat(employees), "units": units_of(rows)}


# --- C. training history ----------------------------------------------------------------------------

TRAINING_COLUMNS = ["employee_id", "start", "end", "name", "form", "jp", "provider"]


def training_rows(df: pd.DataFrame, failed: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    for field, bad, empty in (("employee_id", "invalid_nip", "no_nip"), ("name", "no_name", "no_name")):
        drop = _missing(ctx, df, failed, field, bad, empty)
        df, failed = df[~drop], failed[~drop]
    # a record with neither date cannot be placed in a year: it would count no JP anywhere
    undated = df["start"].isna() & df["end"].isna()
    unreadable = undated & (failed["start"] | failed["end"])
    ctx.aside(df.index[unreadable], "start", "unreadable_date", failed=failed["start"] | failed["end"])
    ctx.aside(df.index[undated & ~unreadable], "start", "no_date")
    df, failed = df[~undated], failed[~undated]
    backwards = df["end"].notna() & (df["end"] < df["start"])
    if backwards.any():
        ctx.report.add(ctx.file, list(df.index[backwards]), ctx.column_name("end"), "end_before_start_left_out",
                       [d.date().isoformat() for d in df.loc[backwards, "end"]])
        df = df.assign(end=df["end"].where(~backwards, pd.NaT))
    return df.assign(_file=ctx.file, _row=df.index)


def training_tables(rows: pd.DataFrame, contexts: dict[str, Context], master: frozenset[str] = frozenset()
                    ) -> dict[str, pd.DataFrame]:
    """A training given twice (same NIP, start and name, in one export or two) counts once."""
    if rows.empty:
        return {}
    key = rows["name"].map(lambda t: " ".join(str(t).lower().split()))
    dup = rows.assign(_key=key).duplicated(["employee_id", "start", "_key"], keep="first")
    for file, part in rows[dup].groupby("_file", sort=False):
        contexts[file].aside(part["_row"], "name", "duplicate_training", part["name"])
    kept = rows[~dup]
    return {"training_history": kept[TRAINING_COLUMNS + ["_file", "_row"]]}


# --- D. SKM -------------------------------------------------------------------------------------

def skm_rows(df: pd.DataFrame, failed: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    period = df["period"].where(df["period"].notna(), None)
    from_date = df["date"].notna() & period.isna()
    if from_date.any():
        period = period.where(~from_date, df["date"].dt.year.astype("Int64").astype(str) + "Q"
                              + df["date"].dt.quarter.astype("Int64").astype(str))
    df = df.assign(period=period)
    no_period = df["period"].isna()
    ctx.aside(df.index[no_period & failed["date"]], "date", "unreadable_date", failed=failed["date"])
    ctx.aside(df.index[no_period & ~failed["date"]], "period", "no_period")
    df = df[~no_period]
    no_unit = df["unit_id"].isna() & df["unit_name"].isna()
    ctx.aside(df.index[no_unit], "unit_name", "no_unit")
    df = df[~no_unit]
    no_answer = df[list(UNSUR)].isna().all(axis=1)
    ctx.aside(df.index[no_answer], "u1", "no_answers")
    return df[~no_answer].assign(_file=ctx.file, _row=df.index[~no_answer])
