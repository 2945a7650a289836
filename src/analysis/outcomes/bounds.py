"""Distribution of employee predikat within a unit, against SE MenPANRB 3/2023.

The unit's own predikat bounds the shares of its employees' predikat. The
bounds are limits, not a target curve. Each unit and period is checked
against every bound of its org predikat, and the result says by how many
people each bound is missed: for an upper bound, how many must leave the
category; for a lower bound, how many more it needs.

Shares are compared in whole people with integer arithmetic (``count * 100
<= percent * n``), so 70% of 10 is exactly 7 and 60% of 5 exactly 3, with no
floating-point edge effects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from analysis.core.codes import PREDIKAT


@dataclass(frozen=True)
class Bound:
    id: str
    categories: tuple[str, ...]
    kind: Literal["max", "min"]
    percent: int | None = None  # share bound, in percent
    count: int | None = None  # absolute bound in people ("at least one")

    def limit(self, n: np.ndarray) -> np.ndarray:
        """Largest (max) or smallest (min) allowed number of people, for units of size n."""
        n = np.asarray(n, dtype=np.int64)
        if self.count is not None:
            return np.full_like(n, self.count)
        if self.kind == "max":
            return (self.percent * n) // 100
        return -((-self.percent * n) // 100)  # ceiling

    def shortfall(self, count: np.ndarray, n: np.ndarray) -> np.ndarray:
        """People by which the bound is missed (0 when it holds)."""
        count = np.asarray(count, dtype=np.int64)
        lim = self.limit(n)
        return np.maximum(count - lim, 0) if self.kind == "max" else np.maximum(lim - count, 0)

    def describe(self) -> str:
        cats = " or ".join(self.categories)
        if self.count is not None:
            return f"at least {self.count} {cats}"
        return f"{'at most' if self.kind == 'max' else 'at least'} {self.percent}% {cats}"


RULES: dict[str, tuple[Bound, ...]] = {
    "istimewa": (Bound("max_sangat_baik_70", ("sangat_baik",), "max", 70),),
    "baik": (
        Bound("max_baik_70", ("baik",), "max", 70),
        Bound("min_bp_or_kurang_1", ("butuh_perbaikan", "kurang"), "min", count=1),
    ),
    "butuh_perbaikan": (
        Bound("min_butuh_perbaikan_60", ("butuh_perbaikan",), "min", 60),
        Bound("max_sangat_baik_10", ("sangat_baik",), "max", 10),
    ),
    "kurang": (
        Bound("min_kurang_60", ("kurang",), "min", 60),
        Bound("min_butuh_perbaikan_10", ("butuh_perbaikan",), "min", 10),
        Bound("max_sangat_baik_10", ("sangat_baik",), "max", 10),
    ),
    "sangat_kurang": (
        Bound("min_sangat_kurang_60", ("sangat_kurang",), "min", 60),
        Bound("min_kurang_or_bp_10", ("kurang", "butuh_perbaikan"), "min", 10),
        Bound("max_sangat_baik_0", ("sangat_baik",), "max", 0),
    ),
}
BOUND_IDS = list(dict.fromkeys(b.id for bounds in RULES.values() for b in bounds))


def unit_counts(outcomes: pd.DataFrame) -> pd.DataFrame:
    """People per predikat for each unit and period."""
    counts = (outcomes.dropna(subset=["predikat"]).groupby(["unit_id", "period"])["predikat"]
              .value_counts().unstack(fill_value=0).reindex(columns=list(PREDIKAT), fill_value=0))
    counts.columns = [f"n_{c}" for c in counts.columns]
    counts.insert(0, "n", counts.sum(axis=1))
    return counts.reset_index()


def unit_totals(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per unit and period: people appraised (``n``, a predikat that cannot be derived included) and
    those rated Sangat Baik (``n_sangat_baik``)."""
    top = (outcomes["predikat"] == "sangat_baik").astype("int64")
    g = top.groupby([outcomes["unit_id"], outcomes["period"]])
    return pd.DataFrame({"n": g.size(), "n_sangat_baik": g.sum()}).reset_index()


def check_bounds(counts: pd.DataFrame, org_ratings: pd.DataFrame) -> pd.DataFrame:
    """One row per unit, period and applicable bound: limit, count, shortfall, holds.

    Unit-periods without an org predikat get a single row with bound 'no_org_rating'.
    """
    df = counts.merge(org_ratings[["unit_id", "period", "org_predikat"]],
                      on=["unit_id", "period"], how="left")
    rows = []
    for org, bounds in RULES.items():
        sub = df[df["org_predikat"] == org]
        if sub.empty:
            continue
        n = sub["n"].to_numpy()
        for b in bounds:
            count = sum(sub[f"n_{c}"].to_numpy() for c in b.categories)
            rows.append(pd.DataFrame({
                "unit_id": sub["unit_id"].to_numpy(), "period": sub["period"].to_numpy(),
                "org_predikat": org, "n": n, "bound": b.id, "rule": b.describe(), "kind": b.kind,
                "limit": b.limit(n), "count": count, "shortfall": b.shortfall(count, n),
            }))
    unrated = df[df["org_predikat"].isna()]
    if len(unrated):
        rows.append(pd.DataFrame({
            "unit_id": unrated["unit_id"].to_numpy(), "period": unrated["period"].to_numpy(),
            "org_predikat": None, "n": unrated["n"].to_numpy(), "bound": "no_org_rating",
            "rule": "no org predikat for this unit and period", "kind": None,
            "limit": pd.NA, "count": pd.NA, "shortfall": pd.NA,
        }))
    if not rows:
        return pd.DataFrame(columns=["unit_id", "period", "org_predikat", "n", "bound", "rule", "kind",
                                     "limit", "count", "shortfall", "holds"])
    long = pd.concat(rows, ignore_index=True)
    long["shortfall"] = long["shortfall"].astype("Int64")
    long["holds"] = (long["shortfall"] == 0).astype("boolean")
    return long.sort_values(["period", "unit_id", "bound"], kind="stable").reset_index(drop=True)


def compliance_table(counts: pd.DataFrame, bounds: pd.DataFrame) -> pd.DataFrame:
    """One row per unit and period: counts, compliant, violated bounds and the shortfall per bound.

    ``shortfall_<bound>`` is empty where the bound does not apply to the unit's org predikat.
    ``compliant`` is empty where the unit has no org predikat for the period.
    """
    rated = bounds[bounds["bound"] != "no_org_rating"]
    wide = rated.pivot_table(index=["unit_id", "period"], columns="bound", values="shortfall",
                             aggfunc="first")
    wide = wide.reindex(columns=BOUND_IDS)
    wide.columns = [f"shortfall_{b}" for b in wide.columns]
    wide = wide.astype("Int64").reset_index()
    violated = (rated[rated["shortfall"] > 0].groupby(["unit_id", "period"])["bound"]
                .agg(lambda s: ";".join(s)).rename("violated_bounds").reset_index())
    org = bounds[["unit_id", "period", "org_predikat"]].drop_duplicates(["unit_id", "period"])
    out = counts.merge(org, on=["unit_id", "period"], how="left")
    out = out.merge(wide, on=["unit_id", "period"], how="left").merge(violated, on=["unit_id", "period"], how="left")
    out["violated_bounds"] = out["violated_bounds"].fillna("")
    has_org = out["org_predikat"].notna()
    out["compliant"] = pd.array(np.where(has_org, out["violated_bounds"] == "", pd.NA), dtype="boolean")
    short_cols = [c for c in out.columns if c.startswith("shortfall_")]
    # a lower bound on how many people must change predikat for the unit to comply
    out["max_shortfall"] = out[short_cols].max(axis=1).astype("Int64")
    lead = ["unit_id", "period", "org_predikat", "compliant", "violated_bounds", "max_shortfall", "n"]
    rest = [c for c in out.columns if c not in lead]
    return out[lead + rest].sort_values(["period", "unit_id"], kind="stable").reset_index(drop=True)


def check_distribution(outcomes: pd.DataFrame | None, org_ratings: pd.DataFrame,
                       counts: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compliance per unit and period (wide) and per bound (long). ``counts``: the outcomes' ``unit_counts``
    when they were counted elsewhere (on Dask: ``outcomes.distributed.unit_counts``)."""
    counts = unit_counts(outcomes) if counts is None else counts
    bounds = check_bounds(counts, org_ratings)
    return compliance_table(counts, bounds), bounds


def compliance_summary(compliance: pd.DataFrame, units: pd.DataFrame | None = None,
                       by: list[str] | None = None) -> pd.DataFrame:
    """Unit-periods checked, compliant and not, and people to move, per group (e.g. region, period)."""
    df = compliance.copy()
    by = list(by or [])
    if units is not None and "region" in by and "region" not in df:
        df = df.merge(units[["unit_id", "region"]], on="unit_id", how="left")
    df["_checked"] = df["compliant"].notna()
    df["_noncompliant"] = df["compliant"].eq(False).fillna(False).astype(bool)
    df["_people"] = df["max_shortfall"].fillna(0).astype(int)
    grouped = df.groupby(by, dropna=False) if by else df.assign(_all="all").groupby("_all")
    out = grouped.agg(
        unit_periods=("unit_id", "size"),
        checked=("_checked", "sum"),
        non_compliant=("_noncompliant", "sum"),
        people_to_move=("_people", "sum"),
    ).reset_index()
    if not by:
        out = out.drop(columns="_all")
    out["share_non_compliant"] = out["non_compliant"] / out["checked"].where(out["checked"] > 0)
    return out


def violations_by_bound(bounds: pd.DataFrame) -> pd.DataFrame:
    """How often each bound is missed, per org predikat and period."""
    rated = bounds[bounds["bound"] != "no_org_rating"]
    out = rated.groupby(["period", "org_predikat", "bound", "rule"], observed=True).agg(
        units=("unit_id", "size"),
        violated=("holds", lambda s: int((~s.astype(bool)).sum())),
        people=("shortfall", "sum"),
    ).reset_index()
    out["people"] = out["people"].astype(int)
    return out
