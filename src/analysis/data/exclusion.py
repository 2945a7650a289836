"""Partial data, on purpose (params ``validation.on_error: exclude``): the rows with errors set aside,
with the rows that depend on them, and the analysis run on the rest.

A scheduled run should not stop the whole report because six rows out of 200,000 have an impossible
NIP. With ``exclude``:

1. Every row an error names (its table and spreadsheet row) is set aside.
2. So is every row that refers to a set-aside row by the contract's references (a bad employee's
   appraisals, feedback given or received, assessments, targets…), until nothing more depends on
   what was removed.
3. The run still stops when an error names no row (a missing table or column, an unreadable file:
   nothing can be set aside), or when a required table would lose more than
   ``validation.max_excluded_share`` of its rows (default 5%: a broken export, not a few bad rows).

The rows set aside go to the run's restricted ``plans/excluded_rows.csv`` (the runner pseudonymises
ids), the manifest records the counts by table, and the brief shows a notice on its first page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from analysis.data.contract import REQUIRED_TABLES, TABLES


@dataclass
class Exclusion:
    """What setting aside the rows with errors gives: the tables to analyse, or why it cannot."""

    tables: dict[str, pd.DataFrame]
    excluded: pd.DataFrame  # table, row, reason, and the row's key columns
    counts: dict[str, dict] = field(default_factory=dict)  # table -> {read, excluded, share}
    stop: str | None = None  # why the run must stop after all (None: it can go on)

    @property
    def ok(self) -> bool:
        return self.stop is None


def _errors(report_frame: pd.DataFrame) -> pd.DataFrame:
    return report_frame[report_frame["severity"] == "error"]


def exclude_rows(tables: dict[str, pd.DataFrame], report_frame: pd.DataFrame,
                 max_share: float) -> Exclusion:
    """Set aside the rows ``report_frame`` (``ValidationReport.to_frame()``) names with an error, and the
    rows depending on them (the module docstring)."""
    errors = _errors(report_frame)
    empty = pd.DataFrame(columns=["table", "row", "reason"])
    rowless = errors[errors["row"].isna() | ~errors["table"].isin(list(tables))]
    if len(rowless):
        first = rowless.iloc[0]
        return Exclusion(tables, empty, stop=f"{len(rowless)} error(s) name no row that could be set aside "
                                              f"(first: {first['table']}: {first['message']})")
    drop: dict[str, dict[int, str]] = {name: {} for name in tables}
    for (name, row), g in errors.groupby(["table", "row"], sort=True):
        drop[name][int(row)] = "; ".join(sorted(set(g["check"].astype(str))))
    _dependents(tables, drop)
    out, rows, counts = {}, [], {}
    for name, df in tables.items():
        gone = pd.Index(sorted(drop[name]))
        gone = gone[gone.isin(df.index)]
        out[name] = df.drop(index=gone) if len(gone) else df
        counts[name] = {"read": int(len(df)), "excluded": int(len(gone)),
                        "share": float(len(gone) / len(df)) if len(df) else 0.0}
        if len(gone):
            keys = [c for c in TABLES[name].key if c in df]
            part = df.loc[gone, keys].copy()
            part.insert(0, "reason", [drop[name][r] for r in gone])
            part.insert(0, "row", gone)
            part.insert(0, "table", name)
            rows.append(part.reset_index(drop=True))
    excluded = pd.concat(rows, ignore_index=True) if rows else empty
    over = {n: c for n, c in counts.items() if n in REQUIRED_TABLES and c["share"] > max_share}
    stop = None
    if over:
        stop = ("too many rows would be set aside (more than {:.0%} of a required table): ".format(max_share)
                + ", ".join(f"{n} {c['excluded']} of {c['read']} ({c['share']:.1%})" for n, c in sorted(over.items())))
    return Exclusion(out, excluded, counts, stop)


def _dependents(tables: dict[str, pd.DataFrame], drop: dict[str, dict[int, str]]) -> None:
    """Add to ``drop`` every row referring to a dropped row's key, until nothing more changes."""
    changed = True
    while changed:
        changed = False
        for name, df in tables.items():
            for ref in TABLES[name].references:
                if ref.table not in tables or ref.column not in df or not drop[ref.table]:
                    continue
                target = tables[ref.table]
                gone_rows = pd.Index(list(drop[ref.table])).intersection(target.index)
                gone = set(target.loc[gone_rows, ref.target].dropna())
                kept = set(target.drop(index=gone_rows)[ref.target].dropna())
                lost = gone - kept  # a key another, kept row still gives is not lost
                if not lost:
                    continue
                hit = df.index[df[ref.column].isin(lost)]
                for r in hit:
                    if int(r) not in drop[name]:
                        drop[name][int(r)] = f"depends on {ref.table} ({ref.column})"
                        changed = True
