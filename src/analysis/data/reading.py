"""Reading a dataset folder: one file per table, as exported from real systems.

Exports come from Excel and from older systems, so the reader copes with:
UTF-8 (with or without BOM) or Latin-1/Windows-1252; ``,`` ``;`` tab or ``|``
separators; title rows above the header; blank rows; stray whitespace
(including non-breaking spaces); empty trailing columns; header names in any
case or spacing. Every cell is read as text; typing and checking happen in
``parsing`` and ``validation``. Each row keeps its number as a spreadsheet
shows it (header included), so every problem can be traced to a row.
"""

from __future__ import annotations

import csv
import hashlib
import io as _io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd

from analysis.core.codes import fold
from analysis.data.contract import TABLES, Table
from analysis.data.problems import Problem

SUFFIXES = (".csv", ".xlsx", ".parquet")
SEPARATORS = (",", ";", "\t", "|")
HEADER_SCAN_ROWS = 30
# Folded column names that exports use for a contract column.
COLUMN_ALIASES = {
    "nip": "employee_id",
    "nip_penilai": "rater_id",
    "nip_pegawai": "employee_id",
    "nip_atasan": "rater_id",
}
IGNORED_FILES = {"truth.json", "readme.md", "readme.txt"}


class ReadError(Exception):
    """A file that cannot be read as a table; carries the problem to report."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class RawTable:
    """A table as read: all cells text (or None), index = spreadsheet row number."""

    name: str
    data: pd.DataFrame
    path: Path
    format: str
    sha256: str
    header_row: int
    encoding: str | None = None
    separator: str | None = None
    ignored_columns: list[str] = field(default_factory=list)
    blank_rows: int = 0
    # problems with single rows found while reading (the rest of the file is read)
    problems: list[Problem] = field(default_factory=list)

    def info(self) -> dict:
        return {
            "file": self.path.name,
            "format": self.format,
            "sha256": self.sha256,
            "bytes": self.path.stat().st_size,
            "rows": int(len(self.data)),
            "header_row": self.header_row,
            "encoding": self.encoding,
            "separator": self.separator,
        }


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def find_files(folder: Path) -> tuple[dict[str, Path], list[Problem]]:
    """Map table name -> file in a dataset folder, with problems about the folder itself."""
    problems: list[Problem] = []
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith((".", "~$")) or path.is_dir():
            continue
        stem, suffix = path.stem.lower(), path.suffix.lower()
        if path.name.lower() in IGNORED_FILES:
            continue
        if stem in TABLES and suffix in SUFFIXES:
            found.setdefault(stem, []).append(path)
        elif stem in TABLES and suffix == ".xls":
            problems.append(Problem(stem, None, None, "unsupported_format", path.name,
                                    f"{path.name}: the old .xls format is not read; save it as .xlsx"))
        else:
            problems.append(Problem("-", None, None, "unknown_file", path.name,
                                    f"{path.name} is not a table of the data contract and is ignored",
                                    "warning"))
    files: dict[str, Path] = {}
    for name, paths in found.items():
        if len(paths) > 1:
            problems.append(Problem(name, None, None, "ambiguous_file", ", ".join(p.name for p in paths),
                                    f"table {name} is given by more than one file: "
                                    + ", ".join(p.name for p in paths)))
        else:
            files[name] = paths[0]
    return files, problems


def read_table(name: str, path: Path) -> RawTable:
    """Read one file as a RawTable; raises ReadError with the problem to report."""
    spec = TABLES[name]
    suffix = path.suffix.lower()
    try:
        if path.stat().st_size == 0:
            raise ReadError(Problem(name, None, None, "empty_file", path.name, f"{path.name} is empty"))
        if suffix == ".csv":
            return _read_csv(spec, path)
        if suffix == ".xlsx":
            return _read_xlsx(spec, path)
        if suffix == ".parquet":
            return _read_parquet(spec, path)
    except ReadError:
        raise
    except Exception as exc:  # any library failure on a broken file becomes a report line
        raise ReadError(Problem(name, None, None, "unreadable", path.name,
                                f"{path.name} cannot be read as {suffix[1:]}: {_short(exc)}")) from exc
    raise ReadError(Problem(name, None, None, "unsupported_format", path.name, f"{path.name}: unsupported"))


# --- CSV ---------------------------------------------------------------------

def _decode(raw: bytes, name: str, path: Path) -> tuple[str, str]:
    if b"\x00" in raw[:4096]:
        raise ReadError(Problem(name, None, None, "unreadable", path.name,
                                f"{path.name} is not a text file (is it a spreadsheet saved under a .csv name?)"))
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte string")


def _read_csv(spec: Table, path: Path) -> RawTable:
    raw = path.read_bytes()
    text, encoding = _decode(raw, spec.name, path)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ReadError(Problem(spec.name, None, None, "empty_file", path.name,
                                f"{path.name} has no content"))
    head_lines = text.split("\n", HEADER_SCAN_ROWS)[:HEADER_SCAN_ROWS]
    best: tuple[int, int, str] | None = None  # (matches, header index, separator)
    for sep in SEPARATORS:
        rows = list(csv.reader(head_lines, delimiter=sep))
        found = _find_header(spec, rows)
        if found and (best is None or found[1] > best[0]):
            best = (found[1], found[0], sep)
    if best is None:
        raise ReadError(_no_header(spec, path))
    _, header_idx, sep = best
    problems: list[Problem] = []
    try:
        df = pd.read_csv(
            _io.StringIO(text), sep=sep, header=None, skiprows=header_idx, dtype=str,
            keep_default_na=False, na_filter=False, skip_blank_lines=False, engine="c",
            quotechar='"', skipinitialspace=False,
        )
        header = [str(v) for v in df.iloc[0].tolist()]
        body = df.iloc[1:]
        # spreadsheet row numbers: header on line header_idx+1, data right below
        body.index = pd.RangeIndex(header_idx + 2, header_idx + 2 + len(body))
    except pd.errors.ParserError as exc:
        # Rows of unequal length: the fast parser gives up, so read row by row.
        header, body, problems = _read_ragged(spec, path, text, sep, header_idx, exc)
    table = _assemble(spec, path, header, body, header_idx + 1, "csv")
    table.encoding, table.separator = encoding, sep
    table.problems = problems
    return table


def _read_ragged(spec: Table, path: Path, text: str, sep: str, header_idx: int,
                 exc: Exception) -> tuple[list[str], pd.DataFrame, list[Problem]]:
    """Header, body and row problems of a CSV whose rows are not all as wide as its header.

    Empty fields beyond the header (``;;;`` left by Excel) are export debris and
    are dropped. A row with *filled* fields beyond the header cannot be matched
    to the columns: it is reported (with its spreadsheet row) and left out, and
    the rest of the file is read so that its other problems are reported too.
    """
    records = list(csv.reader(_io.StringIO(text), delimiter=sep, quotechar='"'))
    if "EOF inside string" in str(exc):
        # an opening quote that is never closed swallows the rest of the file
        row = next((i + 1 for i in range(len(records) - 1, header_idx, -1)
                    if any("\n" in f for f in records[i])), len(records))
        raise ReadError(Problem(spec.name, row, None, "malformed_row", None,
                                f"{path.name}: row {row} opens a quote (\") that is never closed"))
    header = records[header_idx]
    width = len(header)
    rows: list[list[str]] = []
    index: list[int] = []
    problems: list[Problem] = []
    for i in range(header_idx + 1, len(records)):
        fields = records[i]
        extra = fields[width:]
        if any(f.strip() for f in extra):
            row = i + 1
            problems.append(Problem(
                spec.name, row, None, "malformed_row", sep.join(extra),
                f"{path.name}: row {row} has {len(fields)} fields but the header (row {header_idx + 1}) "
                f"has {width}; the row is not read"))
            continue
        rows.append(fields[:width] + [""] * (width - len(fields)))
        index.append(i + 1)
    body = pd.DataFrame(rows, columns=range(width), index=pd.Index(index, dtype="int64"), dtype="object")
    return header, body, problems


# --- Excel -------------------------------------------------------------------

def _cell_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v:  # NaN
            return None
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == time(0) else v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def _read_xlsx(spec: Table, path: Path) -> RawTable:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        names = wb.sheetnames
        sheet = next((n for n in names if fold(n) == spec.name), names[0])
        ws = wb[sheet]
        # The dimension a file declares may be wrong (some exporters write 'A1'):
        # read every row and cell that is there, not only the declared range.
        ws.reset_dimensions()
        # iter_rows starts at row 1 and yields the empty rows above the data too,
        # so rows[i] is Excel row i + 1 whatever the declared dimension says.
        first_row = 1
        rows = [[_cell_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    if not any(any(c not in (None, "") for c in r) for r in rows):
        raise ReadError(Problem(spec.name, None, None, "empty_file", path.name, f"{path.name} has no content"))
    found = _find_header(spec, rows[:HEADER_SCAN_ROWS])
    if not found:
        raise ReadError(_no_header(spec, path))
    header_idx = found[0]
    width = max(len(r) for r in rows)
    header = [(c or "") for c in rows[header_idx]] + [""] * (width - len(rows[header_idx]))
    body_rows = [r + [None] * (width - len(r)) for r in rows[header_idx + 1:]]
    body = pd.DataFrame(body_rows, columns=range(width), dtype="object")
    body.index = pd.RangeIndex(first_row + header_idx + 1, first_row + header_idx + 1 + len(body))
    table = _assemble(spec, path, header, body, first_row + header_idx, "xlsx")
    table.separator = f"sheet {sheet}"
    return table


# --- Parquet -----------------------------------------------------------------

def _read_parquet(spec: Table, path: Path) -> RawTable:
    import pyarrow.parquet as pq

    df = pq.read_table(path).to_pandas()
    # an index named after a contract column is data; any other index (including the 'row'
    # numbers of a run's own validated tables) is not
    keep_index = any(n in spec.column_map for n in df.index.names if n is not None)
    df = df.reset_index(drop=not keep_index)
    header = [str(c) for c in df.columns]
    body = pd.DataFrame({i: df.iloc[:, i].map(_cell_text) if df.iloc[:, i].dtype == object
                         else _typed_to_text(df.iloc[:, i]) for i in range(df.shape[1])})
    body.index = pd.RangeIndex(2, 2 + len(body))
    return _assemble(spec, path, header, body, 1, "parquet")


def _typed_to_text(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_float_dtype(s):
        out = s.map(_cell_text)
    elif pd.api.types.is_bool_dtype(s):
        out = s.map({True: "true", False: "false"})
    else:
        out = s.map(_cell_text)
    return out.astype("object").where(s.notna(), None)


# --- shared ------------------------------------------------------------------

def _norm_header(value: object) -> str:
    key = fold(value or "")
    return COLUMN_ALIASES.get(key, key)


def _find_header(spec: Table, rows: list[list]) -> tuple[int, int] | None:
    """(index, number of matches) of the first row that names enough contract columns."""
    known = set(spec.column_map)
    need = max(1, (len(spec.required_columns) + 1) // 2)
    for i, row in enumerate(rows):
        names = {_norm_header(c) for c in row if c not in (None, "")}
        hits = len(names & known)
        if hits >= need:
            return i, hits
    return None


def _no_header(spec: Table, path: Path) -> Problem:
    return Problem(spec.name, None, None, "no_header", path.name,
                   f"{path.name}: no header row naming the columns of {spec.name} "
                   f"({', '.join(spec.required_columns)}) in the first {HEADER_SCAN_ROWS} rows")


def _assemble(spec: Table, path: Path, header: list[str], body: pd.DataFrame,
              header_row: int, fmt: str) -> RawTable:
    """Name columns, drop blank rows and empty unnamed columns, strip whitespace."""
    body = body.copy()
    body.columns = range(body.shape[1])
    header = list(header) + [""] * (body.shape[1] - len(header))
    ignored: list[str] = []
    keep: dict[int, str] = {}
    for i, raw in enumerate(header):
        name = _norm_header(raw)
        if name in spec.column_map:
            if name in keep.values():
                raise ReadError(Problem(spec.name, header_row, name, "duplicate_column", raw,
                                        f"{path.name}: column {name} appears twice in the header"))
            keep[i] = name
        elif i < body.shape[1]:
            if not str(raw or "").strip() and _strip(body[i]).isna().all():
                continue  # an unnamed, empty column is export debris, not data
            ignored.append(str(raw).strip() or f"(unnamed column {i + 1})")
    data = body[list(keep)].rename(columns=keep) if keep else pd.DataFrame(index=body.index)
    data = data.apply(_strip) if len(data.columns) else data
    blank = data.isna().all(axis=1) if len(data.columns) else pd.Series(True, index=data.index)
    n_blank = int(blank.sum())
    data = data[~blank]
    data.index.name = "row"
    return RawTable(spec.name, data, path, fmt, sha256_of(path), header_row,
                    ignored_columns=ignored, blank_rows=n_blank)


def _strip(s: pd.Series) -> pd.Series:
    """Cells without surrounding whitespace (non-breaking spaces included); '' becomes None."""
    return pd.Series([_strip_one(v) for v in s.astype("object").to_numpy()], index=s.index, dtype="object")


def _strip_one(v: object) -> str | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    text = str(v).replace("\u00a0", " ").strip()
    return text or None


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
