"""The naive estimate for contrast: two-way fixed effects and its Goodman-Bacon decomposition.

``twfe`` regresses the outcome on unit and period fixed effects and a dummy for "adopted by now",
with standard errors clustered by unit (statsmodels; the unit effects are absorbed by demeaning within
unit, Frisch–Waugh–Lovell, and the period effects are dummies). It is what a quick analysis would
report, and it is the wrong summary when effects vary over time: Goodman-Bacon (2021) shows that on a
balanced panel without covariates the estimate is a weighted average of every 2×2 difference in
differences between timing groups —
- adopters vs never-treated units (``treated_vs_never``),
- earlier adopters vs later adopters before those adopt (``earlier_vs_later``),
- later adopters vs earlier adopters *after* those adopted (``later_vs_earlier``): already-treated
  units used as controls; if the effect grows with time since adoption, their growth is subtracted and
  this comparison is biased downwards, even negative —
with weights from group sizes and the variance of treatment timing (eq. 10 of the paper). The weights
sum to one and the weighted sum equals the TWFE estimate (checked here to floating-point precision).
Both functions use the same prepared panel as ``staggered_did`` (balanced; units treated in the first
period left out), so the three numbers can be compared directly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import OLS

from analysis.core.results import Results
from analysis.stats.did.panel import NEVER, PreparedPanel, prepare

COMPARISONS = ("treated_vs_never", "earlier_vs_later", "later_vs_earlier")


@dataclass(frozen=True)
class TwoWayFE(Results):
    """The two-way fixed-effects estimate of the adoption dummy, clustered by unit."""

    outcome: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    n_units: int
    n_obs: int
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: v for k, v in self.to_dict().items() if k != "notes"}])

    def summary(self) -> str:
        return (f"Two-way fixed effects ({self.outcome}): {self.estimate:.4f} (se {self.se:.4f}, clustered by "
                f"unit; CI {self.ci_low:.4f} to {self.ci_high:.4f}; {self.n_units} units, {self.n_obs} rows)")


def _treated(prep: PreparedPanel) -> np.ndarray:
    g = prep.data["_g"].to_numpy()
    return ((g != NEVER) & (prep.data["_t"].to_numpy() >= g)).astype(float)


def twfe(panel: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str, alpha: float = 0.05) -> TwoWayFE:
    """y_it = a_i + l_t + b·D_it + e_it with D_it = 1 from the unit's adoption period on; b and its clustered SE."""
    prep = prepare(panel, outcome, unit, time, cohort)
    d = prep.data
    D = _treated(prep)
    if D.min() == D.max():
        raise ValueError("the adoption dummy does not vary: nothing to estimate")
    X = pd.get_dummies(d["_t"], prefix="t", drop_first=True, dtype=float)
    X.insert(0, "adopted", D)
    X["_y"] = d["_y"].to_numpy()
    ids = d["_id"].to_numpy()
    W = X - X.groupby(ids).transform("mean")  # absorb unit effects
    res = OLS(W.pop("_y"), W).fit(cov_type="cluster", cov_kwds={"groups": ids}, use_t=True)
    lo, hi = res.conf_int(alpha).loc["adopted"]
    return TwoWayFE(outcome, float(res.params["adopted"]), float(res.bse["adopted"]), float(lo), float(hi),
                    float(res.pvalues["adopted"]), prep.n_units, len(d), prep.notes)


@dataclass(frozen=True, eq=False)
class BaconDecomposition(Results):
    """Every 2×2 comparison behind the TWFE estimate, its estimate and weight."""

    outcome: str
    comparisons: pd.DataFrame  # treated, control, type, estimate, weight
    by_type: pd.DataFrame  # index type: weight, estimate (weighted mean), contribution, comparisons
    twfe: float  # the TWFE estimate on the same panel
    weighted_sum: float  # sum of weight × estimate (= twfe)
    forbidden_weight: float  # weight on later_vs_earlier: already-treated units as controls
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.comparisons.copy()

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "twfe": self.twfe, "weighted_sum": self.weighted_sum,
                "forbidden_weight": self.forbidden_weight,
                "by_type": {t: {k: float(v) for k, v in r.items()} for t, r in self.by_type.iterrows()},
                "comparisons": [{k: (v if isinstance(v, str) else float(v)) for k, v in r.items()}
                                for r in self.comparisons.to_dict(orient="records")],
                "notes": list(self.notes)}

    def summary(self) -> str:
        lines = [f"Goodman-Bacon decomposition of the TWFE estimate ({self.outcome}): {self.twfe:.4f}",
                 f"  {'comparison':<18}{'weight':>9}{'estimate':>10}{'contribution':>14}{'pairs':>7}"]
        for t, r in self.by_type.iterrows():
            lines.append(f"  {t:<18}{r['weight']:9.4f}{r['estimate']:10.4f}{r['contribution']:14.4f}"
                         f"{int(r['comparisons']):>7}")
        lines.append(f"weight on comparisons with already-treated units as controls: {self.forbidden_weight:.1%}")
        return "\n".join(lines)


def bacon_decomposition(panel: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str) -> BaconDecomposition:
    """Goodman-Bacon (2021) decomposition of the TWFE estimate (balanced panel, no covariates)."""
    prep = prepare(panel, outcome, unit, time, cohort)
    Y = prep.matrix()
    N, T = Y.shape
    g = prep.unit_cohort.to_numpy()
    periods = np.asarray(prep.periods)
    start = {c: int(np.searchsorted(periods, c)) for c in np.unique(g[g != NEVER])}  # first treated column
    members = {c: g == c for c in start}
    never = g == NEVER
    share = {c: m.mean() for c, m in members.items()}
    dbar = {c: (T - s) / T for c, s in start.items()}  # share of periods treated
    # variance of the adoption dummy net of unit and period effects
    D = np.zeros((N, T))
    for c, s in start.items():
        D[members[c], s:] = 1.0
    Dd = D - D.mean(axis=1, keepdims=True) - D.mean(axis=0, keepdims=True) + D.mean()
    vd = float((Dd**2).mean())
    Yd = Y - Y.mean(axis=1, keepdims=True) - Y.mean(axis=0, keepdims=True) + Y.mean()
    beta = float((Dd * Yd).sum() / (Dd**2).sum())

    def mean(mask, lo, hi):
        return float(Y[mask, lo:hi].mean())

    rows = []
    nu = never.mean()
    for k, s in start.items():
        if nu > 0:
            est = (mean(members[k], s, T) - mean(members[k], 0, s)) - (mean(never, s, T) - mean(never, 0, s))
            nk = share[k] / (share[k] + nu)
            w = (share[k] + nu) ** 2 * nk * (1 - nk) * dbar[k] * (1 - dbar[k]) / vd
            rows.append((k, NEVER, "treated_vs_never", est, w))
    cohorts = sorted(start)
    for i, k in enumerate(cohorts):  # k earlier, l later
        for l in cohorts[i + 1:]:
            sk, sl = start[k], start[l]
            nkl = share[k] / (share[k] + share[l])
            common = (share[k] + share[l]) ** 2 * nkl * (1 - nkl)
            est_k = (mean(members[k], sk, sl) - mean(members[k], 0, sk)) - (mean(members[l], sk, sl)
                                                                             - mean(members[l], 0, sk))
            w_k = common * (1 - dbar[l]) ** 2 * (dbar[k] - dbar[l]) / (1 - dbar[l]) * (1 - dbar[k]) / (1 - dbar[l]) / vd
            est_l = (mean(members[l], sl, T) - mean(members[l], sk, sl)) - (mean(members[k], sl, T)
                                                                             - mean(members[k], sk, sl))
            w_l = common * dbar[k] ** 2 * dbar[l] / dbar[k] * (dbar[k] - dbar[l]) / dbar[k] / vd
            rows.append((k, l, "earlier_vs_later", est_k, w_k))
            rows.append((l, k, "later_vs_earlier", est_l, w_l))
    label = prep.cohort_label
    comp = pd.DataFrame([{"treated": str(label(a)), "control": str(label(b)), "type": t, "estimate": e, "weight": w}
                         for a, b, t, e, w in rows], columns=["treated", "control", "type", "estimate", "weight"])
    by = []
    for t in COMPARISONS:
        c = comp[comp["type"] == t]
        w = float(c["weight"].sum())
        contrib = float((c["weight"] * c["estimate"]).sum())
        by.append({"type": t, "weight": w, "estimate": contrib / w if w > 0 else np.nan, "contribution": contrib,
                   "comparisons": len(c)})
    by_type = pd.DataFrame(by).set_index("type")
    total = float((comp["weight"] * comp["estimate"]).sum())
    notes = list(prep.notes)
    if abs(comp["weight"].sum() - 1) > 1e-8:  # pragma: no cover - an identity on a balanced panel
        notes.append(f"weights sum to {comp['weight'].sum():.6f}, not 1")
    return BaconDecomposition(outcome, comp, by_type, beta, total,
                              float(by_type.loc["later_vs_earlier", "weight"]), tuple(notes))
