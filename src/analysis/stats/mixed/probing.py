"""The diagonal of M⁻¹ on the iterative path, by probing with a colouring of the design's graph.

Each level's prediction variance is a diagonal element of M⁻¹ (M = ΛZ'ZΛ + I). The large off-diagonal
elements of M⁻¹ are between levels that meet in the data: two raters who rated the same person, two
people rated by the same rater. Colour the levels so that no two such levels share a colour (a greedy
colouring of the graph of shared factor-0 levels, and of shared raters for factor 0); then one solve
per colour, with a random sign on each level of the colour, gives for every level its diagonal element
plus a signed sum over same-coloured levels that never met, whose elements of M⁻¹ are small
(Tang & Saad 2012, "A probing method for computing the diagonal of a matrix inverse"). The random
signs make that remainder average to zero: the estimate is unbiased, and ``reps`` independent sign
draws give its standard error. A level whose colour has one or two other members can draw the same
signs every time, so the error is pooled over a group's levels (relative to each estimate) rather
than taken level by level. Factors with few levels get a unit vector per level: exact.

Why not the Jacobi approximation 1/diag(S) scaled to the trace: on team-structured 360 designs its
ratio to the exact variance ranged 0.87-1.16 (a rater's teammates carry much of their uncertainty),
enough to change lenient/severe flags.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

CHUNK = 64  # probe columns solved together (memory: a few times rows x CHUNK doubles)
# ... and at most this many bytes per block of them: the solver holds several such blocks at once, and at
# national size (2.6 million raters) 64 columns would be 1.3 GB each. Up to 524,288 rows the bound leaves
# CHUNK as it is (the 500,000-employee synthetic country has 291,669 ratees and 275,081 raters).
BLOCK_BYTES = 256 * 2 ** 20
MIN_CHUNK = 8


def chunk_columns(n: int, block_bytes: int = BLOCK_BYTES) -> int:
    """Probe columns per solve for ``n`` rows: CHUNK, fewer where a block would pass ``block_bytes``."""
    return max(MIN_CHUNK, min(CHUNK, block_bytes // (8 * max(n, 1))))


def greedy_colouring(adj: sp.csr_matrix) -> np.ndarray:
    """Colours such that adjacent nodes differ (largest degree first; ties by index)."""
    adj = adj.tocsr()
    n = adj.shape[0]
    colour = np.full(n, -1, dtype=np.int64)
    degree = np.diff(adj.indptr)
    indptr, indices = adj.indptr, adj.indices
    for v in np.lexsort((np.arange(n), -degree)):
        used = colour[indices[indptr[v]:indptr[v + 1]]]
        used = used[used >= 0]
        if not len(used):
            colour[v] = 0
            continue
        taken = np.zeros(len(used) + 1, dtype=bool)
        taken[used[used <= len(used)]] = True
        colour[v] = int(np.argmin(taken))
    return colour


def pattern(a: sp.spmatrix) -> sp.csr_matrix:
    """The sparsity pattern of ``a`` as 0/1 (int8), without the diagonal."""
    p = sp.csr_matrix(a, copy=True)
    p.data = np.ones_like(p.data, dtype=np.int8)
    p.setdiag(0)
    p.eliminate_zeros()
    return p


def probe_diagonal(solve: Callable[[np.ndarray], np.ndarray], n: int, groups: list[np.ndarray],
                   colours: list[np.ndarray], reps: int, seed: int,
                   block_bytes: int = BLOCK_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """Estimate diag(X) on the rows of ``groups`` where ``solve(P)`` returns X @ P (n x c), for blocks of
    ``chunk_columns(n, block_bytes)`` columns.

    ``groups[g]`` are row indices probed together with colours ``colours[g]`` (-1: a unit vector of
    its own, exact). Returns (estimate, standard error) per row of ``n`` (NaN outside the groups); the
    standard error is the group's pooled relative error times the estimate (0 where exact).
    """
    rng = np.random.default_rng(seed)
    est = np.full((reps, n), np.nan)
    exact = np.zeros(n, dtype=bool)
    columns: list[tuple[np.ndarray, np.ndarray, int]] = []  # (rows, signs, rep)
    for rows, col in zip(groups, colours):
        unit = rows[col < 0]
        exact[unit] = True
        columns += [(np.array([r]), np.ones(1), -1) for r in unit]
        rows, col = rows[col >= 0], col[col >= 0]
        if not len(rows):
            continue
        order = np.argsort(col, kind="stable")
        rows, col = rows[order], col[order]
        cuts = np.flatnonzero(np.r_[True, col[1:] != col[:-1], True])
        for rep in range(reps):
            signs = rng.choice([-1.0, 1.0], size=len(rows))
            columns += [(rows[a:b], signs[a:b], rep) for a, b in zip(cuts[:-1], cuts[1:])]
    width = chunk_columns(n, block_bytes)
    for start in range(0, len(columns), width):
        block = columns[start:start + width]
        p = np.zeros((n, len(block)))
        for j, (rows, signs, _) in enumerate(block):
            p[rows, j] = signs
        y = solve(p)
        for j, (rows, signs, rep) in enumerate(block):
            val = signs * y[rows, j]
            if rep < 0:
                est[:, rows] = val
            else:
                est[rep, rows] = val
    mean = est.mean(axis=0)
    se = np.full(n, np.nan)
    se[exact] = 0.0
    for rows in groups:
        rows = rows[~exact[rows]]
        if len(rows) and reps > 1:
            rel_var = (est[:, rows].var(axis=0, ddof=1) / np.maximum(mean[rows], 1e-300) ** 2).mean()
            se[rows] = np.sqrt(rel_var / reps) * np.abs(mean[rows])
    return mean, se
