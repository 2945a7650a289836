"""Notebook 01's section builders on their own: each returns a Section that keeps its contract and
finds what the generator planted (without running a notebook)."""

from __future__ import annotations

import pytest

from analysis.outcomes import figures, sections
from analysis.outcomes.predikat import appraisal_outcomes
from conftest import assert_draws_in_both_languages, assert_section_contract


@pytest.fixture(scope="module")
def outcomes(small_sample):
    tables, _, _ = small_sample
    return appraisal_outcomes(tables["appraisals"], tables["employees"], tables["units"])


@pytest.fixture(scope="module")
def compliance(small_sample, outcomes):
    tables, _, _ = small_sample
    return sections.compliance_section(outcomes, tables["org_ratings"], tables["units"], tables["appraisals"],
                                       tables["employees"])


def test_predikat_section_counts_every_appraisal_and_restricts_the_planted_mismatches(small_sample, outcomes):
    _, truth, _ = small_sample
    s = sections.predikat_section(outcomes)
    assert_section_contract(s, "predikat")
    assert s.available
    assert s.key_figures["n_appraisals"] == len(outcomes)
    by_period = s.tables["predikat_by_period"].data
    assert by_period["n"].sum() == outcomes["predikat"].notna().sum()
    mismatches = s.restricted["reported_predikat_mismatches"]
    planted = {(m["employee_id"], m["period"]) for m in truth["reported_mismatches"]}
    assert set(zip(mismatches["employee_id"], mismatches["period"])) == planted
    # who disagrees is named only in the restricted list, never in a circulated table
    assert all("employee_id" not in out.data.columns for out in s.tables.values())


def test_compliance_section_flags_exactly_the_planted_unit_periods(small_sample, compliance):
    _, truth, _ = small_sample
    assert_section_contract(compliance, "compliance")
    flagged = compliance.tables["non_compliant_units"].data
    planted = {(v["unit_id"], v["period"]) for v in truth["distribution_violations"]}
    assert set(zip(flagged["unit_id"], flagged["period"])) == planted
    assert compliance.key_figures["non_compliant"] == len(planted)


def test_compliance_section_is_skipped_with_its_reason_without_org_ratings(small_sample, outcomes):
    tables, _, _ = small_sample
    s = sections.compliance_section(outcomes, None, tables["units"], tables["appraisals"], tables["employees"])
    assert_section_contract(s, "compliance")
    assert not s.available and "org_ratings" in s.status


def test_scheme_and_agreement_sections_score_and_compare_the_schemes(small_sample, outcomes):
    tables, _, params = small_sample
    schemes = sections.scheme_section(outcomes, tables["targets"], tables["feedback_360"], params.appraisal)
    assert_section_contract(schemes, "schemes")
    assert schemes.available
    scores = schemes.data["scores"]
    assert scores["final_score"].between(0, 120).all()
    agreement = sections.agreement_section(scores, params.alpha)
    assert_section_contract(agreement, "agreement")
    kappa = agreement.key_figures["pp30"]["kappa_linear"]
    assert -1 <= kappa["ci_low"] <= kappa["kappa"] <= kappa["ci_high"] <= 1
    wider = sections.agreement_section(scores, params.alpha / 10).key_figures["pp30"]["kappa_linear"]
    assert wider["ci_high"] - wider["ci_low"] > kappa["ci_high"] - kappa["ci_low"]  # the level is params' alpha


def test_trend_section_follows_employees_across_consecutive_periods(outcomes, compliance):
    s = sections.trend_section(outcomes, compliance)
    assert_section_contract(s, "trends")
    moves = s.tables["predikat_movement"].data
    assert len(moves) == outcomes["period"].nunique() - 1
    shares = moves[["share_up", "share_same", "share_down"]].sum(axis=1)
    assert shares.round(12).eq(1).all()
    single = sections.trend_section(outcomes[outcomes["period"] == outcomes["period"].max()])
    assert_section_contract(single, "trends")
    assert not single.available and single.status == "skipped: a single period"


def test_every_figure_of_notebook_01_draws_in_both_languages(small_sample, outcomes, compliance):
    tables, _, params = small_sample
    predikat = sections.predikat_section(outcomes)
    assert_draws_in_both_languages(lambda lang: figures.predikat_shares(predikat.data["by_period"], lang=lang))
    latest = predikat.key_figures["latest_period"]
    assert_draws_in_both_languages(lambda lang: figures.bounds_by_unit(compliance.data["bounds"], latest, lang))
    scores = sections.scheme_section(outcomes, tables["targets"], tables["feedback_360"], params.appraisal).data["scores"]
    assert_draws_in_both_languages(lambda lang: figures.score_histogram(scores, params.appraisal.bands, lang))
    agreement = sections.agreement_section(scores, params.alpha)
    for other in ("pp30", "capaian"):
        assert_draws_in_both_languages(
            lambda lang, other=other: figures.scheme_agreement(agreement.data[other], other, lang,
                                                               params.privacy.min_cell))
