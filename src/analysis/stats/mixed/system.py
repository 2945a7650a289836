"""The penalised system A(θ) of the crossed model and the REML/ML criterion with its gradient.

The block of the factor with most levels is diagonal and is eliminated exactly; S is the Schur
complement over the other factors' levels and the fixed effects (see ``analysis.stats.mixed``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from analysis.stats.mixed.design import CrossedModelError, Design
from analysis.stats.mixed.ordering import LOCAL_ORDER_MIN_LEVELS, LocalOrder, local_order


@dataclass
class Pieces:
    """What one evaluation at θ produces."""

    logdet_a: float
    logdet_rx: float
    q_pen: float  # penalised residual sum of squares r²
    z: np.ndarray  # solution: [v_0 | v_rest | β] (v = spherical random effects)
    traces: np.ndarray  # tr(A⁻¹_kk) per factor
    traces_m: np.ndarray | None  # tr(M⁻¹_kk) per factor (random part only, for ML)
    sinv: np.ndarray | None = None  # S⁻¹ (dense path), lower triangle only: use full_sinv()
    factor: tuple | None = None  # (w, B_r, B_x, chol S, B_r'): to solve more right-hand sides (dense path)


def full_sinv(pieces: "Pieces") -> np.ndarray:
    """The whole symmetric S⁻¹ from the lower triangle an evaluation keeps."""
    low = np.tril(pieces.sinv)
    return low + np.tril(low, -1).T


class System:
    """Blocks of A(θ) with factor 0 eliminated; S over [rest random | fixed]."""

    def __init__(self, d: Design):
        self.d = d
        self.K = len(d.groups)
        self.q = d.q
        self.R = sum(self.q[1:])
        self.offs = np.cumsum([0] + self.q[1:])  # offsets of the rest factors inside S
        self.size = self.R + d.p
        # B_r (unscaled): [N_01 | N_02 | ...] (q0 x R); its Λ scaling is applied per evaluation
        if self.K > 1:
            self.n0r = sp.hstack([d.cross[(0, m)] for m in range(1, self.K)]).tocsr()
        else:
            self.n0r = sp.csr_matrix((self.q[0], 0))
        self.n0r_t = self.n0r.T  # made once (it is used at every evaluation)
        self.rhs = np.concatenate([d.zty[0]] + [d.zty[m] for m in range(1, self.K)] + [d.xty])
        # N'diag(w)N is needed at every evaluation. A sparse product costs about Σ_i deg_i²
        # scattered updates, a dense BLAS product q0·R² fused multiply-adds (~150x cheaper each):
        # keep a dense copy of N when that is the cheaper route (and it fits).
        deg = np.diff(self.n0r.tocsr().indptr).astype(np.float64)
        sparse_cost = 150.0 * float((deg ** 2).sum())
        dense_cost = float(self.q[0]) * self.R ** 2
        dense_ok = self.R and self.q[0] * self.R <= 30_000_000 and dense_cost < sparse_cost
        self.n0r_dense = self.n0r.toarray() if dense_ok else None

    @functools.cached_property
    def local_order(self) -> LocalOrder | None:
        """The order the iterative solver's products run in (``ordering``), found once per design; None
        below ``LOCAL_ORDER_MIN_LEVELS`` rest levels (code order)."""
        return local_order(self.n0r) if self.R >= LOCAL_ORDER_MIN_LEVELS else None

    def ntwn(self, weights: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Dense B' diag(weights) B over the rest levels (B = Λ-scaled N_0r)."""
        s = theta[0] * self.theta_vec_rest(theta)
        if self.n0r_dense is not None:
            half = self.n0r_dense * np.sqrt(weights)[:, None]
            out = half.T @ half
        else:
            out = (self.n0r_t @ self.n0r.multiply(weights[:, None]).tocsr()).toarray()
        return out * s[:, None] * s[None, :]

    def theta_vec_rest(self, theta: np.ndarray) -> np.ndarray:
        return np.concatenate([np.full(self.q[m], theta[m]) for m in range(1, self.K)]) if self.K > 1 \
            else np.zeros(0)

    def a_ss(self, theta: np.ndarray) -> np.ndarray:
        """Dense A_ss: rest random levels then fixed effects."""
        d, R = self.d, self.R
        a = np.zeros((self.size, self.size))
        for i, m in enumerate(range(1, self.K)):
            o = self.offs[i]
            qm = self.q[m]
            a[o:o + qm, o:o + qm] += np.diag(theta[m] ** 2 * d.counts[m] + 1.0)
            for j, l in enumerate(range(m + 1, self.K)):
                o2 = self.offs[i + 1 + j]
                block = theta[m] * theta[l] * d.cross[(m, l)].toarray()
                a[o:o + qm, o2:o2 + self.q[l]] = block
                a[o2:o2 + self.q[l], o:o + qm] = block.T
            a[o:o + qm, R:] = theta[m] * d.ztx[m]
            a[R:, o:o + qm] = (theta[m] * d.ztx[m]).T
        a[R:, R:] = d.xtx
        return a

    def schur_random(self, theta: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Schur complement of M (random effects only, no X) over the rest factors."""
        R = self.R
        a = self.a_ss(theta)[:R, :R]
        return a - self.ntwn(w, theta)

    def b_dense_parts(self, theta: np.ndarray):
        """B = A_bs as (sparse random part, dense fixed part), both q0 rows."""
        tr = self.theta_vec_rest(theta)
        br = self.n0r @ sp.diags(theta[0] * tr) if self.R else self.n0r
        bx = theta[0] * self.d.ztx[0]
        return br.tocsr(), bx

    def evaluate(self, theta: np.ndarray, need_ml: bool = False) -> Pieces:
        d, R = self.d, self.R
        theta = np.asarray(theta, dtype=float)
        w = 1.0 / (theta[0] ** 2 * d.counts[0] + 1.0)
        br, bx = self.b_dense_parts(theta)
        brt = br.T  # once per evaluation: thousands of small fits spent a tenth of their time transposing
        # S = A_ss - B' W B
        s = self.a_ss(theta)
        if R:
            s[:R, :R] -= self.ntwn(w, theta)
            brwbx = brt @ (w[:, None] * bx)
            s[:R, R:] -= brwbx
            s[R:, :R] -= brwbx.T
        s[R:, R:] -= bx.T @ (w[:, None] * bx)
        chol, info = lapack.dpotrf(s, lower=1, clean=1, overwrite_a=0)
        if info != 0:
            raise CrossedModelError("the mixed-model equations are singular at these parameters")
        ld = np.log(np.diag(chol))
        logdet_a = float(np.sum(np.log(1.0 / w)) + 2 * ld.sum())
        logdet_rx = float(2 * ld[R:].sum())
        # solve A z = rhs with the Λ-scaled right-hand side
        scale = np.concatenate([np.full(self.q[0], theta[0]), self.theta_vec_rest(theta), np.ones(d.p)])
        rhs = scale * self.rhs
        rb, rs = rhs[:self.q[0]], rhs[self.q[0]:]
        bt_w_rb = np.concatenate([brt @ (w * rb), bx.T @ (w * rb)]) if R else bx.T @ (w * rb)
        zs = lapack.dpotrs(chol, rs - bt_w_rb, lower=1)[0]
        bz = (br @ zs[:R] if R else 0.0) + bx @ zs[R:]
        zb = w * (rb - bz)
        z = np.concatenate([zb, zs])
        q_pen = float(d.yty - z @ rhs)
        # traces of A⁻¹ blocks: S⁻¹ gives the rest factors; factor 0 by the Schur identity
        # S⁻¹ in its lower triangle (symmetrised only when a result needs the whole of it)
        sinv = lapack.dpotri(chol, lower=1)[0]
        traces = np.empty(self.K)
        for i, m in enumerate(range(1, self.K)):
            o = self.offs[i]
            traces[m] = np.trace(sinv[o:o + self.q[m], o:o + self.q[m]])
        g = self._g_matrix(brt, bx, w, theta)  # B' W² B
        lower_sum = float(np.sum(sinv * g))  # the upper triangle is zero (potrf with clean=1)
        traces[0] = w.sum() + 2 * lower_sum - float(np.diag(sinv) @ np.diag(g))
        traces_m = None
        if need_ml:
            traces_m = np.empty(self.K)
            if R:
                cr = chol[:R, :R]
                minv = lapack.dpotri(cr, lower=1)[0]
                minv = np.tril(minv) + np.tril(minv, -1).T
                for i, m in enumerate(range(1, self.K)):
                    o = self.offs[i]
                    traces_m[m] = np.trace(minv[o:o + self.q[m], o:o + self.q[m]])
                traces_m[0] = w.sum() + float(np.sum(minv * g[:R, :R]))
            else:
                traces_m[0] = w.sum()
        return Pieces(logdet_a, logdet_rx, q_pen, z, traces, traces_m, sinv, (w, br, bx, chol, brt))

    def solve(self, factor: tuple, rhs: np.ndarray) -> np.ndarray:
        """A⁻¹ rhs for a matrix of right-hand sides (ordering: factor 0, rest, fixed)."""
        w, br, bx, chol, brt = factor
        q0, R = self.q[0], self.R
        rb, rs = rhs[:q0], rhs[q0:]
        wrb = w[:, None] * rb
        bt = np.vstack([brt @ wrb, bx.T @ wrb]) if R else bx.T @ wrb
        zs = lapack.dpotrs(chol, rs - bt, lower=1)[0]
        bz = (br @ zs[:R] if R else 0.0) + bx @ zs[R:]
        return np.vstack([w[:, None] * (rb - bz), zs])

    def _g_matrix(self, brt, bx, w, theta) -> np.ndarray:
        R = self.R
        g = np.zeros((self.size, self.size))
        w2 = w * w
        if R:
            g[:R, :R] = self.ntwn(w2, theta)
            cross = brt @ (w2[:, None] * bx)
            g[:R, R:] = cross
            g[R:, :R] = cross.T
        g[R:, R:] = bx.T @ (w2[:, None] * bx)
        return g


# --- criterion and its gradient --------------------------------------------------


def criterion(sysm: System, theta: np.ndarray, reml: bool) -> tuple[float, np.ndarray, Pieces]:
    d = sysm.d
    pieces = sysm.evaluate(theta, need_ml=not reml)
    dof = d.n - d.p if reml else d.n
    sigma2 = pieces.q_pen / dof
    if reml:
        f = pieces.logdet_a + dof * (1 + np.log(2 * np.pi * sigma2))
        tr = pieces.traces
    else:
        f = (pieces.logdet_a - pieces.logdet_rx) + dof * (1 + np.log(2 * np.pi * sigma2))
        tr = pieces.traces_m
    grad = np.zeros(sysm.K)
    v = split_v(sysm, pieces.z)
    for k in range(sysm.K):
        if theta[k] > 1e-10:
            grad[k] = 2.0 / theta[k] * (sysm.q[k] - tr[k] - v[k] @ v[k] / sigma2)
    return float(f), grad, pieces


def split_v(sysm: System, z: np.ndarray) -> list[np.ndarray]:
    out = [z[:sysm.q[0]]]
    base = sysm.q[0]
    for m in range(1, sysm.K):
        out.append(z[base:base + sysm.q[m]])
        base += sysm.q[m]
    return out


def start_values(d: Design) -> np.ndarray:
    """Moment-style start: share of the variance between level means of each factor."""
    ybar = d.xty[0] / d.n
    total = max(d.yty / d.n - ybar ** 2, 1e-12)
    th = []
    for c, s in zip(d.counts, d.zty):
        means = s / np.maximum(c, 1)
        between = np.average((means - ybar) ** 2, weights=c)
        within = max(total - between, 1e-3 * total)
        th.append(np.sqrt(max(between - within / max(np.mean(c), 1), 0.05 * within) / within))
    return np.array(th)
