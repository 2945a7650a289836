"""Rater analyses against the truths planted in the generated sample (6,000 employees)."""

from __future__ import annotations

import warnings

import pytest

from analysis.data.validation import load_dataset
from analysis.outcomes import predikat
from analysis.raters import adjusted, fairness, flags, sources, spec
from analysis.synth import SynthConfig, generate, write


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample") / "data"
    tables, truth = generate(SynthConfig())
    write(tables, truth, folder)
    return load_dataset(folder).tables, truth


@pytest.fixture(scope="module")
def fit(sample):
    tables, _ = sample
    return spec.feedback_model(tables["feedback_360"])


def precision_recall(flagged: set, planted: set, eligible: set) -> tuple[float, float]:
    flagged, planted = flagged & eligible, planted & eligible
    tp = len(flagged & planted)
    return tp / max(len(flagged), 1), tp / max(len(planted), 1)


@pytest.mark.parametrize("kind", ["lenient", "severe"])
def test_lenient_and_severe_raters_are_found_with_high_precision_and_recall(sample, fit, kind):
    tables, truth = sample
    result = flags.leniency(fit, spec.rater_counts(tables["feedback_360"]))  # defaults: 10 ratees, FDR 0.1
    eligible = set(result.index[result["n_ratees"] >= 10])
    planted = {r["rater_id"] for r in truth["raters"][kind]}
    assert len(planted & eligible) >= 10, "the sample should plant enough raters to measure this"
    precision, recall = precision_recall(set(result.index[result["flag"] == kind]), planted, eligible)
    assert precision >= 0.9 and recall >= 0.8, (precision, recall)


def test_central_tendency_raters_are_found(sample, fit):
    tables, truth = sample
    result = flags.central_tendency(tables["feedback_360"], fit)
    eligible = set(result.index[result["eligible"]])
    planted = {r["rater_id"] for r in truth["raters"]["central"]}
    precision, recall = precision_recall(set(result.index[result["flag"] != ""]), planted, eligible)
    assert recall >= 0.8 and precision >= 0.8, (precision, recall)
    # they are not mistaken for lenient or severe raters
    len_ = flags.leniency(fit, spec.rater_counts(tables["feedback_360"]))
    assert not (set(len_.index[len_["flag"] != ""]) & planted)


def test_halo_raters_are_found_and_central_raters_are_not_called_halo(sample, fit):
    tables, truth = sample
    fb = tables["feedback_360"]
    central_flags = flags.central_tendency(fb, fit)
    lenient = flags.leniency(fit, spec.rater_counts(fb))
    explained = set(central_flags.index[central_flags["flag"] != ""]) | set(lenient.index[lenient["flag"] != ""])
    result = flags.halo(fb, fit, explained=explained)
    assert not result.loc[result["explained_by_other_flag"], "eligible"].any()
    eligible = set(result.index[result["eligible"]])
    planted = {r["rater_id"] for r in truth["raters"]["halo"]}
    flagged = set(result.index[result["flag"] != ""])
    precision, recall = precision_recall(flagged, planted, eligible)
    assert recall >= 0.8 and precision >= 0.8, (precision, recall)
    central = {r["rater_id"] for r in truth["raters"]["central"]}
    assert len(flagged & central) <= 1


def test_self_inflation_planted_value_lies_inside_its_intervals(sample, fit):
    tables, truth = sample
    planted = truth["self_inflation"]["observed_mean_shift"]  # self vs peer, on the 1-5 scale
    model = sources.source_effects(fit).set_index("source").loc["self"]
    assert model["ci_low"] <= planted <= model["ci_high"], (model.to_dict(), planted)
    plain = sources.source_differences(tables["feedback_360"]).set_index("source").loc["self"]
    assert plain["ci_low"] <= planted <= plain["ci_high"], (plain.to_dict(), planted)


def test_other_sources_have_the_planted_direction(sample, fit):
    _, truth = sample
    model = sources.source_effects(fit).set_index("source")
    for source, planted in truth["source_effects"].items():
        if source in model.index and source != "self":
            est = model.loc[source, "estimate"]
            assert est * planted > 0 and abs(est - planted) < 0.05, (source, est, planted)


def test_gender_gap_is_found_in_the_planted_units(sample):
    tables, truth = sample
    out = predikat.appraisal_outcomes(tables["appraisals"], tables["employees"], tables["units"])
    data = fairness.fairness_data(out, tables["employees"], tables["targets"], tables["feedback_360"])
    units = fairness.unit_gender_gaps(data)  # defaults: 8 of each gender, FDR 0.1
    planted = set(truth["gender_gap"]["units"])
    tested = units[units["tested"]]
    planted_tested = tested[tested["unit_id"].isin(planted)]
    assert len(planted_tested) >= 4
    assert (planted_tested["estimate"] < 0).all()  # every planted unit shows women rated down
    flagged = set(units.loc[units["flag"], "unit_id"])
    assert len(flagged & planted) >= len(planted_tested) / 2  # at least half found at the FDR
    assert len(flagged - planted) <= 1  # and at most one false alarm
    # the planted units are among the most significant of all tested units
    top = set(tested.nsmallest(len(planted_tested) + 3, "p")["unit_id"])
    assert len(top & planted) >= len(planted_tested) - 1


def test_overall_gap_is_small_when_only_a_few_units_have_one(sample):
    tables, _ = sample
    out = predikat.appraisal_outcomes(tables["appraisals"], tables["employees"], tables["units"])
    data = fairness.fairness_data(out, tables["employees"], tables["targets"], tables["feedback_360"])
    diffs = fairness.group_differences(data)
    gender = diffs[diffs["factor"] == "gender"].iloc[0]
    assert gender["ci_low"] < 0.02 and abs(gender["estimate"]) < 0.05


def test_removing_rater_effects_from_360_changes_some_pp30_bands(sample, fit):
    from analysis.core.params import Params
    from analysis.outcomes import pp30

    tables, _ = sample
    s = Params().appraisal
    out = predikat.appraisal_outcomes(tables["appraisals"], tables["employees"], tables["units"])
    before = pp30.numeric_scores(out, tables["targets"], tables["feedback_360"], s)
    after = pp30.numeric_scores(out, tables["targets"], spec.adjust_feedback(tables["feedback_360"], fit), s)
    changes = adjusted.band_changes(before, after)
    moved = changes[changes["change"] != "same"]
    assert 0 < len(moved) < 0.05 * len(changes)
    # a lenient rater's ratees mostly move down, a severe rater's up
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adj = spec.adjust_feedback(tables["feedback_360"], fit)
    assert (adj["score"] - adj["score_raw"]).abs().max() > 0.3
