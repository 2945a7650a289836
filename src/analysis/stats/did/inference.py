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


def _by_cohort(influence: np.ndarray, cohorts: np.ndarray | None):
    """Unit index of each cohort's members (all units form one cohort when ``cohorts`` is None)."""
    if cohorts is None:
        return [np.arange(influence.shape[0])]
    cohorts = np.asarray(cohorts)
    if cohorts.shape[0] != influence.shape[0]:
        raise ValueError(f"cohorts has {cohorts.shape[0]} entries for {influence.shape[0]} influence rows")
    _, inverse = np.unique(cohorts, return_inverse=True)
    return [np.flatnonzero(inverse == c) for c in range(inverse.max() + 1)]


def small_sample_se(influence: np.ndarray, cohorts: np.ndarray | None = None) -> np.ndarray:
    """Standard errors from influence functions with a degrees-of-freedom correction within each cohort.

    ``influence`` (n × k) is split into its cohort means m_c (the part from estimating the cohort
    shares, which is constant within a cohort) and the deviations r_i from them; each cohort's
    deviations are scaled by n_c / (n_c − 1): se² = (Σ_c n_c m_c² + Σ_c n_c/(n_c−1) Σ_{i∈c} r_i²) / n².
    For the ATT(g,t) without covariates (differences of cohort means) this makes the variance of each
    cohort's mean unbiased, where the plain Σψ²/n² of R's ``did`` is biased down by the factor
    (n_c − 1)/n_c (5/6 for a cohort of 6 units, 32/33 for 33 never-treated units). With covariates or
    not-yet-treated controls the correction is approximate (slightly conservative for the latter).
    Cohorts of one unit keep their term.
    """
    n = influence.shape[0]
    v = np.zeros(influence.shape[1])
    for idx in _by_cohort(influence, cohorts):
        part = influence[idx]
        m = part.mean(axis=0)
        r2 = ((part - m) ** 2).sum(axis=0)
        v += len(idx) * m**2 + (len(idx) / (len(idx) - 1) if len(idx) > 1 else 1.0) * r2
    return np.sqrt(v) / n


def studentized_draws(influence: np.ndarray, weights: np.ndarray, cohorts: np.ndarray | None = None) -> np.ndarray:
    """Bootstrap t statistics (draws × k): each multiplier draw divided by its own standard error.

    The draw is Σ_i w_i ψ_i / n, as in R's ``mboot``. Its standard error is ``small_sample_se`` of the
    perturbed influence functions w_i r_i centred again within their cohort (the cohort means are what
    re-estimating the cohort means from the perturbed data would subtract; the share part m_c is kept).
    On average its square is the draw's bootstrap variance, so the draws mimic the observed t
    statistics including the noise of their estimated standard errors (a wild bootstrap-t).
    """
    n = influence.shape[0]
    num = weights @ influence / n
    v = np.zeros_like(num)
    for idx in _by_cohort(influence, cohorts):
        part = influence[idx]
        m = part.mean(axis=0)
        r = part - m
        w = weights[:, idx]
        s = w @ r  # Σ_{i∈c} w_i r_i
        ss = (w * w) @ (r * r)  # Σ_{i∈c} w_i² r_i²
        nc = len(idx)
        if nc > 1:
            v += nc * m**2 + nc / (nc - 1) * (ss - s * s / nc)
        else:
            v += m**2 + ss
    se = np.sqrt(np.maximum(v, 0.0)) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.abs(num) / se
    return np.where(np.isfinite(t), t, np.inf)  # a draw without a standard error counts against rejecting


def sup_t_pretest(estimates: np.ndarray, influence: np.ndarray, se: np.ndarray,
                  weights: np.ndarray | None, cohorts: np.ndarray | None = None) -> Pretest:
    """Are all pre-adoption effects zero? max_k |θ̂_k / se_k| against its studentized multiplier bootstrap.

    ``se`` (the analytic standard errors) only selects the estimates that have one; the statistic uses
    ``small_sample_se`` with the units' adoption ``cohorts`` (never-treated units are a cohort too), and
    each bootstrap draw is divided by its own standard error (``studentized_draws``). Dividing the
    draws by the observed standard error instead, as R's ``mboot`` does for its bands, treats the
    estimated standard errors as known: with cohorts of 6–33 units that rejected 6.7% of no-effect
    panels at 5%, studentized 4.9% (4,000 simulated panels shaped like the sample, Mammen weights;
    Rademacher weights: about 4%). The test inverts a simultaneous bootstrap-t band over the same
    event times (θ̂_k ± c·se_k) and never inverts the covariance of the pre-period estimates as the
    Wald test does. ``W`` holds the
    observed max |t|, ``df`` the number of estimates, ``p`` the share of bootstrap draws at least as
    large. Without ``cohorts`` all units are one cohort (no small-sample correction to speak of).
    """
    ok = np.isfinite(se) & (se > SE_FLOOR) & np.isfinite(estimates) & np.isfinite(influence).all(axis=0)
    k = int(ok.sum())
    if weights is None or k == 0:
        return Pretest(float("nan"), k, float("nan"))
    inf = influence[:, ok]
    observed = float(np.max(np.abs(estimates[ok]) / small_sample_se(inf, cohorts)))
    draws = np.max(studentized_draws(inf, weights, cohorts), axis=1)
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
