"""Heterogeneity of the staggered effect by a unit attribute (region, type): one fit per level, their
cross-covariance from the influence functions, and the Wald test that the levels' effects are equal."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.core.jsonsafe import scalar
from analysis.core.results import Results
from analysis.stats.did.panel import NEVER, prepare
from analysis.stats.did.staggered import check_args, staggered_did

MIN_UNITS = 5  # by_group: fewer treated or comparison units than this and a region's estimate says little



@dataclass(frozen=True, eq=False)
class GroupComparison(Results):
    """Effects per level of a unit attribute (e.g. region) and Wald tests that they are equal."""

    attribute: str
    comparison: str  # pooled or within
    table: pd.DataFrame  # per level: n_treated, n_controls, estimate, se, ci, dyn_*, in_test, note
    dynamic: pd.DataFrame  # level, event_time, estimate, se, ci_low, ci_high
    tests: pd.DataFrame  # measure (simple, dynamic): W, df, p, levels
    covariance: dict[str, pd.DataFrame] = field(repr=False)  # measure -> covariance of the level estimates
    fits: dict = field(repr=False)
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.table.reset_index()

    def to_dict(self) -> dict:
        return {"attribute": self.attribute, "comparison": self.comparison,
                "table": [{k: scalar(v) for k, v in r.items()} for r in self.to_frame().to_dict(orient="records")],
                "tests": [{k: scalar(v) for k, v in r.items()} for r in self.tests.reset_index().to_dict("records")],
                "notes": list(self.notes)}

    def summary(self) -> str:
        lines = [f"Effect by {self.attribute} (comparison units: {self.comparison})",
                 f"  {'level':<14}{'treated':>8}{'controls':>9}{'ATT':>9}{'se':>8}{'dynamic':>9}{'se':>8}"]
        for lvl, r in self.table.iterrows():
            lines.append(f"  {str(lvl):<14}{int(r['n_treated']):>8}{int(r['n_controls']):>9}{r['estimate']:9.3f}"
                         f"{r['se']:8.3f}{r['dyn_estimate']:9.3f}{r['dyn_se']:8.3f}"
                         + ("" if r["in_test"] else "  (not in test)"))
        for m, r in self.tests.iterrows():
            if np.isfinite(r["W"]):
                lines.append(f"equal {m} effects across {int(r['levels'])} levels: W = {r['W']:.3f} on "
                             f"{int(r['df'])} df, p = {r['p']:.4f}")
        if self.notes:
            lines += ["Notes:"] + [f"- {n}" for n in self.notes]
        return "\n".join(lines)


def equality_test(estimates: np.ndarray, cov: np.ndarray) -> tuple[float, int, float]:
    """Wald test that all estimates are equal: differences from the first, χ² on k−1 df."""
    k = len(estimates)
    if k < 2:
        return float("nan"), 0, float("nan")
    D = np.hstack([np.ones((k - 1, 1)), -np.eye(k - 1)])
    d = D @ estimates
    S = D @ cov @ D.T
    if not np.all(np.isfinite(S)) or np.linalg.cond(S) > 1 / np.finfo(float).eps:
        return float("nan"), k - 1, float("nan")
    W = float(d @ np.linalg.solve(S, d))
    return W, k - 1, float(stats.chi2.sf(W, k - 1))


def _cross_covariance(infs: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Cov(θ̂_r, θ̂_s) = Σ_i ψ_ri ψ_si / (n_r n_s) over the units both fits use (θ̂ − θ ≈ mean ψ)."""
    k = len(infs)
    cov = np.zeros((k, k))
    series = [pd.Series(psi, index=units) for units, psi in infs]
    for a in range(k):
        for b in range(a, k):
            common = series[a].index.intersection(series[b].index)
            v = float(series[a][common].to_numpy() @ series[b][common].to_numpy())
            cov[a, b] = cov[b, a] = v / (len(series[a]) * len(series[b]))
    return cov


def by_group(panel: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str, attribute: str,
             control: str = "never", method: str = "dr", covariates: list[str] | None = None,
             alpha: float = 0.05, comparison: str = "pooled", min_units: int = MIN_UNITS) -> GroupComparison:
    """Callaway–Sant'Anna separately for the adopters of each level of ``attribute`` (e.g. region).

    ``comparison="pooled"``: each level's adopters are compared with all never-treated units (and, with
    ``control="notyet"``, the level's own later adopters) — more comparison units, but it assumes
    the level's adopters trend like the comparison units of every level. ``"within"``: only the level's
    own units, a weaker assumption with fewer comparison units. The overall (simple) ATT and the mean
    dynamic effect are compared across levels by a Wald test whose covariance comes from the influence
    functions (pooled fits share comparison units, so their estimates are correlated). Levels with
    fewer than ``min_units`` adopters or comparison units are shown when they can be estimated but left
    out of the test, with a note.
    """
    check_args(control, method, alpha)
    if comparison not in ("pooled", "within"):
        raise ValueError("comparison must be 'pooled' or 'within'")
    if attribute not in panel.columns:
        raise ValueError(f"panel has no column {attribute!r}")
    attr = panel.groupby(panel[unit].astype(str), sort=False)[attribute].agg(lambda s: s.dropna().unique().tolist())
    if (attr.map(len) > 1).any():
        raise ValueError(f"{attribute!r} differs between rows of the same unit")
    unit_attr = attr.map(lambda v: v[0] if v else None)
    prep_all = prepare(panel, outcome, unit, time, cohort, covariates)
    ucoh = pd.Series(prep_all.unit_cohort.to_numpy(), index=prep_all.unit_labels.astype(str))
    level_of = unit_attr.reindex(ucoh.index)
    notes = list(prep_all.notes)
    if level_of.isna().any():
        notes.append(f"{int(level_of.isna().sum())} unit(s) without {attribute} left out")
    never = ucoh.index[ucoh == NEVER]
    key = panel[unit].astype(str)
    rows, dyn_rows, fits, infs = [], [], {}, {"simple": {}, "dynamic": {}}
    for level in sorted(level_of.dropna().unique(), key=str):
        own = level_of.index[level_of == level]
        treated = [u for u in own if ucoh[u] != NEVER]
        members = set(own) if comparison == "within" else set(own) | set(never)
        n_controls = sum(1 for u in members if ucoh[u] == NEVER)
        row = {"level": level, "n_treated": len(treated), "n_controls": n_controls, "estimate": np.nan,
               "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "dyn_estimate": np.nan, "dyn_se": np.nan,
               "dyn_ci_low": np.nan, "dyn_ci_high": np.nan, "in_test": False, "note": ""}
        few = []
        if len(treated) < min_units:
            few.append(f"{len(treated)} adopting unit(s)")
        if n_controls < min_units:
            few.append(f"{n_controls} never-treated comparison unit(s)")
        if few:
            row["note"] = f"too few: {' and '.join(few)} (fewer than {min_units})"
        if treated and (n_controls or control == "notyet"):
            sub = panel[key.isin(members)]
            try:
                fit = staggered_did(sub, outcome, unit, time, cohort, control, method, covariates, alpha, n_boot=0)
            except Exception as exc:  # a level too small to estimate: say so, keep the others
                row["note"] = (row["note"] + "; " if row["note"] else "") + f"not estimable: {exc}"
            else:
                fits[level] = fit
                for m, pre in (("simple", ""), ("dynamic", "dyn_")):
                    a = fit.aggregate(m)
                    row[pre + "estimate"], row[pre + "se"] = a.overall["estimate"], a.overall["se"]
                    row[pre + "ci_low"], row[pre + "ci_high"] = a.overall["ci_low"], a.overall["ci_high"]
                    infs[m][level] = (np.asarray(a.units).astype(str), a.influence_overall)
                for e, r in fit.aggregate("dynamic").table.iterrows():
                    dyn_rows.append({"level": level, "event_time": e, "estimate": r["estimate"], "se": r["se"],
                                     "ci_low": r["ci_low"], "ci_high": r["ci_high"]})
                row["in_test"] = not few and np.isfinite(row["se"])
        elif not row["note"]:
            row["note"] = "not estimable"
        if row["note"]:
            notes.append(f"{attribute} {level}: {row['note']}")
        rows.append(row)
    table = pd.DataFrame(rows).set_index("level")
    tests, covs = [], {}
    in_test = [lvl for lvl in table.index if table.loc[lvl, "in_test"]]
    for m, pre in (("simple", ""), ("dynamic", "dyn_")):
        cov = _cross_covariance([infs[m][lvl] for lvl in in_test]) if in_test else np.zeros((0, 0))
        covs[m] = pd.DataFrame(cov, index=in_test, columns=in_test)
        W, df, p = equality_test(table.loc[in_test, pre + "estimate"].to_numpy(dtype=float), cov)
        tests.append({"measure": m, "W": W, "df": df, "p": p, "levels": len(in_test)})
    if len(in_test) < 2:
        notes.append(f"fewer than two levels of {attribute} with enough units: no equality test")
    dynamic = pd.DataFrame(dyn_rows, columns=["level", "event_time", "estimate", "se", "ci_low", "ci_high"])
    return GroupComparison(attribute, comparison, table, dynamic, pd.DataFrame(tests).set_index("measure"), covs,
                           fits, tuple(dict.fromkeys(notes)))
