"""Reading a dataset folder: one file per table, as exported from real systems.

Exports come from Excel and from older systems, so the reader copes with:
UTF-8 (with or without BOM) or Latin-1/Windows-1252, and files that mix the
two line by line (each line is read in its own encoding and the minority lines
are reported); ``,`` ``;`` tab or ``|`` separators; title rows above the
header; blank rows; stray whitespace (including non-breaking spaces); empty
trailing columns; header names in any case or spacing. Every cell is read as
text; typing and checking happen in ``parsing`` and ``validation``. Each row
keeps its number as a spreadsheet shows it (header included), so every
problem can be traced to a row.

Files may also be hostile or broken: a stray cell at ``XFD1048576``, a 200 MB
text in one cell, a zip bomb, formulas without their values. The limits below
(documented in docs/data-format.md, "Limits") are checked while reading, before
a file can fill memory, and a file over one is reported with the row and
column that broke it. An ``.xlsx`` is read in openpyxl's read-only mode, row by
row over the cells that are there (the ``dimension`` it declares is not
trusted), after its parts are checked: their unpacked size, and (scanning the
bytes) that no text in a cell is longer than a cell may be.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io as _io
import posixpath
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.core.codes import fold
from analysis.data.contract import TABLES, Table
from analysis.data.problems import Problem, shorten

SUFFIXES = (".csv", ".xlsx", ".parquet")
# a table too large for one file is a folder named after it, of Parquet parts read in name order
# (what ``workbench synth --format partitioned`` writes: docs/data-format.md, "Partitioned tables")
PART_GLOB = "part-*.parquet"
SEPARATORS = (",", ";", "\t", "|")
HEADER_SCAN_ROWS = 30
# Folded column names that exports use for a contract column.
COLUMN_ALIASES = {
    "nip": "employee_id",
    "nip_penilai": "rater_id",
    "nip_pegawai": "employee_id",
    "nip_atasan": "rater_id",
}
# not tables: the sample's planted truths, notes, and what `workbench import` writes beside its tables
IGNORED_FILES = {"truth.json", "readme.md", "readme.txt", "import_report.csv", "unit_hierarchy.csv"}

# --- limits: what one file may hold (docs/data-format.md, "Limits") ---------------------------
# Far above any export of a regional government; low enough that a broken or hostile file is
# reported before it fills memory. Every message about one names the limit.
MAX_CELL_CHARS = 32_767  # characters in one cell, in any format and anywhere in the file: Excel's own limit
MAX_COLUMNS = 256  # columns, from the first to the last filled cell of any row
MAX_ROWS = 5_000_000  # rows of one file, title and header rows included
MAX_CELLS = 50_000_000  # rows x columns of one table
MAX_FILE_BYTES = 2 * 1024**3  # one file; for an .xlsx also its worksheets and shared strings unpacked
MAX_XLSX_PART_BYTES = 64 * 1024**2  # any other part of an .xlsx (styles, workbook…) unpacked
EXCEL_MAX_ROWS = 1_048_576  # not a limit of ours: no Excel worksheet has more rows
LIMITS_NOTE = "(see Limits in docs/data-format.md)"  # ends every message of a limit
HEADER_ROW = 1  # of a Parquet file or part: its rows are numbered as a spreadsheet's, the header on row 1
LIMITS = {
    "cell_chars": MAX_CELL_CHARS, "columns": MAX_COLUMNS, "rows": MAX_ROWS, "cells": MAX_CELLS,
    "file_bytes": MAX_FILE_BYTES, "xlsx_part_bytes": MAX_XLSX_PART_BYTES,
}


def column_letter(n: int) -> str:
    """Spreadsheet letters of the n-th column (1 = A, 27 = AA, 16384 = XFD)."""
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


class ReadError(Exception):
    """A file that cannot be read as a table; carries the problem to report."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class RawTable:
    """A table as read: all cells text (or None), index = spreadsheet row number.

    A CSV's columns are Categoricals (each distinct text once, a missing cell NaN; see ``distinct``),
    or text columns in the rare file ``parse_csv`` reads cell by cell; a workbook's or a Parquet
    file's are object columns with None for a missing cell."""

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
    parts: int | None = None  # the Parquet parts of a partitioned table (``path`` is then its folder)

    def info(self) -> dict:
        files = table_parts(self.path) if self.parts is not None else [self.path]
        return {
            "file": self.path.name + ("/" if self.parts is not None else ""),
            "format": self.format,
            "sha256": self.sha256,
            "bytes": sum(f.stat().st_size for f in files),
            "rows": int(len(self.data)),
            "header_row": self.header_row,
            "encoding": self.encoding,
            "separator": self.separator,
            **({"parts": self.parts} if self.parts is not None else {}),
        }


def table_parts(folder: Path) -> list[Path]:
    """The Parquet parts of a partitioned table, in the order they are read."""
    return sorted(p for p in Path(folder).glob(PART_GLOB) if p.is_file())


def combined_sha256(parts: list[Path], hashes: list[str]) -> str:
    """The hash of a partitioned table: of its parts' names and hashes, in order."""
    h = hashlib.sha256()
    for part, digest in zip(parts, hashes):
        h.update(f"{part.name}:{digest}\n".encode())
    return h.hexdigest()


def sha256_of(path: Path) -> str:
    """SHA-256 of a file; of a partitioned table, of its parts' names and hashes in order."""
    if Path(path).is_dir():
        parts = table_parts(path)
        return combined_sha256(parts, [sha256_of(p) for p in parts])
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
        if path.name.startswith((".", "~$")):
            continue
        if path.is_dir():
            if path.name.lower() in TABLES:  # a partitioned table; other folders are not the dataset's
                found.setdefault(path.name.lower(), []).append(path)
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
        if path.is_dir():
            return _read_parts(spec, path)
        size = path.stat().st_size
        if size == 0:
            raise ReadError(Problem(name, None, None, "empty_file", path.name, f"{path.name} is empty"))
        if size > MAX_FILE_BYTES:
            raise ReadError(Problem(name, None, None, "file_too_large", path.name,
                                    f"{path.name} has {size:,} bytes; a file may have at most "
                                    f"{MAX_FILE_BYTES:,} {LIMITS_NOTE}"))
        if suffix == ".csv":
            return _read_csv(spec, path)
        if suffix == ".xlsx":
            return _read_xlsx(spec, path)
        if suffix == ".parquet":
            return _read_parquet(spec, path)
    except ReadError:
        raise
    except MemoryError as exc:
        raise ReadError(Problem(name, None, None, "file_too_large", path.name,
                                f"{path.name} does not fit in this computer's memory")) from exc
    except Exception as exc:  # any library failure on a broken file becomes a report line
        raise ReadError(Problem(name, None, None, "unreadable", path.name,
                                f"{path.name} cannot be read as {suffix[1:]}: {_short(exc)}")) from exc
    raise ReadError(Problem(name, None, None, "unsupported_format", path.name, f"{path.name}: unsupported"))


def _limit_error(spec: Table, path: Path, check: str, row: int | None, column: str | None,
                 value: object, message: str) -> ReadError:
    return ReadError(Problem(spec.name, row, column, check, shorten(value), f"{path.name}: {message} {LIMITS_NOTE}"))


def _too_many_columns(spec: Table, path: Path, row: int, width: int, value: object,
                      where: str = "") -> ReadError:
    letter = column_letter(width)
    return _limit_error(spec, path, "too_many_columns", row, letter, value,
                        f"{where}row {row} has a filled cell in column {letter} (column {width:,}); a table may "
                        f"have at most {MAX_COLUMNS} columns (A to {column_letter(MAX_COLUMNS)}): delete the "
                        "cells beyond the table")


def _too_many_rows(spec: Table, path: Path, where: str = "", limit: int | None = None) -> ReadError:
    limit = MAX_ROWS if limit is None else limit
    what = "a file may have" if limit == MAX_ROWS else "an Excel worksheet can have"
    return _limit_error(spec, path, "too_many_rows", limit + 1, None, None,
                        f"{where}the file has more than {limit:,} rows, the most {what}")


def _too_many_cells(spec: Table, path: Path, row: int, width: int, where: str = "") -> ReadError:
    return _limit_error(spec, path, "too_many_cells", row, None, None,
                        f"{where}at row {row} the table reaches {MAX_CELLS:,} cells ({width} columns): "
                        f"a table may have at most {MAX_CELLS:,} cells (rows x columns)")


def _cell_too_long(spec: Table, path: Path, row: int | None, column: str, length: int, value: object,
                   where: str = "") -> ReadError:
    return _limit_error(spec, path, "cell_too_long", row, column, value,
                        f"{where}the cell in row {row}, column {column} holds {length:,} characters "
                        f"(it begins \"{shorten(value)}\"); a cell may hold at most {MAX_CELL_CHARS:,}, "
                        "as in Excel")


# --- CSV ---------------------------------------------------------------------

@dataclass
class _Decoded:
    text: str
    encoding: str
    other_lines: list[int] = field(default_factory=list)  # 1-based lines written in another encoding
    other_encoding: str | None = None


def _single_byte(raw: bytes) -> tuple[str, str]:
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _decode(raw: bytes, name: str, path: Path) -> _Decoded:
    """The file's text, decided per file and checked per line.

    UTF-8 when it all decodes as UTF-8. Otherwise each line is tried: a line that
    decodes as UTF-8 and has non-ASCII letters is UTF-8 (a Windows-1252 text rarely
    is), one that does not is Windows-1252 (Latin-1 for the bytes Windows-1252 lacks).
    The file's encoding is that of most such lines; the others are each read in their
    own encoding (so ``café`` never becomes ``cafÃ©``) and listed, to be reported.
    """
    if b"\x00" in raw[:4096]:
        raise ReadError(Problem(name, None, None, "unreadable", path.name,
                                f"{path.name} is not a text file (is it a spreadsheet saved under a .csv name?)"))
    try:
        return _Decoded(raw.decode("utf-8-sig"), "utf-8")
    except UnicodeDecodeError:
        pass
    bom = raw.startswith(b"\xef\xbb\xbf")
    lines = raw[3:].splitlines(keepends=True) if bom else raw.splitlines(keepends=True)
    texts: list[str] = []
    utf8: list[int] = []
    single: list[int] = []
    for i, line in enumerate(lines, start=1):
        if line.isascii():
            texts.append(line.decode("ascii"))
            continue
        try:
            texts.append(line.decode("utf-8"))
            utf8.append(i)
        except UnicodeDecodeError:
            texts.append(_single_byte(line)[0])
            single.append(i)
    if not utf8 and not bom:  # one single-byte encoding throughout
        text, encoding = _single_byte(raw)
        return _Decoded(text, encoding)
    if len(utf8) + bom >= len(single):
        return _Decoded("".join(texts), "utf-8", single, "Windows-1252")
    return _Decoded("".join(texts), "cp1252", utf8, "UTF-8")


def first_lines(text: str, n: int) -> list[str]:
    """``text.split("\n", n)[:n]`` without copying the rest of the text."""
    end = -1
    for _ in range(n):
        end = text.find("\n", end + 1)
        if end < 0:
            return text.split("\n")  # fewer than n lines
    return text[:end].split("\n")[:n]


@contextlib.contextmanager
def _csv_fields_of_any_length():
    """csv refuses fields over 128 KiB (a header line with one is 'unreadable', the same field
    lower down is not): lift that, so that every cell meets the one MAX_CELL_CHARS rule instead."""
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, MAX_FILE_BYTES))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _read_csv(spec: Table, path: Path) -> RawTable:
    raw = path.read_bytes()
    decoded = _decode(raw, spec.name, path)
    del raw
    text = decoded.text
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    decoded.text = ""  # one copy of the text at a time
    if not text or text.isspace():  # (not text.strip(), without copying the text)
        raise ReadError(Problem(spec.name, None, None, "empty_file", path.name,
                                f"{path.name} has no content"))
    n_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if n_lines > MAX_ROWS:
        raise _too_many_rows(spec, path)
    head_lines = first_lines(text, HEADER_SCAN_ROWS)
    best: tuple[int, int, str] | None = None  # (matches, header index, separator)
    parsed: dict[str, list[list[str]]] = {}
    with _csv_fields_of_any_length():
        for sep in SEPARATORS:
            # a line with more filled columns than a table may have cannot be its header
            lines = [line if line.rstrip("\r\n ").rstrip(sep).count(sep) < MAX_COLUMNS else ""
                     for line in head_lines]
            rows = parsed[sep] = list(csv.reader(lines, delimiter=sep))
            found = _find_header(spec, rows)
            if found and (best is None or found[1] > best[0]):
                best = (found[1], found[0], sep)
    if best is None:
        for sep in SEPARATORS:  # a cell too long above the header is said as such
            _check_head_cells(spec, path, [(i + 1, r) for i, r in enumerate(parsed[sep])], [])
        raise ReadError(_no_header(spec, path))
    _, header_idx, sep = best
    head = [(i + 1, r) for i, r in enumerate(parsed[sep][:header_idx + 1])]
    header_fields = parsed[sep][header_idx]
    width = len(header_fields)  # what the parser will allocate, trailing empty fields included
    filled = max((j + 1 for j, f in enumerate(header_fields) if f.strip()), default=0)
    _check_head_cells(spec, path, head[:-1], [])
    if filled > MAX_COLUMNS:
        raise _too_many_columns(spec, path, header_idx + 1, filled, header_fields[filled - 1])
    data_rows = n_lines - header_idx - 1
    if data_rows * width > MAX_CELLS:
        raise _too_many_cells(spec, path, header_idx + 2 + MAX_CELLS // max(width, 1), width)
    del parsed, head_lines
    problems: list[Problem] = []
    # The parser reads UTF-8 bytes (the text's only copy meanwhile; it would encode a str itself).
    encoded = text.encode("utf-8")
    del text
    try:
        df = parse_csv(encoded, sep, header_idx)
        header = [str(v) for v in df.iloc[0].tolist()]
        body = df.iloc[1:]
        # spreadsheet row numbers: header on line header_idx+1, data right below
        body.index = pd.RangeIndex(header_idx + 2, header_idx + 2 + len(body))
    except pd.errors.ParserError as exc:
        # Rows of unequal length: the fast parser gives up, so read row by row.
        with _csv_fields_of_any_length():
            header, body, problems = _read_ragged(spec, path, encoded.decode("utf-8"), sep, header_idx, exc)
    del encoded
    table = assemble_table(spec, path, header, body, header_idx + 1, "csv")
    table.encoding, table.separator = decoded.encoding, sep
    if decoded.other_lines:
        table.encoding = f"{decoded.encoding}, some lines {decoded.other_encoding}"
    table.problems = problems + _mixed_encoding_problems(spec, path, table, decoded)
    return table


# How the parser reads a CSV: every cell as the text it holds, nothing taken as missing.
CSV_OPTIONS = {"header": None, "keep_default_na": False, "na_filter": False, "skip_blank_lines": False,
                "engine": "c", "quotechar": '"', "skipinitialspace": False}


def parse_csv(encoded: bytes, sep: str, skiprows: int) -> pd.DataFrame:
    """The cells of a CSV (UTF-8 bytes) from line ``skiprows`` on, each column as a Categorical.

    The parser keeps each distinct text of a column once, and a code per cell, instead of one
    string per cell (millions): less memory, and trimming and typing then work on the distinct
    texts. The cells are those ``dtype=str`` gives (a property test says so)."""
    read = _io.BytesIO(encoded)
    df = pd.read_csv(read, sep=sep, skiprows=skiprows, dtype="category", encoding="utf-8", **CSV_OPTIONS)
    if all(_text_categories(df[c]) for c in df.columns):
        return df
    # The parser takes a column whose every text is a number (a header among them: an unnamed or
    # unknown column) as numbers, "01" as 1: read such a file as text, cell by cell.
    read.seek(0)
    return pd.read_csv(read, sep=sep, skiprows=skiprows, dtype=str, encoding="utf-8", **CSV_OPTIONS)


def _text_categories(column: pd.Series) -> bool:
    categories = column.cat.categories
    return isinstance(categories.dtype, pd.StringDtype) or pd.api.types.infer_dtype(categories) in ("string", "empty")


def _mixed_encoding_problems(spec: Table, path: Path, table: RawTable, decoded: _Decoded) -> list[Problem]:
    """A warning for each cell (or row) of the lines written in the file's other encoding."""
    out: list[Problem] = []
    first = "UTF-8" if decoded.encoding == "utf-8" else "Windows-1252"
    for line in decoded.other_lines:
        msg = (f"{path.name}: row {line} is written in {decoded.other_encoding}, the rest of the file in "
               f"{first}; the row was read as {decoded.other_encoding}: check its accented letters, and "
               f"save the file as UTF-8")
        cells = []
        if line in table.data.index:
            rec = table.data.loc[line]
            cells = [(c, v) for c, v in rec.items() if isinstance(v, str) and not v.isascii()]
        if not cells:
            out.append(Problem(spec.name, line, None, "mixed_encoding", None, msg, "warning"))
        for col, value in cells:
            out.append(Problem(spec.name, line, col, "mixed_encoding", shorten(value), msg, "warning"))
    return out


def _read_ragged(spec: Table, path: Path, text: str, sep: str, header_idx: int,
                 exc: Exception) -> tuple[list[str], pd.DataFrame, list[Problem]]:
    """Header, body and row problems of a CSV whose rows are not all as wide as its header.

    Empty fields beyond the header (``;;;`` left by Excel) are export debris and
    are dropped. A row with *filled* fields beyond the header cannot be matched
    to the columns: it is reported (with its spreadsheet row) and left out, and
    the rest of the file is read so that its other problems are reported too.
    Records are read one at a time, and a row wider than a table may be stops the read.
    """
    reader = csv.reader(_io.StringIO(text), delimiter=sep, quotechar='"')
    header: list[str] = []
    width = 0
    rows: list[list[str]] = []
    index: list[int] = []
    problems: list[Problem] = []
    last_multiline = None
    for i, fields in enumerate(reader):
        row = i + 1
        if len(fields) > MAX_COLUMNS:
            filled = max(j for j, f in enumerate(fields) if f.strip() or j == 0) + 1
            if filled > MAX_COLUMNS:
                raise _too_many_columns(spec, path, row, filled, fields[filled - 1])
        if i > header_idx and any("\n" in f for f in fields):
            last_multiline = row
        if i < header_idx:
            continue
        if i == header_idx:
            header, width = fields, len(fields)
            continue
        extra = fields[width:]
        if any(f.strip() for f in extra):
            problems.append(Problem(
                spec.name, row, None, "malformed_row", sep.join(extra),
                f"{path.name}: row {row} has {len(fields)} fields but the header (row {header_idx + 1}) "
                f"has {width}; the row is not read"))
            continue
        rows.append(fields[:width] + [""] * (width - len(fields)))
        index.append(row)
    if "EOF inside string" in str(exc):
        # an opening quote that is never closed swallows the rest of the file
        row = last_multiline or i + 1
        raise ReadError(Problem(spec.name, row, None, "malformed_row", None,
                                f"{path.name}: row {row} opens a quote (\") that is never closed"))
    body = pd.DataFrame(rows, columns=range(width), index=pd.Index(index, dtype="int64"), dtype="object")
    return header, body, problems


# --- Excel -------------------------------------------------------------------

def cell_text(v: object) -> str | None:
    """A workbook cell as text: a date as ISO, 3.0 as 3, NaN as nothing (also used by the import)."""
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


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
# an XML text of more bytes than this may hold a cell over the limit (up to 10 bytes a character
# with entities such as &#x1F600;); only then are the cells counted exactly
_SUSPECT_RUN = 10 * MAX_CELL_CHARS + 1024
_CHUNK = 1 << 20


def _is_cells_part(member: str) -> bool:
    low = member.lower()
    return low.startswith("xl/worksheets/") or "sharedstrings" in low


@dataclass
class _PartScan:
    longest_run: int = 0  # bytes between two '<': the longest text (or tag) in the part
    formulas: bool = False


def _scan_part(zf: zipfile.ZipFile, member: str) -> _PartScan:
    """One pass over a part's bytes, never holding more than a chunk: its longest text, formulas."""
    scan = _PartScan()
    run, tail = 0, b""
    with zf.open(member) as fh:
        while chunk := fh.read(_CHUNK):
            if not scan.formulas and (_FORMULA_TAG.search(tail + chunk[:64]) or _FORMULA_TAG.search(chunk)):
                scan.formulas = True
            tail = chunk[-64:]
            parts = chunk.split(b"<")
            if len(parts) == 1:
                run += len(chunk)
            else:
                scan.longest_run = max(scan.longest_run, run + len(parts[0]), max(map(len, parts[1:-1]), default=0))
                run = len(parts[-1])
            scan.longest_run = max(scan.longest_run, run)
    return scan


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet name -> part, in workbook order, from the package's own relationships."""
    root = ElementTree.fromstring(zf.read("_rels/.rels"))
    book = next(r.get("Target") for r in root.iter(f"{{{_PKG_REL_NS}}}Relationship")
                if r.get("Type", "").endswith("/officeDocument"))
    book = book.lstrip("/")
    rels_path = posixpath.join(posixpath.dirname(book), "_rels", posixpath.basename(book) + ".rels")
    targets = {r.get("Id"): r.get("Target") for r in
               ElementTree.fromstring(zf.read(rels_path)).iter(f"{{{_PKG_REL_NS}}}Relationship")}
    out: dict[str, str] = {}
    for sheet in ElementTree.fromstring(zf.read(book)).iter(f"{{{_MAIN_NS}}}sheet"):
        target = targets.get(sheet.get(f"{{{_REL_NS}}}id"), "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(posixpath.dirname(book), target))
        out[sheet.get("name")] = part
    return out


class _Found(Exception):
    pass


def _no_entities(*args) -> None:
    raise ValueError("the workbook declares XML entities, which no spreadsheet program writes")


def _expat(handlers: dict):
    import xml.parsers.expat

    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.EntityDeclHandler = _no_entities  # no entity may expand a small file into a large text
    for name, fn in handlers.items():
        setattr(parser, name, fn)
    return parser


def _feed(parser, zf: zipfile.ZipFile, member: str) -> None:
    with zf.open(member) as fh:
        while chunk := fh.read(_CHUNK):
            parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _local(name: str) -> str:
    return name.rsplit(" ", 1)[-1]


def _shared_string_sizes(zf: zipfile.ZipFile, member: str | None) -> tuple[dict[int, tuple[int, str]], dict[int, str]]:
    """Shared strings counted, not kept: {index: (length, beginning)} of those over the cell limit,
    and the text of the short ones among the first thousands (where a header's names are)."""
    long: dict[int, tuple[int, str]] = {}
    short: dict[int, str] = {}
    if member is None:
        return long, short
    state = {"i": -1, "n": 0, "head": [], "in_t": 0, "skip": 0}

    def start(name, attrs):
        tag = _local(name)
        if tag == "si":
            state.update(i=state["i"] + 1, n=0, head=[])
        elif tag == "rPh":
            state["skip"] += 1
        elif tag == "t":
            state["in_t"] += 1

    def end(name):
        tag = _local(name)
        if tag == "si":
            head = "".join(state["head"])
            if state["n"] > MAX_CELL_CHARS:
                long[state["i"]] = (state["n"], head)
            elif state["i"] < 5000 and state["n"] <= 200:
                short[state["i"]] = head
        elif tag == "rPh":
            state["skip"] -= 1
        elif tag == "t":
            state["in_t"] -= 1

    def data(text):
        if state["in_t"] and not state["skip"]:
            state["n"] += len(text)
            if sum(map(len, state["head"])) < 200:
                state["head"].append(text[:200])

    _feed(_expat({"StartElementHandler": start, "EndElementHandler": end, "CharacterDataHandler": data}),
          zf, member)
    return long, short


def _letters_to_index(ref: str) -> tuple[int, int]:
    m = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d+)", ref or "")
    if not m:
        return 0, 0
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def _find_long_cell(zf: zipfile.ZipFile, member: str, long_strings: dict[int, tuple[int, str]],
                    short_strings: dict[int, str]):
    """(row, column, length, beginning, head rows) of the first cell of a worksheet part over the cell
    limit, counting its text without keeping it; None if there is none."""
    st = {"row": 0, "col": 0, "type": "n", "n": 0, "text": [], "in": 0, "cell": False}
    head: dict[int, dict[int, str]] = {}
    found: list = []

    def start(name, attrs):
        tag = _local(name)
        if tag == "row":
            r = attrs.get("r")
            st["row"] = int(r) if r and r.isdigit() else st["row"] + 1
            st["col"] = 0
        elif tag == "c":
            row, col = _letters_to_index(attrs.get("r", ""))
            st["col"] = col or st["col"] + 1
            if row:
                st["row"] = row
            st.update(type=attrs.get("t", "n"), n=0, text=[], cell=True)
        elif tag in ("v", "t", "f") and st["cell"]:
            st["in"] += 1

    def data(text):
        if st["in"]:
            st["n"] += len(text)
            if st["n"] - len(text) < 200:
                st["text"].append(text[:200])

    def end(name):
        tag = _local(name)
        if tag in ("v", "t", "f") and st["in"]:
            st["in"] -= 1
        elif tag == "c":
            st["cell"] = False
            text, n = "".join(st["text"]), st["n"]
            if st["type"] == "s" and text.strip().isdigit():
                idx = int(text)
                n, text = long_strings.get(idx, (0, short_strings.get(idx, "")))
            if n > MAX_CELL_CHARS:
                found.append((st["row"], st["col"], n, text))
                raise _Found
            if st["row"] <= HEADER_SCAN_ROWS and text:
                head.setdefault(st["row"], {})[st["col"]] = text

    try:
        _feed(_expat({"StartElementHandler": start, "EndElementHandler": end, "CharacterDataHandler": data}),
              zf, member)
    except _Found:
        row, col, n, text = found[0]
        width = max([col] + [max(c) for c in head.values()])
        rows = [[head.get(r, {}).get(c) for c in range(1, width + 1)] for r in range(1, HEADER_SCAN_ROWS + 1)]
        return row, col, n, text, rows
    return None


def _check_xlsx_sizes(spec: Table, path: Path, zf: zipfile.ZipFile) -> None:
    """The parts' unpacked sizes, as the package declares them (zipfile never unpacks more than
    that: a part that unpacks to more fails its CRC check)."""
    cells_bytes = 0
    for info in zf.infolist():
        if _is_cells_part(info.filename):
            cells_bytes += info.file_size
        elif info.filename.endswith((".xml", ".rels")) and info.file_size > MAX_XLSX_PART_BYTES:
            raise _limit_error(spec, path, "file_too_large", None, None, info.filename,
                               f"its part {info.filename} unpacks to {info.file_size:,} bytes; such a part may "
                               f"have at most {MAX_XLSX_PART_BYTES:,}")
    if cells_bytes > MAX_FILE_BYTES:
        raise _limit_error(spec, path, "file_too_large", None, None, path.name,
                           f"its worksheets and shared strings unpack to {cells_bytes:,} bytes; a file may have "
                           f"at most {MAX_FILE_BYTES:,}")


def _check_xlsx_texts(spec: Table, path: Path, zf: zipfile.ZipFile, sheet_part: str | None,
                      listed: list[str]) -> bool:
    """No cell's text longer than a cell may be, counted in the bytes before openpyxl reads anything;
    whether the chosen worksheet (every worksheet when it is not known) has formulas."""
    names = zf.namelist()
    strings = next((m for m in names if "sharedstrings" in m.lower() and m.endswith(".xml")), None)
    every_sheet = [m for m in names if m in listed or m.lower().startswith("xl/worksheets/") and m.endswith(".xml")]
    sheets = [sheet_part] if sheet_part in names else every_sheet
    scans = {m: _scan_part(zf, m) for m in sheets + ([strings] if strings else [])}
    suspect = [m for m, scan in scans.items() if scan.longest_run > _SUSPECT_RUN]
    if suspect:
        long, short = _shared_string_sizes(zf, strings)
        for member in sheets:
            hit = _find_long_cell(zf, member, long, short)
            if hit:
                row, col, n, text, head = hit
                label = f"({column_letter(col)})"
                found = _find_header(spec, head)
                if found and row > found[0] + 1:
                    label = _column_label(spec, head[found[0]], col - 1)
                raise _cell_too_long(spec, path, row, label, n, text)
        # openpyxl would still load a long shared string, or a long text outside the cells: say where
        for member in [m for m in every_sheet if m not in sheets]:
            hit = _find_long_cell(zf, member, long, short)
            if hit:
                row, col, n, text, _ = hit
                raise _limit_error(spec, path, "cell_too_long", None, None, text,
                                   f"cell {column_letter(col)}{row} of another sheet ({member}) holds {n:,} "
                                   f"characters; a cell may hold at most {MAX_CELL_CHARS:,}, as in Excel")
        raise _limit_error(spec, path, "unreadable", None, None, suspect[0],
                           f"its part {suspect[0]} holds a text of {scans[suspect[0]].longest_run:,} bytes that is "
                           "no cell's; a spreadsheet program does not write that")
    return any(scans[m].formulas for m in sheets)


def _read_xlsx(spec: Table, path: Path) -> RawTable:
    import openpyxl

    with zipfile.ZipFile(path) as zf:
        _check_xlsx_sizes(spec, path, zf)
        try:
            parts = _sheet_parts(zf)
        except (KeyError, StopIteration, AttributeError, ValueError, ElementTree.ParseError):
            # an unusual package: every worksheet is checked
            parts = {}
        chosen = next((n for n in parts if fold(n) == spec.name), next(iter(parts), None))
        has_formulas = _check_xlsx_texts(spec, path, zf, parts.get(chosen), list(parts.values()))

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    formulas_wb = openpyxl.load_workbook(path, read_only=True, data_only=False) if has_formulas else None
    try:
        names = wb.sheetnames
        sheet = next((n for n in names if fold(n) == spec.name), names[0])
        rows, no_value = _xlsx_rows(spec, path, wb[sheet], formulas_wb[sheet] if formulas_wb else None, sheet)
    finally:
        wb.close()
        if formulas_wb is not None:
            formulas_wb.close()
    if no_value:
        count, first = no_value
        raise ReadError(Problem(
            spec.name, None, None, "formulas_without_values", first,
            f"{path.name}, sheet {sheet}: {count:,} cell(s) hold a formula whose value was never saved (the "
            f"first is {first}), so they read as empty. The file was written by a program that does not "
            "calculate: open it in Excel (or LibreOffice) and save it, then validate again"))
    if not rows:
        raise ReadError(Problem(spec.name, None, None, "empty_file", path.name, f"{path.name} has no content"))
    head = [rows.get(r, []) for r in range(1, HEADER_SCAN_ROWS + 1)]
    found = _find_header(spec, head)
    if not found:
        _check_head_cells(spec, path, [(r, rows.get(r, [])) for r in range(1, HEADER_SCAN_ROWS + 1)], [])
        raise ReadError(_no_header(spec, path))
    header_row = found[0] + 1
    _check_head_cells(spec, path, [(r, rows[r]) for r in sorted(rows) if r < header_row], [])
    width = max(len(r) for r in rows.values())
    header = [(c or "") for c in rows.get(header_row, [])] + [""] * (width - len(rows.get(header_row, [])))
    numbers = [r for r in sorted(rows) if r > header_row]
    body = pd.DataFrame([rows[r] + [None] * (width - len(rows[r])) for r in numbers],
                        columns=range(width), dtype="object")
    body.index = pd.Index(numbers, dtype="int64")
    table = assemble_table(spec, path, header, body, header_row, "xlsx")
    table.separator = f"sheet {sheet}"
    return table


def _xlsx_rows(spec: Table, path: Path, ws, formulas_ws, sheet: str
               ) -> tuple[dict[int, list], tuple[int, str] | None]:
    """The filled rows of a worksheet by Excel row number, each up to its last filled cell.

    openpyxl's read-only worksheet yields a row for every row number up to the last one
    there is (an empty tuple for a missing one) and each row up to its last cell, once
    ``reset_dimensions()`` has dropped the ``dimension`` the file declares (which may be
    wrong, or ``A1:XFD1048576``): so nothing is padded here, and a stray cell far away
    stops the read at the limit it breaks.

    With ``formulas_ws`` (the same sheet read without cached values), also (count, first
    cell) of the formulas whose value was never saved: read with cached values, such a
    cell is empty and of type 'n' (a formula whose value is an empty text is of type 'str').
    """
    where = f"sheet {sheet}: "
    ws.reset_dimensions()
    formulas = None
    if formulas_ws is None:
        values = ws.iter_rows(values_only=True)
    else:
        formulas_ws.reset_dimensions()
        formulas = formulas_ws.iter_rows(values_only=True)
        values = ws.iter_rows()  # cells, for their type
    rows: dict[int, list] = {}
    width = 0
    no_value = 0
    first: str | None = None
    for number, row in enumerate(values, start=1):
        if formulas is not None:
            frow = next(formulas, ())
            types = [c.data_type for c in row]
            row = tuple(c.value for c in row)
            for j, (v, t, f) in enumerate(zip(row, types, frow)):
                if v is None and t == "n" and f is not None and not (isinstance(f, str) and not f.startswith("=")):
                    no_value += 1
                    first = first or f"{column_letter(j + 1)}{number}"
        if number > min(MAX_ROWS, EXCEL_MAX_ROWS):
            # even an empty row: openpyxl yields one for each number up to the next row there is
            raise _too_many_rows(spec, path, where, min(MAX_ROWS, EXCEL_MAX_ROWS))
        if not row:
            continue
        last = len(row)
        while last and (row[last - 1] is None or row[last - 1] == ""):
            last -= 1
        if not last:
            continue
        if last > MAX_COLUMNS:
            raise _too_many_columns(spec, path, number, last, cell_text(row[last - 1]), where)
        width = max(width, last)
        if (len(rows) + 1) * width > MAX_CELLS:
            raise _too_many_cells(spec, path, number, width, where)
        rows[number] = [cell_text(v) for v in row[:last]]
    return rows, ((no_value, first) if no_value else None)


# --- Parquet -----------------------------------------------------------------

def _read_parquet(spec: Table, path: Path) -> RawTable:
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata  # sizes first: a parquet file is compressed too
    width = meta.num_columns
    if width > MAX_COLUMNS:
        raise _too_many_columns(spec, path, 1, width, meta.schema.column(width - 1).name)
    if meta.num_rows + 1 > MAX_ROWS:
        raise _too_many_rows(spec, path)
    if meta.num_rows * width > MAX_CELLS:
        raise _too_many_cells(spec, path, 2 + MAX_CELLS // max(width, 1), width)
    unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if unpacked > MAX_FILE_BYTES:
        raise _limit_error(spec, path, "file_too_large", None, None, path.name,
                           f"its data unpacks to {unpacked:,} bytes; a file may have at most {MAX_FILE_BYTES:,}")
    df = pq.read_table(path).to_pandas()
    # an index named after a contract column is data; any other index (including the 'row'
    # numbers of a run's own validated tables) is not
    keep_index = any(n in spec.column_map for n in df.index.names if n is not None)
    df = df.reset_index(drop=not keep_index)
    header = [str(c) for c in df.columns]
    body = pd.DataFrame({i: df.iloc[:, i].map(cell_text) if df.iloc[:, i].dtype == object
                         else _typed_to_text(df.iloc[:, i]) for i in range(df.shape[1])})
    body.index = pd.RangeIndex(2, 2 + len(body))
    return assemble_table(spec, path, header, body, 1, "parquet")


def _read_parts(spec: Table, folder: Path) -> RawTable:
    """A partitioned table: each part read (and held to the limits) as the Parquet file it is, the rows
    numbered on through the parts in order, as if they were one file with its header in row 1."""
    parts = table_parts(folder)
    if not parts:
        raise ReadError(Problem(spec.name, None, None, "empty_file", folder.name,
                                f"{folder.name}/ holds no {PART_GLOB} files"))
    tables, offset = [], 0
    for part in parts:
        try:
            table = read_table_part(spec.name, part)
        except ReadError as exc:
            if exc.problem.row is None:
                raise
            raise ReadError(numbered_through_parts(exc.problem, offset)) from exc
        table.data.index = table.data.index + offset
        tables.append(table)
        offset += _parquet_rows(part)
    first = tables[0]
    for t in tables[1:]:
        if t.data.columns.tolist() != first.data.columns.tolist() or t.ignored_columns != first.ignored_columns:
            raise ReadError(Problem(spec.name, 1, None, "parts_differ", t.path.name,
                                    f"{folder.name}/{t.path.name} has other columns than {first.path.name}: "
                                    "every part of a table must have the same header"))
    data = pd.concat([t.data for t in tables]) if len(tables) > 1 else first.data
    return RawTable(spec.name, data, folder, "parquet", sha256_of(folder), 1,
                    ignored_columns=first.ignored_columns, blank_rows=sum(t.blank_rows for t in tables),
                    parts=len(parts))


def numbered_through_parts(problem: Problem, offset: int) -> Problem:
    """A problem of one part of a table (``offset`` data rows in the parts before it), its row numbered
    on through the parts, as the part's rows are. Its message names the part and quotes the part's own
    row: it then also says which row of the table that is, the one the report's row column gives. A
    problem of a part's header (row 1) is one of the table's header, row 1 in the table too."""
    if problem.row is None or problem.row <= HEADER_ROW or offset == 0:
        return problem
    row = problem.row + offset
    note = f"; row {problem.row:,} of the part is row {row:,} of the {problem.table} table"
    message, limits = problem.message, f" {LIMITS_NOTE}"
    message = (message[:-len(limits)] + note + limits) if message.endswith(limits) else message + note
    return dataclasses.replace(problem, row=row, message=message)


def read_table_part(name: str, part: Path) -> RawTable:
    """One Parquet part of a partitioned table, held to the limits of one file, its rows numbered from
    2 as if it were alone; raises ReadError naming the part."""
    spec = TABLES[name]
    where = f"{part.parent.name}/{part.name}"
    try:
        if part.stat().st_size > MAX_FILE_BYTES:
            raise _limit_error(spec, part, "file_too_large", None, None, part.name,
                               f"{where} has {part.stat().st_size:,} bytes; a file may have at most "
                               f"{MAX_FILE_BYTES:,}")
        return _read_parquet(spec, part)
    except ReadError:
        raise
    except MemoryError as exc:
        raise ReadError(Problem(name, None, None, "file_too_large", where,
                                f"{where} does not fit in this computer's memory")) from exc
    except Exception as exc:  # any library failure on a broken part becomes a report line
        raise ReadError(Problem(name, None, None, "unreadable", where,
                                f"{where} cannot be read as parquet: {_short(exc)}")) from exc


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _typed_to_text(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_float_dtype(s):
        out = s.map(cell_text)
    elif pd.api.types.is_bool_dtype(s):
        out = s.map({True: "true", False: "false"})
    else:
        out = s.map(cell_text)
    return out.astype("object").where(s.notna(), None)


# --- shared ------------------------------------------------------------------

def _norm_header(value: object) -> str:
    key = fold(unicodedata.normalize("NFKC", str(value or "")))
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


def assemble_table(spec: Table, path: Path, header: list[str], body: pd.DataFrame,
              header_row: int, fmt: str) -> RawTable:
    """Name columns, drop blank rows and empty unnamed columns, strip whitespace."""
    body = body.copy()
    body.columns = range(body.shape[1])
    header = list(header) + [""] * (body.shape[1] - len(header))
    _check_head_cells(spec, path, [(header_row, header)], header)
    _check_cell_lengths(spec, path, header, body)
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
            if not str(raw or "").strip() and strip_column(body[i]).isna().all():
                continue  # an unnamed, empty column is export debris, not data
            ignored.append(str(raw).strip() or f"(unnamed column {i + 1})")
    data = body[list(keep)].rename(columns=keep) if keep else pd.DataFrame(index=body.index)
    if len(data.columns):
        data = pd.DataFrame({c: strip_column(data[c]) for c in data.columns}, index=data.index)
    blank = data.isna().all(axis=1) if len(data.columns) else pd.Series(True, index=data.index)
    n_blank = int(blank.sum())
    data = data[~blank]
    data.index.name = "row"
    return RawTable(spec.name, data, path, fmt, sha256_of(path), header_row,
                    ignored_columns=ignored, blank_rows=n_blank)


def _column_label(spec: Table, header: list, i: int) -> str:
    """A column as the report names it: its contract name, else its header, else its letter."""
    raw = header[i] if i < len(header) else None
    name = _norm_header(raw)
    if name in spec.column_map:
        return name
    text = str(raw or "").strip()
    return shorten(text) if text else f"({column_letter(i + 1)})"


def _check_head_cells(spec: Table, path: Path, rows: list[tuple[int, list]], header: list) -> None:
    """The cells of a few numbered rows (title rows, the header) against the cell limit."""
    for number, cells in rows:
        for i, v in enumerate(cells):
            if isinstance(v, str) and len(v) > MAX_CELL_CHARS:
                raise _cell_too_long(spec, path, number, _column_label(spec, header, i), len(v), v)


def _check_cell_lengths(spec: Table, path: Path, header: list, body: pd.DataFrame) -> None:
    """Every cell of the body against the cell limit (MAX_CELL_CHARS), whatever the format."""
    for i in range(body.shape[1]):
        long = first_long_cell(body[i])
        if long:
            k, length, value = long
            raise _cell_too_long(spec, path, int(body.index[k]), _column_label(spec, header, i), length, value)


def first_long_cell(column: pd.Series) -> tuple[int, int, object] | None:
    """(position, length, text) of the first cell of a column over MAX_CELL_CHARS, or None."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        # each distinct text measured once, then the first cell that holds a long one (if any does:
        # the header's text is among the categories of a CSV's column, and is checked as the header)
        texts = column.cat.categories.to_numpy(dtype=object)
        lengths = _lengths(texts)
        codes = column.cat.codes.to_numpy()
        cells = np.flatnonzero(np.isin(codes, np.flatnonzero(lengths > MAX_CELL_CHARS)))
        return (int(cells[0]), int(lengths[codes[cells[0]]]), texts[codes[cells[0]]]) if len(cells) else None
    col = column.to_numpy(dtype=object)
    present = np.flatnonzero(pd.notna(col))
    values = col[present]
    lengths = _lengths(values)
    over = np.flatnonzero(lengths > MAX_CELL_CHARS)
    return (int(present[over[0]]), int(lengths[over[0]]), values[over[0]]) if len(over) else None


def _lengths(values: np.ndarray) -> np.ndarray:
    """Characters in each cell (cells are text by now; anything else as its text)."""
    try:
        return np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    except TypeError:
        return np.fromiter(map(len, map(str, values)), dtype=np.int64, count=len(values))


# Python's whitespace (str.isspace), as a regular-expression class for pyarrow (RE2)
_SPACE = "".join(f"\\x{{{c:x}}}" for c in range(0x3001) if chr(c).isspace())
_EDGE_SPACE = f"^[{_SPACE}]+|[{_SPACE}]+$"


def strip_column(s: pd.Series) -> pd.Series:
    """Cells without surrounding whitespace (non-breaking spaces included); '' becomes None.

    A Categorical (a CSV's column) has its distinct texts trimmed (``_strip_distinct``). Text
    columns are trimmed in pyarrow, tens of millions of cells in seconds, with exactly
    ``str.strip``'s notion of whitespace; other cells (numbers and dates from a workbook) go
    through ``strip_cell``."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return _strip_distinct(s)
    arr = _as_arrow_text(s)
    if arr is None:
        return pd.Series([strip_cell(v) for v in s.astype("object").to_numpy()], index=s.index, dtype="object")
    arr = pc.replace_substring(arr, "\u00a0", " ")
    arr = pc.replace_substring_regex(arr, _EDGE_SPACE, "")
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)
    return pd.Series(arr.to_numpy(zero_copy_only=False), index=s.index, dtype="object")


def _strip_distinct(s: pd.Series) -> pd.Series:
    """A Categorical with its distinct texts trimmed: cells whose texts become the same (``a`` and
    `` a``) share one category, cells that become empty are missing."""
    texts = strip_column(pd.Series(s.cat.categories)).to_numpy(dtype=object)
    new, distinct = pd.factorize(texts)  # a text that became None: -1, a missing cell
    codes = s.cat.codes.to_numpy()
    codes = np.append(new, -1).astype(codes.dtype)[codes]  # a missing cell (-1) stays -1
    trimmed = pd.Categorical.from_codes(codes, categories=pd.Index(distinct, dtype="object"), validate=False)
    return pd.Series(trimmed, index=s.index, name=s.name)


def _as_arrow_text(s: pd.Series) -> pa.Array | None:
    """The column as a pyarrow text array (nulls where cells are missing), or None when it holds anything
    but text (a workbook's numbers and dates) or text pyarrow cannot hold (a lone surrogate)."""
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        return pa.array(s.array)  # the CSV reader's columns: no copy
    values = s.astype("object").to_numpy()
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return None
    try:
        return pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowException, UnicodeError):
        return None


def strip_cell(v: object) -> str | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    text = str(v).replace("\u00a0", " ").strip()
    return text or None


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
