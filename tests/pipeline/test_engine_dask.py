"""A run with ``engine: dask`` gives the regional run's outputs: the validated tables partitioned in the run
folder; the derived appraisal outcomes, notebook 01's per-unit counts and notebook 02's rater model
computed on a 2-worker LocalCluster (the kernels attach to the runner's cluster); notebooks 01 and 02's
tables and results identical to those of the pandas run on the same data. (On the sample and at 100 k,
the whole run is byte-identical too: benchmarks/results/engine_compare.md.)"""

from __future__ import annotations

import json

import pytest

from analysis.pipeline.context import RunContext
from analysis.pipeline.run import run_pipeline
from conftest import DEFAULT
from corpus.parts import cut_by_region

pytestmark = pytest.mark.usefixtures("test_key")


def params(tmp_path, text: str):
    path = tmp_path / "national.yaml"
    path.write_text(f"extends: {DEFAULT}\nengine: dask\n{text}", encoding="utf-8")
    return path


def test_notebooks_01_and_02_on_dask_give_the_regional_runs_outputs(sample_run, tmp_path, capfd):
    regional, _, _ = sample_run
    data = regional.parent.parent / "data"
    lines = []
    res = run_pipeline(params(tmp_path, "dask: {workers: 2, memory_limit: 1GiB, partitions: 8}\n"), data=data,
                       out_root=tmp_path / "out", only="01,02", echo=lines.append)
    assert res.exit_code == 0, "\n".join(lines)
    # nothing from Dask on the console: not the runner's lines, nor what its workers write to the terminal
    out, err = capfd.readouterr()
    noise = [line for line in [*lines, *out.splitlines(), *err.splitlines()]
             if "WARNING" in line or "Traceback" in line or "distributed." in line]
    assert not noise, noise
    run = res.run_dir
    manifest = json.loads((run / "manifest.json").read_text())
    written = len(list((run / "data" / "partitioned").glob("*/part-*.parquet")))
    assert manifest["engine"] | {"partitioned_seconds": 0} == {
        "name": "dask", "scheduler": "local", "workers": 2, "threads_per_worker": 1, "memory_limit": "1GiB",
        "partitions": 8, "partitioned_by": "region", "partition_files": written, "partitioned_seconds": 0}
    assert written > 8 * 5  # the tables of people and units in 8 files each, the reference tables in one
    assert len(list((run / "data" / "partitioned" / "appraisals").glob("part-*.parquet"))) == 8
    assert not (run / "data" / "dask-scratch-space").exists()  # the workers' spill folders are tidied
    derived = "data/derived/appraisal_outcomes.parquet"
    assert (run / derived).read_bytes() == (regional / derived).read_bytes()
    tables = sorted(p.name for p in (run / "tables").iterdir())
    assert tables
    for name in tables:
        assert (run / "tables" / name).read_bytes() == (regional / "tables" / name).read_bytes(), name
    for result in ("results/01_appraisal_outcomes.json", "results/02_rater_bias.json"):
        assert (run / result).read_bytes() == (regional / result).read_bytes(), result
    assert "compliance_by_period.csv" in tables
    assert "rater_model_variance_components.csv" in tables
    # notebook 02's model was gathered from the 8 partitions (the manifest says so; the results cannot)
    step = next(s for s in manifest["steps"] if s["name"] == "02_rater_bias")
    assert step["timings"]["rater_model_partitions"] == 8


def test_a_partitioned_dataset_is_validated_on_the_cluster_and_gives_the_regional_runs_outputs(sample_run, tmp_path):
    """The sample cut into parts by region: validated part by part on the cluster, its parts the run's
    partitions, no table whole in the run folder; notebooks 01 and 04 (whose per-unit tables are summed
    on the cluster) as in the regional run on the CSV files."""
    regional, _, _ = sample_run
    data = cut_by_region(regional.parent.parent / "data", tmp_path / "parts", 4)
    lines = []
    res = run_pipeline(params(tmp_path, "dask: {workers: 2, memory_limit: 1GiB}\n"), data=data,
                       out_root=tmp_path / "out", only="01,04", echo=lines.append)
    assert res.exit_code == 0, "\n".join(lines)
    run = res.run_dir
    assert "on the cluster in 4 partitions" in "\n".join(lines)
    ctx = RunContext.open(run)
    assert ctx.has("appraisals") and ctx.on_dask and ctx.unit_totals() is not None
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["engine"]["partitions"] == 4 and manifest["engine"]["partitioned_by"] == "the dataset's parts"
    assert manifest["dataset"]["files"]["appraisals"]["parts"] == 4
    assert not list((run / "data").glob("*.parquet"))  # only the parts: nothing was ever whole
    assert len(list((run / "data" / "partitioned" / "feedback_360").glob("part-*.parquet"))) == 4
    derived = "data/derived/appraisal_outcomes.parquet"
    assert (run / derived).read_bytes() == (regional / derived).read_bytes()
    for name in sorted(p.name for p in (run / "tables").iterdir()):
        assert (run / "tables" / name).read_bytes() == (regional / "tables" / name).read_bytes(), name
    for result in ("results/01_appraisal_outcomes.json", "results/04_rollout_evaluation.json"):
        assert (run / result).read_bytes() == (regional / result).read_bytes(), result
    ours, theirs = (json.loads((r / "results/00_run.json").read_text()) for r in (run, regional))
    assert ours["values"]["tables"] == theirs["values"]["tables"]
    assert ours["values"]["validation"] == theirs["values"]["validation"]


def test_a_scheduler_that_does_not_answer_stops_the_run_with_one_line(sample_run, tmp_path):
    regional, _, _ = sample_run
    lines = []
    res = run_pipeline(params(tmp_path, "dask: {scheduler: 'tcp://127.0.0.1:1', connect_seconds: 2}\n"),
                       data=regional.parent.parent / "data", out_root=tmp_path / "out", only="01",
                       echo=lines.append)
    text = "\n".join(lines)
    assert res.exit_code == 1 and "Traceback" not in text
    assert "engine: dask: could not start or reach the scheduler at tcp://127.0.0.1:1" in text
