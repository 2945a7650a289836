"""`workbench doctor` and the deploy/ files: each check alone, then through the command line."""

from __future__ import annotations

import configparser
import fcntl
import os
import shlex
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.core import privacy
from analysis.pipeline import doctor
from conftest import ROOT, TEST_KEY
from corpus.builders import write_dataset

DEFAULT = ROOT / "params" / "default.yaml"
DEPLOY = ROOT / "deploy"
pytestmark = pytest.mark.usefixtures("test_key")  # the tests' key (conftest) in the environment


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("ds") / "data")


def params(tmp_path: Path, text: str = "") -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(f"extends: {DEFAULT}\n{text}")
    return path


def doctor_cli(capsys, *args: str) -> tuple[int, dict[str, str]]:
    """``workbench doctor ARGS``: the exit code and each check's line by check name."""
    code = main(["doctor", *args])
    lines = capsys.readouterr().out.splitlines()
    by_name = {}
    for line in lines[:-1]:
        label, rest = line.split(None, 1)
        by_name[rest.split(":", 1)[0]] = line
    problems = sum(line.startswith("PROBLEM ") for line in lines)
    assert lines[-1].startswith(f"{problems} problem(s) to fix" if problems else "Ready for scheduled runs")
    return code, by_name


# --- a good setup ---------------------------------------------------------------------------------

def test_a_good_setup_passes_every_check_and_exits_0(tmp_path, dataset, capsys):
    out = tmp_path / "outputs"
    checks = doctor.run_checks(params(tmp_path, f"dataset: {dataset}\n"), out=out)
    assert [c.name for c in checks] == ["params", "kernel", "pdf", "fonts", "output", "disk", "key", "dataset",
                                        "lock"]
    assert all(c.ok or c.severity != "problem" for c in checks), [c.line() for c in checks]
    assert all(c.ok for c in checks if c.name not in ("disk", "lock")), [c.line() for c in checks]
    assert out.is_dir() and not list(out.iterdir())  # created, and the probe file removed
    code, lines = doctor_cli(capsys, "--params", str(params(tmp_path, f"dataset: {dataset}\n")), "--out", str(out))
    assert code == 0
    assert lines["params"].startswith("OK") and lines["dataset"].startswith("OK") and "PROBLEM" not in str(lines)
    assert privacy.KEY_ENV in lines["key"]  # says where the key comes from


def test_data_given_on_the_command_line_replaces_the_params_dataset(tmp_path, dataset, capsys):
    code, lines = doctor_cli(capsys, "--params", str(params(tmp_path, "dataset: nowhere\n")),
                             "--data", str(dataset), "--out", str(tmp_path / "out"))
    assert code == 0 and str(dataset) in lines["dataset"]


# --- the pseudonym key ----------------------------------------------------------------------------

def test_a_key_file_readable_by_others_is_a_problem_fixed_by_chmod_600(tmp_path, monkeypatch):
    monkeypatch.delenv(privacy.KEY_ENV)
    key = tmp_path / "pseudonym.key"
    key.write_text(TEST_KEY + "\n")
    key.chmod(0o644)
    check = doctor.check_pseudonym_key(key)
    assert not check.ok and check.blocking and check.label == "PROBLEM"
    assert f"chmod 600 {key}" in check.fix and "0644" in check.message
    assert f"Fix: chmod 600 {key}" in check.line()
    key.chmod(0o600)
    assert doctor.check_pseudonym_key(key).ok


def test_a_private_strong_key_file_passes_and_a_missing_one_is_not_created(tmp_path, monkeypatch):
    monkeypatch.delenv(privacy.KEY_ENV)
    key = tmp_path / "keys" / "pseudonym.key"
    check = doctor.check_pseudonym_key(key)
    assert not check.ok and "does not exist" in check.message and "token_hex(32)" in check.fix
    assert not key.exists() and not key.parent.exists()
    key.parent.mkdir()
    key.write_text(TEST_KEY)
    key.chmod(0o600)
    check = doctor.check_pseudonym_key(key)
    assert check.ok and privacy.key_fingerprint(TEST_KEY.encode()) in check.message


def test_a_weak_key_is_a_problem(tmp_path, monkeypatch):
    monkeypatch.setenv(privacy.KEY_ENV, "test-key")
    check = doctor.check_pseudonym_key(tmp_path / "unused.key")
    assert check.blocking and privacy.KEY_ENV in check.message and "32" in check.message
    monkeypatch.delenv(privacy.KEY_ENV)
    weak = tmp_path / "weak.key"
    weak.write_text("0" * 64)
    weak.chmod(0o600)
    check = doctor.check_pseudonym_key(weak)
    assert check.blocking and "not a random key" in check.message


def test_no_key_is_needed_when_pseudonyms_are_off(tmp_path, monkeypatch):
    monkeypatch.delenv(privacy.KEY_ENV)
    assert doctor.check_pseudonym_key(tmp_path / "absent.key", pseudonymise=False).ok
    assert not doctor.check_pseudonym_key(tmp_path / "absent.key").ok


def test_a_loose_key_file_fails_the_doctor_command(tmp_path, dataset, monkeypatch, capsys):
    monkeypatch.delenv(privacy.KEY_ENV)
    key = tmp_path / "k.key"
    key.write_text(TEST_KEY)
    key.chmod(0o640)
    p = params(tmp_path, f"dataset: {dataset}\nprivacy: {{key_file: {key}}}\n")
    code, lines = doctor_cli(capsys, "--params", str(p), "--out", str(tmp_path / "out"))
    assert code == 2 and lines["key"].startswith("PROBLEM") and f"chmod 600 {key}" in lines["key"]


# --- dataset, output folder, kernel, params: each a problem and exit 2 ----------------------------

def test_a_missing_dataset_folder_is_a_problem_and_exits_2(tmp_path, capsys):
    missing = tmp_path / "no-such-data"
    check = doctor.check_dataset(missing)
    assert check.blocking and "does not exist" in check.message and "workbench import" in check.fix
    code, lines = doctor_cli(capsys, "--params", str(params(tmp_path, f"dataset: {missing}\n")),
                             "--out", str(tmp_path / "out"))
    assert code == 2 and lines["dataset"].startswith("PROBLEM") and str(missing) in lines["dataset"]


def test_a_dataset_without_a_required_table_is_a_problem(tmp_path):
    folder = write_dataset(tmp_path / "data", skip=("appraisals",))
    check = doctor.check_dataset(folder)
    assert check.blocking and "appraisals" in check.message and "units" not in check.message.split(":")[-1]
    assert doctor.check_dataset(write_dataset(tmp_path / "full")).ok


@pytest.mark.parametrize("where", ["under-a-file", "a-file"])
def test_an_output_folder_that_cannot_be_made_is_a_problem_and_exits_2(tmp_path, dataset, capsys, where):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    out = blocker / "outputs" if where == "under-a-file" else blocker
    check = doctor.check_output_folder(out)
    assert check.blocking and "is a file, not a folder" in check.message and check.fix
    code, lines = doctor_cli(capsys, "--params", str(params(tmp_path, f"dataset: {dataset}\n")), "--out", str(out))
    assert code == 2 and lines["output"].startswith("PROBLEM")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any folder")
def test_an_output_folder_this_user_cannot_write_in_is_a_problem(tmp_path):
    out = tmp_path / "locked"
    out.mkdir()
    out.chmod(0o555)
    try:
        check = doctor.check_output_folder(out)
    finally:
        out.chmod(0o755)
    assert check.blocking and "cannot write" in check.message and "chown" in check.fix


def test_an_unknown_kernel_is_a_problem_and_exits_2(tmp_path, dataset, capsys):
    check = doctor.check_jupyter_kernel("no-such-kernel")
    assert check.blocking and "no-such-kernel" in check.message and "ipykernel install" in check.fix
    p = params(tmp_path, f"dataset: {dataset}\nkernel: no-such-kernel\n")
    code, lines = doctor_cli(capsys, "--params", str(p), "--out", str(tmp_path / "out"))
    assert code == 2 and lines["kernel"].startswith("PROBLEM") and "no-such-kernel" in lines["kernel"]


@pytest.mark.parametrize("text, says", [
    ("alpha: 2\n", "alpha"),
    ("no_such_key: 1\n", "unknown key"),
])
def test_a_bad_params_file_is_a_problem_and_exits_2(tmp_path, capsys, text, says):
    p = params(tmp_path, text)
    check = doctor.check_params(p)
    assert check.blocking and says in check.message and "\n" not in check.message
    code, lines = doctor_cli(capsys, "--params", str(p), "--out", str(tmp_path / "out"))
    assert code == 2 and lines["params"].startswith("PROBLEM") and says in lines["params"]
    assert "kernel" not in lines and "key" not in lines  # they need the params: left out
    assert "output" in lines and "lock" in lines


def test_a_params_file_that_is_not_there_says_so(tmp_path, capsys):
    code, lines = doctor_cli(capsys, "--params", str(tmp_path / "absent.yaml"), "--out", str(tmp_path / "out"))
    assert code == 2 and "file not found" in lines["params"] and "--params" in lines["params"]


# --- PDFs, fonts, disk, lock ----------------------------------------------------------------------

def test_the_brief_fonts_are_read_from_its_template_and_a_missing_font_is_a_problem():
    stacks = doctor.brief_font_stacks()
    assert stacks[0][:2] == ["DejaVu Sans", "Liberation Sans"] and ["DejaVu Sans Mono", "monospace"] in stacks
    assert doctor.check_pdf().ok
    assert doctor.check_fonts().ok
    missing = doctor.check_fonts([["No Such Font Family", "sans-serif"]])
    assert missing.blocking and "No Such Font Family" in missing.message and "fonts-dejavu-core" in missing.fix
    mono = doctor.check_fonts([["DejaVu Sans", "sans-serif"], ["No Such Mono", "monospace"]])
    assert not mono.ok and mono.severity == "warning" and not mono.blocking


def test_low_disk_space_is_a_warning_that_says_how_much_is_free(tmp_path):
    low = doctor.check_disk_space(tmp_path, min_free=10**18)
    assert not low.ok and low.severity == "warning" and not low.blocking and " GB free" in low.message
    assert low.label == "WARNING" and doctor.exit_code([low]) == 0
    assert doctor.check_disk_space(tmp_path / "not" / "yet", min_free=0).ok


def test_a_run_holding_the_lock_is_a_note_naming_its_process(tmp_path):
    out = tmp_path / "outputs"
    assert doctor.check_lock(out).ok
    out.mkdir()
    with open(out / ".lock", "w") as fh:
        fh.write("4242\n")
        fh.flush()
        fcntl.flock(fh, fcntl.LOCK_EX)
        check = doctor.check_lock(out)
        assert not check.ok and check.severity == "note" and "process 4242" in check.message
        assert doctor.exit_code([check]) == 0 and check.label == "NOTE"
    assert doctor.check_lock(out).ok  # released
    (out / ".tmp-20250101T020000Z_default").mkdir()
    left = doctor.check_lock(out)
    assert left.severity == "note" and ".interrupted" in left.message


def test_the_exit_code_is_2_only_for_problems():
    ok = doctor.Check("a", True, "fine")
    problem = doctor.Check("b", False, "broken", "mend it")
    assert doctor.exit_code([ok]) == 0 and doctor.exit_code([ok, problem]) == 2
    assert problem.line() == "PROBLEM b: broken Fix: mend it" and ok.line().startswith("OK      a: fine")


# --- deploy/ ----------------------------------------------------------------------------------------

def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)  # strict: a key given twice is an error
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text(encoding="utf-8"), source=name)
    return parser


def test_the_service_runs_the_workbench_once_unattended():
    service = unit("asn-workbench.service")
    s = service["Service"]
    assert s["Type"] == "oneshot" and s["User"] and s["User"] != "root"
    assert Path(s["WorkingDirectory"]).is_absolute()
    argv = shlex.split(s["ExecStart"])
    assert Path(argv[0]).is_absolute() and argv[0].endswith("/.venv/bin/workbench")
    assert argv[0].startswith(s["WorkingDirectory"].rstrip("/") + "/")
    assert argv[1] == "run" and "--if-changed" in argv and "--wait" in argv
    assert "--params" in argv and "--data" in argv
    assert s["TimeoutStartSec"] and s["TimeoutStartSec"] != "infinity"
    assert 0 < int(s["Nice"]) <= 19
    assert "journalctl" in (DEPLOY / "asn-workbench.service").read_text()
    assert service["Unit"]["Description"]


def test_the_timer_starts_the_service_monthly_and_catches_up():
    timer = unit("asn-workbench.timer")
    t = timer["Timer"]
    assert t["OnCalendar"] == "*-*-01 02:00" and t["Persistent"] == "true"
    assert t.get("Unit", "asn-workbench.service") == "asn-workbench.service"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_the_cron_example_and_the_readme():
    lines = [x for x in (DEPLOY / "crontab.example").read_text().splitlines() if x.strip() and not x.startswith("#")]
    jobs = [x for x in lines if "workbench run" in x]
    assert len(jobs) == 1
    fields = jobs[0].split(None, 6)
    assert fields[:5] == ["0", "2", "1", "*", "*"] and "--if-changed" in jobs[0] and "--wait" in jobs[0]
    readme = (DEPLOY / "README.md").read_text()
    for needed in ("systemctl daemon-reload", "systemctl enable --now asn-workbench.timer", "systemctl list-timers",
                   "workbench doctor", "outputs/.lock", "--wait", ".tmp-", ".interrupted", "journalctl",
                   "chmod 600"):
        assert needed in readme, needed
