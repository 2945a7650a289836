"""A table given as a folder of Parquet parts (``<table>/part-NNNNN.parquet``) reads as the one file
the parts make together: same typed values, rows numbered on through the parts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.data.reading import find_files, sha256_of
from analysis.data.validation import load_dataset
from corpus.builders import base_tables, write_dataset


def write_parts(folder: Path, name: str, df: pd.DataFrame, cuts: list[int]) -> list[Path]:
    """``df`` as parts cut before the given row positions (an empty part where two cuts meet)."""
    (folder / name).mkdir(parents=True)
    bounds = [0, *cuts, len(df)]
    paths = []
    for k in range(len(bounds) - 1):
        path = folder / name / f"part-{k:05d}.parquet"
        pq.write_table(pa.Table.from_pandas(df.iloc[bounds[k]:bounds[k + 1]], preserve_index=False), path)
        paths.append(path)
    return paths


def test_parts_read_as_the_one_file_they_make(tmp_path):
    tables = base_tables()
    whole = load_dataset(write_dataset(tmp_path / "whole", tables, fmt="parquet"))
    parted = tmp_path / "parted"
    write_dataset(parted, tables, fmt="parquet", skip=("appraisals", "feedback_360"))
    write_parts(parted, "appraisals", tables["appraisals"], [2, 2, 5])
    write_parts(parted, "feedback_360", tables["feedback_360"], [1])
    ds = load_dataset(parted)
    assert ds.ok and ds.report.to_frame().empty
    for name in whole.tables:
        pd.testing.assert_frame_equal(ds.tables[name], whole.tables[name])  # row labels included
    info = ds.report.files["appraisals"]
    assert info["file"] == "appraisals/" and info["parts"] == 4 and info["rows"] == len(tables["appraisals"])
    assert info["bytes"] == sum(p.stat().st_size for p in (parted / "appraisals").iterdir())


def test_a_problem_in_a_later_part_is_reported_on_its_row_counted_through_the_parts(tmp_path):
    tables = base_tables()
    app = tables["appraisals"].copy()
    app.loc[app.index[4], "hasil_kerja"] = "luar biasa"  # the fifth data row: row 6 of one file
    write_dataset(tmp_path, tables, skip=("appraisals",))
    write_parts(tmp_path, "appraisals", app, [3])  # it is the second row of the second part
    frame = load_dataset(tmp_path).report.to_frame()
    bad = frame[frame["column"] == "hasil_kerja"]
    assert bad[["table", "row", "severity"]].values.tolist() == [["appraisals", 6, "error"]]


def test_parts_with_different_headers_are_an_error_naming_the_part(tmp_path):
    tables = base_tables()
    write_dataset(tmp_path, tables, skip=("appraisals",))
    paths = write_parts(tmp_path, "appraisals", tables["appraisals"], [3])
    pq.write_table(pa.Table.from_pandas(tables["appraisals"].iloc[3:].drop(columns=["innovation"]),
                                        preserve_index=False), paths[1])
    ds = load_dataset(tmp_path)
    frame = ds.report.to_frame()
    row = frame[frame["table"] == "appraisals"].iloc[0]
    assert not ds.ok and row["check"] == "parts_differ" and "part-00001.parquet" in row["message"]
    assert "appraisals" not in ds.tables


def test_a_table_folder_without_parts_is_reported_and_other_folders_are_ignored(tmp_path):
    write_dataset(tmp_path, skip=("appraisals",))
    (tmp_path / "appraisals").mkdir()
    (tmp_path / "appraisals" / "notes.txt").write_text("not a part")
    (tmp_path / "truth").mkdir()
    frame = load_dataset(tmp_path).report.to_frame()
    assert frame[["table", "check"]].values.tolist() == [["appraisals", "empty_file"]]
    assert "appraisals/ holds no part-*.parquet files" in frame["message"].iloc[0]


def test_a_table_given_as_a_file_and_as_parts_is_ambiguous(tmp_path):
    tables = base_tables()
    write_dataset(tmp_path, tables)
    write_parts(tmp_path, "appraisals", tables["appraisals"], [])
    files, problems = find_files(tmp_path)
    assert "appraisals" not in files and [p.check for p in problems] == ["ambiguous_file"]


def test_a_part_over_a_limit_is_reported_with_the_part_and_the_row(tmp_path, monkeypatch):
    from analysis.data import reading

    tables = base_tables()
    write_dataset(tmp_path, tables, skip=("appraisals",))
    app = tables["appraisals"].copy()
    app.loc[app.index[4], "rater_id"] = "x" * 200
    write_parts(tmp_path, "appraisals", app, [3])
    monkeypatch.setattr(reading, "MAX_CELL_CHARS", 100)
    frame = load_dataset(tmp_path).report.to_frame()
    row = frame[frame["table"] == "appraisals"].iloc[0]
    assert row["check"] == "cell_too_long" and "part-00001.parquet" in row["message"]
    assert row["row"] == 6  # the fifth data row: numbered on through the parts
    # the message quotes the part's own row (the second of part 1) and says which row of the table it is
    assert "in row 3," in row["message"]
    assert row["message"].endswith("; row 3 of the part is row 6 of the appraisals table "
                                   "(see Limits in docs/data-format.md)")


def test_a_limit_in_the_header_of_a_later_part_is_on_row_1(tmp_path, monkeypatch):
    """Every part's header is the table's header: a problem there is on row 1, with no other row named."""
    from analysis.data import reading

    tables = base_tables()
    write_dataset(tmp_path, tables, skip=("appraisals",))
    paths = write_parts(tmp_path, "appraisals", tables["appraisals"], [3])
    part = pd.read_parquet(paths[1])
    part.columns = [*part.columns[:-1], "x" * 200]  # the last (optional) column's name
    pq.write_table(pa.Table.from_pandas(part, preserve_index=False), paths[1])
    monkeypatch.setattr(reading, "MAX_CELL_CHARS", 100)
    frame = load_dataset(tmp_path).report.to_frame()
    row = frame[frame["table"] == "appraisals"].iloc[0]
    assert row["check"] == "cell_too_long" and row["row"] == 1 and "part-00001.parquet" in row["message"]
    assert "of the part is row" not in row["message"]


def test_the_hash_of_a_partitioned_table_follows_its_parts(tmp_path):
    tables = base_tables()
    paths = write_parts(tmp_path, "appraisals", tables["appraisals"], [3])
    before = sha256_of(tmp_path / "appraisals")
    assert before == sha256_of(tmp_path / "appraisals")
    pq.write_table(pa.Table.from_pandas(tables["appraisals"].iloc[3:4], preserve_index=False), paths[1])
    assert sha256_of(tmp_path / "appraisals") != before
