"""Writing an imported dataset: the tables and the report, into a folder that appears only whole.

Everything is written into a hidden temporary folder beside the destination and renamed into place
at the end, so a failed import leaves nothing half-written. An existing destination is replaced only
when it is empty or an earlier import (it holds ``import_report.csv``): a folder of other files is
never overwritten.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from analysis.core.folders import replaced_folder
from analysis.imports.report import ImportFailure, ImportReport

FORMATS = ("csv", "parquet")
REPORT_FILE = "import_report.csv"


def check_destination(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ImportFailure(str(out), None, None, "bad_destination", "exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / REPORT_FILE).exists():
        raise ImportFailure(str(out), None, None, "bad_destination",
                            "is a folder of other files; import into a new folder (an earlier import's folder "
                            "is replaced)")


def _arrow(df: pd.DataFrame) -> pa.Table:
    """Dates as dates (YYYY-MM-DD), text as text, whole numbers of a text column never as floats."""
    frame = df.copy()
    for c in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[c]):
            frame[c] = frame[c].dt.date
        elif frame[c].dtype == object:
            frame[c] = frame[c].map(lambda v: None if v is None or (isinstance(v, float) and v != v) else v)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.replace_schema_metadata(None)


def _write_table(df: pd.DataFrame, path: Path, fmt: str) -> None:
    table = _arrow(df)
    if fmt == "csv":
        import pyarrow.csv as pcsv

        pcsv.write_csv(table, str(path), write_options=pcsv.WriteOptions(include_header=True, delimiter=","))
    else:
        import pyarrow.parquet as pq

        pq.write_table(table, str(path))


def write_dataset(tables: dict[str, pd.DataFrame], report: ImportReport, out: Path, fmt: str = "csv") -> None:
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")
    check_destination(out)
    with replaced_folder(out) as tmp:
        for name, df in tables.items():
            _write_table(df, tmp / f"{name}.{fmt}", fmt)
        report.write_csv(tmp / REPORT_FILE)
