"""The history page (``outputs/index.html``) opened from ``file://`` in headless Chromium: its trend charts
and links render, and the browser reports no console error. A screenshot is kept as a test artefact
(in the test's tmp folder, and in ``$WORKBENCH_ARTEFACTS`` when set).

Needs Debian's ``chromium`` and ``chromium-driver`` (``make test`` installs them when it can) and selenium;
skips with the reason otherwise."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from analysis.pipeline.history_page import CHARTS, write_index

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]' installs it)")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium: `apt-get install chromium chromium-driver` "
                                                "(make test does it as root)"),
    pytest.mark.skipif(CHROMEDRIVER is None, reason="no chromedriver: `apt-get install chromium-driver` "
                                                    "(make test does it as root)"),
]


def _results(i: int) -> dict[str, dict]:
    """Headline numbers of the i-th monthly run, moving a little from one run to the next."""
    return {
        "01_appraisal_outcomes": {"compliance": {"share_non_compliant": 0.09 - 0.01 * i}},
        "02_rater_bias": {"flags": {"flagged": {"lenient": 20 - i, "severe": 25 - 2 * i, "central_tendency": 10,
                                                "halo": 12 + i}}},
        "03_competency_gaps": {"gaps": {"share_with_gap": 0.6 - 0.02 * i},
                               "plans": {"plan": {"people_reached": 2800 + 10 * i, "needs_covered": 7000 + 50 * i,
                                                  "needs": 14000}}},
        "04_rollout_evaluation": {"ikm": {"overall_att": {"estimate": 1.5 + 0.1 * i, "ci_low": 1.2 + 0.1 * i,
                                                          "ci_high": 1.8 + 0.1 * i}}},
    }


def outputs(root: Path) -> Path:
    """An output folder as months of scheduled runs leave it: five successful runs, one failed."""
    for i in range(5):
        run_id = f"20260{i + 1}01T020000Z_default"
        folder = root / run_id
        (folder / "results").mkdir(parents=True)
        (folder / "brief").mkdir()
        (folder / "notebooks").mkdir()
        (folder / "brief" / "brief_id.html").write_text("<p>ringkasan</p>", encoding="utf-8")
        (folder / "brief" / "brief_en.html").write_text("<p>brief</p>", encoding="utf-8")
        (folder / "manifest.json").write_text(json.dumps({
            "run_id": run_id, "status": "success", "started_at": f"2026-0{i + 1}-01T02:00:00Z",
            "duration_seconds": 80.0 + i, "params": {"name": "default"},
            "dataset": {"files": {"units": {"sha256": f"{i:064x}"}}}}))
        for notebook, values in _results(i).items():
            (folder / "results" / f"{notebook}.json").write_text(json.dumps({"values": values}))
    failed = root / "20260615T020000Z_default.failed"
    failed.mkdir()
    (failed / "manifest.json").write_text(json.dumps({
        "run_id": "20260615T020000Z_default", "status": "failed", "started_at": "2026-06-15T02:00:00Z",
        "duration_seconds": 12.0, "error": "failed step(s): 03_competency_gaps", "params": {"name": "default"}}))
    (root / "latest").symlink_to("20260501T020000Z_default", target_is_directory=True)
    return root


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1300,1800", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_history_page_renders_its_charts_and_links_offline(tmp_path, browser):
    from selenium.webdriver.common.by import By

    root = outputs(tmp_path / "outputs")
    page = write_index(root)
    browser.get(page.resolve().as_uri())
    charts = browser.find_elements(By.CSS_SELECTOR, "figure.chart svg")
    assert len(charts) == len(CHARTS)
    for svg in charts:  # every chart drew its points, and has a size on the page
        assert svg.find_elements(By.CSS_SELECTOR, "circle") and svg.size["width"] > 200
    assert len(browser.find_elements(By.CSS_SELECTOR, "figure.chart polyline")) == 1 + 4 + 1 + 1 + 1
    rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == 6 and "failed" in rows[0].text and "03_competency_gaps" in rows[0].text
    links = {a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "tbody a")}
    brief = (root / "20260501T020000Z_default" / "brief" / "brief_id.html").resolve().as_uri()
    assert brief in links and all(link.startswith("file://") for link in links)
    browser.get(brief)  # a link leads to its file
    assert "ringkasan" in browser.page_source
    browser.get(page.resolve().as_uri())
    errors = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert not errors, errors
    shot = tmp_path / "history_page.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    artefacts = os.environ.get("WORKBENCH_ARTEFACTS")
    if artefacts:
        Path(artefacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artefacts) / shot.name)


def test_small_counts_of_flagged_raters_are_not_drawn(tmp_path):
    root = outputs(tmp_path / "outputs")
    results = root / "20260501T020000Z_default" / "results" / "02_rater_bias.json"
    results.write_text(json.dumps({"values": {"flags": {"flagged": {"lenient": 3, "severe": 21,
                                                                     "central_tendency": 10, "halo": 16}}}}))
    page = write_index(root, min_cell=5).read_text(encoding="utf-8")
    assert "20260501T020000Z_default: 3</title>" not in page  # 3 lenient raters: below the minimum cell
    assert "20260501T020000Z_default: 21</title>" in page
