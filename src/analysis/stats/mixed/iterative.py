"""The iterative path of ``fit_crossed``, for designs too large to factorise.

Everything is done with sparse products over the distinct pairs of levels, so
one sweep costs time linear in the data:

- Solves with M = ΛZ'ZΛ + I eliminate the largest factor exactly (its block is
  diagonal) and run block preconditioned conjugate gradients (Jacobi
  preconditioner) on the Schur complement over the other factors.
- β and the fixed-effect correction to the traces are exact: they come from
  p extra solves (F = M⁻¹ΛZ'X), so that A⁻¹ = M⁻¹ + F (R_X'R_X)⁻¹ F' on the
  random block.
- tr(M⁻¹_kk) is estimated with Hutchinson's estimator on fixed Rademacher
  probes (common random numbers across iterations, so the estimating equations
  are a smooth, deterministic function of θ); its Monte Carlo standard error
  is reported.
- The REML (or ML) estimating equations are solved by the EM fixed point
  γ_k ← γ_k (v_k'v_k/σ² + t_k)/q_k, accelerated with SQUAREM (Varadhan &
  Roland 2008), which converges in a handful of cycles because for large
  designs the fraction of missing information is small.

Standard errors of individual levels: at the optimum, diag(M⁻¹) is estimated by
probing with a colouring of the design's graph (``probing``), with its Monte Carlo
error reported per factor (``level_variance_rel_se``), plus the exact fixed-effect
part. During the iterations a cheap Jacobi approximation (scaled to the Hutchinson
trace) stands in; nothing in the estimating equations depends on it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from analysis.stats.mixed.design import CrossedModelError
from analysis.stats.mixed.probing import greedy_colouring, pattern, probe_diagonal
from analysis.stats.mixed.selinv import SelectedInverse, envelope_size
from analysis.stats.mixed.system import Pieces, System, start_values


class MOperator:
    """M(θ) with factor 0 eliminated: S_M z = diag z + C z - B'(w ∘ B z)."""

    def __init__(self, sysm: System, theta: np.ndarray):
        d = sysm.d
        self.sysm, self.theta = sysm, theta
        self.w = 1.0 / (theta[0] ** 2 * d.counts[0] + 1.0)
        self.br, _ = sysm.b_dense_parts(theta)
        R = sysm.R
        if R:
            self.diag_r = np.concatenate([theta[m] ** 2 * d.counts[m] + 1.0 for m in range(1, sysm.K)])
            blocks = [[None] * (sysm.K - 1) for _ in range(sysm.K - 1)]
            for i, m in enumerate(range(1, sysm.K)):
                for j, l in enumerate(range(1, sysm.K)):
                    if l > m:
                        b = theta[m] * theta[l] * d.cross[(m, l)]
                        blocks[i][j], blocks[j][i] = b, b.T
                    elif l == m:
                        blocks[i][j] = sp.csr_matrix((sysm.q[m], sysm.q[m]))
            self.c_rr = sp.bmat(blocks).tocsr()
            self.brt = self.br.T.tocsr()
            self.pdiag = self.diag_r - np.asarray(self.br.multiply(self.br).T @ self.w).ravel()
        self.matvecs = 0
        # the products in the design's local order (``ordering``) on large designs, else in code order
        self.order = sysm.local_order  # None below its size (and without rest levels)
        self.local = _LocalBlocks(self, sysm, theta) if self.order is not None else None

    def bt(self, y: np.ndarray) -> np.ndarray:
        """B_r' y (y over factor 0's levels), in code order."""
        if self.order is None:
            return self.brt @ y
        return (self.local.brt @ y[self.order.p0])[self.order.inv_r]

    def b(self, x: np.ndarray) -> np.ndarray:
        """B_r x (x over the rest levels), in code order."""
        if self.order is None:
            return self.br @ x
        return (self.local.br @ x[self.order.pr])[self.order.inv0]

    def pcg(self, rhs: np.ndarray, x0: np.ndarray | None, tol: float, maxiter: int = 2000) -> np.ndarray:
        """Solve S_M X = rhs (R x c) by block PCG, in code order; on a large design the iterations run in
        its local order (``ordering``)."""
        if self.order is None:
            return self._pcg(self, rhs, x0, tol, maxiter)
        pr = self.order.pr
        x = self._pcg(self.local, rhs[pr], None if x0 is None else x0[pr], tol, maxiter)
        return x[self.order.inv_r]

    def _pcg(self, blocks, rhs: np.ndarray, x0: np.ndarray | None, tol: float, maxiter: int) -> np.ndarray:
        """Block PCG on ``blocks`` (this operator, or its local blocks): every column is an independent
        system, iterated together in place.

        All columns are stepped until the last one converges (they converge at much the same
        rate); stepping a converged column is harmless and avoids copying column subsets.
        """

        # buffers of the iteration's vectors, allocated once: at 500,000 employees each is 35-140 MB, and a
        # fresh one per step is a fresh mapping of zeroed pages from the system
        ap, step = np.empty_like(rhs), np.empty_like(rhs)

        def apply(v):
            self.matvecs += v.shape[1]
            return _apply(blocks, v, ap)

        x = np.zeros_like(rhs) if x0 is None else x0.copy()
        r = rhs - apply(x)
        pinv = (1.0 / blocks.pdiag)[:, None]
        z = pinv * r
        p = z.copy()
        rz = np.einsum("ij,ij->j", r, z)
        norm_b = np.maximum(np.linalg.norm(rhs, axis=0), 1e-300)
        for _ in range(maxiter):
            if np.all(np.sqrt(np.einsum("ij,ij->j", r, r)) <= tol * norm_b):
                return x
            apply(p)
            pap = np.einsum("ij,ij->j", p, ap)
            alpha = np.divide(rz, pap, out=np.zeros_like(rz), where=pap > 0)
            x += np.multiply(alpha, p, out=step)
            r -= np.multiply(alpha, ap, out=step)
            np.multiply(pinv, r, out=z)
            rz_new = np.einsum("ij,ij->j", r, z)
            beta = np.divide(rz_new, rz, out=np.zeros_like(rz), where=rz > 0)
            p *= beta
            p += z
            rz = rz_new
        raise CrossedModelError("conjugate gradients did not converge: the design is too ill-conditioned")

    def solve_full(self, rhs: np.ndarray, x0: np.ndarray | None, tol: float) -> np.ndarray:
        """Solve M Z = rhs (q x c) through the Schur complement; returns q x c."""
        q0 = self.sysm.q[0]
        r0, rr = rhs[:q0], rhs[q0:]
        if not self.sysm.R:
            return self.w[:, None] * r0
        red = rr - self.bt(self.w[:, None] * r0)
        zr = self.pcg(red, None if x0 is None else x0[q0:], tol)
        z0 = self.w[:, None] * (r0 - self.b(zr))
        return np.vstack([z0, zr])


def _apply(blocks, x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """S_M x = diag x + C x - B'(w * B x) (x: R x c) with the blocks of an operator (in their order), into
    ``out``."""
    wx = blocks.br @ x
    wx *= blocks.w[:, None]
    np.multiply(blocks.diag_r[:, None], x, out=out)
    if blocks.c_rr.nnz:  # two factors: C is empty (its product would only add zeros)
        out += blocks.c_rr @ x
    out -= blocks.brt @ wx
    return out


class _LocalBlocks:
    """An operator's blocks in the design's local order (``ordering``): rows of factor 0 in ``p0``'s
    order, the rest levels in ``pr``'s."""

    def __init__(self, op: MOperator, sysm: System, theta: np.ndarray):
        order = sysm.local_order
        scale = (theta[0] * sysm.theta_vec_rest(theta))[order.pr]
        self.br = (order.n0r @ sp.diags(scale)).tocsr()
        self.brt = self.br.T.tocsr()
        self.w = op.w[order.p0]
        self.diag_r = op.diag_r[order.pr]
        self.pdiag = op.pdiag[order.pr]
        self.c_rr = op.c_rr[order.pr][:, order.pr].tocsr()


def _rest_slices(sysm: System) -> list[slice]:
    out, base = [], sysm.q[0]
    for m in range(1, sysm.K):
        out.append(slice(base, base + sysm.q[m]))
        base += sysm.q[m]
    return out


SMALL_FACTOR = 256  # factors with at most this many levels get exact traces (unit-vector probes)


def make_probes(sysm: System, n_probes: int, seed: int) -> tuple[np.ndarray, list, set]:
    """Rademacher probes on the large factors (zero on small ones) + unit vectors of the small ones."""
    rng = np.random.default_rng(seed)
    small = {m for m in range(1, sysm.K) if sysm.q[m] <= SMALL_FACTOR}
    rad = rng.choice([-1.0, 1.0], size=(sysm.R, n_probes))
    unit_cols = []
    for i, m in enumerate(range(1, sysm.K)):
        if m in small:
            rad[sysm.offs[i]:sysm.offs[i] + sysm.q[m]] = 0.0
            unit_cols += [(m, sysm.offs[i] + j) for j in range(sysm.q[m])]
    if len(small) == sysm.K - 1:
        rad = rad[:, :0]  # every factor but the eliminated one is small: everything is exact
    units = np.zeros((sysm.R, len(unit_cols)))
    for j, (_, row) in enumerate(unit_cols):
        units[row, j] = 1.0
    return np.hstack([rad, units]), unit_cols, small


def _evaluate(sysm: System, theta: np.ndarray, probe_set: tuple, reml: bool, tol: float,
              warm: dict) -> tuple[Pieces, dict]:
    d, K, R = sysm.d, sysm.K, sysm.R
    probes, unit_cols, small = probe_set
    op = MOperator(sysm, theta)
    lam = np.concatenate([np.full(sysm.q[0], theta[0])] +
                         [np.full(sysm.q[m], theta[m]) for m in range(1, K)])
    zty = sysm.rhs[:sum(sysm.q)]
    ztx = np.vstack(d.ztx[:1] + [d.ztx[m] for m in range(1, K)])
    rhs_full = np.column_stack([lam * zty, lam[:, None] * ztx])  # ΛZ'y | ΛZ'X
    sol = op.solve_full(rhs_full, warm.get("sol"), tol)
    warm["sol"] = sol
    my, f = sol[:, 0], sol[:, 1:]  # M⁻¹ΛZ'y, F = M⁻¹ΛZ'X
    lzx = lam[:, None] * ztx
    rx = d.xtx - lzx.T @ f  # R_X'R_X
    g = np.linalg.inv(rx)
    beta = g @ (d.xty - lzx.T @ my)
    v = my - f @ beta
    q_pen = float(d.yty - v @ (lam * zty) - beta @ d.xty)
    # Hutchinson: tr(M⁻¹_kk) from S_M⁻¹ applied to probes in the reduced space
    traces_m = np.zeros(K)
    rel_se = np.zeros(K)
    traces_m[0] = op.w.sum()
    if R:
        # probes = Rademacher columns (zero on small factors) + unit vectors of the small factors'
        # levels, whose block traces are then exact: Hutchinson is least accurate on few levels
        n_rad = probes.shape[1] - len(unit_cols)
        y = op.pcg(probes, warm.get("probes"), tol)
        warm["probes"] = y
        gz = op.bt((op.w ** 2)[:, None] * op.b(probes))
        quad_g = np.einsum("ij,ij->j", y, gz)
        rad0 = quad_g[:n_rad]
        traces_m[0] += (rad0.mean() if n_rad else 0.0) + quad_g[n_rad:].sum()
        rel_se[0] = rad0.std(ddof=1) / np.sqrt(n_rad) / max(traces_m[0], 1e-300) if n_rad > 1 else 0.0
        for i, m in enumerate(range(1, K)):
            s = slice(sysm.offs[i], sysm.offs[i] + sysm.q[m])
            if m in small:
                cols = [n_rad + j for j, (mm, _) in enumerate(unit_cols) if mm == m]
                traces_m[m] += float(np.sum(probes[s][:, cols] * y[s][:, cols]))
            else:
                est = np.einsum("ij,ij->j", probes[s, :n_rad], y[s, :n_rad])
                traces_m[m] += est.mean()
                rel_se[m] = est.std(ddof=1) / np.sqrt(len(est)) / max(traces_m[m], 1e-300)
    traces = traces_m.copy()
    if reml:  # the fixed effects' share of A⁻¹: diag blocks of F G F'
        fg = f @ g
        corr = np.einsum("ij,ij->i", fg, f)
        slices = [slice(0, sysm.q[0])] + _rest_slices(sysm)
        for k, s in enumerate(slices):
            traces[k] += corr[s].sum()
    else:
        corr = None
    z = np.concatenate([v, beta])
    pieces = Pieces(np.nan, np.nan, q_pen, z, traces, traces_m, None)
    # diag(M⁻¹): the Jacobi approximation, calibrated per factor so that it sums to the
    # (unbiased) Hutchinson trace. The Jacobi diagonal alone misses a nearly uniform share
    # (the near-intercept mode shared by all levels); the calibration restores it.
    pev = [op.w.copy()]
    if R:
        inv_pd = 1.0 / op.pdiag
        jac0 = op.w ** 2 * np.asarray(op.br.multiply(op.br) @ inv_pd).ravel()
        pev[0] += jac0 * (traces_m[0] - op.w.sum()) / max(jac0.sum(), 1e-300)
        for i, m in enumerate(range(1, K)):
            part = inv_pd[sysm.offs[i]:sysm.offs[i] + sysm.q[m]]
            pev.append(part * traces_m[m] / max(part.sum(), 1e-300))
    cond = [x.copy() for x in pev]
    if reml:  # plus the exact fixed-effect part
        slices = [slice(0, sysm.q[0])] + _rest_slices(sysm)
        for k, s in enumerate(slices):
            pev[k] = pev[k] + corr[s]
    extra = {"beta_cov_unscaled": g, "pev_unscaled": pev, "cond_unscaled": cond, "trace_rel_se": rel_se,
             "matvecs": op.matvecs}
    return pieces, extra


def optimise_iterative(sysm: System, reml: bool, tol: float, n_probes: int, seed: int, level_se: bool = True):
    """EM fixed point of the REML/ML estimating equations, accelerated by SQUAREM (and, with
    ``level_se``, the prediction variances of the levels at the optimum)."""

    d, K = sysm.d, sysm.K
    probes = make_probes(sysm, n_probes, seed) if sysm.R else (np.zeros((0, 0)), [], set())
    dof = d.n - d.p if reml else d.n
    warm: dict = {}
    n_eval = [0]
    solve_tol = 1e-10
    last: dict = {}

    def em_map(gamma: np.ndarray) -> np.ndarray:
        theta = np.sqrt(np.maximum(gamma, 0))
        pieces, extra = _evaluate(sysm, theta, probes, reml, solve_tol, warm)
        n_eval[0] += 1
        sigma2 = pieces.q_pen / dof
        tr = pieces.traces if reml else pieces.traces_m
        v = pieces.z
        out = np.empty(K)
        base = 0
        for k in range(K):
            vk = v[base:base + sysm.q[k]]
            base += sysm.q[k]
            out[k] = gamma[k] * (vk @ vk / sigma2 + tr[k]) / sysm.q[k]
        last.update(theta=theta, pieces=pieces, extra=extra)
        return out

    gamma = start_values(d) ** 2
    converged = False
    for _cycle in range(200):
        g1 = em_map(gamma)
        g2 = em_map(g1)
        r = g1 - gamma
        vv = g2 - g1 - r
        if np.linalg.norm(vv) < 1e-300:
            gamma = g2
        else:
            alpha = -np.linalg.norm(r) / np.linalg.norm(vv)
            cand = gamma - 2 * alpha * r + alpha ** 2 * vv
            gamma = cand if np.all(cand > 0) else g2
        new = em_map(gamma)
        step = np.max(np.abs(new - gamma) / np.maximum(gamma, 1e-12))
        gamma = new
        if step < tol * 100:
            converged = True
            break
    theta = np.sqrt(gamma)
    pieces, extra = _evaluate(sysm, theta, probes, reml, solve_tol, warm)
    n_eval[0] += 1
    if level_se:
        cond, cond_se, how = level_variances(sysm, theta, seed=seed)
    else:
        cond, cond_se = [np.full(q, np.nan) for q in sysm.q], None
        how = "not computed (only the variance components were asked for)"
    pev = [c + (p - j) for c, p, j in zip(cond, extra["pev_unscaled"], extra["cond_unscaled"])]
    info = {
        "beta_cov_unscaled": extra["beta_cov_unscaled"],
        "pev_unscaled": pev,
        "cond_unscaled": cond,
        "level_variances": how,
        "level_variance_rel_se": ({g: _summary_rel_se(se, c) for g, se, c in zip(d.groups, cond_se, cond)}
                                  if level_se else None),
        "trace_rel_se": dict(zip(d.groups, extra["trace_rel_se"].tolist())),
        "n_probes": n_probes,
        "criterion_note": "not computed by the iterative solver",
    }
    return theta, float("nan"), pieces, n_eval[0], converged, info


PROBE_REPS = 4  # independent sign draws of the probing estimator: its standard error comes from them
# Selected inversion is used when a fill bound (the envelope of a reverse Cuthill-McKee ordering) and
# then the Takahashi work stay within these; beyond them, the design's factor fills in and probing,
# whose error is reported, takes over.
ENVELOPE_MAX = 60_000_000
TAKAHASHI_WORK_MAX = 3e8  # about 5 s at the ~60 M multiply-adds a second this loop reaches


def level_variances(sysm: System, theta: np.ndarray, seed: int = 0, reps: int = PROBE_REPS,
                    tol: float = 1e-10, method: str = "auto") -> tuple[list[np.ndarray], list[np.ndarray], str]:
    """diag(M⁻¹) per factor, the standard error of each element (0: exact) and the method used.

    "selinv": exact, by selected inversion of the sparse Schur complement over the other factors'
    levels (``selinv``); "probing": unbiased estimates with their Monte Carlo error (``probing``);
    "auto": selected inversion when the factor stays sparse, else probing.
    """
    op = MOperator(sysm, theta)
    q0, R = sysm.q[0], sysm.R
    if not R:
        return [op.w.copy()], [np.zeros(q0)], "exact (one factor)"
    if method in ("auto", "selinv"):
        s_m = (sp.diags(op.diag_r) + op.c_rr - op.brt @ sp.diags(op.w) @ op.br).tocsc()
        if method == "selinv" or envelope_size(s_m) <= ENVELOPE_MAX:
            si = SelectedInverse(s_m)
            if method == "selinv" or si.work <= TAKAHASHI_WORK_MAX:
                rest = si.diagonal()
                d0 = op.w + op.w ** 2 * si.row_quadratic(op.br)
                return (*_by_factor(sysm, d0, rest, np.zeros(q0), np.zeros(R)), "selected inversion (exact)")
    return (*_by_factor(sysm, *_probed(sysm, op, reps, seed, tol)), f"probing ({reps} sign draws)")


def _probed(sysm: System, op: MOperator, reps: int, seed: int, tol: float):
    q0, R = sysm.q[0], sysm.R
    big = np.zeros(R, dtype=bool)
    for i, m in enumerate(range(1, sysm.K)):
        big[sysm.offs[i]:sysm.offs[i] + sysm.q[m]] = sysm.q[m] > SMALL_FACTOR
    n_big = sysm.n0r[:, big]
    colours = np.full(R, -1)
    colours[big] = greedy_colouring(pattern(n_big.T @ n_big) + pattern(op.c_rr[big][:, big]))
    per_factor = [np.arange(sysm.offs[i], sysm.offs[i] + sysm.q[m]) for i, m in enumerate(range(1, sysm.K))]
    rest, rest_se = probe_diagonal(lambda p: op.pcg(p, None, tol), R, per_factor, [colours[r] for r in per_factor],
                                   reps, seed + 1)

    def solve0(p):
        return op.solve_full(np.vstack([p, np.zeros((R, p.shape[1]))]), None, tol)[:q0]

    d0, d0_se = probe_diagonal(solve0, q0, [np.arange(q0)], [greedy_colouring(pattern(n_big @ n_big.T))], reps,
                               seed + 2)
    return d0, rest, d0_se, rest_se


def _by_factor(sysm: System, d0, rest, d0_se, rest_se) -> tuple[list, list]:
    out, out_se = [d0], [d0_se]
    for i, m in enumerate(range(1, sysm.K)):
        s = slice(sysm.offs[i], sysm.offs[i] + sysm.q[m])
        out.append(rest[s])
        out_se.append(rest_se[s])
    return out, out_se


def _summary_rel_se(se: np.ndarray, value: np.ndarray) -> dict:
    """The error of a factor's variances: median and largest relative standard error (0: exact)."""
    rel = se / np.maximum(value, 1e-300)
    return {"median": float(np.median(rel)), "max": float(np.max(rel)), "levels": int(len(rel))}
