"""Large candidate sets: the bound on every plan, the greedy plan and the plan solved on its core.

The core path is forced on small random cases (``CORE_MIN_CANDIDATES`` = 0), where brute force knows
the best plan: the bound must never fall below it, every plan must be feasible, and the gap each plan
reports must be honest (the best plan is never further above it than the gap says)."""

import math

import numpy as np
import pandas as pd
import pytest
from test_workshops import COSTS, MODE_GAIN, check_feasible, needs_frame, programme, solvable_cases

from analysis.core.params import Workshops
from analysis.training import workshops as W
from analysis.training.workshops import core
from analysis.training.workshops import solve as S


def _feasible(plan: W.WorkshopPlan, budget: float, caps: dict | None) -> None:
    assert plan.cost <= budget + 1.0
    check_feasible(plan, caps)  # each need served once, every JP cap kept


def test_the_bound_is_never_below_the_best_plan():
    for c, caps, budget, best in solvable_cases(60, 7):
        cands = c.reset_index(drop=True)
        upper, price = core.Relaxation(core.need_options(cands), caps).bound(budget)
        assert upper >= best - 1e-9
        assert price >= 0


def _priced_by_ufunc_at(rel, price):
    """The priced relaxation as first written, with np.maximum.at (the reference for the faster one)."""
    o = rel.o
    profit = o.value - price * o.cost
    free = np.zeros(o.n_needs)
    np.maximum.at(free, o.need[rel.free], profit[rel.free])
    total = float(free.sum())
    if rel.n_people:
        prof = profit[rel.cap_idx]
        width = int(rel.caps.max()) + 1
        best, cols = np.zeros((rel.n_people, width)), np.arange(width)
        for k in range(int(rel.cap_need_slot.max()) + 1):
            at_k = rel.cap_need_slot == k
            new = best.copy()
            for j in range(int(rel.cap_opt_slot[at_k].max()) + 1):
                sel = np.flatnonzero(at_k & (rel.cap_opt_slot == j) & (prof > 0))
                if len(sel):
                    p, w, r = rel.cap_person[sel], rel.cap_jp[sel], prof[sel]
                    src = cols[None, :] - w[:, None]
                    np.maximum.at(new, p, np.where(src >= 0, best[p[:, None], np.maximum(src, 0)] + r[:, None],
                                                   -np.inf))
            best = new
        total += float(best[np.arange(rel.n_people), rel.caps].sum())
    return total


def test_the_priced_relaxation_is_the_one_np_maximum_at_gave_to_the_last_bit():
    capped = 0
    for c, caps, _, _ in solvable_cases(30, 12):
        cands = c.reset_index(drop=True)
        rel = core.Relaxation(core.need_options(cands), caps)
        capped += rel.n_people > 0
        for price in (0.0, 1e-7, 3e-7, 1e-6, 1e-5):
            assert rel.priced(price) == _priced_by_ufunc_at(rel, price)
    assert capped >= 5


def test_caps_above_what_a_person_can_take_give_the_bound_of_no_tighter_cap():
    """A JP cap above the most a person's options add up to cannot bind: a cap of a thousand times
    more, or an infinite one, gives the same relaxation to the last bit (and no table that wide)."""
    import math

    checked = 0
    for c, caps, _, _ in solvable_cases(40, 13):
        if not caps:
            continue
        cands = c.reset_index(drop=True)
        options = core.need_options(cands)
        loose = core.Relaxation(options, {e: 1000 * v for e, v in caps.items()})
        endless = core.Relaxation(options, {e: math.inf for e in caps})
        assert loose.caps.max(initial=0) < 1000 and np.array_equal(loose.caps, endless.caps)
        for price in (0.0, 1e-7, 1e-6, 1e-5):
            assert loose.priced(price) == endless.priced(price) == _priced_by_ufunc_at(loose, price)
        checked += 1
    assert checked >= 5


def test_greedy_plans_sharing_their_inputs_are_the_plans_each_makes_alone():
    """A curve's points share what the greedy starts from: every plan is the one made from scratch,
    whatever the order of the budgets (the shared inputs are only read)."""
    for c, caps, budget, _ in solvable_cases(15, 9):
        cands = c.reset_index(drop=True)
        options = core.need_options(cands)
        inputs = core.greedy_inputs(cands, options)
        for b in (budget, 0.0, 3 * budget, budget / 2, budget):
            shared, alone = core.greedy(cands, options, b, caps, inputs), core.greedy(cands, options, b, caps)
            assert np.array_equal(shared[0], alone[0]) and shared[1:] == alone[1:]


def test_the_greedy_plan_is_feasible_and_its_value_is_what_it_funds():
    for c, caps, budget, best in solvable_cases(60, 8):
        cands = c.reset_index(drop=True)
        taken, cohorts, value = core.greedy(cands, core.need_options(cands), budget, caps)
        seen, jp, cost, funded = set(), {}, 0.0, 0.0
        for pos in np.flatnonzero(taken):
            row = cands.iloc[pos]
            cost += row["cost"]
            funded += row["value"]
            assert not row["grouped"]
        for pos, groups in cohorts.items():
            row = cands.iloc[pos]
            of = dict(zip(row["participants"], row["values"]))
            for g in groups:
                assert row["min_cohort"] <= len(g) <= row["max_cohort"]
                cost += row["cohort_lines"]["cost"] + len(g) * row["seat_lines"]["cost"]
                funded += sum(of[e] for e in g)
        people = [(e, cands.iloc[p]["competency_code"], cands.iloc[p]["jp"]) for p in np.flatnonzero(taken)
                  for e in cands.iloc[p]["participants"]]
        people += [(e, cands.iloc[p]["competency_code"], cands.iloc[p]["jp"]) for p, gs in cohorts.items()
                   for g in gs for e in g]
        for e, comp, j in people:
            assert (e, comp) not in seen  # each need served once
            seen.add((e, comp))
            jp[e] = jp.get(e, 0.0) + j
        assert all(v <= (caps or {}).get(e, math.inf) + 1e-9 for e, v in jp.items())
        assert cost <= budget + 1.0
        assert funded == pytest.approx(value, abs=1e-9)
        assert value <= best + 1e-9


def test_plans_solved_on_the_core_are_feasible_and_their_gap_is_honest(monkeypatch):
    monkeypatch.setattr(core, "CORE_MIN_CANDIDATES", 0)
    monkeypatch.setattr(core, "CORE_FACTOR", 0.8)  # a core smaller than the budget's reach: a real test
    proven = 0
    for c, caps, budget, best in solvable_cases(60, 9):
        plan = W.plan_workshops(c, budget, jp_cap=caps, time_limit=30)
        _feasible(plan, budget, caps)
        gap = plan.extra["mip_gap"]
        assert plan.value <= best + 1e-9
        # the gap is to an upper bound, so the best plan is no further above the plan than it says
        assert best * (1 - gap) <= plan.value + 1e-9
        if plan.optimal:
            proven += 1
            assert best - plan.value <= max(S.CAPPED_REL_GAP, 0) * best + 1e-9
    assert proven >= 10


def test_when_small_options_abound_the_greedy_plan_is_proven_and_no_programme_is_solved(monkeypatch):
    """600 people with the same e-learning need: a budget buys 150 of them, and nothing is better."""
    monkeypatch.setattr(core, "CORE_MIN_CANDIDATES", 0)
    rows = [(f"E{i:03d}", "M.01", 1.0, "A", 1) for i in range(600)]
    cat = pd.DataFrame([programme("P1", "M.01", "e_learning", 8, 1e6, 1, 1)])
    c = W.candidate_workshops(needs_frame(rows), cat, Workshops(gain=MODE_GAIN), COSTS)
    called = []
    monkeypatch.setattr(S, "milp", lambda *a, **k: called.append(1))  # the solver must not be needed
    plan = W.plan_workshops(c, 150e6, jp_cap=None)
    assert not called
    assert plan.optimal and plan.extra["mip_gap"] == pytest.approx(0.0, abs=1e-12)
    assert plan.value == pytest.approx(75.0) and plan.people == 150  # gain 0.5 each


def test_the_core_path_gives_the_same_plan_every_time(monkeypatch):
    monkeypatch.setattr(core, "CORE_MIN_CANDIDATES", 0)
    monkeypatch.setattr(core, "CORE_FACTOR", 0.8)
    for c, caps, budget, _ in solvable_cases(10, 10):
        a = W.plan_workshops(c, budget, jp_cap=caps, time_limit=30)
        b = W.plan_workshops(c, budget, jp_cap=caps, time_limit=30)
        pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())


def test_curve_without_a_full_solve_stops_at_four_times_the_budget_or_saturation(monkeypatch):
    monkeypatch.setattr(core, "CORE_MIN_CANDIDATES", 0)
    rows = [(f"E{i:03d}", "M.01", 1.0, "A", 1) for i in range(40)]
    cat = pd.DataFrame([programme("P1", "M.01", "e_learning", 8, 1e6, 1, 1)])
    c = W.candidate_workshops(needs_frame(rows), cat, Workshops(gain=MODE_GAIN), COSTS)
    curve = W.budget_curve(c, budget=5e6, steps=4)
    assert curve["budget"].max() == pytest.approx(20e6)  # 4 x the budget, below saturation (40 M)
    curve = W.budget_curve(c, budget=20e6, steps=4)
    assert curve["budget"].max() == pytest.approx(40e6)  # saturation: every need's best option
    assert curve["gap_closed"].is_monotonic_increasing


def test_curve_points_at_scale_are_greedy_plans_with_an_honest_flag(monkeypatch):
    """No solve for a curve point at scale: the same curve on any machine; a point is flagged optimal
    only when the bound proves it within the curve's gap, and a zero budget is proven (nothing)."""
    monkeypatch.setattr(core, "CORE_MIN_CANDIDATES", 0)
    for c, caps, budget, best in solvable_cases(30, 11):
        cands = c.reset_index(drop=True)
        options = core.need_options(cands)
        relax = core.Relaxation(options, caps)
        called = []
        real = S.milp
        monkeypatch.setattr(S, "milp", lambda *a, **k: called.append(1) or real(*a, **k))
        sols = S.solve_budgets(cands, [0.0, budget], caps, 30, 5e-3, tie_break=False, node_limit=200,
                               core_solve=False)
        assert not called
        assert sols[0].optimal and not sols[0].chosen.any() and not sols[0].cohorts
        _, _, value = core.greedy(cands, options, budget, caps)
        upper, _ = relax.bound(budget)
        assert sols[1].optimal == (upper - value <= 5e-3 * upper + 1e-9 or upper - value <= 1e-9)
