"""Inference shared by the staggered estimator: multiplier-bootstrap simultaneous bands and the
pre-adoption tests (Wald and sup-t), computed from influence functions."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats

SE_FLOOR = np.sqrt(np.finfo(float).eps) * 10  # R did: standard errors below this are NA


class Pretest(NamedTuple):
    """Wald test that all pre-adoption effects are zero: statistic, degrees of freedom, p-value."""

    W: float
    df: int
    p: float


# --- multiplier bootstrap ------------------------------------------------------------------------


def multiplier_weights(n_units: int, n_boot: int, seed: int, kind: str = "mammen") -> np.ndarray:
    """``n_boot × n_units`` multiplier draws with mean 0 and variance 1 (Mammen's two-point or Rademacher)."""
    rng = np.random.default_rng(seed)
    if kind == "mammen":
        s5 = np.sqrt(5.0)
        low = rng.random((n_boot, n_units)) < (s5 + 1) / (2 * s5)
        return np.where(low, (1 - s5) / 2, (1 + s5) / 2)
    if kind == "rademacher":
        return np.where(rng.random((n_boot, n_units)) < 0.5, -1.0, 1.0)
    raise ValueError(f"boot_weights must be 'mammen' or 'rademacher', not {kind!r}")


def sup_t_critical(influence: np.ndarray, se: np.ndarray, weights: np.ndarray | None, alpha: float) -> float:
    """Critical value of a simultaneous band: the 1−α quantile over draws of max_k |bootstrap t_k|.

    ``influence`` is n × k with θ̂ − θ ≈ mean of its rows; each draw perturbs it by the multipliers and
    divides by the analytic standard error (columns without one are left out, as in R's ``mboot``).
    """
    if weights is None or influence.size == 0:
        return float("nan")
    ok = np.isfinite(se) & (se > SE_FLOOR) & np.isfinite(influence).all(axis=0)
    if not ok.any():
        return float("nan")
    n = influence.shape[0]
    draws = weights @ influence[:, ok] / n
    t_max = np.max(np.abs(draws) / se[ok], axis=1)
    return float(np.quantile(t_max, 1 - alpha, method="inverted_cdf"))


def sup_t_pretest(estimates: np.ndarray, influence: np.ndarray, se: np.ndarray,
                  weights: np.ndarray | None) -> Pretest:
    """Are all pre-adoption effects zero? max_k |θ̂_k / se_k| against its multiplier-bootstrap distribution.

    The same statistic as the simultaneous band: the test rejects at level α exactly when the
    simultaneous 1−α band of the pre-adoption event times leaves out zero somewhere. Unlike the Wald
    test it never inverts the covariance of the pre-period estimates, which small cohorts make nearly
    singular. ``W`` holds the observed max |t|, ``df`` the number of estimates, ``p`` the share of
    bootstrap draws at least as large.
    """
    ok = np.isfinite(se) & (se > SE_FLOOR) & np.isfinite(estimates) & np.isfinite(influence).all(axis=0)
    k = int(ok.sum())
    if weights is None or k == 0:
        return Pretest(float("nan"), k, float("nan"))
    n = influence.shape[0]
    observed = float(np.max(np.abs(estimates[ok]) / se[ok]))
    draws = np.max(np.abs(weights @ influence[:, ok] / n) / se[ok], axis=1)
    return Pretest(observed, k, float(np.mean(draws >= observed)))


def wald(estimates: np.ndarray, influence: np.ndarray) -> Pretest:
    """W = θ̂' V⁻¹ θ̂ with V = Ψ'Ψ / n² (Ψ: n × k influence functions); χ² on k degrees of freedom."""
    k = len(estimates)
    if k == 0:
        return Pretest(float("nan"), 0, float("nan"))
    n = influence.shape[0]
    V = influence.T @ influence / n**2
    if not np.all(np.isfinite(V)) or np.linalg.cond(V) > 1 / np.finfo(float).eps:
        return Pretest(float("nan"), k, float("nan"))
    W = float(estimates @ np.linalg.solve(V, estimates))
    return Pretest(W, k, float(stats.chi2.sf(W, k)))
