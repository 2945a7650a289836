"""The validated tables as partitioned Parquet (``engine.partitioned``): the table read back is the table
written, every region lies in one partition number of every table, and no value from the data becomes
a path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.engine import partitioned as P


def read_whole(folder, name: str) -> pd.DataFrame:
    """A partitioned table read back whole, in the order it was written (by its row labels)."""
    return pd.concat([pd.read_parquet(f) for f in P.part_files(folder, name)]).sort_index(kind="stable")


def single_file(df: pd.DataFrame, path) -> pd.DataFrame:
    """The table as the regional run writes and reads it (one Parquet file: ``pipeline.run``)."""
    df.to_parquet(path, index=True)
    return pd.read_parquet(path)


def test_every_table_reads_back_as_the_regional_runs_file(small_sample, tmp_path):
    tables, _, _ = small_sample
    written = P.write_partitioned(tables, tmp_path / "parts", 7)
    for name, df in tables.items():
        assert written[name] == (7 if name in P.REGION_KEY else 1)
        pd.testing.assert_frame_equal(read_whole(tmp_path / "parts", name), single_file(df, tmp_path / "one.parquet"))


def test_a_region_lies_in_one_partition_number_of_every_table(small_sample, tmp_path):
    tables, _, _ = small_sample
    P.write_partitioned(tables, tmp_path, 5)
    region_of_unit = tables["units"].set_index("unit_id")["region"]
    unit_of = tables["employees"].set_index("employee_id")["unit_id"]
    where: dict[str, set] = {}
    for name in ("units", "employees", "appraisals", "feedback_360"):
        for k, f in enumerate(P.part_files(tmp_path, name)):
            part = pd.read_parquet(f)
            key = P.REGION_KEY[name]
            units = part[key] if key == "unit_id" else part[key].map(unit_of)
            for region in units.map(region_of_unit).dropna().unique():
                where.setdefault(region, set()).add(k)
    assert where and all(len(parts) == 1 for parts in where.values()), where
    # and the regions are spread over the partitions, not all in one
    assert len({next(iter(p)) for p in where.values()}) > 1


def test_partition_files_line_up_across_tables_even_when_empty(small_sample, tmp_path):
    tables, _, _ = small_sample
    P.write_partitioned(tables, tmp_path, 64)  # more partitions than regions: most are empty
    counts = {name: len(P.part_files(tmp_path, name)) for name in P.REGION_KEY if name in tables}
    assert set(counts.values()) == {64}
    empty = [f for f in P.part_files(tmp_path, "units") if len(pd.read_parquet(f)) == 0]
    assert empty, "expected empty partitions with 64 partitions and few regions"
    assert list(pd.read_parquet(empty[0]).columns) == list(tables["units"].columns)


def hostile_tables():
    regions = ["../../etc", "a/b", "C:\\x", "=HYPERLINK(\"x\")", "x" * 5000, "Palu", None]
    units = pd.DataFrame({"unit_id": [f"U{i}" for i in range(len(regions))], "unit_name": "u",
                          "region": regions}, index=pd.RangeIndex(2, 2 + len(regions), name="row"))
    employees = pd.DataFrame({"employee_id": ["E1", "E2", "E3"], "unit_id": ["U0", "U6", "U99"]},
                             index=pd.RangeIndex(2, 5, name="row"))
    return {"units": units, "employees": employees}


def test_no_value_from_the_data_becomes_a_path(tmp_path):
    P.write_partitioned(hostile_tables(), tmp_path / "out", 4)
    made = {p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")}
    assert made == {"units", "employees"} | {f"{t}/part-{k:05d}.parquet" for t in ("units", "employees")
                                             for k in range(4)}


def test_rows_without_a_known_region_go_to_partition_0(tmp_path):
    tables = hostile_tables()
    parts = P.row_partitions(tables, 4)
    # the unit without a region, and the employee of a unit the units table lacks
    assert parts["units"][-1] == 0 and parts["employees"][2] == 0
    assert parts["employees"][0] == parts["units"][0]  # E1 is in U0's partition


@pytest.mark.parametrize("n", [1, 3, 1000])
def test_the_partition_of_a_region_is_a_fixed_number(n):
    regions = pd.Series(["Palu", "Donggala", "Palu", None, "Sigi"])
    first = P.partition_of_regions(regions, n)
    assert first[0] == first[2] and first[3] == 0 and ((0 <= first) & (first < n)).all()
    # the same region gets the same partition in another table, whatever else is in it
    again = P.partition_of_regions(pd.Series(["Sigi", "Palu"]), n)
    assert again.tolist() == [first[4], first[0]]
    assert np.array_equal(P.partition_of_regions(regions, n), first)


def test_dask_reads_one_partition_per_file_with_the_regional_dtypes(small_sample, tmp_path):
    tables, _, _ = small_sample
    P.write_partitioned(tables, tmp_path, 6)
    lazy = P.dask_frame(tmp_path, "appraisals")
    assert lazy.npartitions == 6
    got = lazy.compute(scheduler="sync").sort_index(kind="stable")
    pd.testing.assert_frame_equal(got, single_file(tables["appraisals"], tmp_path / "one.parquet"))
