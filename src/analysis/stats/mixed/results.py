"""The results of a crossed fit: variance components, fixed effects, conditional means of the
levels and their prediction variances, as one results object (``to_frame``, ``to_dict``, ``summary``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats
from scipy.linalg import lapack

from analysis.core.jsonsafe import to_json_safe
from analysis.core.results import Results
from analysis.stats.intervals import wald_interval
from analysis.stats.mixed.design import Design
from analysis.stats.mixed.system import Pieces, System, full_sinv, split_v


@dataclass
class CrossedFit(Results):
    """A fitted crossed random-effects model (statsmodels-like results object)."""

    response: str
    groups: list[str]
    method: str
    solver: str
    n: int
    n_dropped: int
    variance_components: pd.Series
    fixed_effects: pd.Series
    fixed_effects_se: pd.Series
    random_effects: dict[str, pd.DataFrame]
    theta: pd.Series
    criterion: float  # REML criterion or deviance (-2 log-likelihood), as lme4 reports them
    converged: bool
    n_evaluations: int
    seconds: float
    info: dict = field(default_factory=dict)

    @property
    def sigma(self) -> float:
        return float(np.sqrt(self.variance_components["residual"]))

    @property
    def loglik(self) -> float:
        return -self.criterion / 2

    def to_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Fixed effects with standard errors, z and p, and (1 - alpha) confidence intervals (Wald)."""
        est, se = self.fixed_effects, self.fixed_effects_se
        z = est / se
        low, high = wald_interval(est, se, alpha)
        out = pd.DataFrame({"estimate": est, "se": se, "z": z, "p": 2 * stats.norm.sf(np.abs(z)),
                            "ci_low": low, "ci_high": high})
        return out.rename_axis("term")

    def to_dict(self) -> dict:
        """The fit's key numbers as plain JSON (not the per-level random effects)."""
        return to_json_safe({
            "response": self.response, "groups": list(self.groups), "method": self.method, "solver": self.solver,
            "n": self.n, "n_dropped": self.n_dropped, "criterion": self.criterion, "converged": self.converged,
            "standard_errors": self.info.get("level_variances"),
            "standard_error_rel_se": self.info.get("level_variance_rel_se"),
            "n_evaluations": self.n_evaluations, "variance_components": self.variance_components.to_dict(),
            "theta": self.theta.to_dict(), "levels": {g: len(self.random_effects[g]) for g in self.groups},
            "fixed_effects": self.to_frame().reset_index().to_dict(orient="records"),
        })

    def summary(self) -> str:
        lines = [
            f"Crossed random-effects model ({self.method.upper()}, {self.solver} solver)",
            f"response: {self.response}   ratings: {self.n:,}   dropped (incomplete): {self.n_dropped:,}",
            f"criterion: {self.criterion:.4f}   converged: {self.converged}   "
            f"evaluations: {self.n_evaluations}   seconds: {self.seconds:.2f}",
            "",
            "Random effects:",
        ]
        for g in self.groups:
            var = self.variance_components[g]
            lines.append(f"  {g:<24} levels {len(self.random_effects[g]):>9,}   "
                         f"variance {var:10.5f}   sd {np.sqrt(var):8.5f}")
        res = self.variance_components["residual"]
        lines.append(f"  {'residual':<24} {'':>16}   variance {res:10.5f}   sd {np.sqrt(res):8.5f}")
        lines += ["", "Fixed effects:", self.to_frame().to_string(float_format=lambda v: f"{v:.5f}")]
        return "\n".join(lines)

    def __repr__(self) -> str:  # pragma: no cover - convenience
        return self.summary()


def make_fit(d: Design, sysm: System, theta, crit, pieces: Pieces, method, solver, nev, ok, seconds,
             info, conditional_sd: bool = False, level_se: bool = True) -> CrossedFit:
    reml = method == "reml"
    sigma2 = pieces.q_pen / (d.n - d.p if reml else d.n)
    v = split_v(sysm, pieces.z)
    beta = pieces.z[sysm.q[0] + sysm.R:]
    # covariance of β: σ² (R_X'R_X)⁻¹ = σ² (A⁻¹)_xx
    if pieces.sinv is not None:
        pieces.sinv = full_sinv(pieces)
        vb = sigma2 * pieces.sinv[sysm.R:, sysm.R:]
    else:
        vb = sigma2 * info.pop("beta_cov_unscaled")
    varcomp = {g: float(sigma2 * theta[k] ** 2) for k, g in enumerate(d.groups)}
    varcomp["residual"] = float(sigma2)
    if level_se or pieces.sinv is None:
        pev, cond = _prediction_variances(sysm, theta, pieces, info, conditional_sd)
        info.setdefault("level_variances", "dense factorisation (exact)")
    else:  # not asked for (reliability's thousands of small fits need the variance components only)
        pev, cond = [np.full(q, np.nan) for q in sysm.q], None
        info["level_variances"] = "not computed (level_se=False)"
    random_effects = {}
    for k, g in enumerate(d.groups):
        random_effects[g] = pd.DataFrame({
            "estimate": theta[k] * v[k],
            "se": np.sqrt(np.maximum(sigma2 * theta[k] ** 2 * pev[k], 0)),
            "n": d.counts[k].astype(int),
            "cond_sd": (np.sqrt(np.maximum(sigma2 * theta[k] ** 2 * cond[k], 0)) if cond is not None
                        else np.full(len(d.levels[k]), np.nan)),
        }, index=d.levels[k].rename(g))
    return CrossedFit(
        response="", groups=list(d.groups), method=method, solver=solver, n=d.n, n_dropped=d.n_dropped,
        variance_components=pd.Series(varcomp), fixed_effects=pd.Series(beta, index=d.names),
        fixed_effects_se=pd.Series(np.sqrt(np.diag(vb)), index=d.names),
        random_effects=random_effects, theta=pd.Series(theta, index=d.groups), criterion=float(crit),
        converged=ok, n_evaluations=nev, seconds=seconds, info=info,
    )


def _row_quadratic(b: sp.csr_matrix, m: np.ndarray, chunk_cells: int = 50_000_000) -> np.ndarray:
    """diag(B M B') for sparse B and dense M: rows of (B M) ∘ B, in chunks of rows to bound memory."""
    rows = max(1, chunk_cells // max(m.shape[1], 1))
    out = np.empty(b.shape[0])
    for start in range(0, b.shape[0], rows):
        blk = b[start:start + rows]
        out[start:start + rows] = np.asarray(blk.multiply(blk @ m).sum(axis=1)).ravel()
    return out


def _pev_only(sysm: System, theta, pieces: Pieces) -> list[np.ndarray]:
    """diag(A⁻¹) per factor, from the S⁻¹ the last evaluation left."""
    w = 1.0 / (theta[0] ** 2 * sysm.d.counts[0] + 1.0)
    br, bx = sysm.b_dense_parts(theta)
    out = [None] * sysm.K
    dg = np.diag(pieces.sinv)
    for i, m in enumerate(range(1, sysm.K)):
        out[m] = dg[sysm.offs[i]:sysm.offs[i] + sysm.q[m]]
    b = sp.hstack([br, sp.csr_matrix(bx)]).tocsr()
    out[0] = w + w * w * _row_quadratic(b, pieces.sinv)
    return out


def _prediction_variances(sysm: System, theta, pieces: Pieces, info: dict,
                          conditional: bool = False) -> tuple[list, list | None]:
    """diag(A⁻¹) and diag(M⁻¹) per factor.

    Times σ²θ², the first is the prediction error variance of each level's effect, which
    accounts for the estimation of β as Henderson's equations do (``se``); the second treats
    β as known, as lme4's conditional variances do (``cond_sd``).
    """
    if pieces.sinv is None:
        return info.pop("pev_unscaled"), info.pop("cond_unscaled")
    if not conditional:
        return _pev_only(sysm, theta, pieces), None
    d, R = sysm.d, sysm.R
    w = 1.0 / (theta[0] ** 2 * d.counts[0] + 1.0)
    br, bx = sysm.b_dense_parts(theta)
    out_a, out_m = [None] * sysm.K, [None] * sysm.K
    dg = np.diag(pieces.sinv)
    sm_inv = None
    if R:
        # M's Schur complement is the leading block of S: its inverse from that block's Cholesky
        s_m = sysm.schur_random(theta, w)
        chol, info_ = lapack.dpotrf(s_m, lower=1, clean=1)
        sm_inv = lapack.dpotri(chol, lower=1)[0]
        sm_inv = np.tril(sm_inv) + np.tril(sm_inv, -1).T
    for i, m in enumerate(range(1, sysm.K)):
        o = sysm.offs[i]
        out_a[m] = dg[o:o + sysm.q[m]]
        out_m[m] = np.diag(sm_inv)[o:o + sysm.q[m]]
    # factor 0: w_i + w_i² b_i' S⁻¹ b_i, with b_i the i-th row of B
    b = sp.hstack([br, sp.csr_matrix(bx)]).tocsr()
    out_a[0] = w + w * w * _row_quadratic(b, pieces.sinv)
    if R:
        out_m[0] = w + w * w * _row_quadratic(br.tocsr(), sm_inv)
    else:
        out_m[0] = w
    return out_a, out_m
