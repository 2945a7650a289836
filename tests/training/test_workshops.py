"""The budgeted workshop plan: cohorts, costs, the exact MILP, left-out reasons, the budget curve."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core.params import Costs, Params, Workshops
from analysis.training import workshops as W

# the arithmetic below assumes gains by mode only (no per-form table)
MODE_GAIN = {"klasikal": 1.0, "nonklasikal": 0.5}

COSTS = Costs(trainer_day=2_500_000, venue_day=1_500_000)


def needs_frame(rows):
    """Training needs from (employee, competency, gap, region, cluster[, basis, employment_type])."""
    out = []
    for r in rows:
        e, code, gap, region, cluster, *rest = r
        basis = rest[0] if rest else "current"
        etype = rest[1] if len(rest) > 1 else "PNS"
        out.append({"employee_id": e, "competency_code": code, "required_level": 3.0, "level": 3.0 - gap,
                    "gap": gap, "basis": basis, "unit_id": f"U{hash(e) % 3}", "position_class": "pelaksana",
                    "job_family": "umum", "employment_type": etype, "region": region,
                    "competency_name_id": f"nama {code}", "competency_name_en": f"name {code}",
                    "kind": "teknis" if code.startswith("T.") else "manajerial", "cluster": cluster,
                    "cluster_name_id": None if cluster is pd.NA else f"Klaster {cluster}",
                    "cluster_name_en": None if cluster is pd.NA else f"Cluster {cluster}"})
    df = pd.DataFrame(out)
    df["cluster"] = df["cluster"].astype("Int64")
    return df


def programme(pid, code, form, jp, fee, lo, hi, mode=None):
    from analysis.core.codes import TRAINING_FORMS

    return {"program_id": pid, "competency_code": code, "name": f"{form} {code}", "mode": mode or TRAINING_FORMS[form],
            "form": form, "jp": float(jp), "cost_per_participant": float(fee), "min_participants": lo,
            "max_participants": hi, "provider": "LAN"}


# --- cohorts -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 300), lo=st.integers(1, 30), span=st.integers(0, 40))
def test_largest_seating_and_balanced_cohorts(n, lo, span):
    hi = lo + span
    m = W.largest_seating(n, lo, hi)
    feasible = [x for x in range(lo, n + 1) if math.ceil(x / hi) * lo <= x]
    assert m == (max(feasible) if feasible else 0)  # the most people cohorts of lo..hi can seat
    cohorts = W.split_cohorts(list(range(m)), hi)
    sizes = [len(c) for c in cohorts]
    assert sum(sizes) == m and len(sizes) == (math.ceil(m / hi) if m else 0)
    assert all(lo <= s <= hi for s in sizes) and (not sizes or max(sizes) - min(sizes) <= 1)
    assert [p for c in cohorts for p in c] == list(range(m))  # gap order kept: first cohorts, largest gaps


def test_a_group_is_one_offer_and_the_plan_cuts_balanced_cohorts_largest_gaps_first():
    rows = [(f"A{i:03d}", "M.01", 1.0 + (i % 3) * 0.5, "Palu", 1) for i in range(47)]
    rows += [(f"B{i:03d}", "M.01", 1.0, "Alak", pd.NA) for i in range(5)]  # no cluster, below the minimum
    needs = needs_frame(rows)
    cat = pd.DataFrame([programme("P1", "M.01", "workshop", 12, 1_450_000, 10, 38),
                        programme("P2", "M.01", "e_learning", 12, 100_000, 1, 500)])
    c = W.candidate_workshops(needs, cat, Workshops(gain=MODE_GAIN, max_cohort=30), COSTS)
    offer = c[c["program_id"] == "P1"]
    assert offer["group_id"].tolist() == ["Palu/K1/M.01"]  # the 5 in Alak cannot form a class of 10
    assert offer["grouped"].all() and offer["n"].tolist() == [47] and offer["n_cohorts"].tolist() == [2]
    assert (offer["min_cohort"].tolist(), offer["max_cohort"].tolist()) == ([10], [30])
    el = c[c["program_id"] == "P2"]
    assert (el["n"] == 1).all() and len(el) == 52 and not el["grouped"].any()
    assert set(el["group_id"]) == {"Palu/K1/M.01", "Alak/-/M.01"}
    plan = W.plan_workshops(c[c["program_id"] == "P1"], 1e12, needs)
    cls = plan.selected
    assert sorted(cls["n"]) == [23, 24] and cls["cohort"].tolist() == [1, 2] and (cls["n_cohorts"] == 2).all()
    seated = [e for who in cls["participants"] for e in who]
    assert sorted(seated) == sorted(f"A{i:03d}" for i in range(47))  # everyone in exactly one cohort
    gaps = needs.set_index("employee_id")["gap"]
    first, second = cls["participants"]
    assert gaps[first].min() >= gaps[second].max()
    assert cls["value"].sum() == pytest.approx(47.0)  # min(gap, 1 level) each


def test_cohort_size_is_a_decision_of_the_plan():
    """31 people, classes of 10 to 30, Rp 38 M: one cohort of 30 costs exactly the budget and closes
    the most gap; cohorts fixed in advance (16 + 15) could fund only one of 16."""
    gaps = [2.0, 1.0, 0.5] * 10 + [2.0]
    needs = needs_frame([(f"A{i:02d}", "M.01", g, "Palu", 1) for i, g in enumerate(gaps)])
    cat = pd.DataFrame([programme("P1", "M.01", "workshop", 12, 1_000_000, 10, 30)])
    c = W.candidate_workshops(needs, cat, Workshops(gain=MODE_GAIN, max_cohort=30), COSTS)
    plan = W.plan_workshops(c, 38e6, needs)
    assert plan.optimal and plan.selected["n"].tolist() == [30] and plan.cost == pytest.approx(38e6)
    # the 30 with the largest gaps (min(gap, 1 level)): 21 at one level, 9 at half a level
    assert plan.value == pytest.approx(21 * 1.0 + 9 * 0.5)
    assert plan.left_out["employee_id"].tolist() == [f"A{i:02d}" for i in range(31) if gaps[i] == 0.5][-1:]
    # a smaller budget opens a smaller cohort, not none
    small = W.plan_workshops(c, 20e6, needs)
    assert small.selected["n"].tolist() == [12] and small.cost <= 20e6 and small.value == pytest.approx(12.0)
    # a larger one seats all 31 in two cohorts of 16 and 15
    big = W.plan_workshops(c, 47e6, needs)
    assert sorted(big.selected["n"]) == [15, 16] and big.value == pytest.approx(21 + 10 * 0.5)


def test_cohort_bounds_hold_for_every_programme_and_group():
    rng = np.random.default_rng(5)
    rows = [(f"E{i:03d}", code, float(rng.choice([0.5, 1, 1.5])), str(rng.choice(["X", "Y"])), int(rng.integers(1, 3)))
            for i in range(120) for code in ("M.01", "M.02") if rng.random() < 0.7]
    needs = needs_frame(rows)
    cat = pd.DataFrame([programme("P1", "M.01", "workshop", 12, 1e6, 6, 40),
                        programme("P2", "M.02", "pelatihan", 30, 2e6, 9, 12),
                        programme("P3", "M.02", "patok_banding", 10, 5e6, 3, 8)])
    ws = Workshops(gain=MODE_GAIN, max_cohort=25)
    c = W.candidate_workshops(needs, cat, ws, COSTS)
    prog = cat.set_index("program_id")
    for budget in (3e7, 1.5e8, 1e12):
        plan = W.plan_workshops(c, budget, needs)
        check_feasible(plan, None)
        for pid, g in plan.selected.groupby("program_id"):
            cap = min(prog.loc[pid, "max_participants"], ws.max_cohort)
            assert g["n"].between(prog.loc[pid, "min_participants"], cap).all()
            for _, grp in g.groupby("group_id"):
                assert grp["n"].max() - grp["n"].min() <= 1  # balanced
                assert sorted(grp["cohort"]) == list(range(1, len(grp) + 1)) and (grp["n_cohorts"] == len(grp)).all()


def test_costs_days_and_value_follow_the_conventions():
    needs = needs_frame([(f"A{i}", "M.01", g, "Palu", 1) for i, g in enumerate([2.0, 1.0, 0.5, 0.5])])
    cat = pd.DataFrame([programme("K", "M.01", "workshop", 12, 1_000_000, 2, 10),
                        programme("C", "M.01", "coaching", 8, 750_000, 1, 3),
                        programme("E", "M.01", "e_learning", 12, 100_000, 1, 500)])
    ws = Workshops(gain=MODE_GAIN, jp_per_day=8)
    c = W.candidate_workshops(needs, cat, ws, COSTS).set_index("program_id")
    k = c.loc["K"]
    assert k["days"] == 2 and k["trainer_days"] == 2 and k["venue_days"] == 2
    assert k["cost"] == pytest.approx(4 * 1_000_000 + 2 * 2_500_000 + 2 * 1_500_000)
    assert k["value"] == pytest.approx(1.0 + 1.0 + 0.5 + 0.5)  # min(gap, 1 level)
    coach = c.loc[["C"]]
    assert coach["trainer_days"].tolist() == pytest.approx([1 / 3] * 4)  # a coach-day serves 3
    assert coach["cost"].iloc[0] == pytest.approx(750_000 + 2_500_000 / 3)
    el = c.loc[["E"]]
    assert (el["trainer_days"] == 0).all() and (el["cost"] == 100_000).all()
    assert sorted(el["value"]) == [0.5] * 4  # min(gap, 0.5 level)


def test_a_promotion_candidate_with_current_and_target_rows_is_one_need():
    needs = needs_frame([("A", "M.01", 1.0, "Palu", 1, "current"), ("A", "M.01", 2.0, "Palu", 1, "target")])
    nt = W.need_table(needs)
    assert len(nt) == 1 and nt["gap"].iloc[0] == 2.0 and nt["basis"].iloc[0] == "target"


# --- the optimisation ----------------------------------------------------------------------


def random_case(rng):
    emps = [f"E{i:02d}" for i in range(int(rng.integers(3, 9)))]
    comps = ["M.01", "M.02"][: int(rng.integers(1, 3))]
    rows = []
    for e in emps:
        region = "A" if rng.random() < 0.8 else "B"
        cluster = pd.NA if rng.random() < 0.1 else 1
        etype = "PPPK" if rng.random() < 0.4 else "PNS"
        for code in comps:
            if rng.random() < 0.8 or not rows:
                rows.append((e, code, float(rng.choice([0.5, 1.0, 1.5, 2.0])), region, cluster, "current", etype))
    cat, k = [], 0
    for code in comps:
        for _ in range(int(rng.integers(1, 4))):
            k += 1
            form = str(rng.choice(["workshop", "seminar", "coaching", "e_learning", "patok_banding"]))
            grouped = form in ("workshop", "seminar", "patok_banding")
            lo = int(rng.integers(1, 4)) if grouped else 1
            cat.append(programme(f"P{k}", code, form, float(rng.choice([4, 8, 12, 16, 30])),
                                 float(rng.integers(1, 20)) * 1e5, lo, lo + int(rng.integers(0, 4))))
    return needs_frame(rows), pd.DataFrame(cat)


def brute_force_best(c: pd.DataFrame, budget: float, caps: dict | None) -> float | None:
    """The most gap closed over every assignment of needs to an option, a seat in an offer or nothing,
    each offer opening the fewest cohorts for its seats (None when there are too many assignments)."""
    choices: dict[tuple, list] = {}
    for i, o in enumerate(c.itertuples(index=False)):
        for e, v in zip(o.participants, o.values):
            choices.setdefault((e, o.competency_code), [None]).append((i, v))
    keys = sorted(choices)
    if math.prod(len(choices[k]) for k in keys) > 20_000:
        return None
    rows = list(c.itertuples(index=False))
    best = 0.0
    for pick in itertools.product(*(choices[k] for k in keys)):
        seats: dict[int, int] = {}
        value, jp = 0.0, {}
        for (e, _), ch in zip(keys, pick):
            if ch is None:
                continue
            i, v = ch
            seats[i] = seats.get(i, 0) + 1
            value += v
            jp[e] = jp.get(e, 0.0) + rows[i].jp
        cost, ok = 0.0, True
        for i, m in seats.items():
            r = rows[i]
            if not r.grouped:
                cost += r.cost
                continue
            k = math.ceil(m / r.max_cohort)
            ok &= m >= k * r.min_cohort
            cost += m * r.seat_lines["cost"] + k * r.cohort_lines["cost"]
        if ok and cost <= budget and not (caps and any(v > caps.get(e, math.inf) for e, v in jp.items())):
            best = max(best, value)
    return best


def check_feasible(plan: W.WorkshopPlan, caps: dict | None):
    seen, jp = set(), {}
    for o in plan.selected.itertuples():
        for e in o.participants:
            assert (e, o.competency_code) not in seen
            seen.add((e, o.competency_code))
            jp[e] = jp.get(e, 0.0) + o.jp
    assert all(v <= (caps or {}).get(e, math.inf) + 1e-9 for e, v in jp.items())


def solvable_cases(n: int, seed: int):
    """``n`` random cases small enough for brute force: (candidates, caps, budget, best gap closed)."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < n:
        needs, cat = random_case(rng)
        c = W.candidate_workshops(needs, cat, Workshops(gain=MODE_GAIN, max_cohort=int(rng.integers(2, 6))), COSTS)
        if c.empty:
            continue
        caps = W.pppk_jp_cap(needs, float(rng.choice([12, 20, 30]))) if rng.random() < 0.4 else None
        budget = float(rng.uniform(0, 1.2) * c["cost"].sum())
        best = brute_force_best(c, budget, caps)
        if best is None:
            continue
        done += 1
        yield c, caps, budget, best


def test_milp_matches_brute_force_on_small_random_cases():
    with_cohorts = 0
    for c, caps, budget, best in solvable_cases(60, 20261122):
        plan = W.plan_workshops(c, budget, jp_cap=caps)
        assert plan.optimal
        assert plan.cost <= budget + 1.0  # to the rupiah
        check_feasible(plan, caps)
        assert plan.value == pytest.approx(best, abs=1e-9)
        sel = plan.selected
        with_cohorts += int(((sel["n_cohorts"] > 1) & (sel["mode"] == "klasikal")).any())
    assert with_cohorts >= 5  # the cases exercise several cohorts of one offer


@pytest.fixture(scope="module")
def region_case():
    rng = np.random.default_rng(11)
    rows = []
    for i in range(140):
        region, cluster = str(rng.choice(["Palu", "Alak"])), (pd.NA if i % 9 == 0 else int(rng.integers(1, 3)))
        for code in ("M.01", "M.02", "T.guru.1", "T.x.1"):
            if rng.random() < 0.6:
                rows.append((f"E{i:03d}", code, float(rng.choice([0.5, 1.0, 1.5, 2.0])), region, cluster, "current",
                             "PPPK" if i % 4 == 0 else "PNS"))
    needs = needs_frame(rows)
    needs["region"] = needs.groupby("employee_id")["region"].transform("first")
    needs["cluster"] = needs.groupby("employee_id")["cluster"].transform("first").astype("Int64")
    cat = pd.DataFrame([
        programme("P01", "M.01", "workshop", 12, 1_450_000, 8, 38),
        programme("P02", "M.01", "coaching", 8, 750_000, 1, 3),
        programme("P03", "M.01", "e_learning", 12, 100_000, 1, 500),
        programme("P04", "M.02", "pelatihan", 30, 3_000_000, 10, 30),
        programme("P05", "M.02", "seminar", 4, 400_000, 20, 100),
        programme("P06", "M.02", "mentoring", 8, 450_000, 1, 2),
        programme("P07", "T.guru.1", "bimtek", 13, 2_900_000, 12, 28),  # classroom only
    ])  # nothing for T.x.1
    c = W.candidate_workshops(needs, cat, Workshops(gain=MODE_GAIN, max_cohort=30), COSTS)
    return needs, cat, c


def test_zero_budget_funds_nothing_and_says_why(region_case):
    needs, _, c = region_case
    plan = W.plan_workshops(c, 0.0, needs)
    assert plan.selected.empty and plan.cost == 0 and plan.value == 0 and plan.people == 0
    assert len(plan.left_out) == len(W.need_table(needs))
    reasons = plan.left_out.set_index(["employee_id", "competency_code"])["reason"]
    assert (reasons.xs("T.x.1", level=1) == "no_programme").all()
    assert set(plan.left_out["reason"]) == {"budget", "no_programme", "group_too_small"}
    small = plan.left_out[plan.left_out["reason"] == "group_too_small"]
    assert (small["competency_code"] == "T.guru.1").all()  # classroom only, groups under 12


def test_a_budget_above_the_total_funds_everything_feasible(region_case):
    needs, _, c = region_case
    plan = W.plan_workshops(c, float(c["cost"].sum()) * 2, needs)
    cov = plan.coverage
    assert cov.loc[cov["n_options"] > 0, "option_id"].notna().all()
    assert set(plan.left_out["reason"]) <= {"no_programme", "group_too_small"}
    # the most gap: a class (1 level) where one is open, else a per-person option (0.5)
    nt = W.need_table(needs).merge(cov[["employee_id", "competency_code", "classroom_available"]])
    assert plan.value <= (np.minimum(nt["gap"], 1.0)).sum()
    d = plan.to_dict()
    assert d["needs_covered"] + sum(d["left_out"].values()) == d["needs"] and d["left_out_complete"]


def test_budget_is_never_exceeded_and_ties_go_to_the_cheaper_plan(region_case):
    needs, _, c = region_case
    for b in (5e6, 2.3e7, 1.1e8, 4.4e8):
        plan = W.plan_workshops(c, b, needs)
        assert plan.cost <= b + 1.0 and plan.remaining >= -1.0
        check_feasible(plan, None)
    # same value, different cost: the cheaper alternative is funded when money is no object
    nd = needs_frame([("A", "M.01", 0.5, "Palu", 1)])
    cat = pd.DataFrame([programme("C", "M.01", "coaching", 8, 750_000, 1, 3),
                        programme("E", "M.01", "e_learning", 12, 100_000, 1, 500)])
    plan = W.plan_workshops(W.candidate_workshops(nd, cat, Workshops(gain=MODE_GAIN), COSTS), 1e9, nd)
    assert plan.selected["program_id"].tolist() == ["E"] and plan.cost == 100_000


def test_jp_caps_keep_pppk_within_24_jp(region_case):
    needs, cat, _ = region_case
    caps = W.pppk_jp_cap(needs, Params().workshops.pppk_max_jp)
    c = W.candidate_workshops(needs, cat, Workshops(gain=MODE_GAIN, max_cohort=30), COSTS, jp_cap=caps)
    assert not any(e in caps for who in c.loc[c["jp"] > 24, "participants"] for e in who)  # 30 JP course
    plan = W.plan_workshops(c, float(c["cost"].sum()), needs, jp_cap=caps)
    check_feasible(plan, caps)


def test_a_curve_point_has_the_figures_of_its_plan_to_the_last_bit(region_case):
    """The curve's points are summed without building each plan's tables: the same figures, exactly."""
    from analysis.training.workshops.solve import solve_budgets

    cases = [(c, caps) for c, caps, _, _ in solvable_cases(12, 7)] + [(region_case[2], None)]
    with_cohorts = 0
    for c, caps in cases:
        cands = c.reset_index(drop=True)
        budgets = [0.0, *(float(f * cands["cost"].sum()) for f in (0.1, 0.3, 0.6, 1.1))]
        for b, sol in zip(budgets, solve_budgets(cands, budgets, caps, 60.0, 5e-3, tie_break=False)):
            plan = W.plan_from_solution(cands, b, sol, None, set(cands["competency_code"]))
            figures = {"cost": plan.cost, "gap_closed": plan.value, "people_reached": plan.people,
                       "needs_covered": int(plan.coverage["option_id"].notna().sum()),
                       "options_funded": len(plan.selected), "participant_jp": plan.jp, "optimal": plan.optimal}
            assert W.curve_point(cands, sol) == figures
            with_cohorts += int((plan.selected["n_cohorts"] > 1).any())
    assert with_cohorts >= 2  # points with several cohorts of one offer among them


def test_budget_curve_is_non_decreasing_and_marks_the_params_budget(region_case):
    _, _, c = region_case
    curve = W.budget_curve(c, budget=7.5e7, steps=6)
    assert curve["budget"].is_monotonic_increasing and curve["gap_closed"].is_monotonic_increasing
    assert (curve["cost"] <= curve["budget"] + 1.0).all() and curve["optimal"].all()
    assert curve.loc[curve["is_params_budget"], "budget"].tolist() == [7.5e7]
    assert curve["gap_closed"].iloc[0] == 0
    full = W.plan_workshops(c, float(c["cost"].sum()))
    # the default range stops at four times the params budget when saturation is further away
    assert curve["budget"].iloc[-1] == pytest.approx(min(4 * 7.5e7, math.ceil(full.cost / 1e6) * 1e6))
    # without a params budget it runs to saturation, where every need with an option is covered
    saturated = W.budget_curve(c, steps=3)
    assert saturated["gap_closed"].iloc[-1] == pytest.approx(full.value, rel=1e-3)
    own = W.budget_curve(c, [0, 1e7, 1e7, 3e7])
    assert own["budget"].tolist() == [0, 1e7, 3e7]


def test_saturation_shown_beyond_the_range_is_beyond_what_the_solve_finds(region_case):
    """The curve skips the solve without a budget limit when the bound shows that its plan costs more
    than four times the budget: wherever it says so, the plan that solve gives does cost more."""
    from analysis.training.workshops import plan as P
    from analysis.training.workshops.solve import solve_budgets

    cases = [(c, caps) for c, caps, _, _ in solvable_cases(25, 5)] + [(region_case[2], None)]
    shown = 0
    for c, caps in cases:
        cands, programmed = P.prepared_candidates(c)
        unlimited = float(cands["cost"].sum()) + 1.0
        sol = solve_budgets(cands, [unlimited], caps, 60.0, 5e-3, tie_break=False)[0]
        saturation = W.plan_from_solution(cands, unlimited, sol, None, programmed).cost
        for top in (0.05, 0.2, 0.5, 0.9, 1.5):
            if P.saturation_beyond(cands, top * saturation, caps, 5e-3):
                shown += 1
                assert saturation > top * saturation
    assert shown >= 25  # the shortcut is taken often enough to be tested


def test_a_curve_under_caps_that_cannot_bind_is_the_curve_without_them(region_case):
    _, _, c = region_case
    people = {e for who in c["participants"] for e in who}
    endless = W.budget_curve(c, budget=2e7, steps=4, jp_cap={e: math.inf for e in people})
    pd.testing.assert_frame_equal(endless, W.budget_curve(c, budget=2e7, steps=4))


def test_a_curve_with_the_saturation_shown_is_the_curve_with_it_solved(region_case, monkeypatch):
    from analysis.training.workshops import plan as P

    _, _, c = region_case
    shown = W.budget_curve(c, budget=2e7, steps=4)
    assert P.saturation_beyond(*P.prepared_candidates(c)[:1], 8e7, None, 5e-3)
    monkeypatch.setattr(P, "saturation_beyond", lambda *a: False)
    pd.testing.assert_frame_equal(shown, W.budget_curve(c, budget=2e7, steps=4))


def test_plan_exports(region_case):
    needs, _, c = region_case
    plan = W.plan_workshops(c, 6e7, needs)
    frame = plan.to_frame()
    assert "participants" not in frame and len(frame) == len(plan.selected)
    roster = plan.roster()
    assert len(roster) == plan.selected["n"].sum()
    d = plan.to_dict()
    assert d["cost"] == pytest.approx(plan.cost) and d["people_reached"] == roster["employee_id"].nunique()
    assert d["remaining"] == pytest.approx(6e7 - plan.cost)
    # without the needs, only needs that had an option are known
    partial = W.plan_workshops(c, 6e7)
    assert not partial.to_dict()["left_out_complete"] and set(partial.left_out["reason"]) == {"budget"}
    assert partial.value == pytest.approx(plan.value)


@pytest.mark.parametrize("seed", range(40))
def test_candidates_built_by_column_equal_the_frame_of_their_rows(seed):
    """The candidates are built column by column (a dict per option was 600 MiB at 100,000 employees):
    the table, dtypes included, is the one pandas builds from the same rows as dicts, with clusters
    missing, providers missing and JP caps among the random cases."""
    rng = np.random.default_rng(seed)
    needs, cat = random_case(rng)
    if seed % 3 == 0:
        cat["provider"] = None if seed % 2 else [None, *cat["provider"].iloc[1:]]
    caps = W.pppk_jp_cap(needs, 12.0) if seed % 4 == 0 else None
    c = W.candidate_workshops(needs, cat, Workshops(gain=MODE_GAIN, max_cohort=int(rng.integers(2, 6))), COSTS,
                              jp_cap=caps)
    rows = pd.DataFrame(c.astype(object).to_dict("records"), columns=W.CANDIDATE_COLUMNS) if len(c) else c
    for col in ("n", "cohort", "n_cohorts", "days", "min_cohort", "max_cohort"):
        rows[col] = rows[col].astype(int)
    rows["cluster"] = rows["cluster"].astype("Int64")
    rows["grouped"] = rows["grouped"].astype(bool)
    pd.testing.assert_frame_equal(c, rows)
    assert list(c.dtypes.astype(str)) == list(rows.dtypes.astype(str))


def test_empty_inputs():
    needs = needs_frame([("A", "M.09", 1.0, "Palu", 1)])
    cat = pd.DataFrame([programme("E", "M.01", "e_learning", 12, 100_000, 1, 500)])
    c = W.candidate_workshops(needs, cat, Workshops(gain=MODE_GAIN), COSTS)
    assert c.empty and list(c.columns) == W.CANDIDATE_COLUMNS
    plan = W.plan_workshops(c, 1e9, needs)
    assert plan.selected.empty and plan.left_out["reason"].tolist() == ["no_programme"]


def test_under_a_jp_cap_the_cheapest_option_that_fits_is_funded():
    needs = needs_frame([("P", "M.01", 1.0, "Palu", 1, "current", "PPPK"), ("P", "M.02", 1.0, "Palu", 1, "current", "PPPK"),
                         ("P", "M.03", 1.0, "Palu", 1, "current", "PPPK")])
    cat = pd.DataFrame([programme("A", "M.01", "e_learning", 16, 100_000, 1, 500),  # cheap but too long
                        programme("B", "M.01", "pjj", 4, 1_500_000, 1, 500),
                        programme("C", "M.01", "belajar_mandiri", 6, 500_000, 1, 500),
                        programme("D", "M.02", "e_learning", 8, 100_000, 1, 500),
                        programme("E", "M.03", "e_learning", 8, 100_000, 1, 500)])
    caps = W.pppk_jp_cap(needs, Params().workshops.pppk_max_jp)
    plan = W.plan_workshops(W.candidate_workshops(needs, cat, Workshops(gain=MODE_GAIN), COSTS), 1e9, needs, jp_cap=caps)
    assert sorted(plan.selected["program_id"]) == ["C", "D", "E"] and plan.value == 1.5
    assert plan.selected["jp"].sum() <= 24


def test_solver_output_is_silenced_inside_a_kernel_whose_stdout_is_a_copy(monkeypatch, tmp_path):
    """In Jupyter, descriptor 1 is a pipe the kernel forwards to the notebook while sys.stdout.fileno()
    is a copy of the original stdout: HiGHS prints to descriptor 1, so that is what must be silenced."""
    import io
    import os
    import sys

    from analysis.training.workshops.solve import quiet_stdout

    read, write = os.pipe()
    saved = os.dup(1)
    copy = open(tmp_path / "copy.txt", "w")

    class KernelStdout(io.StringIO):
        def fileno(self):
            return copy.fileno()

    monkeypatch.setattr(sys, "stdout", KernelStdout())
    try:
        os.dup2(write, 1)
        with quiet_stdout():
            os.write(1, b"HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();\n")
        os.write(1, b"after\n")
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(write)
        copy.close()
    assert os.read(read, 1000) == b"after\n"  # what reached the notebook
    os.close(read)
