"""Notebook 02's section builders on their own: the contract every section keeps, and what they find in
a small generated sample with planted lenient and severe raters."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.outcomes.predikat import appraisal_outcomes
from analysis.raters import figures, sections
from conftest import assert_draws_in_both_languages, assert_results_api, assert_section_contract


@pytest.fixture(scope="module")
def model(small_sample):
    tables, _, params = small_sample
    return sections.model_section(tables["feedback_360"], params)


@pytest.fixture(scope="module")
def outcomes(small_sample):
    tables, _, _ = small_sample
    return appraisal_outcomes(tables["appraisals"], tables["employees"], tables["units"])


def test_model_section_separates_raters_from_ratees(small_sample, model):
    tables, _, params = small_sample
    assert_section_contract(model, "model")
    assert model.available
    kf = model.key_figures
    assert kf["n_ratings"] == len(tables["feedback_360"])
    assert set(kf["variance_components"]) == {"rater_id", "ratee_id", "residual"}
    assert sum(kf["shares"].values()) == pytest.approx(1.0)
    assert "seconds" not in kf and model.timings["rater_model_fit"] > 0  # timings never reach results
    fixed = model.tables["rater_model_fixed_effects"].data
    assert (fixed["ci_low"] < fixed["estimate"]).all() and (fixed["estimate"] < fixed["ci_high"]).all()
    assert_results_api(model.data["fit"])
    assert kf["converged"] is True
    # the rater-ratee graph's components, counted independently (union-find)
    fb = tables["feedback_360"]
    fb = fb[fb["rater_id"] != fb["ratee_id"]]
    parent = {}

    def root(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip("r" + fb["rater_id"].astype(str), "e" + fb["ratee_id"].astype(str)):
        parent[root(a)] = root(b)
    assert kf["components"]["n"] == len({root(x) for x in list(parent)})
    assert ("comparable only within a component" in model.describe("en")) == (kf["components"]["n"] > 1)


def test_model_section_says_when_raters_cannot_all_be_compared(small_sample):
    tables, _, params = small_sample
    fb = tables["feedback_360"]
    # a second, separate organisation: its raters and ratees share nobody with the first
    island = fb.assign(rater_id="X" + fb["rater_id"].astype(str), ratee_id="X" + fb["ratee_id"].astype(str))
    s = sections.model_section(pd.concat([fb, island.head(3000)], ignore_index=True), params)
    assert s.key_figures["components"]["n"] >= 2
    assert "comparable only within a component" in s.describe("en")


def test_model_section_is_skipped_without_feedback_and_later_sections_say_why(small_sample):
    tables, _, params = small_sample
    model = sections.model_section(None, params)
    assert_section_contract(model, "model")
    assert not model.available
    after = sections.flags_section(model, None, tables["employees"], tables["units"], params)
    assert_section_contract(after, "flags")
    assert after.status == model.status


def test_flags_section_lists_raters_only_in_the_restricted_table(small_sample, model):
    tables, truth, params = small_sample
    s = sections.flags_section(model, tables["feedback_360"], tables["employees"], tables["units"], params)
    assert_section_contract(s, "flags")
    flagged = s.restricted["flagged_raters"]
    assert set(flagged["kind"]) <= {"lenient", "severe", "central_tendency", "halo"}
    assert all("rater_id" not in out.data.columns for out in s.tables.values())
    assert_results_api(s.data["flags"])
    assert s.data["flags"].counts() == s.key_figures["flagged"]
    counts = s.key_figures["flagged"]
    assert counts == flagged["kind"].value_counts().reindex(list(counts), fill_value=0).to_dict()
    by_region = s.tables["flagged_raters_by_region"].data
    assert by_region["n"].sum() == s.key_figures["eligible_raters"]
    # a lenient flag is a planted lenient rater, never a planted severe one
    severe = {r["rater_id"] for r in truth["raters"]["severe"]}
    assert not set(flagged.loc[flagged["kind"] == "lenient", "rater_id"]) & severe


def test_sources_and_reliability_sections(small_sample, model):
    tables, _, params = small_sample
    src = sections.sources_section(model, tables["feedback_360"], params.alpha)
    assert_section_contract(src, "sources")
    assert src.available
    rel = sections.reliability_section(model, tables["feedback_360"], tables["employees"], params.raters.min_ratees)
    assert_section_contract(rel, "reliability")
    by_aspect = rel.tables["reliability_by_aspect"].data
    assert by_aspect["single"].between(0, 1).all() and (by_aspect["average"] >= by_aspect["single"]).all()


def test_fairness_and_adjusted_sections(small_sample, model, outcomes):
    tables, _, params = small_sample
    fair = sections.fairness_section(outcomes, tables["employees"], tables["targets"], tables["feedback_360"], params)
    assert_section_contract(fair, "fairness")
    assert_results_api(fair.data["fairness"])
    adjusted = sections.adjusted_section(outcomes, model, tables["feedback_360"], tables["targets"], params)
    assert_section_contract(adjusted, "adjusted")
    dist = adjusted.tables["adjusted_predikat_distribution"].data
    assert dist["n_before"].sum() == dist["n_after"].sum()
    kf = adjusted.key_figures["appraisal"]
    assert kf["changed"] == len(adjusted.restricted["adjusted_predikat_changes"]) == kf["up"] + kf["down"]
    assert 0 <= kf["share_uncertain"] <= 1


def test_every_figure_of_notebook_02_draws_in_both_languages(small_sample, model, outcomes):
    tables, _, params = small_sample
    fb = tables["feedback_360"]
    flags = sections.flags_section(model, fb, tables["employees"], tables["units"], params)
    assert_draws_in_both_languages(lambda lang: figures.caterpillar(flags.data["leniency"], lang))
    assert_draws_in_both_languages(lambda lang: figures.halo_central(flags.data["halo"], flags.data["central"], lang))
    src = sections.sources_section(model, fb, params.alpha)
    assert_draws_in_both_languages(lambda lang: figures.sources(src.data["sources"], lang))
    fair = sections.fairness_section(outcomes, tables["employees"], tables["targets"], fb, params)
    assert_draws_in_both_languages(lambda lang: figures.fairness_forest(fair.data["differences"], lang))
    adjusted = sections.adjusted_section(outcomes, model, fb, tables["targets"], params)
    assert_draws_in_both_languages(lambda lang: figures.before_after(adjusted.data["distribution"], lang))


def test_the_halo_figure_draws_central_tendency_raters_the_halo_test_leaves_out():
    """A rater flagged for central tendency is not tested for halo: the figure still draws them."""
    import pandas as pd

    halo = pd.DataFrame({"f_ratio": [1.0, 3.0, 0.5], "flag": ["", "halo", ""], "eligible": [True, True, False]},
                        index=pd.Index(["r1", "r2", "r3"], name="rater_id"))
    central = pd.DataFrame({"slope": [1.0, 1.1, 0.3], "pooled_slope": [1.0, 1.0, 1.0], "flag": ["", "", "central"],
                            "eligible": [True, True, True]}, index=pd.Index(["r1", "r2", "r3"], name="rater_id"))
    fig = figures.halo_central(halo, central, "en")
    drawn = {len(c.get_offsets()) for c in fig.axes[0].collections}
    colours = [c.get_label() for c in fig.axes[0].collections]
    assert sum(len(c.get_offsets()) for c in fig.axes[0].collections) == 3 and drawn == {1}, colours


def test_reliability_by_unit_keeps_unit_ids_as_given(small_sample, model):
    """Groups are taken by position from the ratings by others: integer unit ids (beyond a float's
    precision too) stay integers, with self-ratings in the table; a missing role given as pd.NA
    leaves its rating out, as a boolean mask does."""
    tables, _, params = small_sample
    fb, emp = tables["feedback_360"], tables["employees"]
    text = sections.reliability_section(model, fb, emp, params.raters.min_ratees).tables["reliability_by_unit"].data
    codes, units = pd.factorize(emp["unit_id"], sort=True)
    numbered = emp.assign(unit_id=codes.astype("int64") + 2**53 + 1)
    by_number = sections.reliability_section(model, fb, numbered, params.raters.min_ratees).tables[
        "reliability_by_unit"].data
    assert by_number["unit_id"].dtype == "int64" and (fb["rater_role"] == "self").any()
    pd.testing.assert_frame_equal(by_number.assign(unit_id=units[by_number["unit_id"] - 2**53 - 1]), text,
                                  check_dtype=False)
    role = fb["rater_role"].astype("string").mask(fb.index % 11 == 0, pd.NA)
    with_na = sections.reliability_section(model, fb.assign(rater_role=role), emp, params.raters.min_ratees)
    without = sections.reliability_section(model, fb[(fb.index % 11 != 0)], emp, params.raters.min_ratees)
    for name in ("reliability_by_unit", "reliability_by_aspect"):
        pd.testing.assert_frame_equal(with_na.tables[name].data, without.tables[name].data)
