"""What the reliability estimators share: column checks, sorted codes, how many items an error names."""

from __future__ import annotations

import numpy as np
import pandas as pd

SHOW = 5  # targets or units named in an error message


def check_columns(data: pd.DataFrame, cols: list[str]) -> None:
    """Every named column is in the data, or a ValueError naming those that are not."""
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not in the data (columns: {list(data.columns)})")


def factorize(s: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and labels, sorted where the labels can be sorted (mixed types keep first-seen order)."""
    try:
        return pd.factorize(s, sort=True)
    except TypeError:
        return pd.factorize(s)
