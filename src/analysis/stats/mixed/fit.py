"""Fitting the crossed model: the one public entry point, ``fit_crossed``, choosing the path."""

from __future__ import annotations

import functools
import time

import pandas as pd
from threadpoolctl import ThreadpoolController

from analysis.stats.mixed.design import CrossedModelError, build_design
from analysis.stats.mixed.exact import optimise_exact
from analysis.stats.mixed.iterative import optimise_iterative
from analysis.stats.mixed.results import CrossedFit, make_fit
from analysis.stats.mixed.system import System, criterion

EXACT_MAX = 1500  # below this size of S the exact optimisation is cheaper than the iterative one



def fit_crossed(data: pd.DataFrame, response: str, groups: list[str], fixed: list[str] | tuple = (),
                method: str = "reml", solver: str = "auto", max_dense: int = 8000,
                n_probes: int | None = None, tol: float = 1e-9, seed: int = 0,
                threads: int | None = 1, conditional_sd: bool = False, level_se: bool = True) -> CrossedFit:
    """Fit ``response ~ fixed + (1|g) for g in groups`` by REML (default) or ML.

    Returns a :class:`CrossedFit` with ``variance_components`` (one per group and
    "residual"), ``fixed_effects`` and ``fixed_effects_se``, ``random_effects[group]``
    (estimate = conditional mean, se = root prediction error variance including the
    uncertainty of β, n = ratings, cond_sd = conditional SD with β known, as lme4 reports it,
    computed when ``conditional_sd=True``),
    ``summary()`` and ``to_frame()``.

    ``solver``: "exact" (dense Schur complement, optimised with exact gradients),
    "iterative" (conjugate gradients and stochastic traces, for designs too large to
    factorise), "hybrid" (iterative optimisation, then one exact evaluation at the optimum
    for exact conditional means, standard errors and criterion) or "auto": exact when S
    (the levels of every factor but the largest, plus the fixed effects) has at most
    1,500 rows, hybrid up to ``max_dense``, iterative beyond.
    Rows with a missing value in any used column are dropped and counted. ``data`` may be a Dask
    DataFrame (``engine: dask``): the design's statistics are then gathered partition by partition
    (``partitioned``) and the fit is the same.
    ``n_probes`` (iterative solver): Hutchinson probes for the traces; by default 64, or 16
    when the other factors have more than 20,000 levels (the estimator's relative error
    falls with the number of levels too, and is reported in ``info["trace_rel_se"]``).
    ``level_se=False``: skip the prediction variances of the levels (``se`` and ``cond_sd`` are then
    NaN): half the work of an iterative fit whose variance components are all that is needed, as
    for reliability, and a tenth of a small exact one.
    ``threads`` caps the BLAS threads (one by default: for matrices of this size extra
    threads mostly contend with each other and with other work; None = library default).
    """
    t0 = time.perf_counter()
    with _blas().limit(limits=threads, user_api="blas"):
        return _fit(data, response, groups, fixed, method, solver, max_dense, n_probes, tol, seed, t0,
                    conditional_sd, level_se)


@functools.cache
def _blas() -> ThreadpoolController:
    """The BLAS libraries loaded (numpy's and SciPy's, both imported with this module), found once:
    ``threadpool_limits`` scans the process's libraries on every call, 4 ms in a kernel, which was a
    tenth of a small fit (reliability fits ~2,000 of them at 100,000 employees)."""
    return ThreadpoolController()


def _fit(data, response, groups, fixed, method, solver, max_dense, n_probes, tol, seed, t0,
         conditional_sd=False, level_se=True) -> CrossedFit:
    method = method.lower()
    if method not in ("reml", "ml"):
        raise CrossedModelError("method must be 'reml' or 'ml'")
    if hasattr(data, "npartitions"):  # a Dask DataFrame (engine: dask): the statistics gathered per partition
        from analysis.stats.mixed.partitioned import build_design_partitioned

        d = build_design_partitioned(data, response, list(groups), list(fixed))
    else:
        d = build_design(data, response, list(groups), list(fixed))
    sysm = System(d)
    reml = method == "reml"
    if solver == "auto":
        solver = "exact" if sysm.size <= EXACT_MAX else ("hybrid" if sysm.size <= max_dense else "iterative")
    if solver == "exact":
        theta, crit, pieces, nev, ok = optimise_exact(sysm, reml, tol)
        info = {}
    elif solver in ("iterative", "hybrid"):
        if n_probes is None:
            n_probes = 64 if sysm.R <= 20_000 else 16
        # a hybrid fit's level errors come from its exact evaluation: the iterative pass need not
        # estimate them (probing, most of that pass's time on the sample's rater model)
        theta, crit, pieces, nev, ok, info = optimise_iterative(sysm, reml, tol, n_probes, seed,
                                                                level_se and solver == "iterative")
        if solver == "hybrid":
            # one exact evaluation at the optimum: exact criterion, conditional means and errors
            crit, _, pieces = criterion(sysm, theta, reml)
            nev += 1
            info = {k: v for k, v in info.items() if k not in ("beta_cov_unscaled", "pev_unscaled",
                                                                   "cond_unscaled", "criterion_note",
                                                                   "level_variances", "level_variance_rel_se")}
    else:
        raise CrossedModelError("solver must be 'auto', 'exact', 'hybrid' or 'iterative'")
    if d.aliased:
        info["aliased_fixed_effects"] = d.aliased
    fit = make_fit(d, sysm, theta, crit, pieces, method, solver, nev, ok, time.perf_counter() - t0, info,
                   conditional_sd, level_se)
    fit.response = response
    return fit
