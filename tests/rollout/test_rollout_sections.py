"""Notebook 04's sections: the panel, effects per outcome, appraisal metrics by year, planning the next wave."""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.core.params import load_params
from analysis.outcomes.bounds import check_distribution, unit_counts, unit_totals
from analysis.outcomes.predikat import appraisal_outcomes
from analysis.rollout import figures
from analysis.rollout import sections as R
from analysis.stats.did.panel import first_period_from
from analysis.synth import SynthConfig, generate
from conftest import DEFAULT, assert_draws_in_both_languages, assert_results_api, assert_section_contract


@lru_cache(maxsize=None)
def sample():
    tables, truth = generate(SynthConfig(employees=3000, seed=3))
    return tables, truth


@lru_cache(maxsize=None)
def params(**over):
    return load_params(DEFAULT, overrides={"rollout": dict(over)} if over else None)


@lru_cache(maxsize=None)
def sections():
    tables, _ = sample()
    p = params(n_boot=299)
    panel = R.panel_section(tables["units"], tables["rollout"], tables["service_outcomes"], p)
    return panel, R.outcome_sections(panel, p)


def test_adoption_maps_to_the_first_period_lived_under_the_scheme():
    adopted = pd.Series(["2023Q1", "2023Q3", None, "", "2025Q3", "2024Q4"])
    years = first_period_from(adopted, ["2023", "2024", "2025"]).tolist()
    assert years[:2] == ["2023", "2024"] and pd.isna(years[2]) and pd.isna(years[3])
    assert pd.isna(years[4])  # after the last period: not treated within the data
    assert years[5] == "2025"
    quarters = first_period_from(adopted.iloc[:2], ["2023Q1", "2023Q2", "2023Q3"]).tolist()
    assert quarters == ["2023Q1", "2023Q3"]
    with pytest.raises(ValueError, match="not a period"):
        first_period_from(pd.Series(["soon"]), ["2023"])


def test_panel_section_counts_cohorts_and_comparison_units():
    tables, truth = sample()
    panel, _ = sections()
    assert panel.available
    k = panel.key_figures
    assert k["cohorts"] == truth["rollout"]["cohorts"]
    assert k["n_never"] == truth["rollout"]["never_treated"]
    assert k["n_units"] == k["n_adopters"] + k["n_never"] == tables["units"]["unit_id"].nunique()
    cohorts = panel.tables["rollout_cohorts"].data.set_index("cohort")
    assert cohorts.loc["total", "total"] == k["n_units"]
    assert cohorts.drop(index="total").drop(columns="total").to_numpy().sum() == k["n_units"]


def test_results_hold_overall_att_and_event_study_per_outcome():
    _, effects = sections()
    for outcome in ("ikm", "iku_attainment"):
        s = effects[outcome]
        assert s.available, s.status
        k = json.loads(json.dumps(s.key_figures))  # what the results file will hold
        o = k["overall_att"]
        assert set(o) == {"estimate", "se", "ci_low", "ci_high"} and o["ci_low"] < o["estimate"] < o["ci_high"]
        es = k["event_study"]
        assert [r["event_time"] for r in es] == sorted(r["event_time"] for r in es)
        assert all({"event_time", "estimate", "se"} <= set(r) for r in es)
        assert all(r["cband_low"] <= r["ci_low"] for r in es)  # the band is wider than each interval
        # the generator plants parallel trends: the band pre-test does not reject them at 1%
        assert k["pretest"]["test"] == "sup_t_band" and k["pretest"]["p"] > 0.01
        assert 0 < k["bacon"]["already_treated_weight"] < 1
        assert k["twfe"]["estimate"] < o["estimate"]  # the naive estimate is biased down when effects grow
        assert s.text["id"] and s.text["en"] and s.text["id"] != s.text["en"]


@pytest.mark.parametrize("outcome", ["ikm", "iku_attainment"])
def test_planted_effect_lies_in_the_95_intervals_of_the_notebook_section(outcome):
    _, truth = sample()
    _, effects = sections()
    es = pd.DataFrame(effects[outcome].key_figures["event_study"]).set_index("event_time")
    true = pd.Series({int(e): v for e, v in truth["rollout"]["outcomes"][outcome]["att_by_event_time"].items()
                      if v is not None})
    j = es.join(true.rename("truth"), how="inner")
    assert len(j) >= 20
    assert ((j["ci_low"] <= j["truth"]) & (j["truth"] <= j["ci_high"])).mean() >= 0.9


def test_region_effects_follow_the_planted_multipliers():
    _, truth = sample()
    _, effects = sections()
    levels = effects["ikm"].key_figures["by_region"]["levels"]
    mult = truth["rollout"]["region_multiplier"]
    est = [levels[r]["estimate"] for r in mult]
    rho = stats.spearmanr(list(mult.values()), est).statistic
    assert rho > 0.5, (mult, est)
    assert all(levels[r]["in_test"] for r in mult)


def test_appraisal_metrics_use_annual_cohorts_and_leave_out_first_year_adopters():
    tables, _ = sample()
    outcomes = appraisal_outcomes(tables["appraisals"], tables["employees"], tables["units"])
    s = R.appraisal_section(unit_totals(outcomes), unit_counts(outcomes), tables["org_ratings"], tables["rollout"],
                            params(n_boot=0))
    assert s.available, s.status
    periods = s.key_figures["periods"]
    share = s.key_figures["share_sangat_baik"]
    # units adopting in the first appraisal year have no year before: they cannot be cohorts
    assert periods[0] not in share["cohorts"] and set(share["cohorts"]) <= set(periods[1:])
    o = share["overall_att"]
    assert -1 <= o["ci_low"] <= o["estimate"] <= o["ci_high"] <= 1
    assert "compliant" in s.key_figures
    table = s.tables["rollout_appraisal_effects"].data
    assert set(table["metric"]) == {"share_sangat_baik", "compliant"}


def test_the_appraisal_panel_from_per_unit_totals_is_the_one_from_every_employees_outcome():
    """The panel is built from per-unit totals and counts (what a cluster sends back), never from the
    outcomes of every employee; it is the panel the outcomes give directly, a predikat that cannot be
    derived counted among the appraised and not among the Sangat Baik."""
    from analysis.rollout import panels

    tables, _ = sample()
    outcomes = appraisal_outcomes(tables["appraisals"], tables["employees"], tables["units"])
    outcomes.loc[outcomes.index[::37], "predikat"] = None  # hasil or perilaku missing: no predikat
    got, notes = panels.appraisal_panel(unit_totals(outcomes), unit_counts(outcomes), tables["org_ratings"],
                                        tables["rollout"], 5)
    # directly from the outcomes, as the panel was first written
    g = outcomes.groupby(["unit_id", "period"])
    top = (outcomes["predikat"] == "sangat_baik").groupby([outcomes["unit_id"], outcomes["period"]])
    direct = pd.DataFrame({"n": g.size(), "share_sangat_baik": top.mean()}).reset_index()
    direct = direct[direct["n"] >= 5]
    compliance, _ = check_distribution(outcomes, tables["org_ratings"])
    comp = compliance[["unit_id", "period", "compliant"]].dropna(subset=["compliant"])
    direct = direct.merge(comp.assign(compliant=comp["compliant"].astype(float)), on=["unit_id", "period"], how="left")
    pd.testing.assert_frame_equal(got[direct.columns], direct)
    assert (direct["share_sangat_baik"] < 1).all()


def test_appraisal_metrics_are_skipped_when_there_is_one_appraisal_year():
    tables, _ = sample()
    last = tables["appraisals"]["period"].astype(str).max()
    one = tables["appraisals"][tables["appraisals"]["period"].astype(str) == last]
    outcomes = appraisal_outcomes(one, tables["employees"], tables["units"])
    s = R.appraisal_section(unit_totals(outcomes), unit_counts(outcomes), tables["org_ratings"], tables["rollout"],
                            params(n_boot=0))
    assert not s.available and s.status.startswith("skipped")


@lru_cache(maxsize=None)
def planning():
    panel, _ = sections()
    return R.planning_section(panel, params(n_boot=0))


def test_planning_section_gives_the_headline_mde_and_units_needed():
    s = planning()
    assert s.available
    m = s.key_figures["ikm"]
    assert m["n_units"] == 20 and m["n_post_periods"] == 4 and m["mde"] > 0
    need = m["units_needed"]
    assert need["effect"] == 2.0 and need["n_units"] >= 1
    table = s.tables["rollout_minimum_detectable_effect"].data
    for (_, n_post), cell in table.groupby(["outcome", "n_post_periods"]):
        assert cell.sort_values("n_units")["mde"].is_monotonic_decreasing
    headline = table[(table["outcome"] == "ikm") & (table["n_units"] == 20) & (table["n_post_periods"] == 4)]
    assert headline["mde"].iloc[0] == pytest.approx(m["mde"])


def test_a_panel_that_cannot_be_formed_is_skipped_with_its_reason():
    units = pd.DataFrame({"unit_id": ["U1", "U2"], "region": ["A", "B"]})
    rollout_table = pd.DataFrame({"unit_id": ["U1", "U2"], "adopted_period": ["2024Q1", None]})
    so = pd.DataFrame({"unit_id": ["U1", "U1", "U2"], "period": ["2024Q1", "2024Q2", "2024Q1"],
                       "ikm": [70.0, 71.0, 69.0], "iku_attainment": [90.0, 91.0, 92.0]})
    p = params()
    panel = R.panel_section(units, rollout_table, so, p)
    assert not panel.available and "every period" in panel.status
    effects = R.outcome_sections(panel, p)
    assert all(not s.available for s in effects.values())
    assert not R.planning_section(panel, p).available
    assert not R.panel_section(units, None, so, p).available
    # nobody adopts within the data
    none = rollout_table.assign(adopted_period=[None, None])
    so2 = pd.DataFrame({"unit_id": ["U1", "U1", "U2", "U2"], "period": ["2024Q1", "2024Q2"] * 2,
                        "ikm": [70.0, 71.0, 69.0, 68.0], "iku_attainment": [1.0, 2.0, 3.0, 4.0]})
    assert "no unit adopts" in R.panel_section(units, none, so2, p).status


def test_all_units_adopting_falls_back_to_not_yet_treated_comparisons():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(60):
        g = ["2023Q3", "2024Q1", "2024Q3"][i % 3]
        for q, period in enumerate(["2023Q1", "2023Q2", "2023Q3", "2023Q4", "2024Q1", "2024Q2", "2024Q3",
                                    "2024Q4"]):
            rows.append({"unit_id": f"U{i:02d}", "period": period, "ikm": 70 + rng.normal() + 0.1 * q,
                         "iku_attainment": 90 + rng.normal(), "adopted_period": g})
    so = pd.DataFrame(rows)
    units = pd.DataFrame({"unit_id": so["unit_id"].unique(), "region": "A"})
    p = params(n_boot=99)
    panel = R.panel_section(units, so.drop_duplicates("unit_id")[["unit_id", "adopted_period"]],
                            so.drop(columns="adopted_period"), p)
    s = R.outcome_section(panel, "ikm", p)
    assert s.available and s.key_figures["control"] == "notyet"
    assert any("not-yet-treated" in n for n in s.key_figures["notes"])


def test_adoption_dates_become_the_first_whole_month_and_then_the_first_whole_quarter():
    from analysis.data.parsing import adoption_periods

    raw = pd.Series(["2023Q3", "2023-07-01", "15/07/2023", "2023-12-31", None, "2024-03"], dtype=object)
    months = adoption_periods(raw)
    assert months.tolist() == ["2023Q3", "2023-07", "2023-08", "2024-01", None, "2024-03"]
    quarters = [f"{y}Q{q}" for y in (2023, 2024) for q in (1, 2, 3, 4)]
    cohorts = first_period_from(months, quarters).tolist()
    assert cohorts[:4] == ["2023Q3", "2023Q3", "2023Q4", "2024Q1"] and pd.isna(cohorts[4])
    assert cohorts[5] == "2024Q2"


def test_a_rollout_table_with_adoption_dates_validates(tmp_path):
    from analysis.data.validation import load_dataset
    from corpus.builders import base_tables, write_dataset

    tables = base_tables()
    tables["rollout"]["adopted_period"] = ["2024-01-01", "17/07/2024", ""]
    report = load_dataset(write_dataset(tmp_path / "d", tables))
    assert report.report.n_errors == 0
    assert report.tables["rollout"]["adopted_period"].tolist()[:2] == ["2024-01", "2024-08"]


def test_every_section_keeps_the_contract_and_every_figure_draws_in_both_languages():
    panel, effects = sections()
    assert_section_contract(panel, "panel")
    p = params(n_boot=299)
    for outcome, effect in effects.items():
        assert_section_contract(effect)
        assert_results_api(effect.data["fit"])
        assert_draws_in_both_languages(lambda lang, e=effect, o=outcome: figures.event_study(e.data["dynamic"], o, lang))
        assert_draws_in_both_languages(lambda lang, e=effect, o=outcome: figures.naive_vs_staggered(
            e.data["compare"], e.data["bacon"], o, lang))
        if effect.data["by_group"] is not None:
            assert_draws_in_both_languages(lambda lang, e=effect, o=outcome: figures.effect_by_group(
                e.data["by_group"], p.rollout.by, o, lang))
    plan = planning()
    assert_section_contract(plan, "mde")
    for outcome, power in plan.data["power"].groupby("outcome"):
        assert_draws_in_both_languages(lambda lang, pw=power, o=outcome: figures.mde_curve(pw, o, lang))
