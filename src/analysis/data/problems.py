"""The validation report: every problem found in a dataset, one row each.

A problem names the table, the row (as a spreadsheet shows it, header
included), the column, the check that failed and the offending value.
Errors stop a run; warnings are data the analysis can live with, counted and
listed (and, where rows are set aside, the rows are named here).

A value from the data is quoted in a message, and in the report's ``value``
column, up to ``QUOTE_CHARS`` characters followed by "…" (``shorten``): a
200 MB cell makes a readable report line, not a 200 MB one.

The report file names NIPs (it is restricted, like the data); the console and
logs, which schedulers circulate, do not: ``print_summary`` shows rows and
hides every NIP-like number (``console_text``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from analysis.core.cells import spreadsheet_safe

COLUMNS = ["severity", "table", "row", "column", "check", "value", "message"]
QUOTE_CHARS = 60  # characters of a value from the data quoted in a message or the value column
ELLIPSIS = "\u2026"
# a number of 15 digits or more, with the spaces, dots or dashes exports put in NIPs, or as
# Excel writes a rounded one (1.99109092016061e+17): a NIP, valid or not
_NIP_LIKE = re.compile(r"(?<![\w.])\d(?:[\d .\-]*\d)?(?:[eE]\+\d+)?(?!\w)")
NIP_MASK = "[NIP]"


def shorten(value: object, limit: int = QUOTE_CHARS) -> str:
    """A value as text, cut to ``limit`` characters followed by "…" when longer."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + ELLIPSIS


def console_text(text: str, key: bytes | None = None) -> str:
    """A message for the console or a log: every NIP-like number (15 digits or more) masked, or,
    given the pseudonym key, replaced by the pseudonym of the NIP (``ASN-…``, as in the outputs)."""
    def mask(m: re.Match) -> str:
        found = m.group()
        if sum(ch.isdigit() for ch in found) < 15:
            return found
        digits = re.sub(r"[\s.\-]", "", found)
        if key is not None and re.fullmatch(r"\d{18}", digits):
            from analysis.core.privacy import pseudonymise

            return str(pseudonymise(pd.Series([digits]), key).iloc[0])
        return NIP_MASK
    return _NIP_LIKE.sub(mask, str(text))


@dataclass(frozen=True)
class Problem:
    table: str
    row: int | None
    column: str | None
    check: str
    value: object
    message: str
    severity: str = "error"


@dataclass
class ValidationReport:
    """Problems found, plus what was read (files, rows) for the manifest."""

    problems: list[Problem] = field(default_factory=list)
    frames: list[pd.DataFrame] = field(default_factory=list)  # bulk problems, COLUMNS layout
    files: dict[str, dict] = field(default_factory=dict)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def add_frame(self, frame: pd.DataFrame) -> None:
        """Add many problems at once (a DataFrame with the report's columns)."""
        if len(frame):
            self.frames.append(frame[COLUMNS])

    def to_frame(self) -> pd.DataFrame:
        parts = [pd.DataFrame([asdict(p) for p in self.problems], columns=COLUMNS)] + self.frames
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
        df = pd.concat([p.astype("object") for p in parts], ignore_index=True)[COLUMNS]
        df["row"] = pd.to_numeric(df["row"], errors="coerce").astype("Int64")
        df["value"] = df["value"].map(_display_value)
        order = {"error": 0, "warning": 1}
        df["_s"] = df["severity"].map(order)
        df = df.sort_values(["_s", "table", "row", "column", "check"], na_position="first", kind="stable")
        return df.drop(columns="_s").reset_index(drop=True)

    def _count(self, severity: str) -> int:
        return sum(p.severity == severity for p in self.problems) + sum(
            int((f["severity"] == severity).sum()) for f in self.frames
        )

    @property
    def n_errors(self) -> int:
        return self._count("error")

    @property
    def n_warnings(self) -> int:
        return self._count("warning")

    @property
    def ok(self) -> bool:
        return self.n_errors == 0

    def summary(self) -> pd.DataFrame:
        """Counts by severity, table, column and check."""
        df = self.to_frame()
        if df.empty:
            return pd.DataFrame(columns=["severity", "table", "column", "check", "count", "example"])
        g = df.fillna({"column": "-"}).groupby(["severity", "table", "column", "check"], sort=False)
        out = g.agg(count=("check", "size"), example=("message", "first")).reset_index()
        return out

    def summary_dict(self) -> dict:
        s = self.summary()
        return {
            "errors": self.n_errors,
            "warnings": self.n_warnings,
            "by_check": [
                {k: (int(v) if k == "count" else v) for k, v in row.items() if k != "example"}
                for row in s.to_dict(orient="records")
            ],
        }

    def print_summary(self, echo, limit: int = 15, key: bytes | None = None) -> None:
        """A few lines for the terminal: counts by check, then the first errors with their rows.

        Consoles and logs are circulated: messages are shown with their row and without NIPs
        (``console_text``: masked, or pseudonymised when the caller has the pseudonym ``key``);
        the report file, which is restricted, has them in full.
        """
        echo(f"Validation: {self.n_errors} error(s), {self.n_warnings} warning(s).")
        frame = self.to_frame()
        hidden = False

        def safe(message: object) -> str:
            nonlocal hidden
            text = console_text(message, key)
            hidden |= text != str(message)
            return text

        if len(frame):
            g = frame.fillna({"column": "-"}).groupby(["severity", "table", "column", "check"], sort=False)
            for (severity, table, column, check), part in g:
                first = part.iloc[0]
                where = "" if pd.isna(first["row"]) else f"row {first['row']}: "
                col = "" if column == "-" else f".{column}"
                echo(f"  {severity:7s} {table}{col}: {check} x{len(part)} - {where}{safe(first['message'])}")
        shown = frame[frame["severity"] == "error"].head(limit)
        if len(shown):
            echo("First errors (table, row, column: problem):")
            for rec in shown.itertuples(index=False):
                row = "-" if pd.isna(rec.row) else rec.row
                echo(f"  {rec.table}, row {row}, {rec.column or '-'}: {safe(rec.message)}")
        if hidden:
            shown_as = "pseudonyms" if key is not None else NIP_MASK
            echo(f"  (NIPs are shown as {shown_as} here; the report file names them: keep it restricted.)")

    def write_csv(self, path: Path) -> None:
        # values come from the data: a cell that a spreadsheet would run as a formula is neutralised
        spreadsheet_safe(self.to_frame()).to_csv(path, index=False)


def _display_value(v: object) -> object:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    return shorten(v)
