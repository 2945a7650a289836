"""The exact path: S formed densely and factorised; L-BFGS-B with the analytic gradient, or
average-information (AI) REML steps in log variance.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from analysis.stats.mixed.design import Design
from analysis.stats.mixed.system import Pieces, System, criterion, split_v, start_values


def optimise_exact(sysm: System, reml: bool, tol: float):
    """REML: average-information (AI) iterations, L-BFGS-B where they cannot go on; ML: L-BFGS-B.

    AI-REML (Gilmour, Thompson & Cullis 1995) is a Newton method whose Hessian is the
    average of the observed and expected information; near the optimum it converges in a
    few steps, each one evaluation plus K + 1 solves with the factorisation at hand. Every
    step is checked against the exact criterion and halved when it does not improve it.
    """
    start = start_values(sysm.d)
    nev = 0
    if reml:
        theta, crit, pieces, n_ai, done = _optimise_ai(sysm, start, tol)
        nev += n_ai
        if done:
            return theta, crit, pieces, nev, True
        start = np.maximum(theta, 1e-4)
    theta, crit, pieces, n_lb, ok = _optimise_lbfgs(sysm, reml, tol, start)
    return theta, crit, pieces, nev + n_lb, ok


def _optimise_lbfgs(sysm: System, reml: bool, tol: float, start: np.ndarray):
    cache: dict = {}
    count = [0]

    def fun(phi):  # in log θ: the criterion is closer to quadratic there
        key = tuple(np.round(phi, 15))
        if key not in cache:
            count[0] += 1
            cache.clear()
            th = np.exp(phi)
            f, g, _ = criterion(sysm, th, reml)
            cache[key] = (f, g * th)
        return cache[key]

    res = optimize.minimize(fun, np.log(np.maximum(start, 1e-8)), jac=True, method="L-BFGS-B",
                            bounds=[(np.log(1e-10), None)] * sysm.K,
                            options={"ftol": tol * 1e-3, "gtol": tol * 100, "maxiter": 500})
    theta = np.exp(res.x)
    theta[theta < 1e-9] = 0.0
    f, _, pieces = criterion(sysm, theta, reml)
    return theta, f, pieces, count[0] + 1, bool(res.success)


def _zz(d: Design, m: int, k: int, vec: np.ndarray) -> np.ndarray:
    """Z_m' Z_k vec from the count matrices."""
    if m == k:
        return d.counts[m] * vec
    return d.cross[(m, k)] @ vec if m < k else d.cross_t(k, m) @ vec


def _ai_step(sysm: System, theta: np.ndarray, pieces: Pieces) -> np.ndarray | None:
    """Proposed (σ²_1..σ²_K, σ²_e) from one AI-REML step at θ; None if it cannot be taken."""
    d, K = sysm.d, sysm.K
    n, p = d.n, d.p
    sig2 = pieces.q_pen / (n - p)
    v = split_v(sysm, pieces.z)
    beta = pieces.z[sum(sysm.q):]
    u = [theta[k] * v[k] for k in range(K)]
    # residuals e = y - Xβ - Zu, only through X'e, Z'e and e'e
    ze = [d.zty[m] - d.ztx[m] @ beta - sum(_zz(d, m, k, u[k]) for k in range(K)) for m in range(K)]
    xe = d.xty - d.xtx @ beta - sum(d.ztx[k].T @ u[k] for k in range(K))
    ee = (d.yty - 2 * (beta @ d.xty + sum(u[k] @ d.zty[k] for k in range(K))) + beta @ d.xtx @ beta
          + 2 * sum(beta @ (d.ztx[k].T @ u[k]) for k in range(K))
          + sum(u[k] @ _zz(d, k, m, u[m]) for k in range(K) for m in range(K)))
    a = [ze[k] / sig2 for k in range(K)]  # Z_k' P y
    # working vectors r_j = V_j P y (j < K: Z_k a_k; j = K: P y = e/σ²), through X'r, Z'r, r'r
    xr = [d.ztx[k].T @ a[k] for k in range(K)] + [xe / sig2]
    zr = [[_zz(d, m, k, a[k]) for m in range(K)] for k in range(K)] + [[ze[m] / sig2 for m in range(K)]]
    gram = np.empty((K + 1, K + 1))
    for j in range(K):
        for l in range(K):
            gram[j, l] = a[j] @ _zz(d, j, l, a[l])
        gram[j, K] = gram[K, j] = a[j] @ ze[j] / sig2
    gram[K, K] = ee / sig2 ** 2
    # P r_l needs C⁻¹ [Z'r_l; X'r_l] = D A⁻¹ D b_l, D = Λ on the random rows
    lam = np.concatenate([np.full(sysm.q[0], theta[0]), sysm.theta_vec_rest(theta), np.ones(p)])
    rhs = np.column_stack([np.concatenate(zr[j] + [xr[j]]) for j in range(K + 1)])
    sol = lam[:, None] * sysm.solve(pieces.factor, lam[:, None] * rhs)
    nq = sum(sysm.q)
    ai = np.empty((K + 1, K + 1))
    for j in range(K + 1):
        zr_j = np.concatenate(zr[j])
        for l in range(K + 1):
            ai[j, l] = 0.5 * (gram[j, l] - xr[j] @ sol[nq:, l] - zr_j @ sol[:nq, l]) / sig2
    var = np.append(sig2 * theta ** 2, sig2)
    score = np.empty(K + 1)
    for k in range(K):
        if var[k] <= 0:
            return None
        score[k] = -0.5 * ((sysm.q[k] - pieces.traces[k]) / var[k] - a[k] @ a[k])
    score[K] = -0.5 * ((n - p - sum(sysm.q[k] - pieces.traces[k] for k in range(K))) / sig2 - ee / sig2 ** 2)
    # the Newton step in log σ² (score and information rescaled by σ²): a multiplicative
    # update cannot overshoot below zero, and small components converge much faster
    try:
        step = np.linalg.solve(ai * np.outer(var, var), score * var)
    except np.linalg.LinAlgError:
        return None
    return var * np.exp(np.clip(step, -3, 3))


def _optimise_ai(sysm: System, start: np.ndarray, tol: float, max_iter: int = 40):
    theta = np.asarray(start, dtype=float)
    f, _, pieces = criterion(sysm, theta, True)
    nev = 1
    for _ in range(max_iter):
        proposal = _ai_step(sysm, theta, pieces)
        if proposal is None:
            return theta, f, pieces, nev, False
        var_now = np.append(pieces.q_pen / (sysm.d.n - sysm.d.p) * theta ** 2, pieces.q_pen / (sysm.d.n - sysm.d.p))
        step = np.log(proposal / var_now)
        for _half in range(8):
            new = var_now * np.exp(step)
            th_new = np.sqrt(new[:-1] / new[-1])
            f_new, _, p_new = criterion(sysm, th_new, True)
            nev += 1
            if f_new <= f + 1e-12 * abs(f):
                break
            step = step / 2
        else:
            return theta, f, pieces, nev, False  # no improving step: let L-BFGS-B take over
        change = np.max(np.abs(th_new - theta) / np.maximum(th_new, 1e-12))
        theta, f, pieces = th_new, f_new, p_new
        if np.min(theta) < 1e-4:
            return theta, f, pieces, nev, False  # heading for a boundary: L-BFGS-B handles bounds
        # θ to a millionth is far beyond what the variance components need (and than lme4's
        # own optimiser tolerance); the criterion is then flat to ~1e-10
        if change < max(tol * 1000, 1e-6):
            return theta, f, pieces, nev, True
    return theta, f, pieces, nev, False
