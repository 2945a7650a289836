"""JP already received (training_history) in the 20 JP rule of PP 11/2017: the year, repeats and
overlaps, who is still short, PPPK, and plans unchanged without a history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.core.codes import TRAINING_FORMS
from analysis.core.params import Params
from analysis.outcomes.predikat import appraisal_outcomes
from analysis.training import development as D
from analysis.training import sections
from analysis.training import workshops as W
from conftest import assert_plain, assert_section_contract

# the columns of the development plans as they were before received JP existed: without a training
# history they must stay exactly these
COLUMNS_WITHOUT_HISTORY = [
    "employee_id", "employment_type", "unit_id", "region", "position_class", "cluster", "cluster_name",
    "cluster_name_en", "n_gaps", "total_gap", "gaps", "activities", "n_funded", "gap_closed", "jp_funded",
    "jp_unfunded", "jp_inhouse", "inhouse", "jp_total", "cost_funded", "cost_unfunded", "cost",
    "min_jp_applies", "meets_min_jp", "jp_shortfall", "over_jp_cap", "reason", "reason_text"]


def history(rows):
    df = pd.DataFrame(rows, columns=["employee_id", "start", "end", "name", "jp"])
    for c in ("start", "end"):
        df[c] = pd.to_datetime(df[c])
    return df


# --- the year and the count ------------------------------------------------------------------------


def test_the_year_is_the_latest_appraisal_periods():
    assert D.plan_year(["2023", "2025", "2024"]) == 2025
    assert D.plan_year(pd.Series(["2024Q3", "2024Q4", "2025Q1"])) == 2025
    assert D.plan_year(["2024S2", "2024"]) == 2024
    assert D.plan_year([]) is None


def test_only_courses_of_the_year_count_and_a_course_counts_in_the_year_it_ended():
    h = history([
        ["A", "2025-03-01", "2025-03-03", "Bimtek A", 12],
        ["A", "2024-12-28", "2025-01-04", "E-learning B", 8],  # ended in 2025: counts in 2025
        ["A", "2025-12-29", "2026-01-02", "Seminar C", 4],  # ends in 2026: not this year
        ["A", "2024-06-01", None, "Kursus D", 30],  # 2024, no end: the start's year
        ["B", None, "2025-05-05", "Workshop E", 5],  # no start: the end places it
        ["C", None, None, "Undated", 9],  # no date: no year
    ])
    got = D.received_jp(h, 2025).set_index("employee_id")
    assert got.loc["A", "jp_received"] == 20 and got.loc["A", "courses"] == 2
    assert got.loc["B", "jp_received"] == 5
    assert "C" not in got.index
    counts = D.history_counts(h, 2025)
    assert counts == {"year": 2025, "records": 3, "courses": 3, "repeats_folded": 0, "employees": 2,
                      "undated_records": 1}
    assert D.received_jp(h, 2024).set_index("employee_id").loc["A", "jp_received"] == 30


def test_a_course_recorded_twice_counts_once_and_overlapping_courses_both_count():
    h = history([
        ["A", "2025-03-01", "2025-03-03", "Bimtek Kurikulum", 12],
        ["A", "2025-03-01", "2025-03-03", "  bimtek   kurikulum ", 12],  # the same course, other spelling
        ["A", "2025-03-01", None, "BIMTEK KURIKULUM", 16],  # again, with another JP: the largest counts
        ["A", "2025-03-02", "2025-03-20", "E-learning Etika", 10],  # overlaps the bimtek: another course
        ["A", "2025-04-01", None, None, 3],  # unnamed
        ["A", "2025-04-01", None, None, 3],  # unnamed, the same JP on the same day: a repeat
        ["A", "2025-04-01", None, "", 5],  # unnamed, another JP: another course
        ["B", "2025-03-01", "2025-03-03", "Bimtek Kurikulum", 12],  # another person: counts for them
    ])
    got = D.received_jp(h, 2025).set_index("employee_id")
    assert got.loc["A", "jp_received"] == 16 + 10 + 3 + 5
    assert got.loc["A", "courses"] == 4 and got.loc["A", "repeats"] == 3
    assert got.loc["B", "jp_received"] == 12
    assert D.history_counts(h, 2025)["repeats_folded"] == 3


def test_empty_jp_counts_nothing_and_an_empty_history_gives_nobody():
    h = history([["A", "2025-01-10", None, "Kursus", np.nan], ["A", "2025-02-10", None, "Kursus 2", 6]])
    assert D.received_jp(h, 2025)["jp_received"].tolist() == [6.0]
    empty = D.received_jp(h.iloc[0:0], 2025)
    assert empty.empty and list(empty.columns) == ["employee_id", "jp_received", "courses", "repeats"]


# --- the 20 JP rule with received JP -----------------------------------------------------------


def _need(e, etype="PNS"):
    return {"employee_id": e, "competency_code": "M.01", "required_level": 3.0, "level": 2.0, "gap": 1.0,
            "basis": "current", "unit_id": "U1", "position_class": "pelaksana", "job_family": "umum",
            "employment_type": etype, "region": "Palu", "competency_name_id": "Integritas",
            "competency_name_en": "Integrity", "kind": "manajerial", "cluster": 1,
            "cluster_name_id": "Klaster 1", "cluster_name_en": "Cluster 1"}


@pytest.fixture(scope="module")
def small():
    """A, B: PNS with a gap; P: PPPK with a gap; N: PNS and Q: PPPK without one. One e-learning of 12 JP
    on the gap, funded for all (ample budget); coaching by the supervisor credits 2 JP a session."""
    needs = pd.DataFrame([_need("A"), _need("B"), _need("P", "PPPK")])
    needs["cluster"] = needs["cluster"].astype("Int64")
    cat = pd.DataFrame([{"program_id": "E1", "competency_code": "M.01", "name": "E-learning integritas",
                         "mode": TRAINING_FORMS["e_learning"], "form": "e_learning", "jp": 12.0,
                         "cost_per_participant": 100_000.0, "min_participants": 1, "max_participants": 500,
                         "provider": "LAN"}])
    params = Params()
    plan = W.plan_workshops(W.candidate_workshops(needs, cat, params.workshops, params.costs), 1e9, needs)
    people = pd.DataFrame({"employee_id": ["A", "B", "P", "N", "Q"],
                           "employment_type": ["PNS", "PNS", "PPPK", "PNS", "PPPK"], "unit_id": "U1",
                           "region": "Palu", "position_class": "pelaksana"})
    return needs, cat, params, plan, people


def test_without_received_jp_the_plans_are_as_before(small):
    needs, cat, params, plan, people = small
    dp = D.development_plans(needs, plan, cat, params, people=people).set_index("employee_id")
    assert list(dp.reset_index().columns) == COLUMNS_WITHOUT_HISTORY
    # funded 12 JP; the rest of the 20 in coaching sessions of 2 JP; PPPK not owed; N owed all 20
    assert dp["jp_funded"].to_dict() == {"A": 12.0, "B": 12.0, "N": 0.0, "P": 12.0, "Q": 0.0}
    assert dp["jp_inhouse"].to_dict() == {"A": 8.0, "B": 8.0, "N": 20.0, "P": 0.0, "Q": 0.0}
    assert dp["jp_total"].to_dict() == {"A": 20.0, "B": 20.0, "N": 20.0, "P": 12.0, "Q": 0.0}
    assert dp.loc[["A", "B", "N"], "meets_min_jp"].tolist() == [True, True, True]
    assert dp.loc[["P", "Q"], "meets_min_jp"].isna().all() and not dp["over_jp_cap"].any()
    s = D.summarise(dp.reset_index(), 20.0)
    assert "received" not in s.to_dict() and s.received is None
    assert list(D.jp_by_employment_type(dp.reset_index()).columns) == [
        "employment_type", "n", "meets_min_jp", "jp_funded", "jp_inhouse", "cost"]
    # received=None is the default: the same frame
    pd.testing.assert_frame_equal(dp.reset_index(), D.development_plans(needs, plan, cat, params, people=people,
                                                                         received=None))


def test_received_jp_count_and_the_top_up_covers_only_what_is_left(small):
    needs, cat, params, plan, people = small
    received = pd.Series({"A": 10.0, "B": 5.0, "P": 20.0, "Q": 30.0, "X": 40.0})  # X has no plan: ignored
    dp = D.development_plans(needs, plan, cat, params, people=people, received=received).set_index("employee_id")
    cols = list(dp.reset_index().columns)
    assert cols[cols.index("gap_closed") + 1:cols.index("jp_funded")] == ["jp_received", "jp_remaining"]
    assert cols[cols.index("jp_total") - 1] == "jp_planned"
    assert [c for c in cols if c not in ("jp_received", "jp_remaining", "jp_planned")] == COLUMNS_WITHOUT_HISTORY
    assert dp["jp_received"].to_dict() == {"A": 10.0, "B": 5.0, "N": 0.0, "P": 20.0, "Q": 30.0}
    # A: 10 received + 12 funded = 22: no top-up.  B: 5 + 12 = 17, 3 short: 2 sessions of 2 JP (whole sessions)
    # N: nothing received, no gap: 10 sessions.
    assert dp["jp_inhouse"].to_dict() == {"A": 0.0, "B": 4.0, "N": 20.0, "P": 0.0, "Q": 0.0}
    assert dp["jp_planned"].to_dict() == {"A": 12.0, "B": 16.0, "N": 20.0, "P": 12.0, "Q": 0.0}
    assert dp["jp_total"].to_dict() == {"A": 22.0, "B": 21.0, "N": 20.0, "P": 32.0, "Q": 30.0}
    assert (dp["jp_total"] == dp["jp_received"] + dp["jp_planned"]).all()
    assert dp.loc[["A", "B", "N"], "jp_remaining"].tolist() == [10.0, 15.0, 20.0]
    assert dp.loc[["P", "Q"], "jp_remaining"].isna().all()  # PPPK are not owed the 20 JP
    assert dp.loc[["A", "B", "N"], "meets_min_jp"].all() and dp.loc[["P", "Q"], "meets_min_jp"].isna().all()
    assert (dp.loc[["P", "Q"], "reason"] == "pppk_not_owed").all()
    # PPPK: received and funded together against the 24 JP cap of PP 49/2018
    assert dp["over_jp_cap"].to_dict() == {"A": False, "B": False, "N": False, "P": True, "Q": True}


def test_who_is_still_short_with_received_jp(small):
    needs, cat, params, plan, people = small
    received = pd.Series({"A": 25.0, "B": 2.0})
    limited = Params(workshops=params.workshops.model_copy(update={"supervisor_inhouse_jp": 8}))
    supervisor_of = pd.Series("S1", index=["A", "B", "N", "P", "Q"])
    dp = D.development_plans(needs, plan, cat, limited, people=people, supervisor_of=supervisor_of,
                             received=received).set_index("employee_id")
    # A is over 20 already; B (2 + 12 = 14) needs 3 sessions, N needs 10: 4 sessions shared in turn
    assert dp.loc["A", "jp_inhouse"] == 0 and dp.loc["A", "meets_min_jp"]
    assert dp.loc["B", "jp_inhouse"] + dp.loc["N", "jp_inhouse"] == 8
    short = dp[dp["min_jp_applies"] & ~dp["meets_min_jp"].fillna(False)]
    assert set(short.index) == {"B", "N"} and (short["reason"] == "inhouse_capacity").all()
    assert (short["jp_shortfall"] == 20 - short["jp_total"]).all()
    s = D.summarise(dp.reset_index(), 20.0, history={"year": 2025, "records": 2, "courses": 2,
                                                     "repeats_folded": 0, "employees": 2, "undated_records": 0})
    r = s.to_dict()["received"]
    assert r["year"] == 2025 and r["pns"] == 3
    assert r["pns_received_any"] == 2 and r["pns_reached_by_received"] == 1 and r["pns_below_min_received"] == 2
    assert r["pns_short_after_plan"] == 2 == s.pns_short
    assert r["jp_received_pns"] == 27.0 and r["jp_remaining_pns"] == 18.0 + 20.0
    by_type = D.jp_by_employment_type(dp.reset_index()).set_index("employment_type")
    assert by_type.loc["PNS", "jp_received"] == 27.0 and by_type.loc["PNS", "below_min_received"] == 2


# --- the section ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(small_sample):
    tables, _, params = small_sample
    outcomes = appraisal_outcomes(tables["appraisals"], tables["employees"], tables["units"])
    gap = sections.gaps_section(tables["employees"], tables["units"], tables["competency_standards"],
                                tables["competency_assessments"], tables["competencies"], params)
    target = sections.target_section(outcomes, tables["employees"], tables["competency_standards"],
                                     tables["competency_assessments"], params)
    clusters = sections.clusters_section(gap, tables["employees"], tables["units"], tables["competencies"], params)

    def plans(training_history=None):
        return sections.plans_section(gap, target, clusters, tables["employees"], tables["units"],
                                      tables["competencies"], tables["training_catalog"], params, "id",
                                      outcomes=outcomes, training_history=training_history)
    return tables, outcomes, plans


def test_the_section_counts_received_jp_of_the_latest_appraisal_year(built):
    tables, outcomes, plans = built
    year = D.plan_year(outcomes["period"])
    pns = tables["employees"].loc[tables["employees"]["employment_type"] == "PNS", "employee_id"].tolist()
    rows = [[e, f"{year}-03-01", f"{year}-03-03", "Bimtek", 24] for e in pns[:40]]  # 40 PNS already have 24 JP
    rows += [[e, f"{year}-03-01", f"{year}-03-03", "bimtek", 24] for e in pns[:5]]  # repeated records
    rows += [[e, f"{year - 1}-05-01", None, "Kursus", 40] for e in pns[40:60]]  # last year: not counted
    without, with_history = plans(), plans(history(rows))
    assert_section_contract(with_history, "plans")
    assert_plain(with_history.key_figures)
    r = with_history.key_figures["development"]["received"]
    assert r["year"] == year and r["records"] == 45 and r["courses"] == 40 and r["repeats_folded"] == 5
    assert r["pns_reached_by_received"] == 40 and r["pns_below_min_received"] == r["pns"] - 40
    dp = with_history.data["plans"].set_index("employee_id")
    assert (dp.loc[pns[:40], "jp_received"] == 24).all() and (dp.loc[pns[40:60], "jp_received"] == 0).all()
    assert (dp.loc[pns[:40], "jp_inhouse"] == 0).all()
    # the tables and the text say it; without the history the reading says received JP are not counted
    assert "jp_received" in with_history.tables["development_jp_by_employment_type"].data
    assert str(year) in with_history.describe("en") and "already received" in with_history.describe("en")
    assert "training_history table is absent" in without.describe("en")
    assert "received" not in without.key_figures["development"]
    assert "jp_received" not in without.data["plans"]
    # the rest of the plan does not change
    assert with_history.key_figures["plan"] == without.key_figures["plan"]
