"""The import report: every row set aside, value not mapped and column ignored, file by file.

``import_report.csv`` has one line per problem (file, row, column, problem, value; the row as a
spreadsheet shows it). It may name NIPs, like the exports it describes, so it is restricted; it
never holds a person's name (name columns are dropped before anything is read from them). The
summary on screen counts, per file, the rows read, used and set aside (by reason), the values not
mapped and the columns ignored, with every NIP-like number masked as ``validate`` does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.core.cells import spreadsheet_safe
from analysis.data.problems import NIP_MASK, console_text, shorten

COLUMNS = ["file", "row", "column", "problem", "value"]
# lines of the report per file, column and problem; the counts on screen are never capped
MAX_LINES_PER_KIND = 10_000


class ImportFailure(Exception):
    """A file that cannot be imported at all: nothing is written. Names the file, row and column."""

    def __init__(self, file: str, row: int | None, column: str | None, problem: str, message: str,
                 value: object = None):
        self.file, self.row, self.column, self.problem, self.value = file, row, column, problem, value
        where = file + (f", row {row}" if row else "") + (f", column {column}" if column else "")
        super().__init__(f"{where}: {message}")


@dataclass
class FileSummary:
    file: str
    profile: str = ""
    header_row: int | None = None
    rows_read: int = 0
    rows_used: int = 0
    set_aside: Counter = field(default_factory=Counter)  # reason -> rows
    unmapped: Counter = field(default_factory=Counter)  # (column, value) -> cells
    ignored_columns: list[str] = field(default_factory=list)
    personal_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    files: dict[str, FileSummary] = field(default_factory=dict)
    frames: list[pd.DataFrame] = field(default_factory=list)
    _lines: Counter = field(default_factory=Counter)

    def file(self, name: str) -> FileSummary:
        return self.files.setdefault(name, FileSummary(name))

    def add(self, file: str, rows, column, problem: str, values=None) -> None:
        """Lines for many rows at once (rows a sequence, or one row; values likewise)."""
        rows = pd.Series(rows if isinstance(rows, (list, pd.Index, pd.Series)) else [rows], dtype="object")
        if not len(rows):
            return
        kind = (file, column, problem)
        room = MAX_LINES_PER_KIND - self._lines[kind]
        if room <= 0:
            self._lines[kind] += len(rows)
            return
        if values is None or isinstance(values, (str, int, float)):
            values = [values] * len(rows)
        frame = pd.DataFrame({"file": file, "row": rows.to_numpy(), "column": column, "problem": problem,
                              "value": [None if v is None or (isinstance(v, float) and v != v) else shorten(v)
                                        for v in list(values)]}).head(room)
        self._lines[kind] += len(rows)
        self.frames.append(frame)

    def set_aside(self, file: str, rows, column, reason: str, values=None) -> None:
        rows = list(rows) if not isinstance(rows, (int, type(None))) else [rows]
        self.file(file).set_aside[reason] += len(rows)
        self.add(file, rows, column, reason, values)

    def to_frame(self) -> pd.DataFrame:
        parts = [f for f in self.frames if len(f)]
        dropped = [(k, n - MAX_LINES_PER_KIND) for k, n in self._lines.items() if n > MAX_LINES_PER_KIND]
        if dropped:
            parts.append(pd.DataFrame([{"file": f, "row": None, "column": c, "problem": p,
                                        "value": f"{n:,} more lines like these, not listed"}
                                       for (f, c, p), n in dropped]))
        if not parts:
            return pd.DataFrame(columns=COLUMNS)
        df = pd.concat(parts, ignore_index=True)[COLUMNS]
        df["row"] = pd.to_numeric(df["row"], errors="coerce").astype("Int64")
        return df.sort_values(["file", "row"], na_position="first", kind="stable").reset_index(drop=True)

    def write_csv(self, path: Path) -> None:
        # values come from the exports: a cell a spreadsheet would run as a formula is neutralised
        spreadsheet_safe(self.to_frame()).to_csv(path, index=False)

    def print_summary(self, echo, top: int = 8) -> None:
        hidden = False

        def safe(text: object) -> str:
            nonlocal hidden
            out = console_text(str(text))
            hidden |= out != str(text)
            return out

        for s in self.files.values():
            aside = sum(s.set_aside.values())
            echo(f"{s.file} ({s.profile}, header on row {s.header_row}): {s.rows_read:,} rows read, "
                 f"{s.rows_used:,} used, {aside:,} set aside")
            for reason, n in s.set_aside.most_common():
                echo(f"    set aside: {reason} x{n:,}")
            if s.unmapped:
                by_column: dict[str, Counter] = {}
                for (column, value), n in s.unmapped.items():
                    by_column.setdefault(column, Counter())[value] += n
                for column, counts in by_column.items():
                    shown = ", ".join(f"'{safe(shorten(v, 40))}' x{n:,}" for v, n in counts.most_common(top))
                    more = len(counts) - top
                    echo(f"    not mapped in {column}: {shown}" + (f" and {more} more" if more > 0 else ""))
            if s.ignored_columns:
                echo(f"    columns ignored: {safe(', '.join(s.ignored_columns))}")
            if s.personal_columns:
                echo(f"    personal data dropped (never written): {', '.join(s.personal_columns)}")
            for note in s.notes:
                echo(f"    note: {safe(note)}")
        if hidden:
            echo(f"  (NIPs are shown as {NIP_MASK} here; the report file names them: keep it restricted.)")
