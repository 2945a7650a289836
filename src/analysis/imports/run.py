"""``workbench import``: exports in, a dataset folder in the contract out, with its report.

Each file is recognised (or given a profile), read in chunks, typed by its profile, and reduced by
its layout to the rows that can be used; the layouts then decide across files (which SKP counts,
which record is a duplicate) and the tables are put together and written, all or nothing. SIASN
files are read first (they are the employee master), SKM files last (their units are matched to
the units the other files gave).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.imports import layouts
from analysis.imports.dataset import assemble
from analysis.imports.jabatan import Rules, load_rules
from analysis.imports.mapping import Binding, detect, type_chunk
from analysis.imports.people import Context
from analysis.imports.profiles import Profile, load_profile, shipped_profiles
from analysis.imports.report import ImportFailure, ImportReport
from analysis.imports.sources import SUFFIXES, Encodings, Malformed, Workbook, check_head_cells, csv_chunks, csv_heads
from analysis.imports.writer import write_dataset

ORDER = ("siasn", "ekinerja", "training", "skm")
ROWS = {"siasn": layouts.siasn_rows, "ekinerja": layouts.ekinerja_rows, "training": layouts.training_rows,
        "skm": layouts.skm_rows}
TABLES = {"siasn": layouts.siasn_tables, "ekinerja": layouts.ekinerja_tables, "training": layouts.training_tables}


@dataclass
class ImportOutcome:
    tables: dict[str, pd.DataFrame]
    report: ImportReport
    skipped: list[str] = field(default_factory=list)


def input_files(paths: list[str | Path]) -> tuple[list[Path], list[str]]:
    """The files to import (a folder: its .csv, .txt and .xlsx files), and what a folder held besides."""
    files, skipped = [], []
    for p in map(Path, paths):
        if p.is_dir():
            for child in sorted(p.iterdir()):
                if child.name.startswith((".", "~$")) or child.is_dir():
                    continue
                (files if child.suffix.lower() in SUFFIXES else skipped).append(child if child.suffix.lower()
                                                                                 in SUFFIXES else child.name)
        elif p.is_file():
            if p.suffix.lower() == ".xls":
                raise ImportFailure(p.name, None, None, "unsupported_format",
                                    "the old .xls format is not read: save it as .xlsx")
            if p.suffix.lower() not in SUFFIXES:
                raise ImportFailure(p.name, None, None, "unsupported_format",
                                    f"is not an export the import reads ({', '.join(SUFFIXES)})")
            files.append(p)
        else:
            raise ImportFailure(str(p), None, None, "missing_file", "does not exist")
    if not files:
        raise ImportFailure(", ".join(map(str, paths)), None, None, "no_files", "holds no .csv, .txt or .xlsx file")
    names = [f.name for f in files]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ImportFailure(twice[0], None, None, "ambiguous_file",
                            "two input files have this name; the report could not tell them apart")
    return files, skipped


def _read(path: Path, profiles: list[Profile], forced: bool, rules: Rules, report: ImportReport):
    """(layout name, kept rows, context) of one file."""
    if path.stat().st_size == 0:
        raise ImportFailure(path.name, None, None, "empty_file", "is empty")
    summary = report.file(path.name)
    book = None
    try:
        if path.suffix.lower() == ".xlsx":
            book = Workbook(path)
            head = book.head()
            binding = detect(path, {None: head}, profiles, forced)
            check_head_cells(path, head[:binding.header_row])
            chunks = book.chunks(binding.header_index, binding.header)
            seen, malformed = None, Malformed()
        else:
            heads = csv_heads(path)
            binding = detect(path, heads, profiles, forced)
            check_head_cells(path, heads[binding.separator][:binding.header_row])
            seen, malformed = Encodings(), Malformed()
            chunks = csv_chunks(path, binding.separator, binding.header_index, binding.header, seen, malformed)
        summary.profile, summary.header_row = binding.profile.name, binding.header_row
        summary.ignored_columns, summary.personal_columns = binding.ignored, binding.personal
        layout = binding.profile.layout.name
        ctx = Context(report, path.name, rules, binding.column_name, frozenset(binding.columns))
        kept = []
        for chunk in chunks:
            summary.rows_read += len(chunk)
            typed, failed = type_chunk(chunk, binding, path.name, report)
            kept.append(ROWS[layout](typed, failed, ctx))
    finally:
        if book is not None:
            book.close()
    _after_reading(path, binding, summary, seen, malformed, report)
    rows = pd.concat(kept) if kept else pd.DataFrame()
    return layout, rows, ctx


def _after_reading(path: Path, binding: Binding, summary, seen: Encodings | None, malformed: Malformed,
                   report: ImportReport) -> None:
    if malformed.rows:
        summary.rows_read += len(malformed.rows)
        report.set_aside(path.name, [r for r, _ in malformed.rows], None, "malformed_row",
                         [v for _, v in malformed.rows])
    mixed = seen.minority() if seen else None
    if mixed:
        encoding, lines = mixed
        report.add(path.name, lines, None, "mixed_encoding", encoding)
        summary.notes.append(f"{len(lines):,} line(s) are written in {encoding}, the rest in the other encoding; "
                             "each was read in its own (listed in the report)")
    if binding.constants:
        summary.notes.append("from the title rows or file name: " + ", ".join(
            f"{k} = {v}" for k, v in binding.constants.items()))
    if summary.rows_read == 0:
        raise ImportFailure(path.name, binding.header_row, None, "no_rows",
                            f"has a header (row {binding.header_row}) but no data rows")


def import_exports(paths: list[str | Path], out: str | Path, profile: str | Path | None = None,
                   region: str | None = None, fmt: str = "csv", rules_file: str | Path | None = None,
                   skm_population: int | dict[str, int] | None = None) -> ImportOutcome:
    """Import the exports into the dataset folder ``out``; raises ImportFailure (nothing written)."""
    from analysis.imports.writer import check_destination

    out = Path(out)
    check_destination(out)
    profiles = [load_profile(profile)] if profile else shipped_profiles()
    rules = load_rules(rules_file)
    files, skipped = input_files(paths)
    report = ImportReport()
    read: dict[str, list[pd.DataFrame]] = {name: [] for name in ORDER}
    contexts: dict[str, Context] = {}
    for path in files:
        layout, rows, ctx = _read(path, profiles, profile is not None, rules, report)
        read[layout].append(rows)
        contexts[path.name] = ctx
    results = {}
    master = frozenset(pd.concat(read["siasn"])["employee_id"]) if read["siasn"] else frozenset()
    for layout in ("siasn", "ekinerja", "training"):
        if read[layout]:
            results[layout] = TABLES[layout](pd.concat(read[layout]), contexts, master)
    skm_rows = pd.concat(read["skm"]) if read["skm"] else None
    tables = assemble(results, skm_rows, contexts, report, region, skm_population)
    for summary in report.files.values():
        summary.rows_used = summary.rows_read - sum(summary.set_aside.values())
    write_dataset(tables, report, out, fmt)
    return ImportOutcome(tables, report, [str(s) for s in skipped])
