"""Cohen's weighted kappa of two ordinal ratings of the same subjects, with its interval.

Weighted kappa (Cohen 1968) counts a one-step disagreement as partial agreement; its standard
error and interval are the asymptotic ones of Fleiss, Cohen & Everitt (1969), as computed by
statsmodels. Levels are ordinal codes, best first (five steps by default).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.inter_rater import cohens_kappa

from analysis.core.results import Results
from analysis.stats.intervals import z_value

LEVELS = [5, 4, 3, 2, 1]


@dataclass(frozen=True)
class Kappa(Results):
    """Weighted kappa with its asymptotic standard error and confidence interval."""

    kappa: float
    se: float
    ci_low: float
    ci_high: float
    weights: str
    n: int
    observed_agreement: float  # share of exact agreement

    title = "Weighted kappa"

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
    z = z_value(alpha)
    se = float(res.std_kappa)
    k = float(res.kappa)
    return Kappa(k, se, float(k - z * se), float(k + z * se), weights, n, float(np.trace(table) / n))
