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
  employee, a unit's rating), because the partitions could then not be joined part by part.

The units (a few per thousand employees) and the reference tables (competencies, standards, the
catalogue) are read and checked whole on the client and handed to every partition. The report is
the one ``load_dataset`` gives for the same rows (numbered on through the parts), with the same
messages; the typed partitions are written into the run folder as they are checked, so that no
table is ever whole in one process.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.data import schemas
from analysis.data.contract import REQUIRED_TABLES, TABLES
from analysis.data.problems import Problem, ValidationReport, shorten
from analysis.data.reading import ReadError, find_files, read_table_part, table_parts
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


@dataclass
class PartChecks:
    """What the task of one partition sends back: small, whatever the partition's size."""

    report: ValidationReport
    rows: dict[str, int]  # rows read (blank rows not counted), per table
    blank_rows: dict[str, int]
    rows_used: dict[str, int]  # after the rows set aside
    sha256: dict[str, str]  # of the part file, per table
    unknown: pd.DataFrame  # table, column, row, value: references to a cut table not in this partition
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


def input_parts(folder: Path) -> int | None:
    """The number of parts of a dataset in the partitioned form the cluster validates (every table cut
    by region that is there a folder of parts, all with the same number), else None."""
    files, _ = find_files(Path(folder))
    cut = [files[n] for n in REGION_KEY if n in files]
    if not cut or not all(p.is_dir() for p in cut):
        return None
    counts = {len(table_parts(p)) for p in cut}
    return counts.pop() if len(counts) == 1 and 0 not in counts else None


def validate_partitioned(folder: Path | str, out: Path | str) -> PartitionedDataset | Dataset:
    """Validate a partitioned dataset on the run's cluster, writing the typed partitions under ``out``
    (``<table>/part-NNNNN.parquet``, the input's partitions); a dataset that is not partitioned
    (``input_parts`` is None) is loaded whole (``load_dataset``) and returned as such."""
    import dask

    folder, out = Path(folder), Path(out)
    n = input_parts(folder) if folder.is_dir() else None
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
    cut = [t for t in cut if _same_headers(t, files[t], report)]
    offsets = {t: _offsets(files[t]) for t in cut + [w for w in WHOLE if w in whole]}
    units_of_part = _split(whole.get("units"), offsets.get("units"), n)
    present = set(whole) | set(cut)
    tasks = [dask.delayed(check_partition, pure=False)(
        str(folder), k, cut, {t: offsets[t][k] for t in cut}, units_of_part[k],
        {t: df for t, df in whole.items() if t not in WHOLE}, sorted(present), str(out))
        for k in range(n)]
    checks: list[PartChecks] = list(dask.compute(*tasks))
    for c in checks:
        report.problems.extend(c.report.problems)
        report.frames.extend(c.report.frames)

    # what spans partitions: the employees' codes, and the references not found in their partition
    employee_ids = pd.concat([c.employee_ids for c in checks]) if "employees" in cut else pd.Series(dtype=object)
    _keys_across_partitions(report, employee_ids, [len(c.employee_ids) for c in checks])
    known = {"employees": pd.Index(employee_ids.dropna().unique()),
             "units": pd.Index(whole["units"]["unit_id"].dropna().unique()) if "units" in whole else pd.Index([])}
    unknown = pd.concat([c.unknown for c in checks], ignore_index=True)
    _resolve_references(report, unknown, known)

    rows_used = {}
    for name in [t for t in TABLES if t in present]:
        if name in cut:
            if any(name not in c.rows for c in checks):
                continue  # a part could not be read: reported (and the table is not used)
            rows = sum(c.rows[name] for c in checks)
            parts = table_parts(files[name])
            infos[name] = {"file": f"{files[name].name}/", "format": "parquet",
                           "sha256": _combined_sha(parts, [c.sha256[name] for c in checks]),
                           "bytes": sum(p.stat().st_size for p in parts), "rows": rows, "header_row": 1,
                           "encoding": None, "separator": None, "parts": len(parts)}
            if rows == 0:
                spec = TABLES[name]
                report.add(no_rows(spec, f"{files[name].name}/", 1, "error" if spec.required else "warning"))
                continue
            if any(c.rows_used.get(name) is None for c in checks):
                continue  # a part could not be read or typed: reported
            rows_used[name] = sum(c.rows_used[name] for c in checks)
        else:
            rows_used[name] = len(whole[name])
    for name, info in infos.items():
        report.files[name] = info | ({"rows_used": rows_used[name]} if name in rows_used else {})
    report.files = {t: report.files[t] for t in TABLES if t in report.files}
    for name in [t for t in whole if t in rows_used]:  # the whole ones go to the run folder too
        for k, part in enumerate(units_of_part if name in WHOLE else [whole[name]]):
            write_part(part, out / name / PART_FILE.format(k))
    periods = sorted({p for c in checks for p in c.periods})
    return PartitionedDataset(folder, out, report, rows_used, periods, n)


def check_partition(folder: str, k: int, names: list[str], offsets: dict[str, int], units: pd.DataFrame | None,
                    reference: dict[str, pd.DataFrame], present: list[str], out: str) -> PartChecks:
    """Read, type and check part ``k`` of each named table, with the units of this partition and the
    reference tables whole; write the typed rows (those set aside removed) under ``out``."""
    report = ValidationReport()
    silent = ValidationReport()  # a header's problems are the same in every part: said by part 0 only
    typed: dict[str, pd.DataFrame] = {}
    cells: dict = {}
    rows, blank, sha = {}, {}, {}
    for name in names:
        try:
            raw = read_table_part(name, table_parts(Path(folder) / name)[k])
        except ReadError as exc:
            report.add(exc.problem)
            continue
        raw.data.index = raw.data.index + offsets[name]
        rows[name], blank[name], sha[name] = len(raw.data), raw.blank_rows, raw.sha256
        if header_problems(TABLES[name], raw, report if k == 0 else silent):
            continue
        typed[name], cells[name] = type_rows(TABLES[name], raw.data, report)
    known = dict(reference)
    if units is not None:
        known["units"] = units
    unknown: list[pd.DataFrame] = []
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
            if ref.action == "exclude":
                drop |= dangling
        typed[name] = df[~drop] if drop.any() else df
    for name, df in typed.items():
        write_part(df, Path(out) / name / PART_FILE.format(k))
    employees = typed.get("employees")
    return PartChecks(
        report, rows, blank, {n: len(df) for n, df in typed.items()}, sha,
        pd.concat(unknown, ignore_index=True) if unknown else pd.DataFrame(columns=["table", "column", "row", "value"]),
        employees["employee_id"] if employees is not None else pd.Series(dtype=object),
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


def _metadata(part: Path) -> tuple[list[str], int] | None:
    """A part's column names and rows, from its footer; None when the footer cannot be read (the
    part's task then reports it, naming the part)."""
    try:
        meta = pq.ParquetFile(part).metadata
        return meta.schema.to_arrow_schema().names, meta.num_rows
    except Exception:  # noqa: BLE001 - a broken or hostile part: said when it is read
        return None


def _same_headers(name: str, folder: Path, report: ValidationReport) -> bool:
    """Whether every part has the first part's columns (else an error naming the part, as reading the
    parts as one table says)."""
    parts = table_parts(folder)
    names = [(p, m[0]) for p in parts if (m := _metadata(p)) is not None]
    for part, columns in names[1:]:
        if columns != names[0][1]:
            report.add(Problem(name, 1, None, "parts_differ", part.name,
                               f"{folder.name}/{part.name} has other columns than {names[0][0].name}: every "
                               "part of a table must have the same header"))
            return False
    return True


def _offsets(folder: Path) -> list[int]:
    """The rows before each part: a part's rows are numbered on from the parts before it."""
    sizes = [m[1] if (m := _metadata(p)) is not None else 0 for p in table_parts(folder)]
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist()


def _split(df: pd.DataFrame | None, offsets: list[int] | None, n: int) -> list[pd.DataFrame | None]:
    """A table read whole, cut back into its parts by row number."""
    if df is None:
        return [None] * n
    at = np.searchsorted(np.asarray(offsets) + 2, df.index.to_numpy(), side="right") - 1
    return [df[at == k] for k in range(n)]


def _combined_sha(parts: list[Path], hashes: list[str]) -> str:
    """The hash ``reading.sha256_of`` gives the folder, from the parts' hashes computed on the cluster."""
    h = hashlib.sha256()
    for part, digest in zip(parts, hashes):
        h.update(f"{part.name}:{digest}\n".encode())
    return h.hexdigest()


def _keys_across_partitions(report: ValidationReport, ids: pd.Series, sizes: list[int]) -> None:
    """Employees whose code is in two partitions: reported as ``load_dataset`` reports a repeated key,
    each row naming all the others (the reports of the partitions named only their own)."""
    if ids.empty:
        return
    part = np.repeat(np.arange(len(sizes)), sizes)
    spread = pd.Series(part, index=ids.index).groupby(ids.to_numpy(), sort=False).nunique()
    across = spread.index[spread.to_numpy() > 1]
    if not len(across):
        return
    labels = {shorten(str(v)) for v in across}
    for i, frame in enumerate(report.frames):
        stale = (frame["table"] == "employees") & (frame["check"] == "duplicate_key") & frame["value"].isin(labels)
        if stale.any():
            report.frames[i] = frame[~stale]
    rows = ids[ids.isin(across)]
    data = pd.DataFrame({"employee_id": rows.to_numpy()}, index=rows.index)
    messages = schemas.duplicate_messages(data, ["employee_id"], pd.Series(rows.index, index=rows.index))
    report.add_frame(pd.DataFrame({"severity": "error", "table": "employees", "row": rows.index,
                                   "column": "employee_id", "check": "duplicate_key",
                                   "value": messages["value"].to_numpy(), "message": messages["message"].to_numpy()}))


def _resolve_references(report: ValidationReport, unknown: pd.DataFrame, known: dict[str, pd.Index]) -> None:
    """The references not found in their own partition, looked up in all of them."""
    for (name, column), rows in unknown.groupby(["table", "column"], sort=False):
        ref = next(r for r in TABLES[name].references if r.column == column)
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


