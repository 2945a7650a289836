"""Small-cell protection of circulated tables: one policy, applied by one function (``protect``).

The policy (``docs/privacy.md``):

1. **Small groups.** A row describing a group of fewer than ``privacy.min_cell`` people (its size
   column, usually ``n``) shows none of its people-derived values: counts, shares, means. The row
   stays, marked ``suppressed``.
2. **Small counts.** Anywhere in a circulated table, a count of people from 1 to ``min_cell`` - 1 is
   blanked, with what reveals it: its share (``share_x`` for ``n_x``) and any column computed from it
   (``shortfall`` from ``count``). Zero is shown: it says nobody is in a cell, not who is.
3. **Secondary suppression.** Where the blanked counts of a row could be recomputed from the row's
   total and its other counts (categories that add up to the group size), the next smallest count of
   the row is blanked too, so that no single blanked cell is the difference of published ones.
   Tables of counts (cross-tabulations) get the same treatment along rows and along columns whenever
   they carry a total row or column.

What is a count of people: the group size column, every ``n_*`` column except those that count
something else (``NOT_PEOPLE``), and the columns a table declares. Labels are never blanked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# n_* columns that count units, periods or ratings, not people
NOT_PEOPLE = frozenset({"n_units", "n_treated", "n_controls", "n_never", "n_post_periods", "n_periods",
                        "n_ratings", "n_options", "n_cohorts", "n_compared"})
# people counts not named n_*, and the columns that reveal a count when shown beside its limit
OTHER_PEOPLE = frozenset({"count", "people", "meets_min_jp", "shortfall", "max_shortfall"})
REVEALS = {"count": ("shortfall",)}
TOTAL_LABELS = frozenset({"total", "all", "semua", "jumlah"})


def people_counts(table: pd.DataFrame, n_col: str | None = None, declared: list[str] | None = None) -> list[str]:
    """The columns of ``table`` that count people."""
    cols = [c for c in table.columns if isinstance(c, str)
            and ((c.startswith("n_") and c not in NOT_PEOPLE) or c in OTHER_PEOPLE)]
    if n_col and n_col in table:
        cols.insert(0, n_col)
    for c in declared or []:
        if c in table and c not in cols:
            cols.append(c)
    return [c for c in cols if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])]


def protect(table: pd.DataFrame, min_cell: int, n_col: str | None = None, value_cols: list[str] | None = None,
            counts: bool = False) -> pd.DataFrame:
    """The table as it may circulate under the policy above.

    ``n_col``: the group size column (rule 1); ``value_cols``: for a group table, what rule 1 blanks
    (default: counts and shares); for a table of counts (``counts=True``), its count columns (default:
    every numeric column but the first, which labels the rows).
    """
    out = table.copy()
    if counts:
        cells = value_cols or [c for c in out.columns[1:] if pd.api.types.is_numeric_dtype(out[c])
                               and not pd.api.types.is_bool_dtype(out[c])]
        return _protect_matrix(out, min_cell, [c for c in cells if c in out])
    if n_col and n_col in out:
        out = _small_groups(out, min_cell, n_col, value_cols)
    elif n_col:
        out["suppressed"] = False
    people = people_counts(out, n_col, value_cols if value_cols and n_col is None else None)
    if not people:
        return out
    values = {c: pd.to_numeric(out[c], errors="coerce").astype("float64") for c in people}
    blank = pd.DataFrame({c: (v > 0) & (v < min_cell) for c, v in values.items()}, index=out.index)
    parts = [c for c in people if c != n_col]
    if n_col in values and len(parts) >= 2:
        blank = _secondary_in_rows(blank, values, parts, n_col)
    for c in people:
        if blank[c].any():
            out[c] = values[c].where(~blank[c])
            for r in _revealing(out, c):
                out[r] = pd.to_numeric(out[r], errors="coerce").astype("float64").where(~blank[c])
    return out


def _small_groups(out: pd.DataFrame, min_cell: int, n_col: str, value_cols: list[str] | None) -> pd.DataFrame:
    cols = value_cols or [c for c in out.columns if str(c).startswith(("n_", "share_"))] + [n_col]
    small = out[n_col].fillna(0).astype(float) < min_cell
    for c in cols:
        if c in out:
            numeric = out[c].dtype.kind in "fiub" or str(out[c].dtype) in ("Int64", "Float64", "boolean")
            out[c] = out[c].astype("float64" if numeric else "object")
            out.loc[small, c] = np.nan
    out["suppressed"] = small.to_numpy()
    return out


def _revealing(out: pd.DataFrame, col: str) -> list[str]:
    """Columns that give ``col`` away: its share, and columns computed from it."""
    cand = list(REVEALS.get(col, ()))
    if col.startswith("n_"):
        cand.append("share_" + col[2:])
    return [c for c in cand if c in out]


def _secondary_in_rows(blank: pd.DataFrame, values: dict, parts: list[str], total: str) -> pd.DataFrame:
    """Rows whose parts add up to the total and have exactly one blanked part: blank the smallest
    other positive part as well (repeat while a row has exactly one)."""
    v = pd.DataFrame({c: values[c] for c in parts})
    adds_up = np.isclose(v.fillna(0).sum(axis=1), values[total].fillna(-1)) & values[total].notna()
    return _one_more(blank, v, parts, adds_up.to_numpy())


def _one_more(blank: pd.DataFrame, v: pd.DataFrame, parts: list[str], eligible: np.ndarray) -> pd.DataFrame:
    blank = blank.copy()
    b = blank[parts].to_numpy(dtype=bool, copy=True)
    vals = v[parts].to_numpy(float)
    rows = np.flatnonzero(eligible & (b.sum(axis=1) == 1))
    for i in rows:
        free = np.flatnonzero(~b[i] & (vals[i] > 0))
        if len(free):
            j = free[np.argmin(vals[i, free])]
            b[i, j] = True
    blank[parts] = b
    return blank


def _protect_matrix(out: pd.DataFrame, min_cell: int, cells: list[str]) -> pd.DataFrame:
    """A table of counts: small cells blanked; where a total row or column lets a single blanked cell
    be recomputed, the next smallest cell of that row or column too."""
    if not cells:
        return out
    v = pd.DataFrame({c: pd.to_numeric(out[c], errors="coerce").astype("float64") for c in cells}, index=out.index)
    blank = (v > 0) & (v < min_cell)
    total_cols = [c for c in cells if str(c).lower() in TOTAL_LABELS]
    inner = [c for c in cells if c not in total_cols]
    labels = out[out.columns[0]].astype(str).str.lower() if len(out.columns) else pd.Series(dtype=str)
    total_rows = labels.isin(TOTAL_LABELS).to_numpy()
    for _ in range(len(inner) + len(out)):  # each pass blanks at least one more cell, or stops
        before = int(blank.to_numpy().sum())
        if total_cols and len(inner) >= 2:
            blank = _one_more(blank, v, inner, ~total_rows)
        if total_rows.any() and (~total_rows).sum() >= 2:
            t = _one_more(blank.loc[~total_rows, inner].T, v.loc[~total_rows, inner].T,
                          list(blank.index[~total_rows]), np.ones(len(inner), dtype=bool)).T
            blank.loc[~total_rows, inner] = t
        if int(blank.to_numpy().sum()) == before:
            break
    for c in cells:
        out[c] = v[c].where(~blank[c])
    return out
