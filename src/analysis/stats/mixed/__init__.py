"""Linear mixed model with crossed random intercepts, fitted by REML or ML.

    score = overall mean + fixed effects + ratee effect + rater effect + noise

with each grouping factor's effects drawn from N(0, σ²_k) and noise N(0, σ²).
Raters and ratees are *crossed*: each ratee has several raters and each rater
several ratees, which is what lets a rater's leniency be told apart from the
level of the people they rate.

How it is computed, and why
---------------------------
The likelihood is the exact REML (or ML) criterion that lme4 optimises, in
lme4's parameterisation (Bates et al. 2015): θ_k = σ_k / σ, Λ = diag(θ_k I),
profiled over σ² and β. What differs is the linear algebra:

1. *Sufficient statistics.* The data enter only through per-level counts and
   sums, the crossed count matrices N_kl = Z_k'Z_l (one entry per distinct
   pair of levels, not per rating) and the small X'X, X'Z_k, Z_k'y. They are
   gathered in one chunked pass, so the fit's memory and time are linear in
   the number of ratings; afterwards nothing scales with it.
2. *Eliminating the largest factor.* In the penalised system
   A = [[ΛZ'ZΛ + I, ΛZ'X], [X'ZΛ, X'X]] the block of the factor with most
   levels is diagonal, so it is eliminated exactly, leaving the Schur
   complement S over the other factors' levels and the fixed effects.
3. *Exact path* (``solver="exact"``, chosen when S is small): S is formed densely and factorised (LAPACK Cholesky);
   log-determinants, solutions and the traces of A⁻¹ blocks that the analytic
   gradient needs (Harville 1977) are exact, and L-BFGS-B with that gradient
   converges in a few dozen evaluations. This reproduces lme4's estimates to
   optimiser precision (tests/reference/lme4).
4. *Iterative path* (``solver="iterative"``, used when S is too large to hold
   densely, as for national-scale data; ``"hybrid"`` runs it and then evaluates
   the exact pieces once at its optimum, for mid-sized S): S is never formed; it is applied as
   sparse products with N_kl, and solves use preconditioned conjugate gradients
   (the Krylov cousin of the backfitting of Ghosh, Hastie & Owen 2022, cost
   linear per sweep). The REML estimating equations q_k − tr(A⁻¹_kk) − v_k'v_k/σ² = 0
   are solved by the EM fixed point γ_k ← γ_k (v_k'v_k/σ² + t_k)/q_k accelerated with
   SQUAREM (Varadhan & Roland 2008; ``iterative.py``), with the traces estimated by Hutchinson's
   estimator with fixed Rademacher probes (error reported in ``trace_rel_se``).
   For large designs the inverse is nearly diagonal and the estimator is
   accurate to a few parts in ten thousand. Per-level standard errors come from
   selected inversion of the sparse Schur complement (``selinv``, exact) or, where
   its factor fills in, from probing with a colouring of the design (``probing``,
   error reported in ``level_variance_rel_se``).

Why not the alternatives: statsmodels MixedLM handles crossed effects only as
variance components inside one group and forms dense matrices; moment
estimators (Gao & Owen 2017) are linear-cost but are not REML, so they would
not match lme4 to the required precision; a general sparse Cholesky (lme4,
via CHOLMOD) is exact but its fill-in grows faster than linearly on large
crossed designs and needs SuiteSparse.
"""

from __future__ import annotations

from analysis.stats.mixed.design import CrossedModelError, Design, build_design, connected_components
from analysis.stats.mixed.fit import fit_crossed
from analysis.stats.mixed.results import CrossedFit

__all__ = ["CrossedFit", "CrossedModelError", "Design", "build_design", "connected_components", "fit_crossed"]
