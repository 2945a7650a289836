"""From a file's header to a profile, and from a chunk of text cells to a layout's typed fields.

The layout of a file is recognised by its header: the first rows are tried against every profile,
and the profile that finds all its required fields and the most columns wins. Two profiles that fit
equally well, or none, are an error naming the file (``--profile`` then decides).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.core.codes import fold
from analysis.imports.profiles import Profile, header_key
from analysis.imports.report import ImportFailure, ImportReport
from analysis.imports.transforms import FAILURE, TRANSFORMS, TYPES, value_key

CODE_TYPES = {"rating", "predikat", "gender", "employment_type", "training_form"}


@dataclass
class Binding:
    """A profile fitted to one file: where each field is, and what the title rows and name give."""

    profile: Profile
    columns: dict[str, int]  # field -> position in the header
    header: list[str]
    header_index: int  # 0-based: the header is on spreadsheet row header_index + 1
    separator: str | None = None
    constants: dict[str, str] = field(default_factory=dict)  # field -> value from the title rows or file name
    ignored: list[str] = field(default_factory=list)
    personal: list[str] = field(default_factory=list)

    @property
    def header_row(self) -> int:
        return self.header_index + 1

    def column_name(self, name: str) -> str:
        """The header a field was read from, as the file writes it (for the report)."""
        if name in self.columns:
            return self.header[self.columns[name]]
        return f"({name})"


def fit(profile: Profile, row: list, file_constants: dict[str, str]) -> tuple[dict[str, int], int] | None:
    """(field -> position, score) when the row is a header this profile can read, else None."""
    keys = [header_key(c) for c in row]
    positions: dict[str, int] = {}
    for name, spec in profile.fields.items():
        for alias in spec.columns:
            if alias in keys:
                positions[name] = keys.index(alias)
                break
    for group in profile.layout.required:
        if not any(f in positions or f in file_constants or f in profile.title
                   or (f in profile.fields and profile.fields[f].default is not None) for f in group):
            return None
    score = len(set(positions.values())) + sum(k in profile.personal for k in keys)
    return positions, score


def _missing(profile: Profile, row: list, file_constants: dict[str, str]) -> list[str]:
    keys = {header_key(c) for c in row}
    out = []
    for group in profile.layout.required:
        if not any((f in profile.fields and (set(profile.fields[f].columns) & keys or profile.fields[f].default))
                   or f in file_constants or f in profile.title for f in group):
            out.append(" or ".join(group))
    return out


def file_name_constants(profile: Profile, path: Path) -> dict[str, str]:
    if profile.file_name is None:
        return {}
    m = profile.file_name.match(path.stem)
    return {k: v for k, v in m.groupdict().items() if v} if m else {}


def title_constants(profile: Profile, rows: list[list]) -> dict[str, str]:
    """Fields given in the rows above the header: a cell starting with the profile's words."""
    out: dict[str, str] = {}
    for name, words in profile.title.items():
        pattern = re.compile(rf"^\s*{re.escape(words)}\b\s*[:\-]?\s*(.*)$", re.IGNORECASE)
        for row in rows:
            cells = [c for c in row if c not in (None, "")]
            for j, cell in enumerate(cells):
                m = pattern.match(str(cell))
                if m:
                    value = m.group(1).strip() or (str(cells[j + 1]).strip() if j + 1 < len(cells) else "")
                    if value:
                        out.setdefault(name, value)
    return out


def detect(path: Path, heads: dict[str | None, list[list]], profiles: list[Profile], forced: bool) -> Binding:
    """The profile and header row of a file (``heads``: its first rows, per separator for a CSV)."""
    found = []
    for sep, rows in heads.items():
        for profile in profiles:
            constants = file_name_constants(profile, path)
            for i, row in enumerate(rows):
                got = fit(profile, row, constants)
                if got:
                    found.append((got[1], -i, sep, profile, got[0]))
                    break
    if not found:
        closest = []
        for profile in profiles:
            constants = file_name_constants(profile, path)
            best = min((_missing(profile, row, constants) for rows in heads.values() for row in rows if row),
                       key=len, default=[])
            closest.append((len(best), profile.name, best))
        closest.sort()
        _, name, missing = closest[0] if closest else (0, "-", [])
        what = ("the profile " + name if forced else "any known layout") + \
            (f" (closest: {name}, which misses {'; '.join(missing)})" if missing and not forced else
             f" (it misses {'; '.join(missing)})" if missing else "")
        raise ImportFailure(path.name, None, None, "unknown_layout",
                            f"no row among the first {max(map(len, heads.values()), default=0)} is a header of "
                            f"{what}; give the layout with --profile, or write a profile for this export "
                            "(docs/imports.md)")
    found.sort(key=lambda f: (-f[0], -f[1]))
    best = found[0]
    rivals = sorted({f[3].name for f in found if f[0] == best[0] and f[3].name != best[3].name})
    if rivals:
        raise ImportFailure(path.name, -best[1] + 1, None, "ambiguous_layout",
                            f"the header fits the profiles {best[3].name} and {', '.join(rivals)} equally well; "
                            "choose one with --profile")
    score, neg_i, sep, profile, positions = best
    header_index = -neg_i
    header_cells = heads[sep][header_index]
    header = [str(c).strip() if c not in (None, "") else "" for c in header_cells]
    # a trailing run of empty header cells (';;;' left by Excel) is not a column
    while header and not header[-1]:
        header.pop()
    binding = Binding(profile, positions, header, header_index, sep)
    binding.constants = file_name_constants(profile, path) | title_constants(profile, heads[sep][:header_index])
    used = set(positions.values())
    for j, name in enumerate(header):
        if j in used or not name:
            continue
        if header_key(name) in profile.personal:
            binding.personal.append(name)
        else:
            binding.ignored.append(name)
    return binding


def type_chunk(chunk: pd.DataFrame, binding: Binding, file: str, report: ImportReport
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The layout's fields of a chunk, typed, and which cells could not be read (reported and counted)."""
    profile = binding.profile
    out = pd.DataFrame(index=chunk.index)
    failures = pd.DataFrame(index=chunk.index)
    summary = report.file(file)
    for name, kind in profile.layout.fields.items():
        spec = profile.fields.get(name)
        if name in binding.columns:
            raw = chunk[binding.columns[name]].astype("object")
        else:
            raw = pd.Series(None, index=chunk.index, dtype="object")
        if profile.null_values:
            raw = raw.where(~per_distinct(raw, lambda v: value_key(v) in profile.null_values, False)
                            .astype(bool), None)
        text = raw
        if spec is not None and spec.values:
            text = per_distinct(raw, lambda v: spec.values.get(value_key(v), v), None)
        if spec is not None:
            for t in spec.transforms:
                text = TRANSFORMS[t](text)
        fallback = binding.constants.get(name, spec.default if spec is not None else None)
        if fallback is not None:
            text = text.where(text.notna() | raw.notna(), fallback)  # a value mapped to empty stays empty
        values, failed = TYPES[kind](text, profile.date_formats)
        if failed.any():
            column = binding.column_name(name)
            bad_raw = raw[failed].where(raw[failed].notna(), text[failed])
            problem = "unmapped_value" if kind in CODE_TYPES else FAILURE.get(kind, "unreadable")
            report.add(file, list(bad_raw.index), column, problem, list(bad_raw))
            if kind in CODE_TYPES:
                for value, n in bad_raw.value_counts().items():
                    summary.unmapped[(column, str(value))] += int(n)
        out[name] = values
        failures[name] = failed.to_numpy()
    return out, failures


def per_distinct(values: pd.Series, fn, empty) -> pd.Series:
    """``fn`` of each cell, computed once per distinct text (exports repeat their texts a lot);
    ``empty`` for a missing cell."""
    present = values.notna()
    mapping = {u: fn(u) for u in pd.unique(values[present])}
    out = values.map(mapping).astype("object")
    return out.where(present, empty).where(out.notna() | ~present, None)


def folded(values: pd.Series) -> pd.Series:
    """Text compared without case, accents or punctuation (unit names against unit names)."""
    present = values.notna()
    mapping = {u: fold(str(u)) for u in pd.unique(values[present])}
    return values.map(mapping)
