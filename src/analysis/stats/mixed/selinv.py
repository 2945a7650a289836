"""Selected inversion: the elements of S⁻¹ on the sparsity pattern of S's sparse Cholesky factor.

Prediction variances need diag(S⁻¹) (raters) and b'S⁻¹b for sparse b (each person: the raters who
rated them, all adjacent in S). Both use only elements of S⁻¹ on the pattern of the factor L, and
those follow from L alone by the Takahashi recurrences (Takahashi, Fagan & Chin 1973; Erisman &
Tinney 1975), working from the last column back:

    Z[S_j, j] = -Z[S_j, S_j] L[S_j, j],   Z_jj = 1/D_j - L[S_j, j]' Z[S_j, j],

where S_j are the rows below the diagonal in column j of L (S = L D L'). Every Z element needed is
on the pattern (it is chordal), so the cost is about Σ_j |S_j|² and the memory that of L: exact, and
cheap when the design has a sparse factor, as team-structured 360 designs do (raters of one team
couple tightly, teams loosely). The factor comes from SuperLU with a symmetric minimum-degree
ordering and no pivoting (S is positive definite). ``SelectedInverse.work`` says what it would cost,
so that the caller can choose another method for designs whose factor fills in.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import reverse_cuthill_mckee
from scipy.sparse.linalg import splu

from analysis.stats.mixed.ordering import inverse


class SelectedInverse:
    """S⁻¹ on the pattern of its factor: ``diagonal()`` and ``row_quadratic(B)`` = diag(B S⁻¹ B')."""

    def __init__(self, s: sp.spmatrix):
        s = sp.csc_matrix(s)
        self.n = s.shape[0]
        lu = splu(s, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                  options={"SymmetricMode": True})
        if not np.array_equal(lu.perm_r, lu.perm_c):
            raise np.linalg.LinAlgError("the factorisation pivoted: S is not positive definite")
        # P S P' = L U with U = D L'; position of original row i in the factor: perm[i]
        self.perm = lu.perm_c
        self.d = lu.U.diagonal().copy()
        if np.any(self.d <= 0):
            raise np.linalg.LinAlgError("S is not positive definite")
        low = sp.tril(lu.L, -1).tocsc()
        low.sort_indices()
        self.low = low
        counts = np.diff(low.indptr).astype(np.float64)
        self.work = float((counts ** 2).sum())  # Takahashi cost, in multiply-adds
        self.nnz = int(low.nnz)
        self._z: np.ndarray | None = None
        self._zdiag: np.ndarray | None = None

    def _keys(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return cols.astype(np.int64) * self.n + rows.astype(np.int64)

    def compute(self) -> None:
        """Run the recurrences (once)."""
        if self._z is not None:
            return
        low, n = self.low, self.n
        indptr, indices, data = low.indptr, low.indices, low.data
        col_of = np.repeat(np.arange(n), np.diff(indptr))
        keys = self._keys(indices, col_of)  # sorted: by column, then row
        z = np.zeros(low.nnz)
        zdiag = np.zeros(n)
        for j in range(n - 1, -1, -1):
            a, b = indptr[j], indptr[j + 1]
            if a == b:
                zdiag[j] = 1.0 / self.d[j]
                continue
            rows, lv = indices[a:b], data[a:b]
            m = b - a
            sub = np.empty((m, m))
            sub[np.arange(m), np.arange(m)] = zdiag[rows]
            if m > 1:
                ii, kk = np.triu_indices(m, 1)  # pairs (rows[ii] < rows[kk]): Z[rows[kk], rows[ii]]
                vals = z[np.searchsorted(keys, self._keys(rows[kk], rows[ii]))]
                sub[ii, kk] = vals
                sub[kk, ii] = vals
            zj = -(sub @ lv)
            z[a:b] = zj
            zdiag[j] = 1.0 / self.d[j] - lv @ zj
        self._z, self._zdiag, self._keysorted = z, zdiag, keys

    def diagonal(self) -> np.ndarray:
        """diag(S⁻¹) in the original order."""
        self.compute()
        return self._zdiag[self.perm]

    def row_quadratic(self, b: sp.spmatrix) -> np.ndarray:
        """b_i' S⁻¹ b_i for every row i of ``b``; each row's columns must be adjacent in S."""
        self.compute()
        b = sp.csr_matrix(b)
        rows_of = np.repeat(np.arange(b.shape[0]), np.diff(b.indptr))
        cols = self.perm[b.indices]
        out = np.bincount(rows_of, weights=b.data ** 2 * self._zdiag[cols], minlength=b.shape[0])
        # off-diagonal pairs within each row, looked up on the factor's pattern
        deg = np.diff(b.indptr)
        for start in range(0, b.shape[0], 20_000):
            stop = min(start + 20_000, b.shape[0])
            r_i, p, q = _row_pairs(b.indptr[start:stop + 1], deg[start:stop], start)
            if not len(p):
                continue
            ci, cj = cols[p], cols[q]
            lo, hi = np.minimum(ci, cj), np.maximum(ci, cj)
            keys = self._keys(hi, lo)
            pos = np.searchsorted(self._keysorted, keys)
            pos = np.minimum(pos, len(self._keysorted) - 1)
            if not np.array_equal(self._keysorted[pos], keys):
                raise ValueError("row_quadratic: a pair of columns is not adjacent in S")
            out += 2 * np.bincount(r_i, weights=b.data[p] * b.data[q] * self._z[pos], minlength=b.shape[0])
        return out


def _row_pairs(indptr: np.ndarray, deg: np.ndarray, first_row: int) -> tuple[np.ndarray, ...]:
    """For each row, every pair (p < q) of its stored positions: (row, p, q)."""
    rows, ps, qs = [], [], []
    for d in np.unique(deg[deg > 1]):
        ii, kk = np.triu_indices(int(d), 1)
        sel = np.flatnonzero(deg == d)
        rows.append(np.repeat(sel + first_row, len(ii)))
        ps.append((indptr[sel][:, None] + ii[None, :]).ravel())
        qs.append((indptr[sel][:, None] + kk[None, :]).ravel())
    if not rows:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0, int)
    return np.concatenate(rows), np.concatenate(ps), np.concatenate(qs)


def envelope_size(s: sp.spmatrix) -> int:
    """Entries in the envelope of ``s`` under a reverse Cuthill-McKee ordering: a bound on the fill of
    its Cholesky factor (a minimum-degree ordering does no worse on the designs met here), found
    without factorising."""
    s = sp.csr_matrix(s)
    perm = reverse_cuthill_mckee(s, symmetric_mode=True)
    pos = inverse(perm)
    coo = s.tocoo()
    first = np.full(s.shape[0], s.shape[0])
    np.minimum.at(first, pos[coo.row], pos[coo.col])
    return int(np.maximum(np.arange(s.shape[0]) - np.minimum(first, np.arange(s.shape[0])), 0).sum())
