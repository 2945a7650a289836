"""Individual development plans: priority order, activities, costs, the 20 JP rule, PPPK."""

import numpy as np
import pandas as pd
import pytest

from analysis.core.codes import TRAINING_FORMS
from analysis.core.params import Params, Workshops
from analysis.training import development as D
from analysis.training import workshops as W

# the arithmetic below assumes gains by mode only (no per-form table)
MODE_GAIN = {"klasikal": 1.0, "nonklasikal": 0.5}


def need(e, code, gap, basis="current", etype="PNS", region="Palu", cluster=1, kind=None):
    return {"employee_id": e, "competency_code": code, "required_level": 3.0, "level": 3.0 - gap, "gap": gap,
            "basis": basis, "unit_id": "U1", "position_class": "pelaksana", "job_family": "umum",
            "employment_type": etype, "region": region, "competency_name_id": f"Nama {code}",
            "competency_name_en": f"Name {code}",
            "kind": kind or ("teknis" if code.startswith("T.") else "manajerial"), "cluster": cluster,
            "cluster_name_id": f"Klaster {cluster}", "cluster_name_en": f"Cluster {cluster}"}


def prog(pid, code, form, jp, fee, lo, hi):
    return {"program_id": pid, "competency_code": code, "name": f"{form} {code}", "mode": TRAINING_FORMS[form],
            "form": form, "jp": float(jp), "cost_per_participant": float(fee), "min_participants": lo,
            "max_participants": hi, "provider": "BKPSDM"}


@pytest.fixture(scope="module")
def case():
    rows = []
    # a class-sized group on M.01 (15 people) and a small one on M.02
    for i in range(15):
        rows.append(need(f"A{i:02d}", "M.01", 1.0 + 0.5 * (i % 2), etype="PPPK" if i % 5 == 0 else "PNS"))
    for i in range(3):
        rows.append(need(f"A{i:02d}", "M.02", 1.5))
    # priority ties: same gap, current vs target, managerial vs technical
    rows += [need("Z1", "T.guru.1", 1.0), need("Z1", "M.03", 1.0, basis="target"), need("Z1", "M.04", 1.0),
             need("Z1", "M.05", 2.0, basis="target"), need("Z1", "M.03", 0.5)]
    needs = pd.DataFrame(rows)
    needs["cluster"] = needs["cluster"].astype("Int64")
    cat = pd.DataFrame([
        prog("P01", "M.01", "workshop", 12, 1_450_000, 10, 38), prog("P02", "M.01", "e_learning", 12, 100_000, 1, 500),
        prog("P03", "M.02", "workshop", 15, 1_900_000, 10, 34), prog("P04", "M.02", "mentoring", 8, 450_000, 1, 2),
        prog("P05", "M.02", "e_learning", 10, 100_000, 1, 500), prog("P06", "M.03", "coaching", 8, 800_000, 1, 5),
        prog("P07", "M.03", "e_learning", 8, 100_000, 1, 500), prog("P08", "T.guru.1", "bimtek", 13, 2_900_000, 12, 28),
    ])  # nothing for M.04, M.05
    params = Params(workshops=Workshops(gain=MODE_GAIN, budget=40_000_000, max_cohort=30))
    cands = W.candidate_workshops(needs, cat, params.workshops, params.costs)
    plan = W.plan_workshops(cands, params.workshops.budget, needs)
    return needs, cat, params, plan


def test_one_row_per_employee_with_gaps_in_priority_order(case):
    needs, cat, params, plan = case
    dp = D.development_plans(needs, plan, cat, params)
    assert dp["employee_id"].tolist() == sorted(needs["employee_id"].unique())
    z = dp.set_index("employee_id").loc["Z1"]
    # 2.0 first; then the 1.0 ties: current before target, managerial before technical
    assert z["gaps"].split("; ")[0].startswith("M.05 Nama M.05 (2.0, target)")
    order = [g.split(" ")[0] for g in z["gaps"].split("; ")]
    assert order == ["M.05", "M.04", "T.guru.1", "M.03"]  # M.03: one need, the larger (target) gap
    assert z["n_gaps"] == 4 and z["total_gap"] == pytest.approx(5.0)
    acts = D.development_activities(needs, plan, cat, params)
    assert acts.groupby("employee_id")["priority"].apply(lambda s: s.tolist() == list(range(1, len(s) + 1))).all()


def test_funded_shares_add_up_to_the_plan_cost(case):
    needs, cat, params, plan = case
    assert plan.cost > 0 and (plan.selected["mode"] == "klasikal").any()
    dp = D.development_plans(needs, plan, cat, params)
    assert dp["cost_funded"].sum() == pytest.approx(plan.cost)
    assert (dp["cost"] == dp["cost_funded"] + dp["cost_unfunded"]).all()
    acts = D.development_activities(needs, plan, cat, params)
    assert (acts["activity"] == "funded").sum() == plan.coverage["option_id"].notna().sum()
    assert dp["gap_closed"].sum() == pytest.approx(plan.value)


def test_unfunded_gaps_get_the_cheapest_suitable_individual_programme():
    needs = pd.DataFrame([need(f"A{i:02d}", "M.02", 1.0) for i in range(12)] + [need("B1", "M.02", 1.0, region="Alak")])
    cat = pd.DataFrame([prog("W", "M.02", "workshop", 15, 1_900_000, 10, 34),
                        prog("M", "M.02", "mentoring", 8, 450_000, 1, 2),
                        prog("E", "M.02", "e_learning", 10, 100_000, 1, 500)])
    params = Params()
    cands = W.candidate_workshops(needs, cat, params.workshops, params.costs)
    plan = W.plan_workshops(cands, 0.0, needs)  # nothing funded
    acts = D.development_activities(needs, plan, cat, params).set_index("employee_id")
    # a class was open to the twelve in Palu: self-paced e-learning; B1 alone in Alak: a mentor
    assert (acts.loc[acts.index != "B1", "program_id"] == "E").all()
    assert acts.loc["B1", "program_id"] == "M" and acts.loc["B1", "activity"] == "unfunded"
    assert acts.loc["B1", "cost"] == pytest.approx(450_000 + 2_500_000 * 1 / 2)  # fee + half a coach-day
    dp = D.development_plans(needs, plan, cat, params).set_index("employee_id")
    assert "belum didanai" in dp.loc["B1", "activities"] and dp.loc["B1", "cost_funded"] == 0


def test_every_pns_reaches_min_jp_or_has_a_reason_and_pppk_are_not_failures(case):
    needs, cat, params, plan = case
    dp = D.development_plans(needs, plan, cat, params)
    pns, pppk = dp[dp["employment_type"] == "PNS"], dp[dp["employment_type"] == "PPPK"]
    assert len(pppk) > 0
    assert (pns["meets_min_jp"] | pns["reason"].notna()).all()
    assert (pns["jp_total"] >= params.workshops.min_jp).all()  # coaching by the supervisor tops them up
    topped = pns[pns["jp_inhouse"] > 0]
    assert len(topped) and topped["inhouse"].str.contains("Coaching").all()
    assert ((topped["jp_funded"] + topped["jp_inhouse"]) >= 20).all()
    assert ((topped["jp_inhouse"] % params.jp_table["coaching"]) == 0).all()  # whole sessions
    assert (topped["jp_funded"] + topped["jp_inhouse"] - 20 < params.jp_table["coaching"]).all()  # no more than needed
    assert pppk["meets_min_jp"].isna().all() and (~pppk["min_jp_applies"]).all()
    assert (pppk["reason"] == "pppk_not_owed").all() and (pppk["jp_inhouse"] == 0).all()
    assert pppk["reason_text"].str.contains("PP 49/2018").all()
    s = D.summarise(dp, params.workshops.min_jp, D.development_activities(needs, plan, cat, params))
    # without a supervisor's capacity (no supervisor_of given) the top-up is unlimited: nobody is short
    assert s.pns + s.pppk == s.people == len(dp) and s.pns_short == 0 and s.pns_meeting_min_jp == s.pns


def test_capacity_is_shared_in_turn_among_a_supervisors_staff():
    sessions = np.array([10, 10, 3, 5, 4])
    supervisor = np.array(["S1", "S1", "S1", "S2", None], dtype=object)
    granted = D.share_capacity(sessions, supervisor, capacity=8)
    assert granted.tolist() == [3, 3, 2, 5, 0]  # S1: rounds of one each (3+3+2 = 8); S2 has room; no supervisor: none
    assert D.share_capacity(sessions, supervisor, capacity=0).sum() == 0


def test_every_pns_is_checked_and_a_supervisors_capacity_limits_the_top_up(case):
    needs, cat, params, plan = case
    gap_people = needs.drop_duplicates("employee_id")[["employee_id", "employment_type", "unit_id",
                                                       "position_class", "region"]]
    no_gap = pd.DataFrame({"employee_id": ["N1", "N2", "N3"], "employment_type": "PNS", "unit_id": "U1",
                           "position_class": "pelaksana", "region": "Palu"})
    people = pd.concat([gap_people, no_gap], ignore_index=True)
    # one supervisor for everybody but N3, whose supervisor is not known
    supervisor_of = pd.Series("S1", index=people["employee_id"]).drop("N3")
    limited = Params(workshops=params.workshops.model_copy(update={"supervisor_inhouse_jp": 8}))
    dp = D.development_plans(needs, plan, cat, limited, people=people, supervisor_of=supervisor_of).set_index(
        "employee_id")
    assert set(dp.index) == set(people["employee_id"])  # a PNS without a gap is owed 20 JP too
    assert dp.loc[["N1", "N2", "N3"], "n_gaps"].eq(0).all()
    credit = params.jp_table["coaching"]
    assert dp["jp_inhouse"].sum() <= 8 + 1e-9  # the supervisor's capacity, shared
    short = dp[dp["min_jp_applies"] & ~dp["meets_min_jp"].fillna(False)]
    assert len(short) > 0 and short["reason"].isin(["inhouse_capacity", "no_supervisor"]).all()
    assert dp.loc["N3", "reason"] == "no_supervisor" and dp.loc["N3", "jp_inhouse"] == 0
    assert dp.loc["N3", "jp_shortfall"] == params.workshops.min_jp
    assert (dp["jp_inhouse"] % credit == 0).all()
    s = D.summarise(dp.reset_index(), params.workshops.min_jp)
    assert s.pns_short == len(short) and s.pns == int(dp["min_jp_applies"].sum())
    assert dp.loc[["N1", "N2", "N3"], "min_jp_applies"].all()
    unlimited = Params(workshops=params.workshops.model_copy(update={"supervisor_inhouse_jp": None}))
    dp = D.development_plans(needs, plan, cat, unlimited, people=people, supervisor_of=supervisor_of)
    assert set(dp.loc[dp["meets_min_jp"].eq(False), "employee_id"]) == set()  # unlimited: everyone topped up


def test_shortfall_is_stated_when_no_inhouse_activity_is_credited(case):
    needs, cat, _, plan = case
    params = Params(workshops=Workshops(gain=MODE_GAIN, budget=40_000_000, max_cohort=30), jp_table={"seminar": 4, "workshop": 5})
    dp = D.development_plans(needs, plan, cat, params, lang="en")
    short = dp[dp["min_jp_applies"] & ~dp["meets_min_jp"].fillna(False)]
    assert len(short) > 0 and (short["reason"] == "no_inhouse_form").all()
    assert (short["jp_shortfall"] == 20 - short["jp_total"]).all()
    assert short["reason_text"].str.contains("JP short").all()
    capped = D.development_plans(needs, plan, cat, Params(), max_inhouse_jp=4)
    cap_short = capped[capped["min_jp_applies"] & ~capped["meets_min_jp"].fillna(False)]
    assert len(cap_short) and (cap_short["reason"] == "inhouse_cap").all() and (cap_short["jp_inhouse"] <= 4).all()


def test_pppk_over_24_jp_are_flagged():
    needs = pd.DataFrame([need("P1", "M.01", 1.0, etype="PPPK"), need("P1", "M.02", 1.0, etype="PPPK"),
                          need("P1", "M.03", 1.0, etype="PPPK")])
    cat = pd.DataFrame([prog(f"E{i}", c, "e_learning", 10, 100_000, 1, 500)
                        for i, c in enumerate(["M.01", "M.02", "M.03"])])
    params = Params()
    cands = W.candidate_workshops(needs, cat, params.workshops, params.costs)
    dp = D.development_plans(needs, W.plan_workshops(cands, 1e9, needs), cat, params)
    assert dp["jp_funded"].iloc[0] == 30 and bool(dp["over_jp_cap"].iloc[0])
    capped = W.plan_workshops(cands, 1e9, needs, jp_cap=W.pppk_jp_cap(needs, Params().workshops.pppk_max_jp))
    assert not D.development_plans(needs, capped, cat, params)["over_jp_cap"].any()


def test_plans_are_deterministic_and_pure(case):
    needs, cat, params, plan = case
    before = needs.copy()
    a = D.development_plans(needs, plan, cat, params)
    b = D.development_plans(needs.sample(frac=1, random_state=3), plan, cat.sample(frac=1, random_state=4), params)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(needs, before)
    en = D.development_plans(needs, plan, cat, params, lang="en")
    assert en["gaps"].str.contains("Name M.0").any() and not en["activities"].str.contains("didanai").any()
    assert np.array_equal(en["jp_total"], a["jp_total"])
