"""The budgeted workshop plan: which training to fund so that the budget closes the most gap.

Options. Employees with a gap in a competency are grouped by gap cluster, region and
competency (employees outside the clustering form a "no cluster" group in their region): a
trainer teaches one competency to people of one region who share a gap profile. Each catalogue
programme for the competency gives the group its options:

- a classroom (klasikal) programme, or any programme that needs several participants at once
  (a benchmarking visit or internship whose minimum is above one), splits the group into the
  fewest balanced cohorts of at most min(programme maximum, ``workshops.max_cohort``) and at
  least the programme minimum. Each cohort is an option, so a budget can fund part of a group. A
  group below the minimum gets no such option. When the minimum is so close to the maximum that
  no balanced split exists (31 people, classes of 20 to 30), as many full cohorts as the minimum
  allows are formed, and the people with the smallest gaps are left to other options. Cohorts are
  filled in order of gap (largest first), so people at a similar level learn together.
- a non-classroom programme that one person can take alone (coaching, mentoring, e-learning...)
  is offered per person. Its cost is linear in the participants (see trainer-days below), so a
  small group costs exactly the sum of its members: per-person options lose nothing and let the
  budget fund part of a group.

Cost of an option = n x cost_per_participant + trainer-days x ``costs.trainer_day`` +
venue-days x ``costs.venue_day``, with days = ceil(JP / ``jp_per_day``). A classroom cohort has
a trainer and a venue on each of its days. Coaching, mentoring and on-the-job guidance take a
coach's time: by convention one coach-day serves a full group (the programme maximum), so each
participant accounts for days / max_participants trainer-days. Other non-classroom forms
(e-learning, distance learning, secondment, benchmarking, internship...) are delivered by a
platform or a host whose fee is the catalogue cost: no trainer-days, no venue.

Value. A programme is expected to close up to ``workshops.gain[mode]`` levels of a gap [U]; an
option's value is the sum over its participants of min(gap, gain): the gap levels it closes.

Choice. Fund the options that close the most gap with a total cost within the budget, each
employee x competency covered at most once (options of different programmes for the same people
are alternatives), and optionally each person within a JP cap (PPPK: at most 24 JP a contract
year, PP 49/2018 art. 40 [S]). This is a 0-1 knapsack with packing constraints, solved exactly
as a mixed-integer linear programme (``scipy.optimize.milp``, HiGHS, relative gap 0); among the
plans that close the most gap the cheapest is then taken (a second solve), so that no money is
spent for nothing. Why not greedy by gap closed per rupiah: on a knapsack, greedy can be
arbitrarily far from the optimum (a cheap option with a high ratio takes the money a large class
needed); the best of greedy and of the single best option is within 1/2 of the optimum for a
plain knapsack, but the exclusivity between alternative programmes breaks even that guarantee,
and the exact solution of a regional plan (a few hundred cohorts, thousands of per-person
options) takes about a second. Before solving, a per-person option that another option for the
same need beats on value, cost and JP is dropped: that cannot change the optimum.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from .codes import TRAINING_FORMS
from .params import Costs, Workshops

NEED_KEY = ["employee_id", "competency_code"]
GROUP_KEY = ["cluster", "region", "competency_code"]
# Forms that take a coach's time (trainer-days pro rata of a full group).
GUIDED_FORMS = ("coaching", "mentoring", "bimbingan_kerja")
# Why a need is left out of the plan.
REASONS = ("budget", "group_too_small", "no_programme")
NO_CLUSTER = "-"

_NEED_COLS = ["employee_id", "competency_code", "gap", "basis", "required_level", "level", "unit_id",
              "position_class", "job_family", "employment_type", "region", "competency_name_id",
              "competency_name_en", "kind", "cluster", "cluster_name_id", "cluster_name_en"]

OPTION_COLUMNS = [
    "option_id", "group_id", "cluster", "cluster_name_id", "cluster_name_en", "region", "competency_code",
    "competency_name_id", "competency_name_en", "program_id", "program_name", "provider", "mode", "form",
    "cohort", "n_cohorts", "participants", "n", "jp", "days", "trainer_days", "venue_days",
    "cost_per_participant", "cost_participants", "cost_trainers", "cost_venue", "cost", "value",
]


# --- needs and groups -------------------------------------------------------------------


def need_table(needs: pd.DataFrame) -> pd.DataFrame:
    """One row per employee x competency with its group.

    A promotion candidate may have a current-position row and a larger target-position row
    for the same competency: one programme serves both, so the larger gap is kept (on a tie,
    the current basis). ``group_id`` names the (region, cluster, competency) group.
    """
    n = needs.copy()
    for col in _NEED_COLS:
        if col not in n:
            n[col] = pd.NA
    n = n[_NEED_COLS].copy()
    n["cluster"] = n["cluster"].astype("Int64")
    n["_target"] = (n["basis"] != "current").astype(int)
    n = n.sort_values(["employee_id", "competency_code", "gap", "_target"],
                      ascending=[True, True, False, True], kind="stable")
    n = n.drop_duplicates(NEED_KEY).drop(columns="_target")
    n["group_id"] = group_ids(n)
    return n.reset_index(drop=True)


def group_ids(frame: pd.DataFrame) -> pd.Series:
    """'region/K<cluster>/competency', with '-' for people outside the clustering."""
    cl = frame["cluster"].astype("Int64")
    cl_txt = pd.Series(np.where(cl.isna(), NO_CLUSTER, "K" + cl.astype("string").fillna("")),
                       index=frame.index)
    return frame["region"].astype(str) + "/" + cl_txt + "/" + frame["competency_code"].astype(str)


def cohort_sizes(n: int, lo: int, hi: int) -> list[int]:
    """Sizes of the fewest balanced cohorts of lo..hi people that seat n people.

    Empty when n < lo. When no balanced split exists (lo close to hi), as many full
    cohorts of hi as the minimum allows: they seat fewer than n.
    """
    lo, hi = max(int(lo), 1), int(hi)
    if n < lo or hi < lo:
        return []
    k = math.ceil(n / hi)
    if n // k >= lo:
        base, extra = divmod(n, k)
        return [base + 1] * extra + [base] * (k - extra)
    return [hi] * (n // lo)


def _catalog(catalog: pd.DataFrame) -> pd.DataFrame:
    c = catalog.copy()
    if "provider" not in c:
        c["provider"] = None
    if "mode" not in c:
        c["mode"] = None
    c["mode"] = c["mode"].where(c["mode"].notna(), c["form"].map(TRAINING_FORMS))
    c["min_participants"] = pd.to_numeric(c["min_participants"], errors="coerce").fillna(1).clip(lower=1).astype(int)
    c["max_participants"] = pd.to_numeric(c["max_participants"], errors="coerce").fillna(10**6).astype(int)
    c["jp"] = c["jp"].astype(float)
    c["cost_per_participant"] = c["cost_per_participant"].astype(float)
    cols = ["program_id", "competency_code", "name", "mode", "form", "jp", "cost_per_participant",
            "min_participants", "max_participants", "provider"]
    return c[cols].sort_values("program_id", kind="stable").reset_index(drop=True)


def is_grouped(mode: str, min_participants: int) -> bool:
    """Does the programme run as cohorts (classroom, or needs several at once) or per person?"""
    return mode == "klasikal" or min_participants > 1


def option_costs(mode: str, form: str, n: int, jp: float, cost_per_participant: float, max_participants: int,
                 workshops: Workshops, costs: Costs) -> dict[str, float]:
    """Days, trainer-days, venue-days and cost lines of one option (see the module docstring)."""
    days = math.ceil(jp / workshops.jp_per_day - 1e-9) if jp > 0 else 0
    if mode == "klasikal":
        trainer_days, venue_days = float(days), float(days)
    elif form in GUIDED_FORMS:
        trainer_days, venue_days = days * n / max(max_participants, 1), 0.0
    else:
        trainer_days, venue_days = 0.0, 0.0
    c_part = n * cost_per_participant
    c_tr = trainer_days * costs.trainer_day
    c_ven = venue_days * costs.venue_day
    return {"days": days, "trainer_days": trainer_days, "venue_days": venue_days, "cost_participants": c_part,
            "cost_trainers": c_tr, "cost_venue": c_ven, "cost": c_part + c_tr + c_ven}


def candidate_workshops(needs: pd.DataFrame, catalog: pd.DataFrame, workshops: Workshops, costs: Costs,
                        jp_cap: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Every option the catalogue offers the groups of ``needs`` (columns: ``OPTION_COLUMNS``).

    ``participants`` lists employee ids (cohorts in order of gap). ``jp_cap`` (employee id ->
    most JP a year) keeps a person out of a programme longer than their cap.
    The table carries ``attrs["programmed"]``: the competencies the catalogue has programmes
    for, so that the plan can tell "no programme" from "group too small".
    """
    nt = need_table(needs)
    cat = _catalog(catalog)
    caps = dict(jp_cap or {})
    rows: list[dict] = []
    by_code = {code: progs for code, progs in cat.groupby("competency_code", sort=True)}
    basis_rank = (nt["basis"] != "current").astype(int)
    nt = nt.assign(_basis=basis_rank)
    for gid, members in nt.groupby("group_id", sort=True):
        code = members["competency_code"].iloc[0]
        if code not in by_code:
            continue
        first = members.iloc[0]
        head = {"group_id": gid, "cluster": first["cluster"], "cluster_name_id": first["cluster_name_id"],
                "cluster_name_en": first["cluster_name_en"], "region": first["region"], "competency_code": code,
                "competency_name_id": first["competency_name_id"], "competency_name_en": first["competency_name_en"]}
        for prog in by_code[code].itertuples(index=False):
            gain = workshops.gain[prog.mode]
            m = members.assign(_v=np.minimum(members["gap"].astype(float), gain))
            if caps:
                m = m[[caps.get(e, math.inf) >= prog.jp for e in m["employee_id"]]]
            if m.empty:
                continue
            m = m.sort_values(["_v", "_basis", "unit_id", "employee_id"], ascending=[False, True, True, True],
                              kind="stable", na_position="last")
            ids, vals = m["employee_id"].tolist(), m["_v"].to_numpy()
            p_head = {**head, "program_id": prog.program_id, "program_name": prog.name, "provider": prog.provider,
                      "mode": prog.mode, "form": prog.form, "jp": prog.jp,
                      "cost_per_participant": prog.cost_per_participant}
            if is_grouped(prog.mode, prog.min_participants):
                cap = min(prog.max_participants, workshops.max_cohort)
                sizes = cohort_sizes(len(ids), prog.min_participants, cap)
                chunks, start = [], 0
                for s in sizes:
                    chunks.append((ids[start:start + s], float(vals[start:start + s].sum())))
                    start += s
            else:
                chunks = [([e], float(v)) for e, v in zip(ids, vals)]
            for k, (who, value) in enumerate(chunks):
                rows.append({**p_head, "option_id": f"{prog.program_id}/{gid}/{k + 1:03d}", "cohort": k + 1,
                             "n_cohorts": len(chunks), "participants": list(who), "n": len(who), "value": value,
                             **option_costs(prog.mode, prog.form, len(who), prog.jp, prog.cost_per_participant,
                                            prog.max_participants, workshops, costs)})
    out = pd.DataFrame(rows, columns=OPTION_COLUMNS)
    out["cluster"] = out["cluster"].astype("Int64")
    for col in ("n", "cohort", "n_cohorts", "days"):
        out[col] = out[col].astype(int)
    out.attrs["programmed"] = sorted(cat["competency_code"].unique().tolist())
    return out


# --- the optimisation ---------------------------------------------------------------------


def _value_scale(values: np.ndarray) -> float:
    """A multiplier making every value an integer (HiGHS then rounds its bounds), else 1."""
    for d in (1, 2, 4, 10, 20, 100):
        if np.allclose(values * d, np.round(values * d), atol=1e-9, rtol=0):
            return float(d)
    return 1.0


def _dominated(cands: pd.DataFrame) -> np.ndarray:
    """Per-person options beaten (value >=, cost <=, JP <=) by another option for the same need."""
    out = np.zeros(len(cands), dtype=bool)
    single = cands.index[cands["n"] == 1]
    if not len(single):
        return out
    s = cands.loc[single, ["value", "cost", "jp", "option_id", "competency_code"]].copy()
    s["employee_id"] = [p[0] for p in cands.loc[single, "participants"]]
    s["_pos"] = [cands.index.get_loc(i) for i in single]
    s = s.sort_values(["employee_id", "competency_code", "value", "cost", "jp", "option_id"],
                      ascending=[True, True, False, True, True, True], kind="stable")
    for _, g in s.groupby(["employee_id", "competency_code"], sort=False):
        kept: list[tuple[float, float, float]] = []
        for v, c, j, pos in zip(g["value"], g["cost"], g["jp"], g["_pos"]):
            if any(kv >= v - 1e-12 and kc <= c + 1e-9 and kj <= j + 1e-12 for kv, kc, kj in kept):
                out[pos] = True
            else:
                kept.append((v, c, j))
    return out


@dataclass(frozen=True)
class _Solution:
    chosen: np.ndarray  # bool per candidate row
    optimal: bool
    status: str
    mip_gap: float


def _solve(cands: pd.DataFrame, budget: float, jp_cap: Mapping[str, float] | None,
           time_limit: float) -> _Solution:
    n_all = len(cands)
    chosen = np.zeros(n_all, dtype=bool)
    value = cands["value"].to_numpy(float)
    cost = cands["cost"].to_numpy(float)
    jp = cands["jp"].to_numpy(float)
    ok = (value > 0) & (cost <= budget + 1e-6)
    ok &= ~_dominated(cands)
    idx = np.flatnonzero(ok)
    if not len(idx):
        return _Solution(chosen, True, "nothing to fund", 0.0)
    sub = cands.iloc[idx]
    # incidence of options on needs (and on people, for JP caps)
    opt_rows, emp = [], []
    for i, who in enumerate(sub["participants"]):
        opt_rows.extend([i] * len(who))
        emp.extend(who)
    inc = pd.DataFrame({"opt": opt_rows, "employee_id": emp})
    inc["competency_code"] = sub["competency_code"].to_numpy()[inc["opt"].to_numpy()]
    need_code, _ = pd.factorize(pd.MultiIndex.from_frame(inc[["employee_id", "competency_code"]]))
    inc["need"] = need_code
    shared = inc.groupby("need")["opt"].transform("size") > 1
    pack = inc[shared]
    rows_needs, _ = pd.factorize(pack["need"])
    m = len(idx)
    blocks, lbs, ubs = [], [], []
    blocks.append(sparse.csr_matrix(cost[idx].reshape(1, -1)))
    lbs.append([-np.inf])
    ubs.append([budget])
    if len(pack):
        n_rows = int(rows_needs.max()) + 1
        blocks.append(sparse.csr_matrix((np.ones(len(pack)), (rows_needs, pack["opt"].to_numpy())), shape=(n_rows, m)))
        lbs.append(np.full(n_rows, -np.inf))
        ubs.append(np.ones(n_rows))
    if jp_cap:
        capped = inc[inc["employee_id"].isin(list(jp_cap))].copy()
        capped["jp"] = jp[idx][capped["opt"].to_numpy()]
        capped["cap"] = capped["employee_id"].map(jp_cap).astype(float)
        tot = capped.groupby("employee_id")["jp"].transform("sum")
        capped = capped[tot > capped["cap"] + 1e-9]
        if len(capped):
            r, people = pd.factorize(capped["employee_id"])
            blocks.append(sparse.csr_matrix((capped["jp"].to_numpy(), (r, capped["opt"].to_numpy())),
                                            shape=(len(people), m)))
            lbs.append(np.full(len(people), -np.inf))
            ubs.append(capped.groupby("employee_id", sort=False)["cap"].first().reindex(people).to_numpy())
    A = sparse.vstack(blocks, format="csr")
    lb, ub = np.concatenate(lbs), np.concatenate(ubs)
    scale = _value_scale(value[idx])
    v = np.round(value[idx] * scale, 9)
    opts = {"mip_rel_gap": 0.0, "time_limit": time_limit, "presolve": True}
    res = milp(-v, constraints=LinearConstraint(A, lb, ub), integrality=np.ones(m), bounds=Bounds(0, 1),
               options=opts)
    if res.x is None:
        return _Solution(chosen, False, res.message, float("nan"))
    x1 = res.x > 0.5
    best = float(v @ x1)
    optimal = res.status == 0
    gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
    # Among the plans closing as much gap, the cheapest (scale costs to millions for the solver).
    c2 = cost[idx] / 1e6
    tol = 1e-6 if scale > 1 or np.allclose(v, np.round(v)) else 1e-9 * max(1.0, best)
    A2 = sparse.vstack([A, sparse.csr_matrix(v.reshape(1, -1))], format="csr")
    res2 = milp(c2, constraints=LinearConstraint(A2, np.append(lb, best - tol), np.append(ub, np.inf)),
                integrality=np.ones(m), bounds=Bounds(0, 1),
                options={"mip_rel_gap": 1e-9, "time_limit": time_limit, "presolve": True})
    x = x1
    if res2.x is not None:
        x2 = res2.x > 0.5
        if float(v @ x2) >= best - tol and float(cost[idx] @ x2) <= float(cost[idx] @ x1) + 1e-6:
            x = x2
    chosen[idx[x]] = True
    return _Solution(chosen, optimal, res.message, gap)


# --- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class WorkshopPlan:
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
        }


def _coverage(candidates: pd.DataFrame, chosen: np.ndarray, needs: pd.DataFrame | None) -> pd.DataFrame:
    inc = candidates[["option_id", "mode", "competency_code", "participants"]].assign(_chosen=chosen)
    inc = inc.explode("participants").rename(columns={"participants": "employee_id"})
    inc = inc[inc["employee_id"].notna()]
    per_need = inc.groupby(NEED_KEY).agg(n_options=("option_id", "size"),
                                         classroom_available=("mode", lambda s: bool((s == "klasikal").any())))
    funded = inc[inc["_chosen"]].drop_duplicates(NEED_KEY).set_index(NEED_KEY)["option_id"]
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
        cov = cov.sort_values(NEED_KEY, kind="stable").reset_index(drop=True)
    key = pd.MultiIndex.from_frame(cov[NEED_KEY])
    cov["option_id"] = funded.reindex(key).to_numpy()
    cov["option_id"] = cov["option_id"].astype("object").where(cov["option_id"].notna(), None)
    cov["n_options"] = per_need["n_options"].reindex(key).fillna(0).astype(int).to_numpy()
    cov["classroom_available"] = per_need["classroom_available"].reindex(key).fillna(False).astype(bool).to_numpy()
    programmed = set(candidates.attrs.get("programmed", candidates["competency_code"].unique()))
    reason = np.select([cov["option_id"].notna(), cov["n_options"] > 0, cov["competency_code"].isin(programmed)],
                       [None, "budget", "group_too_small"], "no_programme").astype(object)
    reason[cov["option_id"].notna().to_numpy()] = None
    cov["reason"] = reason
    return cov


def plan_workshops(candidates: pd.DataFrame, budget: float, needs: pd.DataFrame | None = None, *,
                   jp_cap: Mapping[str, float] | None = None, time_limit: float = 60.0) -> WorkshopPlan:
    """The options to fund: most gap closed within ``budget``, then the cheapest such plan.

    ``needs`` (the training needs the candidates were built from) makes ``left_out`` complete:
    without it only needs that had an option are known. ``jp_cap`` (employee id -> most JP a
    year) bounds each capped person's funded JP. Exact (HiGHS, relative gap 0) unless the time
    limit stops the solver first, which ``optimal`` says.
    """
    cands = candidates.reset_index(drop=True)
    if len(cands):
        sol = _solve(cands, float(budget), jp_cap, time_limit)
    else:
        sol = _Solution(np.zeros(0, dtype=bool), True, "no candidates", 0.0)
    selected = cands[sol.chosen].reset_index(drop=True)
    selected.attrs = {}
    cov = _coverage(cands, sol.chosen, needs)
    left = cov[cov["option_id"].isna()].drop(columns="option_id").reset_index(drop=True)
    people = len({e for who in selected["participants"] for e in who})
    return WorkshopPlan(
        budget=float(budget), selected=selected, coverage=cov, left_out=left,
        cost=float(selected["cost"].sum()), value=float(selected["value"].sum()), people=int(people),
        jp=float((selected["n"] * selected["jp"]).sum()), n_candidates=len(cands), optimal=sol.optimal,
        solver_status=str(sol.status), needs_given=needs is not None, extra={"mip_gap": sol.mip_gap})


def pppk_jp_cap(needs: pd.DataFrame, max_jp: float = 24.0) -> dict[str, float]:
    """JP caps for PPPK employees (PP 49/2018 art. 40: at most 24 JP a contract year [S])."""
    p = needs.loc[needs["employment_type"] == "PPPK", "employee_id"].drop_duplicates()
    return {e: float(max_jp) for e in sorted(p)}


def budget_curve(candidates: pd.DataFrame, budgets: Iterable[float] | None = None, *,
                 budget: float | None = None, steps: int = 15,
                 jp_cap: Mapping[str, float] | None = None, time_limit: float = 60.0) -> pd.DataFrame:
    """Gap closed, people reached and cost used at each budget (one exact solve per budget).

    Default budgets: 0 up to the cost of the best plan without a budget limit (beyond it the
    curve is flat: every need with an option is covered), in ``steps`` steps rounded up to the
    million, plus ``budget`` (the params budget) if given.
    """
    if budgets is None:
        full = plan_workshops(candidates, float(candidates["cost"].sum()) + 1.0, jp_cap=jp_cap,
                              time_limit=time_limit)
        top = full.cost
        points = [math.ceil(top * i / steps / 1e6) * 1e6 for i in range(steps + 1)]
        if budget is not None:
            points.append(float(budget))
        budgets = points
    rows = []
    for b in sorted(set(float(x) for x in budgets)):
        p = plan_workshops(candidates, b, jp_cap=jp_cap, time_limit=time_limit)
        rows.append({"budget": b, "cost": p.cost, "gap_closed": p.value, "people_reached": p.people,
                     "needs_covered": int(p.coverage["option_id"].notna().sum()),
                     "options_funded": len(p.selected), "participant_jp": p.jp, "optimal": p.optimal,
                     "is_params_budget": budget is not None and b == float(budget)})
    return pd.DataFrame(rows)
