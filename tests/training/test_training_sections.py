"""Notebook 03's section builders on their own: gaps, target and performance gaps, clusters and the
budgeted plans, each keeping the section contract on a small generated sample."""

from __future__ import annotations

import pytest

from analysis.core.params import load_params
from analysis.outcomes.predikat import appraisal_outcomes
from analysis.training import development, figures, sections
from conftest import DEFAULT, assert_draws_in_both_languages, assert_results_api, assert_section_contract


@pytest.fixture(scope="module")
def built(small_sample):
    tables, _, params = small_sample
    outcomes = appraisal_outcomes(tables["appraisals"], tables["employees"], tables["units"])
    gap = sections.gaps_section(tables["employees"], tables["units"], tables["competency_standards"],
                                tables["competency_assessments"], tables["competencies"], params)
    target = sections.target_section(outcomes, tables["employees"], tables["competency_standards"],
                                     tables["competency_assessments"], params)
    performance = sections.performance_section(outcomes, tables["targets"], tables["units"], params)
    clusters = sections.clusters_section(gap, tables["employees"], tables["units"], tables["competencies"], params)
    return outcomes, gap, target, performance, clusters


def plans(small_sample, built, params=None):
    tables, _, default = small_sample
    outcomes, gap, target, _, clusters = built
    return sections.plans_section(gap, target, clusters, tables["employees"], tables["units"],
                                  tables["competencies"], tables["training_catalog"], params or default, "id",
                                  outcomes=outcomes)


def test_gaps_section_counts_missing_assessments_apart_from_gaps(small_sample, built):
    _, gap, _, _, _ = built
    assert_section_contract(gap, "gaps")
    kf = gap.key_figures
    assert 0 < kf["employees_with_gap"] <= kf["employees_with_standard"]
    g = gap.data["gaps"]
    assert kf["not_assessed"] == int((g["status"] == "not_assessed").sum()) > 0
    assert g.loc[g["status"] == "not_assessed", "gap"].isna().all()  # never taken as no gap


def test_target_and_performance_sections(built):
    _, _, target, performance, _ = built
    assert_section_contract(target, "target")
    assert_section_contract(performance, "performance")
    kf = performance.key_figures
    assert kf["appraised"] > 0 and 0 <= kf["with_gap"] <= kf["appraised"]
    assert performance.tables["performance_gaps_by_region"].data["n"].sum() == kf["appraised"]


def test_clusters_section_names_every_cluster_in_both_languages(built):
    _, _, _, _, clusters = built
    assert_section_contract(clusters, "clusters")
    assert clusters.available
    names = clusters.data["names"]
    assert names["name_id"].str.len().gt(0).all() and names["name_en"].str.len().gt(0).all()
    result = clusters.data["result"]
    assert_results_api(result)
    assert clusters.key_figures["structure"] is True and clusters.key_figures["structure_p"] <= 0.05
    assert len(result.to_frame()) == result.k and result.summary().startswith("Gap clusters")


@pytest.fixture(scope="module")
def default_plans(small_sample, built):
    return plans(small_sample, built)


def test_plans_section_keeps_the_budget_and_restricts_people(small_sample, default_plans):
    s = default_plans
    assert_section_contract(s, "plans")
    plan = s.data["plan"]
    assert_results_api(plan)
    assert plan.cost <= s.key_figures["budget"] + 1e-6
    assert {"development_plans", "workshop_rosters", "development_activities"} <= set(s.restricted)
    assert {"workshop_plan.xlsx", "development_plans.xlsx"} <= set(s.files)
    jp = s.tables["development_jp_by_employment_type"].data
    assert jp["n"].sum() == len(s.data["plans"])
    # every employee's 20 JP is checked, with or without a gap, and shortfalls say why
    tables, _, params = small_sample
    dp = s.data["plans"]
    assert set(dp["employee_id"]) == set(tables["employees"]["employee_id"])
    short = dp[dp["min_jp_applies"] & ~dp["meets_min_jp"].fillna(False)]
    assert short["reason"].notna().all() and short["reason_text"].notna().all()
    assert s.key_figures["development"]["pns_short"] == len(short)


def test_the_pppk_jp_cap_comes_from_params(small_sample, default_plans):
    # the cap in params decides who is over it (it was once also hard-coded as 24 JP, and the section
    # did not pass the params value on)
    tables, _, _ = small_sample
    needs, plan = default_plans.data["needs"], default_plans.data["plan"]

    def plans_with_cap(cap):
        params = load_params(DEFAULT, overrides={"workshops": {"pppk_max_jp": cap}})
        return development.development_plans(needs, plan, tables["training_catalog"], params)

    tight = plans_with_cap(0.5)
    pppk_funded = (tight["employment_type"] == "PPPK") & (tight["jp_funded"] > 0)
    assert pppk_funded.any(), "the sample funds no PPPK: the test would say nothing"
    assert tight["over_jp_cap"].eq(pppk_funded).all()
    assert not plans_with_cap(10_000)["over_jp_cap"].any()


def test_plans_are_skipped_without_a_catalogue(small_sample, built):
    tables, _, params = small_sample
    _, gap, target, _, clusters = built
    s = sections.plans_section(gap, target, clusters, tables["employees"], tables["units"], tables["competencies"],
                               None, params, "id")
    assert_section_contract(s, "plans")
    assert not s.available and "training_catalog" in s.status


def test_every_figure_of_notebook_03_draws_in_both_languages(small_sample, built, default_plans):
    tables, _, params = small_sample
    clusters = built[4]
    result = clusters.data["result"]
    assert_draws_in_both_languages(lambda lang: figures.choice_of_k(result.criterion, lang))
    assert_draws_in_both_languages(
        lambda lang: figures.gap_heatmap(result.centres, clusters.data["names"], tables["competencies"], lang))
    assert_draws_in_both_languages(lambda lang: figures.cluster_sizes_by_region(
        clusters.data["by_region"], clusters.data["names"], lang, params.privacy.min_cell))
    curve = default_plans.data["curve"]
    assert_draws_in_both_languages(lambda lang: figures.budget_curve(curve, params.workshops.budget, lang))
