"""Agreement between appraisal schemes: cross-tabulation, weighted kappa, who changes.

Both schemes are put on one ordinal scale of five steps (5 = best):
PermenPANRB 6/2022 sangat_baik > baik > butuh_perbaikan > kurang > sangat_kurang;
PP 30/2019 sangat_baik > baik > cukup > kurang > sangat_kurang.
Weighted kappa (Cohen 1968) counts a one-step disagreement as partial
agreement; its standard error and interval are the asymptotic ones of
Fleiss, Cohen & Everitt (1969), as computed by statsmodels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.inter_rater import cohens_kappa

from analysis.core.codes import PP30_BANDS, PREDIKAT

RANK_6_2022 = {p: 5 - i for i, p in enumerate(PREDIKAT)}
RANK_PP30 = {p: 5 - i for i, p in enumerate(PP30_BANDS)}
LEVELS = [5, 4, 3, 2, 1]


@dataclass(frozen=True)
class Kappa:
    """Weighted kappa with its asymptotic standard error and confidence interval."""

    kappa: float
    se: float
    ci_low: float
    ci_high: float
    weights: str
    n: int
    observed_agreement: float  # share of exact agreement

    def to_dict(self) -> dict:
        return asdict(self)


def crosstab(a: pd.Series, b: pd.Series, levels: list = LEVELS) -> pd.DataFrame:
    """Square table of counts: rows a, columns b, on the given ordered levels."""
    tab = pd.crosstab(pd.Categorical(a, levels), pd.Categorical(b, levels), dropna=False)
    return tab.reindex(index=levels, columns=levels, fill_value=0)


def weighted_kappa(a: pd.Series, b: pd.Series, weights: str = "linear", alpha: float = 0.05,
                   levels: list = LEVELS) -> Kappa:
    """Cohen's weighted kappa of two ordinal ratings of the same people."""
    keep = a.notna() & b.notna()
    table = crosstab(a[keep], b[keep], levels).to_numpy(dtype=float)
    n = int(table.sum())
    if n == 0:
        return Kappa(np.nan, np.nan, np.nan, np.nan, weights, 0, np.nan)
    wt = {"linear": "linear", "quadratic": "quadratic", "none": None}[weights]
    res = cohens_kappa(table, wt=wt) if wt else cohens_kappa(table)
    z = stats.norm.ppf(1 - alpha / 2)
    se = float(res.std_kappa)
    k = float(res.kappa)
    return Kappa(k, se, float(k - z * se), float(k + z * se), weights, n, float(np.trace(table) / n))


def changes(keys: pd.DataFrame, a: pd.Series, b: pd.Series) -> pd.DataFrame:
    """Per person: rank under a and under b, the step change (b - a) and its direction."""
    out = keys.copy()
    out["rank_a"], out["rank_b"] = a.to_numpy(), b.to_numpy()
    out = out[out["rank_a"].notna() & out["rank_b"].notna()].copy()
    out["change"] = (out["rank_b"] - out["rank_a"]).astype(int)
    out["direction"] = np.select([out["change"] > 0, out["change"] < 0], ["up", "down"], "same")
    return out


def changes_by(changed: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """How many people move up, down or stay, per group; shares of the group."""
    g = changed.groupby(by)["direction"].value_counts().unstack(fill_value=0)
    g = g.reindex(columns=["up", "same", "down"], fill_value=0)
    g.insert(0, "n", g.sum(axis=1))
    for c in ("up", "same", "down"):
        g[f"share_{c}"] = g[c] / g["n"]
    g = g.rename(columns={"up": "n_up", "same": "n_same", "down": "n_down"})
    return g.reset_index()
