"""The layout of a run folder: the names every stage agrees on.

The runner builds a run in ``.tmp-<run_id>`` and renames it when it ends; notebooks read
``params.yaml`` and the validated tables under ``data/``; the brief reads ``results/``.
"""

from __future__ import annotations

from pathlib import Path

TMP_PREFIX = ".tmp-"  # a run still being built; renamed to its run id when it ends
PARAMS_FILE = "params.yaml"
DATA_DIR = "data"  # the validated tables (personal data)
DERIVED_DIR = "derived"  # under DATA_DIR: tables computed once per run and shared by the notebooks
PARTITIONED_DIR = "partitioned"  # under DATA_DIR, with engine: dask: the tables cut by region (engine.partitioned)
TIMINGS_DIR = ".timings"  # a notebook's own timings, merged into the manifest by the runner
RESULTS_DIR = "results"


def run_id(run_dir: Path) -> str:
    """The run's id from its folder, also while it is still being built in ``.tmp-<run_id>``."""
    return Path(run_dir).name.removeprefix(TMP_PREFIX)
