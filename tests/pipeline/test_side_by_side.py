"""Notebooks executed side by side: overlap up to ``parallel_notebooks``, the brief strictly last, a step
waits for the steps it reads, the manifest in step order, and a failure or a signal handled as when they
run one after another. The notebooks are fakes that record when they ran (the runner is under test)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest
import yaml

from analysis.core import privacy
from analysis.core.runfolder import TMP_PREFIX
from analysis.pipeline import run as runmod
from analysis.pipeline.results import write_results
from analysis.pipeline.run import run_pipeline
from analysis.pipeline.steps import STEPS, Step
from conftest import ROOT
from corpus.builders import write_dataset

DEFAULT = ROOT / "params" / "default.yaml"


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    from conftest import TEST_KEY

    monkeypatch.setenv(privacy.KEY_ENV, TEST_KEY)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("ds") / "data")


def params_with(tmp_path, **values):
    raw = yaml.safe_load(DEFAULT.read_text(encoding="utf-8")) | values
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


class Timeline:
    """Fake notebooks that take ``seconds`` each and record (name, start, end); ``fail`` names one that fails."""

    def __init__(self, seconds: float = 0.4, fail: str | None = None, hook=None):
        self.seconds, self.fail, self.hook = seconds, fail, hook
        self.spans: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def __call__(self, step, work, kernel, progress, server=None):
        start = time.monotonic()
        if self.hook:
            self.hook(step)
        time.sleep(self.seconds)
        with self.lock:
            self.spans[step.name] = (start, time.monotonic())
        if step.name == self.fail:
            return "failed", "ValueError: planted"
        write_results(work / "results" / f"{step.name}.json", step.name, {"ran": True})
        return "ok", None

    def overlap(self, a: str, b: str) -> bool:
        (s1, e1), (s2, e2) = self.spans[a], self.spans[b]
        return s1 < e2 and s2 < e1


def run(tmp_path, dataset, monkeypatch, fake, **params):
    monkeypatch.setattr(runmod, "_execute_step", fake)
    lines: list[str] = []
    res = run_pipeline(params_with(tmp_path, **params), data=dataset, out_root=tmp_path / "out", echo=lines.append)
    assert "Traceback" not in "\n".join(lines)
    return res, lines


def test_two_at_a_time_with_the_brief_last_and_the_manifest_in_order(tmp_path, dataset, monkeypatch):
    fake = Timeline()
    res, _ = run(tmp_path, dataset, monkeypatch, fake, parallel_notebooks=2)
    assert res.exit_code == 0
    names = [s.name for s in STEPS]
    early = [s.name for s in STEPS if s.early]
    assert early == ["02_rater_bias", "03_competency_gaps"]
    # the two long notebooks start first, side by side; the others follow
    first_start = min(start for start, _ in fake.spans.values())
    assert all(fake.spans[e][0] - first_start < fake.seconds / 2 for e in early)
    assert fake.overlap(*early)
    assert fake.spans[names[0]][0] - first_start >= fake.seconds / 2
    # never more than two at once
    for t in [s for s, _ in fake.spans.values()]:
        assert sum(s <= t < e for s, e in fake.spans.values()) <= 2
    brief_start = fake.spans[names[-1]][0]
    assert all(e <= brief_start for n, (_, e) in fake.spans.items() if n != names[-1])
    m = json.loads((res.run_dir / "manifest.json").read_text())
    assert [s["name"] for s in m["steps"]] == names
    assert all(s["status"] == "ok" and s["seconds"] >= fake.seconds for s in m["steps"])


def test_one_at_a_time_never_overlaps_and_keeps_the_step_order(tmp_path, dataset, monkeypatch):
    fake = Timeline(seconds=0.15)
    res, _ = run(tmp_path, dataset, monkeypatch, fake, parallel_notebooks=1)
    assert res.exit_code == 0
    names = list(fake.spans)
    assert not any(fake.overlap(a, b) for i, a in enumerate(names) for b in names[i + 1:])
    assert sorted(names, key=lambda n: fake.spans[n][0]) == [s.name for s in STEPS]


def test_a_failed_notebook_fails_the_run_and_the_others_still_run(tmp_path, dataset, monkeypatch):
    fake = Timeline(seconds=0.1, fail="02_rater_bias")
    res, lines = run(tmp_path, dataset, monkeypatch, fake, parallel_notebooks=2)
    assert res.exit_code == 1 and res.run_dir.name.endswith(".failed")
    assert set(fake.spans) == {s.name for s in STEPS}
    assert any("02_rater_bias: FAILED" in line and "planted" in line for line in lines)


def test_a_step_waits_for_the_steps_it_reads(tmp_path, dataset, monkeypatch):
    steps = [Step("01_appraisal_outcomes", ()), Step("02_rater_bias", (), after=("01_appraisal_outcomes",)),
             Step("03_competency_gaps", ())]
    monkeypatch.setattr(runmod, "select", lambda only: steps)
    fake = Timeline(seconds=0.3)
    res, _ = run(tmp_path, dataset, monkeypatch, fake, parallel_notebooks=3)
    assert res.exit_code == 0
    assert fake.spans["02_rater_bias"][0] >= fake.spans["01_appraisal_outcomes"][1]
    assert fake.overlap("01_appraisal_outcomes", "03_competency_gaps")
    m = json.loads((res.run_dir / "manifest.json").read_text())
    assert [s["name"] for s in m["steps"]] == [s.name for s in steps]  # step order, not start order


def test_a_signal_while_two_run_stops_the_run_as_interrupted(tmp_path, dataset, monkeypatch):
    def hook(step):
        if step.name == "02_rater_bias":
            threading.Timer(0.1, os.kill, args=(os.getpid(), signal.SIGTERM)).start()

    fake = Timeline(seconds=0.5, hook=hook)
    res, lines = run(tmp_path, dataset, monkeypatch, fake, parallel_notebooks=2)
    assert res.exit_code == 130 and res.run_dir.name.endswith(".interrupted")
    assert lines[-1].startswith("Interrupted")
    assert "05_policy_brief" not in fake.spans  # nothing new starts once stopped
    assert json.loads((res.run_dir / "manifest.json").read_text())["status"] == "interrupted"


def test_the_appraisal_outcomes_are_derived_once_before_the_notebooks(tmp_path, dataset, monkeypatch):
    seen = []

    def hook(step):  # looks, as each notebook starts, in the run folder being built
        seen.append(list((tmp_path / "out").glob(f"{TMP_PREFIX}*/data/derived/appraisal_outcomes.parquet")))

    fake = Timeline(seconds=0.05, hook=hook)
    res, _ = run(tmp_path, dataset, monkeypatch, fake, parallel_notebooks=2)
    assert res.exit_code == 0
    assert len(seen) == len(STEPS) and all(len(found) == 1 for found in seen)
    assert "derived_seconds" in json.loads((res.run_dir / "manifest.json").read_text())


@pytest.mark.parametrize("bad", [0, 9, "2", 1.5])
def test_parallel_notebooks_out_of_range_is_bad_params(tmp_path, dataset, monkeypatch, bad):
    res, lines = run(tmp_path, dataset, monkeypatch, Timeline(), parallel_notebooks=bad)
    assert res.exit_code == 2 and "parallel_notebooks" in "\n".join(lines)
