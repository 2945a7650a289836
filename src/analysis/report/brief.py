"""The policy brief: what decision makers need, in Bahasa Indonesia and English.

It reads only the run's ``results/*.json`` and ``figures/*.png``: it computes
nothing. Every number it prints is looked up by a named results key
(``notebook:path.to.value``) and rendered inside ``<span data-key="…">``, so a
reader (or a test) can trace each one; the annex lists the keys used. Counts
of people below the minimum cell size are shown as "<5". No name or NIP is
ever in a results file, so none can reach the brief. Text comes from the
translation table (``messages.yaml``, keys ``brief.*``); numbers are written
the way each language writes them (``12,5%`` and ``1.234`` in Bahasa
Indonesia). HTML is rendered with Jinja2 and turned into PDF by WeasyPrint,
offline.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from markupsafe import Markup, escape

from analysis.core import codes
from analysis.core.i18n import outcome_phrase, t
from analysis.core.runfolder import run_id
from analysis.report.facts import Facts, fmt
from analysis.report.recommendations import recommendations, stated_rules

NOTEBOOKS = ("01_appraisal_outcomes", "02_rater_bias", "03_competency_gaps", "04_rollout_evaluation")


def load_results(run_dir: Path) -> dict[str, dict]:
    out = {}
    for path in sorted((Path(run_dir) / "results").glob("*.json")):
        out[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    return out


def _t(key: str, lang: str, **fields) -> Markup:
    """A sentence of the translation table with its (already escaped) fields filled in."""
    template = escape(t(key, lang))
    return Markup(str(template).format(**{k: escape(v) for k, v in fields.items()}))


# --- sections ---------------------------------------------------------------------------


@dataclass
class Block:
    key: str
    title: str
    available: bool = True
    note: Markup | None = None
    paragraphs: list[Markup] = field(default_factory=list)
    bullets: list[Markup] = field(default_factory=list)
    figure: dict | None = None
    findings: list[Markup] = field(default_factory=list)  # the lines that go to the key findings


def _figure(run_dir: Path, name: str, caption: Markup, lang: str | None = None) -> dict | None:
    """A figure of the run, in ``lang`` when the notebook drew it in both (``<name>_<lang>.png``)."""
    path = Path(run_dir) / "figures" / f"{name}_{lang}.png"
    if not path.exists():
        path = Path(run_dir) / "figures" / f"{name}.png"
    if not path.exists():
        return None
    name = path.stem
    data = base64.b64encode(path.read_bytes()).decode()
    return {"src": f"data:image/png;base64,{data}", "caption": caption, "file": f"figures/{name}.png"}


def _skipped(key: str, f: Facts, notebook: str) -> Block:
    reason = (f.results.get(notebook) or {}).get("reason") or f.status(notebook)
    return Block(key, t(f"brief.{key}.title", f.lang), available=False,
                 note=_t("brief.skipped", f.lang, reason=reason))


def _open_block(f: Facts, key: str, notebook: str, section: str | None = None) -> Block:
    """The block of one notebook, empty and ready to fill; or, when the notebook (or the section the
    block starts from) did not run, the block that says so (``available`` False)."""
    if not f.available(notebook) or (section and not f.available(notebook, section)):
        return _skipped(key, f, notebook)
    return Block(key, t(f"brief.{key}.title", f.lang))


def appraisal_block(f: Facts, run_dir: Path) -> Block:
    nb = "01_appraisal_outcomes"
    b = _open_block(f, "appraisal", nb)
    if not b.available:
        return b
    lang = f.lang
    latest = f.get(f"{nb}:predikat.latest_period")
    base = f"{nb}:predikat.predikat_shares.{latest}"
    b.paragraphs.append(_t("brief.appraisal.predikat", lang, period=f.text(f"{nb}:predikat.latest_period"),
                           n=f.n(f"{nb}:predikat.n_appraisals", "int"),
                           sb=f.n(f"{base}.sangat_baik", "pct"), b=f.n(f"{base}.baik", "pct"),
                           bp=f.n(f"{base}.butuh_perbaikan", "pct"), k=f.n(f"{base}.kurang", "pct"),
                           sk=f.n(f"{base}.sangat_kurang", "pct")))
    if f.available(nb, "compliance"):
        line = _t("brief.appraisal.compliance", lang,
                  bad=f.n(f"{nb}:compliance.non_compliant", "int"), checked=f.n(f"{nb}:compliance.checked", "int"),
                  share=f.n(f"{nb}:compliance.share_non_compliant", "pct"),
                  people=f.n(f"{nb}:compliance.people_to_move", "int"))
        b.paragraphs.append(line)
        b.findings.append(_t("brief.finding.appraisal", lang, bad=f.n(f"{nb}:compliance.non_compliant", "int"),
                             checked=f.n(f"{nb}:compliance.checked", "int"),
                             share=f.n(f"{nb}:compliance.share_non_compliant", "pct")))
    if f.has(f"{nb}:predikat.reported.share_mismatch"):
        b.bullets.append(_t("brief.appraisal.reported", lang,
                            n=f.count(f"{nb}:predikat.reported.n_mismatch"),
                            share=f.n(f"{nb}:predikat.reported.share_mismatch", "pct")))
    if f.available(nb, "agreement"):
        b.bullets.append(_t("brief.appraisal.agreement", lang, kappa=f.ci(f"{nb}:agreement.pp30.kappa_linear", estimate="kappa"),
                            same=f.n(f"{nb}:agreement.pp30.share_same", "pct")))
    b.figure = _figure(run_dir, "predikat_by_period", t("brief.appraisal.figure", lang), lang)
    return b


def raters_block(f: Facts, run_dir: Path) -> Block:
    nb = "02_rater_bias"
    b = _open_block(f, "raters", nb, "model")
    if not b.available:
        return b
    lang = f.lang
    b.paragraphs.append(_t("brief.raters.model", lang, n=f.n(f"{nb}:model.n_ratings", "int"),
                           raters=f.n(f"{nb}:model.n_raters", "int"),
                           share=f.n(f"{nb}:model.shares.rater_id", "pct"),
                           single=f.n(f"{nb}:model.reliability.single_agreement", "num", 2),
                           k=f.n(f"{nb}:model.reliability.k", "num", 1),
                           average=f.n(f"{nb}:model.reliability.average_agreement", "num", 2)))
    if f.available(nb, "flags"):
        line = _t("brief.raters.flags", lang, eligible=f.n(f"{nb}:flags.eligible_raters", "int"),
                  lenient=f.count(f"{nb}:flags.flagged.lenient"), severe=f.count(f"{nb}:flags.flagged.severe"),
                  central=f.count(f"{nb}:flags.flagged.central_tendency"), halo=f.count(f"{nb}:flags.flagged.halo"),
                  fdr=f.n(f"{nb}:flags.fdr", "pct", 0))
        b.paragraphs.append(line)
        b.findings.append(_t("brief.finding.raters", lang, eligible=f.n(f"{nb}:flags.eligible_raters", "int"),
                             any=f.count(f"{nb}:flags.flagged_any"),
                             share=f.n(f"{nb}:model.shares.rater_id", "pct")))
    if f.available(nb, "sources") and f.has(f"{nb}:sources.model.self.estimate"):
        b.bullets.append(_t("brief.raters.self", lang, self=f.ci(f"{nb}:sources.model.self", 2, signed=True)))
    if f.available(nb, "fairness") and f.has(f"{nb}:fairness.gender_gap.estimate"):
        line = _t("brief.raters.fairness", lang, gap=f.ci(f"{nb}:fairness.gender_gap", 3, signed=True),
                  tested=f.n(f"{nb}:fairness.units_tested", "int"), flagged=f.n(f"{nb}:fairness.units_flagged", "int"))
        b.bullets.append(line)
        b.bullets.append(Markup(t("brief.raters.fairness_caveat", lang)))
    b.figure = _figure(run_dir, "rater_effects_caterpillar", t("brief.raters.figure", lang), lang)
    return b


def training_block(f: Facts, run_dir: Path) -> Block:
    nb = "03_competency_gaps"
    b = _open_block(f, "training", nb, "gaps")
    if not b.available:
        return b
    lang = f.lang
    b.paragraphs.append(_t("brief.training.gaps", lang, gap=f.n(f"{nb}:gaps.employees_with_gap", "int"),
                           n=f.n(f"{nb}:gaps.employees_with_standard", "int"),
                           share=f.n(f"{nb}:gaps.share_with_gap", "pct"),
                           missing=f.n(f"{nb}:gaps.not_assessed", "int")))
    if f.available(nb, "clusters"):
        if f.has(f"{nb}:clusters.structure") and not f.get(f"{nb}:clusters.structure"):
            b.bullets.append(Markup(t("brief.training.clusters_none", lang)))  # a partition, not profiles
        else:
            clusters = f.get(f"{nb}:clusters.clusters")
            names = Markup("; ").join(
                Markup("{} ({})").format(c[f"name_{lang}"], f.count(f"{nb}:clusters.clusters.{i}.n"))
                for i, c in enumerate(clusters))
            b.bullets.append(_t("brief.training.clusters", lang, k=f.n(f"{nb}:clusters.k", "int"), names=names))
    if f.available(nb, "plans"):
        p = f"{nb}:plans.plan"
        line = _t("brief.training.plan", lang, budget=f.n(f"{nb}:plans.budget", "idr"),
                  cost=f.n(f"{p}.cost", "idr"), cohorts=f.n(f"{nb}:plans.classroom_cohorts", "int"),
                  people=f.n(f"{p}.people_reached", "int"), closed=f.n(f"{p}.gap_closed", "num", 0),
                  share=f.n(f"{nb}:plans.share_gap_closed", "pct"))
        b.paragraphs.append(line)
        b.findings.append(_t("brief.finding.training", lang, share=f.n(f"{nb}:gaps.share_with_gap", "pct"),
                             budget=f.n(f"{nb}:plans.budget", "idr"),
                             closed=f.n(f"{nb}:plans.share_gap_closed", "pct"),
                             people=f.n(f"{p}.people_reached", "int")))
        jp = _t("brief.training.jp", lang, pns=f.n(f"{nb}:plans.development.pns", "int"),
                met=f.n(f"{nb}:plans.development.pns_meeting_min_jp", "int"),
                topped=f.n(f"{nb}:plans.development.pns_topped_up", "int"),
                short=f.count(f"{nb}:plans.development.pns_short"))
        b.bullets.append(jp + Markup(" ") + _received_jp(f, f"{nb}:plans.development.received"))
        if f.has(f"{nb}:plans.gap_closed_per_extra_billion"):
            b.bullets.append(_t("brief.training.marginal", lang,
                                extra=f.n(f"{nb}:plans.gap_closed_per_extra_billion", "num", 0)))
    b.figure = _figure(run_dir, "budget_curve", t("brief.training.figure", lang), lang)
    return b


def _received_jp(f: Facts, key: str) -> Markup:
    """How many PNS had not yet reached 20 JP in the year by the training history, and how many are
    still short after the plan; or that, without a training history, received JP are not counted."""
    if not f.has(f"{key}.pns_below_min_received") or not f.has(f"{key}.year"):
        return Markup(t("brief.training.no_history", f.lang))
    return _t("brief.training.received", f.lang, below=f.count(f"{key}.pns_below_min_received"),
              pns=f.n(f"{key}.pns", "int"), year=f.text(f"{key}.year"),
              short=f.count(f"{key}.pns_short_after_plan"))


def _ikm_quality(f: Facts, nb: str) -> Markup | None:
    """The units' mean IKM in the latest period with its mutu band (PermenPANRB 14/2017), when the run has
    IKM values."""
    key = f"{nb}:ikm_quality"
    if not f.available(nb, "ikm_quality") or not f.has(f"{key}.band"):
        return None
    by, band = f"{key}.units_by_band", f.word(f"{key}.band")
    return _t("brief.rollout.ikm", f.lang, period=f.text(f"{key}.period"), n=f.n(f"{key}.units", "int"),
              ikm=f.n(f"{key}.mean_ikm_printed", "num", 2), band=band, label=t(f"ikm.band.{band}", f.lang),
              a=f.n(f"{by}.A", "int"), b=f.n(f"{by}.B", "int"), c=f.n(f"{by}.C", "int"), d=f.n(f"{by}.D", "int"))


def _rollout_outcomes(f: Facts, nb: str) -> list[str]:
    values = f.results[nb].get("values", {})
    found = [k for k, v in values.items() if isinstance(v, dict) and "overall_att" in v]
    return sorted(found, key=lambda k: (k not in ("ikm", "iku_attainment"), k != "ikm", k))


def _event_index(f: Facts, key: str, which: str) -> int | None:
    """Index in the event study of the adoption period (``first``) or the last event time (``last``)."""
    rows = f.get(key) if f.has(key) else []
    post = [i for i, r in enumerate(rows) if r.get("event_time", -1) >= 0 and r.get("estimate") is not None]
    if not post:
        return None
    return post[0] if which == "first" else post[-1]


def _region_range(f: Facts, key: str) -> tuple[str, str] | None:
    """The levels (tested, with a plain name) with the smallest and the largest effect."""
    levels = f.get(f"{key}.levels") if f.has(f"{key}.levels") else {}
    tested = {k: v["estimate"] for k, v in levels.items()
              if v.get("in_test") and v.get("estimate") is not None and "." not in k}
    if len(tested) < 2:
        return None
    return min(tested, key=tested.get), max(tested, key=tested.get)


def rollout_block(f: Facts, run_dir: Path) -> Block:
    nb = "04_rollout_evaluation"
    b = _open_block(f, "rollout", nb)
    if not b.available:
        return b
    lang = f.lang
    outcomes = _rollout_outcomes(f, nb)
    if not outcomes:  # the notebook ran but could not estimate: say why
        status = f.section_status(nb, "panel")
        reason = status.removeprefix("skipped: ") if status.startswith("skipped") else "no outcome could be estimated"
        return Block("rollout", t("brief.rollout.title", lang), available=False,
                     note=_t("brief.skipped", lang, reason=reason))
    quality = _ikm_quality(f, nb)
    if quality is not None:  # the level first: what the effects below move
        b.paragraphs.append(quality)
    pretests = []
    for outcome in outcomes:
        key, name = f"{nb}:{outcome}", outcome_phrase(outcome, lang)
        att = f.ci(f"{key}.overall_att", 2, signed=True)
        text = _t("brief.rollout.overall", lang, outcome=name, att=att)
        i0, il = _event_index(f, f"{key}.event_study", "first"), _event_index(f, f"{key}.event_study", "last")
        if i0 is not None and il is not None and il > i0:
            text += Markup(" ") + _t("brief.rollout.growth", lang,
                                     first=f.n(f"{key}.event_study.{i0}.estimate", "signed", 2),
                                     last=f.n(f"{key}.event_study.{il}.estimate", "signed", 2),
                                     e=f.n(f"{key}.event_study.{il}.event_time", "int"))
        b.paragraphs.append(text)
        b.findings.append(_t("brief.finding.rollout", lang, outcome=name, att=att))
        if f.has(f"{key}.pretest.p"):
            pretests.append(_t("brief.rollout.pretest_one", lang, outcome=name, p=f.n(f"{key}.pretest.p", "num", 2)))
    if pretests:
        b.bullets.append(_t("brief.rollout.pretest", lang, tests=Markup("; ").join(pretests)))
    if outcomes:  # the naive contrast and the regions for the headline outcome
        key, name = f"{nb}:{outcomes[0]}", outcome_phrase(outcomes[0], lang)
        if f.has(f"{key}.twfe.estimate") and f.has(f"{key}.bacon.already_treated_weight"):
            b.bullets.append(_t("brief.rollout.twfe", lang, outcome=name,
                                twfe=f.n(f"{key}.twfe.estimate", "signed", 2),
                                weight=f.n(f"{key}.bacon.already_treated_weight", "pct", 0)))
        region = _region_range(f, f"{key}.by_region")
        if region and f.has(f"{key}.by_region.equality.p"):
            lo, hi = region
            b.bullets.append(_t("brief.rollout.region", lang, outcome=name, lo_region=lo, hi_region=hi,
                                lo=f.n(f"{key}.by_region.levels.{lo}.estimate", "signed", 2),
                                hi=f.n(f"{key}.by_region.levels.{hi}.estimate", "signed", 2),
                                p=f.n(f"{key}.by_region.equality.p", "num", 2)))
    app = f"{nb}:appraisal_metrics.share_sangat_baik.overall_att"
    if f.has(f"{app}.estimate"):
        b.bullets.append(_t("brief.rollout.appraisal", lang, att=f.n(f"{app}.estimate", "signed_pct", 1),
                            lo=f.n(f"{app}.ci_low", "signed_pct", 1), hi=f.n(f"{app}.ci_high", "signed_pct", 1)))
    if outcomes and f.has(f"{nb}:mde.{outcomes[0]}.mde"):
        mde = f"{nb}:mde.{outcomes[0]}"
        text = _t("brief.rollout.mde", lang, outcome=outcome_phrase(outcomes[0], lang),
                  units=f.n(f"{mde}.n_units", "int"), periods=f.n(f"{mde}.n_post_periods", "int"),
                  mde=f.n(f"{mde}.mde", "num", 2))
        if f.has(f"{mde}.units_needed.n_units"):
            text += Markup(" ") + _t("brief.rollout.units_needed", lang,
                                     effect=f.n(f"{mde}.units_needed.effect", "num", 1),
                                     units=f.n(f"{mde}.units_needed.n_units", "int"))
        b.bullets.append(text)
    if outcomes:
        b.figure = _figure(run_dir, f"rollout_event_study_{outcomes[0]}",
                           _t("brief.rollout.figure", lang, outcome=outcome_phrase(outcomes[0], lang)), lang)
    return b


CHANGES = "06_changes"
NAMED_UNITS = 8  # units named in the changes section; the rest are counted


def _then_now(f: Facts, key: str, kind: str, digits: int = 1, people: bool = False) -> dict:
    """then, now and difference of a changes entry, formatted; a count of people below the minimum cell
    shows as "<min_cell", and then no difference is given (it would tell the small count)."""
    small = people and any(0 < (f.get(f"{key}.{w}") or 0) < f.min_cell for w in ("then", "now"))
    show = f.count if people else (lambda k: f.n(k, kind, digits))
    diff_kind = {"pct": "signed_pct", "int": "signed"}.get(kind, "signed")
    diff = Markup("–") if small or not f.has(f"{key}.difference") else f.n(
        f"{key}.difference", diff_kind, 0 if kind == "int" else digits)
    return {"then": show(f"{key}.then"), "now": show(f"{key}.now"), "diff": diff}


def changes_block(f: Facts) -> Block | None:
    """"Since the previous report": what moved between the previous comparable run and this one
    (``results/06_changes.json``, written by the runner); None when there was no previous report."""
    if f.status(CHANGES) != "ok":
        return None
    lang, nb = f.lang, CHANGES
    b = Block("changes", t("brief.changes.title", lang, date=str(f.get(f"{nb}:previous_started_at") or "")[:10]))
    if f.has(f"{nb}:bounds"):
        base = f"{nb}:bounds"
        units = (f.get(f"{base}.units_newly_breaking") or [])[:NAMED_UNITS]
        names = Markup(", ").join(escape(u.get("unit_name") or u["unit_id"]) for u in units)
        more = max(0, f.get(f"{base}.newly_breaking") - len(units))
        b.bullets.append(_t("brief.changes.bounds", lang, period_then=f.text(f"{base}.period_then"),
                            period_now=f.text(f"{base}.period_now"), breaking=f.n(f"{base}.newly_breaking", "int"),
                            within=f.n(f"{base}.newly_within", "int"),
                            names=_t("brief.changes.named", lang, names=names,
                                     more_text=_t("brief.changes.more", lang, more=more) if more else "")
                            if units else "",
                            **_then_now(f, f"{base}.breaking", "int")))
    if f.has(f"{nb}:raters.lenient"):
        parts = []
        for kind in ("lenient", "severe", "central_tendency", "halo"):
            v = _then_now(f, f"{nb}:raters.{kind}", "int", people=True)
            parts.append(_t("brief.changes.rater_kind", lang, kind=codes.label("rater_flag", kind, lang), **v))
        b.bullets.append(_t("brief.changes.raters", lang, kinds=Markup("; ").join(parts)))
    if f.has(f"{nb}:share_with_gap.now") and f.has(f"{nb}:share_with_gap.then"):
        b.bullets.append(_t("brief.changes.gap", lang, **_then_now(f, f"{nb}:share_with_gap", "pct")))
    if f.has(f"{nb}:plan_people_reached.now") and f.has(f"{nb}:plan_people_reached.then"):
        b.bullets.append(_t("brief.changes.plan", lang, **_then_now(f, f"{nb}:plan_people_reached", "int")))
    if f.has(f"{nb}:ikm_effect.then") and f.has(f"{nb}:ikm_effect.now"):
        b.bullets.append(_t("brief.changes.ikm", lang, then=f.ci(f"{nb}:ikm_effect.then", signed=True),
                            now=f.ci(f"{nb}:ikm_effect.now", signed=True),
                            diff=f.n(f"{nb}:ikm_effect.difference", "signed", 2)))
    if not b.bullets:
        b.paragraphs.append(Markup(t("brief.changes.none", lang)))
    return b


# --- annex ---------------------------------------------------------------------------------------


def data_quality(f: Facts) -> list[Markup]:
    lang = f.lang
    if f.status("00_run") == "missing":
        return [Markup(t("brief.annex.no_run", lang))]
    out = [_t("brief.annex.validation", lang, errors=f.n("00_run:validation.errors", "int"),
              warnings=f.n("00_run:validation.warnings", "int"))]
    checks = f.get("00_run:validation.by_check")
    for i, c in enumerate(checks):
        if c["severity"] == "warning":
            out.append(_t("brief.annex.warning", lang, table=c["table"], check=c["check"],
                          n=f.n(f"00_run:validation.by_check.{i}.count", "int")))
    tables = f.get("00_run:tables")
    out.append(_t("brief.annex.tables", lang, tables=Markup(", ").join(
        Markup("{} {}").format(name, f.n(f"00_run:tables.{name}", "int")) for name in tables)))
    return out


def exclusion_notice(f: Facts) -> Markup | None:
    """The first page's notice when rows with errors were set aside (params validation.on_error: exclude),
    with the counts by table; None when nothing was."""
    if not f.has("00_run:excluded"):
        return None
    tables = f.get("00_run:excluded")
    parts = Markup(", ").join(Markup("{} {}").format(name, f.n(f"00_run:excluded.{name}", "int"))
                              for name in sorted(tables))
    return _t("brief.excluded", f.lang, n=fmt(sum(tables.values()), "int", f.lang), tables=parts)


def _by_notebook(keys) -> dict[str, list[str]]:
    """Results keys grouped by their notebook, for the annex: {notebook: [key path, ...]}."""
    out: dict[str, list[str]] = {}
    for key in sorted(keys):
        notebook, path = key.split(":", 1)
        out.setdefault(notebook, []).append(path)
    return out


def build(run_dir: Path, lang: str, min_cell: int | None = None) -> dict:
    """Everything the template needs, for one language."""
    results = load_results(run_dir)
    run = results.get("00_run", {}).get("values", {})
    f = Facts(results, lang, min_cell or run.get("min_cell", 5))
    blocks = [appraisal_block(f, run_dir), raters_block(f, run_dir), training_block(f, run_dir),
              rollout_block(f, run_dir)]
    since = changes_block(f)
    if since is not None:  # first after the key findings: what a reader of the last report wants to know
        blocks.insert(0, since)
    findings = [line for b in blocks for line in b.findings]
    recs = recommendations(f)
    quality = data_quality(f)
    rules = stated_rules(lang)
    return {
        "lang": lang, "title": t("brief.title", lang), "subtitle": t("brief.subtitle", lang),
        "run_id": run_id(Path(run_dir)), "findings": findings, "blocks": blocks,
        "notice": exclusion_notice(f),
        "recommendations": recs, "quality": quality, "rules": rules,
        "methods": [Markup(t(f"brief.method.{k}", lang)) for k in ("appraisal", "raters", "training", "rollout")],
        "labels": {k: t(f"brief.label.{k}", lang) for k in ("findings", "recommendations", "annex", "quality",
                                                           "methods", "rules", "sources", "run")},
        "used_keys": sorted(f.used),
        "sources": _by_notebook(f.used),
        "codes": codes,
    }


def render_html(context: dict) -> str:
    from jinja2 import Environment, select_autoescape

    template = resources.files("analysis.report").joinpath("templates/brief.html.j2").read_text(encoding="utf-8")
    env = Environment(autoescape=select_autoescape(default=True))
    return env.from_string(template).render(**context)


def render(run_dir: Path, lang: str, out_dir: Path, min_cell: int | None = None) -> dict:
    """Write brief_<lang>.html and brief_<lang>.pdf; return what was written and the keys used."""
    from weasyprint import HTML

    context = build(Path(run_dir), lang, min_cell)
    html = render_html(context)
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / f"brief_{lang}.html"
    html_path.write_text(html, encoding="utf-8")
    document = HTML(string=html, base_url=str(out_dir)).render()
    pdf_path = out_dir / f"brief_{lang}.pdf"
    document.write_pdf(pdf_path)
    return {"lang": lang, "html": html_path.name, "pdf": pdf_path.name, "pages": len(document.pages),
            "keys_used": context["used_keys"],
            "sections": {b.key: ("ok" if b.available else "skipped") for b in context["blocks"]},
            "recommendations": len(context["recommendations"])}


def render_all(run_dir: Path, out_dir: Path, primary: str = "id", min_cell: int | None = None) -> dict:
    """Both languages, the primary one first: {lang: what was written}."""
    order = [primary] + [lang for lang in ("id", "en") if lang != primary]
    return {lang: render(run_dir, lang, out_dir, min_cell) for lang in order}
