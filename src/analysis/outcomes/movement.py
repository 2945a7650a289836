"""Change across appraisal periods: distributions over time and who moves between predikat."""

from __future__ import annotations

import pandas as pd

from analysis.core.codes import PREDIKAT
from analysis.core.ordinal import PREDIKAT_RANK, direction, move_shares
from analysis.core.periods import sort_periods


def transitions(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Counts of employees by predikat in one period (from) and the next (to), per pair of
    consecutive periods; only employees appraised in both."""
    order = sort_periods(outcomes["period"].unique())
    frames = []
    for before, after in zip(order, order[1:]):
        a = outcomes.loc[outcomes["period"] == before, ["employee_id", "predikat"]]
        b = outcomes.loc[outcomes["period"] == after, ["employee_id", "predikat"]]
        m = a.merge(b, on="employee_id", suffixes=("_from", "_to")).dropna()
        if m.empty:
            continue
        t = m.groupby(["predikat_from", "predikat_to"]).size().rename("n").reset_index()
        t.insert(0, "period_to", after)
        t.insert(0, "period_from", before)
        t["direction"] = direction(t["predikat_to"].map(PREDIKAT_RANK) - t["predikat_from"].map(PREDIKAT_RANK))
        frames.append(t)
    if not frames:
        return pd.DataFrame(columns=["period_from", "period_to", "predikat_from", "predikat_to", "n", "direction"])
    return pd.concat(frames, ignore_index=True)


def transition_matrix(trans: pd.DataFrame, period_from: str, period_to: str) -> pd.DataFrame:
    """Square from x to table of counts for one pair of periods."""
    t = trans[(trans["period_from"] == period_from) & (trans["period_to"] == period_to)]
    m = t.pivot_table(index="predikat_from", columns="predikat_to", values="n", aggfunc="sum", fill_value=0)
    return m.reindex(index=list(PREDIKAT), columns=list(PREDIKAT), fill_value=0)


def movement_summary(trans: pd.DataFrame) -> pd.DataFrame:
    """Per pair of periods: employees followed, and how many moved up, stayed, moved down."""
    if trans.empty:
        return pd.DataFrame(columns=["period_from", "period_to", "n", "n_up", "n_same", "n_down",
                                     "share_up", "share_same", "share_down"])
    g = move_shares(trans.pivot_table(index=["period_from", "period_to"], columns="direction", values="n",
                                      aggfunc="sum", fill_value=0))
    g.columns.name = None
    return g.reset_index()
