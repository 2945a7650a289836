"""`make lab` in a browser: JupyterLab started as ``workbench lab`` starts it (``pipeline.lab``), driven in a
headless chromium, opens notebook 01 from the file browser and runs it on a finished run.

A folder laid out like the repository (``notebooks/`` with a copy of notebook 01 whose ``run_dir`` is
``"../outputs/latest"``, as the README says to set it, and ``outputs/<run_id>`` with ``outputs/latest``
pointing to it) is served by JupyterLab; chromium lands on the default page, finds the notebook in the
file browser, opens it, runs Run → Run All Cells, waits for the kernel to be idle, then checks that every
code cell ran, that no cell failed (no traceback, no error output), and that every figure the notebook
saves is shown as a PNG image. A screenshot is kept as an artefact (in the test's tmp folder and in
``$WORKBENCH_ARTEFACTS`` when set), also when the test fails.

Needs Debian's ``chromium`` and ``chromium-driver`` (``make test`` installs them when it can) and
selenium (the test extras); skips, saying which is missing, without them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from analysis.pipeline.lab import lab_argv, running_as_root
from conftest import ROOT

NOTEBOOK = "01_appraisal_outcomes.ipynb"
KERNEL = "asn-workbench"  # the Makefile's KERNEL, registered by `make setup`
RUN_DIR = "../outputs/latest"  # what the README tells a user to set in lab (relative to notebooks/)
# the flags that work as root on a server or in a container (no sandbox, no GPU, nothing fetched)
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,1000")
START_TIMEOUT = 90  # seconds for JupyterLab to answer, the page to load, the kernel to start
RUN_TIMEOUT = 600  # seconds for Run All Cells on the small sample run (about 10 s on two cores)

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]' installs it)")


def tool(*names: str) -> str | None:
    return next((path for name in names if (path := shutil.which(name))), None)


CHROMIUM = tool("chromium", "chromium-browser")
CHROMEDRIVER = tool("chromedriver")

# skipped when collected, before the session's sample run is built for nothing
pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium: `apt-get install chromium chromium-driver` "
                                                "(make test does it as root)"),
    pytest.mark.skipif(CHROMEDRIVER is None, reason="no chromedriver: `apt-get install chromium-driver` "
                                                    "(make test does it as root)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def lab_root(base: Path, run_dir: Path) -> Path:
    """A folder laid out like the repository: notebooks/ (notebook 01, run_dir set as the README says)
    and outputs/ (a copy of the finished run, and latest pointing to it as the runner makes it)."""
    root = base / "repo"
    (root / "notebooks").mkdir(parents=True)
    outputs = root / "outputs"
    shutil.copytree(run_dir, outputs / run_dir.name, symlinks=True)  # a finished run is not written to
    (outputs / "latest").symlink_to(run_dir.name, target_is_directory=True)
    nb = nbformat.read(ROOT / "notebooks" / NOTEBOOK, as_version=4)
    [params] = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    params.source = f'run_dir = "{RUN_DIR}"'
    nbformat.write(nb, root / "notebooks" / NOTEBOOK)
    return root


@pytest.fixture
def lab(tmp_path, sample_run):
    """JupyterLab on a repository-like folder, started with ``pipeline.lab``'s command line: (url, token,
    root, log). Its user settings and runtime files are kept in tmp_path."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:
        pytest.fail(f"the kernel {KERNEL!r} is not registered for {sys.prefix}: `make setup` registers it")
    run_dir, _, _ = sample_run
    root = lab_root(tmp_path, Path(run_dir))
    config = tmp_path / "jupyter-config"
    settings = config / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)  # no "official Jupyter news?" toast over the screenshot
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"),
               IPYTHONDIR=str(tmp_path / "ipython"))  # the pseudonym key of sample_run is in the environment
    port, token = free_port(), os.urandom(16).hex()
    argv = lab_argv(root, kernel=KERNEL, as_root=running_as_root(), port=port, open_browser=False, token=token)
    log = tmp_path / "jupyterlab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own process group: kernels included
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                get_json(f"{url}/api/status?token={token}")
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer in {START_TIMEOUT} s:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield url, token, root, log
    finally:
        _stop(proc, url, token)
        artefacts = os.environ.get("WORKBENCH_ARTEFACTS")
        if artefacts and log.exists():
            Path(artefacts).mkdir(parents=True, exist_ok=True)
            shutil.copy(log, Path(artefacts) / "lab_browser_jupyterlab.log")


def _stop(proc: subprocess.Popen, url: str, token: str) -> None:
    """Shut the kernels down through JupyterLab, then JupyterLab; its process group if it lingers."""
    if proc.poll() is None:
        try:
            for session in get_json(f"{url}/api/sessions?token={token}"):
                req = urllib.request.Request(f"{url}/api/sessions/{session['id']}?token={token}", method="DELETE")
                urllib.request.urlopen(req, timeout=10).close()
        except (urllib.error.URLError, OSError, ValueError):
            pass
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the group it leads (left-over kernels), if any is left
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


@pytest.fixture
def browser(tmp_path):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    service = Service(CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))  # never a downloaded driver
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(what: str, condition, timeout: float = START_TIMEOUT, every: float = 0.5):
    """The first true value of ``condition()``; fails, saying what was awaited, after ``timeout`` seconds.

    An element the page drew again while ``condition`` used it (JupyterLab re-renders its lists and
    menus) only means: look again."""
    from selenium.common.exceptions import StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except StaleElementReferenceException:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f} s for {what}")
        time.sleep(every)


def shown(driver, selector: str, text: str):
    """The displayed element of ``selector`` whose text contains ``text``, if any."""
    from selenium.webdriver.common.by import By

    return next((e for e in driver.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed() and text in e.text),
                None)


def open_from_file_browser(driver, name: str, opened, attempts: int = 3) -> None:
    """Double-click ``name`` in the file browser, again if the listing was redrawn under the click,
    until ``opened()``."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains

    for _ in range(attempts):
        item = wait_for(f"{name} in the file browser", lambda: shown(driver, ".jp-DirListing-item", name))
        try:
            ActionChains(driver).double_click(item).perform()
        except StaleElementReferenceException:
            continue
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if opened():
                return
            time.sleep(0.5)
    pytest.fail(f"{name} did not open from the file browser ({attempts} double-clicks)")


def click_menu(driver, menu: str, item: str) -> None:
    """Menu bar → ``menu`` → ``item``, as a user clicks them (again if a menu was redrawn)."""
    from selenium.webdriver.common.by import By

    def clicked():
        if shown(driver, ".lm-Menu-itemLabel", item) is None:
            bar = shown(driver, ".lm-MenuBar-itemLabel", menu)
            if bar is None:
                return False
            bar.click()
        entry = shown(driver, ".lm-Menu-itemLabel", item)
        if entry is None or "lm-mod-disabled" in entry.find_element(By.XPATH, "./ancestor::li[1]").get_attribute(
                "class"):
            return False
        entry.click()
        return True

    wait_for(f"{menu} → {item} (enabled)", clicked)


# The notebook's code cells as the page shows them: prompt, and each output's type and text.
CELLS_JS = """
return Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-CodeCell')).map(cell => ({
  prompt: (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '',
  outputs: Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map(o => ({
    mime: o.getAttribute('data-mime-type') || '', text: o.textContent.slice(0, 3000)})),
  images: Array.from(cell.querySelectorAll('.jp-OutputArea-output img')).map(i => ({
    src: i.getAttribute('src').slice(0, 22), width: i.naturalWidth, height: i.naturalHeight})),
}));
"""
STATUS_JS = """
const e = document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator');
return e ? e.getAttribute('data-status') : null;
"""


def executed(prompt: str) -> bool:
    return prompt.strip().strip("[]:").strip().isdigit()


def draws_a_figure(source: str) -> bool:
    return "save_figure" in source  # ctx.save_figure(...) and ctx.save_figures(...)


def screenshot(driver, tmp_path: Path) -> Path | str:
    """The notebook at its first figure (or where it is), kept in tmp_path and in $WORKBENCH_ARTEFACTS;
    why not, when the browser cannot give one."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    path = tmp_path / "lab_browser_01_appraisal_outcomes.png"
    try:
        images = driver.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel .jp-OutputArea-output img")
        if images:
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", images[0])
            time.sleep(0.5)
        if not driver.save_screenshot(str(path)):
            return f"no screenshot: it could not be written to {path}"
    except WebDriverException as exc:  # a test that failed because the browser did stays readable
        return f"no screenshot: {exc.msg}"
    artefacts = os.environ.get("WORKBENCH_ARTEFACTS")
    if artefacts:
        Path(artefacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(artefacts) / path.name)
    return path


def test_notebook_01_runs_in_jupyterlab_on_the_latest_run(lab, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, token, root, log = lab
    code_sources = [c.source for c in nbformat.read(root / "notebooks" / NOTEBOOK, as_version=4).cells
                    if c.cell_type == "code"]
    started = time.monotonic()
    try:
        # the landing page: the file browser on notebooks/, listing the notebook
        browser.get(f"{url}/?token={token}")
        wait_for("the landing page /lab/tree/notebooks", lambda: "/lab/tree/notebooks" in browser.current_url)

        wait_for(f"{NOTEBOOK} in the file browser", lambda: shown(browser, ".jp-DirListing-item", NOTEBOOK))
        crumbs = wait_for("the file browser's path", lambda: [
            e.text for e in browser.find_elements(By.CSS_SELECTOR, ".jp-BreadCrumbs-item")])
        assert crumbs[-1:] == ["notebooks"], f"the file browser is not on notebooks/: {crumbs}"

        # open it from the file browser; its kernel is the workbench's, and starts
        open_from_file_browser(browser, NOTEBOOK,
                               lambda: len(browser.execute_script(CELLS_JS)) == len(code_sources))

        def session():
            found = [s for s in get_json(f"{url}/api/sessions?token={token}")
                     if s["path"] == f"notebooks/{NOTEBOOK}"]
            return found[0] if found and found[0]["kernel"]["execution_state"] == "idle" else None

        kernel = wait_for("the notebook's kernel to be idle", session)["kernel"]
        assert kernel["name"] == KERNEL
        wait_for("the page to show the kernel idle", lambda: browser.execute_script(STATUS_JS) == "idle")

        # Run → Run All Cells, then wait until nothing is running or queued and the kernel is idle
        click_menu(browser, "Run", "Run All Cells")
        wait_for("Run All Cells to start the cells", lambda: any(
            c["prompt"].strip() != "[ ]:" for c in browser.execute_script(CELLS_JS)), timeout=30)
        quiet = 0

        def settled():
            nonlocal quiet
            cells = browser.execute_script(CELLS_JS)
            busy = browser.execute_script(STATUS_JS) != "idle" or any("*" in c["prompt"] for c in cells)
            quiet = 0 if busy else quiet + 1
            return cells if quiet >= 3 else None  # idle for three looks in a row, a second apart

        cells = wait_for("the cells to finish and the kernel to be idle", settled, timeout=RUN_TIMEOUT, every=1)
        assert session() is not None, "the kernel is not idle"
        elapsed = time.monotonic() - started

        # every code cell ran, none failed
        not_run = [i for i, c in enumerate(cells) if not executed(c["prompt"])]
        failures = [f"code cell {i}: {o['text']}" for i, c in enumerate(cells) for o in c["outputs"]
                    if o["mime"] == "application/vnd.jupyter.stderr" and "Traceback" in o["text"]]
        assert not failures, "cells failed in JupyterLab:\n" + "\n\n".join(failures)
        assert not not_run, f"code cells not run: {not_run} (prompts {[c['prompt'] for c in cells]})"
        counts = [int(c["prompt"].strip().strip("[]:")) for c in cells]
        assert counts == sorted(counts), f"cells ran out of order: {counts}"

        # figures render: every cell that saves a figure shows it, as a PNG the browser decoded
        for i, (source, cell) in enumerate(zip(code_sources, cells)):
            if draws_a_figure(source):
                pngs = [im for im in cell["images"] if im["src"].startswith("data:image/png")]
                assert pngs, f"code cell {i} saves a figure but shows no PNG image: {source[:200]!r}"
                assert all(im["width"] > 0 and im["height"] > 0 for im in pngs), f"code cell {i}: {pngs}"

        # saved from the page, the notebook says the same: counts everywhere, no error output
        ActionChains(browser).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()

        def saved():
            nb = nbformat.read(root / "notebooks" / NOTEBOOK, as_version=4)
            code = [c for c in nb.cells if c.cell_type == "code"]
            return code if all(c.execution_count is not None for c in code) else None

        for i, cell in enumerate(wait_for("the notebook to be saved with its outputs", saved, timeout=30)):
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert not errors, f"code cell {i} has an error output: {errors[0].get('ename')}: {errors[0].get('evalue')}"
            if draws_a_figure(cell.source):
                assert any("image/png" in o.get("data", {}) for o in cell.outputs), f"code cell {i}: no image/png"

        # a finished run is never written to: the session's outputs went to outputs/scratch/<run_id>/
        run_id = (root / "outputs" / "latest").resolve().name
        assert (root / "outputs" / "scratch" / run_id / "figures").is_dir(), \
            f"no outputs in outputs/scratch/{run_id}: {sorted(p.name for p in (root / 'outputs').iterdir())}"
        print(f"notebook 01 ran in JupyterLab in {elapsed:.0f} s: {len(cells)} code cells, "
              f"{sum(len(c['images']) for c in cells)} images")
    finally:
        shot = screenshot(browser, tmp_path)
        print(f"screenshot: {shot}; JupyterLab log: {log}")
