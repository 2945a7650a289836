"""Pandera schemas of the contract's tables, built from ``tables.TABLES``.

Parsing (``parsing``) has already typed every cell; the schemas check what
typed values must satisfy: no empty required cells, values in range, unique
keys. Their failures are translated into report rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from analysis.data.contract import Column, Table
from analysis.data.distinct import Distinct
from analysis.data.problems import shorten


def _range_checks(c: Column) -> list[pa.Check]:
    checks = []
    if c.min is not None:
        checks.append(pa.Check.greater_than(c.min) if c.min_exclusive else pa.Check.ge(c.min))
    if c.max is not None:
        checks.append(pa.Check.le(c.max))
    return checks


def schema_for(table: Table, present: list[str]) -> pa.DataFrameSchema:
    """Schema for the columns of ``table`` that the file has."""
    columns = {
        c.name: pa.Column(
            nullable=c.missing != "error",
            checks=_range_checks(c),
            unique=len(table.key) == 1 and table.key[0] == c.name,
            required=True,
        )
        for c in table.columns if c.name in present
    }
    key = list(table.key) if len(table.key) > 1 and all(k in present for k in table.key) else None
    return pa.DataFrameSchema(columns, unique=key, name=table.name, strict=False)


def _range_text(c: Column) -> str:
    lo = None if c.min is None else (f"greater than {c.min:g}" if c.min_exclusive else f"at least {c.min:g}")
    hi = None if c.max is None else f"at most {c.max:g}"
    if c.min is not None and c.max is not None and not c.min_exclusive:
        return f"between {c.min:g} and {c.max:g}"
    return " and ".join(x for x in (lo, hi) if x)


def check(table: Table, data: pd.DataFrame, cells: dict[str, Distinct] | None = None) -> pd.DataFrame:
    """Run the schema; problems in the report's layout (empty when all is well).

    ``cells``, the columns as distinct values and codes (see ``distinct``), make the test for
    duplicate keys fast."""
    if passes_checks(table, data, cells or {}):
        return pd.DataFrame()
    schema = schema_for(table, list(data.columns))
    try:
        schema.validate(data, lazy=True)
        return pd.DataFrame()
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    key_cols = [k for k in table.key if k in data.columns]
    chk = fc["check"].astype(str)
    col = fc["column"].where(fc["column"].map(lambda c: isinstance(c, str)), None)
    kind = pd.Series("other", index=fc.index)
    kind[chk.eq("not_nullable")] = "missing_value"
    kind[chk.str.match(r"^(greater_than|less_than|in_range|ge\(|le\()")] = "out_of_range"
    kind[chk.isin(["field_uniqueness", "multiple_fields_uniqueness"])] = "duplicate_key"
    out = pd.DataFrame({"check": kind, "row": fc["index"], "column": col,
                        "value": fc["failure_case"].astype("object"), "message": None})
    out.loc[kind.eq("missing_value"), "value"] = None
    out.loc[kind.eq("missing_value"), "message"] = col[kind.eq("missing_value")] + " is empty"
    rng = kind.eq("out_of_range")
    out.loc[rng, "message"] = [f"{c} {shorten(v)} must be {_range_text(table.column_map[c])}"
                               for c, v in zip(col[rng], out.loc[rng, "value"])]
    other = kind.eq("other")
    out.loc[other, "check"] = chk[other]
    out.loc[other, "message"] = col[other].astype(str) + " fails " + chk[other]
    dups = kind.eq("duplicate_key")
    if dups.any():
        d = out[dups].drop_duplicates("row").copy()
        d["column"] = "+".join(key_cols)
        d[["value", "message"]] = duplicate_messages(data, key_cols, d["row"])
        out = pd.concat([out[~dups], d])
    out.insert(0, "table", table.name)
    out.insert(0, "severity", "error")
    return out.reset_index(drop=True)


def passes_checks(table: Table, data: pd.DataFrame, cells: dict[str, Distinct]) -> bool:
    """Whether the table passes every check of its schema, found in a few passes over the columns.

    Pandera copies the table and checks it column by column, seconds for millions of rows; a table
    is usually clean, and this says so first, looking at each distinct value once. It is never more
    lenient than the schema (a key with two missing values is a duplicate here): when it says no,
    the schema runs and reports."""
    present = [c for c in table.columns if c.name in data.columns]
    columns = {c.name: cells.get(c.name) or Distinct(data[c.name], None, data.index) for c in present}
    for c in present:
        values = columns[c.name].values  # every value some row holds (and perhaps a missing one)
        if c.missing == "error" and columns[c.name].spread_mask(values.isna()).any():
            return False
        filled = values.dropna()
        if c.min is not None and not (filled > c.min if c.min_exclusive else filled >= c.min).all():
            return False
        if c.max is not None and not (filled <= c.max).all():
            return False
    # the key as schema_for states it: one column unique, or the columns together
    key = list(table.key)
    if len(key) == 1 and key[0] in columns or len(key) > 1 and all(k in columns for k in key):
        return not key_repeats([columns[k].group_codes() for k in key])
    return True


def key_repeats(codes: list[np.ndarray]) -> bool:
    """Whether two rows have the same codes in every column (codes from -1, as factorize gives)."""
    combined = np.zeros(len(codes[0]), dtype=np.int64)
    size = 1
    for column in codes:
        width = int(column.max(initial=-1)) + 2
        if size * width >= 2**62:  # the combined numbers would overflow: number them afresh
            combined = pd.factorize(combined)[0]
            size = int(combined.max(initial=-1)) + 1
        combined = combined * width + (column + 1)
        size *= width
    ordered = np.sort(combined)  # faster than hashing millions of numbers
    return bool((ordered[1:] == ordered[:-1]).any())


def duplicate_messages(data: pd.DataFrame, key: list[str], rows: pd.Series) -> pd.DataFrame:
    """For each duplicated row: its key value and the other rows that share it."""
    sub = data.loc[rows.to_numpy(), key].astype(str).map(shorten)
    label = sub.agg(" / ".join, axis=1)
    groups = label.groupby(label).groups
    values, messages = [], []
    for row, lab in label.items():
        others = [int(r) for r in groups[lab] if r != row]
        values.append(lab)
        messages.append(
            f"duplicate key ({', '.join(key)} = {lab}): also on row{'s' if len(others) > 1 else ''} "
            + ", ".join(map(str, others[:10])) + (" …" if len(others) > 10 else "")
        )
    return pd.DataFrame({"value": values, "message": messages}, index=rows.index)
