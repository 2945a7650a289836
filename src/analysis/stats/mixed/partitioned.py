"""The crossed model's design gathered from a partitioned table (a Dask DataFrame: ``engine: dask``).

The fit needs the ratings only through the design's sufficient statistics (``design``): per-level
counts and sums, the crossed counts N_kl, X'X, X'y, Z_k'X and y'y. They are gathered in two passes
over the partitions, each partition on its worker:

1. the distinct values of every categorical fixed effect, in the complete rows (a handful each: aspects,
   rater roles, periods), so that the columns of X are the ones a single pass over the whole table gives;
2. each partition's statistics, for the levels of the grouping factors that occur in it, which it names
   (a partition of one region sends its own raters and ratees, not arrays over every level in the
   country). The client takes every partition's levels together, sorted as one machine sorts them, and
   adds each partition's statistics at its levels' places.

Nothing of the levels goes out with the tasks: sending every rater's and ratee's code to the workers
made a 14 MiB task graph at 500,000 employees, and a pass of its own to find them all.

Afterwards nothing scales with the ratings: the optimisation runs on the client as on one machine
(``fit``), on the same ``Design``. Counts and the sums of 0/1 columns are whole numbers, added exactly
in any order; so are the sums of the response when it is whole numbers, as 360 scores are. Then the
design, and so the fit, is the one machine's to the last bit (tests/stats/test_mixed_partitioned.py).
A response with fractions gives sums that differ from one machine's in the last bits (the order of
addition), well below the solver's tolerance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from analysis.stats.mixed.design import (
    CHUNK,
    CrossedModelError,
    Design,
    check_columns,
    factor_levels,
    finish_design,
    fixed_plan,
    x_rows,
)

# what Dask puts among a categorical's categories when it does not know them
UNKNOWN_CATEGORIES = "__UNKNOWN_CATEGORIES__"


def build_design_partitioned(frame, response: str, groups: list[str], fixed: list[str]) -> Design:
    """``design.build_design`` on a Dask DataFrame (see the module docstring)."""
    import dask

    cols = check_columns(frame.columns, response, groups, fixed)
    part = frame[cols]
    complete = part.dropna()
    meta = part._meta
    categorical = [c for c in fixed if not (pd.api.types.is_numeric_dtype(meta[c])
                                            and not pd.api.types.is_bool_dtype(meta[c]))]
    for c in [*groups, *categorical]:  # refused before any pass over the data
        _check_known_categories(meta[c])
    n_rows, n, *distinct = dask.compute(part.map_partitions(len).sum(), complete.map_partitions(len).sum(),
                                        *[complete[c].drop_duplicates(split_out=1) for c in categorical])
    if n == 0:
        raise CrossedModelError("no complete rows to fit")
    values = {c: _typed(v, meta[c]) for c, v in zip(categorical, distinct)}
    names, plan = fixed_plan({c: (values[c] if c in values else meta[c]) for c in fixed})
    p = len(names)

    parts = dask.compute(*partition_tasks(complete, response, groups, plan, p))
    # the levels: every partition's own, together (each level once per partition it occurs in)
    levels = [factor_levels(_typed(pd.concat([pd.Series(st["levels"][k][0]) for st in parts], ignore_index=True),
                                   meta[g]))[1] for k, g in enumerate(groups)]
    order = sorted(range(len(groups)), key=lambda k: -len(levels[k]))  # largest factor first
    rank = {k: i for i, k in enumerate(order)}
    groups = [groups[k] for k in order]
    levels = [levels[k] for k in order]
    q = [len(lv) for lv in levels]
    counts = [np.zeros(qk) for qk in q]
    zty = [np.zeros(qk) for qk in q]
    ztx = [np.zeros((qk, p)) for qk in q]
    xtx, xty, yty = np.zeros((p, p)), np.zeros(p), 0.0
    pairs: dict[tuple[int, int], list] = {(k, m): [] for k in range(len(q)) for m in range(k + 1, len(q))}
    for st in parts:
        xtx += st["xtx"]
        xty += st["xty"]
        yty += st["yty"]
        at = {}  # per factor (in the partition's order of the groups): its levels' positions among all levels
        for k0, (found, c, zy, zx) in enumerate(st["levels"]):
            k = rank[k0]
            at[k0] = np.asarray(levels[k].get_indexer(_typed(pd.Series(found), meta[groups[k]])), dtype=np.int64)
            if (at[k0] < 0).any():  # a value the levels lack would be added at the last level, silently
                raise CrossedModelError(f"column {groups[k]!r}: a partition has values that are not among its "
                                        "levels (a partition's type differs from the frame's)")
            counts[k][at[k0]] += c  # each level once per partition: no repeated index in ``at``
            zty[k][at[k0]] += zy
            ztx[k][at[k0]] += zx
        for (a, b), (rows, cols_, n_pair) in st["pairs"].items():
            if rank[a] < rank[b]:
                pairs[(rank[a], rank[b])].append((at[a][rows], at[b][cols_], n_pair))
            else:
                pairs[(rank[b], rank[a])].append((at[b][cols_], at[a][rows], n_pair))
    cross = {}
    for (k, m), found in pairs.items():
        rows = np.concatenate([f[0] for f in found]) if found else np.zeros(0, np.int64)
        cols_ = np.concatenate([f[1] for f in found]) if found else np.zeros(0, np.int64)
        vals = np.concatenate([f[2] for f in found]) if found else np.zeros(0)
        cross[(k, m)] = sp.csr_matrix((vals, (rows, cols_)), shape=(q[k], q[m]))
    return finish_design(int(n), names, groups, levels, counts, zty, ztx, cross, xtx, xty, float(yty),
                         int(n_rows - n))


def partition_tasks(complete, response: str, groups: list[str], plan: list[tuple], p: int) -> list:
    """One delayed ``_partition_statistics`` per partition of ``complete``. Nothing of the levels goes
    with a task: each partition names its own levels and the client places them. (Sending every level
    with the tasks made a 14 MiB graph of 10 tasks at 500,000 employees; as one key of the graph that
    every task read, still 14 MiB, growing with the country.)"""
    import dask

    return [dask.delayed(_partition_statistics)(d, response, groups, plan, p) for d in complete.to_delayed()]


def _typed(found: pd.Series, meta: pd.Series) -> pd.Series:
    """Values found in a column (distinct, or every partition's distinct ones together) with the column's
    dtype (a categorical keeps its categories, so its levels come in their order, as on one machine)."""
    values = pd.Series(found.to_numpy() if not isinstance(found.dtype, pd.CategoricalDtype)
                       else found.astype(object).to_numpy())
    if isinstance(meta.dtype, pd.CategoricalDtype):
        _check_known_categories(meta)
        if (values.notna() & ~values.isin(meta.cat.categories)).any():
            raise CrossedModelError(f"column {meta.name!r}: a partition has values that are not among its "
                                    "categories (a partition's type differs from the frame's)")
        return pd.Series(pd.Categorical(values, categories=meta.cat.categories, ordered=meta.cat.ordered))
    return values.astype(meta.dtype)


def _check_known_categories(meta: pd.Series) -> None:
    if isinstance(meta.dtype, pd.CategoricalDtype) and UNKNOWN_CATEGORIES in meta.cat.categories:
        raise CrossedModelError(f"column {meta.name!r} is categorical with categories Dask does not know "
                                "(its order decides the levels): give it known categories (.cat.as_known())")


def _partition_statistics(df: pd.DataFrame, response: str, groups: list[str], plan: list[tuple], p: int) -> dict:
    """One partition's statistics, each factor's for the levels that occur in it: (those levels, their
    counts, Z'y, Z'X), and the crossed counts as (row, column, count) triples over those levels."""
    y = df[response].to_numpy(dtype=float)
    xtx, xty = np.zeros((p, p)), np.zeros(p)
    local = []
    for g in groups:
        inv, found = pd.factorize(df[g], sort=False)
        local.append((np.asarray(found), np.asarray(inv, dtype=np.int64)))
    ztx = [np.zeros((len(u), p)) for u, _ in local]
    for start in range(0, len(df), CHUNK):
        sl = slice(start, min(start + CHUNK, len(df)))
        x = x_rows(df.iloc[sl], plan, p)
        xtx += x.T @ x
        xty += x.T @ y[sl]
        for k, (u, inv) in enumerate(local):
            for j in range(p):
                ztx[k][:, j] += np.bincount(inv[sl], weights=x[:, j], minlength=len(u))
    out_levels = [(u, np.bincount(inv, minlength=len(u)).astype(float), np.bincount(inv, weights=y, minlength=len(u)),
                   zx) for (u, inv), zx in zip(local, ztx)]
    pairs = {}
    for k in range(len(local)):
        for m in range(k + 1, len(local)):
            width = max(len(local[m][0]), 1)  # a partition without complete rows has no levels
            key, n_pair = np.unique(local[k][1] * width + local[m][1], return_counts=True)
            pairs[(k, m)] = (key // width, key % width, n_pair.astype(float))
    return {"xtx": xtx, "xty": xty, "yty": float(y @ y), "levels": out_levels, "pairs": pairs}
