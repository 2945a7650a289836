"""Multiple testing: Benjamini-Hochberg q-values over a family of tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests


def bh(pvalues: pd.Series) -> pd.Series:
    """Benjamini–Hochberg q-values (NaN stays NaN)."""
    q = pd.Series(np.nan, index=pvalues.index)
    ok = pvalues.notna()
    if ok.any():
        q[ok] = multipletests(pvalues[ok].to_numpy(), method="fdr_bh")[1]
    return q
