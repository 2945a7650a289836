"""What an analyst sees in the executed notebooks of a run (the copies in the run folder).

The shared sample run is in Bahasa Indonesia (``language: id`` in the default params)."""

import re
from html.parser import HTMLParser

import nbformat
import pytest

FIGURE_NOTEBOOKS = ("01_appraisal_outcomes", "02_rater_bias", "03_competency_gaps", "04_rollout_evaluation")
ALL = (*FIGURE_NOTEBOOKS, "05_policy_brief")


class _CellText(HTMLParser):
    """The text of table cells in an HTML output (not the base64 of images or the CSS)."""

    def __init__(self):
        super().__init__()
        self.cells, self._in = [], 0

    def handle_starttag(self, tag, attrs):
        self._in += tag in ("td", "th")

    def handle_endtag(self, tag):
        self._in -= tag in ("td", "th") and self._in > 0

    def handle_data(self, data):
        if self._in:
            self.cells.append(data)


def _outputs(run_dir, name):
    nb = nbformat.read(run_dir / "notebooks" / f"{name}.ipynb", as_version=4)
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def _table_cells(outputs) -> list[str]:
    cells = []
    for o in outputs:
        html = o.get("data", {}).get("text/html")
        if html and "<table" in html:
            parser = _CellText()
            parser.feed(html)
            cells += parser.cells
    return cells


def _sentences(outputs) -> list[str]:
    return [o["data"]["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})]


@pytest.mark.parametrize("name", FIGURE_NOTEBOOKS)
def test_figures_are_shown_where_the_text_speaks_of_them(sample_run, name):
    run_dir, _, _ = sample_run
    images = [o for o in _outputs(run_dir, name) if "image/png" in o.get("data", {})]
    assert images, f"{name} shows no figure"
    for o in images:  # the saved PNG itself, shown at screen size
        assert o["data"]["image/png"] and o["metadata"]["image/png"]["width"] > 100


@pytest.mark.parametrize("name", ALL)
def test_no_noise_no_errors_no_bare_paths(sample_run, name):
    run_dir, _, _ = sample_run
    outputs = _outputs(run_dir, name)
    assert not [o for o in outputs if o["output_type"] == "error"]
    streams = [o["text"] for o in outputs if o["output_type"] == "stream"]
    assert not streams, f"{name} prints: {streams[:3]}"  # solver logs, warnings, progress bars
    plain = [o.get("data", {}).get("text/plain", "") for o in outputs]
    assert not [p for p in plain if "PosixPath" in p or "Styler object" in p]


@pytest.mark.parametrize("name", ALL)
def test_tables_show_numbers_as_people_write_them(sample_run, name):
    run_dir, _, _ = sample_run
    cells = _table_cells(_outputs(run_dir, name))
    if name != "05_policy_brief":
        assert cells, f"{name} shows no table"
    raw = [c for c in cells if re.search(r"\d\.\d{4,}|\de[+-]\d|\bNaN\b|<NA>|\bTrue\b|\bFalse\b", c)]
    assert not raw, raw[:5]
    english = [c for c in cells if re.search(r"\d\.\d{1,2}(?!\d)|\d,\d{3}\.\d|\b0\.\d", c)]
    assert not english, f"English number formats in an Indonesian run: {english[:5]}"


@pytest.mark.parametrize("name", FIGURE_NOTEBOOKS)
def test_indonesian_sentences_use_indonesian_numbers_and_skip_empty_counts(sample_run, name):
    run_dir, _, _ = sample_run
    text = " ".join(_sentences(_outputs(run_dir, name)))
    assert text
    english = re.findall(r"\d\.\d{1,2}(?!\d)|\d,\d{3}\.\d|\b0\.\d+", text)
    assert not english, f"English number formats in Indonesian sentences: {english[:5]}"
    assert not re.search(r"(^|[.;:] )0 [a-z]", text), "a sentence about nothing"
