"""The exact choice within a budget, as a mixed-integer linear programme (``scipy.optimize.milp``,
HiGHS): which per-person options to fund, and for each cohort programme how many cohorts to open and
whom to seat (a fixed charge per cohort, a cost per seat, cohorts of ``min_cohort``..``max_cohort``),
each need covered at most once; with a cost tie-break and, under JP caps, cheaper swaps of equal value.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from analysis.training.workshops import core
from analysis.training.workshops.options import split_cohorts


@contextlib.contextmanager
def quiet_stdout():
    """Silence HiGHS: it can print solver diagnostics straight to file descriptor 1 (C ``printf``, not
    through Python), which would land in the terminal of `workbench run` and in the notebooks. Inside
    a Jupyter kernel ``sys.stdout.fileno()`` is a copy of the original stdout while descriptor 1 is a
    pipe the kernel forwards to the notebook, so both are silenced."""
    try:
        fds = {1, sys.stdout.fileno()}
    except (AttributeError, OSError, ValueError):  # no real stdout (some notebook front ends)
        fds = {1}
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = {}
    for fd in sorted(fds):
        try:
            saved[fd] = os.dup(fd)
        except OSError:  # a descriptor that is not open (a daemon without stdout): nothing to silence
            pass
    try:
        for fd in saved:
            os.dup2(devnull, fd)
        yield
    finally:
        sys.stdout.flush()
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)


# --- the optimisation ---------------------------------------------------------------------


def _value_scale(values: np.ndarray) -> float:
    """A multiplier making every value an integer (HiGHS then rounds its bounds), else 1."""
    for d in (1, 2, 4, 10, 20, 100):
        if np.allclose(values * d, np.round(values * d), atol=1e-9, rtol=0):
            return float(d)
    return 1.0


def _dominated(single: pd.DataFrame, capped: set) -> np.ndarray:
    """Per-person options beaten by another option for the same need: value >= and cost <=
    (and JP <= for a person under a JP cap). Dropping them cannot change the optimum."""
    s = single.sort_values(["employee_id", "competency_code", "value", "cost", "jp", "option_id"],
                           ascending=[True, True, False, True, True, True], kind="stable")
    key = pd.Series([f"{e}\t{c}" for e, c in zip(s["employee_id"], s["competency_code"])], index=s.index,
                    dtype=object)
    k = key.to_numpy()
    prior_min = s["cost"].groupby(k, sort=False).cummin().groupby(k, sort=False).shift()
    out = pd.Series(prior_min.to_numpy() <= s["cost"].to_numpy() + 1e-9, index=s.index)
    is_capped = s["employee_id"].isin(capped)
    if is_capped.any():  # JP matters too: pairwise check (few options per need)
        out[is_capped] = False
        for _, g in s[is_capped].groupby(key[is_capped].to_numpy(), sort=False):
            kept: list[tuple[float, float, float]] = []
            for i, v, c, j in zip(g.index, g["value"], g["cost"], g["jp"]):
                if any(kv >= v - 1e-12 and kc <= c + 1e-9 and kj <= j + 1e-12 for kv, kc, kj in kept):
                    out[i] = True
                else:
                    kept.append((v, c, j))
    return out.reindex(single.index).to_numpy()


TIE_BREAK_SECONDS = 20.0  # the joint solve of gap and cost; beyond it, gap first then swaps
CAPPED_REL_GAP = 1e-4  # the relative optimality gap of a plan under JP caps (0 without them)


@dataclass(frozen=True)
class Solution:
    chosen: np.ndarray  # bool per candidate row: the per-person options funded
    optimal: bool
    status: str
    mip_gap: float
    # per funded offer (candidate row position): its cohorts, each a list of employee ids in gap order
    cohorts: dict[int, list[list]] = field(default_factory=dict)


def _cheaper_swaps(z: np.ndarray, var_person: np.ndarray, var_class: np.ndarray, is_y: np.ndarray,
                   value: np.ndarray, cost: np.ndarray, jp: np.ndarray, caps: dict[str, float]) -> np.ndarray:
    """Move each capped person to the cheapest per-person option of no less value that their
    JP cap allows (a capped person is a class of one, so their variables are their own)."""
    z = z.copy()
    used: dict[str, float] = {}
    for i in np.flatnonzero((z > 0.5) & pd.Series(var_person).isin(caps).to_numpy()):
        used[var_person[i]] = used.get(var_person[i], 0.0) + jp[i] * z[i]
    capped_y = np.flatnonzero(is_y & pd.Series(var_person).isin(caps).to_numpy())
    for c in np.unique(var_class[capped_y]):
        idx = capped_y[var_class[capped_y] == c]
        on = [i for i in idx if z[i] > 0.5]
        if not on:
            continue
        cur, e = on[0], var_person[on[0]]
        best = cur
        for i in sorted(idx, key=lambda k: (cost[k], k)):
            if (value[i] >= value[cur] - 1e-12 and cost[i] < cost[best] - 1e-9
                    and used[e] - jp[cur] + jp[i] <= caps[e] + 1e-9):
                best = i
                break
        if best != cur:
            z[cur], z[best] = 0.0, 1.0
            used[e] += jp[best] - jp[cur]
    return z


def _binding_caps(cands: pd.DataFrame, ok: np.ndarray, jp_cap: Mapping[str, float] | None) -> dict[str, float]:
    """The JP caps that can bind: a person whose longest option per need sums above their cap."""
    caps = {k: float(v) for k, v in (jp_cap or {}).items()}
    if not caps:
        return caps
    who = cands.loc[ok, ["competency_code", "jp", "participants"]].explode("participants")
    who = who[who["participants"].isin(caps)]
    most = who.groupby(["participants", "competency_code"])["jp"].max().groupby(level=0).sum()
    return {e: caps[e] for e, jp in most.items() if jp > caps[e] + 1e-9}


def solve(cands: pd.DataFrame, budget: float, jp_cap: Mapping[str, float] | None,
          time_limit: float, rel_gap: float = 0.0, tie_break: bool = True) -> Solution:
    """The plan at one budget (see ``solve_budgets``)."""
    return solve_budgets(cands, [budget], jp_cap, time_limit, rel_gap, tie_break)[0]


def solve_budgets(cands: pd.DataFrame, budgets: list[float], jp_cap: Mapping[str, float] | None,
                  time_limit: float, rel_gap: float = 0.0, tie_break: bool = True,
                  node_limit: int | None = None, core_solve: bool = True) -> list[Solution]:
    """Exact MILP over per-person options and cohort offers; interchangeable people are counted.

    One model serves every budget (only the budget row changes). ``node_limit`` bounds the
    branch-and-bound work by a count, not by the clock, so that a run on a busy machine gives the
    same plan as on an idle one (a time limit stays as a guard).

    People of a group with the same options and the same value under each (same gap, same
    per-person programmes, costs and JP) form a class. The model counts how many of a class get
    each per-person option and how many take a seat in each cohort offer (integers up to the class
    size), and how many cohorts each offer opens: seats between ``min_cohort`` and ``max_cohort``
    times the cohorts, a fixed charge per cohort (trainer and venue days) and a price per seat. Any
    counts can be handed to distinct people of a class, so the aggregation is exact: cohort size is
    a decision, not fixed in advance, and the model stays about one variable per class and option.
    People under a JP cap are classes of one.
    """
    if len(cands) >= core.CORE_MIN_CANDIDATES:
        return _solve_on_cores(cands, budgets, jp_cap, time_limit, rel_gap, tie_break, node_limit, core_solve)
    return _solve_whole(cands, budgets, jp_cap, time_limit, rel_gap, tie_break, node_limit)


def _solve_on_cores(cands: pd.DataFrame, budgets: list[float], jp_cap: Mapping[str, float] | None,
                    time_limit: float, rel_gap: float, tie_break: bool, node_limit: int | None,
                    core_solve: bool = True) -> list[Solution]:
    """Each budget on its core (``core``), with the gap to the bound on every plan reported. Without
    ``core_solve`` the greedy plan is taken whatever its gap (``optimal`` says whether it is within
    ``rel_gap``): no solve with a time guard, so the result is the same on any machine."""
    options = core.need_options(cands)
    bound = core.Relaxation(options, jp_cap)
    tolerance = max(rel_gap, CAPPED_REL_GAP) if jp_cap else rel_gap
    inputs = core.greedy_inputs(cands, options)  # the same for every budget
    out = []
    for budget in budgets:
        upper, _ = bound.bound(float(budget))
        taken, greedy_cohorts, value = core.greedy(cands, options, float(budget), jp_cap, inputs)
        gap = _gap(upper, value)
        if gap <= tolerance + 1e-12 or not core_solve:  # proven close enough, or all a curve point may spend
            out.append(Solution(taken, gap <= tolerance + 1e-12, f"Options by gap closed per rupiah, within {gap:.3%} "
                                                                "of the bound on every plan", gap, greedy_cohorts))
            continue
        keep = core.core_options(options, float(budget))
        if keep.all():
            out += _solve_whole(cands, [budget], jp_cap, time_limit, rel_gap, tie_break, node_limit)
            continue
        part, where = core.core_candidates(cands, options, keep)
        sol = _solve_whole(part, [budget], jp_cap, time_limit, rel_gap, tie_break, node_limit)[0]
        found = _value_of(part, sol)
        if found < value:  # the greedy plan is better than what the solver reached in its time
            out.append(Solution(taken, False, f"Options by gap closed per rupiah (the solver reached less: "
                                              f"{sol.status}), within {gap:.3%} of the bound on every plan",
                                gap, greedy_cohorts))
            continue
        chosen = np.zeros(len(cands), dtype=bool)
        chosen[where[sol.chosen]] = True
        cohorts = {int(where[k]): v for k, v in sol.cohorts.items()}
        gap = _gap(upper, found)
        status = (f"{sol.status} On the {len(part):,} candidates of the core ({len(cands):,} in all); "
                  f"within {gap:.3%} of the bound on every plan")
        out.append(Solution(chosen, bool(gap <= tolerance + 1e-12), status, gap, cohorts))
    return out


def _gap(upper: float, value: float) -> float:
    """Relative gap of a plan's value to the bound (0 when they agree to rounding, e.g. both nothing)."""
    return (upper - value) / upper if upper - value > 1e-9 and upper > 0 else 0.0


def _value_of(cands: pd.DataFrame, sol: Solution) -> float:
    """Gap closed by a solution: its per-person options and the seats of its cohorts."""
    value = float(cands["value"].to_numpy(float)[sol.chosen].sum())
    for pos, groups in sol.cohorts.items():
        of = dict(zip(cands["participants"].iat[pos], cands["values"].iat[pos]))
        value += sum(float(of[e]) for g in groups for e in g)
    return value


def _solve_whole(cands: pd.DataFrame, budgets: list[float], jp_cap: Mapping[str, float] | None,
                 time_limit: float, rel_gap: float, tie_break: bool, node_limit: int | None) -> list[Solution]:
    """The exact programme over every candidate (``solve_budgets``)."""
    n_all = len(cands)
    order = sorted(range(len(budgets)), key=lambda i: budgets[i])
    budget = float(max(budgets))
    nothing = [Solution(np.zeros(n_all, dtype=bool), True, "nothing to fund", 0.0) for _ in budgets]
    value = cands["value"].to_numpy(float)
    cost = cands["cost"].to_numpy(float)
    grouped = cands["grouped"].to_numpy(bool)
    lo = cands["min_cohort"].to_numpy(int)
    seat_cost = np.array([d["cost"] for d in cands["seat_lines"]], dtype=float)
    cohort_cost = np.array([d["cost"] for d in cands["cohort_lines"]], dtype=float)
    # an offer is open if one smallest cohort fits the budget; an option if it does
    ok = np.where(grouped, lo * seat_cost + cohort_cost, cost) <= budget + 1e-6
    ok &= value > 0
    caps = _binding_caps(cands, ok, jp_cap)
    single = cands.loc[ok & ~grouped, ["option_id", "group_id", "competency_code", "program_id", "value",
                                       "cost", "jp"]].copy()
    single["employee_id"] = [p[0] for p in cands.loc[single.index, "participants"]]
    if len(single):
        single = single[~_dominated(single, set(caps))]
    offer_pos = np.flatnonzero(ok & grouped)
    if not len(offer_pos) and not len(single):
        return nothing

    # every (need, choice): per-person items and seats in offers, with the value each closes
    single["item"] = pd.Series([f"{p}|{v!r}|{c!r}|{j!r}" for p, v, c, j in zip(
        single["program_id"], single["value"], single["cost"], single["jp"])], index=single.index, dtype=object)
    single["_need"] = [f"{e}\t{c}" for e, c in zip(single["employee_id"], single["competency_code"])]
    seats = cands.iloc[offer_pos][["group_id", "competency_code", "participants", "values"]].assign(
        _offer=np.arange(len(offer_pos))).explode(["participants", "values"])
    seats = seats.rename(columns={"participants": "employee_id", "values": "value"})
    seats = seats[seats["value"].astype(float) > 0]
    seats["item"] = [f"@{o}|{float(v)!r}" for o, v in zip(seats["_offer"], seats["value"])]
    seats["_need"] = [f"{e}\t{c}" for e, c in zip(seats["employee_id"], seats["competency_code"])]
    choices = pd.concat([single[["_need", "group_id", "employee_id", "item"]],
                         seats[["_need", "group_id", "employee_id", "item"]]], ignore_index=True)
    choices = choices.sort_values(["_need", "item"], kind="stable")
    need_cls = choices.groupby("_need", sort=True).agg(group_id=("group_id", "first"),
                                                       employee_id=("employee_id", "first"),
                                                       sig=("item", "#".join))
    need_cls["cls"] = need_cls["group_id"] + "#" + need_cls["sig"]
    capped_need = need_cls["employee_id"].isin(caps)
    need_cls.loc[capped_need, "cls"] = "@" + need_cls.index[capped_need]  # a class of one
    cls_ids, cls_names = pd.factorize(need_cls["cls"], sort=True)
    need_cls["cls_id"] = cls_ids
    cls_size = np.bincount(cls_ids, minlength=len(cls_names))
    cls_person = need_cls.drop_duplicates("cls_id").set_index("cls_id")["employee_id"].reindex(
        range(len(cls_names))).to_numpy()

    # variables: y (class, per-person item), s (class, offer seats), k (cohorts per offer)
    single["cls_id"] = need_cls["cls_id"].reindex(single["_need"]).to_numpy()
    yvars = single.drop_duplicates(["cls_id", "item"]).sort_values(["cls_id", "item"], kind="stable")
    seats["cls_id"] = need_cls["cls_id"].reindex(seats["_need"]).to_numpy()
    svars = seats.drop_duplicates(["cls_id", "_offer"]).sort_values(["_offer", "cls_id"], kind="stable")
    n_y, n_s, n_k = len(yvars), len(svars), len(offer_pos)
    m = n_y + n_s + n_k
    s0, k0 = n_y, n_y + n_s
    offers = cands.iloc[offer_pos]
    hi = offers["max_cohort"].to_numpy(int)
    n_open = offers["participants"].map(len).to_numpy(int)
    s_offer = svars["_offer"].to_numpy(int)
    obj_v = np.concatenate([yvars["value"].to_numpy(float), svars["value"].to_numpy(float), np.zeros(n_k)])
    obj_c = np.concatenate([yvars["cost"].to_numpy(float), seat_cost[offer_pos][s_offer],
                            cohort_cost[offer_pos]])
    jp_all = np.concatenate([yvars["jp"].to_numpy(float), offers["jp"].to_numpy(float)[s_offer], np.zeros(n_k)])
    var_class = np.concatenate([yvars["cls_id"].to_numpy(int), svars["cls_id"].to_numpy(int),
                                np.full(n_k, -1)])
    var_person = np.concatenate([cls_person[var_class[:k0]], np.full(n_k, None)]).astype(object)
    ub = np.concatenate([cls_size[var_class[:k0]], n_open // np.maximum(lo[offer_pos], 1)]).astype(float)

    blocks: list[sparse.csr_matrix] = [sparse.csr_matrix(obj_c.reshape(1, -1) / 1e6)]
    lbs, ubs = [np.array([-np.inf])], [np.array([(budget + 1e-3) / 1e6])]
    # class rows: per-person options given + seats taken <= class size
    nc = len(cls_names)
    blocks.append(sparse.csr_matrix((np.ones(k0), (var_class[:k0], np.arange(k0))), shape=(nc, m)))
    lbs.append(np.full(nc, -np.inf))
    ubs.append(cls_size.astype(float))
    # offer rows: min_cohort x cohorts <= seats <= max_cohort x cohorts
    if n_k:
        rows = np.concatenate([s_offer, np.arange(n_k)])
        cols = np.concatenate([s0 + np.arange(n_s), k0 + np.arange(n_k)])
        blocks.append(sparse.csr_matrix((np.r_[np.ones(n_s), -hi.astype(float)], (rows, cols)), shape=(n_k, m)))
        blocks.append(sparse.csr_matrix((np.r_[-np.ones(n_s), lo[offer_pos].astype(float)], (rows, cols)),
                                        shape=(n_k, m)))
        lbs += [np.full(n_k, -np.inf)] * 2
        ubs += [np.zeros(n_k)] * 2
        # seats of one class <= min(class size, max_cohort) x cohorts: implied by the rows above for
        # integers, but it makes the LP relaxation charge a cohort for every class it seats, which
        # is what lets HiGHS prove optimality quickly
        cap_s = np.minimum(ub[s0:k0], hi[s_offer])
        rows = np.r_[np.arange(n_s), np.arange(n_s)]
        cols = np.r_[s0 + np.arange(n_s), k0 + s_offer]
        blocks.append(sparse.csr_matrix((np.r_[np.ones(n_s), -cap_s], (rows, cols)), shape=(n_s, m)))
        lbs.append(np.full(n_s, -np.inf))
        ubs.append(np.zeros(n_s))
    # JP caps (capped people are classes of one): one row per capped person, the JP of their options
    # within their cap. Tighter formulations (each capped person choosing one "bundle" of options that
    # fits) make HiGHS slower on this model, not faster: 34 s against 3 s for the sample's plan
    # (benchmarks/results/profile_100k.md)
    if caps:
        people = sorted(caps)
        row_of = pd.Series(np.arange(len(people)), index=people)
        on = np.flatnonzero(pd.Series(var_person).isin(row_of.index).to_numpy() & (var_class >= 0))
        rows = row_of.reindex(var_person[on]).to_numpy()
        blocks.append(sparse.csr_matrix((jp_all[on], (rows, on)), shape=(len(people), m)))
        lbs.append(np.full(len(people), -np.inf))
        ubs.append(np.array([caps[p] for p in people], dtype=float))
    A = sparse.vstack(blocks, format="csr")
    lb, ubr = np.concatenate(lbs), np.concatenate(ubs)
    # Most gap closed first, then the cheapest. Values are made integers and a tie-break of
    # less than half a unit in total (cost / largest possible cost) is added, so no saving can
    # outweigh one unit of gap closed: one solve gives both. Under JP caps that tie-break makes
    # HiGHS far slower, so there the gap closed is solved alone (exact) and the money is saved by
    # swapping capped people to cheaper per-person options of the same value; likewise if the
    # tie-break solve runs out of time.
    scale = _value_scale(obj_v)
    unit = 1.0 if scale > 1 or np.allclose(obj_v, np.round(obj_v)) else 1e-6
    v = np.round(obj_v * scale, 9)
    eps = 0.5 * unit / (float(obj_c @ ub) + 1.0)
    # Under JP caps, proving the last hundredth of a percent can take HiGHS minutes: the plan is
    # then solved to within CAPPED_REL_GAP of its optimum (0.01%: under one gap level in 10,000),
    # which the plan reports with the gap reached
    exact_gap = max(rel_gap, CAPPED_REL_GAP) if caps else rel_gap
    model = _Model(A, lb, ubr, ub)
    hand_out = _HandOut(cands, offer_pos, yvars, svars, single, need_cls)
    out: list[Solution | None] = [None] * len(budgets)
    for i in order:
        model.set_budget((float(budgets[i]) + 1e-3) / 1e6)
        z, status, optimal, gap = None, "", False, float("nan")
        if tie_break and not caps:
            z, status, optimal, gap = model.run(-v + eps * obj_c, min(time_limit, TIE_BREAK_SECONDS), rel_gap,
                                                node_limit)
        if z is None or not optimal:
            z, status, optimal, gap = model.run(-v, time_limit, exact_gap, node_limit)
            if z is None:
                out[i] = Solution(np.zeros(n_all, dtype=bool), False, status, float("nan"))
                continue
            if caps:
                z = _cheaper_swaps(z, var_person, var_class, np.arange(m) < s0, obj_v, obj_c, jp_all, caps)
        chosen, cohorts = hand_out(z)
        out[i] = Solution(chosen, optimal, status, gap, cohorts)
    return out


class _Model:
    """The model, built once; each run sets the budget row (row 0) and the objective.

    Solved by SciPy's ``milp`` (HiGHS). highspy's own interface would allow starting each budget
    from the plan of the one below, but on this model its HiGHS 1.16 overran a 5 s time limit
    sevenfold and ended further from the optimum than SciPy's HiGHS within the limit (JP-capped
    sample, benchmarks of 2026-12-01), so the plainer interface is kept.
    """

    def __init__(self, a: sparse.csr_matrix, row_lo: np.ndarray, row_hi: np.ndarray, col_hi: np.ndarray):
        self.a, self.row_lo, self.row_hi = a, row_lo, row_hi.copy()
        self.bounds = Bounds(0, col_hi)
        self.n = a.shape[1]

    def set_budget(self, upper: float) -> None:
        self.row_hi[0] = upper

    def run(self, objective: np.ndarray, time_limit: float, rel_gap: float, node_limit: int | None = None):
        """(rounded solution or None, status text, proven within the gap, MIP gap)."""
        options = {"mip_rel_gap": rel_gap, "time_limit": time_limit, "presolve": True}
        if node_limit is not None:
            options["node_limit"] = int(node_limit)
        with quiet_stdout():
            res = milp(objective, constraints=LinearConstraint(self.a, self.row_lo, self.row_hi),
                       integrality=np.ones(self.n), bounds=self.bounds, options=options)
        if res.x is None:
            return None, res.message, False, float("nan")
        return np.round(res.x), res.message, res.status == 0, float(getattr(res, "mip_gap", 0.0) or 0.0)


class _HandOut:
    """Counts to people: each class's members in turn, seats first, then per-person options; each
    offer's seated people cut into its fewest balanced cohorts (the cohort count the solver chose is
    never fewer; more would only cost more). The lookups are built once per model."""

    def __init__(self, cands: pd.DataFrame, offer_pos: np.ndarray, yvars: pd.DataFrame, svars: pd.DataFrame,
                 single: pd.DataFrame, need_cls: pd.DataFrame):
        self.n_all, self.offer_pos = len(cands), offer_pos
        self.members = {c: list(g.index) for c, g in need_cls.sort_index().groupby("cls_id", sort=False)}
        self.s_pairs = list(svars[["_offer", "cls_id"]].itertuples(index=False, name=None))
        self.y_pairs = list(yvars[["cls_id", "item"]].itertuples(index=False, name=None))
        pos = pd.Series(np.arange(len(cands)), index=cands.index)
        self.row_of = {(nd, it): int(pos[i]) for nd, it, i in zip(single["_need"], single["item"], single.index)}
        self.offers = {o: (cands.iloc[p]["participants"], int(cands.iloc[p]["max_cohort"]))
                       for o, p in enumerate(offer_pos)}

    def __call__(self, z: np.ndarray) -> tuple[np.ndarray, dict]:
        n_y, n_s = len(self.y_pairs), len(self.s_pairs)
        chosen = np.zeros(self.n_all, dtype=bool)
        taken: dict[int, int] = {}

        def take(c: int, k: int) -> list:
            start = taken.get(c, 0)
            taken[c] = start + k
            return self.members[c][start:start + k]

        seated: dict[int, set] = {}
        for (o, c), k in zip(self.s_pairs, z[n_y:n_y + n_s].astype(int)):
            if k > 0:
                seated.setdefault(o, set()).update(nd.split("\t")[0] for nd in take(c, k))
        for (c, item), k in zip(self.y_pairs, z[:n_y].astype(int)):
            for nd in take(c, k) if k > 0 else []:
                chosen[self.row_of[(nd, item)]] = True
        cohorts = {}
        for o, who in sorted(seated.items()):
            participants, hi = self.offers[o]
            cohorts[int(self.offer_pos[o])] = split_cohorts([e for e in participants if e in who], hi)
        return chosen, cohorts
