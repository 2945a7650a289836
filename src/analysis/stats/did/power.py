"""Planning the next wave: how large an effect could an evaluation detect, and how many adopters does it need?

Method (placebo simulation on the observed panel). The next wave is one cohort of ``n_units`` adopting
units, compared with ``n_controls`` units that do not adopt, over a base quarter and ``n_post_periods``
quarters after adoption; the effect to detect is the overall ATT over those quarters (Callaway–Sant'Anna
``simple`` aggregation, which for one cohort is the mean of its ATT(g,t)). Each simulation draws a
window of 1 + ``n_post_periods`` consecutive periods from the panel, takes the units still untreated
at the end of that window (never-treated units and later adopters before their adoption), assigns
``n_units`` of them at random to a placebo adoption and ``n_controls`` others as comparison units, and
estimates the placebo effect — whose true value is zero, so the spread of the placebo estimates is the
sampling noise of the real evaluation. The estimate is the Callaway–Sant'Anna ATT without covariates,
computed in closed form (mean change of the adopters minus mean change of the comparison units; the
doubly robust, IPW and regression estimators all reduce to it without covariates — the tests check it
against ``staggered_did``) so thousands of draws take well under a second. Then

    MDE = (z_{1−α/2} + z_{power}) × SD(placebo estimates)

is the smallest true effect that a two-sided test at level α detects with the given power.
``units_needed`` inverts it: the placebo SD of a comparison of two random groups of a finite set of
independent units is S·sqrt(1/n_units + 1/n_controls) (S: the unit-level SD of the change, estimated
from a simulation), so the smallest n_units with MDE ≤ effect has a closed form; it is checked by
simulation when the panel has enough untreated units, and extrapolated (said so) when it has not.

Assumptions, to say with every number: (1) in the next wave, outcomes without the scheme move like
they did in the untreated unit-quarters of this panel (same noise, no new shocks); (2) adopters and
comparison units are like random draws from the untreated units (a self-selected wave can be noisier
or differ in trend, which no power calculation can fix); (3) the effect is the same for every adopter
and post-period (heterogeneous effects add variance); (4) units are independent given the period
effects (a shock shared by a group of units makes the real SD larger than the 1/n scaling says);
(5) no covariates (adjusting for good predictors would lower the MDE); (6) normal approximation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.core.results import Results
from analysis.stats.did.panel import NEVER, PreparedPanel, prepare


def _z(alpha: float, power: float) -> float:
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError("alpha and power must be between 0 and 1")
    return float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))


@dataclass(frozen=True)
class Placebo:
    """Per base column b: each unit's mean change over the window, and who is untreated through it."""

    change: np.ndarray  # units × windows
    eligible: np.ndarray  # units × windows (bool)
    n_never: int


def placebo_setup(prep: PreparedPanel, n_post: int) -> Placebo:
    Y = prep.matrix()
    T = Y.shape[1]
    if not 1 <= n_post <= T - 1:
        raise ValueError(f"n_post_periods must be between 1 and {T - 1} for a panel of {T} periods")
    g = prep.unit_cohort.to_numpy()
    start = np.where(g == NEVER, T + 1, np.searchsorted(np.asarray(prep.periods), g))
    n_win = T - n_post
    csum = np.cumsum(np.c_[np.zeros(len(Y)), Y], axis=1)
    b = np.arange(n_win)
    post_mean = (csum[:, b + 1 + n_post] - csum[:, b + 1]) / n_post
    change = post_mean - Y[:, b]
    eligible = start[:, None] > (b + n_post)[None, :]
    return Placebo(change, eligible, int((g == NEVER).sum()))


def placebo_estimates(setup: Placebo, n_units: int, n_controls: int, n_sims: int,
                      rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Placebo ATTs of ``n_sims`` random draws; also how many windows had enough untreated units."""
    need = n_units + n_controls
    pool_sizes = setup.eligible.sum(axis=0)
    feasible = np.flatnonzero(pool_sizes >= need)
    if len(feasible) == 0:
        raise ValueError(f"no window of the panel has {need} untreated units ({n_units} adopting + {n_controls} "
                         f"comparison; at most {int(pool_sizes.max())}): use units_needed / power_table, which "
                         "extrapolate, or fewer units")
    pools = {b: np.flatnonzero(setup.eligible[:, b]) for b in feasible}
    est = np.empty(n_sims)
    for s in range(n_sims):
        b = feasible[rng.integers(len(feasible))]
        pick = rng.choice(pools[b], need, replace=False)
        col = setup.change[:, b]
        est[s] = col[pick[:n_units]].mean() - col[pick[n_units:]].mean()
    return est, len(feasible)


@dataclass(frozen=True)
class MinimumDetectableEffect(Results):
    """Smallest effect (outcome units) the next wave's evaluation detects, from placebo simulations."""

    outcome: str
    mde: float
    sd: float  # SD of the placebo estimates
    sd_unit: float  # implied unit-level SD S (sd = S·sqrt(1/n_units + 1/n_controls))
    mean_placebo: float  # should be near 0
    n_units: int
    n_controls: int
    n_post_periods: int
    n_sims: int
    alpha: float
    power: float
    windows: int  # windows of the panel with enough untreated units
    simulated: bool = True  # False: extrapolated from a simulation at other unit counts

    def to_dict(self) -> dict:
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])

    def scaled(self, n_units: int, n_controls: int | None = None) -> float:
        """MDE for other group sizes by the 1/n scaling (assumption 4 of the module docstring)."""
        nc = self.n_controls if n_controls is None else n_controls
        return _z(self.alpha, self.power) * self.sd_unit * float(np.sqrt(1 / n_units + 1 / nc))

    def summary(self) -> str:
        how = f"{self.n_sims} placebo draws" if self.simulated else "extrapolated"
        return (f"{self.outcome}: minimum detectable effect {self.mde:.3f} with {self.n_units} adopting and "
                f"{self.n_controls} comparison units over {self.n_post_periods} period(s) after adoption "
                f"(alpha {self.alpha}, power {self.power}; placebo SD {self.sd:.3f}, mean {self.mean_placebo:+.3f}; "
                f"{how})")


def _default_controls(setup: Placebo, n_controls: int | None) -> int:
    if n_controls is not None:
        if n_controls < 1:
            raise ValueError("n_controls must be at least 1")
        return int(n_controls)
    if setup.n_never < 2:
        raise ValueError("the panel has fewer than 2 never-treated units: give n_controls")
    return setup.n_never


def minimum_detectable_effect(panel: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str,
                              n_units: int, n_post_periods: int, alpha: float = 0.05, power: float = 0.8,
                              n_sims: int = 1000, seed: int = 0,
                              n_controls: int | None = None) -> MinimumDetectableEffect:
    """MDE for a wave of ``n_units`` adopters observed ``n_post_periods`` periods after adoption.

    ``n_controls`` comparison units (default: as many as the panel's never-treated units). See the
    module docstring for the method and its assumptions.
    """
    prep = prepare(panel, outcome, unit, time, cohort)
    setup = placebo_setup(prep, n_post_periods)
    return _mde(setup, outcome, n_units, n_post_periods, alpha, power, n_sims, seed,
                _default_controls(setup, n_controls))


def _mde(setup: Placebo, outcome: str, n_units: int, n_post: int, alpha: float, power: float, n_sims: int,
         seed: int, n_controls: int) -> MinimumDetectableEffect:
    if n_units < 1:
        raise ValueError("n_units must be at least 1")
    if n_sims < 20:
        raise ValueError("n_sims must be at least 20")
    z = _z(alpha, power)
    est, windows = placebo_estimates(setup, n_units, n_controls, n_sims, np.random.default_rng(seed))
    sd = float(est.std(ddof=1))
    return MinimumDetectableEffect(outcome, z * sd, sd, sd / float(np.sqrt(1 / n_units + 1 / n_controls)),
                                   float(est.mean()), int(n_units), int(n_controls), int(n_post), int(n_sims),
                                   alpha, power, windows)


def _max_feasible(setup: Placebo, n_controls: int) -> int:
    return int(setup.eligible.sum(axis=0).max()) - n_controls


@dataclass(frozen=True)
class UnitsNeeded(Results):
    """How many adopting units the next wave needs to detect ``effect``."""

    outcome: str
    effect: float
    n_units: int | None  # None: not reachable with n_controls comparison units
    n_controls: int
    n_post_periods: int
    alpha: float
    power: float
    mde: float | None  # MDE at n_units by the scaling from the reference simulation
    mde_simulated: float | None  # MDE at n_units by its own simulation (when the panel allows it)
    extrapolated: bool  # n_units beyond what the panel's untreated units can simulate
    reference: MinimumDetectableEffect
    note: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["reference"] = self.reference.to_dict()
        return d

    def summary(self) -> str:
        if self.n_units is None:
            return f"{self.outcome}: effect {self.effect} not detectable with {self.n_controls} comparison units. {self.note}"
        how = " (extrapolated beyond the panel)" if self.extrapolated else ""
        return (f"{self.outcome}: {self.n_units} adopting units{how} to detect {self.effect} over "
                f"{self.n_post_periods} period(s) with {self.n_controls} comparison units "
                f"(alpha {self.alpha}, power {self.power}; MDE there {self.mde:.3f})")


def units_needed(panel: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str, effect: float,
                 n_post_periods: int, alpha: float = 0.05, power: float = 0.8, n_sims: int = 1000, seed: int = 0,
                 n_controls: int | None = None) -> UnitsNeeded:
    """Smallest number of adopting units whose MDE is at most ``effect`` (the inverse of the MDE).

    S is estimated by a placebo simulation with as many adopters as comparison units (or as many as the
    panel allows); n = ceil(1 / ((effect / (z·S))² − 1/n_controls)). When n is within what the panel can
    simulate, the MDE at n is also simulated (``mde_simulated``).
    """
    if not effect > 0:
        raise ValueError("effect must be positive (in outcome units)")
    prep = prepare(panel, outcome, unit, time, cohort)
    setup = placebo_setup(prep, n_post_periods)
    nc = _default_controls(setup, n_controls)
    top = _max_feasible(setup, nc)
    if top < 1:
        raise ValueError(f"no window has more than {nc} untreated units: fewer comparison units (n_controls)")
    n_ref = int(min(max(nc, 2), top)) if top >= 2 else 1
    ref = _mde(setup, outcome, n_ref, n_post_periods, alpha, power, n_sims, seed, nc)
    z = _z(alpha, power)
    gap = (effect / (z * ref.sd_unit)) ** 2 - 1 / nc
    if gap <= 0:
        floor = z * ref.sd_unit / np.sqrt(nc)
        return UnitsNeeded(outcome, effect, None, nc, n_post_periods, alpha, power, None, None, True, ref,
                           f"with {nc} comparison units even unlimited adopters detect only effects above "
                           f"{floor:.3f}: more comparison units or a longer follow-up")
    n = max(1, int(np.ceil(1 / gap - 1e-9)))
    sim = _mde(setup, outcome, n, n_post_periods, alpha, power, n_sims, seed, nc).mde if n <= top else None
    return UnitsNeeded(outcome, effect, n, nc, n_post_periods, alpha, power, ref.scaled(n), sim, n > top, ref,
                       "" if n <= top else f"the panel has untreated units for at most {top} placebo adopters")


def power_table(panel: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str,
                units_grid: tuple[int, ...] = (5, 10, 20, 40), periods_grid: tuple[int, ...] = (1, 2, 4, 8),
                alpha: float = 0.05, power: float = 0.8, n_sims: int = 500, seed: int = 0,
                n_controls: int | None = None) -> pd.DataFrame:
    """MDE over a grid of adopting-unit counts × periods after adoption.

    ``method`` says whether a cell was simulated or extrapolated by the 1/n scaling from the largest
    unit count the panel could simulate for that follow-up.
    """
    prep = prepare(panel, outcome, unit, time, cohort)
    T = len(prep.periods)
    rows = []
    for n_post in periods_grid:
        if not 1 <= n_post <= T - 1:
            continue
        setup = placebo_setup(prep, n_post)
        nc = _default_controls(setup, n_controls)
        top = _max_feasible(setup, nc)
        ref = None
        if top >= 1:
            ref = _mde(setup, outcome, int(min(top, max(units_grid))), n_post, alpha, power, n_sims, seed, nc)
        for n in units_grid:
            if n <= top:
                m = _mde(setup, outcome, n, n_post, alpha, power, n_sims, seed, nc)
                rows.append({"n_units": n, "n_post_periods": n_post, "n_controls": nc, "mde": m.mde, "sd": m.sd,
                             "method": "simulated"})
            elif ref is not None:
                mde = ref.scaled(n)
                rows.append({"n_units": n, "n_post_periods": n_post, "n_controls": nc, "mde": mde,
                             "sd": mde / _z(alpha, power), "method": "extrapolated"})
            else:
                rows.append({"n_units": n, "n_post_periods": n_post, "n_controls": nc, "mde": np.nan, "sd": np.nan,
                             "method": "not feasible"})
    return pd.DataFrame(rows, columns=["n_units", "n_post_periods", "n_controls", "mde", "sd", "method"])
