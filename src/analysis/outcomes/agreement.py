"""Agreement between appraisal schemes: who changes category, and where.

Both schemes are put on one ordinal scale of five steps (5 = best; ``core.ordinal``):
PermenPANRB 6/2022 sangat_baik > baik > butuh_perbaikan > kurang > sangat_kurang;
PP 30/2019 sangat_baik > baik > cukup > kurang > sangat_kurang. The cross-table and weighted
kappa of the two are ``stats.kappa``.
"""

from __future__ import annotations

import pandas as pd

from analysis.core.ordinal import direction, move_shares


def changes(keys: pd.DataFrame, a: pd.Series, b: pd.Series) -> pd.DataFrame:
    """Per person: rank under a and under b, the step change (b - a) and its direction."""
    out = keys.copy()
    out["rank_a"], out["rank_b"] = a.to_numpy(), b.to_numpy()
    out = out[out["rank_a"].notna() & out["rank_b"].notna()].copy()
    out["change"] = (out["rank_b"] - out["rank_a"]).astype(int)
    out["direction"] = direction(out["change"])
    return out


def changes_by(changed: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """How many people move up, down or stay, per group; shares of the group."""
    return move_shares(changed.groupby(by)["direction"].value_counts().unstack(fill_value=0)).reset_index()
