"""Write a generated dataset: one file per table plus truth.json, atomically.

Files go to a hidden temporary sibling folder first; only when every file is
written is the folder renamed into place (an existing dataset is replaced
only then), so an interrupted run never leaves a half-written dataset.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa

from analysis.core.cells import becomes_formula, text_cell
from analysis.core.folders import replaced_folder
from analysis.core.jsonsafe import json_default

FORMATS = ("csv", "xlsx", "parquet")
EXCEL_MAX_ROWS = 1_048_576


def _arrow(df: pd.DataFrame, plain_strings: bool) -> pa.Table:
    """Arrow table with dates as date32 (YYYY-MM-DD) and, optionally, dictionaries decoded."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    for i, field in enumerate(table.schema):
        col = table.column(i)
        if pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, col.cast(pa.date32()))
        elif plain_strings and pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, col.cast(field.type.value_type))
        elif pa.types.is_large_string(field.type):
            table = table.set_column(i, field.name, col.cast(pa.string()))
    return table.replace_schema_metadata(None)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    import pyarrow.csv as pcsv

    pcsv.write_csv(_arrow(df, plain_strings=False), str(path),
                   write_options=pcsv.WriteOptions(include_header=True, delimiter=","))


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(_arrow(df, plain_strings=True), str(path))


def _cell_values(s: pd.Series) -> list:
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if pd.api.types.is_datetime64_any_dtype(s):
        return [None if pd.isna(v) else v.date() for v in s]
    if pd.api.types.is_float_dtype(s):
        return [None if v != v else v for v in s.tolist()]
    values = s.tolist()
    return [None if (v is None or v is pd.NA or (isinstance(v, float) and v != v)) else v for v in values]


def write_xlsx(df: pd.DataFrame, path: Path, sheet: str) -> None:
    import openpyxl

    if len(df) + 1 > EXCEL_MAX_ROWS:
        raise ValueError(f"{path.name}: {len(df):,} rows do not fit in an Excel sheet "
                         f"({EXCEL_MAX_ROWS - 1:,} at most); write csv or parquet instead")
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(list(df.columns))
    columns = [_cell_values(df[c]) for c in df.columns]
    # text that openpyxl would store as a formula ("=...") or an error code is kept as the text it is
    risky = [j for j, values in enumerate(columns) if any(becomes_formula(v) for v in values)]
    for row in zip(*columns):
        if risky:
            row = list(row)
            for j in risky:
                if becomes_formula(row[j]):
                    row[j] = text_cell(ws, row[j])
        ws.append(row)
    wb.save(path)


def write(tables: dict[str, pd.DataFrame], truth: dict, out: Path | str, fmt: str = "csv") -> None:
    """Write ``<table>.<fmt>`` for every table and ``truth.json`` into ``out``, atomically."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a folder")
    with replaced_folder(out) as tmp:
        for name, df in tables.items():
            path = tmp / f"{name}.{fmt}"
            if fmt == "csv":
                write_csv(df, path)
            elif fmt == "parquet":
                write_parquet(df, path)
            else:
                write_xlsx(df, path, name)
        (tmp / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False, default=json_default),
                                        encoding="utf-8")
