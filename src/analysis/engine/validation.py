"""Validating a partitioned dataset on the cluster: each partition's rows are read, typed and checked
where they lie, and only what spans partitions comes back to the client.

A partitioned dataset (``<table>/part-NNNNN.parquet``, docs/data-format.md) keeps the rows of an
employee, and of a unit, in the same part number of every table: one part per instansi (what
``workbench synth --format partitioned`` writes) or per region. Then every check but two is a check
of one partition, and the cluster runs them part by part (``check_partition``):

- reading (with the limits of one file), typing and every row and cell check, as ``load_dataset``;
- keys: a key holds an employee or a unit, whose rows are all in one partition, so a key repeated
  anywhere is repeated within a partition, except the employees' and units' own codes, checked on
  the client over all partitions;
- references: looked up in the partition's own employees and units first. The few values not found
  there come back to the client, which looks them up in every partition: not anywhere is a dangling
  reference (reported, and the row set aside, as ``load_dataset`` does); in another partition is
  fine for a rater, and an error (``misaligned``) for the column that places the row (an appraisal's
  employee, a unit's rating), because the partitions could then not be joined part by part. Such a
  row's key is looked up again in the typed partition of its employee or unit, so that a key it
  repeats there is reported as a repeated key too.

The units (a few per thousand employees) and the reference tables (competencies, standards, the
catalogue) are read and checked whole on the client and handed to every partition. The report is
the one ``load_dataset`` gives for the same rows (numbered on through the parts), with the same
messages; the typed partitions are written into the run folder as they are checked, so that no
table is ever whole in one process.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.data import schemas
from analysis.data.contract import REQUIRED_TABLES, TABLES
from analysis.data.parsing import NUMBER_KINDS, number_convention
from analysis.data.problems import Problem, ValidationReport, shorten
from analysis.data.reading import (
    ReadError,
    combined_sha256,
    find_files,
    numbered_through_parts,
    read_table_part,
    table_parts,
)
from analysis.data.validation import (
    Dataset,
    check_references,
    dangling_problems,
    header_problems,
    load_dataset,
    missing_reference_table,
    missing_table,
    no_rows,
    read_whole,
    type_rows,
    type_table,
    unknown_values,
)
from analysis.engine.partitioned import PART_FILE, REGION_KEY

# read and checked whole on the client: the units (every partition needs those of its own) and the
# tables that are not cut by region
WHOLE = ("units",)
NO_PARTS = "it has no table in parts"  # why ``layout`` finds no partitions in a dataset of files


@dataclass
class PartChecks:
    """What the task of one partition sends back: small, whatever the partition's size."""

    report: ValidationReport  # the problems of its rows and cells
    read_errors: list[Problem]  # its parts that could not be read
    columns: dict[str, tuple[list[str], list[str]]]  # per table: the columns read, and those ignored
    rows: dict[str, int]  # rows read (blank rows not counted), per table
    rows_used: dict[str, int]  # after the rows set aside
    sha256: dict[str, str]  # of the part file, per table
    numbers: dict[tuple[str, str], tuple[bool, bool]]  # per number column: parsing.number_convention
    unknown: pd.DataFrame  # table, column, row, value: references to a cut table not in this partition
    loose_keys: dict[str, pd.DataFrame]  # per table: the keys of those of its rows (they may repeat elsewhere)
    employee_ids: pd.Series  # employee_id by row label (for the key over all partitions)
    periods: list = field(default_factory=list)  # of the appraisals


@dataclass
class PartitionedDataset:
    """A validated partitioned dataset: the report, and the typed partitions written to ``out``."""

    folder: Path
    out: Path
    report: ValidationReport
    rows_used: dict[str, int]
    periods: list
    parts: int

    @property
    def ok(self) -> bool:
        return self.report.ok

    @property
    def tables(self) -> list[str]:
        return list(self.rows_used)


def layout(folder: Path) -> tuple[int | None, str]:
    """The number of parts of a dataset in the partitioned form the cluster validates (every table cut
    by region that is there a folder of parts, all with the same number), else None with the reason."""
    files, _ = find_files(Path(folder))
    cut = {n: files[n] for n in REGION_KEY if n in files}
    if not any(p.is_dir() for p in cut.values()):
        return None, NO_PARTS
    single = [n for n, p in cut.items() if not p.is_dir()]
    if single:
        return None, f"{', '.join(single)} {'is a file' if len(single) == 1 else 'are files'}, not parts"
    counts = {n: len(table_parts(p)) for n, p in cut.items()}
    if len(set(counts.values())) != 1 or 0 in counts.values():
        return None, "its tables have different numbers of parts (" + \
            ", ".join(f"{n} {c}" for n, c in counts.items()) + ")"
    return next(iter(counts.values())), ""


def validate_partitioned(folder: Path | str, out: Path | str) -> PartitionedDataset | Dataset:
    """Validate a partitioned dataset on the run's cluster, writing the typed partitions under ``out``
    (``<table>/part-NNNNN.parquet``, the input's partitions); a dataset that is not in that form
    (``layout``) is loaded whole (``load_dataset``) and returned as such."""
    import dask

    folder, out = Path(folder), Path(out)
    n = layout(folder)[0] if folder.is_dir() else None
    if n is None:
        return load_dataset(folder)
    report = ValidationReport()
    files, folder_problems = find_files(folder)
    for p in folder_problems:
        report.add(p)
    ambiguous = {p.table for p in folder_problems if p.severity == "error" and p.table in TABLES}
    for name in [t for t in TABLES if t in REQUIRED_TABLES and t not in files and t not in ambiguous]:
        report.add(missing_table(name, folder))

    # the units and the reference tables: whole, here
    whole: dict[str, pd.DataFrame] = {}
    whole_cells: dict = {}
    infos: dict[str, dict] = {}
    for name in [t for t in TABLES if t in files and (t in WHOLE or t not in REGION_KEY)]:
        raw = read_whole(name, files[name], report)
        if raw is None:
            continue
        infos[name] = raw.info()
        result = type_table(TABLES[name], raw, report)
        if result is not None:
            whole[name], whole_cells[name] = result
    check_references(whole, report, whole_cells)  # among the whole ones (the standards' competencies…)

    # the other cut tables: part by part, on the cluster
    cut = [t for t in TABLES if t in files and t in REGION_KEY and t not in WHOLE]
    parts = {t: table_parts(files[t]) for t in cut}
    offsets = {t: _offsets(parts[t]) for t in cut}
    units_of_part = _split(whole.get("units"), _offsets(table_parts(files["units"])) if "units" in whole else None, n)
    reference = {t: df for t, df in whole.items() if t not in WHOLE}
    present = sorted(set(whole) | set(cut))

    def task(k: int, comma: dict | None = None):
        return dask.delayed(check_partition, pure=False)(
            k, {t: str(parts[t][k]) for t in cut}, {t: offsets[t][k] for t in cut}, units_of_part[k],
            reference, present, str(out), comma)

    checks: list[PartChecks] = list(dask.compute(*[task(k) for k in range(n)]))
    # a number column read with decimal commas in one part and a cell another part read otherwise:
    # that part again, with the table's convention (rare: the parts of one export agree)
    comma = {key: any(c.numbers.get(key, (False, False))[0] for c in checks)
             for key in {key for c in checks for key in c.numbers}}
    again = [k for k, c in enumerate(checks)
             if any(comma[key] and not seen and ambiguous for key, (seen, ambiguous) in c.numbers.items())]
    for k, redone in zip(again, dask.compute(*[task(k, comma) for k in again])):
        checks[k] = redone

    # tables that cannot be used: a part unreadable, or parts with different headers (only that is
    # said of them, as of a table whose file cannot be read), or no rows at all
    broken = _broken_tables(report, checks, cut, files)
    for c in checks:
        report.problems.extend(p for p in c.report.problems if p.table not in broken)
        report.frames.extend(f[~f["table"].isin(broken)] for f in c.report.frames)
    empty = set()
    for name in [t for t in cut if t not in broken and sum(c.rows[t] for c in checks) == 0]:
        spec = TABLES[name]
        report.add(no_rows(spec, files[name].name, 1, "error" if spec.required else "warning"))
        empty.add(name)
    for name in broken | empty:
        shutil.rmtree(out / name, ignore_errors=True)  # as a table that is not there
    usable = [t for t in cut if t not in broken | empty]

    # what spans partitions: keys of employees (and of rows whose employee or unit is in no part
    # of theirs), and the references not found in their partition
    # (the codes of a table that cannot be used are not looked at: none of its parts counts)
    ids_of_part = [c.employee_ids if "employees" in usable else c.employee_ids.iloc[:0] for c in checks]
    employee_ids = pd.concat(ids_of_part)
    sizes = [len(ids) for ids in ids_of_part]
    _keys_across_partitions(report, "employees", employee_ids.to_frame("employee_id"), _part_of_rows(sizes))
    homes = _homes(employee_ids, sizes, units_of_part)
    for name in usable:
        loose = [c.loose_keys.get(name, pd.DataFrame()) for c in checks]
        keys, part = pd.concat(loose), _part_of_rows([len(x) for x in loose])
        # a row away from its employee or unit may repeat the key of a row in that one's part
        home = _home_rows(out, name, keys, homes)
        if len(home):
            keys = pd.concat([keys, home.drop(columns=PART)])
            part = np.concatenate([part, home[PART].to_numpy()])
            order = np.argsort(keys.index.to_numpy(), kind="stable")  # rows numbered on through the parts
            keys, part = keys.iloc[order], part[order]
        _keys_across_partitions(report, name, keys, part)
    known = {"employees": pd.Index(employee_ids.dropna().unique()),
             "units": pd.Index(whole["units"]["unit_id"].dropna().unique()) if "units" in whole else pd.Index([])}
    unknown = pd.concat([c.unknown for c in checks], ignore_index=True)
    # a table that is not there is not looked up (as load_dataset skips references to it)
    gone = broken | empty | ({"units"} - set(whole))
    keep = [t not in gone and _reference(t, col).table not in gone
            for t, col in zip(unknown["table"], unknown["column"])]
    _resolve_references(report, unknown[np.array(keep, dtype=bool)], known)

    rows_used = {}
    for name in [t for t in TABLES if t in present and t not in broken]:
        if name in cut:
            infos[name] = {"file": f"{files[name].name}/", "format": "parquet",
                           "sha256": combined_sha256(parts[name], [c.sha256[name] for c in checks]),
                           "bytes": sum(p.stat().st_size for p in parts[name]),
                           "rows": sum(c.rows[name] for c in checks), "header_row": 1,
                           "encoding": None, "separator": None, "parts": len(parts[name])}
            if name in usable and all(name in c.rows_used for c in checks):
                rows_used[name] = sum(c.rows_used[name] for c in checks)
        elif name in whole:
            rows_used[name] = len(whole[name])
    for name, info in infos.items():
        report.files[name] = info | ({"rows_used": rows_used[name]} if name in rows_used else {})
    report.files = {t: report.files[t] for t in TABLES if t in report.files}
    for name in [t for t in whole if t in rows_used]:  # the whole ones go to the run folder too
        for k, part in enumerate(units_of_part if name in WHOLE else [whole[name]]):
            write_part(part, out / name / PART_FILE.format(k))
    periods = sorted({p for c in checks for p in c.periods}) if "appraisals" in rows_used else []
    return PartitionedDataset(folder, out, report, rows_used, periods, n)


def _broken_tables(report: ValidationReport, checks: list[PartChecks], cut: list[str], files: dict) -> set[str]:
    """The cut tables with a part that could not be read, or parts whose headers differ (reported)."""
    broken = set()
    for c in checks:
        for problem in c.read_errors:
            report.add(problem)
            broken.add(problem.table)
    for name in [t for t in cut if t not in broken]:
        first = checks[0].columns.get(name)
        parts = table_parts(files[name])
        for k, c in enumerate(checks[1:], start=1):
            if c.columns.get(name) != first:
                report.add(Problem(name, 1, None, "parts_differ", parts[k].name,
                                   f"{files[name].name}/{parts[k].name} has other columns than {parts[0].name}: "
                                   "every part of a table must have the same header"))
                broken.add(name)
                break
    return broken


def check_partition(k: int, paths: dict[str, str], offsets: dict[str, int], units: pd.DataFrame | None,
                    reference: dict[str, pd.DataFrame], present: list[str], out: str,
                    comma: dict[tuple[str, str], bool] | None = None) -> PartChecks:
    """Read, type and check part ``k`` of each table in ``paths``, with the units of this partition and
    the reference tables whole; write the typed rows (those set aside removed) under ``out``.
    ``comma``: per (table, number column), whether the table writes decimals with a comma."""
    report = ValidationReport()
    silent = ValidationReport()  # a header's problems are the same in every part: said by part 0 only
    typed: dict[str, pd.DataFrame] = {}
    cells: dict = {}
    read_errors, columns, rows, sha, numbers = [], {}, {}, {}, {}
    for name, path in paths.items():
        spec = TABLES[name]
        try:
            raw = read_table_part(name, Path(path))
        except ReadError as exc:
            read_errors.append(numbered_through_parts(exc.problem, offsets[name]))
            continue
        raw.data.index = raw.data.index + offsets[name]
        columns[name] = (list(raw.data.columns), list(raw.ignored_columns))
        rows[name], sha[name] = len(raw.data), raw.sha256
        if header_problems(spec, raw, report if k == 0 else silent):
            continue
        for col in [c for c in spec.columns if c.kind in NUMBER_KINDS and c.name in raw.data]:
            numbers[(name, col.name)] = number_convention(raw.data[col.name], money=col.kind == "money")
        forced = {c: v for (t, c), v in (comma or {}).items() if t == name}
        typed[name], cells[name] = type_rows(spec, raw.data, report, forced)
    known = dict(reference)
    if units is not None:
        known["units"] = units
    unknown: list[pd.DataFrame] = []
    loose: dict[str, pd.DataFrame] = {}
    for name, df in list(typed.items()):
        drop = np.zeros(len(df), dtype=bool)
        for ref in TABLES[name].references:
            if ref.column not in df:
                continue
            if ref.table not in present:
                if k == 0 and ref.table not in REQUIRED_TABLES:  # (a missing required one is said already)
                    report.add(missing_reference_table(name, ref))
                continue
            if ref.table not in known | typed:
                continue  # its part could not be read: said already
            target = (known | typed)[ref.table]
            values = pd.Index(target[ref.target].dropna().unique())
            dangling = unknown_values(cells[name][ref.column], values)
            if not dangling.any():
                continue
            if ref.table in reference:  # whole here: the answer is final
                report.add_frame(dangling_problems(name, ref, df.index[dangling], df[ref.column][dangling], values))
            else:
                unknown.append(pd.DataFrame({"table": name, "column": ref.column, "row": df.index[dangling],
                                             "value": df[ref.column][dangling].to_numpy(dtype=object)}))
            if ref.column == REGION_KEY.get(name):  # its employee or unit is not here: its key may be elsewhere
                loose[name] = df.loc[dangling, [c for c in TABLES[name].key if c in df]]
            if ref.action == "exclude":
                drop |= dangling
        typed[name] = df[~drop] if drop.any() else df
    for name, df in typed.items():
        write_part(df, Path(out) / name / PART_FILE.format(k))
    employees = typed.get("employees")
    return PartChecks(
        report, read_errors, columns, rows, {n: len(df) for n, df in typed.items()}, sha, numbers,
        pd.concat(unknown, ignore_index=True) if unknown else pd.DataFrame(columns=["table", "column", "row", "value"]),
        loose, employees["employee_id"] if employees is not None else pd.Series(dtype=object),
        sorted(typed["appraisals"]["period"].dropna().unique().tolist()) if "appraisals" in typed else [])


def write_part(df: pd.DataFrame, path: Path) -> None:
    """A typed partition as Parquet, its row labels kept. A text column with no value in this partition
    is written as text (Arrow would say null), so that every part of a table has one schema."""
    schema = pa.Schema.from_pandas(df, preserve_index=True)
    for i, f in enumerate(schema):
        if pa.types.is_null(f.type):
            schema = schema.set(i, pa.field(f.name, pa.string()))
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(df, schema=schema, preserve_index=True), path)


def _rows(part: Path) -> int:
    """A part's rows, from its footer; 0 when the footer cannot be read (the part's task then reports
    it, naming the part)."""
    try:
        return pq.ParquetFile(part).metadata.num_rows
    except Exception:  # noqa: BLE001 - a broken or hostile part: said when it is read
        return 0


def _offsets(parts: list[Path]) -> list[int]:
    """The rows before each part: a part's rows are numbered on from the parts before it."""
    sizes = [_rows(p) for p in parts]
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist()


def _split(df: pd.DataFrame | None, offsets: list[int] | None, n: int) -> list[pd.DataFrame | None]:
    """A table read whole, cut back into its parts by row number."""
    if df is None:
        return [None] * n
    at = np.searchsorted(np.asarray(offsets) + 2, df.index.to_numpy(), side="right") - 1
    return [df[at == k] for k in range(n)]


PART = "_part"  # the partition of a row, beside its key columns


def _part_of_rows(sizes: list[int]) -> np.ndarray:
    """The partition of each row of frames concatenated partition after partition, ``sizes`` rows each."""
    return np.repeat(np.arange(len(sizes)), sizes)


def _homes(employee_ids: pd.Series, sizes: list[int], units_of_part: list[pd.DataFrame | None]) -> dict[str, pd.Series]:
    """The partition of each employee and of each unit (the first one where a code is in two)."""
    employees = pd.Series(_part_of_rows(sizes), index=employee_ids.to_numpy())
    unit_parts = [u["unit_id"] for u in units_of_part if u is not None]
    units = pd.Series(_part_of_rows([len(u) for u in unit_parts]),
                      index=pd.concat(unit_parts).to_numpy() if unit_parts else [])
    return {"employees": employees[~employees.index.duplicated()], "units": units[~units.index.duplicated()]}


def _home_rows(out: Path, name: str, loose: pd.DataFrame, homes: dict[str, pd.Series]) -> pd.DataFrame:
    """The rows of ``name`` with a key of one of its loose rows (``loose``: rows whose employee or unit
    is not in their own partition, by row label), read back from the typed partition where that
    employee or unit is, with that partition (column ``PART``). Then a loose row that repeats the key
    of a row where it belongs is reported as a repeated key, as ``load_dataset`` reports it, and not
    only as misaligned. Only the few partitions that hold a loose row's employee or unit are read."""
    column = REGION_KEY.get(name)
    if loose.empty or column not in loose or name in ("employees", "units"):  # (their codes: checked whole)
        return pd.DataFrame()
    home = loose[column].map(homes[_reference(name, column).table])  # missing: in no partition
    found = []
    for h in sorted(int(x) for x in home.dropna().unique()):
        path = out / name / PART_FILE.format(h)
        if not path.exists():
            continue
        rows = pd.read_parquet(path, columns=list(loose.columns))
        wanted = pd.MultiIndex.from_frame(loose[(home == h).to_numpy()].astype(object))
        hit = pd.MultiIndex.from_frame(rows.astype(object)).isin(wanted)
        found.append(rows[hit].assign(**{PART: h}))
    return pd.concat(found) if found else pd.DataFrame()


def _keys_across_partitions(report: ValidationReport, name: str, keys: pd.DataFrame, part: np.ndarray) -> None:
    """Keys of ``name`` that are in two partitions (``keys``: the key columns by row label, in the
    order of their labels; ``part``: the partition of each row): reported as ``load_dataset`` reports
    a repeated key, each row naming all the others (the reports of the partitions named only their own)."""
    if keys.empty:
        return
    columns = list(keys.columns)
    part = pd.Series(part, index=keys.index)
    spread = part.groupby([keys[c] for c in columns], sort=False).transform("nunique")
    rows = keys[(spread > 1).to_numpy()]
    if rows.empty:
        return
    # the repeated keys as the partitions' reports label them (schemas.duplicate_messages)
    across = set(rows.astype(str).map(shorten).agg(" / ".join, axis=1))
    for i, frame in enumerate(report.frames):
        stale = (frame["table"] == name) & (frame["check"] == "duplicate_key") & frame["value"].isin(across)
        if stale.any():
            report.frames[i] = frame[~stale]
    messages = schemas.duplicate_messages(rows, columns, pd.Series(rows.index, index=rows.index))
    report.add_frame(pd.DataFrame({"severity": "error", "table": name, "row": rows.index,
                                   "column": "+".join(columns), "check": "duplicate_key",
                                   "value": messages["value"].to_numpy(), "message": messages["message"].to_numpy()}))


def _reference(table: str, column: str):
    return next(r for r in TABLES[table].references if r.column == column)


def _resolve_references(report: ValidationReport, unknown: pd.DataFrame, known: dict[str, pd.Index]) -> None:
    """The references not found in their own partition, looked up in all of them."""
    for (name, column), rows in unknown.groupby(["table", "column"], sort=False):
        ref = _reference(name, column)
        values = pd.Series(rows["value"].to_numpy(dtype=object), index=pd.Index(rows["row"].to_numpy(), name="row"))
        target = known[ref.table]
        elsewhere = values.isin(target).to_numpy()
        if column == REGION_KEY.get(name):
            wrong = values[elsewhere]
            report.add_frame(pd.DataFrame({
                "severity": "error", "table": name, "row": wrong.index, "column": column, "check": "misaligned",
                "value": wrong.to_numpy(),
                "message": [f"{column} {shorten(v)} is in {ref.table} of another part: a partitioned dataset keeps "
                            f"the rows of an employee and of a unit in the same part number of every table"
                            for v in wrong]}))
        missing = values[~elsewhere]
        if len(missing):
            folded = {str(v).casefold() for v in missing}
            near = target[pd.Series(target.astype(str)).str.casefold().isin(folded).to_numpy()]
            report.add_frame(dangling_problems(name, ref, missing.index, missing, near))


