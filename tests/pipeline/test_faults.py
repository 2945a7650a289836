"""The runner against races, hostile environments and signals: one line and an exit code, never a
traceback, and the run folder marked for what happened wherever the file system allows it.

Most tests run the runner in-process with the notebooks replaced by a fake (they test the runner, not
the notebooks); disk full and read-only file systems are simulated by making writes raise the OSError
the kernel would give. Two tests start `workbench run --only 01` in a subprocess to signal it while a
real notebook runs.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from analysis.core import privacy
from analysis.core.runfolder import PARAMS_FILE, TMP_PREFIX
from analysis.pipeline import manifest as mf
from analysis.pipeline import run as runmod
from analysis.pipeline.results import write_results
from analysis.pipeline.run import LOCK_FILE, run_pipeline
from conftest import ROOT, TEST_KEY
from corpus.builders import write_dataset

DEFAULT = ROOT / "params" / "default.yaml"
pytestmark = pytest.mark.usefixtures("test_key")  # the tests' key (conftest) in the environment


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("ds") / "data")


@pytest.fixture
def fake_notebooks(monkeypatch):
    """Notebooks that succeed at once (writing their results file); the steps they were given."""
    ran = []

    def execute(step, work, kernel, progress, server=None):
        ran.append(step.name)
        write_results(work / "results" / f"{step.name}.json", step.name, {"ran": True})
        return "ok", None

    monkeypatch.setattr(runmod, "_execute_step", execute)
    return ran


class Echo(list):
    def __call__(self, message: str) -> None:
        self.append(message)

    @property
    def text(self) -> str:
        return "\n".join(self)


def run(tmp_path, dataset, **kw):
    echo = Echo()
    kw.setdefault("out_root", tmp_path / "out")
    kw.setdefault("only", "01")
    res = run_pipeline(kw.pop("params_file", DEFAULT), data=dataset, echo=echo, **kw)
    assert "Traceback" not in echo.text
    return res, echo


def folders(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_dir() and not p.is_symlink())


def hold_lock(out: Path):
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, b"4242\n")
    return fd


# --- two runs, one output folder -------------------------------------------------------------------

def test_second_run_into_a_busy_output_folder_exits_3_and_touches_nothing(tmp_path, dataset, fake_notebooks):
    out = tmp_path / "out"
    fd = hold_lock(out)
    live = out / f"{TMP_PREFIX}20260101T000000Z_default"  # the first run's folder, its .pid not yet written
    live.mkdir()
    try:
        res, echo = run(tmp_path, dataset)
    finally:
        os.close(fd)
    assert res.exit_code == 3 and res.status == "busy" and res.run_dir is None
    assert len(echo) == 1 and "--wait" in echo[0] and "4242" in echo[0]
    assert folders(out) == [live.name] and not fake_notebooks


def test_with_wait_the_second_run_waits_for_the_first(tmp_path, dataset, fake_notebooks):
    out = tmp_path / "out"
    fd = hold_lock(out)
    threading.Timer(0.5, os.close, args=(fd,)).start()
    t0 = time.perf_counter()
    res, echo = run(tmp_path, dataset, wait=True)
    assert res.exit_code == 0 and time.perf_counter() - t0 >= 0.5
    assert "Waiting for the run" in echo[0]


def test_signal_while_waiting_for_the_folder_exits_130_writing_nothing(tmp_path, dataset, fake_notebooks):
    out = tmp_path / "out"
    fd = hold_lock(out)

    class SignalWhenWaiting(Echo):  # the signal comes once the run waits (not before its handler is set)
        def __call__(self, message: str) -> None:
            super().__call__(message)
            if message.startswith("Waiting for the run"):
                threading.Timer(0.2, os.kill, args=(os.getpid(), signal.SIGTERM)).start()

    echo = SignalWhenWaiting()
    try:
        res = run_pipeline(DEFAULT, data=dataset, echo=echo, out_root=out, only="01", wait=True)
    finally:
        os.close(fd)
    assert "Traceback" not in echo.text
    assert res.exit_code == 130 and res.run_dir is None and folders(out) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the runner's handler is gone again


def test_run_id_is_claimed_atomically_with_a_suffix_when_taken(tmp_path, dataset, fake_notebooks, monkeypatch):
    out = tmp_path / "out"
    started = datetime(2026, 1, 1, tzinfo=timezone.utc)
    monkeypatch.setattr(runmod, "_now", lambda: started)
    base = "20260101T000000Z_default"
    (out / f"{TMP_PREFIX}{base}").mkdir(parents=True)  # a live run (this process) holds the id
    (out / f"{TMP_PREFIX}{base}" / ".pid").write_text(str(os.getpid()))
    (out / f"{base}-2.failed").mkdir()  # a finished run took the next one
    res, _ = run(tmp_path, dataset)
    assert res.exit_code == 0 and res.run_dir.name == f"{base}-3"
    assert (out / f"{TMP_PREFIX}{base}").is_dir()  # the live run's folder was left alone
    # and a claim lost between looking and creating moves on to the next id
    real_mkdir, lost = os.mkdir, []

    def mkdir(path, *a, **k):
        if Path(path).name == f"{TMP_PREFIX}{base}-4" and not lost:
            lost.append(path)
            real_mkdir(path, *a, **k)  # another run got there first
            raise FileExistsError(errno.EEXIST, "File exists", str(path))
        return real_mkdir(path, *a, **k)

    monkeypatch.setattr(runmod.os, "mkdir", mkdir)
    res, _ = run(tmp_path, dataset)
    assert lost and res.run_dir.name == f"{base}-5"


# --- output folders that cannot be used, disks that fill up or turn read-only -----------------------

def test_out_that_is_a_file_is_one_line_and_exit_2(tmp_path, dataset, fake_notebooks):
    out = tmp_path / "out"
    out.write_text("not a folder")
    res, echo = run(tmp_path, dataset, out_root=out)
    assert res.exit_code == 2 and len(echo) == 1 and "is a file, not a folder" in echo[0]
    assert out.read_text() == "not a folder"


@pytest.mark.parametrize("code, says", [(errno.EACCES, "Permission denied"), (errno.EROFS, "Read-only")])
def test_out_that_cannot_be_written_is_one_line_and_exit_2(tmp_path, dataset, fake_notebooks, monkeypatch,
                                                         code, says):
    real_open = os.open

    def refusing_open(path, *a, **k):
        if Path(path).name == LOCK_FILE:
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(runmod.os, "open", refusing_open)
    res, echo = run(tmp_path, dataset)
    assert res.exit_code == 2 and len(echo) == 1 and says in echo[0] and "Cannot use" in echo[0]


def test_disk_full_when_the_run_starts_is_one_line_and_exit_1(tmp_path, dataset, fake_notebooks, monkeypatch):
    real_mkdir = os.mkdir

    def full(path, *a, **k):
        if Path(path).name.startswith(TMP_PREFIX):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_mkdir(path, *a, **k)

    monkeypatch.setattr(runmod.os, "mkdir", full)
    res, echo = run(tmp_path, dataset)
    assert res.exit_code == 1 and len(echo) == 1 and "No space left on device" in echo[0]
    assert folders(tmp_path / "out") == []


def test_disk_full_before_the_notebooks_marks_the_run_failed(tmp_path, dataset, fake_notebooks, monkeypatch):
    def full(tables, folder):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder / "appraisals.parquet"))

    monkeypatch.setattr(runmod, "_write_tables", full)
    res, echo = run(tmp_path, dataset)
    assert res.exit_code == 1 and res.status == "failed" and res.run_dir.name.endswith(".failed")
    assert "No space left on device" in echo[-1] and "appraisals.parquet" in echo[-1]
    m = json.loads((res.run_dir / "manifest.json").read_text())
    assert m["status"] == "failed" and "No space left" in m["error"]
    assert not fake_notebooks and not list((tmp_path / "out").glob(f"{TMP_PREFIX}*"))
    assert not (res.run_dir / ".pid").exists() and not (tmp_path / "out" / "latest").exists()


def test_file_system_turning_read_only_mid_run_is_one_line_and_exit_1(tmp_path, dataset, monkeypatch):
    """After the notebook, nothing can be written or renamed any more: no traceback, and the folder,
    which cannot be marked, is left for the next run to mark interrupted."""
    real_rename = pathlib.Path.rename

    def read_only(*a, **k):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), "manifest.json")

    def rename(self, target):
        if self.name.startswith(TMP_PREFIX):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return real_rename(self, target)

    def execute(step, work, kernel, progress, server=None):
        monkeypatch.setattr(mf, "write_manifest", read_only)
        monkeypatch.setattr(pathlib.Path, "rename", rename)
        monkeypatch.setattr(pathlib.Path, "unlink", read_only)
        return "ok", None

    monkeypatch.setattr(runmod, "_execute_step", execute)
    res, echo = run(tmp_path, dataset)
    assert res.exit_code == 1 and res.status == "failed"
    assert res.run_dir.name.startswith(TMP_PREFIX)
    assert any("Read-only file system" in line and "next run" in line for line in echo)
    assert all("\n" not in line for line in echo)
    monkeypatch.undo()
    (res.run_dir / ".pid").write_text("999999999")  # as if this process had ended
    renamed = runmod.mark_abandoned(tmp_path / "out")
    assert [p.name.endswith(".interrupted") for p in renamed] == [True]


def test_a_bug_keeps_its_trace_in_error_log_and_prints_one_line(tmp_path, dataset, fake_notebooks, monkeypatch):
    def bug(tables, folder):
        raise KeyError("appraisals")

    monkeypatch.setattr(runmod, "_write_tables", bug)
    res, echo = run(tmp_path, dataset)
    assert res.exit_code == 1 and res.run_dir.name.endswith(".failed")
    assert "KeyError" in echo[-1] and "error.log" in echo[-1]
    assert "Traceback" in (res.run_dir / "error.log").read_text()


def test_closed_output_does_not_stop_the_run(tmp_path, dataset, fake_notebooks):
    def closed(message):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    res = run_pipeline(DEFAULT, data=dataset, out_root=tmp_path / "out", only="01", echo=closed)
    assert res.exit_code == 0 and res.run_dir.name.endswith("_default")


# --- kernel and key, checked before anything is written -------------------------------------------

def params(tmp_path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(f"extends: {DEFAULT}\n{text}")
    return path


def kernelspec(root: Path, name: str, argv0: str) -> None:
    folder = root / "kernels" / name
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps({
        "argv": [argv0, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": name, "language": "python"}))


@pytest.mark.parametrize("kernel, says", [
    ("no-such-kernel", "no Jupyter kernel called 'no-such-kernel'"),
    ("gone-python", "does not exist"),
    ("bare-python", "does not have the workbench"),
])
def test_unusable_kernel_is_bad_params_before_anything_runs(tmp_path, dataset, fake_notebooks, monkeypatch,
                                                            kernel, says):
    jupyter = tmp_path / "jupyter"
    kernelspec(jupyter, "gone-python", str(tmp_path / "no" / "python3"))
    # an interpreter without the workbench: python with -I and -S ignores the venv's packages
    wrapper = tmp_path / "python-bare"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} -I -S \"$@\"\n")
    wrapper.chmod(0o755)
    kernelspec(jupyter, "bare-python", str(tmp_path / "python3-bare"))
    (tmp_path / "python3-bare").symlink_to(wrapper)
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter))
    res, echo = run(tmp_path, dataset, params_file=params(tmp_path, f"kernel: {kernel}\n"))
    assert res.exit_code == 2 and res.status == "bad_params"
    assert len(echo) == 1 and says in echo[0] and "kernel" in echo[0]
    assert not (tmp_path / "out").exists() and not fake_notebooks


def test_weak_key_is_bad_params_before_anything_runs(tmp_path, dataset, fake_notebooks, monkeypatch):
    monkeypatch.setenv(privacy.KEY_ENV, "test-key")
    res, echo = run(tmp_path, dataset)
    assert res.exit_code == 2 and len(echo) == 1 and privacy.KEY_ENV in echo[0] and "32" in echo[0]
    assert not (tmp_path / "out").exists()
    monkeypatch.delenv(privacy.KEY_ENV)
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "k.key").write_text("")
    res, echo = run(tmp_path, dataset, params_file=params(tmp_path, "privacy: {key_file: keys/k.key}\n"))
    assert res.exit_code == 2 and "privacy.key_file" in echo[0] and "empty" in echo[0]


def test_manifest_records_the_key_fingerprint_and_the_run_uses_the_params_folder_key(
        tmp_path, dataset, fake_notebooks, monkeypatch):
    monkeypatch.delenv(privacy.KEY_ENV)
    (tmp_path / "scenario").mkdir()
    path = tmp_path / "scenario" / "p.yaml"
    path.write_text(f"extends: {DEFAULT}\nprivacy: {{key_file: keys/k.key}}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # started from another folder: the same key all the same
    fingerprints = []
    for _ in range(2):
        res, echo = run(tmp_path, dataset, params_file=path)
        assert res.exit_code == 0, echo.text
        m = json.loads((res.run_dir / "manifest.json").read_text())
        key = tmp_path / "scenario" / "keys" / "k.key"
        assert m["pseudonym_key"]["source"] == str(key)
        fingerprints.append(m["pseudonym_key"]["fingerprint"])
        import yaml

        assert yaml.safe_load((res.run_dir / PARAMS_FILE).read_text())["privacy"]["key_file"] == str(key)
    assert fingerprints[0] == fingerprints[1] == privacy.key_fingerprint(key.read_bytes().strip())
    assert not list(elsewhere.iterdir())
    # another key: another fingerprint, so a change of key shows in the manifests
    key.write_text(hashlib.sha256(b"another key").hexdigest())
    key.chmod(0o644)
    res, echo = run(tmp_path, dataset, params_file=path)
    m = json.loads((res.run_dir / "manifest.json").read_text())
    assert m["pseudonym_key"]["fingerprint"] != fingerprints[0]
    assert any(line.startswith("Warning:") and "chmod 600" in line for line in echo)
    assert TEST_KEY not in (res.run_dir / "manifest.json").read_text()


def test_without_pseudonyms_no_key_is_needed(tmp_path, dataset, fake_notebooks, monkeypatch):
    monkeypatch.setenv(privacy.KEY_ENV, "weak")
    res, echo = run(tmp_path, dataset, params_file=params(tmp_path, "privacy: {pseudonymise: false}\n"))
    assert res.exit_code == 0, echo.text
    assert json.loads((res.run_dir / "manifest.json").read_text())["pseudonym_key"] is None


def test_signal_after_a_kernel_died_makes_the_run_interrupted_not_failed(tmp_path, dataset, monkeypatch):
    """A scheduler stopping a run signals the kernel and the runner: the kernel may die first."""
    def execute(step, work, kernel, progress, server=None):
        threading.Timer(0.2, os.kill, args=(os.getpid(), signal.SIGTERM)).start()
        return "failed", "DeadKernelError: Kernel died"

    monkeypatch.setattr(runmod, "_execute_step", execute)
    res, echo = run(tmp_path, dataset)
    assert res.exit_code == 130 and res.run_dir.name.endswith(".interrupted")
    assert echo[-1].startswith("Interrupted")
    assert json.loads((res.run_dir / "manifest.json").read_text())["status"] == "interrupted"


# --- signals to `workbench run` while a notebook runs ---------------------------------------------

def kernel_started(pid: int) -> bool:
    """Whether the process has a child (the notebook's kernel)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                return True
    return False


def start_run(dataset: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, **{privacy.KEY_ENV: TEST_KEY})
    return subprocess.Popen(
        [sys.executable, "-m", "analysis", "run", "--params", str(DEFAULT), "--data", str(dataset),
         "--out", str(out), "--only", "01", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def wait_for_the_notebook(proc: subprocess.Popen, kernel: bool) -> list[str]:
    """Read the run's output up to its notebook's start; with ``kernel``, also wait until the notebook's
    kernel is running cells."""
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "running" in line:
            break
    if kernel:
        deadline = time.monotonic() + 30
        while not kernel_started(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # the kernel is executing the notebook's first cells
    return lines


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the kernel process through /proc")
@pytest.mark.parametrize("sig, kernel", [(signal.SIGTERM, True), (signal.SIGINT, False)],
                         ids=["SIGTERM-in-a-cell", "SIGINT-as-the-notebook-starts"])
def test_signal_during_a_notebook_exits_130_with_one_line(tmp_path, dataset, sig, kernel):
    out = tmp_path / "out"
    proc = start_run(dataset, out)
    head = wait_for_the_notebook(proc, kernel)
    if kernel:  # meanwhile a second run into the same folder is refused, and harms nothing
        echo = Echo()
        second = run_pipeline(DEFAULT, data=dataset, out_root=out, only="01", echo=echo)
        assert second.exit_code == 3 and "Another run is writing" in echo.text and f"{proc.pid}" in echo.text
        assert len(list(out.glob(f"{TMP_PREFIX}*"))) == 1
    proc.send_signal(sig)
    rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 130, "".join(head) + rest
    assert rest.strip().splitlines() == ["Interrupted: the run is kept as interrupted and is not the latest run."]
    kept = [p for p in out.iterdir() if p.name.endswith(".interrupted")]
    assert len(kept) == 1 and not list(out.glob(f"{TMP_PREFIX}*")) and not (out / "latest").exists()
    m = json.loads((kept[0] / "manifest.json").read_text())
    assert m["status"] == "interrupted" and m["steps"][0]["name"] == "01_appraisal_outcomes"


# --- the command line ----------------------------------------------------------------------------

@pytest.fixture
def keep_log_levels():
    """`workbench run` silences the notebook libraries' loggers for the rest of its process; not of pytest's."""
    import logging

    levels = {name: logging.getLogger(name).level for name in runmod.NOISY_LOGGERS}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_command_line_exit_codes_and_one_line_messages(tmp_path, dataset, fake_notebooks, capsys, keep_log_levels):
    from analysis.cli import main

    out = tmp_path / "out"
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nperiods: *b\n")
    assert main(["run", "--params", str(bomb), "--data", str(dataset), "--out", str(out)]) == 2
    said = capsys.readouterr()
    assert said.out.strip().count("\n") == 0 and str(bomb) in said.out and not said.err
    fd = hold_lock(out)
    try:
        assert main(["run", "--params", str(DEFAULT), "--data", str(dataset), "--out", str(out), "--only", "01"]) == 3
    finally:
        os.close(fd)
    said = capsys.readouterr()
    assert said.out.strip().count("\n") == 0 and "--wait" in said.out
    assert main(["run", "--params", str(DEFAULT), "--data", str(dataset), "--out", str(out), "--only", "01",
                 "--wait"]) == 0
