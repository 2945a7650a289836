"""Appraisal outcomes on Dask (``engine: dask``): the same rules as ``predikat`` and ``bounds``, over the
validated tables as partitioned Parquet (``engine.partitioned``).

An appraisal and its employee lie in the same partition number (both are placed by the employee's
region), and so does the employee's unit, so the appraisals are joined to the employees and their
units partition by partition, with no shuffle. (The units used to be sent whole with every task: at
national size, 185,000 units made a 16 MiB task graph.) Each partition's predikat comes from
``predikat.with_predikat``, the function the regional run uses, and the rows are put in the regional
run's order at the end: the table is the regional run's, dtypes included (tested).
"""

from __future__ import annotations

import pandas as pd

from analysis.core.codes import PREDIKAT
from analysis.outcomes import predikat


def people_and_predikat(appraisals: pd.DataFrame, employees: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """One partition's outcomes: its appraisals with their employees and units (the same partition)."""
    return predikat.with_predikat(predikat.with_people(appraisals.reset_index(drop=True), employees, units))


def lazy_outcomes(parts):
    """The outcomes as a lazy Dask DataFrame, one partition per partition of the tables (unordered).
    ``parts`` is ``engine.partitioned.from_parts`` bound to the run's tables (``RunContext.parts``):
    partition k of the appraisals meets partition k of the employees and of the units. Keys are unique
    (validation sees to it): the join is not checked again here, as the regional run's
    ``many_to_one`` does."""
    return parts(["appraisals", "employees", "units"], people_and_predikat)


def appraisal_outcomes(parts) -> pd.DataFrame:
    """``predikat.appraisal_outcomes`` on Dask: the same table (see the module docstring).

    Each partition comes to the client on its own and they are put together here: ``compute`` on the
    frame would first gather them on one worker, which at national size (13.5 million rows) is more
    than a worker's memory."""
    import dask

    frames = [f for f in dask.compute(*lazy_outcomes(parts).to_delayed()) if len(f)]
    if not frames:
        return predikat.in_order(lazy_outcomes(parts)._meta)
    return predikat.in_order(pd.concat(frames) if len(frames) > 1 else frames[0])


def unit_totals(outcomes) -> pd.DataFrame:
    """``bounds.unit_totals`` on Dask: summed on the partitions, one row per unit and period to the client."""
    top = (outcomes["predikat"] == "sangat_baik").astype("int64")
    both = top.to_frame("n_sangat_baik").assign(unit_id=outcomes["unit_id"], period=outcomes["period"])
    g = both.groupby(["unit_id", "period"])["n_sangat_baik"].agg(["count", "sum"], split_out=1).compute()
    out = pd.DataFrame({"n": g["count"].astype("int64"), "n_sangat_baik": g["sum"].astype("int64")}).sort_index()
    return out.reset_index()


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
