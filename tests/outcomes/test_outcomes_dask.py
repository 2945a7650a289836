"""Appraisal outcomes on Dask (``outcomes.distributed``) are the regional run's, to the last bit and dtype,
on a 2-worker LocalCluster over the tables as partitioned Parquet."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.core.params import Dask
from analysis.engine import cluster
from analysis.engine import partitioned as P
from analysis.outcomes import bounds, distributed, predikat


@pytest.fixture(scope="module")
def on_cluster(small_sample, tmp_path_factory):
    """The small sample's tables as the regional run reads them, the partitioned folder, and a client."""
    tables, _, _ = small_sample
    folder = tmp_path_factory.mktemp("parts")
    P.write_partitioned(tables, folder, 8)
    regional = {}
    for name in ("appraisals", "employees", "units"):
        tables[name].to_parquet(folder / f"{name}.parquet", index=True)
        regional[name] = pd.read_parquet(folder / f"{name}.parquet")
    with cluster.connect(Dask(workers=2, memory_limit="1GiB")) as client:
        yield regional, folder, client


def test_appraisal_outcomes_are_the_regional_runs(on_cluster):
    regional, folder, _ = on_cluster
    expected = predikat.appraisal_outcomes(regional["appraisals"], regional["employees"], regional["units"])
    got = distributed.appraisal_outcomes(P.dask_frame(folder, "appraisals"), P.dask_frame(folder, "employees"),
                                         regional["units"])
    pd.testing.assert_frame_equal(got, expected)
    assert got["predikat"].notna().all() and len(got) == len(regional["appraisals"])


def test_unit_counts_are_the_regional_runs(on_cluster):
    regional, folder, _ = on_cluster
    expected = bounds.unit_counts(predikat.appraisal_outcomes(regional["appraisals"], regional["employees"],
                                                              regional["units"]))
    lazy = distributed.lazy_outcomes(P.dask_frame(folder, "appraisals"), P.dask_frame(folder, "employees"),
                                     regional["units"])
    pd.testing.assert_frame_equal(distributed.unit_counts(lazy), expected)


def test_tables_cut_differently_are_refused(on_cluster, tmp_path):
    regional, folder, _ = on_cluster
    P.write_partitioned({"units": regional["units"], "employees": regional["employees"]}, tmp_path, 3)
    with pytest.raises(ValueError, match="same number"):
        distributed.lazy_outcomes(P.dask_frame(folder, "appraisals"), P.dask_frame(tmp_path, "employees"),
                                  regional["units"])
