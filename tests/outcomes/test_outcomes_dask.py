"""Appraisal outcomes on Dask (``outcomes.distributed``) are the regional run's, to the last bit and dtype,
on a 2-worker LocalCluster over the tables as partitioned Parquet: with more partitions than regions
(most partitions empty), with periods chosen in params, and however Dask reads the files."""

from __future__ import annotations

import functools

import pandas as pd
import pytest
import yaml

from analysis.core.params import Dask, Params
from analysis.engine import cluster
from analysis.engine import partitioned as P
from analysis.outcomes import bounds, distributed, predikat
from analysis.pipeline.context import RunContext


def regional(tables: dict, folder) -> dict:
    """The tables as the regional run reads them (one Parquet file each)."""
    out = {}
    for name in ("appraisals", "employees", "units"):
        tables[name].to_parquet(folder / f"{name}.parquet", index=True)
        out[name] = pd.read_parquet(folder / f"{name}.parquet")
    return out


@pytest.fixture(scope="module")
def on_cluster(small_sample, tmp_path_factory):
    """The small sample's tables as the regional run reads them, and a client of a 2-worker cluster."""
    tables, _, _ = small_sample
    with cluster.connect(Dask(workers=2, memory_limit="1GiB")) as client:
        yield tables, regional(tables, tmp_path_factory.mktemp("one")), client


def parts_of(folder):
    read = functools.partial(P.read_part, folder)
    return functools.partial(P.from_parts, read, folder=folder)


@pytest.mark.parametrize("n", [1, 8, 64])
def test_appraisal_outcomes_are_the_regional_runs(on_cluster, tmp_path, n):
    tables, one, _ = on_cluster
    P.write_partitioned(tables, tmp_path, n)
    expected = predikat.appraisal_outcomes(one["appraisals"], one["employees"], one["units"])
    got = distributed.appraisal_outcomes(parts_of(tmp_path))
    pd.testing.assert_frame_equal(got, expected)
    assert got["predikat"].notna().all() and got["region"].notna().all() and len(got) == len(one["appraisals"])


def test_the_task_graph_does_not_carry_the_units(on_cluster, tmp_path):
    """Each partition's units are read where its task runs: the graph sent to the scheduler holds no
    table (at national size the units, sent whole with every task, made a 16 MiB graph)."""
    import cloudpickle

    tables, one, _ = on_cluster
    P.write_partitioned(tables, tmp_path, 8)
    graph = cloudpickle.dumps(dict(distributed.lazy_outcomes(parts_of(tmp_path)).__dask_graph__()))
    names = one["units"]["unit_name"].dropna().astype(str)
    assert len(names) and not any(name.encode("utf-8") in graph for name in names)
    assert len(graph) < 100_000


def test_unit_counts_are_the_regional_runs(on_cluster, tmp_path):
    tables, one, _ = on_cluster
    P.write_partitioned(tables, tmp_path, 16)
    expected = bounds.unit_counts(predikat.appraisal_outcomes(one["appraisals"], one["employees"], one["units"]))
    pd.testing.assert_frame_equal(distributed.unit_counts(distributed.lazy_outcomes(parts_of(tmp_path))),
                                  expected)


def test_unit_totals_are_the_regional_runs_with_predikat_missing(on_cluster, tmp_path):
    tables, one, _ = on_cluster
    tables = dict(tables)
    app = tables["appraisals"].copy()
    app.loc[app.index[::29], "hasil_kerja"] = None  # no predikat for these: appraised, not Sangat Baik
    tables["appraisals"] = app
    app.to_parquet(tmp_path / "appraisals.parquet", index=True)
    P.write_partitioned(tables, tmp_path / "parts", 16)
    expected = predikat.appraisal_outcomes(pd.read_parquet(tmp_path / "appraisals.parquet"), one["employees"],
                                           one["units"])
    assert expected["predikat"].isna().any()
    got = distributed.unit_totals(distributed.lazy_outcomes(parts_of(tmp_path / "parts")))
    pd.testing.assert_frame_equal(got, bounds.unit_totals(expected))


def test_tables_cut_differently_are_refused(on_cluster, tmp_path):
    tables, one, _ = on_cluster
    P.write_partitioned(tables, tmp_path, 4)
    P.write_partitioned({"units": tables["units"], "employees": tables["employees"]}, tmp_path, 3)
    with pytest.raises(ValueError, match="different numbers of partitions"):
        distributed.lazy_outcomes(parts_of(tmp_path))


def run_folder(tmp_path, tables, params: Params):
    """A run folder as the runner leaves it for the notebooks: params, the tables, partitioned."""
    (tmp_path / "data").mkdir(parents=True)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params.dump()), encoding="utf-8")
    for name, df in tables.items():
        df.to_parquet(tmp_path / "data" / f"{name}.parquet", index=True)
    P.write_partitioned(tables, tmp_path / "data" / "partitioned", params.dask.partitions)
    return tmp_path


@pytest.mark.parametrize("chosen", [["2024"], ["2023", "2025"]])
def test_the_run_context_chooses_the_periods_in_every_partition_even_empty_ones(on_cluster, tmp_path, chosen):
    tables, _, _ = on_cluster
    params = Params(engine="dask", periods=chosen, dask=Dask(partitions=64))
    ctx = RunContext.open(run_folder(tmp_path / "dask", tables, params))
    regional_params = params.model_copy(update={"engine": "pandas"})
    pandas_ctx = RunContext.open(run_folder(tmp_path / "pandas", tables, regional_params))
    assert ctx.on_dask and not pandas_ctx.on_dask
    got, expected = ctx.appraisal_outcomes(), pandas_ctx.appraisal_outcomes()
    assert set(got["period"]) == set(chosen) & set(tables["appraisals"]["period"])
    pd.testing.assert_frame_equal(got, expected)
    lazy = ctx.lazy_table("appraisals", columns=["employee_id", "hasil_kerja"])
    whole = pandas_ctx.table("appraisals", columns=["employee_id", "hasil_kerja"])
    pd.testing.assert_frame_equal(lazy.compute().sort_index(), whole)
    assert pandas_ctx.lazy_table("appraisals") is None  # engine: pandas never computes on Dask
    # the counts notebook 01 checks the SE 3/2023 bounds with, and the totals of notebook 04's panel:
    # the same with either engine
    pd.testing.assert_frame_equal(ctx.unit_counts(), bounds.unit_counts(expected))
    pd.testing.assert_frame_equal(pandas_ctx.unit_counts(), bounds.unit_counts(expected))
    pd.testing.assert_frame_equal(ctx.unit_totals(), bounds.unit_totals(expected))
    pd.testing.assert_frame_equal(pandas_ctx.unit_totals(), bounds.unit_totals(expected))
