"""Reading an export as it comes, in chunks: its first rows (to find the header), then its data rows.

A CSV is read line by line, never whole (a national SIASN export has millions of rows): each line
in UTF-8 when it is UTF-8, else in Windows-1252 (so a file that mixes the two keeps its accents, and
its lines in the minority encoding are reported), any of the separators of ``data.reading``, a BOM
dropped. An ``.xlsx`` is read in openpyxl's read-only mode, row by row, after the sizes its parts
unpack to are checked. The limits of ``data.reading.LIMITS`` hold here as in the contract reader:
a cell longer than Excel allows, a row wider than a table may be, a file longer than a file may be,
is an error naming the file, row and column; so is a workbook with formulas whose values were never
saved. Each chunk is a frame of text cells (None when empty) indexed by the row number a
spreadsheet shows, header included.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.data.problems import shorten
from analysis.data.reading import (
    HEADER_SCAN_ROWS,
    LIMITS,
    SEPARATORS,
    cell_text,
    column_letter,
    first_long_cell,
    strip_column,
)
from analysis.imports.report import ImportFailure

SUFFIXES = (".csv", ".txt", ".xlsx")
CHUNK_ROWS = 20_000
# a line longer than a row of a table may be (every cell at the limit, four bytes a character)
MAX_LINE_BYTES = LIMITS["columns"] * (LIMITS["cell_chars"] + 3) * 4
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


@dataclass
class Encodings:
    """What the line decoder saw: lines read as UTF-8 and as Windows-1252 (beyond plain ASCII)."""

    utf8: list[int] = field(default_factory=list)
    single_byte: list[int] = field(default_factory=list)

    def minority(self) -> tuple[str, list[int]] | None:
        """(encoding, lines) of the lines written in the file's other encoding, when it mixes two."""
        if not self.utf8 or not self.single_byte:
            return None
        if len(self.utf8) >= len(self.single_byte):
            return "Windows-1252", self.single_byte
        return "UTF-8", self.utf8


def _decode_line(raw: bytes, number: int, seen: Encodings) -> str:
    if raw.isascii():
        return raw.decode("ascii")
    try:
        text = raw.decode("utf-8")
        seen.utf8.append(number)
        return text
    except UnicodeDecodeError:
        seen.single_byte.append(number)
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


def _lines(path: Path, seen: Encodings, limit: int | None = None) -> Iterator[str]:
    """The file's lines as text, each decoded on its own; at most ``limit`` lines."""
    with open(path, "rb") as fh:
        number = 0
        while limit is None or number < limit:
            raw = fh.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES:
                raise ImportFailure(path.name, number, None, "cell_too_long",
                                    f"line {number} is longer than a row of a table may be (see Limits in "
                                    "docs/data-format.md)")
            if number == 1:
                if b"\x00" in raw[:4096]:
                    raise ImportFailure(path.name, None, None, "unreadable",
                                        "is not a text file (is it a spreadsheet saved under a .csv name?)")
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            yield _decode_line(raw, number, seen)


class _FieldLimit:
    """csv refuses fields over 128 KiB: lift that, so every cell meets the one cell limit instead."""

    def __enter__(self):
        self.old = csv.field_size_limit()
        csv.field_size_limit(max(self.old, MAX_LINE_BYTES))

    def __exit__(self, *exc):
        csv.field_size_limit(self.old)


def csv_heads(path: Path) -> dict[str, list[list[str | None]]]:
    """The first rows of a CSV split at each separator (the header is found in them)."""
    seen = Encodings()
    lines = list(_lines(path, seen, HEADER_SCAN_ROWS))
    if not any(line.strip() for line in lines):
        raise ImportFailure(path.name, None, None, "empty_file", "has no content")
    heads = {}
    with _FieldLimit():
        for sep in SEPARATORS:
            heads[sep] = [[cell or None for cell in row] for row in csv.reader(lines, delimiter=sep)]
    return heads


def _check_cells(path: Path, chunk: pd.DataFrame, header: list[str]) -> None:
    for i, column in enumerate(chunk.columns):
        long = first_long_cell(chunk[column])
        if long:
            k, length, value = long
            row = int(chunk.index[k])
            name = header[i] if i < len(header) and header[i] else column_letter(i + 1)
            raise ImportFailure(path.name, row, name, "cell_too_long",
                                f"the cell in row {row}, column {name} holds {length:,} characters (it begins "
                                f"\"{shorten(value)}\"); a cell may hold at most {LIMITS['cell_chars']:,}, as in "
                                "Excel (see Limits in docs/data-format.md)", value=shorten(value))


def _frame(rows: list[list], numbers: list[int], width: int) -> pd.DataFrame:
    chunk = pd.DataFrame(rows, index=pd.Index(numbers, dtype="int64", name="row"), columns=range(width),
                         dtype="object")
    return pd.DataFrame({c: strip_column(chunk[c]) for c in chunk.columns}, index=chunk.index)


@dataclass
class Malformed:
    """Rows that could not be matched to the header (more filled cells than it has): set aside."""

    rows: list[tuple[int, str]] = field(default_factory=list)


def csv_chunks(path: Path, sep: str, header_index: int, header: list[str], seen: Encodings,
               malformed: Malformed) -> Iterator[pd.DataFrame]:
    """The data rows below the header, ``CHUNK_ROWS`` at a time."""
    width = len(header)
    rows: list[list] = []
    numbers: list[int] = []
    with _FieldLimit():
        reader = csv.reader(_lines(path, seen), delimiter=sep, quotechar='"')
        for i, fields in enumerate(reader):
            number = i + 1  # rows as a spreadsheet numbers them: one per record
            if number > LIMITS["rows"]:
                raise ImportFailure(path.name, number, None, "too_many_rows",
                                    f"has more than {LIMITS['rows']:,} rows, the most a file may have "
                                    "(see Limits in docs/data-format.md)")
            if i <= header_index or not fields:
                continue
            if len(fields) > width:
                extra = fields[width:]
                if any(f.strip() for f in extra):
                    filled = max(j for j, f in enumerate(fields) if f.strip()) + 1
                    if filled > LIMITS["columns"]:
                        raise ImportFailure(path.name, number, column_letter(filled), "too_many_columns",
                                            f"row {number} has a filled cell in column {column_letter(filled)}; "
                                            f"a table may have at most {LIMITS['columns']} columns")
                    malformed.rows.append((number, sep.join(extra)))
                    continue
                fields = fields[:width]
            rows.append(fields + [""] * (width - len(fields)))
            numbers.append(number)
            if len(rows) >= CHUNK_ROWS:
                chunk = _frame(rows, numbers, width)
                _check_cells(path, chunk, header)
                yield chunk
                rows, numbers = [], []
    if rows:
        chunk = _frame(rows, numbers, width)
        _check_cells(path, chunk, header)
        yield chunk


def check_head_cells(path: Path, rows: list[list]) -> None:
    """The title rows and the header (the rows a chunk never holds) against the cell limit."""
    for n, cells in enumerate(rows, start=1):
        for j, v in enumerate(cells):
            if isinstance(v, str) and len(v) > LIMITS["cell_chars"]:
                raise ImportFailure(path.name, n, column_letter(j + 1), "cell_too_long",
                                    f"the cell in row {n}, column {column_letter(j + 1)} holds {len(v):,} "
                                    f"characters (it begins \"{shorten(v)}\"); a cell may hold at most "
                                    f"{LIMITS['cell_chars']:,}, as in Excel (see Limits in docs/data-format.md)",
                                    value=shorten(v))


# --- xlsx ----------------------------------------------------------------------------------------

def _check_xlsx(path: Path) -> bool:
    """The parts' unpacked sizes against the limits, before anything is unpacked; whether any
    worksheet holds a formula."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFailure(path.name, None, None, "unreadable",
                            f"cannot be read as xlsx ({exc}): is it a workbook? Open it in Excel and save it "
                            "again as .xlsx") from exc
    with zf:
        cells = 0
        formulas = False
        for info in zf.infolist():
            low = info.filename.lower()
            if low.startswith("xl/worksheets/") or "sharedstrings" in low:
                cells += info.file_size
            elif info.file_size > LIMITS["xlsx_part_bytes"]:
                raise ImportFailure(path.name, None, None, "file_too_large",
                                    f"its part {info.filename} unpacks to {info.file_size:,} bytes; such a part "
                                    f"may have at most {LIMITS['xlsx_part_bytes']:,} (see Limits in "
                                    "docs/data-format.md)")
        if cells > LIMITS["file_bytes"]:
            raise ImportFailure(path.name, None, None, "file_too_large",
                                f"its worksheets unpack to {cells:,} bytes; a file may have at most "
                                f"{LIMITS['file_bytes']:,} (see Limits in docs/data-format.md)")
        for info in zf.infolist():
            if info.filename.lower().startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                with zf.open(info) as fh:
                    tail = b""
                    while chunk := fh.read(1 << 20):
                        if _FORMULA_TAG.search(tail + chunk):
                            formulas = True
                            break
                        tail = chunk[-64:]
    return formulas


class Workbook:
    """The first worksheet of an .xlsx, read row by row."""

    def __init__(self, path: Path):
        import openpyxl

        self.path = path
        has_formulas = _check_xlsx(path)
        try:
            self.wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            self.formulas = openpyxl.load_workbook(path, read_only=True, data_only=False) if has_formulas else None
        except Exception as exc:  # any library failure on a broken workbook is a sentence
            raise ImportFailure(path.name, None, None, "unreadable",
                                f"cannot be read as xlsx ({_short(exc)})") from exc
        self.sheet = self.wb.sheetnames[0]

    def close(self) -> None:
        self.wb.close()
        if self.formulas is not None:
            self.formulas.close()

    def rows(self) -> Iterator[tuple[int, list[str | None]]]:
        """(row number, cells as text) of every row up to its last filled cell."""
        ws = self.wb[self.sheet]
        ws.reset_dimensions()  # the size a file declares is not trusted
        values = ws.iter_rows(values_only=True)
        formulas = None
        if self.formulas is not None:
            fws = self.formulas[self.sheet]
            fws.reset_dimensions()
            formulas = fws.iter_rows(values_only=True)
        try:
            for number, row in enumerate(values, start=1):
                if number > min(LIMITS["rows"], 1_048_576):
                    raise ImportFailure(self.path.name, number, None, "too_many_rows",
                                        "has more rows than a file may have (see Limits in docs/data-format.md)")
                if formulas is not None:
                    frow = next(formulas, ())
                    for j, (v, f) in enumerate(zip(row, frow)):
                        if v is None and isinstance(f, str) and f.startswith("="):
                            cell = f"{column_letter(j + 1)}{number}"
                            raise ImportFailure(
                                self.path.name, number, column_letter(j + 1), "formulas_without_values",
                                f"sheet {self.sheet}, cell {cell} holds a formula whose value was never saved "
                                "(the file was written by a program that does not calculate): open it in Excel "
                                "or LibreOffice, save it, and import again", value=shorten(f))
                last = len(row)
                while last and (row[last - 1] is None or row[last - 1] == ""):
                    last -= 1
                if last > LIMITS["columns"]:
                    raise ImportFailure(self.path.name, number, column_letter(last), "too_many_columns",
                                        f"row {number} has a filled cell in column {column_letter(last)}; a table "
                                        f"may have at most {LIMITS['columns']} columns (see Limits in "
                                        "docs/data-format.md)")
                yield number, [cell_text(v) for v in row[:last]]
        except ImportFailure:
            raise
        except Exception as exc:
            raise ImportFailure(self.path.name, None, None, "unreadable",
                                f"cannot be read as xlsx ({_short(exc)})") from exc

    def head(self) -> list[list[str | None]]:
        out: list[list[str | None]] = []
        for number, cells in self.rows():
            while len(out) < number - 1:
                out.append([])
            out.append(cells)
            if number >= HEADER_SCAN_ROWS:
                break
        if not any(any(c not in (None, "") for c in r) for r in out):
            raise ImportFailure(self.path.name, None, None, "empty_file", "has no content")
        return out

    def chunks(self, header_index: int, header: list[str]) -> Iterator[pd.DataFrame]:
        width = len(header)
        rows: list[list] = []
        numbers: list[int] = []
        for number, cells in self.rows():
            if number <= header_index + 1 or not any(c not in (None, "") for c in cells):
                continue
            if len(cells) > width:
                cells = cells[:width] if not any(c not in (None, "") for c in cells[width:]) else cells
                if len(cells) > width:
                    raise ImportFailure(self.path.name, number, column_letter(len(cells)), "malformed_row",
                                        f"row {number} has a filled cell in column {column_letter(len(cells))}, "
                                        "beyond the header's last column")
            rows.append(cells + [None] * (width - len(cells)))
            numbers.append(number)
            if len(rows) >= CHUNK_ROWS:
                chunk = _frame(rows, numbers, width)
                _check_cells(self.path, chunk, header)
                yield chunk
                rows, numbers = [], []
        if rows:
            chunk = _frame(rows, numbers, width)
            _check_cells(self.path, chunk, header)
            yield chunk


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
