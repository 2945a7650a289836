"""A dataset of CSV files cut into Parquet parts by region (docs/data-format.md, "Partitioned tables"):
each row in the part of its unit's region, as an agency exporting one part per region would write it."""

from __future__ import annotations

import zlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.engine.partitioned import REGION_KEY


def cut_by_region(source: Path, out: Path, n: int) -> Path:
    """Every table of ``source`` (CSV) as ``out/<table>/part-NNNNN.parquet`` of text cells: ``n`` parts for
    the tables cut by region (CRC-32 of the region, modulo ``n``; an unknown unit in part 0), one for
    the others. Within a part the rows keep their order."""
    tables = {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(Path(source).glob("*.csv"))}
    region = dict(zip(tables["units"]["unit_id"], tables["units"]["region"]))
    unit_of = dict(zip(tables["employees"]["employee_id"], tables["employees"]["unit_id"]))
    for name, df in tables.items():
        (out / name).mkdir(parents=True)
        key = REGION_KEY.get(name)
        if key is None:
            pq.write_table(pa.Table.from_pandas(df, preserve_index=False), out / name / "part-00000.parquet")
            continue
        unit = df[key] if key == "unit_id" else df[key].map(unit_of)
        part = unit.map(region).map(lambda r: zlib.crc32(str(r).encode()) % n if isinstance(r, str) else 0)
        part = part.fillna(0).astype(int).to_numpy()
        for k in range(n):
            pq.write_table(pa.Table.from_pandas(df[part == k], preserve_index=False), out / name / f"part-{k:05d}.parquet")
    return out
