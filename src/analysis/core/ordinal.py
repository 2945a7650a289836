"""Order on the appraisal scales, and movement along them: one rank per scale, one rule for up/same/down.

Both appraisal scales have five steps, best first in ``codes``; rank 5 is the best. A person moves
*up* when their rank rises (a later period, another scheme, ratings with rater effects removed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core.codes import PP30_BANDS, PREDIKAT

MOVES = ("up", "same", "down")


def ranks(scale: tuple[str, ...]) -> dict[str, int]:
    """Rank of each category of a best-first scale: 5 for the best of five."""
    return {category: len(scale) - i for i, category in enumerate(scale)}


PREDIKAT_RANK = ranks(PREDIKAT)  # PermenPANRB 6/2022: sangat_baik 5 ... sangat_kurang 1
PP30_RANK = ranks(PP30_BANDS)  # PP 30/2019: sangat_baik 5 ... sangat_kurang 1


def direction(change) -> np.ndarray:
    """'up', 'down' or 'same' for each change in rank (after minus before)."""
    change = np.asarray(change)
    return np.select([change > 0, change < 0], ["up", "down"], "same")


def move_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """From counts in columns up/same/down (any missing is 0): n, n_up, n_same, n_down and their shares."""
    g = counts.reindex(columns=list(MOVES), fill_value=0)
    g.insert(0, "n", g.sum(axis=1))
    for move in MOVES:
        g[f"share_{move}"] = g[move] / g["n"]
    return g.rename(columns={move: f"n_{move}" for move in MOVES})
