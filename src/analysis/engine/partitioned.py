"""The validated tables as partitioned Parquet: every region in one partition of every table.

A row's partition is a hash of its region (CRC-32 of the region's UTF-8 text, modulo the number of
partitions): a unit's through its own region, an employee's and an appraisal's through their unit, a
360 rating's through its ratee. So the rows of one region (its units, employees, appraisals, targets
and ratings) lie in the same partition number of every table, and joining two tables on the employee
or the unit is a join of partition with partition: nothing crosses the network. Every table has the
same number of partitions (empty ones included), each one file ``part-NNNNN.parquet``, so partition k
of one table lines up with partition k of another.

A partition is a number, never a folder named after a value from the data: a hostile region name is
never a path. Rows whose region is unknown (a unit the units table lacks) go to partition 0. The
reference tables (competencies, standards, the catalogue) are not cut: they are small and every
partition needs them whole. Each row keeps its label (``row``, its line in the export), so that a
table read back is the table written, in its order.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PART_FILE = "part-{:05d}.parquet"
# the column through which a table's rows reach their region
REGION_KEY = {
    "units": "unit_id", "employees": "unit_id", "org_ratings": "unit_id", "rollout": "unit_id",
    "service_outcomes": "unit_id", "appraisals": "employee_id", "targets": "employee_id",
    "competency_assessments": "employee_id", "training_history": "employee_id", "feedback_360": "ratee_id",
}


def partition_of_regions(regions: pd.Series, n: int) -> np.ndarray:
    """The partition of each region (0 where the region is missing): CRC-32 of its text, modulo ``n``,
    computed once per distinct region."""
    codes, uniques = pd.factorize(regions, use_na_sentinel=True)
    parts = np.array([zlib.crc32(str(r).encode("utf-8")) % n for r in uniques], dtype=np.int64)
    return np.where(codes >= 0, parts[np.maximum(codes, 0)] if len(parts) else 0, 0)


def row_partitions(tables: dict[str, pd.DataFrame], n: int) -> dict[str, np.ndarray]:
    """The partition of every row of the tables that are cut (``REGION_KEY``), from the units' regions
    and the employees' units."""
    units, employees = tables["units"], tables.get("employees")
    region_of_unit = pd.Series(units["region"].to_numpy(), index=units["unit_id"].to_numpy())
    region_of_unit = region_of_unit[~region_of_unit.index.duplicated()]
    unit_of = (pd.Series(employees["unit_id"].to_numpy(), index=employees["employee_id"].to_numpy())
               if employees is not None else pd.Series(dtype=object))
    unit_of = unit_of[~unit_of.index.duplicated()]
    out = {}
    for name, df in tables.items():
        key = REGION_KEY.get(name)
        if key is None or key not in df:
            continue
        unit = df[key] if key == "unit_id" else df[key].map(unit_of)
        out[name] = partition_of_regions(unit.map(region_of_unit), n)
    return out


def write_partitioned(tables: dict[str, pd.DataFrame], folder: Path, n: int) -> dict[str, int]:
    """Each table under ``folder/<table>/``: ``n`` partition files for the tables cut by region, one
    for the reference tables. Returns the number of files written per table."""
    parts = row_partitions(tables, n)
    written = {}
    for name, df in tables.items():
        target = Path(folder) / name
        target.mkdir(parents=True, exist_ok=True)
        for stale in part_files(folder, name):  # files of an earlier write would misalign the partitions
            stale.unlink()
        schema = pa.Schema.from_pandas(df, preserve_index=True)
        if name not in parts:
            pq.write_table(pa.Table.from_pandas(df, schema=schema, preserve_index=True), target / PART_FILE.format(0))
            written[name] = 1
            continue
        at = parts[name]
        order = np.argsort(at, kind="stable")
        bounds = np.searchsorted(at[order], np.arange(n + 1))
        for k in range(n):
            rows = df.take(order[bounds[k]:bounds[k + 1]])
            pq.write_table(pa.Table.from_pandas(rows, schema=schema, preserve_index=True),
                           target / PART_FILE.format(k))
        written[name] = n
    return written


def part_files(folder: Path, name: str) -> list[Path]:
    """The partition files of a table, in partition order."""
    return sorted((Path(folder) / name).glob("part-*.parquet"))


def read_part(folder: Path, name: str, k: int, columns: list[str] | None = None) -> pd.DataFrame:
    """Partition ``k`` of a table, with pandas (a reference table's one file for any ``k``)."""
    files = part_files(folder, name)
    return pd.read_parquet(files[k] if len(files) > 1 else files[0], columns=columns)


def dask_frame(folder: Path, name: str, columns: list[str] | None = None):
    """A partitioned table as a lazy Dask DataFrame, indexed by the rows' labels. Dask's optimiser may
    read several small files as one partition, so partitions of two tables do not line up here: joins
    partition by partition use ``from_parts``."""
    import dask
    import dask.dataframe as dd

    files = [str(f) for f in part_files(folder, name)]
    # Dask would turn text into its own NA-string dtype; the regional run's tables use pandas' default
    # (str, NaN where missing), and the same answers need the same dtypes
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.read_parquet(files, columns=columns, split_row_groups=False, calculate_divisions=False)


def from_parts(read, names: list[str], func, folder: Path):
    """A lazy Dask DataFrame whose partition ``k`` is ``func(*tables)``, the tables being partition ``k``
    of each named table as ``read(name, k)`` gives it (``read`` must be picklable: it runs on the
    workers). Tables cut by the same region hash meet partition by partition, whatever Dask does with
    the files; the frame's dtypes are those ``func`` gives on the tables' empty partitions."""
    import dask
    import dask.dataframe as dd

    counts = {n: len(part_files(folder, n)) for n in names}
    if len(set(counts.values())) != 1:
        raise ValueError(f"tables cut into different numbers of partitions: {counts}; write them with "
                         "write_partitioned and the same number")
    n = next(iter(counts.values()))
    meta = func(*[read(name, 0).iloc[:0] for name in names])
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(_Joined(read, names, func), range(n), meta=meta, enforce_metadata=False)


class _Joined:
    """Partition ``k`` of ``from_parts`` (a class, not a closure, so that workers can unpickle it)."""

    def __init__(self, read, names: list[str], func):
        self.read, self.names, self.func = read, names, func

    def __call__(self, k: int) -> pd.DataFrame:
        return self.func(*[self.read(name, k) for name in self.names])
