"""The brief's rules: each threshold lives once, and the rule and the annex text that states it agree."""

from __future__ import annotations

import dataclasses

import pytest

from analysis.core.i18n import messages
from analysis.report import recommendations as rec
from analysis.report.facts import Facts


def facts(values: dict, lang: str = "en") -> Facts:
    results = {}
    for key, value in values.items():
        notebook, path = key.split(":", 1)
        node = results.setdefault(notebook, {"status": "ok", "values": {}})["values"]
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return Facts(results, lang)


@pytest.mark.parametrize("rule", rec.RULES, ids=lambda r: r.key)
def test_a_rule_with_a_threshold_states_it_from_the_same_constant(rule):
    for lang in ("id", "en"):
        template = messages()[f"brief.rule.{rule.key}.when"][lang]
        if rule.threshold != 0 or rule.key in ("extend", "wait"):
            assert "{threshold}" in template, f"{rule.key} ({lang}) writes its threshold by hand"
        assert rule.threshold_text(lang) in str(rule.when(lang)) or "{threshold}" not in template


def test_the_annex_writes_thresholds_as_each_language_writes_numbers():
    more = next(r for r in rec.RULES if r.key == "more_raters")
    assert "0,70" in str(more.when("id")) and "0.70" in str(more.when("en"))
    dist = next(r for r in rec.RULES if r.key == "distribution")
    assert "5%" in str(dist.when("id")) and "5%" in str(dist.when("en"))


def test_changing_a_threshold_changes_the_decision_and_the_annex_together():
    dist = next(r for r in rec.RULES if r.key == "distribution")
    values = {"01_appraisal_outcomes:compliance.share_non_compliant": 0.08,
              "01_appraisal_outcomes:compliance.non_compliant": 12}
    assert dist.applies(facts(values))
    stricter = dataclasses.replace(dist, threshold=0.10)
    assert not stricter.applies(facts(values))
    assert "10%" in str(stricter.when("en")) and "5%" not in str(stricter.when("en"))


def test_recommendations_follow_the_rules_and_skip_rules_without_their_keys():
    values = {"01_appraisal_outcomes:compliance.share_non_compliant": 0.08,
              "01_appraisal_outcomes:compliance.non_compliant": 12,
              "04_rollout_evaluation:ikm.overall_att.ci_low": -0.1,
              "04_rollout_evaluation:ikm.overall_att.estimate": 0.4}
    out = [str(m) for m in rec.recommendations(facts(values))]
    assert len(out) == 2  # distribution and wait; every other rule lacks its keys
    assert "12" in out[0] and "Calibrate" in out[0]
    assert "Keep monitoring" in out[1]
    values["01_appraisal_outcomes:compliance.share_non_compliant"] = rec.MAX_SHARE_NON_COMPLIANT  # not above
    assert len(rec.recommendations(facts(values))) == 1
