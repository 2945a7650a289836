"""Fixtures shared by test modules: one full pipeline run on a generated sample (built once)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

from analysis.core.params import load_params
from analysis.core.section import Section
from analysis.data.validation import load_dataset
from analysis.pipeline.run import run_pipeline, skip_iri_format_checks
from analysis.synth import SynthConfig, generate, write

# the test processes import nbformat (papermill, the notebook tests) as the runner does: without
# jsonschema's IRI checkers, whose import alone takes about 3 s in every process
skip_iri_format_checks()

# a pseudonym key strong enough for the key rule (32 bytes, hex), the same in every test
TEST_KEY = hashlib.sha256(b"workbench test key").hexdigest()

# Property tests draw the same examples on every run, so CI is never red by the luck of a draw;
# HYPOTHESIS_PROFILE=explore draws new ones (and keeps failures in .hypothesis/) while developing.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

ROOT = Path(__file__).resolve().parents[1]  # the repository
REFERENCE = ROOT / "tests" / "reference"  # published results the statistics are checked against
DEFAULT = ROOT / "params" / "default.yaml"


@pytest.fixture
def test_key(monkeypatch) -> str:
    """The tests' pseudonym key in the environment, where a scheduled run would find it."""
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", TEST_KEY)
    return TEST_KEY


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, worker_id):
    """The whole pipeline on a generated regional government: (run folder, truth, tables).

    Built once for the whole test session: with pytest-xdist the first worker to need it runs the
    pipeline under a file lock in the folder the workers share, the others wait and use that run."""
    os.environ["WORKBENCH_PSEUDONYM_KEY"] = TEST_KEY
    tables, truth = generate(SynthConfig(employees=1500, seed=7))  # deterministic: the same in every worker
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    base = shared / "sample_run"
    with open(shared / "sample_run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        done = base / "run_dir.txt"
        if not done.exists():
            write(tables, truth, base / "data")
            res = run_pipeline(DEFAULT, data=base / "data", out_root=base / "out", echo=lambda m: None)
            assert res.exit_code == 0, res.message
            done.write_text(str(res.run_dir))
        run_dir = Path(done.read_text())
    return run_dir, truth, tables


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory):
    """A small generated regional government, validated as a run would see it: (tables, truth, params).

    For the section builders' own tests (each stage's ``sections.py``), without running notebooks.
    """
    folder = tmp_path_factory.mktemp("small") / "data"
    tables, truth = generate(SynthConfig(employees=800, seed=5))
    write(tables, truth, folder)
    ds = load_dataset(folder)
    assert ds.report.ok, ds.report.summary()
    return ds.tables, truth, load_params(DEFAULT)


def assert_plain(value, where: str = "value") -> None:
    """Key figures hold only what a results file can say exactly: mappings, lists, strings, numbers,
    booleans and missing values (``to_json_safe`` would turn anything else into its repr)."""
    import numpy as np

    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, (str, int, np.integer)), f"{where}: key {k!r} is not plain"
            assert_plain(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            assert_plain(v, f"{where}[{i}]")
    else:
        assert value is None or value is pd.NA or isinstance(value, (str, bool, int, float, np.generic)), \
            f"{where} is a {type(value).__name__}, which a results file cannot hold as it is"


def assert_section_contract(section: Section, name: str | None = None) -> None:
    """What every section builder promises the notebook and the runner.

    A status ("ok" or "skipped: <why>"), a reading in both languages, key figures that are plain
    JSON, circulated tables as DataFrames with no person's name, and restricted lists only among
    the restricted outputs.
    """
    assert isinstance(section, Section)
    if name is not None:
        assert section.name == name
    assert section.status == "ok" or section.status.startswith("skipped: "), section.status
    for lang in ("id", "en"):
        assert section.describe(lang).strip(), f"{section.name}: no reading in {lang}"
    assert_plain(section.key_figures, f"{section.name}.key_figures")
    for table, out in section.tables.items():
        assert isinstance(out.data, pd.DataFrame), table
        assert "name" not in out.data.columns, f"{table} circulates names"
        if out.n_col is not None:
            assert out.n_col in out.data.columns, f"{table}: its group-size column {out.n_col} is missing"
    assert not set(section.tables) & set(section.restricted), "a list is both circulated and restricted"


def figure_texts(fig) -> list[str]:
    """Every piece of text a figure shows: titles, axis labels, tick labels, legends."""
    fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text().strip()]


def assert_draws_in_both_languages(make) -> None:
    """``make(lang)`` draws a figure that renders, has axes, and whose words follow the language."""
    import io

    import matplotlib.pyplot as plt

    texts = {}
    for lang in ("id", "en"):
        fig = make(lang)
        assert fig.axes, "the figure has no axes"
        fig.savefig(io.BytesIO(), format="png")
        texts[lang] = figure_texts(fig)
        plt.close(fig)
    assert texts["id"] and texts["id"] != texts["en"], "the figure's words do not follow the language"


def assert_results_api(result) -> None:
    """The one results API: ``to_frame()`` a table, ``to_dict()`` plain JSON, ``summary()`` text."""
    from analysis.core.results import Results

    assert isinstance(result, Results), f"{type(result).__name__} does not offer the results API"
    assert isinstance(result.to_frame(), pd.DataFrame)
    json.dumps(result.to_dict(), allow_nan=False)  # JSON as it is: no numpy values, no NaN
    text = result.summary()
    assert isinstance(text, str) and text.strip()
