"""The design of a crossed random-intercepts model, gathered as sufficient statistics.

The data enter the fit only through per-level counts and sums, the crossed count matrices
N_kl = Z_k'Z_l (one entry per distinct pair of levels) and the small X'X, X'Z_k, Z_k'y, gathered
in one chunked pass (``CHUNK`` rows at a time), so memory and time are linear in the ratings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

CHUNK = 2_000_000  # rows per pass when gathering sufficient statistics


class CrossedModelError(ValueError):
    """The data cannot be fitted (say why in words)."""


@dataclass
class Design:
    """Sufficient statistics of y = Xβ + Σ Z_k u_k + e."""

    n: int
    names: list[str]  # fixed-effect names
    groups: list[str]  # grouping factors, largest first
    levels: list[pd.Index]  # level labels per factor
    counts: list[np.ndarray]  # ratings per level
    zty: list[np.ndarray]  # Z_k'y
    ztx: list[np.ndarray]  # Z_k'X (q_k x p)
    cross: dict[tuple[int, int], sp.csr_matrix]  # Z_k'Z_l for k < l
    xtx: np.ndarray
    xty: np.ndarray
    yty: float
    n_dropped: int = 0
    aliased: list[str] = field(default_factory=list)  # fixed effects dropped as collinear
    # not a constructor argument: dataclasses.replace(design, cross=...) starts with no transposes
    _transposed: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def cross_t(self, k: int, m: int) -> sp.spmatrix:
        """N_km' (for k < m), made once: thousands of small fits spent a tenth of their time transposing."""
        if (k, m) not in self._transposed:
            self._transposed[(k, m)] = self.cross[(k, m)].T
        return self._transposed[(k, m)]

    @property
    def p(self) -> int:
        return len(self.names)

    @property
    def q(self) -> list[int]:
        return [len(c) for c in self.counts]


def fixed_plan(columns: dict[str, pd.Series]) -> tuple[list[str], list[tuple]]:
    """Column plan of X: intercept, numeric columns as is, categoricals by treatment coding.

    The reference level of a categorical is its first level in sorted order (R's default),
    so estimates line up with lme4's. ``columns`` holds each fixed effect's values, or only its
    distinct values (what a partitioned design gathers first): the plan depends on the dtype and the
    set of levels, nothing else.
    """
    names = ["Intercept"]
    plan: list[tuple] = []
    for col, s in columns.items():
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            names.append(col)
            plan.append(("num", col, None))
        else:
            levels = sorted(pd.unique(s.dropna()).tolist(), key=str)
            if len(levels) < 2:
                raise CrossedModelError(f"fixed effect {col!r} has a single level; drop it")
            for lev in levels[1:]:
                names.append(f"{col}[T.{lev}]")
            plan.append(("cat", col, levels))
    return names, plan


def x_rows(data: pd.DataFrame, plan: list[tuple], p: int) -> np.ndarray:
    """The rows of X for ``data`` (a chunk of the ratings), by the column plan of ``fixed_plan``."""
    x = np.zeros((len(data), p))
    x[:, 0] = 1.0
    j = 1
    for kind, col, levels in plan:
        if kind == "num":
            x[:, j] = data[col].to_numpy(dtype=float)
            j += 1
        else:
            # the codes pd.Categorical gives (-1 for a value not among the levels), at a fraction of its cost
            codes = pd.Index(levels).get_indexer(data[col])
            for i in range(1, len(levels)):
                x[:, j] = codes == i
                j += 1
    return x


def check_columns(columns, response: str, groups: list[str], fixed: list[str]) -> list[str]:
    """The columns a design uses (response, groups, fixed effects), or a ``CrossedModelError`` saying
    what is wrong with the request."""
    missing = [c for c in [response, *groups, *fixed] if c not in columns]
    if missing:
        raise CrossedModelError(f"columns not in the data: {', '.join(missing)}")
    if len(groups) < 1:
        raise CrossedModelError("give at least one grouping factor")
    if len(set(groups)) != len(groups):
        raise CrossedModelError("a grouping factor is named twice")
    return [response, *groups, *fixed]


def factor_levels(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes and levels of a grouping factor: its distinct values in sorted order (``pd.factorize``),
    a categorical's used categories in their order."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.cat.remove_unused_categories()
        return np.asarray(values.cat.codes.to_numpy(), dtype=np.int64), pd.Index(values.cat.categories)
    c, lev = pd.factorize(values, sort=True)
    return np.asarray(c, dtype=np.int64), pd.Index(lev)


def cross_counts(codes: list[np.ndarray], q: list[int]) -> dict[tuple[int, int], sp.csr_matrix]:
    """N_kl = Z_k'Z_l for k < l: ratings per pair of levels."""
    n = len(codes[0]) if codes else 0
    return {(k, m): sp.csr_matrix((np.ones(n), (codes[k], codes[m])), shape=(q[k], q[m]))
            for k in range(len(codes)) for m in range(k + 1, len(codes))}


def build_design(data: pd.DataFrame, response: str, groups: list[str], fixed: list[str]) -> Design:
    """One pass over the ratings (in chunks) to the sufficient statistics."""
    cols = check_columns(data.columns, response, groups, fixed)
    complete = data[cols].notna().all(axis=1).to_numpy()
    n_dropped = int((~complete).sum())
    df = data.loc[complete, cols] if n_dropped else data[cols]
    n = len(df)
    if n == 0:
        raise CrossedModelError("no complete rows to fit")
    y = df[response].to_numpy(dtype=float)
    codes, levels = [], []
    for g in groups:
        c, lev = factor_levels(df[g])
        codes.append(c)
        levels.append(lev)
    order = sorted(range(len(groups)), key=lambda k: -len(levels[k]))  # largest factor first
    groups = [groups[k] for k in order]
    codes = [codes[k] for k in order]
    levels = [levels[k] for k in order]
    q = [len(lv) for lv in levels]
    names, plan = fixed_plan({col: df[col] for col in fixed})
    p = len(names)

    xtx = np.zeros((p, p))
    xty = np.zeros(p)
    ztx = [np.zeros((qk, p)) for qk in q]
    for start in range(0, n, CHUNK):
        sl = slice(start, min(start + CHUNK, n))
        x = x_rows(df.iloc[sl], plan, p)
        xtx += x.T @ x
        xty += x.T @ y[sl]
        for k in range(len(groups)):
            ck = codes[k][sl]
            for j in range(p):
                ztx[k][:, j] += np.bincount(ck, weights=x[:, j], minlength=q[k])
    counts = [np.bincount(c, minlength=qk).astype(float) for c, qk in zip(codes, q)]
    zty = [np.bincount(c, weights=y, minlength=qk) for c, qk in zip(codes, q)]
    return finish_design(n, names, groups, levels, counts, zty, ztx, cross_counts(codes, q), xtx, xty,
                         float(y @ y), n_dropped)


def finish_design(n: int, names: list[str], groups: list[str], levels: list[pd.Index], counts, zty, ztx, cross,
                  xtx: np.ndarray, xty: np.ndarray, yty: float, n_dropped: int) -> Design:
    """The design from its statistics, dropping (like lme4) fixed-effect columns that are linear
    combinations of earlier ones."""
    keep = _independent_columns(xtx)
    dropped = [nm for i, nm in enumerate(names) if i not in keep]
    if dropped:
        names = [names[i] for i in keep]
        xtx, xty = xtx[np.ix_(keep, keep)], xty[keep]
        ztx = [z[:, keep] for z in ztx]
    return Design(n, names, groups, levels, counts, zty, ztx, cross, xtx, xty, yty, n_dropped, dropped)


def _independent_columns(xtx: np.ndarray, tol: float = 1e-9) -> list[int]:
    """Columns of X kept when dropping each one that the earlier ones already span."""
    keep: list[int] = []
    for j in range(xtx.shape[0]):
        trial = keep + [j]
        sub = xtx[np.ix_(trial, trial)]
        scale = np.sqrt(np.outer(np.diag(sub), np.diag(sub))) + 1e-300
        if np.linalg.eigvalsh(sub / scale).min() > tol:
            keep = trial
    return keep


def connected_components(data: pd.DataFrame, first: str, second: str) -> pd.DataFrame:
    """The connected components of the bipartite graph of two crossed factors (raters and ratees).

    Effects of levels in different components are not comparable: nothing links their scales but
    the model's assumptions. One row per component, largest first: its levels of each factor and
    its rows (ratings).
    """
    d = data[[first, second]].dropna()
    a, a_levels = pd.factorize(d[first])
    b, b_levels = pd.factorize(d[second])
    n_a, n_b = len(a_levels), len(b_levels)
    graph = sp.coo_matrix((np.ones(len(d)), (a, n_a + b)), shape=(n_a + n_b, n_a + n_b))
    _, label = sp.csgraph.connected_components(graph, directed=False)
    rows = pd.Series(label[a]).value_counts()
    out = pd.DataFrame({first: pd.Series(label[:n_a]).value_counts(), second: pd.Series(label[n_a:]).value_counts(),
                        "rows": rows}).fillna(0).astype(int)
    return out.sort_values("rows", ascending=False).reset_index(drop=True).rename_axis("component")
