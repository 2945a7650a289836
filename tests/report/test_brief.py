"""The policy brief: PDFs in both languages, no personal data, suppression, traced numbers, skipped notebooks."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from analysis.core.i18n import t
from analysis.report import brief, recommendations
from analysis.report.facts import fmt

LANGS = ("id", "en")


class _Text(HTMLParser):
    """The visible text of the brief, split into traced numbers (span.n with data-key) and the rest."""

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.traced: list[tuple[str, str]] = []  # (key, text)
        self.free: list[str] = []
        self._key: str | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class") or ""
        if tag in ("style", "script") or (tag == "div" and "keys" in cls.split()):
            self._skip += 1
            self.stack.append("skip")
        elif tag == "span" and "n" in cls.split():
            self._key = a.get("data-key")
            self.traced.append((self._key, ""))
            self.stack.append("n")
        elif tag not in ("img", "br", "meta", "link"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in ("img", "br", "meta", "link") or not self.stack:
            return
        kind = self.stack.pop()
        if kind == "skip":
            self._skip -= 1
        elif kind == "n":
            self._key = None

    def handle_data(self, data):
        if self._skip:
            return
        if self._key is not None:
            key, text = self.traced[-1]
            self.traced[-1] = (key, text + data)
        else:
            self.free.append(data)


def parse(html: str) -> _Text:
    p = _Text()
    p.feed(html)
    return p


def brief_html(run: Path, lang: str) -> str:
    return (run / "brief" / f"brief_{lang}.html").read_text(encoding="utf-8")


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def copy_results(run: Path, to: Path) -> Path:
    for sub in ("results", "figures"):
        shutil.copytree(run / sub, to / sub)
    return to


def static_numbers(lang: str) -> set[str]:
    """Digit runs written in the translation tables themselves (regulation numbers, rule thresholds)."""
    texts = []
    for name in ("messages.yaml", "labels.yaml"):
        doc = yaml.safe_load(resources.files("analysis.core").joinpath(name).read_text(encoding="utf-8"))
        stack = [doc]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                stack.extend(node.values())
            elif isinstance(node, str):
                texts.append(node)
    # the rules' thresholds are written into their annex text from the rules themselves
    texts += [rule.threshold_text(lang) for rule in recommendations.RULES]
    return set(re.findall(r"\d+", " ".join(texts)))


# --- rendering ----------------------------------------------------------------------------------


def test_brief_renders_to_pdf_in_both_languages_in_two_to_four_pages(sample_run):
    run, _, _ = sample_run
    doc = json.loads((run / "results" / "05_policy_brief.json").read_text())
    assert doc["status"] == "ok"
    keys = {}
    for lang in LANGS:
        pdf = run / "brief" / f"brief_{lang}.pdf"
        assert pdf.read_bytes()[:5] == b"%PDF-"
        pages = len(PdfReader(pdf).pages)
        assert 2 <= pages <= 4 and pages == doc["values"]["languages"][lang]["pages"]
        html = brief_html(run, lang)
        assert f'<html lang="{lang}">' in html
        # offline: nothing to fetch (figures are embedded)
        assert not re.search(r"""(src|href)=["']https?:""", html)
        assert "data:image/png;base64," in html
        text = pdf_text(pdf)
        assert t("brief.title", lang).split(":")[0] in text
        for section in ("appraisal", "raters", "training", "rollout"):
            assert t(f"brief.{section}.title", lang).split()[0] in text
        keys[lang] = set(doc["values"]["languages"][lang]["keys_used"])
    # the two languages say the same numbers
    assert keys["id"] == keys["en"]
    assert any(k.startswith("04_rollout_evaluation:ikm.overall_att") for k in keys["id"])


def test_each_language_brief_shows_figures_drawn_in_its_language(sample_run):
    run, _, _ = sample_run
    assert (run / "figures" / "rollout_event_study_ikm.png").is_file()
    assert (run / "figures" / "rollout_event_study_ikm_en.png").is_file()  # the run's language is id
    for lang, other in (("id", "en"), ("en", "id")):
        html = brief_html(run, lang)
        ctx = brief.build(run, lang)
        files = [b.figure["file"] for b in ctx["blocks"] if b.figure]
        assert "figures/rollout_event_study_ikm" + ("_en" if lang == "en" else "") + ".png" in files
        assert html.count("data:image/png;base64,") == len(files)


# --- privacy ------------------------------------------------------------------------------------


def test_no_name_nip_or_employee_id_in_the_brief_or_the_circulated_outputs(sample_run):
    run, _, tables = sample_run
    emp = tables["employees"]
    names = [n for n in emp["name"].dropna().astype(str) if " " in n.strip()]  # full names, not "Andi" in "Andir"
    assert len(names) > 100
    ids = emp["employee_id"].dropna().astype(str).tolist()  # the NIP (or NI PPPK) is the employee id
    nips = [i for i in ids if len(i) == 18]
    assert len(nips) > 100
    texts = {f"brief_{lang}.html": brief_html(run, lang) for lang in LANGS}
    texts.update({f"brief_{lang}.pdf": pdf_text(run / "brief" / f"brief_{lang}.pdf") for lang in LANGS})
    texts.update({p.name: p.read_text(encoding="utf-8") for p in (run / "results").glob("*.json")})
    texts.update({p.name: p.read_text(encoding="utf-8") for p in (run / "tables").glob("*.csv")})
    assert len(texts) > 20
    id_pattern = re.compile(r"\b(" + "|".join(map(re.escape, ids)) + r")\b")
    for where, text in texts.items():
        squeezed = re.sub(r"\s+", "", text)
        if where.startswith("brief_"):  # no NIP-shaped number at all in what decision makers read
            assert not re.search(r"(?<!\d)\d{18}(?!\d)", squeezed), where
        assert not any(nip in squeezed for nip in nips), where
        low = text.lower()
        hit = next((n for n in names if n.lower() in low), None)
        assert hit is None, (where, hit)
        assert not id_pattern.search(text), where


def test_small_counts_of_people_are_shown_as_below_the_minimum_cell(sample_run, tmp_path):
    run, _, _ = sample_run
    copy = copy_results(run, tmp_path / "run")
    path = copy / "results" / "02_rater_bias.json"
    doc = json.loads(path.read_text())
    doc["values"]["flags"]["flagged"]["lenient"] = 3
    doc["values"]["flags"]["flagged"]["severe"] = 7
    path.write_text(json.dumps(doc))
    key = "02_rater_bias:flags.flagged.lenient"
    for min_cell, shown in ((5, "<5"), (2, "3")):
        brief.render(copy, "en", copy / "brief", min_cell=min_cell)
        traced = dict(parse((copy / "brief" / "brief_en.html").read_text()).traced)
        assert traced[key] == shown
        assert traced["02_rater_bias:flags.flagged.severe"] == "7"


# --- every number has a key ---------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_number_in_the_brief_comes_from_a_named_results_key(sample_run, lang):
    run, _, _ = sample_run
    parsed = parse(brief_html(run, lang))
    results = brief.load_results(run)
    facts = brief.Facts(results, lang, 5)
    assert len(parsed.traced) > 40
    for key, text in parsed.traced:
        value = facts.get(key)  # the key names a value in results/<notebook>.json
        assert value is not None, key
        number = re.sub(r"[^\d]", "", text)
        assert number or text == "–", (key, text)
    # outside the traced spans, only numbers written in the translation tables themselves
    free = " ".join(parsed.free)
    stray = set(re.findall(r"\d+", free)) - static_numbers(lang)
    assert not stray, stray


def test_the_traced_number_is_the_results_value_formatted(sample_run):
    run, _, _ = sample_run
    results = brief.load_results(run)
    traced = dict(parse(brief_html(run, "en")).traced)
    key = "04_rollout_evaluation:ikm.overall_att.estimate"
    value = results["04_rollout_evaluation"]["values"]["ikm"]["overall_att"]["estimate"]
    assert traced[key] == fmt(value, "signed", "en", 2)
    id_traced = dict(parse(brief_html(run, "id")).traced)
    assert id_traced[key] == fmt(value, "signed", "id", 2)
    assert "," in id_traced[key] and "." in traced[key]  # decimal comma in Indonesian


# --- sections whose notebook did not run ---------------------------------------------------------


def test_brief_from_a_run_with_skipped_notebooks_says_which_sections_are_missing(sample_run, tmp_path):
    run, _, _ = sample_run
    copy = copy_results(run, tmp_path / "run")
    (copy / "results" / "03_competency_gaps.json").unlink()  # not run at all
    skipped = {"notebook": "04_rollout_evaluation", "status": "skipped",
               "reason": "missing table(s): rollout, service_outcomes", "sections": {}, "values": {}}
    (copy / "results" / "04_rollout_evaluation.json").write_text(json.dumps(skipped))
    written = brief.render_all(copy, copy / "brief")
    for lang in LANGS:
        html = (copy / "brief" / f"brief_{lang}.html").read_text()
        assert written[lang]["sections"] == {"appraisal": "ok", "raters": "ok", "training": "skipped",
                                             "rollout": "skipped"}
        assert "rollout, service_outcomes" in html
        assert html.count(t("brief.skipped", lang, reason="").split(":")[0]) == 2
        assert t("brief.rollout.title", lang) in html and t("brief.training.title", lang) in html
        keys = written[lang]["keys_used"]
        assert not any(k.startswith(("03_", "04_")) for k in keys)
        # recommendations from the skipped notebooks' rules do not appear
        assert t("brief.rule.extend.then", lang).split("{")[0] not in html
        assert 1 <= written[lang]["pages"] <= 4


def test_brief_of_a_rollout_notebook_that_could_not_estimate_says_why(sample_run, tmp_path):
    run, _, _ = sample_run
    copy = copy_results(run, tmp_path / "run")
    doc = {"notebook": "04_rollout_evaluation", "status": "ok", "reason": None,
           "sections": {"panel": "skipped: no unit adopts the new scheme within the observed periods",
                        "ikm": "skipped: no unit adopts the new scheme within the observed periods"},
           "values": {"panel": {}, "ikm": {}}}
    (copy / "results" / "04_rollout_evaluation.json").write_text(json.dumps(doc))
    written = brief.render(copy, "en", copy / "brief")
    html = (copy / "brief" / "brief_en.html").read_text()
    assert written["sections"]["rollout"] == "skipped"
    assert "no unit adopts the new scheme" in html


# --- the IKM and its mutu band; JP already received ----------------------------------------------


def test_brief_reports_the_ikm_with_its_mutu_band(sample_run):
    from analysis.core import ikm

    run, _, _ = sample_run
    q = brief.load_results(run)["04_rollout_evaluation"]["values"]["ikm_quality"]
    assert q["band"] == ikm.band(q["mean_ikm"]) and sum(q["units_by_band"].values()) == q["units"]
    for lang in LANGS:
        html = brief_html(run, lang)
        traced = dict(parse(html).traced)
        mean = traced["04_rollout_evaluation:ikm_quality.mean_ikm_printed"]
        assert mean == fmt(q["mean_ikm_printed"], "num", lang, 2)
        # the band is a word, not a number: said in the text, its key listed among the keys used
        label = t("ikm.band." + q["band"], lang)
        assert f"{q['band']} ({label};" in html
        assert "04_rollout_evaluation:ikm_quality.band" in brief.build(run, lang)["used_keys"]


def test_brief_says_received_jp_are_not_counted_without_a_training_history(sample_run):
    run, _, _ = sample_run
    for lang in LANGS:
        assert t("brief.training.no_history", lang) in brief_html(run, lang)


def test_brief_says_how_many_pns_have_not_reached_20_jp_this_year(sample_run, tmp_path):
    run, _, _ = sample_run
    copy = copy_results(run, tmp_path / "run")
    path = copy / "results" / "03_competency_gaps.json"
    doc = json.loads(path.read_text())
    dev = doc["values"]["plans"]["development"]
    dev["received"] = {"year": 2025, "records": 900, "courses": 880, "repeats_folded": 20, "employees": 700,
                       "undated_records": 0, "min_jp": 20.0, "pns": dev["pns"], "pns_received_any": 700,
                       "pns_reached_by_received": 300, "pns_below_min_received": dev["pns"] - 300,
                       "pns_short_after_plan": 3, "jp_received_pns": 9000.0, "mean_jp_received_pns": 10.0,
                       "jp_remaining_pns": 5000.0}
    path.write_text(json.dumps(doc))
    brief.render(copy, "en", copy / "brief")
    html = (copy / "brief" / "brief_en.html").read_text()
    traced = dict(parse(html).traced)
    key = "03_competency_gaps:plans.development.received"
    assert traced[f"{key}.pns_below_min_received"] == fmt(dev["pns"] - 300, "int", "en")
    assert traced[f"{key}.year"] == "2025"
    assert traced[f"{key}.pns_short_after_plan"] == "<5"  # a small group of people
    assert t("brief.training.no_history", "en") not in html
