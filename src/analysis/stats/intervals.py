"""Intervals: the normal critical value of a level, Wald intervals, and an estimate's interval as a dict.

Every estimator takes its level as ``alpha`` (params ``alpha``), never a fixed 1.96.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from analysis.core.jsonsafe import number

INTERVAL_KEYS = ("estimate", "se", "ci_low", "ci_high")


def z_value(alpha: float) -> float:
    """Two-sided normal critical value: 1.96 for ``alpha = 0.05``."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha!r}")
    return float(stats.norm.ppf(1 - alpha / 2))


def wald_interval(estimate, se, alpha: float):
    """``estimate ∓ z se`` (scalars or arrays)."""
    z = z_value(alpha)
    return np.subtract(estimate, z * np.asarray(se)), np.add(estimate, z * np.asarray(se))


def interval_dict(row) -> dict:
    """Estimate, se and interval of a row (dict or Series) as plain numbers (non-finite -> None)."""
    return {k: number(row[k]) for k in INTERVAL_KEYS if k in row}
