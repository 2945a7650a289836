"""Validation of a partitioned dataset on a 2-worker cluster (``engine.validation``) reports what
``load_dataset`` reports for the same parts read as one table, row for row and word for word, and
writes the typed tables it would give; and it finds what only partitions can get wrong (rows of an
employee or a unit in another part than theirs)."""

from __future__ import annotations

import dask
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.core.params import Dask
from analysis.data.validation import load_dataset
from analysis.engine import cluster
from analysis.engine import partitioned as P
from analysis.engine.validation import PartitionedDataset, layout, validate_partitioned
from corpus.builders import N, base_tables, write_table

PART_OF_REGION = {"Kota": 0, "Selatan": 1}  # two parts: the base dataset's two regions


@pytest.fixture(scope="module")
def client():
    with cluster.connect(Dask(workers=2, memory_limit="1GiB")) as c:
        yield c


def write_parts(folder, tables: dict[str, pd.DataFrame], moved: dict[tuple[str, int], int] | None = None):
    """The tables cut by region into two parts (each row in the part of its unit's region; a row whose
    unit is unknown in part 0), the reference tables one file each. ``moved``: (table, row position) ->
    the part a row is put in instead."""
    folder.mkdir(parents=True, exist_ok=True)
    units = tables.get("units", pd.DataFrame(columns=["unit_id", "region"]))
    region = dict(zip(units["unit_id"], units["region"]))
    emp = tables.get("employees", pd.DataFrame(columns=["employee_id", "unit_id"]))
    unit_of = dict(zip(emp["employee_id"], emp["unit_id"]))
    for name, df in tables.items():
        key = P.REGION_KEY.get(name)
        if key is None:
            write_table(folder, name, df, "parquet")
            continue
        unit = df[key] if key == "unit_id" else df[key].map(unit_of)
        part = unit.map(region).map(PART_OF_REGION).fillna(0).astype(int).to_numpy().copy()
        for (table, pos), k in (moved or {}).items():
            if table == name:
                part[pos] = k
        (folder / name).mkdir()
        for k in range(2):
            pq.write_table(pa.Table.from_pandas(df[part == k], preserve_index=False),
                           folder / name / f"part-{k:05d}.parquet")
    return folder


def both(folder, out) -> tuple[PartitionedDataset, object]:
    return validate_partitioned(folder, out), load_dataset(folder)


def assert_same(got: PartitionedDataset, ds, out) -> None:
    """The same report, files, rows and typed tables as reading the parts as one table (and no other
    table in the run)."""
    pd.testing.assert_frame_equal(got.report.to_frame(), ds.report.to_frame())
    if ds.ok:
        assert got.report.files == ds.report.files
        assert got.rows_used == ds.row_counts()
        assert {p.name for p in out.iterdir()} == set(ds.tables)
    for name, df in ds.tables.items() if ds.ok else ():
        written = pd.concat([pd.read_parquet(f) for f in P.part_files(out, name)])
        df.to_parquet(out.parent / "whole.parquet", index=True)
        pd.testing.assert_frame_equal(written, pd.read_parquet(out.parent / "whole.parquet"))


def with_rows(df: pd.DataFrame, *rows: list[str]) -> pd.DataFrame:
    return pd.concat([df, pd.DataFrame(list(rows), columns=df.columns)], ignore_index=True)


def bad_cells(t):
    t["appraisals"].loc[0, "hasil_kerja"] = "luar biasa"
    t["feedback_360"].loc[1, "score"] = "7"
    t["employees"].loc[6, "birth_date"] = "1987-13-05"


def repeated_key_in_a_part(t):
    t["appraisals"] = with_rows(t["appraisals"], t["appraisals"].iloc[1].tolist())


def employee_in_two_parts(t):  # the kadis (Kota) again, in a Selatan unit
    t["employees"] = with_rows(t["employees"], [N["kadis"], "U03"] + t["employees"].iloc[0, 2:].tolist())


def dangling_employee(t):  # an appraisal of a NIP no part has: set aside, with a warning
    t["appraisals"] = with_rows(t["appraisals"], ["199901012020011099", "2024", N["kasi"], "sesuai", "sesuai",
                                                  "baik", "false"])
    t["feedback_360"] = with_rows(t["feedback_360"], ["2024", N["staf"], "199901012020011099", "peer", "loyal", "3"])


def unit_case_variant_in_another_part(t):
    t["units"] = with_rows(t["units"], ["u01", "Dinas X", "Selatan", "dinas"])


def unit_unknown(t):
    t["service_outcomes"] = with_rows(t["service_outcomes"], ["U09", "2024Q1", "70", "75", "0", "2"])
    t["employees"].loc[7, "unit_id"] = "u03"


def no_employees(t):
    del t["employees"]


def no_optional_table(t):
    del t["training_history"]


def no_competencies(t):
    del t["competencies"]


def dangling_key_in_two_parts(t):  # the same appraisal of a NIP no part has, once in each region's part
    row = ["199901012020011099", "2024", N["kasi"], "sesuai", "sesuai", "baik", "false"]
    t["appraisals"] = with_rows(t["appraisals"], row, row)


def decimal_comma_in_one_part_only(t):
    # "80,5" (Kota) says the column writes decimal commas: "1.500" (Selatan) is then 1500, not 1.5
    t["targets"].loc[0, "target"] = "80,5"
    t["targets"].loc[3, "target"] = "1.500"


def employees_without_rows(t):
    t["employees"] = t["employees"].iloc[:0]


def optional_table_without_rows(t):
    t["training_history"] = t["training_history"].iloc[:0]


CASES = [bad_cells, repeated_key_in_a_part, employee_in_two_parts, dangling_employee,
         unit_case_variant_in_another_part, unit_unknown, no_employees, no_optional_table, no_competencies,
         employees_without_rows, optional_table_without_rows, decimal_comma_in_one_part_only]
MOVED = {dangling_key_in_two_parts: {("appraisals", 7): 0, ("appraisals", 8): 1}}
CASES.append(dangling_key_in_two_parts)


def test_a_clean_dataset_gives_what_load_dataset_gives(client, tmp_path):
    folder = write_parts(tmp_path / "data", base_tables())
    assert layout(folder) == (2, "")
    got, ds = both(folder, tmp_path / "run" / "partitioned")
    assert got.ok and ds.ok and got.parts == 2 and got.periods == ["2024"]
    assert_same(got, ds, tmp_path / "run" / "partitioned")
    # every table cut by region has one file per part (the feedback's second part empty), the others one
    out = tmp_path / "run" / "partitioned"
    assert [len(P.part_files(out, n)) for n in ("appraisals", "feedback_360", "units", "competencies")] == [2, 2, 2, 1]
    assert pd.read_parquet(P.part_files(out, "feedback_360")[1]).empty


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_a_broken_dataset_gives_the_report_load_dataset_gives(client, tmp_path, case):
    tables = base_tables()
    case(tables)
    folder = write_parts(tmp_path / "data", tables, moved=MOVED.get(case))
    got, ds = both(folder, tmp_path / "run" / "partitioned")
    assert_same(got, ds, tmp_path / "run" / "partitioned")


def test_a_rater_in_another_part_is_fine_but_a_row_away_from_its_employee_is_an_error(client, tmp_path):
    tables = base_tables()
    # the staf (Selatan) is appraised by the kasi (Kota) in the base dataset: a rater may be anywhere
    guru = tables["appraisals"].index[tables["appraisals"]["employee_id"] == N["guru"]][0]
    operator = tables["employees"].index[tables["employees"]["employee_id"] == N["operator"]][0]
    folder = write_parts(tmp_path / "data", tables, moved={("appraisals", guru): 1, ("employees", operator): 0})
    got, ds = both(folder, tmp_path / "run" / "partitioned")
    assert ds.ok  # read as one table, nothing is wrong
    frame = got.report.to_frame()
    assert not got.ok and set(frame["check"]) == {"misaligned"}
    # the guru's appraisal is away from the guru; the operator is away from U03, and so (now) is the
    # operator's appraisal, which stayed in U03's part
    assert sorted(zip(frame["table"], frame["column"], frame["value"])) == sorted([
        ("appraisals", "employee_id", N["operator"]), ("appraisals", "employee_id", N["guru"]),
        ("employees", "unit_id", "U03")])
    assert "another part" in frame["message"].iloc[0]


@pytest.mark.parametrize("table, column, value, where", [
    ("appraisals", "employee_id", N["guru"], "after"), ("appraisals", "employee_id", N["guru"], "before"),
    ("org_ratings", "unit_id", "U01", "after")])
def test_a_row_away_from_its_employee_or_unit_that_repeats_a_key_of_their_part_is_a_repeated_key_too(
        client, tmp_path, table, column, value, where):
    """The guru's (Kota, part 0) appraisal again, or U01's (Kota) rating, in Selatan's part 1, numbered
    after or before the row it repeats: load_dataset reports the repeated key on both rows, and so does
    the cluster, beside the row away from its employee or unit."""
    tables = base_tables()
    df = tables[table]
    again = df.loc[df.index[df[column] == value][0]].tolist()
    tables[table] = with_rows(df, again) if where == "after" else pd.concat(
        [pd.DataFrame([again], columns=df.columns), df], ignore_index=True)
    copy = len(df) if where == "after" else 0
    folder = write_parts(tmp_path / "data", tables, moved={(table, copy): 1})
    got, ds = both(folder, tmp_path / "run" / "partitioned")
    expected = ds.report.to_frame()
    assert set(expected["check"]) == {"duplicate_key"} and len(expected) == 2
    frame = got.report.to_frame()
    misaligned = frame["check"] == "misaligned"
    assert frame.loc[misaligned, ["table", "value"]].values.tolist() == [[table, value]]
    pd.testing.assert_frame_equal(frame[~misaligned].reset_index(drop=True), expected)


def test_parts_that_differ_or_cannot_be_read_are_reported_naming_the_part(client, tmp_path):
    tables = base_tables()
    folder = write_parts(tmp_path / "data", tables)
    pq.write_table(pa.Table.from_pandas(tables["appraisals"].drop(columns="innovation"), preserve_index=False),
                   folder / "appraisals" / "part-00001.parquet")
    (folder / "targets" / "part-00001.parquet").write_bytes(b"PAR1 not really parquet")
    got = validate_partitioned(folder, tmp_path / "out")
    frame = got.report.to_frame().set_index("table")
    assert frame.loc["appraisals", "check"] == "parts_differ" and "part-00001" in frame.loc["appraisals", "message"]
    assert frame.loc["targets", "check"] == "unreadable"
    assert frame.loc["targets", "message"].startswith("targets/part-00001.parquet cannot be read as parquet")
    assert "appraisals" not in got.rows_used and "targets" not in got.rows_used
    ds = load_dataset(folder)
    assert set(ds.report.to_frame()["check"]) == {"parts_differ", "unreadable"}


@pytest.mark.parametrize("broken", ["parts_differ", "unreadable"])
def test_an_employees_part_that_differs_or_cannot_be_read_is_a_report_not_a_crash(client, tmp_path, broken):
    """The employees table unusable (one part unreadable, or with another header): reported naming the
    part, as load_dataset does, and none of its parts' codes looked at across partitions."""
    tables = base_tables()
    folder = write_parts(tmp_path / "data", tables)
    part = folder / "employees" / "part-00001.parquet"
    if broken == "unreadable":
        part.write_bytes(b"PAR1 not really parquet")
    else:
        pq.write_table(pa.Table.from_pandas(pd.read_parquet(part).drop(columns="education"), preserve_index=False),
                       part)
    got, ds = both(folder, tmp_path / "run" / "partitioned")
    frame = got.report.to_frame()
    assert not got.ok and "employees" not in got.rows_used
    assert frame.loc[frame["table"] == "employees", "check"].tolist() == [broken]
    assert "part-00001" in frame.loc[frame["table"] == "employees", "message"].iloc[0]
    pd.testing.assert_frame_equal(frame, ds.report.to_frame())


def test_a_table_folder_in_capitals_and_parts_whose_headers_differ_only_in_spelling_are_read(client, tmp_path):
    tables = base_tables()
    folder = write_parts(tmp_path / "data", tables)
    (folder / "appraisals").rename(folder / "Appraisals")
    part = folder / "employees" / "part-00001.parquet"
    renamed = pd.read_parquet(part).rename(columns={"employee_id": "NIP", "unit_id": "Unit ID"})
    pq.write_table(pa.Table.from_pandas(renamed, preserve_index=False), part)
    got, ds = both(folder, tmp_path / "run" / "partitioned")
    assert ds.ok and got.ok
    assert_same(got, ds, tmp_path / "run" / "partitioned")


def test_a_part_over_a_limit_is_reported_on_its_row_counted_through_the_parts(client, tmp_path, monkeypatch):
    from analysis.data import reading

    tables = base_tables()
    app = tables["appraisals"].copy()
    app.loc[app.index[6], "rater_id"] = "x" * 200  # the operator (Selatan): the third row of part 1
    folder = write_parts(tmp_path / "data", {**tables, "appraisals": app})
    monkeypatch.setattr(reading, "MAX_CELL_CHARS", 100)  # in this process: the parts are read here
    with dask.config.set(scheduler="sync"):
        got, ds = both(folder, tmp_path / "run" / "partitioned")
    assert_same(got, ds, tmp_path / "run" / "partitioned")
    frame = got.report.to_frame()
    assert frame[["table", "row", "check"]].values.tolist() == [["appraisals", 8, "cell_too_long"]]
    # the message names the part and its own row, and says which row of the table that is
    message = frame["message"].iloc[0]
    assert message.startswith("part-00001.parquet: the cell in row 4, column rater_id holds 200 characters")
    assert message.endswith("; row 4 of the part is row 8 of the appraisals table (see Limits in docs/data-format.md)")


def test_a_dataset_of_files_or_of_parts_that_do_not_line_up_is_loaded_whole(client, tmp_path):
    write_parts(tmp_path / "data", base_tables())
    assert isinstance(validate_partitioned(tmp_path / "data", tmp_path / "o1"), PartitionedDataset)
    (tmp_path / "data" / "targets" / "part-00001.parquet").unlink()
    n, why = layout(tmp_path / "data")
    assert n is None and why.startswith("its tables have different numbers of parts") and "targets 1" in why
    ds = validate_partitioned(tmp_path / "data", tmp_path / "o2")
    assert not isinstance(ds, PartitionedDataset) and ds.ok and not (tmp_path / "o2").exists()
