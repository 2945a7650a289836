"""Fixtures shared by test modules: one full pipeline run on a generated sample (built once)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from analysis.pipeline.run import run_pipeline
from analysis.synth import SynthConfig, generate, write

# Property tests draw the same examples on every run, so CI is never red by the luck of a draw;
# HYPOTHESIS_PROFILE=explore draws new ones (and keeps failures in .hypothesis/) while developing.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

ROOT = Path(__file__).resolve().parents[1]  # the repository
REFERENCE = ROOT / "tests" / "reference"  # published results the statistics are checked against
DEFAULT = ROOT / "params" / "default.yaml"


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """The whole pipeline on a generated regional government: (run folder, truth, tables)."""
    os.environ["WORKBENCH_PSEUDONYM_KEY"] = "test-key"
    base = tmp_path_factory.mktemp("sample")
    tables, truth = generate(SynthConfig(employees=1500, seed=7))
    write(tables, truth, base / "data")
    res = run_pipeline(DEFAULT, data=base / "data", out_root=base / "out", echo=lambda m: None)
    assert res.exit_code == 0, res.message
    return res.run_dir, truth, tables
