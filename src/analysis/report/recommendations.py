"""The brief's recommendations: stated rules over results keys, each with its threshold in one place.

A rule reads named results keys, compares one quantity with its threshold and, when it applies,
recommends an action (``brief.rule.<key>.then`` in the translation table). The annex states every
rule (``brief.rule.<key>.when``) with the same threshold, formatted as the language writes numbers,
so the rule and the text that explains it cannot drift apart.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup, escape

from analysis.core.i18n import t
from analysis.raters.spec import RELIABILITY_TARGET
from analysis.report.facts import Facts, fmt

# the thresholds of the rules (the annex prints them from here)
MAX_SHARE_NON_COMPLIANT = 0.05  # more unit-periods than this outside the SE 3/2023 bounds: calibrate
MIN_SELF_EXCESS = 0.2  # self-ratings above peers' by more than this (lower CI bound, score points)
NO_EFFECT = 0.0  # a rollout effect whose interval lies above this is shown

OPERATORS: dict[str, Callable[[float, float], bool]] = {">": operator.gt, "<": operator.lt, "<=": operator.le}


@dataclass(frozen=True)
class Rule:
    key: str  # brief.rule.<key>.when / .then in the translation table
    needs: tuple[str, ...]  # results keys the rule reads
    value: Callable[[Facts], float]  # the quantity compared with the threshold
    op: str  # ">", "<" or "<="
    threshold: float
    fields: Callable[[Facts], dict]  # the numbers the recommendation names
    shown: tuple[str, int] = ("num", 0)  # how the annex writes the threshold: fmt kind and digits

    def applies(self, f: Facts) -> bool:
        return OPERATORS[self.op](self.value(f), self.threshold)

    def threshold_text(self, lang: str) -> str:
        kind, digits = self.shown
        return fmt(self.threshold, kind, lang, digits)

    def when(self, lang: str) -> Markup:
        """The rule as the annex states it."""
        return Markup(escape(t(f"brief.rule.{self.key}.when", lang, threshold=self.threshold_text(lang))))


def _sum(*keys: str) -> Callable[[Facts], float]:
    return lambda f: sum(f.get(k) for k in keys)


NC = "01_appraisal_outcomes:compliance"
FLAGGED = "02_rater_bias:flags.flagged"
IKM = "04_rollout_evaluation:ikm.overall_att"

RULES: tuple[Rule, ...] = (
    Rule("distribution", (f"{NC}.share_non_compliant",), _sum(f"{NC}.share_non_compliant"),
         ">", MAX_SHARE_NON_COMPLIANT, lambda f: {"bad": f.n(f"{NC}.non_compliant", "int")}, ("pct", 0)),
    Rule("reported", ("01_appraisal_outcomes:predikat.reported.n_mismatch",),
         _sum("01_appraisal_outcomes:predikat.reported.n_mismatch"), ">", 0,
         lambda f: {"n": f.count("01_appraisal_outcomes:predikat.reported.n_mismatch")}),
    Rule("calibration", (f"{FLAGGED}.lenient", f"{FLAGGED}.severe"),
         _sum(f"{FLAGGED}.lenient", f"{FLAGGED}.severe"), ">", 0,
         lambda f: {"lenient": f.count(f"{FLAGGED}.lenient"), "severe": f.count(f"{FLAGGED}.severe")}),
    Rule("rater_training", (f"{FLAGGED}.central_tendency", f"{FLAGGED}.halo"),
         _sum(f"{FLAGGED}.central_tendency", f"{FLAGGED}.halo"), ">", 0,
         lambda f: {"central": f.count(f"{FLAGGED}.central_tendency"), "halo": f.count(f"{FLAGGED}.halo")}),
    Rule("more_raters", ("02_rater_bias:model.reliability.average_agreement", "02_rater_bias:model.raters_for_070"),
         _sum("02_rater_bias:model.reliability.average_agreement"), "<", RELIABILITY_TARGET,
         lambda f: {"k": f.n("02_rater_bias:model.raters_for_070", "int"),
                    "target": fmt(RELIABILITY_TARGET, "num", f.lang, 2)}, ("num", 2)),
    Rule("self_ratings", ("02_rater_bias:sources.model.self.ci_low",),
         _sum("02_rater_bias:sources.model.self.ci_low"), ">", MIN_SELF_EXCESS,
         lambda f: {"self": f.n("02_rater_bias:sources.model.self.estimate", "num", 2)}, ("num", 1)),
    Rule("fairness", ("02_rater_bias:fairness.units_flagged",), _sum("02_rater_bias:fairness.units_flagged"),
         ">", 0, lambda f: {"units": f.n("02_rater_bias:fairness.units_flagged", "int")}),
    Rule("budget", ("03_competency_gaps:plans.gap_closed_per_extra_billion",),
         _sum("03_competency_gaps:plans.gap_closed_per_extra_billion"), ">", 0,
         lambda f: {"extra": f.n("03_competency_gaps:plans.gap_closed_per_extra_billion", "num", 0)}),
    Rule("inhouse", ("03_competency_gaps:plans.development.pns_topped_up",),
         _sum("03_competency_gaps:plans.development.pns_topped_up"), ">", 0,
         lambda f: {"n": f.n("03_competency_gaps:plans.development.pns_topped_up", "int")}),
    Rule("jp_short", ("03_competency_gaps:plans.development.pns_short",),
         _sum("03_competency_gaps:plans.development.pns_short"), ">", 0,
         lambda f: {"n": f.count("03_competency_gaps:plans.development.pns_short")}),
    Rule("extend", (f"{IKM}.ci_low",), _sum(f"{IKM}.ci_low"), ">", NO_EFFECT,
         lambda f: {"att": f.n(f"{IKM}.estimate", "signed", 2)}),
    Rule("wait", (f"{IKM}.ci_low",), _sum(f"{IKM}.ci_low"), "<=", NO_EFFECT, lambda f: {}),
)


def recommendations(f: Facts) -> list[Markup]:
    """The actions whose rules apply to this run's results (rules whose keys are missing are left out)."""
    out = []
    for rule in RULES:
        if not all(f.has(k) for k in rule.needs):
            continue
        if rule.applies(f):
            template = escape(t(f"brief.rule.{rule.key}.then", f.lang))
            out.append(Markup(str(template).format(**{k: escape(v) for k, v in rule.fields(f).items()})))
    return out


def stated_rules(lang: str) -> list[Markup]:
    """Every rule as the annex states it, with its threshold."""
    return [rule.when(lang) for rule in RULES]
