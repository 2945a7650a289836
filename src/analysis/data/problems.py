"""The validation report: every problem found in a dataset, one row each.

A problem names the table, the row (as a spreadsheet shows it, header
included), the column, the check that failed and the offending value.
Errors stop a run; warnings are data the analysis can live with, counted and
listed (and, where rows are set aside, the rows are named here).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

COLUMNS = ["severity", "table", "row", "column", "check", "value", "message"]


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

    def print_summary(self, echo, limit: int = 15) -> None:
        """A few lines for the terminal: counts by check, then the first errors with their rows."""
        echo(f"Validation: {self.n_errors} error(s), {self.n_warnings} warning(s).")
        summary = self.summary()
        for rec in summary.itertuples(index=False):
            col = "" if rec.column == "-" else f".{rec.column}"
            echo(f"  {rec.severity:7s} {rec.table}{col}: {rec.check} x{rec.count} - {rec.example}")
        frame = self.to_frame()
        shown = frame[frame["severity"] == "error"].head(limit)
        if len(shown):
            echo("First errors (table, row, column: problem):")
            for rec in shown.itertuples(index=False):
                row = "-" if pd.isna(rec.row) else rec.row
                echo(f"  {rec.table}, row {row}, {rec.column or '-'}: {rec.message}")

    def write_csv(self, path: Path) -> None:
        self.to_frame().to_csv(path, index=False)


def _display_value(v: object) -> object:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    text = str(v)
    return text if len(text) <= 200 else text[:197] + "..."
