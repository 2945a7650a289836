"""`make lab` / `workbench lab`: JupyterLab's command line, built in one place (``pipeline.lab``)."""

from __future__ import annotations

import re

import pytest

from analysis import cli
from analysis.pipeline import lab
from conftest import ROOT


def options(argv: list[str]) -> dict[str, str]:
    """``--Name=value`` options of a command line, by name (flags map to '')."""
    out = {}
    for arg in argv:
        if arg.startswith("--"):
            name, _, value = arg[2:].partition("=")
            out[name] = value
    return out


def test_argv_as_root_allows_root_and_otherwise_does_not(tmp_path):
    as_root = lab.lab_argv(tmp_path, as_root=True)
    assert as_root.count("--allow-root") == 1
    assert "--allow-root" not in lab.lab_argv(tmp_path, as_root=False)
    # nothing else differs
    assert [a for a in as_root if a != "--allow-root"] == lab.lab_argv(tmp_path, as_root=False)


def test_argv_serves_the_repository_root_not_notebooks(tmp_path):
    argv = lab.lab_argv(tmp_path / "." / "repo", as_root=False)
    assert options(argv)["ServerApp.root_dir"] == str((tmp_path / "repo").resolve())
    # the old --notebook-dir=notebooks put ../outputs outside the root contents directory
    assert not any(a.startswith(("--notebook-dir", "--ServerApp.notebook_dir")) for a in argv)


def test_argv_opens_the_file_browser_on_notebooks_through_labs_own_default_url(tmp_path):
    opts = options(lab.lab_argv(tmp_path, as_root=False))
    # JupyterLab 4 replaces ServerApp.default_url with LabApp's (/lab): only LabApp's is honoured
    assert opts["LabApp.default_url"] == "/lab/tree/notebooks"
    assert "ServerApp.default_url" not in opts


def test_argv_starts_jupyterlab_of_the_given_interpreter_with_the_kernel(tmp_path):
    argv = lab.lab_argv(tmp_path, kernel="asn-workbench", as_root=False, python="/venv/bin/python")
    assert argv[:3] == ["/venv/bin/python", "-m", "jupyterlab"]
    assert options(argv)["MappingKernelManager.default_kernel_name"] == "asn-workbench"
    assert options(lab.lab_argv(tmp_path, kernel="other", as_root=False))[
        "MappingKernelManager.default_kernel_name"] == "other"


def test_argv_defaults_leave_port_browser_and_token_to_jupyterlab(tmp_path):
    opts = options(lab.lab_argv(tmp_path, as_root=False))
    assert not {"ServerApp.port", "ServerApp.port_retries", "no-browser", "IdentityProvider.token"} & set(opts)


def test_argv_port_token_and_no_browser(tmp_path):
    argv = lab.lab_argv(tmp_path, as_root=False, port=18765, open_browser=False, token="t0k",
                        extra=["--ServerApp.ip=127.0.0.1"])
    opts = options(argv)
    assert opts["ServerApp.port"] == "18765" and opts["ServerApp.port_retries"] == "0"  # that port or none
    assert "no-browser" in opts and opts["IdentityProvider.token"] == "t0k"
    assert argv[-1] == "--ServerApp.ip=127.0.0.1"  # extra options last, so they win


def test_running_as_root_follows_the_effective_uid(monkeypatch):
    monkeypatch.setattr(lab.os, "geteuid", lambda: 0)
    assert lab.running_as_root()
    monkeypatch.setattr(lab.os, "geteuid", lambda: 1000)
    assert not lab.running_as_root()
    monkeypatch.delattr(lab.os, "geteuid")  # systems without user ids
    assert not lab.running_as_root()


@pytest.mark.parametrize("uid, allowed", [(0, True), (1000, False)])
def test_workbench_lab_execs_jupyterlab_on_the_repository(monkeypatch, uid, allowed):
    monkeypatch.setattr(lab.os, "geteuid", lambda: uid)
    monkeypatch.setattr(lab, "check_kernel", lambda name: name)
    calls = []
    code = lab.main(ROOT, kernel="asn-workbench", port=9999, open_browser=False,
                    execv=lambda path, argv: calls.append((path, argv)))
    assert code == 0 and len(calls) == 1
    path, argv = calls[0]
    assert path == argv[0]
    assert ("--allow-root" in argv) is allowed
    opts = options(argv)
    assert opts["ServerApp.root_dir"] == str(ROOT.resolve()) and opts["ServerApp.port"] == "9999"
    assert "no-browser" in opts


def test_workbench_lab_refuses_a_root_without_notebooks(tmp_path, capsys):
    assert lab.main(tmp_path, execv=lambda *a: pytest.fail("started JupyterLab")) == 2
    assert "no notebooks/ folder" in capsys.readouterr().out


def test_workbench_lab_refuses_an_unusable_kernel(capsys):
    code = lab.main(ROOT, kernel="no-such-kernel-here", execv=lambda *a: pytest.fail("started JupyterLab"))
    assert code == 2
    out = capsys.readouterr().out
    assert out.startswith("Cannot open JupyterLab: kernel: no Jupyter kernel called 'no-such-kernel-here'")
    assert "Traceback" not in out


def test_cli_lab_passes_its_options(monkeypatch):
    seen = {}
    monkeypatch.setattr(lab, "main", lambda root, **kw: seen.update(root=root, **kw) or 0)
    assert cli.main(["lab", "--root", "somewhere", "--port", "9000", "--no-browser", "--",
                     "--ServerApp.ip=0.0.0.0"]) == 0
    assert seen == {"root": "somewhere", "kernel": None, "port": 9000, "open_browser": False,
                    "extra": ["--ServerApp.ip=0.0.0.0"]}


def test_makefile_lab_goes_through_workbench_lab_with_the_kernel():
    text = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^lab:.*\n((?:\t.*\n)+)", text, re.M).group(1)
    assert "$(BIN)/workbench lab --kernel $(KERNEL)" in recipe
    assert "jupyter" not in recipe
    assert re.search(r"^KERNEL\s*:=\s*asn-workbench$", text, re.M)


def test_readme_says_how_to_open_a_run_in_lab():
    text = (ROOT / "README.md").read_text()
    section = text.split("## The notebooks", 1)[1].split("\n## ", 1)[0]
    for words in ("make lab", 'run_dir = "../outputs/latest"', "outputs/scratch/", "--allow-root"):
        assert words in section, words
