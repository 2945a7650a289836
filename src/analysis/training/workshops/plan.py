"""The workshop plan of a budget: what is funded, who is reached and who is left out, and the budget
curve (gap closed as the budget grows)."""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.core.results import Results
from analysis.training.workshops import core
from analysis.training.workshops.options import (
    NEED_COLUMNS,
    NEED_KEY,
    OPTION_COLUMNS,
    REASONS,
    cohort_options,
    need_table,
)
from analysis.training.workshops.solve import CAPPED_REL_GAP, Solution, solve, solve_budgets

# --- the plan -----------------------------------------------------------------------------

CURVE_NODES = 200  # branch-and-bound nodes per budget-curve point (a deterministic bound on the work)
CURVE_WORKERS = 4  # processes solving the curve's points at once (at most the machine's cores)


CLASSROOM_COLUMNS = ["option_id", "region", "cluster", "cluster_name_id", "cluster_name_en", "competency_code",
                     "competency_name_id", "competency_name_en", "program_id", "program_name", "provider", "form",
                     "cohort", "n", "jp", "days", "trainer_days", "cost", "value"]


@dataclass(frozen=True, eq=False)
class WorkshopPlan(Results):
    """The funded options of a budget and what they reach.

    ``coverage`` has one row per employee x competency need: the funded ``option_id`` (or
    none), how many options the need had, whether a classroom cohort was open to it, and for
    needs left out the ``reason``: "budget" (an option existed but was not funded),
    "group_too_small" (no cohort could form and no programme is open to one person), or
    "no_programme" (the catalogue has nothing for the competency).
    """

    budget: float
    selected: pd.DataFrame
    coverage: pd.DataFrame
    left_out: pd.DataFrame
    cost: float
    value: float
    people: int
    jp: float  # participant-JP: sum over funded options of n x JP
    n_candidates: int
    optimal: bool
    solver_status: str
    needs_given: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def remaining(self) -> float:
        return self.budget - self.cost

    def summary(self) -> str:
        d = self.to_dict()
        head = (f"Workshop plan within Rp {self.budget:,.0f}: cost Rp {self.cost:,.0f}, {d['people_reached']:,} people,"
                f" {d['gap_closed']:.1f} gap levels closed (optimal: {self.optimal})")
        return f"{head}\n{self.to_frame().to_string(index=False)}"

    def classroom(self) -> pd.DataFrame:
        """The funded classroom cohorts, one row each, without the participants (circulated)."""
        sel = self.selected
        return sel[sel["mode"] == "klasikal"].drop(columns="participants")

    def classroom_table(self) -> pd.DataFrame:
        """The classroom cohorts as circulated: where, what, how many, days, cost and gap closed."""
        classroom = self.classroom()
        return classroom[[c for c in CLASSROOM_COLUMNS if c in classroom]]

    def nonclassroom_counts(self) -> pd.DataFrame:
        """Non-classroom places by region, form and competency: counts only, since a place can be one
        person."""
        other = self.selected[self.selected["mode"] != "klasikal"]
        return (other.groupby(["region", "form", "competency_code"], dropna=False)
                .agg(n=("n", "sum"), cost=("cost", "sum"), value=("value", "sum")).reset_index())

    def left_out_counts(self) -> pd.DataFrame:
        """Needs left out, by reason and region."""
        return self.left_out.groupby(["reason", "region"]).size().rename("n").reset_index()

    def roster(self) -> pd.DataFrame:
        """One row per funded participant: option, employee, competency (the ids as given)."""
        cols = ["option_id", "program_id", "mode", "form", "region", "cluster", "competency_code", "jp"]
        r = self.selected[cols + ["participants"]].explode("participants").rename(
            columns={"participants": "employee_id"})
        return r.reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """The funded options, one row each (without the participant lists)."""
        return self.selected.drop(columns="participants").reset_index(drop=True)

    def to_dict(self) -> dict:
        s = self.selected
        reasons = self.left_out["reason"].value_counts()
        return {
            "budget": float(self.budget), "cost": float(self.cost), "remaining": float(self.remaining),
            "gap_closed": float(self.value), "people_reached": int(self.people), "participant_jp": float(self.jp),
            "options_funded": int(len(s)),
            "classroom_cohorts": int((s["mode"] == "klasikal").sum()),
            "nonclassroom_options": int((s["mode"] != "klasikal").sum()),
            "funded_by_form": {str(k): int(v) for k, v in s["form"].value_counts().sort_index().items()},
            "candidates": int(self.n_candidates),
            "needs": int(len(self.coverage)), "needs_covered": int(self.coverage["option_id"].notna().sum()),
            "left_out": {r: int(reasons.get(r, 0)) for r in REASONS},
            "left_out_complete": bool(self.needs_given),
            "optimal": bool(self.optimal), "solver_status": str(self.solver_status),
            "mip_gap": float(self.extra.get("mip_gap", 0.0) or 0.0),
        }


def _coverage(candidates: pd.DataFrame, selected: pd.DataFrame, needs: pd.DataFrame | None,
              programmed: set) -> pd.DataFrame:
    inc = candidates[["option_id", "mode", "competency_code", "participants"]]
    inc = inc.explode("participants").rename(columns={"participants": "employee_id"})
    inc = inc[inc["employee_id"].notna()]
    inc["_class"] = inc["mode"] == "klasikal"
    per_need = inc.groupby(NEED_KEY).agg(n_options=("option_id", "size"), classroom_available=("_class", "max"))
    funded = (selected[["option_id", "competency_code", "participants"]].explode("participants")
              .rename(columns={"participants": "employee_id"}).drop_duplicates(NEED_KEY)
              .set_index(NEED_KEY)["option_id"])
    if needs is not None:
        cov = need_table(needs)
    else:
        first = candidates.drop_duplicates("group_id").set_index("group_id")
        cov = inc[NEED_KEY].drop_duplicates().reset_index(drop=True)
        grp = candidates[["option_id", "group_id"]].set_index("option_id")["group_id"]
        gid = inc.drop_duplicates(NEED_KEY).set_index(NEED_KEY)["option_id"].map(grp)
        cov["group_id"] = gid.reindex(pd.MultiIndex.from_frame(cov[NEED_KEY])).to_numpy()
        for c in ("region", "cluster", "cluster_name_id", "cluster_name_en", "competency_name_id",
                  "competency_name_en"):
            cov[c] = cov["group_id"].map(first[c]).to_numpy()
        for c in NEED_COLUMNS:
            if c not in cov:
                cov[c] = pd.NA
        cov["cluster"] = cov["cluster"].astype("Int64")
        cov = cov[[*NEED_COLUMNS, "group_id"]].sort_values(NEED_KEY, kind="stable").reset_index(drop=True)
    key = pd.MultiIndex.from_frame(cov[NEED_KEY])
    cov["option_id"] = funded.reindex(key).to_numpy()
    cov["option_id"] = cov["option_id"].astype("object").where(cov["option_id"].notna(), None)
    cov["n_options"] = per_need["n_options"].reindex(key).fillna(0).astype(int).to_numpy()
    cov["classroom_available"] = per_need["classroom_available"].reindex(key).fillna(False).astype(bool).to_numpy()
    reason = np.where(cov["n_options"] > 0, "budget",
                      np.where(cov["competency_code"].isin(programmed), "group_too_small", "no_programme"))
    cov["reason"] = pd.Series(reason, index=cov.index, dtype="object").where(cov["option_id"].isna(), None)
    return cov


def _selected(cands: pd.DataFrame, sol: Solution) -> pd.DataFrame:
    """The funded options in candidate order: per-person options as they are, each funded offer as
    the cohorts the plan cut from it."""
    rows: list[dict] = []
    funded = sorted(set(np.flatnonzero(sol.chosen).tolist()) | set(sol.cohorts))
    records = cands.iloc[funded].to_dict("records") if funded else []
    for i, row in zip(funded, records):
        if i in sol.cohorts:
            rows.extend(cohort_options(row, sol.cohorts[i]))
        else:
            rows.append({c: row[c] for c in OPTION_COLUMNS})
    out = pd.DataFrame(rows, columns=OPTION_COLUMNS)
    out["cluster"] = out["cluster"].astype("Int64")
    for col in ("n", "cohort", "n_cohorts", "days"):
        out[col] = out[col].astype(int)
    return out


def plan_workshops(candidates: pd.DataFrame, budget: float, needs: pd.DataFrame | None = None, *,
                   jp_cap: Mapping[str, float] | None = None, time_limit: float = 60.0,
                   rel_gap: float = 0.0, tie_break: bool = True) -> WorkshopPlan:
    """The options to fund: most gap closed within ``budget``, then the cheapest such plan.

    ``needs`` (the training needs the candidates were built from) makes ``left_out`` complete:
    without it only needs that had an option are known. ``jp_cap`` (employee id -> most JP a
    year) bounds each capped person's funded JP. Exact (HiGHS, relative gap 0; under JP caps
    within 0.01% of the optimum, ``solve.CAPPED_REL_GAP``) unless the time limit stops the solver
    first, which ``optimal`` says; ``mip_gap`` is the gap proven.
    """
    cands, programmed = prepared_candidates(candidates)
    if len(cands):
        sol = solve(cands, float(budget), jp_cap, time_limit, rel_gap, tie_break)
    else:
        sol = Solution(np.zeros(0, dtype=bool), True, "no candidates", 0.0)
    return plan_from_solution(cands, float(budget), sol, needs, programmed)


def prepared_candidates(candidates: pd.DataFrame) -> tuple[pd.DataFrame, set]:
    """The candidates numbered 0..n-1 as the solvers take them, and the competencies with a programme."""
    programmed = set(candidates.attrs.get("programmed", candidates["competency_code"].unique()))
    cands = candidates.reset_index(drop=True)
    cands.attrs = {}  # pandas deep-copies attrs on every operation
    return cands, programmed


def plan_from_solution(cands: pd.DataFrame, budget: float, sol: Solution, needs: pd.DataFrame | None,
                       programmed: set) -> WorkshopPlan:
    """The plan a solution funds (``cands`` indexed 0..n-1, as the solution's positions): its options,
    coverage and who is left out, and its figures."""
    selected = _selected(cands, sol)
    cov = _coverage(cands, selected, needs, programmed)
    left = cov[cov["option_id"].isna()].drop(columns="option_id").reset_index(drop=True)
    people = len({e for who in selected["participants"] for e in who})
    return WorkshopPlan(
        budget=float(budget), selected=selected, coverage=cov, left_out=left,
        cost=float(selected["cost"].sum()), value=float(selected["value"].sum()), people=int(people),
        jp=float((selected["n"] * selected["jp"]).sum()), n_candidates=len(cands), optimal=sol.optimal,
        solver_status=str(sol.status), needs_given=needs is not None, extra={"mip_gap": sol.mip_gap})


def budget_curve(candidates: pd.DataFrame, budgets: Iterable[float] | None = None, *,
                 budget: float | None = None, steps: int = 12,
                 jp_cap: Mapping[str, float] | None = None, time_limit: float = 60.0,
                 rel_gap: float = 5e-3, node_limit: int = CURVE_NODES,
                 plan: WorkshopPlan | None = None) -> pd.DataFrame:
    """Gap closed, people reached and cost used at each budget (one plan per budget).

    A curve is for seeing how the gap closed grows with money, so each point is solved to
    within ``rel_gap`` (0.5%) of its optimum, without the cheapest-plan tie-break and with at most
    ``node_limit`` branch-and-bound nodes per point (under PPPK JP caps a point can take minutes to
    prove; a count of nodes, unlike a time limit, gives the same curve on any machine); ``optimal``
    says which points are proven within that gap. With many candidates (``core.CORE_MIN_CANDIDATES``)
    a point is the greedy plan, never a solve with a time guard, and ``optimal`` says whether the bound
    proves it within ``rel_gap``. The plan itself (``plan_workshops``) is solved
    exactly.

    The point at ``budget`` (the params budget) is the plan itself, solved as ``plan_workshops``
    solves it (pass the ``plan`` when it is at hand, to spare the solve), so that the curve and the
    plan agree there.

    Default budgets: 0 up to the cost of the best plan without a budget limit (beyond it the
    curve is flat: every need with an option is covered) or four times ``budget`` (the params
    budget) if that is less, in ``steps`` steps rounded up to the million, plus ``budget``. With
    many candidates (``core.CORE_MIN_CANDIDATES``) the best plan without a limit is not solved: what
    every need's best option costs stands for it (``core.saturation_cost``).
    """
    if budgets is None:
        cands0, programmed0 = prepared_candidates(candidates)
        if len(cands0) >= core.CORE_MIN_CANDIDATES:
            saturation = core.saturation_cost(core.need_options(cands0))
        elif budget and saturation_beyond(cands0, 4 * float(budget), jp_cap, rel_gap):
            saturation = math.inf  # proven above four times the budget: no solve needed to know the range
        else:
            saturation = plan_from_solution(cands0, float(candidates["cost"].sum()) + 1.0,
                               solve_budgets(cands0, [float(candidates["cost"].sum()) + 1.0], jp_cap, time_limit,
                                             rel_gap, tie_break=False, node_limit=node_limit)[0], None,
                               programmed0).cost
        # up to saturation, or four times the params budget when that comes first: the
        # decision is about budgets near the one in params
        top = min(saturation, 4 * float(budget)) if budget else saturation
        points = [math.ceil(top * i / steps / 1e6) * 1e6 for i in range(steps + 1)]
        if budget is not None:
            points.append(float(budget))
        budgets = points
    rows = []
    points = sorted(set(float(x) for x in budgets))
    cands, programmed = prepared_candidates(candidates)
    at_plan = float(budget) if budget is not None and float(budget) in points else None
    others = [b for b in points if b != at_plan]
    # one model for every point (only the budget row changes between solves)
    sols = (_solve_points(cands, others, jp_cap, time_limit, rel_gap, node_limit) if len(cands) and others
            else [Solution(np.zeros(0, dtype=bool), True, "no candidates", 0.0) for _ in others])
    found = dict(zip(others, sols))
    for b in points:
        if b == at_plan:
            p = plan if plan is not None and plan.budget == b else plan_workshops(candidates, b, jp_cap=jp_cap,
                                                                                   time_limit=time_limit)
            point = {"cost": p.cost, "gap_closed": p.value, "people_reached": p.people,
                     "needs_covered": int(p.coverage["option_id"].notna().sum()), "options_funded": len(p.selected),
                     "participant_jp": p.jp, "optimal": p.optimal}
        else:
            point = curve_point(cands, found[b])
        rows.append({"budget": b, **point, "is_params_budget": budget is not None and b == float(budget)})
    return pd.DataFrame(rows)


def saturation_beyond(cands: pd.DataFrame, top: float, jp_cap: Mapping[str, float] | None,
                       rel_gap: float) -> bool:
    """Whether the plan that solving without a budget limit gives (within ``rel_gap`` of the most any plan
    closes) certainly costs more than ``top``, so that the curve stops at ``top`` without that solve
    (on the sample it was one of the curve's longest).

    The bound (``core.Relaxation``) at ``top`` is at least what any plan within ``top`` closes, and the
    greedy plan without a limit at most what the best plan closes. If the bound is below the greedy's
    value less ``rel_gap``, no plan within ``top`` closes what a plan within ``rel_gap`` of the best does.
    When this cannot be shown (the bound is loose, or saturation is near) the solve decides, as before.

    The solve's plan is within its gap when the solve ends by proving it, as it does at the default node
    and time limits on the cases measured (the sample, the tests' random cases). A solve stopped by its
    limits first returns whatever plan it had, which depends on the machine; there the range this gives is
    the one a solve that finishes would give. Under JP caps the solve's gap is at least
    ``solve.CAPPED_REL_GAP``, and HiGHS also stops within 1e-6 in absolute terms: both are allowed for."""
    options = core.need_options(cands)
    if not len(options.value):
        return False
    upper, _ = core.Relaxation(options, jp_cap).bound(float(top))
    _, _, unlimited = core.greedy(cands, options, math.inf, jp_cap)
    gap = max(rel_gap, CAPPED_REL_GAP) if jp_cap else rel_gap
    return upper < (1.0 - gap) * unlimited - 1e-6


def curve_point(cands: pd.DataFrame, sol: Solution) -> dict:
    """A curve point's figures, equal to those of the plan ``plan_from_solution`` would build from ``sol``, without
    building its tables: the plan's coverage lays out every candidate's participants, which at 100,000
    employees was most of the curve's time. Sums are taken over the funded options in the plan's
    order, as the plan takes them, so the figures are the same to the last bit."""
    funded = sorted(set(np.flatnonzero(sol.chosen).tolist()) | set(sol.cohorts))
    participants, values = cands["participants"], cands["values"]
    code, cost, value, jp, size = (cands[c].to_numpy() for c in ("competency_code", "cost", "value", "jp", "n"))
    costs, gains, sizes, jps = [], [], [], []
    people, needs = set(), set()
    for i in funded:
        if i in sol.cohorts:
            value_of = dict(zip(participants.iat[i], values.iat[i]))
            fixed, seat = cands["cohort_lines"].iat[i]["cost"], cands["seat_lines"].iat[i]["cost"]
            groups = sol.cohorts[i]
            for who in groups:
                costs.append(fixed + len(who) * seat)
                gains.append(float(sum(value_of[e] for e in who)))
                sizes.append(len(who))
        else:
            groups = [participants.iat[i]]
            costs.append(cost[i])
            gains.append(value[i])
            sizes.append(int(size[i]))  # the plan takes a per-person option's n from its row
        for who in groups:
            jps.append(jp[i])
            people.update(who)
            # the plan's coverage counts only needs of a known person
            needs.update((e, code[i]) for e in who if not pd.isna(e))
    n = pd.Series(sizes, dtype="int64")
    return {"cost": float(pd.Series(costs, dtype=float).sum()),
            "gap_closed": float(pd.Series(gains, dtype=float).sum()), "people_reached": len(people),
            "needs_covered": len(needs), "options_funded": len(costs),
            "participant_jp": float((n * pd.Series(jps, dtype=float)).sum()), "optimal": sol.optimal}


def _solve_points(cands: pd.DataFrame, points: list[float], jp_cap, time_limit: float, rel_gap: float,
                  node_limit: int) -> list[Solution]:
    """The curve's points, shared among the machine's cores (each worker builds the model once for its
    points; the points are independent, so the curve is the same with one worker or several).

    With many candidates (``core.CORE_MIN_CANDIDATES``) every point is a greedy plan of a few seconds,
    solved here: a worker would hold its own copy of the candidates (1.3 GB each at 100,000 employees,
    which was most of the run's peak memory) for little time saved while the other notebooks use the
    other cores."""
    workers = min(len(points), max(os.cpu_count() or 1, 1), CURVE_WORKERS)
    if len(cands) >= core.CORE_MIN_CANDIDATES:
        workers = 1
    if workers < 2:
        return solve_budgets(cands, points, jp_cap, time_limit, rel_gap, tie_break=False, node_limit=node_limit,
                             core_solve=False)
    chunks = [points[i::workers] for i in range(workers)]
    # fork where there is one: spawned workers would re-import the caller's main module (a script)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method)) as pool:
        parts = list(pool.map(_solve_chunk, [(cands, c, jp_cap, time_limit, rel_gap, node_limit) for c in chunks]))
    found = {b: sol for chunk, part in zip(chunks, parts) for b, sol in zip(chunk, part)}
    return [found[b] for b in points]


def _solve_chunk(args) -> list[Solution]:
    cands, points, jp_cap, time_limit, rel_gap, node_limit = args
    return solve_budgets(cands, points, jp_cap, time_limit, rel_gap, tie_break=False, node_limit=node_limit,
                         core_solve=False)


def marginal_gain(curve: pd.DataFrame, budget: float) -> float | None:
    """Gap levels closed by each extra Rp 1 billion just above ``budget`` (from the budget curve)."""
    above = curve[curve["budget"] > budget].sort_values("budget")
    at = curve[curve["budget"] == budget]
    if above.empty or at.empty:
        return None
    nxt = above.iloc[0]
    return float((nxt["gap_closed"] - at["gap_closed"].iloc[0]) / (nxt["budget"] - budget) * 1e9)
