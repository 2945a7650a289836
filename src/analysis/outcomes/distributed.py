"""Appraisal outcomes on Dask (``engine: dask``): the same rules as ``predikat`` and ``bounds``, over the
validated tables as partitioned Parquet (``engine.partitioned``).

An appraisal and its employee lie in the same partition number (both are placed by the employee's
region), so the appraisals are joined to the employees partition by partition, with no shuffle; the
units are small and joined whole to every partition. Each partition's predikat comes from
``predikat.with_predikat``, the function the regional run uses, and the rows are put in the regional
run's order at the end: the table is the regional run's, dtypes included (tested).
"""

from __future__ import annotations

import pandas as pd

from analysis.core.codes import PREDIKAT
from analysis.outcomes import predikat


def _people_and_predikat(appraisals: pd.DataFrame, employees: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    return predikat.with_predikat(predikat.with_people(appraisals.reset_index(drop=True), employees, units))


def lazy_outcomes(appraisals, employees, units: pd.DataFrame):
    """The outcomes as a lazy Dask DataFrame, one partition per partition of the tables (unordered)."""
    import dask.dataframe as dd

    if appraisals.npartitions != employees.npartitions:
        raise ValueError(f"appraisals have {appraisals.npartitions} partitions and employees "
                         f"{employees.npartitions}: both must be written by engine.partitioned with the same "
                         "number")
    # align_dataframes=False: partition k meets partition k (they are cut by the same region hash)
    return dd.map_partitions(_people_and_predikat, appraisals, employees, units, align_dataframes=False)


def appraisal_outcomes(appraisals, employees, units: pd.DataFrame) -> pd.DataFrame:
    """``predikat.appraisal_outcomes`` on Dask: the same table (see the module docstring)."""
    return predikat.in_order(lazy_outcomes(appraisals, employees, units).compute())


def unit_counts(outcomes) -> pd.DataFrame:
    """``bounds.unit_counts`` on Dask: people per predikat for each unit and period, counted on the
    partitions and summed on the client (one row per unit, period and predikat crosses the network)."""
    # one output partition: the counts are small, so a tree reduction, never a shuffle of the rows
    counts = (outcomes.dropna(subset=["predikat"]).groupby(["unit_id", "period", "predikat"])
              .size(split_out=1).compute())
    wide = counts.unstack(fill_value=0).reindex(columns=list(PREDIKAT), fill_value=0).sort_index()
    wide.columns = [f"n_{c}" for c in wide.columns]
    wide.insert(0, "n", wide.sum(axis=1))
    return wide.reset_index()
