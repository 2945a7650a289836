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

Value. A programme is expected to close up to ``workshops.gain_for(form, mode)`` levels of a gap [U]; an
option's value is the sum over its participants of min(gap, gain): the gap levels it closes.

Choice. Fund the options that close the most gap with a total cost within the budget, each
employee x competency covered at most once (options of different programmes for the same people
are alternatives), and optionally each person within a JP cap (PPPK: at most 24 JP a contract
year, PP 49/2018 art. 40 [S]). This is a 0-1 knapsack with packing constraints, solved exactly
as a mixed-integer linear programme (``scipy.optimize.milp``, HiGHS, relative gap 0). Among the
plans that close the most gap the cheapest is taken, so that no money is spent for nothing: a
cost tie-break worth less than half a unit of gap in total is part of the objective (under JP
caps, where that makes the solver far slower, the gap is solved alone and capped people are then
moved to cheaper options of the same value).

Why not greedy by gap closed per rupiah: on a knapsack, greedy can be arbitrarily far from the
optimum (a cheap option with a high ratio takes the money a large class needed); the best of
greedy and of the single best option is within 1/2 of the optimum for a plain knapsack, but the
exclusivity between alternative programmes breaks even that guarantee. On the sample region
(6,000 employees, 15,757 options) greedy closes 3% less gap than the optimum at 5 bn IDR. And the
exact solution takes about a second, because per-person options that are interchangeable
are counted rather than decided one by one (see ``_solve``), and a per-person option that
another option for the same need beats on value, cost (and JP, under a cap) is dropped first:
neither changes the optimum.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from analysis.core.codes import TRAINING_FORMS
from analysis.core.params import Costs, Workshops

NEED_KEY = ["employee_id", "competency_code"]
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



@contextlib.contextmanager
def _quiet_stdout():
    """Silence HiGHS: it can print solver diagnostics straight to file descriptor 1 (not through
    Python), which would land in the terminal of `workbench run` and in notebook logs."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no real stdout (some notebook front ends)
        fd = 1
    sys.stdout.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)

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


def catalog_table(catalog: pd.DataFrame) -> pd.DataFrame:
    """The training catalogue with defaults filled: provider, delivery mode, participant limits."""
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
    cat = catalog_table(catalog)
    caps = dict(jp_cap or {})
    rows: list[dict] = []
    progs_of = {code: list(g.itertuples(index=False)) for code, g in cat.groupby("competency_code", sort=True)}
    # one order for every cohort: largest gap first, current position before target, by unit
    nt = nt.assign(_basis=(nt["basis"] != "current").astype(int))
    nt = nt.sort_values(["group_id", "gap", "_basis", "unit_id", "employee_id"],
                        ascending=[True, False, True, True, True], kind="stable", na_position="last")
    gids = nt["group_id"].to_numpy()
    ids_all = nt["employee_id"].to_numpy()
    gaps_all = nt["gap"].to_numpy(float)
    bounds = np.flatnonzero(np.r_[True, gids[1:] != gids[:-1], True])
    head_cols = ["cluster", "cluster_name_id", "cluster_name_en", "region", "competency_code",
                 "competency_name_id", "competency_name_en"]
    heads = nt[head_cols].to_dict("records")
    for a, b in zip(bounds[:-1], bounds[1:]):
        head = {**heads[a], "group_id": gids[a]}
        progs = progs_of.get(head["competency_code"])
        if not progs:
            continue
        for prog in progs:
            gain = workshops.gain_for(prog.form, prog.mode)
            ids, gaps = ids_all[a:b], gaps_all[a:b]
            if caps:
                keep = np.array([caps.get(e, math.inf) >= prog.jp for e in ids], dtype=bool)
                ids, gaps = ids[keep], gaps[keep]
            if not len(ids):
                continue
            vals = np.minimum(gaps, gain)
            p_head = {**head, "program_id": prog.program_id, "program_name": prog.name, "provider": prog.provider,
                      "mode": prog.mode, "form": prog.form, "jp": prog.jp,
                      "cost_per_participant": prog.cost_per_participant}
            if is_grouped(prog.mode, prog.min_participants):
                cap = min(prog.max_participants, workshops.max_cohort)
                chunks, start = [], 0
                for size in cohort_sizes(len(ids), prog.min_participants, cap):
                    chunks.append((ids[start:start + size].tolist(), float(vals[start:start + size].sum())))
                    start += size
            else:
                chunks = [([e], float(v)) for e, v in zip(ids.tolist(), vals)]
            one = {}
            for k, (who, value) in enumerate(chunks):
                n = len(who)
                if n not in one:
                    one[n] = option_costs(prog.mode, prog.form, n, prog.jp, prog.cost_per_participant,
                                          prog.max_participants, workshops, costs)
                rows.append({**p_head, "option_id": f"{prog.program_id}/{head['group_id']}/{k + 1:03d}",
                             "cohort": k + 1, "n_cohorts": len(chunks), "participants": who, "n": n,
                             "value": value, **one[n]})
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


def _cheaper_swaps(z: np.ndarray, n_x: int, yvars: pd.DataFrame, value: np.ndarray, cost: np.ndarray,
                   jp: np.ndarray, mem: pd.DataFrame, caps: dict[str, float]) -> np.ndarray:
    """Move each capped person to the cheapest per-person option of no less value that their
    JP cap allows (their options are variables of their own: classes of one)."""
    z = z.copy()
    used: dict[str, float] = {}
    for j, e in zip(mem["opt"], mem["employee_id"]):
        if e in caps and z[j] > 0.5:
            used[e] = used.get(e, 0.0) + jp[j]
    yv = yvars.assign(_var=n_x + np.arange(len(yvars)))
    yv = yv[yv["employee_id"].isin(caps)]
    for _, g in yv.groupby("cls_id", sort=True):
        idx = g["_var"].to_numpy()
        for i in idx:
            if z[i] > 0.5:
                used[g["employee_id"].iloc[0]] = used.get(g["employee_id"].iloc[0], 0.0) + jp[i]
    for _, g in yv.groupby("cls_id", sort=True):
        idx = g["_var"].to_numpy()
        on = [i for i in idx if z[i] > 0.5]
        if not on:
            continue
        cur, e = on[0], g["employee_id"].iloc[0]
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


@dataclass(frozen=True)
class _Solution:
    chosen: np.ndarray  # bool per candidate row
    optimal: bool
    status: str
    mip_gap: float


def _solve(cands: pd.DataFrame, budget: float, jp_cap: Mapping[str, float] | None,
           time_limit: float, rel_gap: float = 0.0, tie_break: bool = True) -> _Solution:
    """Exact MILP; per-person options that are interchangeable are aggregated.

    People of a group who have the same per-person options (same programme, value, cost and
    JP) form a class; the model counts how many of a class get each option (an integer up to
    the class size) instead of deciding person by person. A class row keeps the count within
    the people of the class not seated in a funded cohort; cohorts that share people exclude
    each other person by person. Any counts can be handed to distinct people of the class, so
    the aggregation is exact and the model shrinks from thousands of binaries to about one
    variable per cohort and per group. People under a JP cap keep their own variables.
    """
    n_all = len(cands)
    chosen = np.zeros(n_all, dtype=bool)
    caps = {k: float(v) for k, v in (jp_cap or {}).items()}
    value = cands["value"].to_numpy(float)
    cost = cands["cost"].to_numpy(float)
    size = cands["n"].to_numpy(int)
    ok = (value > 0) & (cost <= budget + 1e-6)
    multi_pos = np.flatnonzero(ok & (size > 1))
    single = cands.loc[ok & (size == 1), ["option_id", "group_id", "competency_code", "program_id", "value",
                                           "cost", "jp"]].copy()
    single["employee_id"] = [p[0] for p in cands.loc[single.index, "participants"]]
    if caps:  # a cap binds only if the person could exceed it: one option per need, the longest
        who = cands.loc[ok, ["competency_code", "jp", "participants"]].explode("participants")
        who = who[who["participants"].isin(caps)]
        most = who.groupby(["participants", "competency_code"])["jp"].max().groupby(level=0).sum()
        caps = {e: caps[e] for e, jp in most.items() if jp > caps[e] + 1e-9}
    if len(single):
        single = single[~_dominated(single, set(caps))]
    if not len(multi_pos) and not len(single):
        return _Solution(chosen, True, "nothing to fund", 0.0)

    # classes of interchangeable people (per group and set of per-person options)
    single["item"] = pd.Series([f"{p}|{v!r}|{c!r}|{j!r}" for p, v, c, j in zip(
        single["program_id"], single["value"], single["cost"], single["jp"])], index=single.index, dtype=object)
    single = single.sort_values(["employee_id", "competency_code", "item"], kind="stable")
    need_of = pd.Series([f"{e}\t{c}" for e, c in zip(single["employee_id"], single["competency_code"])],
                        index=single.index, dtype=object)
    sig = single.groupby(need_of.to_numpy(), sort=False)["item"].agg("#".join)
    need_cls = sig.rename("sig").to_frame()
    meta = single.assign(_need=need_of.to_numpy()).drop_duplicates("_need").set_index("_need")
    need_cls["group_id"] = meta["group_id"].reindex(need_cls.index)
    need_cls["employee_id"] = meta["employee_id"].reindex(need_cls.index)
    capped_need = need_cls["employee_id"].isin(caps)
    need_cls["cls"] = need_cls["group_id"] + "#" + need_cls["sig"]
    need_cls.loc[capped_need, "cls"] = "@" + need_cls.index[capped_need]  # a class of one
    cls_ids, cls_names = pd.factorize(need_cls["cls"], sort=True)
    need_cls["cls_id"] = cls_ids
    cls_size = np.bincount(cls_ids, minlength=len(cls_names))
    # y variables: (class, item)
    single["_need"] = need_of.to_numpy()
    single["cls_id"] = need_cls["cls_id"].reindex(single["_need"]).to_numpy()
    yvars = single.drop_duplicates(["cls_id", "item"]).sort_values(["cls_id", "item"], kind="stable")
    yvars = yvars.reset_index().rename(columns={"index": "cand_row"})
    n_x, n_y = len(multi_pos), len(yvars)
    m = n_x + n_y
    obj_v = np.concatenate([value[multi_pos], yvars["value"].to_numpy(float)])
    obj_c = np.concatenate([cost[multi_pos], yvars["cost"].to_numpy(float)])
    jp_all = np.concatenate([cands["jp"].to_numpy(float)[multi_pos], yvars["jp"].to_numpy(float)])
    ub = np.concatenate([np.ones(n_x), cls_size[yvars["cls_id"].to_numpy()]]).astype(float)

    # membership of multi-person options
    mem_opt, mem_emp = [], []
    for j, who in enumerate(cands["participants"].to_numpy()[multi_pos]):
        mem_opt.extend([j] * len(who))
        mem_emp.extend(who)
    mem = pd.DataFrame({"opt": np.asarray(mem_opt, dtype=int), "employee_id": mem_emp})
    codes_multi = cands["competency_code"].to_numpy()[multi_pos]
    mem["_need"] = pd.Series([f"{e}\t{codes_multi[j]}" for e, j in zip(mem["employee_id"], mem["opt"])],
                             index=mem.index, dtype=object)

    blocks: list[sparse.csr_matrix] = [sparse.csr_matrix(obj_c.reshape(1, -1) / 1e6)]
    lbs, ubs = [np.array([-np.inf])], [np.array([(budget + 1e-3) / 1e6])]
    # cohorts sharing a person exclude each other
    shared = mem[mem.groupby("_need")["opt"].transform("size") > 1]
    if len(shared):
        r, _ = pd.factorize(shared["_need"])
        blocks.append(sparse.csr_matrix((np.ones(len(shared)), (r, shared["opt"].to_numpy())), shape=(r.max() + 1, m)))
        lbs.append(np.full(r.max() + 1, -np.inf))
        ubs.append(np.ones(r.max() + 1))
    # class rows: counts given + people of the class seated in funded cohorts <= class size
    in_cls = mem.assign(cls_id=need_cls["cls_id"].reindex(mem["_need"]).to_numpy())
    in_cls = in_cls[in_cls["cls_id"].notna()]
    cnt = in_cls.groupby(["cls_id", "opt"]).size().reset_index(name="k")
    rows_c = np.concatenate([cnt["cls_id"].to_numpy(int), yvars["cls_id"].to_numpy(int)])
    cols_c = np.concatenate([cnt["opt"].to_numpy(int), n_x + np.arange(n_y)])
    vals_c = np.concatenate([cnt["k"].to_numpy(float), np.ones(n_y)])
    nc = len(cls_names)
    blocks.append(sparse.csr_matrix((vals_c, (rows_c, cols_c)), shape=(nc, m)))
    lbs.append(np.full(nc, -np.inf))
    ubs.append(cls_size.astype(float))
    # JP caps
    if caps:
        cm = mem[mem["employee_id"].isin(caps)][["opt", "employee_id"]]
        cy = yvars[yvars["employee_id"].isin(caps)][["employee_id"]].assign(opt=n_x + np.flatnonzero(
            yvars["employee_id"].isin(caps).to_numpy()))
        both = pd.concat([cm, cy], ignore_index=True)
        if len(both):
            both["jp"] = jp_all[both["opt"].to_numpy()]
            both["cap"] = both["employee_id"].map(caps)
            both = both[both.groupby("employee_id")["jp"].transform("sum") > both["cap"] + 1e-9]
        if len(both):
            r, people = pd.factorize(both["employee_id"], sort=True)
            blocks.append(sparse.csr_matrix((both["jp"].to_numpy(), (r, both["opt"].to_numpy())),
                                            shape=(len(people), m)))
            lbs.append(np.full(len(people), -np.inf))
            ubs.append(np.array([caps[e] for e in people]))
    A = sparse.vstack(blocks, format="csr")
    lb, ubr = np.concatenate(lbs), np.concatenate(ubs)
    # Most gap closed first, then the cheapest. Values are made integers and a tie-break of
    # less than half a unit in total (cost / total cost) is added, so no saving can outweigh one
    # unit of gap closed: one solve gives both. Under JP caps that tie-break makes HiGHS far
    # slower, so there the gap closed is solved alone (exact) and the money is saved by
    # swapping capped people to cheaper per-person options of the same value; likewise if the
    # tie-break solve runs out of time.
    scale = _value_scale(obj_v)
    unit = 1.0 if scale > 1 or np.allclose(obj_v, np.round(obj_v)) else 1e-6
    v = np.round(obj_v * scale, 9)
    eps = 0.5 * unit / (float(obj_c.sum()) + 1.0)
    cons = LinearConstraint(A, lb, ubr)

    def run(objective, limit):
        with _quiet_stdout():
            return milp(objective, constraints=cons, integrality=np.ones(m), bounds=Bounds(0, ub),
                        options={"mip_rel_gap": rel_gap, "time_limit": limit, "presolve": True})

    res = run(-v + eps * obj_c, min(time_limit, TIE_BREAK_SECONDS)) if (tie_break and not caps) else None
    if res is None or res.status != 0 or res.x is None:
        res = run(-v, time_limit)
        if res.x is None:
            return _Solution(chosen, False, res.message, float("nan"))
        z = np.round(res.x)
        if caps:
            z = _cheaper_swaps(z, n_x, yvars, obj_v, obj_c, jp_all, mem, caps)
    else:
        z = np.round(res.x)
    optimal = res.status == 0
    gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
    # hand the counts to people
    xs = z[:n_x] > 0.5
    chosen[multi_pos[xs]] = True
    seated = set(mem.loc[xs[mem["opt"].to_numpy()], "_need"])
    counts = z[n_x:].astype(int)
    pos_of = {(nd, it): i for nd, it, i in zip(single["_need"], single["item"], single.index)}
    members = need_cls.reset_index(names="_need").sort_values(["cls_id", "_need"], kind="stable")
    free = {c: [nd for nd in g["_need"] if nd not in seated] for c, g in members.groupby("cls_id", sort=False)}
    taken: dict[int, int] = {}
    for (c, item), k in zip(yvars[["cls_id", "item"]].itertuples(index=False, name=None), counts):
        if k <= 0:
            continue
        start = taken.get(c, 0)
        for nd in free[c][start:start + k]:
            chosen[cands.index.get_loc(pos_of[(nd, item)])] = True
        taken[c] = start + k
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


def _coverage(candidates: pd.DataFrame, chosen: np.ndarray, needs: pd.DataFrame | None,
              programmed: set) -> pd.DataFrame:
    inc = candidates[["option_id", "mode", "competency_code", "participants"]].assign(_chosen=chosen)
    inc = inc.explode("participants").rename(columns={"participants": "employee_id"})
    inc = inc[inc["employee_id"].notna()]
    inc["_class"] = inc["mode"] == "klasikal"
    per_need = inc.groupby(NEED_KEY).agg(n_options=("option_id", "size"), classroom_available=("_class", "max"))
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
        for c in _NEED_COLS:
            if c not in cov:
                cov[c] = pd.NA
        cov["cluster"] = cov["cluster"].astype("Int64")
        cov = cov[[*_NEED_COLS, "group_id"]].sort_values(NEED_KEY, kind="stable").reset_index(drop=True)
    key = pd.MultiIndex.from_frame(cov[NEED_KEY])
    cov["option_id"] = funded.reindex(key).to_numpy()
    cov["option_id"] = cov["option_id"].astype("object").where(cov["option_id"].notna(), None)
    cov["n_options"] = per_need["n_options"].reindex(key).fillna(0).astype(int).to_numpy()
    cov["classroom_available"] = per_need["classroom_available"].reindex(key).fillna(False).astype(bool).to_numpy()
    reason = np.where(cov["n_options"] > 0, "budget",
                      np.where(cov["competency_code"].isin(programmed), "group_too_small", "no_programme"))
    cov["reason"] = pd.Series(reason, index=cov.index, dtype="object").where(cov["option_id"].isna(), None)
    return cov


def plan_workshops(candidates: pd.DataFrame, budget: float, needs: pd.DataFrame | None = None, *,
                   jp_cap: Mapping[str, float] | None = None, time_limit: float = 60.0,
                   rel_gap: float = 0.0, tie_break: bool = True) -> WorkshopPlan:
    """The options to fund: most gap closed within ``budget``, then the cheapest such plan.

    ``needs`` (the training needs the candidates were built from) makes ``left_out`` complete:
    without it only needs that had an option are known. ``jp_cap`` (employee id -> most JP a
    year) bounds each capped person's funded JP. Exact (HiGHS, relative gap 0) unless the time
    limit stops the solver first, which ``optimal`` says.
    """
    programmed = set(candidates.attrs.get("programmed", candidates["competency_code"].unique()))
    cands = candidates.reset_index(drop=True)
    cands.attrs = {}  # pandas deep-copies attrs on every operation
    if len(cands):
        sol = _solve(cands, float(budget), jp_cap, time_limit, rel_gap, tie_break)
    else:
        sol = _Solution(np.zeros(0, dtype=bool), True, "no candidates", 0.0)
    selected = cands[sol.chosen].reset_index(drop=True)
    selected.attrs = {}
    cov = _coverage(cands, sol.chosen, needs, programmed)
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
                 jp_cap: Mapping[str, float] | None = None, time_limit: float = 10.0,
                 rel_gap: float = 1e-3) -> pd.DataFrame:
    """Gap closed, people reached and cost used at each budget (one MILP solve per budget).

    A curve is for seeing how the gap closed grows with money, so each point is solved to
    within ``rel_gap`` (0.1%) of its optimum, without the cheapest-plan tie-break and with a
    time limit per point; ``optimal`` says which points are proven within that gap. The plan
    itself (``plan_workshops``) is solved exactly.

    Default budgets: 0 up to the cost of the best plan without a budget limit (beyond it the
    curve is flat: every need with an option is covered) or four times ``budget`` (the params
    budget) if that is less, in ``steps`` steps rounded up to the million, plus ``budget``.
    """
    if budgets is None:
        full = plan_workshops(candidates, float(candidates["cost"].sum()) + 1.0, jp_cap=jp_cap,
                              time_limit=time_limit, rel_gap=rel_gap, tie_break=False)
        # up to saturation, or four times the params budget when that comes first: the
        # decision is about budgets near the one in params
        top = min(full.cost, 4 * float(budget)) if budget else full.cost
        points = [math.ceil(top * i / steps / 1e6) * 1e6 for i in range(steps + 1)]
        if budget is not None:
            points.append(float(budget))
        budgets = points
    rows = []
    for b in sorted(set(float(x) for x in budgets)):
        p = plan_workshops(candidates, b, jp_cap=jp_cap, time_limit=time_limit, rel_gap=rel_gap, tie_break=False)
        rows.append({"budget": b, "cost": p.cost, "gap_closed": p.value, "people_reached": p.people,
                     "needs_covered": int(p.coverage["option_id"].notna().sum()),
                     "options_funded": len(p.selected), "participant_jp": p.jp, "optimal": p.optimal,
                     "is_params_budget": budget is not None and b == float(budget)})
    return pd.DataFrame(rows)
