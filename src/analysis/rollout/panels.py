"""The panels the rollout is evaluated on: service outcomes per unit and period with each unit's adoption
cohort, the cohorts by region, and the units' appraisal outcomes by appraisal period.

Adoption is the first period lived entirely under the new scheme (``stats.did.first_period_from``);
units without a row in ``rollout`` are left out, and every unit or period left out is said in a note.
"""

from __future__ import annotations

import pandas as pd

from analysis.core.periods import sort_periods
from analysis.outcomes import bounds
from analysis.stats.did.panel import PreparedPanel, first_period_from

UNIT, TIME, COHORT = "unit_id", "period", "cohort"


def build_panel(units: pd.DataFrame, rollout_table: pd.DataFrame, service_outcomes: pd.DataFrame,
                by: str = "region") -> tuple[pd.DataFrame, list[str]]:
    """Service outcomes per unit and period with the unit's cohort (first period under the scheme).

    Units without a row in ``rollout`` are left out (whether they adopted is unknown), and said.
    """
    notes = []
    known = set(rollout_table["unit_id"])
    so = service_outcomes[service_outcomes["unit_id"].isin(known)]
    n_unknown = service_outcomes.loc[~service_outcomes["unit_id"].isin(known), "unit_id"].nunique()
    if n_unknown:
        notes.append(f"{n_unknown} unit(s) with service outcomes but no row in rollout left out")
    periods = sort_periods(so["period"].dropna().unique())
    cohorts = rollout_table[["unit_id"]].assign(
        **{COHORT: first_period_from(rollout_table["adopted_period"], periods)})
    attrs = units[["unit_id", by]] if by in units.columns else units[["unit_id"]]
    panel = so.merge(cohorts, on="unit_id", how="left").merge(attrs, on="unit_id", how="left")
    return panel, notes


def cohort_table(panel: pd.DataFrame, prep: PreparedPanel, by: str) -> pd.DataFrame:
    """Units by adoption cohort (periods in order, then never, then the total), by ``by`` where known."""
    unit_cohort = pd.Series(prep.unit_cohort.to_numpy(), index=prep.unit_labels)
    labels = unit_cohort.map(prep.cohort_label)
    region = panel.drop_duplicates("unit_id").set_index("unit_id")[by] if by in panel.columns else None
    table = labels.rename("cohort").to_frame()
    if region is not None:
        table[by] = region.reindex(table.index).to_numpy()
        cohorts = pd.crosstab(table["cohort"], table[by], margins=True, margins_name="total")
    else:
        cohorts = table["cohort"].value_counts().rename("total").to_frame()
    order = [c for c in sort_periods([c for c in cohorts.index if c not in ("never", "total")])]
    order += [c for c in ("never", "total") if c in cohorts.index]
    return cohorts.reindex(order).rename_axis("cohort").reset_index()


def appraisal_panel(totals: pd.DataFrame, counts: pd.DataFrame, org_ratings: pd.DataFrame | None,
                    rollout_table: pd.DataFrame, min_employees: int = 5) -> tuple[pd.DataFrame, list[str]]:
    """Per unit and appraisal period: share rated Sangat Baik and compliance with the distribution bounds.

    Units with fewer than ``min_employees`` appraised in a period are left out of that period (their
    shares jump by 1/n and describe few people); the estimators then keep units seen in every period.
    ``totals`` and ``counts`` are the appraisal outcomes per unit and period (``bounds.unit_totals``,
    ``bounds.unit_counts``: ``RunContext.unit_totals``, ``unit_counts``), so that the panel never
    needs the outcomes of every employee.
    """
    metrics = totals[["unit_id", "period", "n"]].assign(share_sangat_baik=totals["n_sangat_baik"] / totals["n"])
    notes = []
    small = metrics["n"] < min_employees
    if small.any():
        notes.append(f"{int(small.sum())} unit-period(s) with fewer than {min_employees} appraised employees left out")
    metrics = metrics[~small]
    if org_ratings is not None:
        compliance, _ = bounds.check_distribution(None, org_ratings, counts)
        comp = compliance[["unit_id", "period", "compliant"]].dropna(subset=["compliant"])
        metrics = metrics.merge(comp.assign(compliant=comp["compliant"].astype(float)), on=["unit_id", "period"],
                                how="left")
    periods = sort_periods(metrics["period"].unique())
    cohorts = rollout_table[["unit_id"]].assign(
        **{COHORT: first_period_from(rollout_table["adopted_period"], periods)})
    late = rollout_table["adopted_period"].notna() & cohorts[COHORT].isna()
    if late.any():
        notes.append(f"{int(late.sum())} unit(s) adopting after the last appraisal period count as not adopted")
    panel = metrics.merge(cohorts, on="unit_id", how="inner")
    return panel, notes
